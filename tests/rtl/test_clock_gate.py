"""Tiers 1 and 3 for ``rtl.clock_gate``: backends by platform, a gated clock with no short
pulse whatever the enable does, the three backends cycle-equivalent, and reset through a
closed gate."""

import numpy as np
import pytest
from amaranth import ClockDomain, Fragment, Module
from amaranth.hdl import Instance
from amaranth.lib import wiring
from amaranth.lib.wiring import Out
from amaranth.sim import Simulator

from boards import board
from rtl.clock_gate import BACKENDS, ClockGate, backends_for

PERIOD = 1e-6


class Counter(wiring.Component):
    """A block in ``sync``: counts its clock edges, and mixes them into a state word."""
    count: Out(16)
    state: Out(16)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += [self.count.eq(self.count + 1),
                     self.state.eq((self.state << 1) ^ (self.state >> 3) ^ self.count)]
        return m


def _fragments(fragment):
    yield fragment
    for sub, _name, _loc in fragment.subfragments:
        yield from _fragments(sub)


# ---- tier 1 -----------------------------------------------------------------------------------

def test_backend_names():
    with pytest.raises(ValueError, match=r"^backend must be one of auto, dcca, generic, enable, "
                                         r"not 'latch'$"):
        ClockGate(Counter(), backend="latch")
    assert BACKENDS == ("dcca", "generic", "enable")


@pytest.mark.parametrize("name,auto,allowed", [
    ("icebreaker", "enable", ("enable",)),
    ("ulx3s-85f", "dcca", ("dcca", "generic", "enable")),
])
def test_backends_by_platform(name, auto, allowed):
    platform = board(name).platform()
    assert backends_for(platform) == allowed
    gate = ClockGate(Counter())
    fragments = list(_fragments(Fragment.get(gate, platform)))
    assert gate.backend_used == auto
    dcca = [f for f in fragments if isinstance(f, Instance) and f.type == "DCCA"]
    assert len(dcca) == (1 if auto == "dcca" else 0)


def test_a_backend_the_platform_lacks():
    platform = board("icebreaker").platform()
    with pytest.raises(ValueError, match=r"^backend 'generic' is not available for "
                                         r"ICEBreakerPlatform \(ice40\); it has enable$"):
        Fragment.get(ClockGate(Counter(), backend="generic"), platform)
    with pytest.raises(ValueError, match=r"^backend 'dcca' is not available for simulation "
                                         r"\(no platform\); it has generic, enable$"):
        Fragment.get(ClockGate(Counter(), backend="dcca"), None)


# ---- tier 3: simulation -----------------------------------------------------------------------

def _run(backend, pattern):
    """Drive ``en`` with ``pattern`` (one value per cycle, set just after each rising edge);
    returns the block's (count, state) after each cycle."""
    inner = Counter()
    gate = ClockGate(inner, backend=backend)
    sim = Simulator(gate)
    sim.add_clock(PERIOD)
    seen = []

    async def drive(ctx):
        await ctx.tick()                # the first edge sees the enable at its initial 0
        for k, en in enumerate(pattern):
            ctx.set(gate.en, en)
            await ctx.tick()
            seen.append((ctx.get(inner.count), ctx.get(inner.state)))

    sim.add_testbench(drive)
    sim.run()
    return seen


@pytest.mark.parametrize("seed", range(3))
def test_generic_gate_passes_exactly_the_enabled_edges(seed):
    rng = np.random.default_rng(seed)
    pattern = (rng.random(200) < rng.uniform(0.1, 0.9)).astype(int).tolist()
    seen = _run("generic", pattern)
    # The enable set after an edge is taken at the next one.
    assert [c for c, _ in seen] == np.cumsum(pattern).tolist()


@pytest.mark.parametrize("seed", range(3))
def test_backends_are_cycle_equivalent(seed):
    rng = np.random.default_rng([5, seed])
    pattern = (rng.random(150) < 0.4).astype(int).tolist()
    runs = {backend: _run(backend, pattern) for backend in ("generic", "enable")}
    assert runs["generic"] == runs["enable"]
    assert runs["generic"][-1][0] == sum(pattern)


def test_the_gated_clock_has_no_short_pulse():
    # The enable changes at many points of the cycle, not only after edges.
    inner = Counter()
    gate = ClockGate(inner, backend="generic")
    sim = Simulator(gate)
    sim.add_clock(PERIOD)
    gclk = []
    rng = np.random.default_rng(9)

    async def wiggle(ctx):
        for _ in range(400):
            await ctx.delay(PERIOD * float(rng.choice([0.13, 0.31, 0.5, 0.77, 1.0])))
            ctx.set(gate.en, int(rng.integers(0, 2)))

    async def watch(ctx):
        for _ in range(64 * 200):
            await ctx.delay(PERIOD / 64)
            gclk.append(ctx.get(inner.count))

    sim.add_testbench(wiggle, background=True)
    sim.add_testbench(watch)
    sim.run()
    # Count increments happen only at whole periods: between two of them at least a period.
    changes = np.flatnonzero(np.diff(np.array(gclk)) != 0)
    assert len(changes) > 30
    assert np.diff(changes).min() >= 64 - 1


@pytest.mark.parametrize("backend", ["generic", "enable"])
def test_reset_reaches_a_closed_gate(backend):
    inner = Counter()
    gate = ClockGate(inner, backend=backend)
    top = Module()
    top.domains.sync = sync = ClockDomain()
    top.submodules.gate = gate
    sim = Simulator(top)
    sim.add_clock(PERIOD)
    counts = []

    async def drive(ctx):
        await ctx.tick()
        ctx.set(gate.en, 1)
        await ctx.tick().repeat(5)
        ctx.set(gate.en, 0)
        await ctx.tick().repeat(3)
        frozen = ctx.get(inner.count)
        ctx.set(sync.rst, 1)            # the gate is closed, yet the block resets
        await ctx.delay(2 * PERIOD)
        ctx.set(sync.rst, 0)
        await ctx.tick().repeat(3)
        counts.extend([frozen, ctx.get(inner.count)])

    sim.add_testbench(drive)
    sim.run()
    assert counts == [5, 0]

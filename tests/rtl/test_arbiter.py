"""``RoundRobin`` against a reference model: random requests, random advances."""

import numpy as np
import pytest
from amaranth import Module, Signal
from amaranth.sim import Simulator

from rtl.arbiter import RoundRobin


def reference(count, steps):
    """Yield the expected grant (an index or None) for each ``(requests, advance)``."""
    last = count - 1
    for requests, advance in steps:
        order = [(last + k) % count for k in range(1, count + 1)]
        winner = next((i for i in order if requests >> i & 1), None)
        yield winner
        if advance and winner is not None:
            last = winner


@pytest.mark.parametrize("count", [1, 2, 3, 5, 6])
def test_round_robin_matches_the_reference(count):
    rng = np.random.default_rng(count)
    steps = [(int(rng.integers(0, 1 << count)), int(rng.random() < 0.7)) for _ in range(400)]
    # Constant pressure from everyone, and bursts of a single requester.
    steps += [((1 << count) - 1, 1)] * 3 * count + [(1, 1)] * 3 + [(0, 1)] * 2
    expected = list(reference(count, steps))
    dut = RoundRobin(count)
    got = []

    async def main(ctx):
        for requests, advance in steps:
            ctx.set(dut.requests, requests)
            ctx.set(dut.advance, advance)
            grant = ctx.get(dut.grant)
            assert grant & (grant - 1) == 0, f"grant {grant:b} is not one-hot"
            got.append(grant.bit_length() - 1 if grant else None)
            await ctx.tick()

    # A one-requester arbiter has no state: give the simulation a clock domain anyway.
    m = Module()
    m.submodules.dut = dut
    tick = Signal()
    m.d.sync += tick.eq(~tick)
    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.run()
    assert got == expected


def test_round_robin_count_error():
    with pytest.raises(ValueError, match=r"^count must be at least 1, not 0$"):
        RoundRobin(0)

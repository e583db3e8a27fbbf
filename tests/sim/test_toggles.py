"""Tier 3 for ``sim.toggles`` and ``sim.power_bench``: toggles and edges counted from a VCD
dump, checked by hand on a gated counter; and an idle core that gating saves most of its
clocked-register toggles, with the same spikes."""

import numpy as np
from amaranth import ClockDomain, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import Out
from amaranth.sim import Simulator

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable
from golden_model.power import PowerPolicy
from rtl.clock_gate import ClockGate
from sim.power_bench import measure
from sim.stimulus import random_inputs
from sim.toggles import count, instrument


class Counter8(wiring.Component):
    count: Out(8)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.count.eq(self.count + 1)
        return m


def test_counts_by_hand(tmp_path):
    # A gated 8-bit counter: enabled in windows 0 and 2 only (10 cycles each, 3 windows).
    pattern = [1] * 10 + [0] * 10 + [1] * 10
    top = Module()
    top.domains.sync = ClockDomain()
    top.submodules.gate = gate = ClockGate(Counter8(), backend="generic")
    fragment, blocks = instrument(top)
    sim = Simulator(fragment)
    sim.add_clock(1e-6)

    async def drive(ctx):
        await ctx.tick()
        for en in pattern:
            ctx.set(gate.en, en)
            await ctx.tick()

    sim.add_testbench(drive)
    with sim.write_vcd(str(tmp_path / "d.vcd")):
        sim.run()
    # The enable set after source edge k acts at edge k + 1: window w covers the source
    # edges 2 + 10w .. 11 + 10w (edge 1 is the idle tick).
    out = count(tmp_path / "d.vcd", blocks, [2, 12, 22, 32])
    inner = out["gate.inner"]
    assert inner["edges"] == [10, 0, 10] and inner["register_bits"] == 8
    flips = lambda lo, hi: sum(bin(i ^ (i + 1)).count("1") for i in range(lo, hi))
    assert inner["toggles"] == [flips(0, 10), 0, flips(10, 20)]
    assert inner["clocked"] == [80, 0, 80]
    assert out["gate"]["edges"] == [10, 10, 10]       # the capture flop is never gated


def test_gating_an_idle_core():
    params = CoreParams(n_neurons=16, n_axons=16, n_synapses=128, max_delay=2, state_bits=16,
                        weight_bits=8)
    rng = np.random.default_rng(4)
    synapses = [(a, int(n), int(rng.integers(-40, 120)), int(rng.integers(1, 3)))
                for a in range(16) for n in rng.choice(16, 6, replace=False)]
    image = CoreImage(params, (LIFProfile(du=1024, dv=512, vth=500, weight_exp=2),), 0,
                      SynapseTable.from_synapses(16, synapses))
    steps = random_inputs(rng, 16, 24, rate=0.01)
    r = measure(image, steps, period=400, policy=PowerPolicy(window=4))
    assert r["plain"]["spikes"] == r["gated"]["spikes"]
    # From the second window on: every core starts ACTIVE, and the policy needs a window.
    core = lambda counts, prefix: sum(sum(c["clocked"][4:]) for b, c in counts.items()
                                      if b.startswith(prefix))
    plain = core(r["plain"]["counts"], "dut")
    gated = core(r["gated"]["counts"], "dut.gate.inner")
    assert plain > 0 and 1 - gated / plain >= 0.8

"""Tier 3 for ``rtl.power.GatedCore``: a clock-gated core under its power controller gives the
golden model's spikes, state and counters, at activities from 0.1% to 100%, with either
backend; its power states follow the golden policy; and an event offered in the very cycle
the gate closes is delivered, not lost."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden_model import CoreParams, simulate
from golden_model.power import PowerPolicy, PowerState, simulate_policy
from rtl.lif_core import Counter, Region, signed_value
from rtl.power import GatedCore
from sim.amaranth_sim import CoreBench, push
from sim.stimulus import random_image, random_inputs

from .test_lif_core import assert_matches_golden


def _watch(dut, record):
    """A background testbench: the state each step runs in, and the gate each cycle."""
    async def watch(ctx):
        async for _, _, valid, ready, state, clocked in ctx.tick().sample(
                dut.tick.valid, dut.tick.ready, dut.state, dut.gate.clocked):
            # Sampled before the edge: the state of the step the earlier ticks began.
            record["clocked"].append(clocked)
            record["state_at"].append((record["ticks"], state))
            if valid and ready:
                record["ticks"] += 1
    return watch


# Every activity on the generic gate; the clock-enable backend at both ends.
@pytest.mark.parametrize("backend,rate", [("generic", r) for r in (0.001, 0.01, 0.1, 0.5, 1.0)]
                         + [("enable", 0.01), ("enable", 0.5)])
def test_gated_core_matches_golden(backend, rate):
    rng = np.random.default_rng([int(rate * 1000), len(backend)])
    params = CoreParams(n_neurons=16, n_axons=8, n_synapses=64, max_delay=int(rng.integers(1, 4)),
                        state_bits=int(rng.choice([12, 16])), weight_bits=6, refractory_bits=2)
    image = random_image(rng, params)
    steps = random_inputs(rng, params.n_axons, 40, rate=rate)
    policy = PowerPolicy(window=3, low_pct=5, mid_pct=40)
    dut = GatedCore(params, policy=policy, backend=backend)
    record = {"clocked": [], "ticks": 0, "state_at": []}
    result = CoreBench(dut, stall=0.3, seed=2).run(image, steps, testbench=_watch(dut, record))
    assert_matches_golden(image, steps, result)
    assert dut.backend_used == backend
    # The state each step ran in is the golden policy's.
    during = {}
    for ticks, state in record["state_at"]:
        if ticks >= 1:
            during.setdefault(ticks - 1, state)
    events = np.array([[len(s)] for s in steps], dtype=np.int64)
    golden = simulate_policy(events, policy, params.n_axons)[:, 0]
    assert [during[t] for t in range(len(steps))] == golden.tolist()
    clocked = np.array(record["clocked"])
    if PowerState.SLEEP in golden or PowerState.REDUCED in golden:
        assert (clocked == 0).sum() > 0        # the clock really stopped


@pytest.mark.parametrize("backend", ["generic", "enable"])
@pytest.mark.parametrize("delay", [0, 1, 2, 7])
def test_an_event_in_the_cycle_of_gating_is_delivered(backend, delay):
    # Asleep from the start (every window is below 100%), so the gate closes as soon as the
    # core has no work. After each step the event is offered `delay` cycles after `busy`
    # falls: at 0 in the very cycle the gate closes.
    params = CoreParams(n_neurons=16, n_axons=4, n_synapses=16, max_delay=1)
    rng = np.random.default_rng(delay)
    image = random_image(rng, params)
    steps = [[int(a)] for a in rng.integers(0, 4, 12)]
    dut = GatedCore(params, policy=PowerPolicy(window=1, low_pct=100, mid_pct=100),
                    backend=backend)
    bench = CoreBench(dut, seed=1)
    out = {}

    async def main(ctx):
        await bench.load(ctx, image)
        for axons in steps:
            await ctx.tick().until(~dut.busy)
            for _ in range(delay):
                await ctx.tick()
            for a in axons:
                await push(ctx, dut.axon_in, {"axon": a})
            bench.step += 1
            await push(ctx, dut.tick)
        await ctx.tick().until(~dut.busy)
        out["sops"] = await bench.debug_read(ctx, Region.COUNTER, Counter.SOPS)
        out["v"] = [await bench.debug_read(ctx, Region.V, n) for n in range(params.n_neurons)]
        out["gated"] = ctx.get(dut.gated_cycles)
        out["state"] = ctx.get(dut.state)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.add_testbench(bench.collect, background=True)
    sim.run()
    golden = simulate(image, steps)
    assert out["state"] == PowerState.SLEEP and out["gated"] > 0
    assert out["sops"] == golden.n_sops
    assert [signed_value(v, params.state_bits) for v in out["v"]] == golden.v[-1].tolist()
    spikes = np.zeros_like(golden.spikes)
    for step, neuron in bench.spikes:
        spikes[step, neuron] = True
    np.testing.assert_array_equal(spikes, golden.spikes)

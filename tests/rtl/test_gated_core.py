"""Tier 3 for ``rtl.power.GatedCore``: a clock-gated core under its power controller gives the
golden model's spikes, state and counters, at activities from 0.1% to 100%, with either
backend; its power states follow the golden policy; and an event offered in the very cycle
the gate closes is delivered, not lost."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden_model import CoreParams, simulate
from golden_model.power import (PowerPolicy, PowerState, core_step_timing, gated_cycles,
                                simulate_policy)
from rtl.lif_core import Counter, Region, signed_value
from rtl.power import POWER_BASE, GatedCore, PowerReg, power_writes
from sim.amaranth_sim import CoreBench, push
from sim.power_bench import run_fixed_period
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


# (neurons, axons, axons with synapses, entries, max delay, deep pipeline, activity,
#  policy: window, low %, mid %)
CYCLE_CASES = [
    (16, 8, 8, 64, 2, False, 0.001, (2, 10, 40)),
    (16, 8, 4, 64, 1, False, 0.05, (1, 5, 20)),      # half the axons have no synapses
    (32, 16, 16, 256, 3, False, 0.3, (3, 20, 35)),
    (64, 4, 4, 200, 1, False, 0.8, (4, 0, 90)),
    (16, 16, 8, 128, 4, True, 0.02, (2, 2, 10)),
    (32, 8, 8, 96, 2, True, 0.5, (1, 45, 55)),
]


@pytest.mark.parametrize("case", range(len(CYCLE_CASES)))
def test_gated_cycles_equal_the_golden_count(case):
    """Step by step, the RTL's gated-cycle counter equals the golden cycle model's count,
    under random policies (set through the config port, not at build time)."""
    N, A, used, S, D, deep, rate, (window, low, mid) = CYCLE_CASES[case]
    rng = np.random.default_rng([91, case])
    params = CoreParams(n_neurons=N, n_axons=A, n_synapses=S, max_delay=D)
    image = random_image(rng, params, n_axons=used)
    steps = random_inputs(rng, A, 30, rate=rate)
    policy = PowerPolicy(window=window, low_pct=low, mid_pct=mid)
    golden = simulate(image, steps)
    timing = core_step_timing(image, steps, golden.spikes, deep_pipeline=deep)
    states = simulate_policy(np.array([[len(s)] for s in steps]), policy, A)
    period = 2 * int(timing.busy_edges.max()) + 12 + 7 * case
    expected = gated_cycles([timing], states, period)
    dut = GatedCore(params, deep_pipeline=deep)
    run = run_fixed_period(dut, image, steps, period,
                           writes=power_writes(policy, params.n_axons))
    got = np.array(run["gated"])
    assert got.tolist() == np.cumsum(expected.gated[:, 0]).tolist()
    assert sorted(run["spikes"]) == [tuple(x) for x in np.argwhere(golden.spikes).tolist()]
    # The run changes state (so both halves of a step are exercised), and the clock stopped.
    assert len(set(states[:, 0].tolist())) >= 2 and got[-1] > 0


def test_power_registers_through_config_and_debug():
    params = CoreParams(n_neurons=16, n_axons=8, n_synapses=32, max_delay=1)
    rng = np.random.default_rng(5)
    image = random_image(rng, params)
    steps = random_inputs(rng, 8, 12, rate=0.05)
    policy = PowerPolicy(window=3, low_pct=20, mid_pct=60)
    dut = GatedCore(params)         # built with the default policy; set at run time
    bench = CoreBench(dut, seed=1)
    out = {}

    async def read(ctx, reg):
        return await bench.debug_read(ctx, Region.COUNTER, POWER_BASE + reg)

    async def main(ctx):
        await bench.load(ctx, image)
        out["defaults"] = [await read(ctx, r) for r in (PowerReg.WINDOW, PowerReg.LOW,
                                                        PowerReg.MID)]
        for region, addr, data in power_writes(policy, params.n_axons):
            await push(ctx, dut.config, {"region": region, "addr": addr, "data": data})
        out["settings"] = [await read(ctx, r) for r in (PowerReg.WINDOW, PowerReg.LOW,
                                                        PowerReg.MID)]
        # A write to a read-only power register changes nothing.
        await push(ctx, dut.config, {"region": Region.COUNTER,
                                     "addr": POWER_BASE + PowerReg.GATED_CYCLES, "data": 77})
        for axons in steps:
            await bench.run_step(ctx, axons)
        await ctx.tick().repeat(20)
        # Asleep now: a read wakes the core only for itself.
        before = ctx.get(dut.gated_cycles)
        for reg in PowerReg:
            out[reg] = await read(ctx, reg)
        out["gated_span"] = (before, ctx.get(dut.gated_cycles))
        out["ports"] = (ctx.get(dut.state), [ctx.get(dut.state_steps[s]) for s in PowerState])
        out["sops"] = await bench.debug_read(ctx, Region.COUNTER, Counter.SOPS)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.add_testbench(bench.collect, background=True)
    sim.run()
    defaults = PowerPolicy()
    assert out["defaults"] == [defaults.window, *defaults.limits(8)]
    assert out["settings"] == [3, *policy.limits(8)] == [3, 4, 14]
    states = simulate_policy(np.array([[len(s)] for s in steps]), policy, 8)[:, 0]
    assert out[PowerReg.STATE] == out["ports"][0] == PowerState.SLEEP == states[-1]
    # The steps begun in each state: the states of the 12 steps.
    steps_in = [int((states == s).sum()) for s in PowerState]
    assert [out[PowerReg.ACTIVE_STEPS], out[PowerReg.REDUCED_STEPS],
            out[PowerReg.SLEEP_STEPS]] == out["ports"][1] == steps_in
    lo, hi = out["gated_span"]
    assert lo <= out[PowerReg.GATED_CYCLES] <= hi and lo > 0
    assert out["sops"] == simulate(image, steps).n_sops

"""Tier 3 for ``rtl.power``: the power controller against ``golden_model.power``, state for
state on random event streams and random settings, and its clock enable and counters."""

import numpy as np
import pytest
from amaranth import Module
from amaranth.sim import Simulator

from golden_model.power import PowerPolicy, PowerState, simulate_policy
from rtl.power import PowerController


def _run(policy, n_axons, events, gaps, busy_rate, seed):
    """Per step: ``events[t]`` event strobes spread over ``gaps[t]`` cycles, then a tick.
    Returns the state each step ran in, (state, busy, clock_en) of each cycle between ticks,
    clock_en of each tick cycle, and the counters at the end."""
    rng = np.random.default_rng(seed)
    low, mid = policy.limits(n_axons)
    dut = PowerController()
    top = Module()              # an ideal gate: it passes exactly the enabled edges
    top.submodules.dut = dut
    top.d.comb += dut.clocked.eq(dut.clock_en)
    sim = Simulator(top)
    sim.add_clock(1e-6)
    states, cycles, ticks = [], [], []

    async def drive(ctx):
        ctx.set(dut.window, policy.window)
        ctx.set(dut.low, low)
        ctx.set(dut.mid, mid)
        for n, gap in zip(events, gaps):
            slots = sorted(rng.choice(gap, size=n, replace=False)) if n else []
            for c in range(gap):
                ctx.set(dut.event, int(c in slots))
                ctx.set(dut.busy, int(rng.random() < busy_rate))
                await ctx.delay(0.5e-6)
                cycles.append((ctx.get(dut.state), ctx.get(dut.busy), ctx.get(dut.clock_en)))
                await ctx.tick()
            ctx.set(dut.event, 0)
            ctx.set(dut.tick, 1)
            await ctx.delay(0.5e-6)
            ticks.append(ctx.get(dut.clock_en))
            await ctx.tick()
            ctx.set(dut.tick, 0)
            states.append(ctx.get(dut.state))
        counts = (ctx.get(dut.gated_cycles), [ctx.get(dut.state_steps[s]) for s in PowerState])
        cycles.append(counts)

    sim.add_testbench(drive)
    sim.run()
    counts = cycles.pop()
    return states, cycles, ticks, counts


@pytest.mark.parametrize("seed", range(4))
def test_states_match_the_golden_policy(seed):
    rng = np.random.default_rng(seed)
    n_axons = int(rng.integers(4, 20))
    policy = PowerPolicy(window=int(rng.integers(1, 6)), low_pct=float(rng.uniform(0, 40)),
                         mid_pct=float(rng.uniform(40, 100)))
    T = 60
    # Activity that wanders from silence to busy, so every state turns up.
    level = np.clip(np.cumsum(rng.normal(0, 0.2, T)) % 1.2, 0, 1)
    events = rng.binomial(n_axons, level).astype(np.int64)
    gaps = events + rng.integers(1, 6, T)
    states, cycles, ticks, (gated, steps) = _run(policy, n_axons, events, gaps, 0.3, seed)
    golden = simulate_policy(events[:, None], policy, n_axons)[:, 0]
    assert states == golden.tolist()
    assert len(set(states)) >= 2
    assert steps == [int((golden == s).sum()) for s in PowerState]
    # The clock enable: always in ACTIVE, only with work when asleep, one in two when reduced.
    for state, busy, en in cycles:
        if state == PowerState.ACTIVE:
            assert en == 1
        elif state == PowerState.SLEEP:
            assert en == busy
    reduced = [en for state, _, en in cycles if state == PowerState.REDUCED]
    if len(reduced) > 10:
        assert 0.4 <= np.mean(reduced) <= 0.6
    # Counted by the controller: every cycle it held the clock off, tick cycles too.
    assert gated == sum(1 for _, _, en in cycles if en == 0) + ticks.count(0)
    assert gated > 0

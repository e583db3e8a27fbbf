"""Tier 3: the learning engine of ``LIFCore`` in the Amaranth simulator, against the golden model.

Short random runs of every rule, with and without homeostasis, compare every
weight, eligibility, trace and the LFSR after every step. Run-time parameter
writes through the config port, the enable switch (whose pre-spike flags
must not leak into a later step), and the elaboration errors are covered too.
"""

import dataclasses

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable, lif_core
from golden_model.chip import ChipImage, ChipParams, simulate_chip
from golden_model.learning import ThreeFactorParams
from golden_model.params import LearningSpec, Rule
from golden_model.stdp import STDPParams
from rtl.chip import Chip
from rtl.learning import LearnKind, LearnParam, learn_addr, rule_registers
from rtl.lif_core import LIFCore, Region, config_writes
from sim.amaranth_sim import ChipBench, CoreBench, push
from sim.stimulus import (random_chip_inputs, random_inputs, random_learning_image,
                          random_routes)

STEPS = 16


def shape(rule, homeostasis):
    return CoreParams(n_neurons=16, n_axons=8, n_synapses=48, max_delay=2, state_bits=14,
                      weight_bits=5, weight_signed=rule is not Rule.THREE_FACTOR,
                      learning=LearningSpec(rule=rule, homeostasis=homeostasis, trace_bits=7,
                                            eligibility_bits=10, calcium_bits=6, theta_bits=5))


def golden_trajectory(image, steps, rewards=None, images=None):
    """The golden learning state after every step; ``images[t]`` may change the image per step."""
    state = lif_core.CoreState.initial(image)
    out = []
    for t, axons in enumerate(steps):
        img = image if images is None else images[t]
        lif_core.step(state, img, np.asarray(axons, dtype=np.int64),
                      reward=0 if rewards is None else int(rewards[t]))
        out.append(state.copy())
    return out


def compare(result, trajectory, image):
    p = image.params
    for t, (got, want) in enumerate(zip(result["learning"], trajectory)):
        np.testing.assert_array_equal(got["weight"], want.weight, err_msg=f"weight, step {t}")
        if p.learning.rule is Rule.THREE_FACTOR:
            np.testing.assert_array_equal(got["elig"], want.learn.elig, err_msg=f"elig, step {t}")
        for name in ("x", "y", "ca", "theta"):
            if name in got:
                np.testing.assert_array_equal(got[name], getattr(want.learn, name),
                                              err_msg=f"{name}, step {t}")
        if got["lfsr"] is not None:
            assert got["lfsr"] == want.learn.lfsr.state, f"lfsr, step {t}"


@pytest.mark.parametrize("rule", [Rule.STDP, Rule.THREE_FACTOR, Rule.SDSP])
@pytest.mark.parametrize("homeostasis", [False, True])
def test_random_rule_bit_exact(rule, homeostasis):
    params = shape(rule, homeostasis)
    rng = np.random.default_rng([rule.value, homeostasis])
    image = random_learning_image(rng, params)
    steps = random_inputs(rng, params.n_axons, STEPS, rate=0.4)
    rewards = rng.integers(-128, 128, STEPS) * (rng.random(STEPS) < 0.3)
    # With homeostasis the core is built deep, as an ECP5 board builds it: theta is
    # carried one update stage further.
    dut = LIFCore(params, deep_pipeline=homeostasis)
    result = CoreBench(dut, stall=0.3).run(image, steps, read_state=False, rewards=rewards,
                                           read_learning=True)
    trajectory = golden_trajectory(image, steps, rewards)
    compare(result, trajectory, image)
    np.testing.assert_array_equal(result["spikes"],
                                  lif_core.simulate(image, steps, reward=rewards).spikes)


def test_enable_switch_and_run_time_parameters():
    """Switch the rule off and on, and change amplitudes, between steps through the config port."""
    params = shape(Rule.STDP, False)
    rng = np.random.default_rng(9)
    image = random_learning_image(rng, params, plastic_fraction=1.0)
    image = dataclasses.replace(image, learning=dataclasses.replace(
        image.learning, enable=True, a_plus=200, a_minus=90, shift=6, w_min=-16, w_max=15))
    off = dataclasses.replace(image, learning=dataclasses.replace(image.learning, enable=False))
    changed = dataclasses.replace(image, learning=dataclasses.replace(image.learning, a_plus=7,
                                                                      a_minus=250))
    steps = random_inputs(rng, params.n_axons, 12, rate=0.6)
    # Steps 4..6 run with learning off (events then set no pre flags that could leak),
    # steps 7.. with new amplitudes.
    images = [image] * 4 + [off] * 3 + [changed] * 5
    enable = learn_addr(LearnKind.PARAM, LearnParam.ENABLE)
    writes = {4: [(Region.COUNTER, enable, 0)],
              7: [(Region.COUNTER, enable, 1),
                  (Region.COUNTER, learn_addr(LearnKind.PARAM, LearnParam.A_PLUS), 7),
                  (Region.COUNTER, learn_addr(LearnKind.PARAM, LearnParam.A_MINUS), 250)]}
    result = CoreBench(LIFCore(params)).run(image, steps, read_state=False, read_learning=True,
                                            writes=writes)
    trajectory = golden_trajectory(image, steps, images=images)
    compare(result, trajectory, image)
    assert (trajectory[3].weight != trajectory[7].weight).any()


def test_enable_off_within_a_step_does_not_leak_pre_flags():
    """Events arrive with learning on, then it is switched off before the tick: the engine
    clears their pre flags, so the next learning step sees no stale pre spikes."""
    params = shape(Rule.STDP, False)
    table = SynapseTable.from_synapses(8, [(0, 0, 0, 1)])
    image = CoreImage(params, (LIFProfile(du=0, dv=0, vth=1000),), 0, table,
                      plastic=np.array([True]),
                      learning=STDPParams(trace_bits=7, a_plus=0, a_minus=255, shift=0,
                                          y_inc=100, x_inc=50, w_min=-16, w_max=15))
    enable = learn_addr(LearnKind.PARAM, LearnParam.ENABLE)
    bench = CoreBench(LIFCore(params))
    # Step 0: an event on axon 0, learning switched off before the tick (the write is
    # ordered after the event). Step 1: learning back on, no events. A leaked pre flag
    # would bump x[0] to x_inc = 50 at step 1; it must stay 0.
    async def main(ctx):
        await bench.load(ctx, image)
        await push(ctx, bench.dut.axon_in, {"axon": 0})
        await push(ctx, bench.dut.config, {"region": Region.COUNTER, "addr": enable, "data": 0})
        await bench.run_step(ctx, [])
        await push(ctx, bench.dut.config, {"region": Region.COUNTER, "addr": enable, "data": 1})
        await bench.run_step(ctx, [])
        learnt.append(await bench.read_learning(ctx, 1))

    learnt = []
    sim = Simulator(bench.dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.add_testbench(bench.collect, background=True)
    sim.run()
    assert learnt[0]["x"].tolist() == [0] * 8
    assert learnt[0]["weight"].tolist() == [0]


def test_registers_read_back_and_only_the_rule_s_registers_exist():
    params = shape(Rule.THREE_FACTOR, True)
    regs = rule_registers(params.learning, params.state_bits)
    assert LearnParam.REWARD in regs and LearnParam.H_INC in regs
    assert LearnParam.THETA_M not in regs
    image = CoreImage(params, (LIFProfile(),), 0, SynapseTable.from_synapses(8, []),
                      learning=ThreeFactorParams(stdp=STDPParams(trace_bits=7, x_inc=3, y_inc=4,
                                                                 w_min=0, w_max=31, seed=4321),
                                                 e_decay=5, r_shift=9))
    bench = CoreBench(LIFCore(params))
    values = {}

    async def main(ctx):
        await bench.load(ctx, image)
        for f in (LearnParam.X_INC, LearnParam.Y_INC, LearnParam.LFSR, LearnParam.E_DECAY,
                  LearnParam.R_SHIFT, LearnParam.W_MAX, LearnParam.TRACE_MAX):
            values[f] = await bench.debug_read(ctx, Region.COUNTER, learn_addr(LearnKind.PARAM, f))

    sim = Simulator(bench.dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.run()
    assert values == {LearnParam.X_INC: 3, LearnParam.Y_INC: 4, LearnParam.LFSR: 4321,
                      LearnParam.E_DECAY: 5, LearnParam.R_SHIFT: 9, LearnParam.W_MAX: 31,
                      LearnParam.TRACE_MAX: 127}


def test_plastic_flag_and_eligibility_in_the_config_words():
    params = shape(Rule.THREE_FACTOR, False)
    table = SynapseTable.from_synapses(8, [(0, 3, 9, 2), (1, 4, 31, 1)])
    image = CoreImage(params, (LIFProfile(),), 0, table, plastic=np.array([True, False]))
    writes = config_writes(image)
    assert (Region.SYN_TARGET, 0, 3 | 1 << 16 | 1 << 24) in writes
    assert (Region.SYN_TARGET, 1, 4) in writes
    assert (Region.SYN_WEIGHT, 1, 31) in writes


def test_learning_cores_in_a_chip_match_the_golden_chip():
    """Two STDP cores on a 1x2 mesh: routed spikes are pre events of the next step."""
    chip = ChipParams(rows=1, cols=2, core=shape(Rule.STDP, True), n_routes=32)
    rng = np.random.default_rng(21)
    cores = tuple(random_learning_image(rng, chip.core, plastic_fraction=1.0) for _ in range(2))
    cores = tuple(dataclasses.replace(c, learning=dataclasses.replace(c.learning, enable=True))
                  for c in cores)
    image = ChipImage(chip, cores, tuple(random_routes(rng, chip)))
    inputs = random_chip_inputs(rng, chip, 12, rate=0.3)
    golden = simulate_chip(image, inputs, 12)
    result = ChipBench(Chip(chip)).run(image, inputs)
    np.testing.assert_array_equal(result["u"], golden.u)
    np.testing.assert_array_equal(result["v"], golden.v)
    for k in range(2):
        assert (golden.state.cores[k].weight != cores[k].synapses.weight).any()

"""Golden learning rules by hand: three-factor STDP, SDSP, homeostasis, the core wiring, errors."""

import re

import numpy as np
import pytest

from golden_model import (CoreImage, CoreParams, CoreState, LIFProfile, ResetMode,
                          SynapseTable, simulate, step)
from golden_model.learning import (HomeostasisParams, LearningState, SDSPParams,
                                   ThreeFactorParams, homeostasis, learn_sdsp,
                                   learn_three_factor)
from golden_model.params import LearningSpec, Rule
from golden_model.stdp import LFSR, STDPParams


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def lstate(n_entries, n_neurons=8, seed=1, **preset):
    """A learning state of zeros (4 axons), with ``preset`` arrays written at the front."""
    z = lambda k: np.zeros(k, dtype=np.int64)
    s = LearningState(x=z(4), y=z(n_neurons), elig=z(n_entries), ca=z(n_neurons),
                      theta=z(n_neurons), lfsr=LFSR(seed))
    for name, values in preset.items():
        getattr(s, name)[:len(values)] = values
    return s


def flags(values, n):
    out = np.zeros(n, dtype=bool)
    out[:len(values)] = np.array(values, dtype=bool)
    return out


def tf(synapses, state, weights, pre, post, reward, params, plastic=None, bits=16):
    syn = SynapseTable.from_synapses(4, synapses)
    plastic = np.ones(len(syn), bool) if plastic is None else np.array(plastic)
    return learn_three_factor(state, syn, weights, plastic, flags(pre, 4),
                              flags(post, len(state.y)), reward, params, bits)


def sdsp(synapses, state, weights, pre, post, v, params, bits=8):
    syn = SynapseTable.from_synapses(4, synapses)
    n = len(state.ca)
    vv = np.zeros(n, dtype=np.int64)
    vv[:len(v)] = v
    return learn_sdsp(state, syn, weights, np.ones(len(syn), bool), flags(pre, 4),
                      flags(post, n), vv, params, bits)


# v = this step's input alone; fires above 105.
RELAY = LIFProfile(du=4095, du_offset=1, dv=4095, dv_offset=1, vth=105)


def core(synapses, spec, plastic, profile=RELAY, n_axons=4, **kwargs):
    params = CoreParams(n_neurons=16, n_axons=n_axons, n_synapses=16, state_bits=16,
                        learning=spec)
    return CoreImage(params, (profile,), 0, SynapseTable.from_synapses(n_axons, synapses),
                     plastic=np.array(plastic, dtype=bool), **kwargs)


# Traces that never decay (x >> 15 is 0 for 8-bit traces) and never increment.
FROZEN = dict(x_decay=15, y_decay=15, x_inc=0, y_inc=0)


def test_eligibility_decays_toward_zero_symmetrically():
    p = ThreeFactorParams(stdp=STDPParams(**FROZEN), e_decay=2)
    syn = [(0, 0, 5, 1), (0, 1, 5, 1), (1, 0, 5, 1), (1, 1, 5, 1)]
    s, w = lstate(4, elig=[100, -100, 3, -3]), np.full(4, 5, np.int64)
    tf(syn, s, w, [], [], 0, p)
    # 100 - (100 >> 2) = 75; -100 - (-25) = -75 (toward zero); +-3 >> 2 rounds to 0: kept.
    assert s.elig.tolist() == [75, -75, 3, -3]
    tf(syn, s, w, [], [], 0, p)
    # 75 - 18 = 57, mirrored for the negative one.
    assert s.elig.tolist() == [57, -57, 3, -3] and w.tolist() == [5] * 4


def test_eligibility_accumulates_and_only_reward_moves_the_weight():
    sp = STDPParams(x_decay=15, y_decay=15, x_inc=40, y_inc=20, a_plus=8, a_minus=4, shift=3,
                    w_min=-20, w_max=20)
    p = ThreeFactorParams(stdp=sp, e_decay=15, r_shift=2)   # el >> 15 is 0: no decay
    syn, s, w = [(0, 0, 5, 1)], lstate(1, n_neurons=1), np.array([5], np.int64)
    trace = []
    for pre, post, reward in [([1], [], 0),      # y = 0: el -= 0; x = 40
                              ([], [1], 0),      # el += (8 * 40) >> 3 = 40; y = 20
                              ([1], [], 0),      # el -= (4 * 20) >> 3 = 10 -> 30; x = 80
                              ([], [], 1),       # w += (1 * 30) >> 2 = 7 -> 12
                              ([], [], -3),      # w += -90 >> 2 = floor(-22.5) = -23 -> -11
                              ([], [], 5),       # w += 150 >> 2 = 37 -> 26, clamped to 20
                              ([], [], -128)]:   # w += -3840 >> 2 = -960, clamped to -20
        n = tf(syn, s, w, pre, post, reward, p)
        trace.append((int(s.elig[0]), int(w[0]), n))
    assert trace == [(0, 5, 1), (40, 5, 1), (30, 5, 1), (30, 12, 1), (30, -11, 1),
                     (30, 20, 1), (30, -20, 1)]
    assert (s.x.tolist(), s.y.tolist()) == ([80, 0, 0, 0], [20])
    assert s.lfsr.state == 1                 # deterministic rounding never steps the LFSR


def test_eligibility_saturates_symmetrically_per_term():
    sp = STDPParams(**FROZEN, a_plus=1, a_minus=1, shift=0, w_min=-10, w_max=10)
    p = ThreeFactorParams(stdp=sp, e_decay=15)
    syn, w = [(0, 0, 0, 1)], np.zeros(1, np.int64)
    s = lstate(1, n_neurons=1, x=[100], y=[100])
    tf(syn, s, w, [], [1], 0, p, bits=6)     # 6-bit eligibility: -31..31. 0 + 100 -> 31
    assert s.elig.tolist() == [31]
    tf(syn, s, w, [1], [], 0, p, bits=6)     # 31 - 100 = -69 -> -31, never -32
    assert s.elig.tolist() == [-31]
    tf(syn, s, w, [1], [1], 0, p, bits=6)    # sat(-31 - 100) = -31, then -31 + 100 = 69 -> 31
    assert s.elig.tolist() == [31] and w.tolist() == [0]


def test_non_plastic_untouched_and_disabled_changes_nothing():
    sp = STDPParams(x_decay=15, y_decay=15, x_inc=10, y_inc=10, a_plus=8, a_minus=8, shift=0,
                    w_min=-50, w_max=50)
    p = ThreeFactorParams(stdp=sp, e_decay=1, r_shift=0)
    syn, w = [(0, 0, 1, 1), (0, 1, 2, 1)], np.array([1, 2], np.int64)
    s = lstate(2, elig=[4, 6])
    n = tf(syn, s, w, [1], [1, 1], 2, p, plastic=[True, False])
    # Entry 0: 4 - 2 = 2; pre and post read zero traces; w = 1 + 2 * 2 = 5. Entry 1 is fixed.
    assert n == 3 and w.tolist() == [5, 2] and s.elig.tolist() == [2, 6]
    off = ThreeFactorParams(stdp=STDPParams(enable=False))
    s = lstate(2, elig=[4, 6], x=[7], y=[9, 9])
    assert tf(syn, s, w, [1], [1, 1], 100, off) == 0
    assert w.tolist() == [5, 2] and s.elig.tolist() == [4, 6]
    assert s.x.tolist() == [7, 0, 0, 0] and s.y[:2].tolist() == [9, 9] and s.lfsr.state == 1


def test_stochastic_rounding_steps_the_lfsr_once_per_round_in_order():
    sp = STDPParams(**FROZEN, a_plus=3, a_minus=5, shift=4, stochastic=True, seed=0xACE1,
                    w_min=-100, w_max=100)
    p = ThreeFactorParams(stdp=sp, e_decay=15, r_shift=3)
    # Entry 0: axon 0 -> neuron 0; entry 1: axon 1 -> neuron 0; entry 2: axon 1 -> neuron 1.
    syn = [(0, 0, 0, 1), (1, 0, 0, 1), (1, 1, 0, 1)]
    s, w = lstate(3, seed=0xACE1, x=[50, 70], y=[30, 0], elig=[0, 0, -20]), np.zeros(3, np.int64)
    n = tf(syn, s, w, [1], [1], 2, p)
    ref = LFSR(0xACE1)
    r = [ref.step() for _ in range(6)]
    # Entry 0: depression r0, potentiation r1, reward r2; entry 1: potentiation r3, reward
    # r4; entry 2: reward r5 only.
    el0 = -((5 * 30 + (r[0] & 15)) >> 4) + ((3 * 50 + (r[1] & 15)) >> 4)
    el1 = (3 * 70 + (r[3] & 15)) >> 4
    w0 = (2 * el0 + (r[2] & 7)) >> 3
    w1 = (2 * el1 + (r[4] & 7)) >> 3
    # Entry 2: (-40 + 0..7) >> 3 is -5 whatever r5 is, but r5 is drawn all the same.
    assert n == 6 and s.elig.tolist() == [el0, el1, -20] and w.tolist() == [w0, w1, -5]
    assert s.lfsr.state == ref.state


def test_reward_out_of_range_raises():
    p = ThreeFactorParams()
    with raises(ValueError, "reward must be between -128 and 127, not 128"):
        tf([(0, 0, 0, 1)], lstate(1), np.zeros(1, np.int64), [], [], 128, p)
    img = core([(0, 0, 10, 1)], LearningSpec(rule=Rule.THREE_FACTOR), [True])
    with raises(ValueError, "reward must be between -128 and 127, not -129"):
        step(CoreState.initial(img), img, [0], reward=-129)
    with raises(ValueError, "reward[1] must be between -128 and 127, not 200"):
        simulate(img, [[0], [0]], reward=np.array([0, 200]))
    plain = core([(0, 0, 10, 1)], None, [False])
    with raises(ValueError, "reward must be 0 on a core without learning, not 1"):
        step(CoreState.initial(plain), plain, [0], reward=1)


def test_sdsp_window_only_on_pre_spikes_and_bounds():
    p = SDSPParams(ca_inc=0, ca_decay=2, theta_m=10, theta_1=20, theta_2=60, theta_3=100)
    syn = [(0, n, 3, 1) for n in range(7)] + [(1, 0, 7, 1), (1, 3, 0, 1),
                                               (2, 0, 3, 1), (2, 3, 3, 1)]
    s, w = lstate(11, ca=[20, 99, 100, 59, 60, 19, 19]), np.array([3] * 7 + [7, 0, 3, 3])
    n = sdsp(syn, s, w, [1, 1], [], [10, 10, 10, 9, 9, 9, 50], p)
    # n0: v >= 10, ca = theta_1: up.  n1: ca 99 < theta_3: up.  n2: ca = theta_3: none.
    # n3: v < 10, ca 59 < theta_2: down.  n4: ca = theta_2: none.  n5, n6: ca < theta_1.
    # Axon 1: up from 7 and down from 0 are counted, then clamped. Axon 2 had no event.
    assert w.tolist() == [4, 4, 3, 2, 3, 3, 3, 7, 0, 3, 3] and n == 5
    # Calcium decays ca - (ca >> 2): 20-5, 99-24, 100-25, 59-14, 60-15, 19-4, 19-4.
    assert s.ca[:7].tolist() == [15, 75, 75, 45, 45, 15, 15]


def test_sdsp_calcium_update_saturation_and_enable():
    p = SDSPParams(ca_inc=100, ca_decay=2, theta_1=0, theta_2=0, theta_3=0)
    s, w = lstate(1, ca=[0, 200, 40]), np.array([3])
    sdsp([(0, 0, 3, 1)], s, w, [], [1, 1], [], p)
    # 0 + 100; 200 - 50 + 100 = 250; 40 - 10 = 30.
    assert s.ca[:3].tolist() == [100, 250, 30]
    sdsp([(0, 0, 3, 1)], s, w, [], [1, 1, 1], [], p)
    # 100 - 25 + 100 = 175; 250 - 62 + 100 = 288 -> 255 (8 bits); 30 - 7 + 100 = 123.
    assert s.ca[:3].tolist() == [175, 255, 123]
    off = SDSPParams(ca_inc=50, drift_period=1, enable=False)
    s, w = lstate(1, ca=[20]), np.array([3])
    assert sdsp([(0, 0, 3, 1)], s, w, [1], [1], [5], off) == 0    # disabled: nothing moves
    assert w.tolist() == [3] and s.ca[0] == 20 and s.drift_count == 0


def test_sdsp_scan_reads_calcium_before_this_steps_spike():
    p = SDSPParams(ca_inc=50, ca_decay=15, theta_m=0, theta_1=1, theta_2=1, theta_3=200)
    s, w = lstate(1, n_neurons=1), np.array([3])
    sdsp([(0, 0, 3, 1)], s, w, [1], [1], [5], p)
    assert w.tolist() == [3] and s.ca.tolist() == [50]   # ca was 0 < theta_1 in the scan
    sdsp([(0, 0, 3, 1)], s, w, [1], [], [5], p)
    assert w.tolist() == [4] and s.ca.tolist() == [50]   # now 1 <= 50 < 200: up


def test_sdsp_drift_toward_nearer_rail_every_period():
    p = SDSPParams(w_min=0, w_max=7, drift_period=3)      # midpoint 2w = 7
    syn = [(0, n, 0, 1) for n in range(6)]
    s, w = lstate(6), np.array([1, 5, 0, 7, 3, 4])
    seen = []
    for _ in range(6):
        sdsp(syn, s, w, [], [], [], p)
        seen.append(w.tolist())
    # Learning steps 2 and 5 drift: 1 -> 0, 5 -> 6, 0 stays at w_min, 7 at w_max,
    # 3 (6 < 7) -> 2, 4 (8 > 7) -> 5.
    assert seen == [[1, 5, 0, 7, 3, 4]] * 2 + [[0, 6, 0, 7, 2, 5]] * 3 + [[0, 7, 0, 7, 1, 6]]
    assert s.drift_count == 0
    # drift_period 1 drifts every step, after the pre step; the exact midpoint 3 of 0..6 stays.
    p1 = SDSPParams(w_min=0, w_max=6, drift_period=1)
    s, w = lstate(2, ca=[20]), np.array([3, 3])
    sdsp([(0, 0, 3, 1), (1, 0, 3, 1)], s, w, [1], [], [5], p1)
    assert w.tolist() == [5, 3]                            # 3 -> 4 (up) -> 5 (drift)
    sdsp([(0, 0, 3, 1), (1, 0, 3, 1)], s, w, [], [], [5], p1)
    assert w.tolist() == [6, 3]
    p0 = SDSPParams(w_min=0, w_max=7, drift_period=0)
    s, w = lstate(2), np.array([1, 6])
    for _ in range(10):
        sdsp([(0, 0, 1, 1), (0, 1, 6, 1)], s, w, [], [], [], p0)
    assert w.tolist() == [1, 6]


def test_homeostasis_rise_decay_saturation_and_enable():
    p = HomeostasisParams(theta_inc=50, theta_decay=2)
    s = lstate(0, n_neurons=3, theta=[0, 100, 10])
    homeostasis(s, flags([1, 1], 3), p, 7)
    assert s.theta.tolist() == [50, 125, 8]                # 0+50; 100-25+50; 10-2
    homeostasis(s, flags([1, 1], 3), p, 7)
    assert s.theta.tolist() == [88, 127, 6]                # 50-12+50; 125-31+50 = 144 -> 127
    homeostasis(s, flags([1, 1, 1], 3), HomeostasisParams(theta_inc=50, enable=False), 7)
    assert s.theta.tolist() == [88, 127, 6]


# u = this step's input, v keeps its value and adds u; subtract reset.
INTEGRATE = LIFProfile(du=4095, du_offset=1, dv=0, vth=100, reset=ResetMode.SUBTRACT)


def test_homeostasis_raises_the_threshold_in_the_core():
    spec = LearningSpec(rule=Rule.NONE, homeostasis=True)
    img = core([(0, 0, 60, 1)], spec, [False], INTEGRATE,
               homeostasis=HomeostasisParams(theta_inc=40, theta_decay=15))
    run = simulate(img, [[0]] * 6)
    # t0 v 60. t1 120 > 100: spike, v = 20, theta 40. t2 80. t3 140 = 100 + 40: no spike.
    # t4 200 > 140: spike, v = 200 - 140 = 60, theta 80. t5 120 <= 180.
    assert run.v[:, 0].tolist() == [60, 20, 80, 140, 60, 120]
    assert np.flatnonzero(run.spikes[:, 0]).tolist() == [1, 4]
    assert run.state.learn.theta[0] == 80
    frozen = core([(0, 0, 60, 1)], spec, [False], INTEGRATE,
                  homeostasis=HomeostasisParams(theta_inc=40, enable=False))
    state = CoreState.initial(frozen)
    state.learn.theta[0] = 50
    run = simulate(frozen, [[0]] * 4, state=state)
    # t0 60, t1 120 <= 150, t2 180 > 150: spike, v = 30; t3 90. theta is held at 50.
    assert run.v[:, 0].tolist() == [60, 120, 30, 90] and run.state.learn.theta[0] == 50


def test_stdp_core_delivers_learnt_weights():
    sp = STDPParams(x_decay=15, y_decay=15, x_inc=40, y_inc=40, a_plus=8, a_minus=2, shift=3,
                    w_min=0, w_max=100)
    img = core([(0, 0, 10, 1), (1, 0, 100, 1), (2, 0, 10, 1)], LearningSpec(rule=Rule.STDP),
               [True, False, False], learning=sp)
    run = simulate(img, [[0], [1, 2], [0], [0]], record_weights=True)
    # t0: v = 10; x0 = 40.  t1: v = 110 > 105, spike; post: w0 += (8 * 40) >> 3 = 40 -> 50.
    # t2: delivers 50, then pre: w0 -= (2 * 40) >> 3 = 10 -> 40.  t3: delivers 40 -> 30.
    assert run.v[:, 0].tolist() == [10, 0, 50, 40]
    assert run.weights.tolist() == [[10, 100, 10], [50, 100, 10], [40, 100, 10], [30, 100, 10]]
    assert run.state.weight.tolist() == [30, 100, 10]
    assert img.synapses.weight.tolist() == [10, 100, 10]   # the image is not changed
    assert simulate(img, [[0]]).weights is None


def test_three_factor_core_moves_weights_only_on_reward():
    sp = STDPParams(x_decay=15, y_decay=15, x_inc=40, y_inc=40, a_plus=8, a_minus=0, shift=3,
                    w_min=0, w_max=100)
    img = core([(0, 0, 10, 1), (1, 0, 100, 1)], LearningSpec(rule=Rule.THREE_FACTOR),
               [True, False], learning=ThreeFactorParams(stdp=sp, e_decay=15, r_shift=2))
    run = simulate(img, [[0], [0, 1], [0], [0]], reward=np.array([0, 0, 2, 0]),
                   record_weights=True)
    # t0: x0 = 40. t1: v = 110, spike: el += (8 * 40) >> 3 = 40, no reward: w stays 10.
    # t2: delivers 10; reward 2: w += (2 * 40) >> 2 = 20 -> 30. t3: delivers 30.
    assert run.v[:, 0].tolist() == [10, 0, 10, 30]
    assert run.weights[:, 0].tolist() == [10, 10, 30, 30]
    assert run.state.learn.elig.tolist() == [40, 0]


def test_core_state_copy_copies_learning_state():
    sp = STDPParams(x_inc=40, y_inc=40, stochastic=True, seed=99)
    img = core([(0, 0, 10, 1), (1, 0, 100, 1)], LearningSpec(rule=Rule.STDP), [True, False],
               learning=sp)
    state = CoreState.initial(img)
    simulate(img, [[0], [0, 1]], state=state)
    copy = state.copy()
    for name in ("x", "y", "elig", "ca", "theta"):
        assert getattr(copy.learn, name) is not getattr(state.learn, name)
        np.testing.assert_array_equal(getattr(copy.learn, name), getattr(state.learn, name))
    assert copy.learn.lfsr is not state.learn.lfsr
    assert copy.learn.lfsr.state == state.learn.lfsr.state
    before = (state.weight.tolist(), state.learn.x.tolist(), state.learn.lfsr.state)
    a = simulate(img, [[0], [0, 1], [0]], state=copy, record_weights=True)
    assert (state.weight.tolist(), state.learn.x.tolist(), state.learn.lfsr.state) == before
    copy.learn.ca[0] = copy.learn.theta[0] = 7
    copy.learn.drift_count = 5
    assert state.learn.ca[0] == 0 and state.learn.theta[0] == 0 and state.learn.drift_count == 0
    b = simulate(img, [[0], [0, 1], [0]], state=state, record_weights=True)
    np.testing.assert_array_equal(a.weights, b.weights)


def test_plastic_synapse_without_learning():
    with raises(ValueError, "synapse entry 0 is plastic, but the core is built without "
                            "learning (CoreParams.learning is None)"):
        core([(0, 0, 1, 1)], None, [True])
    with raises(ValueError, "learning parameters were given for a core built without learning "
                            "(CoreParams.learning is None)"):
        core([(0, 0, 1, 1)], None, [False], learning=STDPParams())
    with raises(ValueError, "plastic must have one flag per synapse entry (1), not shape (2,)"):
        core([(0, 0, 1, 1)], LearningSpec(), [True, False])


@pytest.mark.parametrize("rule, params", [
    (Rule.THREE_FACTOR, STDPParams()), (Rule.SDSP, ThreeFactorParams()),
    (Rule.STDP, SDSPParams())])
def test_learning_params_of_the_wrong_class(rule, params):
    cls = {Rule.STDP: "STDPParams", Rule.THREE_FACTOR: "ThreeFactorParams",
           Rule.SDSP: "SDSPParams"}[rule]
    with raises(TypeError, f"learning must be a {cls} for a core built for rule "
                           f"{rule.name.lower()}, not {params!r}"):
        core([(0, 0, 1, 1)], LearningSpec(rule=rule), [True], learning=params)


def test_homeostasis_and_rule_none_errors():
    with raises(ValueError, "homeostasis parameters were given for a core built without "
                            "homeostasis (LearningSpec.homeostasis is False)"):
        core([(0, 0, 1, 1)], LearningSpec(), [True], homeostasis=HomeostasisParams())
    with raises(ValueError, "theta_inc must be between 0 and 15, not 16"):
        core([(0, 0, 1, 1)], LearningSpec(rule=Rule.NONE, homeostasis=True, theta_bits=4),
             [False], homeostasis=HomeostasisParams(theta_inc=16))
    with raises(ValueError, "learning must be None for a core built for rule none, "
                            f"not {STDPParams()!r}"):
        core([(0, 0, 1, 1)], LearningSpec(rule=Rule.NONE, homeostasis=True), [False],
             learning=STDPParams())
    with raises(ValueError, "a LearningSpec with rule none must have homeostasis; "
                            "use CoreParams(learning=None) for a core without learning"):
        LearningSpec(rule=Rule.NONE)


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(rule="hebb"), ValueError, "rule must be one of none, stdp, three_factor, sdsp, "
                                    "not 'hebb'"),
    (dict(homeostasis=1), TypeError, "homeostasis must be a bool, not 1"),
    (dict(trace_bits=17), ValueError, "trace_bits must be between 1 and 16, not 17"),
    (dict(eligibility_bits=1), ValueError, "eligibility_bits must be between 2 and 16, not 1"),
    (dict(calcium_bits=0), ValueError, "calcium_bits must be between 1 and 16, not 0"),
    (dict(theta_bits=17), ValueError, "theta_bits must be between 1 and 16, not 17"),
])
def test_learning_spec_ranges(kwargs, exc, message):
    with raises(exc, message):
        LearningSpec(**kwargs)


def test_core_and_run_time_widths():
    with raises(ValueError, "n_axons must be between 1 and 4096 for a core with learning, "
                            "not 4097"):
        CoreParams(n_neurons=16, n_axons=4097, n_synapses=16, learning=LearningSpec())
    CoreParams(n_neurons=16, n_axons=4097, n_synapses=16)   # fine without learning
    with raises(ValueError, "trace_bits must be between 1 and 6, not 8"):
        core([(0, 0, 1, 1)], LearningSpec(trace_bits=6), [True], learning=STDPParams())
    with raises(ValueError, "trace_bits must be between 1 and 6, not 7"):
        core([(0, 0, 1, 1)], LearningSpec(rule=Rule.THREE_FACTOR, trace_bits=6), [True],
             learning=ThreeFactorParams(stdp=STDPParams(trace_bits=7, x_inc=1, y_inc=1)))
    sdsp_core = LearningSpec(rule=Rule.SDSP, calcium_bits=6)    # calcium 0..63
    with raises(ValueError, "ca_inc must be between 0 and 63, not 64"):
        core([(0, 0, 1, 1)], sdsp_core, [True],
             learning=SDSPParams(ca_inc=64, theta_1=1, theta_2=40, theta_3=40))
    with raises(ValueError, "theta_3 must be between 0 and 63, not 64"):
        core([(0, 0, 1, 1)], sdsp_core, [True],
             learning=SDSPParams(ca_inc=1, theta_1=1, theta_2=40, theta_3=64))
    with raises(ValueError, "theta_m must be between -32768 and 32767, not 32768"):
        core([(0, 0, 1, 1)], LearningSpec(rule=Rule.SDSP), [True],
             learning=SDSPParams(theta_m=32768))


@pytest.mark.parametrize("make, exc, message", [
    (lambda: ThreeFactorParams(stdp=3), TypeError, "stdp must be an STDPParams, not 3"),
    (lambda: ThreeFactorParams(e_decay=16), ValueError,
     "e_decay must be between 0 and 15, not 16"),
    (lambda: ThreeFactorParams(r_shift=-1), ValueError,
     "r_shift must be between 0 and 15, not -1"),
    (lambda: SDSPParams(w_min=3, w_max=2), ValueError, "w_max must be between 3 and 255, not 2"),
    (lambda: SDSPParams(drift_period=65536), ValueError,
     "drift_period must be between 0 and 65535, not 65536"),
    (lambda: SDSPParams(enable=1), TypeError, "enable must be a bool, not 1"),
    (lambda: HomeostasisParams(theta_decay=16), ValueError,
     "theta_decay must be between 0 and 15, not 16"),
])
def test_rule_parameter_errors(make, exc, message):
    with raises(exc, message):
        make()

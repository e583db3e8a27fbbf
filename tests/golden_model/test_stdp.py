"""Golden STDP: hand traces, the window's exponential shape, the LFSR and its rounding, errors."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from golden_model import CoreParams, SynapseTable
from golden_model.stdp import LFSR, DecayMode, Pairing, STDPParams, STDPState, learn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import stdp_window  # noqa: E402


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def run(params, weights, pre, post, synapses, plastic=None, n_neurons=2):
    syn = SynapseTable.from_synapses(len(pre[0]), synapses)
    w = np.array(weights, dtype=np.int64)
    plastic = np.ones(len(w), bool) if plastic is None else np.array(plastic)
    state = STDPState.initial(len(pre[0]), n_neurons, params)
    traces = []
    for p, q in zip(pre, post):
        learn(state, syn, w, plastic, np.array(p, bool), np.array(q, bool), params)
        traces.append((state.x.tolist(), state.y.tolist(), w.tolist()))
    return traces


def test_hand_trace_shift_decay_all_to_all():
    # x, y decay by x -= x >> 2; increments 40; dw = (a * trace) >> 3 with a_plus 8, a_minus 4.
    p = STDPParams(trace_bits=8, x_decay=2, y_decay=2, x_inc=40, y_inc=40, a_plus=8, a_minus=4,
                   shift=3, w_min=0, w_max=100)
    steps = run(p, [50], pre=[[1], [0], [0], [1]], post=[[0], [0], [1], [0]],
                synapses=[(0, 0, 50, 1)], n_neurons=1)
    # step 0: pre. decay 0; no y -> dep (4*0)>>3 = 0; x = 40.
    assert steps[0] == ([40], [0], [50])
    # step 1: x = 40 - 10 = 30.
    assert steps[1] == ([30], [0], [50])
    # step 2: x = 30 - 7 = 23; post: w += (8*23)>>3 = 23 -> 73; y = 40.
    assert steps[2] == ([23], [40], [73])
    # step 3: x = 23 - 5 = 18, y = 40 - 10 = 30; pre: w -= (4*30)>>3 = 15 -> 58; x = 58.
    assert steps[3] == ([58], [30], [58])


def test_nearest_pairing_resets_trace_to_maximum():
    p = STDPParams(trace_bits=6, x_decay=1, x_inc=1, y_inc=1, pairing=Pairing.NEAREST,
                   a_plus=0, a_minus=0)
    steps = run(p, [0], pre=[[1], [1], [0], [1]], post=[[0]] * 4, synapses=[(0, 0, 0, 1)],
                n_neurons=1)
    # Max 63; each step first decays x -= x >> 1 (63 -> 32), then a pre spike sets 63 again.
    assert [s[0][0] for s in steps] == [63, 63, 32, 63]


def test_all_to_all_increment_saturates():
    p = STDPParams(trace_bits=6, x_decay=15, x_inc=40, y_inc=1, a_plus=0, a_minus=0)
    steps = run(p, [0], pre=[[1], [1], [1]], post=[[0]] * 3, synapses=[(0, 0, 0, 1)],
                n_neurons=1)
    # x >> 15 is 0 for 6-bit traces: no decay; 40, then 80 saturates to 63.
    assert [s[0][0] for s in steps] == [40, 63, 63]


def test_simultaneous_pre_and_post_do_not_pair_but_earlier_traces_act():
    p = STDPParams(x_decay=15, y_decay=15, x_inc=10, y_inc=20, a_plus=2, a_minus=1, shift=0,
                   w_min=-50, w_max=50)
    steps = run(p, [0], pre=[[1], [1]], post=[[1], [1]], synapses=[(0, 0, 0, 1)], n_neurons=1)
    # Step 0: traces are 0 while read, so no change. Step 1: depression 1*20 first,
    # then potentiation 2*10: 0 - 20 + 20 = 0, each clamped on its own.
    assert steps[0][2] == [0] and steps[1][2] == [0]
    p2 = STDPParams(x_decay=15, y_decay=15, x_inc=10, y_inc=20, a_plus=2, a_minus=1, shift=0,
                    w_min=-5, w_max=50)
    steps = run(p2, [0], pre=[[1], [1]], post=[[1], [1]], synapses=[(0, 0, 0, 1)], n_neurons=1)
    # Clamped at -5 after the depression, then +20.
    assert steps[1][2] == [15]


def test_weight_bounds_plastic_flag_and_enable():
    p = STDPParams(x_decay=15, y_decay=15, x_inc=255, y_inc=255, a_plus=255, a_minus=255,
                   shift=0, w_min=-3, w_max=7)
    syn = [(0, 0, 1, 1), (0, 1, 2, 1), (1, 1, 3, 1)]
    steps = run(p, [1, 2, 3], pre=[[1, 1], [0, 0], [1, 0]], post=[[0, 0], [1, 1], [0, 0]],
                synapses=syn, plastic=[True, False, True])
    assert steps[1][2] == [7, 2, 7]      # potentiated to w_max; the fixed synapse stays
    assert steps[2][2] == [-3, 2, 7]     # axon 0 fires: depressed to w_min
    off = STDPParams(enable=False)
    steps = run(off, [5], pre=[[1]], post=[[1]], synapses=[(0, 0, 5, 1)], n_neurons=1)
    assert steps[0] == ([0], [0], [5])


def test_lfsr_sequence_by_hand_and_period():
    lfsr = LFSR(1)
    assert [lfsr.step() for _ in range(12)] == [
        0xB400, 0x5A00, 0x2D00, 0x1680, 0x0B40, 0x05A0, 0x02D0, 0x0168, 0x00B4, 0x005A,
        0x002D, 0xB416]
    lfsr = LFSR(0xACE1)
    seen = {lfsr.state}
    for _ in range(65534):
        seen.add(lfsr.step())
    assert len(seen) == 65535 and 0 not in seen
    assert lfsr.step() == 0xACE1          # maximal length: period 65535


@pytest.mark.parametrize("p, shift", [(300, 4), (0x1234, 7), (5, 3)])
def test_stochastic_rounding_is_unbiased_over_a_period(p, shift):
    # Over a full period every nonzero 16-bit state occurs once, so the low `shift` bits
    # take each nonzero value 2**(16-shift) times and zero one time fewer.
    lfsr, mask = LFSR(77), (1 << shift) - 1
    total = sum((p + (lfsr.step() & mask)) >> shift for _ in range(65535))
    assert total == 65535 * (p >> shift) + (p & mask) * (1 << (16 - shift))


def test_stochastic_rounding_steps_lfsr_once_per_weight_change():
    p = STDPParams(x_decay=15, y_decay=15, x_inc=100, y_inc=100, a_plus=3, a_minus=5, shift=4,
                   stochastic=True, seed=1234, w_min=-100, w_max=100)
    syn = SynapseTable.from_synapses(2, [(0, 0, 0, 1), (1, 0, 0, 1), (1, 1, 0, 1)])
    w = np.zeros(3, np.int64)
    state = STDPState.initial(2, 2, p)
    learn(state, syn, w, np.ones(3, bool), np.array([1, 1], bool), np.array([0, 0], bool), p)
    n = learn(state, syn, w, np.ones(3, bool), np.array([1, 0], bool), np.array([1, 0], bool), p)
    # Step 1: entry 0 (axon 0 -> neuron 0): depression and potentiation; entry 1 (axon 1 ->
    # neuron 0): potentiation. Three draws, in that order, from the LFSR as left by step 0
    # (which computed three zero-trace depressions).
    ref = LFSR(1234)
    for _ in range(3):
        ref.step()
    r = [ref.step() & 15 for _ in range(3)]
    w0 = -((5 * 0 + r[0]) >> 4) + ((3 * 100 + r[1]) >> 4)
    assert n == 3 and w.tolist() == [w0, (3 * 100 + r[2]) >> 4, 0]
    assert state.lfsr.state == ref.state


def test_window_follows_the_exponential_within_quantisation():
    p = stdp_window.PARAMS
    dts = np.arange(-30, 31)
    fixed, exact = stdp_window.window(dts), stdp_window.expected(dts)
    assert fixed[dts == 0] == 0
    # Floor errors in a trace contract with the decay: at most 1 / (1 - alpha) units.
    bound_pot = p.a_plus / (p.x_decay / 4096) / 2 ** p.shift + 1
    bound_dep = p.a_minus / (p.y_decay / 4096) / 2 ** p.shift + 1
    assert np.all(np.abs(fixed - exact)[dts > 0] <= bound_pot)
    assert np.all(np.abs(fixed - exact)[dts < 0] <= bound_dep)
    assert (fixed[dts > 0] > 0).all() and (fixed[dts < 0] < 0).all()
    # Magnitude falls with |dt| on both sides.
    assert np.all(np.diff(fixed[dts > 0]) <= 0) and np.all(np.diff(fixed[dts < 0]) <= 0)


def test_window_plot_is_written(tmp_path):
    stdp_window.plot(tmp_path / "w.png")
    assert (tmp_path / "w.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(trace_bits=0), ValueError, "trace_bits must be between 1 and 16, not 0"),
    (dict(x_decay=16), ValueError, "x_decay must be between 0 and 15, not 16"),
    (dict(decay_mode=DecayMode.MULTIPLY, y_decay=4097), ValueError,
     "y_decay must be between 0 and 4096, not 4097"),
    (dict(trace_bits=6, x_inc=64), ValueError, "x_inc must be between 0 and 63, not 64"),
    (dict(a_plus=256), ValueError, "a_plus must be between 0 and 255, not 256"),
    (dict(a_minus=-1), ValueError, "a_minus must be between 0 and 255, not -1"),
    (dict(shift=16), ValueError, "shift must be between 0 and 15, not 16"),
    (dict(w_min=5, w_max=4), ValueError, "w_max must be between 5 and 255, not 4"),
    (dict(seed=0), ValueError, "seed must be between 1 and 65535, not 0"),
    (dict(stochastic=1), TypeError, "stochastic must be a bool, not 1"),
    (dict(pairing="pairwise"), ValueError,
     "pairing must be one of all_to_all, nearest, not 'pairwise'"),
])
def test_parameter_errors(kwargs, exc, message):
    with raises(exc, message):
        STDPParams(**kwargs)


def test_weight_bounds_must_fit_the_core():
    core = CoreParams(n_neurons=16, n_axons=1, n_synapses=1, weight_bits=4, weight_signed=True)
    with raises(ValueError, "w_max must be between -8 and 7, not 127"):
        STDPParams(w_min=0, w_max=127).check_fits(core)
    STDPParams(w_min=-8, w_max=7).check_fits(core)

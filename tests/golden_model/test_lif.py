"""Tier 2 tests of :func:`golden_model.lif.lif_update` with hand-computed traces.

One neuron (or a few, with different profiles) is stepped by calling the
update directly with a chosen accumulator value per step, so each trace tests
the neuron arithmetic alone: decay, integrate, bias, threshold, the three
reset modes, refractory hold, wrap of ``u`` and saturation of ``v``. Every
expected value is worked out in the comments.
"""

import numpy as np

from golden_model.fixedpoint import Overflow, Rounding
from golden_model.lif import ProfileTable, lif_update
from golden_model.params import LIFProfile, ResetMode

# ``du = 4095`` with the offset gives an effective decay of 4096: ``u`` forgets
# its past and equals this step's input, which keeps ``v`` traces short.
U_IS_INPUT = dict(du=4095, du_offset=1)


def trace(profile, acc, state_bits=16, acc_bits=16, u0=0, v0=0):
    """Step one neuron through ``acc`` (one accumulator value per step)."""
    table = ProfileTable.from_profiles([profile]).gather(np.zeros(1, dtype=np.int64))
    u = np.array([u0], dtype=np.int64)
    v = np.array([v0], dtype=np.int64)
    ref = np.zeros(1, dtype=np.int64)
    us, vs, refs, spikes = [], [], [], []
    for a in acc:
        u, v, ref, s = lif_update(u, v, ref, np.array([a], dtype=np.int64), table,
                                  state_bits, acc_bits)
        us.append(int(u[0]))
        vs.append(int(v[0]))
        refs.append(int(ref[0]))
        if s[0]:
            spikes.append(len(us) - 1)
    return us, vs, refs, spikes


def test_decay_integrate_bias_threshold():
    # du = 1024: u keeps 3/4; dv = 2048: v keeps 1/2; input = acc << 2;
    # bias = 3 << 1 = 6; spike when v > 100, then v = 0.
    p = LIFProfile(du=1024, dv=2048, weight_exp=2, bias_mant=3, bias_exp=1, vth=100)
    us, vs, refs, spikes = trace(p, [5, 5, 0, 0, 0, 10, 10, 0])
    # t  u                           v
    # 0  0 + 20 = 20                 0 + 20 + 6 = 26
    # 1  15 + 20 = 35                13 + 35 + 6 = 54
    # 2  26.25 -> 26                 27 + 26 + 6 = 59
    # 3  19.5 -> 19                  29.5 -> 29; 29 + 19 + 6 = 54
    # 4  14.25 -> 14                 27 + 14 + 6 = 47
    # 5  10.5 -> 10; 10 + 40 = 50    23.5 -> 23; 23 + 50 + 6 = 79
    # 6  37.5 -> 37; 37 + 40 = 77    39.5 -> 39; 39 + 77 + 6 = 122 > 100: spike, v = 0
    # 7  57.75 -> 57                 0 + 57 + 6 = 63
    assert us == [20, 35, 26, 19, 14, 50, 77, 57]
    assert vs == [26, 54, 59, 54, 47, 79, 0, 63]
    assert spikes == [6]
    assert refs == [0] * 8


def test_negative_trace_rounds_by_mode():
    base = dict(du=1024, dv=2048, weight_exp=2, vth=100)
    tz = trace(LIFProfile(**base, rounding=Rounding.TOWARD_ZERO), [-5, 0, 0, 0])
    fl = trace(LIFProfile(**base, rounding=Rounding.FLOOR), [-5, 0, 0, 0])
    # t  toward zero: u, v                       floor: u, v
    # 0  -20, -20                                -20, -20
    # 1  -15, -10 - 15 = -25                     -15, -25
    # 2  -11.25 -> -11, -12.5 -> -12; -23        -11.25 -> -12, -12.5 -> -13; -25
    # 3  -8.25 -> -8, -11.5 -> -11; -19          -9 (exact), -12.5 -> -13; -22
    assert tz[:2] == ([-20, -15, -11, -8], [-20, -25, -23, -19])
    assert fl[:2] == ([-20, -15, -12, -9], [-20, -25, -25, -22])


def test_small_negative_state_floor_never_recovers():
    # One step of decay by 1/4096 from u = -1: toward zero gives 0, floor stays at -1
    # and keeps feeding v.
    tz = trace(LIFProfile(du=1, vth=100), [0, 0, 0], u0=-1)
    fl = trace(LIFProfile(du=1, vth=100, rounding="floor"), [0, 0, 0], u0=-1)
    assert tz[:2] == ([0, 0, 0], [0, 0, 0])
    assert fl[:2] == ([-1, -1, -1], [-1, -2, -3])


def bias_ramp(**kwargs):
    # No decay, no input: v climbs by the bias of 30 each step towards vth = 100.
    return trace(LIFProfile(bias_mant=30, vth=100, **kwargs), [0] * 11)


def test_reset_zero():
    us, vs, _, spikes = bias_ramp(reset=ResetMode.ZERO)
    # 30, 60, 90, 120 > 100 -> 0, and again.
    assert vs == [30, 60, 90, 0, 30, 60, 90, 0, 30, 60, 90]
    assert spikes == [3, 7]
    assert us == [0] * 11


def test_reset_subtract():
    _, vs, _, spikes = bias_ramp(reset=ResetMode.SUBTRACT)
    # 120 -> 20; 50, 80, 110 -> 10; 40, 70, 100 (not above 100), 130 -> 30.
    assert vs == [30, 60, 90, 20, 50, 80, 10, 40, 70, 100, 30]
    assert spikes == [3, 6, 10]


def test_reset_value():
    _, vs, _, spikes = bias_ramp(reset=ResetMode.VALUE, v_reset=-50)
    # 120 -> -50; -20, 10, 40, 70, 100, 130 -> -50; -20.
    assert vs == [30, 60, 90, -50, -20, 10, 40, 70, 100, -50, -20]
    assert spikes == [3, 9]


def test_threshold_is_strict():
    # v reaches exactly vth and stays there: never a spike.
    _, vs, _, spikes = trace(LIFProfile(bias_mant=50, vth=100, **U_IS_INPUT, dv=4095,
                                        dv_offset=1), [50] * 4)
    assert vs == [100] * 4 and spikes == []


def test_refractory_hold():
    # No decay; bias 40, vth 100, subtract reset, 2 steps of refractory.
    # An input of 7 arrives at t = 3, during the hold.
    p = LIFProfile(bias_mant=40, vth=100, reset="subtract", refractory=2)
    us, vs, refs, spikes = trace(p, [0, 0, 0, 7, 0, 0, 0, 0])
    # t  u  v                          ref
    # 0  0  40                         0
    # 1  0  80                         0
    # 2  0  120 > 100 -> 20, spike     2
    # 3  7  held at 20 (u integrates)  1
    # 4  7  held at 20                 0
    # 5  7  20 + 7 + 40 = 67           0
    # 6  7  67 + 47 = 114 -> 14, spike 2
    # 7  7  held at 14                 1
    assert us == [0, 0, 0, 7, 7, 7, 7, 7]
    assert vs == [40, 80, 20, 20, 20, 67, 14, 14]
    assert refs == [0, 0, 2, 1, 0, 0, 2, 1]
    assert spikes == [2, 6]


def test_refractory_blocks_spike_above_threshold():
    # Held at v = 101 > vth: no spike while the counter runs, one as soon as it ends.
    p = LIFProfile(vth=100, refractory=3, reset="value", v_reset=101)
    _, vs, refs, spikes = trace(p, [0] * 6, v0=200)
    # t0: 200 > 100 -> 101, ref 3; t1..t3 held (ref 2, 1, 0); t4: 101 > 100 -> spike.
    assert vs == [101] * 6
    assert refs == [3, 2, 1, 0, 3, 2]
    assert spikes == [0, 4]


def test_u_wraps_at_8_bits():
    # 8-bit state, no current decay; v = u each step (dv_eff = 4096, no bias).
    p = LIFProfile(vth=127, dv=4095, dv_offset=1)
    us, vs, _, spikes = trace(p, [100, 100, 100, -100, -100], state_bits=8, acc_bits=9)
    # 100; 200 - 256 = -56; 44; -56; -156 + 256 = 100.
    assert us == [100, -56, 44, -56, 100]
    assert vs == us
    assert spikes == []


def test_u_saturates_when_asked():
    p = LIFProfile(vth=127, dv=4095, dv_offset=1, u_overflow=Overflow.SATURATE)
    us, _, _, _ = trace(p, [100, 100, 100, -100, -100, -100], state_bits=8, acc_bits=9)
    # 100; 200 -> 127; 127; 27; -73; -173 -> -127 (symmetric: never -128).
    assert us == [100, 127, 127, 27, -73, -127]


def test_v_saturates_symmetrically_at_8_bits():
    # u = this step's input; no voltage decay; vth = 127 cannot be exceeded.
    p = LIFProfile(vth=127, **U_IS_INPUT)
    _, vs, _, spikes = trace(p, [100, 100, 100, -100, -100, -100, -100], state_bits=8,
                             acc_bits=9)
    # 100; 200 -> 127; 227 -> 127; 27; -73; -173 -> -127; -227 -> -127.
    assert vs == [100, 127, 127, 27, -73, -127, -127]
    assert spikes == []


def test_v_wraps_when_asked():
    p = LIFProfile(vth=127, **U_IS_INPUT, v_overflow="wrap")
    _, vs, _, _ = trace(p, [100, 100, 100, -100, -100, -100, -100], state_bits=8, acc_bits=9)
    # 100; 200 -> -56; 44; -56; -156 -> 100; 0; -100.
    assert vs == [100, -56, 44, -56, 100, 0, -100]


def test_saturated_v_still_spikes_and_subtracts():
    # 8 bits, vth = 120: 127 + 100 = 227 saturates to 127 > 120, and the subtract
    # reset works from the saturated value: 127 - 120 = 7.
    p = LIFProfile(vth=120, **U_IS_INPUT, reset="subtract")
    _, vs, _, spikes = trace(p, [100], state_bits=8, acc_bits=9, v0=127)
    assert vs == [7] and spikes == [0]


def test_accumulator_is_sign_extended_then_scaled():
    # acc_bits = 9: raw 255 is +255, raw 256 is -256, raw 300 is 300 - 512 = -212.
    # weight_exp = 3 multiplies by 8 after sign extension.
    p = LIFProfile(vth=(1 << 15) - 1, **U_IS_INPUT, weight_exp=3)
    us, _, _, _ = trace(p, [255, 256, 300, -1, 511], state_bits=16, acc_bits=9)
    assert us == [2040, -2048, -1696, -8, -8]


def test_profiles_apply_per_neuron():
    # Four neurons, two profiles: decay 1/2 with toward-zero rounding and 24-bit
    # saturation, versus floor rounding with wrap at 16 bits.
    a = LIFProfile(du=2048, dv=2048, vth=1000)
    b = LIFProfile(du=2048, dv=2048, vth=1000, rounding="floor", v_overflow="wrap")
    table = ProfileTable.from_profiles([a, b]).gather(np.array([0, 1, 1, 0]))
    u = np.array([-101, -101, 0, 0], dtype=np.int64)
    v = np.array([0, 0, 32000, 32000], dtype=np.int64)
    acc = np.array([0, 0, 2000, 2000], dtype=np.int64)
    u, v, ref, spikes = lif_update(u, v, np.zeros(4, dtype=np.int64), acc, table, 16, 16)
    # u: -50.5 -> -50 (a) or -51 (b); 0 + 2000 for the last two.
    # v: 0 + u for the first two; 16000 + 2000 = 18000 > 1000 for the last two,
    # which spike and reset to 0.
    np.testing.assert_array_equal(u, [-50, -51, 2000, 2000])
    np.testing.assert_array_equal(v, [-50, -51, 0, 0])
    np.testing.assert_array_equal(spikes, [False, False, True, True])
    np.testing.assert_array_equal(ref, 0)


def test_v_wrap_versus_saturate_per_neuron():
    a = LIFProfile(vth=(1 << 15) - 1, **U_IS_INPUT)
    b = LIFProfile(vth=(1 << 15) - 1, **U_IS_INPUT, v_overflow=Overflow.WRAP)
    table = ProfileTable.from_profiles([a, b]).gather(np.array([0, 1]))
    v = np.array([30000, 30000], dtype=np.int64)
    acc = np.array([5000, 5000], dtype=np.int64)
    _, v, _, spikes = lif_update(np.zeros(2, dtype=np.int64), v, np.zeros(2, dtype=np.int64),
                                 acc, table, 16, 16)
    # 35000: saturates to 32767, or wraps to 35000 - 65536 = -30536.
    np.testing.assert_array_equal(v, [32767, -30536])
    np.testing.assert_array_equal(spikes, [False, False])

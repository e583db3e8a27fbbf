"""Tiers 1 and 2 for ``golden_model.izhikevich``: a step by hand, saturation corners, the
five firing patterns of Izhikevich (2003) against the float reference, and the arguments."""

import re

import numpy as np
import pytest

from golden_model.fixedpoint import signed_max
from golden_model.izhikevich import (K_004, PATTERNS, IzhikevichProfile, frac_bits,
                                     izhikevich_update, simulate_float, simulate_neuron,
                                     step_input)

RS = IzhikevichProfile.from_float(*PATTERNS["regular_spiking"])


def test_profile_from_float_by_hand():
    # 16-bit state: F = 7, units of 1/128 mV. a = 0.02 * 65536 = 1310.72 -> 1311.
    assert frac_bits(16) == 7 and frac_bits(24) == 15 and K_004 == 2621
    assert (RS.a, RS.b, RS.c, RS.d, RS.v_peak) == (1311, 13107, -65 * 128, 8 * 128, 30 * 128)
    assert RS.as_float()[2:5] == (-65.0, 8.0, 30.0)


def test_one_step_by_hand():
    # v = -65 mV = -8320, u = b v = (13107 * -8320) >> 16 = -1664, I = 10 mV/ms = 1280.
    # Half step 1: p = (2621 * -8320) >> 16 = -333; q = (-333 * -8320) >> 7 = 21645;
    #   dv = 21645 - 41600 + 17920 + 1664 + 1280 = 909; v = -8320 + 454 = -7866.
    # Half step 2: p = -315; q = (-315 * -7866) >> 7 = 19357;
    #   dv = 19357 - 39330 + 17920 + 1664 + 1280 = 891; v = -7866 + 445 = -7421.
    # u: y = ((13107 * -7421) >> 16) + 1664 = -1485 + 1664 = 179; u = -1664 + (1311 * 179 >> 16)
    #   = -1664 + 3 = -1661.
    v, u, spike = izhikevich_update(-8320, -1664, 1280, RS.a, RS.b, RS.c, RS.d, RS.v_peak, 16)
    assert (int(v), int(u), bool(spike)) == (-7421, -1661, False)


def test_a_spike_resets_and_u_sees_v_clipped_at_the_peak():
    # From v = 29 mV the first half step already passes the peak; the second goes on up.
    # u is updated with v clipped to v_peak, then the reset adds d.
    v0, u0 = 29 * 128, -14 * 128
    v, u, spike = izhikevich_update(v0, u0, 0, RS.a, RS.b, RS.c, RS.d, RS.v_peak, 16)
    y = ((RS.b * RS.v_peak) >> 16) - u0
    assert bool(spike) and int(v) == RS.c
    assert int(u) == u0 + ((RS.a * y) >> 16) + RS.d


def test_saturation_never_wraps():
    big = signed_max(16)
    # A huge input drives v to the top of its range
    # (with the peak at the top of the range, the saturated v is a spike, and resets; a
    # wrap would read as a large negative v and no spike).
    v, u, spike = izhikevich_update(0, 0, big, RS.a, RS.b, RS.c, RS.d, big, 16)
    assert bool(spike) and int(v) == RS.c
    # Far below rest the quadratic term pulls v up faster than any input pushes it down
    # (the model's own property): from -255 mV with the largest negative input, v rises.
    v, u, spike = izhikevich_update(-big + 100, 0, -big, RS.a, RS.b, RS.c, RS.d, RS.v_peak, 16)
    assert int(v) > -big + 100
    # u saturates too, and the reset's u + d saturates.
    v, u, spike = izhikevich_update(29 * 128, big - 10, 0, RS.a, RS.b, RS.c, big, RS.v_peak,
                                    16)
    assert bool(spike) and int(u) == big


def test_step_input_by_hand():
    assert step_input([3, -2, 0], 4, 5, 16).tolist() == [53, -27, 5]
    assert step_input([1 << 14], 3, 0, 16).tolist() == [signed_max(16)]
    assert step_input([-(1 << 14)], 3, 0, 16).tolist() == [-signed_max(16)]


def _isi(spikes):
    return np.diff(np.flatnonzero(spikes))


def _signature(name, spikes):
    """The pattern's defining properties under a 10 mV/ms step current for 980 ms."""
    isi = _isi(spikes)
    n = int(spikes.sum())
    short = isi < 10
    if name == "regular_spiking":        # tonic, adapting, no bursts
        return n >= 10 and not short.any() and isi[-1] > 1.5 * isi[0]
    if name == "intrinsically_bursting":  # an initial burst, then single spikes
        return bool(short[:2].all()) and bool((isi[2:] >= 20).all())
    if name == "chattering":              # bursts all along
        return short.sum() >= 20 and (isi >= 20).sum() >= 5 and short[-10:].any()
    if name == "fast_spiking":            # fast, hardly adapting, never a burst
        return n >= 60 and isi[-1] <= 1.5 * isi[0] and isi.min() >= 6
    if name == "low_threshold_spiking":   # fast and adapting, without pauses
        return n >= 40 and isi[0] < 10 and isi[-1] >= 2 * isi[0] and isi.max() < 20
    raise AssertionError(name)


CURRENT = np.r_[np.zeros(20), np.full(980, 10.0)]


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_firing_patterns_against_the_float_reference(name):
    a, b, c, d = PATTERNS[name]
    f_spikes, f_v, _ = simulate_float(a, b, c, d, CURRENT, v0=-65.0)
    assert _signature(name, f_spikes), "the float reference itself"
    first = np.flatnonzero(f_spikes)[0]
    error = {}
    for bits, slack in ((16, 2), (24, 1)):
        profile = IzhikevichProfile.from_float(a, b, c, d, state_bits=bits)
        spikes, v, _ = simulate_neuron(profile, CURRENT, v0=-65.0)
        assert _signature(name, spikes), bits
        assert abs(int(spikes.sum()) - int(f_spikes.sum())) <= slack
        # Up to the approach of the first spike the voltage follows the float path.
        error[bits] = np.abs(v[:first - 3] - f_v[:first - 3]).max()
    assert error[16] < 2.5 and error[24] < 0.2 and error[24] < error[16] / 5


def test_patterns_differ_from_each_other():
    counts = {}
    for name, params in PATTERNS.items():
        spikes, _, _ = simulate_neuron(IzhikevichProfile.from_float(*params), CURRENT, v0=-65.0)
        counts[name] = int(spikes.sum())
    assert counts["fast_spiking"] > counts["low_threshold_spiking"] > \
        counts["intrinsically_bursting"] > counts["regular_spiking"]
    assert counts["chattering"] > counts["intrinsically_bursting"]


@pytest.mark.parametrize("call,error,message", [
    (lambda: IzhikevichProfile.from_float(0.6, 0.2, -65, 8), ValueError,
     "a must be between -0.5 and 0.5 (16-bit fraction), not 0.6"),
    (lambda: IzhikevichProfile.from_float(0.02, 0.2, -300, 8), ValueError,
     "c must be between -255.992 and 255.992 mV for 16-bit state, not -300.0"),
    (lambda: IzhikevichProfile.from_float(0.02, 0.2, float("nan"), 8), TypeError,
     "c must be a finite number, not nan"),
    (lambda: IzhikevichProfile.from_float(0.02, 0.2, -65, 8, state_bits=10), ValueError,
     "state_bits must be between 12 and 24, not 10"),
    (lambda: IzhikevichProfile(1, 1, 0, 0, 0, weight_exp=16), ValueError,
     "weight_exp must be between 0 and 15, not 16"),
    (lambda: IzhikevichProfile(1 << 15, 1, 0, 0, 0), ValueError,
     "a must be between -32768 and 32767, not 32768"),
    (lambda: IzhikevichProfile(1, 1, 0, 0, 1 << 15), ValueError,
     "v_peak must be between -32767 and 32767, not 32768"),
    (lambda: simulate_neuron(RS, [1.0, float("inf")]), ValueError,
     "current must be a 1-D array of finite numbers (mV/ms per step)"),
    (lambda: simulate_neuron((0.02, 0.2), [1.0]), TypeError,
     "profile must be an IzhikevichProfile, not (0.02, 0.2)"),
])
def test_arguments(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        call()

"""Tiers 1 and 2 for ``golden_model.adex``: the exponential's table and its measured error,
coefficients and steps by hand, the four regimes of Naud et al. (2008) against the float
reference, and the arguments."""

import math
import re

import numpy as np
import pytest

from golden_model.adex import (EXP2_TABLE, LOG2E_Q16, REGIMES, W_EXTRA, X_MAX, X_MIN,
                               AdExProfile, Coef, adex_update, exp_max_rel_error, exp_q16,
                               exp_term, simulate_float, simulate_neuron)
from golden_model.fixedpoint import signed_max

TONIC = AdExProfile.from_float(**REGIMES["tonic"], state_bits=24)


def test_table_and_constants():
    assert LOG2E_Q16 == 94548 and len(EXP2_TABLE) == 65
    assert EXP2_TABLE[0] == 65536 and EXP2_TABLE[64] == 131072 and EXP2_TABLE[32] == 92682
    # exp(0) = 1 exactly; exp(ln 2) and exp(-1) to the table's accuracy.
    assert exp_q16([0]).tolist() == [65536]
    assert abs(exp_q16([round(math.log(2) * 65536)])[0] / 65536 - 2) < 1e-4
    assert abs(exp_q16([-65536])[0] / 65536 - math.exp(-1)) < 1e-4


def test_exponential_error_is_measured_and_small():
    # Linear interpolation between 2**(k/64) is good to (ln 2 / 64)**2 / 8 = 1.5e-5; the
    # table's Q16 rounding and the floors add to that.
    error = exp_max_rel_error()
    assert 1e-6 < error < 1e-4


def test_coefficients_by_hand():
    # 0.005 = 20972 / 2**22: the largest shift whose mantissa fits 16 signed bits.
    assert Coef.of("kL", 0.005) == Coef(20972, 22)
    assert Coef.of("k", -0.75) == Coef(-24576, 15)
    assert Coef.of("k", 0) == Coef(0, 0)
    assert Coef(20972, 22)([1 << 22, -(1 << 22), 3]).tolist() == [20972, -20972, 0]
    assert Coef(-3, 1)([1]).tolist() == [-2]          # floors, like a signed >>


def test_exp_term_by_hand():
    S = 24
    kE = TONIC.kE                       # kL dT 2**F = 0.005 * 2 * 2**15 = 327.68
    assert abs(kE.value - 327.68) < 0.01
    # x = 0: kE * 65536 >> (s + 16).
    assert exp_term([0], kE, S).tolist() == [(kE.m * 65536) >> (kE.s + 16)]
    # Below the range it is 0; above, saturated.
    assert exp_term([X_MIN - 1, X_MAX + 1], kE, S).tolist() == [0, signed_max(S)]
    # At the top of the range: exp(12) * 327.68 = 5.33e7, more than 24 bits hold.
    assert exp_term([X_MAX], kE, S).tolist() == [signed_max(S)]


def test_rest_is_a_fixed_point():
    # At V = EL with w = 0 and no input: no leak, and x = (-70 + 50) / 2 = -10 is below
    # the exponential's range: nothing moves.
    V, w, spike = adex_update(TONIC.EL, 0, 0, TONIC)
    assert (int(V), int(w), bool(spike)) == (TONIC.EL, 0, False)


def test_a_spike_resets_and_adds_b():
    p = AdExProfile.from_float(**REGIMES["adapting"], state_bits=24)
    # b = 60 pA * 0.1 ms / 200 pF = 0.03 mV, in units of 2**-(15 + 8) mV.
    assert p.b == round(0.03 * 2 ** (15 + W_EXTRA))
    V, w, spike = adex_update(-1, 1000, 0, p)      # just below 0 mV: the exponential fires
    assert bool(spike) and int(V) == p.Vr
    assert int(w) == 1000 + int(p.kw(p.ka(-1 - p.EL) - 1000)) + p.b


def _isi(spikes, dt=0.1):
    return np.diff(np.flatnonzero(spikes)) * dt


def _regime(name, spikes):
    isi = _isi(spikes)
    if name == "tonic":                 # regular from the start
        return len(isi) >= 20 and isi.max() < 1.2 * isi.min()
    if name == "adapting":              # intervals grow, no burst
        return bool((np.diff(isi) >= -0.2).all()) and isi[-1] > 4 * isi[0] and isi.min() > 10
    if name == "initial_burst":         # two fast intervals, then slow tonic firing
        return bool((isi[:2] < 10).all()) and bool((isi[2:] > 40).all())
    if name == "regular_bursting":      # short and long intervals alternate to the end
        short, long = isi < 10, isi > 50
        return short.sum() >= 4 and long.sum() >= 2 and bool((short | long).all()) \
            and bool(long[-3:].any())
    raise AssertionError(name)


STEPS = 5000                            # 500 ms at 0.1 ms


@pytest.mark.parametrize("name", sorted(REGIMES))
def test_regimes_against_the_float_reference(name):
    r = REGIMES[name]
    f_spikes, f_v = simulate_float(**r, steps=STEPS)
    assert _regime(name, f_spikes), "the float reference itself"
    for bits, slack in ((16, 3), (20, 1), (24, 1)):
        profile = AdExProfile.from_float(**r, state_bits=bits)
        drive = np.full(STEPS, AdExProfile.input_of(r["I"], r["C"], state_bits=bits))
        spikes, v = simulate_neuron(profile, drive)
        assert _regime(name, spikes), bits
        assert abs(int(spikes.sum()) - int(f_spikes.sum())) <= slack, bits
    # At 24 bits every spike lands within 0.2 ms, plus 0.2% of its time, of the float
    # model's (the rounding's drift).
    t_q, t_f = np.flatnonzero(spikes), np.flatnonzero(f_spikes)
    assert (np.abs(t_q - t_f) <= 2 + t_f / 500).all()


@pytest.mark.parametrize("call,error,message", [
    (lambda: AdExProfile.from_float(**{**REGIMES["tonic"], "C": 0}), ValueError,
     "C must be positive, not 0"),
    (lambda: AdExProfile.from_float(**{**REGIMES["tonic"], "dT": -2}), ValueError,
     "dT must be positive, not -2"),
    (lambda: AdExProfile.from_float(**{**REGIMES["tonic"], "EL": float("nan")}), TypeError,
     "EL must be a finite number, not nan"),
    (lambda: AdExProfile.from_float(**{**REGIMES["tonic"], "EL": -300}), ValueError,
     "EL must be between -255.992 and 255.992 mV for 16-bit state, not -300"),
    (lambda: AdExProfile.from_float(**REGIMES["tonic"], dt=50), ValueError,
     "dt must be well below the model's time constants for Euler steps (tw = 30 ms, "
     "C/gL = 20 ms), not 50 ms"),
    (lambda: AdExProfile.from_float(**{**REGIMES["tonic"], "b": 1e6}), ValueError,
     "b * dt / C must be between -0.999969 and 0.999969 mV, not 500"),
    (lambda: Coef.of("kx", 1e6), ValueError, "kx must be below 32768 in magnitude, not "
                                            "1000000.0"),
    (lambda: Coef(1 << 15, 0), ValueError, "m must be between -32768 and 32767, not 32768"),
    (lambda: AdExProfile(**{**TONIC.__dict__, "kL": Coef(3, 1)}), ValueError,
     "kL must be at least 0 and below 1, not 1.5"),
    (lambda: AdExProfile(**{**TONIC.__dict__, "kw": Coef(-1, 4)}), ValueError,
     "kw must be at least 0 and below 1, not -0.0625"),
    (lambda: simulate_neuron(TONIC, [0.5]), ValueError,
     "current must be a 1-D array of integers (state units per step)"),
    (lambda: simulate_neuron("tonic", [1]), TypeError,
     "profile must be an AdExProfile, not 'tonic'"),
])
def test_arguments(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        call()

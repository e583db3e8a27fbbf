"""Tier 1 argument checks: every error sentence of the shared parameter types is pinned.

Covers :class:`CoreParams`, :class:`LIFProfile` (with :meth:`LIFProfile.loihi`
and :meth:`LIFProfile.check_fits`), :class:`SynapseTable` and
:class:`CoreImage`, and :func:`golden_model.lif_core.normalise_inputs`. Each
message is matched in full, so a reworded or truncated sentence fails here.
Defaults and derived widths are checked against hand-picked values.
"""

import dataclasses
import re

import numpy as np
import pytest

from golden_model.fixedpoint import Overflow, Rounding
from golden_model.image import CoreImage, SynapseTable
from golden_model.lif_core import normalise_inputs
from golden_model.params import CoreParams, LIFProfile, ResetMode


def raises(exc, message):
    return pytest.raises(exc, match=rf"^{re.escape(message)}$")


CORE = dict(n_neurons=16, n_axons=4, n_synapses=32)


# -- CoreParams --------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(n_neurons=8), ValueError, "n_neurons must be between 16 and 4096, not 8"),
    (dict(n_neurons=4097), ValueError, "n_neurons must be between 16 and 4096, not 4097"),
    (dict(n_neurons=16.0), TypeError, "n_neurons must be an integer, not 16.0"),
    (dict(n_neurons="16"), TypeError, "n_neurons must be an integer, not '16'"),
    (dict(n_neurons=True), TypeError, "n_neurons must be an integer, not True"),
    (dict(n_axons=0), ValueError, "n_axons must be between 1 and 65536, not 0"),
    (dict(n_axons=65537), ValueError, "n_axons must be between 1 and 65536, not 65537"),
    (dict(n_synapses=0), ValueError, "n_synapses must be between 1 and 65536, not 0"),
    (dict(n_synapses=65537), ValueError, "n_synapses must be between 1 and 65536, not 65537"),
    (dict(max_delay=0), ValueError, "max_delay must be between 1 and 64, not 0"),
    (dict(max_delay=65), ValueError, "max_delay must be between 1 and 64, not 65"),
    (dict(state_bits=7), ValueError, "state_bits must be between 8 and 24, not 7"),
    (dict(state_bits=25), ValueError, "state_bits must be between 8 and 24, not 25"),
    (dict(weight_bits=0), ValueError, "weight_bits must be between 1 and 16, not 0"),
    (dict(weight_bits=17), ValueError, "weight_bits must be between 1 and 16, not 17"),
    (dict(weight_signed=1), TypeError, "weight_signed must be a bool, not 1"),
    (dict(weight_signed="yes"), TypeError, "weight_signed must be a bool, not 'yes'"),
    (dict(n_profiles=0), ValueError, "n_profiles must be between 1 and 16, not 0"),
    (dict(n_profiles=17), ValueError, "n_profiles must be between 1 and 16, not 17"),
    (dict(refractory_bits=0), ValueError, "refractory_bits must be between 1 and 8, not 0"),
    (dict(refractory_bits=9), ValueError, "refractory_bits must be between 1 and 8, not 9"),
    # The accumulator must hold at least one weight plus a carry: W + 1 bits.
    (dict(acc_bits=8), ValueError, "acc_bits must be between 9 and 32, not 8"),
    (dict(acc_bits=33), ValueError, "acc_bits must be between 9 and 32, not 33"),
    (dict(weight_bits=4, acc_bits=4), ValueError, "acc_bits must be between 5 and 32, not 4"),
    (dict(acc_bits=12.5), TypeError, "acc_bits must be an integer, not 12.5"),
])
def test_core_params_errors(kwargs, exc, message):
    with raises(exc, message):
        CoreParams(**{**CORE, **kwargs})


def test_core_params_defaults():
    p = CoreParams(**CORE)
    assert (p.max_delay, p.state_bits, p.weight_bits, p.weight_signed, p.n_profiles,
            p.refractory_bits) == (8, 24, 8, True, 4, 4)
    assert p.acc_bits == 24


@pytest.mark.parametrize("kwargs, acc_bits", [
    (dict(), 24),                                  # max(S = 24, W + 1 = 9)
    (dict(state_bits=8), 9),                       # max(8, 9): one weight plus its carry
    (dict(state_bits=12, weight_bits=4), 12),
    (dict(state_bits=8, weight_bits=7), 8),
    (dict(acc_bits=32), 32),
    (dict(acc_bits=9), 9),
])
def test_core_params_acc_bits(kwargs, acc_bits):
    assert CoreParams(**{**CORE, **kwargs}).acc_bits == acc_bits


def test_core_params_accepts_numpy_integers_as_int():
    p = CoreParams(n_neurons=np.int64(32), n_axons=np.int32(3), n_synapses=np.uint16(7))
    assert (p.n_neurons, p.n_axons, p.n_synapses) == (32, 3, 7)
    assert all(type(x) is int for x in (p.n_neurons, p.n_axons, p.n_synapses))


def test_core_params_is_frozen():
    p = CoreParams(**CORE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_neurons = 32


def test_derived_widths_smallest():
    p = CoreParams(n_neurons=16, n_axons=1, n_synapses=1, max_delay=1, n_profiles=1,
                   refractory_bits=1, weight_bits=1)
    # A one-entry memory still needs a one-bit address.
    assert (p.neuron_bits, p.axon_bits, p.synapse_bits, p.count_bits, p.delay_bits,
            p.profile_bits) == (4, 1, 1, 1, 1, 1)
    assert (p.weight_min, p.weight_max) == (-1, 0)
    assert p.refractory_max == 1
    assert p.acc_slots == 1


def test_derived_widths_odd_sizes():
    p = CoreParams(n_neurons=17, n_axons=3, n_synapses=1024, max_delay=9, n_profiles=5,
                   refractory_bits=3, weight_bits=6, weight_signed=False)
    assert p.neuron_bits == 5         # 0..16
    assert p.axon_bits == 2           # 0..2
    assert p.synapse_bits == 10       # addresses 0..1023
    assert p.count_bits == 11         # counts 0..1024
    assert p.delay_bits == 4          # stored delay - 1: 0..8
    assert p.profile_bits == 3        # 0..4
    assert (p.weight_min, p.weight_max) == (0, 63)
    assert p.refractory_max == 7
    assert p.acc_slots == 9


def test_derived_widths_largest():
    p = CoreParams(n_neurons=4096, n_axons=65536, n_synapses=65536, max_delay=64,
                   n_profiles=16, refractory_bits=8)
    assert (p.neuron_bits, p.axon_bits, p.synapse_bits, p.count_bits, p.delay_bits,
            p.profile_bits) == (12, 16, 16, 17, 6, 4)
    assert (p.weight_min, p.weight_max) == (-128, 127)
    assert p.refractory_max == 255


def test_core_params_loihi():
    p = CoreParams.loihi(16, 4, 32)
    assert (p.n_neurons, p.n_axons, p.n_synapses, p.max_delay) == (16, 4, 32, 8)
    assert (p.state_bits, p.weight_bits, p.weight_signed, p.acc_bits) == (24, 8, True, 24)
    assert CoreParams.loihi(16, 4, 32, max_delay=3, n_profiles=2).n_profiles == 2


# -- LIFProfile ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(du=-1), ValueError, "du must be between 0 and 4095, not -1"),
    (dict(du=4096), ValueError, "du must be between 0 and 4095, not 4096"),
    (dict(du=1.5), TypeError, "du must be an integer, not 1.5"),
    (dict(dv=4096), ValueError, "dv must be between 0 and 4095, not 4096"),
    (dict(du_offset=2), ValueError, "du_offset must be between 0 and 1, not 2"),
    (dict(dv_offset=-1), ValueError, "dv_offset must be between 0 and 1, not -1"),
    (dict(vth=-1), ValueError, "vth must be between 0 and 8388607, not -1"),
    (dict(vth=1 << 23), ValueError, "vth must be between 0 and 8388607, not 8388608"),
    (dict(bias_mant=1 << 23), ValueError,
     "bias_mant must be between -8388608 and 8388607, not 8388608"),
    (dict(bias_mant=-(1 << 23) - 1), ValueError,
     "bias_mant must be between -8388608 and 8388607, not -8388609"),
    (dict(bias_exp=24), ValueError, "bias_exp must be between 0 and 23, not 24"),
    (dict(bias_exp=-1), ValueError, "bias_exp must be between 0 and 23, not -1"),
    (dict(v_reset=1 << 23), ValueError,
     "v_reset must be between -8388608 and 8388607, not 8388608"),
    (dict(refractory=256), ValueError, "refractory must be between 0 and 255, not 256"),
    (dict(refractory=-1), ValueError, "refractory must be between 0 and 255, not -1"),
    (dict(weight_exp=24), ValueError, "weight_exp must be between 0 and 23, not 24"),
    (dict(weight_exp=None), TypeError, "weight_exp must be an integer, not None"),
    (dict(reset="reset"), ValueError, "reset must be one of zero, subtract, value, not 'reset'"),
    (dict(reset=0), ValueError, "reset must be one of zero, subtract, value, not 0"),
    (dict(rounding="nearest"), ValueError,
     "rounding must be one of toward_zero, floor, not 'nearest'"),
    (dict(u_overflow="clip"), ValueError, "u_overflow must be one of wrap, saturate, not 'clip'"),
    (dict(v_overflow=Rounding.FLOOR), ValueError,
     "v_overflow must be one of wrap, saturate, not <Rounding.FLOOR: 1>"),
])
def test_lif_profile_errors(kwargs, exc, message):
    with raises(exc, message):
        LIFProfile(**kwargs)


def test_lif_profile_defaults_and_derived():
    p = LIFProfile()
    assert (p.du, p.dv, p.vth, p.bias_mant, p.bias_exp, p.v_reset, p.refractory,
            p.weight_exp, p.du_offset, p.dv_offset) == (0, 0, 1000, 0, 0, 0, 0, 0, 0, 0)
    assert (p.reset, p.rounding, p.u_overflow, p.v_overflow) == (
        ResetMode.ZERO, Rounding.TOWARD_ZERO, Overflow.WRAP, Overflow.SATURATE)
    q = LIFProfile(du=4095, du_offset=1, dv=10, bias_mant=-3, bias_exp=4)
    assert (q.du_eff, q.dv_eff, q.bias) == (4096, 10, -48)


def test_lif_profile_accepts_enum_names_in_any_case():
    p = LIFProfile(reset="subtract", rounding="FLOOR", u_overflow="Saturate", v_overflow="wrap")
    assert (p.reset, p.rounding, p.u_overflow, p.v_overflow) == (
        ResetMode.SUBTRACT, Rounding.FLOOR, Overflow.SATURATE, Overflow.WRAP)
    assert LIFProfile(rounding="toward_zero").rounding is Rounding.TOWARD_ZERO


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(du=4096), ValueError, "du must be between 0 and 4095, not 4096"),
    (dict(dv=-1), ValueError, "dv must be between 0 and 4095, not -1"),
    (dict(vth=1 << 17), ValueError, "vth must be between 0 and 131071, not 131072"),
    (dict(vth=-1), ValueError, "vth must be between 0 and 131071, not -1"),
    (dict(vth=10.0), TypeError, "vth must be an integer, not 10.0"),
    (dict(bias_mant=4096), ValueError, "bias_mant must be between -4096 and 4095, not 4096"),
    (dict(bias_mant=-4097), ValueError, "bias_mant must be between -4096 and 4095, not -4097"),
    (dict(bias_exp=8), ValueError, "bias_exp must be between 0 and 7, not 8"),
    (dict(weight_exp=8), ValueError, "weight_exp must be between 0 and 7, not 8"),
    (dict(weight_exp=-1), ValueError, "weight_exp must be between 0 and 7, not -1"),
])
def test_lif_profile_loihi_errors(kwargs, exc, message):
    with raises(exc, message):
        LIFProfile.loihi(**{**dict(du=0, dv=0, vth=10), **kwargs})


def test_lif_profile_loihi_values():
    p = LIFProfile.loihi(du=100, dv=200, vth=10, bias_mant=-5, bias_exp=3, weight_exp=2)
    assert (p.du_eff, p.dv_eff) == (101, 200)    # Loihi's +1 on the current decay only
    assert p.vth == 640                           # 10 << 6
    assert p.bias == -40                          # -5 << 3
    assert p.weight_exp == 8                      # 6 + 2
    assert (p.reset, p.refractory, p.rounding, p.u_overflow, p.v_overflow) == (
        ResetMode.ZERO, 0, Rounding.TOWARD_ZERO, Overflow.WRAP, Overflow.SATURATE)
    # The largest 17-bit threshold, << 6, still fits the 24-bit state.
    top = LIFProfile.loihi(du=4095, dv=4095, vth=(1 << 17) - 1, bias_mant=4095, bias_exp=7)
    assert (top.vth, top.du_eff, top.bias) == (8388544, 4096, 524160)
    top.check_fits(CoreParams.loihi(16, 4, 32))


CORE8 = CoreParams(n_neurons=16, n_axons=4, n_synapses=8, state_bits=8, refractory_bits=2,
                   n_profiles=2, max_delay=4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(vth=128), "profile.vth must be between 0 and 127, not 128"),
    (dict(bias_mant=128), "profile.bias_mant must be between -128 and 127, not 128"),
    (dict(bias_mant=-129), "profile.bias_mant must be between -128 and 127, not -129"),
    (dict(bias_exp=8), "profile.bias_exp must be between 0 and 7, not 8"),
    (dict(bias_mant=64, bias_exp=1),
     "profile.bias_mant << profile.bias_exp must fit 8-bit state (between -128 and 127), "
     "not 128"),
    (dict(bias_mant=-65, bias_exp=1),
     "profile.bias_mant << profile.bias_exp must fit 8-bit state (between -128 and 127), "
     "not -130"),
    (dict(bias_mant=1, bias_exp=7),
     "profile.bias_mant << profile.bias_exp must fit 8-bit state (between -128 and 127), "
     "not 128"),
    (dict(v_reset=-129), "profile.v_reset must be between -128 and 127, not -129"),
    (dict(v_reset=128), "profile.v_reset must be between -128 and 127, not 128"),
    (dict(refractory=4), "profile.refractory must be between 0 and 3, not 4"),
    (dict(weight_exp=8), "profile.weight_exp must be between 0 and 7, not 8"),
])
def test_check_fits_errors(kwargs, message):
    with raises(ValueError, message):
        LIFProfile(**{**dict(vth=100), **kwargs}).check_fits(CORE8)


def test_check_fits_names_the_profile():
    with raises(ValueError, "slow.vth must be between 0 and 127, not 1000"):
        LIFProfile().check_fits(CORE8, name="slow")


def test_check_fits_accepts_the_edges():
    LIFProfile(vth=127, bias_mant=-64, bias_exp=1, v_reset=-128, refractory=3,
               weight_exp=7).check_fits(CORE8)
    LIFProfile(vth=0, bias_mant=127, v_reset=127).check_fits(CORE8)


# -- SynapseTable and CoreImage ---------------------------------------------------------

@pytest.mark.parametrize("synapses, message", [
    ([(0, 1, 2)], "synapses[0] must be (axon, target, weight, delay), not (0, 1, 2)"),
    ([(0, 1, 2, 1), (0, 1, 2, 1, 9)],
     "synapses[1] must be (axon, target, weight, delay), not (0, 1, 2, 1, 9)"),
    ([(4, 0, 1, 1)], "synapses[0] axon must be between 0 and 3, not 4"),
    ([(0, 0, 1, 1), (-1, 0, 1, 1)], "synapses[1] axon must be between 0 and 3, not -1"),
])
def test_synapse_table_errors(synapses, message):
    with raises(ValueError, message):
        SynapseTable.from_synapses(4, synapses)


def test_synapse_table_csr_layout():
    # Rows are grouped by axon; order inside an axon is kept.
    t = SynapseTable.from_synapses(4, [(2, 5, 7, 1), (0, 1, -3, 2), (2, 6, 8, 3), (0, 2, 4, 1)])
    np.testing.assert_array_equal(t.count, [2, 0, 2, 0])
    np.testing.assert_array_equal(t.start, [0, 2, 2, 4])
    np.testing.assert_array_equal(t.target, [1, 2, 5, 6])
    np.testing.assert_array_equal(t.weight, [-3, 4, 7, 8])
    np.testing.assert_array_equal(t.delay, [2, 1, 1, 3])
    assert (t.n_axons, len(t)) == (4, 4)


def test_synapse_table_from_dense_skips_zeros():
    t = SynapseTable.from_dense([[0, 3], [-2, 0], [0, 0]], delays=[[1, 2], [4, 1], [1, 1]])
    np.testing.assert_array_equal(t.count, [1, 1, 0])
    np.testing.assert_array_equal(t.target, [1, 0])
    np.testing.assert_array_equal(t.weight, [3, -2])
    np.testing.assert_array_equal(t.delay, [2, 4])


PROFILE = LIFProfile(vth=100)


def image(**kwargs):
    base = dict(params=CORE8, profiles=(PROFILE,), neuron_profile=0,
                synapses=SynapseTable.from_synapses(4, [(0, 1, 5, 1)]))
    return CoreImage(**{**base, **kwargs})


def syn(*rows, n_axons=4):
    return SynapseTable.from_synapses(n_axons, rows)


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(params="core"), TypeError, "params must be a CoreParams, not 'core'"),
    (dict(profiles=()), ValueError,
     "profiles must hold between 1 and 2 profiles (n_profiles), not 0"),
    (dict(profiles=(PROFILE,) * 3), ValueError,
     "profiles must hold between 1 and 2 profiles (n_profiles), not 3"),
    (dict(profiles=(PROFILE, 3)), TypeError, "profiles[1] must be a LIFProfile (the core's neurons are LIF), not 3"),
    (dict(profiles=(PROFILE, LIFProfile())), ValueError,
     "profiles[1].vth must be between 0 and 127, not 1000"),
    (dict(profiles=(LIFProfile(vth=10, bias_mant=100, bias_exp=2),)), ValueError,
     "profiles[0].bias_mant << profiles[0].bias_exp must fit 8-bit state "
     "(between -128 and 127), not 400"),
    (dict(neuron_profile=np.zeros(16)), TypeError, "neuron_profile must hold integers, not float64"),
    (dict(neuron_profile=[0, 0, 0]), ValueError,
     "neuron_profile must have one entry per neuron (16), not shape (3,)"),
    (dict(neuron_profile=[0] * 5 + [1] + [0] * 10), ValueError,
     "neuron_profile[5] must be between 0 and 0, not 1"),
    (dict(neuron_profile=-1), ValueError, "neuron_profile[0] must be between 0 and 0, not -1"),
    (dict(u0=128), ValueError, "u0[0] must be between -128 and 127, not 128"),
    (dict(v0=[0, 0, 0, -129] + [0] * 12), ValueError,
     "v0[3] must be between -128 and 127, not -129"),
    (dict(u0=1.5), TypeError, "u0 must hold integers, not float64"),
    (dict(v0=np.zeros((2, 16), dtype=np.int64)), ValueError,
     "v0 must have one entry per neuron (16), not shape (2, 16)"),
    (dict(synapses=[(0, 1, 5, 1)]), TypeError,
     "synapses must be a SynapseTable, not [(0, 1, 5, 1)]"),
    (dict(synapses=syn((4, 0, 1, 1), n_axons=5)), ValueError,
     "synapses use 5 axons, more than n_axons = 4"),
    (dict(synapses=syn(*[(0, n, 1, 1) for n in range(9)])), ValueError,
     "synapses hold 9 entries, more than n_synapses = 8"),
    (dict(synapses=syn((0, 16, 1, 1))), ValueError,
     "synapse entry 0 target must be between 0 and 15, not 16"),
    (dict(synapses=syn((0, 0, 1, 1), (1, -1, 1, 1))), ValueError,
     "synapse entry 1 target must be between 0 and 15, not -1"),
    (dict(synapses=syn((0, 0, 128, 1))), ValueError,
     "synapse entry 0 weight must be between -128 and 127 for 8-bit signed weights, not 128"),
    (dict(synapses=syn((0, 0, 1, 1), (0, 1, -129, 1))), ValueError,
     "synapse entry 1 weight must be between -128 and 127 for 8-bit signed weights, not -129"),
    (dict(synapses=syn((0, 0, 1, 0))), ValueError,
     "synapse entry 0 delay must be between 1 and 4, not 0"),
    (dict(synapses=syn((0, 1, 5, 1), (1, 2, 5, 1), (2, 3, 5, 5))), ValueError,
     "synapse entry 2 delay must be between 1 and 4, not 5"),
])
def test_core_image_errors(kwargs, exc, message):
    with raises(exc, message):
        image(**kwargs)


@pytest.mark.parametrize("weight, message", [
    (-1, "synapse entry 0 weight must be between 0 and 15 for 4-bit unsigned weights, not -1"),
    (16, "synapse entry 0 weight must be between 0 and 15 for 4-bit unsigned weights, not 16"),
])
def test_core_image_unsigned_weight_errors(weight, message):
    params = CoreParams(n_neurons=16, n_axons=4, n_synapses=8, state_bits=8, weight_bits=4,
                        weight_signed=False)
    with raises(ValueError, message):
        image(params=params, synapses=syn((0, 0, weight, 1)))


def test_core_image_accepts_edges_and_fills_defaults():
    img = image(profiles=(PROFILE, LIFProfile(vth=127)),
                neuron_profile=[0, 1] * 8,
                u0=[-128] + [0] * 15, v0=127,
                synapses=syn((0, 15, -128, 1), (0, 0, 127, 4), n_axons=2))
    np.testing.assert_array_equal(img.v0, np.full(16, 127))
    assert img.u0[0] == -128
    # The table is padded to n_axons with empty axons that point past the end.
    np.testing.assert_array_equal(img.synapses.count, [2, 0, 0, 0])
    np.testing.assert_array_equal(img.synapses.start, [0, 2, 2, 2])
    np.testing.assert_array_equal(img.profile_table.vth, [100, 127] * 8)
    plain = image()
    np.testing.assert_array_equal(plain.u0, np.zeros(16))
    np.testing.assert_array_equal(plain.neuron_profile, np.zeros(16))
    assert plain.u0.dtype == np.int64 and isinstance(plain.profiles, tuple)


# -- normalise_inputs --------------------------------------------------------------------

@pytest.mark.parametrize("inputs, n_steps, exc, message", [
    (np.zeros((3, 5), dtype=np.int64), None, ValueError,
     "inputs must have 4 columns (n_axons), not shape (3, 5)"),
    (np.array([[0, 1, -1, 0]]), None, ValueError, "inputs must hold event counts >= 0"),
    ([[0], [4]], None, ValueError, "inputs[1] axon must be between 0 and 3, not 4"),
    ([[1, 2, -1]], None, ValueError, "inputs[0] axon must be between 0 and 3, not -1"),
    ([[0]], -1, ValueError, "n_steps must be between 0 and 1099511627776, not -1"),
    ([[0]], 2.0, TypeError, "n_steps must be an integer, not 2.0"),
    ([[0], [], [1]], 2, ValueError, "inputs cover 3 steps, more than n_steps = 2"),
    (np.zeros((3, 4), dtype=bool), 1, ValueError, "inputs cover 3 steps, more than n_steps = 1"),
])
def test_normalise_inputs_errors(inputs, n_steps, exc, message):
    with raises(exc, message):
        normalise_inputs(inputs, 4, n_steps)


def test_normalise_inputs_forms():
    counts = normalise_inputs(np.array([[0, 2, 0, 1], [0, 0, 0, 0]]), 4)
    assert [s.tolist() for s in counts] == [[1, 1, 3], []]
    flags = normalise_inputs(np.array([[True, False, False, True]]), 4, n_steps=3)
    assert [s.tolist() for s in flags] == [[0, 3], [], []]
    lists = normalise_inputs([[3, 3, 0], (), {2}], 4)
    assert [s.tolist() for s in lists] == [[3, 3, 0], [], [2]]
    assert all(s.dtype == np.int64 for s in counts + flags + lists)


# Non-integer values are refused, never truncated.
@pytest.mark.parametrize("call, message", [
    (lambda: SynapseTable.from_synapses(2, [(0, 1, 2.7, 1)]),
     "synapses[0] weight must be an integer, not 2.7"),
    (lambda: SynapseTable.from_synapses(2, [(0, 1, 2, 1.0)]),
     "synapses[0] delay must be an integer, not 1.0"),
    (lambda: SynapseTable.from_dense([[0.5, 3.9]]), "weights must hold integers, not float64"),
    (lambda: normalise_inputs(np.array([[0.5, 1.7]]), 2),
     "inputs must hold integer event counts, not float64"),
    (lambda: normalise_inputs([[1.7]], 2), "inputs[0] must hold integer axon ids, not float64"),
])
def test_non_integers_are_refused(call, message):
    with pytest.raises(TypeError, match="^" + re.escape(message) + "$"):
        call()

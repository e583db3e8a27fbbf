"""Tiers 1 and 2 for ``golden_model.memristor``: every error sentence, the switching
rules and step curves computed by hand, the bounds, the noise statistics against the
requested spreads, the drift power law, seeded reproducibility, and the presets against
the published table they come from."""

import dataclasses
import math
import re

import numpy as np
import pytest

from golden_model.memristor import (AG_A_SI, ALOX_HFO2, PCMO, PRESETS, TAOX_TIO2,
                                    DeviceParams, MemristorArray, as_generator)


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


#: 1..5 uS in 5 levels: the states are 1, 2, 3, 4 and 5 uS.
LINEAR = DeviceParams(g_min=1e-6, g_max=5e-6, levels=5, v_set=1.0, v_reset=1.5)


def device(**kwargs):
    return dataclasses.replace(LINEAR, **kwargs)


# -- tier 1: arguments ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(g_min=-1e-6), ValueError, "g_min must be at least 0 siemens, not -1e-06"),
    (dict(g_min=2e-6, g_max=1e-6), ValueError, "g_max must be above g_min (2e-06 S), not 1e-06"),
    (dict(g_max=1e-6), ValueError, "g_max must be above g_min (1e-06 S), not 1e-06"),
    (dict(g_max=-5e-6), ValueError, "g_max must be above g_min (1e-06 S), not -5e-06"),
    (dict(g_max=float("nan")), TypeError, "g_max must be a finite number, not nan"),
    (dict(g_min=float("inf")), TypeError, "g_min must be a finite number, not inf"),
    (dict(g_min="1e-6"), TypeError, "g_min must be a finite number, not '1e-6'"),
    (dict(levels=1), ValueError, "levels must be at least 2, not 1"),
    (dict(levels=0), ValueError, "levels must be at least 2, not 0"),
    (dict(levels=2.0), TypeError, "levels must be an integer, not 2.0"),
    (dict(levels=True), TypeError, "levels must be an integer, not True"),
    (dict(v_set=0), ValueError, "v_set must be above 0 volts, not 0.0"),
    (dict(v_set=-1.0), ValueError, "v_set must be above 0 volts, not -1.0"),
    (dict(v_reset=0.0), ValueError, "v_reset must be above 0 volts, not 0.0"),
    (dict(v_reset=float("nan")), TypeError, "v_reset must be a finite number, not nan"),
    (dict(set_polarity=0), ValueError, "set_polarity must be 1 or -1, not 0"),
    (dict(set_polarity=2), ValueError, "set_polarity must be 1 or -1, not 2"),
    (dict(set_polarity=True), ValueError, "set_polarity must be 1 or -1, not True"),
    (dict(nonlinearity_set=-0.5), ValueError, "nonlinearity_set must be at least 0, not -0.5"),
    (dict(nonlinearity_reset=-1), ValueError, "nonlinearity_reset must be at least 0, not -1.0"),
    (dict(c2c_std=-0.1), ValueError, "c2c_std must be at least 0, not -0.1"),
    (dict(d2d_std=-0.01), ValueError, "d2d_std must be at least 0, not -0.01"),
    (dict(read_std=-1e-3), ValueError, "read_std must be at least 0, not -0.001"),
    (dict(read_std=float("inf")), TypeError, "read_std must be a finite number, not inf"),
    (dict(drift_nu=-0.05), ValueError, "drift_nu must be at least 0, not -0.05"),
    (dict(drift_t0=0), ValueError, "drift_t0 must be above 0 seconds, not 0.0"),
    (dict(name=3), TypeError, "name must be a string, not 3"),
])
def test_device_arguments(kwargs, exc, message):
    with raises(exc, message):
        device(**kwargs)


def test_array_arguments():
    with raises(TypeError, "params must be a DeviceParams, not None"):
        MemristorArray(None, (2, 2))
    with raises(ValueError, "shape must be two positive integers (rows, cols), not (0, 3)"):
        MemristorArray(LINEAR, (0, 3))
    with raises(ValueError, "shape must be two positive integers (rows, cols), not (2,)"):
        MemristorArray(LINEAR, (2,))
    with raises(ValueError, "shape must be two positive integers (rows, cols), not (2.0, 2)"):
        MemristorArray(LINEAR, (2.0, 2))
    with raises(ValueError, "shape must be two positive integers (rows, cols), not 4"):
        MemristorArray(LINEAR, 4)
    with raises(ValueError, "initial must be 'min' or 'max', not 'mid'"):
        MemristorArray(LINEAR, (2, 2), initial="mid")
    with raises(TypeError, "seed must be a non-negative integer, a SeedSequence or a numpy "
                           "Generator, not -1"):
        MemristorArray(LINEAR, (2, 2), seed=-1)
    with raises(TypeError, "seed must be a non-negative integer, a SeedSequence or a numpy "
                           "Generator, not 1.5"):
        MemristorArray(LINEAR, (2, 2), seed=1.5)
    with raises(ValueError, "d2d_std 2.0 drew devices with bounds out of order or negative; "
                            "lower d2d_std"):
        MemristorArray(device(d2d_std=2.0), (10, 10), seed=1)
    array = MemristorArray(LINEAR, (2, 2))
    with raises(ValueError, "voltages must be finite volts, not nan"):
        array.program_pulse(np.array([[1.0, np.nan], [0.0, 0.0]]))
    with raises(ValueError, "voltages must be finite volts, not inf"):
        array.program_pulse(np.inf)
    with raises(ValueError, "voltages must have shape (2, 2) or broadcast to it, not (3,)"):
        array.program_pulse(np.ones(3))
    with raises(ValueError, "seconds must be at least 0, not -1.0"):
        array.drift(-1)
    with raises(TypeError, "seconds must be a finite number, not nan"):
        array.drift(float("nan"))
    with raises(TypeError, "seed must be a non-negative integer, a SeedSequence or a numpy "
                           "Generator, not 'a'"):
        array.read(rng="a")


# -- tier 2: switching --------------------------------------------------------------------

def test_pulses_below_threshold_change_nothing():
    array = MemristorArray(device(drift_nu=0.1), (2, 3), initial="min")
    array.program_pulse(np.array([[1.0, 1.0, 1.0], [0, 0, 0]]))   # row 0 up one level
    array.drift(10.0)
    before = array.conductance
    for v in (0.999, -1.499, 0.0, 0.5, -1.0, 0.9999999):
        hit = array.program_pulse(v)
        assert not hit.any()
        assert np.array_equal(array.conductance, before)         # drift clock not reset either
    # Exactly at threshold a pulse programs, one level (1 uS) from the drifted value; row 1
    # has drifted below g_min and starts from g_min.
    assert before[1, 0] < 1e-6
    assert array.program_pulse(1.0).all()
    np.testing.assert_allclose(array.conductance, [before[0] + 1e-6, [2e-6] * 3], rtol=1e-12)
    assert array.program_pulse(-1.5).all()
    np.testing.assert_allclose(array.conductance, [before[0], [1e-6] * 3], rtol=1e-12)


def test_negative_set_polarity():
    array = MemristorArray(device(set_polarity=-1), (1, 3))
    array.program_pulse(np.array([[-1.0, -1.0, 0.0]]))             # negative pulses set
    np.testing.assert_allclose(array.conductance, [[2e-6, 2e-6, 1e-6]], rtol=1e-12)
    assert not array.program_pulse(1.0).any()                      # +1 V: neither
    array.program_pulse(np.array([[1.5, 0.0, 0.0]]))               # +1.5 V resets
    np.testing.assert_allclose(array.conductance, [[1e-6, 2e-6, 1e-6]], rtol=1e-12)


def test_linear_device_walks_exactly_levels_equal_states():
    array = MemristorArray(LINEAR, (1, 1))
    seen = [array.conductance[0, 0]]
    for _ in range(6):                                             # 4 steps up, 2 against g_max
        array.program_pulse(1.0)
        seen.append(array.conductance[0, 0])
    np.testing.assert_allclose(seen, [1e-6, 2e-6, 3e-6, 4e-6, 5e-6, 5e-6, 5e-6], rtol=1e-12)
    for _ in range(6):
        array.program_pulse(-1.5)
        seen.append(array.conductance[0, 0])
    np.testing.assert_allclose(seen[7:], [4e-6, 3e-6, 2e-6, 1e-6, 1e-6, 1e-6], rtol=1e-12)
    assert len(np.unique(np.round(np.array(seen) * 1e12))) == 5    # exactly 5 states


def test_nonlinear_steps_by_hand():
    # levels = 3 (P = 2) and nu = 2 ln 2, so exp(-nu / P) = 1/2: after one set pulse
    # u = (1 - 1/2) / (1 - 1/4) = 2/3, after two u = 1. The reset curve mirrors it.
    nu = 2 * math.log(2)
    d = DeviceParams(g_min=0.0, g_max=3e-6, levels=3, v_set=1.0, v_reset=1.0,
                     nonlinearity_set=nu, nonlinearity_reset=nu)
    array = MemristorArray(d, (1, 1))
    array.program_pulse(1.0)
    assert array.conductance[0, 0] == pytest.approx(2e-6, rel=1e-12)
    array.program_pulse(1.0)
    assert array.conductance[0, 0] == pytest.approx(3e-6, rel=1e-12)
    array.program_pulse(-1.0)
    assert array.conductance[0, 0] == pytest.approx(1e-6, rel=1e-12)
    array.program_pulse(-1.0)
    assert array.conductance[0, 0] == pytest.approx(0.0, abs=1e-18)


def test_nonlinear_curve_matches_the_closed_form():
    d = DeviceParams(g_min=1e-6, g_max=11e-6, levels=21, v_set=1.0, v_reset=1.0,
                     nonlinearity_set=3.0, nonlinearity_reset=5.0)
    array = MemristorArray(d, (1, 1))
    g = [array.conductance[0, 0]]
    for _ in range(20):
        array.program_pulse(1.0)
        g.append(array.conductance[0, 0])
    p = np.arange(21)
    closed = 1e-6 + 10e-6 * (1 - np.exp(-3.0 * p / 20)) / (1 - math.exp(-3.0))
    np.testing.assert_allclose(g, closed, rtol=1e-12)
    steps = np.diff(g)
    assert steps[0] > steps[-1] and (np.diff(steps) < 0).all()     # shrink towards g_max
    assert steps[0] / steps[-1] == pytest.approx(math.exp(3.0 * 19 / 20), rel=1e-9)
    down = [array.conductance[0, 0]]
    for _ in range(20):
        array.program_pulse(-1.0)
        down.append(array.conductance[0, 0])
    steps = -np.diff(down)
    assert steps[0] > steps[-1] and (np.diff(steps) < 0).all()     # shrink towards g_min
    assert down[-1] == pytest.approx(1e-6, rel=1e-12)


def test_conductance_stays_within_bounds():
    d = device(c2c_std=0.3, nonlinearity_set=2.0, nonlinearity_reset=4.0, d2d_std=0.05)
    array = MemristorArray(d, (20, 30), seed=7)
    rng = np.random.default_rng(8)
    for _ in range(300):
        array.program_pulse(rng.choice([1.2, -1.6, 0.0], size=(20, 30)))
        g = array.conductance
        assert (g >= array.g_min).all() and (g <= array.g_max).all()
    assert (array.conductance == array.g_max).any() and (array.conductance == array.g_min).any()


# -- tier 2: statistics -------------------------------------------------------------------

def test_cycle_to_cycle_spread():
    # levels = 11: a set pulse from g_min moves u by 0.1 + 0.002 z (never clipped).
    array = MemristorArray(DeviceParams(g_min=0.0, g_max=1e-5, levels=11, v_set=1.0,
                                        v_reset=1.0, c2c_std=0.002), (300, 400), seed=3)
    array.program_pulse(1.0)
    du = array.conductance.ravel() / 1e-5
    n = du.size
    assert du.std(ddof=1) == pytest.approx(0.002, rel=0.02)        # SE of a std: 0.2 %
    assert abs(du.mean() - 0.1) < 5 * 0.002 / math.sqrt(n)


def test_device_to_device_spread():
    d = device(d2d_std=0.05)
    low = MemristorArray(d, (300, 400), seed=4, initial="min").read() / 1e-6 - 1
    high = MemristorArray(d, (300, 400), seed=4, initial="max").read() / 5e-6 - 1
    for x in (low, high):
        assert x.std(ddof=1) == pytest.approx(0.05, rel=0.02)
        assert abs(x.mean()) < 5 * 0.05 / math.sqrt(x.size)
    assert abs(np.corrcoef(low.ravel(), high.ravel())[0, 1]) < 0.02   # independent draws
    # Drawn once: the bounds stay the device's own. Four set pulses reach its g_max.
    array = MemristorArray(d, (50, 50), seed=5)
    for _ in range(4):
        array.program_pulse(1.0)
    np.testing.assert_allclose(array.conductance, array.g_max, rtol=1e-12)
    assert np.ptp(array.g_max) > 0.1 * 5e-6


def test_read_noise_spread_and_reads_leave_state():
    array = MemristorArray(device(read_std=0.03), (300, 400), seed=6)
    g = array.conductance
    r = array.read() / 1e-6
    assert r.std(ddof=1) == pytest.approx(0.03, rel=0.02)
    assert abs(r.mean() - 1) < 5 * 0.03 / math.sqrt(r.size)
    assert np.array_equal(array.conductance, g)
    assert not np.array_equal(array.read(), array.read())            # fresh every read


# -- tier 2: drift -----------------------------------------------------------------------

def test_drift_follows_the_power_law():
    array = MemristorArray(device(drift_nu=0.05, drift_t0=2.0), (1, 2), initial="max")
    array.drift(1.5)                                                 # before t0: no drift
    np.testing.assert_array_equal(array.conductance, [[5e-6, 5e-6]])
    age = 1.5
    for t in (200.0, 1e3, 1e4, 1e5):                                 # t = 100 t0 first
        array.drift(t - age)
        age = t
        np.testing.assert_allclose(array.conductance, 5e-6 * (t / 2.0) ** -0.05, rtol=1e-12)
    # A pulse restarts the clock of the devices it programs, from the drifted value.
    drifted = array.conductance[0, 1]
    array.program_pulse(np.array([[0.0, -1.5]]))
    assert array.conductance[0, 0] == pytest.approx(5e-6 * (1e5 / 2.0) ** -0.05, rel=1e-12)
    assert array.conductance[0, 1] == pytest.approx(drifted - 1e-6, rel=1e-12)
    array.drift(4.0)                                                 # its clock is at 4 s now
    assert array.conductance[0, 1] == pytest.approx((drifted - 1e-6) * 2 ** -0.05, rel=1e-12)


def test_drift_accumulates():
    a = MemristorArray(device(drift_nu=0.07), (1, 1), initial="max")
    b = MemristorArray(device(drift_nu=0.07), (1, 1), initial="max")
    a.drift(30.0)
    a.drift(70.0)
    b.drift(100.0)
    assert a.conductance[0, 0] == b.conductance[0, 0] == pytest.approx(5e-6 * 100 ** -0.07,
                                                                       rel=1e-14)


# -- tier 2: seeds -----------------------------------------------------------------------

def _history(seed):
    d = device(c2c_std=0.05, d2d_std=0.1, read_std=0.02, nonlinearity_set=1.0)
    array = MemristorArray(d, (8, 9), seed=seed)
    pulses = np.random.default_rng(0).choice([1.0, -1.5, 0.0], size=(12, 8, 9))
    for v in pulses:
        array.program_pulse(v)
    return np.concatenate([array.g_min, array.g_max, array.conductance, array.read()])


def test_same_seed_same_result():
    assert np.array_equal(_history(11), _history(11))
    assert not np.array_equal(_history(11), _history(12))
    assert np.array_equal(_history(np.random.default_rng(11)), _history(11))
    rng = np.random.default_rng(1)
    assert as_generator(rng) is rng


def test_read_with_its_own_generator():
    array = MemristorArray(device(read_std=0.1), (4, 4), seed=0)
    assert np.array_equal(array.read(rng=5), array.read(rng=5))
    assert np.array_equal(array.read(rng=np.random.default_rng(5)), array.read(rng=5))


# -- tier 2: presets, against the published table (Jerry et al., IEDM 2017) ---------------

@pytest.mark.parametrize("preset, r_on, on_off, levels, up, down, c2c", [
    (TAOX_TIO2, 5e6, 2.0, 102, 3.0, -3.0, 0.01),
    (PCMO, 23e6, 6.84, 50, -2.0, 2.0, 0.01),
    (ALOX_HFO2, 16.9e3, 4.43, 40, 0.9, -1.0, 0.05),
    (AG_A_SI, 26e6, 12.5, 97, 3.2, -2.8, 0.035),
])
def test_presets_carry_the_published_figures(preset, r_on, on_off, levels, up, down, c2c):
    assert preset.g_max == pytest.approx(1 / r_on, rel=1e-15)
    assert preset.g_max / preset.g_min == pytest.approx(on_off, rel=1e-14)
    assert preset.levels == levels and preset.c2c_std == c2c
    assert (preset.v_up, preset.v_down) == (up, down)
    assert (preset.d2d_std, preset.read_std, preset.drift_nu) == (0.0, 0.0, 0.0)
    # The published pulses program; 99 % of them do not.
    array = MemristorArray(dataclasses.replace(preset, c2c_std=0.0), (1, 1))
    assert not array.program_pulse(0.99 * up).any()
    array.program_pulse(up)
    g_up = array.conductance[0, 0]
    assert g_up > preset.g_min
    assert not array.program_pulse(0.99 * down).any()
    array.program_pulse(down)
    assert preset.g_min <= array.conductance[0, 0] < g_up
    for _ in range(levels):
        array.program_pulse(up)
    assert array.conductance[0, 0] == pytest.approx(preset.g_max, rel=1e-12)


def test_preset_nonlinearity_is_neurosim_label_through_its_a_table():
    # nu = 1 / A_norm, A_norm from NeuroSim's getParamA table for the published labels.
    assert PCMO.nonlinearity_set == pytest.approx(1 / 0.300644)       # label 3.68
    assert PCMO.nonlinearity_reset == pytest.approx(1 / 0.100251)     # label -6.76
    assert ALOX_HFO2.nonlinearity_set == pytest.approx(1 / 0.629249)  # label 1.94
    assert ALOX_HFO2.nonlinearity_reset == pytest.approx(1 / 2.063266)  # label -0.61
    assert set(PRESETS) == {"tio2", "pcmo", "hfo2", "ag_a_si"}
    # The stronger label: PCMO's depression makes most of its change in the first pulses.
    array = MemristorArray(dataclasses.replace(PCMO, c2c_std=0.0), (1, 1), initial="max")
    array.program_pulse(2.0)
    first = PCMO.g_max - array.conductance[0, 0]
    assert first / PCMO.g_range == pytest.approx(
        -math.expm1(-9.97496 / 49) / -math.expm1(-9.97496), rel=1e-5)
    assert first / PCMO.g_range > 5 / 49                               # 5x a linear step

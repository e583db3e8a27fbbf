"""Tiers 1 and 2 for ``golden_model.hodgkin_huxley``: the parameter checks, the rate
functions against hand-evaluated formulas, the rest state, a voltage clamp against its
closed form, and the known physiology of the 1952 squid axon: threshold of repetitive
firing between 6 and 7 uA/cm^2, spikes peaking near +40 mV with an undershoot below
-70 mV, an f-I curve that rises, RK4's fourth-order convergence."""

import math
import re

import numpy as np
import pytest

from golden_model.hodgkin_huxley import (DT_MAX, HHParams, derivatives, firing_rate,
                                         resting_potential, rates, rest_state, simulate,
                                         spike_times, steady_state, step_current,
                                         voltage_clamp)


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


# -- tier 1: arguments ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(c_m=0), ValueError, "c_m must be above 0 uF/cm^2, not 0.0"),
    (dict(c_m=-1.0), ValueError, "c_m must be above 0 uF/cm^2, not -1.0"),
    (dict(g_na=-120), ValueError, "g_na must be above 0 mS/cm^2, not -120.0"),
    (dict(g_k=0.0), ValueError, "g_k must be above 0 mS/cm^2, not 0.0"),
    (dict(g_l=0), ValueError, "g_l must be above 0 mS/cm^2, not 0.0"),
    (dict(c_m="1"), TypeError, "c_m must be a finite number, not '1'"),
    (dict(g_na=True), TypeError, "g_na must be a finite number, not True"),
    (dict(e_na=float("nan")), TypeError, "e_na must be a finite number, not nan"),
    (dict(e_l=float("-inf")), TypeError, "e_l must be a finite number, not -inf"),
    (dict(e_k=60.0), ValueError, "e_k must be below e_na (50.0 mV), not 60.0"),
    (dict(dt=0), ValueError, "dt must be above 0 and at most 0.05 ms, not 0.0"),
    (dict(dt=0.1), ValueError, "dt must be above 0 and at most 0.05 ms, not 0.1"),
    (dict(dt=-0.01), ValueError, "dt must be above 0 and at most 0.05 ms, not -0.01"),
])
def test_params_arguments(kwargs, exc, message):
    with raises(exc, message):
        HHParams(**kwargs)


def test_defaults_are_the_1952_set():
    p = HHParams()
    assert (p.c_m, p.g_na, p.g_k, p.g_l) == (1.0, 120.0, 36.0, 0.3)
    assert (p.e_na, p.e_k, p.e_l) == (50.0, -77.0, -54.387)
    assert DT_MAX == 0.05 and HHParams(dt=DT_MAX).dt == 0.05


def test_run_arguments():
    with raises(ValueError, "delay must be at least 0 and below t_stop (10.0 ms), not 10.0"):
        step_current(10.0, 10.0, delay=10.0)
    with raises(ValueError, "delay must be at least 0 and below t_stop (10.0 ms), not -1.0"):
        step_current(10.0, 10.0, delay=-1.0)
    with raises(TypeError, "t_stop must be a finite number, not nan"):
        step_current(10.0, float("nan"))
    with raises(ValueError, "t_stop must be at least one step (0.025 ms), not 0.0"):
        step_current(10.0, 0.0)
    with raises(ValueError, "t_stop must be at least one step (0.025 ms), not 0.01"):
        voltage_clamp(-20.0, 0.01)
    with raises(TypeError, "v_hold must be a finite number, not None"):
        voltage_clamp(None, 1.0)
    with raises(ValueError, "amplitude must be a number or a 1-D array, not of shape (2, 2)"):
        step_current(np.ones((2, 2)), 1.0)
    with raises(ValueError, "i_ext must be a (T,) or (T, N) array, not of shape (2, 2, 2)"):
        simulate(np.zeros((2, 2, 2)))
    with raises(ValueError, "i_ext must be finite uA/cm^2, not nan"):
        simulate(np.array([0.0, np.nan, 1.0]))
    with raises(ValueError, "transient must be at least 0 and below t_stop (250.0 ms), "
                            "not 300.0"):
        firing_rate(10.0, transient=300.0)
    with raises(ValueError, "these parameters have no resting potential between e_k "
                            "(-77.0 mV) and -40.0 mV"):
        resting_potential(HHParams(e_l=0.0, g_l=30.0))


# -- tier 2: rates, rest, clamp -----------------------------------------------------------

def test_rates_by_hand_at_minus_65():
    am, bm, ah, bh, an, bn = rates(-65.0)
    # alpha_m = 0.1 * (-25) / (1 - e^{2.5}); alpha_n = 0.01 * (-10) / (1 - e^{1}).
    assert am == pytest.approx(2.5 / (math.exp(2.5) - 1), rel=1e-14)
    assert bm == pytest.approx(4.0, rel=1e-15)
    assert ah == pytest.approx(0.07, rel=1e-15)
    assert bh == pytest.approx(1 / (1 + math.exp(3.0)), rel=1e-14)
    assert an == pytest.approx(0.1 / (math.e - 1), rel=1e-14)
    assert bn == pytest.approx(0.125, rel=1e-15)
    m, h, n = steady_state(-65.0)
    assert m == pytest.approx(am / (am + 4.0), rel=1e-14)
    assert n == pytest.approx(an / (an + 0.125), rel=1e-14)
    # Known values of the classic set at rest: m ~ 0.053, h ~ 0.596, n ~ 0.318.
    assert (round(float(m), 3), round(float(h), 3), round(float(n), 3)) == (0.053, 0.596, 0.318)


def test_removable_singularities_are_exact():
    am, _, _, _, an, _ = rates(np.array([-40.0, -55.0]))
    # At V = -40 (m) and V = -55 (n), x / (1 - e^{-x}) -> 1:
    # alpha_m = 0.1 * 10 and alpha_n = 0.01 * 10.
    assert am[0] == 1.0 and an[1] == 0.1
    # Around the singular points the values match the formula where it is well conditioned,
    # and they are continuous through it (slope 1/2 per unit of x = dV/10).
    for dv in (1e-3, -1e-3, 0.5, -0.5):
        x = dv / 10
        assert rates(-40.0 + dv)[0] == pytest.approx(x / (1 - math.exp(-x)), rel=1e-11)
        assert rates(-55.0 + dv)[4] == pytest.approx(0.1 * x / (1 - math.exp(-x)), rel=1e-11)
    for dv in (1e-9, -1e-9, 1e-6):
        assert rates(-40.0 + dv)[0] == pytest.approx(1.0 + dv / 20, abs=1e-15)
        assert rates(-55.0 + dv)[4] == pytest.approx(0.1 + 0.1 * dv / 20, abs=1e-16)


def test_rest_is_near_minus_65_and_a_fixed_point():
    v_rest = resting_potential()
    assert abs(v_rest + 65.0) < 0.01
    state = rest_state()
    assert np.abs(derivatives(state, 0.0, HHParams())).max() < 1e-10
    run = simulate(np.zeros(4000))                    # 100 ms without input
    assert np.abs(run.v - v_rest).max() < 1e-9
    assert np.abs(run.n - state[3]).max() < 1e-12
    assert len(run.spikes) == 0


def test_voltage_clamp_follows_the_closed_form():
    # Each gate relaxes as x_inf + (x0 - x_inf) exp(-t (alpha + beta)) at a held voltage.
    run = voltage_clamp(-20.0, 5.0)
    x0 = steady_state(resting_potential())
    am, bm, ah, bh, an, bn = rates(-20.0)
    for trace, a, b, start in ((run.m, am, bm, x0[0]), (run.h, ah, bh, x0[1]),
                               (run.n, an, bn, x0[2])):
        inf = a / (a + b)
        expected = inf + (start - inf) * np.exp(-run.t * (a + b))
        assert np.abs(trace - expected).max() < 1e-7
    assert (run.v == -20.0).all()


# -- tier 2: firing -----------------------------------------------------------------------

def test_threshold_of_repetitive_firing_lies_between_6_and_7():
    # "Fires" = repetitive firing: spikes after the first 50 ms of a 250 ms step.
    amplitudes = np.round(np.arange(5.0, 7.01, 0.05), 2)
    rates_hz = firing_rate(amplitudes)
    firing = rates_hz > 0
    threshold = amplitudes[np.argmax(firing)]
    assert 6.0 < threshold < 7.0
    assert not firing[amplitudes < threshold].any() and firing[amplitudes >= threshold].all()
    # Class 2: the train starts at a nonzero rate, about 50 Hz, not near 0.
    assert 40.0 <= rates_hz[amplitudes == 7.0][0] <= 80.0


def test_onset_spike_below_threshold_is_not_firing():
    run = step_current(np.array([6.0, 7.0]), 250.0)
    below, above = run.spikes
    assert 1 <= len(below) and below.max() < 50.0     # onset spikes, then damped ringing
    assert firing_rate(6.0) == 0.0
    assert above.max() > 230.0                        # a train that lasts to the end
    assert abs(run.v[-4000:, 0].max() - run.v[-4000:, 0].min()) < 5.0


def test_spike_shape():
    run = step_current(10.0, 100.0)
    assert 30.0 < run.v.max() < 50.0
    after_first = run.t > run.spikes[0] + 1.0
    assert run.v[after_first].min() < -70.0           # the undershoot passes E_L and rest
    assert run.v[after_first].min() > HHParams().e_k  # but never E_K
    assert 40.0 <= run.v.max() <= 41.0


def test_rate_rises_with_current():
    r10, r20, r50 = firing_rate(np.array([10.0, 20.0, 50.0]))
    assert 0 < r10 < r20 < r50
    assert 50.0 < r10 < 100.0 and r50 < 200.0


def test_gates_stay_within_0_and_1():
    run = step_current(np.array([0.0, 6.2, 10.0, 50.0, 200.0]), 100.0)
    for x in (run.m, run.h, run.n):
        assert x.min() >= 0.0 and x.max() <= 1.0
    run = step_current(-20.0, 50.0)                   # hyperpolarising
    for x in (run.m, run.h, run.n):
        assert x.min() >= 0.0 and x.max() <= 1.0


def test_dt_convergence():
    coarse = step_current(np.array([10.0, 50.0]), 100.0, HHParams(dt=0.025)).spikes
    fine = step_current(np.array([10.0, 50.0]), 100.0, HHParams(dt=0.0125)).spikes
    for a, b in zip(coarse, fine):
        assert len(a) == len(b) >= 7
        assert np.abs(a - b).max() < 0.005          # ms


def test_trace_converges_at_fourth_order():
    ref = step_current(10.0, 20.0, HHParams(dt=0.003125)).v
    errors = []
    for dt in (0.025, 0.0125):
        v = step_current(10.0, 20.0, HHParams(dt=dt)).v
        errors.append(np.abs(v - ref[::round(dt / 0.003125)]).max())
    assert errors[0] / errors[1] > 12                 # 2**4 = 16 for RK4


def test_spike_times_interpolate_by_hand():
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    v = np.array([-10.0, 30.0, 20.0, -5.0, 5.0])
    # Up through 0 between 0 and 1 (at 0.25) and between 3 and 4 (at 3.5); the fall is no spike.
    assert spike_times(t, v).tolist() == [0.25, 3.5]
    both = spike_times(t, np.stack([v, -v], axis=1))
    assert both[0].tolist() == [0.25, 3.5] and both[1].tolist() == [2.8]
    # A sample exactly at 0 counts once, as the crossing's end.
    assert spike_times(t, np.array([-1.0, 0.0, 1.0, -1.0, 0.0])).tolist() == [1.0, 4.0]


def test_neurons_side_by_side_match_single_runs():
    both = step_current(np.array([10.0, 20.0]), 30.0)
    one = step_current(20.0, 30.0)
    # Equal to rounding: numpy's vector and scalar exp may differ in the last bit.
    np.testing.assert_allclose(both.v[:, 1], one.v, rtol=0, atol=1e-9)
    np.testing.assert_allclose(both.spikes[1], one.spikes, rtol=0, atol=1e-9)

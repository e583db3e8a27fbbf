"""Tiers 1 and 2 for ``golden_model.crossbar``: every error sentence, a product worked by
hand through the DAC and the ADC, the quantisation bound as the bits grow, signed weights
on differential pairs, write-verify (convergence, failures, pulse counts by hand), ADC
clipping that is counted, the IR-drop model against an independent nodal solve of the
same resistive network, and seeded reproducibility."""

import dataclasses
import re

import numpy as np
import pytest

from golden_model.crossbar import Crossbar, CrossbarParams, ir_epsilon
from golden_model.memristor import DeviceParams


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


#: 1..5 uS in 5 levels: the weights 0, +-0.25, ..., +-1 are exact.
LINEAR = DeviceParams(g_min=1e-6, g_max=5e-6, levels=5, v_set=1.0, v_reset=1.5)


def crossbar(rows=4, cols=3, device=LINEAR, seed=0, **kwargs):
    return Crossbar(CrossbarParams(rows=rows, cols=cols, **kwargs), device, seed)


# -- tier 1: arguments ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(rows=0), ValueError, "rows must be between 1 and 65536, not 0"),
    (dict(cols=1.5), TypeError, "cols must be an integer, not 1.5"),
    (dict(cols=65537), ValueError, "cols must be between 1 and 65536, not 65537"),
    (dict(dac_bits=1), ValueError, "dac_bits must be between 2 and 24, not 1"),
    (dict(adc_bits=25), ValueError, "adc_bits must be between 2 and 24, not 25"),
    (dict(ir_iterations=0), ValueError, "ir_iterations must be between 1 and 1000, not 0"),
    (dict(w_max=0), ValueError, "w_max must be above 0 (weight units), not 0.0"),
    (dict(v_read=-0.1), ValueError, "v_read must be above 0 volts, not -0.1"),
    (dict(v_read=float("nan")), TypeError, "v_read must be a finite number, not nan"),
    (dict(i_range=0.0), ValueError, "i_range must be above 0 amperes, not 0.0"),
    (dict(i_range="1"), TypeError, "i_range must be a finite number, not '1'"),
    (dict(r_wire=-1), ValueError, "r_wire must be at least 0 ohms, not -1.0"),
    (dict(r_wire=float("inf")), TypeError, "r_wire must be a finite number, not inf"),
])
def test_params_arguments(kwargs, exc, message):
    with raises(exc, message):
        CrossbarParams(**{"rows": 4, "cols": 3, **kwargs})


def test_crossbar_arguments():
    with raises(TypeError, "params must be a CrossbarParams, not None"):
        Crossbar(None, LINEAR)
    with raises(TypeError, "device must be a DeviceParams, not None"):
        Crossbar(CrossbarParams(4, 3), None)
    with raises(ValueError, "v_read must be below the device's thresholds (v_set 1.0 V, "
                            "v_reset 1.5 V), not 1.0"):
        crossbar(v_read=1.0)
    # eps = r * 5e-6 * (6 * 7 + 4 * 5) / 2 = r * 1.55e-4 must stay below 1: r < 6451.61 ohm.
    with raises(ValueError, "r_wire must be below 6451.61 ohm for a 4x3 array of these "
                            "devices (the IR-drop iteration's convergence bound), not 10000.0"):
        crossbar(r_wire=1e4)
    assert ir_epsilon(CrossbarParams(4, 3, r_wire=1000.0), 5e-6) == pytest.approx(0.155)


def test_vmm_and_weight_arguments():
    xb = crossbar()
    with raises(ValueError, "x must be finite, not nan"):
        xb.vmm(np.array([0.0, np.nan, 0.0, 0.0]))
    with raises(ValueError, "x must have 4 values per input vector (one per row), "
                            "not shape (3,)"):
        xb.vmm(np.zeros(3))
    with raises(ValueError, "x must have 4 values per input vector (one per row), "
                            "not shape (1, 1, 4)"):
        xb.vmm(np.zeros((1, 1, 4)))
    with raises(ValueError, "x must lie between -1 and 1 (the DAC's range), not 1.5"):
        xb.vmm(np.array([0.0, 1.5, 0.0, 0.0]))
    with raises(ValueError, "x must lie between -1 and 1 (the DAC's range), not -2.0"):
        xb.vmm(np.array([[0.0, 0.5, 0.0, -2.0]]))
    with raises(ValueError, "W must have shape (4, 3), not (3, 4)"):
        xb.program_weights(np.zeros((3, 4)))
    with raises(ValueError, "W must be finite, not nan"):
        xb.program_weights(np.full((4, 3), np.nan))
    with raises(ValueError, "W must lie between -1.0 and 1.0 (w_max), not 1.5"):
        xb.program_weights(np.full((4, 3), 1.5))
    with raises(ValueError, "tolerance must be above 0 (share of the conductance range), "
                            "not 0.0"):
        xb.program_weights(np.zeros((4, 3)), tolerance=0)
    with raises(ValueError, "max_pulses must be between 0 and 1073741824, not -1"):
        xb.program_weights(np.zeros((4, 3)), max_pulses=-1)
    with raises(TypeError, "max_pulses must be an integer, not 2.5"):
        xb.program_weights(np.zeros((4, 3)), max_pulses=2.5)


# -- tier 2: the product by hand -----------------------------------------------------------

def test_dac_by_hand():
    # 3 bits: codes -3..3, one code is 0.2 V / 3. x * 3 = 2.7, -1.8, 1.5, -1.5, 0.5, 1, -1
    # round to 3, -2, 2, -2 and 0 (ties to even), and the ends are exact.
    xb = crossbar(rows=7, cols=1, dac_bits=3)
    v = xb.dac(np.array([0.9, -0.6, 0.5, -0.5, 1 / 6, 1.0, -1.0]))
    np.testing.assert_allclose(v, np.array([3, -2, 2, -2, 0, 3, -3]) * 0.2 / 3, rtol=1e-15)
    # 8 bits: 127 codes a side; 0.5 * 127 = 63.5 rounds to 64.
    v = crossbar(rows=2, cols=1, dac_bits=8).dac(np.array([0.5, 1 / 127]))
    np.testing.assert_allclose(v, [64 * 0.2 / 127, 0.2 / 127], rtol=1e-15)


W_HAND = np.array([[1.0, -0.5], [0.25, 0.75], [-1.0, 0.0]])


def test_product_by_hand():
    # 3 bits: DAC codes -3..3, x in steps of 1/3. 4 bits: ADC codes -7..7 over the default
    # i_range = 3 rows * 0.2 V * 4 uS = 2.4 uA, so one code is 3/7 in units of x @ W.
    xb = crossbar(rows=3, cols=2, dac_bits=3, adc_bits=4)
    result = xb.program_weights(W_HAND)
    # Pulses by hand: a weight of k/4 takes k set pulses on one device of its pair.
    assert result.pulses[0].tolist() == [[4, 0], [1, 3], [0, 0]]
    assert result.pulses[1].tolist() == [[0, 2], [0, 0], [4, 0]]
    assert result.n_failed == 0
    np.testing.assert_allclose(xb.weights(), W_HAND, atol=1e-12)
    # x @ W = [1 - 1/6 - 1/3, -1/2 - 1/2] = [0.5, -1]: codes rint(0.5 * 7/3) = 1 and
    # rint(-7/3) = -2, so y = [3/7, -6/7].
    for x in ([1.0, -2 / 3, 1 / 3], [0.9, -0.6, 0.2]):      # the second rounds to the first
        out = xb.vmm(np.array(x))
        assert out.codes.tolist() == [1, -2] and out.clipped == 0
        np.testing.assert_allclose(out.y, [3 / 7, -6 / 7], rtol=1e-12)
    np.testing.assert_allclose(xb.currents(np.array([1.0, -2 / 3, 1 / 3])),
                               [0.5 * 8e-7, -1.0 * 8e-7], rtol=1e-12)   # v_read R = 0.8 uA


def test_adc_clipping_is_counted():
    # A quarter of the default range: one code is 3/28; -1 needs code -9.33, beyond -7.
    xb = crossbar(rows=3, cols=2, dac_bits=3, adc_bits=4, i_range=0.6e-6)
    xb.program_weights(W_HAND)
    out = xb.vmm(np.array([1.0, -2 / 3, 1 / 3]))
    assert out.codes.tolist() == [5, -7] and out.clipped == 1
    np.testing.assert_allclose(out.y, [15 / 28, -0.75], rtol=1e-12)
    batch = xb.vmm(np.array([[1.0, -2 / 3, 1 / 3]] * 4))
    assert batch.codes.shape == (4, 2) and batch.clipped == 4
    assert xb.adc_clipped == 5


def test_error_vanishes_with_bits():
    # 257 levels: weights k/256 are exact, so only the DAC and the ADC round. Bound per
    # output: sum_i |W_ij| / (2 L) from the DAC and rows * w_max / (2 M) from the ADC.
    rng = np.random.default_rng(0)
    device = DeviceParams(g_min=1e-6, g_max=1e-5, levels=257, v_set=1.0, v_reset=1.0)
    W = rng.integers(-256, 257, (16, 8)) / 256
    x = rng.uniform(-1, 1, 16)
    errors = []
    for bits in (4, 8, 12, 16, 20):
        xb = crossbar(rows=16, cols=8, device=device, dac_bits=bits, adc_bits=bits)
        assert xb.program_weights(W, tolerance=1e-3, max_pulses=300).n_failed == 0
        L = M = 2 ** (bits - 1) - 1
        bound = np.abs(W).sum(axis=0) / (2 * L) + 16 / (2 * M)
        error = np.abs(xb.vmm(x).y - x @ W)
        assert (error <= bound + 1e-12).all()
        errors.append(error.max())
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-4


def test_differential_pairs_carry_negative_weights():
    xb = crossbar(rows=2, cols=2, adc_bits=12)
    W = np.array([[-0.5, 1.0], [-1.0, -0.25]])
    xb.program_weights(W)
    g_plus, g_minus = xb.plus.conductance, xb.minus.conductance
    assert (g_minus[W < 0] > g_plus[W < 0]).all() and (g_plus[W < 0] == 1e-6).all()
    np.testing.assert_allclose(xb.weights(), W, atol=1e-12)
    y = xb.vmm(np.array([1.0, 0.0])).y
    assert y[0] < 0 < y[1]
    np.testing.assert_allclose(y, [-0.5, 1.0], atol=2 / 2047)


# -- tier 2: write-verify ------------------------------------------------------------------

def test_write_verify_converges_with_small_variability():
    device = DeviceParams(g_min=1e-6, g_max=1e-5, levels=33, v_set=1.0, v_reset=1.0,
                          c2c_std=0.02, nonlinearity_set=1.0, nonlinearity_reset=1.0)
    W = np.random.default_rng(1).uniform(-1, 1, (16, 16))
    xb = crossbar(rows=16, cols=16, device=device, seed=2)
    result = xb.program_weights(W, tolerance=0.04, max_pulses=500)
    assert result.n_failed == 0
    targets = np.stack(xb.targets(W))
    got = np.stack([xb.plus.conductance, xb.minus.conductance])
    assert (np.abs(got - targets) <= 0.04 * 9e-6).all()
    assert (np.abs(result.error) <= 0.04 * 9e-6).all()
    np.testing.assert_allclose(xb.weights(), W, atol=2 * 0.04)


def test_write_verify_reports_failures():
    xb = crossbar(rows=2, cols=2)
    W = np.array([[1.0, 0.75], [-1.0, 0.5]])            # 4, 3, 4 and 2 pulses needed
    result = xb.program_weights(W, max_pulses=3)
    assert result.failed[0].tolist() == [[True, False], [False, False]]
    assert result.failed[1].tolist() == [[False, False], [True, False]]
    assert result.n_failed == 2
    assert result.pulses[0].tolist() == [[3, 3], [0, 2]]
    assert result.pulses[1].tolist() == [[0, 0], [3, 0]]
    # Each failure is one level (1 uS) short of its target.
    np.testing.assert_allclose(result.error[result.failed], [-1e-6, -1e-6], rtol=1e-9)
    assert xb.program_weights(W, max_pulses=3).n_failed == 0   # resumed from where it was


def test_pulses_grow_as_tolerance_tightens_by_hand():
    # 65 levels, W = 0.5: the target is 32 steps up. With tolerance t the device stops at
    # the first step within t: ceil((0.5 - t) * 64) pulses.
    device = DeviceParams(g_min=1e-6, g_max=1e-5, levels=65, v_set=1.0, v_reset=1.0)
    for tolerance, expected in ((0.26, 16), (0.1, 26), (0.01, 32)):
        xb = crossbar(rows=1, cols=1, device=device)
        pulses = xb.program_weights(np.array([[0.5]]), tolerance=tolerance).pulses
        assert pulses[0, 0, 0] == expected and pulses[1, 0, 0] == 0


def test_pulses_grow_as_tolerance_tightens_with_noise():
    device = DeviceParams(g_min=1e-6, g_max=1e-5, levels=65, v_set=1.0, v_reset=1.0,
                          c2c_std=0.02)
    W = np.random.default_rng(3).uniform(-1, 1, (16, 16))
    totals = []
    for tolerance in (0.2, 0.1, 0.05, 0.02):
        result = crossbar(rows=16, cols=16, device=device, seed=4).program_weights(
            W, tolerance=tolerance, max_pulses=1000)
        assert result.n_failed == 0
        totals.append(int(result.pulses.sum()))
    assert totals == sorted(totals) and len(set(totals)) == 4


# -- tier 2: IR drop ---------------------------------------------------------------------

def _nodal_column_currents(g, v, r):
    """Exact column currents of the network in the module's text, by a dense nodal solve:
    row node (i, k) and column node (i, k) for every cell, drivers at the left, virtual
    grounds below the last row."""
    rows, n = g.shape
    N = rows * n
    row = lambda i, k: i * n + k
    col = lambda i, k: N + i * n + k
    A = np.zeros((2 * N, 2 * N))
    b = np.zeros(2 * N)
    c = 1.0 / r
    for i in range(rows):
        for k in range(n):
            a, z = row(i, k), col(i, k)
            A[a, a] += c + g[i, k]                  # left segment and the cell
            A[a, z] -= g[i, k]
            if k == 0:
                b[a] += c * v[i]
            else:
                A[a, row(i, k - 1)] -= c
            if k < n - 1:
                A[a, a] += c
                A[a, row(i, k + 1)] -= c
            A[z, z] += c + g[i, k]                  # lower segment and the cell
            A[z, a] -= g[i, k]
            if i < rows - 1:
                A[z, col(i + 1, k)] -= c
            if i > 0:
                A[z, z] += c
                A[z, col(i - 1, k)] -= c
    x = np.linalg.solve(A, b)
    return x[N + (rows - 1) * n:] * c               # current into each virtual ground


def _physical(xb):
    g = np.empty((xb.params.rows, 2 * xb.params.cols))
    g[:, 0::2], g[:, 1::2] = xb.plus.conductance, xb.minus.conductance
    return g


def test_ir_fixed_point_is_the_exact_network():
    rng = np.random.default_rng(5)
    W = rng.integers(-4, 5, (4, 3)) / 4
    x = rng.integers(-3, 4, 4) / 3                  # exact on a 3-bit DAC
    for r, iterations in ((500.0, 200), (3000.0, 400)):
        xb = crossbar(dac_bits=3, r_wire=r, ir_iterations=iterations)
        xb.program_weights(W)
        exact = _nodal_column_currents(_physical(xb), x * 0.2, r)
        np.testing.assert_allclose(xb.currents(x), exact[0::2] - exact[1::2],
                                   rtol=1e-10, atol=1e-20)


def test_first_order_error_is_within_the_bound():
    rng = np.random.default_rng(6)
    W = rng.integers(-4, 5, (4, 3)) / 4
    x = np.ones(4)
    r = 1000.0
    xb = crossbar(dac_bits=3, r_wire=r, ir_iterations=1)
    xb.program_weights(W)
    g = _physical(xb)
    exact = _nodal_column_currents(g, x * 0.2, r)
    eps = ir_epsilon(xb.params, 5e-6)              # 0.155
    worst_cell = (g * 0.2).max()
    # Cell error <= eps^2 / (1 - eps) * worst ideal cell; a column sums 4 cells, a pair 2.
    error = np.abs(xb.currents(x) - (exact[0::2] - exact[1::2]))
    assert (error <= 2 * 4 * eps ** 2 / (1 - eps) * worst_cell).all()
    assert error.max() > 0                          # one round is not yet the fixed point


def _ir_error(rows, cols, r):
    device = DeviceParams(g_min=1e-6, g_max=1e-5, levels=5, v_set=1.0, v_reset=1.0)
    W = np.ones((rows, cols))
    x = np.ones(rows)
    xb = crossbar(rows, cols, device, r_wire=r, ir_iterations=20)
    xb.program_weights(W)
    ideal_xb = crossbar(rows, cols, device)
    ideal_xb.program_weights(W)
    ideal = ideal_xb.currents(x)
    return np.abs(xb.currents(x) - ideal).max() / np.abs(ideal).max()


def test_ir_drop_tends_to_ideal_and_grows_with_size_and_resistance():
    assert _ir_error(8, 8, 1e-9) < 1e-9
    small, smaller = _ir_error(8, 8, 1e-2), _ir_error(8, 8, 1e-3)
    assert small / 1e-2 == pytest.approx(smaller / 1e-3, rel=0.01)   # linear in r near 0
    by_size = [_ir_error(n, n, 1.0) for n in (4, 8, 16, 32)]
    assert by_size == sorted(by_size) and by_size[-1] > 10 * by_size[0]
    by_r = [_ir_error(16, 16, r) for r in (0.1, 1.0, 10.0)]
    assert by_r == sorted(by_r) and by_r[-1] > 50 * by_r[0]
    # The drop only ever lowers the magnitude of the column currents.
    xb = crossbar(8, 8, r_wire=10.0)
    xb.program_weights(np.ones((8, 8)))
    assert (xb.currents(np.ones(8)) < 8 * 0.2 * 4e-6).all()


def test_batch_matches_single_inputs():
    xb = crossbar(rows=6, cols=5, r_wire=50.0)
    xb.program_weights(np.random.default_rng(7).integers(-4, 5, (6, 5)) / 4)
    X = np.random.default_rng(8).uniform(-1, 1, (3, 6))
    batch = xb.currents(X)
    for b in range(3):
        np.testing.assert_allclose(batch[b], xb.currents(X[b]), rtol=1e-12)


# -- tier 2: seeds -----------------------------------------------------------------------

NOISY = DeviceParams(g_min=1e-6, g_max=1e-5, levels=33, v_set=1.0, v_reset=1.0,
                     c2c_std=0.03, d2d_std=0.05, read_std=0.02, nonlinearity_set=2.0,
                     nonlinearity_reset=2.0)


def _run(seed):
    xb = crossbar(rows=8, cols=5, device=NOISY, seed=seed)
    W = np.random.default_rng(0).uniform(-1, 1, (8, 5))
    result = xb.program_weights(W, tolerance=0.05, max_pulses=50)
    out = xb.vmm(np.linspace(-1, 1, 8))
    return result.pulses, out.codes, xb.weights()


def test_same_seed_same_result():
    a, b, c = _run(9), _run(9), _run(10)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    assert all(np.array_equal(x, y) for x, y in zip(_run(np.random.default_rng(9)), a))


def test_drift_reaches_the_weights():
    device = dataclasses.replace(LINEAR, drift_nu=0.1)
    xb = crossbar(rows=1, cols=1, device=device)
    xb.program_weights(np.array([[1.0]]))                # G+ = 5 uS, G- = 1 uS
    xb.drift(100.0)                                       # both lose 100**-0.1 = 0.631
    np.testing.assert_allclose(xb.weights(), [[100 ** -0.1]], rtol=1e-12)

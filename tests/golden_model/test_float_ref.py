"""The fixed-point core converges to :func:`golden_model.float_ref.simulate_float`.

The same network is built at scale ``k``: weights enter ``u`` shifted by
``weight_exp = k``, and ``vth`` and the bias are multiplied by ``2**k``. The
float model then scales exactly with ``2**k`` while the fixed-point rounding
error stays a few units, so the error measured in units of ``2**k`` falls as
``2**-k``. A bound on that error is derived in the comments and checked.
"""

import math

import numpy as np

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable, simulate
from golden_model.float_ref import simulate_float

N, A, T = 16, 4, 150
DU, DV = 400, 600
SCALES = (0, 2, 4, 6, 8, 10, 12)

# Toward-zero decay loses less than one unit per step, so with
# a_u = 1 - DU/4096 the error of u obeys |e_u'| < a_u |e_u| + 1, hence
# |e_u| < 4096/DU; v gets its own rounding plus e_u each step:
# |e_v| < (1 + 4096/DU) * 4096/DV. Input and bias are exact integers.
V_ERROR_BOUND = (1 + 4096 / DU) * 4096 / DV


def network(seed):
    rng = np.random.default_rng(seed)
    weights = rng.integers(-8, 17, size=(A, N))
    delays = rng.integers(1, 4, size=(A, N))
    inputs = rng.binomial(2, 0.15, size=(T, A))
    return SynapseTable.from_dense(weights, delays), inputs


def run_both(synapses, inputs, k, vth):
    params = CoreParams(n_neurons=N, n_axons=A, n_synapses=A * N, max_delay=3, state_bits=24)
    profile = LIFProfile(du=DU, dv=DV, vth=vth, bias_mant=1, bias_exp=k, weight_exp=k,
                         reset="subtract")
    img = CoreImage(params, (profile,), 0, synapses)
    fixed = simulate(img, inputs)
    spikes, u, v = simulate_float(img, inputs)
    return fixed, spikes, u, v


def test_subthreshold_error_falls_as_two_to_minus_k():
    synapses, inputs = network(seed=0)
    errors = []
    for k in SCALES:
        # The largest threshold: nothing spikes, only rounding separates the models.
        fixed, spikes, u, v = run_both(synapses, inputs, k, vth=(1 << 23) - 1)
        assert not spikes.any() and not fixed.spikes.any()
        # Neither model may leave 24 bits, or wrap and saturation would show up.
        assert np.abs(v).max() < (1 << 23) - 1 and np.abs(u).max() < (1 << 23) - 1
        err = np.abs(fixed.v - v).max()
        assert err < V_ERROR_BOUND
        errors.append(err / 2 ** k)
    # Each step of 2 in k divides the error by about 4; require at least 2.
    for coarse, fine in zip(errors, errors[1:]):
        assert fine < coarse / 2
    assert errors[-1] < 0.02
    # The signal itself is hundreds of units at every scale: the error is relative.
    assert np.abs(v).max() / 2 ** SCALES[-1] > 500


def test_spikes_agree_at_the_largest_scale():
    synapses, inputs = network(seed=6)
    k = SCALES[-1]
    vth = 500 << k
    fixed, spikes, u, v = run_both(synapses, inputs, k, vth)
    # Distance of the float membrane from the threshold at every step: below it
    # when silent, and (subtract reset) v after a spike is v_int - vth.
    margin = np.where(spikes, v, vth - v).min()
    # The network never grazes the threshold: its margin exceeds the error
    # bound, so as long as the spikes agree the states cannot diverge.
    assert margin > 5 * V_ERROR_BOUND
    assert spikes.sum() > 50 and (spikes.sum(axis=0) > 0).sum() > 5
    np.testing.assert_array_equal(fixed.spikes, spikes)
    assert np.abs(fixed.v - v).max() < V_ERROR_BOUND


def test_float_model_decays_by_one_minus_d():
    # One neuron starting at u = v = 4096, no input, no bias: after one step
    # u = 4096 (1 - du/4096) and v = 4096 (1 - dv/4096) + u, in float.
    params = CoreParams(n_neurons=N, n_axons=1, n_synapses=1)
    profile = LIFProfile(du=DU, dv=DV, vth=(1 << 23) - 1)
    img = CoreImage(params, (profile,), 0, SynapseTable.from_synapses(1, []), u0=4096, v0=4096)
    _, u, v = simulate_float(img, [[]])
    assert math.isclose(u[0, 0], 4096 - DU, rel_tol=1e-12)
    assert math.isclose(v[0, 0], (4096 - DV) + (4096 - DU), rel_tol=1e-12)


def test_tau_matches_the_decay_constant():
    p = LIFProfile(du=400, dv=99, dv_offset=1)
    # Documented: tau = -dt / ln(1 - d_eff/4096), so exp(-dt/tau) = 1 - d_eff/4096.
    assert math.isclose(p.tau_u(), -1 / math.log(1 - 400 / 4096), rel_tol=1e-12)
    assert math.isclose(math.exp(-1 / p.tau_u()), 1 - 400 / 4096, rel_tol=1e-12)
    assert math.isclose(math.exp(-1 / p.tau_v()), 1 - 100 / 4096, rel_tol=1e-12)
    # The offset counts: dv = 99 + 1 is the same decay as dv = 100.
    assert math.isclose(p.tau_v(), LIFProfile(dv=100).tau_v(), rel_tol=1e-12)
    # tau scales with dt, the decay per step is fixed.
    assert math.isclose(p.tau_u(dt=0.25), 0.25 * p.tau_u(), rel_tol=1e-12)
    # Small d: -1/ln(1 - x) = 1/x - 1/2 - x/12 - ..., so tau is about 4096/d - 1/2.
    assert abs(LIFProfile(du=1).tau_u() - 4095.5) < 1e-3
    # No decay is an infinite time constant; full decay a zero one.
    assert LIFProfile(du=0).tau_u() == math.inf
    assert LIFProfile(du=4095, du_offset=1).tau_u() == 0.0
    # Loihi's +1 offset on du makes du = 0 a finite (if long) current decay.
    loihi = LIFProfile.loihi(du=0, dv=0, vth=10)
    assert math.isclose(loihi.tau_u(), -1 / math.log(1 - 1 / 4096), rel_tol=1e-12)
    assert loihi.tau_v() == math.inf

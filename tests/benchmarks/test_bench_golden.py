"""The CUBA benchmark's network, scaling and measurement, on a small copy of it.

The full run takes seconds; these keep its parts honest in the test suite: the
fixed-point constants the module docstring derives, and that the numba loopback
run and the numpy spec stepped by hand agree on the network.
"""

import json

import numpy as np
import pytest

from benchmarks.bench_golden import CUBA, build_cuba, cuba_scaling, run, run_spec
from spikeforge.fastsim import simulate_core

__all__ = []


def test_scaling_matches_the_docstring():
    s = cuba_scaling()
    p = s["profile"]
    assert (p.dv, p.du, p.weight_exp, s["w_exc"], s["w_inh"]) == (20, 81, 5, 18, -100)
    assert round(s["units_per_mv"]) == 72818
    assert (p.vth, p.bias, p.refractory) == (728178, 3911, 50)
    # Brian2's amplitude ratio wi / we = -9 / 1.62 is kept exactly.
    assert s["w_inh"] / s["w_exc"] == pytest.approx(CUBA["wi"] / CUBA["we"], rel=1e-12)


def test_network_shape():
    core = build_cuba(400, seed=3)
    n_exc = 320
    syn = core.synapses
    pre = np.repeat(np.arange(400), syn.count)
    assert set(syn.weight[pre < n_exc].tolist()) == {18}
    assert set(syn.weight[pre >= n_exc].tolist()) == {-100}
    assert (syn.delay == 1).all()
    # 2 % of 400 x 400 pairs, within five standard deviations.
    assert abs(len(syn) - 3200) < 5 * np.sqrt(3200)
    assert ((core.v0 >= 0) & (core.v0 < core.profiles[0].vth)).all()


def test_fast_loopback_equals_spec():
    core = build_cuba(400, seed=3)
    spikes, sops, _ = run_spec(core, 300)
    fast = simulate_core(core, (), n_steps=300, loopback=True)
    assert spikes.sum() > 100
    np.testing.assert_array_equal(fast.spikes, spikes)
    assert fast.n_sops == sops


def test_run_reports():
    result = run(0.0, n_neurons=400, duration_ms=20.0, spec_steps=100, max_repeats=1)
    json.dumps(result)
    assert result["network"]["n_steps"] == 200
    assert result["numpy"]["n_steps"] == 100
    assert result["numpy"]["bit_exact_vs_numba"] is True
    assert len(result["numba"]["wall_s_runs"]) == 1
    assert result["n_spikes"] > 0
    assert result["firing_rate_hz"] == result["n_spikes"] / (400 * 200 * 1e-4)
    for side in ("numba", "numpy"):
        assert result[side]["events_per_s"] > 0 and result[side]["neuron_updates_per_s"] > 0

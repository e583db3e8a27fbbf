"""Tier 4: the exported Verilog of a clock-gated core (``GatedCore``, generic gate) against
the ungated core and the golden model on Verilator, at input activities from 0.1% to 100%:
bit-identical spikes, state and counters, while the gate is really closed. Its power
settings are written, and its counters read, through the config and debug ports; under
the fixed-period contract its gated cycles are the golden cycle model's, step by step."""

import numpy as np
import pytest

from golden_model import CoreParams, simulate
from golden_model.power import PowerPolicy, core_step_timing, gated_cycles, simulate_policy
from sim.core_runner import image_job, run_core_jobs
from sim.stimulus import random_image, random_inputs

pytestmark = pytest.mark.cocotb

PARAMS = CoreParams(n_neurons=16, n_axons=16, n_synapses=128, max_delay=4, state_bits=16,
                    weight_bits=6, n_profiles=3, refractory_bits=2)
RATES = (0.001, 0.01, 0.1, 0.5, 1.0)
STEPS = 60


def test_gated_and_ungated_builds_are_bit_identical():
    jobs = []
    for k, rate in enumerate(RATES):
        rng = np.random.default_rng([77, k])
        image = random_image(rng, PARAMS)
        steps = random_inputs(rng, PARAMS.n_axons, STEPS, rate=rate)
        jobs.append(image_job(image, steps))
    policy = PowerPolicy(window=4, low_pct=5, mid_pct=40)
    gated, passed_gated = run_core_jobs(PARAMS, jobs, seed=3, event_gap=0.3, spike_stall=0.3,
                                        gated=policy)
    plain, passed_plain = run_core_jobs(PARAMS, jobs, seed=3, event_gap=0.3, spike_stall=0.3)
    assert passed_gated and passed_plain
    for job, g, u, rate in zip(jobs, gated, plain, RATES):
        assert g["mismatches"] == [] and u["mismatches"] == []
        golden = simulate(job["image"], job["steps"])
        for key in ("spikes", "u", "v"):
            np.testing.assert_array_equal(g[key], u[key])
            np.testing.assert_array_equal(g[key], getattr(golden, key))
        assert g["counters"]["sops"] == u["counters"]["sops"] == golden.n_sops
        assert g["counters"]["spikes"] == u["counters"]["spikes"] == golden.n_spikes
        assert sum(g["state_steps"]) == STEPS
        assert g["state_steps"] == g["port_state_steps"]
        assert g["power_settings"] == [policy.window, *policy.limits(PARAMS.n_axons)]
        if rate <= 0.01:
            assert g["state_steps"][2] > 0              # it slept
        if g["state_steps"][1]:
            assert g["gated_cycles"] > 0                # and the throttle held the clock off


def test_gated_cycles_on_verilator_equal_the_golden_count():
    policy = PowerPolicy(window=2, low_pct=8, mid_pct=30)
    jobs, expected = [], []
    for k, rate in enumerate((0.005, 0.1, 0.3)):
        rng = np.random.default_rng([78, k])
        image = random_image(rng, PARAMS, n_axons=12)
        steps = random_inputs(rng, PARAMS.n_axons, 40, rate=rate)
        golden = simulate(image, steps)
        timing = core_step_timing(image, steps, golden.spikes)
        states = simulate_policy(np.array([[len(s)] for s in steps]), policy, PARAMS.n_axons)
        period = 2 * int(timing.busy_edges.max()) + 20
        expected.append(np.cumsum(gated_cycles([timing], states, period).gated[:, 0]))
        jobs.append(image_job(image, steps, read_state=False, period=period))
    results, passed = run_core_jobs(PARAMS, jobs, gated=policy)
    assert passed
    for r, want in zip(results, expected):
        assert r["mismatches"] == []
        assert r["gated_by_step"] == want.tolist()
        assert want[-1] > 0

"""Tier 4: Izhikevich and AdEx cores as Verilog on Verilator against the golden model, bit
for bit (spikes every step, u and v read back every step, counters), on random images,
profiles (the papers' patterns and random fields) and inputs, with random event gaps and
output backpressure."""

import numpy as np
import pytest

from golden_model import CoreParams
from sim.core_runner import image_job, run_core_jobs
from sim.stimulus import random_image, random_inputs

pytestmark = pytest.mark.cocotb


@pytest.mark.parametrize("model,state_bits", [("izhikevich", 16), ("adex", 24)])
def test_model_core_on_verilator(model, state_bits):
    params = CoreParams(n_neurons=16, n_axons=8, n_synapses=64, max_delay=3,
                        state_bits=state_bits, weight_bits=6, n_profiles=4,
                        neuron_model=model)
    jobs = []
    for k, rate in enumerate((0.05, 0.3, 0.8)):
        rng = np.random.default_rng([len(model), k])
        image = random_image(rng, params)
        jobs.append(image_job(image, random_inputs(rng, params.n_axons, 40, rate=rate)))
    results, passed = run_core_jobs(params, jobs, seed=4, event_gap=0.3, spike_stall=0.3)
    assert passed
    assert all(r["mismatches"] == [] for r in results)
    assert sum(r["counters"]["spikes"] for r in results) > 0

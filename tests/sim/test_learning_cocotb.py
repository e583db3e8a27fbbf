"""Tier 4: the learning engine in the exported ``LIFCore``, against the golden model.

One simulator build per rule (homeostasis rides along with STDP and SDSP).
Each build runs ten random configurations of 500 steps: random rule
parameters and weight bounds (half of them the full weight range), stochastic
rounding half of the time, rewards on a fifth of the three-factor steps, random
event gaps and output backpressure. The scoreboard compares every step's
spikes, and every 25 steps every weight, eligibility, trace and the LFSR.
"""

import numpy as np
import pytest

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable
from golden_model.learning import ThreeFactorParams
from golden_model.lif_core import simulate
from golden_model.params import LearningSpec, Rule
from golden_model.stdp import STDPParams
from sim.core_runner import image_job, run_core_jobs
from sim.stimulus import random_inputs, random_learning_image

pytestmark = pytest.mark.cocotb

SHAPES = {
    "stdp": CoreParams(n_neurons=16, n_axons=16, n_synapses=96, max_delay=4, state_bits=16,
                       weight_bits=8, learning=LearningSpec(rule=Rule.STDP, homeostasis=True,
                                                            trace_bits=10, theta_bits=10)),
    "three_factor": CoreParams(n_neurons=16, n_axons=12, n_synapses=80, max_delay=3,
                               state_bits=12, weight_bits=6, weight_signed=False,
                               learning=LearningSpec(rule=Rule.THREE_FACTOR, trace_bits=8,
                                                     eligibility_bits=12)),
    "sdsp": CoreParams(n_neurons=16, n_axons=16, n_synapses=96, max_delay=2, state_bits=16,
                       weight_bits=4, learning=LearningSpec(rule=Rule.SDSP, homeostasis=True,
                                                            calcium_bits=7, theta_bits=6)),
}
CONFIGS = 10
STEPS = 500
LEARN_EVERY = 25


def bounds(image):
    rp = image.learning
    rp = rp.stdp if isinstance(rp, ThreeFactorParams) else rp
    return rp.w_min, rp.w_max, rp.enable


@pytest.mark.parametrize("shape", SHAPES)
def test_random_learning_configurations_bit_exact(shape):
    params = SHAPES[shape]
    seed = sum(map(ord, shape))
    jobs = []
    for k in range(CONFIGS):
        rng = np.random.default_rng([seed, k])
        image = random_learning_image(rng, params)
        steps = random_inputs(rng, params.n_axons, STEPS, rate=float(rng.choice([0.05, 0.2, 0.5])))
        rewards = None
        if params.learning.rule is Rule.THREE_FACTOR:
            rewards = rng.integers(-128, 128, STEPS) * (rng.random(STEPS) < 0.2)
        jobs.append(image_job(image, steps, read_state=False, rewards=rewards,
                              learn_every=LEARN_EVERY))
    results, passed = run_core_jobs(params, jobs, seed=seed, event_gap=0.2, spike_stall=0.3)
    assert len(results) == CONFIGS
    at_min = at_max = together = 0
    for job, result in zip(jobs, results):
        assert result["mismatches"] == []
        image = job["image"]
        golden = simulate(image, job["steps"], reward=job["rewards"], record_weights=True)
        np.testing.assert_array_equal(result["spikes"], golden.spikes)
        # The trajectory the bench read, against the golden one.
        for t, learnt in result["learning"]:
            np.testing.assert_array_equal(learnt["weight"], golden.weights[t])
        w_min, w_max, enable = bounds(image)
        final = golden.weights[-1][image.plastic]
        at_min += int((final == w_min).sum())
        at_max += int((final == w_max).sum())
        # Pre and post in the same step on one synapse: the case the rule order defines.
        pre = np.zeros((STEPS, params.n_axons), dtype=bool)
        for t, axons in enumerate(job["steps"]):
            pre[t, axons] = True
        syn = image.synapses
        axon_of = np.repeat(np.arange(params.n_axons), syn.count)
        together += int((pre[:, axon_of] & golden.spikes[:, syn.target]).sum())
        expected_updates = int(image.plastic.sum()) * STEPS if enable else 0
        assert result["counters"]["learn_updates"] == expected_updates
    assert passed
    assert at_min > 0 and at_max > 0, (at_min, at_max)
    assert together > 0


def dense_plastic_image(params):
    rows = [(a, n, 1, 1) for a in range(params.n_axons) for n in range(params.n_neurons)]
    return CoreImage(params=params, profiles=[LIFProfile(du=0, dv=0, vth=0)], neuron_profile=0,
                     synapses=SynapseTable.from_synapses(params.n_axons, rows),
                     plastic=np.ones(len(rows), dtype=bool),
                     learning=STDPParams(a_plus=1, a_minus=1, shift=0, w_min=-100, w_max=100))


def test_learning_engine_rewrites_a_weight_per_clock():
    """A fully plastic 16 x 64 table: the learning phase spends at most 1.2 cycles per update."""
    params = CoreParams(n_neurons=64, n_axons=16, n_synapses=1024, max_delay=2, state_bits=16,
                        learning=LearningSpec(rule=Rule.STDP))
    image = dense_plastic_image(params)
    steps = [list(range(16))] * 4
    results, passed = run_core_jobs(params, [image_job(image, steps, read_state=False,
                                                       learn_every=4)])
    assert passed and results[0]["mismatches"] == []
    c = results[0]["counters"]
    assert c["learn_updates"] == 1024 * 4
    assert c["learn_cycles"] / c["learn_updates"] <= 1.2

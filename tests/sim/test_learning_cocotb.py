"""Tier 4: the learning engine in the exported ``LIFCore``, against the golden model.

One simulator build per rule (homeostasis rides along with STDP and SDSP).
Each build runs ten random configurations of 150 steps: random rule
parameters and weight bounds (half of them the full weight range), stochastic
rounding half of the time, rewards on a fifth of the three-factor steps, random
event gaps and output backpressure. The scoreboard compares every step's
spikes, and every 50 steps every weight, eligibility, trace and the LFSR.
"""

import numpy as np
import pytest

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable
from golden_model.learning import ThreeFactorParams
from golden_model.lif_core import simulate
from golden_model.params import LearningSpec, Rule
from golden_model.stdp import STDPParams
from examples import pattern_detection as ex
from sim.core_runner import image_job, run_core_jobs
from sim.stimulus import random_inputs, random_learning_image

pytestmark = pytest.mark.cocotb

SHAPES = {
    # The pattern-detection example's core, so that its RTL test reuses this build.
    "stdp": ex.PARAMS,
    "three_factor": CoreParams(n_neurons=16, n_axons=12, n_synapses=80, max_delay=3,
                               state_bits=12, weight_bits=6, weight_signed=False,
                               learning=LearningSpec(rule=Rule.THREE_FACTOR, trace_bits=8,
                                                     eligibility_bits=12)),
    "sdsp": CoreParams(n_neurons=16, n_axons=16, n_synapses=96, max_delay=2, state_bits=16,
                       weight_bits=4, learning=LearningSpec(rule=Rule.SDSP, homeostasis=True,
                                                            calcium_bits=7, theta_bits=6)),
}
CONFIGS = 10
STEPS = 150
LEARN_EVERY = 50


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
        rate = float(rng.choice([0.05, 0.15, 0.35]))
        steps = random_inputs(rng, params.n_axons, STEPS, rate=rate)
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


def test_learning_phase_cost():
    """A full table, every entry plastic: the learning phase takes one clock per entry, one per
    trace address and a fixed fill, so it rewrites at least one weight per two clocks.
    (``benchmarks/bench_learning.py`` measures 1.04 clocks per update on 2048 synapses.)"""
    params = SHAPES["stdp"]
    rows = [(a, n, 100, 1) for a in range(params.n_axons) for n in (a % 16, (a + 5) % 16)]
    image = CoreImage(params=params, profiles=[LIFProfile(vth=0, bias_mant=1)], neuron_profile=0,
                      synapses=SynapseTable.from_synapses(params.n_axons, rows),
                      plastic=np.ones(len(rows), dtype=bool),
                      learning=STDPParams(a_plus=9, a_minus=7, shift=3, w_min=0, w_max=255))
    steps = [list(range(params.n_axons))] * 4
    results, passed = run_core_jobs(params, [image_job(image, steps, read_state=False,
                                                       learn_every=4)])
    assert passed and results[0]["mismatches"] == []
    c = results[0]["counters"]
    assert c["learn_updates"] == len(rows) * 4
    trace_pass = max(params.n_axons, params.n_neurons)
    assert c["learn_cycles"] <= 4 * (len(rows) + trace_pass + 12)
    assert c["learn_cycles"] / c["learn_updates"] <= 2

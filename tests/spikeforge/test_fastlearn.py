"""The compiled learning scan against the numpy specification, bit for bit, on every rule."""

import numpy as np
import pytest

from golden_model import CoreParams, lif_core
from golden_model.learning import learn
from golden_model.params import LearningSpec, Rule
from sim.stimulus import random_learning_image
from spikeforge.fastlearn import learn_fast


def params(rule, homeostasis):
    return CoreParams(n_neurons=32, n_axons=24, n_synapses=400, max_delay=2, state_bits=12,
                      weight_bits=7, weight_signed=rule is not Rule.THREE_FACTOR,
                      learning=LearningSpec(rule=rule, homeostasis=homeostasis, trace_bits=12,
                                            eligibility_bits=14, calcium_bits=9, theta_bits=8))


@pytest.mark.parametrize("rule", [Rule.STDP, Rule.THREE_FACTOR, Rule.SDSP])
@pytest.mark.parametrize("seed", range(4))
def test_fast_learning_equals_the_spec(rule, seed):
    p = params(rule, seed % 2 == 1)
    rng = np.random.default_rng([rule.value, seed])
    image = random_learning_image(rng, p)
    spec_state = lif_core.CoreState.initial(image)
    fast_state = spec_state.copy()
    for t in range(60):
        pre = rng.random(p.n_axons) < 0.4
        post = rng.random(p.n_neurons) < 0.3
        v = rng.integers(-2048, 2048, p.n_neurons)
        reward = int(rng.integers(-128, 128)) if rng.random() < 0.3 else 0
        n_spec = learn(spec_state.learn, p, image.synapses, spec_state.weight, image.plastic, pre,
                       post, v, reward, image.learning, image.homeostasis)
        n_fast = learn_fast(fast_state.learn, p, image.synapses, fast_state.weight,
                            image.plastic, pre, post, v, reward, image.learning,
                            image.homeostasis)
        assert n_fast == n_spec
        np.testing.assert_array_equal(fast_state.weight, spec_state.weight)
        for name in ("x", "y", "elig", "ca", "theta"):
            np.testing.assert_array_equal(getattr(fast_state.learn, name),
                                          getattr(spec_state.learn, name), err_msg=name)
        assert fast_state.learn.lfsr.state == spec_state.learn.lfsr.state
        assert fast_state.learn.drift_count == spec_state.learn.drift_count
    # An enabled rule must have moved weights, or the comparison saw nothing.
    enabled = (image.learning.stdp if rule is Rule.THREE_FACTOR else image.learning).enable
    assert (spec_state.weight != image.synapses.weight).any() or not enabled

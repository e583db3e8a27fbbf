"""Tier 2 for ``spikeforge.simulate``: probes read what the golden chip computed, checked by
hand on a small network, and the chip found by ``fit_chip`` is the smallest that holds it."""

import re

import numpy as np
import pytest

from golden_model.chip import ChipParams
from golden_model.params import CoreParams, LearningSpec, LIFProfile, Rule
from spikeforge.network import InputPopulation, Network, Population, Projection
from spikeforge.simulate import fit_chip, run
from spikeforge.sources import spike_array


def test_probes_by_hand():
    # No decay (du = 4096 makes u the step's input alone, dv = 0 keeps v), threshold 10,
    # weights 4 and 7: input 0 at steps 0, 1 and 2 gives v = 4, 8, 12 -> spike at step 2.
    net = Network()
    inp = net.add(InputPopulation(2, name="in"))
    pop = net.add(Population(2, LIFProfile(du=4095, du_offset=1, dv=0, vth=10), name="a"))
    proj = net.add(Projection.dense(inp, pop, np.array([[4, 0], [0, 7]])))
    counts = spike_array([(0, 0), (1, 0), (2, 0), (1, 1), (1, 1)], n=2, steps=4)
    res = run(net, {inp: counts}, state=[pop], weights=[proj])
    assert res.spikes[pop][:, 0].tolist() == [False, False, True, False]
    assert res.v[pop][:, 0].tolist() == [4, 8, 0, 0]
    assert res.u[pop][:, 0].tolist() == [4, 4, 4, 0]
    # Two events in step 1 on input 1: 14 > 10, one spike, reset.
    assert res.spikes[pop][:, 1].tolist() == [False, True, False, False]
    assert res.weights[proj].tolist() == [4, 7]


def test_fit_chip_is_the_smallest_that_holds_the_network():
    net = Network()
    inp = net.add(InputPopulation(3))
    big = net.add(Population(600, LIFProfile()))
    net.add(Projection.dense(inp, big, np.full((3, 600), 9), 3))
    chip = fit_chip(net)
    assert (chip.rows, chip.cols) == (2, 2)           # 3 cores of 256 neurons, a 2 x 2 mesh
    assert chip.core.weight_bits == 5 and chip.core.max_delay == 3   # 9 needs 5 signed bits


def test_plastic_networks_need_a_learning_core():
    net = Network()
    inp = net.add(InputPopulation(2))
    pop = net.add(Population(2, LIFProfile(vth=5)))
    proj = net.add(Projection.one_to_one(inp, pop, 3, plastic=True))
    with pytest.raises(ValueError, match=r"^the network has plastic projections: give a core "
                                         r"with a learning spec"):
        fit_chip(net)
    core = CoreParams(n_neurons=16, n_axons=4, n_synapses=4, max_delay=1,
                      learning=LearningSpec(rule=Rule.STDP))
    res = run(net, {inp: np.ones((20, 2), dtype=np.int64)}, chip=ChipParams(1, 1, core),
              weights=[proj])
    assert res.spikes[pop].any()
    assert not np.array_equal(res.weights[proj], proj.weight)    # STDP moved them


def test_run_arguments():
    net = Network()
    inp = net.add(InputPopulation(2, name="in"))
    pop = net.add(Population(2, LIFProfile(), name="a"))
    other = InputPopulation(2, name="other")
    for args, kwargs, error, message in [
        (({inp: np.zeros((3, 3), dtype=int)},), {}, ValueError,
         "inputs['in'] must have shape [T, 2], not (3, 3)"),
        (({inp: np.full((3, 2), 0.5)},), {}, ValueError,
         "inputs['in'] must hold spike counts, integers of 0 or more"),
        (({other: np.zeros((3, 2), dtype=int)},), {}, ValueError,
         f"inputs key {other!r} is not an InputPopulation of the network"),
        (({},), {}, ValueError, "steps must be given when there are no inputs"),
        (({}, 3), dict(state=[inp]), TypeError,
         f"state must hold Populations, not {inp!r}"),
        (([],), {}, TypeError, "inputs must be a dict from InputPopulation to [T, n] spike "
                               "counts, not list"),
    ]:
        with pytest.raises(error, match="^" + re.escape(message) + "$"):
            run(net, *args, **kwargs)
    assert run(net, {}, 3).spikes[pop].shape == (3, 2)

"""Tier 1 tests of :mod:`spikeforge.network`: every error sentence pinned, and what is built.

Each message is matched in full. The constructors are checked against the
synapses they must give: dense drops zeros, one_to_one pairs neurons, and
sparse_random draws each pair once with the given probability and is
reproducible from its seed.
"""

import re

import numpy as np
import pytest

from golden_model.params import LIFProfile
from spikeforge.network import (MAX_DELAY, MAX_NEURONS, InputPopulation, Network, Population,
                                Projection)

__all__ = []

P = LIFProfile(vth=10)
Q = LIFProfile(vth=20)


def raises(exc, message):
    return pytest.raises(exc, match=rf"^{re.escape(message)}$")


def pops():
    return InputPopulation(2, name="in"), Population(3, P, name="exc")


# -- populations -------------------------------------------------------------------------

@pytest.mark.parametrize("make, exc, message", [
    (lambda: Population(0, P), ValueError, f"n must be between 1 and {MAX_NEURONS}, not 0"),
    (lambda: Population(MAX_NEURONS + 1, P), ValueError,
     f"n must be between 1 and {MAX_NEURONS}, not {MAX_NEURONS + 1}"),
    (lambda: Population(2.5, P), TypeError, "n must be an integer, not 2.5"),
    (lambda: Population(True, P), TypeError, "n must be an integer, not True"),
    (lambda: InputPopulation(0), ValueError, f"n must be between 1 and {MAX_NEURONS}, not 0"),
    (lambda: InputPopulation("4"), TypeError, "n must be an integer, not '4'"),
    (lambda: Population(3, P, name=5), TypeError, "name must be a string or None, not 5"),
    (lambda: Population(3, P, name=""), ValueError,
     "name must be a non-empty string or None, not ''"),
    (lambda: InputPopulation(3, name=b"x"), TypeError, "name must be a string or None, not b'x'"),
    (lambda: Population(3, 5), TypeError, "profile must be a LIFProfile or a list of them, not 5"),
    (lambda: Population(3, None), TypeError,
     "profile must be a LIFProfile or a list of them, not None"),
    (lambda: Population(3, [P, Q]), ValueError,
     "profile must be one LIFProfile or one per neuron (3), not 2"),
    (lambda: Population(3, [P, Q, "P"]), TypeError, "profile[2] must be a LIFProfile, not 'P'"),
    (lambda: Population(3, P, record=1), TypeError, "record must be a bool, not 1"),
])
def test_population_errors(make, exc, message):
    with raises(exc, message):
        make()


def test_population_profiles():
    pop = Population(5, [P, Q, P, P, Q], name="mix", record=True)
    assert pop.profiles == (P, Q)
    assert pop.neuron_profile.tolist() == [0, 1, 0, 0, 1]
    assert (pop.n, len(pop), pop.name, pop.record) == (5, 5, "mix", True)
    with pytest.raises(ValueError):
        pop.neuron_profile[0] = 1          # read-only: the compiler reads it later
    one = Population(4, P)
    assert one.profiles == (P,) and one.neuron_profile.tolist() == [0] * 4
    assert not one.record and one.name is None
    assert repr(one) == "Population(4)" and repr(pop) == "Population(5, name='mix')"
    assert repr(InputPopulation(2, name="in")) == "InputPopulation(2, name='in')"


# -- projections -------------------------------------------------------------------------

def _proj(synapses):
    pre, post = pops()
    return lambda: Projection(pre, post, synapses)


@pytest.mark.parametrize("make, exc, message", [
    (lambda: Projection(5, Population(3, P), ([], [], 1, 1)), TypeError,
     "pre must be a Population or an InputPopulation, not 5"),
    (lambda: Projection(InputPopulation(2), InputPopulation(3), ([], [], 1, 1)), TypeError,
     "post must be a Population, not InputPopulation(3)"),
    (_proj(np.zeros((4, 2), dtype=int)), TypeError,
     "synapses must be a tuple of four arrays (pre, post, weight, delay), not ndarray"),
    (_proj(([0], [0], 1)), ValueError,
     "synapses must be a tuple of four arrays (pre, post, weight, delay), not of 3"),
    (_proj((0, [0], 1, 1)), ValueError, "synapses pre must be a 1-d array, not shape ()"),
    (_proj(([0], [[0]], 1, 1)), ValueError, "synapses post must be a 1-d array, not shape (1, 1)"),
    (_proj(([0, 1], [0, 1, 2], 1, 1)), ValueError,
     "synapses post must have one entry per synapse (2, as pre), not 3"),
    (_proj(([0.0], [0], 1, 1)), TypeError, "synapses pre must hold integers, not float64"),
    (_proj(([0], ["0"], 1, 1)), TypeError, "synapses post must hold integers, not <U1"),
    (_proj(([0], [0], 1.5, 1)), TypeError, "synapses weight must hold integers, not float64"),
    (_proj(([0], [0], 1, [True])), TypeError, "synapses delay must hold integers, not bool"),
    (_proj(([0, 1], [0, 1], [1, 2, 3], 1)), ValueError,
     "synapses weight must be a scalar or have shape (2,) (one per synapse), not (3,)"),
    (_proj(([0, 1], [0, 1], 1, [[1, 1]])), ValueError,
     "synapses delay must be a scalar or have shape (2,) (one per synapse), not (1, 2)"),
    (_proj(([0, 2], [0, 1], 1, 1)), ValueError, "synapses pre[1] must be between 0 and 1, not 2"),
    (_proj(([0, -1], [0, 1], 1, 1)), ValueError, "synapses pre[1] must be between 0 and 1, not -1"),
    (_proj(([0, 1], [3, 1], 1, 1)), ValueError, "synapses post[0] must be between 0 and 2, not 3"),
    (_proj(([0, 1], [0, 1], 1, [1, 0])), ValueError,
     f"synapses delay[1] must be between 1 and {MAX_DELAY}, not 0"),
    (_proj(([0], [0], 1, MAX_DELAY + 1)), ValueError,
     f"synapses delay[0] must be between 1 and {MAX_DELAY}, not {MAX_DELAY + 1}"),
])
def test_projection_errors(make, exc, message):
    with raises(exc, message):
        make()


def test_projection_arrays():
    pre, post = pops()
    w = np.array([5, -3, 7])
    proj = Projection(pre, post, ([0, 1, 1], [2, 0, 0], w, 2))
    w[0] = 99                                    # the projection keeps its own copy
    assert proj.pre is pre and proj.post is post and len(proj) == 3
    assert proj.pre_index.tolist() == [0, 1, 1] and proj.post_index.tolist() == [2, 0, 0]
    assert proj.weight.tolist() == [5, -3, 7] and proj.delay.tolist() == [2, 2, 2]
    assert all(a.dtype == np.int64 for a in (proj.pre_index, proj.post_index, proj.weight,
                                             proj.delay))
    with pytest.raises(ValueError):
        proj.weight[0] = 1
    empty = Projection(pre, post, ([], [], [], []))
    assert len(empty) == 0
    assert repr(proj) == ("Projection(InputPopulation(2, name='in') -> "
                          "Population(3, name='exc'), 3 synapses)")


@pytest.mark.parametrize("make, exc, message", [
    (lambda pre, post: Projection.dense(pre, post, np.ones((2, 3)), 1), TypeError,
     "weights must hold integers, not float64"),
    (lambda pre, post: Projection.dense(pre, post, np.ones((3, 2), int)), ValueError,
     "weights must have shape (2, 3) (pre.n, post.n), not (3, 2)"),
    (lambda pre, post: Projection.dense(pre, post, np.ones((2, 3), int), [1, 2, 3, 4]),
     ValueError, "delays must be a scalar or have shape (2, 3) (pre.n, post.n), not (4,)"),
    (lambda pre, post: Projection.dense(pre, post, np.ones((2, 3), int), 1.0), TypeError,
     "delays must hold integers, not float64"),
    (lambda pre, post: Projection.dense(pre, post, [[1, 0, 0], [0, 0, 1]],
                                        [[1, 0, 0], [1, 1, 0]]), ValueError,
     f"delays[1, 2] must be between 1 and {MAX_DELAY}, not 0"),
    (lambda pre, post: Projection.dense(post, pre, np.ones((3, 2), int)), TypeError,
     "post must be a Population, not InputPopulation(2, name='in')"),
    (lambda pre, post: Projection.one_to_one(pre, post, 1), ValueError,
     "one_to_one needs pre and post of one size, not 2 and 3"),
    (lambda pre, post: Projection.one_to_one(post, post, [1, 2]), ValueError,
     "weight must be a scalar or have shape (3,) (pre.n), not (2,)"),
    (lambda pre, post: Projection.one_to_one(post, post, 1, 0.5), TypeError,
     "delay must hold integers, not float64"),
    (lambda pre, post: Projection.one_to_one(post, post, 1, [1, 2, 65]), ValueError,
     f"delay[2] must be between 1 and {MAX_DELAY}, not 65"),
    (lambda pre, post: Projection.sparse_random(pre, post, "0.5", 1), TypeError,
     "p must be a number, not '0.5'"),
    (lambda pre, post: Projection.sparse_random(pre, post, True, 1), TypeError,
     "p must be a number, not True"),
    (lambda pre, post: Projection.sparse_random(pre, post, 1.5, 1), ValueError,
     "p must be between 0 and 1, not 1.5"),
    (lambda pre, post: Projection.sparse_random(pre, post, -0.1, 1), ValueError,
     "p must be between 0 and 1, not -0.1"),
    (lambda pre, post: Projection.sparse_random(pre, post, 0.5, [1, 2]), ValueError,
     "weight must be a scalar or have shape (2, 3) (pre.n, post.n), not (2,)"),
    (lambda pre, post: Projection.sparse_random(pre, post, 0.5, 1.0), TypeError,
     "weight must hold integers, not float64"),
    (lambda pre, post: Projection.sparse_random(pre, post, 1, 1, [[1, 2, 3], [4, 0, 6]]),
     ValueError, f"delay[1, 1] must be between 1 and {MAX_DELAY}, not 0"),
    (lambda pre, post: Projection.sparse_random(pre, 7, 0.5, 1), TypeError,
     "post must be a Population, not 7"),
])
def test_constructor_errors(make, exc, message):
    with raises(exc, message):
        make(*pops())


def test_dense():
    pre, post = pops()
    w = np.array([[0, 4, 0], [-2, 0, 9]])
    d = np.array([[7, 1, 7], [3, 7, 2]])
    proj = Projection.dense(pre, post, w, d)
    got = sorted(zip(proj.pre_index, proj.post_index, proj.weight, proj.delay))
    assert got == [(0, 1, 4, 1), (1, 0, -2, 3), (1, 2, 9, 2)]
    # A zero delay where there is no synapse is never read.
    d[0, 0] = 0
    assert len(Projection.dense(pre, post, w, d)) == 3
    assert Projection.dense(pre, post, w).delay.tolist() == [1, 1, 1]


def test_one_to_one():
    a, b = Population(4, P), Population(4, Q)
    proj = Projection.one_to_one(a, b, [1, -2, 3, 0], 5)
    assert proj.pre_index.tolist() == proj.post_index.tolist() == [0, 1, 2, 3]
    assert proj.weight.tolist() == [1, -2, 3, 0] and proj.delay.tolist() == [5] * 4


def test_sparse_random():
    pre, post = InputPopulation(60), Population(50, P)
    w = np.arange(60 * 50).reshape(60, 50)
    d = 1 + np.arange(60 * 50).reshape(60, 50) % 4
    proj = Projection.sparse_random(pre, post, 0.3, w, d, seed=7)
    pairs = list(zip(proj.pre_index.tolist(), proj.post_index.tolist()))
    assert len(set(pairs)) == len(pairs)                   # each pair drawn at most once
    assert 0.25 < len(proj) / (60 * 50) < 0.35
    assert (proj.weight == w[proj.pre_index, proj.post_index]).all()
    assert (proj.delay == d[proj.pre_index, proj.post_index]).all()
    again = Projection.sparse_random(pre, post, 0.3, w, d, seed=7)
    assert (again.pre_index == proj.pre_index).all() and (again.post_index == proj.post_index).all()
    other = Projection.sparse_random(pre, post, 0.3, w, d, seed=8)
    assert len(other) != len(proj) or (other.post_index != proj.post_index).any()
    assert len(Projection.sparse_random(pre, post, 0, 1)) == 0
    assert len(Projection.sparse_random(pre, post, 1, 1)) == 60 * 50


# -- network -----------------------------------------------------------------------------

def test_network_add_and_errors():
    net = Network()
    inp, exc = pops()
    assert net.add(inp) is inp
    anon = Population(2, Q)
    got_exc, got_anon = net.add(exc, anon)
    assert got_exc is exc and got_anon is anon
    proj = net.add(Projection.one_to_one(anon, anon, 1))
    assert net.populations == (inp, exc, anon) and net.projections == (proj,)
    assert [net.label(p) for p in net.populations] == ["'in'", "'exc'", "#2"]
    assert net.label(Population(3, P)) == "Population(3)"
    net.check()

    with raises(ValueError, "Population(3, name='exc') is already in the network"):
        net.add(exc)
    with raises(ValueError, "name 'in' is already used in the network"):
        net.add(Population(3, P, name="in"))
    with raises(ValueError, f"{proj!r} is already in the network"):
        net.add(proj)
    with raises(TypeError, "add takes a Population, an InputPopulation or a Projection, not 5"):
        net.add(5)
    assert len(net.populations) == 3       # the failed adds left nothing behind

    ghost = Population(3, P, name="ghost")
    net.add(Projection.one_to_one(exc, ghost, 1))
    with raises(ValueError, "projection 1 ('exc' -> 'ghost') uses post population 'ghost', "
                            "which is not in the network"):
        net.check()

    net2 = Network()
    stray = InputPopulation(3)
    net2.add(exc, Projection.one_to_one(stray, exc, 1))
    with raises(ValueError, "projection 0 (InputPopulation(3) -> 'exc') uses pre population "
                            "InputPopulation(3), which is not in the network"):
        net2.check()

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
    (lambda: Population(3, 5), TypeError, "profile must be a LIFProfile, IzhikevichProfile or "
     "AdExProfile, or a list of them, not 5"),
    (lambda: Population(3, None), TypeError,
     "profile must be a LIFProfile, IzhikevichProfile or AdExProfile, or a list of them, "
     "not None"),
    (lambda: Population(3, [P, Q]), ValueError,
     "profile must be one profile or one per neuron (3), not 2"),
    (lambda: Population(3, [P, Q, "P"]), TypeError, "profile[2] must be a LIFProfile, "
     "IzhikevichProfile or AdExProfile, not 'P'"),
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


# ---- convolution and plasticity ---------------------------------------------------------------

def _conv_by_loops(x, w, stride, padding):
    c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    (sy, sx), (py, px) = stride, padding
    xp = np.pad(x, ((0, 0), (py, py), (px, px)))
    oh, ow = (h + 2 * py - kh) // sy + 1, (wd + 2 * px - kw) // sx + 1
    out = np.zeros((c_out, oh, ow), dtype=np.int64)
    for o in range(c_out):
        for i in range(oh):
            for j in range(ow):
                out[o, i, j] = (w[o] * xp[:, i * sy:i * sy + kh, j * sx:j * sx + kw]).sum()
    return out


@pytest.mark.parametrize("seed", range(4))
def test_conv2d_synapses_compute_the_convolution(seed):
    rng = np.random.default_rng(seed)
    c_in, c_out = (int(v) for v in rng.integers(1, 4, 2))
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    stride = tuple(int(v) for v in rng.integers(1, 3, 2))
    padding = tuple(int(v) for v in rng.integers(0, 2, 2))
    h, wd = (int(v) for v in rng.integers(4, 8, 2))
    w = rng.integers(-3, 4, (c_out, c_in, kh, kw))
    oh, ow = (h + 2 * padding[0] - kh) // stride[0] + 1, (wd + 2 * padding[1] - kw) // stride[1] + 1
    pre, post = InputPopulation(c_in * h * wd), Population(c_out * oh * ow, LIFProfile())
    proj = Projection.conv2d(pre, post, w, (c_in, h, wd), stride=stride, padding=padding, delay=2)
    assert (proj.weight != 0).all() and (proj.delay == 2).all()
    x = rng.integers(0, 3, (c_in, h, wd))
    total = np.zeros(post.n, dtype=np.int64)
    np.add.at(total, proj.post_index, proj.weight * x.ravel()[proj.pre_index])
    np.testing.assert_array_equal(total.reshape(c_out, oh, ow),
                                  _conv_by_loops(x, w, stride, padding))


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(weights=np.ones((2, 1, 3, 3))), TypeError, "weights must hold integers, not float64"),
    (dict(weights=np.ones((2, 3, 3), dtype=int)), ValueError,
     "weights must have shape (out_channels, in_channels, kh, kw), not (2, 3, 3)"),
    (dict(in_shape=(1, 4)), ValueError,
     "in_shape must be (channels, height, width) of positive integers, not (1, 4)"),
    (dict(in_shape=(2, 4, 4)), ValueError, "in_shape has 2 channels, but weights take 1"),
    (dict(in_shape=(1, 5, 4)), ValueError, "pre has 16 neurons, not 20 (in_shape (1, 5, 4))"),
    (dict(stride=0), ValueError, "stride must be an integer of at least 1 or a pair of them, "
                                 "not 0"),
    (dict(padding=(1, -1)), ValueError, "padding must be an integer of at least 0 or a pair of "
                                        "them, not (1, -1)"),
    (dict(weights=np.ones((2, 1, 5, 5), dtype=int)), ValueError,
     "a 5x5 kernel does not fit in_shape (1, 4, 4) with padding (0, 0)"),
    (dict(delay=0), ValueError, f"delay must be between 1 and {MAX_DELAY}, not 0"),
    (dict(delay=1.5), TypeError, "delay must be an integer (one delay for the whole "
                                 "convolution), not 1.5"),
])
def test_conv2d_arguments(kwargs, error, message):
    args = dict(weights=np.ones((2, 1, 3, 3), dtype=int), in_shape=(1, 4, 4))
    args.update(kwargs)
    pre, post = InputPopulation(16), Population(8, LIFProfile())
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        Projection.conv2d(pre, post, args.pop("weights"), args.pop("in_shape"), **args)


def test_conv2d_post_size_is_checked():
    pre, post = InputPopulation(16), Population(9, LIFProfile())
    with pytest.raises(ValueError, match=r"^post has 9 neurons, not 8 \(2 channels of 2x2\)$"):
        Projection.conv2d(pre, post, np.ones((2, 1, 3, 3), dtype=int), (1, 4, 4))


def test_plastic_flag():
    pre, post = InputPopulation(2), Population(2, LIFProfile())
    assert not Projection.one_to_one(pre, post, 1).plastic
    proj = Projection.dense(pre, post, np.ones((2, 2), dtype=int), plastic=True)
    assert proj.plastic and repr(proj).endswith("4 synapses, plastic)")
    with pytest.raises(TypeError, match=r"^plastic must be a bool, not 1$"):
        Projection.one_to_one(pre, post, 1, plastic=1)

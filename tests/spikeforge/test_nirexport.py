"""Tiers 1 and 2 for ``spikeforge.nirexport``: a network written to NIR and read back is the
same network, parameter for parameter, and runs spike for spike the same on the golden chip."""

import nir
import numpy as np
import pytest

from golden_model.fixedpoint import Overflow, Rounding
from golden_model.params import LIFProfile, ResetMode
from spikeforge.network import InputPopulation, Network, Population, Projection
from spikeforge.nirexport import to_nir, write_nir
from spikeforge.nirgraph import read_nir
from spikeforge.quantise import quantise
from spikeforge.simulate import run

DT = 1e-3


def _profile(rng, reset):
    return LIFProfile(du=int(rng.choice([0, 1, 300, 2048, 4095])), du_offset=int(rng.integers(0, 2)),
                      dv=int(rng.choice([0, 5, 1000, 4095])), dv_offset=int(rng.integers(0, 2)),
                      vth=int(rng.integers(1, 5000)), bias_mant=int(rng.integers(-40, 40)),
                      bias_exp=int(rng.integers(0, 3)), reset=reset,
                      v_reset=int(rng.integers(-200, 1)), weight_exp=int(rng.integers(0, 6)),
                      rounding=Rounding.TOWARD_ZERO, u_overflow=Overflow.SATURATE,
                      v_overflow=Overflow.SATURATE)


def _random_network(seed, resets):
    """Populations a and b reset as ``resets`` says: "subtract", or "zero" (zero or a value)."""
    rng = np.random.default_rng(seed)
    modes = {"subtract": [ResetMode.SUBTRACT], "zero": [ResetMode.ZERO, ResetMode.VALUE]}
    net = Network()
    inp = net.add(InputPopulation(5, name="in"))
    a = net.add(Population(6, [_profile(rng, rng.choice(modes[resets[0]])) for _ in range(6)],
                           name="a", record=True))
    b = net.add(Population(4, _profile(rng, rng.choice(modes[resets[1]])), name="b",
                           record=True))
    net.add(Projection.sparse_random(inp, a, 0.6, rng.integers(-127, 128, (5, 6)),
                                     rng.integers(1, 4, (5, 6)), seed=seed),
            Projection.sparse_random(a, b, 0.5, rng.integers(-127, 128, (6, 4)),
                                     rng.integers(1, 3, (6, 4)), seed=seed + 1),
            Projection.sparse_random(b, a, 0.3, rng.integers(-127, 128, (4, 6)), 1, seed=seed + 2),
            Projection.dense(inp, b, rng.integers(-9, 10, (5, 4))))
    return net, inp


def _effective(network):
    """Per population: each neuron's dynamics; per (pre, post, i, j, delay): the summed
    effective weight (``weight << weight_exp``), what the chip computes with."""
    neurons, weights = {}, {}
    for pop in network.populations:
        if isinstance(pop, Population):
            neurons[pop.name] = [
                (p.du_eff, p.dv_eff, p.vth, p.bias,
                 p.v_reset if p.reset is ResetMode.VALUE else 0, p.reset is ResetMode.SUBTRACT)
                for p in (pop.profiles[i] for i in pop.neuron_profile)]
    for proj in network.projections:
        exps = np.array([proj.post.profiles[i].weight_exp for i in proj.post.neuron_profile])
        for i, j, w, d in zip(proj.pre_index, proj.post_index, proj.weight, proj.delay):
            key = (proj.pre.name.removeprefix("input:"), proj.post.name, int(i), int(j), int(d))
            weights[key] = weights.get(key, 0) + (int(w) << int(exps[j]))
    return neurons, {k: v for k, v in weights.items() if v}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("resets", [("zero", "zero"), ("subtract", "subtract"),
                                    ("subtract", "zero")])
def test_round_trip_is_exact(tmp_path, seed, resets):
    net, inp = _random_network(seed, resets)
    write_nir(net, tmp_path / "net.nir", DT)
    # Each node states its reset; the importer takes it from there.
    back = quantise(read_nir(tmp_path / "net.nir"), DT, "euler", weight_bits=8, scale=1)
    assert back.report.reset == (resets[0] if resets[0] == resets[1] else "per-node")
    assert _effective(back.network) == _effective(net)
    # The same integers, so the same spikes.
    counts = (np.random.default_rng(seed).random((60, 5)) < 0.4).astype(np.int64)
    original = run(net, {inp: counts})
    again = run(back.network, back.input_counts(counts))
    assert original.spikes[net.populations[1]].any()
    for pop in net.populations[1:]:
        np.testing.assert_array_equal(original.spikes[pop],
                                      again.spikes[back.populations[pop.name]])


def test_unnamed_groups_get_names():
    net = Network()
    inp = net.add(InputPopulation(2))
    pop = net.add(Population(2, LIFProfile(), record=True))
    net.add(Projection.one_to_one(inp, pop, 1))
    graph = to_nir(net, DT)
    assert sorted(graph.nodes) == ["input0", "input0->population1", "population1",
                                   "population1:out"]


def test_what_nir_cannot_say_is_refused():
    net = Network()
    inp = net.add(InputPopulation(2))
    pop = net.add(Population(2, [LIFProfile(refractory=2), LIFProfile()], name="a"))
    net.add(Projection.one_to_one(inp, pop, 1))
    with pytest.raises(ValueError, match=r"^population 'a' has a refractory period of 2 steps, "
                                         r"which NIR cannot express$"):
        to_nir(net, DT)
    net = Network()
    pop = net.add(Population(2, [LIFProfile(reset=ResetMode.SUBTRACT), LIFProfile()], name="m"))
    with pytest.raises(ValueError, match=r"^population 'm' mixes the subtract reset with zero; "
                                         r"a NIR node has one reset rule$"):
        to_nir(net, DT)
    with pytest.raises(ValueError, match=r"^dt must be given in seconds"):
        to_nir(Network(), None)


def test_exported_graph_is_valid_nir(tmp_path):
    net, _ = _random_network(9, ("zero", "subtract"))
    write_nir(net, tmp_path / "net.nir", DT)
    graph = nir.read(tmp_path / "net.nir")          # NIR's own type check passes
    kinds = sorted({type(n).__name__ for n in graph.nodes.values()})
    assert kinds == ["CubaLIF", "Delay", "Input", "Linear", "Output"]

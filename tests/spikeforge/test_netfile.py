"""Tiers 1 and 2 for ``spikeforge.netfile``: a network survives a save and a load exactly, and
every damaged file is refused whole, with a message that says what is wrong."""

import json
import re

import numpy as np
import pytest

from golden_model.params import LIFProfile, ResetMode
from spikeforge.netfile import NetworkFileError, load_network, save_network
from spikeforge.network import InputPopulation, Network, Population, Projection


def _network():
    net = Network()
    inp = net.add(InputPopulation(5, name="in"))
    fast = LIFProfile(du=100, dv=4095, dv_offset=1, vth=77, reset=ResetMode.SUBTRACT)
    slow = LIFProfile(du=7, dv=9, vth=1000, bias_mant=-3, bias_exp=2, refractory=2)
    a = net.add(Population(4, [fast, slow, slow, fast], name="a", record=True))
    b = net.add(Population(3, slow))
    rng = np.random.default_rng(1)
    net.add(Projection.dense(inp, a, rng.integers(-5, 6, (5, 4)), rng.integers(1, 4, (5, 4))),
            Projection.dense(a, b, rng.integers(-5, 6, (4, 3)), plastic=True))
    return net


def _same(x, y):
    assert [(type(p), p.n, p.name) for p in x.populations] == \
        [(type(p), p.n, p.name) for p in y.populations]
    for p, q in zip(x.populations, y.populations):
        if isinstance(p, Population):
            assert p.record == q.record
            assert [p.profiles[i] for i in p.neuron_profile] == \
                [q.profiles[i] for i in q.neuron_profile]
    for p, q in zip(x.projections, y.projections, strict=True):
        assert x.populations.index(p.pre) == y.populations.index(q.pre)
        assert x.populations.index(p.post) == y.populations.index(q.post)
        assert p.plastic == q.plastic
        for f in ("pre_index", "post_index", "weight", "delay"):
            np.testing.assert_array_equal(getattr(p, f), getattr(q, f))


def test_round_trip(tmp_path):
    net = _network()
    meta = {"source": "model.nir", "dt": 1e-3, "lag": {"a": 0}}
    save_network(net, tmp_path / "net.npz", meta=meta)
    loaded, got = load_network(tmp_path / "net.npz")
    _same(net, loaded)
    assert got == meta


def _rewrite(path, change):
    """Load the archive's parts, let ``change`` edit them, and write them back."""
    with np.load(path) as archive:
        parts = {k: archive[k] for k in archive.files}
    doc = json.loads(str(parts["network.json"]))
    change(doc, parts)
    parts["network.json"] = np.array(json.dumps(doc))
    with open(path, "wb") as f:
        np.savez(f, **parts)


@pytest.fixture
def saved(tmp_path):
    return save_network(_network(), tmp_path / "net.npz")


@pytest.mark.parametrize("change,message", [
    (lambda d, p: d.update(format="something-else"),
     " is not a spikeforge network file: its format is 'something-else'"),
    (lambda d, p: d.update(version=9), ": version 9 is not one this spikeforge reads (it reads 1)"),
    (lambda d, p: p.pop("proj1_weight"), ": the network in it is damaged: 'proj1_weight' is "
                                         "missing"),
    (lambda d, p: d["groups"][1]["profiles"][0].update(du=5000),
     ": the network in it is damaged: du must be between 0 and 4095, not 5000"),
    (lambda d, p: d["projections"][0].update(pre=-1),
     ": the network in it is damaged: projection 0's pre is -1, not a group index below 3"),
    (lambda d, p: p.update(group1_neuron_profile=np.array([0, 1, 2, 0])),
     ": the network in it is damaged: group 1's profile index does not fit its 4 neurons and 2 "
     "profiles"),
    (lambda d, p: p.update(proj0_delay=p["proj0_delay"] * 0),
     ": the network in it is damaged: synapses delay[0] must be between 1 and 64, not 0"),
    (lambda d, p: p.update(proj0_delay=np.ones(21, dtype=np.int64)),
     ": the network in it is damaged: synapses delay must be a scalar or have shape (18,) (one "
     "per synapse), not (21,)"),
    (lambda d, p: d["groups"][0].update(kind="bias"),
     ": the network in it is damaged: group 0 has kind 'bias', not population or input"),
])
def test_damaged_contents(saved, change, message):
    _rewrite(saved, change)
    with pytest.raises(NetworkFileError, match="^" + re.escape(str(saved) + message) + "$"):
        load_network(saved)


def test_not_a_network_file(tmp_path, saved):
    with pytest.raises(NetworkFileError, match=r"nope\.npz: no such file$"):
        load_network(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(NetworkFileError, match=r"text\.npz is not a spikeforge network file "
                                               r"\(it cannot be read as an \.npz archive"):
        load_network(tmp_path / "text.npz")
    data = saved.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(NetworkFileError, match=r"cut\.npz is not a spikeforge network file"):
        load_network(tmp_path / "cut.npz")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(NetworkFileError, match=r"other\.npz is not a spikeforge network file: "
                                               r"it has no network\.json$"):
        load_network(tmp_path / "other.npz")


def test_save_arguments(tmp_path):
    with pytest.raises(TypeError, match=r"^network must be a Network, not 3$"):
        save_network(3, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"^meta must hold only JSON values: "):
        save_network(_network(), tmp_path / "x.npz", meta={"x": object()})

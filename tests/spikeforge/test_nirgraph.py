"""Tiers 1 and 2 for ``spikeforge.nirgraph``: every fixture graph from other frameworks reads,
and every malformed file or graph is refused with a message that names what is wrong."""

import re
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest

from spikeforge.nirgraph import SUPPORTED_NODES, NIRImportError, from_nir, read_nir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nir"

# (file, inputs {name: shape}, outputs {name: shape}, node count, recurrent edges)
EXPECTED = [
    ("nir-paper/01_lif/lif_norse.nir", {"input": (1,)}, {"output": (1,)}, 4, set()),
    ("nir-paper/01_lif/lif_rockpool.nir", {"input": (1,)}, {"output": (1,)}, 4, set()),
    ("nir-paper/01_lif/two_lif_neurons.nir", {"in": (1,)}, {"out": (1,)}, 6, set()),
    ("nir-paper/02_cnn/cnn_sinabs.nir", {"input": (2, 34, 34)}, {"output": (10,)}, 15, set()),
    ("nir-paper/03_rnn/braille_noDelay_bias_zero.nir", {"input": (12,)}, {"output": (7,)}, 7,
     {("lif1.w_rec", "lif1.lif")}),
    ("nir-paper/03_rnn/braille_noDelay_noBias_subtract.nir", {"input": (12,)}, {"output": (7,)},
     7, {("lif1.w_rec", "lif1.lif")}),
    ("norse_2layer.nir", {"input": (8,)}, {"output": (4,)}, 6, set()),
    ("lif_affine.nir", {"input": (4,)}, {"output": (3,)}, 4, set()),
    ("cubalif_linear.nir", {"input": (4,)}, {"output": (3,)}, 4, set()),
]


def test_every_fixture_is_covered():
    found = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.nir"))
    assert found == sorted(name for name, *_ in EXPECTED)


@pytest.mark.parametrize("name,inputs,outputs,n_nodes,recurrent", EXPECTED,
                         ids=[Path(e[0]).stem for e in EXPECTED])
def test_fixture_graph_reads(name, inputs, outputs, n_nodes, recurrent):
    g = read_nir(FIXTURES / name)
    assert {n: g.out_shape[n] for n in g.inputs} == inputs
    assert {n: g.in_shape[n] for n in g.outputs} == outputs
    assert len(g.nodes) == n_nodes
    assert set(g.recurrent) == recurrent
    # Every forward edge goes forward in the evaluation order.
    position = {n: i for i, n in enumerate(g.order)}
    for edge in g.edges:
        if edge not in g.recurrent:
            assert position[edge[0]] < position[edge[1]], edge


def test_cnn_shapes_are_worked_out_along_the_graph():
    g = read_nir(FIXTURES / "nir-paper/02_cnn/cnn_sinabs.nir")
    # (34 + 2*1 - 5) // 2 + 1 = 16; pools halve; 8 channels * 4 * 4 = 128 into the Affine.
    assert g.out_shape["0"] == (16, 16, 16)
    assert g.out_shape["4"] == (16, 8, 8)
    assert g.out_shape["7"] == (8, 4, 4)
    assert g.out_shape["8"] == (128,)
    assert g.out_shape["12"] == (10,)


# ---- graphs built here ------------------------------------------------------------------------

def lif(n, tau=0.01, vth=1.0, v_reset=0.0):
    return nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n),
                   v_threshold=np.full(n, vth), v_reset=np.full(n, v_reset))


def graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def simple(n_in=4, n_out=3, **lif_args):
    return graph({"input": nir.Input(input_type=np.array([n_in])),
                  "fc": nir.Linear(weight=np.ones((n_out, n_in))),
                  "lif": lif(n_out, **lif_args),
                  "output": nir.Output(output_type=np.array([n_out]))},
                 [("input", "fc"), ("fc", "lif"), ("lif", "output")])


def test_subgraphs_are_flattened_to_dotted_names():
    inner = graph({"input": nir.Input(input_type=np.array([3])),
                   "lif": lif(3),
                   "w_rec": nir.Linear(weight=np.eye(3)),
                   "output": nir.Output(output_type=np.array([3]))},
                  [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    outer = graph({"input": nir.Input(input_type=np.array([4])),
                   "fc": nir.Linear(weight=np.ones((3, 4))),
                   "rnn": inner,
                   "output": nir.Output(output_type=np.array([3]))},
                  [("input", "fc"), ("fc", "rnn"), ("rnn", "output")])
    g = from_nir(outer)
    assert sorted(g.nodes) == ["fc", "input", "output", "rnn.lif", "rnn.w_rec"]
    assert sorted(g.edges) == [("fc", "rnn.lif"), ("input", "fc"), ("rnn.lif", "output"),
                               ("rnn.lif", "rnn.w_rec"), ("rnn.w_rec", "rnn.lif")]
    assert g.recurrent == {("rnn.w_rec", "rnn.lif")}
    assert g.order.index("fc") < g.order.index("rnn.lif") < g.order.index("rnn.w_rec")


def test_a_written_graph_reads_back(tmp_path):
    nir.write(tmp_path / "g.nir", simple())
    g = read_nir(tmp_path / "g.nir")
    assert g.inputs == ("input",) and g.outputs == ("output",)
    assert g.source == str(tmp_path / "g.nir")


# ---- bad files --------------------------------------------------------------------------------

def _retype(path, changes):
    """Rewrite node types inside a NIR file, as a newer or foreign exporter would write them."""
    with h5py.File(path, "r+") as f:
        for name, kind in changes.items():
            group = f["node"]["nodes"][name]
            del group["type"]
            group.create_dataset("type", data=kind, dtype=h5py.string_dtype())


def test_missing_file(tmp_path):
    with pytest.raises(NIRImportError, match=r"^.*nope\.nir: no such file$"):
        read_nir(tmp_path / "nope.nir")


def test_folder(tmp_path):
    with pytest.raises(NIRImportError, match=r"is a folder, not a NIR file$"):
        read_nir(tmp_path)


def test_truncated_file(tmp_path):
    data = (FIXTURES / "nir-paper/03_rnn/braille_noDelay_bias_zero.nir").read_bytes()
    (tmp_path / "cut.nir").write_bytes(data[:len(data) // 2])
    with pytest.raises(NIRImportError, match=r"cut\.nir is not a NIR file: it cannot be read "
                                             r"as HDF5 \(a truncated or partly copied file "
                                             r"looks like this\)"):
        read_nir(tmp_path / "cut.nir")


def test_text_file(tmp_path):
    (tmp_path / "model.nir").write_text("not a graph\n")
    with pytest.raises(NIRImportError, match=r"model\.nir is not a NIR file: it cannot be read "
                                             r"as HDF5"):
        read_nir(tmp_path / "model.nir")


def test_hdf5_that_is_not_nir(tmp_path):
    with h5py.File(tmp_path / "data.nir", "w") as f:
        f.create_dataset("x", data=np.arange(3))
    with pytest.raises(NIRImportError, match=r"data\.nir is an HDF5 file but not a NIR graph: "
                                             r"it has no 'node' group with a type$"):
        read_nir(tmp_path / "data.nir")


def test_every_unsupported_node_is_named_at_once(tmp_path):
    nir.write(tmp_path / "g.nir", simple())
    _retype(tmp_path / "g.nir", {"fc": "Conv3d", "lif": "Izhikevich"})
    with pytest.raises(NIRImportError) as info:
        read_nir(tmp_path / "g.nir")
    assert str(info.value) == (f"{tmp_path / 'g.nir'}: 2 unsupported NIR nodes: 'fc' (Conv3d), "
                               f"'lif' (Izhikevich); spikeforge supports "
                               f"{', '.join(SUPPORTED_NODES)}")


def test_malformed_node(tmp_path):
    nir.write(tmp_path / "g.nir", simple())
    with h5py.File(tmp_path / "g.nir", "r+") as f:
        del f["node"]["nodes"]["lif"]["tau"]
    with pytest.raises(NIRImportError, match=r"g\.nir: the NIR graph is malformed: .*tau"):
        read_nir(tmp_path / "g.nir")


# ---- bad graphs -------------------------------------------------------------------------------

def _refused(g, pattern):
    with pytest.raises(NIRImportError, match=pattern):
        from_nir(g)


def test_shapes_that_do_not_fit_along_an_edge():
    g = simple()
    g.nodes["lif"] = lif(5)
    g.nodes["output"] = nir.Output(output_type=np.array([5]))
    _refused(g, r"^graph: the edge 'fc' → 'lif' does not fit: 'fc' gives shape \(3,\), 'lif' "
                r"takes shape \(5,\)$")


def test_negative_tau():
    g = simple()
    g.nodes["lif"].tau[1] = -0.01
    _refused(g, r"^graph: node 'lif' \(LIF\): tau must be a positive time in seconds, not -0\.01 "
                r"\(index 1\)$")


def test_zero_tau_mem():
    g = simple()
    g.nodes["lif"] = nir.CubaLIF(tau_syn=np.full(3, 1e-3), tau_mem=np.array([1e-3, 0, 1e-3]),
                                 r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3),
                                 v_reset=np.zeros(3))
    _refused(g, r"^graph: node 'lif' \(CubaLIF\): tau_mem must be a positive time in seconds, not 0 "
                r"\(index 1\)$")


def test_nan_weight():
    g = simple()
    g.nodes["fc"].weight[2, 1] = np.nan
    _refused(g, r"^graph: node 'fc' \(Linear\): weight must be finite, but holds nan at index \(2, 1\) "
                r"\(1 such value\)$")


def test_inf_threshold():
    g = simple()
    g.nodes["lif"].v_threshold[:] = np.inf
    _refused(g, r"^graph: node 'lif' \(LIF\): v_threshold must be finite, but holds inf at index "
                r"\(0,\) \(3 such values\)$")


def test_reset_at_or_above_threshold():
    _refused(simple(vth=1.0, v_reset=1.5),
             r"^graph: node 'lif' \(LIF\): v_reset must not be above v_threshold, or the neuron fires "
             r"for ever; index 0 has v_reset 1\.5 and v_threshold 1$")


def test_negative_delay():
    g = simple()
    g.nodes["delay"] = nir.Delay(delay=np.array([1e-3, -1e-3, 0.0]))
    g.edges = [("input", "fc"), ("fc", "delay"), ("delay", "lif"), ("lif", "output")]
    _refused(g, r"^graph: node 'delay' \(Delay\): delay must be 0 or more seconds, not -0\.001 "
                r"\(index 1\)$")


def test_edge_to_a_node_that_is_not_there():
    g = simple()
    g.edges = g.edges + [("lif", "readout")]
    _refused(g, r"^graph: an edge names 'readout', which is not a node of the graph$")


def test_no_input_and_no_output():
    g = simple()
    del g.nodes["input"]
    g.edges = [e for e in g.edges if e[0] != "input"]
    _refused(g, r"^graph: the graph has no Input node$")
    g = simple()
    del g.nodes["output"]
    g.edges = [e for e in g.edges if e[1] != "output"]
    _refused(g, r"^graph: the graph has no Output node$")


def test_edge_into_an_input():
    g = simple()
    g.edges = g.edges + [("lif", "input")]
    _refused(g, r"^graph: the edge 'lif' → 'input' goes into an Input node$")


def test_conv_kernel_larger_than_its_input():
    g = graph({"input": nir.Input(input_type=np.array([1, 3, 3])),
               "conv": nir.Conv2d(input_shape=(3, 3), weight=np.ones((2, 1, 5, 5)), stride=1,
                                  padding=0, dilation=1, groups=1, bias=np.zeros(2)),
               "output": nir.Output(output_type=np.array([2, 1, 1]))},
              [("input", "conv"), ("conv", "output")])
    _refused(g, r"^graph: node 'conv' \(Conv2d\): a \(5, 5\) kernel does not fit input \(3, 3\) "
                r"with padding \(0, 0\)$")


def test_parameters_of_different_shapes():
    g = simple()
    g.nodes["lif"].r = np.ones(4)
    _refused(g, r"^graph: node 'lif' \(LIF\): its parameters must all have one shape, not tau \(3,\), "
                r"r \(4,\), v_leak \(3,\), v_threshold \(3,\), v_reset \(3,\)$")


def test_not_a_graph():
    with pytest.raises(TypeError, match=r"^graph must be a nir.NIRGraph, not LIF$"):
        from_nir(lif(2))


def test_the_fixture_folder_has_real_exports():
    # The Rockpool file is one NIR's own type check refuses; it must still read here.
    with pytest.raises(ValueError, match=re.escape("type mismatch")):
        nir.read(FIXTURES / "nir-paper/01_lif/lif_rockpool.nir")

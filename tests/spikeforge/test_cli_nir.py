"""The front-end commands: ``import``, ``run``, ``verify`` and ``plot``, their output, their
files, and user errors that end in one sentence, never a traceback."""

import re

import h5py
import nir
import numpy as np
import pytest

from spikeforge.cli import main
from spikeforge.frontend import first_divergence, make_inputs
from spikeforge.netfile import load_network as load
from spikeforge.nirgraph import read_nir
from spikeforge.quantise import quantise

from .conftest import BRAILLE, FIXTURES


def test_import_prints_the_report_and_writes_the_network(tmp_path, capsys):
    out = tmp_path / "b.npz"
    assert main(["import", str(BRAILLE), "--dt", "1e-4", "--weight-bits", "8",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("quantisation: exact discretisation at dt = 0.0001 s, zero reset, "
                           "8-bit weights, 24-bit state\n")
    assert "wrote " + str(out) + ": 2 populations, 47 neurons, " in text
    network, meta = load(out)
    assert meta["method"] == "exact" and meta["dt"] == 1e-4 and meta["lag"] == {"lif1.lif": 0,
                                                                              "lif2": 1}
    assert meta["inputs"] == {"input": {"population": "input:input", "shape": [12]}}
    assert [p.name for p in network.populations] == ["input:input", "lif1.lif", "lif2"]


def test_run_matches_the_quantised_graph_on_the_golden_model(braille, tmp_path, capsys):
    out = tmp_path / "spikes.npz"
    assert main(["run", str(braille), "--steps", "150", "--rate", "800", "--seed", "4",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    network, meta = load(braille)
    counts, steps = make_inputs(network, meta, 150, rate_hz=800, seed=4)
    q = quantise(read_nir(BRAILLE), 1e-4, "euler", reset="subtract", weight_bits=12)
    want, _ = q.run_golden(next(iter(counts.values())))
    with np.load(out) as got:
        for name in ("lif1.lif", "lif2"):
            np.testing.assert_array_equal(got[name], want[name].astype(bool))
            assert f"'{name}'" in text and f"{int(want[name].sum())} spikes" in text


def test_plot_writes_three_pngs(braille, tmp_path, capsys):
    assert main(["plot", str(braille), "--steps", "60", "--rate", "800", "--out",
                 str(tmp_path / "plots")]) == 0
    for name in ("raster.png", "voltage.png", "weights.png"):
        data = (tmp_path / "plots" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_run_with_an_input_array(braille, tmp_path, capsys):
    counts = (np.random.default_rng(2).random((40, 12)) < 0.2).astype(np.int64)
    np.save(tmp_path / "in.npy", counts)
    assert main(["run", str(braille), "--input", str(tmp_path / "in.npy")]) == 0
    assert "40 steps on the golden model" in capsys.readouterr().out
    np.save(tmp_path / "bad.npy", counts[:, :5])
    assert main(["run", str(braille), "--input", str(tmp_path / "bad.npy")]) == 2
    assert capsys.readouterr().err == ("spikeforge run: error: the input array must be [T, 12] "
                                       "spike counts for 'input:input', not shape (40, 5)\n")


@pytest.mark.cocotb
def test_verify_agrees(braille, capsys):
    assert main(["verify", str(braille), "--steps", "12", "--rate", "2000"]) == 0
    assert "RTL and golden model agree: every spike of 12 steps on 1 of 1x1 cores" in \
        capsys.readouterr().out


FIXTURE_GRAPHS = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.nir"))


@pytest.mark.parametrize("name", FIXTURE_GRAPHS)
def test_every_fixture_graph_imports(name, tmp_path, capsys):
    # Exact integration at the paper's dt takes every graph, Norse's too-small taus included
    # (under Euler those are refused; see the user-error cases below).
    out = tmp_path / "net.npz"
    assert main(["import", str(FIXTURES / name), "--dt", "1e-4", "-o", str(out)]) == 0
    network, meta = load(out)
    graph = read_nir(FIXTURES / name)
    neurons = [n for n in graph.order if graph.type_of(n) in ("LIF", "CubaLIF", "IF", "LI",
                                                              "CubaLI", "I", "Threshold")]
    assert sorted(meta["lag"]) == sorted(neurons)
    assert sum(p.n for p in network.populations if p.name in neurons) == \
        sum(graph.size(n) for n in neurons)
    assert capsys.readouterr().out.startswith("quantisation: exact discretisation")


def test_a_divergence_is_named_by_population_and_neuron():
    from golden_model import CoreParams, LIFProfile
    from golden_model.chip import ChipParams
    from spikeforge.compiler import compile_network
    from spikeforge.frontend import locate
    from spikeforge.network import InputPopulation, Network, Population, Projection
    net = Network()
    inp = net.add(InputPopulation(2, name="in"))
    a = net.add(Population(20, LIFProfile(), name="a"))
    b = net.add(Population(10, LIFProfile(), name="b"))
    net.add(Projection.dense(inp, a, np.ones((2, 20), dtype=int)),
            Projection.dense(inp, b, np.ones((2, 10), dtype=int)))
    compiled = compile_network(net, ChipParams(2, 2, CoreParams(n_neurons=16, n_axons=4,
                                                                n_synapses=64)))
    # a fills core 0,0 and 4 neurons of core 1,0; b follows on core 1,0.
    assert locate(compiled, 0, 0, 5) == ("'a'", 5)
    assert locate(compiled, 1, 0, 3) == ("'a'", 19)
    assert locate(compiled, 1, 0, 4) == ("'b'", 0)
    assert locate(compiled, 1, 1, 0) == ("core 1,1", 0)


def test_first_divergence_by_hand():
    golden = [(0, 0, 0, 3), (1, 0, 0, 2), (1, 1, 0, 5), (3, 0, 0, 1)]
    assert first_divergence(golden, list(reversed(golden))) is None
    assert first_divergence(golden, golden[:1] + golden[2:]) == (1, (0, 0, 2))
    assert first_divergence(golden, golden + [(2, 1, 0, 7)]) == (2, (1, 0, 7))
    assert first_divergence(golden, golden + [(1, 0, 0, 2)]) == (1, (0, 0, 2))


# ---- user errors: a sentence on stderr, exit 2, no traceback ----------------------------------

def _bad_files(tmp_path):
    nir.write(tmp_path / "good.nir", read_nir_graph())
    cut = (tmp_path / "good.nir").read_bytes()
    (tmp_path / "cut.nir").write_bytes(cut[:len(cut) // 3])
    nir.write(tmp_path / "odd.nir", read_nir_graph())
    with h5py.File(tmp_path / "odd.nir", "r+") as f:
        del f["node"]["nodes"]["lif"]["type"]
        f["node"]["nodes"]["lif"].create_dataset("type", data="Izhikevich",
                                                 dtype=h5py.string_dtype())
    nir.write(tmp_path / "neg.nir", read_nir_graph(tau=-1e-3))
    (tmp_path / "norse.nir").write_bytes((FIXTURES / "norse_2layer.nir").read_bytes())


def read_nir_graph(tau=1e-2):
    return nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([2])),
                               "fc": nir.Linear(weight=np.ones((2, 2))),
                               "lif": nir.LIF(tau=np.full(2, tau), r=np.ones(2),
                                              v_leak=np.zeros(2), v_threshold=np.ones(2),
                                              v_reset=np.zeros(2)),
                               "output": nir.Output(output_type=np.array([2]))},
                        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
                        type_check=False)


@pytest.mark.parametrize("argv,message", [
    (["import", "{d}/none.nir", "--dt", "1e-3"], "{d}/none.nir: no such file"),
    (["import", "{d}/cut.nir", "--dt", "1e-3"],
     "{d}/cut.nir is not a NIR file: it cannot be read as HDF5"),
    (["import", "{d}/odd.nir", "--dt", "1e-3"], "{d}/odd.nir: 1 unsupported NIR node: 'lif' "
                                                "(Izhikevich); spikeforge supports"),
    (["import", "{d}/neg.nir", "--dt", "1e-3"], "{d}/neg.nir: node 'lif' (LIF): tau must be a "
                                                "positive time in seconds, not -0.001"),
    (["import", "{d}/good.nir", "--dt", "-1"], "dt must be a positive, finite number of "
                                               "seconds, not -1.0"),
    (["import", "{d}/good.nir", "--dt", "nan"], "dt must be a positive, finite number of "
                                                "seconds, not nan"),
    (["import", "{d}/good.nir", "--dt", "1e-3", "--weight-bits", "20"],
     "weight_bits must be an integer between 2 and 16, not 20"),
    (["import", "{d}/good.nir", "--dt", "0.02", "--method", "euler"],
     "{d}/good.nir: node 'lif' (LIF): forward Euler needs dt <= tau, but tau is 0.01 s at index "
     "0 and dt is "
     "0.02 s"),
    (["import", "{d}/norse.nir", "--dt", "1e-4", "--method", "euler"],
     "{d}/norse.nir: node '1' (LIF): forward Euler needs dt <= tau, but tau is 1e-05 s"),
    (["run", "{d}/none.npz"], "{d}/none.npz: no such file"),
    (["run", "{d}/good.nir"], "{d}/good.nir is not a spikeforge network file"),
    (["plot", "{d}/good.nir"], "{d}/good.nir is not a spikeforge network file"),
    (["verify", "{d}/none.npz"], "{d}/none.npz: no such file"),
])
def test_user_errors_are_one_sentence(tmp_path, capsys, argv, message):
    _bad_files(tmp_path)
    argv = [a.format(d=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spikeforge {argv[0]}: error: " + message.format(d=tmp_path))
    assert "Traceback" not in err and err.count("\n") == 1


def test_dt_is_required(capsys):
    with pytest.raises(SystemExit) as info:
        main(["import", "model.nir"])
    assert info.value.code == 2
    assert "the following arguments are required: --dt" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["import", "run", "verify", "plot", "power", "build",
                                     "program", "demo"])
def test_every_command_has_help_with_examples(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    if command == "demo":
        assert "usage: spikeforge demo" in out
    else:
        assert re.search(rf"^  spikeforge {command} ", out, re.M), out

"""Tier 2 for ``spikeforge.quantise``: the integer network on the golden chip against the float
path, step for step where the mapping is exact, in spike counts on the braille RNNs, and a
report checked by hand."""

from pathlib import Path

import nir
import numpy as np
import pytest

from spikeforge.nirgraph import NIRImportError, from_nir, read_nir
from spikeforge.nirsim import FloatNetwork
from spikeforge.quantise import count_agreement, quantise

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nir"
BRAILLE = {"zero": "nir-paper/03_rnn/braille_noDelay_bias_zero.nir",
           "subtract": "nir-paper/03_rnn/braille_noDelay_noBias_subtract.nir"}


def _graph(nodes, edges):
    return from_nir(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))


def _lif(n, tau, r=1.0, vth=1.0):
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.zeros(n),
                   v_threshold=np.full(n, vth), v_reset=np.zeros(n))


def _two_layers(w1, w2, tau=2e-3, r=2.0):
    """Input → Linear → LIF → Linear → LIF → Output; dt = 1e-3 makes beta 0.5, gain r/2."""
    n_in, n1, n2 = w1.shape[1], w1.shape[0], w2.shape[0]
    return _graph({"input": nir.Input(input_type=np.array([n_in])),
                   "fc1": nir.Linear(weight=w1), "lif1": _lif(n1, tau, r),
                   "fc2": nir.Linear(weight=w2), "lif2": _lif(n2, tau, r),
                   "output": nir.Output(output_type=np.array([n2]))},
                  [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
                   ("lif2", "output")])


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_euler_is_step_exact_when_the_values_are_binary_fractions(reset):
    # Weights in 1/64ths, beta 1/2, threshold 1: every value has an exact chip image, so the
    # chip reproduces the float path spike for spike, the second layer one step later.
    rng = np.random.default_rng(5)
    w1 = rng.integers(-40, 90, (6, 5)) / 64
    w2 = rng.integers(-40, 90, (4, 6)) / 64
    g = _two_layers(w1, w2)
    x = (rng.random((150, 5)) < 0.3).astype(float)
    fl = FloatNetwork(g, 1e-3, "euler", reset=reset).run(x, record=["lif1", "lif2"])
    q = quantise(g, 1e-3, "euler", reset=reset, weight_bits=8)
    assert q.lag == {"lif1": 0, "lif2": 1}
    spikes, v = q.run_golden(x)
    assert fl.spikes["lif1"].sum() > 40 and fl.spikes["lif2"].sum() > 20
    np.testing.assert_array_equal(spikes["lif1"], fl.spikes["lif1"])
    np.testing.assert_array_equal(spikes["lif2"][1:], fl.spikes["lif2"][:-1])
    # Decay rounds toward zero on the chip: within a few units of its resolution.
    np.testing.assert_allclose(v["lif1"], fl.v["lif1"], atol=1e-5)
    np.testing.assert_allclose(v["lif2"][1:], fl.v["lif2"][:-1], atol=1e-5)


def test_report_by_hand():
    # gain = (1 - beta) r = 1 and s = 2**20 (threshold 1, 2**23 range, 3 bits of headroom).
    # Weights 0.5 and 0.003 become 524288 and 3145.7: exponent ceil(log2(524288 / 127)) = 13,
    # so the mantissas are 64 and round(0.384) = 0 - the small weight is zeroed.
    g = _graph({"input": nir.Input(input_type=np.array([2])),
                "fc": nir.Linear(weight=np.array([[0.5, 0.003]])), "lif": _lif(1, 2e-3, r=2.0),
                "output": nir.Output(output_type=np.array([1]))},
               [("input", "fc"), ("fc", "lif"), ("lif", "output")])
    q = quantise(g, 1e-3, "euler", weight_bits=8)
    assert q.scale == {"lif": 2.0 ** 20}
    (profile,) = q.populations["lif"].profiles
    assert profile.weight_exp == 13 and profile.vth == 2 ** 20 and profile.dv == 2048
    (proj,) = q.network.projections
    assert proj.pre_index.tolist() == [0] and proj.weight.tolist() == [64]
    rows = {r.parameter: r for r in q.report.rows}
    assert rows["weight"].float_max == 0.5
    assert rows["weight"].max_abs_error == pytest.approx(0.003)
    assert rows["weight"].max_rel_error == pytest.approx(0.006)
    assert rows["weight"].zeroed == 1 and rows["weight"].clipped == 0
    assert rows["beta"].max_abs_error == 0 and rows["v_threshold"].max_abs_error == 0
    text = q.report.format()
    assert text.splitlines()[0] == ("quantisation: euler discretisation at dt = 0.001 s, zero "
                                    "reset, 8-bit weights, 24-bit state")
    assert "lif              weight" in text
    assert "timing: spikes lag the float path by one step per neuron-to-neuron hop (none here)" \
        in text


def _braille_agreement(reset, bits, seed=0, steps=1000):
    g = read_nir(FIXTURES / BRAILLE[reset])
    x = (np.random.default_rng(seed).random((steps, 12)) < 0.1).astype(float)
    fl = FloatNetwork(g, 1e-4, "euler", reset=reset).run(x)
    spikes, _ = quantise(g, 1e-4, "euler", reset=reset, weight_bits=bits).run_golden(x)
    return count_agreement({k: fl.spikes[k] for k in spikes}, spikes)


@pytest.mark.parametrize("reset", ["zero", "subtract"])
@pytest.mark.parametrize("bits", [12, 16])
def test_braille_rnn_counts_agree(reset, bits):
    assert _braille_agreement(reset, bits) >= 0.95


def test_cnn_first_layer_agrees():
    # Sinabs' IF integrates its input once per step: dt = 1 with r = 1.
    g = read_nir(FIXTURES / "nir-paper/02_cnn/cnn_sinabs.nir")
    x = (np.random.default_rng(2).random((6, 2, 34, 34)) < 0.1).astype(float)
    fl = FloatNetwork(g, 1.0, "euler").run(x)
    q = quantise(g, 1.0, "euler", weight_bits=16)
    spikes, _ = q.run_golden(x)
    assert q.lag["1"] == 0 and fl.spikes["1"].sum() > 500
    assert count_agreement(spikes["1"], fl.spikes["1"]) >= 0.98
    assert (spikes["1"] != fl.spikes["1"]).mean() < 0.01


def test_count_agreement_by_hand():
    a = np.array([[1, 0], [1, 1], [0, 0]])    # counts 2, 1
    b = np.array([[1, 0], [0, 0], [1, 0]])    # counts 2, 0
    assert count_agreement(a, b) == 2 / 3
    assert count_agreement(np.zeros((3, 2)), np.zeros((3, 2))) == 1.0
    with pytest.raises(ValueError, match=r"^a and b must have the same neurons, not \(2,\) and "
                                         r"\(3,\)$"):
        count_agreement(a, np.zeros((3, 3)))


# ---- bad input --------------------------------------------------------------------------------

@pytest.fixture
def small():
    return _two_layers(np.ones((3, 2)) / 4, np.ones((2, 3)) / 4)


@pytest.mark.parametrize("bits", [1, 17, 8.0, True])
def test_weight_bits_range(small, bits):
    with pytest.raises(ValueError, match=rf"^weight_bits must be an integer between 2 and 16, "
                                         rf"not {bits!r}$"):
        quantise(small, 1e-3, "euler", weight_bits=bits)


def test_euler_needs_dt_within_tau(small):
    with pytest.raises(NIRImportError, match=r"^graph: node 'lif1' \(LIF\): forward Euler needs dt <= "
                                             r"tau, but tau is 0\.002 s at index 0 and dt is "
                                             r"0\.003 s; choose method 'exact' or a smaller dt$"):
        quantise(small, 3e-3, "euler")


def test_a_readout_cannot_feed_a_neuron():
    g = _graph({"input": nir.Input(input_type=np.array([2])),
                "li": nir.LI(tau=np.full(2, 1e-2), r=np.ones(2), v_leak=np.zeros(2)),
                "fc": nir.Linear(weight=np.eye(2)), "lif": _lif(2, 1e-2),
                "output": nir.Output(output_type=np.array([2]))},
               [("input", "li"), ("li", "fc"), ("fc", "lif"), ("lif", "output")])
    with pytest.raises(NIRImportError, match=r"^graph: node 'li' \(LI\) does not spike, so it "
                                             r"can only be read out, but it feeds 'fc'$"):
        quantise(g, 1e-3, "exact")


def test_a_readout_is_read_through_its_voltage():
    # LI under Euler: v' = beta v + (1 - beta) r x; the chip's v, scaled back, follows it.
    g = _graph({"input": nir.Input(input_type=np.array([2])),
                "fc": nir.Linear(weight=np.array([[0.5, -0.25], [0.125, 1.0]])),
                "li": nir.LI(tau=np.full(2, 4e-3), r=np.ones(2), v_leak=np.zeros(2)),
                "output": nir.Output(output_type=np.array([2]))},
               [("input", "fc"), ("fc", "li"), ("li", "output")])
    x = (np.random.default_rng(1).random((60, 2)) < 0.5).astype(float)
    fl = FloatNetwork(g, 1e-3, "euler").run(x, record=["li"])
    spikes, v = quantise(g, 1e-3, "euler", weight_bits=12).run_golden(x)
    assert spikes["li"].sum() == 0
    np.testing.assert_allclose(v["li"], fl.v["li"], atol=1e-4)


def test_chip_inputs_are_spike_counts(small):
    q = quantise(small, 1e-3, "euler")
    with pytest.raises(ValueError, match=r"^inputs\['input'\] must hold spike counts \(whole "
                                         r"numbers of 0 or more\) for the chip; step 1, neuron 0 "
                                         r"holds 0\.5$"):
        q.input_counts(np.array([[1.0, 0.0], [0.5, 0.0]]))
    with pytest.raises(ValueError, match=r"^inputs\['input'\] must have shape \[T, 2\], not "
                                         r"\(4, 3\)$"):
        q.input_counts(np.zeros((4, 3)))


def test_stateless_nodes_and_delays_fold_onto_the_chip():
    # Conv1d, Flatten and a Delay that holds half the elements two steps longer, into a LIF;
    # then Scale into a Threshold. Values are binary fractions, so the chip is step-exact
    # against the float path (the second neuron node one step late).
    rng = np.random.default_rng(8)
    w = rng.integers(-8, 9, (2, 1, 3)) / 8
    nodes = {"input": nir.Input(input_type=np.array([1, 8])),
             "conv": nir.Conv1d(input_shape=8, weight=w, stride=1, padding=1, dilation=1,
                                groups=1, bias=np.zeros(2)),
             "flat": nir.Flatten(input_type={"input": np.array([2, 8])}, start_dim=0, end_dim=-1),
             "delay": nir.Delay(delay=np.repeat([0.0, 2e-3], 8)),
             "lif": _lif(16, 2e-3, r=2.0),
             "scale": nir.Scale(scale=np.full(16, 0.75)),
             "thr": nir.Threshold(threshold=np.full(16, 0.5)),
             "output": nir.Output(output_type=np.array([16]))}
    g = _graph(nodes, [("input", "conv"), ("conv", "flat"), ("flat", "delay"),
                       ("delay", "lif"), ("lif", "scale"), ("scale", "thr"), ("thr", "output")])
    x = (rng.random((80, 1, 8)) < 0.5).astype(float)
    fl = FloatNetwork(g, 1e-3, "euler").run(x, record=["lif"])
    q = quantise(g, 1e-3, "euler", weight_bits=8)
    delays = sorted({int(d) for p in q.network.projections for d in p.delay})
    assert delays == [1, 3] and q.lag == {"lif": 0, "thr": 1}
    spikes, v = q.run_golden(x)
    assert fl.spikes["lif"].sum() > 25 and fl.spikes["thr"].sum() > 10
    np.testing.assert_array_equal(spikes["lif"], fl.spikes["lif"])
    np.testing.assert_array_equal(spikes["thr"][1:], fl.spikes["thr"][:-1])

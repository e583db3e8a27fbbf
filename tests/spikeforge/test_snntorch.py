"""snnTorch's NIR export, when snnTorch is installed (``pip install spikeforge[snntorch]``):
a network trained in snnTorch, exported and imported at snnTorch's dt with forward Euler,
spikes step for step as it did in snnTorch, and the quantised chip follows it.

snnTorch delays its reset by one step unless ``reset_delay=False``; NIR has no way to say
so, so the networks here are built without the delay, as a user exporting for hardware must.
With the subtract reset snnTorch also differs once a voltage is still above threshold after
the subtraction (over twice the threshold before it) and the next step does not spike: it
then adds the threshold back. The subtract cases here are driven gently enough to avoid it.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
snn_utils = pytest.importorskip("snntorch.utils")
pytest.importorskip("nirtorch")

import nir                                         # noqa: E402

from spikeforge.nirgraph import read_nir           # noqa: E402
from spikeforge.nirsim import FloatNetwork         # noqa: E402
from spikeforge.quantise import count_agreement, quantise   # noqa: E402

DT = 1e-4     # snnTorch's export assumes this step


def _network(reset, synaptic, gains):
    torch.manual_seed(3)
    sizes = (10, 16, 5)

    def cell(n, output=False):
        kw = dict(threshold=torch.ones(n), init_hidden=True, reset_mechanism=reset,
                  reset_delay=False, output=output)
        if synaptic:
            return snn.Synaptic(alpha=torch.linspace(0.5, 0.9, n),
                                beta=torch.linspace(0.6, 0.95, n), **kw)
        return snn.Leaky(beta=torch.linspace(0.6, 0.95, n), **kw)

    net = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), cell(sizes[1]),
                              torch.nn.Linear(sizes[1], sizes[2]), cell(sizes[2], output=True))
    with torch.no_grad():
        net[0].weight.mul_(gains[0])
        net[2].weight.mul_(gains[1])
    return net


def _run_snntorch(net, x):
    snn_utils.reset(net)
    hidden, out = [], []
    with torch.no_grad():
        for t in range(len(x)):
            h = net[1](net[0](torch.tensor(x[t], dtype=torch.float32)))
            result = net[3](net[2](h))
            hidden.append(h.numpy().copy())
            out.append(result[0].numpy().copy())
    return np.array(hidden), np.array(out)


# snnTorch's exporter calls a nirtorch function that nirtorch is retiring.
@pytest.mark.filterwarnings("ignore:nirtorch.extract_nir_graph:DeprecationWarning")
@pytest.mark.parametrize("reset,synaptic,gains", [
    ("zero", False, (2.5, 3.0)), ("zero", True, (2.5, 3.0)),
    # Drive that keeps the subtract reset's voltage below twice the threshold.
    ("subtract", False, (1.0, 2.0)), ("subtract", True, (0.1, 1.0)),
], ids=["zero-Leaky", "zero-Synaptic", "subtract-Leaky", "subtract-Synaptic"])
def test_exported_network_spikes_step_for_step(tmp_path, reset, synaptic, gains):
    from snntorch.export_nir import export_to_nir
    net = _network(reset, synaptic, gains)
    nir.write(tmp_path / "net.nir", export_to_nir(net, torch.zeros(10)))
    graph = read_nir(tmp_path / "net.nir")
    x = (np.random.default_rng(1).random((300, 10)) < 0.3).astype(np.float64)
    hidden, out = _run_snntorch(net, x)
    kinds = {name: graph.type_of(name) for name in graph.order}
    cells = [name for name in graph.order if kinds[name] in ("LIF", "CubaLIF")]
    assert len(cells) == 2
    fl = FloatNetwork(graph, DT, "euler", reset=reset).run(x)
    assert hidden.sum() > 100 and out.sum() > 20
    np.testing.assert_array_equal(fl.spikes[cells[0]], hidden)
    np.testing.assert_array_equal(fl.spikes[cells[1]], out)
    # The chip, quantised with 16-bit weights: counts agree, the output one step late.
    spikes, _ = quantise(graph, DT, "euler", reset=reset, weight_bits=16).run_golden(x)
    assert count_agreement({c: fl.spikes[c] for c in cells}, spikes) >= 0.97

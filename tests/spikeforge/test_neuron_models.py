"""Networks of Izhikevich and AdEx neurons through the front end: the compiler places them
on cores of their model, every neuron starts at its model's rest, and a run on the golden
chip gives each neuron what the model's own single-neuron simulation gives."""

import re

import numpy as np
import pytest

from golden_model import LIFProfile
from golden_model.adex import REGIMES, AdExProfile
from golden_model.adex import simulate_neuron as adex_neuron
from golden_model.izhikevich import PATTERNS, IzhikevichProfile
from golden_model.izhikevich import simulate_neuron as izh_neuron
from spikeforge.network import InputPopulation, Network, Population, Projection
from spikeforge.simulate import fit_chip, run


def test_izhikevich_patterns_run_through_the_front_end():
    # One population per pattern, each neuron driven by its bias alone (10 mV/ms).
    net = Network()
    pops = {}
    for name, (a, b, c, d) in PATTERNS.items():
        prof = IzhikevichProfile.from_float(a, b, c, d, bias=10.0)
        pops[name] = net.add(Population(3, prof, name=name))
    inp = net.add(InputPopulation(1))
    net.add(Projection.dense(inp, pops["regular_spiking"], np.zeros((1, 3), dtype=np.int64)))
    chip = fit_chip(net)
    assert chip.core.neuron_model.name == "IZHIKEVICH" and chip.core.state_bits == 16
    result = run(net, {}, 300)
    for name, pop in pops.items():
        prof = pop.profiles[0]
        # The front end starts from the reset value (c, b c); the neuron alone does too.
        expected, _, _ = izh_neuron(prof, np.zeros(300), v0=prof.c / 128)
        for k in range(3):
            np.testing.assert_array_equal(result.spikes[pop][:, k], expected)
        assert expected.sum() > 5


def test_adex_regime_runs_through_the_front_end():
    r = REGIMES["adapting"]
    prof = AdExProfile.from_float(**r, state_bits=24)
    prof = AdExProfile(**{**prof.__dict__, "bias": AdExProfile.input_of(r["I"], r["C"],
                                                                        state_bits=24)})
    net = Network()
    pop = net.add(Population(2, prof, name="adapting"))
    result = run(net, {}, 3000)
    expected, _ = adex_neuron(prof, np.full(3000, prof.bias))
    np.testing.assert_array_equal(result.spikes[pop][:, 0], expected)
    assert expected.sum() >= 5


def test_synaptic_input_reaches_izhikevich_neurons():
    net = Network()
    inp = net.add(InputPopulation(1))
    pop = net.add(Population(1, IzhikevichProfile.from_float(*PATTERNS["regular_spiking"],
                                                             weight_exp=7)))
    net.add(Projection.dense(inp, pop, np.array([[10]])))
    # Input every step: 10 << 7 = 10 mV/ms, as the bias test above.
    counts = {inp: np.ones((200, 1), dtype=np.int64)}
    result = run(net, counts, 200)
    prof = pop.profiles[0]
    expected, _, _ = izh_neuron(prof, np.full(200, 10.0), v0=prof.c / 128)
    np.testing.assert_array_equal(result.spikes[pop][:, 0], expected)


@pytest.mark.parametrize("make,error,message", [
    (lambda: Population(2, [LIFProfile(), IzhikevichProfile.from_float(0.02, 0.2, -65, 8)]),
     TypeError, "profile[1] is a IzhikevichProfile, but profile[0] is a LIFProfile: a "
                "population is of one model"),
    (lambda: Population(1, "rs"), TypeError,
     "profile must be a LIFProfile, IzhikevichProfile or AdExProfile, or a list of them, not "
     "'rs'"),
])
def test_population_arguments(make, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        make()


def test_one_model_per_chip():
    net = Network()
    net.add(Population(1, LIFProfile()))
    net.add(Population(1, IzhikevichProfile.from_float(0.02, 0.2, -65, 8)))
    with pytest.raises(ValueError, match=r"^the network has populations of IZHIKEVICH and LIF "
                                         r"neurons; a chip's cores are of one model$"):
        fit_chip(net)
    lif_chip = fit_chip(_lif_net())
    with pytest.raises(ValueError, match=r"is of IZHIKEVICH neurons, the chip's cores of LIF"):
        run(_izh_net(), {}, 1, chip=lif_chip)


def _lif_net():
    net = Network()
    net.add(Population(1, LIFProfile()))
    return net


def _izh_net():
    net = Network()
    net.add(Population(1, IzhikevichProfile.from_float(0.02, 0.2, -65, 8)))
    return net


def test_files_and_nir_take_lif_populations_only(tmp_path):
    from spikeforge.netfile import save_network
    from spikeforge.nirexport import to_nir
    net = _izh_net()
    label = net.label(net.populations[0])
    with pytest.raises(ValueError, match="^" + re.escape(
            f"network files hold LIF populations; population {label} is of IZHIKEVICH "
            f"neurons") + "$"):
        save_network(net, tmp_path / "n.npz")
    with pytest.raises(ValueError, match="^" + re.escape(
            f"NIR export writes LIF populations (as CubaLIF); population {label} is of "
            f"IZHIKEVICH neurons") + "$"):
        to_nir(net, 1e-3)


@pytest.mark.cocotb
def test_an_izhikevich_network_verifies_on_verilator():
    """A recurrent network of Izhikevich neurons through the compiler onto a chip of
    Izhikevich cores, as Verilog on Verilator: every spike the golden chip makes."""
    from spikeforge.frontend import verify
    rng = np.random.default_rng(6)
    net = Network()
    inp = net.add(InputPopulation(8, name="in"))
    profiles = [IzhikevichProfile.from_float(*PATTERNS[name], weight_exp=4)
                for name in ("regular_spiking", "chattering", "fast_spiking")]
    pop = net.add(Population(24, [profiles[k % 3] for k in range(24)], name="izh"))
    net.add(Projection.dense(inp, pop, rng.integers(-10, 60, (8, 24))))
    net.add(Projection.dense(pop, pop, rng.integers(-20, 20, (24, 24)) *
                             (rng.random((24, 24)) < 0.2)))
    counts = {inp: rng.poisson(0.3, (60, 8))}
    divergence, compiled = verify(net, counts, 60)
    assert divergence is None
    golden = run(net, counts, 60)
    assert golden.spikes[pop].sum() > 30

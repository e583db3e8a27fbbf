"""A hand-built two-axon core on the golden model: the README's first example.

Run it with ``python examples/single_core.py``. Neuron 3 gets an excitatory
synapse (delay 1) and an inhibitory one (delay 2); the printout shows ``u``
and ``v`` step by step and when the neuron fires.
"""

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable, simulate

__all__ = ["build", "main"]


def build():
    params = CoreParams(n_neurons=16, n_axons=2, n_synapses=8, max_delay=4)
    profile = LIFProfile(du=410, dv=205, vth=20_000, weight_exp=6)
    synapses = SynapseTable.from_synapses(2, [(0, 3, 100, 1), (1, 3, -40, 2)])
    return CoreImage(params, profiles=[profile], neuron_profile=0, synapses=synapses)


def main():
    image = build()
    run = simulate(image, [[0], [0, 1], [], [0, 0], [], []])
    for t in range(run.spikes.shape[0]):
        mark = "  spike" if run.spikes[t, 3] else ""
        print(f"step {t}: u = {run.u[t, 3]:6d}  v = {run.v[t, 3]:6d}{mark}")


if __name__ == "__main__":
    main()

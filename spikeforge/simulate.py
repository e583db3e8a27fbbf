"""Running a network on the golden chip model, with probes.

:func:`run` compiles a :class:`~spikeforge.network.Network` (onto a chip of the
caller's, or the smallest that :func:`fit_chip` finds), feeds it ``[T, n]``
spike counts per input, and returns a :class:`RunResult`: every population's
spikes, the ``u`` and ``v`` traces of the populations probed, and the final
weights of the projections probed (learning changes plastic ones).
"""

import math

import numpy as np

from golden_model.chip import ChipParams, simulate_chip
from golden_model.params import CoreParams, NeuronModel

from .compiler import compile_network
from .network import InputPopulation, Network, Population, Projection

__all__ = ["RunResult", "run", "fit_chip"]


class RunResult:
    """``spikes[pop]``: ``[T, n]`` bool; ``u[pop]``, ``v[pop]``: ``[T, n]`` int64 for probed
    populations; ``weights[proj]``: int64 per synapse after the run, for probed projections;
    ``compiled``: the :class:`~spikeforge.compiler.CompiledNetwork`; ``chip_run``: the raw run."""

    def __init__(self, spikes, u, v, weights, compiled, chip_run):
        self.spikes, self.u, self.v, self.weights = spikes, u, v, weights
        self.compiled, self.chip_run = compiled, chip_run


def fit_chip(network, core=None, *, state_bits=24, weight_bits=None):
    """The smallest near-square mesh of ``core`` s that ``network`` compiles onto.

    The default core has 256 neurons, 4096 axons, 65536 synapses, 16 profiles,
    ``state_bits`` of state, the shortest delay line the network's projections need and
    ``weight_bits`` signed weights (default: the narrowest its weights fit).
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, not {network!r}")
    if core is None:
        weights = [int(np.abs(p.weight).max()) for p in network.projections if len(p)]
        delays = [int(p.delay.max()) for p in network.projections if len(p)]
        if weight_bits is None:
            weight_bits = max(2, (max(weights + [1])).bit_length() + 1)
            if weight_bits > 16:
                raise ValueError(f"the network has a weight of {max(weights)}, wider than the "
                                 f"16 bits a core stores")
        if any(p.plastic for p in network.projections):
            raise ValueError("the network has plastic projections: give a core with a "
                             "learning spec (core=CoreParams(..., learning=LearningSpec(...)))")
        models = {p.model for p in network.populations if isinstance(p, Population)}
        if len(models) > 1:
            names = " and ".join(sorted(m.name for m in models))
            raise ValueError(f"the network has populations of {names} neurons; a chip's "
                             f"cores are of one model")
        model = models.pop() if models else NeuronModel.LIF
        if model is not NeuronModel.LIF:
            # The profiles carry their width.
            widths = {q.state_bits for p in network.populations if isinstance(p, Population)
                      for q in p.profiles}
            if len(widths) > 1:
                raise ValueError(f"the network's {model.name} profiles have state widths "
                                 f"{sorted(widths)}; a chip's cores have one")
            state_bits = widths.pop()
        core = CoreParams(n_neurons=256, n_axons=4096, n_synapses=65536,
                          max_delay=max(delays + [1]), state_bits=state_bits,
                          weight_bits=weight_bits, n_profiles=16, neuron_model=model)
    big = compile_network(network, ChipParams(16, 16, core, n_routes=4096))
    cols = math.ceil(math.sqrt(big.n_cores_used))
    return ChipParams(math.ceil(big.n_cores_used / cols), cols, core, n_routes=4096)


def _probed(name, items, kind, network):
    items = tuple(items)
    for item in items:
        if not isinstance(item, kind):
            raise TypeError(f"{name} must hold {kind.__name__}s, not {item!r}")
        if not any(item is x for x in (network.populations if kind is Population
                                       else network.projections)):
            raise ValueError(f"{name} names {item!r}, which is not in the network")
    return items


def run(network, inputs, steps=None, *, chip=None, state=(), weights=()):
    """Run ``network`` on the golden chip.

    ``inputs`` maps each :class:`InputPopulation` to ``[T, n]`` spike counts
    (inputs left out stay silent); ``steps`` defaults to ``T``. ``state`` lists
    populations whose ``u`` and ``v`` are kept, ``weights`` projections whose
    final weights are read back.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, not {network!r}")
    if not isinstance(inputs, dict):
        raise TypeError(f"inputs must be a dict from InputPopulation to [T, n] spike counts, "
                        f"not {type(inputs).__name__}")
    per_step, lengths = {}, set()
    for pop, counts in inputs.items():
        if not isinstance(pop, InputPopulation) or not any(pop is p for p in network.populations):
            raise ValueError(f"inputs key {pop!r} is not an InputPopulation of the network")
        arr = np.asarray(counts)
        label = network.label(pop)
        if arr.ndim != 2 or arr.shape[1] != pop.n:
            raise ValueError(f"inputs[{label}] must have shape [T, {pop.n}], not {arr.shape}")
        if arr.size and (arr.dtype.kind not in "iu" or arr.min() < 0):
            raise ValueError(f"inputs[{label}] must hold spike counts, integers of 0 or more")
        per_step[pop] = [np.repeat(np.arange(pop.n), row) for row in arr.astype(np.int64)]
        lengths.add(len(arr))
    if steps is None:
        if not lengths:
            raise ValueError("steps must be given when there are no inputs")
        steps = max(lengths)
    state = _probed("state", state, Population, network)
    weights = _probed("weights", weights, Projection, network)
    compiled = compile_network(network, chip or fit_chip(network))
    chip_run = simulate_chip(compiled.image, compiled.encode_inputs(per_step, n_steps=steps))
    spikes = compiled.decode(chip_run)

    def trace(values, pop):
        out = np.zeros((steps, pop.n), dtype=np.int64)
        for b in compiled.placement[pop]:
            out[:, b.neurons.start:b.neurons.stop] = \
                values[:, b.core, b.offset:b.offset + len(b.neurons)]
        return out

    final = compiled.weights(chip_run.state)
    return RunResult(spikes=spikes, u={p: trace(chip_run.u, p) for p in state},
                     v={p: trace(chip_run.v, p) for p in state},
                     weights={p: final[p] for p in weights}, compiled=compiled,
                     chip_run=chip_run)

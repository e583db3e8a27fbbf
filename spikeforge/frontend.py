"""What the ``import``, ``run``, ``verify`` and ``plot`` commands do, as functions.

* :func:`import_nir`: read and quantise a NIR file, write a network file whose
  ``meta`` keeps the choices, the quantisation report and the map back to the graph.
* :func:`make_inputs`: spike counts for every input of a network file: Poisson at a
  rate, or a ``[T, n]`` array from a ``.npy`` file; the always-on bias input of an
  imported graph spikes every step.
* :func:`verify`: the exported Verilog of the chip, in cocotb, against the golden chip,
  with every population recorded; :func:`first_divergence` says where they part.
* :func:`plot`: raster, voltage-trace and weight-histogram PNGs.
"""

import collections
import dataclasses
import math
from pathlib import Path

import numpy as np

from .netfile import save_network
from .network import InputPopulation, Network, Population, Projection
from .nirgraph import read_nir
from .quantise import quantise
from .simulate import fit_chip, run
from .sources import poisson

__all__ = ["import_nir", "make_inputs", "first_divergence", "locate", "verify", "plot",
           "BIAS_INPUT"]

#: The name of the input an imported graph's constant terms arrive through.
BIAS_INPUT = "always-on bias"


def import_nir(path, dt, *, method="exact", reset=None, weight_bits=8, state_bits=24,
               out=None):
    """Quantise the NIR file ``path``; write the network file ``out`` (default: beside it,
    ``.npz``). Returns ``(quantised, out_path)``."""
    graph = read_nir(path)
    q = quantise(graph, dt, method, reset=reset, weight_bits=weight_bits, state_bits=state_bits)
    out = Path(out) if out is not None else Path(path).with_suffix(".npz")
    meta = {"source": str(path), "dt": q.report.dt, "method": q.report.method,
            "reset": q.report.reset, "weight_bits": weight_bits, "state_bits": state_bits,
            "report": q.report.as_dict(), "lag": q.lag, "scale": q.scale,
            "inputs": {name: {"population": pop.name, "shape": list(graph.out_shape[name])}
                       for name, pop in q.inputs.items()},
            "bias": q.bias.name if q.bias is not None else None}
    save_network(q.network, out, meta=meta)
    return q, out


def _inputs_of(network):
    return [p for p in network.populations if isinstance(p, InputPopulation)]


def make_inputs(network, meta, steps, *, rate_hz=20.0, dt=None, seed=0, array=None):
    """Spike counts for every input of ``network``: ``array`` (``[T, n]`` counts, for a
    network with one data input) or Poisson at ``rate_hz`` for ``steps`` steps of ``dt``
    (default: the imported graph's, else 1 ms)."""
    data = [p for p in _inputs_of(network) if p.name != meta.get("bias")]
    counts = {}
    if array is not None:
        arr = np.asarray(array)
        if len(data) != 1:
            raise ValueError(f"an input array drives a network with one input, not "
                             f"{len(data)} ({', '.join(network.label(p) for p in data)})")
        (pop,) = data
        if arr.ndim < 2 or math.prod(arr.shape[1:]) != pop.n:
            raise ValueError(f"the input array must be [T, {pop.n}] spike counts for "
                             f"{network.label(pop)}, not shape {arr.shape}")
        arr = arr.reshape(len(arr), pop.n)
        if arr.dtype.kind not in "iu" and not np.array_equal(arr, np.rint(arr)):
            raise ValueError("the input array must hold whole spike counts")
        if arr.size and arr.min() < 0:
            raise ValueError("the input array must hold spike counts of 0 or more")
        counts[pop] = arr.astype(np.int64)
        steps = len(arr)
    else:
        step = dt if dt is not None else meta.get("dt", 1e-3)
        for k, pop in enumerate(data):
            counts[pop] = poisson(rate_hz, steps, step, n=pop.n, seed=[seed, k])
    for pop in _inputs_of(network):
        if pop.name == meta.get("bias"):
            counts[pop] = np.ones((steps, 1), dtype=np.int64)
    return counts, steps


def first_divergence(golden_host, rtl_host):
    """The first ``(step, (x, y, neuron))`` where two host spike lists differ, or None.

    Each list holds ``(t, x, y, neuron)`` rows; within a step order does not matter.
    """
    def by_step(rows):
        out = {}
        for t, x, y, n in rows:
            out.setdefault(int(t), []).append((int(x), int(y), int(n)))
        return {t: sorted(v) for t, v in out.items()}
    a, b = by_step(golden_host), by_step(rtl_host)
    for t in sorted(set(a) | set(b)):
        left, right = collections.Counter(a.get(t, [])), collections.Counter(b.get(t, []))
        if left != right:
            return t, min((left - right) + (right - left))
    return None


def _recording_copy(network):
    """The same network with every population recorded, so the host sees every spike."""
    copy, new = Network(), {}
    for group in network.populations:
        if isinstance(group, Population):
            profiles = [group.profiles[i] for i in group.neuron_profile]
            new[id(group)] = copy.add(Population(group.n, profiles, name=group.name, record=True))
        else:
            new[id(group)] = copy.add(InputPopulation(group.n, name=group.name))
    for proj in network.projections:
        copy.add(Projection(new[id(proj.pre)], new[id(proj.post)],
                            (proj.pre_index, proj.post_index, proj.weight, proj.delay),
                            plastic=proj.plastic))
    return copy, new


def _snug_chip(network):
    """A chip whose cores are no larger than the network needs: quick to build in Verilator."""
    from .compiler import compile_network
    chip = fit_chip(network)
    used = compile_network(network, chip).usage
    need = lambda field: max(u[field] for u in used)
    pow2 = lambda x, lo: max(lo, 1 << max(0, math.ceil(math.log2(max(1, x)))))
    core = dataclasses.replace(chip.core, n_neurons=pow2(need("n_neurons"), 16),
                               n_axons=pow2(need("n_axons"), 2),
                               n_synapses=pow2(need("n_synapses"), 2),
                               n_profiles=max(1, min(16, need("n_profiles") + 1)))
    return fit_chip(network, core)


def verify(network, counts, steps, *, log=None):
    """Run ``network`` on the RTL chip (cocotb, Verilator) and on the golden chip.

    Returns ``(divergence, compiled)``: ``divergence`` is None when every spike agrees,
    else ``(step, population label, neuron index)`` of the first that does not.
    """
    from golden_model.chip import simulate_chip
    from sim.chip_runner import chip_job, run_chip_jobs
    from .compiler import compile_network
    copy, new = _recording_copy(network)
    chip = _snug_chip(copy)
    compiled = compile_network(copy, chip)
    per_step = {new[id(pop)]: [np.repeat(np.arange(pop.n), row) for row in c]
                for pop, c in counts.items()}
    events = compiled.encode_inputs(per_step, n_steps=steps)
    golden = simulate_chip(compiled.image, events)
    results, _ = run_chip_jobs(chip, [chip_job(compiled.image, events, state_every=0)],
                               log=log, quiet=True)
    found = first_divergence(golden.host.tolist(), results[0]["host"])
    if found is None:
        return None, compiled
    t, (x, y, n) = found
    return (t,) + locate(compiled, x, y, n), compiled


def locate(compiled, x, y, neuron):
    """``(population label, index)`` of neuron ``neuron`` of core ``(x, y)``."""
    core = compiled.chip.core_index(x, y)
    for pop, blocks in compiled.placement.items():
        for b in blocks:
            if b.core == core and b.offset <= neuron < b.offset + len(b.neurons):
                return compiled.network.label(pop), b.neurons.start + neuron - b.offset
    return f"core {x},{y}", neuron


def plot(network, result, out_dir, *, traces=4):
    """Write ``raster.png``, ``voltage.png`` and ``weights.png`` to ``out_dir``; returns the
    paths. ``result`` is a :class:`~spikeforge.simulate.RunResult` with state probed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pops = [p for p in network.populations if isinstance(p, Population)]
    paths = []

    def per_population(title, name, draw):
        fig, axes = plt.subplots(len(pops), 1, figsize=(9, 1.2 + 1.6 * len(pops)),
                                 sharex=True, squeeze=False)
        for ax, pop in zip(axes[:, 0], pops):
            draw(ax, pop)
            ax.set_ylabel(network.label(pop).strip("'"))
        axes[-1, 0].set_xlabel("step")
        fig.suptitle(title)
        save(fig, name)
        return axes

    def save(fig, name):
        fig.tight_layout()
        paths.append(out_dir / name)
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)

    def raster(ax, pop):
        t, n = np.nonzero(result.spikes[pop])
        ax.scatter(t, n, s=2, marker="|", color="k")
        ax.set_ylim(-0.5, pop.n - 0.5)

    def voltage(ax, pop):
        v = result.v.get(pop)
        for k in range(min(traces, pop.n) if v is not None else 0):
            ax.plot(v[:, k], lw=0.8, label=f"neuron {k}")
        if v is not None and pop is pops[0]:
            ax.legend(loc="upper right", fontsize=7)

    per_population("spikes", "raster.png", raster)
    per_population("membrane voltage (state units)", "voltage.png", voltage)

    fig, ax = plt.subplots(figsize=(7, 4))
    for proj in network.projections:
        w = result.weights.get(proj, proj.weight)
        if len(w):
            ax.hist(w, bins=min(64, max(4, len(np.unique(w)))), histtype="step",
                    label=f"{network.label(proj.pre)} → {network.label(proj.post)}")
    ax.set_xlabel("weight (stored integer)")
    ax.set_ylabel("synapses")
    if network.projections:
        ax.legend(fontsize=7)
    save(fig, "weights.png")
    return paths


def run_probed(network, counts, steps):
    """Run on the golden chip with every population's state and every projection probed."""
    pops = [p for p in network.populations if isinstance(p, Population)]
    return run(network, counts, steps, state=pops, weights=list(network.projections))

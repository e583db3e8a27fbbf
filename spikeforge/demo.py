"""``spikeforge demo``: one Poisson-driven network on the golden model and on the RTL.

The default network needs no file: ``n_inputs`` Poisson axons drive
``n_neurons`` LIF neurons through sparse random synapses with delays 1..4.
Neurons use two profiles, a slow integrator and a fast leaky one with a
refractory period, so the raster shows two kinds of activity.
"""

import time
from pathlib import Path

import numpy as np

from golden_model import CoreImage, CoreParams, LIFProfile, ResetMode, SynapseTable, simulate
from golden_model.params import check_int

__all__ = ["default_network", "poisson_inputs", "run_demo"]


def default_network(n_neurons=128, n_inputs=64, seed=1):
    """The demo's core image: about 10% connectivity, mixed-sign 8-bit weights."""
    n_neurons = check_int("neurons", n_neurons, 16, 1024)
    n_inputs = check_int("inputs", n_inputs, 1, 1024)
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_inputs):
        targets = np.flatnonzero(rng.random(n_neurons) < 0.1)
        for n in targets:
            w = int(rng.integers(20, 120)) if rng.random() < 0.8 else -int(rng.integers(40, 128))
            rows.append((a, int(n), w, int(rng.integers(1, 5))))
    params = CoreParams(n_neurons=n_neurons, n_axons=n_inputs, n_synapses=max(len(rows), 1),
                        max_delay=4, state_bits=24, weight_bits=8, n_profiles=2)
    profiles = [
        LIFProfile(du=410, dv=205, vth=200_000, weight_exp=6, reset=ResetMode.ZERO),
        LIFProfile(du=1024, dv=820, vth=60_000, weight_exp=6, reset=ResetMode.SUBTRACT,
                   refractory=2, bias_mant=-3, bias_exp=4),
    ]
    return CoreImage(params=params, profiles=profiles,
                     neuron_profile=(np.arange(n_neurons) % 4 == 3).astype(np.int64),
                     synapses=SynapseTable.from_synapses(n_inputs, rows))


def poisson_inputs(n_inputs, n_steps, rate, seed=2):
    """Per-step lists of input axons, each firing with probability ``rate`` per step."""
    rng = np.random.default_rng(seed)
    return [list(map(int, np.flatnonzero(rng.random(n_inputs) < rate))) for _ in range(n_steps)]


def plot_raster(spikes, inputs, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax_in, ax_out) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                        gridspec_kw={"height_ratios": [1, 2]})
    t_in = [t for t, axons in enumerate(inputs) for _ in axons]
    a_in = [a for axons in inputs for a in axons]
    ax_in.scatter(t_in, a_in, s=1, c="tab:gray")
    ax_in.set_ylabel("input axon")
    t_out, n_out = np.nonzero(spikes)
    ax_out.scatter(t_out, n_out, s=2, c="tab:blue")
    ax_out.set_ylabel("neuron")
    ax_out.set_xlabel("timestep")
    ax_in.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_demo(*, neurons=128, inputs=64, steps=200, rate=0.08, seed=1, out="raster.png",
             rtl=True, sim=None, say=print):
    """Run the demo; returns a summary dict. ``say`` prints progress."""
    steps = check_int("steps", steps, 1, 100_000)
    if not 0 < rate <= 1:
        raise ValueError(f"rate must be between 0 (excluded) and 1, not {rate}")
    image = default_network(neurons, inputs, seed)
    stimulus = poisson_inputs(inputs, steps, rate, seed + 1)
    p = image.params
    say(f"network: {p.n_neurons} LIF neurons, {inputs} Poisson inputs at {rate:g}/step, "
        f"{len(image.synapses)} synapses, delays 1..{p.max_delay}")

    start = time.perf_counter()
    golden = simulate(image, stimulus)
    say(f"golden model: {steps} steps in {time.perf_counter() - start:.2f} s, "
        f"{golden.n_spikes} spikes, {golden.n_sops} SOPs")
    summary = {"spikes": golden.n_spikes, "sops": golden.n_sops, "steps": steps,
               "bit_exact": None}
    if rtl:
        from sim.core_runner import image_job, run_core_jobs
        say("RTL: exporting Verilog and building the Verilator model "
            "(the first build compiles C++ and takes a minute; later runs reuse it)")
        start = time.perf_counter()
        results, passed = run_core_jobs(p, [image_job(image, stimulus)], sim=sim,
                                        log=lambda m: say(f"  {m}"), quiet=True)
        if not results:
            raise RuntimeError("the RTL simulation produced no result; see sim.log in the "
                               "build folder")
        r = results[0]
        exact = passed and not r["mismatches"] and np.array_equal(r["spikes"], golden.spikes) \
            and np.array_equal(r["u"], golden.u) and np.array_equal(r["v"], golden.v)
        c = r["counters"]
        say(f"RTL: {steps} steps in {time.perf_counter() - start:.1f} s, "
            f"{int(r['spikes'].sum())} spikes, {c['sops']} SOPs, {r['cycles']} clock cycles")
        say("RTL vs golden model: " + ("bit-exact (spikes, u and v of every neuron, every step)"
                                       if exact else
                                       f"MISMATCH ({len(r['mismatches'])} differences)"))
        summary.update(bit_exact=exact, rtl_sops=c["sops"], rtl_spikes=int(r["spikes"].sum()))
    if out:
        path = Path(out)
        plot_raster(golden.spikes, stimulus, path,
                    f"spikeforge demo: {p.n_neurons} neurons, {golden.n_spikes} spikes")
        say(f"raster plot written to {path}")
        summary["raster"] = str(path)
    return summary

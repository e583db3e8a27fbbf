"""Neuron models and memristive crossbars, measured.

Writes ``benchmarks/results/models.json`` when run as ``python -m benchmarks.bench_models``.

For each of ``lif``, ``izhikevich`` and ``adex``, a core of 256 neurons, 64 axons, 2048
synapses and 16-bit state:

* ``rtl_cycles_per_neuron_update``: the core's busy clocks in a step without input, per
  neuron, in the Amaranth simulator (the update alone: the tick, the neurons, the drain);
* ``lut_up5k``, ``dsp_up5k``, ``lut_ecp5``, ``dsp_ecp5``: the core after yosys's synthesis
  for the iCE40 UP5K (MAC16 blocks allowed) and the ECP5, without place and route;
* ``golden_neuron_updates_per_s``: the golden model's update of a 4096-neuron core, four
  profiles, 200 steps, numpy.

Also: the AdEx exponential's largest relative error, the firing patterns' spike counts
(fixed point at 16 and 24 bits against the float references), and the crossbar's
vector-matrix products per second at 256x256 and 1024x1024 (ideal wires) and at 256x256
with IR drop.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "models.json"
MODELS = ("lif", "izhikevich", "adex")


def _params(model, **kwargs):
    from golden_model import CoreParams
    args = dict(n_neurons=256, n_axons=64, n_synapses=2048, max_delay=2, state_bits=16,
                weight_bits=8, n_profiles=4, neuron_model=model)
    args.update(kwargs)
    return CoreParams(**args)


def update_cycles(model):
    """Busy clocks per neuron of one step without input (Amaranth simulator)."""
    from rtl.lif_core import LIFCore
    from sim.amaranth_sim import update_busy_cycles
    from sim.stimulus import random_image
    params = _params(model)
    image = random_image(np.random.default_rng(1), params)
    return update_busy_cycles(LIFCore(params), image) / params.n_neurons


def resources(model):
    from boards.build import synth_stat
    from rtl.lif_core import LIFCore
    up5k = synth_stat(LIFCore(_params(model)), "ice40", name="core")
    ecp5 = synth_stat(LIFCore(_params(model)), "ecp5", name="core")
    return {"lut_up5k": up5k["lut"], "dsp_up5k": up5k["dsp"], "carry_up5k": up5k["carry"],
            "bram_up5k": up5k["bram"], "lut_ecp5": ecp5["lut"], "dsp_ecp5": ecp5["dsp"]}


def golden_rate(model, steps=200):
    from golden_model.lif_core import CoreState, update
    from sim.stimulus import random_image
    params = _params(model, n_neurons=4096, n_axons=4, n_synapses=4,
                     state_bits=24 if model == "adex" else 16)
    image = random_image(np.random.default_rng(2), params, fan_out_all=False)
    state = CoreState.initial(image)
    start = time.perf_counter()
    for _ in range(steps):
        update(state, image)
    return params.n_neurons * steps / (time.perf_counter() - start)


def patterns():
    from golden_model import adex, izhikevich
    out = {"izhikevich": {}, "adex": {}}
    current = np.r_[np.zeros(20), np.full(980, 10.0)]
    for name, (a, b, c, d) in izhikevich.PATTERNS.items():
        f, _, _ = izhikevich.simulate_float(a, b, c, d, current, v0=-65.0)
        row = {"float": int(f.sum())}
        for bits in (16, 24):
            prof = izhikevich.IzhikevichProfile.from_float(a, b, c, d, state_bits=bits)
            s, _, _ = izhikevich.simulate_neuron(prof, current, v0=-65.0)
            row[f"fixed{bits}"] = int(s.sum())
        out["izhikevich"][name] = row
    for name, r in adex.REGIMES.items():
        f, _ = adex.simulate_float(**r, steps=5000)
        row = {"float": int(f.sum())}
        for bits in (16, 20, 24):
            prof = adex.AdExProfile.from_float(**r, state_bits=bits)
            drive = np.full(5000, adex.AdExProfile.input_of(r["I"], r["C"], state_bits=bits))
            s, _ = adex.simulate_neuron(prof, drive)
            row[f"fixed{bits}"] = int(s.sum())
        out["adex"][name] = row
    return out


def crossbar_rates():
    """Products per second on HfO2 devices (the AlOx/HfO2 preset), weights programmed by
    write-verify first; with IR drop at half the largest wire resistance the model takes."""
    from golden_model.crossbar import Crossbar, CrossbarParams, ir_epsilon
    from golden_model.memristor import PRESETS
    device = PRESETS["hfo2"]
    out = {}
    for key, n, ir, repeats in (("256", 256, False, 200), ("1024", 1024, False, 40),
                                ("256_ir", 256, True, 3)):
        params = CrossbarParams(rows=n, cols=n)
        if ir:
            params = CrossbarParams(rows=n, cols=n,
                                    r_wire=0.5 / ir_epsilon(CrossbarParams(
                                        rows=n, cols=n, r_wire=1.0), device.g_max))
        xbar = Crossbar(params, device, seed=0)
        rng = np.random.default_rng(3)
        xbar.program_weights(rng.uniform(-1, 1, (n, n)), tolerance=0.05, max_pulses=400)
        x = rng.uniform(-1, 1, n)
        start = time.perf_counter()
        for _ in range(repeats):
            xbar.vmm(x)
        out[key] = repeats / (time.perf_counter() - start)
    return out


def main():
    start = time.perf_counter()
    from golden_model.adex import exp_max_rel_error
    out = {}
    for model in MODELS:
        print(f"{model}: update cycles...", flush=True)
        entry = {"rtl_cycles_per_neuron_update": update_cycles(model)}
        print(f"{model}: synthesis (UP5K, ECP5)...", flush=True)
        entry.update(resources(model))
        entry["golden_neuron_updates_per_s"] = golden_rate(model)
        out[model] = entry
        print(f"  {entry}", flush=True)
    out["adex_exp_max_rel_error"] = exp_max_rel_error()
    out["patterns"] = patterns()
    rates = crossbar_rates()
    out["crossbar_256_vmm_per_s"] = rates["256"]
    out["crossbar_1024_vmm_per_s"] = rates["1024"]
    out["crossbar_256_ir_vmm_per_s"] = rates["256_ir"]
    out["setup"] = {"core": "256 neurons, 64 axons, 2048 synapses, max delay 2, 16-bit state, "
                            "4 profiles", "golden": "4096 neurons, 200 steps (AdEx at 24 bits)",
                    "resources": "yosys synth_ice40 -dsp / synth_ecp5, no place and route"}
    out["environment"] = {"python": sys.version.split()[0],
                          "bench_wall_s": round(time.perf_counter() - start, 1)}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k not in ("patterns",)}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

"""The NIR front end: the float path against the NIR paper's reference run, and the quantised
network against the float path on the braille RNNs.

Writes ``benchmarks/results/frontend.json`` when run as ``python -m benchmarks.bench_frontend``.

* **lif_exact**: the NIR paper's single LIF neuron (``lif_norse.nir``, tau 2.5 ms,
  threshold 0.1) at dt = 1e-4 with the paper's ramp of input spikes, on the ``exact``
  float path, against ``lif_exact.csv``. Spike steps must be equal; the voltage error is
  relative, over the steps where the reference voltage is not a rounding residue of zero
  (``|v| > 1e-12``). The ``euler`` path against Norse's run is listed beside it.
* **braille_spike_count_agreement**: both braille graphs (zero reset with biases,
  subtract reset without), ``euler`` at dt = 1e-4 (the networks were trained with
  snnTorch-style decay), each graph with its own reset, five seeds of 2000 steps of
  Poisson input at 10% per channel and step. The quantised network runs on the golden
  chip; the figure is :func:`spikeforge.quantise.count_agreement` over every hidden and
  output neuron of both graphs and all seeds, pooled. Per-graph figures are listed too.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from spikeforge.nirgraph import read_nir
from spikeforge.nirsim import FloatNetwork
from spikeforge.quantise import count_agreement, quantise

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "nir"
RESULTS = Path(__file__).resolve().parent / "results" / "frontend.json"
BRAILLE = {"zero": "nir-paper/03_rnn/braille_noDelay_bias_zero.nir",
           "subtract": "nir-paper/03_rnn/braille_noDelay_noBias_subtract.nir"}
SEEDS, STEPS, RATE = 5, 2000, 0.1


def lif_exact():
    runs = FIXTURES / "nir-paper" / "01_lif"
    g = read_nir(runs / "lif_norse.nir")
    out = {}
    for method, csv in (("exact", "lif_exact.csv"), ("euler", "lif_norse.csv")):
        ref = np.loadtxt(runs / csv, delimiter=",")
        res = FloatNetwork(g, 1e-4, method).run(ref[:, :1], record=["1"])
        spikes, v = res.spikes["1"][:, 0], res.v["1"][:, 0]
        meaningful = np.abs(ref[:, 1]) > 1e-12
        rel = np.abs(v[meaningful] - ref[meaningful, 1]) / np.abs(ref[meaningful, 1])
        out[method] = {"reference": csv,
                       "spike_steps": np.flatnonzero(spikes).tolist(),
                       "reference_spike_steps": np.flatnonzero(ref[:, 2]).tolist(),
                       "spike_times_equal": bool(np.array_equal(spikes, ref[:, 2])),
                       "max_rel_voltage_error": float(rel.max())}
    return out


def braille():
    """Per weight width, the pooled agreement and each graph's: every neuron's count in every
    run is one entry of the vectors :func:`count_agreement` compares."""
    pooled = {bits: ([], []) for bits in (8, 12, 16)}
    per_graph = {}
    for reset, name in BRAILLE.items():
        g = read_nir(FIXTURES / name)
        quantised = {bits: quantise(g, 1e-4, "euler", reset=reset, weight_bits=bits)
                     for bits in pooled}
        runs = {bits: ([], []) for bits in pooled}
        for seed in range(SEEDS):
            x = (np.random.default_rng(seed).random((STEPS, 12)) < RATE).astype(float)
            fl = FloatNetwork(g, 1e-4, "euler", reset=reset).run(x)
            for bits, q in quantised.items():
                spikes, _ = q.run_golden(x)
                for acc in (runs[bits], pooled[bits]):
                    acc[0].extend(fl.spikes[k].sum(axis=0) for k in sorted(spikes))
                    acc[1].extend(spikes[k].sum(axis=0) for k in sorted(spikes))
        per_graph[reset] = {str(bits): _agreement(*runs[bits]) for bits in runs}
        print(f"braille {reset}: " + ", ".join(f"{b}-bit {v:.4f}"
                                               for b, v in per_graph[reset].items()), flush=True)
    return {str(bits): _agreement(*pooled[bits]) for bits in pooled}, per_graph


def _agreement(floats, chips):
    return count_agreement(np.concatenate(floats)[None], np.concatenate(chips)[None])


def main():
    start = time.perf_counter()
    lif = lif_exact()
    print(f"lif_exact: spikes equal {lif['exact']['spike_times_equal']}, max rel voltage error "
          f"{lif['exact']['max_rel_voltage_error']:.3g}", flush=True)
    agreement, per_graph = braille()
    result = {
        "lif_exact_spike_times_equal": lif["exact"]["spike_times_equal"],
        "lif_exact_max_rel_voltage_error": lif["exact"]["max_rel_voltage_error"],
        "braille_spike_count_agreement": agreement,
        "braille_per_graph": per_graph,
        "lif_runs": lif,
        "braille_setup": {"method": "euler", "dt": 1e-4, "seeds": SEEDS, "steps": STEPS,
                          "input_rate": RATE, "state_bits": 24,
                          "metric": "sum over neurons of min(count) / sum of max(count)"},
        "environment": {"python": sys.version.split()[0], "bench_wall_s":
                        round(time.perf_counter() - start, 1)},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

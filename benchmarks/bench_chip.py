"""Multi-core chip throughput, router latency and step time, measured in cocotb on Verilator.

Writes ``benchmarks/results/chip.json`` when run as ``python -m benchmarks.bench_chip``.

* **SOP per cycle against core count** (1, 4, 9, 16 cores): uniform random
  traffic. Every neuron fires every step (``vth = 0``, positive bias, zero
  weights, so activity does not depend on the traffic), and each spike goes
  to ``routes`` destinations drawn uniformly over the chip. Each axon fans out
  to ``fan_in`` synapses. Two loads: ``compute`` (8 synapses per packet: the
  cores' 1 SOP/clock limits) and ``network`` (1 synapse per packet: the mesh
  limits). SOP/cycle is the SOPs the cores delivered over all cycles of the
  steps, update phase included.
* **Router latency per hop**: one packet at a time from the ingress at
  (0, 0) to every core of a 4×4 chip; cycles until the chip is idle again
  against Manhattan distance, fitted by least squares. The slope is the
  per-hop latency, the intercept the fixed cost (ingress, delivery pipeline).
* **Cycles per timestep against spike rate** on a 3×3 chip.
* **Spikes checked in tests**: the routed spikes of every chip job in
  ``tests/sim/test_chip_cocotb.py``, counted by the golden model.

Saturation: the first core count whose SOP/cycle falls below 80% of linear
scaling from one core.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable
from golden_model.chip import ChipImage, ChipParams, RouteTable, simulate_chip
from sim.chip_runner import chip_job, latency_job, run_chip_jobs

__all__ = ["uniform_traffic", "run", "main"]

RESULTS = Path(__file__).parent / "results" / "chip.json"
N = 32
AXONS = 32


def chip_params(k, fan_in):
    core = CoreParams(n_neurons=N, n_axons=AXONS, n_synapses=AXONS * fan_in, max_delay=2,
                      state_bits=16, weight_bits=4)
    return ChipParams(rows=k, cols=k, core=core, n_routes=N * 4, fifo_depth=4)


def uniform_traffic(params, rate, routes, seed=0):
    """Neurons ``< rate * N`` fire every step; each sends ``routes`` packets to uniform cores."""
    rng = np.random.default_rng(seed)
    core = params.core
    fire = LIFProfile(vth=0, bias_mant=1)
    quiet = LIFProfile(vth=(1 << (core.state_bits - 1)) - 1)
    n_fire = int(round(rate * core.n_neurons))
    fan_in = core.n_synapses // core.n_axons
    cores, tables = [], []
    for _ in range(params.n_cores):
        rows = [(a, int(rng.integers(0, core.n_neurons)), 0, 1 + (s % core.max_delay))
                for a in range(core.n_axons) for s in range(fan_in)]
        cores.append(CoreImage(core, [quiet, fire],
                               (np.arange(core.n_neurons) < n_fire).astype(np.int64),
                               SynapseTable.from_synapses(core.n_axons, rows)))
        entries = [(n, int(rng.integers(0, params.cols)), int(rng.integers(0, params.rows)),
                    int(rng.integers(0, core.n_axons)))
                   for n in range(core.n_neurons) for _ in range(routes)]
        tables.append(RouteTable.from_routes(core.n_neurons, entries))
    return ChipImage(params, cores, tables)


def measure_scaling(k, fan_in, routes, steps, log):
    params = chip_params(k, fan_in)
    image = uniform_traffic(params, 1.0, routes, seed=k)
    results, passed = run_chip_jobs(params, [chip_job(image, [[] for _ in range(steps)],
                                                      state_every=0)], log=log, quiet=True)
    if not passed:
        raise RuntimeError(f"the {k}×{k} traffic run mismatched the golden model")
    r = results[0]
    sops = sum(r["counters"]["core_sops"])
    cycles = sum(r["step_cycles"])
    return {"cores": k * k, "sops": sops, "cycles": cycles, "sop_per_cycle": sops / cycles,
            "packets": r["counters"]["packets"], "steps": steps,
            "cycles_per_step": cycles / steps,
            "routed_per_router": r["counters"]["routed"]}


def measure_latency(log):
    params = chip_params(4, 1)
    image = uniform_traffic(params, 0.0, 1)
    events = [(x, y, 0) for y in range(4) for x in range(4)]
    results, passed = run_chip_jobs(params, [latency_job(image, events)], log=log, quiet=True)
    if not passed:
        raise RuntimeError("the latency run failed")
    lat = results[0]["latency"]
    hops = np.array([x + y for x, y, _ in events], dtype=float)
    slope, intercept = np.polyfit(hops, np.array(lat, dtype=float), 1)
    return {"cycles_per_hop": float(slope), "fixed_cycles": float(intercept),
            "samples": [{"x": x, "y": y, "hops": int(x + y), "cycles": c}
                        for (x, y, _), c in zip(events, lat)]}


def measure_step_time(log, steps=20):
    params = chip_params(3, 4)
    rows = []
    jobs = []
    rates = [0.0, 0.125, 0.25, 0.5, 1.0]
    for rate in rates:
        jobs.append(chip_job(uniform_traffic(params, rate, 2, seed=7), [[] for _ in range(steps)],
                             state_every=0))
    results, passed = run_chip_jobs(params, jobs, log=log, quiet=True)
    if not passed:
        raise RuntimeError("the step-time runs mismatched the golden model")
    for rate, r in zip(rates, results):
        rows.append({"spike_rate": rate, "cycles_per_step": sum(r["step_cycles"]) / steps,
                     "packets_per_step": r["counters"]["packets"] / steps})
    return rows


def spikes_checked_in_tests():
    # The test module lives beside the package; run from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.sim.test_chip_cocotb import suite_jobs
    routed = host = 0
    for _, jobs in suite_jobs().values():
        for job in jobs:
            g = simulate_chip(job["image"], job["steps"])
            routed += g.n_routed
            host += len(g.host)
    return routed, host


def run(log=print):
    start = time.perf_counter()
    scaling = {}
    for load, fan_in, routes in (("compute", 8, 2), ("network", 1, 4)):
        rows = []
        for k in (1, 2, 3, 4):
            log(f"{load} load, {k}×{k} chip...")
            rows.append(measure_scaling(k, fan_in, routes, 12, lambda m: log(f"    {m}")))
            log(f"    {rows[-1]['sop_per_cycle']:.2f} SOP/cycle")
        base = rows[0]["sop_per_cycle"]
        for row in rows:
            row["efficiency"] = row["sop_per_cycle"] / (base * row["cores"])
        saturated = [row["cores"] for row in rows if row["efficiency"] < 0.8]
        scaling[load] = {"fan_in": fan_in, "routes_per_spike": routes, "rows": rows,
                         "saturation_cores": saturated[0] if saturated else None}
    log("router latency...")
    latency = measure_latency(lambda m: log(f"    {m}"))
    log(f"    {latency['cycles_per_hop']:.2f} cycles/hop")
    log("cycles per step against spike rate...")
    step_time = measure_step_time(lambda m: log(f"    {m}"))
    routed, host = spikes_checked_in_tests()
    return {
        "sop_per_cycle": {str(r["cores"]): r["sop_per_cycle"]
                          for r in scaling["compute"]["rows"]},
        "sop_per_cycle_network_bound": {str(r["cores"]): r["sop_per_cycle"]
                                        for r in scaling["network"]["rows"]},
        "router_latency_cycles_per_hop": latency["cycles_per_hop"],
        "saturation_cores": scaling["compute"]["saturation_cores"],
        "saturation_cores_network_bound": scaling["network"]["saturation_cores"],
        "spikes_checked_in_tests": routed,
        "host_events_checked_in_tests": host,
        "scaling": scaling,
        "latency": latency,
        "cycles_per_step_vs_rate": step_time,
        "note": "saturation_cores is the first core count below 80% of linear scaling from one "
                "core; null means none of 1, 4, 9, 16 saturated",
        "benchmark_wall_s": time.perf_counter() - start,
    }


def main():
    result = run()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

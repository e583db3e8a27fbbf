"""RTL throughput of ``LIFCore`` in cocotb on Verilator, and the simulation's own speed.

* **Cycles per SOP**: a fan-out-heavy workload, 128 axons × 128 synapses on a
  1024-neuron core, every axon sent twice back to back (32768 SOPs). Delivery
  is timed from the first event offered until the tick is accepted, which the
  core allows only once its pipeline has drained.
* **Cycles per neuron update**: from the tick to the core going idle, over
  the 1024 neurons (the five-stage pipeline's fill included).
* **cocotb cycles/s**: simulated clock cycles per wall-clock second for a
  whole verification job (config load, 200 steps of Poisson input, every
  neuron's ``u`` and ``v`` read through the debug port after every step),
  and for the streaming throughput job alone.
"""

import numpy as np

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable
from sim.core_runner import image_job, measure_job, run_core_jobs
from sim.stimulus import random_inputs

__all__ = ["run"]


def fan_out_core(n_neurons=1024, n_axons=128, fan_out=128):
    params = CoreParams(n_neurons=n_neurons, n_axons=n_axons, n_synapses=n_axons * fan_out,
                        max_delay=8)
    rows = [(a, (a * 37 + 5 * k) % n_neurons, (k % 31) - 15, 1 + k % 8)
            for a in range(n_axons) for k in range(fan_out)]
    image = CoreImage(params, [LIFProfile(du=200, dv=100, vth=1 << 18, weight_exp=6)], 0,
                      SynapseTable.from_synapses(n_axons, rows))
    return params, image


def run(log=None):
    params, image = fan_out_core()
    axons = list(range(params.n_axons)) * 2
    rng = np.random.default_rng(0)
    small = CoreParams(n_neurons=64, n_axons=32, n_synapses=512, max_delay=4)
    rows = [(int(rng.integers(0, 32)), int(rng.integers(0, 64)), int(rng.integers(-60, 120)),
             int(rng.integers(1, 5))) for _ in range(512)]
    small_image = CoreImage(small, [LIFProfile(du=400, dv=200, vth=60_000, weight_exp=6)], 0,
                            SynapseTable.from_synapses(32, rows))
    steps = random_inputs(rng, 32, 200, rate=0.1)

    results, passed = run_core_jobs(params, [measure_job(image, axons)], log=log, quiet=True)
    if not passed:
        raise RuntimeError("the throughput job failed")
    m = results[0]
    sops = m["counters"]["sops"]
    if sops != params.n_axons * 128 * 2:
        raise RuntimeError(f"expected {params.n_axons * 128 * 2} SOPs, the core counted {sops}")
    verify, passed = run_core_jobs(small, [image_job(small_image, steps)], log=log, quiet=True)
    if not passed:
        raise RuntimeError("the verification job mismatched the golden model")
    v = verify[0]
    return {
        "rtl_cycles_per_sop": m["delivery_cycles"] / sops,
        "rtl_cycles_per_neuron_update": m["update_cycles"] / params.n_neurons,
        "rtl_fanout_workload": {"n_neurons": params.n_neurons, "n_axons": params.n_axons,
                                "fan_out": 128, "events": len(axons), "sops": sops,
                                "delivery_cycles": m["delivery_cycles"],
                                "update_cycles": m["update_cycles"]},
        "cocotb_cycles_per_s": v["cycles"] / v["wall_s"],
        "cocotb_verification_job": {"n_neurons": small.n_neurons, "steps": len(steps),
                                    "cycles": v["cycles"], "wall_s": v["wall_s"],
                                    "state_reads_per_step": 2 * small.n_neurons},
        "cocotb_streaming_cycles_per_s": m["cycles"] / m["wall_s"],
    }

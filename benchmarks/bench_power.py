"""Clock gating, measured: a core at 1%, 10% and 50% input activity, gated and not.

Writes ``benchmarks/results/power.json`` when run as ``python -m benchmarks.bench_power``.

The core: 64 neurons and 64 axons, 16 synapses per axon (1024), no bias, so that what it
does follows its input; two neuron profiles. Each step lasts 1200 cycles, about what this
core needs at 100% activity (1024 SOPs and 64 updates), as a step of a chip lasts as
long as its busiest core. The gated build is :class:`rtl.power.GatedCore` with the
generic gate and the default policy (sleep below 10%, reduced below 50%, window 4).

Everything is counted from the VCD dumps of the Amaranth simulator (:mod:`sim.toggles`),
from the second window on (every core starts ACTIVE; the policy needs one window):

* ``toggle_reduction_idle_core``: clocked-register toggles of the core (register bits
  times the clock edges they see: what the clock tree drives), ``1 - gated / plain``;
* ``data_toggle_reduction``: register bit toggles (values changing);
* ``clock_edge_reduction``: clock edges the core sees;
* ``controller_clocked``: the power controller's and gate's own clocked-register toggles,
  as a share of the plain core's; ``toggle_reduction_with_controller`` counts them in.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable
from golden_model.power import PowerPolicy, PowerState, simulate_policy
from sim.power_bench import measure
from sim.stimulus import random_inputs

RESULTS = Path(__file__).resolve().parent / "results" / "power.json"
ACTIVITIES = (0.01, 0.1, 0.5)
STEPS = 40
PERIOD = 1200
POLICY = PowerPolicy(window=4)


def core_image(seed=0):
    params = CoreParams(n_neurons=64, n_axons=64, n_synapses=1024, max_delay=2,
                        state_bits=16, weight_bits=8)
    rng = np.random.default_rng(seed)
    synapses = [(a, int(n), int(rng.integers(-60, 120)), int(rng.integers(1, 3)))
                for a in range(64) for n in rng.choice(64, 16, replace=False)]
    profiles = (LIFProfile(du=1024, dv=512, vth=600, weight_exp=2),
                LIFProfile(du=2048, dv=256, vth=900, weight_exp=3))
    return CoreImage(params, profiles, rng.integers(0, 2, 64),
                     SynapseTable.from_synapses(64, synapses))


def _sum(counts, prefix, key, skip):
    return sum(sum(c[key][skip:]) for block, c in counts.items() if block.startswith(prefix))


def main():
    start = time.perf_counter()
    image = core_image()
    out = {"toggle_reduction_idle_core": {}, "data_toggle_reduction": {},
           "clock_edge_reduction": {}, "controller_clocked": {},
           "toggle_reduction_with_controller": {}, "states": {},
           "spikes_equal": {}, "spikes": {}}
    skip = POLICY.window
    for k, activity in enumerate(ACTIVITIES):
        steps = random_inputs(np.random.default_rng([1, k]), 64, STEPS, rate=activity)
        r = measure(image, steps, period=PERIOD, policy=POLICY)
        plain, gated = r["plain"]["counts"], r["gated"]["counts"]
        key = str(activity)
        ratio = lambda g, p: 1 - g / p if p else None
        out["toggle_reduction_idle_core"][key] = ratio(
            _sum(gated, "dut.gate.inner", "clocked", skip), _sum(plain, "dut", "clocked", skip))
        out["data_toggle_reduction"][key] = ratio(
            _sum(gated, "dut.gate.inner", "toggles", skip), _sum(plain, "dut", "toggles", skip))
        out["clock_edge_reduction"][key] = ratio(
            sum(gated["dut.gate.inner"]["edges"][skip:]), sum(plain["dut"]["edges"][skip:]))
        overhead = _sum(gated, "dut.power", "clocked", skip) + \
            _sum({b: c for b, c in gated.items() if b == "dut.gate"}, "dut.gate", "clocked", skip)
        out["controller_clocked"][key] = overhead / _sum(plain, "dut", "clocked", skip)
        out["toggle_reduction_with_controller"][key] = ratio(
            _sum(gated, "dut", "clocked", skip), _sum(plain, "dut", "clocked", skip))
        events = np.array([[len(s)] for s in steps], dtype=np.int64)
        states = simulate_policy(events, POLICY, 64)[:, 0]
        out["states"][key] = {s.name.lower(): int((states == s).sum()) for s in PowerState}
        out["spikes_equal"][key] = r["plain"]["spikes"] == r["gated"]["spikes"]
        out["spikes"][key] = len(r["plain"]["spikes"])
        print(f"activity {activity}: clocked-register toggles -"
              f"{out['toggle_reduction_idle_core'][key]:.1%}, data toggles "
              f"-{out['data_toggle_reduction'][key]:.1%}, clock edges "
              f"-{out['clock_edge_reduction'][key]:.1%}, states {out['states'][key]}",
              flush=True)
    out["setup"] = {"neurons": 64, "axons": 64, "synapses": 1024, "steps": STEPS,
                    "measured_from_step": skip, "period_cycles": PERIOD,
                    "policy": {"window": POLICY.window, "low_pct": POLICY.low_pct,
                               "mid_pct": POLICY.mid_pct},
                    "backend": "generic", "source": "VCD dumps of the Amaranth simulator"}
    out["environment"] = {"python": sys.version.split()[0],
                          "bench_wall_s": round(time.perf_counter() - start, 1)}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

"""Clock gating, measured: a core at 1%, 10% and 50% input activity, gated and not.

Writes ``benchmarks/results/power.json`` when run as ``python -m benchmarks.bench_power``.

The core: 64 neurons and 64 axons, 16 synapses per axon (1024), no bias, so that what it
does follows its input; two neuron profiles. Each step lasts 1400 cycles, a little more
than this core needs at 100% activity (1024 SOPs and 64 updates) or throttled to half
speed at 50%, as a step of a chip lasts as long as its busiest core. The gated build is :class:`rtl.power.GatedCore` with the
generic gate and the default policy (sleep below 10%, reduced below 50%, window 4).

Everything is counted from the VCD dumps of the Amaranth simulator (:mod:`sim.toggles`),
from the second window on (every core starts ACTIVE; the policy needs one window):

* ``toggle_reduction_idle_core``: clocked-register toggles of the core (register bits
  times the clock edges they see: what the clock tree drives), ``1 - gated / plain``;
* ``data_toggle_reduction``: register bit toggles (values changing);
* ``clock_edge_reduction``: clock edges the core sees;
* ``controller_clocked``: the power controller's and gate's own clocked-register toggles,
  as a share of the plain core's; ``toggle_reduction_with_controller`` counts them in;
* ``gated_cycles``: the gated core's own counter at the end (``rtl``) and the golden cycle
  model's count for the same run (``golden``).
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable
from golden_model import simulate
from golden_model.power import (PowerPolicy, PowerState, core_step_timing, gated_cycles,
                                simulate_policy)
from sim.power_bench import measure, reductions
from sim.stimulus import random_inputs

RESULTS = Path(__file__).resolve().parent / "results" / "power.json"
ACTIVITIES = (0.01, 0.1, 0.5)
STEPS = 40
PERIOD = 1400
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


def main():
    start = time.perf_counter()
    image = core_image()
    out = {"toggle_reduction_idle_core": {}, "data_toggle_reduction": {},
           "clock_edge_reduction": {}, "controller_clocked": {},
           "toggle_reduction_with_controller": {}, "states": {},
           "spikes_equal": {}, "spikes": {}, "gated_cycles": {}}
    skip = POLICY.window
    for k, activity in enumerate(ACTIVITIES):
        steps = random_inputs(np.random.default_rng([1, k]), 64, STEPS, rate=activity)
        r = measure(image, steps, period=PERIOD, policy=POLICY)
        key = str(activity)
        saved = reductions(r, skip)
        out["toggle_reduction_idle_core"][key] = saved["clocked"]
        out["data_toggle_reduction"][key] = saved["data"]
        out["clock_edge_reduction"][key] = saved["edges"]
        out["controller_clocked"][key] = saved["controller"]
        out["toggle_reduction_with_controller"][key] = saved["clocked_with_controller"]
        events = np.array([[len(s)] for s in steps], dtype=np.int64)
        states = simulate_policy(events, POLICY, 64)
        golden = simulate(image, steps)
        timing = core_step_timing(image, steps, golden.spikes)
        out["gated_cycles"][key] = {
            "rtl": int(r["gated"]["gated"][-1]),
            "golden": int(gated_cycles([timing], states, PERIOD).total("gated")[0])}
        states = states[:, 0]
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

"""On-chip learning: RTL cycles per weight update, golden-model learning throughput,
the cost of learning in step time, and the pattern-detection example's result.

Writes ``benchmarks/results/learning.json`` when run as
``python -m benchmarks.bench_learning``.

A *weight update* is one plastic synapse read, changed by the rule and written
back: the unit of work of the learning engine, whatever the rule does to it.

* **RTL cycles per weight update** (cocotb on Verilator, every rule): a fully
  plastic table of 32 axons × 64 neurons, every axon firing every step so that
  every synapse sees pre and post spikes. Cycles are the core's
  ``LEARN_CYCLES`` counter (the whole learning phase: the scan, the pipeline's
  drain and the trace pass) over its ``LEARN_UPDATES`` counter.
* **Golden weight updates per second**: the learning phase on the same kind
  of table, 8192 plastic synapses, every synapse updated every step; wall
  time of the learning phase only. The headline figure is the compiled fast
  path (:func:`spikeforge.fastlearn.learn_fast`, bit-exact with the spec); the
  numpy specification (:func:`golden_model.learning.learn`) is listed beside it.
* **Learning step time ratio**: the same image with the rule's ``enable`` on
  and off. On the RTL, the core's busy cycles per step (delivery, update and
  learning); in the golden model, wall time per step of
  :func:`golden_model.lif_core.step`.
* **Pattern detection**: hits and false alarms of ``examples/pattern_detection.py``
  with the weights learnt on the RTL, which equal the golden model's.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable, lif_core
from golden_model.learning import SDSPParams, ThreeFactorParams, learn
from golden_model.params import LearningSpec, Rule
from golden_model.stdp import STDPParams
from sim.core_runner import image_job, run_core_jobs
from spikeforge.fastlearn import learn_fast
from examples import pattern_detection as ex

__all__ = ["dense_image", "rtl_cycles", "golden_throughput", "golden_step_ratio", "run", "main"]

RESULTS = Path(__file__).parent / "results" / "learning.json"
AXONS, NEURONS = 32, 64


def rule_params(rule, enable=True):
    stdp = STDPParams(a_plus=3, a_minus=2, shift=4, w_min=-100, w_max=100, stochastic=True,
                      enable=enable)
    return {Rule.STDP: stdp,
            Rule.THREE_FACTOR: ThreeFactorParams(stdp=stdp, e_decay=3, r_shift=6),
            Rule.SDSP: SDSPParams(theta_m=0, theta_1=0, theta_2=200, theta_3=200, ca_inc=8,
                                  w_min=-100, w_max=100, drift_period=4, enable=enable)}[rule]


def dense_image(rule, n_axons=AXONS, n_neurons=NEURONS, enable=True):
    """Every axon reaches every neuron through a plastic synapse; every neuron fires each step."""
    params = CoreParams(n_neurons=n_neurons, n_axons=n_axons, n_synapses=n_axons * n_neurons,
                        max_delay=2, state_bits=16, learning=LearningSpec(rule=rule))
    rows = [(a, n, 0, 1) for a in range(n_axons) for n in range(n_neurons)]
    return CoreImage(params=params, profiles=[LIFProfile(vth=0, bias_mant=1)], neuron_profile=0,
                     synapses=SynapseTable.from_synapses(n_axons, rows),
                     plastic=np.ones(len(rows), dtype=bool), learning=rule_params(rule, enable))


def rtl_cycles(rule, n_steps=6):
    """``LEARN_CYCLES / LEARN_UPDATES`` and busy cycles per step, learning on and off."""
    on, off = dense_image(rule), dense_image(rule, enable=False)
    steps = [list(range(AXONS))] * n_steps
    rewards = [50] * n_steps if rule is Rule.THREE_FACTOR else None
    # No debug reads of the learning state: the busy counter then holds the steps only.
    results, passed = run_core_jobs(on.params, [
        image_job(on, steps, read_state=False, rewards=rewards),
        image_job(off, steps, read_state=False, rewards=rewards)],
        log=lambda msg: print(msg, file=sys.stderr))
    if not passed:
        raise RuntimeError("the learning benchmark's RTL run disagreed with the golden model")
    c_on, c_off = results[0]["counters"], results[1]["counters"]
    return {
        "cycles_per_weight_update": c_on["learn_cycles"] / c_on["learn_updates"],
        "weight_updates": c_on["learn_updates"],
        "learn_cycles": c_on["learn_cycles"],
        "busy_cycles_per_step_on": c_on["busy_cycles"] / n_steps,
        "busy_cycles_per_step_off": c_off["busy_cycles"] / n_steps,
        "step_time_ratio": c_on["busy_cycles"] / c_off["busy_cycles"],
    }


def golden_throughput(rule, fn=learn, n_axons=128, n_neurons=64, n_steps=3):
    """Weight updates per second of a learning phase: ``learn`` (the numpy specification)
    or ``learn_fast`` (its compiled scan)."""
    image = dense_image(rule, n_axons, n_neurons)
    state = lif_core.CoreState.initial(image)
    pre = np.ones(n_axons, dtype=bool)
    post = np.ones(n_neurons, dtype=bool)
    elapsed = 0.0
    fn(state.learn.copy(), image.params, image.synapses, state.weight.copy(), image.plastic,
       pre, post, state.v, 50, image.learning, image.homeostasis)     # compile, if numba
    for _ in range(n_steps):
        t0 = time.perf_counter()
        fn(state.learn, image.params, image.synapses, state.weight, image.plastic, pre, post,
           state.v, 50, image.learning, image.homeostasis)
        elapsed += time.perf_counter() - t0
    updates = n_steps * int(image.plastic.sum())
    return {"updates": updates, "seconds": elapsed, "updates_per_s": updates / elapsed}


def golden_step_ratio(rule, n_steps=20):
    """Wall time per golden step, learning on over learning off."""
    times = {}
    for enable in (True, False):
        image = dense_image(rule, enable=enable)
        state = lif_core.CoreState.initial(image)
        axons = np.arange(AXONS, dtype=np.int64)
        t0 = time.perf_counter()
        for _ in range(n_steps):
            lif_core.step(state, image, axons, reward=50 if rule is Rule.THREE_FACTOR else 0)
        times[enable] = (time.perf_counter() - t0) / n_steps
    return {"step_s_on": times[True], "step_s_off": times[False],
            "ratio": times[True] / times[False]}


def pattern_seeds(seeds=range(10)):
    """The golden example over several seeds: how often it learns, and the totals."""
    runs = []
    for s in seeds:
        task = ex.make_task(s)
        image = ex.make_image(task)
        state, _ = ex.train(image, task)
        runs.append(ex.evaluate(image, state.weight, task))
    good = [r["hits"] >= 0.9 * r["n_patterns"] and r["false_alarms"] <= 0.05 * r["n_patterns"]
            for r in runs]
    return {"seeds": len(runs), "seeds_learnt": int(sum(good)),
            "hits": sum(r["hits"] for r in runs),
            "n_patterns": sum(r["n_patterns"] for r in runs),
            "false_alarms": sum(r["false_alarms"] for r in runs),
            "per_seed": [{k: r[k] for k in ("hits", "n_patterns", "false_alarms")} for r in runs]}


def pattern_detection(seed=0):
    """Train the example on the RTL; score the RTL's weights, which must equal the golden ones."""
    task = ex.make_task(seed)
    image = ex.make_image(task)
    steps = [np.repeat(np.arange(task.n_axons), row) for row in task.train_inputs]
    t0 = time.perf_counter()
    results, passed = run_core_jobs(image.params, [
        image_job(image, steps, read_state=False, learn_every=len(steps))],
        log=lambda msg: print(msg, file=sys.stderr))
    rtl_s = time.perf_counter() - t0
    (_, learnt), = results[0]["learning"]
    golden, _ = ex.train(image, task)
    identical = bool(passed and np.array_equal(learnt["weight"], golden.weight))
    if not identical:
        raise RuntimeError("the RTL learnt other weights than the golden model")
    out = ex.benchmark(seed, weights=learnt["weight"])
    out["rtl_weights_equal_golden"] = identical
    out["golden_seeds"] = pattern_seeds()
    out["rtl_cycles"] = results[0]["cycles"]
    out["rtl_wall_s"] = rtl_s
    return out


def run():
    rules = {r.name.lower(): r for r in (Rule.STDP, Rule.THREE_FACTOR, Rule.SDSP)}
    rtl = {name: rtl_cycles(r) for name, r in rules.items()}
    golden = {name: {"spec": golden_throughput(r, learn, n_steps=3),
                     "fast": golden_throughput(r, learn_fast, n_steps=30)}
              for name, r in rules.items()}
    ratio = {name: golden_step_ratio(r) for name, r in rules.items()}
    pattern = pattern_detection()
    return {
        "rtl_cycles_per_weight_update": rtl["stdp"]["cycles_per_weight_update"],
        "golden_weight_updates_per_s": golden["stdp"]["fast"]["updates_per_s"],
        "golden_spec_weight_updates_per_s": golden["stdp"]["spec"]["updates_per_s"],
        "learning_step_time_ratio": rtl["stdp"]["step_time_ratio"],
        "pattern_detection": pattern,
        "per_rule": {name: {"rtl": rtl[name], "golden_throughput": golden[name],
                            "golden_step_ratio": ratio[name]} for name in rules},
        "workload": {"axons": AXONS, "neurons": NEURONS, "plastic_synapses": AXONS * NEURONS,
                     "golden_synapses": 128 * 64},
    }


def main():
    result = run()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "per_rule"}, indent=2))


if __name__ == "__main__":
    main()


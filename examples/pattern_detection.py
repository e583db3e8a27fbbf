"""Unsupervised detection of a spike pattern hidden in Poisson noise, learnt by on-chip STDP.

After Masquelier, Guyonneau & Thorpe (2008): one neuron, every input axon
plastic, no teacher. A fixed spatio-temporal spike pattern recurs at random
times in a stream of Poisson noise; STDP makes the neuron fire for the pattern
and stay silent in the noise.

The task (all rates per timestep):

* 64 input axons, each firing as a Poisson process of rate ``p = 0.04``.
* The pattern: 24 of the axons each fire exactly once, at a fixed offset
  within a 10-step window, and every other axon is silent in the window. It is
  pasted into the stream at random times, one presentation every 50 steps on
  average.
* The window carries 2.4 spikes per step, the noise 2.56 on average, so
  neither the input count nor a coincidence detector finds it; outside the
  window the rates are set so that every axon's mean rate is ``p`` (printed by
  :func:`main`): no axon can be told apart by its rate either. Only which axons
  fire, and in what order, marks the pattern.

The core: ``CoreParams(n_neurons=16, n_axons=64, ...)`` with the STDP engine
(:class:`golden_model.stdp.STDPParams`): nearest-neighbour pairing, 12-bit
multiply decay of the traces (time constants of about 5 steps for ``x`` and
10 for ``y``), depression slightly stronger than potentiation, stochastic
rounding, 8-bit unsigned weights starting at 128. Neuron 0 is the detector;
its synapses have delay 2, so an input spike reaches the membrane one step
after it is sent: a cause precedes its effect by a step, which is what the
trace rule pairs (spikes in the same step do not pair).

Training runs 4000 steps; the test runs 3000 fresh steps with the weights
frozen. A *hit* is a detector spike within a presentation's window (or the
step after it, the synaptic delay); a *false alarm* is any other spike.
Controls: the untrained neuron at its best threshold (the one of a sweep
that maximises hits minus false alarms), and the trained weights shuffled
across axons (same weights, identities lost).

The same image runs on the RTL core in ``tests/sim/test_pattern_detection_cocotb.py``
and in ``benchmarks/bench_learning.py``; the final weights are identical.
"""

import dataclasses
import sys

import numpy as np

from golden_model import CoreImage, CoreParams, LIFProfile, ResetMode, SynapseTable, simulate
from golden_model.learning import HomeostasisParams
from golden_model.params import LearningSpec, Rule
from golden_model.stdp import DecayMode, Pairing, STDPParams

__all__ = ["PARAMS", "Task", "make_task", "make_image", "train", "evaluate", "benchmark", "plot",
           "main"]

N_AXONS = 64
DELAY = 2
#: Thresholds tried for the untrained control (the trained neuron uses 1000).
UNTRAINED_THRESHOLDS = (600, 1000, 1400, 1800, 2200, 2600, 3000, 3600)


@dataclasses.dataclass(frozen=True)
class Task:
    """Input streams (``[T, n_axons]`` event counts) and pattern onsets for training and test."""
    seed: int
    length: int
    pattern_axons: np.ndarray
    offsets: np.ndarray
    train_inputs: np.ndarray
    train_onsets: np.ndarray
    test_inputs: np.ndarray
    test_onsets: np.ndarray

    @property
    def n_axons(self):
        return self.train_inputs.shape[1]


def _stream(rng, n_steps, p_rest, p_pattern, axons, offsets, length, gap):
    x = (rng.random((n_steps, N_AXONS)) < p_rest).astype(np.int64)
    x[:, axons] = rng.random((n_steps, len(axons))) < p_pattern
    onsets = []
    t = int(rng.integers(*gap))
    while t + length <= n_steps:
        x[t:t + length] = 0
        x[t + offsets, axons] = 1
        onsets.append(t)
        t += length + int(rng.integers(*gap))
    return x, np.array(onsets, dtype=np.int64)


def make_task(seed=0, *, p=0.04, n_pattern=24, length=10, gap=(20, 60), n_train=4000,
              n_test=3000):
    rng = np.random.default_rng(seed)
    axons = np.sort(rng.choice(N_AXONS, n_pattern, replace=False))
    offsets = rng.integers(0, length, n_pattern)
    period = (gap[0] + gap[1]) / 2 + length
    # Per presentation a pattern axon fires once and any other axon not at all; the
    # rates outside the window make up the rest, so every mean rate is p.
    p_pattern = (p * period - 1) / (period - length)
    p_rest = p * period / (period - length)
    train, train_on = _stream(rng, n_train, p_rest, p_pattern, axons, offsets, length, gap)
    test, test_on = _stream(rng, n_test, p_rest, p_pattern, axons, offsets, length, gap)
    return Task(seed, length, axons, offsets, train, train_on, test, test_on)


#: The detector's core. Its homeostasis unit is left off here; the shape is shared with the
#: random STDP configurations of ``tests/sim/test_learning_cocotb.py`` (one simulator build).
PARAMS = CoreParams(n_neurons=16, n_axons=N_AXONS, n_synapses=128, max_delay=DELAY,
                    state_bits=20, weight_bits=8, weight_signed=False, n_profiles=2,
                    learning=LearningSpec(rule=Rule.STDP, homeostasis=True, trace_bits=8,
                                          theta_bits=10))


def make_image(task, *, weights=128, learn=True, vth=1000):
    params = PARAMS
    w = np.broadcast_to(np.asarray(weights, dtype=np.int64), (task.n_axons,))
    table = SynapseTable.from_synapses(task.n_axons, [(a, 0, int(w[a]), DELAY)
                                                      for a in range(task.n_axons)])
    stdp = STDPParams(trace_bits=8, decay_mode=DecayMode.MULTIPLY, x_decay=800, y_decay=400,
                      x_inc=255, y_inc=255, pairing=Pairing.NEAREST, a_plus=40, a_minus=34,
                      shift=10, w_min=0, w_max=255, stochastic=True, seed=1 + task.seed,
                      enable=learn)
    # du = 4095: the synaptic current is this step's input; dv = 1400: the membrane
    # forgets a third per step, so only near-coincident input reaches vth.
    neuron = LIFProfile(du=4095, dv=1400, vth=vth, refractory=3, reset=ResetMode.ZERO)
    return CoreImage(params, (neuron,), 0, table, plastic=np.ones(task.n_axons, dtype=bool),
                     learning=stdp, homeostasis=HomeostasisParams(theta_inc=0, enable=False))


def train(image, task):
    """Train on the task's training stream; returns ``(final CoreState, CoreRun)``."""
    run = simulate(image, task.train_inputs)
    return run.state, run


def evaluate(image, weights, task, vth=1000):
    """Hits and false alarms of detector neuron 0 on the test stream, weights frozen."""
    frozen = make_image(task, weights=weights, learn=False, vth=vth)
    spikes = np.flatnonzero(simulate(frozen, task.test_inputs).spikes[:, 0])
    window = task.length + DELAY - 1
    inside = np.zeros(len(task.test_inputs), dtype=bool)
    for t0 in task.test_onsets:
        inside[t0:t0 + window] = True
    hits = sum(bool(((spikes >= t0) & (spikes < t0 + window)).any()) for t0 in task.test_onsets)
    return {"hits": int(hits), "misses": len(task.test_onsets) - int(hits),
            "false_alarms": int((~inside[spikes]).sum()), "n_patterns": len(task.test_onsets),
            "n_spikes": len(spikes), "test_steps": len(task.test_inputs)}


def benchmark(seed=0, weights=None):
    """The result quoted in ``benchmarks/results/learning.json``.

    ``weights`` are the trained weights to score (the RTL's); default: the golden run's.
    """
    task = make_task(seed)
    image = make_image(task)
    state, _ = train(image, task)
    learnt = state.weight if weights is None else np.asarray(weights)
    shuffled = np.random.default_rng(seed).permutation(learnt)
    out = evaluate(image, learnt, task)
    sweep = [evaluate(image, image.synapses.weight, task, vth) | {"vth": vth}
             for vth in UNTRAINED_THRESHOLDS]
    out["untrained"] = max(sweep, key=lambda r: r["hits"] - r["false_alarms"])
    out["shuffled_weights"] = evaluate(image, shuffled, task)
    out["train_steps"] = len(task.train_inputs)
    rest = np.setdiff1d(np.arange(task.n_axons), task.pattern_axons)
    out["mean_weight_pattern_axons"] = float(learnt[task.pattern_axons].mean())
    out["mean_weight_other_axons"] = float(learnt[rest].mean())
    return out


def _window_count(task, outside=False):
    inside = np.zeros(len(task.test_inputs), dtype=bool)
    for t0 in task.test_onsets:
        inside[t0:t0 + task.length] = True
    return task.test_inputs[inside != outside].sum(axis=1).mean()


def plot(path, seed=0):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    task = make_task(seed)
    image = make_image(task)
    state, run = train(image, task)
    fig, (ax_w, ax_s) = plt.subplots(2, 1, figsize=(8, 6))
    colour = np.where(np.isin(np.arange(task.n_axons), task.pattern_axons), "tab:red", "tab:grey")
    ax_w.bar(np.arange(task.n_axons), state.weight, color=colour)
    ax_w.set(xlabel="input axon (red: in the pattern)", ylabel="weight after training")
    spikes = np.flatnonzero(run.spikes[:, 0])
    ax_s.vlines(task.train_onsets, 0, 1, color="tab:red", alpha=0.3, label="pattern onset")
    ax_s.plot(spikes, np.full(len(spikes), 0.5), "k|", label="detector spike")
    ax_s.set(xlabel="training step", yticks=[])
    ax_s.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    seed = int(argv[0]) if argv else 0
    task = make_task(seed)
    rest = np.setdiff1d(np.arange(task.n_axons), task.pattern_axons)
    print(f"mean input rate: pattern axons {task.test_inputs[:, task.pattern_axons].mean():.4f}, "
          f"others {task.test_inputs[:, rest].mean():.4f} per step")
    result = benchmark(seed)
    print(f"spikes per step: {_window_count(task):.2f} in the pattern's window, "
          f"{_window_count(task, outside=True):.2f} outside")
    for name, r in (("trained", result), ("untrained, best vth", result["untrained"]),
                    ("shuffled weights", result["shuffled_weights"])):
        print(f"{name:>19}: {r['hits']}/{r['n_patterns']} patterns detected, "
              f"{r['false_alarms']} false alarms in {r['test_steps']} steps")
    if len(argv) > 1:
        plot(argv[1], seed)
        print("wrote", argv[1])
    return result


if __name__ == "__main__":
    main()

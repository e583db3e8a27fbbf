"""Classification accuracy when a network's weights live in memristors.

A one-layer spiking classifier runs on the golden chip twice: with its integer
weights as a core stores them (digital), and with the same weights written into a
memristive crossbar and read back (:func:`spikeforge.memristive.deploy`), at several
levels of device variability and several seeds each.

The task (rates per timestep):

* 4 classes over 32 inputs; each class's template is 10 of the inputs, drawn at
  random (templates overlap).
* A sample is 25 steps of Poisson spike counts, rate 0.3 on the class's inputs and
  0.05 on the others, then 5 silent steps so the membranes settle. 15 samples per
  class, shuffled, run as one stream.
* One LIF neuron per class. Its weights are the template, hand-set: +7 from the
  class's inputs, -3 from the others (4-bit signed weights). ``u`` is the step's
  input (``du`` 4096), ``v`` keeps three quarters a step (``dv`` 1024), threshold 60.
* The prediction is the neuron with the most spikes in the sample's 30 steps; a tie
  for the most, or no spike at all, counts as wrong.

The crossbar's devices are the Ag:a-Si preset (:data:`golden_model.memristor.AG_A_SI`:
97 states, nonlinear, ON/OFF 12.5) with its cycle-to-cycle and device-to-device
spread both set to each level of :data:`STDS` (the preset's own 3.5 % cycle-to-cycle
figure is replaced), no read noise. Write-verify accepts 1 % of the conductance range
and gives a device at most 100 pulses. At zero spread every weight comes back exact,
so the accuracy is the digital one; as the spread grows, write-verify fails on more
devices and the weights move further.

:func:`main` prints a row per spread: the accuracy per seed and its mean, the weight
error in integer units (RMS, mean over seeds; max, the largest of any seed), and the
failed devices and changed weights, means over seeds.
"""

import dataclasses
import sys

import numpy as np

from golden_model.memristor import AG_A_SI
from golden_model.params import LIFProfile
from spikeforge.memristive import deploy
from spikeforge.network import InputPopulation, Network, Population, Projection
from spikeforge.simulate import run

__all__ = ["Task", "make_task", "make_network", "accuracy", "evaluate", "format_table", "main",
           "STDS", "SEEDS"]

N_INPUTS, N_CLASSES, N_ON = 32, 4, 10
STEPS, GAP = 25, 5
P_ON, P_OFF = 0.3, 0.05
W_ON, W_OFF = 7, -3
#: Cycle-to-cycle and device-to-device spread, as a share (0.05 is 5 %).
STDS = (0.0, 0.01, 0.05, 0.1, 0.2)
#: Crossbar seeds per spread.
SEEDS = (0, 1, 2)
TOLERANCE, MAX_PULSES = 0.01, 100


@dataclasses.dataclass(frozen=True)
class Task:
    """``templates``: ``[classes, inputs]`` bool; ``labels``: a class per sample;
    ``inputs``: ``[samples * (STEPS + GAP), inputs]`` spike counts."""
    templates: np.ndarray
    labels: np.ndarray
    inputs: np.ndarray


def make_task(seed=0, per_class=15):
    rng = np.random.default_rng(seed)
    templates = np.zeros((N_CLASSES, N_INPUTS), dtype=bool)
    for k in range(N_CLASSES):
        templates[k, rng.choice(N_INPUTS, N_ON, replace=False)] = True
    labels = rng.permutation(np.repeat(np.arange(N_CLASSES), per_class))
    inputs = np.zeros((len(labels) * (STEPS + GAP), N_INPUTS), dtype=np.int64)
    for s, k in enumerate(labels):
        start = s * (STEPS + GAP)
        inputs[start:start + STEPS] = rng.poisson(np.where(templates[k], P_ON, P_OFF),
                                                  (STEPS, N_INPUTS))
    return Task(templates, labels, inputs)


def make_network(task):
    """``(network, inputs, outputs, projection)`` of the classifier for ``task``'s templates."""
    net = Network()
    inp = net.add(InputPopulation(N_INPUTS, name="in"))
    out = net.add(Population(N_CLASSES, LIFProfile(du=4095, du_offset=1, dv=1024, vth=60),
                             name="class"))
    weights = np.where(task.templates.T, W_ON, W_OFF).astype(np.int64)
    proj = net.add(Projection.dense(inp, out, weights))
    return net, inp, out, proj


def accuracy(net, inp, out, task):
    """The share of ``task``'s samples whose class's neuron alone fired the most."""
    spikes = run(net, {inp: task.inputs}).spikes[out]
    counts = spikes.reshape(len(task.labels), STEPS + GAP, N_CLASSES).sum(axis=1)
    best = counts.max(axis=1)
    alone = (counts == best[:, None]).sum(axis=1) == 1
    correct = (counts.argmax(axis=1) == task.labels) & alone & (best > 0)
    return float(correct.mean())


def evaluate(stds=STDS, seeds=SEEDS, task_seed=0):
    """Digital accuracy and, per spread, the accuracy and deployment figures per seed."""
    task = make_task(task_seed)
    net, inp, out, proj = make_network(task)
    result = {"digital": accuracy(net, inp, out, task), "samples": len(task.labels),
              "levels": []}
    for std in stds:
        device = dataclasses.replace(AG_A_SI, c2c_std=std, d2d_std=std)
        level = {"std": std, "accuracy": [], "rms_error": [], "max_error": [],
                 "failed_devices": [], "changed": [], "clipped": []}
        for seed in seeds:
            deployed, report = deploy(net, proj, device, tolerance=TOLERANCE,
                                      max_pulses=MAX_PULSES, seed=seed)
            level["accuracy"].append(accuracy(deployed, inp, out, task))
            for key in ("rms_error", "max_error", "failed_devices", "changed", "clipped"):
                level[key].append(getattr(report, key))
        level["devices"], level["synapses"] = report.devices, len(proj)
        result["levels"].append(level)
    return result


def format_table(result):
    lines = [f"{'spread':>7}  {'accuracy per seed':<22} {'mean':>6}  {'weight RMS':>10}  "
             f"{'max':>4}  {'failed devices':>14}  {'changed':>8}",
             f"{'digital':>7}  {'':<22} {100 * result['digital']:5.1f}%"]
    for lv in result["levels"]:
        per_seed = " ".join(f"{100 * a:5.1f}" for a in lv["accuracy"])
        failed = f"{np.mean(lv['failed_devices']):.1f}/{lv['devices']}"
        changed = f"{np.mean(lv['changed']):.1f}/{lv['synapses']}"
        mean = 100 * np.mean(lv["accuracy"])
        lines.append(f"{100 * lv['std']:6.0f}%  {per_seed:<22} {mean:5.1f}%  "
                     f"{np.mean(lv['rms_error']):10.2f}  {max(lv['max_error']):4d}  "
                     f"{failed:>14}  {changed:>8}")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    task_seed = int(argv[0]) if argv else 0
    result = evaluate(task_seed=task_seed)
    print(f"{N_CLASSES} classes, {result['samples']} samples, {AG_A_SI.name} crossbars, "
          f"seeds {', '.join(map(str, SEEDS))}; weight errors in integer units")
    print(format_table(result))
    return result


if __name__ == "__main__":
    main()

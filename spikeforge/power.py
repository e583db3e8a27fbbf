"""What ``spikeforge power`` does: a network's activity, power states and energy, per core.

:func:`power_report` runs a network on the golden chip, puts each core's events through
the power policy (:func:`golden_model.power.simulate_policy`), counts its cycles under
the fixed-period contract (:func:`golden_model.power.gated_cycles`, the count a gated
core's own counter gives) and prices the counts (:func:`golden_model.power.energy_report`).
:func:`measure_toggles` adds what the dump of a simulation says: the busiest core, gated
and not, in the Amaranth simulator, its register toggles and clock edges counted from
the VCD. :func:`plot_power` draws it all.
"""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from golden_model.power import (PUBLISHED, EnergyCoefficients, PowerPolicy, PowerState,
                                activity_counts, core_step_timing, energy_report,
                                gated_cycles, simulate_policy)

__all__ = ["PowerReport", "power_report", "measure_toggles", "plot_power", "read_coefficients",
           "format_power"]

STATES = [s.name.lower() for s in PowerState]


@dataclasses.dataclass
class PowerReport:
    """``activity`` ``[T, C]`` (events over input slots), ``states`` ``[T, C]``, ``cycles``
    (:class:`~golden_model.power.CycleCounts`, per step), ``counts`` (per core, from
    :func:`activity_counts`), ``energy`` (:func:`energy_report`) with its
    ``coefficients``, the ``period`` in cycles, the ``policy``, the chip's shape, and the
    golden run (``chip_run``, ``compiled``); ``toggles`` once measured."""
    activity: np.ndarray
    states: np.ndarray
    cycles: object
    counts: dict
    energy: dict
    coefficients: EnergyCoefficients
    period: int
    policy: PowerPolicy
    rows: int
    cols: int
    cores_used: int
    chip_run: object = dataclasses.field(repr=False, default=None)
    compiled: object = dataclasses.field(repr=False, default=None)
    toggles: dict = None

    def as_dict(self):
        C = self.activity.shape[1]
        cores = []
        for c in range(C):
            cores.append({
                "core": c, "xy": [c % self.cols, c // self.cols], "used": c < self.cores_used,
                "mean_activity": float(self.activity[:, c].mean()) if len(self.activity) else 0,
                "steps": {s: int(self.counts[f"{s}_steps"][c]) for s in STATES},
                "cycles": {s: int(self.counts[f"{s}_cycles"][c])
                           for s in STATES + ["clocked", "gated"]},
                "sops": int(self.counts["sops"][c]),
                "energy_j": self.energy["per_core_j"][c] if self.energy["per_core_j"] else 0.0,
            })
        return {"policy": dataclasses.asdict(self.policy), "period_cycles": self.period,
                "steps": len(self.activity), "mesh": [self.rows, self.cols], "cores": cores,
                "energy": self.energy, "toggles": self.toggles}


def default_period(timings):
    """The shortest fixed period that fits every step of every core even when throttled to
    half speed: twice the longest step's busy edges, and two for the throttle's phase."""
    return 2 * max(int(t.busy_edges.max()) if len(t.busy_edges) else 0 for t in timings) + 2


def power_report(network, counts, steps, *, policy=None, period=None, coefficients=PUBLISHED,
                 chip=None):
    """Run ``network`` (inputs ``counts``, as for :func:`spikeforge.simulate.run`) for
    ``steps`` on the golden chip and report its power; see the module's text."""
    from .simulate import run
    policy = PowerPolicy() if policy is None else policy
    if not isinstance(policy, PowerPolicy):
        raise TypeError(f"policy must be a PowerPolicy, not {policy!r}")
    if not isinstance(coefficients, EnergyCoefficients):
        raise TypeError(f"coefficients must be EnergyCoefficients, not {coefficients!r}")
    result = run(network, counts, steps, chip=chip)
    compiled, chip_run = result.compiled, result.chip_run
    p = compiled.chip
    n_axons = p.core.n_axons
    states = simulate_policy(chip_run.events, policy, n_axons)
    T = len(chip_run.events)
    timings = [core_step_timing(compiled.image.cores[c], [chip_run.axons[t][c] for t in range(T)],
                                chip_run.spikes[:, c]) for c in range(p.n_cores)]
    period = default_period(timings) if period is None else period
    cycles = gated_cycles(timings, states, period)
    counts_ = activity_counts(compiled.image, chip_run, states, period=period)
    return PowerReport(activity=chip_run.events / n_axons, states=states, cycles=cycles,
                       counts=counts_, energy=energy_report(counts_, coefficients, steps),
                       coefficients=coefficients, period=period, policy=policy, rows=p.rows,
                       cols=p.cols, cores_used=compiled.n_cores_used, chip_run=chip_run,
                       compiled=compiled)


def measure_toggles(report, *, steps=40, log=None):
    """Run the busiest core of ``report``'s network for its first ``steps`` steps in the
    Amaranth simulator, plain and gated, and count from the VCD dumps what gating saved
    (:func:`sim.power_bench.reductions`, from the second window on). Sets and returns
    ``report.toggles``."""
    from sim.power_bench import measure, reductions
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a whole number of steps, at least 1, not {steps!r}")
    run = report.chip_run
    steps = min(steps, len(run.events))
    core = int(np.argmax(run.events.sum(axis=0)))
    image = report.compiled.image.cores[core]
    axons = [run.axons[t][core] for t in range(steps)]
    if log:
        log(f"simulating core {core} for {steps} steps of {report.period} cycles, plain and "
            f"gated, with VCD dumps...")
    r = measure(image, axons, period=report.period, policy=report.policy)
    skip = min(report.policy.window, steps - 1)
    saved = reductions(r, skip)
    report.toggles = {"core": core, "steps": steps, "from_step": skip,
                      "spikes_equal": r["plain"]["spikes"] == r["gated"]["spikes"],
                      "gated_cycles_rtl": int(r["gated"]["gated"][-1]),
                      "gated_cycles_golden": int(report.cycles.gated[:steps, core].sum()),
                      **{f"saved_{k}": v for k, v in saved.items()},
                      "per_step": {
                          "plain": [int(x) for x in _per_step(r["plain"]["counts"], "dut")],
                          "gated": [int(x) for x in _per_step(r["gated"]["counts"],
                                                              "dut.gate.inner")]}}
    return report.toggles


def _per_step(counts, prefix):
    rows = [c["clocked"] for block, c in counts.items() if block.startswith(prefix)]
    return np.sum(rows, axis=0)


def read_coefficients(path):
    """:class:`EnergyCoefficients` from a JSON file: joules per count by name, and
    ``source``, which is required: a figure without a source is not used."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object of joules per count")
    allowed = [f.name for f in dataclasses.fields(EnergyCoefficients)]
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"{path} has unknown counts {', '.join(unknown)}; allowed: "
                         f"{', '.join(allowed)}")
    if "source" not in data:
        raise ValueError(f"{path} must say where its figures come from, in \"source\"")
    return EnergyCoefficients(**data)


def _si(joules):
    if joules == 0:
        return "0 J"
    exp = min(0, max(-15, 3 * math.floor(math.log10(abs(joules)) / 3)))
    prefix = {0: "", -3: "m", -6: "µ", -9: "n", -12: "p", -15: "f"}[exp]
    return f"{joules / 10 ** exp:.3g} {prefix}J"


def format_power(report):
    """The printed report: one line per core, then energy and toggles."""
    d = report.as_dict()
    pol = report.policy
    lines = [f"{len(report.activity)} steps of {report.period} cycles on a "
             f"{report.rows}x{report.cols} mesh ({report.cores_used} cores used); policy: "
             f"window {pol.window} steps, sleep below {pol.low_pct:g}%, reduced below "
             f"{pol.mid_pct:g}%",
             f"{'core':>6} {'activity':>9} {'active':>7} {'reduced':>8} {'sleep':>6} "
             f"{'gated cycles':>13} {'energy':>10}"]
    for c in d["cores"]:
        total = sum(c["cycles"][s] for s in STATES)
        gated = c["cycles"]["gated"] / total if total else 0
        lines.append(f"{c['xy'][0]:>3},{c['xy'][1]:<2} {c['mean_activity']:>8.2%} "
                     f"{c['steps']['active']:>7} {c['steps']['reduced']:>8} "
                     f"{c['steps']['sleep']:>6} {gated:>12.1%} {_si(c['energy_j']):>10}")
    e = report.energy
    lines.append(f"energy: {_si(e['total_j'])} in total"
                 + (f", {_si(e['per_sop_j'])} per SOP" if e["per_sop_j"] is not None else "")
                 + (f", {_si(e['per_step_j'])} per step" if e["per_step_j"] else ""))
    lines.append(f"  coefficients: {e['source']}")
    if e["unpriced"]:
        lines.append(f"  not priced (no coefficient): {', '.join(e['unpriced'])}")
    t = report.toggles
    if t:
        lines.append(f"toggles of core {t['core']} over steps {t['from_step']}..{t['steps'] - 1}"
                     f" (VCD dumps): clocked-register toggles -{t['saved_clocked']:.1%}, "
                     f"with the controller -{t['saved_clocked_with_controller']:.1%}, data "
                     f"toggles -{t['saved_data']:.1%}, clock edges -{t['saved_edges']:.1%}; "
                     f"spikes {'equal' if t['spikes_equal'] else 'DIFFER'}")
        lines.append(f"  gated cycles in steps 0..{t['steps'] - 1}: RTL counter "
                     f"{t['gated_cycles_rtl']}, golden model {t['gated_cycles_golden']}")
    return "\n".join(lines)


def plot_power(report, out_dir):
    """Write ``power-activity.png``, ``power-states.png``, ``power-energy.png`` and, with
    toggles measured, ``power-toggles.png`` to ``out_dir``; returns the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    C = report.activity.shape[1]
    labels = [f"{c % report.cols},{c // report.cols}" for c in range(C)]

    def save(fig, name):
        fig.tight_layout()
        paths.append(out_dir / name)
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.3 * C))
    im = ax.imshow(report.activity.T * 100, aspect="auto", interpolation="nearest",
                   cmap="viridis")
    ax.set_yticks(range(C), labels)
    ax.set_xlabel("step")
    ax.set_ylabel("core (x,y)")
    fig.colorbar(im, ax=ax, label="input activity (% of input slots)")
    ax.set_title("activity per core")
    save(fig, "power-activity.png")

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 1.8 + 0.3 * C),
                                 gridspec_kw={"width_ratios": [3, 1]})
    colours = ["#d62728", "#ff7f0e", "#1f77b4"]
    ax.imshow(report.states.T, aspect="auto", interpolation="nearest",
              cmap=ListedColormap(colours), vmin=0, vmax=2)
    ax.set_yticks(range(C), labels)
    ax.set_xlabel("step")
    ax.set_ylabel("core (x,y)")
    ax.set_title("power state (red active, orange reduced, blue sleep)")
    left = np.zeros(C)
    for s, colour in zip(STATES, colours):
        cycles = report.counts[f"{s}_cycles"]
        bx.barh(range(C), cycles, left=left, color=colour, label=s)
        left += cycles
    bx.barh(range(C), report.counts["gated_cycles"], height=0.3, color="k", label="gated")
    bx.set_yticks(range(C), labels)
    bx.invert_yaxis()
    bx.set_xlabel("cycles")
    bx.legend(fontsize=7)
    save(fig, "power-states.png")

    fig, ax = plt.subplots(figsize=(7, 1.5 + 0.3 * C))
    left = np.zeros(C)
    for name in report.energy["by_count_j"]:
        values = np.asarray(report.counts[name], dtype=float) * \
            getattr(report.coefficients, name)
        ax.barh(range(C), values, left=left, label=name)
        left += values
    ax.set_yticks(range(C), labels)
    ax.invert_yaxis()
    ax.set_xlabel("energy (J)")
    ax.set_title(f"estimated energy ({report.energy['source'][:60]})", fontsize=9)
    if report.energy["by_count_j"]:
        ax.legend(fontsize=7)
    save(fig, "power-energy.png")

    if report.toggles:
        t = report.toggles
        fig, ax = plt.subplots(figsize=(9, 3.5))
        ax.plot(t["per_step"]["plain"], label="not gated", color="#d62728")
        ax.plot(t["per_step"]["gated"], label="gated", color="#1f77b4")
        ax.axvline(t["from_step"] - 0.5, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("step")
        ax.set_ylabel("clocked-register toggles")
        ax.set_title(f"core {t['core']}: -{t['saved_clocked']:.1%} from step "
                     f"{t['from_step']} (from the VCD dumps)")
        ax.legend()
        save(fig, "power-toggles.png")
    return paths

"""Power management, as the golden model sees it: the power-state policy and an energy model.

**Activity** of a core in a step is the share of its input slots that carried an
event: events delivered in the step over ``n_axons``. The activity monitor sums a
core's events over a tumbling window of ``window`` steps; at the end of each window the
power controller picks the state for the next window::

    events < low   -> SLEEP    (the core's clock is gated whenever it has no work)
    events < mid   -> REDUCED  (a throttled clock enable: one cycle in two)
    otherwise      -> ACTIVE

where ``low`` and ``mid`` are the thresholds turned into event counts once, in
:meth:`PowerPolicy.limits`: ``floor(pct * window * n_axons / 100)``. Every core
starts ACTIVE. The states change how fast a core runs, never what it computes.

**Energy** is ``sum(count * coefficient)`` over the counts :func:`activity_counts`
takes from a chip run: synaptic operations, neuron updates, learning updates, routed
packets, and, given a step period, the cycles each core spent in each state and the
cycles its clock ran or was gated. The coefficients are the
user's; :data:`PUBLISHED` holds the only default this model ships, with its source.
A count whose coefficient is unknown is reported as unpriced, never priced by guess.

**Cycles.** The policy fixes the state of every step; how many clock cycles a core then
spends gated also depends on when its work starts and ends within the step. That is
defined for the **fixed-period contract**: a host (or a timer) starts step ``k`` at cycle
``k * period``, offers the step's input events back to back from its first cycle, then
the tick, and always takes the core's spikes. :func:`core_step_timing` is the core's
timing under that contract, counted in the clock edges the core itself sees (a gated core
sees fewer edges per cycle, but needs the same edges for the same work), and
:func:`gated_cycles` walks the controller through each step in source-clock cycles:

* ACTIVE: every cycle is clocked.
* REDUCED: the throttle's phase flips every cycle spent in REDUCED, from 0 at reset; a
  cycle is clocked when the phase is 1.
* SLEEP: a cycle is clocked while the core has work: its first ``busy`` edges of the step.

The state changes on the cycle the tick is taken, so a step's events run in the state
of the step before and its update in its own. :class:`rtl.power.GatedCore`'s
``gated_cycles`` counter equals this count under the contract (tested cycle for cycle);
cores that get mesh traffic at times of the mesh's choosing are outside it.
"""

import dataclasses
import enum
import math
import numbers

import numpy as np

__all__ = ["PowerState", "PowerPolicy", "simulate_policy", "EnergyCoefficients", "PUBLISHED",
           "activity_counts", "energy_report", "core_step_timing", "gated_cycles",
           "StepTiming", "CycleCounts"]


class PowerState(enum.IntEnum):
    ACTIVE = 0
    REDUCED = 1
    SLEEP = 2


def _pct(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{name} must be a number of percent, not {value!r}")
    if not 0 <= value <= 100:
        raise ValueError(f"{name} must be between 0 and 100 percent, not {value}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class PowerPolicy:
    """Thresholds (percent of input slots) and the window (steps) of the power controller."""
    window: int = 16
    low_pct: float = 10.0
    mid_pct: float = 50.0

    def __post_init__(self):
        if isinstance(self.window, bool) or not isinstance(self.window, numbers.Integral):
            raise TypeError(f"window must be a whole number of steps, not {self.window!r}")
        if not 1 <= self.window <= 65535:
            raise ValueError(f"window must be between 1 and 65535 steps, not {self.window}")
        low, mid = _pct("low_pct", self.low_pct), _pct("mid_pct", self.mid_pct)
        if low > mid:
            raise ValueError(f"low_pct must not be above mid_pct, not {low} over {mid}")

    def limits(self, n_axons):
        """``(low, mid)`` as event counts per window for a core of ``n_axons`` inputs."""
        slots = self.window * n_axons
        return (math.floor(self.low_pct * slots / 100), math.floor(self.mid_pct * slots / 100))


def simulate_policy(events, policy, n_axons):
    """The state each core is in during each step: ``[T, n_cores]`` of :class:`PowerState`.

    ``events`` is ``[T, n_cores]``: events delivered to each core in each step.
    """
    events = np.asarray(events)
    if events.ndim != 2 or events.dtype.kind not in "iu":
        raise ValueError(f"events must be [T, n_cores] integer counts, not {events.dtype} "
                         f"of shape {events.shape}")
    low, mid = policy.limits(n_axons)
    T, C = events.shape
    states = np.full((T, C), PowerState.ACTIVE, dtype=np.int64)
    current = np.full(C, PowerState.ACTIVE, dtype=np.int64)
    for start in range(0, T, policy.window):
        block = events[start:start + policy.window]
        states[start:start + len(block)] = current
        if len(block) == policy.window:
            total = block.sum(axis=0)
            current = np.where(total < low, PowerState.SLEEP,
                               np.where(total < mid, PowerState.REDUCED, PowerState.ACTIVE))
    return states


# ---- cycles -----------------------------------------------------------------------------------

#: Clock edges from the tick being taken to the core going idle, beyond one per neuron:
#: the update pipeline's depth and the spike FIFO (``rtl.lif_core``, default pipeline).
UPDATE_EXTRA_EDGES = 8
#: Edges from a synapse entry's issue until the delivery pipeline is empty (S1 to S3).
DELIVERY_DRAIN_EDGES = 5


@dataclasses.dataclass(frozen=True)
class StepTiming:
    """A core's steps under the fixed-period contract, in edges the core sees:
    ``tick_edge[k]`` is the edge (from 0, the step's first) on which step ``k``'s tick is
    taken, and ``busy_edges[k]`` how many edges the core has work."""
    tick_edge: np.ndarray
    busy_edges: np.ndarray


def core_step_timing(image, inputs, spikes, *, deep_pipeline=False):
    """:class:`StepTiming` of a core without learning, for its ``inputs`` (each step's axon
    list, in the order they are offered) and the ``spikes`` it makes (``[T, N]``, from
    :func:`golden_model.lif_core.simulate`).

    Delivery takes the events one after another: event ``i`` is taken on edge ``a[i]`` and
    its synapse walk is loaded on ``L[i] = max(a[i] + 1, L[i-1] + max(c[i-1], 1))``, where
    ``c`` is the axon's entry count (an axon without entries still takes its load edge);
    the next event is taken on ``L[i]``. The last entry of an axon is issued on
    ``L[i] + c[i]`` and leaves the pipeline :data:`DELIVERY_DRAIN_EDGES` later, so the tick
    (offered the edge after the last event is taken) is taken on
    ``max(a[-1] + 1, max(L[i] + c[i] + 5 if c[i] else L[i] + 1))``, or on edge 0 with no
    events. The update then keeps the core busy ``n_neurons + 8`` edges (``+ 9`` with
    ``deep_pipeline``, whose update has one more stage), one more when the last neuron
    spikes (its spike leaves the FIFO after the update ends).
    """
    p = image.params
    if p.learning is not None:
        raise ValueError("core_step_timing covers cores without learning; this core has "
                         f"{p.learning.rule.name} learning")
    if p.neuron_model.name != "LIF":
        raise ValueError("core_step_timing covers LIF cores; this core's neurons are "
                         f"{p.neuron_model.name}, whose step unit has a timing of its own")
    spikes = np.asarray(spikes)
    if spikes.ndim != 2 or spikes.shape[1] != p.n_neurons or len(spikes) != len(inputs):
        raise ValueError(f"spikes must be [T, n_neurons] = [{len(inputs)}, {p.n_neurons}], "
                         f"not of shape {spikes.shape}")
    counts = np.asarray(image.synapses.count, dtype=np.int64)
    tick = np.zeros(len(inputs), dtype=np.int64)
    for k, axons in enumerate(inputs):
        taken, free, end = 0, 0, 0      # free: the first edge the walker can load on
        for a in axons:
            c = int(counts[int(a)])
            load = max(taken + 1, free)
            end = max(end, load + c + DELIVERY_DRAIN_EDGES if c else load + 1)
            free = load + max(c, 1)
            taken = load
        tick[k] = max(taken + 1, end) if len(axons) else 0
    busy = tick + p.n_neurons + UPDATE_EXTRA_EDGES + bool(deep_pipeline) + \
        spikes[:, -1].astype(np.int64)
    return StepTiming(tick_edge=tick, busy_edges=busy)


@dataclasses.dataclass(frozen=True)
class CycleCounts:
    """Per step and core (``[T, n_cores]``): source-clock cycles spent in each state, and
    the cycles the core's clock was held off (``gated``) and let through (``clocked``).
    Step ``k``'s cycles run from its first cycle to the next step's; ``.total(name)`` sums
    a count over the steps."""
    active: np.ndarray
    reduced: np.ndarray
    sleep: np.ndarray
    gated: np.ndarray
    clocked: np.ndarray

    def total(self, name):
        return getattr(self, name).sum(axis=0)


def _reduced_run(phase, cycles):
    """``(gated, phase after)`` for ``cycles`` cycles of REDUCED from ``phase``."""
    gated = cycles // 2 + (cycles % 2 if phase == 0 else 0)
    return gated, phase ^ (cycles & 1)


def gated_cycles(timings, states, period):
    """:class:`CycleCounts` under the fixed-period contract: ``timings`` holds each core's
    :class:`StepTiming`, ``states`` is ``[T, n_cores]`` from :func:`simulate_policy`, and
    each step lasts ``period`` source-clock cycles (which must cover its work)."""
    if isinstance(period, bool) or not isinstance(period, numbers.Integral) or period < 1:
        raise ValueError(f"period must be a whole number of cycles, at least 1, not {period!r}")
    states = np.asarray(states)
    T, C = states.shape
    if len(timings) != C:
        raise ValueError(f"timings must give one StepTiming per core ({C}), not {len(timings)}")
    out = {name: np.zeros((T, C), dtype=np.int64) for name in ("active", "reduced", "sleep",
                                                               "gated")}
    names = {PowerState.ACTIVE: "active", PowerState.REDUCED: "reduced",
             PowerState.SLEEP: "sleep"}
    for c, timing in enumerate(timings):
        phase = 0
        before = PowerState.ACTIVE
        for k in range(T):
            tick, busy = int(timing.tick_edge[k]), int(timing.busy_edges[k])
            after = PowerState(states[k, c])
            # Up to and including the tick's edge, in the state of the step before.
            if before == PowerState.REDUCED:
                pre = 2 * tick + 1 + (phase == 0)
                g, phase = _reduced_run(phase, pre)
            else:
                pre, g = tick + 1, 0
            out[names[before]][k, c] += pre
            left, work = period - pre, busy - (tick + 1)
            # The rest of the step in the step's own state.
            if after == PowerState.ACTIVE:
                need, g_after = work, 0
            elif after == PowerState.SLEEP:
                need, g_after = work, left - work
            else:
                need = 2 * work - (phase == 1) if work else 0
                g_after, phase = _reduced_run(phase, max(left, 0))
            if left < need:
                raise ValueError(f"period {period} is too short: core {c} needs "
                                 f"{pre + need} cycles in step {k}")
            out[names[after]][k, c] += left
            out["gated"][k, c] += g + g_after
            before = after
    total = out["active"] + out["reduced"] + out["sleep"]
    return CycleCounts(clocked=total - out["gated"], **out)


# ---- energy -----------------------------------------------------------------------------------

_COUNTS = ("sops", "neuron_updates", "learning_updates", "routed_packets", "active_cycles",
           "reduced_cycles", "sleep_cycles", "clocked_cycles", "gated_cycles")


@dataclasses.dataclass(frozen=True)
class EnergyCoefficients:
    """Joules per count. ``None`` is unknown: that count is reported, not priced.

    ``source`` says where the figures come from; :data:`PUBLISHED` is the one default.
    """
    sops: float = None
    neuron_updates: float = None
    learning_updates: float = None
    routed_packets: float = None
    active_cycles: float = None
    reduced_cycles: float = None
    sleep_cycles: float = None
    clocked_cycles: float = None
    gated_cycles: float = None
    source: str = "user"

    def __post_init__(self):
        for name in _COUNTS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not math.isfinite(value):
                raise TypeError(f"{name} must be joules per count (a finite number) or None, "
                                f"not {value!r}")
            if value < 0:
                raise ValueError(f"{name} must not be negative, not {value}")
        if not isinstance(self.source, str) or not self.source:
            raise TypeError(f"source must say where the figures come from, not {self.source!r}")


#: Loihi's energy per synaptic operation: 23.6 pJ, the minimum in Table 2 of M. Davies et
#: al., "Loihi: A Neuromorphic Manycore Processor with On-Chip Learning", IEEE Micro 38(1),
#: 2018, from pre-silicon simulation of Intel's 14 nm chip. A reference point for an ASIC,
#: not a figure for an FPGA; every other count is left for the user to price.
PUBLISHED = EnergyCoefficients(
    sops=23.6e-12,
    source="Davies et al., IEEE Micro 38(1) 2018, Table 2: 23.6 pJ per synaptic op (min, "
           "pre-silicon, Loihi 14 nm)")


def _mesh_routes(table, n_neurons):
    """Mesh packets one spike of each neuron makes (its output-table entries not for the host)."""
    host = np.asarray(table.host, dtype=np.int64)
    owner = np.repeat(np.arange(len(table.count)), table.count)
    return np.asarray(table.count) - np.bincount(owner, weights=host,
                                                 minlength=len(table.count)).astype(np.int64)


def activity_counts(image, chip_run, states=None, neuron_updates_per_step=None,
                    learning_updates=None, *, period=None, deep_pipeline=False):
    """Per core, the counts the energy model prices, from a chip ``image`` and its run.

    ``states`` (from :func:`simulate_policy`) gives the steps in each power state (default:
    always ACTIVE); ``neuron_updates_per_step`` the neurons each core updates every step
    (default: every neuron of the core); ``learning_updates`` per core (default: the
    learning rule's updates the run counted).
    With ``period`` (cycles per step) come the cycle counts of :func:`gated_cycles`, each
    core timed by :func:`core_step_timing` on the events the run delivered to it.
    """
    spikes = np.asarray(chip_run.spikes)
    T, C, N = spikes.shape
    counts = {"sops": np.asarray(chip_run.sops).sum(axis=0).astype(np.int64)}
    per_step = np.full(C, N) if neuron_updates_per_step is None else \
        np.broadcast_to(np.asarray(neuron_updates_per_step, dtype=np.int64), (C,))
    counts["neuron_updates"] = per_step * T
    if learning_updates is None:
        learning_updates = np.asarray(chip_run.learn_updates).sum(axis=0)
    counts["learning_updates"] = np.asarray(learning_updates, dtype=np.int64)
    # A packet is charged to the core whose spike made it: one per mesh entry of the neuron.
    fired = spikes.sum(axis=0)
    counts["routed_packets"] = np.array(
        [int((fired[c] * _mesh_routes(image.routes[c], N)).sum()) for c in range(C)],
        dtype=np.int64)
    if states is None:
        states = np.full((T, C), PowerState.ACTIVE)
    states = np.asarray(states)
    if states.shape != (T, C):
        raise ValueError(f"states must be [T, n_cores] = [{T}, {C}], not of shape {states.shape}")
    for name, state in (("active_steps", PowerState.ACTIVE), ("reduced_steps",
                                                              PowerState.REDUCED),
                        ("sleep_steps", PowerState.SLEEP)):
        counts[name] = (states == state).sum(axis=0).astype(np.int64)
    if period is not None:
        timings = [core_step_timing(image.cores[c], [chip_run.axons[t][c] for t in range(T)],
                                    spikes[:, c], deep_pipeline=deep_pipeline)
                   for c in range(C)]
        cycles = gated_cycles(timings, states, period)
        for name in ("active", "reduced", "sleep", "clocked", "gated"):
            counts[f"{name}_cycles"] = cycles.total(name)
    return counts


def energy_report(counts, coefficients, n_steps):
    """Energy per core and in total, per SOP and per step; unpriced counts listed by name."""
    if not isinstance(coefficients, EnergyCoefficients):
        raise TypeError(f"coefficients must be EnergyCoefficients, not {coefficients!r}")
    per_core = None
    priced, unpriced = {}, []
    for name in _COUNTS:
        coef = getattr(coefficients, name)
        if name not in counts:
            if coef is not None:
                raise ValueError(f"{name} has a coefficient, but the counts have no cycles: "
                                 "count them with a step period")
            continue
        c = np.asarray(counts[name], dtype=np.float64)
        if coef is None:
            if c.sum():
                unpriced.append(name)
            continue
        priced[name] = float((c * coef).sum())
        per_core = c * coef if per_core is None else per_core + c * coef
    total = float(sum(priced.values()))
    sops = float(np.sum(counts["sops"]))
    return {"source": coefficients.source, "total_j": total, "by_count_j": priced,
            "per_core_j": [] if per_core is None else per_core.tolist(),
            "per_sop_j": total / sops if sops else None,
            "per_step_j": total / n_steps if n_steps else None,
            "unpriced": unpriced}

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
packets, and the steps each core spent in each state. The coefficients are the
user's; :data:`PUBLISHED` holds the only default this model ships, with its source.
A count whose coefficient is unknown is reported as unpriced, never priced by guess.
"""

import dataclasses
import enum
import math
import numbers

import numpy as np

__all__ = ["PowerState", "PowerPolicy", "simulate_policy", "EnergyCoefficients", "PUBLISHED",
           "activity_counts", "energy_report"]


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


# ---- energy -----------------------------------------------------------------------------------

_COUNTS = ("sops", "neuron_updates", "learning_updates", "routed_packets", "active_steps",
           "reduced_steps", "sleep_steps")


@dataclasses.dataclass(frozen=True)
class EnergyCoefficients:
    """Joules per count. ``None`` is unknown: that count is reported, not priced.

    ``source`` says where the figures come from; :data:`PUBLISHED` is the one default.
    """
    sops: float = None
    neuron_updates: float = None
    learning_updates: float = None
    routed_packets: float = None
    active_steps: float = None
    reduced_steps: float = None
    sleep_steps: float = None
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
                    learning_updates=None):
    """Per core, the counts the energy model prices, from a chip ``image`` and its run.

    ``states`` (from :func:`simulate_policy`) gives the steps in each power state;
    ``neuron_updates_per_step`` the neurons each core updates every step (default: every
    neuron of the core); ``learning_updates`` per core, if the cores learn.
    """
    spikes = np.asarray(chip_run.spikes)
    T, C, N = spikes.shape
    counts = {"sops": np.asarray(chip_run.sops).sum(axis=0).astype(np.int64)}
    per_step = np.full(C, N) if neuron_updates_per_step is None else \
        np.broadcast_to(np.asarray(neuron_updates_per_step, dtype=np.int64), (C,))
    counts["neuron_updates"] = per_step * T
    counts["learning_updates"] = np.zeros(C, dtype=np.int64) if learning_updates is None \
        else np.asarray(learning_updates, dtype=np.int64)
    # A packet is charged to the core whose spike made it: one per mesh entry of the neuron.
    fired = spikes.sum(axis=0)
    counts["routed_packets"] = np.array(
        [int((fired[c] * _mesh_routes(image.routes[c], N)).sum()) for c in range(C)],
        dtype=np.int64)
    if states is None:
        states = np.full((T, C), PowerState.ACTIVE)
    states = np.asarray(states)
    for name, state in (("active_steps", PowerState.ACTIVE), ("reduced_steps",
                                                              PowerState.REDUCED),
                        ("sleep_steps", PowerState.SLEEP)):
        counts[name] = (states == state).sum(axis=0).astype(np.int64)
    return counts


def energy_report(counts, coefficients, n_steps):
    """Energy per core and in total, per SOP and per step; unpriced counts listed by name."""
    if not isinstance(coefficients, EnergyCoefficients):
        raise TypeError(f"coefficients must be EnergyCoefficients, not {coefficients!r}")
    per_core = None
    priced, unpriced = {}, []
    for name in _COUNTS:
        c = np.asarray(counts[name], dtype=np.float64)
        coef = getattr(coefficients, name)
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

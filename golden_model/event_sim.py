"""Event-driven reference simulator of the chip: a second, independent way to the same spikes.

:func:`golden_model.chip.simulate_chip` updates every neuron of every core at
every step. :func:`simulate_events` instead keeps one priority queue
(``heapq``) of timestamped events and touches a neuron only when an event
concerns it. Within a step ``t`` events run in the order of the timestep
contract:

0. **Axon events** of step ``t``: the external inputs of step ``t`` and the
   packets routed from spikes of step ``t - 1``. Each one expands, through the
   core's synapse table, into one *delivery* per synapse, due at step
   ``t - 1 + delay``.
1. **Deliveries** due at step ``t``: the weight is added to the neuron's
   accumulator for step ``t`` and an update of the neuron at step ``t`` is
   queued.
2. **Neuron updates** (from a delivery or a *wake-up*): the neuron is brought
   forward lazily, with zero input, from the first step it has not yet run up
   to ``t - 1``, then updated at ``t`` with its accumulator. A spike is
   recorded, sent to the host and routed as axon events of step ``t + 1``.
   Then the neuron's wake-up is scheduled: the first later step at which it
   would fire with no further input, found by stepping a copy forward until
   it fires, its ``(u, v, ref)`` repeats, or the run ends.

**Why this is exact.** Every update, lazy or not, runs the arithmetic of
:func:`lif_step`, a scalar mirror of :func:`golden_model.lif.lif_update` (same decay rounding,
same wrap and saturation, same reset and refractory order; a test pins the
two together over random states and profiles), so a neuron that is updated
at step ``s`` with the same accumulator reaches the same state. Its
accumulator for ``s`` is the wrapped sum of the same weights: deliveries due
at ``s`` come from axon events of steps ``<= s``, which come from spikes of
steps ``< s``, all already processed, and a sum modulo ``2**acc_bits`` does
not depend on order. The steps a neuron skips have, by construction, no
delivery (a delivery queues an update at its step), so their input is zero;
and with zero input the update is a deterministic map of ``(u, v, ref)``
alone. Hence the look-ahead from the state after an update predicts the
neuron's future exactly until its next delivery: if the map fires, it fires
first at the wake-up step, which is processed; if a state repeats before a
spike, the orbit is a cycle that never fires. A delivery that arrives
earlier queues its own update and a fresh look-ahead; the older wake-up is
then stale: it is skipped if the neuron has already run its step, and
otherwise runs an ordinary zero-input update, exact like any other. By
induction over steps, every spike of the dense model is found at its step,
and no skipped step can hide one (this is checked as it runs).
"""

import dataclasses
import functools
import heapq

import numpy as np

from .chip import ChipImage, ChipParams, RouteTable, normalise_chip_inputs
from .fixedpoint import DECAY_ONE, DECAY_SHIFT, Overflow, Rounding
from .image import CoreImage
from .lif_core import normalise_inputs
from .params import NeuronModel, ResetMode

__all__ = ["EventRun", "lif_step", "simulate_events"]

# Phases within one step; a heap entry is (step, phase, sequence number, ...).
_AXON, _DELIVER, _UPDATE = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class _Scalar:
    """A :class:`LIFProfile` flattened to plain ints and bools, for the scalar update."""
    du_eff: int
    dv_eff: int
    vth: int
    bias: int
    reset: ResetMode
    v_reset: int
    refractory: int
    weight_exp: int
    floor: bool
    u_saturates: bool
    v_saturates: bool


@functools.lru_cache(maxsize=None)
def _scalar(profile):
    return _Scalar(du_eff=profile.du_eff, dv_eff=profile.dv_eff, vth=profile.vth,
                   bias=profile.bias, reset=profile.reset, v_reset=profile.v_reset,
                   refractory=profile.refractory, weight_exp=profile.weight_exp,
                   floor=profile.rounding is Rounding.FLOOR,
                   u_saturates=profile.u_overflow is Overflow.SATURATE,
                   v_saturates=profile.v_overflow is Overflow.SATURATE)


def _decay(x, d, floor):
    prod = x * (DECAY_ONE - d)
    if floor or prod >= 0:
        return prod >> DECAY_SHIFT
    # Python's >> floors, as numpy's does on int64; the same bias as
    # fixedpoint.shift_right turns it into rounding toward zero.
    return (prod + (1 << DECAY_SHIFT) - 1) >> DECAY_SHIFT


def _wrap(x, bits):
    half = 1 << (bits - 1)
    return ((x + half) & ((1 << bits) - 1)) - half


def _overflow(x, bits, saturates):
    if saturates:
        hi = (1 << (bits - 1)) - 1
        return -hi if x < -hi else hi if x > hi else x
    return _wrap(x, bits)


def _step(u, v, ref, acc, p, state_bits, acc_bits):
    u_new = _overflow(_decay(u, p.du_eff, p.floor) + (_wrap(acc, acc_bits) << p.weight_exp),
                      state_bits, p.u_saturates)
    if ref > 0:
        return u_new, v, ref - 1, False
    v_int = _overflow(_decay(v, p.dv_eff, p.floor) + u_new + p.bias, state_bits, p.v_saturates)
    if v_int > p.vth:
        if p.reset is ResetMode.ZERO:
            v_new = 0
        elif p.reset is ResetMode.SUBTRACT:
            v_new = v_int - p.vth
        else:
            v_new = p.v_reset
        return u_new, v_new, p.refractory, True
    return u_new, v_int, 0, False


def lif_step(u, v, ref, acc, profile, state_bits, acc_bits):
    """One neuron update on Python ints: :func:`golden_model.lif.lif_update` for one neuron.

    ``profile`` is a :class:`LIFProfile`; ``acc`` is the raw accumulator slot
    (sign-extended from ``acc_bits`` here). Returns ``(u, v, ref, spike)``.
    """
    return _step(int(u), int(v), int(ref), int(acc), _scalar(profile), state_bits, acc_bits)


@dataclasses.dataclass
class EventRun:
    """What :func:`simulate_events` returns.

    ``spikes``: sorted ``(t, core, neuron)`` tuples. ``host``: ``(t, x, y,
    neuron)`` tuples in the order the chip emits them (step, source core,
    neuron, output-table entry), one per host entry. ``u``, ``v``, ``ref``:
    final state, ``[n_cores, n_neurons]`` int64. ``sops``: ``[T, n_cores]``
    synaptic operations per step; ``routed``: ``[T]`` mesh packets generated
    by each step's spikes. ``n_touches`` counts the times an event brought
    a neuron forward (the dense model touches ``T * n_cores * n_neurons``);
    ``n_events`` counts the queue entries processed.
    """
    spikes: list
    host: list
    u: np.ndarray
    v: np.ndarray
    ref: np.ndarray
    sops: np.ndarray
    routed: np.ndarray
    n_touches: int
    n_events: int


class _EventSim:
    def __init__(self, image, n_steps):
        p = image.params
        if p.core.learning is not None:
            raise ValueError("the event-driven simulator has no learning engine; simulate "
                             "cores with CoreParams.learning with golden_model.chip.simulate_chip")
        self.p, self.n_steps = p, n_steps
        self.state_bits, self.acc_bits = p.core.state_bits, p.core.acc_bits
        C, N = p.n_cores, p.core.n_neurons
        # Distinct profiles share an id so that their look-ahead results are shared too.
        ids = {}
        self.pid = []
        for core in image.cores:
            local = [ids.setdefault(prof, len(ids)) for prof in core.profiles]
            self.pid.append([local[i] for i in core.neuron_profile.tolist()])
        self.profiles = [_scalar(prof) for prof in sorted(ids, key=ids.get)]
        self.u = [core.u0.tolist() for core in image.cores]
        self.v = [core.v0.tolist() for core in image.cores]
        self.ref = [[0] * N for _ in range(C)]
        self.t_next = [[0] * N for _ in range(C)]  # first step not yet run, per neuron
        self.acc = {}                              # (core, neuron) -> (step, raw sum)
        self.syn = [(c.synapses.start.tolist(), c.synapses.count.tolist(),
                     c.synapses.target.tolist(), c.synapses.weight.tolist(),
                     c.synapses.delay.tolist()) for c in image.cores]
        self.routes = [(r.start.tolist(), r.count.tolist(), r.x.tolist(), r.y.tolist(),
                        r.axon.tolist(), r.host.tolist()) for r in image.routes]
        self.fire_at = {}   # (pid, u, v, ref) -> steps to the first spike, None: never
        self.quiet_for = {}  # (pid, u, v, ref) -> no spike within this many steps
        self.heap, self.seq = [], 0
        self.spikes, self.host = [], []
        self.sops = np.zeros((n_steps, C), dtype=np.int64)
        self.routed = np.zeros(n_steps, dtype=np.int64)
        self.n_touches = self.n_events = 0

    def push(self, t, phase, *payload):
        # Events at or past the end of the run can never change a recorded result.
        if t < self.n_steps:
            heapq.heappush(self.heap, (t, phase, self.seq) + payload)
            self.seq += 1

    def first_spike(self, pid, u, v, ref, limit):
        """Steps until the first spike with zero input, in ``1..limit``; ``None`` if none."""
        x, i, path, seen = (pid, u, v, ref), 0, [], set()
        prof = self.profiles[pid]
        while True:
            if x in self.fire_at:
                k = self.fire_at[x]
                found = None if k is None else i + k
                never = k is None
                break
            if self.quiet_for.get(x, 0) >= limit - i:
                found, never = None, False
                break
            if x in seen:
                # A repeated state with no spike in between: the deterministic
                # zero-input map cycles and never fires.
                found, never = None, True
                break
            if i == limit:
                found, never = None, False
                break
            seen.add(x)
            path.append(x)
            u, v, ref, spike = _step(x[1], x[2], x[3], 0, prof, self.state_bits, self.acc_bits)
            i += 1
            if spike:
                found, never = i, False
                break
            x = (pid, u, v, ref)
        for j, y in enumerate(path):
            if found is not None:
                self.fire_at[y] = found - j
            elif never:
                self.fire_at[y] = None
            elif self.quiet_for.get(y, 0) < limit - j:
                self.quiet_for[y] = limit - j
        return found if found is not None and found <= limit else None

    def advance(self, c, n, t):
        """Run neuron ``n`` of core ``c`` through step ``t``; returns its spike at ``t``."""
        prof = self.profiles[self.pid[c][n]]
        u, v, ref = self.u[c][n], self.v[c][n], self.ref[c][n]
        step, acc = self.acc.pop((c, n), (t, 0))
        if step != t:
            raise RuntimeError(f"internal error: core {c} neuron {n} holds input for step "
                               f"{step} at step {t}")
        for s in range(self.t_next[c][n], t + 1):
            u, v, ref, spike = _step(u, v, ref, acc if s == t else 0, prof,
                                     self.state_bits, self.acc_bits)
            if spike and s != t:
                raise RuntimeError(f"internal error: core {c} neuron {n} fired at step {s} "
                                   "without a wake-up")
        self.u[c][n], self.v[c][n], self.ref[c][n] = u, v, ref
        self.t_next[c][n] = t + 1
        return spike

    def schedule_wake(self, c, n, t):
        """After an update at ``t``: queue the first step it would fire with no more input."""
        limit = self.n_steps - (t + 1)
        if limit > 0:
            k = self.first_spike(self.pid[c][n], self.u[c][n], self.v[c][n], self.ref[c][n],
                                 limit)
            if k is not None:
                self.push(t + k, _UPDATE, c, n)

    def fire(self, c, n, t):
        start, count, xs, ys, axons, host = self.routes[c]
        sx, sy = self.p.core_xy(c)
        self.spikes.append((t, c, n))
        for e in range(start[n], start[n] + count[n]):
            if host[e]:
                # Keyed for the chip's emission order: step, core, neuron, entry.
                self.host.append((t, c, n, e, sx, sy))
            else:
                self.routed[t] += 1
                self.push(t + 1, _AXON, self.p.core_index(xs[e], ys[e]), axons[e])

    def run(self, steps):
        N = self.p.core.n_neurons
        for t, per_core in enumerate(steps):
            for c, axons in enumerate(per_core):
                for a in axons.tolist():
                    self.push(t, _AXON, c, a)
        # Step -1 stands for the initial state: look ahead from u0, v0.
        for c in range(self.p.n_cores):
            for n in range(N):
                self.schedule_wake(c, n, -1)
        while self.heap:
            t, phase, _, c, *rest = heapq.heappop(self.heap)
            self.n_events += 1
            if phase == _AXON:
                start, count, target, weight, delay = self.syn[c]
                a = rest[0]
                self.sops[t, c] += count[a]
                for e in range(start[a], start[a] + count[a]):
                    self.push(t - 1 + delay[e], _DELIVER, c, target[e], weight[e])
            elif phase == _DELIVER:
                n, w = rest
                pending = self.acc.get((c, n))
                if pending is None:
                    # The first delivery of the step queues the one update that reads it.
                    self.acc[(c, n)] = (t, w)
                    self.push(t, _UPDATE, c, n)
                elif pending[0] == t:
                    # Plain integer sum: it is wrapped to acc_bits in the update,
                    # and wrap(sum) equals the RTL's sum of wraps.
                    self.acc[(c, n)] = (t, pending[1] + w)
                else:
                    raise RuntimeError(f"internal error: core {c} neuron {n} holds input for "
                                       f"step {pending[0]} at step {t}")
            else:
                n = rest[0]
                if self.t_next[c][n] > t:
                    continue  # already updated at t: a duplicate or stale wake-up
                self.n_touches += 1
                if self.advance(c, n, t):
                    self.fire(c, n, t)
                self.schedule_wake(c, n, t)
        # Bring every neuron to the end of the run; no spike may appear on the way.
        for c in range(self.p.n_cores):
            for n in range(N):
                if self.t_next[c][n] < self.n_steps:
                    if self.advance(c, n, self.n_steps - 1):
                        raise RuntimeError(f"internal error: core {c} neuron {n} fired at the "
                                           "last step without a wake-up")
        self.spikes.sort()
        host = [(t, x, y, n) for t, _, n, _, x, y in sorted(self.host)]
        return EventRun(spikes=self.spikes, host=host,
                        u=np.array(self.u, dtype=np.int64).reshape(-1, N),
                        v=np.array(self.v, dtype=np.int64).reshape(-1, N),
                        ref=np.array(self.ref, dtype=np.int64).reshape(-1, N),
                        sops=self.sops, routed=self.routed,
                        n_touches=self.n_touches, n_events=self.n_events)


def simulate_events(image, inputs, n_steps=None):
    """Run ``image`` event by event for ``n_steps`` (default: as many as ``inputs`` has).

    ``image`` is a :class:`ChipImage`, with ``inputs`` a sequence (one per
    step) of ``(x, y, axon)`` triples as for :func:`golden_model.chip.simulate_chip`;
    or a single :class:`CoreImage`, run as a 1x1 chip with an empty output
    table, with ``inputs`` as for :func:`golden_model.lif_core.simulate`
    (per-step axon lists or a ``[T, n_axons]`` count array). Returns an
    :class:`EventRun`.
    """
    if isinstance(image, CoreImage):
        core = image
        image = ChipImage(ChipParams(rows=1, cols=1, core=core.params), (core,),
                          (RouteTable.empty(core.params.n_neurons),))
        steps = [[axons] for axons in normalise_inputs(inputs, core.params.n_axons, n_steps)]
    elif isinstance(image, ChipImage):
        steps = normalise_chip_inputs(image.params, inputs, n_steps)
    else:
        raise TypeError(f"image must be a ChipImage or a CoreImage, not {image!r}")
    if image.params.core.neuron_model is not NeuronModel.LIF:
        # The look-ahead that lets a neuron sleep between events is LIF's.
        raise ValueError(f"the event-driven simulator runs LIF cores, not "
                         f"{image.params.core.neuron_model.name} ones; use simulate_chip")
    return _EventSim(image, len(steps)).run(steps)

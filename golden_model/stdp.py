"""Pair-based STDP with traces, in fixed point: step 3 (learn) of the timestep contract.

State: a trace ``x[a]`` per input axon and ``y[n]`` per neuron, ``trace_bits``
wide and never negative, and the synapse weights. In the learning phase of
step ``t``, after the neuron update, in this order:

1. **Decay** every trace by one step: ``x -= x >> k`` (``decay_mode`` shift)
   or ``x = x * (4096 - d) >> 12`` (multiply); both round down.
2. **Scan** the synapse table axon by axon, each axon's entries in memory
   order (:func:`entry_axons`). For each plastic synapse
   ``e`` (axon ``a`` → neuron ``n``), first if axon ``a`` had an event at
   step ``t`` (any number of events is one pre spike):
   ``w -= round((a_minus * y[n]) >> shift)``; then if neuron ``n`` spiked at
   step ``t``: ``w += round((a_plus * x[a]) >> shift)``. After each change
   ``w`` is clamped to ``[w_min, w_max]``.
3. **Increment** the traces of this step's spikes: all-to-all pairing adds
   ``x_inc`` (``y_inc``), saturating at the trace maximum; nearest-neighbour
   pairing sets the trace to its maximum.

Traces are read in step 2 before step 3 adds this step's spikes, so a pre
and a post spike in the same step do not pair with each other.

**Rounding.** ``round`` is a floor, or with ``stochastic`` set,
``(p + (r & (2**shift - 1))) >> shift`` where ``r`` is the LFSR state after
stepping it once. The LFSR steps once for every weight change computed (a
depression, a potentiation), in scan order, and only for those: so the
golden model and the RTL draw the same numbers. The LFSR is 16-bit Galois,
shifting right with tap mask ``0xB400`` (x^16 + x^14 + x^13 + x^11 + 1,
period 65535), seeded with ``seed``; its state survives from step to step.
``E[round(p)] = p / 2**shift`` exactly, over a full period.

Widths: ``a_plus``/``a_minus`` 8 bit unsigned, traces up to 16 bit, the
product at most 24 bit, ``shift`` 0..15.
"""

import dataclasses
import enum

import numpy as np

from .params import check_enum, check_field, check_int

__all__ = ["DecayMode", "Pairing", "STDPParams", "LFSR", "STDPState", "learn", "decay_trace",
           "increment_trace", "entry_axons", "round_shift"]


class DecayMode(enum.Enum):
    SHIFT = 0
    MULTIPLY = 1


class Pairing(enum.Enum):
    ALL_TO_ALL = 0
    NEAREST = 1


@dataclasses.dataclass(frozen=True)
class STDPParams:
    """Run-time parameters of the STDP rule.

    =================  ==============  ==========================================
    field              range           meaning
    =================  ==============  ==========================================
    ``trace_bits``     1..16           trace width; the trace maximum is 2**b - 1
    ``decay_mode``     DecayMode       shift or 12-bit multiply
    ``x_decay``        0..15 / 0..4096 pre-trace decay: shift ``k`` or ``d``
    ``y_decay``        0..15 / 0..4096 post-trace decay
    ``x_inc``          0..2**b-1       pre-trace increment (all-to-all)
    ``y_inc``          0..2**b-1       post-trace increment (all-to-all)
    ``pairing``        Pairing         all-to-all or nearest-neighbour
    ``a_plus``         0..255          potentiation amplitude
    ``a_minus``        0..255          depression amplitude
    ``shift``          0..15           ``dw = (a * trace) >> shift``
    ``w_min``          int             lower weight bound
    ``w_max``          int             upper weight bound
    ``stochastic``     bool            stochastic rounding from the LFSR
    ``seed``           1..65535        LFSR seed
    ``enable``         bool            global learning enable
    =================  ==============  ==========================================

    The weight bounds must lie within the core's weight range; :meth:`check_fits`
    checks them against a :class:`CoreParams`.
    """
    trace_bits: int = 8
    decay_mode: DecayMode = DecayMode.SHIFT
    x_decay: int = 3
    y_decay: int = 3
    x_inc: int = 64
    y_inc: int = 64
    pairing: Pairing = Pairing.ALL_TO_ALL
    a_plus: int = 16
    a_minus: int = 16
    shift: int = 6
    w_min: int = 0
    w_max: int = 127
    stochastic: bool = False
    seed: int = 1
    enable: bool = True

    def __post_init__(self):
        check = lambda name, lo, hi: check_field(self, name, lo, hi)
        check("trace_bits", 1, 16)
        object.__setattr__(self, "decay_mode", check_enum("decay_mode", self.decay_mode,
                                                          DecayMode))
        object.__setattr__(self, "pairing", check_enum("pairing", self.pairing, Pairing))
        hi = 15 if self.decay_mode is DecayMode.SHIFT else 4096
        check("x_decay", 0, hi)
        check("y_decay", 0, hi)
        check("x_inc", 0, self.trace_max)
        check("y_inc", 0, self.trace_max)
        check("a_plus", 0, 255)
        check("a_minus", 0, 255)
        check("shift", 0, 15)
        check("w_min", -128, 255)
        check("w_max", self.w_min, 255)
        check("seed", 1, 65535)
        for name in ("stochastic", "enable"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, not {getattr(self, name)!r}")

    @property
    def trace_max(self):
        return (1 << self.trace_bits) - 1

    def check_fits(self, core):
        """The weight bounds must lie in ``core``'s weight range."""
        check_int("w_min", self.w_min, core.weight_min, core.weight_max)
        check_int("w_max", self.w_max, core.weight_min, core.weight_max)


class LFSR:
    """16-bit Galois LFSR, right shift, tap mask ``0xB400``."""
    TAPS = 0xB400

    def __init__(self, seed):
        self.state = check_int("seed", seed, 1, 65535)

    def step(self):
        lsb = self.state & 1
        self.state >>= 1
        if lsb:
            self.state ^= self.TAPS
        return self.state


@dataclasses.dataclass
class STDPState:
    x: np.ndarray          # per axon
    y: np.ndarray          # per neuron
    lfsr: LFSR

    @classmethod
    def initial(cls, n_axons, n_neurons, params):
        return cls(x=np.zeros(n_axons, dtype=np.int64), y=np.zeros(n_neurons, dtype=np.int64),
                   lfsr=LFSR(params.seed))


def round_shift(p, shift, stochastic, lfsr):
    """``round(p, shift)``: ``p >> shift``, or with ``stochastic`` ``(p + (r & mask)) >> shift``
    where ``r`` is ``lfsr`` stepped once (the only time the LFSR steps)."""
    if stochastic:
        return (p + (lfsr.step() & ((1 << shift) - 1))) >> shift
    return p >> shift


def entry_axons(synapses):
    """The axon of every synapse entry (-1 for none), and the entries in scan order."""
    axon_of = np.full(len(synapses.target), -1, dtype=np.int64)
    order = []
    for a in range(synapses.n_axons):
        lo, n = int(synapses.start[a]), int(synapses.count[a])
        if n:
            axon_of[lo:lo + n] = a
            order.extend(range(lo, lo + n))
    return axon_of, np.array(order, dtype=np.int64)


def decay_trace(trace, mode, amount):
    """One step of trace decay (both modes round down)."""
    if mode is DecayMode.SHIFT:
        return trace - (trace >> amount)
    return (trace * (4096 - amount)) >> 12


def increment_trace(trace, fired, inc, params):
    """A trace takes this step's spikes: saturating increment, or set to the maximum."""
    if params.pairing is Pairing.NEAREST:
        return np.where(fired, params.trace_max, trace)
    return np.where(fired, np.minimum(trace + inc, params.trace_max), trace)


def learn(state, synapses, weights, plastic, pre, post, params):
    """Run the learning phase of one step; changes ``weights`` and ``state`` in place.

    ``synapses`` is a :class:`golden_model.image.SynapseTable` (for axon and
    target of each entry), ``weights`` its int64 weight array, ``plastic`` a
    boolean per entry, ``pre`` a boolean per axon (events this step) and
    ``post`` a boolean per neuron (spikes this step). Returns the number of
    weight changes computed.
    """
    if not params.enable:
        return 0
    state.x = decay_trace(state.x, params.decay_mode, params.x_decay)
    state.y = decay_trace(state.y, params.decay_mode, params.y_decay)
    axon_of, order = entry_axons(synapses)
    updates = 0

    def rounded(p):
        return round_shift(p, params.shift, params.stochastic, state.lfsr)

    active = plastic[order] & (pre[axon_of[order]] | post[synapses.target[order]])
    for e in order[active]:
        a, n = axon_of[e], synapses.target[e]
        w = int(weights[e])
        if pre[a]:
            w = min(max(w - rounded(params.a_minus * int(state.y[n])), params.w_min),
                    params.w_max)
            updates += 1
        if post[n]:
            w = min(max(w + rounded(params.a_plus * int(state.x[a])), params.w_min),
                    params.w_max)
            updates += 1
        weights[e] = w
    state.x = increment_trace(state.x, pre, params.x_inc, params)
    state.y = increment_trace(state.y, post, params.y_inc, params)
    return updates

"""The learning engine's register map, its arithmetic, and the loader's writes.

The engine itself is part of :class:`rtl.lif_core.LIFCore` (built when
``CoreParams.learning`` is set), because it shares the core's synapse memory
and its synapse walker. It runs in the learning phase of the timestep
contract, after the neuron update:

* **Scan.** The synapse walker that delivery uses walks every axon's entries
  again, one entry per clock. A six-stage pipeline reads the target's trace,
  spike flag, calcium and membrane, computes the rule of
  :mod:`golden_model.learning` and writes the weight (and eligibility) back.
  Every entry is written once, so the pipeline has no read-after-write hazard.
* **Traces.** One pass over ``max(n_axons, n_neurons)`` addresses decays the
  traces, adds this step's spikes and clears the pre-spike flags.

Homeostasis runs inside the neuron update, which reads ``theta`` with the
state and writes it back with the new state.

Memory map additions (see :class:`rtl.lif_core.Region`):

* ``SYN_TARGET`` bit 24 is the entry's plastic flag.
* ``SYN_WEIGHT`` bits 16..31 hold the three-factor rule's eligibility.
* ``COUNTER`` addresses from ``LEARN_BASE`` up: ``LEARN_BASE | kind << 12 |
  index``, with :class:`LearnKind` selecting the parameter registers
  (:class:`LearnParam`) or a trace memory.
"""

import enum

from amaranth.hdl import Const, Mux

from golden_model.learning import SDSPParams, ThreeFactorParams
from golden_model.params import Rule
from golden_model.stdp import DecayMode, LFSR, Pairing, STDPParams

__all__ = ["LEARN_BASE", "LearnKind", "LearnParam", "rule_registers", "trace_memories",
           "lfsr_next",
           "trace_decay", "round_shift", "clamp", "learning_writes", "learn_addr"]

LEARN_BASE = 0x8000


class LearnKind(enum.IntEnum):
    PARAM = 0
    X = 1          # per axon
    Y = 2          # per neuron
    CALCIUM = 3    # per neuron
    THETA = 4      # per neuron


class LearnParam(enum.IntEnum):
    ENABLE = 0          # bit 0: the rule, bit 1: homeostasis
    FLAGS = 1           # bit 0: stochastic rounding, bit 1: nearest pairing, bit 2: multiply decay
    TRACE_MAX = 2
    X_DECAY = 3
    Y_DECAY = 4
    X_INC = 5
    Y_INC = 6
    A_PLUS = 7
    A_MINUS = 8
    SHIFT = 9
    W_MIN = 10
    W_MAX = 11
    LFSR = 12           # writing sets the seed; reading gives the state
    E_DECAY = 13
    R_SHIFT = 14
    REWARD = 15         # signed; applies to the step in progress, then clears
    CA_INC = 16
    CA_DECAY = 17
    THETA_M = 18
    THETA_1 = 19
    THETA_2 = 20
    THETA_3 = 21
    DRIFT_PERIOD = 22
    DRIFT_COUNT = 23
    H_INC = 24
    H_DECAY = 25


def learn_addr(kind, index=0):
    return LEARN_BASE | kind << 12 | index


def rule_registers(spec, state_bits):
    """``{LearnParam: (width, signed)}`` of the registers a core built for ``spec`` has."""
    regs = {LearnParam.ENABLE: (2, False)}
    stdp = {LearnParam.FLAGS: (3, False), LearnParam.TRACE_MAX: (16, False),
            LearnParam.X_DECAY: (13, False), LearnParam.Y_DECAY: (13, False),
            LearnParam.X_INC: (16, False), LearnParam.Y_INC: (16, False),
            LearnParam.A_PLUS: (8, False), LearnParam.A_MINUS: (8, False),
            LearnParam.SHIFT: (4, False), LearnParam.LFSR: (16, False)}
    bounds = {LearnParam.W_MIN: (10, True), LearnParam.W_MAX: (10, True)}
    if spec.rule in (Rule.STDP, Rule.THREE_FACTOR):
        regs.update(stdp)
        regs.update(bounds)
    if spec.rule is Rule.THREE_FACTOR:
        regs.update({LearnParam.E_DECAY: (4, False), LearnParam.R_SHIFT: (4, False),
                     LearnParam.REWARD: (8, True)})
    if spec.rule is Rule.SDSP:
        regs.update(bounds)
        regs.update({LearnParam.CA_INC: (16, False), LearnParam.CA_DECAY: (4, False),
                     LearnParam.THETA_M: (state_bits, True), LearnParam.THETA_1: (16, False),
                     LearnParam.THETA_2: (16, False), LearnParam.THETA_3: (16, False),
                     LearnParam.DRIFT_PERIOD: (16, False), LearnParam.DRIFT_COUNT: (16, False)})
    if spec.homeostasis:
        regs.update({LearnParam.H_INC: (16, False), LearnParam.H_DECAY: (4, False)})
    return regs


def trace_memories(core):
    """``[(kind, name, depth)]``: the trace memories of a core, as the debug port reads them."""
    spec = core.learning
    out = []
    if spec.rule in (Rule.STDP, Rule.THREE_FACTOR):
        out += [(LearnKind.X, "x", core.n_axons), (LearnKind.Y, "y", core.n_neurons)]
    if spec.rule is Rule.SDSP:
        out.append((LearnKind.CALCIUM, "ca", core.n_neurons))
    if spec.homeostasis:
        out.append((LearnKind.THETA, "theta", core.n_neurons))
    return out


def lfsr_next(state):
    """One step of the 16-bit Galois LFSR of :class:`golden_model.stdp.LFSR`."""
    return (state >> 1) ^ Mux(state[0], Const(LFSR.TAPS, 16), 0)


def trace_decay(trace, amount, multiply, bits):
    """:func:`golden_model.stdp.decay_trace`: ``x - (x >> k)`` or ``x * (4096 - d) >> 12``."""
    shifted = trace - (trace >> amount[:4])
    product = (trace * (Const(4096, 13) - amount)[:13]) >> 12
    return Mux(multiply, product[:bits], shifted[:bits])


def round_shift(product, shift, stochastic, r):
    """``round(p, s)`` of :mod:`golden_model.learning`: floor, or floor of ``p`` plus noise."""
    mask = ((Const(1, 17) << shift) - 1)[:16]
    noise = Mux(stochastic, r & mask, 0)
    return (product.as_signed() + noise) >> shift


def clamp(value, lo, hi):
    return Mux(value < lo, lo, Mux(value > hi, hi, value))


def _u(value, bits=32):
    return int(value) & ((1 << bits) - 1)


def learning_writes(image):
    """``(addr, data)`` writes into the ``COUNTER`` region for ``image``'s learning state.

    Loads every register of the core's rule and clears every trace memory.
    """
    p = image.params
    spec = p.learning
    values = {}
    rp = image.learning
    stdp = rp.stdp if isinstance(rp, ThreeFactorParams) else rp
    enable = 0
    if isinstance(stdp, STDPParams):
        enable |= stdp.enable
        values.update({
            LearnParam.FLAGS: stdp.stochastic | (stdp.pairing is Pairing.NEAREST) << 1 |
            (stdp.decay_mode is DecayMode.MULTIPLY) << 2,
            LearnParam.TRACE_MAX: stdp.trace_max, LearnParam.X_DECAY: stdp.x_decay,
            LearnParam.Y_DECAY: stdp.y_decay, LearnParam.X_INC: stdp.x_inc,
            LearnParam.Y_INC: stdp.y_inc, LearnParam.A_PLUS: stdp.a_plus,
            LearnParam.A_MINUS: stdp.a_minus, LearnParam.SHIFT: stdp.shift,
            LearnParam.W_MIN: stdp.w_min, LearnParam.W_MAX: stdp.w_max,
            LearnParam.LFSR: stdp.seed,
        })
    if isinstance(rp, ThreeFactorParams):
        values.update({LearnParam.E_DECAY: rp.e_decay, LearnParam.R_SHIFT: rp.r_shift,
                       LearnParam.REWARD: 0})
    if isinstance(rp, SDSPParams):
        enable |= rp.enable
        values.update({
            LearnParam.CA_INC: rp.ca_inc, LearnParam.CA_DECAY: rp.ca_decay,
            LearnParam.THETA_M: rp.theta_m, LearnParam.THETA_1: rp.theta_1,
            LearnParam.THETA_2: rp.theta_2, LearnParam.THETA_3: rp.theta_3,
            LearnParam.W_MIN: rp.w_min, LearnParam.W_MAX: rp.w_max,
            LearnParam.DRIFT_PERIOD: rp.drift_period, LearnParam.DRIFT_COUNT: 0,
        })
    if spec.homeostasis:
        h = image.homeostasis
        enable |= h.enable << 1
        values.update({LearnParam.H_INC: h.theta_inc, LearnParam.H_DECAY: h.theta_decay})
    values[LearnParam.ENABLE] = enable
    writes = [(learn_addr(LearnKind.PARAM, f), _u(v)) for f, v in values.items()]
    for kind, _, n in trace_memories(p):
        writes += [(learn_addr(kind, i), 0) for i in range(n)]
    return writes

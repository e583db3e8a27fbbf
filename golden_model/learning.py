"""The learning phase of a core: step 3 of the timestep contract, for every rule.

A core built with a :class:`~golden_model.params.LearningSpec` runs, after
the neuron update of step ``t`` and only while its rule's ``enable`` is set:

1. **Scan.** Every synapse entry, axon by axon and in memory order within an
   axon, that is marked plastic is visited once; the rule changes its weight
   (and, for the three-factor rule, its eligibility). ``pre[a]`` is true if
   axon ``a`` had at least one event at step ``t``; ``post[n]`` if neuron
   ``n`` spiked at step ``t``.
2. **Traces.** The per-axon and per-neuron variables take this step's spikes.

Homeostasis (``HomeostasisParams.enable``) is separate from the rule's enable
and runs after both.

Rules
-----
``STDP``: :func:`golden_model.stdp.learn`; traces decay before the scan and
take this step's spikes after it.

``THREE_FACTOR`` (reward-modulated STDP, :class:`ThreeFactorParams`): each
plastic synapse keeps a signed eligibility ``el`` of ``eligibility_bits``.
In the scan, with ``x``, ``y`` the decayed traces as in STDP::

    el = el - shift_right(el, e_decay, toward zero)
    if pre[a]:  el = sat(el - round(a_minus * y[n], shift))
    if post[n]: el = sat(el + round(a_plus * x[a], shift))
    if reward != 0: w = clamp(w + round(reward * el, r_shift))

``sat`` is the symmetric saturation of :mod:`golden_model.fixedpoint`;
``clamp`` bounds to ``[w_min, w_max]``. ``reward`` is the signed 8-bit
modulator given for step ``t`` (0 when none arrives), so weights move only
on a step with a reward. ``round(p, s)`` is ``p >> s`` (floor), or with
``stochastic`` ``(p + (r & (2**s - 1))) >> s``; the LFSR steps once for each
round, in the order written, synapse by synapse.

``SDSP`` (ODIN's spike-driven synaptic plasticity, :class:`SDSPParams`):
with ``v[n]`` the membrane after this step's update and ``ca[n]`` the
calcium before this step's spikes::

    if pre[a]:
        if v[n] >= theta_m and theta_1 <= ca[n] < theta_3: w += 1
        elif v[n] < theta_m and theta_1 <= ca[n] < theta_2: w -= 1
    if drift step: w += sign(2 * w - (w_min + w_max))   # toward the nearer rail
    w = clamp(w)

then ``ca = min(ca - (ca >> ca_decay) + (ca_inc if post[n]), 2**calcium_bits - 1)``.
A drift step is every ``drift_period``-th learning step (``drift_period`` 0:
never): a counter of learning steps (16 bits, saturating) reaches
``drift_period - 1`` and restarts.

Homeostasis (:class:`HomeostasisParams`): neuron ``n`` fires when
``v > vth + theta[n]`` (and a subtract reset removes ``vth + theta[n]``);
after the step ``theta = min(theta - (theta >> theta_decay) +
(theta_inc if post[n]), 2**theta_bits - 1)``, so it rises on each spike and
decays back toward the profile's ``vth``.
"""

import dataclasses

import numpy as np

from .fixedpoint import Rounding, saturate, shift_right
from .params import Rule, check_field, check_int
from .stdp import LFSR, STDPParams, decay_trace, entry_axons, increment_trace
from .stdp import round_shift as _round
from .stdp import learn as stdp_learn

__all__ = ["ThreeFactorParams", "SDSPParams", "HomeostasisParams", "LearningState",
           "rule_params_type", "default_rule_params", "default_homeostasis_params",
           "check_rule_params", "learn",
           "learn_three_factor", "learn_sdsp", "sdsp_drift_step", "sdsp_calcium", "homeostasis",
           "entry_axons"]


def _check_bool(obj, name):
    if not isinstance(getattr(obj, name), bool):
        raise TypeError(f"{name} must be a bool, not {getattr(obj, name)!r}")


@dataclasses.dataclass(frozen=True)
class ThreeFactorParams:
    """Run-time parameters of reward-modulated STDP.

    ===========  =======  ===================================================
    field        range    meaning
    ===========  =======  ===================================================
    ``stdp``     params   traces, amplitudes, ``shift``, bounds, rounding,
                          seed and enable (:class:`STDPParams`)
    ``e_decay``  0..15    eligibility decay shift (rounds toward zero)
    ``r_shift``  0..15    ``dw = (reward * el) >> r_shift``
    ===========  =======  ===================================================

    Widths: reward 8 bit signed, eligibility up to 16 bit signed, so the
    reward product is at most 24 bits.
    """
    stdp: STDPParams = STDPParams()
    e_decay: int = 4
    r_shift: int = 6

    def __post_init__(self):
        if not isinstance(self.stdp, STDPParams):
            raise TypeError(f"stdp must be an STDPParams, not {self.stdp!r}")
        check_field(self, "e_decay", 0, 15)
        check_field(self, "r_shift", 0, 15)

    @property
    def enable(self):
        return self.stdp.enable

    def check_fits(self, core):
        self.stdp.check_fits(core)


@dataclasses.dataclass(frozen=True)
class SDSPParams:
    """Run-time parameters of SDSP.

    ================  ===========  ==============================================
    field             range        meaning
    ================  ===========  ==============================================
    ``ca_inc``        0..65535     calcium step on a post spike
    ``ca_decay``      0..15        calcium decay shift
    ``theta_m``       S-bit signed membrane threshold: up above, down below
    ``theta_1``       0..65535     calcium window: no change below it
    ``theta_2``       0..65535     depression stops at this calcium
    ``theta_3``       0..65535     potentiation stops at this calcium
    ``w_min/w_max``   int          weight bounds (within the core's range)
    ``drift_period``  0..65535     learning steps between drift steps; 0: none
    ``enable``        bool         global learning enable
    ================  ===========  ==============================================

    ``check_fits`` checks the calcium values against the core's
    ``calcium_bits`` and ``theta_m`` against its ``state_bits``.
    """
    ca_inc: int = 32
    ca_decay: int = 3
    theta_m: int = 0
    theta_1: int = 16
    theta_2: int = 128
    theta_3: int = 128
    w_min: int = 0
    w_max: int = 7
    drift_period: int = 0
    enable: bool = True

    def __post_init__(self):
        check = lambda name, lo, hi: check_field(self, name, lo, hi)
        check("ca_inc", 0, 65535)
        check("ca_decay", 0, 15)
        check("theta_m", -(1 << 23), (1 << 23) - 1)
        check("theta_1", 0, 65535)
        check("theta_2", 0, 65535)
        check("theta_3", 0, 65535)
        check("w_min", -128, 255)
        check("w_max", self.w_min, 255)
        check("drift_period", 0, 65535)
        _check_bool(self, "enable")

    def check_fits(self, core):
        ca_max = (1 << core.learning.calcium_bits) - 1
        for name in ("ca_inc", "theta_1", "theta_2", "theta_3"):
            check_int(name, getattr(self, name), 0, ca_max)
        S = core.state_bits
        check_int("theta_m", self.theta_m, -(1 << (S - 1)), (1 << (S - 1)) - 1)
        check_int("w_min", self.w_min, core.weight_min, core.weight_max)
        check_int("w_max", self.w_max, core.weight_min, core.weight_max)


@dataclasses.dataclass(frozen=True)
class HomeostasisParams:
    """Run-time parameters of the adaptive threshold.

    ===============  ========  =============================================
    field            range     meaning
    ===============  ========  =============================================
    ``theta_inc``    0..65535  threshold rise per spike
    ``theta_decay``  0..15     decay shift of the rise, back toward ``vth``
    ``enable``       bool      update theta (it is always added to ``vth``)
    ===============  ========  =============================================
    """
    theta_inc: int = 16
    theta_decay: int = 4
    enable: bool = True

    def __post_init__(self):
        check_field(self, "theta_inc", 0, 65535)
        check_field(self, "theta_decay", 0, 15)
        _check_bool(self, "enable")

    def check_fits(self, core):
        check_int("theta_inc", self.theta_inc, 0, (1 << core.learning.theta_bits) - 1)


_RULE_PARAMS = {Rule.STDP: STDPParams, Rule.THREE_FACTOR: ThreeFactorParams,
                Rule.SDSP: SDSPParams}


def rule_params_type(rule):
    """The run-time parameter class of ``rule`` (None for ``Rule.NONE``)."""
    return _RULE_PARAMS.get(rule)


def default_rule_params(core):
    """The rule's default parameters, with widths and bounds narrowed to fit ``core``."""
    spec = core.learning
    lo, hi = core.weight_min, core.weight_max
    if spec.rule is Rule.STDP or spec.rule is Rule.THREE_FACTOR:
        tb = min(8, spec.trace_bits)
        inc = min(64, (1 << tb) - 1)
        stdp = STDPParams(trace_bits=tb, x_inc=inc, y_inc=inc, w_min=max(0, lo),
                          w_max=min(127, hi))
        return stdp if spec.rule is Rule.STDP else ThreeFactorParams(stdp=stdp)
    if spec.rule is Rule.SDSP:
        ca_max = (1 << spec.calcium_bits) - 1
        return SDSPParams(ca_inc=min(32, ca_max), theta_1=min(16, ca_max),
                          theta_2=min(128, ca_max), theta_3=min(128, ca_max),
                          w_min=max(0, lo), w_max=min(7, hi))
    return None


def default_homeostasis_params(core):
    return HomeostasisParams(theta_inc=min(16, (1 << core.learning.theta_bits) - 1))


def check_rule_params(core, rule_params, homeostasis_params):
    """Check run-time learning parameters against ``core`` (a :class:`CoreParams`)."""
    spec = core.learning
    if spec is None:
        if rule_params is not None or homeostasis_params is not None:
            raise ValueError("learning parameters were given for a core built without learning "
                             "(CoreParams.learning is None)")
        return
    cls = rule_params_type(spec.rule)
    if cls is None:
        if rule_params is not None:
            raise ValueError(f"learning must be None for a core built for rule none, "
                             f"not {rule_params!r}")
    else:
        if not isinstance(rule_params, cls):
            raise TypeError(f"learning must be a {cls.__name__} for a core built for rule "
                            f"{spec.rule.name.lower()}, not {rule_params!r}")
        rule_params.check_fits(core)
        stdp = rule_params.stdp if isinstance(rule_params, ThreeFactorParams) else rule_params
        if isinstance(stdp, STDPParams):
            check_int("trace_bits", stdp.trace_bits, 1, spec.trace_bits)
    if homeostasis_params is not None:
        if not spec.homeostasis:
            raise ValueError("homeostasis parameters were given for a core built without "
                             "homeostasis (LearningSpec.homeostasis is False)")
        if not isinstance(homeostasis_params, HomeostasisParams):
            raise TypeError(f"homeostasis must be a HomeostasisParams, "
                            f"not {homeostasis_params!r}")
        homeostasis_params.check_fits(core)


@dataclasses.dataclass
class LearningState:
    """What a learning engine holds between steps (all int64 arrays).

    ``x`` per axon and ``y`` per neuron (STDP traces), ``elig`` per synapse
    entry, ``ca`` (calcium) and ``theta`` (threshold offset) per neuron, the
    LFSR and the drift counter.
    """
    x: np.ndarray
    y: np.ndarray
    elig: np.ndarray
    ca: np.ndarray
    theta: np.ndarray
    lfsr: LFSR
    drift_count: int = 0

    @classmethod
    def initial(cls, core, n_entries, rule_params):
        seed = 1
        if isinstance(rule_params, STDPParams):
            seed = rule_params.seed
        elif isinstance(rule_params, ThreeFactorParams):
            seed = rule_params.stdp.seed
        z = lambda n: np.zeros(n, dtype=np.int64)
        return cls(x=z(core.n_axons), y=z(core.n_neurons), elig=z(n_entries),
                   ca=z(core.n_neurons), theta=z(core.n_neurons), lfsr=LFSR(seed))

    def copy(self):
        lfsr = LFSR(1)
        lfsr.state = self.lfsr.state
        return LearningState(self.x.copy(), self.y.copy(), self.elig.copy(), self.ca.copy(),
                             self.theta.copy(), lfsr, self.drift_count)


def learn_three_factor(state, synapses, weights, plastic, pre, post, reward, params,
                       eligibility_bits):
    """Reward-modulated STDP for one step; returns the number of roundings."""
    sp = params.stdp
    if not sp.enable:
        return 0
    check_int("reward", reward, -128, 127)
    x = decay_trace(state.x, sp.decay_mode, sp.x_decay)
    y = decay_trace(state.y, sp.decay_mode, sp.y_decay)
    axon_of, order = entry_axons(synapses)
    rounds = 0
    for e in order[plastic[order]]:
        a, n = int(axon_of[e]), int(synapses.target[e])
        el = int(state.elig[e])
        el -= int(shift_right(el, params.e_decay, Rounding.TOWARD_ZERO))
        if pre[a]:
            el = int(saturate(el - _round(sp.a_minus * int(y[n]), sp.shift, sp.stochastic,
                                          state.lfsr), eligibility_bits))
            rounds += 1
        if post[n]:
            el = int(saturate(el + _round(sp.a_plus * int(x[a]), sp.shift, sp.stochastic,
                                          state.lfsr), eligibility_bits))
            rounds += 1
        if reward:
            w = int(weights[e]) + _round(reward * el, params.r_shift, sp.stochastic, state.lfsr)
            weights[e] = min(max(w, sp.w_min), sp.w_max)
            rounds += 1
        state.elig[e] = el
    state.x = increment_trace(x, pre, sp.x_inc, sp)
    state.y = increment_trace(y, post, sp.y_inc, sp)
    return rounds


def learn_sdsp(state, synapses, weights, plastic, pre, post, v, params, calcium_bits):
    """SDSP for one step; returns the number of weight changes (before clamping)."""
    if not params.enable:
        return 0
    drift = sdsp_drift_step(state, params)
    axon_of, order = entry_axons(synapses)
    changes = 0
    ca = state.ca
    mid = params.w_min + params.w_max
    for e in order[plastic[order]]:
        a, n = int(axon_of[e]), int(synapses.target[e])
        w = int(weights[e])
        if pre[a]:
            if v[n] >= params.theta_m and params.theta_1 <= ca[n] < params.theta_3:
                w += 1
                changes += 1
            elif v[n] < params.theta_m and params.theta_1 <= ca[n] < params.theta_2:
                w -= 1
                changes += 1
        if drift:
            w += (2 * w > mid) - (2 * w < mid)
        weights[e] = min(max(w, params.w_min), params.w_max)
    sdsp_calcium(state, post, params, calcium_bits)
    return changes


def sdsp_drift_step(state, params):
    """Count a learning step; true if it is a drift step."""
    drift = params.drift_period > 0 and state.drift_count >= params.drift_period - 1
    state.drift_count = 0 if drift else min(state.drift_count + 1, 65535)
    return drift


def sdsp_calcium(state, post, params, calcium_bits):
    """Calcium after the scan: decay, add this step's spikes, saturate."""
    ca = state.ca
    state.ca = np.minimum(ca - (ca >> params.ca_decay) + np.where(post, params.ca_inc, 0),
                          (1 << calcium_bits) - 1)


def homeostasis(state, post, params, theta_bits):
    """Adaptive threshold after a step."""
    if params.enable:
        th = state.theta
        state.theta = np.minimum(th - (th >> params.theta_decay) +
                                 np.where(post, params.theta_inc, 0), (1 << theta_bits) - 1)


def learn(state, core, synapses, weights, plastic, pre, post, v, reward,
          rule_params, homeostasis_params):
    """The whole learning phase of one step for a core with ``core.learning``.

    ``weights`` (int64 per entry) and ``state`` change in place. Returns the
    rule's count of weight-change computations.
    """
    spec = core.learning
    count = 0
    if spec.rule is Rule.STDP:
        count = stdp_learn(state, synapses, weights, plastic, pre, post, rule_params)
    elif spec.rule is Rule.THREE_FACTOR:
        count = learn_three_factor(state, synapses, weights, plastic, pre, post, reward,
                                   rule_params, spec.eligibility_bits)
    elif spec.rule is Rule.SDSP:
        count = learn_sdsp(state, synapses, weights, plastic, pre, post, v, rule_params,
                           spec.calcium_bits)
    if spec.homeostasis and homeostasis_params is not None:
        homeostasis(state, post, homeostasis_params, spec.theta_bits)
    return count

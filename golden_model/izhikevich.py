"""Izhikevich neurons in fixed point, and their float reference.

The model (E. M. Izhikevich, "Simple model of spiking neurons", IEEE Trans. Neural
Networks 14(6), 2003), in mV and ms::

    v' = 0.04 v**2 + 5 v + 140 - u + I
    u' = a (b v - u)
    if v >= v_peak:  v <- c,  u <- u + d

**One step is 1 ms**, integrated as the paper's own code does: ``v`` in two half steps
of 0.5 ms, then ``u`` in one step with the new ``v``; then the threshold, and the reset
at once (the spike belongs to the step whose update crossed ``v_peak``). One change from
the paper's code: ``u`` sees ``v`` clipped at ``v_peak``. The last half step before a
spike overshoots by hundreds of mV (an artefact of the 0.5 ms steps, not a voltage the
model means), and without the clip ``u`` would depend on how far a given state width
lets the overshoot go.

**Fixed point.** ``v``, ``u``, the input ``I``, ``c``, ``d``, ``v_peak`` and the bias
are signed integers in units of ``2**-F`` mV (mV/ms for ``I``), with ``F = S - 9`` for
``S = state_bits``: every state width covers -256..+256 mV. ``v`` and ``u`` saturate
symmetrically to ``S`` bits after every addition (:func:`~golden_model.fixedpoint.saturate`).
``a`` and ``b`` are signed 16-bit fractions, ``value / 2**16`` (-0.5..0.5); 0.04 is
``K = round(0.04 * 2**16) = 2621``. Every right shift rounds toward minus infinity, as a
signed ``>>`` does in hardware. One step, per neuron::

    repeat twice:                        # two half steps of 0.5 ms
        p  = (K * v) >> 16               # 0.04 v
        q  = (p * v) >> F                # 0.04 v**2
        dv = q + 5 v + (140 << F) - u + I
        v  = sat(v + (dv >> 1))
    y  = sat((b * min(v, v_peak)) >> 16 - u)   # b v - u, kept to S bits
    u  = sat(u + ((a * y) >> 16))
    spike = v >= v_peak
    if spike:  v = c;  u = sat(u + d)

The products are the hardware's multiplier shapes: ``K * v`` is 12 by ``S`` bits,
``p * v`` and ``b * v`` at most 16 by ``S``, ``a * y`` 16 by ``S``: with ``S = 16`` each
fits one 16x16 multiplier (an iCE40 UP5K's MAC16, an ECP5's 18x18).

The input of a step is the core's synaptic sum shifted by the profile's ``weight_exp``,
plus its ``bias``, saturated to ``S`` bits (:func:`step_input`).
"""

import dataclasses
import math
import numbers

import numpy as np

from .fixedpoint import saturate, signed_max
from .params import check_int

__all__ = ["IzhikevichProfile", "PATTERNS", "frac_bits", "izhikevich_update", "step_input",
           "simulate_neuron", "simulate_float", "K_004", "COEF_SHIFT", "number", "check_width"]

#: Fraction bits of ``a``, ``b`` and the 0.04 constant.
COEF_SHIFT = 16
#: 0.04 in ``COEF_SHIFT`` fraction bits.
K_004 = round(0.04 * (1 << COEF_SHIFT))
#: Integer bits of a state value, sign included: the range is +-2**(V_BITS - 1) mV.
V_BITS = 9

#: The firing patterns of the paper's Fig. 2, as ``(a, b, c, d)``.
PATTERNS = {
    "regular_spiking": (0.02, 0.2, -65.0, 8.0),
    "intrinsically_bursting": (0.02, 0.2, -55.0, 4.0),
    "chattering": (0.02, 0.2, -50.0, 2.0),
    "fast_spiking": (0.1, 0.2, -65.0, 2.0),
    "low_threshold_spiking": (0.02, 0.25, -65.0, 2.0),
}


def frac_bits(state_bits):
    """``F``: fraction bits of a state value of ``state_bits`` bits."""
    check_int("state_bits", state_bits, 12, 24)
    return state_bits - V_BITS


def number(name, value, positive=False):
    """``value`` as a float, or a sentence naming ``name`` if it is not a finite number (or,
    with ``positive``, not above 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, not {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, not {value}")
    return float(value)


def check_width(profile, core, name):
    """A model profile of a core with ``CoreParams`` ``core`` has the core's state width."""
    if profile.state_bits != core.state_bits:
        raise ValueError(f"{name}.state_bits must be the core's {core.state_bits}, not "
                         f"{profile.state_bits}")


@dataclasses.dataclass(frozen=True)
class IzhikevichProfile:
    """One profile, in the core's integer units (see the module's text).

    ============  ==========  =================================================
    field         bits        meaning
    ============  ==========  =================================================
    ``a``         16 signed   recovery rate, ``a / 2**16`` per ms
    ``b``         16 signed   sensitivity of ``u`` to ``v``, ``b / 2**16``
    ``c``         S signed    reset of ``v``, ``2**-F`` mV
    ``d``         S signed    jump of ``u`` at a spike, ``2**-F`` mV
    ``v_peak``    S signed    spike threshold, ``2**-F`` mV
    ``bias``      S signed    constant input, ``2**-F`` mV/ms
    ``weight_exp`` 0..S-1     the synaptic sum is shifted left by it
    ============  ==========  =================================================
    """
    a: int
    b: int
    c: int
    d: int
    v_peak: int
    bias: int = 0
    weight_exp: int = 0
    state_bits: int = 16

    def __post_init__(self):
        S = check_int("state_bits", self.state_bits, 12, 24)
        for name in ("a", "b"):
            object.__setattr__(self, name, check_int(name, getattr(self, name), -(1 << 15),
                                                     (1 << 15) - 1))
        for name in ("c", "d", "v_peak", "bias"):
            object.__setattr__(self, name, check_int(name, getattr(self, name),
                                                     -signed_max(S), signed_max(S)))
        object.__setattr__(self, "weight_exp", check_int("weight_exp", self.weight_exp, 0,
                                                         S - 1))

    @classmethod
    def from_float(cls, a, b, c, d, *, v_peak=30.0, bias=0.0, weight_exp=0, state_bits=16):
        """Round a float parameter set (mV, ms) to the nearest integers; out-of-range
        values are errors, not clipped."""
        F = frac_bits(state_bits)
        values = {name: number(name, value) for name, value in
                  (("a", a), ("b", b), ("c", c), ("d", d), ("v_peak", v_peak), ("bias", bias))}
        coef = {n: round(values[n] * (1 << COEF_SHIFT)) for n in ("a", "b")}
        state = {n: round(values[n] * (1 << F)) for n in ("c", "d", "v_peak", "bias")}
        for name, value in coef.items():
            if not -(1 << 15) <= value < (1 << 15):
                raise ValueError(f"{name} must be between -0.5 and 0.5 (16-bit fraction), "
                                 f"not {values[name]}")
        limit = signed_max(state_bits) / (1 << F)
        for name, value in state.items():
            if abs(value) > signed_max(state_bits):
                raise ValueError(f"{name} must be between {-limit:g} and {limit:g} mV for "
                                 f"{state_bits}-bit state, not {values[name]}")
        return cls(weight_exp=weight_exp, state_bits=state_bits, **coef, **state)

    def rest(self):
        """``(v, u)`` a neuron starts from: the reset value, with ``u = b v``."""
        return self.c, (self.b * self.c) >> COEF_SHIFT

    def check_fits(self, core, name="profile"):
        """A profile of a core with ``CoreParams`` ``core`` has its state width."""
        check_width(self, core, name)

    def as_float(self):
        """``(a, b, c, d, v_peak, bias)`` as the numbers the integers stand for."""
        F = frac_bits(self.state_bits)
        return (self.a / (1 << COEF_SHIFT), self.b / (1 << COEF_SHIFT), self.c / (1 << F),
                self.d / (1 << F), self.v_peak / (1 << F), self.bias / (1 << F))


def step_input(acc, weight_exp, bias, state_bits):
    """A step's input current: ``sat((acc << weight_exp) + bias)``, ``2**-F`` mV/ms."""
    acc = np.asarray(acc, dtype=np.int64)
    return saturate((acc << np.asarray(weight_exp, dtype=np.int64)) + bias, state_bits)


def izhikevich_update(v, u, current, a, b, c, d, v_peak, state_bits):
    """One 1 ms step of every neuron; returns ``(v, u, spike)``.

    All arguments broadcast; ``v``, ``u``, ``current`` and the profile fields are in the
    integer units of the module's text.
    """
    S = state_bits
    F = frac_bits(S)
    v = np.asarray(v, dtype=np.int64)
    u = np.asarray(u, dtype=np.int64)
    current = np.asarray(current, dtype=np.int64)
    for _ in range(2):
        p = (K_004 * v) >> COEF_SHIFT
        q = (p * v) >> F
        dv = q + 5 * v + (140 << F) - u + current
        v = saturate(v + (dv >> 1), S)
    seen = np.minimum(v, v_peak)
    y = saturate(((np.asarray(b, dtype=np.int64) * seen) >> COEF_SHIFT) - u, S)
    u = saturate(u + ((np.asarray(a, dtype=np.int64) * y) >> COEF_SHIFT), S)
    spike = v >= v_peak
    v = np.where(spike, c, v)
    u = np.where(spike, saturate(u + d, S), u)
    return v.astype(np.int64), u.astype(np.int64), spike


def _initial(profile, v0):
    """``(v, u)`` at rest: ``v0`` (default ``c``) and ``u = b v``, in integer units."""
    F = frac_bits(profile.state_bits)
    v = profile.c if v0 is None else round(number("v0", v0) * (1 << F))
    if abs(v) > signed_max(profile.state_bits):
        raise ValueError(f"v0 must fit {profile.state_bits}-bit state, not {v0}")
    return v, (profile.b * v) >> COEF_SHIFT


def simulate_neuron(profile, current, v0=None):
    """One neuron driven by ``current`` (mV/ms per 1 ms step, a float array, rounded to the
    state's units once); returns ``(spikes, v, u)``, ``v`` and ``u`` in mV."""
    if not isinstance(profile, IzhikevichProfile):
        raise TypeError(f"profile must be an IzhikevichProfile, not {profile!r}")
    S = profile.state_bits
    F = frac_bits(S)
    current = np.asarray(current, dtype=np.float64)
    if current.ndim != 1 or not np.isfinite(current).all():
        raise ValueError("current must be a 1-D array of finite numbers (mV/ms per step)")
    drive = saturate(np.round(current * (1 << F)).astype(np.int64) + profile.bias, S)
    v, u = _initial(profile, v0)
    T = len(current)
    spikes = np.zeros(T, dtype=bool)
    vs, us = np.zeros(T), np.zeros(T)
    for t in range(T):
        v, u, s = izhikevich_update(v, u, drive[t], profile.a, profile.b, profile.c,
                                    profile.d, profile.v_peak, S)
        spikes[t], vs[t], us[t] = s, v / (1 << F), u / (1 << F)
    return spikes, vs, us


def simulate_float(a, b, c, d, current, *, v_peak=30.0, v0=None):
    """The float64 reference of the same step (two half steps for ``v``, then ``u``, then
    the threshold); returns ``(spikes, v, u)``."""
    current = np.asarray(current, dtype=np.float64)
    v = c if v0 is None else v0
    u = b * v
    T = len(current)
    spikes = np.zeros(T, dtype=bool)
    vs, us = np.zeros(T), np.zeros(T)
    for t in range(T):
        for _ in range(2):
            v = v + 0.5 * (0.04 * v * v + 5 * v + 140 - u + current[t])
        u = u + a * (b * min(v, v_peak) - u)
        if v >= v_peak:
            spikes[t] = True
            v, u = c, u + d
        vs[t], us[t] = v, u
    return spikes, vs, us

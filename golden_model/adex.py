"""Adaptive exponential integrate-and-fire (AdEx) neurons in fixed point, and their float
reference.

The model (R. Brette and W. Gerstner, J. Neurophysiol. 94, 2005), in mV, ms, pF, nS, pA::

    C V' = -gL (V - EL) + gL dT exp((V - VT) / dT) - w + I
    tw w' = a (V - EL) - w
    if V >= V_peak:  V <- Vr,  w <- w + b

**One step is** ``dt`` ms (forward Euler: both derivatives from the state at the start
of the step), then the threshold, and the reset at once.

**Fixed point.** ``V`` and every voltage parameter are signed integers in units of
``2**-F`` mV, ``F = S - 9`` for ``S = state_bits`` (-256..+256 mV, as
:mod:`golden_model.izhikevich`). The input is kept as the voltage it adds in one step,
``I * dt / C``, in the same units, and the adaptation current as ``w * dt / C`` in units
``2**W_EXTRA`` times finer (``2**-(F + 8)`` mV, -1..+1 mV per step): ``w`` changes by
``dt / tw`` of itself per step, a few thousandths, and needs those bits. The capacitance
and the step fold into the coefficients, all of them computed once, by
:meth:`AdExProfile.from_float`. Slow adaptation (``tw`` of hundreds of ms at
``dt = 0.1`` ms) wants 24-bit state; at 16 bits ``w`` rounds away. A coefficient is a :class:`Coef`, a signed 16-bit
mantissa and a right shift (``m / 2**s``): a multiplier and a barrel shifter in hardware.
All shifts floor. One step::

    leak = kL * (EL - V)                     # kL = dt gL / C
    x    = kx * (V - VT)                     # x = (V - VT) / dT, Q16
    ex   = exp_term(x)                       # kL dT exp(x), 2**-F mV (below)
    V'   = sat(V + leak + ex - (w >> 8) + I)
    w'   = sat(w + kw * (ka * (V - EL) - w)) # kw = dt / tw, ka = a dt / C * 2**8
    spike = V' >= V_peak
    if spike:  V' = Vr;  w' = sat(w' + b)     # b in the units of w

**The exponential** is ``2**(x log2 e)``: ``y = x * log2(e)`` splits into an integer
``n``, a shift, and a fraction ``f`` whose ``2**f`` comes from a 65-entry table
(:data:`EXP2_TABLE`, ``2**(k/64)`` in Q16) with linear interpolation between entries::

    y = (x * LOG2E) >> 16;  n = y >> 16;  f = y & 0xFFFF
    p = T[f >> 10] + (((T[(f >> 10) + 1] - T[f >> 10]) * (f & 0x3FF)) >> 10)
    exp_term = kE * p * 2**n >> 16           # kE = kL dT 2**F

Below ``x = -8`` the term is below a millionth of ``kL dT`` and is 0; above ``x = 12`` it
saturates, which makes the step a spike. :func:`exp_max_rel_error` measures the
approximation against ``numpy.exp`` (the benchmark records it).
"""

import dataclasses
import math
import numbers

import numpy as np

from .fixedpoint import saturate, signed_max
from .izhikevich import check_width, frac_bits
from .izhikevich import number as _number
from .params import check_int

__all__ = ["W_EXTRA", "Coef", "AdExProfile", "REGIMES", "EXP2_TABLE", "LOG2E_Q16", "X_MIN", "X_MAX",
           "exp_term", "exp_q16", "exp_max_rel_error", "adex_update", "simulate_neuron",
           "simulate_float"]

#: Extra fraction bits of ``w`` over a voltage.
W_EXTRA = 8
#: log2(e) in Q16.
LOG2E_Q16 = round(math.log2(math.e) * (1 << 16))
#: 2**(k/64) in Q16, k = 0..64.
EXP2_TABLE = np.array([round(2 ** (k / 64) * (1 << 16)) for k in range(65)], dtype=np.int64)
#: The range of ``x = (V - VT) / dT`` the exponential covers, in Q16.
X_MIN = -8 << 16
X_MAX = 12 << 16

#: Firing regimes of R. Naud et al., "Firing patterns in the adaptive exponential
#: integrate-and-fire model", Biol. Cybern. 99, 2008 (Table 1): C (pF), gL (nS), EL, VT,
#: dT, Vr (mV), a (nS), tw (ms), b (pA), and the step current I (pA).
REGIMES = {
    "tonic": dict(C=200, gL=10, EL=-70, VT=-50, dT=2, a=2, tw=30, b=0, Vr=-58, I=500),
    "adapting": dict(C=200, gL=12, EL=-70, VT=-50, dT=2, a=2, tw=300, b=60, Vr=-58, I=500),
    "initial_burst": dict(C=130, gL=18, EL=-58, VT=-50, dT=2, a=4, tw=150, b=120, Vr=-50,
                          I=400),
    "regular_bursting": dict(C=200, gL=10, EL=-58, VT=-50, dT=2, a=2, tw=120, b=100, Vr=-46,
                             I=210),
}


@dataclasses.dataclass(frozen=True)
class Coef:
    """A coefficient ``m / 2**s``: ``m`` a signed 16-bit mantissa, ``s`` in 0..40."""
    m: int
    s: int

    def __post_init__(self):
        object.__setattr__(self, "m", check_int("m", self.m, -(1 << 15), (1 << 15) - 1))
        object.__setattr__(self, "s", check_int("s", self.s, 0, 40))

    @classmethod
    def of(cls, name, value):
        """The closest coefficient to ``value`` with the largest shift its mantissa allows."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value):
            raise TypeError(f"{name} must be a finite number, not {value!r}")
        if value == 0:
            return cls(0, 0)
        s = min(40, 14 - math.floor(math.log2(abs(value))))
        if s < 0:
            raise ValueError(f"{name} must be below 32768 in magnitude, not {value}")
        m = round(value * 2 ** s)
        if not -(1 << 15) <= m < (1 << 15):
            s -= 1
            m = round(value * 2 ** s)
        return cls(m, s)

    @property
    def value(self):
        return self.m / 2 ** self.s

    def __call__(self, x):
        return (np.int64(self.m) * np.asarray(x, dtype=np.int64)) >> self.s


@dataclasses.dataclass(frozen=True)
class AdExProfile:
    """One profile in the core's integer units (see the module's text): voltages ``EL``,
    ``VT``, ``Vr``, ``V_peak`` as ``S``-bit state values, the jump ``b`` in the units of
    ``w``; the coefficients ``kL``, ``kx``, ``kE``, ``kw`` and ``ka`` as :class:`Coef`,
    ``kL`` and ``kw`` in ``[0, 1)``. In a core, a step's input is the synaptic sum shifted
    left by ``weight_exp``, plus ``bias`` (a constant current, as the voltage it adds in a
    step), saturated to ``S`` bits."""
    EL: int
    VT: int
    Vr: int
    V_peak: int
    b: int
    kL: Coef
    kx: Coef
    kE: Coef
    kw: Coef
    ka: Coef
    state_bits: int = 16
    bias: int = 0
    weight_exp: int = 0

    def __post_init__(self):
        S = check_int("state_bits", self.state_bits, 12, 24)
        object.__setattr__(self, "weight_exp", check_int("weight_exp", self.weight_exp, 0,
                                                         S - 1))
        for name in ("EL", "VT", "Vr", "V_peak", "b", "bias"):
            object.__setattr__(self, name, check_int(name, getattr(self, name),
                                                     -signed_max(S), signed_max(S)))
        for name in ("kL", "kx", "kE", "kw", "ka"):
            if not isinstance(getattr(self, name), Coef):
                raise TypeError(f"{name} must be a Coef, not {getattr(self, name)!r}")
        # The leak and the adaptation's relaxation move a value toward its target by a
        # fraction of the way: a step of 1 or more would overshoot (and outgrow the datapath).
        for name in ("kL", "kw"):
            c = getattr(self, name)
            if not 0 <= c.m < (1 << c.s):
                raise ValueError(f"{name} must be at least 0 and below 1, not {c.value:g}")

    @classmethod
    def from_float(cls, *, C, gL, EL, VT, dT, a, tw, b, Vr, V_peak=0.0, dt=0.1,
                   state_bits=16, **_ignored):
        """From the model's parameters (pF, nS, mV, ms, pA) and the step ``dt`` (ms)."""
        C = _number("C", C, positive=True)
        gL = _number("gL", gL, positive=True)
        dT = _number("dT", dT, positive=True)
        tw = _number("tw", tw, positive=True)
        dt = _number("dt", dt, positive=True)
        a, b = _number("a", a), _number("b", b)
        volts = {n: _number(n, v) for n, v in (("EL", EL), ("VT", VT), ("Vr", Vr),
                                               ("V_peak", V_peak))}
        if dt > tw or dt * gL / C > 0.5:
            raise ValueError(f"dt must be well below the model's time constants for Euler "
                             f"steps (tw = {tw:g} ms, C/gL = {C / gL:g} ms), not {dt:g} ms")
        F = frac_bits(state_bits)
        one = 1 << F
        limit = signed_max(state_bits) / one
        ints = {}
        for name, value in volts.items():
            if abs(value) > limit:
                raise ValueError(f"{name} must be between {-limit:g} and {limit:g} mV for "
                                 f"{state_bits}-bit state, not {value:g}")
            ints[name] = round(value * one)
        # pA * ms / pF = mV.
        b_step = b * dt / C
        if abs(b_step) * (1 << W_EXTRA) > limit:
            raise ValueError(f"b * dt / C must be between {-limit / (1 << W_EXTRA):g} and "
                             f"{limit / (1 << W_EXTRA):g} mV, not {b_step:g}")
        kL = dt * gL / C
        return cls(b=round(b_step * one * (1 << W_EXTRA)), kL=Coef.of("kL", kL),
                   kx=Coef.of("kx", 2 ** (16 - F) / dT), kE=Coef.of("kE", kL * dT * one),
                   kw=Coef.of("kw", dt / tw), ka=Coef.of("ka", a * dt / C * (1 << W_EXTRA)),
                   state_bits=state_bits, **ints)

    def rest(self):
        """``(V, w)`` a neuron starts from: ``EL`` and no adaptation, the model's rest."""
        return self.EL, 0

    def check_fits(self, core, name="profile"):
        """A profile of a core with ``CoreParams`` ``core`` has its state width."""
        check_width(self, core, name)

    @staticmethod
    def input_of(I, C, dt=0.1, state_bits=16):
        """A current ``I`` (pA) as the voltage it adds in one step, in state units."""
        return round(_number("I", I) * _number("dt", dt, True) / _number("C", C, True)
                     * (1 << frac_bits(state_bits)))


def _exp2_split(x_q):
    """``(n, p)`` with ``exp(x) = 2**n * p / 2**16``: ``n`` the integer part of
    ``x log2 e`` and ``p`` its fraction's power of two from the table, in Q16."""
    y = (np.asarray(x_q, dtype=np.int64) * LOG2E_Q16) >> 16
    n = y >> 16
    f = y & 0xFFFF
    k, r = f >> 10, f & 0x3FF
    return n, EXP2_TABLE[k] + (((EXP2_TABLE[k + 1] - EXP2_TABLE[k]) * r) >> 10)


def exp_q16(x_q):
    """``exp(x) * 2**16`` for ``x_q = x * 2**16`` in ``[X_MIN, X_MAX]``, by the table."""
    n, p = _exp2_split(x_q)
    return np.where(n >= 0, p << np.maximum(n, 0), p >> np.maximum(-n, 0))


def exp_term(x_q, kE, state_bits):
    """``kE * exp(x)`` in state units, 0 below :data:`X_MIN`, saturated above :data:`X_MAX`."""
    x_q = np.asarray(x_q, dtype=np.int64)
    n, p = _exp2_split(np.clip(x_q, X_MIN, X_MAX))
    t = np.int64(kE.m) * p
    # n <= 17 at X_MAX, so the shift is at least -1; beyond 63 a floor shift of t (under
    # 40 bits) is its sign, as 63 gives.
    shift = np.minimum(kE.s + 16 - n, 63)
    value = np.where(shift >= 0, t >> np.maximum(shift, 0), t << np.maximum(-shift, 0))
    top = signed_max(state_bits)
    return np.where(x_q < X_MIN, 0, np.where(x_q > X_MAX, top, np.clip(value, -top, top)))


def exp_max_rel_error(samples=200001):
    """The largest relative error of the table's ``2**n * p / 2**16`` against ``numpy.exp``
    over ``[X_MIN, X_MAX]``, on a grid of ``samples`` inputs (each taken exactly, in Q16).
    This is the approximation's error; the final shift into the state's units then rounds
    to its LSB, as any fixed-point value does."""
    x_q = np.unique(np.linspace(X_MIN, X_MAX, samples).round().astype(np.int64))
    n, p = _exp2_split(x_q)
    approx = p / 65536.0 * np.exp2(n.astype(np.float64))
    exact = np.exp(x_q / 65536.0)
    return float(np.max(np.abs(approx - exact) / exact))


def adex_update(V, w, current, profile):
    """One step of every neuron; returns ``(V, w, spike)`` (integer state units)."""
    p = profile
    S = p.state_bits
    V = np.asarray(V, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    leak = p.kL(p.EL - V)
    ex = exp_term(p.kx(V - p.VT), p.kE, S)
    V_new = saturate(V + leak + ex - (w >> W_EXTRA) + np.asarray(current, dtype=np.int64), S)
    w_new = saturate(w + p.kw(saturate(p.ka(V - p.EL) - w, S)), S)
    spike = V_new >= p.V_peak
    V_new = np.where(spike, p.Vr, V_new)
    w_new = np.where(spike, saturate(w_new + p.b, S), w_new)
    return V_new.astype(np.int64), w_new.astype(np.int64), spike


def simulate_neuron(profile, current):
    """One neuron from rest (``V = EL``, ``w = 0``) driven by ``current`` (per step, in
    state units); returns ``(spikes, V)``, ``V`` in mV."""
    if not isinstance(profile, AdExProfile):
        raise TypeError(f"profile must be an AdExProfile, not {profile!r}")
    current = np.asarray(current)
    if current.ndim != 1 or current.dtype.kind not in "iu":
        raise ValueError("current must be a 1-D array of integers (state units per step)")
    F = frac_bits(profile.state_bits)
    V, w = profile.EL, 0
    spikes = np.zeros(len(current), dtype=bool)
    vs = np.zeros(len(current))
    for t, i in enumerate(current):
        V, w, s = adex_update(V, w, int(i), profile)
        spikes[t], vs[t] = s, V / (1 << F)
    return spikes, vs


def simulate_float(*, C, gL, EL, VT, dT, a, tw, b, Vr, I, steps, V_peak=0.0, dt=0.1):
    """The float64 reference: the same Euler step with ``numpy.exp``, from ``V = EL``,
    ``w = 0``, under a constant ``I`` (pA) for ``steps`` steps; returns ``(spikes, V)``."""
    V, w = float(EL), 0.0
    spikes = np.zeros(steps, dtype=bool)
    vs = np.zeros(steps)
    for t in range(steps):
        x = min((V - VT) / dT, 50.0)
        dV = (-gL * (V - EL) + gL * dT * math.exp(x) - w + I) * dt / C
        dw = (a * (V - EL) - w) * dt / tw
        V, w = V + dV, w + dw
        if V >= V_peak:
            spikes[t] = True
            V, w = Vr, w + b
        vs[t] = V
    return spikes, vs

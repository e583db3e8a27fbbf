"""The fixed-point current-based LIF neuron update: step 2 of the timestep contract.

For one neuron with profile ``p``, state widths ``S`` and the accumulator
slot ``a`` of this step (``acc_bits`` wide, sign-extended), in this order::

    u' = ovf_u( decay(u, p.du + p.du_offset) + (a << p.weight_exp) )
    if ref > 0:                      # refractory: v is held, no spike
        ref' = ref - 1;  v' = v;  spike = 0
    else:
        v' = ovf_v( decay(v, p.dv + p.dv_offset) + u' + (p.bias_mant << p.bias_exp) )
        spike = v' > p.vth
        if spike:
            v' = 0 | v' - p.vth | p.v_reset      (by p.reset)
            ref' = p.refractory

``decay(x, d) = round(x * (4096 - d) / 4096)`` with ``p.rounding``; ``ovf``
wraps or saturates to ``S`` bits (:mod:`golden_model.fixedpoint`). The
subtract reset cannot overflow: ``0 <= vth < v'`` there. The intermediate sums
are at most ``S + 2`` bits before overflow handling.

Everything is vectorised over neurons: parameters are given as per-neuron
arrays gathered from the profile table (:class:`ProfileTable`).
"""

import dataclasses

import numpy as np

from .fixedpoint import Overflow, Rounding, apply_overflow, decay, wrap
from .params import ResetMode

__all__ = ["ProfileTable", "lif_update"]


@dataclasses.dataclass(frozen=True)
class ProfileTable:
    """Profiles as int64 columns, one row per profile, for vectorised updates."""
    du_eff: np.ndarray
    dv_eff: np.ndarray
    vth: np.ndarray
    bias: np.ndarray
    reset: np.ndarray
    v_reset: np.ndarray
    refractory: np.ndarray
    weight_exp: np.ndarray
    rounding: np.ndarray
    u_overflow: np.ndarray
    v_overflow: np.ndarray

    @classmethod
    def from_profiles(cls, profiles):
        col = lambda f: np.array([f(p) for p in profiles], dtype=np.int64)
        return cls(
            du_eff=col(lambda p: p.du_eff), dv_eff=col(lambda p: p.dv_eff),
            vth=col(lambda p: p.vth), bias=col(lambda p: p.bias),
            reset=col(lambda p: p.reset.value), v_reset=col(lambda p: p.v_reset),
            refractory=col(lambda p: p.refractory), weight_exp=col(lambda p: p.weight_exp),
            rounding=col(lambda p: p.rounding.value),
            u_overflow=col(lambda p: p.u_overflow.value),
            v_overflow=col(lambda p: p.v_overflow.value))

    def gather(self, index):
        """Per-neuron parameter columns for neurons whose profile is ``index``."""
        return ProfileTable(**{f.name: getattr(self, f.name)[index]
                               for f in dataclasses.fields(self)})


def _decay(x, d, rounding_codes):
    # Rounding can differ per neuron, so compute both and select.
    return np.where(rounding_codes == Rounding.FLOOR.value,
                    decay(x, d, Rounding.FLOOR), decay(x, d, Rounding.TOWARD_ZERO))


def _overflow(x, bits, overflow_codes):
    return np.where(overflow_codes == Overflow.SATURATE.value,
                    apply_overflow(x, bits, Overflow.SATURATE),
                    apply_overflow(x, bits, Overflow.WRAP))


def lif_update(u, v, ref, acc, p, state_bits, acc_bits, vth_offset=0):
    """One neuron update. Returns ``(u, v, ref, spikes)``, all new arrays.

    ``u``, ``v``, ``ref``, ``acc`` are int64 arrays over neurons; ``p`` is a
    :class:`ProfileTable` gathered per neuron. ``acc`` is the raw accumulator
    slot, ``acc_bits`` wide; it is sign-extended here. ``vth_offset`` (>= 0,
    per neuron) is homeostasis' addition to ``vth``, for the threshold and
    the subtract reset alike.
    """
    a = wrap(acc, acc_bits)
    u_new = _overflow(_decay(u, p.du_eff, p.rounding) + (a << p.weight_exp),
                      state_bits, p.u_overflow)
    v_int = _overflow(_decay(v, p.dv_eff, p.rounding) + u_new + p.bias,
                      state_bits, p.v_overflow)
    refractory = ref > 0
    vth = p.vth + vth_offset
    spikes = ~refractory & (v_int > vth)
    v_reset = np.select([p.reset == ResetMode.ZERO.value, p.reset == ResetMode.SUBTRACT.value],
                        [0, v_int - vth], p.v_reset)
    v_new = np.where(refractory, v, np.where(spikes, v_reset, v_int))
    ref_new = np.where(refractory, ref - 1, np.where(spikes, p.refractory, 0))
    return u_new, v_new, ref_new, spikes

"""Fixed-point primitives shared by every golden-model block.

Rounding and overflow have exactly one home, here. The RTL mirrors these
functions in :mod:`rtl.fixedpoint`; a shared test drives both with the corners
(negative values, the maximum, the minimum and zero).

All functions take and return ``numpy.int64`` arrays (or Python ints, which are
promoted). Widths are small enough (state at most 24 bits, products at most
37 bits) that int64 never overflows.
"""

import enum

import numpy as np

__all__ = [
    "Rounding", "Overflow", "DECAY_SHIFT", "DECAY_ONE",
    "signed_min", "signed_max", "sat_min", "unsigned_max",
    "shift_right", "wrap", "saturate", "apply_overflow", "decay",
]


#: Decay constants are 12-bit fractions: ``x * (4096 - d) >> 12``.
DECAY_SHIFT = 12
DECAY_ONE = 1 << DECAY_SHIFT


class Rounding(enum.Enum):
    """How an arithmetic right shift rounds.

    ``TOWARD_ZERO`` is Loihi's choice: ``sign(x) * (|x| >> n)``. A decaying
    value then never crosses zero and a negative value decays exactly as its
    positive mirror.

    ``FLOOR`` is two's complement ``x >> n``, rounding toward minus infinity.
    It is what Amaranth's ``>>`` on a signed value gives and costs no logic,
    but a small negative value decays to -1 and stays there.
    """
    TOWARD_ZERO = 0
    FLOOR = 1


class Overflow(enum.Enum):
    """What happens when a result does not fit its width.

    ``WRAP`` keeps the low bits (two's complement, modulo ``2**bits``).
    ``SATURATE`` clamps symmetrically to ``[-(2**(bits-1) - 1), 2**(bits-1) - 1]``,
    as Loihi clamps its membrane voltage; the most negative code is never produced,
    so negation of a saturated value cannot overflow.
    """
    WRAP = 0
    SATURATE = 1


def signed_min(bits):
    return -(1 << (bits - 1))


def signed_max(bits):
    return (1 << (bits - 1)) - 1


def sat_min(bits):
    """The lowest value :func:`saturate` produces (symmetric range)."""
    return -signed_max(bits)


def unsigned_max(bits):
    return (1 << bits) - 1


def shift_right(x, n, rounding):
    """Arithmetic right shift of signed ``x`` by ``n`` bits with the given rounding."""
    x = np.asarray(x, dtype=np.int64)
    if rounding is Rounding.FLOOR:
        return x >> n
    if rounding is Rounding.TOWARD_ZERO:
        # Adding 2**n - 1 before the floor shift rounds negatives up, toward zero.
        # This is also how the RTL does it, without an absolute value.
        bias = np.where(x < 0, (np.int64(1) << n) - 1, 0)
        return (x + bias) >> n
    raise TypeError(f"rounding must be a Rounding, not {rounding!r}")


def wrap(x, bits):
    """Two's complement wrap of ``x`` to ``bits`` bits."""
    x = np.asarray(x, dtype=np.int64)
    half = np.int64(1) << (bits - 1)
    return ((x + half) & ((np.int64(1) << bits) - 1)) - half


def saturate(x, bits):
    """Symmetric saturation of ``x`` to ``bits`` bits."""
    return np.clip(np.asarray(x, dtype=np.int64), sat_min(bits), signed_max(bits))


def apply_overflow(x, bits, overflow):
    if overflow is Overflow.WRAP:
        return wrap(x, bits)
    if overflow is Overflow.SATURATE:
        return saturate(x, bits)
    raise TypeError(f"overflow must be an Overflow, not {overflow!r}")


def decay(x, d, rounding):
    """Multiplicative decay ``x * (4096 - d) >> 12``.

    ``d`` is the effective decay constant in ``[0, 4096]``: 0 keeps ``x``,
    4096 clears it. The product of a 24-bit state and the 13-bit factor is
    37 bits wide.
    """
    x = np.asarray(x, dtype=np.int64)
    return shift_right(x * (DECAY_ONE - np.asarray(d, dtype=np.int64)), DECAY_SHIFT, rounding)

"""Tier 2 tests of :mod:`golden_model.fixedpoint`: rounding shifts, wrap, saturation, decay.

Expectations are hand-computed or come from Python's arbitrary-precision
integers (``//`` floors, ``int(x / 2**n)``-style truncation done on ``abs``),
never from the functions under test.
"""

import re

import numpy as np
import pytest

from golden_model.fixedpoint import (
    DECAY_ONE, DECAY_SHIFT, Overflow, Rounding, apply_overflow, decay, sat_min, saturate,
    shift_right, signed_max, signed_min, unsigned_max, wrap)

FLOOR = Rounding.FLOOR
TZ = Rounding.TOWARD_ZERO


def exact(message):
    return rf"^{re.escape(message)}$"


# -- shift_right -------------------------------------------------------------------------

# (x, n, floor result, toward-zero result), worked out by hand.
SHIFT_CORNERS = [
    (0, 1, 0, 0),
    (0, 12, 0, 0),
    (1, 1, 0, 0),
    (-1, 1, -1, 0),            # -0.5: floor -1, truncation 0
    (-1, 12, -1, 0),
    (-2, 1, -1, -1),           # exact multiple: both agree
    (-3, 1, -2, -1),           # -1.5
    (3, 1, 1, 1),              # 1.5
    (7, 1, 3, 3),
    (4095, 12, 0, 0),          # 4095/4096
    (4096, 12, 1, 1),
    (4097, 12, 1, 1),
    (-4095, 12, -1, 0),
    (-4096, 12, -1, -1),
    (-4097, 12, -2, -1),
    (-8192, 12, -2, -2),
    # 37-bit extremes: the widest decay product.
    ((1 << 36) - 1, 12, (1 << 24) - 1, (1 << 24) - 1),
    (-(1 << 36), 12, -(1 << 24), -(1 << 24)),
    (-(1 << 36) + 1, 12, -(1 << 24), -(1 << 24) + 1),
    # 24-bit state extremes shifted by one.
    ((1 << 23) - 1, 1, (1 << 22) - 1, (1 << 22) - 1),
    (-(1 << 23), 1, -(1 << 22), -(1 << 22)),
    (-(1 << 23) + 1, 1, -(1 << 22), -(1 << 22) + 1),
]


@pytest.mark.parametrize("x, n, floor, toward_zero", SHIFT_CORNERS)
def test_shift_right_corners(x, n, floor, toward_zero):
    assert shift_right(x, n, FLOOR) == floor
    assert shift_right(x, n, TZ) == toward_zero


def test_shift_right_by_zero_is_identity():
    x = np.array([-(1 << 36), -5, -1, 0, 1, 5, (1 << 36) - 1], dtype=np.int64)
    for rounding in Rounding:
        np.testing.assert_array_equal(shift_right(x, 0, rounding), x)


def test_shift_right_vectorised_matches_corners():
    x = np.array([c[0] for c in SHIFT_CORNERS if c[1] == 12], dtype=np.int64)
    floor = [c[2] for c in SHIFT_CORNERS if c[1] == 12]
    tz = [c[3] for c in SHIFT_CORNERS if c[1] == 12]
    np.testing.assert_array_equal(shift_right(x, 12, FLOOR), floor)
    np.testing.assert_array_equal(shift_right(x, 12, TZ), tz)


def test_shift_right_random_against_python_integers():
    rng = np.random.default_rng(1)
    x = rng.integers(-(1 << 36), 1 << 36, size=2000, dtype=np.int64)
    for n in (1, 5, 12):
        floor = [int(v) // (1 << n) for v in x]
        # Truncation on the magnitude, then the sign back: Loihi's definition.
        tz = [(1 if v >= 0 else -1) * (abs(int(v)) >> n) for v in x]
        np.testing.assert_array_equal(shift_right(x, n, FLOOR), floor)
        np.testing.assert_array_equal(shift_right(x, n, TZ), tz)


def test_shift_right_toward_zero_is_odd():
    # A negative value must round exactly as its positive mirror.
    x = np.arange(-5000, 5001, dtype=np.int64)
    np.testing.assert_array_equal(shift_right(x, 12, TZ), -shift_right(-x, 12, TZ))


@pytest.mark.parametrize("bad", [0, 1, "floor", None, Overflow.WRAP])
def test_shift_right_rejects_non_rounding(bad):
    with pytest.raises(TypeError, match=exact(f"rounding must be a Rounding, not {bad!r}")):
        shift_right(5, 1, bad)


# -- widths, wrap and saturate ---------------------------------------------------------

def test_width_helpers():
    assert (signed_min(8), signed_max(8), sat_min(8), unsigned_max(8)) == (-128, 127, -127, 255)
    assert (signed_min(16), signed_max(16), sat_min(16)) == (-32768, 32767, -32767)
    assert (signed_min(24), signed_max(24), sat_min(24)) == (-8388608, 8388607, -8388607)
    assert unsigned_max(1) == 1 and signed_min(1) == -1 and signed_max(1) == 0


# (bits, x, wrapped, saturated), by hand. Saturation is symmetric: the most
# negative code -(2**(bits-1)) itself saturates to -(2**(bits-1) - 1).
WIDTH_CORNERS = [
    (8, 0, 0, 0),
    (8, -1, -1, -1),
    (8, 127, 127, 127),             # max
    (8, 128, -128, 127),            # max + 1
    (8, -128, -128, -127),          # min
    (8, -129, 127, -127),           # min - 1
    (8, -127, -127, -127),
    (8, 255, -1, 127),
    (8, 256, 0, 127),
    (8, 1000, -24, 127),            # 1000 - 1024
    (8, -1000, 24, -127),
    (16, 32767, 32767, 32767),
    (16, 32768, -32768, 32767),
    (16, -32768, -32768, -32767),
    (16, -32769, 32767, -32767),
    (16, 65536 + 5, 5, 32767),
    (24, 8388607, 8388607, 8388607),
    (24, 8388608, -8388608, 8388607),
    (24, -8388608, -8388608, -8388607),
    (24, -8388609, 8388607, -8388607),
    (24, 3 * 8388608, -8388608, 8388607),   # 3 * 2**23 = 2**24 + 2**23
    (24, -(1 << 36), 0, -8388607),
]


@pytest.mark.parametrize("bits, x, wrapped, saturated", WIDTH_CORNERS)
def test_wrap_and_saturate_corners(bits, x, wrapped, saturated):
    assert wrap(x, bits) == wrapped
    assert saturate(x, bits) == saturated
    assert apply_overflow(x, bits, Overflow.WRAP) == wrapped
    assert apply_overflow(x, bits, Overflow.SATURATE) == saturated


@pytest.mark.parametrize("bits", [8, 16, 24])
def test_wrap_random_is_modular(bits):
    rng = np.random.default_rng(bits)
    x = rng.integers(-(1 << 40), 1 << 40, size=1000, dtype=np.int64)
    got = wrap(x, bits)
    half = 1 << (bits - 1)
    assert ((got >= -half) & (got < half)).all()
    assert (((x - got) % (1 << bits)) == 0).all()


@pytest.mark.parametrize("bits", [8, 16, 24])
def test_in_range_values_pass_through(bits):
    x = np.arange(sat_min(bits), signed_max(bits) + 1, max(1, (1 << bits) // 997),
                  dtype=np.int64)
    np.testing.assert_array_equal(wrap(x, bits), x)
    np.testing.assert_array_equal(saturate(x, bits), x)


@pytest.mark.parametrize("bad", [0, "wrap", Rounding.FLOOR])
def test_apply_overflow_rejects_non_overflow(bad):
    with pytest.raises(TypeError, match=exact(f"overflow must be an Overflow, not {bad!r}")):
        apply_overflow(5, 8, bad)


# -- decay ------------------------------------------------------------------------------

def test_decay_constants():
    assert DECAY_SHIFT == 12 and DECAY_ONE == 4096


def test_decay_zero_is_identity():
    x = np.array([-(1 << 23), -4097, -1, 0, 1, 4097, (1 << 23) - 1], dtype=np.int64)
    for rounding in Rounding:
        np.testing.assert_array_equal(decay(x, 0, rounding), x)


def test_decay_full_clears():
    x = np.array([-(1 << 23), -1, 0, 1, (1 << 23) - 1], dtype=np.int64)
    for rounding in Rounding:
        np.testing.assert_array_equal(decay(x, 4096, rounding), 0)


# (x, d, floor, toward zero); the product x * (4096 - d) is worked out in the comment.
DECAY_CORNERS = [
    (-1, 1, -1, 0),                  # -4095 / 4096
    (1, 1, 0, 0),                    # 4095 / 4096
    (100, 2048, 50, 50),             # exactly half
    (101, 2048, 50, 50),             # 50.5
    (-101, 2048, -51, -50),          # -50.5
    (-100, 2048, -50, -50),
    (1000, 1, 999, 999),             # 999.76
    (-1000, 1, -1000, -999),         # -999.76
    (-3, 4095, -1, 0),               # -3 / 4096
    # (2**23 - 1)(2**12 - 1) / 2**12 = 2**23 - 2**11 - 1 + 2**-12
    ((1 << 23) - 1, 1, 8386559, 8386559),
    # -2**23 * 4095 / 4096 = -2**23 + 2**11, exact
    (-(1 << 23), 1, -8386560, -8386560),
    # -(2**23 - 2**11 - 1 + 2**-12)
    (-((1 << 23) - 1), 1, -8386560, -8386559),
]


@pytest.mark.parametrize("x, d, floor, toward_zero", DECAY_CORNERS)
def test_decay_corners(x, d, floor, toward_zero):
    assert decay(x, d, FLOOR) == floor
    assert decay(x, d, TZ) == toward_zero


def test_decay_broadcasts_per_neuron_constants():
    x = np.array([-101, -101, 101, 1000], dtype=np.int64)
    d = np.array([2048, 0, 4096, 1], dtype=np.int64)
    np.testing.assert_array_equal(decay(x, d, TZ), [-50, -101, 0, 999])
    np.testing.assert_array_equal(decay(x, d, FLOOR), [-51, -101, 0, 999])


def test_repeated_decay_floor_sticks_at_minus_one():
    # Halving -10: toward zero reaches 0; floor gives -5, -3, -2, -1, -1, ... forever.
    x_tz = x_fl = np.int64(-10)
    trace_tz, trace_fl = [], []
    for _ in range(6):
        x_tz, x_fl = decay(x_tz, 2048, TZ), decay(x_fl, 2048, FLOOR)
        trace_tz.append(int(x_tz))
        trace_fl.append(int(x_fl))
    assert trace_tz == [-5, -2, -1, 0, 0, 0]
    assert trace_fl == [-5, -3, -2, -1, -1, -1]


def test_decay_random_against_python_integers():
    rng = np.random.default_rng(7)
    x = rng.integers(-(1 << 23), 1 << 23, size=2000, dtype=np.int64)
    d = rng.integers(0, 4097, size=2000, dtype=np.int64)
    prod = [int(a) * (4096 - int(b)) for a, b in zip(x, d)]
    np.testing.assert_array_equal(decay(x, d, FLOOR), [p // 4096 for p in prod])
    np.testing.assert_array_equal(decay(x, d, TZ),
                                  [(1 if p >= 0 else -1) * (abs(p) // 4096) for p in prod])


@pytest.mark.parametrize("bad", [0, "toward_zero"])
def test_decay_rejects_non_rounding(bad):
    with pytest.raises(TypeError, match=exact(f"rounding must be a Rounding, not {bad!r}")):
        decay(5, 1, bad)

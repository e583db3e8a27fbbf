"""The shared corner test: :mod:`rtl.fixedpoint` against :mod:`golden_model.fixedpoint`.

The RTL helpers are placed in one small combinational design and driven
through the Amaranth simulator with corner values (negative, maximum,
minimum, zero, exact multiples) and random values, in both rounding modes
and both overflow modes. Every output must equal the golden model bit for bit.
"""

import numpy as np
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from golden_model import fixedpoint as gold
from rtl import fixedpoint as fxp

# Widths as the LIF datapath uses them: 24-bit state, 13-bit decay constants
# (0..4096), a 37-bit decay product, and sums a few bits wider than the state.
STATE = 24
PRODUCT = 37
SUM = 32
SHIFTS = (1, 12)
OVERFLOW_BITS = (8, 16, 24)

ROUNDINGS = {0: gold.Rounding.TOWARD_ZERO, 1: gold.Rounding.FLOOR}
OVERFLOWS = {0: gold.Overflow.WRAP, 1: gold.Overflow.SATURATE}


def corners(bits):
    """Signed corners of a ``bits``-wide value."""
    lo, hi = gold.signed_min(bits), gold.signed_max(bits)
    return [0, 1, -1, 2, -2, hi, hi - 1, lo, lo + 1]


def build():
    m = Module()
    io = {
        "x": Signal(signed(PRODUCT)),
        "y": Signal(signed(SUM)),
        "s": Signal(signed(STATE)),
        "d": Signal(unsigned(13)),
        "floor": Signal(),
        "sat": Signal(),
    }
    # Outputs are wider than any result, so a wrong result width shows up as a
    # wrong value instead of being truncated away by the assignment.
    for n in SHIFTS:
        io[f"shift{n}"] = out = Signal(signed(PRODUCT + 4))
        m.d.comb += out.eq(fxp.shift_right_round(io["x"], n, io["floor"]))
    for bits in OVERFLOW_BITS:
        io[f"ovf{bits}"] = out = Signal(signed(SUM + 4))
        m.d.comb += out.eq(fxp.overflow(io["y"], bits, io["sat"]))
    io["product"] = product = Signal(signed(PRODUCT + 4))
    io["decay"] = decayed = Signal(signed(PRODUCT + 4))
    m.d.comb += [
        product.eq(fxp.decay_product(io["s"], io["d"])),
        decayed.eq(fxp.shift_right_round(fxp.decay_product(io["s"], io["d"]), 12, io["floor"])),
    ]
    return m, io


def run(vectors):
    """Drive each ``{input: value}`` dict in turn; return the outputs seen for it."""
    m, io = build()
    inputs = ("x", "y", "s", "d", "floor", "sat")
    outputs = [name for name in io if name not in inputs]
    seen = []

    async def bench(ctx):
        for vector in vectors:
            for name, value in vector.items():
                ctx.set(io[name], value)
            # Testbench writes settle the combinational logic before the next read.
            seen.append({name: ctx.get(io[name]) for name in outputs})

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) == len(vectors)
    return seen


def test_result_shapes():
    x, y, f = Signal(signed(PRODUCT)), Signal(signed(SUM)), Signal()
    for bits in OVERFLOW_BITS:
        assert fxp.wrap(y, bits).shape() == signed(bits)
        assert fxp.saturate(y, bits).shape() == signed(bits)
        assert fxp.overflow(y, bits, f).shape() == signed(bits)
    assert fxp.shift_right_round(x, 12, f).shape().signed
    assert fxp.decay_product(Signal(signed(STATE)), Signal(13)).shape().signed


def test_shift_right_round_matches_golden():
    rng = np.random.default_rng(11)
    xs = corners(PRODUCT) + [4095, 4096, 4097, -4095, -4096, -4097, 3, -3, 8191, -8193]
    xs += [int(v) for v in rng.integers(gold.signed_min(PRODUCT), gold.signed_max(PRODUCT),
                                         size=40, dtype=np.int64)]
    vectors = [{"x": x, "floor": f} for x in xs for f in (0, 1)]
    seen = run(vectors)
    for vector, out in zip(vectors, seen):
        for n in SHIFTS:
            want = int(gold.shift_right(vector["x"], n, ROUNDINGS[vector["floor"]]))
            assert out[f"shift{n}"] == want, (vector, n)


def test_overflow_matches_golden():
    rng = np.random.default_rng(12)
    ys = corners(SUM)
    for bits in OVERFLOW_BITS:
        # max, max + 1, min, min - 1, and the symmetric-saturation code.
        ys += [gold.signed_max(bits), gold.signed_max(bits) + 1, gold.signed_min(bits),
               gold.signed_min(bits) - 1, gold.sat_min(bits), 1 << bits, -(1 << bits)]
    ys += [int(v) for v in rng.integers(gold.signed_min(SUM), gold.signed_max(SUM),
                                         size=20, dtype=np.int64)]
    ys += [int(v) for v in rng.integers(-(1 << 9), 1 << 9, size=10, dtype=np.int64)]
    vectors = [{"y": y, "sat": s} for y in ys for s in (0, 1)]
    seen = run(vectors)
    for vector, out in zip(vectors, seen):
        for bits in OVERFLOW_BITS:
            want = int(gold.apply_overflow(vector["y"], bits, OVERFLOWS[vector["sat"]]))
            assert out[f"ovf{bits}"] == want, (vector, bits)


def test_decay_matches_golden():
    rng = np.random.default_rng(13)
    ss = corners(STATE) + [4096, -4096, 101, -101]
    ds = [0, 1, 2048, 4095, 4096]
    pairs = [(s, d) for s in ss for d in ds]
    pairs += [(int(s), int(d)) for s, d in zip(
        rng.integers(gold.signed_min(STATE), gold.signed_max(STATE) + 1, size=30),
        rng.integers(0, 4097, size=30))]
    vectors = [{"s": s, "d": d, "floor": f} for s, d in pairs for f in (0, 1)]
    seen = run(vectors)
    for vector, out in zip(vectors, seen):
        s, d = vector["s"], vector["d"]
        assert out["product"] == s * (4096 - d), vector
        assert out["decay"] == int(gold.decay(s, d, ROUNDINGS[vector["floor"]])), vector

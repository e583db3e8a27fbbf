"""``AdExUnit``: one AdEx step of :mod:`golden_model.adex`, bit-exact.

A neuron's state and profile come in on ``inp``; the new state and spike leave on ``out``.
The step's seven products take turns on **one signed multiplier** (22 by ``max(18, S+1)``
bits: a DSP block, or two cascaded 18x18 ones, where the device has them; adders where it
does not), each followed by its coefficient's shift, a barrel shifter. The exponential's
``2**f`` comes from the 65-entry table of :data:`golden_model.adex.EXP2_TABLE`, a small
ROM. Sequence (every ``>>`` floors)::

    L   leak = kL * (EL - V)
    X   x    = kx * (V - VT)                  then clipped to [X_MIN, X_MAX]
    Y   y    = (x * LOG2E) >> 16;  n = y >> 16;  f = y & 0xFFFF
    I   p    = T[f >> 10] + (((T[k+1] - T[k]) * (f & 0x3FF)) >> 10)
    E   ex   = kE * p * 2**n >> 16            (0 below X_MIN, saturated above X_MAX)
        V'   = sat(V + leak + ex - (w >> 8) + I)
    A   z    = sat(ka * (V - EL) - w)
    W   w'   = sat(w + kw * z); then the threshold and the reset
"""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.adex import EXP2_TABLE, LOG2E_Q16, W_EXTRA, X_MAX, X_MIN
from .fixedpoint import saturate
from .step_unit import finish, offer, take

__all__ = ["AdExUnit", "LATENCY", "CYCLES_PER_UPDATE", "adex_in_layout", "adex_out_layout",
           "coef_layout"]

#: Clocks from taking a neuron to offering its result.
LATENCY = 8
#: Clocks per neuron, back to back.
CYCLES_PER_UPDATE = 9

coef_layout = data.StructLayout({"m": signed(16), "s": unsigned(6)})


def adex_in_layout(state_bits):
    S = signed(state_bits)
    return data.StructLayout({"v": S, "w": S, "i": S, "el": S, "vt": S, "vr": S, "v_peak": S,
                              "b": S, "kl": coef_layout, "kx": coef_layout, "ke": coef_layout,
                              "kw": coef_layout, "ka": coef_layout})


def adex_out_layout(state_bits):
    return data.StructLayout({"v": signed(state_bits), "w": signed(state_bits), "spike": 1})


class AdExUnit(wiring.Component):
    """Streams in: ``inp`` (:func:`adex_in_layout`); out: ``out`` (:func:`adex_out_layout`)."""

    def __init__(self, state_bits=16):
        self.state_bits = state_bits
        super().__init__({
            "inp": In(stream.Signature(adex_in_layout(state_bits))),
            "out": Out(stream.Signature(adex_out_layout(state_bits))),
        })

    def elaborate(self, platform):
        m = Module()
        S = self.state_bits
        top = (1 << (S - 1)) - 1
        x = Signal(adex_in_layout(S))
        leak, ex, v_new = Signal(signed(S + 2)), Signal(signed(S)), Signal(signed(S))
        xq = Signal(signed(22))          # x in Q16, clipped to [X_MIN, X_MAX]
        below, above = Signal(), Signal()
        n, f = Signal(signed(6)), Signal(16)
        z = Signal(signed(S))

        mul_a = Signal(signed(22))
        mul_b = Signal(signed(max(18, S + 1)))
        product = Signal(signed(len(mul_a) + len(mul_b)))
        m.d.comb += product.eq(mul_a * mul_b)

        def coef(c):
            """The product of coefficient ``c``'s mantissa, shifted by its exponent."""
            return product >> c.s

        table = Signal(data.ArrayLayout(unsigned(18), len(EXP2_TABLE)),
                       init=[int(t) for t in EXP2_TABLE])
        k = f[10:16]
        t_lo, t_hi = table[k], table[k + 1]

        with m.FSM():
            take(m, self.inp, [x.eq(self.inp.payload)], "L")
            with m.State("L"):
                m.d.comb += [mul_a.eq(x.kl.m), mul_b.eq(x.el - x.v)]
                m.d.sync += leak.eq(coef(x.kl))
                m.next = "X"
            with m.State("X"):
                m.d.comb += [mul_a.eq(x.kx.m), mul_b.eq(x.v - x.vt)]
                raw = coef(x.kx)
                m.d.sync += [below.eq(raw < X_MIN), above.eq(raw > X_MAX),
                             xq.eq(Mux(raw < X_MIN, X_MIN, Mux(raw > X_MAX, X_MAX, raw)))]
                m.next = "Y"
            with m.State("Y"):
                m.d.comb += [mul_a.eq(xq), mul_b.eq(LOG2E_Q16)]
                y = product >> 16
                m.d.sync += [n.eq(y >> 16), f.eq(y[:16])]
                m.next = "I"
            with m.State("I"):
                m.d.comb += [mul_a.eq(t_hi - t_lo), mul_b.eq(f[:10])]
                m.d.sync += xq.eq(t_lo + (product >> 10))        # p, 2**f in Q16
                m.next = "E"
            with m.State("E"):
                m.d.comb += [mul_a.eq(x.ke.m), mul_b.eq(xq)]
                shift = Signal(signed(8))
                m.d.comb += shift.eq(x.ke.s + 16 - n)
                # n <= 17 at X_MAX, so the shift is at least -1 (a left shift by one);
                # beyond 63 a floor shift of the product is its sign, as 63 gives.
                right = Mux(shift > 63, 63, shift)[:6]
                wide = Signal(signed(len(product) + 1))
                m.d.comb += wide.eq(Mux(shift < 0, product << 1, product >> right))
                value = Mux(wide > top, top, Mux(wide < -top, -top, wide))
                ex_now = Mux(below, 0, Mux(above, top, value))
                m.d.sync += ex.eq(ex_now)
                m.next = "V"
            with m.State("V"):
                m.d.comb += [mul_a.eq(x.ka.m), mul_b.eq(x.v - x.el)]
                m.d.sync += [v_new.eq(saturate(x.v + leak + ex - (x.w >> W_EXTRA) + x.i, S)),
                             z.eq(saturate(coef(x.ka) - x.w, S))]
                m.next = "W"
            with m.State("W"):
                m.d.comb += [mul_a.eq(x.kw.m), mul_b.eq(z)]
                w_new = saturate(x.w + coef(x.kw), S)
                spike = v_new >= x.v_peak
                finish(m, self.out, {"spike": spike, "v": Mux(spike, x.vr, v_new),
                                     "w": Mux(spike, saturate(w_new + x.b, S), w_new)})
            offer(m, self.out)
        return m

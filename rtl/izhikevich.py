"""``IzhikevichUnit``: one Izhikevich step of :mod:`golden_model.izhikevich`, bit-exact.

A neuron's state and its profile come in on ``inp``; its new state and spike leave on
``out``. The step needs seven products (two per half step of ``v``, two for ``u``, and
``5 v``, which is a shift and an add); they take turns on **one signed multiplier**, an
``S`` by ``max(17, S - 3)``-bit product (16 by 17 for 16-bit state) that yosys maps to a
DSP block where the device has one (the iCE40 UP5K's MAC16, the ECP5's MULT18X18D) and to
adders where it does not. A result is offered :data:`LATENCY` clocks after its neuron is
taken, and a neuron is taken every :data:`CYCLES_PER_UPDATE` clocks when the output is
always ready.

Sequence (``F = S - 9``; every ``>>`` floors)::

    P1  m = K * v             p = m >> 16
    Q1  m = p * v             q = m >> F;  v = sat(v + ((q + 5v + (140 << F) - u + I) >> 1))
    P2, Q2                    the second half step
    B   m = b * min(v, v_pk)  y = sat((m >> 16) - u)
    A   m = a * y             u = sat(u + (m >> 16)); then the threshold and the reset
"""

from amaranth import Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.izhikevich import COEF_SHIFT, K_004, frac_bits
from .fixedpoint import saturate
from .step_unit import finish, offer, take

__all__ = ["IzhikevichUnit", "LATENCY", "CYCLES_PER_UPDATE", "izhikevich_in_layout",
           "izhikevich_out_layout"]

#: Clocks from taking a neuron to offering its result.
LATENCY = 7
#: Clocks per neuron, back to back.
CYCLES_PER_UPDATE = 8


def izhikevich_in_layout(state_bits):
    S = state_bits
    return data.StructLayout({"v": signed(S), "u": signed(S), "i": signed(S), "a": signed(16),
                              "b": signed(16), "c": signed(S), "d": signed(S),
                              "v_peak": signed(S)})


def izhikevich_out_layout(state_bits):
    return data.StructLayout({"v": signed(state_bits), "u": signed(state_bits), "spike": 1})


class IzhikevichUnit(wiring.Component):
    """Streams in: ``inp`` (:func:`izhikevich_in_layout`); out: ``out``
    (:func:`izhikevich_out_layout`)."""

    def __init__(self, state_bits=16):
        self.state_bits = state_bits
        self.frac_bits = frac_bits(state_bits)
        super().__init__({
            "inp": In(stream.Signature(izhikevich_in_layout(state_bits))),
            "out": Out(stream.Signature(izhikevich_out_layout(state_bits))),
        })

    def elaborate(self, platform):
        m = Module()
        S, F = self.state_bits, self.frac_bits
        x = Signal(izhikevich_in_layout(S))       # the neuron in work
        v, u = Signal(signed(S)), Signal(signed(S))
        p = Signal(signed(S))                      # 0.04 v, |p| < 2**(S - 4)
        y = Signal(signed(S))

        # The multiplier: a coefficient-side operand (a, b, K or p) times an S-bit one (v or y).
        mul_k = Signal(signed(max(17, S - 3)))
        mul_x = Signal(signed(S))
        product = Signal(signed(len(mul_k) + S))
        m.d.comb += product.eq(mul_k * mul_x)
        v_seen = Mux(v >= x.v_peak, x.v_peak, v)

        half_sum = Signal(signed(S + 10))
        m.d.comb += half_sum.eq((product >> F) + (v << 2) + v + Const(140 << F, S + 10) - u +
                                x.i)

        with m.FSM():
            take(m, self.inp, [x.eq(self.inp.payload), v.eq(self.inp.payload.v),
                               u.eq(self.inp.payload.u)], "P1")
            for half in (1, 2):
                with m.State(f"P{half}"):
                    m.d.comb += [mul_k.eq(K_004), mul_x.eq(v)]
                    m.d.sync += p.eq(product >> COEF_SHIFT)
                    m.next = f"Q{half}"
                with m.State(f"Q{half}"):
                    m.d.comb += [mul_k.eq(p), mul_x.eq(v)]
                    m.d.sync += v.eq(saturate(v + (half_sum >> 1), S))
                    m.next = "P2" if half == 1 else "B"
            with m.State("B"):
                m.d.comb += [mul_k.eq(x.b), mul_x.eq(v_seen)]
                m.d.sync += y.eq(saturate((product >> COEF_SHIFT) - u, S))
                m.next = "A"
            with m.State("A"):
                m.d.comb += [mul_k.eq(x.a), mul_x.eq(y)]
                u_new = saturate(u + (product >> COEF_SHIFT), S)
                spike = v >= x.v_peak
                finish(m, self.out, {"spike": spike, "v": Mux(spike, x.c, v),
                                     "u": Mux(spike, saturate(u_new + x.d, S), u_new)})
            offer(m, self.out)
        return m

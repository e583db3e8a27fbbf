"""Round-robin arbitration, shared by the router's output ports and the chip's output merger."""

from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RoundRobin"]


class RoundRobin(wiring.Component):
    """Grants one of ``count`` requesters; the last winner has the lowest priority next.

    ``grant`` is one-hot and combinational from ``requests``; the priority
    moves only when ``advance`` is high (the granted transfer happened), so a
    requester that keeps waiting keeps its place. After the winner ``g``, the
    order is ``g + 1, g + 2, ...`` (modulo ``count``); at reset, ``0, 1, ...``.
    """

    def __init__(self, count):
        if count < 1:
            self._MustUse__silence = True       # refused, so never meant to be elaborated
            raise ValueError(f"count must be at least 1, not {count}")
        self.count = count
        super().__init__({"requests": In(count), "grant": Out(count), "advance": In(1)})

    def elaborate(self, platform):
        m = Module()
        n = self.count

        def before(last, j, i):
            """Whether requester ``j`` comes before ``i`` when ``last`` won last."""
            return (j - last - 1) % n < (i - last - 1) % n

        # `beats[j][i]`: j comes before i in the current order, in registers, so that a grant
        # is a single AND over the other requests (two LUT levels for five requesters)
        # instead of a priority chain picked by the last winner.
        beats = {(j, i): Signal(init=before(n - 1, j, i), name=f"beats_{j}_{i}")
                 for j in range(n) for i in range(n) if j != i}
        for i in range(n):
            others = [self.requests[j] & beats[j, i] for j in range(n) if j != i]
            m.d.comb += self.grant[i].eq(self.requests[i] & ~Cat(*others).any())
        with m.If(self.advance & self.grant.any()):
            for (j, i), beat in beats.items():
                m.d.sync += beat.eq(Cat(self.grant[g] for g in range(n)
                                        if before(g, j, i)).any())
        return m

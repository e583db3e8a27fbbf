"""Round-robin arbitration, shared by the router's output ports and the chip's output merger."""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RoundRobin"]


class RoundRobin(wiring.Component):
    """Grants one of ``count`` requesters; the last winner has the lowest priority next.

    ``grant`` is one-hot and combinational from ``requests``; the priority
    moves only when ``advance`` is high (the granted transfer happened), so a
    requester that keeps waiting keeps its place.
    """

    def __init__(self, count):
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        self.count = count
        super().__init__({"requests": In(count), "grant": Out(count), "advance": In(1)})

    def elaborate(self, platform):
        m = Module()
        n = self.count
        last = Signal(range(n), init=n - 1)
        with m.Switch(last):
            for l in range(n):
                with m.Case(l):
                    order = [(l + k) % n for k in range(1, n + 1)]
                    with m.If(self.requests[order[0]]):
                        m.d.comb += self.grant[order[0]].eq(1)
                    for i in order[1:]:
                        with m.Elif(self.requests[i]):
                            m.d.comb += self.grant[i].eq(1)
        with m.If(self.advance & self.grant.any()):
            for i in range(n):
                with m.If(self.grant[i]):
                    m.d.sync += last.eq(i)
        return m

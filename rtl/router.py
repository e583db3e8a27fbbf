"""``Router``: a five-port mesh router with XY dimension-order routing.

Ports N, E, S, W and L (local) each have an input FIFO. The head packet of
every FIFO asks for one output: east or west until the column matches, then
south or north until the row matches, then local. Each output has a
round-robin arbiter and a register; a packet moves one hop per transfer and
is never dropped: a full FIFO holds ``ready`` low. XY order on a mesh has no
cyclic channel dependency, so the network is free of deadlock by
construction; cores that never stall their update on the network (see
:class:`rtl.chip.Chip`) keep it so end to end.

``y`` grows to the south and ``x`` to the east.
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.chip import ChipParams
from .arbiter import RoundRobin

__all__ = ["PORTS", "packet_layout", "Router"]

PORTS = ("n", "e", "s", "w", "l")


def packet_layout(params):
    """The AER packet as a ``data.StructLayout``, from :meth:`ChipParams.packet_fields`."""
    return data.StructLayout(params.packet_fields())


class Router(wiring.Component):
    """One mesh router at ``(x, y)`` of a chip with ``ChipParams`` ``params``.

    Ports ``in_<p>`` and ``out_<p>`` for ``p`` in n, e, s, w, l; ``routed``
    counts packets forwarded; ``empty`` is high when no packet is inside.
    """

    def __init__(self, params, x, y):
        if not isinstance(params, ChipParams):
            raise TypeError(f"params must be a ChipParams, not {params!r}")
        if not (0 <= x < params.cols and 0 <= y < params.rows):
            raise ValueError(f"router position {x},{y} is outside the {params.cols}×"
                             f"{params.rows} mesh")
        self.params, self.x, self.y = params, x, y
        layout = packet_layout(params)
        members = {}
        for p in PORTS:
            members[f"in_{p}"] = In(stream.Signature(layout))
            members[f"out_{p}"] = Out(stream.Signature(layout))
        members["routed"] = Out(32)
        members["empty"] = Out(1)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        layout = packet_layout(self.params)
        n = len(PORTS)
        heads, requests = [], []
        fifos = []
        for i, p in enumerate(PORTS):
            q = fifo.SyncFIFOBuffered(width=layout.size, depth=self.params.fifo_depth)
            m.submodules[f"fifo_{p}"] = q
            port = getattr(self, f"in_{p}")
            m.d.comb += [q.w_data.eq(port.payload), q.w_en.eq(port.valid),
                         port.ready.eq(q.w_rdy)]
            head = data.View(layout, q.r_data)
            want = Signal(n, name=f"want_{p}")
            with m.If(q.r_rdy):
                with m.If(head.x > self.x):
                    m.d.comb += want[PORTS.index("e")].eq(1)
                with m.Elif(head.x < self.x):
                    m.d.comb += want[PORTS.index("w")].eq(1)
                with m.Elif(head.y > self.y):
                    m.d.comb += want[PORTS.index("s")].eq(1)
                with m.Elif(head.y < self.y):
                    m.d.comb += want[PORTS.index("n")].eq(1)
                with m.Else():
                    m.d.comb += want[PORTS.index("l")].eq(1)
            fifos.append(q)
            heads.append(q.r_data)
            requests.append(want)

        moved = Signal(n)
        for o, p in enumerate(PORTS):
            out = getattr(self, f"out_{p}")
            m.submodules[f"arb_{p}"] = arb = RoundRobin(n)
            free = ~out.valid | out.ready
            m.d.comb += [arb.requests.eq(Cat(requests[i][o] for i in range(n))),
                         arb.advance.eq(free)]
            with m.If(free):
                m.d.sync += out.valid.eq(arb.grant.any())
                for i in range(n):
                    with m.If(arb.grant[i]):
                        m.d.sync += out.payload.eq(heads[i])
                        m.d.comb += moved[i].eq(1)
        for i, q in enumerate(fifos):
            m.d.comb += q.r_en.eq(moved[i])

        m.d.sync += self.routed.eq(self.routed + sum(moved[i] for i in range(n)))
        outs_idle = ~Cat(getattr(self, f"out_{p}").valid for p in PORTS).any()
        m.d.comb += self.empty.eq(outs_idle & ~Cat(q.level != 0 for q in fifos).any())
        return m

"""``Router``: a five-port mesh router with XY dimension-order routing and key/mask multicast.

Ports N, E, S, W and L (local) each have an input FIFO. The head packet of
every FIFO asks for one output: east or west until the column matches, then
south or north until the row matches, then local. Each output has a
round-robin arbiter and a register; a packet moves one hop per transfer and
is never dropped: a full FIFO holds ``ready`` low. XY order on a mesh has no
cyclic channel dependency, so the network is free of deadlock by
construction; cores that never stall their update on the network (see
:class:`rtl.chip.Chip`) keep it so end to end.

``y`` grows to the south and ``x`` to the east.

**Key/mask mode** (``key_entries > 0``): a packet with ``keyed`` set is
routed by the first matching ``(key, mask, ports)`` entry of the router's
table (:mod:`golden_model.keymask`), to every port the entry names. The
copies leave one by one as outputs grant them; the packet leaves its FIFO
once every port has taken its copy. No match: straight on, opposite the
port it came in by; at the local port, where a packet without a route is a
table error, it is dropped and counted in ``unrouted``. A keyed copy to the
local port takes its axon from the first matching ``(key, mask, axon)``
input entry (no match: dropped and counted in ``undelivered``). Tables are written through
``config``: ``addr = entry << 2 | field`` with fields key, mask, and ports
(bits 0..4 in N, E, S, W, L order, bit 5 valid); input entries at
``0x8000 | entry << 2 | field`` with fields key, mask, and axon (bit 16 valid).
Trees built by :func:`golden_model.keymask.keymask_from_routes` follow XY
order, so multicast keeps the mesh free of deadlock.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.chip import ChipParams
from .arbiter import RoundRobin
from .lif_core import ConfigWrite

__all__ = ["PORTS", "packet_layout", "Router", "ROUTER_REGION", "INPUT_TABLE"]

#: Config region of the router's key/mask tables (regions 0..13 are the core's and its
#: output table's); the input table sits at this address offset inside it.
ROUTER_REGION = 14
INPUT_TABLE = 0x8000

PORTS = ("n", "e", "s", "w", "l")


def packet_layout(params):
    """The AER packet as a ``data.StructLayout``, from :meth:`ChipParams.packet_fields`."""
    return data.StructLayout(params.packet_fields())


class Router(wiring.Component):
    """One mesh router at ``(x, y)`` of a chip with ``ChipParams`` ``params``.

    Ports ``in_<p>`` and ``out_<p>`` for ``p`` in n, e, s, w, l; ``routed``
    counts packets forwarded; ``unrouted_now`` and ``undelivered_now`` are high for one
    clock after a packet was dropped, for the chip's counter; ``empty`` is high when no
    packet is inside.
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
        members["unrouted_now"] = Out(1)
        members["undelivered_now"] = Out(1)
        members["empty"] = Out(1)
        members["config"] = In(stream.Signature(ConfigWrite))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        layout = packet_layout(self.params)
        n = len(PORTS)
        heads, requests = [], []
        fifos = []
        P = self.params
        keyed_mode = P.key_entries > 0
        if keyed_mode:
            table = self._tables(m)
        pending = []
        drop = Signal(n)
        # The output a packet asks for is worked out as it enters its FIFO and stored beside
        # it, so that the head's request comes straight from a register: the arbiters and
        # the output registers behind them are the long path of a router.
        route_layout = data.StructLayout({"packet": layout, "want": n, "drop": 1})
        for i, p in enumerate(PORTS):
            q = fifo.SyncFIFOBuffered(width=route_layout.size, depth=self.params.fifo_depth)
            m.submodules[f"fifo_{p}"] = q
            port = getattr(self, f"in_{p}")
            entry = data.View(route_layout, q.w_data)
            pkt = port.payload
            m.d.comb += [entry.packet.eq(pkt), q.w_en.eq(port.valid), port.ready.eq(q.w_rdy)]
            xy = Signal(n, name=f"xy_{p}")
            with m.If(pkt.x > self.x):
                m.d.comb += xy[PORTS.index("e")].eq(1)
            with m.Elif(pkt.x < self.x):
                m.d.comb += xy[PORTS.index("w")].eq(1)
            with m.Elif(pkt.y > self.y):
                m.d.comb += xy[PORTS.index("s")].eq(1)
            with m.Elif(pkt.y < self.y):
                m.d.comb += xy[PORTS.index("n")].eq(1)
            with m.Else():
                m.d.comb += xy[PORTS.index("l")].eq(1)
            m.d.comb += entry.want.eq(xy)
            if keyed_mode:
                with m.If(pkt.keyed):
                    hit, ports = table["match"](pkt.key)
                    with m.If(hit):
                        m.d.comb += entry.want.eq(ports)
                    with m.Else():
                        # No match: straight on; at the local port a table error, dropped.
                        if p == "l":
                            m.d.comb += [entry.want.eq(0), entry.drop.eq(1)]
                        else:
                            straight = {"n": "s", "s": "n", "e": "w", "w": "e"}[p]
                            m.d.comb += entry.want.eq(1 << PORTS.index(straight))
            head = data.View(route_layout, q.r_data)
            want = Signal(n, name=f"want_{p}")
            if keyed_mode:
                # Ports of a multicast packet still waiting for their copy; 0 when the head
                # is new.
                left = Signal(n, name=f"left_{p}")
                pending.append(left)
                with m.If(q.r_rdy & (left != 0)):
                    m.d.comb += want.eq(left)
                with m.Elif(q.r_rdy):
                    m.d.comb += [want.eq(head.want), drop[i].eq(head.drop)]
            else:
                m.d.comb += want.eq(Mux(q.r_rdy, head.want, 0))
            fifos.append(q)
            heads.append(head.packet)
            requests.append(want)

        m.d.sync += self.undelivered_now.eq(0)     # unless a keyed copy is dropped below
        granted = [Signal(n, name=f"granted_{p}") for p in PORTS]   # per input, by output
        fired = Signal(n)           # by output: a copy goes out this clock
        for o, p in enumerate(PORTS):
            out = getattr(self, f"out_{p}")
            m.submodules[f"arb_{p}"] = arb = RoundRobin(n)
            free = ~out.valid | out.ready
            m.d.comb += fired[o].eq(free & arb.grant.any())
            m.d.comb += [arb.requests.eq(Cat(requests[i][o] for i in range(n))),
                         arb.advance.eq(free)]
            with m.If(free):
                m.d.sync += out.valid.eq(arb.grant.any())
                if not keyed_mode:
                    # One-hot, so an AND-OR picks the granted head.
                    picked = 0
                    for i in range(n):
                        picked = picked | Mux(arb.grant[i], heads[i].as_value(), 0)
                    m.d.sync += out.payload.eq(picked)
                for i in range(n):
                    with m.If(arb.grant[i]):
                        copy = heads[i]
                        if keyed_mode:
                            m.d.sync += out.payload.eq(heads[i])
                        if keyed_mode and p == "l":
                            # The local copy leaves with the axon its key maps to.
                            hit, axon = table["input"](copy.key)
                            with m.If(copy.keyed):
                                m.d.sync += [out.payload.axon.eq(axon),
                                             out.payload.keyed.eq(0)]
                                with m.If(~hit):
                                    m.d.sync += [out.valid.eq(0), self.undelivered_now.eq(1)]
                        m.d.comb += granted[i][o].eq(1)
        moved = Signal(n)
        fired_r = Signal(n)
        for i, q in enumerate(fifos):
            if not keyed_mode:
                # Without multicast a packet wants one output: granted is gone.
                m.d.comb += [moved[i].eq(granted[i].any()), q.r_en.eq(moved[i])]
                continue
            rest = requests[i] & ~granted[i]
            m.d.comb += moved[i].eq((granted[i].any() & (rest == 0)) | drop[i])
            m.d.comb += q.r_en.eq(moved[i])
            with m.If(moved[i]):
                m.d.sync += pending[i].eq(0)
            with m.Elif(granted[i].any()):
                m.d.sync += pending[i].eq(rest)
        # Each output sends at most one copy a clock. Counted a cycle later, off the
        # arbiters' path; a copy is in its output register in the cycle it is counted, so
        # `empty` still covers it then.
        m.d.sync += fired_r.eq(fired)
        m.d.sync += self.routed.eq(self.routed + sum(fired_r[o] for o in range(n)))
        m.d.sync += self.unrouted_now.eq(drop.any())
        outs_idle = ~Cat(getattr(self, f"out_{p}").valid for p in PORTS).any()
        m.d.comb += self.empty.eq(outs_idle & ~Cat(q.level != 0 for q in fifos).any())
        if not keyed_mode:
            m.d.comb += self.config.ready.eq(1)
        return m

    def _tables(self, m):
        """Key/mask tables in registers; returns match functions over them."""
        P = self.params
        KB = P.key_bits
        cfg = self.config
        m.d.comb += cfg.ready.eq(1)
        go = cfg.valid & (cfg.payload.region == ROUTER_REGION)
        addr, d = cfg.payload.addr, cfg.payload.data
        entries = []
        for e in range(P.key_entries):
            key, mask = Signal(KB, name=f"rt{e}_key"), Signal(KB, name=f"rt{e}_mask")
            ports, valid = Signal(5, name=f"rt{e}_ports"), Signal(name=f"rt{e}_valid")
            with m.If(go & (addr == (e << 2 | 0))):
                m.d.sync += key.eq(d)
            with m.If(go & (addr == (e << 2 | 1))):
                m.d.sync += mask.eq(d)
            with m.If(go & (addr == (e << 2 | 2))):
                m.d.sync += [ports.eq(d[:5]), valid.eq(d[5])]
            entries.append((key, mask, ports, valid))
        inputs = []
        for e in range(P.key_inputs):
            key, mask = Signal(KB, name=f"in{e}_key"), Signal(KB, name=f"in{e}_mask")
            axon, valid = Signal(P.core.axon_bits, name=f"in{e}_axon"), Signal(name=f"in{e}_valid")
            base = INPUT_TABLE | e << 2
            with m.If(go & (addr == base | 0)):
                m.d.sync += key.eq(d)
            with m.If(go & (addr == base | 1)):
                m.d.sync += mask.eq(d)
            with m.If(go & (addr == base | 2)):
                m.d.sync += [axon.eq(d[:P.core.axon_bits]), valid.eq(d[16])]
            inputs.append((key, mask, axon, valid))

        def first(rows, value, pick):
            hit = Signal()
            out = Signal(len(pick(rows[0])) if rows else 1)
            for row in reversed(rows):       # the last assignment wins: the first entry
                key, mask, *_, valid = row
                with m.If(valid & ((value & mask) == (key & mask))):
                    m.d.comb += [hit.eq(1), out.eq(pick(row))]
            return hit, out

        return {"match": lambda k: first(entries, k, lambda r: r[2]),
                "input": lambda k: first(inputs, k, lambda r: r[2])}

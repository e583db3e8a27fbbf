"""``OutputTable``: a core's multicast output stage, mirror of :class:`golden_model.chip.RouteTable`.

Each spike from the core reads its neuron's CSR pointer (``start``,
``count``) and walks the entries one per clock. An entry becomes either a
mesh packet ``(x, y, axon)`` for the router's local port or, with ``host``
set, a host event carrying the neuron id. The next spike's pointer is
fetched while the current one is walked, so a sustained stream of spikes
produces one packet per clock while the outputs accept them.

Memory map (regions continue the core's, :class:`rtl.lif_core.Region`):

====  ===========  =========  ===========================================
code  region       addr       data
====  ===========  =========  ===========================================
11    OUT_START    neuron     first entry
12    OUT_COUNT    neuron     number of entries
13    OUT_ENTRY    entry      axon [0:16], x [16:20], y [20:24], host [24]
====  ===========  =========  ===========================================

In key/mask mode (``ChipParams.key_entries > 0``) bit 31 of a neuron's
``OUT_COUNT`` makes its spike send one keyed packet, ``key = core << neuron_bits
| neuron``, before its table entries; the routers' tables take it from there.
"""

import enum

from amaranth import Cat, Const, Module, Mux, Signal, Value, unsigned
from amaranth.lib import data, fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.chip import ChipParams
from .lif_core import ConfigWrite, DebugSignature, spike_event_layout
from .router import packet_layout

__all__ = ["OutRegion", "OutputTable", "route_writes", "ENTRY_X", "ENTRY_Y", "ENTRY_HOST",
           "COUNT_KEYED"]

ENTRY_X, ENTRY_Y, ENTRY_HOST = 16, 20, 24
COUNT_KEYED = 31


class OutRegion(enum.IntEnum):
    OUT_START = 11
    OUT_COUNT = 12
    OUT_ENTRY = 13


def route_writes(params, table, keyed=()):
    """The ``(region, addr, data)`` writes that load a :class:`RouteTable` into an ``OutputTable``.

    Neurons in ``keyed`` also send a keyed packet (key/mask mode).
    """
    writes = []
    keyed = set(keyed)
    for n in range(params.core.n_neurons):
        writes.append((OutRegion.OUT_START, n, int(table.start[n]) if table.count[n] else 0))
        writes.append((OutRegion.OUT_COUNT, n,
                       int(table.count[n]) | (n in keyed) << COUNT_KEYED))
    for e in range(len(table)):
        writes.append((OutRegion.OUT_ENTRY, e,
                       int(table.axon[e]) | int(table.x[e]) << ENTRY_X |
                       int(table.y[e]) << ENTRY_Y | int(table.host[e]) << ENTRY_HOST))
    return writes


class OutputTable(wiring.Component):
    """Output table of one core of a chip with ``ChipParams`` ``params``.

    Ports: ``spike_in`` (from the core), ``packet_out`` (to the router),
    ``host_out`` (to the chip's output merger), ``config``, ``debug``,
    ``busy``, and ``packet_sent`` / ``host_sent``: high for one clock after an entry
    went to the mesh or to the host, for the chip's counters.
    """

    def __init__(self, params, core_index=0, *, deep_pipeline=False):
        if not isinstance(params, ChipParams):
            raise TypeError(f"params must be a ChipParams, not {params!r}")
        self.params = params
        self.core_index = core_index
        self.deep_pipeline = deep_pipeline
        core = params.core
        super().__init__({
            "spike_in": In(stream.Signature(spike_event_layout(core))),
            "packet_out": Out(stream.Signature(packet_layout(params))),
            "host_out": Out(stream.Signature(spike_event_layout(core))),
            "config": In(stream.Signature(ConfigWrite)),
            "debug": Out(DebugSignature()),
            "busy": Out(1),
            "packet_sent": Out(1),
            "host_sent": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        core = p.core
        XB, YB, AB, RB = p.x_bits, p.y_bits, core.axon_bits, p.route_bits
        entry_layout = data.StructLayout({"axon": AB, "x": XB, "y": YB, "host": 1})

        m.submodules.start = start_mem = memory.Memory(shape=unsigned(RB), depth=core.n_neurons,
                                                       init=[])
        CB = p.n_routes.bit_length()
        keyed_mode = p.key_entries > 0
        m.submodules.count = count_mem = memory.Memory(
            shape=unsigned(CB + keyed_mode), depth=core.n_neurons, init=[])
        m.submodules.entry = entry_mem = memory.Memory(shape=entry_layout, depth=p.n_routes,
                                                       init=[])
        wr_start, wr_count, wr_entry = (start_mem.write_port(), count_mem.write_port(),
                                        entry_mem.write_port())
        rd_start, rd_count, rd_entry = (start_mem.read_port(), count_mem.read_port(),
                                        entry_mem.read_port())

        # A two-entry buffer takes the core's spikes, so that the core's spike FIFO does not
        # wait, in the same clock, on the walk and on whoever takes the walk's output.
        m.submodules.spike_buf = spike_buf = fifo.SyncFIFOBuffered(width=core.neuron_bits,
                                                                   depth=2)
        m.d.comb += [spike_buf.w_data.eq(self.spike_in.payload.neuron),
                     spike_buf.w_en.eq(self.spike_in.valid),
                     self.spike_in.ready.eq(spike_buf.w_rdy)]
        spike_valid, spike_neuron = spike_buf.r_rdy, spike_buf.r_data
        spike_pending = self.spike_in.valid | (spike_buf.level != 0)

        in_debug = Signal()
        p_valid = Signal()
        g_addr = Signal(RB + 1)
        g_rem = Signal(CB + 1)
        g_keyed = Signal()      # the next issue is the neuron's keyed packet, not an entry
        e_valid = Signal()
        e_keyed = Signal()
        entry = rd_entry.data
        if self.deep_pipeline:
            # An entry leaves through a register into a queue of four, and the walk looks
            # only at whether each queue, with what is in its register, had room for two
            # more a clock ago: the walk's handshakes then start at registers rather than
            # at whoever takes the table's output, and the block RAM's output only reaches
            # registers. (Room for two: one may be in the register, one is taken now.)
            queues = {}
            for name, port in (("pkt", self.packet_out), ("host", self.host_out)):
                width = len(Value.cast(port.payload))
                m.submodules[f"{name}_queue"] = q = fifo.SyncFIFOBuffered(width=width, depth=4)
                staged = stream.Signature(port.payload.shape()).create()
                room = Signal(name=f"{name}_room")
                m.d.sync += room.eq(q.level + staged.valid < 3)
                m.d.comb += [q.w_en.eq(staged.valid), q.w_data.eq(staged.payload),
                             port.valid.eq(q.r_rdy), port.payload.eq(q.r_data),
                             q.r_en.eq(port.ready)]
                queues[name] = (q, room, staged)
            pkt, pkt_free = queues["pkt"][2], queues["pkt"][1]
            host, host_free = queues["host"][2], queues["host"][1]
            outputs_idle = ((queues["pkt"][0].level == 0) & (queues["host"][0].level == 0) &
                            ~pkt.valid & ~host.valid)
        else:
            pkt, host = self.packet_out, self.host_out
            pkt_free = ~pkt.valid | pkt.ready
            host_free = ~host.valid | host.ready
            outputs_idle = ~pkt.valid & ~host.valid
        take = Signal()
        issue = Signal()
        g_load = Signal()
        p_ready = Signal()
        # (g_rem != 0) and (g_rem == 1), in registers beside g_rem.
        g_more, g_one = Signal(), Signal()
        m.d.comb += [
            # An entry moves on when both outputs could take it: which one it goes to is in
            # the entry memory's output, and waiting on that would lengthen this path.
            take.eq(e_valid & host_free & pkt_free),
            issue.eq(g_more & (~e_valid | take)),
            g_load.eq(p_valid & (~g_more | (g_one & issue))),
            p_ready.eq(~p_valid | g_load),
        ]
        walking = p_valid | g_more | e_valid
        idle = ~walking & outputs_idle & ~in_debug

        cfg, dbg = self.config, self.debug
        cfg_go, dbg_go = Signal(), Signal()
        m.d.comb += [
            cfg.ready.eq(idle & ~spike_pending),
            cfg_go.eq(cfg.valid & cfg.ready),
            dbg.req.ready.eq(idle & ~spike_pending & ~cfg.valid),
            dbg_go.eq(dbg.req.valid & dbg.req.ready),
            spike_buf.r_en.eq(p_ready & ~in_debug),
        ]

        # Pointer stage: the spike's neuron addresses start/count; held until the walk takes it.
        m.d.comb += [
            # Addresses follow the requests: debug reads only come when no spike waits.
            rd_start.addr.eq(Mux(spike_valid, spike_neuron, dbg.req.payload.addr)),
            rd_count.addr.eq(rd_start.addr),
            rd_start.en.eq(p_ready),
            rd_count.en.eq(p_ready),
        ]
        with m.If(spike_valid & spike_buf.r_en):
            m.d.sync += p_valid.eq(1)
        with m.Elif(g_load):
            m.d.sync += p_valid.eq(0)

        # Walk: one entry read per clock while the entry stage can move on.
        m.d.comb += [rd_entry.addr.eq(Mux(g_more, g_addr, dbg.req.payload.addr)),
                     rd_entry.en.eq(~e_valid | take)]
        count = rd_count.data[:CB]
        keyed = rd_count.data[CB] if keyed_mode else Const(0, 1)
        with m.If(g_load):
            m.d.sync += [g_addr.eq(rd_start.data), g_rem.eq(count + keyed), g_keyed.eq(keyed),
                         g_more.eq((count != 0) | keyed),
                         g_one.eq(Mux(keyed, count == 0, count == 1))]
        with m.Elif(issue):
            m.d.sync += [g_rem.eq(g_rem - 1), g_keyed.eq(0),
                         g_more.eq(g_rem != 1), g_one.eq(g_rem == 2)]
            with m.If(~g_keyed):
                m.d.sync += g_addr.eq(g_addr + 1)
        with m.If(issue):
            m.d.sync += [e_valid.eq(1), e_keyed.eq(g_keyed)]
        with m.Elif(take):
            m.d.sync += e_valid.eq(0)

        # The neuron that spiked is the one whose pointer started this walk.
        neuron = Signal(core.neuron_bits)
        with m.If(spike_valid & spike_buf.r_en):
            m.d.sync += neuron.eq(spike_neuron)
        walk_neuron = Signal(core.neuron_bits)
        with m.If(g_load):
            m.d.sync += walk_neuron.eq(neuron)
        e_neuron = Signal(core.neuron_bits)
        with m.If(issue):
            m.d.sync += e_neuron.eq(walk_neuron)
        # Entry stage: to the mesh or to the host (with deep_pipeline, to the register in
        # front of a queue, which the queue always takes).
        if self.deep_pipeline:
            m.d.sync += [pkt.valid.eq(0), host.valid.eq(0)]
        else:
            with m.If(pkt.ready):
                m.d.sync += pkt.valid.eq(0)
            with m.If(host.ready):
                m.d.sync += host.valid.eq(0)
        with m.If(take & (~entry.host | e_keyed)):
            m.d.sync += [pkt.valid.eq(1), pkt.payload.x.eq(entry.x), pkt.payload.y.eq(entry.y),
                         pkt.payload.axon.eq(entry.axon)]
            if keyed_mode:
                m.d.sync += [pkt.payload.keyed.eq(e_keyed),
                             pkt.payload.key.eq(self.core_index << core.neuron_bits | e_neuron)]
        with m.If(take & entry.host & ~e_keyed):
            m.d.sync += [host.valid.eq(1), host.payload.neuron.eq(e_neuron)]
        m.d.sync += [self.packet_sent.eq(take & (~entry.host | e_keyed)),
                     self.host_sent.eq(take & entry.host & ~e_keyed)]

        # Config writes and debug reads, between steps.
        for port, region in ((wr_start, OutRegion.OUT_START), (wr_count, OutRegion.OUT_COUNT),
                             (wr_entry, OutRegion.OUT_ENTRY)):
            m.d.comb += [port.addr.eq(cfg.payload.addr),
                         port.en.eq(cfg_go & (cfg.payload.region == region))]
        d = cfg.payload.data
        m.d.comb += [
            wr_start.data.eq(d), wr_count.data.eq(Cat(d[:CB], d[COUNT_KEYED])),
            wr_entry.data.eq(Cat(d[:AB], d[ENTRY_X:ENTRY_X + XB], d[ENTRY_Y:ENTRY_Y + YB],
                                 d[ENTRY_HOST])),
        ]
        dbg_region = Signal(4)
        dbg_wait = Signal()
        with m.If(dbg_go):
            m.d.sync += [in_debug.eq(1), dbg_wait.eq(1), dbg_region.eq(dbg.req.payload.region)]
        value = Signal(32)
        with m.Switch(dbg_region):
            with m.Case(OutRegion.OUT_START):
                m.d.comb += value.eq(rd_start.data)
            with m.Case(OutRegion.OUT_COUNT):
                m.d.comb += value.eq(Cat(count, Const(0, COUNT_KEYED - CB), keyed))
            with m.Case(OutRegion.OUT_ENTRY):
                m.d.comb += value.eq(entry.axon | (entry.x << ENTRY_X) | (entry.y << ENTRY_Y) |
                                     (entry.host << ENTRY_HOST))
        if self.deep_pipeline:
            # The memories' outputs are registered before the pick: an ECP5 block RAM's
            # output alone takes most of a 100 MHz clock.
            held = {region: Signal(32, name=f"dbg_held_{region.name.lower()}")
                    for region in OutRegion}
            dbg_pick = Signal()
            with m.If(dbg_wait):
                m.d.sync += [dbg_wait.eq(0), dbg_pick.eq(1),
                             held[OutRegion.OUT_START].eq(rd_start.data),
                             held[OutRegion.OUT_COUNT].eq(Cat(count, Const(0, COUNT_KEYED - CB),
                                                              keyed)),
                             held[OutRegion.OUT_ENTRY].eq(
                                 entry.axon | (entry.x << ENTRY_X) | (entry.y << ENTRY_Y) |
                                 (entry.host << ENTRY_HOST))]
            with m.If(dbg_pick):
                m.d.sync += [dbg_pick.eq(0), dbg.resp.valid.eq(1),
                             dbg.resp.payload.eq(Mux(dbg_region == OutRegion.OUT_START,
                                                     held[OutRegion.OUT_START],
                                                     Mux(dbg_region == OutRegion.OUT_COUNT,
                                                         held[OutRegion.OUT_COUNT],
                                                         held[OutRegion.OUT_ENTRY])))]
        else:
            with m.If(dbg_wait):
                m.d.sync += [dbg_wait.eq(0), dbg.resp.valid.eq(1), dbg.resp.payload.eq(value)]
        with m.If(dbg.resp.valid & dbg.resp.ready):
            m.d.sync += [dbg.resp.valid.eq(0), in_debug.eq(0)]

        m.d.comb += self.busy.eq(~idle | spike_pending)
        return m

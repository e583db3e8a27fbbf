"""``Chip``: an R×C mesh of LIF cores, bit-exact with :mod:`golden_model.chip`.

Each tile is a :class:`~rtl.lif_core.LIFCore`, its
:class:`~rtl.output_table.OutputTable` and a :class:`~rtl.router.Router`.
External AER packets enter the mesh at the west port of router (0, 0);
host-bound spikes leave through a round-robin merger on ``ext_out``.

**Timestep barrier.** ``tick`` is accepted only when the chip is drained:
no packet in any router, every core and output table idle, the output
merger empty. Then every core starts its update in the same cycle. The step
ends when the chip is drained again, so every packet routed from this step's
spikes has been delivered (into the next step's slots) before the next tick.
Each core's spike FIFO holds a whole step's spikes, so an update never waits
for the mesh, and the mesh never waits on an update for long: no
cycle of waits can form. Results do not depend on traffic timing.

**Config and debug.** One chip-level port each; the ``core`` field picks the
tile, regions 0..10 reach the core, 11..13 its output table, and region 15
the chip's own counters (:class:`ChipCounter`). A packet from ``ext_in``
addressed outside the mesh or the axon range is dropped and counted
(``BAD_PACKETS``), never routed.
"""

import enum

from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.chip import ChipParams
from .arbiter import RoundRobin
from .fabric import IdleConfirm, MergeNode, registered_any
from .lif_core import UPDATE_STAGES, ConfigWrite, DebugRead, LIFCore
from .output_table import OutputTable
from .power import GatedCore
from .router import INPUT_TABLE, PORTS, ROUTER_REGION, Router, packet_layout

__all__ = ["ChipCounter", "CHIP_REGION", "Chip", "chip_config_layout", "chip_debug_layout",
           "host_event_layout", "chip_config_writes", "CHIP_CYCLE_COUNTERS"]

CHIP_REGION = 15


class ChipCounter(enum.IntEnum):
    """Chip counters (region 15). ``ROUTED + k`` is router ``k``'s forwarded packets."""
    TIMESTEP = 0
    DELIVER_CYCLES = 1   # between steps, with traffic or work in flight
    UPDATE_CYCLES = 2    # in a step, while any core is busy
    DRAIN_CYCLES = 3     # in a step, cores idle, the mesh still carrying packets
    IDLE_CYCLES = 4
    BAD_PACKETS = 5
    PACKETS = 6          # mesh packets emitted by all output tables
    HOST_EVENTS = 7
    UNROUTED = 8         # key/mask: packets no table entry matched, summed over routers
    ROUTED = 16


#: The chip counters that ``cycle_counters=False`` leaves out.
CHIP_CYCLE_COUNTERS = (ChipCounter.DELIVER_CYCLES, ChipCounter.UPDATE_CYCLES,
                       ChipCounter.DRAIN_CYCLES, ChipCounter.IDLE_CYCLES)

def chip_config_layout(params):
    return data.StructLayout({"core": max(1, (params.n_cores - 1).bit_length()), "region": 4,
                              "addr": 16, "data": 32})


def chip_debug_layout(params):
    return data.StructLayout({"core": max(1, (params.n_cores - 1).bit_length()), "region": 4,
                              "addr": 16})


def host_event_layout(params):
    return data.StructLayout({"x": params.x_bits, "y": params.y_bits,
                              "neuron": params.core.neuron_bits})


class ChipDebugSignature(wiring.Signature):
    def __init__(self, params):
        super().__init__({"req": In(stream.Signature(chip_debug_layout(params))),
                          "resp": Out(stream.Signature(32))})


class Chip(wiring.Component):
    """A multi-core chip with ``ChipParams`` ``params``.

    Ports: ``ext_in`` (packets), ``ext_out`` (host events), ``tick``,
    ``config``, ``debug``, ``busy``, ``timestep``.

    ``synapse_ram`` is passed to every :class:`~rtl.lif_core.LIFCore`. With
    ``cycle_counters=False`` the chip leaves out its cycle counters
    (:data:`CHIP_CYCLE_COUNTERS`) and its cores theirs
    (:data:`~rtl.lif_core.CYCLE_COUNTERS`), which reads them as 0: six 32-bit
    counters a small FPGA can spend better. ``deep_pipeline`` is passed to every
    core, and registers the chip's debug answer too: a few hundred registers more,
    which an ECP5 needs for 100 MHz. With ``gating`` (a
    :class:`~golden_model.power.PowerPolicy`) every core is a
    :class:`~rtl.power.GatedCore`: on a gated clock under its own power controller,
    with the platform's gate backend.
    """

    def __init__(self, params, *, synapse_ram="dual", cycle_counters=True, deep_pipeline=False,
                 gating=None):
        try:
            if not isinstance(params, ChipParams):
                raise TypeError(f"params must be a ChipParams, not {params!r}")
            from golden_model.power import PowerPolicy
            if gating is not None and not isinstance(gating, PowerPolicy):
                raise TypeError(f"gating must be a PowerPolicy or None, not {gating!r}")
            for name, value in (("cycle_counters", cycle_counters),
                                ("deep_pipeline", deep_pipeline)):
                if not isinstance(value, bool):
                    raise TypeError(f"{name} must be True or False, not {value!r}")
        except TypeError:
            # A rejected chip was never meant to be elaborated; don't warn that it wasn't.
            self._MustUse__silence = True
            raise
        self.params = params
        self.synapse_ram = synapse_ram
        self.cycle_counters = cycle_counters
        self.deep_pipeline = deep_pipeline
        self.gating = gating
        super().__init__({
            "ext_in": In(stream.Signature(packet_layout(params))),
            "ext_out": Out(stream.Signature(host_event_layout(params))),
            "tick": In(stream.Signature(0)),
            "config": In(stream.Signature(chip_config_layout(params))),
            "debug": Out(ChipDebugSignature(params)),
            "busy": Out(1),
            "timestep": Out(32),
        })

    def _request(self, m, name, port, selects):
        """``(valid, payloads, sel, taken)``: the request on stream ``port``, its payload
        for each of ``selects`` (one-bit values of the payload), and the selects. The
        caller drives ``taken`` when it takes it.

        With ``deep_pipeline`` the request waits in registers, its selects decoded, and
        the port is ready when they are free: the host's buffer and the targets all over
        the chip are then a clock apart. Each select has a copy of the payload, taken
        only when it is selected, which the placer can put beside its target. Without
        ``deep_pipeline`` all of them are the port's own.
        """
        taken = Signal(name=f"{name}_taken")
        if not self.deep_pipeline:
            m.d.comb += port.ready.eq(taken)
            return port.valid, [port.payload] * len(selects), selects, taken
        valid = Signal(name=f"{name}_held")
        payloads = [Signal(port.payload.shape(), name=f"{name}_request{i}")
                    for i in range(len(selects))]
        sel = Signal(len(selects), name=f"{name}_sel")
        m.d.comb += port.ready.eq(~valid)
        with m.If(port.valid & ~valid):
            m.d.sync += [valid.eq(1), sel.eq(Cat(*selects))]
            for payload, select in zip(payloads, selects):
                with m.If(select):
                    m.d.sync += payload.eq(port.payload)
        with m.If(taken):
            m.d.sync += valid.eq(0)
        return valid, payloads, list(sel), taken

    def _counters(self):
        return {c: Signal(32, name=f"count_{c.name.lower()}") for c in ChipCounter
                if c != ChipCounter.ROUTED and
                (self.cycle_counters or c not in CHIP_CYCLE_COUNTERS)}

    def _count_cycles(self, m, counters, stepping, cores_busy, drained):
        for counter, when in ((ChipCounter.UPDATE_CYCLES, stepping & cores_busy),
                              (ChipCounter.DRAIN_CYCLES, stepping & ~cores_busy),
                              (ChipCounter.IDLE_CYCLES, ~stepping & drained & ~self.ext_in.valid),
                              (ChipCounter.DELIVER_CYCLES,
                               ~stepping & ~(drained & ~self.ext_in.valid))):
            if counter in counters:
                with m.If(when):
                    m.d.sync += counters[counter].eq(counters[counter] + 1)

    def _elaborate_fabric(self, m, cores, tables, routers, inbufs):
        """The chip-wide paths of a multi-core ``deep_pipeline`` chip, in registered stages.

        Every path that spans the chip starts and ends at a register, with at most one
        crossing of the die in between (see :mod:`rtl.fabric`):

        * host events go through a buffer in their tile, a merge node per row and one
          for the chip;
        * a config write or debug read waits in a register at the chip's port, goes out
          in a broadcast register to a slot in its tile, and the tile applies it there.
          The port keeps a busy bit per tile slot, which the tile clears with a
          registered ``done``; a debug answer comes back through registered ORs, per
          row and for the chip (one read is out at a time, so every other tile
          answers 0);
        * a tick goes out in a broadcast register to a register per core;
        * the barrier ORs every register that can hold work, per tile, per row and for
          the chip, and :class:`~rtl.fabric.IdleConfirm` makes that delayed OR sound;
        * the packet and event counters add up registered counts per row.

        Each stage adds a clock of latency and changes no result.
        """
        p = self.params
        C = p.n_cores
        keyed_mode = p.key_entries > 0
        rows = [[p.core_index(x, y) for x in range(p.cols)] for y in range(p.rows)]
        work = [[] for _ in range(C)]   # per tile, the bits that say it holds work
        central = []                    # the same, for the registers at the chip's ports
        counters = self._counters()
        stepping = Signal()
        timestep = Signal(32)
        m.d.comb += [self.timestep.eq(timestep), counters[ChipCounter.TIMESTEP].eq(timestep)]
        for k in range(C):
            work[k] += [cores[k].busy, tables[k].busy, ~routers[k].empty, inbufs[k].level != 0,
                        tables[k].packet_sent, tables[k].host_sent, routers[k].unrouted_now,
                        routers[k].undelivered_now]

        # ---- external input: a buffer in front of router (0, 0) ----------------------
        pkt = self.ext_in.payload
        in_range = (pkt.x < p.cols) & (pkt.y < p.rows) & (pkt.axon < p.core.n_axons)
        m.submodules.ingress = ingress = fifo.SyncFIFOBuffered(width=len(pkt.as_value()),
                                                               depth=2)
        m.d.comb += [ingress.w_data.eq(pkt.as_value()),
                     ingress.w_en.eq(self.ext_in.valid & in_range & ~stepping),
                     self.ext_in.ready.eq(~stepping & (ingress.w_rdy | ~in_range)),
                     routers[0].in_w.valid.eq(ingress.r_rdy),
                     routers[0].in_w.payload.eq(ingress.r_data),
                     ingress.r_en.eq(routers[0].in_w.ready)]
        bad_packet = Signal()
        m.d.sync += bad_packet.eq(self.ext_in.valid & self.ext_in.ready & ~in_range)
        central += [ingress.level != 0, bad_packet]

        # ---- host events: a buffer per tile, a merge node per row, one for the chip ---
        event = host_event_layout(p)
        row_nodes = []
        for r, row in enumerate(rows):
            m.submodules[f"merge_row_{r}"] = node = MergeNode(event, len(row))
            for k, port in zip(row, node.inputs()):
                x, y = p.core_xy(k)
                out = tables[k].host_out
                m.submodules[f"hostbuf_{x}_{y}"] = buf = fifo.SyncFIFOBuffered(
                    width=p.core.neuron_bits, depth=2)
                m.d.comb += [buf.w_en.eq(out.valid), buf.w_data.eq(out.payload.neuron),
                             out.ready.eq(buf.w_rdy),
                             port.valid.eq(buf.r_rdy), port.payload.x.eq(x),
                             port.payload.y.eq(y), port.payload.neuron.eq(buf.r_data),
                             buf.r_en.eq(port.ready)]
                work[k].append(buf.level != 0)
            central.append(node.busy)
            row_nodes.append(node)
        m.submodules.merge = root = MergeNode(event, len(rows) + keyed_mode)
        for node, port in zip(row_nodes, root.inputs()):
            wiring.connect(m, node.output, port)
        host_exit = Signal()        # a keyed packet left the mesh for the host
        if keyed_mode:
            # A keyed packet leaving west of (0,0) is a spike for the host; its key names it.
            exit_w, port = routers[0].out_w, root.inputs()[-1]
            nb = p.core.neuron_bits
            xs = Array(Const(p.core_xy(k)[0], p.x_bits) for k in range(C))
            ys = Array(Const(p.core_xy(k)[1], p.y_bits) for k in range(C))
            src = exit_w.payload.key[nb:]
            m.d.comb += [port.valid.eq(exit_w.valid), port.payload.x.eq(xs[src]),
                         port.payload.y.eq(ys[src]), port.payload.neuron.eq(exit_w.payload.key[:nb]),
                         exit_w.ready.eq(port.ready)]
            m.d.sync += host_exit.eq(exit_w.valid & exit_w.ready)
        m.d.comb += [self.ext_out.valid.eq(root.output.valid),
                     self.ext_out.payload.eq(root.output.payload),
                     root.output.ready.eq(self.ext_out.ready)]
        central += [root.busy, host_exit]

        # ---- counters: registered counts per row, then the add ------------------------
        tallies = {
            ChipCounter.PACKETS: lambda k: [tables[k].packet_sent],
            ChipCounter.UNROUTED: lambda k: [routers[k].unrouted_now, routers[k].undelivered_now],
            ChipCounter.HOST_EVENTS: lambda k: [tables[k].host_sent],
        }
        for c, bits_of in tallies.items():
            row_counts = []
            for r, row in enumerate(rows):
                bits = [b for k in row for b in bits_of(k)]
                count = Signal(range(len(bits) + 1), name=f"tally_{c.name.lower()}_{r}")
                m.d.sync += count.eq(sum(bits))
                row_counts.append(count)
                central.append(count != 0)
            extra = host_exit if c == ChipCounter.HOST_EVENTS else 0
            m.d.sync += counters[c].eq(counters[c] + sum(row_counts) + extra)

        # ---- config: the port's register, a broadcast, a slot per tile ----------------
        # The target in the tile (core, table, router) is decoded at the port and travels
        # as one-hot bits, so that a tile's slot drives its targets straight from registers.
        cfg = self.config
        region = cfg.payload.region
        cfg_kinds = [region < 11, (region >= 11) & (region <= 13)]
        if keyed_mode:
            cfg_kinds.append(region == ROUTER_REGION)
        c_valid = Signal()
        c_write = Signal(ConfigWrite)
        c_tile = Signal(C)          # one-hot: the tile the write is for
        c_kind = Signal(len(cfg_kinds))
        m.d.comb += cfg.ready.eq(~c_valid)
        with m.If(cfg.valid & cfg.ready):
            m.d.sync += [c_valid.eq(1),
                         c_write.region.eq(region), c_write.addr.eq(cfg.payload.addr),
                         c_write.data.eq(cfg.payload.data),
                         c_tile.eq(Cat(cfg.payload.core == k for k in range(C))),
                         c_kind.eq(Cat(*cfg_kinds))]
        slot_busy = Signal(C)       # a write is in the tile's slot, or its done is on its way
        slot_done = Signal(C)
        bcast_tile = Signal(C)
        bcast_kind = Signal.like(c_kind)
        bcast_write = Signal(ConfigWrite)
        c_known = c_tile.any() & c_kind.any()
        dispatch = c_valid & ~stepping & c_known & ~(c_tile & slot_busy).any()
        # A write to a core that does not exist (or to a read-only region) is refused loudly:
        # it is taken, ignored and counted.
        refuse = c_valid & ~stepping & ~c_known
        m.d.sync += [bcast_tile.eq(Mux(dispatch, c_tile, 0)),
                     slot_busy.eq((slot_busy | Mux(dispatch, c_tile, 0)) & ~slot_done)]
        with m.If(dispatch):
            m.d.sync += [bcast_write.eq(c_write), bcast_kind.eq(c_kind)]
        with m.If(dispatch | refuse):
            m.d.sync += c_valid.eq(0)
        bad_write = Signal()
        m.d.sync += bad_write.eq(refuse)
        m.d.sync += counters[ChipCounter.BAD_PACKETS].eq(
            counters[ChipCounter.BAD_PACKETS] + bad_packet + bad_write)
        central += [c_valid, bcast_tile.any(), slot_busy.any(), bad_write]
        for k in range(C):
            x, y = p.core_xy(k)
            slot_for = Signal.like(c_kind, name=f"cfg_slot_for_{x}_{y}")
            slot = Signal(ConfigWrite, name=f"cfg_slot_{x}_{y}")
            with m.If(bcast_tile[k]):
                m.d.sync += [slot_for.eq(bcast_kind), slot.eq(bcast_write)]
            targets = [cores[k], tables[k]] + ([routers[k]] if keyed_mode else [])
            for i, target in enumerate(targets):
                m.d.comb += [target.config.valid.eq(slot_for[i]),
                             target.config.payload.eq(slot)]
            applied = Cat(slot_for[i] & t.config.ready for i, t in enumerate(targets)).any()
            with m.If(applied):
                m.d.sync += slot_for.eq(0)
            m.d.sync += slot_done[k].eq(applied)

        # ---- debug: the port's register, a broadcast, a slot per tile, ORed answers ---
        dbg = self.debug
        req = dbg.req.payload
        d_valid = Signal()
        d_read = Signal(DebugRead)
        d_tile = Signal(C)
        # A tile answers for its core, its table and its router's packet count.
        dbg_kinds = [req.region < 11, (req.region >= 11) & (req.region <= 13),
                     req.region == CHIP_REGION]
        to_tile = [((req.core == k) & (req.region <= 13)) |
                   ((req.region == CHIP_REGION) & (req.addr == ChipCounter.ROUTED + k))
                   for k in range(C)]
        d_kind = Signal(3)
        # Which chip counter a local read picks, decoded at the port too.
        local = list(counters.items())
        d_counter = Signal(len(local))
        m.d.comb += dbg.req.ready.eq(~d_valid)
        with m.If(dbg.req.valid & dbg.req.ready):
            m.d.sync += [d_valid.eq(1), d_read.region.eq(req.region), d_read.addr.eq(req.addr),
                         d_tile.eq(Cat(*to_tile)), d_kind.eq(Cat(*dbg_kinds)),
                         d_counter.eq(Cat((req.region == CHIP_REGION) & (req.addr == c)
                                          for c, _ in local))]
        d_local = ~d_tile.any()
        dbg_busy = Signal()
        start = d_valid & ~dbg_busy & ~stepping
        d_bcast_tile = Signal(C)
        d_bcast_kind = Signal(3)
        d_bcast = Signal(DebugRead)
        local_pending = Signal()
        local_value = Signal(32)
        m.d.sync += d_bcast_tile.eq(Mux(start & ~d_local, d_tile, 0))
        with m.If(start):
            m.d.sync += [d_valid.eq(0), dbg_busy.eq(1), d_bcast.eq(d_read), d_bcast_kind.eq(d_kind),
                         local_pending.eq(d_local),
                         local_value.eq(_or_all(Mux(d_counter[i], sig, 0)
                                                for i, (_, sig) in enumerate(local)))]
        answers = []
        for k in range(C):
            x, y = p.core_xy(k)
            slot_for = Signal(3, name=f"dbg_slot_for_{x}_{y}")
            slot = Signal(DebugRead, name=f"dbg_slot_{x}_{y}")
            with m.If(d_bcast_tile[k]):
                m.d.sync += [slot_for.eq(d_bcast_kind), slot.eq(d_bcast)]
            targets = [cores[k].debug, tables[k].debug]
            for i, target in enumerate(targets):
                m.d.comb += [target.req.valid.eq(slot_for[i]),
                             target.req.payload.eq(slot),
                             target.resp.ready.eq(1)]
            with m.If(slot_for[2] | Cat(slot_for[i] & t.req.ready
                                        for i, t in enumerate(targets)).any()):
                m.d.sync += slot_for.eq(0)
            # One clock of the answer; every other clock, and every other tile, gives 0.
            answer_valid = Signal(name=f"dbg_answer_valid_{x}_{y}")
            answer = Signal(32, name=f"dbg_answer_{x}_{y}")
            core_resp, table_resp = targets[0].resp, targets[1].resp
            value = Mux(core_resp.valid, core_resp.payload,
                        Mux(table_resp.valid, table_resp.payload, routers[k].routed))
            now = core_resp.valid | table_resp.valid | slot_for[2]
            m.d.sync += [answer_valid.eq(now), answer.eq(Mux(now, value, 0))]
            answers.append((answer_valid, answer))
        row_answers = []
        for r, row in enumerate(rows):
            valid, value = Signal(name=f"dbg_row_valid_{r}"), Signal(32, name=f"dbg_row_{r}")
            m.d.sync += [valid.eq(Cat(answers[k][0] for k in row).any()),
                         value.eq(_or_all(answers[k][1] for k in row))]
            row_answers.append((valid, value))
        resp_full, resp_value = Signal(), Signal(32)
        tile_answered = Cat(v for v, _ in row_answers).any()
        with m.If(dbg_busy & ~resp_full & (local_pending | tile_answered)):
            m.d.sync += [resp_full.eq(1), local_pending.eq(0),
                         resp_value.eq(Mux(local_pending, local_value,
                                           _or_all(v for _, v in row_answers)))]
        m.d.comb += [dbg.resp.valid.eq(resp_full), dbg.resp.payload.eq(resp_value)]
        with m.If(dbg.resp.valid & dbg.resp.ready):
            m.d.sync += [resp_full.eq(0), dbg_busy.eq(0)]
        central += [d_valid, dbg_busy]

        # ---- tick and the barrier -----------------------------------------------------
        go = self.tick.valid & self.tick.ready
        tick_bcast = Signal()
        m.d.sync += tick_bcast.eq(go)
        central.append(tick_bcast)
        for k, core in enumerate(cores):
            x, y = p.core_xy(k)
            core_tick = Signal(name=f"tick_{x}_{y}")
            with m.If(tick_bcast):
                m.d.sync += core_tick.eq(1)
            with m.Elif(core.tick.ready):
                m.d.sync += core_tick.eq(0)
            m.d.comb += core.tick.valid.eq(core_tick)
            work[k].append(core_tick)

        groups = [[work[k] for k in row] for row in rows]
        busy = registered_any(m, "work", groups, central)
        m.submodules.idle = idle = IdleConfirm(registered_any.LATENCY)
        taken = go | (self.ext_in.valid & self.ext_in.ready) | (cfg.valid & cfg.ready) | \
            (dbg.req.valid & dbg.req.ready)
        m.d.comb += [idle.busy.eq(busy), idle.event.eq(taken)]
        drained = idle.idle
        m.d.comb += self.tick.ready.eq(~stepping & drained & ~self.ext_in.valid & ~cfg.valid &
                                       ~c_valid & ~dbg.req.valid & ~d_valid & ~dbg_busy)
        with m.If(go):
            m.d.sync += stepping.eq(1)
        with m.If(stepping & drained):
            m.d.sync += [stepping.eq(0), timestep.eq(timestep + 1)]

        cores_busy = registered_any(m, "cores", [[[cores[k].busy] for k in row] for row in rows])
        self._count_cycles(m, counters, stepping, cores_busy, drained)
        m.d.comb += self.busy.eq(stepping | ~drained | self.ext_in.valid | self.tick.valid |
                                 dbg_busy)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        C = p.n_cores
        keyed_mode = p.key_entries > 0
        # A one-core chip in XY mode has nowhere to route to: its own packets and the host's
        # go straight into the core, and the router (a fifth of a small FPGA) is left out.
        single = C == 1 and not keyed_mode
        cores, tables, routers, inbufs = [], [], [], []
        for k in range(C):
            x, y = p.core_xy(k)
            core_args = dict(spike_fifo_depth=p.core.n_neurons + UPDATE_STAGES + 1,
                             synapse_ram=self.synapse_ram, cycle_counters=self.cycle_counters,
                             deep_pipeline=self.deep_pipeline)
            if self.gating is None:
                core = LIFCore(p.core, **core_args)
            else:
                core = GatedCore(p.core, policy=self.gating, **core_args)
            table = OutputTable(p, core_index=k, deep_pipeline=self.deep_pipeline)
            m.submodules[f"core_{x}_{y}"] = core
            m.submodules[f"table_{x}_{y}"] = table
            wiring.connect(m, core.spike_out, table.spike_in)
            if not single:
                router = Router(p, x, y)
                m.submodules[f"router_{x}_{y}"] = router
                wiring.connect(m, table.packet_out, router.in_l)
                # A two-entry buffer in front of the core, so that the router's arbiters do
                # not wait on the core's input logic in the same clock.
                inbuf = fifo.SyncFIFOBuffered(width=p.core.axon_bits, depth=2)
                m.submodules[f"inbuf_{x}_{y}"] = inbuf
                m.d.comb += [inbuf.w_en.eq(router.out_l.valid),
                             inbuf.w_data.eq(router.out_l.payload.axon),
                             router.out_l.ready.eq(inbuf.w_rdy),
                             core.axon_in.valid.eq(inbuf.r_rdy),
                             core.axon_in.payload.axon.eq(inbuf.r_data),
                             inbuf.r_en.eq(core.axon_in.ready)]
                routers.append(router)
                inbufs.append(inbuf)
            cores.append(core)
            tables.append(table)

        if single:
            # A two-entry buffer between the table and the core, so that the core's input
            # ready does not run through the table's walk into the spike FIFO in one clock.
            m.submodules.loopback = loopback = fifo.SyncFIFOBuffered(width=p.core.axon_bits,
                                                                     depth=2)
            m.d.comb += [loopback.w_en.eq(tables[0].packet_out.valid),
                         loopback.w_data.eq(tables[0].packet_out.payload.axon),
                         tables[0].packet_out.ready.eq(loopback.w_rdy)]

        def at(x, y):
            return routers[p.core_index(x, y)] if 0 <= x < p.cols and 0 <= y < p.rows else None

        for k, r in enumerate(routers):
            x, y = p.core_xy(k)
            for port, (nx, ny), back in (("e", (x + 1, y), "w"), ("s", (x, y + 1), "n")):
                other = at(nx, ny)
                if other is not None:
                    wiring.connect(m, getattr(r, f"out_{port}"), getattr(other, f"in_{back}"))
                    wiring.connect(m, getattr(other, f"out_{back}"), getattr(r, f"in_{port}"))
            # Edges: XY routing never sends a valid packet off the mesh; tie the unused ports.
            for port, (nx, ny) in (("n", (x, y - 1)), ("e", (x + 1, y)), ("s", (x, y + 1)),
                                   ("w", (x - 1, y))):
                if at(nx, ny) is None and not (keyed_mode and k == 0 and port == "w"):
                    m.d.comb += getattr(r, f"out_{port}").ready.eq(0)

        if self.deep_pipeline and not single:
            self._elaborate_fabric(m, cores, tables, routers, inbufs)
            return m

        # ---- phases and the barrier ------------------------------------------------
        stepping = Signal()
        timestep = Signal(32)
        m.d.comb += self.timestep.eq(timestep)
        cores_busy = Cat(c.busy for c in cores).any()
        tables_busy = Cat(t.busy for t in tables).any()
        if single:
            mesh_busy = tables[0].packet_out.valid | (loopback.level != 0)
        else:
            mesh_busy = ~Cat(*(r.empty for r in routers),
                             *(b.level == 0 for b in inbufs)).all()
        merger_busy = self.ext_out.valid
        # The packet, host-event and lost-packet counters add up one-clock strobes from the
        # tables and routers, two clocks late: a population count, registered, then the add.
        # A 32-bit sum over every core's counter was the longest path of a 16-core chip.
        host_exit = Signal()        # a keyed packet left the mesh for the host
        tallies = {
            ChipCounter.PACKETS: Cat(t.packet_sent for t in tables),
            ChipCounter.UNROUTED: Cat(*(r.unrouted_now for r in routers),
                                      *(r.undelivered_now for r in routers)),
            ChipCounter.HOST_EVENTS: Cat(*(t.host_sent for t in tables), host_exit),
        }
        tally_counts = {c: Signal(range(len(bits) + 1), name=f"tally_{c.name.lower()}")
                        for c, bits in tallies.items() if len(bits)}
        for c, count in tally_counts.items():
            m.d.sync += count.eq(sum(tallies[c]))
        counting = Cat(*tallies.values()).any() | \
            Cat(count != 0 for count in tally_counts.values()).any()
        drained = Signal()
        m.d.comb += drained.eq(~cores_busy & ~tables_busy & ~mesh_busy & ~merger_busy &
                               ~counting)

        counters = self._counters()
        m.d.comb += counters[ChipCounter.TIMESTEP].eq(timestep)
        for c, count in tally_counts.items():
            m.d.sync += counters[c].eq(counters[c] + count)

        # ---- external input -----------------------------------------------------------
        if single:
            # The table's packets first; host packets only come between steps anyway.
            ingress = stream.Signature(packet_layout(p)).create()
            core_in = cores[0].axon_in
            routed_single = Signal(32)
            m.d.comb += [core_in.valid.eq(loopback.r_rdy | ingress.valid),
                         core_in.payload.axon.eq(Mux(loopback.r_rdy, loopback.r_data,
                                                     ingress.payload.axon)),
                         loopback.r_en.eq(core_in.ready),
                         ingress.ready.eq(core_in.ready & ~loopback.r_rdy)]
            with m.If(core_in.valid & core_in.ready):
                m.d.sync += routed_single.eq(routed_single + 1)
        else:
            ingress = routers[0].in_w
        pkt = self.ext_in.payload
        in_range = (pkt.x < p.cols) & (pkt.y < p.rows) & (pkt.axon < p.core.n_axons)
        m.d.comb += [ingress.payload.eq(pkt),
                     ingress.valid.eq(self.ext_in.valid & in_range & ~stepping),
                     self.ext_in.ready.eq(~stepping & (ingress.ready | ~in_range))]
        with m.If(self.ext_in.valid & self.ext_in.ready & ~in_range):
            m.d.sync += counters[ChipCounter.BAD_PACKETS].eq(
                counters[ChipCounter.BAD_PACKETS] + 1)

        # ---- output merger ------------------------------------------------------------
        exit_w = routers[0].out_w if keyed_mode else None
        m.submodules.merger = merger = RoundRobin(C + keyed_mode)
        out = self.ext_out
        out_free = ~out.valid | out.ready
        m.d.comb += [merger.requests.eq(Cat(*(t.host_out.valid for t in tables),
                                            *([exit_w.valid] if keyed_mode else []))),
                     merger.advance.eq(out_free)]
        if keyed_mode:
            # A keyed packet leaving west of (0,0) is a spike for the host; its key names it.
            nb = p.core.neuron_bits
            xs = Array(Const(p.core_xy(k)[0], p.x_bits) for k in range(C))
            ys = Array(Const(p.core_xy(k)[1], p.y_bits) for k in range(C))
            src = exit_w.payload.key[nb:]
            m.d.comb += exit_w.ready.eq(out_free & merger.grant[C])
            with m.If(out_free & merger.grant[C]):
                m.d.sync += [out.payload.x.eq(xs[src]), out.payload.y.eq(ys[src]),
                             out.payload.neuron.eq(exit_w.payload.key[:nb])]
            m.d.sync += host_exit.eq(exit_w.valid & exit_w.ready)
        with m.If(out_free):
            m.d.sync += out.valid.eq(merger.grant.any())
        for k, t in enumerate(tables):
            x, y = p.core_xy(k)
            m.d.comb += t.host_out.ready.eq(out_free & merger.grant[k])
            with m.If(out_free & merger.grant[k]):
                m.d.sync += [out.payload.x.eq(x), out.payload.y.eq(y),
                             out.payload.neuron.eq(t.host_out.payload.neuron)]

        # ---- config -------------------------------------------------------------------
        cfg = self.config
        region = cfg.payload.region
        cfg_kinds = []
        for k in range(C):
            kinds = [(cores[k], region < 11), (tables[k], (region >= 11) & (region <= 13))]
            if keyed_mode:
                kinds.append((routers[k], region == ROUTER_REGION))
            cfg_kinds += [(target, (cfg.payload.core == k) & in_kind) for target, in_kind in kinds]
        cfg_valid, cfg_payloads, cfg_sel, cfg_taken = self._request(
            m, "cfg", cfg, [sel for _, sel in cfg_kinds])
        cfg_targets = []
        for (target, _), sel, cfg_payload in zip(cfg_kinds, cfg_sel, cfg_payloads):
            m.d.comb += [target.config.valid.eq(cfg_valid & sel & ~stepping),
                         target.config.payload.region.eq(cfg_payload.region),
                         target.config.payload.addr.eq(cfg_payload.addr),
                         target.config.payload.data.eq(cfg_payload.data)]
            cfg_targets.append((sel, target.config.ready))
        cfg_known = Signal()
        m.d.comb += cfg_known.eq(Cat(sel for sel, _ in cfg_targets).any())
        # A write to a core that does not exist (or to a read-only region) is refused loudly:
        # it is accepted, ignored and counted.
        with m.If(~stepping):
            m.d.comb += cfg_taken.eq(cfg_valid & (~cfg_known |
                                                  Cat(sel & rdy for sel, rdy in cfg_targets).any()))
        with m.If(cfg_taken & ~cfg_known):
            m.d.sync += counters[ChipCounter.BAD_PACKETS].eq(
                counters[ChipCounter.BAD_PACKETS] + 1)

        # ---- debug --------------------------------------------------------------------
        dbg = self.debug
        dbg_busy = Signal()
        dbg_sel = Signal(range(2 * C + 1))
        local_value = Signal(32)
        local_pending = Signal()
        resp_taken = Signal()       # the selected target's answer is taken in this clock
        targets = []
        req = dbg.req.payload
        for k in range(C):
            targets.append((cores[k].debug, (req.core == k) & (req.region < 11)))
            targets.append((tables[k].debug, (req.core == k) & (req.region >= 11) &
                            (req.region <= 13)))
        is_local = (req.region == CHIP_REGION) | (req.region == ROUTER_REGION) | (req.core >= C)
        req_valid, reqs, req_sel, req_taken = self._request(
            m, "dbg", dbg.req, [sel for _, sel in targets] + [is_local])
        is_local, req = req_sel[-1], reqs[-1]
        for i, ((target, _), sel, target_req) in enumerate(zip(targets, req_sel, reqs)):
            m.d.comb += [target.req.valid.eq(req_valid & sel & ~dbg_busy & ~stepping),
                         target.req.payload.region.eq(target_req.region),
                         target.req.payload.addr.eq(target_req.addr),
                         target.resp.ready.eq(resp_taken & (dbg_sel == i))]
            with m.If(req_valid & sel & ~dbg_busy & ~stepping & target.req.ready):
                m.d.comb += req_taken.eq(1)
                m.d.sync += [dbg_busy.eq(1), dbg_sel.eq(i)]
        with m.If(req_valid & is_local & ~dbg_busy & ~stepping):
            m.d.comb += req_taken.eq(1)
            m.d.sync += [dbg_busy.eq(1), dbg_sel.eq(2 * C), local_pending.eq(1)]
            with m.Switch(Mux(req.region == CHIP_REGION, req.addr, 0xFFFF)):
                for c, sig in counters.items():
                    with m.Case(c):
                        m.d.sync += local_value.eq(sig)
                for k, r in enumerate(routers):
                    with m.Case(ChipCounter.ROUTED + k):
                        m.d.sync += local_value.eq(r.routed)
                if single:
                    with m.Case(ChipCounter.ROUTED):
                        m.d.sync += local_value.eq(routed_single)
                with m.Default():
                    m.d.sync += local_value.eq(0)
        pick_valid, pick_value = Signal(), Signal(32)
        with m.Switch(dbg_sel):
            for i, (target, _) in enumerate(targets):
                with m.Case(i):
                    m.d.comb += [pick_valid.eq(target.resp.valid),
                                 pick_value.eq(target.resp.payload)]
            with m.Default():
                m.d.comb += [pick_valid.eq(local_pending), pick_value.eq(local_value)]
        if self.deep_pipeline:
            # The answer is registered here: the pick among every core's and table's
            # answer spans the whole chip.
            resp_full, resp_value = Signal(), Signal(32)
            with m.If(dbg_busy & ~resp_full & pick_valid):
                m.d.sync += [resp_full.eq(1), resp_value.eq(pick_value)]
            with m.If(dbg.resp.valid & dbg.resp.ready):
                m.d.sync += resp_full.eq(0)
            m.d.comb += [dbg.resp.valid.eq(resp_full), dbg.resp.payload.eq(resp_value),
                         resp_taken.eq(dbg_busy & ~resp_full)]
        else:
            m.d.comb += [dbg.resp.valid.eq(pick_valid & dbg_busy), dbg.resp.payload.eq(pick_value),
                         resp_taken.eq(dbg.resp.ready & dbg_busy)]
        with m.If(dbg.resp.valid & dbg.resp.ready):
            m.d.sync += [dbg_busy.eq(0), local_pending.eq(0)]

        # ---- tick ---------------------------------------------------------------------
        # `drained` is an OR over every busy flag of the chip; the barrier reads it a cycle
        # late, so that it ends no long path. Nothing starts work in between unless a port
        # takes something, and taking anything in a cycle clears the registered `quiet`.
        # A request waits at the port, or in the register behind it.
        cfg_pending = cfg.valid | cfg_valid
        dbg_pending = dbg.req.valid | req_valid
        quiet = Signal()
        m.d.sync += quiet.eq(drained & ~self.ext_in.valid & ~cfg_pending & ~dbg_pending &
                             ~dbg_busy)
        m.d.comb += self.tick.ready.eq(~stepping & quiet & ~self.ext_in.valid & ~cfg_pending &
                                       ~dbg_pending & ~dbg_busy)
        go = self.tick.valid & self.tick.ready
        # Registered, so a core's `busy` (which includes its tick input) cannot loop back
        # into the barrier. Every core is idle then, so every one accepts at once.
        core_tick = Signal(C)
        for k, c in enumerate(cores):
            m.d.comb += c.tick.valid.eq(core_tick[k])
            with m.If(c.tick.ready):
                m.d.sync += core_tick[k].eq(0)
        with m.If(go):
            m.d.sync += [stepping.eq(1), core_tick.eq((1 << C) - 1)]
        settled = Signal()     # drained, a cycle ago, with every core's tick taken by then
        m.d.sync += settled.eq(drained & (core_tick == 0))
        with m.If(stepping & settled & (core_tick == 0)):
            m.d.sync += [stepping.eq(0), timestep.eq(timestep + 1)]

        self._count_cycles(m, counters, stepping, cores_busy, drained)

        m.d.comb += self.busy.eq(stepping | ~drained | self.ext_in.valid | self.tick.valid |
                                 dbg_busy)
        return m


def _or_all(values):
    result = Const(0, 32)
    for value in values:
        result = result | value
    return result


def chip_config_writes(image, keymask=None):
    """The ``(core, region, addr, data)`` writes that load a :class:`golden_model.chip.ChipImage`.

    With ``keymask`` (:class:`golden_model.keymask.KeyMaskTables`) the chip routes in
    key/mask mode: the output tables hold no entries, neurons whose key has an entry
    at their own router send a keyed packet, and the routers get the tables.
    """
    from golden_model.chip import RouteTable
    from golden_model.keymask import make_key
    from .lif_core import config_writes
    from .output_table import route_writes
    p = image.params
    if keymask is not None:
        if not p.key_entries:
            raise ValueError("keymask tables need a chip elaborated with key_entries > 0")
        keymask.check(p)
    writes = []
    for k, (core, table) in enumerate(zip(image.cores, image.routes)):
        writes += [(k, region, addr, data) for region, addr, data in config_writes(core)]
        keyed = ()
        if keymask is not None:
            table = RouteTable.empty(p.core.n_neurons)
            keyed = [n for n in range(p.core.n_neurons)
                     if any(e.matches(make_key(p, k, n)) for e in keymask.routers[k])]
        writes += [(k, region, addr, data) for region, addr, data in
                   route_writes(p, table, keyed)]
    if p.key_entries:
        writes += _keymask_writes(p, keymask)
    return writes


def _keymask_writes(p, keymask):
    writes = []
    for k in range(p.n_cores):
        x, y = p.core_xy(k)
        entries = keymask.routers[k] if keymask is not None else ()
        inputs = keymask.inputs[k] if keymask is not None else ()
        if len(entries) > p.key_entries:
            raise ValueError(f"router {x},{y} needs {len(entries)} key/mask entries, more than "
                             f"key_entries = {p.key_entries}")
        if len(inputs) > p.key_inputs:
            raise ValueError(f"core {x},{y} needs {len(inputs)} key/mask input entries, more "
                             f"than key_inputs = {p.key_inputs}")
        full = (1 << p.key_bits) - 1
        for e in range(p.key_entries):
            if e < len(entries):
                en = entries[e]
                ports = sum(1 << i for i, name in enumerate(PORTS) if name in en.ports)
                writes += [(k, ROUTER_REGION, e << 2, en.key & full),
                           (k, ROUTER_REGION, e << 2 | 1, en.mask & full),
                           (k, ROUTER_REGION, e << 2 | 2, ports | 1 << 5)]
            else:
                writes.append((k, ROUTER_REGION, e << 2 | 2, 0))
        for e in range(p.key_inputs):
            base = INPUT_TABLE | e << 2
            if e < len(inputs):
                en = inputs[e]
                writes += [(k, ROUTER_REGION, base, en.key & full),
                           (k, ROUTER_REGION, base | 1, en.mask & full),
                           (k, ROUTER_REGION, base | 2, en.axon | 1 << 16)]
            else:
                writes.append((k, ROUTER_REGION, base | 2, 0))
    return writes

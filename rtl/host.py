"""``HostInterface``: the host protocol of :mod:`golden_model.protocol` in front of a chip.

Bytes arrive on ``rx`` (from a UART) and leave on ``tx``. A frame is
de-escaped, its payload stored in a buffer and its CRC checked as it
arrives; only a whole frame with a good CRC is executed, and every record in
it is checked before the first one is applied, so a bad frame changes
nothing. The executor drives the chip's ``config``, ``debug``, ``ext_in`` and
``tick`` ports and streams the chip's host events back as ``EVENTS`` frames
while ``RUN`` runs, so a long run never overflows a buffer: the event FIFO
simply holds the chip back while the link catches up.

The protocol is stop and wait: bytes that arrive while a command executes are
counted as overruns and dropped, and the receiver hunts for the next ``FLAG``.
"""

import enum

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.chip import ChipParams
from golden_model.protocol import (ERROR, ESC, ESC_XOR, EVENTS, FLAG, MAGIC, REPLY, STATUS_FIELDS,
                                   VERSION, Error, Op, params_id)
from .chip import (CHIP_CYCLE_COUNTERS, CHIP_REGION, ChipCounter, ChipDebugSignature,
                   chip_config_layout, chip_debug_layout)
from .learning import LEARN_BASE, LearnKind, LearnParam, learn_addr, trace_memories
from .lif_core import CYCLE_COUNTERS, Counter, LIFCore, Region
from .output_table import OutRegion
from .router import INPUT_TABLE, ROUTER_REGION, packet_layout
from .chip import host_event_layout

__all__ = ["HostInterface", "address_windows", "crc16_update", "MAX_EVENTS_PER_FRAME"]

MAX_EVENTS_PER_FRAME = 64


def _cycle_counter_holes():
    # {region: (lo, hi)}: the cycle counters, each region's a contiguous run.
    holes = {}
    for region, members in ((Region.COUNTER, CYCLE_COUNTERS), (CHIP_REGION, CHIP_CYCLE_COUNTERS)):
        lo, hi = min(members), max(members) + 1
        assert sorted(members) == list(range(lo, hi))
        holes[region] = (lo, hi)
    return holes


def address_windows(params, *, write, cycle_counters=True, gating=False):
    """``{region: [(lo, hi), ...]}``: the addresses ``lo <= addr < hi`` a host may write or read.

    Every region of every core has the same map; region 15 (the chip's
    counters) can only be read and region 14 (key/mask tables) only written.
    Without ``cycle_counters`` the cycle counters of the cores and of the chip
    cannot be read. With ``gating`` the cores' power registers
    (:class:`rtl.power.PowerReg`) are there too: the settings for writing, all for reading.
    """
    if not isinstance(params, ChipParams):
        raise TypeError(f"params must be a ChipParams, not {params!r}")
    p = params.core
    windows = {region: [(0, depth)] for region, (_, depth) in LIFCore.memory_widths(p).items()
               if isinstance(region, Region)}
    # A profile's fields sit at ``profile << 4 | field``.
    windows[Region.PROFILE] = [(0, p.n_profiles << 4)]
    learn = []
    if p.learning is not None:
        learn.append((LEARN_BASE, learn_addr(LearnKind.PARAM, len(LearnParam))))
        learn += [(learn_addr(kind), learn_addr(kind, n)) for kind, _, n in trace_memories(p)]
    windows[Region.COUNTER] = learn if write else [(0, len(Counter))] + learn
    if gating:
        from .power import POWER_BASE, POWER_WRITABLE, PowerReg
        span = len(POWER_WRITABLE) if write else len(PowerReg)
        windows[Region.COUNTER] = sorted(windows[Region.COUNTER] +
                                         [(POWER_BASE, POWER_BASE + span)])
    windows[OutRegion.OUT_START] = [(0, p.n_neurons)]
    windows[OutRegion.OUT_COUNT] = [(0, p.n_neurons)]
    windows[OutRegion.OUT_ENTRY] = [(0, params.n_routes)]
    if write and params.key_entries:
        windows[ROUTER_REGION] = [(0, params.key_entries * 4)]
        if params.key_inputs:
            windows[ROUTER_REGION].append((INPUT_TABLE, INPUT_TABLE + params.key_inputs * 4))
    if not write:
        windows[CHIP_REGION] = [(0, ChipCounter.ROUTED + params.n_cores)]
    if not write and not cycle_counters:
        for region, (h_lo, h_hi) in _cycle_counter_holes().items():
            windows[region] = [piece for lo, hi in windows[region]
                               for piece in ((lo, min(hi, h_lo)), (max(lo, h_hi), hi))]
    return {r: [(lo, hi) for lo, hi in w if hi > lo] for r, w in windows.items()}


def _crc16_matrix():
    # The CRC is linear over GF(2): each bit of the next value is the XOR of some bits of
    # (crc, byte). Found by pushing unit vectors through the bitwise definition.
    def step(crc, byte):
        c = crc ^ (byte << 8)
        for _ in range(8):
            c = ((c << 1) ^ 0x1021 if c & 0x8000 else c << 1) & 0xFFFF
        return c
    rows = [[] for _ in range(16)]
    for i in range(24):
        out = step(1 << i, 0) if i < 16 else step(0, 1 << (i - 16))
        for bit in range(16):
            if out >> bit & 1:
                rows[bit].append(i)
    return rows


_CRC16_ROWS = _crc16_matrix()


def crc16_update(crc, byte):
    """CRC-16/CCITT-FALSE of one more byte, as an XOR network (an Amaranth expression).

    Written as one XOR per output bit rather than eight unrolled shift steps, whose
    expression tree would grow threefold with every step.
    """
    inputs = Cat(crc, byte)
    return Cat(*(Cat(*(inputs[i] for i in row)).xor() for row in _CRC16_ROWS))


class _Kind(enum.IntEnum):
    STATUS = 0    # the STATUS reply, from live signals
    ERROR = 1     # an ERROR reply's payload, from a register
    DONE = 2      # a RUN reply: timestep and event count
    READ = 3      # words read through the debug port
    EVENTS = 4    # records popped from the event FIFO


class HostInterface(wiring.Component):
    """The host protocol for a chip with ``ChipParams`` ``params``.

    Parameters
    ----------
    params : ChipParams
    max_payload : int
        Size of the receive buffer in bytes, 16..4096 (default 512): the
        longest command payload accepted.
    cycle_counters : bool
        Whether the chip behind it has its cycle counters (see
        :class:`~rtl.chip.Chip`). Without them, a ``READ`` of one is refused
        with ``BAD_ADDRESS``, and ``STATUS`` clears its flag.
    gating : bool
        Whether the chip's cores are clock-gated (``Chip(gating=...)``): their power
        registers can then be written and read, and ``STATUS`` sets its flag.

    Ports
    -----
    rx, tx : byte streams from and to the UART.
    config, debug, ext_in, tick : driven into the chip's ports of the same name.
    ext_out : the chip's host events.
    chip_busy, timestep : from the chip.
    chip_reset : high for one cycle on ``RESET``.
    line_errors, line_overruns : the UART receiver's counters, reported by ``STATUS``.
    activity : bit 0 a frame was accepted, bit 1 a byte is sent, bit 2 the
        chip is busy, bit 3 an error reply starts.
    """

    def __init__(self, params, *, max_payload=512, cycle_counters=True, gating=False):
        try:
            if not isinstance(params, ChipParams):
                raise TypeError(f"params must be a ChipParams, not {params!r}")
            if isinstance(max_payload, bool) or not isinstance(max_payload, int):
                raise TypeError(f"max_payload must be an integer, not {max_payload!r}")
            if not 16 <= max_payload <= 4096:
                raise ValueError(f"max_payload must be between 16 and 4096, not {max_payload}")
            if not isinstance(cycle_counters, bool):
                raise TypeError(f"cycle_counters must be True or False, not {cycle_counters!r}")
            if not isinstance(gating, bool):
                raise TypeError(f"gating must be True or False, not {gating!r}")
            if params.rows > 255 or params.cols > 255:
                raise ValueError("the host protocol addresses at most 255 rows and columns")
        except (TypeError, ValueError):
            self._MustUse__silence = True
            raise
        self.params = params
        self.max_payload = max_payload
        self.cycle_counters = cycle_counters
        self.gating = gating
        super().__init__({
            "rx": In(stream.Signature(8)),
            "tx": Out(stream.Signature(8)),
            "config": Out(stream.Signature(chip_config_layout(params))),
            "debug": In(ChipDebugSignature(params)),
            "ext_in": Out(stream.Signature(packet_layout(params))),
            "ext_out": In(stream.Signature(host_event_layout(params))),
            "tick": Out(stream.Signature(0)),
            "chip_busy": In(1),
            "timestep": In(32),
            "chip_reset": Out(1),
            "line_errors": In(16),
            "line_overruns": In(16),
            "activity": Out(4),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        P = self.max_payload
        max_read = P // 4

        m.submodules.buf = buf = memory.Memory(shape=8, depth=P, init=[])
        buf_w = buf.write_port()
        buf_r = buf.read_port()

        m.submodules.events = events = fifo.SyncFIFOBuffered(width=48, depth=256)

        # ---- registers shared by the receiver and the executor ------------------------
        in_frame = Signal()
        esc = Signal()
        idx = Signal(range(P + 8))
        in_op = Signal(8)
        in_seq = Signal(8)
        in_len = Signal(16)
        rx_op = Signal(8)            # the executor's copies, free of the next frame
        rx_seq = Signal(8)
        rx_len = Signal(16)
        # Length checks, registered when a frame is taken, keep them off the dispatch path.
        len_0, len_4, len_6, len_x4, len_x8 = (Signal(name=f"len_{n}")
                                               for n in ("0", "4", "6", "x4", "x8"))
        buffer_busy = Signal()
        rx_crc = Signal(16, init=0xFFFF)
        crc_lo = Signal(8)
        frame_done = Signal()        # a whole frame arrived; held until the executor takes it
        frame_good = Signal()
        frame_long = Signal()

        crc_errors = Signal(16)
        frame_errors = Signal(16)
        overruns = Signal(16)

        def fit(value, width):
            # Zero-extend or truncate to a field of the wire format.
            s = Signal(width)
            m.d.comb += s.eq(value)
            return s

        activity = Signal(4)
        # The chip's `busy` ends a long path through the chip (it covers `tick`); a cycle
        # late is soon enough, since once the last tick is in nothing can restart it.
        chip_busy = Signal()
        m.d.sync += chip_busy.eq(self.chip_busy)

        def bump(counter):
            return counter.eq(Mux(counter == 0xFFFF, counter, counter + 1))

        # ---- receiver: de-escape, store, check -----------------------------------------
        # Where the payload and the CRC end, set once the length is in; during the header
        # the last frame's values, at least 4, keep the header bytes in the CRC.
        payload_end = Signal(17, init=4)
        crc_end = Signal(17, init=5)
        m.d.comb += self.rx.ready.eq(1)
        byte = self.rx.payload
        data = Signal(8)
        m.d.comb += data.eq(Mux(esc, byte ^ ESC_XOR, byte))
        with m.If(self.rx.valid):
            # A frame waits whole until the executor takes it, and the buffer is never
            # written while the executor reads records from it.
            with m.If(frame_done | buffer_busy):
                m.d.sync += [bump(overruns), in_frame.eq(0)]
            with m.Elif(byte == FLAG):
                with m.If(in_frame & (idx != 0)):
                    m.d.sync += bump(frame_errors)
                m.d.sync += [in_frame.eq(1), esc.eq(0), idx.eq(0), rx_crc.eq(0xFFFF)]
            with m.Elif(~in_frame):
                m.d.sync += bump(frame_errors)
            with m.Elif(~esc & (byte == ESC)):
                m.d.sync += esc.eq(1)
            with m.Elif(esc & (data != FLAG) & (data != ESC)):
                m.d.sync += [bump(frame_errors), in_frame.eq(0)]
            with m.Else():
                m.d.sync += [esc.eq(0), idx.eq(idx + 1)]
                with m.If(idx < payload_end):
                    m.d.sync += rx_crc.eq(crc16_update(rx_crc, data))
                with m.Switch(idx):
                    with m.Case(0):
                        m.d.sync += in_op.eq(data)
                    with m.Case(1):
                        m.d.sync += in_seq.eq(data)
                    with m.Case(2):
                        m.d.sync += in_len[:8].eq(data)
                    with m.Case(3):
                        length = Cat(in_len[:8], data)
                        m.d.sync += [in_len[8:].eq(data), payload_end.eq(4 + length),
                                     crc_end.eq(5 + length)]
                        with m.If(length > P):
                            # Skip the rest: the executor answers TOO_LONG.
                            m.d.sync += [in_frame.eq(0), frame_done.eq(1), frame_good.eq(0),
                                         frame_long.eq(1)]
                with m.If((idx >= 4) & (idx < payload_end)):
                    m.d.comb += [buf_w.addr.eq(idx - 4), buf_w.data.eq(data), buf_w.en.eq(1)]
                with m.If(idx == payload_end):
                    m.d.sync += crc_lo.eq(data)
                with m.If(idx == crc_end):
                    m.d.sync += [in_frame.eq(0), frame_done.eq(1), frame_long.eq(0),
                                 frame_good.eq(Cat(crc_lo, data) == rx_crc)]

        # ---- transmitter: header and payload bytes, then CRC and escaping --------------
        content = stream.Signature(8).create()      # unescaped frame bytes
        content_last = Signal()
        tx_start = Signal()         # the executor starts a reply...
        tx_go = Signal()            # ...and the generator takes it a cycle later
        tx_idle = Signal()
        tx_op = Signal(8)
        tx_seq = Signal(8)
        tx_len = Signal(16)
        tx_kind = Signal(_Kind)
        status_bytes = sum(n for _, n in STATUS_FIELDS)
        status = Signal(8 * status_bytes)
        err_code = Signal(8)
        err_index = Signal(16)
        err_value = Signal(32)
        err = Cat(err_code, rx_op, err_index, err_value)
        done = Signal(64)
        read_core = Signal(8)
        read_region = Signal(8)
        read_addr = Signal(16)
        read_count = Signal(range(max_read + 1))
        ev_count = Signal(range(MAX_EVENTS_PER_FRAME + 1))

        k = Signal(5)               # byte within a header, word, event or short payload
        word = Signal(32)
        entry = Signal(48)
        header = Cat(tx_op, tx_seq, tx_len)
        dbg = self.debug
        # Two-entry buffers between the executor and the chip: valid, payload and ready are
        # all registered on both sides, so no path runs from one FSM through the other.
        # A command is answered only once they are empty, so nothing overtakes it.
        cfg_o = stream.Signature(chip_config_layout(p)).create()
        ext_o = stream.Signature(packet_layout(p)).create()
        dbg_req = stream.Signature(chip_debug_layout(p)).create()
        stages_empty = Signal()
        levels = []
        for name, inner, outer in (("cfg", cfg_o, self.config), ("ext", ext_o, self.ext_in),
                                   ("dbg", dbg_req, dbg.req)):
            width = len(inner.payload.as_value())
            m.submodules[f"{name}_buf"] = buf_s = fifo.SyncFIFOBuffered(width=width, depth=2)
            m.d.comb += [buf_s.w_data.eq(inner.payload.as_value()), buf_s.w_en.eq(inner.valid),
                         inner.ready.eq(buf_s.w_rdy),
                         outer.payload.eq(buf_s.r_data), outer.valid.eq(buf_s.r_rdy),
                         buf_s.r_en.eq(outer.ready)]
            levels.append(buf_s.level == 0)
        m.d.comb += stages_empty.eq(Cat(*levels).all())
        with m.FSM(name="txgen"):
            with m.State("IDLE"):
                m.d.comb += tx_idle.eq(1)
                with m.If(tx_go):
                    m.d.sync += k.eq(0)
                    m.next = "HEADER"
            with m.State("HEADER"):
                m.d.comb += [content.valid.eq(1), content.payload.eq(header.word_select(k[:2], 8)),
                             content_last.eq((k == 3) & (tx_len == 0))]
                with m.If(content.ready):
                    m.d.sync += k.eq(k + 1)
                    with m.If(k == 3):
                        m.d.sync += k.eq(0)
                        with m.If(tx_len == 0):
                            m.next = "IDLE"
                        with m.Elif(tx_kind <= _Kind.DONE):
                            m.next = "FIXED"
                        with m.Elif(tx_kind == _Kind.READ):
                            m.next = "READ_REQ"
                        with m.Else():
                            m.next = "EV_POP"
            with m.State("FIXED"):
                with m.Switch(tx_kind):
                    with m.Case(_Kind.STATUS):
                        m.d.comb += content.payload.eq(status.word_select(k[:5], 8))
                    with m.Case(_Kind.ERROR):
                        m.d.comb += content.payload.eq(err.word_select(k[:3], 8))
                    with m.Case(_Kind.DONE):
                        m.d.comb += content.payload.eq(done.word_select(k[:3], 8))
                m.d.comb += [content.valid.eq(1),
                             content_last.eq(k == tx_len[:5] - 1)]
                with m.If(content.ready):
                    m.d.sync += k.eq(k + 1)
                    with m.If(k == tx_len[:5] - 1):
                        m.next = "IDLE"
            with m.State("READ_REQ"):
                m.d.comb += dbg_req.valid.eq(1)
                with m.If(dbg_req.ready):
                    m.next = "READ_WAIT"
            with m.State("READ_WAIT"):
                m.d.comb += dbg.resp.ready.eq(1)
                with m.If(dbg.resp.valid):
                    m.d.sync += [word.eq(dbg.resp.payload), k.eq(0), read_addr.eq(read_addr + 1),
                                 read_count.eq(read_count - 1)]
                    m.next = "READ_BYTES"
            with m.State("READ_BYTES"):
                m.d.comb += [content.valid.eq(1), content.payload.eq(word.word_select(k[:2], 8)),
                             content_last.eq((k == 3) & (read_count == 0))]
                with m.If(content.ready):
                    m.d.sync += k.eq(k + 1)
                    with m.If(k == 3):
                        m.next = "READ_REQ"
                        with m.If(read_count == 0):
                            m.next = "IDLE"
            with m.State("EV_POP"):
                with m.If(events.r_rdy):
                    m.d.comb += events.r_en.eq(1)
                    m.d.sync += [entry.eq(events.r_data), k.eq(0), ev_count.eq(ev_count - 1)]
                    m.next = "EV_BYTES"
            with m.State("EV_BYTES"):
                m.d.comb += [content.valid.eq(1), content.payload.eq(entry.word_select(k[:3], 8)),
                             content_last.eq((k == 5) & (ev_count == 0))]
                with m.If(content.ready):
                    m.d.sync += k.eq(k + 1)
                    with m.If(k == 5):
                        m.next = "EV_POP"
                        with m.If(ev_count == 0):
                            m.next = "IDLE"

        # One register between the generator and the framer: the generator's byte mux (the
        # STATUS fields are 31 bytes of live signals) and the framer's escape check would
        # otherwise share a clock.
        q_valid, q_byte, q_last, q_special = Signal(), Signal(8), Signal(), Signal()
        q_take = Signal()
        m.d.comb += [content.ready.eq(~q_valid | q_take),
                     q_special.eq((q_byte == FLAG) | (q_byte == ESC))]
        with m.If(content.valid & content.ready):
            m.d.sync += [q_valid.eq(1), q_byte.eq(content.payload), q_last.eq(content_last)]
        with m.Elif(q_take):
            m.d.sync += q_valid.eq(0)

        # The framer: FLAG, the content escaped, then the CRC (low byte first) escaped.
        tx_crc = Signal(16)
        out_byte = Signal(8)
        pending_esc = Signal()       # the escaped half of a byte is waiting
        crc_phase = Signal(2)        # 1: low byte next, 2: high byte next
        started = Signal()
        tx = self.tx
        with m.If(~tx.valid | tx.ready):
            m.d.sync += tx.valid.eq(0)
            with m.If(pending_esc):
                m.d.sync += [tx.valid.eq(1), tx.payload.eq(out_byte ^ ESC_XOR),
                             pending_esc.eq(0)]
            with m.Elif(crc_phase != 0):
                b = Mux(crc_phase == 1, tx_crc[:8], tx_crc[8:])
                special = (b == FLAG) | (b == ESC)
                m.d.sync += [tx.valid.eq(1), tx.payload.eq(Mux(special, ESC, b)),
                             out_byte.eq(b), pending_esc.eq(special),
                             crc_phase.eq(Mux(crc_phase == 1, 2, 0))]
            with m.Elif(q_valid & ~started):
                m.d.sync += [tx.valid.eq(1), tx.payload.eq(FLAG), started.eq(1),
                             tx_crc.eq(0xFFFF)]
            with m.Elif(q_valid):
                m.d.comb += q_take.eq(1)
                m.d.sync += [tx.valid.eq(1), tx.payload.eq(Mux(q_special, ESC, q_byte)),
                             out_byte.eq(q_byte), pending_esc.eq(q_special),
                             tx_crc.eq(crc16_update(tx_crc, q_byte))]
                with m.If(q_last):
                    m.d.sync += [crc_phase.eq(1), started.eq(0)]
        m.d.sync += tx_go.eq(tx_start)
        tx_drained = Signal()
        m.d.comb += tx_drained.eq(tx_idle & ~tx_go & ~q_valid & ~tx.valid & ~pending_esc &
                                  (crc_phase == 0))

        # ---- event FIFO: the chip's host events, tagged with the step ------------------
        ev = self.ext_out.payload
        # The chip's output merger and its tables wait on this flag, so it is a register:
        # a compare on the FIFO's level in front of them was the iCEBreaker's longest path.
        # Two entries free a clock ago leave one free now.
        ev_room = Signal()
        m.d.sync += ev_room.eq(events.level < events.depth - 2)
        m.d.comb += [events.w_data.eq(Cat(self.timestep[:16], fit(ev.x, 8), fit(ev.y, 8),
                                          fit(ev.neuron, 16))),
                     events.w_en.eq(self.ext_out.valid & ev_room),
                     self.ext_out.ready.eq(ev_room)]

        # ---- executor --------------------------------------------------------------------
        loaded = Signal()
        writes = Signal(32)
        load_crc = Signal(16, init=0xFFFF)
        last_seq = Signal(8)
        rd_ptr = Signal(range(P + 1))
        j = Signal(4)
        size = Signal(4)
        rec = Signal(64)
        i = Signal(range(P + 1))
        n_rec = Signal(range(P + 1))
        applying = Signal()
        steps_left = Signal(32)
        stepping = Signal()         # steps_left != 0, in a register: it drives `tick.valid`
        run_events = Signal(32)

        m.d.comb += buf_r.addr.eq(rd_ptr)

        def start_reply(op, length, kind):
            m.d.sync += [tx_op.eq(op), tx_seq.eq(rx_seq), tx_len.eq(length), tx_kind.eq(kind)]
            m.d.comb += tx_start.eq(1)

        def error(code, index=0, value=0):
            start_reply(ERROR, 8, _Kind.ERROR)
            m.d.sync += [err_code.eq(code), err_index.eq(index), err_value.eq(value)]
            m.d.comb += activity[3].eq(1)
            m.next = "REPLY"

        def ok(length=0, kind=_Kind.STATUS):
            start_reply(rx_op | REPLY, length, kind)
            m.next = "REPLY"

        # The sums are registered: they would otherwise lead into the STATUS byte mux.
        line_frame_errors, line_overrun_total = Signal(16), Signal(16)
        m.d.sync += [line_frame_errors.eq(frame_errors + self.line_errors),
                     line_overrun_total.eq(overruns + self.line_overruns)]
        status_values = {
            "magic": MAGIC, "version": VERSION, "flags": Cat(loaded, chip_busy, self.cycle_counters,
                                                  self.gating),
            "timestep": self.timestep, "params_id": params_id(p), "rows": p.rows,
            "cols": p.cols, "n_neurons": p.core.n_neurons, "n_axons": p.core.n_axons,
            "max_payload": P, "writes": writes, "load_crc": load_crc,
            "crc_errors": crc_errors,
            "frame_errors": line_frame_errors, "overruns": line_overrun_total,
            "last_seq": last_seq,
        }
        m.d.comb += [status.eq(Cat(*(fit(status_values[name], 8 * n)
                                     for name, n in STATUS_FIELDS))),
                     done.eq(Cat(self.timestep, run_events))]

        # Records sit at the bottom of `rec`, first byte lowest, so fields that play the same
        # part in different commands share bits: core, region, addr of WRITE and READ, and
        # the 32 bits an address or spike error reports.
        w_core, w_region, w_addr, w_data = rec[0:8], rec[8:16], rec[16:32], rec[32:64]
        r_count = rec[32:48]
        # One address check serves WRITE and READ. No window crosses a 4 kB page that
        # another window of its region uses, so (direction, region, page) picks the only
        # window the address can be in, and one pair of comparators does the rest.
        # The check takes two clocks: CHECK registers the record's end and its window, and
        # BOUNDS compares them.
        # The opcode, decoded when the frame is taken: the dispatch reads one flag each.
        is_op = {o: Signal(name=f"is_{o.name.lower()}") for o in Op}
        is_write = is_op[Op.WRITE]
        c_core, c_region, c_addr = w_core, w_region, w_addr
        c_end = Signal(17)
        lo, hi, known = Signal(16), Signal(17), Signal()
        lo_c, hi_c, known_c = Signal(16), Signal(17), Signal()
        with m.Switch(Cat(c_addr[12:16], c_region[:4], is_write)):
            for write in (False, True):
                for r, spans in address_windows(p, write=write, gating=self.gating).items():
                    for w_lo, w_hi in spans:
                        for page in range(w_lo >> 12, ((w_hi - 1) >> 12) + 1):
                            with m.Case(page | int(r) << 4 | write << 8):
                                m.d.comb += [lo_c.eq(w_lo), hi_c.eq(w_hi), known_c.eq(1)]
        where_ok = Signal()
        addr_ok = Signal()
        in_hole = Signal()          # a READ that reaches a counter the chip was built without
        m.d.comb += addr_ok.eq(known & where_ok & (c_addr >= lo) & (c_end <= hi) & ~in_hole)
        if not self.cycle_counters:
            for region, (h_lo, h_hi) in _cycle_counter_holes().items():
                with m.If(~is_write & (c_region == region) & (c_addr < h_hi) & (c_end > h_lo)):
                    m.d.comb += in_hole.eq(1)
        s_x, s_y, s_axon = rec[0:8], rec[8:16], rec[16:32]
        spike_ok = Signal()

        # Payloads are driven all the time; only `valid` depends on the state.
        cfg = cfg_o.payload
        m.d.comb += [cfg.core.eq(w_core), cfg.region.eq(w_region), cfg.addr.eq(w_addr),
                     cfg.data.eq(w_data),
                     ext_o.payload.x.eq(s_x), ext_o.payload.y.eq(s_y),
                     ext_o.payload.axon.eq(s_axon),
                     dbg_req.payload.core.eq(read_core), dbg_req.payload.region.eq(read_region),
                     dbg_req.payload.addr.eq(read_addr)]

        # The next EVENTS frame's record count and length, from the FIFO level two cycles
        # ago. Only the generator pops, and it has long finished when the link is drained,
        # so the count never exceeds what the FIFO holds.
        ev_min = Signal(range(MAX_EVENTS_PER_FRAME + 1))
        ev_n = Signal(range(MAX_EVENTS_PER_FRAME + 1))
        ev_bytes = Signal(16)
        m.d.sync += [ev_min.eq(Mux(events.level > MAX_EVENTS_PER_FRAME, MAX_EVENTS_PER_FRAME,
                                   events.level)),
                     ev_n.eq(ev_min), ev_bytes.eq(ev_min * 6)]

        with m.FSM(name="exec"):
            with m.State("IDLE"):
                with m.If(frame_done):
                    m.d.comb += activity[0].eq(1)
                    m.d.sync += [i.eq(0), j.eq(0), rd_ptr.eq(0), applying.eq(0),
                                 rx_op.eq(in_op), rx_seq.eq(in_seq), rx_len.eq(in_len),
                                 *(flag.eq(in_op == o) for o, flag in is_op.items()),
                                 len_0.eq(in_len == 0), len_4.eq(in_len == 4),
                                 len_6.eq(in_len == 6), len_x4.eq(in_len[:2] == 0),
                                 len_x8.eq(in_len[:3] == 0),
                                 frame_done.eq(0)]
                    m.next = "DISPATCH"
            with m.State("DISPATCH"):
                with m.If(frame_long):
                    error(Error.TOO_LONG, value=rx_len)
                with m.Elif(~frame_good):
                    m.d.sync += bump(crc_errors)
                    error(Error.BAD_CRC)
                with m.Else():
                    with m.If(is_op[Op.STATUS]):
                        with m.If(~len_0):
                            error(Error.BAD_LENGTH, value=rx_len)
                        with m.Else():
                            ok(status_bytes, _Kind.STATUS)
                    with m.Elif(is_op[Op.RESET]):
                        with m.If(~len_0):
                            error(Error.BAD_LENGTH, value=rx_len)
                        with m.Else():
                            m.d.comb += self.chip_reset.eq(1)
                            m.d.sync += [loaded.eq(0), writes.eq(0),
                                         load_crc.eq(0xFFFF), last_seq.eq(rx_seq)]
                            ok()
                    with m.Elif(is_op[Op.WRITE]):
                        with m.If(len_0 | ~len_x8):
                            error(Error.BAD_LENGTH, value=rx_len)
                        with m.Else():
                            m.d.sync += [size.eq(8), n_rec.eq(rx_len[3:])]
                            m.next = "LOAD"
                    with m.Elif(is_op[Op.READ]):
                        with m.If(~len_6):
                            error(Error.BAD_LENGTH, value=rx_len)
                        with m.Else():
                            m.d.sync += [size.eq(6), n_rec.eq(1)]
                            m.next = "LOAD"
                    with m.Elif(is_op[Op.SPIKES]):
                        with m.If(~len_x4):
                            error(Error.BAD_LENGTH, value=rx_len)
                        with m.Elif(~loaded):
                            error(Error.NOT_LOADED)
                        with m.Elif(len_0):
                            m.d.sync += last_seq.eq(rx_seq)
                            ok()
                        with m.Else():
                            m.d.sync += [size.eq(4), n_rec.eq(rx_len[2:])]
                            m.next = "LOAD"
                    with m.Elif(is_op[Op.RUN]):
                        with m.If(~len_4):
                            error(Error.BAD_LENGTH, value=rx_len)
                        with m.Elif(~loaded):
                            error(Error.NOT_LOADED)
                        with m.Else():
                            m.d.sync += [size.eq(4), n_rec.eq(1)]
                            m.next = "LOAD"
                    with m.Elif(is_op[Op.COMMIT]):
                        with m.If(~len_6):
                            error(Error.BAD_LENGTH, value=rx_len)
                        with m.Else():
                            m.d.sync += [size.eq(6), n_rec.eq(1)]
                            m.next = "LOAD"
                    with m.Else():
                        error(Error.UNKNOWN_OPCODE)

            with m.State("LOAD"):
                m.d.comb += buffer_busy.eq(1)
                m.d.sync += j.eq(j + 1)
                with m.If(j != size):
                    m.d.sync += rd_ptr.eq(rd_ptr + 1)
                with m.If(j != 0):
                    with m.Switch(j):
                        for b in range(1, 9):
                            with m.Case(b):
                                m.d.sync += rec[8 * (b - 1):8 * b].eq(buf_r.data)
                    with m.If(applying & is_write):
                        m.d.sync += load_crc.eq(crc16_update(load_crc, buf_r.data))
                with m.If(j == size):
                    m.d.sync += j.eq(0)
                    m.next = "CHECK"

            # The record's checks, registered: they are the longest logic here.
            rec_ok = Signal()
            count_bad = Signal()
            commit_ok = Signal()
            last_rec = Signal()
            with m.State("CHECK"):
                m.d.comb += buffer_busy.eq(1)
                m.d.sync += [c_end.eq(c_addr + Mux(is_write, 1, r_count)),
                             lo.eq(lo_c), hi.eq(hi_c), known.eq(known_c),
                             where_ok.eq((c_core < p.n_cores) & (c_region < 16)),
                             spike_ok.eq((s_x < p.cols) & (s_y < p.rows) &
                                         (s_axon < p.core.n_axons)),
                             count_bad.eq((r_count == 0) | (r_count > max_read)),
                             commit_ok.eq((rec[0:32] == writes) & (rec[32:48] == load_crc)),
                             last_rec.eq(i + 1 == n_rec)]
                m.next = "BOUNDS"

            with m.State("BOUNDS"):
                m.d.comb += buffer_busy.eq(1)
                m.d.sync += rec_ok.eq(Mux(is_write | is_op[Op.READ], addr_ok, spike_ok))
                m.next = "RECORD"

            with m.State("RECORD"):
                m.d.comb += buffer_busy.eq(1)
                with m.If(is_op[Op.WRITE] | is_op[Op.SPIKES]):
                    with m.If(applying):
                        m.next = "PUSH"
                    with m.Elif(~rec_ok & is_write):
                        error(Error.BAD_ADDRESS, index=i, value=rec[0:32])
                    with m.Elif(~rec_ok):
                        error(Error.BAD_SPIKE, index=i, value=rec[0:32])
                    with m.Elif(last_rec):
                        m.d.sync += [applying.eq(1), i.eq(0), rd_ptr.eq(0)]
                        m.next = "LOAD"
                    with m.Else():
                        m.d.sync += i.eq(i + 1)
                        m.next = "LOAD"
                with m.Elif(is_op[Op.READ]):
                    with m.If(count_bad):
                        error(Error.BAD_LENGTH, value=r_count)
                    with m.Elif(~rec_ok):
                        error(Error.BAD_ADDRESS, value=rec[0:32])
                    with m.Else():
                        m.d.sync += [read_core.eq(w_core), read_region.eq(w_region),
                                     read_addr.eq(w_addr), read_count.eq(r_count)]
                        start_reply(rx_op | REPLY, r_count * 4, _Kind.READ)
                        m.next = "REPLY"
                with m.Elif(is_op[Op.RUN]):
                    m.d.sync += [steps_left.eq(rec[0:32]), stepping.eq(rec[0:32] != 0),
                                 run_events.eq(0),
                                 last_seq.eq(rx_seq)]
                    m.next = "RUN"
                with m.Elif(is_op[Op.COMMIT]):
                    with m.If(commit_ok):
                        m.d.sync += [loaded.eq(1), last_seq.eq(rx_seq)]
                        ok()
                    with m.Else():
                        error(Error.LOAD_MISMATCH, index=load_crc, value=writes)

            with m.State("PUSH"):
                m.d.comb += buffer_busy.eq(1)
                m.d.comb += [cfg_o.valid.eq(is_write), ext_o.valid.eq(~is_write)]
                with m.If(Mux(is_write, cfg_o.ready, ext_o.ready)):
                    m.d.sync += i.eq(i + 1)
                    m.next = "LOAD"
                    with m.If(last_rec):
                        m.d.sync += last_seq.eq(rx_seq)
                        with m.If(is_write):
                            m.d.sync += [writes.eq(writes + n_rec), loaded.eq(0)]
                        m.next = "FLUSH"

            with m.State("FLUSH"):
                with m.If(stages_empty):
                    ok()

            with m.State("RUN"):
                m.d.comb += self.tick.valid.eq(stepping)
                with m.If(self.tick.valid & self.tick.ready):
                    m.d.sync += [steps_left.eq(steps_left - 1), stepping.eq(steps_left != 1)]
                with m.If(tx_drained):
                    with m.If(ev_n != 0):
                        m.d.sync += [ev_count.eq(ev_n), run_events.eq(run_events + ev_n)]
                        start_reply(EVENTS, ev_bytes, _Kind.EVENTS)
                    with m.Elif(~stepping & ~chip_busy & ~self.ext_out.valid):
                        ok(8, _Kind.DONE)

            with m.State("REPLY"):
                with m.If(tx_drained):
                    m.next = "IDLE"

        m.d.comb += [activity[1].eq(tx.valid), activity[2].eq(chip_busy)]
        # Registered: the LEDs need no speed, and the chip's `busy` is a long path.
        m.d.sync += self.activity.eq(activity)
        return m

"""Chip-wide paths in registered stages, for chips that span a large FPGA.

On an ECP5-85F a signal that crosses the die spends 5 to 7 ns in routing, so
at 100 MHz a clock can afford one such crossing with little logic on either
side. The pieces here keep every long path to a register, a route and a few
LUT levels:

* :class:`MergeNode` merges streams round-robin with a two-entry buffer on
  each input, so the arbiter reads and releases only registers beside it;
* :func:`registered_any` ORs bits from all over the chip in a tree of
  registers, one level per tile, per row and for the chip;
* :class:`IdleConfirm` turns such a delayed OR into a sound "everything is
  idle now" (see its docstring for the argument).
"""

from amaranth import Cat, Module, Signal, Value
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from .arbiter import RoundRobin

__all__ = ["MergeNode", "registered_any", "IdleConfirm"]


class MergeNode(wiring.Component):
    """Merges ``count`` streams of ``shape`` into one, round-robin, one item per clock.

    Each input goes into a two-entry buffer here; ``output`` is a register. The
    only paths that leave the node are a buffer's registered ``ready`` and the
    output's registered ``valid`` and payload. ``busy`` is high while an item
    is inside.
    """

    def __init__(self, shape, count):
        if count < 1:
            self._MustUse__silence = True       # refused, so never meant to be elaborated
            raise ValueError(f"count must be at least 1, not {count}")
        self.shape, self.count = shape, count
        members = {f"in_{i}": In(stream.Signature(shape)) for i in range(count)}
        members["output"] = Out(stream.Signature(shape))
        members["busy"] = Out(1)
        super().__init__(members)

    def inputs(self):
        return [getattr(self, f"in_{i}") for i in range(self.count)]

    def elaborate(self, platform):
        m = Module()
        width = len(Value.cast(self.output.payload))
        bufs = []
        for i, port in enumerate(self.inputs()):
            m.submodules[f"buf_{i}"] = buf = fifo.SyncFIFOBuffered(width=width, depth=2)
            m.d.comb += [buf.w_en.eq(port.valid), buf.w_data.eq(port.payload),
                         port.ready.eq(buf.w_rdy)]
            bufs.append(buf)
        m.submodules.arbiter = arbiter = RoundRobin(self.count)
        out = self.output
        free = ~out.valid | out.ready
        m.d.comb += [arbiter.requests.eq(Cat(b.r_rdy for b in bufs)),
                     arbiter.advance.eq(free)]
        with m.If(out.ready):
            m.d.sync += out.valid.eq(0)
        for i, buf in enumerate(bufs):
            m.d.comb += buf.r_en.eq(free & arbiter.grant[i])
            with m.If(free & arbiter.grant[i]):
                m.d.sync += [out.valid.eq(1), out.payload.eq(buf.r_data)]
        m.d.comb += self.busy.eq(out.valid | Cat(b.r_rdy for b in bufs).any())
        return m


def registered_any(m, name, groups, central=()):
    """A register that is high a few clocks after any bit of ``groups`` or ``central`` was.

    ``groups`` is a list of rows, each a list of tiles, each a list of one-bit
    values. A tile's bits are ORed into a register, then a row's tiles, then
    the rows and ``central`` together. A bit is seen after 3 clocks
    (1 for ``central``); :data:`registered_any.LATENCY` is the longest.
    """
    rows = []
    for r, row in enumerate(groups):
        tiles = []
        for t, bits in enumerate(row):
            tile = Signal(name=f"{name}_tile_{r}_{t}")
            m.d.sync += tile.eq(Cat(*bits).any() if bits else 0)
            tiles.append(tile)
        row_any = Signal(name=f"{name}_row_{r}")
        m.d.sync += row_any.eq(Cat(*tiles).any())
        rows.append(row_any)
    out = Signal(name=f"{name}_any")
    m.d.sync += out.eq(Cat(*rows, *central).any())
    return out


registered_any.LATENCY = 3


class IdleConfirm(wiring.Component):
    """``idle`` from a delayed OR of every busy bit of a chip.

    ``busy`` is :func:`registered_any` over every register that can hold work,
    so each bit reaches it between 1 and ``latency`` clocks late; ``event`` is
    high in a clock in which the chip takes anything in (an input, a tick).
    ``idle`` is high once ``busy`` has been low, and nothing has been taken, for
    the last ``latency + 2`` clocks.

    Why that is enough: say the run covers clocks ``c - latency - 2`` to
    ``c - 1``. A bit seen ``l`` clocks late was then low from
    ``c - latency - 2 - l`` to ``c - 1 - l``, and for every ``l`` from 1 to
    ``latency`` that span holds clock ``s = c - latency - 1``. So at clock ``s``
    every bit was low at once: nothing held work. An idle chip that takes
    nothing in stays idle, and nothing was taken from ``s`` on, so it is idle at
    ``c``. Taking something in clears the run in the same clock, so a tick or a
    packet is never mistaken for idle time. (``latency + 1`` clocks would do;
    the one more is margin.)
    """

    def __init__(self, latency):
        self.latency = latency
        super().__init__({"busy": In(1), "event": In(1), "idle": Out(1)})

    def elaborate(self, platform):
        m = Module()
        goal = self.latency + 2
        run = Signal(range(goal + 1))
        with m.If(self.busy | self.event):
            m.d.sync += run.eq(0)
        with m.Elif(run != goal):
            m.d.sync += run.eq(run + 1)
        m.d.comb += self.idle.eq(run == goal)
        return m

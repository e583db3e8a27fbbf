"""``SimLink``: a byte link to a board top simulated in the Amaranth simulator.

The host runtime writes protocol bytes and reads the replies exactly as it
does over a serial port; underneath, the bytes go through the RTL host
interface and chip, cycle by cycle. With ``uart=True`` they also cross the
board's UART lines bit by bit (through a host-side UART, as the FTDI chip
would), so the whole board top is in the loop.

Simulated time only moves while the host waits for bytes, so a link with no
traffic costs nothing.
"""

import collections

from amaranth import Elaboratable, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.sim import Simulator

from rtl.soc import HostTop, host_and_chip
from rtl.uart import UARTRx, UARTTx

__all__ = ["SimLink"]

PERIOD = 1e-8


class _Harness(Elaboratable):
    """A byte stream in and out of a board top, with or without the UART lines."""

    def __init__(self, chip_params, *, uart, divisor, max_payload, cycle_counters, gating):
        self.chip_params, self.uart, self.divisor = chip_params, uart, divisor
        self.max_payload, self.cycle_counters = max_payload, cycle_counters
        self.gating = gating
        self.to_board = stream.Signature(8).flip().create()
        self.from_board = stream.Signature(8).create()
        self.timestep = Signal(32)

    def elaborate(self, platform):
        m = Module()
        if self.uart:
            baud = 1_000_000
            m.submodules.top = top = HostTop(self.chip_params, clk_hz=baud * self.divisor,
                                             baud=baud, max_payload=self.max_payload,
                                             cycle_counters=self.cycle_counters,
                                             gating=self.gating)
            m.submodules.pc_tx = pc_tx = UARTTx(self.divisor)
            m.submodules.pc_rx = pc_rx = UARTRx(self.divisor)
            m.d.comb += [top.rx.eq(pc_tx.tx), pc_rx.rx.eq(top.tx)]
            wiring.connect(m, wiring.flipped(self.to_board), pc_tx.data)
            wiring.connect(m, pc_rx.data, wiring.flipped(self.from_board))
        else:
            host, chip = host_and_chip(m, self.chip_params, max_payload=self.max_payload,
                                       cycle_counters=self.cycle_counters, gating=self.gating)
            m.d.comb += self.timestep.eq(chip.timestep)
            wiring.connect(m, wiring.flipped(self.to_board), host.rx)
            wiring.connect(m, host.tx, wiring.flipped(self.from_board))
        return m


class SimLink:
    """A simulated board as a byte link: ``write(bytes)``, ``read(n, timeout)``.

    ``timeout`` is in seconds of simulated time at the link's 100 MHz
    simulation clock. ``cycles`` counts the clock cycles simulated so far.
    """

    def __init__(self, chip_params, *, uart=False, divisor=4, max_payload=512,
                 cycle_counters=True, gating=None):
        self.chip_params = chip_params
        self.uart = uart
        self.divisor = divisor
        self.clk_hz = 1 / PERIOD
        self.baud = None if not uart else self.clk_hz / divisor
        self._dut = _Harness(chip_params, uart=uart, divisor=divisor, max_payload=max_payload,
                             cycle_counters=cycle_counters, gating=gating)
        self._out = collections.deque()
        self._in = collections.deque()
        self._sim = Simulator(self._dut)
        self._sim.add_clock(PERIOD)
        self._sim.add_testbench(self._pump, background=True)
        self._now = 0.0
        self.cycles = 0

    async def _pump(self, ctx):
        to_board, from_board = self._dut.to_board, self._dut.from_board
        ctx.set(from_board.ready, 1)
        offering = False
        while True:
            if self._out and not offering:
                ctx.set(to_board.payload, self._out[0])
                ctx.set(to_board.valid, 1)
                offering = True
            _, _, accepted, valid, data = await ctx.tick().sample(
                to_board.ready, from_board.valid, from_board.payload)
            if offering and accepted:
                self._out.popleft()
                offering = False
                ctx.set(to_board.valid, 0)
            if valid:
                self._in.append(data)

    def _run(self, cycles):
        self._now += cycles * PERIOD
        self._sim.run_until(self._now)
        self.cycles += cycles

    def write(self, data):
        self._out.extend(bytes(data))

    def read(self, n=1, timeout=1e-3):
        """Up to ``n`` bytes; fewer (maybe none) if ``timeout`` passes first."""
        budget = int(timeout / PERIOD)
        chunk = 64 if not self.uart else 10 * self.divisor
        while len(self._in) < n and budget > 0:
            step = min(chunk, budget)
            self._run(step)
            budget -= step
        out = bytes(self._in.popleft() for _ in range(min(n, len(self._in))))
        return out

    def close(self):
        pass

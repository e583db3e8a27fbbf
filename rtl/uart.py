"""A small 8N1 UART: ``UARTTx``, ``UARTRx`` and ``uart_divisor``.

The host interface talks to a PC through the board's FTDI UART. Frames are
one start bit (0), eight data bits LSB first and one stop bit (1); the line
idles high. ``divisor`` is the number of clock cycles per bit, fixed at
elaboration; :func:`uart_divisor` derives it from the clock and baud rates.
"""

import numbers

from amaranth import Cat, Module, Signal
from amaranth.lib import cdc, stream, wiring
from amaranth.lib.wiring import In, Out

from golden_model.params import check_int

__all__ = ["MIN_DIVISOR", "MAX_DIVISOR", "BAUD_TOLERANCE", "uart_divisor", "UARTTx", "UARTRx"]

#: The receiver needs a half-bit re-check of at least 2 cycles to reject a one-cycle
#: glitch; 16-bit counters bound the other end.
MIN_DIVISOR = 4
MAX_DIVISOR = 0xFFFF
#: The receiver samples at bit centres, so the two ends may drift apart by almost half a
#: bit over the 9.5 bits to the stop bit's centre (nearly 5% at large divisors); 2% on
#: our side leaves the rest to the PC's end.
BAUD_TOLERANCE = 0.02

_COUNTER_MAX = 0xFFFF


def _check_divisor(divisor):
    return check_int("divisor", divisor, MIN_DIVISOR, MAX_DIVISOR)


def _plain(value):
    """``12000000.0`` reads as ``12000000`` in messages."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def uart_divisor(clk_hz, baud):
    """Clock cycles per bit, ``round(clk_hz / baud)``, for a clock of ``clk_hz`` Hz.

    Raises ``ValueError`` when the divisor is outside ``MIN_DIVISOR..MAX_DIVISOR`` or the
    achieved baud rate is more than ``BAUD_TOLERANCE`` (2%) away from ``baud``.
    """
    for name, value in (("clk_hz", clk_hz), ("baud", baud)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, not {value!r}")
        # Written so that NaN fails too.
        if not 0 < value < float("inf"):
            raise ValueError(f"{name} must be a positive finite number, not {value!r}")
    clk, rate = _plain(clk_hz), _plain(baud)
    divisor = round(clk_hz / baud)
    if not MIN_DIVISOR <= divisor <= MAX_DIVISOR:
        raise ValueError(f"baud = {rate} needs a divisor of {divisor} from a {clk} Hz clock, "
                         f"but divisor must be between {MIN_DIVISOR} and {MAX_DIVISOR}")
    achieved = clk_hz / divisor
    error = abs(achieved - baud) / baud
    if error > BAUD_TOLERANCE:
        raise ValueError(f"baud = {rate} cannot be reached from a {clk} Hz clock within "
                         f"{BAUD_TOLERANCE:.0%}: divisor {divisor} gives {achieved:.0f} baud, "
                         f"{error:.1%} off")
    return divisor


class UARTTx(wiring.Component):
    """UART transmitter, ``divisor`` clock cycles per bit.

    Ports
    -----
    data : In(stream of 8 bits)
        The byte to send. Taken when idle, and in the last cycle of a stop bit, so
        back-to-back bytes leave every ``10 * divisor`` cycles with no idle gap.
    tx : Out(1, init=1)
        The serial line, driven from a register so it never glitches.
    busy : Out(1)
        High while a frame is on the line.
    """

    data: In(stream.Signature(8))
    tx: Out(1, init=1)
    busy: Out(1)

    def __init__(self, divisor):
        try:
            self.divisor = _check_divisor(divisor)
        except (TypeError, ValueError):
            # A rejected transmitter was never meant to be elaborated; don't warn that it wasn't.
            self._MustUse__silence = True
            raise
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        timer = Signal(range(d))
        # Bits still to send after the one on the line: 8 data bits and the stop bit.
        left = Signal(range(10))
        # The stop bit rides in the top bit, so it shifts out like any data bit.
        shreg = Signal(9)
        bit_done = timer == 0
        m.d.comb += self.data.ready.eq(~self.busy | (bit_done & (left == 0)))
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [self.tx.eq(0), shreg.eq(Cat(self.data.payload, 1)),
                         left.eq(9), timer.eq(d - 1), self.busy.eq(1)]
        with m.Elif(self.busy):
            with m.If(~bit_done):
                m.d.sync += timer.eq(timer - 1)
            with m.Elif(left == 0):
                # The stop bit is already high, which is the idle level.
                m.d.sync += self.busy.eq(0)
            with m.Else():
                m.d.sync += [self.tx.eq(shreg[0]), shreg.eq(shreg >> 1),
                             left.eq(left - 1), timer.eq(d - 1)]
        return m


class UARTRx(wiring.Component):
    """UART receiver, ``divisor`` clock cycles per bit.

    A falling edge starts a frame. The start bit is checked again half a bit
    later, so a shorter glitch is ignored; data bits and the stop bit are sampled at
    their centres. No byte is ever lost without a count:

    - a stop bit of 0 drops the byte and counts a frame error; since only a
      falling edge starts a frame, the receiver waits for the line to go high
      before the next start bit can be seen;
    - a byte that completes while the previous one is still waiting in ``data``
      is dropped and counted as an overrun; the waiting byte is kept.

    Ports
    -----
    rx : In(1, init=1)
        The serial line, asynchronous to the clock.
    data : Out(stream of 8 bits)
        Received bytes; holds one byte until taken.
    frame_errors, overruns : Out(16)
        Counters of dropped bytes, saturating at 0xFFFF.
    """

    rx: In(1, init=1)
    data: Out(stream.Signature(8))
    frame_errors: Out(16)
    overruns: Out(16)

    def __init__(self, divisor):
        try:
            self.divisor = _check_divisor(divisor)
        except (TypeError, ValueError):
            # A rejected receiver was never meant to be elaborated; don't warn that it wasn't.
            self._MustUse__silence = True
            raise
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        # init=1 so that reset does not look like a start bit.
        line = Signal(init=1)
        m.submodules.sync_rx = cdc.FFSynchronizer(self.rx, line, init=1)
        last = Signal(init=1)
        m.d.sync += last.eq(line)

        timer = Signal(range(d))
        left = Signal(range(8))
        shreg = Signal(8)

        # Before the FSM, so that a byte stored in the same cycle wins.
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += self.data.valid.eq(0)

        with m.FSM():
            with m.State("HUNT"):
                with m.If(last & ~line):
                    # The edge is seen up to a cycle after it happened, so the centre
                    # samples land d // 2 to d // 2 + 1 cycles into each bit.
                    m.d.sync += timer.eq(d // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    with m.If(line):
                        m.next = "HUNT"
                    with m.Else():
                        m.d.sync += [timer.eq(d - 1), left.eq(7)]
                        m.next = "DATA"
            with m.State("DATA"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    # LSB first: after eight shifts the first bit sits at bit 0.
                    m.d.sync += [shreg.eq(Cat(shreg[1:], line)), timer.eq(d - 1),
                                 left.eq(left - 1)]
                    with m.If(left == 0):
                        m.next = "STOP"
            with m.State("STOP"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    with m.If(~line):
                        with m.If(self.frame_errors != _COUNTER_MAX):
                            m.d.sync += self.frame_errors.eq(self.frame_errors + 1)
                        # No need to wait for the line to rise here: HUNT starts only on
                        # a falling edge, which a line held low cannot give.
                        m.next = "HUNT"
                    with m.Else():
                        with m.If(self.data.valid & ~self.data.ready):
                            with m.If(self.overruns != _COUNTER_MAX):
                                m.d.sync += self.overruns.eq(self.overruns + 1)
                        with m.Else():
                            m.d.sync += [self.data.payload.eq(shreg), self.data.valid.eq(1)]
                        m.next = "HUNT"
        return m

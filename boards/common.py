"""Pin glue that every board shares: the LED pulse stretcher and :class:`BoardTop`.

A board top owns the clock (the board oscillator through a PLL into ``sync``,
with reset held until the PLL locks), the FTDI UART pins and the activity
LEDs, and puts :class:`rtl.soc.HostTop` between them. A board module
subclasses :class:`BoardTop` and supplies its PLL and its LED map.
"""

import math

from amaranth import ClockDomain, ClockSignal, Const, Elaboratable, Module, Signal
from amaranth.lib import io, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

__all__ = ["PulseStretcher", "BoardTop", "PLL_TOLERANCE", "pll_out_of_reach"]

#: A PLL setting is accepted when it is within this fraction of the requested frequency.
PLL_TOLERANCE = 0.01

#: The iCE40's BRAMs read as zero for about 3 us after configuration; 15 us after
#: lock leaves a margin of five for every family.
_RESET_HOLD_S = 15e-6


def pll_out_of_reach(board, requested_mhz, input_mhz, nearest_mhz):
    """The ``ValueError`` for a PLL request that no setting meets within :data:`PLL_TOLERANCE`."""
    return ValueError(
        f"{board}: the PLL cannot make {requested_mhz:g} MHz from the {input_mhz:g} MHz board "
        f"clock within {PLL_TOLERANCE:.0%}; the nearest it can make is {nearest_mhz:.3f} MHz")


class PulseStretcher(wiring.Component):
    """Turn one-cycle pulses into LED blinks that a person can see.

    Each bit of ``pulse`` lights its bit of ``led`` for ``on_ticks`` ticks and
    then keeps it dark for ``off_ticks`` ticks; a pulse that arrives meanwhile
    is remembered and starts the next blink. Steady traffic therefore flickers
    instead of glowing, and a single pulse always gives one whole blink. A
    blink starts within a cycle of its pulse; its first tick may come at once,
    so it lasts between ``on_ticks - 1`` and ``on_ticks`` ticks.

    One prescaler of ``tick_cycles`` clocks is shared by every bit, so a bit
    costs a small down-counter and three flags: LCs are scarce on an iCE40.

    Ports: ``pulse`` : In(width), ``led`` : Out(width).
    """

    def __init__(self, width, *, tick_cycles, on_ticks=4, off_ticks=4):
        for name, value, lo in (("width", width, 1), ("tick_cycles", tick_cycles, 1),
                                ("on_ticks", on_ticks, 1), ("off_ticks", off_ticks, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < lo:
                self._MustUse__silence = True      # rejected, not left unused
                raise ValueError(f"{name} must be an integer of at least {lo}, not {value!r}")
        self.width = width
        self.tick_cycles = tick_cycles
        self.on_ticks = on_ticks
        self.off_ticks = off_ticks
        super().__init__({"pulse": In(width), "led": Out(width)})

    @classmethod
    def for_clock(cls, width, clk_hz, *, on_ms=40, off_ms=40):
        """A stretcher for ``clk_hz`` whose blinks last about ``on_ms`` with ``off_ms`` gaps.

        The tick is the power of two of cycles nearest 10 ms, so the prescaler
        needs no comparator.
        """
        tick_cycles = 1 << max(0, round(math.log2(clk_hz / 100)))
        tick_ms = 1000 * tick_cycles / clk_hz
        return cls(width, tick_cycles=tick_cycles, on_ticks=max(1, round(on_ms / tick_ms)),
                   off_ticks=max(0, round(off_ms / tick_ms)))

    def elaborate(self, platform):
        m = Module()

        tick = Signal()
        if self.tick_cycles == 1:
            m.d.comb += tick.eq(1)
        else:
            prescaler = Signal(range(self.tick_cycles))
            m.d.comb += tick.eq(prescaler == self.tick_cycles - 1)
            if self.tick_cycles & (self.tick_cycles - 1):
                with m.If(tick):
                    m.d.sync += prescaler.eq(0)
                with m.Else():
                    m.d.sync += prescaler.eq(prescaler + 1)
            else:
                m.d.sync += prescaler.eq(prescaler + 1)     # wraps by itself

        for bit in range(self.width):
            pending = Signal(name=f"pending_{bit}")
            lit = Signal(name=f"lit_{bit}")
            busy = Signal(name=f"busy_{bit}")        # lit, or in the dark gap after it
            count = Signal(range(max(self.on_ticks, self.off_ticks, 1)), name=f"count_{bit}")
            m.d.comb += self.led[bit].eq(lit)
            with m.If(self.pulse[bit]):
                m.d.sync += pending.eq(1)
            with m.If(~busy):
                with m.If(pending | self.pulse[bit]):
                    m.d.sync += [pending.eq(0), lit.eq(1), busy.eq(1),
                                 count.eq(self.on_ticks - 1)]
            with m.Elif(tick):
                with m.If(count != 0):
                    m.d.sync += count.eq(count - 1)
                with m.Elif(lit):
                    m.d.sync += lit.eq(0)
                    if self.off_ticks:
                        m.d.sync += count.eq(self.off_ticks - 1)
                    else:
                        m.d.sync += busy.eq(0)
                with m.Else():
                    m.d.sync += busy.eq(0)
        return m


class BoardTop(Elaboratable):
    """The top of a board build: clock, reset, UART pins, LEDs, and ``HostTop``.

    ``chip_params`` is a :class:`golden_model.chip.ChipParams`; ``clk_mhz``
    the target clock (the board's default when ``None``); ``baud`` the UART
    rate. The PLL setting is chosen here, so an unreachable clock fails before
    anything is elaborated; ``clk_hz`` is the frequency the PLL really makes,
    and it is what ``HostTop`` is told.

    A subclass sets:

    * ``title``: the board's name in messages;
    * ``input_mhz``: the frequency of the platform's default clock;
    * ``default_clk_mhz``: the clock used when ``clk_mhz`` is ``None``;
    * ``activity_leds``: one ``(resource, number)`` per ``HostTop.activity`` bit, or ``None``;
    * ``synapse_ram``: ``"spram"`` where the device has SPRAM for the synapse tables;
    * ``cycle_counters``: False where the device is too small to spend six 32-bit
      counters on cycle statistics (see :class:`~rtl.chip.Chip`);
    * ``deep_pipeline``: True where block RAM outputs are too slow for a mux behind
      them at the target clock (see :class:`~rtl.chip.Chip`);
    * ``plan_pll(clk_mhz)``: a PLL setting object with ``out_mhz`` and ``as_dict()``,
      or ``None`` to run ``sync`` straight from the board clock;
    * ``elaborate_pll(m, platform, pll)``: returns the ``(clock, locked)`` signals.
    """

    title = None
    input_mhz = None
    default_clk_mhz = None
    activity_leds = ()
    synapse_ram = "dual"
    cycle_counters = True
    deep_pipeline = False

    def __init__(self, chip_params, *, clk_mhz=None, baud=115200, gating=None):
        from golden_model.chip import ChipParams
        from golden_model.power import PowerPolicy

        try:
            if not isinstance(chip_params, ChipParams):
                raise TypeError(f"chip_params must be a ChipParams, not {chip_params!r}")
            if gating is not None and not isinstance(gating, PowerPolicy):
                raise TypeError(f"gating must be a PowerPolicy or None, not {gating!r}")
            if clk_mhz is None:
                clk_mhz = self.default_clk_mhz
            if (isinstance(clk_mhz, bool) or not isinstance(clk_mhz, (int, float))
                    or not clk_mhz > 0):
                raise ValueError(f"clk_mhz must be a positive number of MHz, not {clk_mhz!r}")
            if isinstance(baud, bool) or not isinstance(baud, int) or baud <= 0:
                raise ValueError(f"baud must be a positive integer, not {baud!r}")
            self.pll = self.plan_pll(float(clk_mhz))
        except Exception:
            self._MustUse__silence = True      # rejected, not left unused
            raise
        self.chip_params = chip_params
        self.gating = gating
        self.clk_mhz = float(clk_mhz)
        self.baud = baud
        out_mhz = self.input_mhz if self.pll is None else self.pll.out_mhz
        self.clk_hz = int(round(out_mhz * 1e6))

    def plan_pll(self, clk_mhz):
        raise NotImplementedError

    def elaborate_pll(self, m, platform, pll):
        raise NotImplementedError

    def pll_report(self):
        """The PLL setting as a dict for the build report, or ``None`` without a PLL."""
        return None if self.pll is None else self.pll.as_dict()

    def gating_report(self, platform):
        """How the cores are clock-gated on ``platform``, for the build report: the gate's
        backend (as ``auto`` picks it there) and the policy they start from; ``None`` for
        a chip without gating."""
        from rtl.clock_gate import backends_for
        if self.gating is None:
            return None
        return {"backend": backends_for(platform)[0], "cores": self.chip_params.n_cores,
                "window": self.gating.window, "low_pct": self.gating.low_pct,
                "mid_pct": self.gating.mid_pct}

    def elaborate(self, platform):
        from rtl.soc import HostTop

        m = Module()

        if self.pll is None:
            clk_port = platform.request(platform.default_clk, dir="-")
            m.submodules.clk_buf = clk_buf = io.Buffer("i", clk_port)
            clk, locked = clk_buf.i, Const(1)
        else:
            clk, locked = self.elaborate_pll(m, platform, self.pll)

        # No clock constraint is added for the PLL's output: nextpnr derives it from the
        # board clock's constraint and the PLL's dividers, on both families.
        m.domains.sync = cd_sync = ClockDomain("sync")
        m.d.comb += cd_sync.clk.eq(clk)

        # Reset is held from configuration until the PLL has been locked for _RESET_HOLD_S.
        # The counter lives in a reset-less domain on the same clock: it cannot reset itself.
        m.domains.por = ClockDomain("por", reset_less=True, local=True)
        m.d.comb += ClockSignal("por").eq(clk)
        hold = max(1, int(_RESET_HOLD_S * self.clk_hz))
        locked_s = Signal()
        m.submodules.lock_sync = FFSynchronizer(locked, locked_s, o_domain="por")
        timer = Signal(range(hold + 1))
        # Registered, so the reset's wide fanout starts from a flip-flop.
        rst = Signal(init=1)
        with m.If(~locked_s):
            m.d.por += timer.eq(0)
        with m.Elif(timer != hold):
            m.d.por += timer.eq(timer + 1)
        m.d.por += rst.eq(timer != hold)
        m.d.comb += cd_sync.rst.eq(rst)

        m.submodules.host = host = HostTop(self.chip_params, clk_hz=self.clk_hz, baud=self.baud,
                                           synapse_ram=self.synapse_ram,
                                           cycle_counters=self.cycle_counters,
                                           deep_pipeline=self.deep_pipeline,
                                           gating=self.gating)

        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_rx = rx_buf = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = tx_buf = io.Buffer("o", uart.tx)
        # HostTop's receiver synchronises the line itself.
        m.d.comb += [host.rx.eq(rx_buf.i), tx_buf.o.eq(host.tx)]

        leds = [(bit, spec) for bit, spec in enumerate(self.activity_leds) if spec is not None]
        if leds:
            m.submodules.stretcher = stretcher = PulseStretcher.for_clock(len(leds), self.clk_hz)
            for index, (bit, (name, number)) in enumerate(leds):
                led_buf = io.Buffer("o", platform.request(name, number, dir="-"))
                m.submodules[f"led_{bit}"] = led_buf
                m.d.comb += [stretcher.pulse[index].eq(host.activity[bit]),
                             led_buf.o.eq(stretcher.led[index])]
        return m

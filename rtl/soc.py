"""``HostTop``: what goes on a board: UART, host interface and chip.

It has two serial lines and four activity outputs, so a board file only adds
pins, a PLL and LEDs. ``RESET`` from the host resets the chip's registers
(timestep, counters, FIFOs, phases); the memories keep their contents until
the host loads a network again, which a reset also demands: the host
interface clears its *loaded* flag.
"""

from amaranth import (ClockDomain, ClockSignal, Const, DomainRenamer, Instance, Module,
                      ResetInserter, Signal)
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out

from golden_model.chip import ChipParams
from .chip import Chip
from .host import HostInterface
from .uart import UARTRx, UARTTx, uart_divisor

__all__ = ["HostTop", "host_and_chip"]


class HostTop(wiring.Component):
    """A chip with ``ChipParams`` ``chip_params`` behind the host protocol on a UART.

    Parameters
    ----------
    chip_params : ChipParams
    clk_hz : int
        The frequency of the ``sync`` domain.
    baud : int
        UART rate (default 115200); it must be reachable from ``clk_hz`` within 2%.
    max_payload : int
        The host interface's receive buffer (default 512 bytes).
    synapse_ram : str
        ``"dual"`` or ``"spram"``, for every core (see :class:`~rtl.lif_core.LIFCore`).
    cycle_counters : bool
        Build the chip's cycle counters (default True; see :class:`~rtl.chip.Chip`).
    deep_pipeline : bool
        Build the chip with its deeper pipeline (default False; see
        :class:`~rtl.chip.Chip`), and put a buffer before the UART transmitter.

    Ports
    -----
    rx : In(1)
        UART line from the PC.
    tx : Out(1)
        UART line to the PC.
    activity : Out(4)
        Bit 0: a frame was accepted; 1: a byte is being sent; 2: the chip is
        busy; 3: an error reply starts.
    """

    rx: In(1, init=1)
    tx: Out(1, init=1)
    activity: Out(4)

    def __init__(self, chip_params, *, clk_hz, baud=115200, max_payload=512,
                 synapse_ram="dual", cycle_counters=True, deep_pipeline=False, gating=None):
        try:
            if not isinstance(chip_params, ChipParams):
                raise TypeError(f"chip_params must be a ChipParams, not {chip_params!r}")
            self.divisor = uart_divisor(clk_hz, baud)
        except (TypeError, ValueError):
            self._MustUse__silence = True
            raise
        self.chip_params = chip_params
        self.clk_hz, self.baud = clk_hz, baud
        self.max_payload = max_payload
        self.synapse_ram = synapse_ram
        self.cycle_counters = cycle_counters
        self.deep_pipeline = deep_pipeline
        self.gating = gating
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.uart_rx = rx = UARTRx(self.divisor)
        m.submodules.uart_tx = tx = UARTTx(self.divisor)
        host, _ = host_and_chip(m, self.chip_params, platform=platform,
                                max_payload=self.max_payload,
                                synapse_ram=self.synapse_ram,
                                cycle_counters=self.cycle_counters,
                                deep_pipeline=self.deep_pipeline, gating=self.gating)
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx),
                     host.line_errors.eq(rx.frame_errors), host.line_overruns.eq(rx.overruns),
                     self.activity.eq(host.activity)]
        wiring.connect(m, rx.data, host.rx)
        if self.deep_pipeline:
            # A two-entry buffer before the transmitter: the reply generator then waits on
            # a register, not on the UART's bit counter.
            m.submodules.tx_buf = tx_buf = fifo.SyncFIFOBuffered(width=8, depth=2)
            m.d.comb += [tx_buf.w_data.eq(host.tx.payload), tx_buf.w_en.eq(host.tx.valid),
                         host.tx.ready.eq(tx_buf.w_rdy),
                         tx.data.payload.eq(tx_buf.r_data), tx.data.valid.eq(tx_buf.r_rdy),
                         tx_buf.r_en.eq(tx.data.ready)]
        else:
            wiring.connect(m, host.tx, tx.data)
        return m


def host_and_chip(m, chip_params, *, platform=None, max_payload=512, synapse_ram="dual",
                  cycle_counters=True, deep_pipeline=False, gating=None):
    """Add a :class:`HostInterface` and the :class:`Chip` behind it to module ``m``.

    ``gating`` (a :class:`~golden_model.power.PowerPolicy`) clock-gates every core under
    its own power controller, starting from that policy.

    Returns ``(host, chip)``; the host's byte streams and line counters are left to
    the caller. ``RESET`` resets the chip's registers a clock later.
    """
    m.submodules.host = host = HostInterface(chip_params, max_payload=max_payload,
                                             cycle_counters=cycle_counters,
                                             gating=gating is not None)
    chip = Chip(chip_params, synapse_ram=synapse_ram, cycle_counters=cycle_counters,
                deep_pipeline=deep_pipeline, gating=gating)
    # The reset reaches every register of the chip, so it is registered.
    chip_reset = Signal()
    if getattr(platform, "family", None) == "ecp5":
        # On an ECP5 it goes out on a global network, to a clock domain of the chip's own
        # on the same clock: in fabric routing a 16-core chip's reset took 21 ns, and
        # ORed with the domain's own reset it would need fabric routing again. The
        # register resets to 1, so the domain's reset still resets the chip.
        reset_r = Signal(init=1)
        m.d.sync += reset_r.eq(host.chip_reset)
        m.submodules.chip_reset_buffer = Instance("DCCA", i_CLKI=reset_r, i_CE=Const(1),
                                                  o_CLKO=chip_reset)
        m.domains.chip = cd_chip = ClockDomain("chip", local=True)
        m.d.comb += [cd_chip.clk.eq(ClockSignal("sync")), cd_chip.rst.eq(chip_reset)]
        m.submodules.chip = DomainRenamer("chip")(chip)
    else:
        m.d.sync += chip_reset.eq(host.chip_reset)
        m.submodules.chip = ResetInserter(chip_reset)(chip)
    m.d.comb += [host.chip_busy.eq(chip.busy),
                 host.timestep.eq(chip.timestep)]
    wiring.connect(m, host.config, chip.config)
    wiring.connect(m, host.debug, chip.debug)
    wiring.connect(m, host.ext_in, chip.ext_in)
    wiring.connect(m, chip.ext_out, host.ext_out)
    wiring.connect(m, host.tick, chip.tick)
    return host, chip

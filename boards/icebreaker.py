"""iCEBreaker (iCE40 UP5K, 12 MHz oscillator): PLL planning and the board top.

The 12 MHz oscillator sits on package pin 35, the pad that feeds the UP5K's
one PLL, so the PLL is an ``SB_PLL40_PAD``. Its ranges come from Lattice's
iCE40 sysCLOCK PLL design guide (simple feedback):

* reference after ``DIVR`` (PFD): 10..133 MHz, ``DIVR`` 0..15;
* VCO ``= PFD * (DIVF + 1)``: 533..1066 MHz, ``DIVF`` 0..127;
* output ``= VCO / 2**DIVQ``: 16..275 MHz, ``DIVQ`` 1..6.

From 12 MHz the PFD range forces ``DIVR = 0``, and the PLL makes no clock
below 16 MHz; a target of 12 MHz runs ``sync`` from the oscillator itself.

LEDs: activity bit 0 (frame accepted) is the board's green LED, bit 3
(protocol error) its red one; bits 1 and 2 (sending, stepping) go to the red
and the first green LED of the break-off PMOD (amaranth-boards' ``led`` 2 and
3), which ships attached to the board.
"""

import dataclasses

from amaranth import Const, Instance, Signal

from .common import PLL_TOLERANCE, BoardTop, pll_out_of_reach

__all__ = ["ICE40PLL", "ice40_pll_settings", "ice40_pll", "ICEBreakerTop"]

PFD_MHZ = (10.0, 133.0)
VCO_MHZ = (533.0, 1066.0)
OUT_MHZ = (16.0, 275.0)
DIVR_MAX, DIVF_MAX, DIVQ_RANGE = 15, 127, (1, 6)
# Loop filter setting by PFD frequency: (upper bound in MHz, FILTER_RANGE).
_FILTER_RANGES = ((17.0, 1), (26.0, 2), (44.0, 3), (66.0, 4), (101.0, 5), (float("inf"), 6))


@dataclasses.dataclass(frozen=True)
class ICE40PLL:
    """One iCE40 ``SB_PLL40_*`` setting with simple feedback; frequencies in MHz."""
    input_mhz: float
    divr: int
    divf: int
    divq: int

    @property
    def pfd_mhz(self):
        return self.input_mhz / (self.divr + 1)

    @property
    def vco_mhz(self):
        return self.pfd_mhz * (self.divf + 1)

    @property
    def out_mhz(self):
        return self.vco_mhz / 2 ** self.divq

    @property
    def filter_range(self):
        return next(code for bound, code in _FILTER_RANGES if self.pfd_mhz < bound)

    def as_dict(self):
        return {"primitive": "SB_PLL40_PAD", "input_mhz": self.input_mhz,
                "out_mhz": self.out_mhz, "pfd_mhz": self.pfd_mhz, "vco_mhz": self.vco_mhz,
                "DIVR": self.divr, "DIVF": self.divf, "DIVQ": self.divq,
                "FILTER_RANGE": self.filter_range}


def ice40_pll_settings(input_mhz):
    """Every setting that keeps the PFD, the VCO and the output in range, from ``input_mhz``."""
    settings = []
    for divr in range(DIVR_MAX + 1):
        pfd = input_mhz / (divr + 1)
        if not PFD_MHZ[0] <= pfd <= PFD_MHZ[1]:
            continue
        for divf in range(DIVF_MAX + 1):
            vco = pfd * (divf + 1)
            if not VCO_MHZ[0] <= vco <= VCO_MHZ[1]:
                continue
            for divq in range(DIVQ_RANGE[0], DIVQ_RANGE[1] + 1):
                if OUT_MHZ[0] <= vco / 2 ** divq <= OUT_MHZ[1]:
                    settings.append(ICE40PLL(input_mhz, divr, divf, divq))
    return settings


def ice40_pll(clk_mhz, *, input_mhz=12.0, board="iCE40", bypass=True):
    """The setting nearest ``clk_mhz``, or ``None`` when the input clock itself is the answer.

    Ties go to the highest PFD (less jitter). Raises ``ValueError`` naming ``board`` when
    nothing comes within :data:`~boards.common.PLL_TOLERANCE`.
    """
    settings = ice40_pll_settings(input_mhz)
    best = min(settings, key=lambda s: (abs(s.out_mhz - clk_mhz), -s.pfd_mhz))
    error = abs(best.out_mhz - clk_mhz)
    if bypass and abs(input_mhz - clk_mhz) <= error:
        if abs(input_mhz - clk_mhz) <= PLL_TOLERANCE * clk_mhz:
            return None
        raise pll_out_of_reach(board, clk_mhz, input_mhz, input_mhz)
    if error > PLL_TOLERANCE * clk_mhz:
        raise pll_out_of_reach(board, clk_mhz, input_mhz, best.out_mhz)
    return best


class ICEBreakerTop(BoardTop):
    """:class:`~boards.common.BoardTop` for the iCEBreaker."""

    title = "iCEBreaker"
    synapse_ram = "spram"          # the UP5K's four SPRAMs hold the synapse tables
    # Six 32-bit cycle counters are about 7% of the UP5K's logic cells, and a full chip
    # routes faster without them; STATUS tells the host they are absent.
    cycle_counters = False
    input_mhz = 12.0
    default_clk_mhz = 12.0
    activity_leds = (("led", 1), ("led", 2), ("led", 3), ("led", 0))

    def plan_pll(self, clk_mhz):
        return ice40_pll(clk_mhz, input_mhz=self.input_mhz, board=self.title)

    def elaborate(self, platform):
        if ("led", 2) not in platform.resources:
            platform.add_resources(platform.break_off_pmod)
        return super().elaborate(platform)

    def elaborate_pll(self, m, platform, pll):
        clk_pad = platform.request(platform.default_clk, dir="-")
        clk = Signal(name="pll_clk")
        locked = Signal(name="pll_locked")
        m.submodules.pll = Instance(
            "SB_PLL40_PAD",
            p_FEEDBACK_PATH="SIMPLE",
            p_DIVR=Const(pll.divr, 4),
            p_DIVF=Const(pll.divf, 7),
            p_DIVQ=Const(pll.divq, 3),
            p_FILTER_RANGE=Const(pll.filter_range, 3),
            i_PACKAGEPIN=clk_pad.io,
            i_RESETB=1,
            i_BYPASS=0,
            o_PLLOUTGLOBAL=clk,
            o_LOCK=locked,
        )
        return clk, locked

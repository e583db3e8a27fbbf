"""ULX3S (ECP5 LFE5U-85F or -12F, 25 MHz oscillator): PLL planning and the board tops.

The PLL is an ``EHXPLLL`` with ``CLKOP`` fed back to ``CLKFB``. Its ranges
come from Lattice's ECP5 sysCLOCK PLL/DLL design guide:

* input 8..400 MHz, ``CLKI_DIV`` 1..128; PFD ``= input / CLKI_DIV``: 3.125..400 MHz;
* output ``= PFD * CLKFB_DIV``: 3.125..400 MHz, ``CLKFB_DIV`` 1..80;
* VCO ``= output * CLKOP_DIV``: 400..800 MHz, ``CLKOP_DIV`` 1..128;
* ``CLKOP_CPHASE = CLKOP_DIV - 1`` gives a zero phase shift.

LEDs: activity bits 0..3 on LEDs D0..D3.
"""

import dataclasses
import math

from amaranth import Instance, Signal
from amaranth.lib import io

from .common import PLL_TOLERANCE, BoardTop, pll_out_of_reach

__all__ = ["ECP5PLL", "ecp5_pll", "ULX3STop", "ULX3S85FTop", "ULX3S12FTop"]

INPUT_MHZ = (8.0, 400.0)
PFD_MHZ = (3.125, 400.0)
VCO_MHZ = (400.0, 800.0)
OUT_MHZ = (3.125, 400.0)
CLKI_DIV_MAX, CLKFB_DIV_MAX, CLKOP_DIV_MAX = 128, 80, 128


@dataclasses.dataclass(frozen=True)
class ECP5PLL:
    """One ECP5 ``EHXPLLL`` setting with ``CLKOP`` feedback; frequencies in MHz."""
    input_mhz: float
    clki_div: int
    clkfb_div: int
    clkop_div: int

    @property
    def pfd_mhz(self):
        return self.input_mhz / self.clki_div

    @property
    def out_mhz(self):
        return self.pfd_mhz * self.clkfb_div

    @property
    def vco_mhz(self):
        return self.out_mhz * self.clkop_div

    @property
    def clkop_cphase(self):
        return self.clkop_div - 1

    def as_dict(self):
        return {"primitive": "EHXPLLL", "input_mhz": self.input_mhz, "out_mhz": self.out_mhz,
                "pfd_mhz": self.pfd_mhz, "vco_mhz": self.vco_mhz,
                "CLKI_DIV": self.clki_div, "CLKFB_DIV": self.clkfb_div,
                "CLKOP_DIV": self.clkop_div, "CLKOP_CPHASE": self.clkop_cphase}


def ecp5_pll(clk_mhz, *, input_mhz=25.0, board="ECP5"):
    """The setting nearest ``clk_mhz``; ties go to the highest PFD, then the VCO nearest 600 MHz.

    Raises ``ValueError`` naming ``board`` when nothing comes within
    :data:`~boards.common.PLL_TOLERANCE`.
    """
    if not INPUT_MHZ[0] <= input_mhz <= INPUT_MHZ[1]:
        raise ValueError(f"{board}: the PLL input must be between {INPUT_MHZ[0]:g} and "
                         f"{INPUT_MHZ[1]:g} MHz, not {input_mhz:g}")
    best, best_key = None, None
    for clki_div in range(1, CLKI_DIV_MAX + 1):
        pfd = input_mhz / clki_div
        if pfd < PFD_MHZ[0]:
            break
        if pfd > PFD_MHZ[1]:
            continue
        for clkfb_div in range(1, CLKFB_DIV_MAX + 1):
            out = pfd * clkfb_div
            if not OUT_MHZ[0] <= out <= OUT_MHZ[1]:
                continue
            # Every CLKOP_DIV that puts the VCO in range; the one nearest 600 MHz is kept.
            lo = max(1, math.ceil(VCO_MHZ[0] / out - 1e-9))
            hi = min(CLKOP_DIV_MAX, math.floor(VCO_MHZ[1] / out + 1e-9))
            if lo > hi:
                continue
            clkop_div = min(range(lo, hi + 1), key=lambda d: abs(out * d - 600.0))
            key = (abs(out - clk_mhz), -pfd, abs(out * clkop_div - 600.0))
            if best_key is None or key < best_key:
                best, best_key = ECP5PLL(input_mhz, clki_div, clkfb_div, clkop_div), key
    if abs(best.out_mhz - clk_mhz) > PLL_TOLERANCE * clk_mhz:
        raise pll_out_of_reach(board, clk_mhz, input_mhz, best.out_mhz)
    return best


class ULX3STop(BoardTop):
    """:class:`~boards.common.BoardTop` for a ULX3S; the subclasses name the device."""

    input_mhz = 25.0
    default_clk_mhz = 25.0
    deep_pipeline = True     # an ECP5 block RAM's output takes 5.8 ns at speed grade 6
    activity_leds = (("led", 0), ("led", 1), ("led", 2), ("led", 3))

    def plan_pll(self, clk_mhz):
        return ecp5_pll(clk_mhz, input_mhz=self.input_mhz, board=self.title)

    def elaborate_pll(self, m, platform, pll):
        clk_pin = platform.request(platform.default_clk, dir="-")
        m.submodules.clk_buf = clk_buf = io.Buffer("i", clk_pin)
        clk = Signal(name="pll_clk")
        locked = Signal(name="pll_locked")
        m.submodules.pll = Instance(
            "EHXPLLL",
            # Loop filter values for the ECP5 PLL in every configuration Lattice's tools emit.
            a_ICP_CURRENT="12",
            a_LPF_RESISTOR="8",
            a_MFG_ENABLE_FILTEROPAMP="1",
            a_MFG_GMCREF_SEL="2",
            a_FREQUENCY_PIN_CLKI=f"{pll.input_mhz:g}",
            a_FREQUENCY_PIN_CLKOP=f"{pll.out_mhz:.6g}",
            p_PLLRST_ENA="DISABLED",
            p_INTFB_WAKE="DISABLED",
            p_STDBY_ENABLE="DISABLED",
            p_DPHASE_SOURCE="DISABLED",
            p_OUTDIVIDER_MUXA="DIVA",
            p_CLKOP_ENABLE="ENABLED",
            p_CLKOP_DIV=pll.clkop_div,
            p_CLKOP_CPHASE=pll.clkop_cphase,
            p_CLKOP_FPHASE=0,
            p_FEEDBK_PATH="CLKOP",
            p_CLKFB_DIV=pll.clkfb_div,
            p_CLKI_DIV=pll.clki_div,
            i_CLKI=clk_buf.i,
            i_CLKFB=clk,
            i_RST=0,
            i_STDBY=0,
            i_PHASESEL0=0,
            i_PHASESEL1=0,
            i_PHASEDIR=0,
            i_PHASESTEP=0,
            i_PHASELOADREG=0,
            i_PLLWAKESYNC=0,
            i_ENCLKOP=0,
            o_CLKOP=clk,
            o_LOCK=locked,
        )
        return clk, locked


class ULX3S85FTop(ULX3STop):
    title = "ULX3S-85F"


class ULX3S12FTop(ULX3STop):
    title = "ULX3S-12F"

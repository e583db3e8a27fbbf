"""Board tops and bitstream builds (iCEBreaker, ULX3S) driven by the YoWASP tools.

:data:`BOARDS` names every board that :func:`boards.build.build` knows. An
entry gives the amaranth-boards platform, the top that goes on it (a
:class:`~boards.common.BoardTop`), the device's resource totals (Lattice
datasheets), the default clock and the bitstream's file suffix.

Resource totals use the build report's names: ``lut`` (4-input LUTs; on the
iCE40 one per logic cell), ``bram`` (EBR blocks: 4 kbit ``SB_RAM40_4K`` on
the iCE40, 18 kbit ``DP16KD`` on the ECP5), ``spram`` (256 kbit
``SB_SPRAM256KA``), ``dsp`` (``SB_MAC16`` or ``MULT18X18D``) and ``pll``.
"""

import dataclasses
import types

from amaranth_boards.icebreaker import ICEBreakerPlatform

from golden_model.chip import ChipParams
from golden_model.params import CoreParams
from amaranth_boards.ulx3s import ULX3S_12F_Platform, ULX3S_85F_Platform

from .icebreaker import ICEBreakerTop
from .ulx3s import ULX3S12FTop, ULX3S85FTop

__all__ = ["Board", "BOARDS", "board"]


@dataclasses.dataclass(frozen=True)
class Board:
    """One buildable board; ``totals`` maps a resource to the device's count."""
    name: str
    title: str
    platform: type
    top: type
    device: str
    device_title: str
    family: str
    totals: types.MappingProxyType
    default_clk_mhz: float
    bitstream_suffix: str
    default_chip: ChipParams


def _chip(rows, cols, n_neurons, n_axons, n_synapses, n_routes, **core):
    return ChipParams(rows=rows, cols=cols, n_routes=n_routes, fifo_depth=2,
                      core=CoreParams(n_neurons=n_neurons, n_axons=n_axons,
                                      n_synapses=n_synapses, **core))


#: The narrow core that the smallest boards hold: one delay slot, 8-bit state, 4-bit weights.
_NARROW = dict(max_delay=1, state_bits=8, weight_bits=4, n_profiles=1, refractory_bits=1)


def _board(name, platform, top, family, totals, suffix, default_chip):
    device_title = {"ice40": "iCE40 " + platform.device[len("iCE40"):],
                    "ecp5": "ECP5 " + platform.device}[family]
    return Board(name=name, title=top.title, platform=platform, top=top,
                 device=platform.device, device_title=device_title, family=family,
                 totals=types.MappingProxyType(totals),
                 default_clk_mhz=top.default_clk_mhz, bitstream_suffix=suffix,
                 default_chip=default_chip)


BOARDS = types.MappingProxyType({
    "icebreaker": _board("icebreaker", ICEBreakerPlatform, ICEBreakerTop, "ice40",
                         {"lut": 5280, "bram": 30, "spram": 4, "dsp": 8, "pll": 1}, ".bin",
                         _chip(1, 1, 16, 16, 64, 16, **_NARROW)),
    # nextpnr places the 12F on the 25F die it is cut from and never stops at 12F's limits,
    # so the build checks these totals itself. The datasheet gives the LUTs as "12K".
    "ulx3s-12f": _board("ulx3s-12f", ULX3S_12F_Platform, ULX3S12FTop, "ecp5",
                        {"lut": 12000, "bram": 32, "spram": 0, "dsp": 28, "pll": 2}, ".bit",
                        _chip(1, 1, 64, 32, 1024, 64, **_NARROW)),
    "ulx3s-85f": _board("ulx3s-85f", ULX3S_85F_Platform, ULX3S85FTop, "ecp5",
                        {"lut": 83640, "bram": 208, "spram": 0, "dsp": 156, "pll": 4}, ".bit",
                        _chip(2, 2, 256, 64, 2048, 256, max_delay=2)),
})


def board(name):
    """The :class:`Board` called ``name``, or a ``ValueError`` that lists the known ones."""
    try:
        return BOARDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown board {name!r}; choose one of "
                         f"{', '.join(sorted(BOARDS))}") from None

"""Load a bitstream into a board with openFPGALoader or iceprog.

Neither programmer comes from PyPI; :func:`program` says where to get one
when none is installed. ``$OPENFPGALOADER`` and ``$ICEPROG`` name a
programmer outside ``PATH``, as they do for Amaranth's platforms.
"""

import os
import pathlib
import shutil
import subprocess

__all__ = ["ProgrammerNotFoundError", "find_programmer", "programmer_command", "program"]

# Per board: the programmers that can load it, in order of preference, and their arguments.
# The iCE40 is reached through its SPI flash, so the iCEBreaker keeps the design across a
# power cycle; the ULX3S is loaded over JTAG into SRAM, and a power cycle restores its flash.
_PROGRAMMERS = {
    "icebreaker": (("openFPGALoader", ("-b", "ice40_generic")), ("iceprog", ())),
    "ulx3s-12f": (("openFPGALoader", ("-b", "ulx3s")),),
    "ulx3s-85f": (("openFPGALoader", ("-b", "ulx3s")),),
}

_HOW_TO_GET = ("openFPGALoader is packaged by most distributions (apt install openfpgaloader, "
               "brew install openfpgaloader) and has binaries on its GitHub releases page; "
               "iceprog comes with the icestorm tools (apt install fpga-icestorm) and with the "
               "OSS CAD Suite; neither is on PyPI")


class ProgrammerNotFoundError(RuntimeError):
    """No programmer for the board is installed."""


def find_programmer(name):
    """The path of programmer ``name`` (``$NAME`` first, then ``PATH``), or ``None``."""
    return shutil.which(os.environ.get(name.upper(), name))


def programmer_command(board_name, bitstream):
    """The command that loads ``bitstream`` into ``board_name``, from the first programmer found."""
    from . import board

    info = board(board_name)
    choices = _PROGRAMMERS[info.name]
    for name, args in choices:
        path = find_programmer(name)
        if path is not None:
            return [path, *args, str(bitstream)]
    names = " or ".join(name for name, _ in choices)
    verdict = "neither was found" if len(choices) > 1 else "it was not found"
    raise ProgrammerNotFoundError(f"programming the {info.title} needs {names}, and {verdict} "
                                  f"on PATH; {_HOW_TO_GET}")


def program(board_name, bitstream):
    """Load ``bitstream`` (a path) into the FPGA of board ``board_name``."""
    from . import board

    info = board(board_name)
    bitstream = pathlib.Path(bitstream)
    if not bitstream.is_file():
        raise FileNotFoundError(f"bitstream {str(bitstream)!r} does not exist")
    if bitstream.suffix != info.bitstream_suffix:
        raise ValueError(f"a {info.title} bitstream ends in {info.bitstream_suffix}, "
                         f"not {bitstream.suffix or 'no suffix'}")
    command = programmer_command(board_name, bitstream)
    result = subprocess.run(command)
    if result.returncode != 0:
        raise RuntimeError(f"{os.path.basename(command[0])} failed with exit code "
                           f"{result.returncode}")

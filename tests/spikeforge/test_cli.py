"""The ``spikeforge`` command line and its demo."""

import re

import numpy as np
import pytest

from golden_model import simulate
from spikeforge.cli import main
from spikeforge.demo import default_network, poisson_inputs, run_demo


def test_demo_golden_only_writes_raster(tmp_path, capsys):
    out = tmp_path / "raster.png"
    assert main(["demo", "--no-rtl", "--neurons", "64", "--steps", "50", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = capsys.readouterr().out
    # The printed counts are the golden model's.
    image = default_network(64, 64, 1)
    golden = simulate(image, poisson_inputs(64, 50, 0.08, 2))
    assert f"{golden.n_spikes} spikes, {golden.n_sops} SOPs" in text


@pytest.mark.cocotb
def test_demo_runs_rtl_bit_exact(tmp_path):
    lines = []
    summary = run_demo(neurons=32, inputs=16, steps=30, rate=0.3, out=str(tmp_path / "r.png"),
                       say=lines.append)
    assert summary["bit_exact"] is True
    assert summary["rtl_spikes"] == summary["spikes"] and summary["rtl_sops"] == summary["sops"]
    assert any("bit-exact" in line for line in lines)


@pytest.mark.parametrize("argv, message", [
    (["--neurons", "5000"], "neurons must be between 16 and 1024, not 5000"),
    (["--inputs", "0"], "inputs must be between 1 and 1024, not 0"),
    (["--steps", "0"], "steps must be between 1 and 100000, not 0"),
    (["--rate", "1.5"], "rate must be between 0 (excluded) and 1, not 1.5"),
])
def test_demo_rejects_bad_arguments(argv, message, capsys):
    assert main(["demo", "--no-rtl", "--out", ""] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(re.escape(f"spikeforge demo: error: {message}"), err)


def test_default_network_is_reproducible():
    a, b = default_network(128, 64, 7), default_network(128, 64, 7)
    np.testing.assert_array_equal(a.synapses.weight, b.synapses.weight)
    assert a.params.n_neurons == 128 and len(a.synapses) > 0


def test_build_refuses_an_unknown_board(capsys):
    assert main(["build", "--board", "arty"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("spikeforge build: error: unknown board 'arty'; choose one of "
                           "icebreaker, ulx3s-12f, ulx3s-85f")


def test_build_refuses_a_bad_size_before_any_tool_runs(capsys, tmp_path):
    assert main(["build", "--board", "icebreaker", "--neurons", "8",
                 "--out", str(tmp_path)]) == 2
    assert "n_neurons must be between 16 and 4096, not 8" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_program_without_a_programmer(capsys, tmp_path, monkeypatch):
    bitstream = tmp_path / "top.bin"
    bitstream.write_bytes(b"\0")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("OPENFPGALOADER", raising=False)
    monkeypatch.delenv("ICEPROG", raising=False)
    assert main(["program", "--board", "icebreaker", str(bitstream)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("spikeforge program: error: programming the iCEBreaker needs "
                          "openFPGALoader or iceprog, and neither was found on PATH; ")


def test_program_a_missing_bitstream(capsys, tmp_path):
    assert main(["program", "--board", "ulx3s-85f", str(tmp_path / "top.bit")]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["build", "program"])
def test_board_commands_have_examples(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert f"spikeforge {command} --board" in capsys.readouterr().out


def test_build_sizes_default_to_the_boards_chip():
    from boards import board
    from spikeforge.cli import _chip_params, build_parser
    args = build_parser().parse_args(["build", "--board", "ulx3s-85f", "--neurons", "128",
                                      "--cols", "3"])
    params = _chip_params(args)
    default = board("ulx3s-85f").default_chip
    assert (params.rows, params.cols, params.core.n_neurons) == (default.rows, 3, 128)
    assert params.core.n_synapses == default.core.n_synapses
    assert params.n_routes == default.n_routes


def test_the_icebreaker_example_builds_the_benchmarked_chip():
    """`spikeforge build --help`'s iCEBreaker example is the chip boards.json measures."""
    from benchmarks.bench_boards import CANDIDATES
    from spikeforge.cli import _chip_params, build_parser
    argv = ["build", "--board", "icebreaker", "--neurons", "1024", "--axons", "64",
            "--synapses", "65536", "--delay", "2", "--routes", "256", "--clk-mhz", "30"]
    assert " ".join(argv[1:]) in _build_epilog()
    goal, chip = CANDIDATES["icebreaker"][0]
    assert (_chip_params(build_parser().parse_args(argv)), goal) == (chip, 30.0)


def _build_epilog():
    from spikeforge.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices["build"].epilog.replace("\n", " ")


def test_build_gating_reaches_the_build_and_its_report(capsys, monkeypatch, tmp_path):
    import boards.build
    from golden_model.power import PowerPolicy
    seen = {}

    def build(board, params, **kwargs):
        seen.update(kwargs, board=board)
        return {"board": board, "device": "LFE5U-85F", "timing_met": True, "fmax_mhz": {},
                "fmax_constraint_mhz": {}, "bitstream": "top.bit", "build_s": 1.0,
                "clock_gating": None if kwargs["gating"] is None else
                {"backend": "dcca", "cores": params.n_cores}}
    monkeypatch.setattr(boards.build, "build", build)
    assert main(["build", "--board", "ulx3s-85f", "--gating", "--out", str(tmp_path)]) == 0
    assert seen["gating"] == PowerPolicy() and seen["board"] == "ulx3s-85f"
    assert "  clock gating: 4 cores, backend dcca" in capsys.readouterr().out   # 2x2 default
    assert main(["build", "--board", "ulx3s-85f", "--out", str(tmp_path)]) == 0
    assert seen["gating"] is None
    assert "clock gating" not in capsys.readouterr().out

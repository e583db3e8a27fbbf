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

"""Shared fixtures of the front-end tests."""

from pathlib import Path

import pytest

from spikeforge.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nir"
BRAILLE = FIXTURES / "nir-paper/03_rnn/braille_noDelay_noBias_subtract.nir"


@pytest.fixture(scope="module")
def braille(tmp_path_factory):
    """The braille RNN imported as the README shows: Euler, subtract reset, 12-bit weights."""
    out = tmp_path_factory.mktemp("braille") / "braille.npz"
    assert main(["import", str(BRAILLE), "--dt", "1e-4", "--method", "euler", "--reset",
                 "subtract", "--weight-bits", "12", "-o", str(out)]) == 0
    return out

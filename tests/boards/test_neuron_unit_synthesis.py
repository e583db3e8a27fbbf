"""The neuron step units' multipliers go to DSP blocks where the device has them (the iCE40
UP5K's SB_MAC16, the ECP5's MULT18X18D) and to adders where it has none (an iCE40 without
DSPs), by yosys's own synthesis."""

import pytest

from boards.build import synth_stat
from rtl.adex import AdExUnit
from rtl.izhikevich import IzhikevichUnit

pytestmark = pytest.mark.board_build


def test_izhikevich_unit_multiplier_mapping():
    up5k = synth_stat(IzhikevichUnit(16), "ice40")
    plain = synth_stat(IzhikevichUnit(16), "ice40", dsp=False)
    ecp5 = synth_stat(IzhikevichUnit(16), "ecp5")
    # One multiplier: one MAC16 (16 x 17 bits fits it), one MULT18X18D.
    assert up5k["dsp"] == 1 and ecp5["dsp"] == 1
    # Without DSPs the same product is built from LUTs and carry chains.
    assert plain["dsp"] == 0
    assert plain["lut"] > up5k["lut"] + 100 and plain["carry"] > up5k["carry"]


def test_adex_unit_uses_dsps():
    up5k = synth_stat(AdExUnit(16), "ice40")
    assert 1 <= up5k["dsp"] <= 8                    # the UP5K has eight
    assert synth_stat(AdExUnit(16), "ecp5")["dsp"] >= 1


def test_synth_stat_refuses_an_unknown_family():
    with pytest.raises(ValueError, match=r"^family must be one of ice40, ecp5, not 'gowin'$"):
        synth_stat(None, "gowin")           # refused before anything is built

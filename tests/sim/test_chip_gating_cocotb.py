"""Tier 4: a 2×2 chip whose every core is clock-gated under its own power controller, as
Verilog on Verilator, against the golden chip model: the same host events, state and packet
counts, at input activities from 0.1% to 100%. (The cores' power states are not readable
through the chip's debug port yet; the core-level tests show the gates closing.)"""

import numpy as np
import pytest

from golden_model.power import PowerPolicy
from sim.chip_runner import chip_job, run_chip_jobs
from sim.stimulus import random_chip_image, random_chip_inputs

from .test_chip_cocotb import CHIP_2X2, check

pytestmark = pytest.mark.cocotb


def test_gated_chip_matches_golden():
    jobs = []
    for k, rate in enumerate((0.001, 0.01, 0.1, 0.5, 1.0)):
        rng = np.random.default_rng([44, k])
        image = random_chip_image(rng, CHIP_2X2, host_all=True)
        jobs.append(chip_job(image, random_chip_inputs(rng, CHIP_2X2, 24, rate=rate),
                             state_every=4))
    results, passed = run_chip_jobs(CHIP_2X2, jobs, seed=5, event_gap=0.25, out_stall=0.4,
                                    gating=PowerPolicy(window=2, low_pct=5, mid_pct=40))
    check(CHIP_2X2, jobs, results)
    assert passed

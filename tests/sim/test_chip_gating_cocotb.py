"""Tier 4: a 2×2 chip whose every core is clock-gated under its own power controller, as
Verilog on Verilator, against the golden chip model: the same host events, state and packet
counts, at input activities from 0.1% to 100%; and each core's power registers, read
through the chip's debug port, hold the steps the golden policy puts it in each state."""

import numpy as np
import pytest

from golden_model.chip import simulate_chip
from golden_model.power import PowerPolicy, PowerState, simulate_policy
from rtl.power import PowerReg
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
    policy = PowerPolicy(window=2, low_pct=5, mid_pct=40)
    results, passed = run_chip_jobs(CHIP_2X2, jobs, seed=5, event_gap=0.25, out_stall=0.4,
                                    gating=policy)
    check(CHIP_2X2, jobs, results)
    assert passed
    seen = set()
    for job, result in zip(jobs, results):
        events = simulate_chip(job["image"], job["steps"]).events
        states = simulate_policy(events, policy, CHIP_2X2.core.n_axons)
        seen |= set(states.ravel().tolist())
        for k, regs in enumerate(result["power"]):
            regs = dict(zip(PowerReg, regs))
            assert [regs[PowerReg.ACTIVE_STEPS], regs[PowerReg.REDUCED_STEPS],
                    regs[PowerReg.SLEEP_STEPS]] == \
                [int((states[:, k] == s).sum()) for s in PowerState]
            assert regs[PowerReg.STATE] == states[-1, k]
            assert regs[PowerReg.WINDOW] == 2
            if states[:, k].max() > PowerState.ACTIVE:
                assert regs[PowerReg.GATED_CYCLES] > 0
    assert seen == {0, 1, 2}

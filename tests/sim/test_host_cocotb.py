"""The whole board top (UART, host interface, chip) in Verilator, driven over its serial lines.

A host on the far end of the UART loads a random network and runs it; the
events it reads back are the golden chip model's. The top is built as the
ECP5 boards build it, with the deeper pipeline: its two-core chip then runs
through the registered fabric of :mod:`rtl.fabric`.
"""

import numpy as np
import pytest

from golden_model.chip import ChipParams, simulate_chip
from golden_model.params import CoreParams
from sim.host_runner import run_host_jobs
from sim.stimulus import random_chip_image, random_chip_inputs

pytestmark = pytest.mark.cocotb

CHIP = ChipParams(rows=1, cols=2, n_routes=32,
                  core=CoreParams(n_neurons=16, n_axons=8, n_synapses=24, n_profiles=2,
                                  max_delay=2, state_bits=16))
CLK_HZ = 12_000_000
BAUD = 3_000_000          # divisor 4, the UART's fastest: real bit timing, fewest cycles


def test_board_top_over_its_uart_matches_the_golden_chip():
    jobs = []
    for k in range(1):
        rng = np.random.default_rng([55, k])
        jobs.append((random_chip_image(rng, CHIP, host_all=True),
                     random_chip_inputs(rng, CHIP, 12, rate=0.3)))
    results, passed = run_host_jobs(CHIP, jobs, clk_hz=CLK_HZ, baud=BAUD, quiet=True,
                                    deep_pipeline=True)
    assert passed and len(results) == len(jobs)
    for (image, steps), result in zip(jobs, results):
        golden = simulate_chip(image, steps)
        assert result["host"] == sorted(map(tuple, golden.host.tolist()))
        assert result["events_out"] == len(golden.host) > 0
        # The link cannot beat the wire: ten bit times per byte, each way at once.
        sent, received = result["run_bytes"]
        assert result["run_s"] >= max(sent, received) * 10 / BAUD

"""cocotb bench for a neuron step unit (:class:`rtl.izhikevich.IzhikevichUnit`,
:class:`rtl.adex.AdExUnit`): a driver offers the job's packed input words with random
idle cycles, a monitor takes the results with random backpressure, and the result is the
list of output words, in order, for the caller to check against the golden model.
:func:`sim.units_runner.run_unit_jobs` runs this module."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

from .cocotb_bench import JobFiles, StreamDriver, StreamMonitor

__all__ = ["run_units"]


@cocotb.test()
async def run_units(dut):
    files = JobFiles()
    spec = files.spec
    rng = random.Random(spec.get("seed", 0))
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    driver = StreamDriver(dut.clk, dut.inp__valid, dut.inp__ready, dut.inp__payload,
                          gap=spec.get("gap", 0.0), rng=rng)
    monitor = StreamMonitor(dut.clk, dut.out__valid, dut.out__ready, dut.out__payload,
                            stall=spec.get("stall", 0.0), rng=rng)
    for job in spec["jobs"]:
        monitor.items.clear()
        for word in job["words"]:
            await driver.send(word)
        for _ in range(100):
            if len(monitor.items) == len(job["words"]):
                break
            await ClockCycles(dut.clk, 10)
        files.job_done(job, {"words": [value for _, value in monitor.items]})
    monitor.stop()

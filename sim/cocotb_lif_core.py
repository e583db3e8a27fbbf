"""cocotb entry point for ``LIFCore`` jobs: run inside the simulator by :mod:`sim.core_runner`.

The job file (``SPIKEFORGE_JOB``) holds the core parameters and a list of
jobs; each job is a core image with its per-step inputs (checked against the
golden model by the scoreboard) or a throughput measurement. Results go to
``SPIKEFORGE_RESULT``. The test fails when any step mismatches.
"""

import time

import cocotb

from rtl.lif_core import Region
from rtl.power import POWER_BASE, PowerReg
from sim.cocotb_bench import TB, JobFiles

__all__ = ["run_jobs"]


@cocotb.test()
async def run_jobs(dut):
    files = JobFiles()
    spec = files.spec
    power = spec.get("power")       # a GatedCore: its controller's settings, as config writes
    tb = TB(dut, spec["params"], seed=spec.get("seed", 0),
            event_gap=spec.get("event_gap", 0.0), spike_stall=spec.get("spike_stall", 0.0),
            extra_writes=power or ())
    await tb.start()
    total_mismatches = 0
    for i, job in enumerate(spec["jobs"]):
        wall = time.perf_counter()
        cycle0 = tb.cycle()
        if job["kind"] == "measure":
            await tb.reset()
            await tb.load(job["image"])
            result = await tb.measure(job["axons"])
            result["counters"] = await tb.counters()
        else:
            tb.scoreboard.mismatches.clear()
            result = await tb.run_job(job["image"], job["steps"],
                                      read_state=job.get("read_state", True),
                                      reference=job.get("reference"), progress=files.progress,
                                      rewards=job.get("rewards"),
                                      learn_every=job.get("learn_every", 0),
                                      period=job.get("period"))
            total_mismatches += len(result["mismatches"])
        result["cycles"] = tb.cycle() - cycle0
        if power is not None:       # read back through the debug port, as a host would
            async def power_reg(reg):
                return await tb.debug.read(region=Region.COUNTER, addr=POWER_BASE + reg)
            result["gated_cycles"] = await power_reg(PowerReg.GATED_CYCLES)
            result["state_steps"] = [await power_reg(reg) for reg in (
                PowerReg.ACTIVE_STEPS, PowerReg.REDUCED_STEPS, PowerReg.SLEEP_STEPS)]
            result["power_settings"] = [await power_reg(reg) for reg in (
                PowerReg.WINDOW, PowerReg.LOW, PowerReg.MID)]
            # The testbench's own view of the same counters, from the ports.
            word = int(dut.state_steps.value)
            result["port_gated_cycles"] = int(dut.gated_cycles.value)
            result["port_state_steps"] = [(word >> (32 * k)) & 0xFFFF_FFFF for k in range(3)]
        result["wall_s"] = time.perf_counter() - wall
        files.job_done(job, result)
        dut._log.info("job %d/%d (%s) done in %.1f s", i + 1, len(spec["jobs"]), job["kind"],
                      result["wall_s"])
    assert total_mismatches == 0, f"{total_mismatches} mismatches against the golden model"

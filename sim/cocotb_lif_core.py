"""cocotb entry point for ``LIFCore`` jobs: run inside the simulator by :mod:`sim.core_runner`.

The job file (``SPIKEFORGE_JOB``) holds the core parameters and a list of
jobs; each job is a core image with its per-step inputs (checked against the
golden model by the scoreboard) or a throughput measurement. Results go to
``SPIKEFORGE_RESULT``. The test fails when any step mismatches.
"""

import time

import cocotb

from sim.cocotb_bench import TB, JobFiles

__all__ = ["run_jobs"]


@cocotb.test()
async def run_jobs(dut):
    files = JobFiles()
    spec = files.spec
    tb = TB(dut, spec["params"], seed=spec.get("seed", 0),
            event_gap=spec.get("event_gap", 0.0), spike_stall=spec.get("spike_stall", 0.0))
    power = spec.get("power")
    if power is not None:           # a GatedCore: its controller's run-time settings
        for name, value in power.items():
            getattr(dut, name).value = value
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
                                      learn_every=job.get("learn_every", 0))
            total_mismatches += len(result["mismatches"])
        result["cycles"] = tb.cycle() - cycle0
        if power is not None:
            word = int(dut.state_steps.value)
            result["gated_cycles"] = int(dut.gated_cycles.value)
            result["state_steps"] = [(word >> (32 * k)) & 0xFFFF_FFFF for k in range(3)]
        result["wall_s"] = time.perf_counter() - wall
        files.job_done(job, result)
        dut._log.info("job %d/%d (%s) done in %.1f s", i + 1, len(spec["jobs"]), job["kind"],
                      result["wall_s"])
    assert total_mismatches == 0, f"{total_mismatches} mismatches against the golden model"

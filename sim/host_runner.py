"""Run the UART host bench (:mod:`sim.cocotb_host`) on an exported ``HostTop``."""

from rtl.soc import HostTop
from .core_runner import run_jobs

__all__ = ["run_host_jobs"]


def run_host_jobs(params, jobs, *, clk_hz, baud, max_payload=512, sim=None, build_root=None,
                  log=None, quiet=False, deep_pipeline=False):
    """Load and run each ``(image, steps)`` job through the UART of
    ``HostTop(params, deep_pipeline=...)``.

    Returns ``(results, passed)``; a result holds the host events, sorted, and the
    simulated seconds and bytes the load and the run took on the link.
    """
    top = HostTop(params, clk_hz=clk_hz, baud=baud, max_payload=max_payload,
                  deep_pipeline=deep_pipeline)
    spec = {"params": params, "clk_hz": clk_hz, "divisor": top.divisor,
            "max_payload": max_payload,
            "jobs": [{"image": image, "steps": [[tuple(map(int, e)) for e in s] for s in steps]}
                     for image, steps in jobs]}
    return run_jobs(lambda: top, "host_top", "sim.cocotb_host",
                    (params, clk_hz, baud, max_payload, deep_pipeline), spec, sim=sim, build_root=build_root,
                    log=log, quiet=quiet, quick_compile=True)

"""Run multi-core ``Chip`` jobs in cocotb from ordinary Python (pytest, benchmarks)."""

from rtl.chip import Chip
from .core_runner import run_jobs

__all__ = ["chip_job", "latency_job", "run_chip_jobs"]


def chip_job(image, steps, *, state_every=1, keymask=None):
    """Run ``image`` for ``steps`` (per-step ``(x, y, axon)`` lists); read state every
    ``state_every`` steps (0: never) and after the last. With ``keymask`` tables the chip
    routes in key/mask mode."""
    return {"image": image, "steps": [[tuple(map(int, e)) for e in s] for s in steps],
            "state_every": state_every, "keymask": keymask}


def latency_job(image, events):
    """Send each ``(x, y, axon)`` alone and time it until the chip is idle again."""
    return {"kind": "latency", "image": image, "steps": [],
            "events": [tuple(map(int, e)) for e in events]}


def run_chip_jobs(params, jobs, *, sim=None, seed=0, event_gap=0.0, out_stall=0.0,
                  build_root=None, log=None, quiet=False, deep_pipeline=False, gating=None):
    """Simulate ``jobs`` on a ``Chip(params, deep_pipeline=..., gating=...)``; returns
    ``(results, passed)``. A gated chip's results hold ``power``: for each core, its
    :class:`~rtl.power.PowerReg` registers, read through the chip's debug port."""
    spec = {"params": params, "jobs": jobs, "seed": seed, "event_gap": event_gap,
            "out_stall": out_stall, "gated": gating is not None}
    build_key = (params, "deep") if deep_pipeline else params
    if gating is not None:
        build_key = (build_key, "gated", gating)
    # A chip's Verilog is large and its benches short: compile time dominates.
    return run_jobs(lambda: Chip(params, deep_pipeline=deep_pipeline, gating=gating), "chip",
                    "sim.cocotb_chip",
                    build_key, spec, sim=sim, build_root=build_root, log=log, quiet=quiet,
                    quick_compile=True)

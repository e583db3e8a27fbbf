"""Run cocotb jobs on exported designs from ordinary Python (pytest, the CLI).

:func:`run_jobs` exports a design's Verilog, builds it (once per parameter
set; later calls reuse the build), runs a cocotb module on a pickled job
spec and returns its results. :func:`run_core_jobs` does it for ``LIFCore``
with :mod:`sim.cocotb_lif_core`; :mod:`sim.chip_runner` for ``Chip``.
"""

import hashlib
import os
import pickle
import tempfile
import threading
import time
from pathlib import Path

from rtl.lif_core import LIFCore
from .export import export_verilog
from .runner import DEFAULT_BUILD_ROOT, build, run_tests

__all__ = ["run_core_jobs", "run_jobs", "image_job", "measure_job"]


def image_job(image, steps, *, read_state=True, reference=None, rewards=None, learn_every=0,
              period=None):
    """Run ``image`` for ``steps``; the scoreboard's golden model runs ``reference`` (default
    ``image``). A learning core takes ``rewards`` per step and has its learning state
    checked every ``learn_every`` steps. With ``period`` every step lasts that many cycles
    (and a gated core's ``gated_cycles`` is sampled at each step's end)."""
    return {"kind": "image", "image": image, "steps": [list(map(int, s)) for s in steps],
            "read_state": read_state, "reference": reference,
            "rewards": None if rewards is None else [int(r) for r in rewards],
            "learn_every": learn_every, "period": period}


def measure_job(image, axons):
    return {"kind": "measure", "image": image, "axons": list(map(int, axons))}


def run_core_jobs(params, jobs, *, sim=None, seed=0, event_gap=0.0, spike_stall=0.0,
                  build_root=None, log=None, quiet=False, deep_pipeline=False, gated=None):
    """Simulate ``jobs`` on a ``LIFCore(params, deep_pipeline=...)``; returns
    ``(results, passed)``.

    With ``gated`` (a :class:`~golden_model.power.PowerPolicy`) the design is a
    :class:`~rtl.power.GatedCore` with the generic clock gate, its controller set to that
    policy through the config port; each result then holds ``gated_cycles``,
    ``state_steps`` and ``power_settings``, read back through the debug port.
    ``log(message)`` hears about slow builds; ``quiet`` sends the simulator's own
    output to ``sim.log`` in the build folder.
    """
    spec = {"params": params, "jobs": jobs, "seed": seed, "event_gap": event_gap,
            "spike_stall": spike_stall}
    build_key = (params, "deep") if deep_pipeline else params
    make_top = lambda: LIFCore(params, deep_pipeline=deep_pipeline)
    if gated is not None:
        from rtl.power import GatedCore, power_writes
        spec["power"] = [tuple(map(int, w)) for w in power_writes(gated, params.n_axons)]
        build_key = (build_key, "gated")
        make_top = lambda: GatedCore(params, backend="generic", deep_pipeline=deep_pipeline)
    return run_jobs(make_top, "lif_core", "sim.cocotb_lif_core", build_key, spec, sim=sim,
                    build_root=build_root, log=log, quiet=quiet)


def run_jobs(make_top, toplevel, test_module, params, spec, *, sim=None, build_root=None,
             log=None, quiet=False, quick_compile=False):
    """Export ``make_top()``, build it once per ``params``, and run ``test_module`` on ``spec``.

    The cocotb module reads the pickled ``spec`` from ``SPIKEFORGE_JOB``, writes its
    results to ``SPIKEFORGE_RESULT`` and its step count to ``SPIKEFORGE_PROGRESS``.
    Returns ``(results, passed)``.
    """
    key = hashlib.sha256(repr(params).encode()).hexdigest()[:10]
    root = Path(build_root or DEFAULT_BUILD_ROOT) / f"{toplevel}-{key}"
    verilog, _ = export_verilog(make_top(), toplevel, root)
    runner = build(verilog, toplevel, sim=sim, build_dir=root / (sim or os.environ.get(
        "SIM", "verilator")), log=log, quick_compile=quick_compile)
    with tempfile.TemporaryDirectory(prefix="spikeforge-") as tmp:
        job_file = Path(tmp) / "job.pkl"
        result_file = Path(tmp) / "result.pkl"
        with open(job_file, "wb") as f:
            pickle.dump(spec, f)
        progress_file = Path(tmp) / "progress"
        outcome = {}

        def simulate():
            outcome["result"] = run_tests(
                runner, toplevel, test_module, test_dir=tmp,
                extra_env={"SPIKEFORGE_JOB": str(job_file), "SPIKEFORGE_RESULT": str(result_file),
                           "SPIKEFORGE_PROGRESS": str(progress_file)},
                results_xml=str(Path(tmp) / "results.xml"),
                log_file=(root / "sim.log").resolve() if quiet else None)

        worker = threading.Thread(target=simulate)
        worker.start()
        last, shown = None, time.monotonic()
        while worker.is_alive():
            worker.join(0.5)
            if log and progress_file.exists() and time.monotonic() - shown > 2:
                text = progress_file.read_text().split()
                if len(text) == 2 and text != last:
                    log(f"simulated {text[0]}/{text[1]} steps")
                    last, shown = text, time.monotonic()
        n_tests, n_failed = outcome["result"]
        results = []
        if result_file.exists():
            with open(result_file, "rb") as f:
                results = pickle.load(f)
    return results, n_tests > 0 and n_failed == 0

"""Run neuron step units (:mod:`rtl.izhikevich`, :mod:`rtl.adex`) as Verilog in cocotb."""

from .core_runner import run_jobs

__all__ = ["run_unit_jobs"]


def run_unit_jobs(make_unit, key, jobs, *, gap=0.0, stall=0.0, seed=0, sim=None,
                  build_root=None):
    """Export ``make_unit()`` once per ``key``, and push each job's ``words`` (packed input
    payloads) through it; returns ``(results, passed)``, each result the output words."""
    spec = {"jobs": [{"words": [int(w) for w in words]} for words in jobs], "gap": gap,
            "stall": stall, "seed": seed}
    return run_jobs(make_unit, "neuron_unit", "sim.cocotb_units", key, spec, sim=sim,
                    build_root=build_root, quick_compile=True)

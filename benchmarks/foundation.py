"""The foundation benchmark: writes ``benchmarks/results/foundation.json``.

(a) golden-model throughput on the 4000-neuron CUBA network
(:mod:`benchmarks.bench_golden`), (b) RTL cycles per SOP and per neuron
update and (c) cocotb simulation speed (:mod:`benchmarks.bench_rtl`).
Runs in about two minutes on two cores, most of it the one-time Verilator
builds. Run it as ``python -m benchmarks.foundation``.
"""

import argparse
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from . import bench_golden, bench_rtl

__all__ = ["run", "main"]

RESULTS = Path(__file__).parent / "results" / "foundation.json"


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(log=print):
    start = time.perf_counter()
    log("(a) golden model on the CUBA network...")
    golden = bench_golden.run()
    log(f"    {golden['numba']['events_per_s'] / 1e6:.1f} M synaptic events/s, "
        f"{golden['numba']['neuron_updates_per_s'] / 1e6:.1f} M neuron updates/s "
        f"(numba); numpy spec {golden['numpy']['events_per_s'] / 1e6:.2f} M events/s")
    log("(b, c) RTL throughput and cocotb speed...")
    rtl = bench_rtl.run(log=lambda m: log(f"    {m}"))
    log(f"    {rtl['rtl_cycles_per_sop']:.4f} cycles/SOP, "
        f"{rtl['rtl_cycles_per_neuron_update']:.4f} cycles/neuron update, "
        f"{rtl['cocotb_cycles_per_s']:.0f} cocotb cycles/s")
    versions = {name: metadata.version(name)
                for name in ("amaranth", "cocotb", "verilator", "numpy", "numba")}
    return {
        "golden_synaptic_events_per_s": golden["numba"]["events_per_s"],
        "golden_neuron_updates_per_s": golden["numba"]["neuron_updates_per_s"],
        "golden_numpy_synaptic_events_per_s": golden["numpy"]["events_per_s"],
        "golden_numpy_neuron_updates_per_s": golden["numpy"]["neuron_updates_per_s"],
        "golden_numba_over_numpy": golden["numba_over_numpy"],
        "golden_goal_events_per_s": 10e6,
        "golden_goal_note": "Brian2 C++ standalone on the same network, about 10 M synaptic "
                            "events/s on one core of this machine (the issue's figure)",
        "rtl_cycles_per_sop": rtl["rtl_cycles_per_sop"],
        "rtl_cycles_per_neuron_update": rtl["rtl_cycles_per_neuron_update"],
        "cocotb_cycles_per_s": rtl["cocotb_cycles_per_s"],
        "cocotb_streaming_cycles_per_s": rtl["cocotb_streaming_cycles_per_s"],
        "golden_cuba": golden,
        "rtl": rtl,
        "machine": {"cpu": _cpu_model(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "system": platform.platform(),
                    "versions": versions},
        "benchmark_wall_s": time.perf_counter() - start,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="spikeforge foundation benchmark")
    parser.add_argument("--out", default=str(RESULTS), help="JSON output file")
    args = parser.parse_args(argv)
    result = run()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out} in {result['benchmark_wall_s']:.0f} s")
    if not result["golden_cuba"]["numpy"]["bit_exact_vs_numba"]:
        sys.exit("the numba fast path and the numpy spec disagree")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Boards: the largest chip each board holds and the Fmax it reaches, warm build times, and
the host link's throughput.

Writes ``benchmarks/results/boards.json`` when run as
``python -m benchmarks.bench_boards`` (tens of minutes: every candidate is a full
yosys and nextpnr build).

* **Largest configuration**: for each board, candidate chips from the largest
  down are built with ``boards.build``, aiming at the issue's goal clock; the
  first that fits is the board's entry: its neurons, synapse entries, cores,
  the Fmax nextpnr reached, whether that meets the goal clock
  (``timing_met``), LUT, FF and BRAM use, and the build time. A bitstream
  that runs is built with ``spikeforge build --clk-mhz`` at or below that
  Fmax. Candidates that did not fit are listed with the reason. YoWASP has
  compiled itself before the first timed build, so ``build_s`` is a warm
  build.
* **Host link throughput**: a board top in Verilator (cocotb) at the
  iCEBreaker's 12 MHz and 115200 baud, driven bit by bit on its UART lines by
  a host that does what :class:`spikeforge.device.Device` does: per step one
  ``SPIKES`` command and one ``RUN``, whose events stream back. Every input
  spike makes one host event, so both directions carry spikes; the figure is
  spikes in plus events out, over the simulated time of the run.
  ``wire_bound_spikes_per_s`` is what one direction alone could carry if its
  line never idled (the busier direction's bytes per spike); the two
  directions overlap, so the total can exceed it.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from golden_model import CoreParams, LIFProfile
from golden_model.chip import ChipParams, simulate_chip

__all__ = ["CANDIDATES", "largest_fit", "host_throughput", "run", "main"]

RESULTS = Path(__file__).parent / "results" / "boards.json"


def core(n_neurons, n_axons, n_synapses, **kw):
    return CoreParams(n_neurons=n_neurons, n_axons=n_axons, n_synapses=n_synapses, **kw)


SMALL = dict(max_delay=1, state_bits=8, weight_bits=4, n_profiles=1, refractory_bits=1)
#: Candidates per board, largest first: (goal MHz, ChipParams).
CANDIDATES = {
    "icebreaker": [
        (30.0, ChipParams(rows=1, cols=1, n_routes=256, fifo_depth=2,
                          core=core(1024, 64, 65536, **(SMALL | {"max_delay": 2})))),
        (30.0, ChipParams(rows=1, cols=1, n_routes=256, fifo_depth=2,
                          core=core(256, 64, 4096, **SMALL))),
        (12.0, ChipParams(rows=1, cols=1, n_routes=64, fifo_depth=2,
                          core=core(64, 32, 1024, **SMALL))),
        (12.0, ChipParams(rows=1, cols=1, n_routes=16, fifo_depth=2,
                          core=core(16, 16, 64, **SMALL))),
    ],
    "ulx3s-85f": [
        (100.0, ChipParams(rows=4, cols=4, n_routes=256, fifo_depth=2,
                           core=core(256, 64, 2048, max_delay=2, state_bits=16))),
        (100.0, ChipParams(rows=2, cols=2, n_routes=256, fifo_depth=2,
                           core=core(256, 64, 2048, max_delay=2, state_bits=16))),
    ],
}


def largest_fit(name, candidates, *, log=print):
    from boards.build import BuildError, build
    tried = []
    for clk_mhz, params in candidates:
        desc = (f"{params.rows}×{params.cols} cores of {params.core.n_neurons} neurons, "
                f"{params.core.n_synapses} synapses at {clk_mhz} MHz")
        log(f"{name}: building {desc}")
        with tempfile.TemporaryDirectory(prefix="spikeforge-bench-") as tmp:
            try:
                report = build(name, params, clk_mhz=clk_mhz, build_dir=tmp,
                               progress=lambda line: log(f"  {line}"),
                               allow_timing_fail=True)
            except BuildError as e:
                tried.append({"config": desc, "error": str(e)})
                log(f"{name}: {e}")
                continue
        return {
            "neurons": params.n_cores * params.core.n_neurons,
            "synapses": params.n_cores * params.core.n_synapses,
            "cores": params.n_cores,
            "core": dict(n_neurons=params.core.n_neurons, n_axons=params.core.n_axons,
                         n_synapses=params.core.n_synapses, max_delay=params.core.max_delay,
                         state_bits=params.core.state_bits,
                         weight_bits=params.core.weight_bits),
            "goal_mhz": clk_mhz,
            "fmax_mhz": min(report["fmax_mhz"].values()),
            "timing_met": report["timing_met"],
            "critical_path": report["critical_path"],
            "slowest_blocks": report["slowest_blocks"],
            "lut": report["lut"], "ff": report["ff"], "carry": report["carry"],
            "bram": report["bram"], "spram": report["spram"], "dsp": report["dsp"],
            "lc": report["lc"], "totals": report["totals"],
            "build_s": report["build_s"], "steps_s": report["steps_s"],
            "failed_candidates": tried,
        }
    return {"failed_candidates": tried}


def streaming_network(n, weight=100):
    """``n`` inputs, each driving one neuron hard enough to fire in the same step."""
    from spikeforge.compiler import compile_network
    from spikeforge.network import InputPopulation, Network, Population, Projection
    net = Network()
    inp = net.add(InputPopulation(n, name="in"))
    out = net.add(Population(n, LIFProfile(du=4095, dv=4095, vth=50, weight_exp=0),
                             name="out", record=True))
    net.add(Projection.one_to_one(inp, out, weight))
    chip = ChipParams(rows=1, cols=1, n_routes=n,
                      core=CoreParams(n_neurons=n, n_axons=n, n_synapses=n))
    return compile_network(net, chip), inp


def host_throughput(*, n=32, steps=8, clk_hz=12_000_000, baud=115200, log=print):
    from sim.host_runner import run_host_jobs
    compiled, inp = streaming_network(n)
    spikes = [list(range(n))] * steps
    inputs = compiled.encode_inputs({inp: spikes})
    golden = simulate_chip(compiled.image, inputs)
    assert len(golden.host) == n * steps, "every input spike must make one host event"
    log(f"host link: {steps} steps of {n} spikes each way at {baud} baud, {clk_hz / 1e6} MHz")
    wall = time.perf_counter()
    results, passed = run_host_jobs(compiled.chip, [(compiled.image, inputs)], clk_hz=clk_hz,
                                    baud=baud, log=log, quiet=True)
    if not passed:
        raise RuntimeError("the host-link bench failed")
    r = results[0]
    assert r["host"] == sorted(map(tuple, golden.host.tolist()))
    carried = r["spikes_in"] + r["events_out"]
    sent, received = r["run_bytes"]
    return {
        "host_spikes_per_s": carried / r["run_s"],
        "spikes_in_per_s": r["spikes_in"] / r["run_s"],
        "events_out_per_s": r["events_out"] / r["run_s"],
        "bytes_per_spike": (sent + received) / carried,
        "wire_bound_spikes_per_s": baud / 10 / max(sent / r["spikes_in"],
                                                   received / r["events_out"]),
        "baud": baud, "clk_hz": clk_hz, "spikes_per_step": n, "steps": steps,
        "run_s_simulated": r["run_s"], "load_s_simulated": r["load_s"],
        "load_bytes": r["load_bytes"], "run_bytes": r["run_bytes"],
        "bench_wall_s": time.perf_counter() - wall,
    }


def run(boards=None, *, max_cores=None, host_link=True, previous=None, log=print):
    """Build the boards' candidates (all, or ``boards``) and measure the host link.

    Entries of ``previous`` (an earlier result) for boards not built, and its host
    link figures when ``host_link`` is False, are carried over.
    """
    out = {k: v for k, v in (previous or {}).items() if k in CANDIDATES}
    for name, candidates in CANDIDATES.items():
        if boards and name not in boards:
            continue
        if max_cores is not None:
            candidates = [c for c in candidates if c[1].n_cores <= max_cores]
        out[name] = largest_fit(name, candidates, log=log)
        out[name]["max_cores_tried"] = max(c[1].n_cores for c in candidates)
    if host_link or not previous:
        out["host_link"] = {str(b): host_throughput(baud=b, log=log)
                            for b in (115200, 1_000_000)}
    else:
        out["host_link"] = previous["host_link"]
    out["host_spikes_per_s"] = out["host_link"]["115200"]["host_spikes_per_s"]
    out["goals"] = {
        "icebreaker": "≥ 1024 neurons and ≥ 64k synapses at ≥ 30 MHz",
        "ulx3s-85f": "≥ 16 cores / 4096 neurons at ≥ 100 MHz",
    }
    out["environment"] = dict(python=platform.python_version(), machine=platform.machine(),
                              cpu_count=os.cpu_count())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", nargs="*", help="only these boards (default: all)")
    parser.add_argument("--max-cores", type=int,
                        help="skip candidates with more cores (their builds take longest)")
    parser.add_argument("--no-host-link", action="store_true",
                        help="keep the host-link figures of the existing results")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    out = Path(args.out)
    previous = json.loads(out.read_text()) if out.exists() else None
    result = run(args.boards, max_cores=args.max_cores, host_link=not args.no_host_link,
                 previous=previous)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "host_link"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``spikeforge`` command line."""

import argparse
import sys

__all__ = ["main"]


def _demo(args):
    from .demo import run_demo
    summary = run_demo(neurons=args.neurons, inputs=args.inputs, steps=args.steps,
                       rate=args.rate, seed=args.seed, out=args.out, rtl=not args.no_rtl,
                       sim=args.sim)
    return 0 if summary["bit_exact"] in (None, True) else 1


def _chip_params(args):
    """The board's default chip, with the sizes given on the command line."""
    import dataclasses
    from boards import board
    base = board(args.board).default_chip
    given = lambda **kw: {k: v for k, v in kw.items() if v is not None}
    core = dataclasses.replace(base.core, **given(
        n_neurons=args.neurons, n_axons=args.axons, n_synapses=args.synapses,
        max_delay=args.delay, n_profiles=args.profiles))
    return dataclasses.replace(base, core=core, **given(rows=args.rows, cols=args.cols,
                                                        n_routes=args.routes))


def _build(args):
    from boards.build import BuildError, build
    params = _chip_params(args)
    out = args.out or f"build-{args.board}"
    try:
        gating = None
        if args.gating:
            from golden_model.power import PowerPolicy
            gating = PowerPolicy()
        report = build(args.board, params, clk_mhz=args.clk_mhz, baud=args.baud,
                       build_dir=out, progress=lambda line: print(line, flush=True),
                       gating=gating)
    except BuildError as e:
        print(f"spikeforge build: error: {e}", file=sys.stderr)
        return 1
    print(format_report(report))
    return 0


def format_report(report):
    """The build report as a few aligned lines."""
    lines = [f"{report['board']} ({report['device']}): "
             f"{'timing met' if report['timing_met'] else 'TIMING MISSED'}"]
    for clock, f in report["fmax_mhz"].items():
        target = report["fmax_constraint_mhz"].get(clock)
        lines.append(f"  clock {clock}: {f:.1f} MHz" +
                     (f" (target {target:.1f} MHz)" if target else ""))
    for field in ("lut", "ff", "carry", "bram", "spram", "dsp"):
        if field in report:
            total = report.get("totals", {}).get(field)
            lines.append(f"  {field:6s} {report[field]:6d}" +
                         (f" / {total}" if total else ""))
    gating = report.get("clock_gating")
    if gating:
        lines.append(f"  clock gating: {gating['cores']} cores, backend {gating['backend']}")
    lines.append(f"  bitstream {report['bitstream']} ({report['build_s']:.0f} s)")
    return "\n".join(lines)


def _program(args):
    from boards.program import ProgrammerNotFoundError, program
    try:
        program(args.board, args.bitstream)
    except (ProgrammerNotFoundError, FileNotFoundError, RuntimeError) as e:
        print(f"spikeforge program: error: {e}", file=sys.stderr)
        return 1
    return 0


def _import(args):
    from .frontend import import_nir
    q, out = import_nir(args.model, args.dt, method=args.method, reset=args.reset,
                        weight_bits=args.weight_bits, state_bits=args.state_bits, out=args.out)
    print(q.report.format())
    pops = [p for p in q.network.populations if hasattr(p, "profiles")]
    synapses = sum(len(p) for p in q.network.projections)
    print(f"wrote {out}: {len(pops)} populations, {sum(p.n for p in pops)} neurons, "
          f"{synapses} synapses")
    return 0


def _run_inputs(args, network, meta):
    from .frontend import make_inputs
    array = None
    if args.input is not None:
        import numpy as np
        array = np.load(args.input, allow_pickle=False)
    return make_inputs(network, meta, args.steps, rate_hz=args.rate, seed=args.seed,
                       array=array)


def _run(args):
    import numpy as np
    from .frontend import run_probed
    from .netfile import load_network as load
    network, meta = load(args.net)
    counts, steps = _run_inputs(args, network, meta)
    result = run_probed(network, counts, steps)
    print(f"{steps} steps on the golden model")
    for pop, spikes in result.spikes.items():
        total = int(spikes.sum())
        print(f"  {network.label(pop):24s} {pop.n:6d} neurons {total:8d} spikes "
              f"({total / max(1, pop.n * steps):.4f} per neuron and step)")
    if args.out:
        np.savez_compressed(args.out, **{(p.name or f"population{i}"): s
                                         for i, (p, s) in enumerate(result.spikes.items())})
        print(f"wrote {args.out}")
    return 0


def _verify(args):
    from .frontend import verify
    from .netfile import load_network as load
    network, meta = load(args.net)
    counts, steps = _run_inputs(args, network, meta)
    print(f"building the chip in Verilator and running {steps} steps on it and on the golden "
          f"model...", flush=True)
    divergence, compiled = verify(network, counts, steps,
                                  log=lambda line: print(f"  {line}", flush=True))
    chip = compiled.chip
    if divergence is None:
        print(f"RTL and golden model agree: every spike of {steps} steps on "
              f"{compiled.n_cores_used} of {chip.rows}x{chip.cols} cores")
        return 0
    t, pop, n = divergence
    print(f"RTL and golden model diverge first at step {t}: population {pop} neuron {n}")
    return 1


def _plot(args):
    from .frontend import plot, run_probed
    from .netfile import load_network as load
    network, meta = load(args.net)
    counts, steps = _run_inputs(args, network, meta)
    result = run_probed(network, counts, steps)
    for path in plot(network, result, args.out):
        print(f"wrote {path}")
    return 0


def _power(args):
    import json
    from golden_model.power import PUBLISHED, PowerPolicy
    from .netfile import load_network as load
    from .power import format_power, measure_toggles, plot_power, power_report, \
        read_coefficients
    network, meta = load(args.net)
    policy = PowerPolicy(window=args.window, low_pct=args.low, mid_pct=args.mid)
    coefficients = read_coefficients(args.coefficients) if args.coefficients else PUBLISHED
    counts, steps = _run_inputs(args, network, meta)
    report = power_report(network, counts, steps, policy=policy, period=args.period,
                          coefficients=coefficients)
    if args.toggles:
        measure_toggles(report, steps=args.toggle_steps,
                        log=lambda line: print(line, flush=True))
    print(format_power(report))
    for path in plot_power(report, args.out):
        print(f"wrote {path}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.as_dict(), f, indent=2)
        print(f"wrote {args.json}")
    return 0


def _add_input_options(parser, steps):
    parser.add_argument("net", help="a network file (spikeforge import writes one)")
    parser.add_argument("--steps", type=int, default=steps,
                        help=f"timesteps of Poisson input (default {steps})")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="Poisson rate of every input neuron in Hz, at the network's dt "
                             "(default 20)")
    parser.add_argument("--seed", type=int, default=0, help="Poisson seed (default 0)")
    parser.add_argument("--input", default=None,
                        help="a .npy file of [T, n] spike counts for the network's one input, "
                             "instead of Poisson")


def build_parser():
    parser = argparse.ArgumentParser(prog="spikeforge",
                                     description="Spiking neural networks as verified hardware.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a Poisson-driven network on the golden model and "
                                       "the RTL, and plot it")
    demo.add_argument("--neurons", type=int, default=128, help="16..1024 (default 128)")
    demo.add_argument("--inputs", type=int, default=64, help="Poisson input axons (default 64)")
    demo.add_argument("--steps", type=int, default=200, help="timesteps (default 200)")
    demo.add_argument("--rate", type=float, default=0.08,
                      help="input spike probability per step (default 0.08)")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--out", default="spikeforge-raster.png", help="raster plot PNG")
    demo.add_argument("--no-rtl", action="store_true", help="golden model only")
    demo.add_argument("--sim", choices=["verilator", "icarus"], default=None,
                      help="RTL simulator (default: $SIM or verilator)")
    demo.set_defaults(func=_demo)

    build = sub.add_parser(
        "build", help="build a bitstream and a resource/timing report for a board",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  spikeforge build --board icebreaker\n"
               "  spikeforge build --board icebreaker --neurons 1024 --axons 64 "
               "--synapses 65536 --delay 2 --routes 256 --clk-mhz 30\n"
               "  spikeforge build --board ulx3s-85f --rows 2 --cols 2 --neurons 256 "
               "--clk-mhz 50\n\n"
               "Runs yosys, nextpnr and the packer from the YoWASP wheels and writes the "
               "bitstream and report.json to --out. Sizes not given are the board's "
               "default chip, one that fits it.")
    build.add_argument("--board", required=True,
                       help="icebreaker, ulx3s-85f or ulx3s-12f")
    build.add_argument("--rows", type=int, help="mesh rows")
    build.add_argument("--cols", type=int, help="mesh columns")
    build.add_argument("--neurons", type=int, help="neurons per core")
    build.add_argument("--axons", type=int, help="axons per core")
    build.add_argument("--synapses", type=int, help="synapse entries per core")
    build.add_argument("--delay", type=int, help="maximum delay")
    build.add_argument("--profiles", type=int, help="neuron profiles per core")
    build.add_argument("--routes", type=int, help="output-table entries per core")
    build.add_argument("--clk-mhz", type=float, default=None,
                       help="target clock (default: the board's)")
    build.add_argument("--baud", type=int, default=115200, help="UART rate (default 115200)")
    build.add_argument("--gating", action="store_true",
                       help="clock-gate every core under its power controller (default "
                            "policy; the host can change it at run time)")
    build.add_argument("--out", default=None, help="build folder (default build-BOARD)")
    build.set_defaults(func=_build)

    program = sub.add_parser(
        "program", help="load a bitstream into a board (openFPGALoader or iceprog)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  spikeforge program --board icebreaker build-icebreaker/top.bin")
    program.add_argument("--board", required=True, help="icebreaker, ulx3s-85f or ulx3s-12f")
    program.add_argument("bitstream", help="the .bin (iCE40) or .bit (ECP5) file")
    program.set_defaults(func=_program)

    raw = argparse.RawDescriptionHelpFormatter
    imp = sub.add_parser(
        "import", help="quantise a NIR graph into a network file, with a report",
        formatter_class=raw,
        epilog="examples:\n"
               "  spikeforge import model.nir --dt 1e-3 --weight-bits 8\n"
               "  spikeforge import braille.nir --dt 1e-4 --method euler --reset subtract "
               "--weight-bits 12 -o braille.npz\n\n"
               "NIR graphs carry no time step: --dt is required. --method exact integrates "
               "the ODEs in closed form (decay exp(-dt/tau)); --method euler takes one "
               "forward-Euler step (decay 1 - dt/tau), which is how snnTorch, Norse and "
               "the braille networks were trained. Most NIR graphs do not say which reset "
               "they were trained with: zero (v = v_reset) is NIR's definition, and --reset "
               "overrides what a graph states.")
    imp.add_argument("model", help="the .nir file")
    imp.add_argument("--dt", type=float, required=True, help="the time step in seconds")
    imp.add_argument("--method", choices=["exact", "euler"], default="exact",
                     help="discretisation (default exact)")
    imp.add_argument("--reset", choices=["zero", "subtract"], default=None,
                     help="reset after a spike (default: what the graph's nodes state, else "
                          "zero)")
    imp.add_argument("--weight-bits", type=int, default=8, help="2..16 (default 8)")
    imp.add_argument("--state-bits", type=int, default=24, help="8..24 (default 24)")
    imp.add_argument("-o", "--out", default=None, help="network file (default MODEL.npz)")
    imp.set_defaults(func=_import)

    def file_command(name, help, examples, steps, note=""):
        cmd = sub.add_parser(name, help=help, formatter_class=raw,
                             epilog="examples:\n" + "".join(f"  spikeforge {name} {e}\n"
                                                            for e in examples) + note)
        _add_input_options(cmd, steps)
        return cmd

    run = file_command("run", "run a network file on the golden model",
                       ["model.npz", "model.npz --steps 500 --rate 50 -o spikes.npz",
                        "model.npz --input counts.npy"], 100)
    run.add_argument("-o", "--out", default=None, help="write every population's spikes (.npz)")
    run.set_defaults(func=_run)
    file_command("verify", "run a network file on the RTL and the golden model, and compare",
                 ["model.npz", "model.npz --steps 20 --rate 100"], 30,
                 "\nBuilds the chip's Verilog in Verilator (about a minute), records every "
                 "population, and prints the first step and neuron where the RTL's spikes "
                 "differ from the golden model's. Exits 1 if they differ.").set_defaults(
                     func=_verify)
    plot = file_command("plot", "write raster, voltage-trace and weight-histogram PNGs",
                        ["model.npz", "model.npz --steps 300 --out plots/"], 100)
    plot.add_argument("--out", default="spikeforge-plots", help="folder for the PNGs")
    plot.set_defaults(func=_plot)
    power = file_command(
        "power", "per-core activity, power states, gated cycles and energy, with PNGs",
        ["model.npz", "model.npz --window 8 --low 5 --mid 30 --period 4000",
         "model.npz --coefficients my-fpga.json --toggles --out power/"], 200,
        "\nEach core's events go through the power policy: SLEEP (clock gated while idle) "
        "below --low percent of its input slots over a window, REDUCED (half-speed clock "
        "enable) below --mid, else ACTIVE. Cycles are counted as a gated core's own counter "
        "counts them when every step lasts --period cycles (default: the shortest period "
        "that fits the busiest step at half speed). Energy is each count times a "
        "coefficient: --coefficients is a JSON object of joules per count with a "
        "\"source\"; without it only synaptic operations are priced, at Loihi's published "
        "23.6 pJ. --toggles simulates the busiest core, gated and not, and counts register "
        "toggles and clock edges from the VCD dumps (slow: minutes for a large core).")
    power.add_argument("--window", type=int, default=16, help="steps per window (default 16)")
    power.add_argument("--low", type=float, default=10.0,
                       help="SLEEP below this percent of input slots (default 10)")
    power.add_argument("--mid", type=float, default=50.0,
                       help="REDUCED below this percent (default 50)")
    power.add_argument("--period", type=int, default=None, help="cycles per step")
    power.add_argument("--coefficients", default=None,
                       help="JSON file of joules per count, with a \"source\"")
    power.add_argument("--toggles", action="store_true",
                       help="measure toggles of the busiest core from VCD dumps")
    power.add_argument("--toggle-steps", type=int, default=40,
                       help="steps simulated for --toggles (default 40)")
    power.add_argument("--out", default="spikeforge-power", help="folder for the PNGs")
    power.add_argument("--json", default=None, help="write the report as JSON")
    power.set_defaults(func=_power)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as e:
        # User errors are sentences; a traceback would only hide them.
        print(f"spikeforge {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

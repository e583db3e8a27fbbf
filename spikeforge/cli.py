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
        report = build(args.board, params, clk_mhz=args.clk_mhz, baud=args.baud,
                       build_dir=out, progress=lambda line: print(line, flush=True))
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
    build.add_argument("--out", default=None, help="build folder (default build-BOARD)")
    build.set_defaults(func=_build)

    program = sub.add_parser(
        "program", help="load a bitstream into a board (openFPGALoader or iceprog)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  spikeforge program --board icebreaker build-icebreaker/top.bin")
    program.add_argument("--board", required=True, help="icebreaker, ulx3s-85f or ulx3s-12f")
    program.add_argument("bitstream", help="the .bin (iCE40) or .bit (ECP5) file")
    program.set_defaults(func=_program)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as e:
        print(f"spikeforge {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

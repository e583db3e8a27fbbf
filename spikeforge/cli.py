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

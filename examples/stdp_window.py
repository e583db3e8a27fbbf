"""The fixed-point STDP window: weight change against spike-time difference, as a PNG.

``python examples/stdp_window.py [out.png]`` pairs one pre spike with one post
spike ``dt`` steps apart (negative: post first) for ``dt`` in -30..30 and plots
the golden model's weight change beside the exponential it approximates.
"""

import sys

import numpy as np

from golden_model import SynapseTable
from golden_model.stdp import DecayMode, STDPParams, STDPState, learn

__all__ = ["PARAMS", "pair_dw", "window", "expected", "plot"]

PARAMS = STDPParams(trace_bits=12, decay_mode=DecayMode.MULTIPLY, x_decay=410, y_decay=273,
                    x_inc=4000, y_inc=4000, a_plus=24, a_minus=16, shift=10,
                    w_min=-100, w_max=100)


def pair_dw(dt, params=PARAMS, w0=0):
    """Weight change of one synapse after a pre spike and a post spike ``dt`` steps later."""
    syn = SynapseTable.from_synapses(1, [(0, 0, w0, 1)])
    weights = syn.weight.copy()
    state = STDPState.initial(1, 1, params)
    t_pre, t_post = (0, dt) if dt >= 0 else (-dt, 0)
    for t in range(max(t_pre, t_post) + 1):
        learn(state, syn, weights, np.array([True]), np.array([t == t_pre]),
              np.array([t == t_post]), params)
    return int(weights[0] - w0)


def window(dts, params=PARAMS):
    return np.array([pair_dw(int(dt), params) for dt in dts])


def expected(dts, params=PARAMS):
    """The float exponential the fixed-point window approximates."""
    ax, ay = 1 - params.x_decay / 4096, 1 - params.y_decay / 4096
    dts = np.asarray(dts, dtype=float)
    pot = params.a_plus * params.x_inc * ax ** dts / 2 ** params.shift
    dep = -params.a_minus * params.y_inc * ay ** (-dts) / 2 ** params.shift
    return np.where(dts > 0, pot, np.where(dts < 0, dep, 0.0))


def plot(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    dts = np.arange(-30, 31)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(dts, expected(dts), color="tab:gray", label="exponential (float)")
    ax.plot(dts, window(dts), "o", ms=3, color="tab:blue", label="golden model (fixed point)")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("t_post - t_pre (steps)")
    ax.set_ylabel("weight change")
    ax.set_title("spikeforge STDP window")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "stdp_window.png"
    plot(out)
    print(f"wrote {out}")

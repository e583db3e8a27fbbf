"""Float reference of the current-based LIF core, by exact integration.

Between steps the ODEs ``du/dt = -u / tau_u`` and ``dv/dt = -v / tau_v``
have exact solutions ``x(t + dt) = x(t) * exp(-dt / tau)``. Synaptic input
arrives as impulses into ``u`` at the step boundaries, and each step
``v`` receives ``u + bias`` as an impulse, as in Loihi's CUBA model. With
``tau = -dt / ln(1 - d/4096)`` (:meth:`LIFProfile.tau_u`) the fixed-point
core is this model with every value rounded; with widths and scales growing,
it converges here, and a test shows it.

No rounding, no wrap, no saturation: this is the model that quantisation
approximates, not a second spec of the hardware.
"""

import numpy as np

from .lif_core import normalise_inputs
from .params import NeuronModel, ResetMode

__all__ = ["simulate_float"]


def simulate_float(image, inputs, n_steps=None, dt=1.0):
    """Run ``image`` in float64; returns ``(spikes, u, v)`` as ``[T, N]`` arrays."""
    p = image.params
    if p.neuron_model is not NeuronModel.LIF:
        raise ValueError(f"simulate_float is the LIF core's reference; a core of "
                         f"{p.neuron_model.name} neurons has its own in "
                         f"golden_model.{p.neuron_model.name.lower()}")
    steps = normalise_inputs(inputs, p.n_axons, n_steps)
    N, D = p.n_neurons, p.max_delay
    prof = [image.profiles[i] for i in image.neuron_profile]
    alpha_u = np.array([np.exp(-dt / q.tau_u(dt)) if q.du_eff < 4096 else 0.0 for q in prof])
    alpha_v = np.array([np.exp(-dt / q.tau_v(dt)) if q.dv_eff < 4096 else 0.0 for q in prof])
    scale = np.array([2.0 ** q.weight_exp for q in prof])
    bias = np.array([float(q.bias) for q in prof])
    vth = np.array([float(q.vth) for q in prof])
    reset = np.array([q.reset.value for q in prof])
    v_reset = np.array([float(q.v_reset) for q in prof])
    refractory = np.array([q.refractory for q in prof])
    syn = image.synapses

    u = image.u0.astype(np.float64)
    v = image.v0.astype(np.float64)
    ref = np.zeros(N, dtype=np.int64)
    acc = np.zeros((D, N))
    T = len(steps)
    spikes = np.zeros((T, N), dtype=bool)
    us, vs = np.zeros((T, N)), np.zeros((T, N))
    for t, axons in enumerate(steps):
        for a in axons:
            s = slice(syn.start[a], syn.start[a] + syn.count[a])
            np.add.at(acc, ((t - 1 + syn.delay[s]) % D, syn.target[s]), syn.weight[s])
        u = alpha_u * u + acc[t % D] * scale
        acc[t % D] = 0
        held = ref > 0
        v_int = alpha_v * v + u + bias
        fire = ~held & (v_int > vth)
        v_after = np.select([reset == ResetMode.ZERO.value, reset == ResetMode.SUBTRACT.value],
                            [0.0, v_int - vth], v_reset)
        v = np.where(held, v, np.where(fire, v_after, v_int))
        ref = np.where(held, ref - 1, np.where(fire, refractory, 0))
        spikes[t], us[t], vs[t] = fire, u, v
    return spikes, us, vs

"""Golden model of one time-multiplexed LIF core: the specification the RTL matches.

A core holds ``n_neurons`` neurons, a CSR synapse table indexed by input
axon, a profile table, and a dendritic accumulator ring of ``max_delay``
slots per neuron. One timestep ``t`` (counting from 0) is, in this order:

1. **Deliver.** Every axon event of step ``t`` is applied. For each synapse
   ``(axon -> neuron, weight, delay)`` of the axon, ``weight`` is added to
   slot ``(t - 1 + delay) mod max_delay`` of ``neuron``, modulo
   ``2**acc_bits``. Because the sum wraps, the order of events (and of
   repeated events on one axon) never changes the result.
2. **Update.** Each neuron reads and clears slot ``t mod max_delay`` and runs
   :func:`golden_model.lif.lif_update`. Spikes are emitted in neuron order.
3. **Learn.** On a core with a learning engine, :func:`golden_model.learning.learn`
   with this step's pre events (an axon with any event), post spikes, the
   membrane after the update and the step's reward.
4. **Advance.** ``t`` becomes ``t + 1``.

The weights live in the state (``CoreState.weight``), so a learning core
delivers the weights it has learnt.

A synapse with delay ``d`` therefore reaches its neuron's update ``d - 1``
steps after the event's own step: delay 1 is seen in the same step.
"""

import dataclasses

import numpy as np

from .fixedpoint import wrap
from .image import CoreImage, SynapseTable
from .learning import LearningState, learn
from .lif import lif_update
from .stdp import entry_axons
from .structural import StructuralState, rewire
from .adex import adex_update
from .izhikevich import izhikevich_update, step_input
from .params import NeuronModel, check_int

__all__ = ["SynapseTable", "CoreImage", "CoreState", "CoreRun", "step", "simulate",
           "normalise_inputs"]


@dataclasses.dataclass
class CoreState:
    """Mutable state of a core between timesteps: what the RTL holds in its memories."""
    t: int
    u: np.ndarray
    v: np.ndarray
    ref: np.ndarray
    acc: np.ndarray  # [max_delay, n_neurons], raw acc_bits values (wrapped, signed)
    weight: np.ndarray = None     # per synapse entry; learning changes it
    learn: LearningState = None   # None on a core without learning
    target: np.ndarray = None     # per synapse entry; structural plasticity changes it
    structural: StructuralState = None
    learn_updates: int = 0        # the rule's updates so far (the RTL's LEARN_UPDATES)

    @classmethod
    def initial(cls, image):
        p = image.params
        learn_state = None
        if p.learning is not None:
            learn_state = LearningState.initial(p, len(image.synapses), image.learning)
        structural = None
        if image.structural is not None:
            structural = StructuralState.initial(len(image.synapses), image.structural)
        return cls(t=0, u=image.u0.copy(), v=image.v0.copy(),
                   ref=np.zeros(p.n_neurons, dtype=np.int64),
                   acc=np.zeros((p.max_delay, p.n_neurons), dtype=np.int64),
                   weight=image.synapses.weight.copy(), learn=learn_state,
                   target=image.synapses.target.copy(), structural=structural)

    def copy(self):
        return CoreState(self.t, self.u.copy(), self.v.copy(), self.ref.copy(), self.acc.copy(),
                         None if self.weight is None else self.weight.copy(),
                         None if self.learn is None else self.learn.copy(),
                         None if self.target is None else self.target.copy(),
                         None if self.structural is None else self.structural.copy(),
                         self.learn_updates)


@dataclasses.dataclass
class CoreRun:
    """What :func:`simulate` records: ``[n_steps, n_neurons]`` arrays and counters."""
    spikes: np.ndarray
    u: np.ndarray
    v: np.ndarray
    sops: np.ndarray    # synaptic operations delivered per step
    state: CoreState    # final state
    weights: np.ndarray = None   # [n_steps, n_entries] after each step, if recorded

    @property
    def n_spikes(self):
        return int(self.spikes.sum())

    @property
    def n_sops(self):
        return int(self.sops.sum())


def deliver(state, image, axons):
    """Apply the axon events of step ``state.t``; returns the number of SOPs."""
    p = image.params
    syn = image.synapses
    axons = np.asarray(axons, dtype=np.int64)
    if len(axons) == 0:
        return 0
    counts = syn.count[axons]
    total = int(counts.sum())
    if total == 0:
        return 0
    # Entry indices of every event's synapses, concatenated.
    first = np.repeat(syn.start[axons] - np.cumsum(counts) + counts, counts)
    entries = first + np.arange(total)
    slot = (state.t - 1 + syn.delay[entries]) % p.max_delay
    weight = syn.weight if state.weight is None else state.weight
    target = syn.target if state.target is None else state.target
    np.add.at(state.acc, (slot, target[entries]), weight[entries])
    state.acc[:] = wrap(state.acc, p.acc_bits)
    return total


def update(state, image, table=None, advance=True):
    """Run every neuron's update for step ``state.t`` (and advance); returns spikes.

    A core of Izhikevich or AdEx neurons (``CoreParams.neuron_model``) updates each
    profile's neurons with :func:`golden_model.izhikevich.izhikevich_update` or
    :func:`golden_model.adex.adex_update`, ``u`` holding their second variable; the input
    is the slot shifted by the profile's ``weight_exp``, plus its ``bias``, saturated
    (:func:`golden_model.izhikevich.step_input`).
    """
    p = image.params
    slot = state.t % p.max_delay
    if p.neuron_model is NeuronModel.LIF:
        table = image.profile_table if table is None else table
        offset = 0 if state.learn is None else state.learn.theta
        u, v, ref, spikes = lif_update(state.u, state.v, state.ref, state.acc[slot], table,
                                       p.state_bits, p.acc_bits, offset)
    else:
        u, v, ref = state.u.copy(), state.v.copy(), state.ref
        spikes = np.zeros(p.n_neurons, dtype=bool)
        for k, prof in enumerate(image.profiles):
            sel = image.neuron_profile == k
            current = step_input(state.acc[slot][sel], prof.weight_exp, prof.bias,
                                 p.state_bits)
            if p.neuron_model is NeuronModel.IZHIKEVICH:
                v[sel], u[sel], spikes[sel] = izhikevich_update(
                    v[sel], u[sel], current, prof.a, prof.b, prof.c, prof.d, prof.v_peak,
                    p.state_bits)
            else:
                v[sel], u[sel], spikes[sel] = adex_update(v[sel], u[sel], current, prof)
    state.acc[slot] = 0
    state.u, state.v, state.ref = u, v, ref
    if advance:
        state.t += 1
    return spikes


def learn_step(state, image, axons, spikes, reward=0):
    """Step 3 of the contract for a learning core; returns the rule's update count."""
    p = image.params
    pre = np.zeros(p.n_axons, dtype=bool)
    pre[np.asarray(axons, dtype=np.int64)] = True
    syn = image.synapses
    if state.structural is not None:
        # The rule scans the table as structural plasticity has rewired it.
        syn = dataclasses.replace(syn, target=state.target)
    count = learn(state.learn, p, syn, state.weight, image.plastic, pre, spikes,
                  state.v, reward, image.learning, image.homeostasis)
    if state.structural is not None:
        rewire(state.structural, state.target, state.weight, image.plastic,
               entry_axons(syn)[0], p.n_neurons, image.structural)
    return count


def step(state, image, axons, table=None, reward=0):
    """One whole timestep: deliver ``axons`` (event list, repeats allowed), update,
    learn (on a learning core, with the signed 8-bit ``reward``), advance.

    Returns ``(spikes, sops)``; ``state`` is changed in place.
    """
    check_int("reward", reward, -128, 127)
    sops = deliver(state, image, axons)
    spikes = update(state, image, table, advance=False)
    if state.learn is not None:
        state.learn_updates += learn_step(state, image, axons, spikes, reward)
    elif reward:
        raise ValueError(f"reward must be 0 on a core without learning, not {reward}")
    state.t += 1
    return spikes, sops


def normalise_inputs(inputs, n_axons, n_steps=None):
    """Turn inputs into a list (one per step) of int64 axon-id arrays.

    Accepts a ``[T, n_axons]`` array of event counts (or booleans), or a
    sequence of per-step axon-id lists. ``n_steps`` pads with empty steps.
    """
    if isinstance(inputs, np.ndarray) and inputs.ndim == 2:
        if inputs.shape[1] != n_axons:
            raise ValueError(f"inputs must have {n_axons} columns (n_axons), "
                             f"not shape {inputs.shape}")
        if inputs.dtype.kind not in "iub":
            raise TypeError(f"inputs must hold integer event counts, not {inputs.dtype}")
        counts = inputs.astype(np.int64)
        if (counts < 0).any():
            raise ValueError("inputs must hold event counts >= 0")
        steps = [np.repeat(np.arange(n_axons, dtype=np.int64), row) for row in counts]
    else:
        steps = []
        for t, events in enumerate(inputs):
            arr = np.asarray(list(events))
            if arr.size and arr.dtype.kind not in "iu":
                raise TypeError(f"inputs[{t}] must hold integer axon ids, not {arr.dtype}")
            arr = arr.astype(np.int64).reshape(-1)
            bad = np.flatnonzero((arr < 0) | (arr >= n_axons))
            if len(bad):
                raise ValueError(f"inputs[{t}] axon must be between 0 and {n_axons - 1}, "
                                 f"not {arr[bad[0]]}")
            steps.append(arr)
    if n_steps is not None:
        check_int("n_steps", n_steps, 0, 1 << 40)
        if len(steps) > n_steps:
            raise ValueError(f"inputs cover {len(steps)} steps, more than n_steps = {n_steps}")
        steps += [np.zeros(0, dtype=np.int64)] * (n_steps - len(steps))
    return steps


def _rewards(reward, n_steps):
    if reward is None:
        return np.zeros(n_steps, dtype=np.int64)
    arr = np.asarray(reward)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"reward must hold integers, not {arr.dtype}")
    if arr.shape != (n_steps,):
        raise ValueError(f"reward must have one value per step ({n_steps}), not shape {arr.shape}")
    bad = np.flatnonzero((arr < -128) | (arr > 127))
    if len(bad):
        raise ValueError(f"reward[{bad[0]}] must be between -128 and 127, not {arr[bad[0]]}")
    return arr.astype(np.int64)


def simulate(image, inputs, n_steps=None, state=None, reward=None, record_weights=False):
    """Run the core for ``n_steps`` (default: as many as ``inputs`` has).

    ``reward`` gives a learning core's modulator for each step (default 0);
    ``record_weights`` keeps every entry's weight after every step.
    """
    p = image.params
    steps = normalise_inputs(inputs, p.n_axons, n_steps)
    state = CoreState.initial(image) if state is None else state
    table = image.profile_table
    T, N = len(steps), p.n_neurons
    rewards = _rewards(reward, T)
    spikes = np.zeros((T, N), dtype=bool)
    us = np.zeros((T, N), dtype=np.int64)
    vs = np.zeros((T, N), dtype=np.int64)
    sops = np.zeros(T, dtype=np.int64)
    weights = np.zeros((T, len(image.synapses)), dtype=np.int64) if record_weights else None
    for t, axons in enumerate(steps):
        spikes[t], sops[t] = step(state, image, axons, table, int(rewards[t]))
        us[t], vs[t] = state.u, state.v
        if record_weights:
            weights[t] = state.weight
    return CoreRun(spikes=spikes, u=us, v=vs, sops=sops, state=state, weights=weights)

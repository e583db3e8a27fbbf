"""The compiled fast path against the numpy golden model, bit for bit.

Random images from :mod:`sim.stimulus` cover every rounding, overflow and
reset mode, refractory periods, weight exponents, delays, repeated events and
accumulators narrow enough to wrap; a hand-computed trace pins the wrap; a
recurrent network checks the loopback against the spec stepped by hand.
"""

import numpy as np
import pytest

from golden_model import CoreImage, CoreParams, CoreState, LIFProfile, SynapseTable
from golden_model.fixedpoint import (DECAY_ONE, DECAY_SHIFT, Overflow, Rounding,
                                     apply_overflow, decay, signed_max, signed_min)
from golden_model.lif_core import normalise_inputs, simulate, step
from golden_model.params import ResetMode
from sim.stimulus import random_image, random_inputs
from spikeforge import fastsim
from spikeforge.fastsim import FastCore, simulate_core, simulate_fast

__all__ = []


def test_scalar_helpers_match_fixedpoint():
    # The corners a random run rarely reaches: a negative product whose low 12 bits are
    # 1 (toward zero must round it up to 0, never to -1), the extremes and zero.
    rng = np.random.default_rng(0)
    for bits in (8, 13, 24):
        xs = sorted({0, 1, -1, 4095, -4095, 4096, -4096, -4097, signed_max(bits),
                     signed_min(bits), signed_max(bits) - 1, signed_min(bits) + 1,
                     *rng.integers(signed_min(bits), signed_max(bits) + 1, 40).tolist()})
        for d in (0, 1, 2048, 4095, 4096, int(rng.integers(0, 4097))):
            for rounding in Rounding:
                want = decay(np.array(xs), d, rounding)
                got = [fastsim._decay(x, d, rounding is Rounding.FLOOR, DECAY_SHIFT, DECAY_ONE)
                       for x in xs]
                assert got == want.tolist(), (bits, d, rounding)
        wide = xs + [2 * signed_max(bits) + 1, 2 * signed_min(bits), 3 << bits, -(3 << bits)]
        for overflow in Overflow:
            want = apply_overflow(np.array(wide), bits, overflow)
            got = [fastsim._overflow(x, bits, overflow is Overflow.SATURATE) for x in wide]
            assert got == want.tolist(), (bits, overflow)


def random_params(rng, *, n_axons=None, n_neurons=None):
    S = int(rng.integers(8, 25))
    W = int(rng.integers(1, 9))
    # Narrow accumulators (a few bits above the weight) wrap within one step; wide
    # ones (up to 32 bits) never do.
    acc_bits = int(rng.choice([max(S, W + 1), rng.integers(W + 1, W + 4),
                               rng.integers(max(S, W + 1), 33)]))
    N = int(rng.integers(16, 40)) if n_neurons is None else n_neurons
    A = int(rng.integers(1, 40)) if n_axons is None else n_axons
    return CoreParams(
        n_neurons=N, n_axons=A, n_synapses=int(rng.integers(N, 6 * N)),
        max_delay=int(rng.choice([1, rng.integers(2, 17)])), state_bits=S, weight_bits=W,
        weight_signed=bool(rng.integers(0, 2)), n_profiles=int(rng.integers(1, 5)),
        refractory_bits=int(rng.integers(1, 5)), acc_bits=acc_bits)


def random_case(seed):
    rng = np.random.default_rng(seed)
    params = random_params(rng)
    image = random_image(rng, params, fan_out_all=bool(rng.integers(0, 2)))
    T = int(rng.integers(20, 60))
    inputs = random_inputs(rng, params.n_axons, T, rate=float(rng.choice([0.05, 0.3, 0.8])),
                           burst_every=int(rng.choice([0, 7])))
    n_steps = None
    if seed % 3 == 0:
        # The other accepted form: a [T, n_axons] array of event counts.
        inputs = np.array([np.bincount(np.asarray(s, dtype=np.int64),
                                       minlength=params.n_axons) for s in inputs])
    if seed % 4 == 0:
        n_steps = T + 5    # padding with empty steps
    return image, inputs, n_steps


def assert_same_run(fast, spec, record_state=True):
    np.testing.assert_array_equal(fast.spikes, spec.spikes)
    np.testing.assert_array_equal(fast.sops, spec.sops)
    if record_state:
        np.testing.assert_array_equal(fast.u, spec.u)
        np.testing.assert_array_equal(fast.v, spec.v)
    else:
        assert fast.u is None and fast.v is None
    assert fast.state.t == spec.state.t
    for name in ("u", "v", "ref", "acc"):
        a, b = getattr(fast.state, name), getattr(spec.state, name)
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a, b, err_msg=f"state.{name}")


SEEDS = range(30)


@pytest.mark.parametrize("seed", SEEDS)
def test_matches_spec(seed):
    image, inputs, n_steps = random_case(seed)
    spec = simulate(image, inputs, n_steps)
    assert_same_run(simulate_fast(image, inputs, n_steps, record_state=True), spec)
    assert_same_run(simulate_fast(image, inputs, n_steps), spec, record_state=False)


def test_random_cases_cover_the_modes():
    # Guards the test above against a generator that stops reaching a corner.
    seen = set()
    spikes = 0
    for seed in SEEDS:
        image, inputs, n_steps = random_case(seed)
        p = image.params
        for prof in image.profiles:
            seen |= {prof.rounding, ("u", prof.u_overflow), ("v", prof.v_overflow), prof.reset}
            seen |= {"refractory"} if prof.refractory else set()
            seen |= {"weight_exp"} if prof.weight_exp else set()
        seen |= {"narrow_acc"} if p.acc_bits < p.state_bits else set()
        seen |= {"delays"} if p.max_delay > 1 else set()
        seen |= {"unsigned"} if not p.weight_signed else set()
        seen |= {"repeats"} if any(len(s) > len(set(s.tolist())) for s in
                                   normalise_inputs(inputs, p.n_axons, n_steps)) else set()
        spikes += simulate_fast(image, inputs, n_steps).n_spikes
    want = {*Rounding, *ResetMode, *(("u", o) for o in Overflow), *(("v", o) for o in Overflow),
            "refractory", "weight_exp", "narrow_acc", "delays", "unsigned", "repeats"}
    assert want <= seen, want - seen
    assert spikes > 0


def test_continues_from_state():
    image, inputs, _ = random_case(7)
    spec = simulate(image, inputs)
    state = CoreState.initial(image)
    half = len(inputs) // 2
    first = simulate_fast(image, inputs[:half], record_state=True, state=state)
    second = simulate_fast(image, inputs[half:], record_state=True, state=state)
    assert first.state is state and second.state is state
    np.testing.assert_array_equal(np.concatenate([first.spikes, second.spikes]), spec.spikes)
    np.testing.assert_array_equal(np.concatenate([first.v, second.v]), spec.v)
    assert_same_run(second, simulate(image, inputs[half:],
                                     state=simulate(image, inputs[:half]).state))


def test_accumulator_wraps():
    # acc_bits = 9 holds -256..255. Three events of weight 127 on one axon sum to 381,
    # which wraps to 381 - 512 = -131: with weight_exp 1 and no decay, u = -262.
    params = CoreParams(n_neurons=16, n_axons=1, n_synapses=1, max_delay=2, state_bits=16,
                        weight_bits=8, acc_bits=9)
    image = CoreImage(params=params, profiles=[LIFProfile(vth=1000, weight_exp=1)],
                      neuron_profile=0,
                      synapses=SynapseTable.from_synapses(1, [(0, 3, 127, 2)]))
    inputs = [[0, 0, 0], [], []]
    fast = simulate_fast(image, inputs, record_state=True)
    assert fast.u[:, 3].tolist() == [0, -262, -262]
    assert fast.v[:, 3].tolist() == [0, -262, -524]
    assert fast.sops.tolist() == [3, 0, 0]
    assert_same_run(fast, simulate(image, inputs))


def step_by_step_loopback(image, steps):
    """The spec driven by hand: each step's spikes are the next step's axon events."""
    state = CoreState.initial(image)
    table = image.profile_table
    routed = np.zeros(0, dtype=np.int64)
    spikes, sops, vs = [], [], []
    for axons in steps:
        s, n = step(state, image, np.concatenate([axons, routed]), table)
        routed = np.flatnonzero(s)
        spikes.append(s)
        sops.append(n)
        vs.append(state.v.copy())
    return np.array(spikes), np.array(sops), np.array(vs), state


@pytest.mark.parametrize("seed", range(8))
def test_loopback_matches_spec_stepped(seed):
    rng = np.random.default_rng(1000 + seed)
    n_neurons = int(rng.integers(16, 40))
    # Axons 0..N-1 carry the neurons' own spikes; the rest only external events.
    params = random_params(rng, n_neurons=n_neurons,
                           n_axons=n_neurons + int(rng.integers(0, 8)))
    image = random_image(rng, params)
    steps = normalise_inputs(random_inputs(rng, params.n_axons, 50, rate=0.05),
                             params.n_axons)
    spikes, sops, vs, state = step_by_step_loopback(image, steps)
    fast = simulate_core(FastCore.from_image(image), steps, record_state=True, loopback=True)
    np.testing.assert_array_equal(fast.spikes, spikes)
    np.testing.assert_array_equal(fast.sops, sops)
    np.testing.assert_array_equal(fast.v, vs)
    for name in ("u", "v", "ref", "acc"):
        np.testing.assert_array_equal(getattr(fast.state, name), getattr(state, name))


def test_loopback_routes_spikes():
    # Neuron 0 fires at step 0 (bias above vth); its spike reaches neuron 1 through
    # axon 0 at step 1, and neuron 1 fires at step 1 too: a chain, one hop a step.
    params = CoreParams(n_neurons=16, n_axons=16, n_synapses=2, max_delay=1, state_bits=16)
    image = CoreImage(params=params,
                      profiles=[LIFProfile(vth=50, reset=ResetMode.ZERO, du=4095, du_offset=1,
                                           dv=4095, dv_offset=1),
                                LIFProfile(vth=50, bias_mant=100, refractory=15, dv=4095,
                                           dv_offset=1)],
                      neuron_profile=[1] + [0] * 15,
                      synapses=SynapseTable.from_synapses(16, [(0, 1, 100, 1), (1, 2, 100, 1)]))
    run = simulate_core(FastCore.from_image(image), [], n_steps=4, loopback=True)
    assert [np.flatnonzero(s).tolist() for s in run.spikes] == [[0], [1], [2], []]
    assert run.sops.tolist() == [0, 1, 1, 0]


def test_fast_core_is_not_bound_by_core_params_sizes():
    # CoreParams allows at most 65536 synapses; FastCore checks only its widths.
    n = 300
    rng = np.random.default_rng(0)
    dense = np.where(rng.random((n, n)) < 0.8, 1, 0)
    syn = SynapseTable.from_dense(dense)
    assert len(syn) > 65536
    core = FastCore(n_neurons=n, n_axons=n, synapses=syn,
                    profiles=[LIFProfile(vth=1000, bias_mant=1)], neuron_profile=0)
    run = simulate_core(core, [list(range(n))], n_steps=2)
    assert run.n_sops == len(syn)
    assert not run.state.acc.any()
    np.testing.assert_array_equal(run.state.u, dense.sum(axis=0))


def small_core(**kwargs):
    args = dict(n_neurons=4, n_axons=2,
                synapses=SynapseTable.from_synapses(2, [(0, 1, 3, 1), (1, 2, -3, 2)]),
                profiles=[LIFProfile()], neuron_profile=0)
    args.update(kwargs)
    return FastCore(**args)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_neurons=0), ValueError, r"^n_neurons must be between 1 and \d+, not 0$"),
    (dict(max_delay=65), ValueError, r"^max_delay must be between 1 and 64, not 65$"),
    (dict(weight_bits=8, acc_bits=40), ValueError,
     r"^acc_bits must be between 9 and 32, not 40$"),
    (dict(weight_signed=1), TypeError, r"^weight_signed must be a bool, not 1$"),
    (dict(profiles=[]), ValueError, r"^profiles must hold at least one profile, not 0$"),
    (dict(profiles=[LIFProfile(refractory=20)]), ValueError,
     r"^profiles\[0\]\.refractory must be between 0 and 15, not 20$"),
    (dict(neuron_profile=[0, 0, 1, 0]), ValueError,
     r"^neuron_profile\[2\] must be between 0 and 0, not 1$"),
    (dict(n_axons=1), ValueError, r"^synapses use 2 axons, more than n_axons = 1$"),
    (dict(max_delay=1), ValueError,
     r"^synapse entry 1 delay must be between 1 and 1, not 2$"),
    (dict(weight_bits=2), ValueError,
     r"^synapse entry 0 weight must be between -2 and 1 for 2-bit signed weights, not 3$"),
    (dict(synapses=SynapseTable(start=np.array([0, 1]), count=np.array([1, 2]),
                                target=np.array([1, 2]), weight=np.array([3, -3]),
                                delay=np.array([1, 2]))), ValueError,
     r"^synapse axon 1 start \+ count must be between 0 and 2, not 3$"),
    (dict(synapses=SynapseTable(start=np.array([0, 1]), count=np.array([1, 1]),
                                target=np.array([1, 2]), weight=np.array([3]),
                                delay=np.array([1, 2]))), ValueError,
     r"^synapse weight must have one entry per synapse \(2\), not 1$"),
    (dict(synapses=SynapseTable(start=np.array([0, 1]), count=np.array([1, 1]),
                                target=np.array([1, 2]), weight=np.array([3.0, -3.5]),
                                delay=np.array([1, 2]))), TypeError,
     r"^synapse weight must hold integers, not float64$"),
])
def test_fast_core_checks(kwargs, error, match):
    with pytest.raises(error, match=match):
        small_core(**kwargs)


def test_simulate_core_checks():
    core = small_core()
    with pytest.raises(ValueError, match=r"^loopback needs an axon for every neuron: n_axons "
                                         r"must be at least n_neurons = 4, not 2$"):
        simulate_core(core, [], n_steps=1, loopback=True)
    with pytest.raises(TypeError, match=r"^record_state must be a bool, not 1$"):
        simulate_core(core, [], n_steps=1, record_state=1)
    with pytest.raises(ValueError, match=r"^inputs\[0\] axon must be between 0 and 1, not 2$"):
        simulate_core(core, [[2]])
    state = core.initial_state()
    state.acc = np.zeros((2, 4), dtype=np.int64)
    with pytest.raises(ValueError, match=r"^state\.acc must have shape \(8, 4\), not \(2, 4\)$"):
        simulate_core(core, [], n_steps=1, state=state)
    state = core.initial_state()
    state.ref[3] = 16
    with pytest.raises(ValueError, match=r"^state\.ref\[3\] must be between 0 and 15, not 16$"):
        simulate_core(core, [], n_steps=1, state=state)
    state = core.initial_state()
    state.acc[5, 2] = 1 << 23
    with pytest.raises(ValueError, match=r"^state\.acc\[5, 2\] must be between -8388608 and "
                                         r"8388607, not 8388608$"):
        simulate_core(core, [], n_steps=1, state=state)
    with pytest.raises(TypeError, match=r"^image must be a CoreImage, not 3$"):
        simulate_fast(3, [])

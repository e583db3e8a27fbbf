"""Tier 2 tests of :mod:`golden_model.lif_core`: whole-core timesteps, by hand and against Lava.

Hand-computed traces pin the deliver/update order of the timestep contract:
the delay of a synapse (a spike at step t with delay d is seen in the update
of step t - 1 + d), the accumulator ring, the wrap of the accumulator modulo
``2**acc_bits`` and the independence of event order. The Loihi preset is
checked against a separate, plain re-implementation of Lava's documented
bit-accurate CUBA LIF update.
"""

import re

import numpy as np
import pytest

from golden_model import (CoreImage, CoreParams, CoreState, LIFProfile, SynapseTable,
                          simulate, step)

# u equals this step's accumulator (shifted), so a u trace shows exactly when
# input arrived; vth at the 16-bit maximum keeps v from ever spiking.
PROBE = LIFProfile(du=4095, du_offset=1, vth=(1 << 15) - 1)
QUIET = LIFProfile(vth=100)


def core(synapses, profiles, neuron_profile=0, n_axons=4, max_delay=4, **kwargs):
    params = CoreParams(n_neurons=16, n_axons=n_axons, n_synapses=64, max_delay=max_delay,
                        state_bits=kwargs.pop("state_bits", 16), **kwargs)
    return CoreImage(params, tuple(profiles), neuron_profile,
                     SynapseTable.from_synapses(n_axons, synapses))


def test_hand_trace_through_simulate():
    # Neuron 0: du = 1024 (keeps 3/4), dv = 2048 (keeps 1/2), input = acc << 2,
    # bias = 3 << 1 = 6, vth = 100. Axon 0 -> neuron 0, weight 5, delay 1.
    # The other neurons use a quiet profile and no synapse reaches them.
    p = LIFProfile(du=1024, dv=2048, weight_exp=2, bias_mant=3, bias_exp=1, vth=100)
    img = core([(0, 0, 5, 1)], [p, QUIET], neuron_profile=[0] + [1] * 15)
    # Two events on axon 0 in one step give acc = 10.
    run = simulate(img, [[0], [0], [], [], [], [0, 0], [0, 0], []])
    # t  acc  u                           v
    # 0  5    0 + 20 = 20                 0 + 20 + 6 = 26
    # 1  5    15 + 20 = 35                13 + 35 + 6 = 54
    # 2  0    26.25 -> 26                 27 + 26 + 6 = 59
    # 3  0    19.5 -> 19                  29.5 -> 29; 29 + 19 + 6 = 54
    # 4  0    14.25 -> 14                 27 + 14 + 6 = 47
    # 5  10   10.5 -> 10; 10 + 40 = 50    23.5 -> 23; 23 + 50 + 6 = 79
    # 6  10   37.5 -> 37; 37 + 40 = 77    39.5 -> 39; 39 + 77 + 6 = 122 > 100: spike, 0
    # 7  0    57.75 -> 57                 0 + 57 + 6 = 63
    assert run.u[:, 0].tolist() == [20, 35, 26, 19, 14, 50, 77, 57]
    assert run.v[:, 0].tolist() == [26, 54, 59, 54, 47, 79, 0, 63]
    assert np.flatnonzero(run.spikes[:, 0]).tolist() == [6]
    assert run.sops.tolist() == [1, 1, 0, 0, 0, 2, 2, 0]
    assert (run.n_spikes, run.n_sops) == (1, 6)
    assert not run.u[:, 1:].any() and not run.v[:, 1:].any()
    assert run.state.t == 8


def test_delay_semantics_and_ring():
    # max_delay D = 4. Axon 0 fans out to neuron 0 (delay 1) and three times to
    # neuron 4 (weights 1, 2, 4 with delays 1, 2, 4 = D). Axons 1..3 reach
    # neurons 1..3 with delays 2, 4 and 3.
    synapses = [(0, 0, 1, 1), (0, 4, 1, 1), (0, 4, 2, 2), (0, 4, 4, 4),
                (1, 1, 1, 2), (2, 2, 1, 4), (3, 3, 1, 3)]
    img = core(synapses, [PROBE])
    inputs = [[] for _ in range(14)]
    inputs[0] = inputs[1] = [0]
    inputs[2] = [1, 2, 3]
    inputs[9] = [0]
    run = simulate(img, inputs)
    want = np.zeros((14, 16), dtype=np.int64)
    # Delay 1 is seen in the same step.
    want[[0, 1, 9], 0] = 1
    # A spike at t = 2 with delay d is seen at 2 - 1 + d.
    want[3, 1] = 1          # d = 2
    want[5, 2] = 1          # d = 4 = D
    want[4, 3] = 1          # d = 3
    # Neuron 4, by step:  t0: 1 (t0, d1)  t1: 2 (t0, d2) + 1 (t1, d1)  t2: 2 (t1, d2)
    # t3: 4 (t0, d4)  t4: 4 (t1, d4; its ring slot was read and cleared at t0)
    # t9: 1  t10: 2  t12: 4.
    want[[0, 1, 2, 3, 4, 9, 10, 12], 4] = [1, 3, 2, 4, 4, 1, 2, 4]
    np.testing.assert_array_equal(run.u, want)
    assert run.sops.tolist() == [4, 4, 3, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]
    assert not run.spikes.any()


def test_pending_delayed_input_survives_between_runs():
    # A delay-4 event at t = 0 is due at t = 3. Split the run at t = 1: the
    # pending accumulator slot travels in the state.
    img = core([(0, 0, 7, 4)], [PROBE])
    first = simulate(img, [[0]])
    assert first.u[:, 0].tolist() == [0]
    rest = simulate(img, [], n_steps=4, state=first.state)
    assert rest.u[:, 0].tolist() == [0, 0, 7, 0]
    assert rest.state.t == 5


def test_refractory_counter_in_the_core():
    # No decay; bias 40, vth 100, zero reset, 3 steps refractory (2-bit counter).
    # Axon 0 -> neuron 0 weight 5 at t = 3, during the hold: u integrates it.
    p = LIFProfile(bias_mant=40, vth=100, refractory=3)
    img = core([(0, 0, 5, 1)], [p, QUIET], neuron_profile=[0] + [1] * 15, refractory_bits=2)
    state = CoreState.initial(img)
    inputs = [[], [], [], [0], [], [], [], [], []]
    us, vs, refs, spikes = [], [], [], []
    for t, axons in enumerate(inputs):
        s, _ = step(state, img, axons)
        us.append(int(state.u[0]))
        vs.append(int(state.v[0]))
        refs.append(int(state.ref[0]))
        if s[0]:
            spikes.append(t)
    # t  u  v                           ref
    # 0  0  40                          0
    # 1  0  80                          0
    # 2  0  120 > 100: spike, 0         3
    # 3  5  held                        2
    # 4  5  held                        1
    # 5  5  held                        0
    # 6  5  0 + 5 + 40 = 45             0
    # 7  5  45 + 45 = 90                0
    # 8  5  90 + 45 = 135: spike, 0     3
    assert us == [0, 0, 0, 5, 5, 5, 5, 5, 5]
    assert vs == [40, 80, 0, 0, 0, 0, 45, 90, 0]
    assert refs == [0, 0, 3, 2, 1, 0, 0, 0, 3]
    assert spikes == [2, 8]


def test_accumulator_wraps_modulo_acc_bits():
    # acc_bits = 9 (the least for 8-bit weights): sums live in [-256, 255].
    # Axon 0: +100, axon 1: -100 (delay 1); axon 2: +100 with delay 2.
    synapses = [(0, 0, 100, 1), (1, 0, -100, 1), (2, 0, 100, 2)]
    img = core(synapses, [PROBE], acc_bits=9)
    inputs = [[0, 0, 0], [0, 0, 0, 1], [0] * 4, [0] * 5 + [1] * 5, [1, 1, 1], [2, 2], [0, 0]]
    run = simulate(img, inputs)
    # t0: 300 - 512 = -212     t1: 200     t2: 400 - 512 = -112     t3: 0
    # t4: -300 + 512 = 212     t5: 0 (the delayed 200 is for t6)
    # t6: 200 (from t5, delay 2) + 200 = 400 -> -112
    assert run.u[:, 0].tolist() == [-212, 200, -112, 0, 212, 0, -112]
    # With a wide accumulator the same events are not wrapped.
    wide = simulate(core(synapses, [PROBE]), inputs)
    assert wide.u[:, 0].tolist() == [300, 200, 400, 0, -300, 0, 400]


def test_accumulator_wrap_is_invisible_when_u_wraps_at_state_width():
    # Default acc_bits = S: u = wrap_S(wrap_S(acc) << e) = wrap_S(acc << e).
    # 16-bit state, weight_exp = 9: 3 * 100 << 9 = 153600 -> 153600 - 131072 = 22528.
    p = LIFProfile(du=4095, du_offset=1, vth=(1 << 15) - 1, weight_exp=9)
    img = core([(0, 0, 100, 1)], [p])
    assert img.params.acc_bits == 16
    run = simulate(img, [[0, 0, 0], [0] * 7])
    # 7 * 100 << 9 = 358400 = 5 * 65536 + 30720 -> 30720.
    assert run.u[:, 0].tolist() == [22528, 30720]


def test_event_order_and_repeats_do_not_matter():
    rng = np.random.default_rng(3)
    n_axons, T = 8, 40
    synapses = [(a, int(rng.integers(16)), int(rng.integers(-128, 128)),
                 int(rng.integers(1, 5))) for a in range(n_axons) for _ in range(8)]
    profiles = [LIFProfile(du=300, dv=700, vth=2000, weight_exp=3, bias_mant=5),
                LIFProfile(du=50, dv=0, vth=30000, reset="subtract", refractory=2,
                           rounding="floor")]
    # A 9-bit accumulator wraps often with these many events: only a modular sum
    # can make order irrelevant.
    img = core(synapses, profiles, neuron_profile=np.arange(16) % 2, n_axons=n_axons,
               acc_bits=9)
    events = [sorted(rng.integers(0, n_axons, size=int(rng.integers(0, 12))).tolist())
              for _ in range(T)]
    ref = simulate(img, events)
    assert ref.spikes.any()
    for seed in range(3):
        order = np.random.default_rng(100 + seed)
        shuffled = [order.permutation(e).tolist() for e in events]
        run = simulate(img, shuffled)
        np.testing.assert_array_equal(run.u, ref.u)
        np.testing.assert_array_equal(run.v, ref.v)
        np.testing.assert_array_equal(run.spikes, ref.spikes)
        np.testing.assert_array_equal(run.sops, ref.sops)
    # The same events as a [T, n_axons] count matrix give the same run.
    counts = np.zeros((T, n_axons), dtype=np.int64)
    for t, e in enumerate(events):
        np.add.at(counts[t], e, 1)
    run = simulate(img, counts)
    np.testing.assert_array_equal(run.v, ref.v)
    np.testing.assert_array_equal(run.spikes, ref.spikes)


def test_repeated_event_counts_each_time():
    # Three events on one axon in one step: 3 synaptic operations of weight 3.
    img = core([(0, 0, 3, 1), (0, 1, -2, 1)], [PROBE])
    run = simulate(img, [[0, 0, 0], [0]])
    assert run.u[:, :2].tolist() == [[9, -6], [3, -2]]
    assert run.sops.tolist() == [6, 2]


# -- Loihi preset against Lava's bit-accurate CUBA LIF -----------------------------------

LAVA_MAX_UV = 1 << 23


def lava_decay(x, d):
    # Lava: sign(x * (4096 - d)) * (|x * (4096 - d)| >> 12).
    prod = x * (4096 - d)
    return np.sign(prod) * (np.abs(prod) >> 12)


def lava_cuba(weights, counts, du, dv, vth, bias_mant, bias_exp, weight_exp):
    """Lava's PyLifModelBitAcc update, written out from its documentation.

    Parameters are per-neuron arrays of the raw Loihi values (before any
    shift). The dense layer's weight exponent and the neuron's ``<< 6`` act
    shift are applied to the summed input.
    """
    n = weights.shape[1]
    u = np.zeros(n, dtype=np.int64)
    v = np.zeros(n, dtype=np.int64)
    us, vs, spikes, wrapped, clipped = [], [], [], 0, 0
    for row in counts:
        a_in = row.astype(np.int64) @ weights
        pre = lava_decay(u, du + 1) + (a_in << (6 + weight_exp))
        # Lava's two conditional corrections are a true modulo-2**24 wrap only
        # inside (-3 * 2**23, 3 * 2**23), and differ from two's complement at
        # exactly +-2**23: stay away from both.
        assert (np.abs(pre) < 3 * LAVA_MAX_UV).all()
        assert not (np.abs(pre) == LAVA_MAX_UV).any()
        u = np.where(pre > LAVA_MAX_UV, pre - 2 * LAVA_MAX_UV, pre)
        u = np.where(u <= -LAVA_MAX_UV, pre + 2 * LAVA_MAX_UV, u)
        wrapped += int((u != pre).sum())
        raw = lava_decay(v, dv) + u + (bias_mant << bias_exp)
        v = np.clip(raw, -LAVA_MAX_UV + 1, LAVA_MAX_UV - 1)
        clipped += int((v != raw).sum())
        s = v > (vth << 6)
        v = np.where(s, 0, v)
        us.append(u)
        vs.append(v)
        spikes.append(s)
    return np.array(us), np.array(vs), np.array(spikes), wrapped, clipped


def test_loihi_preset_matches_lava_cuba():
    rng = np.random.default_rng(2024)
    n_axons, n, T = 8, 16, 300
    # Raw Loihi parameters of four profiles: (du, dv, vth, bias_mant, bias_exp, weight_exp).
    # 0: moderate decays; 1: du = dv = 0 with large inputs so u wraps and v
    # saturates; 2: everything forgotten each step, vth = 0; 3: strong negative bias.
    raw = [(410, 205, 700, 50, 4, 3),
           (0, 0, 100000, -30, 2, 7),
           (4095, 4095, 0, 0, 0, 0),
           (1000, 3000, 2000, -4096, 7, 5)]
    profiles = tuple(LIFProfile.loihi(du=a, dv=b, vth=c, bias_mant=d, bias_exp=e, weight_exp=f)
                     for a, b, c, d, e, f in raw)
    weights = rng.integers(-128, 128, size=(n_axons, n))
    neuron_profile = np.arange(n) % 4
    params = CoreParams.loihi(n, n_axons, n_axons * n, max_delay=1, n_profiles=4)
    img = CoreImage(params, profiles, neuron_profile, SynapseTable.from_dense(weights))
    counts = rng.binomial(2, 0.25, size=(T, n_axons))
    run = simulate(img, counts)

    cols = [np.array([raw[p][i] for p in neuron_profile]) for i in range(6)]
    u, v, spikes, wrapped, clipped = lava_cuba(weights, counts, *cols)
    # The run must exercise spikes, the u wrap and the v clip to mean anything.
    assert spikes.sum() > 50 and wrapped > 10 and clipped > 10
    np.testing.assert_array_equal(run.u, u)
    np.testing.assert_array_equal(run.v, v)
    np.testing.assert_array_equal(run.spikes, spikes)


def test_lif_only_paths_refuse_other_models():
    from golden_model.event_sim import simulate_events
    from golden_model.float_ref import simulate_float
    from sim.stimulus import random_image
    from spikeforge.fastsim import simulate_fast
    rng = np.random.default_rng(0)
    for model in ("izhikevich", "adex"):
        params = CoreParams(n_neurons=16, n_axons=2, n_synapses=8, max_delay=1,
                            state_bits=16, neuron_model=model)
        image = random_image(rng, params)
        name = model.upper()
        for call, message in (
                (lambda: simulate_fast(image, [[]]),
                 f"the fast path runs LIF cores; simulate a core of {name} neurons with "
                 f"golden_model.lif_core.simulate"),
                (lambda: simulate_events(image, [[]]),
                 f"the event-driven simulator runs LIF cores, not {name} ones; use "
                 f"simulate_chip"),
                (lambda: simulate_float(image, [[]]),
                 f"simulate_float is the LIF core's reference; a core of {name} neurons has "
                 f"its own in golden_model.{model}")):
            with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
                call()


@pytest.mark.parametrize("kwargs,message", [
    (dict(neuron_model="hh"), "neuron_model must be one of lif, izhikevich, adex, not 'hh'"),
    (dict(neuron_model="adex", state_bits=8),
     "state_bits must be between 12 and 24 for ADEX neurons, not 8"),
    (dict(neuron_model="izhikevich", learning="stdp"), None),
])
def test_model_core_params(kwargs, message):
    from golden_model.params import LearningSpec, Rule
    if kwargs.get("learning") == "stdp":
        kwargs["learning"] = LearningSpec(rule=Rule.STDP)
        message = "learning needs LIF neurons; a core of IZHIKEVICH neurons has none"
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        CoreParams(n_neurons=16, n_axons=2, n_synapses=8, **kwargs)


def test_a_model_core_takes_only_its_profiles():
    from golden_model.izhikevich import IzhikevichProfile
    params = CoreParams(n_neurons=16, n_axons=2, n_synapses=8, state_bits=16,
                        neuron_model="izhikevich")
    table = SynapseTable.from_synapses(2, [(0, 0, 1, 1)])
    with pytest.raises(TypeError, match=r"^profiles\[0\] must be a IzhikevichProfile \(the "
                                        r"core's neurons are IZHIKEVICH\), not "):
        CoreImage(params=params, profiles=[LIFProfile()], neuron_profile=0, synapses=table)
    wrong = IzhikevichProfile.from_float(0.02, 0.2, -65, 8, state_bits=20)
    with pytest.raises(ValueError, match=r"^profiles\[0\].state_bits must be the core's 16, "
                                         r"not 20$"):
        CoreImage(params=params, profiles=[wrong], neuron_profile=0, synapses=table)

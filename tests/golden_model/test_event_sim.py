"""Tests of :mod:`golden_model.event_sim` against the dense chip model and by hand.

The event-driven simulator and :func:`golden_model.chip.simulate_chip` share
no stepping code: one updates every neuron every step with
:func:`golden_model.lif.lif_update`, the other advances single neurons lazily
with a scalar mirror and finds spontaneous spikes by look-ahead. The scalar
mirror is pinned to ``lif_update`` over random states and profiles; whole
random chips (bias-driven firing, refractory periods, delays up to 64, host
outputs, fan-out to every core) must then give the same spikes, host
outputs and final state; and a hand-traced two-core chain fixes the step
numbers of routing latency and synaptic delay in both.
"""

import re

import numpy as np
import pytest

from golden_model import CoreParams, LIFProfile, ResetMode, SynapseTable, simulate
from golden_model.chip import ChipImage, ChipParams, RouteTable, simulate_chip
from golden_model.event_sim import lif_step, simulate_events
from golden_model.fixedpoint import Overflow, Rounding, sat_min, signed_max, signed_min
from golden_model.image import CoreImage
from golden_model.lif import ProfileTable, lif_update
from sim.stimulus import random_image, random_inputs, random_profile


def raises(exc, message):
    return pytest.raises(exc, match=rf"^{re.escape(message)}$")


# -- the scalar update against lif_update ------------------------------------------------

@pytest.mark.parametrize("state_bits, weight_bits, acc_bits, refractory_bits", [
    (8, 8, None, 4),     # acc_bits = 9: the accumulator wrap is visible
    (12, 4, 5, 2),
    (16, 8, 20, 8),
    (24, 8, None, 4),
    (24, 1, 32, 1),
])
def test_lif_step_matches_lif_update(state_bits, weight_bits, acc_bits, refractory_bits):
    rng = np.random.default_rng(state_bits * 100 + weight_bits)
    params = CoreParams(n_neurons=16, n_axons=1, n_synapses=1, state_bits=state_bits,
                        weight_bits=weight_bits, acc_bits=acc_bits,
                        refractory_bits=refractory_bits, n_profiles=16)
    S, A = state_bits, params.acc_bits
    profiles = [random_profile(rng, params) for _ in range(40)]
    # Hand-picked corners on top of the random ones: every reset and overflow
    # mode with a refractory period and a bias at the state limit.
    for reset in ResetMode:
        for ovf in Overflow:
            profiles.append(LIFProfile(du=7, dv=4095, dv_offset=1, vth=3, reset=reset,
                                       v_reset=signed_min(S), bias_mant=signed_max(S),
                                       refractory=params.refractory_max, rounding=Rounding.FLOOR,
                                       u_overflow=ovf, v_overflow=ovf))
    n = 6000
    corners = np.array([signed_min(S), sat_min(S), -1, 0, 1, signed_max(S)])
    pick = lambda lo, hi: np.where(rng.random(n) < 0.3, rng.choice(corners, n),
                                   rng.integers(lo, hi + 1, n))
    u = pick(signed_min(S), signed_max(S))
    v = pick(signed_min(S), signed_max(S))
    ref = rng.integers(0, params.refractory_max + 1, n)
    # Raw accumulators, some beyond acc_bits: both sides must wrap them alike.
    acc = rng.integers(-(1 << A), 1 << A, n)
    index = rng.integers(0, len(profiles), n)
    table = ProfileTable.from_profiles(profiles).gather(index)
    want = lif_update(u, v, ref, acc, table, S, A)
    got = np.array([lif_step(u[i], v[i], ref[i], acc[i], profiles[index[i]], S, A)
                    for i in range(n)], dtype=np.int64)
    for k, name in enumerate(("u", "v", "ref", "spike")):
        np.testing.assert_array_equal(got[:, k], want[k].astype(np.int64), err_msg=name)
    # The draw must reach both branches of every decision.
    assert 0 < want[3].sum() < n and (ref > 0).any()


def test_lif_step_by_hand():
    # du = 1024 keeps 3/4, dv = 2048 keeps 1/2, input acc << 2, bias 6, vth 100.
    p = LIFProfile(du=1024, dv=2048, weight_exp=2, bias_mant=3, bias_exp=1, vth=100,
                   reset=ResetMode.SUBTRACT, refractory=2)
    # u = 37 * 3/4 = 27.75 -> 27, + 40 = 67; v = 79 / 2 -> 39, + 67 + 6 = 112 > 100.
    assert lif_step(37, 79, 0, 10, p, 16, 16) == (67, 12, 2, True)
    # Refractory: u still integrates, v is held, ref counts down.
    assert lif_step(67, 12, 2, 0, p, 16, 16) == (50, 12, 1, False)
    # Rounding toward zero: -37 * 3/4 = -27.75 -> -27; v = -79/2 -> -39, -39 - 27 + 6.
    assert lif_step(-37, -79, 0, 0, p, 16, 16) == (-27, -60, 0, False)
    # 16-bit accumulator 0xFFFF is -1: u = 0 + (-1 << 2).
    assert lif_step(0, 0, 0, 0xFFFF, p, 16, 16)[0] == -4


# -- random chips: event-driven against dense --------------------------------------------

def bias_profile(rng, params, refractory):
    """Profiles that fire on their own: a positive bias against a modest threshold."""
    vth = int(rng.integers(10, 300))
    return LIFProfile(
        du=int(rng.choice([0, 300, 2048, 4095])), dv=int(rng.choice([0, 100, 700])),
        vth=vth, bias_mant=int(rng.integers(-2, vth // 3 + 2)), bias_exp=0,
        reset=ResetMode(int(rng.integers(0, 3))), v_reset=int(rng.integers(-vth, vth + 20)),
        refractory=int(rng.integers(1, params.refractory_max + 1)) if refractory else 0,
        weight_exp=int(rng.integers(0, 3)), rounding=Rounding(int(rng.integers(0, 2))),
        u_overflow=Overflow(int(rng.integers(0, 2))),
        v_overflow=Overflow(int(rng.integers(0, 2))))


def random_core(rng, params, kind):
    img = random_image(rng, params)
    if kind == "random":
        return img
    # Keep random_image's synapses and initial state, swap in self-firing profiles,
    # with one quiet-ish random profile so that input-driven neurons remain.
    profiles = [bias_profile(rng, params, kind == "refractory") for _ in range(3)]
    profiles.append(random_profile(rng, params))
    return CoreImage(params, profiles, rng.integers(0, len(profiles), params.n_neurons),
                     img.synapses, u0=img.u0, v0=img.v0)


def random_routes(rng, chip):
    """Per core: 0..3 entries per neuron, some to the host, some repeated; one neuron reaches
    every core and six more reach the host."""
    N, tables = chip.core.n_neurons, []
    for _ in range(chip.n_cores):
        routes = []
        for n in range(N):
            for _ in range(int(rng.choice([0, 1, 1, 2, 3]))):
                if rng.random() < 0.2:
                    routes.append((n, "host"))
                else:
                    routes.append((n, int(rng.integers(0, chip.cols)),
                                   int(rng.integers(0, chip.rows)),
                                   int(rng.integers(0, chip.core.n_axons))))
        if routes and rng.random() < 0.5:
            routes.append(routes[int(rng.integers(0, len(routes)))])  # a duplicate entry
        hub = int(rng.integers(0, N))
        routes += [(hub, x, y, int(rng.integers(0, chip.core.n_axons)))
                   for y in range(chip.rows) for x in range(chip.cols)]
        routes += [(int(n), "host") for n in rng.choice(N, 6, replace=False)]
        order = rng.permutation(len(routes))
        tables.append(RouteTable.from_routes(N, [routes[i] for i in order]))
    return tables


def chip_inputs(rng, chip, n_steps, rate):
    steps = []
    per_core = [random_inputs(rng, chip.core.n_axons, n_steps, rate, burst_every=37)
                for _ in range(chip.n_cores)]
    for t in range(n_steps):
        events = [(*chip.core_xy(c), a) for c in range(chip.n_cores) for a in per_core[c][t]]
        steps.append([events[i] for i in rng.permutation(len(events))])
    return steps


def assert_same(dense, events):
    C = dense.spikes.shape[1]
    spikes = [tuple(int(i) for i in ix) for ix in np.argwhere(dense.spikes)]
    assert events.spikes == spikes
    assert events.host == [tuple(row) for row in dense.host.tolist()]
    for c in range(C):
        state = dense.state.cores[c]
        np.testing.assert_array_equal(events.u[c], state.u)
        np.testing.assert_array_equal(events.v[c], state.v)
        np.testing.assert_array_equal(events.ref[c], state.ref)
    np.testing.assert_array_equal(events.sops, dense.sops)
    np.testing.assert_array_equal(events.routed, dense.routed)


@pytest.mark.parametrize("rows, cols", [(1, 1), (2, 2), (3, 2)])
@pytest.mark.parametrize("kind, max_delay, state_bits", [
    ("random", 8, 12),
    ("random", 4, 24),
    ("bias", 8, 16),
    ("refractory", 8, 12),
    ("long_delay", 64, 16),
])
def test_random_chip_matches_dense(rows, cols, kind, max_delay, state_bits):
    rng = np.random.default_rng([rows, cols, max_delay, state_bits, len(kind)])
    core = CoreParams(n_neurons=16, n_axons=8, n_synapses=48, max_delay=max_delay,
                      state_bits=state_bits, refractory_bits=4)
    chip = ChipParams(rows=rows, cols=cols, core=core)
    image = ChipImage(chip, [random_core(rng, core, kind) for _ in range(chip.n_cores)],
                      random_routes(rng, chip))
    # Inputs stop before the end: the last steps run on bias, decay and
    # delayed input alone, which only wake-ups find.
    n_steps = 160 if kind == "long_delay" else 120
    inputs = chip_inputs(rng, chip, n_steps - 20, rate=0.08)
    dense = simulate_chip(image, inputs, n_steps)
    events = simulate_events(image, inputs, n_steps)
    assert_same(dense, events)
    assert dense.spikes.any() and dense.n_routed > 0
    if kind != "random":
        assert len(dense.host) > 0
        # Spikes after the last input, in the silent tail, come from wake-ups.
        assert dense.spikes[n_steps - 19:].any()


@pytest.mark.parametrize("rows, cols", [(1, 1), (2, 2), (3, 2)])
def test_spontaneous_firing_without_input(rows, cols):
    # No external input: every event starts from a wake-up of a biased neuron.
    rng = np.random.default_rng(rows * 10 + cols)
    core = CoreParams(n_neurons=16, n_axons=8, n_synapses=48, max_delay=16, state_bits=16)
    chip = ChipParams(rows=rows, cols=cols, core=core)
    image = ChipImage(chip, [random_core(rng, core, "refractory") for _ in range(chip.n_cores)],
                      random_routes(rng, chip))
    dense = simulate_chip(image, [], 200)
    events = simulate_events(image, [], 200)
    assert_same(dense, events)
    assert dense.spikes.any()


def test_sparse_activity_touches_few_neurons():
    # Two spontaneous neurons (periods 4 and 7) drive a chain; every other
    # neuron is quiet. The event simulator touches a neuron only on a delivery
    # or a wake-up, far fewer times than the dense 2 x 16 x 300 updates.
    core = CoreParams(n_neurons=16, n_axons=4, n_synapses=8, max_delay=8, state_bits=16)
    chip = ChipParams(rows=1, cols=2, core=core)
    quiet, fast = LIFProfile(vth=1000), LIFProfile(du=4095, du_offset=1, vth=10)
    tick4, tick7 = LIFProfile(bias_mant=3, vth=10), LIFProfile(bias_mant=2, vth=13)
    src = CoreImage(core, (quiet, tick4, tick7), [1, 2] + [0] * 14,
                    SynapseTable.from_synapses(4, []))
    dst = CoreImage(core, (quiet, fast), [0, 1] + [0] * 14,
                    SynapseTable.from_synapses(4, [(0, 1, 20, 3), (1, 1, 20, 5)]))
    routes = [RouteTable.from_routes(16, [(0, 1, 0, 0), (1, 1, 0, 1)]),
              RouteTable.from_routes(16, [(1, "host")])]
    image = ChipImage(chip, (src, dst), routes)
    dense = simulate_chip(image, [], 300)
    events = simulate_events(image, [], 300)
    assert_same(dense, events)
    # tick4 fires at 3, 7, ...; tick7 (v = 2, 4, ..., 14 > 13) at 6, 13, ...
    src_spikes = [(t, n) for t, c, n in events.spikes if c == 0]
    assert src_spikes[:5] == [(3, 0), (6, 1), (7, 0), (11, 0), (13, 1)]
    assert events.n_touches < 2 * 16 * 300 // 10


def test_look_ahead_shared_between_neurons_by_hand():
    # Two neurons share a profile: u = this step's input, no v decay, bias 1,
    # vth 100. Neuron 0 gets no input: v = t + 1 never passes 100 in 80 steps,
    # and its look-ahead passes through every state (0, v, 0) with v < 80.
    # Neuron 1 gets 50 at step 5: v = 5 + 50 + 1 = 56, then 51 + t, so it
    # fires at t = 50 (v = 101). Its look-ahead from step 6 meets neuron 0's
    # states, which were quiet only for the steps neuron 0 had left.
    slow = LIFProfile(du=4095, du_offset=1, bias_mant=1, vth=100)
    core = CoreParams(n_neurons=16, n_axons=1, n_synapses=1, state_bits=16)
    image = CoreImage(core, (slow, QUIET), [0, 0] + [1] * 14,
                      SynapseTable.from_synapses(1, [(0, 1, 50, 1)]))
    inputs = [[]] * 5 + [[0]]
    events = simulate_events(image, inputs, 80)
    assert events.spikes == [(50, 0, 1)]
    assert events.v[0, :2].tolist() == [80, 29]    # after step 79: 80; 0 + 29 steps of bias
    dense = simulate(image, inputs, 80)
    assert np.argwhere(dense.spikes).tolist() == [[50, 1]]


# -- a hand-traced chain across two cores ------------------------------------------------

# u = acc, v = u: fires exactly when this step's input exceeds 10.
FAST = LIFProfile(du=4095, du_offset=1, dv=4095, dv_offset=1, vth=10)
# No decay, bias 3, vth 10: v = 3, 6, 9, 12 -> spike, reset to 0; period 4.
TICK = LIFProfile(bias_mant=3, vth=10)
QUIET = LIFProfile(vth=1000)


@pytest.mark.parametrize("d", [1, 2, 5, 8])
def test_two_core_chain_by_hand(d):
    core = CoreParams(n_neurons=16, n_axons=4, n_synapses=8, max_delay=8, state_bits=16)
    chip = ChipParams(rows=1, cols=2, core=core)
    # Core (0,0): neuron 0 is driven by external axon 0 (weight 20, delay 1);
    # neuron 1 ticks on its own. Neuron 0 goes to core (1,0) axon 3 and to the
    # host, neuron 1 to core (1,0) axon 2.
    a = CoreImage(core, (QUIET, FAST, TICK), [1, 2] + [0] * 14,
                  SynapseTable.from_synapses(4, [(0, 0, 20, 1)]))
    # Core (1,0): axon 3 -> neuron 5 with delay d, axon 2 -> neuron 6 with delay 2.
    b = CoreImage(core, (QUIET, FAST), [0] * 5 + [1, 1] + [0] * 9,
                  SynapseTable.from_synapses(4, [(3, 5, 20, d), (2, 6, 20, 2)]))
    routes = (RouteTable.from_routes(16, [(0, 1, 0, 3), (1, 1, 0, 2), (0, "host")]),
              RouteTable.from_routes(16, [(5, "host"), (6, "host")]))
    image = ChipImage(chip, (a, b), routes)
    inputs = [[], [], [(0, 0, 0)]]
    # Neuron (0,0):0 fires at t = 2 (input 20 > 10, delay 1: same step). Its
    # packet is axon 3 of core (1,0) at step 3, delivered to the slot of step
    # 3 - 1 + d: neuron 5 fires at 2 + d. The tick fires at 3, 7, 11, 15; each
    # spike is axon 2 at s + 1, seen at s + 1 - 1 + 2: neuron 6 fires at 5, 9, 13
    # (the tick of step 15 would land at 17, past the run).
    want_spikes = sorted([(2, 0, 0), (2 + d, 1, 5)] + [(s, 0, 1) for s in (3, 7, 11, 15)]
                         + [(s, 1, 6) for s in (5, 9, 13)])
    want_host = sorted([(2, 0, 0, 0), (2 + d, 1, 0, 5)] + [(s, 1, 0, 6) for s in (5, 9, 13)])
    dense = simulate_chip(image, inputs, 16)
    events = simulate_events(image, inputs, 16)
    assert [tuple(int(i) for i in ix) for ix in np.argwhere(dense.spikes)] == want_spikes
    assert [tuple(r) for r in dense.host.tolist()] == want_host
    assert events.spikes == want_spikes
    assert events.host == want_host
    # The tick spiked last at 15 and reset: v = 0. Neuron 5 and 6 hold u = v = 0.
    assert events.v[0, 1] == dense.state.cores[0].v[1] == 0
    assert_same(dense, events)


# -- the single-core convenience ---------------------------------------------------------

@pytest.mark.parametrize("array_inputs", [False, True])
def test_core_image_runs_as_one_core_chip(array_inputs):
    rng = np.random.default_rng(7)
    params = CoreParams(n_neurons=16, n_axons=6, n_synapses=40, max_delay=12, state_bits=14)
    image = random_core(rng, params, "refractory")
    steps = random_inputs(rng, 6, 90, 0.15)
    if array_inputs:
        inputs = np.zeros((90, 6), dtype=np.int64)
        for t, axons in enumerate(steps):
            np.add.at(inputs[t], axons, 1)
    else:
        inputs = steps
    dense = simulate(image, inputs, 110)
    events = simulate_events(image, inputs, 110)
    assert events.spikes == [(int(t), 0, int(n)) for t, n in np.argwhere(dense.spikes)]
    assert events.host == [] and dense.spikes.any()
    np.testing.assert_array_equal(events.u[0], dense.state.u)
    np.testing.assert_array_equal(events.v[0], dense.state.v)
    np.testing.assert_array_equal(events.ref[0], dense.state.ref)
    np.testing.assert_array_equal(events.sops[:, 0], dense.sops)


def test_zero_steps():
    core = CoreParams(n_neurons=16, n_axons=1, n_synapses=1)
    image = CoreImage(core, (TICK,), 0, SynapseTable.from_synapses(1, []), v0=5)
    run = simulate_events(image, [], 0)
    assert run.spikes == [] and run.sops.shape == (0, 1)
    assert run.v[0].tolist() == [5] * 16


def test_rejects_other_images():
    with raises(TypeError, "image must be a ChipImage or a CoreImage, not 3"):
        simulate_events(3, [], 1)

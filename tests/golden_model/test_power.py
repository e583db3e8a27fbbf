"""Tiers 1 and 2 for ``golden_model.power``: the policy's arguments, its states computed by
hand, the counts against the chip run, and the energy sum."""

import re

import numpy as np
import pytest

from golden_model.chip import ChipParams, simulate_chip
from golden_model.params import CoreParams
from golden_model.image import CoreImage, LIFProfile, SynapseTable
from golden_model.power import (PUBLISHED, EnergyCoefficients, PowerPolicy, PowerState,
                                StepTiming, activity_counts, core_step_timing, energy_report,
                                gated_cycles, simulate_policy)
from sim.stimulus import random_chip_image


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(window=0), ValueError, "window must be between 1 and 65535 steps, not 0"),
    (dict(window=2.5), TypeError, "window must be a whole number of steps, not 2.5"),
    (dict(low_pct=-1), ValueError, "low_pct must be between 0 and 100 percent, not -1"),
    (dict(mid_pct=101), ValueError, "mid_pct must be between 0 and 100 percent, not 101"),
    (dict(low_pct=float("nan")), TypeError, "low_pct must be a number of percent, not nan"),
    (dict(low_pct=60, mid_pct=50), ValueError,
     "low_pct must not be above mid_pct, not 60.0 over 50.0"),
])
def test_policy_arguments(kwargs, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        PowerPolicy(**kwargs)


def test_limits_by_hand():
    # 4 steps x 10 axons = 40 slots: 10% is 4 events, 50% is 20; 12.5% of 40 = 5.
    assert PowerPolicy(window=4).limits(10) == (4, 20)
    assert PowerPolicy(window=4, low_pct=12.5, mid_pct=12.5).limits(10) == (5, 5)


def test_states_by_hand():
    # Windows of 2 steps, 10 axons: low = 2 events, mid = 10.
    events = np.array([[0, 5], [1, 6],        # window 0: 1 -> SLEEP, 11 -> ACTIVE
                       [3, 2], [4, 2],        # window 1: 7 -> REDUCED, 4 -> REDUCED
                       [0, 0], [0, 0],        # window 2: 0 -> SLEEP, 0 -> SLEEP
                       [9, 9]])               # a partial window decides nothing
    states = simulate_policy(events, PowerPolicy(window=2), 10)
    A, R, S = PowerState.ACTIVE, PowerState.REDUCED, PowerState.SLEEP
    assert states.tolist() == [[A, A], [A, A], [S, A], [S, A], [R, R], [R, R], [S, S]]


def _run():
    rng = np.random.default_rng(3)
    params = ChipParams(rows=2, cols=2, core=CoreParams(n_neurons=16, n_axons=8,
                                                        n_synapses=64, max_delay=3))
    image = random_chip_image(rng, params)
    steps = [[(int(rng.integers(0, 2)), int(rng.integers(0, 2)), int(rng.integers(0, 8)))
              for _ in range(int(rng.integers(0, 6)))] for _ in range(40)]
    return image, simulate_chip(image, steps), steps


def test_counts_come_from_the_run():
    image, run, _ = _run()
    counts = activity_counts(image, run)
    assert counts["sops"].tolist() == run.sops.sum(axis=0).tolist()
    assert counts["routed_packets"].sum() == run.n_routed
    assert counts["neuron_updates"].tolist() == [16 * 40] * 4
    assert counts["active_steps"].tolist() == [40] * 4 and counts["sleep_steps"].sum() == 0
    assert "gated_cycles" not in counts           # cycles need a step period


def test_events_per_core_add_up():
    # Each core's events are its external inputs and the packets routed to it the step
    # before: together every external event and every packet but the last step's.
    image, run, steps = _run()
    external = sum(len(s) for s in steps)
    assert run.events.sum() == external + run.routed[:-1].sum()
    assert [[len(a) for a in step] for step in run.axons] == run.events.tolist()


def test_cycle_counts_cover_every_cycle():
    image, run, _ = _run()
    # Any state sequence will do: this network's recurrent traffic keeps it ACTIVE under
    # any policy, so the states are drawn.
    states = np.random.default_rng(4).integers(0, 3, (40, 4))
    counts = activity_counts(image, run, states, period=1200)
    total = counts["active_cycles"] + counts["reduced_cycles"] + counts["sleep_cycles"]
    assert total.tolist() == [40 * 1200] * 4
    assert (counts["clocked_cycles"] + counts["gated_cycles"]).tolist() == [40 * 1200] * 4
    assert (counts["gated_cycles"] > 0).all()
    assert counts["active_cycles"].tolist() != [0] * 4
    # Always ACTIVE: never gated.
    assert activity_counts(image, run, period=1200)["gated_cycles"].tolist() == [0] * 4


def test_energy_by_hand():
    counts = {"sops": np.array([100, 0]), "neuron_updates": np.array([10, 10]),
              "learning_updates": np.zeros(2), "routed_packets": np.array([3, 1]),
              "active_cycles": np.array([50, 0]), "reduced_cycles": np.zeros(2),
              "sleep_cycles": np.array([0, 50]), "clocked_cycles": np.array([50, 4]),
              "gated_cycles": np.array([0, 46])}
    coef = EnergyCoefficients(sops=2e-12, neuron_updates=1e-12, routed_packets=5e-12,
                              gated_cycles=0.5e-12, source="test figures")
    report = energy_report(counts, coef, n_steps=5)
    assert report["total_j"] == pytest.approx(200e-12 + 20e-12 + 20e-12 + 23e-12)
    # 200 + 10 + 15 and 0 + 10 + 5 + 23
    assert report["per_core_j"] == pytest.approx([225e-12, 38e-12])
    assert report["per_sop_j"] == pytest.approx(263e-12 / 100)
    assert report["per_step_j"] == pytest.approx(263e-12 / 5)
    assert report["unpriced"] == ["active_cycles", "sleep_cycles", "clocked_cycles"]


def test_cycle_coefficients_need_cycle_counts():
    counts = {"sops": np.array([1]), "neuron_updates": np.array([1]),
              "learning_updates": np.array([0]), "routed_packets": np.array([0])}
    with pytest.raises(ValueError, match=r"^gated_cycles has a coefficient, but the counts "
                                         r"have no cycles: count them with a step period$"):
        energy_report(counts, EnergyCoefficients(gated_cycles=1e-12), n_steps=1)


def test_published_default_says_where_it_comes_from():
    assert PUBLISHED.sops == 23.6e-12 and "Davies" in PUBLISHED.source
    assert all(getattr(PUBLISHED, n) is None for n in ("neuron_updates", "routed_packets"))
    with pytest.raises(ValueError, match=r"^sops must not be negative, not -1e-12$"):
        EnergyCoefficients(sops=-1e-12)
    with pytest.raises(TypeError, match=r"^neuron_updates must be joules per count \(a finite "
                                        r"number\) or None, not inf$"):
        EnergyCoefficients(neuron_updates=float("inf"))


def _image(counts, n_neurons=32):
    params = CoreParams(n_neurons=n_neurons, n_axons=len(counts), n_synapses=max(sum(counts), 1),
                        max_delay=1)
    table = SynapseTable.from_synapses(len(counts), [(a, n, 1, 1) for a, c in enumerate(counts)
                                                      for n in range(c)])
    return CoreImage(params=params, profiles=[LIFProfile(vth=1000)], neuron_profile=0,
                     synapses=table)


def test_step_timing_by_hand():
    # Axons 0, 1, 2 have 2, 5 and 0 entries; 32 neurons.
    image = _image([2, 5, 0])
    spikes = np.zeros((5, 32), dtype=bool)
    spikes[4, 31] = True        # the last neuron's spike leaves the FIFO one edge late
    steps = [[], [0, 1], [2], [1, 2], []]
    timing = core_step_timing(image, steps, spikes)
    # [0, 1]: taken on 0 and 1; walks loaded on 1 and max(2, 1 + 2) = 3; the last entry is
    # issued on 3 + 5 = 8 and drained by 13, where the tick is taken; busy 13 + 32 + 8.
    # [2]: taken on 0, loaded on 1, empty by 2. [1, 2]: loads on 1 and max(2, 1 + 5) = 6;
    # axon 1 drains by 1 + 5 + 5 = 11, axon 2 by 7.
    assert timing.tick_edge.tolist() == [0, 13, 2, 11, 0]
    assert timing.busy_edges.tolist() == [40, 53, 42, 51, 41]
    deep = core_step_timing(image, steps, spikes, deep_pipeline=True)
    assert (deep.busy_edges - timing.busy_edges).tolist() == [1] * 5


def test_gated_cycles_by_hand():
    timing = StepTiming(tick_edge=np.array([0, 3, 1]), busy_edges=np.array([10, 12, 6]))
    states = np.array([[PowerState.SLEEP], [PowerState.REDUCED], [PowerState.ACTIVE]])
    cc = gated_cycles([timing], states, 30)
    # Step 0: its tick edge in ACTIVE (1 cycle), then SLEEP: 9 more busy cycles of 29.
    # Step 1: 4 edges in SLEEP, then REDUCED from phase 0: 13 of its 26 cycles are off.
    # Step 2: REDUCED, back at phase 0 after 26 cycles: cycles 0 and 2 are off, edges 0 and
    # 1 (the tick) come on cycles 1 and 3; 26 cycles of ACTIVE follow.
    assert cc.gated[:, 0].tolist() == [20, 13, 2]
    assert cc.sleep[:, 0].tolist() == [29, 4, 0]
    assert cc.reduced[:, 0].tolist() == [0, 26, 4]
    assert cc.active[:, 0].tolist() == [1, 0, 26]
    assert (cc.clocked + cc.gated == 30).all()
    assert cc.total("gated").tolist() == [35]


def test_reduced_phase_carries_across_steps():
    # An odd number of REDUCED cycles leaves the phase at 1: the next step's first cycle
    # is clocked.
    timing = StepTiming(tick_edge=np.zeros(3, dtype=np.int64), busy_edges=np.ones(3, np.int64))
    cc = gated_cycles([timing], np.full((3, 1), PowerState.REDUCED), 7)
    # Step 0: 1 ACTIVE cycle, then 6 REDUCED from phase 0 (3 off). Step 1: the tick waits
    # a cycle for phase 1 (1 off), then 5 cycles from phase 0 (3 off), ending at phase 1.
    # Step 2: the tick comes at once, then 6 cycles from phase 0 (3 off).
    assert cc.gated[:, 0].tolist() == [3, 4, 3]


@pytest.mark.parametrize("call,error,message", [
    (lambda: gated_cycles([StepTiming(np.array([5]), np.array([90]))],
                          [[PowerState.REDUCED]], 100),
     ValueError, "period 100 is too short: core 0 needs 174 cycles in step 0"),
    (lambda: gated_cycles([], [[0]], 100), ValueError,
     "timings must give one StepTiming per core (1), not 0"),
    (lambda: gated_cycles([], [[0]], 0), ValueError,
     "period must be a whole number of cycles, at least 1, not 0"),
    (lambda: core_step_timing(_image([1, 1]), [[0]], np.zeros((1, 16), bool)), ValueError,
     "spikes must be [T, n_neurons] = [1, 32], not of shape (1, 16)"),
])
def test_cycle_model_arguments(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        call()


def test_cycle_model_refuses_learning_cores():
    from golden_model.params import LearningSpec, Rule
    params = CoreParams(n_neurons=16, n_axons=2, n_synapses=4, max_delay=1,
                        learning=LearningSpec(rule=Rule.STDP))
    image = CoreImage(params=params, profiles=[LIFProfile(vth=1000)], neuron_profile=0,
                      synapses=SynapseTable.from_synapses(2, [(0, 0, 1, 1)]))
    message = "core_step_timing covers cores without learning; this core has STDP learning"
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        core_step_timing(image, [[0]], np.zeros((1, 16), bool))


def test_learning_updates_come_from_the_run():
    # The STDP rule computes a change for each plastic synapse whose axon had an event (all
    # three, every step) and again for each whose target spiked.
    from golden_model.params import LearningSpec, Rule
    from spikeforge.network import InputPopulation, Network, Population, Projection
    from spikeforge.simulate import run
    net = Network()
    inp = net.add(InputPopulation(3))
    pop = net.add(Population(3, LIFProfile(vth=5)))
    net.add(Projection.one_to_one(inp, pop, 3, plastic=True))
    net.add(Projection.dense(pop, pop, np.eye(3, dtype=np.int64)[::-1] * 2))
    core = CoreParams(n_neurons=16, n_axons=8, n_synapses=8, max_delay=1,
                      learning=LearningSpec(rule=Rule.STDP))
    res = run(net, {inp: np.ones((25, 3), dtype=np.int64)}, chip=ChipParams(1, 1, core))
    counts = activity_counts(res.compiled.image, res.chip_run)
    spikes = res.chip_run.spikes[:, 0, :3].sum(axis=1)
    assert spikes.sum() > 0
    assert res.chip_run.learn_updates[:, 0].tolist() == (3 + spikes).tolist()
    assert counts["learning_updates"].tolist() == [3 * 25 + spikes.sum()]


def test_cycle_model_refuses_other_neuron_models():
    from sim.stimulus import random_image
    params = CoreParams(n_neurons=16, n_axons=2, n_synapses=4, max_delay=1, state_bits=16,
                        neuron_model="izhikevich")
    image = random_image(np.random.default_rng(0), params)
    message = ("core_step_timing covers LIF cores; this core's neurons are IZHIKEVICH, whose "
               "step unit has a timing of its own")
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        core_step_timing(image, [[0]], np.zeros((1, 16), bool))

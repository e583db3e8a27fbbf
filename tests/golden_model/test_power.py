"""Tiers 1 and 2 for ``golden_model.power``: the policy's arguments, its states computed by
hand, the counts against the chip run, and the energy sum."""

import re

import numpy as np
import pytest

from golden_model.chip import ChipParams, simulate_chip
from golden_model.params import CoreParams
from golden_model.power import (PUBLISHED, EnergyCoefficients, PowerPolicy, PowerState,
                                activity_counts, energy_report, simulate_policy)
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
    return image, simulate_chip(image, steps)


def test_counts_come_from_the_run():
    image, run = _run()
    counts = activity_counts(image, run)
    assert counts["sops"].tolist() == run.sops.sum(axis=0).tolist()
    assert counts["routed_packets"].sum() == run.n_routed
    assert counts["neuron_updates"].tolist() == [16 * 40] * 4
    assert counts["active_steps"].tolist() == [40] * 4 and counts["sleep_steps"].sum() == 0


def test_energy_by_hand():
    counts = {"sops": np.array([100, 0]), "neuron_updates": np.array([10, 10]),
              "learning_updates": np.zeros(2), "routed_packets": np.array([3, 1]),
              "active_steps": np.array([5, 0]), "reduced_steps": np.zeros(2),
              "sleep_steps": np.array([0, 5])}
    coef = EnergyCoefficients(sops=2e-12, neuron_updates=1e-12, routed_packets=5e-12,
                              source="test figures")
    report = energy_report(counts, coef, n_steps=5)
    assert report["total_j"] == pytest.approx(200e-12 + 20e-12 + 20e-12)
    assert report["per_core_j"] == pytest.approx([225e-12, 15e-12])     # 200+10+15, 0+10+5
    assert report["per_sop_j"] == pytest.approx(240e-12 / 100)
    assert report["per_step_j"] == pytest.approx(48e-12)
    assert report["unpriced"] == ["active_steps", "sleep_steps"]


def test_published_default_says_where_it_comes_from():
    assert PUBLISHED.sops == 23.6e-12 and "Davies" in PUBLISHED.source
    assert all(getattr(PUBLISHED, n) is None for n in ("neuron_updates", "routed_packets"))
    with pytest.raises(ValueError, match=r"^sops must not be negative, not -1e-12$"):
        EnergyCoefficients(sops=-1e-12)
    with pytest.raises(TypeError, match=r"^neuron_updates must be joules per count \(a finite "
                                        r"number\) or None, not inf$"):
        EnergyCoefficients(neuron_updates=float("inf"))

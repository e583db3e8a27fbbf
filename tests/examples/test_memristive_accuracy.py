"""The memristive-accuracy example: the digital classifier works, a crossbar without
variability changes nothing, and the largest spread costs accuracy on every seed."""

import numpy as np

from examples import memristive_accuracy as ex


def test_accuracy_against_variability(capsys):
    result = ex.main([])
    out = capsys.readouterr().out
    assert "accuracy per seed" in out and "digital" in out
    assert len(out.strip().splitlines()) == 3 + len(ex.STDS)
    digital = result["digital"]
    assert digital >= 0.9
    levels = {lv["std"]: lv for lv in result["levels"]}
    assert sorted(levels) == sorted(ex.STDS) and min(ex.STDS) == 0
    zero, worst = levels[0.0], levels[max(ex.STDS)]
    assert len(zero["accuracy"]) == len(ex.SEEDS)
    # No spread: every weight comes back as it was, so the accuracy is the digital one.
    assert zero["accuracy"] == [digital] * len(ex.SEEDS)
    assert zero["changed"] == [0] * len(ex.SEEDS) and zero["failed_devices"] == [0] * len(ex.SEEDS)
    # The largest spread: weights move and the accuracy falls, on every seed.
    assert min(worst["changed"]) > 0
    assert max(worst["accuracy"]) < digital
    assert np.mean(worst["accuracy"]) < np.mean(zero["accuracy"]) - 0.2


def test_task_is_balanced_and_reproducible():
    a, b = ex.make_task(4), ex.make_task(4)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert np.bincount(a.labels).tolist() == [15] * ex.N_CLASSES
    assert (a.templates.sum(axis=1) == ex.N_ON).all()
    # The 5 steps after each sample are silent.
    per_sample = a.inputs.reshape(len(a.labels), ex.STEPS + ex.GAP, ex.N_INPUTS)
    assert per_sample[:, ex.STEPS:].sum() == 0 and per_sample[:, :ex.STEPS].sum() > 0

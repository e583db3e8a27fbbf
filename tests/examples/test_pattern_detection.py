"""The pattern-detection example learns for real: detection, silence in the noise, controls."""

import numpy as np

from examples import pattern_detection as ex


def test_rates_do_not_give_the_pattern_away():
    task = ex.make_task(0)
    rest = np.setdiff1d(np.arange(task.n_axons), task.pattern_axons)
    for inputs in (task.train_inputs, task.test_inputs):
        pattern_rate = inputs[:, task.pattern_axons].mean()
        other_rate = inputs[:, rest].mean()
        assert abs(pattern_rate - other_rate) < 0.1 * other_rate
    # Nor does the input count: the window is no denser than the noise.
    inside = np.zeros(len(task.test_inputs), dtype=bool)
    for t0 in task.test_onsets:
        inside[t0:t0 + task.length] = True
    counts = task.test_inputs.sum(axis=1)
    assert counts[inside].mean() <= counts[~inside].mean()


def test_trained_neuron_detects_the_pattern_and_the_controls_do_not():
    result = ex.benchmark(0)
    n = result["n_patterns"]
    assert result["hits"] >= 0.9 * n, result
    assert result["false_alarms"] <= 0.05 * n, result
    # Untrained, at the best threshold of a sweep: no threshold separates pattern from noise.
    untrained = result["untrained"]
    assert untrained["hits"] - untrained["false_alarms"] <= 0.25 * n, untrained
    # The same weights on the wrong axons detect almost nothing: it is the identity of
    # the potentiated axons, not the weight distribution, that was learnt.
    assert result["shuffled_weights"]["hits"] <= 0.3 * n
    assert result["mean_weight_pattern_axons"] > 3 * result["mean_weight_other_axons"]


def test_training_is_deterministic():
    task = ex.make_task(3)
    image = ex.make_image(task)
    a, _ = ex.train(image, task)
    b, _ = ex.train(image, task)
    np.testing.assert_array_equal(a.weight, b.weight)


def test_main_prints_and_plots(tmp_path, capsys):
    path = tmp_path / "pattern.png"
    ex.main(["1", str(path)])
    out = capsys.readouterr().out
    assert "patterns detected" in out and path.stat().st_size > 0

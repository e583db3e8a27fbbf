"""The pattern-detection example on the RTL core: the weights it learns equal the golden model's.

The whole training run (every step's events, the learning phase after each
update) goes through the exported ``LIFCore`` in cocotb; the final weights are
read through the debug port and compared entry by entry with the golden run,
and the learnt detector is scored on the test stream with those weights.
"""

import numpy as np
import pytest

from examples import pattern_detection as ex
from sim.core_runner import image_job, run_core_jobs

pytestmark = pytest.mark.cocotb


def test_rtl_learns_the_golden_weights_and_detects_the_pattern():
    task = ex.make_task()
    image = ex.make_image(task)
    steps = [np.repeat(np.arange(task.n_axons), row) for row in task.train_inputs]
    results, passed = run_core_jobs(image.params, [
        image_job(image, steps, read_state=False, learn_every=len(steps))])
    assert passed and results[0]["mismatches"] == []
    (_, learnt), = results[0]["learning"]
    golden, _ = ex.train(image, task)
    np.testing.assert_array_equal(learnt["weight"], golden.weight)
    score = ex.evaluate(image, learnt["weight"], task)
    assert score["hits"] >= 0.9 * score["n_patterns"], score
    assert score["false_alarms"] <= 0.05 * score["n_patterns"], score

"""``Chip`` in the Amaranth simulator: the one-core chip, which has no router."""

import numpy as np
import pytest

from golden_model.chip import ChipParams, simulate_chip
from golden_model.params import CoreParams
from rtl.chip import Chip, ChipCounter
from sim.amaranth_sim import ChipBench
from sim.stimulus import random_chip_image, random_chip_inputs


@pytest.mark.parametrize("seed", range(2))
def test_one_core_chip_routes_to_itself_without_a_router(seed):
    rng = np.random.default_rng([80, seed])
    chip = ChipParams(rows=1, cols=1, n_routes=48,
                      core=CoreParams(n_neurons=16, n_axons=16, n_synapses=64, max_delay=3))
    image = random_chip_image(rng, chip, host_fraction=0.3)
    steps = random_chip_inputs(rng, chip, 20, rate=0.3)
    # Seed 1 builds the chip as an ECP5 board does, with its deeper pipeline.
    dut = Chip(chip, deep_pipeline=bool(seed))
    out = ChipBench(dut, stall=0.3, seed=seed).run(image, steps)
    golden = simulate_chip(image, steps)
    assert golden.n_routed > 0 and len(golden.host) > 0
    assert out["host"] == sorted(map(tuple, golden.host.tolist()))
    np.testing.assert_array_equal(out["u"], golden.u)
    np.testing.assert_array_equal(out["v"], golden.v)
    external = sum(len(s) for s in steps)
    assert out["counters"][ChipCounter.PACKETS] == golden.n_routed
    # Every packet into the core is counted, the host's and the core's own; those routed
    # from the last step are delivered before it ends, as on a mesh.
    assert out["counters"]["routed_0"] == external + golden.n_routed
    assert out["counters"][ChipCounter.UNROUTED] == 0
    assert not any(name.startswith("router") for name in _submodule_names(dut))


def _submodule_names(dut):
    from amaranth.hdl import Fragment
    return [name for _, name, _ in Fragment.get(dut, None).subfragments]


@pytest.mark.parametrize("kwargs, message", [
    ({"cycle_counters": "yes"}, r"^cycle_counters must be True or False, not 'yes'$"),
    ({"deep_pipeline": None}, r"^deep_pipeline must be True or False, not None$"),
])
def test_argument_errors(kwargs, message):
    chip = ChipParams(rows=1, cols=1, core=CoreParams(n_neurons=16, n_axons=8, n_synapses=64))
    with pytest.raises(TypeError, match=message):
        Chip(chip, **kwargs)

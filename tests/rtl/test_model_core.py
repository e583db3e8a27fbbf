"""Tier 3 for Izhikevich and AdEx cores (``LIFCore`` with ``CoreParams.neuron_model``): the
core runs the golden model's steps bit for bit (spikes, state and counters) on random
images, profiles and inputs, with output backpressure; the update takes the step unit's
clocks per neuron; and its profiles read back through the debug port."""

import numpy as np
import pytest

from golden_model import CoreParams
from rtl.lif_core import LIFCore, Region, profile_fields, profile_shapes
from sim.amaranth_sim import CoreBench
from sim.stimulus import random_image, random_inputs

from .test_lif_core import assert_matches_golden


@pytest.mark.parametrize("model", ["izhikevich", "adex"])
@pytest.mark.parametrize("seed", range(3))
def test_model_core_matches_golden(model, seed):
    """Seed 2 builds the core with ``deep_pipeline``, as the ECP5 boards do."""
    rng = np.random.default_rng([seed, len(model)])
    params = CoreParams(n_neurons=16, n_axons=8, n_synapses=48,
                        max_delay=int(rng.integers(1, 4)),
                        state_bits=int(rng.choice([16, 20, 24])), weight_bits=6,
                        n_profiles=3, neuron_model=model)
    image = random_image(rng, params)
    steps = random_inputs(rng, params.n_axons, 30, rate=float(rng.choice([0.1, 0.5])))
    core = LIFCore(params, deep_pipeline=seed == 2)
    result = CoreBench(core, stall=0.3, seed=seed).run(image, steps)
    assert_matches_golden(image, steps, result)


@pytest.mark.parametrize("model", ["izhikevich", "adex"])
def test_profiles_read_back_and_the_update_takes_the_units_clocks(model):
    from amaranth.sim import Simulator
    from rtl.adex import CYCLES_PER_UPDATE as ADEX_CYCLES
    from rtl.izhikevich import CYCLES_PER_UPDATE as IZH_CYCLES
    from sim.amaranth_sim import update_busy_cycles
    rng = np.random.default_rng(9)
    params = CoreParams(n_neurons=32, n_axons=4, n_synapses=8, max_delay=1, state_bits=24,
                        n_profiles=2, neuron_model=model)
    image = random_image(rng, params)
    dut = LIFCore(params)
    bench = CoreBench(dut)
    out = {"busy": update_busy_cycles(LIFCore(params), image)}

    async def main(ctx):
        await bench.load(ctx, image)
        out["fields"] = [[await bench.debug_read(ctx, Region.PROFILE, i << 4 | f)
                          for f in profile_fields(prof, params.neuron_model)]
                         for i, prof in enumerate(image.profiles)]

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.add_testbench(bench.collect, background=True)
    sim.run()
    shapes = profile_shapes(params)
    for got, prof in zip(out["fields"], image.profiles):
        want = profile_fields(prof, params.neuron_model)
        mask = [(1 << shapes[f].width) - 1 for f in want]
        assert [g & k for g, k in zip(got, mask)] == [int(w) & k for w, k in
                                                       zip(want.values(), mask)]
    # A neuron per unit step, plus the reads in front of it and the write behind it.
    unit = IZH_CYCLES if model == "izhikevich" else ADEX_CYCLES
    per_neuron = out["busy"] / params.n_neurons
    assert unit + 2 <= per_neuron <= unit + 4, per_neuron

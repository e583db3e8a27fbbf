"""Tier 3: ``LIFCore`` in the Amaranth simulator against the golden model, and its elaboration checks."""

import re

import numpy as np
import pytest
from amaranth.hdl import Fragment

from golden_model import CoreImage, CoreParams, LIFProfile, SynapseTable, simulate
from golden_model.params import ResetMode
from rtl.lif_core import Counter, LIFCore, ProfileField, Region, config_writes, signed_value
from sim.amaranth_sim import CoreBench
from sim.stimulus import random_image, random_inputs


def assert_matches_golden(image, steps, result):
    golden = simulate(image, steps)
    np.testing.assert_array_equal(result["spikes"], golden.spikes)
    np.testing.assert_array_equal(result["u"], golden.u)
    np.testing.assert_array_equal(result["v"], golden.v)
    assert result["counters"][Counter.SOPS] == golden.n_sops
    assert result["counters"][Counter.SPIKES] == golden.n_spikes
    assert result["counters"][Counter.TIMESTEP] == len(steps)
    return golden


@pytest.mark.parametrize("seed", range(4))
def test_random_configuration_matches_golden(seed):
    rng = np.random.default_rng(seed)
    params = CoreParams(n_neurons=16, n_axons=8, n_synapses=64, max_delay=int(rng.integers(1, 6)),
                        state_bits=int(rng.choice([8, 13, 24])),
                        weight_bits=int(rng.integers(1, 17)),
                        weight_signed=bool(rng.integers(0, 2)), refractory_bits=3)
    image = random_image(rng, params)
    steps = random_inputs(rng, params.n_axons, 25, rate=0.3, burst_every=6)
    # Odd seeds read the state back through the registered debug path an ECP5 builds.
    dut = LIFCore(params, deep_pipeline=bool(seed % 2))
    result = CoreBench(dut, stall=0.3, seed=seed).run(image, steps)
    assert_matches_golden(image, steps, result)


def test_every_neuron_spiking_under_backpressure_loses_nothing():
    """All 32 neurons fire every step while the consumer refuses 80% of cycles."""
    params = CoreParams(n_neurons=32, n_axons=1, n_synapses=1, max_delay=1)
    image = CoreImage(params, [LIFProfile(vth=0, bias_mant=5)], 0,
                      SynapseTable.from_synapses(1, [(0, 0, 1, 1)]))
    steps = [[]] * 4
    bench = CoreBench(LIFCore(params), stall=0.8, seed=3)
    result = bench.run(image, steps, read_state=False)
    assert result["spikes"].all()
    # Neuron order within each step, each spike exactly once.
    for t in range(4):
        assert [n for s, n in result["spike_order"] if s == t] == list(range(32))


def test_back_to_back_synapses_on_one_slot_all_count():
    """Runs of entries that hit the same accumulator slot in consecutive clocks, within an
    axon and across back-to-back events: each sum must see the one just before it, which
    has not been written yet when its read is issued."""
    params = CoreParams(n_neurons=16, n_axons=3, n_synapses=24, max_delay=2, state_bits=16,
                        weight_bits=8, weight_signed=True)
    synapses = [(0, 1, 100, 1)] * 6 + [(0, 2, -7, 2), (0, 2, -9, 2), (0, 1, 3, 1)]
    synapses += [(1, 1, 11, 1), (1, 1, -13, 1), (1, 3, 5, 1), (1, 1, 17, 1)]
    synapses += [(2, 2, 19, 2), (2, 2, 23, 2), (2, 1, 29, 1)]
    image = CoreImage(params, [LIFProfile(vth=30000, du=4095, du_offset=1)], 0,
                      SynapseTable.from_synapses(3, synapses))
    steps = [[0, 1, 2, 0, 1], [2, 2, 0], [], [1, 0, 1, 2]]
    result = CoreBench(LIFCore(params), stall=0.0, seed=5).run(image, steps)
    golden = assert_matches_golden(image, steps, result)
    # By hand: neuron 1's u after step 0 is two events of axon 0 (603 each), two of axon 1
    # (15 each) and one of axon 2 (29); a decay of 4096 keeps nothing of the step before.
    assert golden.u[0][1] == 2 * 603 + 2 * 15 + 29


def test_refractory_and_reset_modes_match_golden():
    params = CoreParams(n_neurons=16, n_axons=3, n_synapses=48, max_delay=2, state_bits=16,
                        refractory_bits=3)
    profiles = [LIFProfile(vth=300, reset=ResetMode.ZERO, refractory=3, weight_exp=2),
                LIFProfile(vth=300, reset=ResetMode.SUBTRACT, dv=100, weight_exp=2),
                LIFProfile(vth=300, reset=ResetMode.VALUE, v_reset=-77, du=4095, du_offset=1,
                           weight_exp=2)]
    rows = [(a, n, 90, 1 + (n % 2)) for a in range(3) for n in range(16)]
    image = CoreImage(params, profiles, np.arange(16) % 3,
                      SynapseTable.from_synapses(3, rows))
    steps = [[0, 1, 2]] * 6 + [[]] * 4
    result = CoreBench(LIFCore(params)).run(image, steps)
    golden = assert_matches_golden(image, steps, result)
    assert golden.spikes.any() and not golden.spikes.all()


@pytest.mark.parametrize("deep_pipeline", [False, True])
def test_config_writes_read_back_through_debug_port(deep_pipeline):
    rng = np.random.default_rng(11)
    params = CoreParams(n_neurons=16, n_axons=4, n_synapses=20, max_delay=3, state_bits=12,
                        weight_bits=5, weight_signed=True)
    image = random_image(rng, params)
    dut = LIFCore(params, deep_pipeline=deep_pipeline)
    bench = CoreBench(dut)
    writes = config_writes(image)
    reads = {}

    async def main(ctx):
        await bench.load(ctx, image)
        for region, addr, _ in writes:
            reads[region, addr] = await bench.debug_read(ctx, region, addr)

    from amaranth.sim import Simulator
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.run()
    for region, addr, data in writes:
        got = reads[region, addr]
        if region in (Region.U, Region.V, Region.SYN_WEIGHT, Region.ACC) or (
                region == Region.PROFILE and addr & 15 in (ProfileField.BIAS,
                                                           ProfileField.V_RESET)):
            width = {Region.SYN_WEIGHT: 5, Region.ACC: params.acc_bits}.get(region, 12)
            assert signed_value(got, width) == signed_value(data, width), (region, addr)
        else:
            assert got == data, (region, addr)


def test_rejects_non_params():
    with pytest.raises(TypeError, match=r"^params must be a CoreParams, not 16$"):
        LIFCore(16)


def test_rejects_accumulator_beyond_address_space():
    params = CoreParams(n_neurons=4096, n_axons=16, n_synapses=16, max_delay=17)
    with pytest.raises(ValueError, match=re.escape(
            "max_delay × n_neurons needs 69632 accumulator slots (17 × 4096), more than the "
            "65536 a 16-bit config address reaches")):
        LIFCore(params)


def test_rejects_memory_over_budget():
    params = CoreParams(n_neurons=16, n_axons=16, n_synapses=16, max_delay=2)
    total = sum(w * d for w, d in LIFCore.memory_widths(params).values())
    Fragment.get(LIFCore(params, memory_budget_bits=total), None)
    with pytest.raises(ValueError, match=re.escape(
            f"the core's memories need {total} bits, more than memory_budget_bits = "
            f"{total - 1}")):
        LIFCore(params, memory_budget_bits=total - 1)


def test_largest_core_elaborates():
    """4096 neurons with 16 delay slots fill the 16-bit accumulator address space exactly."""
    params = CoreParams(n_neurons=4096, n_axons=4096, n_synapses=65536, max_delay=16)
    Fragment.get(LIFCore(params), None)


# ---- single-port synapse table (the iCE40 UltraPlus SPRAM layout) -----------------------------

@pytest.mark.parametrize("seed", range(3))
def test_single_port_synapse_table_matches_golden(seed):
    """Target and weight packed in one single-port word: same spikes and state as the spec."""
    rng = np.random.default_rng([70, seed])
    params = CoreParams(n_neurons=16, n_axons=8, n_synapses=64, max_delay=int(rng.integers(1, 5)),
                        state_bits=int(rng.choice([8, 16])), weight_bits=int(rng.integers(1, 9)),
                        weight_signed=bool(rng.integers(0, 2)), refractory_bits=3)
    image = random_image(rng, params)
    steps = random_inputs(rng, params.n_axons, 25, rate=0.4, burst_every=5)
    result = CoreBench(LIFCore(params, synapse_ram="spram"), stall=0.3, seed=seed).run(image, steps)
    assert_matches_golden(image, steps, result)


def test_single_port_synapse_fields_read_back():
    """Each field is written alone and read back whole: the nibble enables keep the other."""
    params = CoreParams(n_neurons=16, n_axons=4, n_synapses=8, max_delay=4, weight_bits=7)
    syn = SynapseTable.from_synapses(4, [(a, (5 * a + k) % 16, -60 + 17 * a + k, 1 + (a + k) % 4)
                                         for a in range(4) for k in range(2)])
    image = CoreImage(params, [LIFProfile()], 0, syn)
    reads = {}
    dut = LIFCore(params, synapse_ram="spram")
    bench = CoreBench(dut)

    async def read_all(ctx):
        await bench.load(ctx, image)
        for region in (Region.SYN_TARGET, Region.SYN_WEIGHT):
            reads[region] = [await bench.debug_read(ctx, region, e) for e in range(len(syn))]

    from amaranth.sim import Simulator
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(read_all)
    sim.run()
    for e in range(len(syn)):
        assert reads[Region.SYN_TARGET][e] == syn.target[e] | (syn.delay[e] - 1) << 16
        assert signed_value(reads[Region.SYN_WEIGHT][e], 32) == syn.weight[e]


@pytest.mark.parametrize("kwargs, message", [
    ({"synapse_ram": "ebr"}, r"^synapse_ram must be 'dual' or 'spram', not 'ebr'$"),
    ({"params": CoreParams(n_neurons=4096, n_axons=8, n_synapses=64, max_delay=8),
      "synapse_ram": "spram"},
     r"^a synapse entry needs 8 weight bits and 15 target and delay bits, 24 bits in whole "
     r"nibbles; an SPRAM word holds 16$"),
])
def test_single_port_arguments(kwargs, message):
    args = {"params": CoreParams(n_neurons=16, n_axons=8, n_synapses=64)} | kwargs
    with pytest.raises(ValueError, match=message):
        LIFCore(args.pop("params"), **args)


def test_single_port_refuses_a_learning_engine():
    from golden_model.params import LearningSpec, Rule
    params = CoreParams(n_neurons=16, n_axons=8, n_synapses=64,
                        learning=LearningSpec(Rule.STDP))
    with pytest.raises(ValueError, match=r"^synapse_ram = 'spram' has one port, and a learning "
                                         r"engine writes synapses while it reads them; use "
                                         r"'dual'$"):
        LIFCore(params, synapse_ram="spram")


def test_deep_pipeline_argument():
    with pytest.raises(TypeError, match=r"^deep_pipeline must be True or False, not 1$"):
        LIFCore(CoreParams(n_neurons=16, n_axons=8, n_synapses=64), deep_pipeline=1)


@pytest.mark.parametrize("deep_pipeline", [False, True])
def test_read_right_after_a_write_sees_it(deep_pipeline):
    """A debug read offered in the clock after a config write was taken returns the new
    value, also when the deep pipeline makes the write a clock later."""
    from amaranth.sim import Simulator
    dut = LIFCore(CoreParams(n_neurons=16, n_axons=8, n_synapses=64),
                  deep_pipeline=deep_pipeline)
    got = []

    async def main(ctx):
        for value in (0x1234, 0x0567, 0x7ABC):
            ctx.set(dut.config.payload, {"region": Region.U, "addr": 3, "data": value})
            ctx.set(dut.config.valid, 1)
            await ctx.tick().until(dut.config.ready)
            ctx.set(dut.config.valid, 0)
            ctx.set(dut.debug.req.payload, {"region": Region.U, "addr": 3})
            ctx.set(dut.debug.req.valid, 1)
            await ctx.tick().until(dut.debug.req.ready)
            ctx.set(dut.debug.req.valid, 0)
            ctx.set(dut.debug.resp.ready, 1)
            *_, data = await ctx.tick().sample(dut.debug.resp.payload).until(dut.debug.resp.valid)
            ctx.set(dut.debug.resp.ready, 0)
            got.append(signed_value(data, 16))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.run()
    assert got == [0x1234, 0x0567, 0x7ABC]

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


def test_multi_core_chip_with_the_deep_fabric():
    """A 1×3 chip built as an ECP5 board builds it: host events through the merge tree,
    config and debug through the tile slots, the barrier through registered ORs."""
    rng = np.random.default_rng(83)
    chip = ChipParams(rows=1, cols=3, n_routes=48,
                      core=CoreParams(n_neurons=16, n_axons=16, n_synapses=48, max_delay=3))
    image = random_chip_image(rng, chip, host_fraction=0.4)
    steps = random_chip_inputs(rng, chip, 5, rate=0.4)
    out = ChipBench(Chip(chip, deep_pipeline=True), stall=0.4, seed=3).run(image, steps)
    golden = simulate_chip(image, steps)
    assert golden.n_routed > 0 and len(golden.host) > 0
    assert out["host"] == sorted(map(tuple, golden.host.tolist()))
    np.testing.assert_array_equal(out["u"], golden.u)
    np.testing.assert_array_equal(out["v"], golden.v)
    assert out["counters"][ChipCounter.TIMESTEP] == len(steps)
    assert out["counters"][ChipCounter.PACKETS] == golden.n_routed
    assert out["counters"][ChipCounter.HOST_EVENTS] == len(golden.host)
    assert out["counters"][ChipCounter.BAD_PACKETS] == 0
    # Router 0 forwards the external packets too; every packet ends at some core.
    external = sum(len(s) for s in steps)
    routed = [out["counters"][f"routed_{k}"] for k in range(3)]
    assert routed[0] >= external and sum(routed) >= golden.n_routed + external


def test_deep_fabric_refuses_bad_writes_and_answers_every_read():
    """Writes to a core that does not exist or to the chip's counters are counted, not
    applied; a read of a missing core answers 0; a write is seen by the next read."""
    from amaranth.sim import Simulator
    from rtl.chip import CHIP_REGION
    from rtl.lif_core import Region
    from sim.amaranth_sim import push
    chip = ChipParams(rows=1, cols=3, core=CoreParams(n_neurons=16, n_axons=8, n_synapses=32))
    dut = Chip(chip, deep_pipeline=True)
    seen = {}

    async def read(ctx, core, region, addr):
        await push(ctx, dut.debug.req, {"core": core, "region": region, "addr": addr})
        ctx.set(dut.debug.resp.ready, 1)
        *_, data = await ctx.tick().sample(dut.debug.resp.payload).until(dut.debug.resp.valid)
        ctx.set(dut.debug.resp.ready, 0)
        return data

    async def main(ctx):
        for core, region in ((3, Region.U), (1, CHIP_REGION), (0, 14)):
            await push(ctx, dut.config, {"core": core, "region": region, "addr": 2,
                                         "data": 77})
        # Back-to-back writes to each core, then reads straight after.
        for k in range(3):
            for n in range(4):
                await push(ctx, dut.config, {"core": k, "region": Region.V, "addr": n,
                                             "data": 100 * k + n})
        seen["v"] = [[await read(ctx, k, Region.V, n) for n in range(4)] for k in range(3)]
        seen["missing"] = await read(ctx, 3, Region.V, 0)
        seen["bad"] = await read(ctx, 0, CHIP_REGION, ChipCounter.BAD_PACKETS)
        seen["unknown_counter"] = await read(ctx, 0, CHIP_REGION, 15)
        await push(ctx, dut.tick)
        await ctx.tick().until(~dut.busy)
        seen["timestep"] = await read(ctx, 2, CHIP_REGION, ChipCounter.TIMESTEP)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.run()
    assert seen["v"] == [[100 * k + n for n in range(4)] for k in range(3)]
    assert seen["missing"] == 0
    assert seen["bad"] == 3
    assert seen["unknown_counter"] == 0
    assert seen["timestep"] == 1


def test_gating_must_be_a_policy():
    from golden_model.power import PowerPolicy
    with pytest.raises(TypeError, match=r"^gating must be a PowerPolicy or None, not 'sleep'$"):
        Chip(ChipParams(1, 1, CoreParams(n_neurons=16, n_axons=4, n_synapses=8)),
             gating="sleep")
    chip = Chip(ChipParams(1, 2, CoreParams(n_neurons=16, n_axons=4, n_synapses=8)),
                gating=PowerPolicy())
    from amaranth import Fragment
    from rtl.power import GatedCore
    fragment = Fragment.get(chip, None)

    def origins(f):
        yield from (f.origins or ())
        for sub, _n, _l in f.subfragments:
            yield from origins(sub)
    assert sum(isinstance(o, GatedCore) for o in origins(fragment)) == 2

"""``rtl.fabric``: merge nodes, registered ORs and the idle confirmation, in the Amaranth
simulator."""

import numpy as np
import pytest
from amaranth import Module, Signal
from amaranth.sim import Simulator

from rtl.fabric import IdleConfirm, MergeNode, registered_any


def simulate(dut, main, *background):
    """Run testbench ``main`` on ``dut`` at 100 MHz, with ``background`` ones beside it."""
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    for bench in background:
        sim.add_testbench(bench, background=True)
    sim.add_testbench(main)
    sim.run()


@pytest.mark.parametrize("count, stall", [(1, 0.0), (3, 0.5), (4, 0.0), (5, 0.8)])
def test_merge_node_delivers_every_item_once_in_order_per_input(count, stall):
    rng = np.random.default_rng([7, count])
    items = [[int(i << 8 | n) for n in rng.integers(0, 256, 30)] for i in range(count)]
    dut = MergeNode(16, count)
    got, busy_seen = [], []

    def producer(i):
        async def testbench(ctx):
            await produce(ctx, i)
        return testbench

    async def produce(ctx, i):
        port = dut.inputs()[i]
        for item in items[i]:
            # Gaps on the inputs, and back-to-back items.
            for _ in range(int(rng.integers(0, 3)) if i % 2 else 0):
                await ctx.tick()
            ctx.set(port.payload, item)
            ctx.set(port.valid, 1)
            await ctx.tick().until(port.ready)
            ctx.set(port.valid, 0)

    async def consumer(ctx):
        ready = 1
        ctx.set(dut.output.ready, ready)
        async for _, _, valid, payload, busy in ctx.tick().sample(
                dut.output.valid, dut.output.payload, dut.busy):
            if valid:
                busy_seen.append(busy)
            if valid and ready:
                got.append(payload)
            ready = int(not rng.random() < stall)
            ctx.set(dut.output.ready, ready)

    async def main(ctx):
        await ctx.tick().repeat(1500)

    simulate(dut, main, consumer, *(producer(i) for i in range(count)))
    assert sorted(got) == sorted(x for row in items for x in row)
    for i in range(count):
        assert [x for x in got if x >> 8 == i] == items[i]
    assert all(busy_seen)


def test_merge_node_is_fair_under_constant_pressure():
    """Three inputs that always have an item take turns: the arbiter is round-robin."""
    dut = MergeNode(8, 3)
    got = []

    async def main(ctx):
        for i, port in enumerate(dut.inputs()):
            ctx.set(port.payload, i)
            ctx.set(port.valid, 1)
        ctx.set(dut.output.ready, 1)
        async for _, _, valid, payload in ctx.tick().sample(dut.output.valid,
                                                            dut.output.payload):
            if valid:
                got.append(payload)
            if len(got) == 30:
                return

    simulate(dut, main)
    assert sorted(got[3:30]) == sorted([0, 1, 2] * 9)
    assert all(len(set(got[i:i + 3])) == 3 for i in range(3, 27, 3))


def test_merge_node_count_error():
    with pytest.raises(ValueError, match=r"^count must be at least 1, not 0$"):
        MergeNode(8, 0)


def test_registered_any_latencies():
    """A tile's bit is seen 3 clocks later; a central bit 1 clock later."""
    m = Module()
    tile_bit, other_bit, central_bit = Signal(), Signal(), Signal()
    out = registered_any(m, "t", [[[tile_bit], [other_bit]], [[]]], [central_bit])
    assert registered_any.LATENCY == 3

    async def main(ctx):
        for bit, delay in ((tile_bit, 3), (other_bit, 3), (central_bit, 1)):
            ctx.set(bit, 1)
            await ctx.tick()
            ctx.set(bit, 0)
            seen = []
            for _ in range(6):
                seen.append(ctx.get(out))
                await ctx.tick()
            # The clock after the pulse reads as delay 1.
            assert seen == [int(i == delay - 1) for i in range(6)], (bit, seen)

    simulate(m, main)


def test_idle_confirm_waits_latency_plus_two_clean_clocks():
    dut = IdleConfirm(3)
    trace = []

    async def main(ctx):
        script = ([(1, 0)] * 2 + [(0, 0)] * 7 + [(0, 1)] + [(0, 0)] * 6 + [(1, 0)] +
                  [(0, 0)] * 3)
        for busy, event in script:
            ctx.set(dut.busy, busy)
            ctx.set(dut.event, event)
            await ctx.tick()
            trace.append(ctx.get(dut.idle))

    simulate(dut, main)
    # Five clean clocks after the busy ones; an event and a busy clock each start again.
    expected = [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    assert trace == expected

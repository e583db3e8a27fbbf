"""Tier 3: ``Router`` alone in the Amaranth simulator: XY directions, multicast, no loss."""

import collections

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden_model import CoreParams
from golden_model.chip import ChipParams
from golden_model.keymask import RouterEntry
from rtl.router import PORTS, ROUTER_REGION, Router

CORE = CoreParams(n_neurons=16, n_axons=16, n_synapses=16)


def xy_port(x, y, dx, dy):
    return "e" if dx > x else "w" if dx < x else "s" if dy > y else "n" if dy < y else "l"


def run_router(dut, packets, *, stall, seed, config=()):
    """Offer ``packets[port]`` (lists of payload dicts) on every input at once, with random
    gaps, and drain every output with random stalls; returns what left each port."""
    rng = np.random.default_rng(seed)
    got = {p: [] for p in PORTS}
    done = []
    configured = []

    def producer(port, items):
        async def bench(ctx):
            stream = getattr(dut, f"in_{port}")
            while not configured:
                await ctx.tick()
            for item in items:
                while rng.random() < 0.3:
                    await ctx.tick()
                ctx.set(stream.payload, item)
                ctx.set(stream.valid, 1)
                await ctx.tick().until(stream.ready)
                ctx.set(stream.valid, 0)
            done.append(port)
        return bench

    def consumer(port):
        async def bench(ctx):
            stream = getattr(dut, f"out_{port}")
            ready = 0
            async for _, _, valid, payload in ctx.tick().sample(stream.valid, stream.payload):
                if valid and ready:
                    got[port].append({name: getattr(payload, name)
                                      for name in dut.params.packet_fields()
                                      if name in ("x", "y", "axon", "payload")})
                ready = int(rng.random() >= stall)
                ctx.set(stream.ready, ready)
        return bench

    async def main(ctx):
        for region, addr, data in config:
            ctx.set(dut.config.payload, {"region": region, "addr": addr, "data": data})
            ctx.set(dut.config.valid, 1)
            await ctx.tick()
        ctx.set(dut.config.valid, 0)
        configured.append(True)
        while len(done) < len(packets):
            await ctx.tick()
        for _ in range(200):
            await ctx.tick()
        assert ctx.get(dut.empty)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    for port, items in packets.items():
        sim.add_testbench(producer(port, items))
    for p in PORTS:
        sim.add_testbench(consumer(p), background=True)
    sim.run()
    return got


@pytest.mark.parametrize("stall, payload_bits", [(0.0, 0), (0.7, 0), (0.5, 7)])
def test_xy_routing_delivers_every_packet_once(stall, payload_bits):
    chip = ChipParams(rows=3, cols=3, core=CORE, fifo_depth=2, payload_bits=payload_bits)
    rng = np.random.default_rng(7)
    packets = {p: [{"x": int(rng.integers(0, 3)), "y": int(rng.integers(0, 3)),
                    "axon": k % 16, **({"payload": int(rng.integers(0, 128))}
                                       if payload_bits else {})}
                   for k in range(60)] for p in PORTS}
    got = run_router(Router(chip, 1, 1), packets, stall=stall, seed=3)
    expected = collections.defaultdict(list)
    for port, items in packets.items():
        for item in items:
            expected[xy_port(1, 1, item["x"], item["y"])].append((port, item))
    # A graded payload travels with its packet, untouched.
    key = lambda i: (i["x"], i["y"], i["axon"], i.get("payload", 0))
    for out in PORTS:
        # Each output sees exactly the packets XY order sends there: none lost, none doubled.
        assert sorted(map(key, got[out])) == sorted(key(i) for _, i in expected[out])
    assert sum(map(len, got.values())) == 5 * 60


def test_keymask_multicast_copies_to_every_port():
    chip = ChipParams(rows=3, cols=3, core=CORE, key_entries=2, key_inputs=1)
    entry = RouterEntry(key=5, mask=0x1F, ports={"n", "e", "l"})
    ports = sum(1 << i for i, p in enumerate(PORTS) if p in entry.ports)
    config = [(ROUTER_REGION, 0, 5), (ROUTER_REGION, 1, 0x1F), (ROUTER_REGION, 2, ports | 32),
              (ROUTER_REGION, 0x8000, 5), (ROUTER_REGION, 0x8001, 0x1F),
              (ROUTER_REGION, 0x8002, 9 | 1 << 16)]
    packets = {"w": [{"x": 0, "y": 0, "axon": 0, "keyed": 1, "key": 5}] * 20,
               "s": [{"x": 0, "y": 0, "axon": 0, "keyed": 1, "key": 6}] * 20}
    got = run_router(Router(chip, 1, 1), packets, stall=0.5, seed=1, config=config)
    # Key 5 from the west: a copy north, east and local (as axon 9); key 6 matches
    # nothing and goes straight on, from the south port to the north.
    assert len(got["e"]) == 20 and len(got["l"]) == 20 and len(got["n"]) == 40
    assert all(item["axon"] == 9 for item in got["l"])
    assert got["s"] == [] and got["w"] == []


def test_chip_counts_what_it_refuses():
    """A packet for an axon that does not exist, and a config write to a core that does not
    exist, are accepted and counted, never routed or applied."""
    from rtl.chip import CHIP_REGION, Chip, ChipCounter
    from sim.amaranth_sim import push
    core = CoreParams(n_neurons=16, n_axons=12, n_synapses=16)
    chip = ChipParams(rows=1, cols=3, core=core)
    dut = Chip(chip)
    out = {}

    async def main(ctx):
        await push(ctx, dut.ext_in, {"x": 1, "y": 0, "axon": 13})      # axon 13 of 12
        await push(ctx, dut.ext_in, {"x": 3, "y": 0, "axon": 1})       # column 3 of 3
        await push(ctx, dut.config, {"core": 3, "region": 5, "addr": 0, "data": 7})
        await ctx.tick().until(~dut.busy)
        for name, counter in (("bad", ChipCounter.BAD_PACKETS), ("packets", ChipCounter.PACKETS)):
            out[name] = await debug_read(ctx, dut, CHIP_REGION, counter)

    run_testbench(dut, main)
    assert out["bad"] == 3
    assert out["packets"] == 0


def test_chip_counts_keyed_packets_that_no_input_entry_takes():
    """A keyed copy for the local core that matches no input entry is dropped and counted in
    ``UNROUTED``; copies that match reach the core, and are not counted."""
    from rtl.chip import CHIP_REGION, Chip, ChipCounter
    from rtl.lif_core import Counter, Region
    from sim.amaranth_sim import push
    chip = ChipParams(rows=1, cols=2, core=CORE, key_entries=1, key_inputs=1)
    dut = Chip(chip)
    local = 1 << PORTS.index("l")
    config = [(ROUTER_REGION, 0, 0x10), (ROUTER_REGION, 1, 0x10), (ROUTER_REGION, 2, local | 32),
              (ROUTER_REGION, 0x8000, 0x11), (ROUTER_REGION, 0x8001, 0x1F),
              (ROUTER_REGION, 0x8002, 3 | 1 << 16)]
    out = {}

    async def main(ctx):
        for region, addr, data in config:
            await push(ctx, dut.config, {"core": 0, "region": region, "addr": addr, "data": data})
        # Keys 0x10..0x13 reach core 0's local port; only 0x11 has an input entry.
        for i in range(12):
            await push(ctx, dut.ext_in, {"x": 0, "y": 0, "axon": 0, "keyed": 1,
                                         "key": 0x10 + i % 4})
        await ctx.tick().until(~dut.busy)
        for name, region, addr in (("unrouted", CHIP_REGION, ChipCounter.UNROUTED),
                                   ("events", Region.COUNTER, Counter.EVENTS)):
            out[name] = await debug_read(ctx, dut, region, addr)

    run_testbench(dut, main)
    assert out["unrouted"] == 9
    assert out["events"] == 3


async def debug_read(ctx, dut, region, addr):
    """Read one word of core 0 (or of the chip) through ``dut``'s debug port."""
    from sim.amaranth_sim import push
    await push(ctx, dut.debug.req, {"core": 0, "region": region, "addr": addr})
    ctx.set(dut.debug.resp.ready, 1)
    *_, value = await ctx.tick().sample(dut.debug.resp.payload).until(dut.debug.resp.valid)
    ctx.set(dut.debug.resp.ready, 0)
    return value


def run_testbench(dut, main):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.run()

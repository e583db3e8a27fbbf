"""Amaranth-simulator helpers for :class:`rtl.lif_core.LIFCore`.

:class:`CoreBench` wraps a core in an :class:`amaranth.sim.Simulator` with
async testbenches: stream pushes, a spike collector, debug reads, and a
``run_steps`` that returns what the golden model's ``simulate`` returns.
Used by the tier-3 tests; cocotb benches (tier 4) live in :mod:`sim.cocotb_bench`.
"""

import numpy as np

from amaranth.sim import Simulator

from golden_model.params import Rule
from rtl.learning import LearnKind, LearnParam, learn_addr, trace_memories
from rtl.lif_core import Counter, Region, config_writes, signed_value, weight_value

__all__ = ["CoreBench", "push", "run_stream_unit", "stream_unit_timing", "update_busy_cycles"]


async def push(ctx, port, payload=None):
    """Offer one transfer on stream ``port`` and wait until it is accepted."""
    if payload is not None:
        ctx.set(port.payload, payload)
    ctx.set(port.valid, 1)
    await ctx.tick().until(port.ready)
    ctx.set(port.valid, 0)


class CoreBench:
    """Drive a core through a list of timesteps in the Amaranth simulator."""

    def __init__(self, dut, *, stall=0.0, seed=0):
        self.dut = dut
        self.stall = stall
        self.rng = np.random.default_rng(seed)
        self.p = dut.params
        self.spikes = []        # (timestep, neuron), in arrival order
        # Spikes between a tick and the core going idle belong to that tick's step: the
        # driver waits for `busy` to fall (FIFO drained) before the next step.
        self.step = -1

    async def debug_read(self, ctx, region, addr):
        dut = self.dut
        await push(ctx, dut.debug.req, {"region": region, "addr": addr})
        ctx.set(dut.debug.resp.ready, 1)
        *_, data = await ctx.tick().sample(dut.debug.resp.payload).until(dut.debug.resp.valid)
        ctx.set(dut.debug.resp.ready, 0)
        return data

    async def load(self, ctx, image):
        for region, addr, data in config_writes(image):
            await push(ctx, self.dut.config, {"region": region, "addr": addr, "data": data})

    async def collect(self, ctx):
        """Accept output spikes (refusing a ``stall`` fraction of cycles), tagged by step."""
        dut = self.dut
        ready = 1
        ctx.set(dut.spike_out.ready, ready)
        async for _, _, valid, neuron in ctx.tick().sample(
                dut.spike_out.valid, dut.spike_out.payload.neuron):
            if valid and ready:
                self.spikes.append((self.step, neuron))
            ready = int(not (self.stall and self.rng.random() < self.stall))
            ctx.set(dut.spike_out.ready, ready)

    async def run_step(self, ctx, axons, reward=0):
        dut = self.dut
        if reward:
            await push(ctx, dut.config, {"region": Region.COUNTER, "data": reward & 0xFFFF_FFFF,
                                         "addr": learn_addr(LearnKind.PARAM, LearnParam.REWARD)})
        for a in axons:
            await push(ctx, dut.axon_in, {"axon": int(a)})
        self.step += 1
        await push(ctx, dut.tick)
        await ctx.tick().until(~dut.busy)

    async def read_state(self, ctx):
        S = self.p.state_bits
        u = [signed_value(await self.debug_read(ctx, Region.U, n), S)
             for n in range(self.p.n_neurons)]
        v = [signed_value(await self.debug_read(ctx, Region.V, n), S)
             for n in range(self.p.n_neurons)]
        return np.array(u, dtype=np.int64), np.array(v, dtype=np.int64)

    async def read_learning(self, ctx, n_entries):
        """Weights (and eligibilities) of the first ``n_entries`` entries, and the traces."""
        spec = self.p.learning
        words = [await self.debug_read(ctx, Region.SYN_WEIGHT, e) for e in range(n_entries)]
        out = {"weight": np.array([weight_value(d, self.p) for d in words], dtype=np.int64)}
        if spec.rule is Rule.THREE_FACTOR:
            out["elig"] = np.array([signed_value(d >> 16, 16) for d in words], dtype=np.int64)
        for kind, name, n in trace_memories(self.p):
            out[name] = np.array([await self.debug_read(ctx, Region.COUNTER, learn_addr(kind, i))
                                  for i in range(n)], dtype=np.int64)
        out["lfsr"] = await self.debug_read(ctx, Region.COUNTER,
                                            learn_addr(LearnKind.PARAM, LearnParam.LFSR)) \
            if spec.rule in (Rule.STDP, Rule.THREE_FACTOR) else None
        return out

    def run(self, image, steps, *, read_state=True, testbench=None, rewards=None,
            read_learning=False, writes=None):
        """Load ``image``, run ``steps`` (per-step axon lists); return a result dict.

        ``rewards`` gives a three-factor core's reward per step; ``read_learning``
        reads weights and traces after every step into ``out["learning"]``;
        ``writes`` maps a step to config writes ``(region, addr, data)`` made
        before it.
        """
        T, N = len(steps), self.p.n_neurons
        out = {"u": np.zeros((T, N), np.int64), "v": np.zeros((T, N), np.int64),
               "counters": {}, "learning": []}

        async def main(ctx):
            await self.load(ctx, image)
            for t, axons in enumerate(steps):
                for region, addr, data in (writes or {}).get(t, ()):
                    await push(ctx, self.dut.config, {"region": region, "addr": addr,
                                                      "data": data})
                await self.run_step(ctx, axons, 0 if rewards is None else int(rewards[t]))
                if read_state:
                    out["u"][t], out["v"][t] = await self.read_state(ctx)
                if read_learning:
                    out["learning"].append(await self.read_learning(ctx, len(image.synapses)))
            for c in Counter:
                out["counters"][c] = await self.debug_read(ctx, Region.COUNTER, c)

        sim = Simulator(self.dut)
        sim.add_clock(1e-8)
        sim.add_testbench(main)
        sim.add_testbench(self.collect, background=True)
        if testbench is not None:
            sim.add_testbench(testbench, background=True)
        sim.run()
        spikes = np.zeros((T, N), dtype=bool)
        for step, neuron in self.spikes:
            spikes[step, neuron] = True
        out["spikes"] = spikes
        out["spike_order"] = list(self.spikes)
        return out


class ChipBench:
    """Drive a :class:`rtl.chip.Chip` through timesteps in the Amaranth simulator."""

    def __init__(self, dut, *, stall=0.0, seed=0):
        self.dut = dut
        self.p = dut.params
        self.stall = stall
        self.rng = np.random.default_rng(seed)
        self.host = []       # (step, x, y, neuron)
        self.step = -1

    async def debug_read(self, ctx, core, region, addr):
        dut = self.dut
        await push(ctx, dut.debug.req, {"core": core, "region": region, "addr": addr})
        ctx.set(dut.debug.resp.ready, 1)
        *_, data = await ctx.tick().sample(dut.debug.resp.payload).until(dut.debug.resp.valid)
        ctx.set(dut.debug.resp.ready, 0)
        return data

    async def collect(self, ctx):
        dut = self.dut
        ready = 1
        ctx.set(dut.ext_out.ready, ready)
        async for _, _, valid, payload in ctx.tick().sample(dut.ext_out.valid,
                                                            dut.ext_out.payload):
            if valid and ready:
                self.host.append((self.step, payload.x, payload.y, payload.neuron))
            ready = int(not (self.stall and self.rng.random() < self.stall))
            ctx.set(dut.ext_out.ready, ready)

    def run(self, image, steps, *, read_state=True, keymask=None):
        from rtl.chip import ChipCounter, CHIP_REGION, chip_config_writes
        p = self.p
        T, C, N = len(steps), p.n_cores, p.core.n_neurons
        out = {"u": np.zeros((T, C, N), np.int64), "v": np.zeros((T, C, N), np.int64),
               "counters": {}}
        S = p.core.state_bits

        async def main(ctx):
            for core, region, addr, data in chip_config_writes(image, keymask):
                await push(ctx, self.dut.config,
                           {"core": core, "region": region, "addr": addr, "data": data})
            for t, events in enumerate(steps):
                for x, y, a in events:
                    await push(ctx, self.dut.ext_in, {"x": x, "y": y, "axon": a})
                self.step += 1
                await push(ctx, self.dut.tick)
                await ctx.tick().until(~self.dut.busy)
                if read_state:
                    for k in range(C):
                        for n in range(N):
                            out["u"][t, k, n] = signed_value(
                                await self.debug_read(ctx, k, Region.U, n), S)
                            out["v"][t, k, n] = signed_value(
                                await self.debug_read(ctx, k, Region.V, n), S)
            for c in ChipCounter:
                out["counters"][c] = await self.debug_read(ctx, 0, CHIP_REGION, c)
            for k in range(C):
                out["counters"][f"routed_{k}"] = await self.debug_read(
                    ctx, 0, CHIP_REGION, ChipCounter.ROUTED + k)

        sim = Simulator(self.dut)
        sim.add_clock(1e-8)
        sim.add_testbench(main)
        sim.add_testbench(self.collect, background=True)
        sim.run()
        out["host"] = sorted(self.host)
        return out


def run_stream_unit(dut, payloads, *, stall=0.3, seed=1):
    """Push ``payloads`` through a unit with ``inp`` and ``out`` streams (a neuron step
    unit), refusing a ``stall`` fraction of output cycles; returns the output payloads, in
    order, as Amaranth views."""
    got = []

    async def feed(ctx):
        for payload in payloads:
            ctx.set(dut.inp.payload, payload)
            ctx.set(dut.inp.valid, 1)
            await ctx.tick().until(dut.inp.ready)
            ctx.set(dut.inp.valid, 0)

    async def drain(ctx):
        rng = np.random.default_rng(seed)
        while len(got) < len(payloads):
            ready = int(rng.random() > stall)
            ctx.set(dut.out.ready, ready)
            _, _, valid, payload = await ctx.tick().sample(dut.out.valid, dut.out.payload)
            if valid and ready:
                got.append(payload)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(feed)
    sim.add_testbench(drain)
    sim.run()
    return got


def stream_unit_timing(dut, payload, cycles):
    """Offer ``payload`` again and again to a stream unit whose output is always ready, for
    ``cycles`` clocks; returns ``(taken, offered)``: the clocks a neuron was taken on and
    those a result was offered on."""
    taken, offered = [], []

    async def bench(ctx):
        ctx.set(dut.out.ready, 1)
        ctx.set(dut.inp.payload, payload)
        ctx.set(dut.inp.valid, 1)
        for cycle in range(cycles):
            _, _, ready, valid = await ctx.tick().sample(dut.inp.ready, dut.out.valid)
            if ready:
                taken.append(cycle)
            if valid:
                offered.append(cycle)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return taken, offered


def update_busy_cycles(dut, image):
    """Load ``image`` into core ``dut`` and run one step without input; returns the clocks
    the core counted busy (``Counter.BUSY_CYCLES``) in that step: the update alone."""
    bench = CoreBench(dut)
    out = {}

    async def main(ctx):
        await bench.load(ctx, image)
        before = await bench.debug_read(ctx, Region.COUNTER, Counter.BUSY_CYCLES)
        await bench.run_step(ctx, [])
        out["busy"] = await bench.debug_read(ctx, Region.COUNTER, Counter.BUSY_CYCLES) - before

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(main)
    sim.add_testbench(bench.collect, background=True)
    sim.run()
    return out["busy"]

"""A core at a given input activity, clock-gated and not, measured from VCD dumps.

:func:`measure` runs the same image and stimulus on a plain :class:`~rtl.lif_core.LIFCore`
and on a :class:`~rtl.power.GatedCore` in the Amaranth simulator, each step lasting a fixed
``period`` of cycles as it would in a chip whose other cores are busier (the core delivers
its events, updates, and then waits for the next tick). Each run writes a VCD dump;
:mod:`sim.toggles` counts from it the register bit toggles of every block and the clock
edges each block saw, per timestep. Both runs' spikes are returned, so a caller can check
they are the same.
"""

import tempfile
from pathlib import Path

from amaranth import ClockDomain, Module
from amaranth.sim import Simulator

from rtl.lif_core import LIFCore, config_writes
from rtl.power import GatedCore

from .amaranth_sim import push
from .toggles import count, instrument

__all__ = ["measure", "PERIOD_S"]

PERIOD_S = 1e-8     # simulated clock period; only ratios are reported


def _run(top, image, steps, period, vcd_path):
    """Simulate ``top``; returns ``(blocks, spikes, starts)``: what :func:`instrument` found,
    ``(step, neuron)`` spikes, and the source-clock cycle each step began at."""
    wrapper = Module()
    wrapper.domains.sync = ClockDomain()
    wrapper.submodules.dut = top
    fragment, blocks = instrument(wrapper)
    sim = Simulator(fragment)
    sim.add_clock(PERIOD_S)
    starts, spikes, clock = [], [], [0]

    async def cycles(ctx):
        async for _ in ctx.tick():
            clock[0] += 1

    async def main(ctx):
        for region, addr, data in config_writes(image):
            await push(ctx, top.config, {"region": region, "addr": addr, "data": data})
        await ctx.tick().until(~top.busy)
        for axons in steps:
            begin = clock[0]
            starts.append(begin)
            for a in axons:
                await push(ctx, top.axon_in, {"axon": int(a)})
            await push(ctx, top.tick)
            await ctx.tick().until(~top.busy)
            # The rest of the step: the chip waits for its busier cores.
            left = period - (clock[0] - begin)
            if left > 0:
                await ctx.tick().repeat(left)
        starts.append(clock[0])

    async def collect(ctx):
        ctx.set(top.spike_out.ready, 1)
        async for _, _, valid, neuron in ctx.tick().sample(top.spike_out.valid,
                                                           top.spike_out.payload.neuron):
            if valid:
                spikes.append((len(starts) - 1, int(neuron)))

    sim.add_testbench(cycles, background=True)
    sim.add_testbench(main)
    sim.add_testbench(collect, background=True)
    with sim.write_vcd(str(vcd_path)):
        sim.run()
    return blocks, spikes, starts


def measure(image, steps, *, period, policy=None, backend="generic"):
    """``{"plain": ..., "gated": ...}``: for each build, ``counts`` (per block: register
    toggles and clock edges per step, from the dump) and ``spikes``; each step lasts
    ``period`` cycles of the free-running clock."""
    params = image.params
    results = {}
    with tempfile.TemporaryDirectory(prefix="spikeforge-power-") as tmp:
        for name, make in (("plain", lambda: LIFCore(params)),
                           ("gated", lambda: GatedCore(params, policy=policy, backend=backend))):
            vcd = Path(tmp) / f"{name}.vcd"
            blocks, spikes, starts = _run(make(), image, steps, period, vcd)
            results[name] = {"counts": count(vcd, blocks, starts), "spikes": sorted(spikes)}
    return results

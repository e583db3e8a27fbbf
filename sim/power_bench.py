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

__all__ = ["measure", "run_fixed_period", "reductions", "PERIOD_S"]

PERIOD_S = 1e-8     # simulated clock period; only ratios are reported


def run_fixed_period(top, image, steps, period, *, writes=(), vcd_path=None):
    """Simulate core ``top`` (a :class:`LIFCore` or :class:`GatedCore`) under the
    fixed-period contract of :mod:`golden_model.power`: two cycles of reset, the image's
    config writes and ``writes``, then each step's events back to back from its first
    cycle, the tick, and the next step ``period`` cycles after. With ``vcd_path`` the run
    is instrumented and dumped.

    Returns a dict: ``spikes`` (``(step, neuron)``), ``starts`` (the source-clock cycle
    each step began at, and the end), ``gated`` (a gated core's ``gated_cycles`` at each
    step's end) and ``blocks`` (what :func:`instrument` found, with ``vcd_path``).
    """
    wrapper = Module()
    wrapper.domains.sync = sync = ClockDomain()
    wrapper.submodules.dut = top
    fragment, blocks = instrument(wrapper) if vcd_path is not None else (wrapper, None)
    sim = Simulator(fragment)
    sim.add_clock(PERIOD_S)
    out = {"spikes": [], "starts": [], "gated": [], "blocks": blocks}
    clock = [0]
    gated = hasattr(top, "gated_cycles")

    async def cycles(ctx):
        async for _ in ctx.tick():
            clock[0] += 1

    async def main(ctx):
        ctx.set(sync.rst, 1)
        await ctx.delay(2 * PERIOD_S)
        ctx.set(sync.rst, 0)
        for region, addr, data in list(config_writes(image)) + list(writes):
            await push(ctx, top.config, {"region": region, "addr": addr, "data": data})
        await ctx.tick().until(~top.busy)
        for t, axons in enumerate(steps):
            begin = clock[0]
            out["starts"].append(begin)
            for a in axons:
                await push(ctx, top.axon_in, {"axon": int(a)})
            await push(ctx, top.tick)
            await ctx.tick().until(~top.busy)
            left = period - (clock[0] - begin)
            if left < 0:
                raise ValueError(f"period {period} is too short: step {t} took "
                                 f"{clock[0] - begin} cycles")
            if left:
                await ctx.tick().repeat(left)
            if gated:
                out["gated"].append(ctx.get(top.gated_cycles))
        out["starts"].append(clock[0])

    async def collect(ctx):
        ctx.set(top.spike_out.ready, 1)
        async for _, _, valid, neuron in ctx.tick().sample(top.spike_out.valid,
                                                           top.spike_out.payload.neuron):
            if valid:
                out["spikes"].append((len(out["starts"]) - 1, int(neuron)))

    sim.add_testbench(cycles, background=True)
    sim.add_testbench(main)
    sim.add_testbench(collect, background=True)
    if vcd_path is None:
        sim.run()
    else:
        with sim.write_vcd(str(vcd_path)):
            sim.run()
    return out


def measure(image, steps, *, period, policy=None, backend="generic"):
    """``{"plain": ..., "gated": ...}``: for each build, ``counts`` (per block: register
    toggles and clock edges per step, from the dump) and ``spikes`` (and the gated build's
    ``gated_cycles`` at each step's end, ``gated``); each step lasts ``period`` cycles of
    the free-running clock."""
    params = image.params
    results = {}
    with tempfile.TemporaryDirectory(prefix="spikeforge-power-") as tmp:
        for name, make in (("plain", lambda: LIFCore(params)),
                           ("gated", lambda: GatedCore(params, policy=policy, backend=backend))):
            vcd = Path(tmp) / f"{name}.vcd"
            run = run_fixed_period(make(), image, steps, period, vcd_path=vcd)
            results[name] = {"counts": count(vcd, run["blocks"], run["starts"]),
                             "spikes": sorted(run["spikes"]), "gated": run["gated"]}
    return results


def _sum(counts, prefix, key, skip):
    return sum(sum(c[key][skip:]) for block, c in counts.items() if block.startswith(prefix))


def reductions(result, skip=0):
    """What gating saved in a :func:`measure` result, from step ``skip`` on: fractions of the
    plain core's clocked-register toggles (``clocked``), register toggles (``data``) and
    clock edges (``edges``) saved; the controller's and gate's own clocked-register toggles
    as a share of the plain core's (``controller``); and the saving with those counted in
    (``clocked_with_controller``). ``None`` where the plain core had nothing to save."""
    plain, gated = result["plain"]["counts"], result["gated"]["counts"]

    def ratio(g, p):
        return 1 - g / p if p else None
    base = _sum(plain, "dut", "clocked", skip)
    overhead = _sum(gated, "dut.power", "clocked", skip) + \
        _sum({b: c for b, c in gated.items() if b == "dut.gate"}, "dut.gate", "clocked", skip)
    return {
        "clocked": ratio(_sum(gated, "dut.gate.inner", "clocked", skip), base),
        "data": ratio(_sum(gated, "dut.gate.inner", "toggles", skip),
                      _sum(plain, "dut", "toggles", skip)),
        "edges": ratio(sum(gated["dut.gate.inner"]["edges"][skip:]),
                       sum(plain["dut"]["edges"][skip:])),
        "controller": overhead / base if base else None,
        "clocked_with_controller": ratio(_sum(gated, "dut", "clocked", skip), base),
    }

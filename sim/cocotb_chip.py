"""cocotb bench and entry point for the exported multi-core ``Chip``.

The layers are those of :mod:`sim.cocotb_bench` (stream drivers, a
backpressuring monitor, a debug reader), wired by :class:`ChipTB` to the
chip's ports, with the golden chip model as reference. Every step, the
scoreboard compares the host events of that step as a multiset (the output
merger interleaves cores, so their order is not part of the contract) and,
every ``state_every`` steps, every neuron's ``u`` and ``v``. With a host
route on every neuron, host events are all the chip's spikes.

:func:`run_chip_jobs` in :mod:`sim.chip_runner` runs this module.
"""

import collections
import random
import time

import numpy as np

import cocotb

from golden_model.chip import ChipState, simulate_chip
from golden_model.lif_core import CoreState
from rtl.chip import CHIP_REGION, ChipCounter, chip_config_layout, chip_config_writes, \
    chip_debug_layout, host_event_layout
from rtl.lif_core import Counter, Region, signed_value
from rtl.power import POWER_BASE, PowerReg
from rtl.router import packet_layout
from .cocotb_bench import (BenchBase, DebugReader, JobFiles, Scoreboard, StreamDriver,
                           StreamMonitor, pack)

__all__ = ["ChipTB", "run_chip"]


def unpack(layout, value):
    return {name: (value >> f.offset) & ((1 << f.width) - 1) for name, f in layout}


class ChipTB(BenchBase):
    def __init__(self, dut, params, *, seed=0, event_gap=0.0, out_stall=0.0):
        self.dut, self.params = dut, params
        rng = random.Random(seed)
        self.current_step = -1
        self.config = StreamDriver(dut.clk, dut.config__valid, dut.config__ready,
                                   dut.config__payload)
        self.events = StreamDriver(dut.clk, dut.ext_in__valid, dut.ext_in__ready,
                                   dut.ext_in__payload, gap=event_gap, rng=rng)
        self.tick = StreamDriver(dut.clk, dut.tick__valid, dut.tick__ready)
        self.debug = DebugReader(dut, chip_debug_layout(params))
        self.out = StreamMonitor(dut.clk, dut.ext_out__valid, dut.ext_out__ready,
                                 dut.ext_out__payload, stall=out_stall, rng=rng,
                                 tag=lambda: self.current_step)
        self.monitor = self.out
        self.scoreboard = Scoreboard(dut._log)
        self.cfg_layout = chip_config_layout(params)
        self.pkt_layout = packet_layout(params)
        self.host_layout = host_event_layout(params)

    async def read(self, core, region, addr):
        return await self.debug.read(core=core, region=region, addr=addr)

    async def load(self, image, keymask=None):
        for core, region, addr, data in chip_config_writes(image, keymask):
            await self.config.send(pack(self.cfg_layout, core=core, region=region, addr=addr,
                                        data=data))

    async def counters(self):
        c = {k.name.lower(): await self.read(0, CHIP_REGION, k) for k in ChipCounter
             if k != ChipCounter.ROUTED}
        c["routed"] = [await self.read(0, CHIP_REGION, ChipCounter.ROUTED + k)
                       for k in range(self.params.n_cores)]
        c["core_events"] = [await self.read(k, Region.COUNTER, Counter.EVENTS)
                            for k in range(self.params.n_cores)]
        c["core_sops"] = [await self.read(k, Region.COUNTER, Counter.SOPS)
                          for k in range(self.params.n_cores)]
        return c

    async def read_state(self):
        p = self.params
        S = p.core.state_bits
        u = np.zeros((p.n_cores, p.core.n_neurons), np.int64)
        v = np.zeros_like(u)
        for k in range(p.n_cores):
            for n in range(p.core.n_neurons):
                u[k, n] = signed_value(await self.read(k, Region.U, n), S)
                v[k, n] = signed_value(await self.read(k, Region.V, n), S)
        return u, v

    async def latency(self, x, y, axon):
        """Cycles from the rising edge that accepts one external packet for ``(x, y, axon)``
        until the chip is idle again, its synapses delivered."""
        await self.events.send(pack(self.pkt_layout, x=x, y=y, axon=axon))
        accepted = self.cycle()
        await self.wait_idle()
        return self.cycle() - accepted

    async def run_job(self, image, steps, *, state_every=1, progress=None, keymask=None):
        """Reset, load, run every step against the golden chip; returns a result dict.

        With ``keymask`` tables the chip and the golden model route in key/mask mode.
        """
        await self.reset()
        await self.load(image, keymask)
        p = self.params
        state = ChipState(t=0, cores=[CoreState.initial(c) for c in image.cores],
                          pending=[np.zeros(0, dtype=np.int64)] * p.n_cores)
        host = []
        routed = 0
        sops = np.zeros(p.n_cores, dtype=np.int64)
        step_cycles = []
        first = self.cycle()
        for t, events in enumerate(steps):
            self.out.items.clear()
            start = self.cycle()
            for x, y, a in events:
                await self.events.send(pack(self.pkt_layout, x=x, y=y, axon=a))
            self.current_step += 1
            await self.tick.send()
            await self.wait_idle()
            step_cycles.append(self.cycle() - start)
            golden = simulate_chip(image, [events], state=state, keymask=keymask)
            routed += golden.n_routed
            sops += golden.sops.sum(axis=0)
            expected = collections.Counter((int(x), int(y), int(n))
                                           for _, x, y, n in golden.host)
            got = collections.Counter()
            for _, value in self.out.items:
                f = unpack(self.host_layout, value)
                got[f["x"], f["y"], f["neuron"]] += 1
            host += [(t,) + key for key in sorted(got.elements())]
            if got != expected:
                self.scoreboard.mismatches.append((t, "host", -1))
                self.dut._log.error("step %d host events: missing %s, extra %s", t,
                                    dict(expected - got), dict(got - expected))
            if state_every and ((t + 1) % state_every == 0 or t == len(steps) - 1):
                u, v = await self.read_state()
                for k in range(p.n_cores):
                    self.scoreboard.compare(t, f"core {k} u", state.cores[k].u, u[k])
                    self.scoreboard.compare(t, f"core {k} v", state.cores[k].v, v[k])
            if progress is not None:
                progress(t + 1, len(steps))
        counters = await self.counters()
        external = sum(len(e) for e in steps)
        # In key/mask mode one packet becomes many copies in the routers; count deliveries.
        emitted_ok = keymask is not None or counters["packets"] == routed
        if not emitted_ok or sum(counters["core_events"]) != routed + external or \
                counters["unrouted"]:
            self.scoreboard.mismatches.append((len(steps), "packet accounting", -1))
            self.dut._log.error("packets: golden routed %d, chip emitted %d; events delivered "
                                "%d, expected %d", routed, counters["packets"],
                                sum(counters["core_events"]), routed + external)
        # Spikes of the last step are delivered before the barrier lets the step end; the
        # golden model holds them as the next step's pending events.
        sops += [int(image.cores[k].synapses.count[state.pending[k]].sum())
                 for k in range(p.n_cores)]
        self.scoreboard.compare(len(steps), "sops", sops, counters["core_sops"])
        return {"host": host, "counters": counters, "routed": routed, "external": external,
                "step_cycles": step_cycles, "cycles": self.cycle() - first,
                "mismatches": list(self.scoreboard.mismatches)}


@cocotb.test()
async def run_chip(dut):
    files = JobFiles()
    spec = files.spec
    tb = ChipTB(dut, spec["params"], seed=spec.get("seed", 0),
                event_gap=spec.get("event_gap", 0.0), out_stall=spec.get("out_stall", 0.0))
    await tb.start()
    mismatches = 0
    for job in spec["jobs"]:
        tb.scoreboard.mismatches.clear()
        wall = time.perf_counter()
        if job.get("kind") == "latency":
            await tb.reset()
            await tb.load(job["image"])
            result = {"latency": [await tb.latency(*event) for event in job["events"]]}
        else:
            result = await tb.run_job(job["image"], job["steps"], state_every=job["state_every"],
                                      progress=files.progress, keymask=job.get("keymask"))
            mismatches += len(result["mismatches"])
            if spec.get("gated"):
                result["power"] = [[await tb.read(k, Region.COUNTER, POWER_BASE + reg)
                                    for reg in PowerReg] for k in range(tb.params.n_cores)]
        result["wall_s"] = time.perf_counter() - wall
        files.job_done(job, result)
    assert mismatches == 0, f"{mismatches} mismatches against the golden chip model"

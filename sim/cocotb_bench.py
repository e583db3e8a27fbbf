"""cocotb layers for the exported ``LIFCore``: drivers, monitor, reference model, scoreboard.

Every interaction happens on the falling clock edge: inputs change there and
outputs are sampled in the ``ReadOnly`` phase that follows, so a handshake
seen there is the one the next rising edge performs. This works the same on
Verilator and Icarus, whose rising-edge callbacks see registers at different
times. Waiting for long phases uses edge triggers on ``busy`` rather than
one await per cycle, because each await costs tens of microseconds.

:class:`TB` wires the layers together; :meth:`TB.run_job` loads a core image
through the config port, drives every step, and lets the scoreboard compare
each step's spikes and (through the debug port) each neuron's ``u`` and
``v`` with the golden model.
"""

import os
import pickle
import random

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, Timer

from golden_model.lif_core import CoreState, step as golden_step
from golden_model.params import CoreParams, Rule
from rtl.learning import LearnKind, LearnParam, learn_addr, trace_memories
from rtl.lif_core import (ConfigWrite, Counter, DebugRead, Region, axon_event_layout,
                          config_writes, signed_value, weight_value)

__all__ = ["pack", "StreamDriver", "StreamMonitor", "DebugReader", "ReferenceModel",
           "Scoreboard", "BenchBase", "TB", "JobFiles"]


def pack(layout, **fields):
    """Pack ``fields`` into the integer a flattened ``data.StructLayout`` port expects."""
    value = 0
    for name, field in layout:
        v = int(fields.get(name, 0)) & ((1 << field.width) - 1)
        value |= v << field.offset
    return value


class StreamDriver:
    """Offers items on a valid/ready stream, optionally with random idle cycles."""

    def __init__(self, clk, valid, ready, payload=None, *, gap=0.0, rng=None):
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.gap = gap
        self.rng = rng or random.Random(0)
        self.valid.value = 0

    async def send(self, payload=None):
        """Offer one item; returns after the rising edge that accepted it (at a falling edge)."""
        while self.gap and self.rng.random() < self.gap:
            await FallingEdge(self.clk)
        if self.payload is not None:
            self.payload.value = payload
        self.valid.value = 1
        while True:
            await ReadOnly()
            accepted = bool(self.ready.value)
            await FallingEdge(self.clk)
            if accepted:
                break
        self.valid.value = 0


class StreamMonitor:
    """Accepts items from a stream with random backpressure, tagging each with ``tag()``."""

    def __init__(self, clk, valid, ready, payload, *, stall=0.0, rng=None, tag=lambda: None):
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.stall = stall
        self.rng = rng or random.Random(1)
        self.tag = tag
        self.items = []
        self.ready.value = 0
        self._task = cocotb.start_soon(self._run())

    async def _run(self):
        while True:
            await FallingEdge(self.clk)
            ready = not (self.stall and self.rng.random() < self.stall)
            self.ready.value = int(ready)
            await ReadOnly()
            if ready and self.valid.value:
                self.items.append((self.tag(), int(self.payload.value)))

    def stop(self):
        self._task.cancel()


class DebugReader:
    """Reads memories and counters through a debug request/response stream pair.

    ``layout`` is the request's ``data.StructLayout``; :meth:`read` takes its fields.
    """

    def __init__(self, dut, layout=DebugRead):
        self.dut = dut
        self.layout = layout
        self.req = StreamDriver(dut.clk, dut.debug__req__valid, dut.debug__req__ready,
                                dut.debug__req__payload)
        dut.debug__resp__ready.value = 0

    async def read(self, **fields):
        dut = self.dut
        await self.req.send(pack(self.layout, **fields))
        dut.debug__resp__ready.value = 1
        while True:
            await ReadOnly()
            if dut.debug__resp__valid.value:
                data = int(dut.debug__resp__payload.value)
                await FallingEdge(dut.clk)
                break
            await FallingEdge(dut.clk)
        dut.debug__resp__ready.value = 0
        return data


class ReferenceModel:
    """The golden model, stepped alongside the RTL."""

    def __init__(self, image):
        self.image = image
        self.state = CoreState.initial(image)
        self.table = image.profile_table

    def step(self, axons, reward=0):
        spikes, sops = golden_step(self.state, self.image, axons, self.table, reward)
        return spikes, sops

    def learning(self):
        """The learning state the debug port shows (see :meth:`TB.read_learning`)."""
        st, p = self.state, self.image.params
        out = {"weight": st.weight.copy()}
        if p.learning.rule is Rule.THREE_FACTOR:
            out["elig"] = st.learn.elig.copy()
        for _, name, _ in trace_memories(p):
            out[name] = getattr(st.learn, name).copy()
        if p.learning.rule in (Rule.STDP, Rule.THREE_FACTOR):
            out["lfsr"] = np.array([st.learn.lfsr.state])
        return out


class Scoreboard:
    """Compares one step of RTL output with the reference; keeps every mismatch."""

    def __init__(self, log, limit=20):
        self.log = log
        self.mismatches = []
        self.limit = limit
        self.steps = 0

    def compare(self, t, name, expected, actual):
        expected = np.asarray(expected)
        actual = np.asarray(actual)
        bad = np.flatnonzero(expected != actual)
        for n in bad:
            if len(self.mismatches) < self.limit:
                self.log.error("step %d %s[%d]: golden %s, rtl %s", t, name, n,
                               expected[n], actual[n])
            self.mismatches.append((t, name, int(n)))
        return len(bad) == 0


class JobFiles:
    """The simulator side of :func:`sim.core_runner.run_jobs`' file protocol.

    Reads the pickled spec from ``SPIKEFORGE_JOB``, writes ``"done total"`` steps to
    ``SPIKEFORGE_PROGRESS`` every few percent, and the results so far to
    ``SPIKEFORGE_RESULT`` after every job, so a failing run still reports.
    """

    def __init__(self):
        with open(os.environ["SPIKEFORGE_JOB"], "rb") as f:
            self.spec = pickle.load(f)
        self.progress_file = os.environ.get("SPIKEFORGE_PROGRESS")
        self.total = sum(len(job.get("steps", ())) for job in self.spec["jobs"])
        self.done = 0
        self.results = []

    def progress(self, done, steps):
        # Coarse on purpose: a write every few percent costs nothing next to the simulation.
        if self.progress_file and (done % max(1, self.total // 50) == 0 or done == steps):
            with open(self.progress_file, "w") as f:
                f.write(f"{self.done + done} {self.total}")

    def job_done(self, job, result):
        self.done += len(job.get("steps", ()))
        self.results.append(result)
        with open(os.environ["SPIKEFORGE_RESULT"], "wb") as f:
            pickle.dump(self.results, f)


class BenchBase:
    """Clock, reset, cycle count and the wait for ``busy`` to fall, shared by every bench.

    A subclass sets ``self.dut`` and ``self.monitor`` (the output monitor whose
    items a reset clears).
    """

    def cycle(self):
        """The current clock cycle (10 ns per cycle)."""
        return int(get_sim_time("ns")) // 10

    async def start(self):
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        await self.reset()

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 2)
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        self.current_step = -1
        self.monitor.items.clear()

    async def wait_idle(self):
        while True:
            await ReadOnly()
            if not self.dut.busy.value:
                break
            await FallingEdge(self.dut.busy)
        await FallingEdge(self.dut.clk)


class TB(BenchBase):
    """One ``LIFCore`` under test: clock, reset, layers, and a job runner."""

    def __init__(self, dut, params, *, seed=0, event_gap=0.0, spike_stall=0.0, extra_writes=()):
        if not isinstance(params, CoreParams):
            raise TypeError(f"params must be a CoreParams, not {params!r}")
        self.dut = dut
        self.params = params
        rng = random.Random(seed)
        self.current_step = -1
        self.config = StreamDriver(dut.clk, dut.config__valid, dut.config__ready,
                                   dut.config__payload)
        self.events = StreamDriver(dut.clk, dut.axon_in__valid, dut.axon_in__ready,
                                   dut.axon_in__payload, gap=event_gap, rng=rng)
        self.tick = StreamDriver(dut.clk, dut.tick__valid, dut.tick__ready)
        self.debug = DebugReader(dut)
        self.spikes = StreamMonitor(dut.clk, dut.spike_out__valid, dut.spike_out__ready,
                                    dut.spike_out__payload, stall=spike_stall, rng=rng,
                                    tag=lambda: self.current_step)
        self.monitor = self.spikes
        self.scoreboard = Scoreboard(dut._log)
        self.axon_layout = axon_event_layout(params)
        # Written after every image, e.g. a gated core's power settings.
        self.extra_writes = list(extra_writes)

    async def load(self, image):
        for region, addr, data in config_writes(image) + self.extra_writes:
            await self.config.send(pack(ConfigWrite, region=region, addr=addr, data=data))

    async def read_state(self):
        S, N = self.params.state_bits, self.params.n_neurons
        u = [signed_value(await self.debug.read(region=Region.U, addr=n), S) for n in range(N)]
        v = [signed_value(await self.debug.read(region=Region.V, addr=n), S) for n in range(N)]
        return np.array(u, dtype=np.int64), np.array(v, dtype=np.int64)

    async def read_learning(self, n_entries):
        """Every entry's weight (and eligibility), the traces and the LFSR, as int64 arrays."""
        p = self.params
        words = [await self.debug.read(region=Region.SYN_WEIGHT, addr=e) for e in range(n_entries)]
        out = {"weight": np.array([weight_value(d, p) for d in words], np.int64)}
        if p.learning.rule is Rule.THREE_FACTOR:
            out["elig"] = np.array([signed_value(d >> 16, 16) for d in words], np.int64)
        for kind, name, n in trace_memories(p):
            out[name] = np.array([await self.debug.read(region=Region.COUNTER,
                                                        addr=learn_addr(kind, i))
                                  for i in range(n)], np.int64)
        if p.learning.rule in (Rule.STDP, Rule.THREE_FACTOR):
            out["lfsr"] = np.array([await self.debug.read(
                region=Region.COUNTER, addr=learn_addr(LearnKind.PARAM, LearnParam.LFSR))])
        return out

    async def counters(self):
        return {c.name.lower(): await self.debug.read(region=Region.COUNTER, addr=c) for c in Counter}

    async def run_step(self, axons, reward=0, period=None):
        """One step; with ``period``, the next step starts ``period`` cycles after this one
        began (the fixed-period contract of :mod:`golden_model.power`).

        A period step starts just after a rising edge, as logic in the same clock domain
        would drive it: an input that changed at the falling edge would race a gated
        core's enable, which is captured there, and reach the core a cycle late."""
        if period is not None:
            if reward:
                raise ValueError("a period step takes no reward: the contract covers cores "
                                 "without learning")
            await RisingEdge(self.dut.clk)
            # Offer the step's first transfer now; its driver looks at it from the falling
            # edge on, as it always does.
            driver = self.events if len(axons) else self.tick
            if len(axons):
                driver.payload.value = pack(self.axon_layout, axon=axons[0])
            driver.valid.value = 1
            begin = self.cycle()
            await FallingEdge(self.dut.clk)
        else:
            begin = self.cycle()
        if reward:
            await self.config.send(pack(ConfigWrite, region=Region.COUNTER, data=reward,
                                        addr=learn_addr(LearnKind.PARAM, LearnParam.REWARD)))
        for a in axons:
            await self.events.send(pack(self.axon_layout, axon=a))
        self.current_step += 1
        await self.tick.send()
        await self.wait_idle()
        if period is not None:
            # To the falling edge of the step's last cycle; the next step's rising edge
            # is then the first of its own.
            left = begin + period - 1 - self.cycle()
            if left < 0:
                raise RuntimeError(f"step {self.current_step} took {period - left} cycles, "
                                   f"over its period of {period}")
            if left:
                await ClockCycles(self.dut.clk, left, rising=False)

    async def measure(self, axons):
        """Deliver ``axons`` back to back, then update; returns cycle counts of both phases.

        Delivery runs from the cycle the first event is offered to the cycle the
        tick is accepted (the pipeline has drained); update from there to idle.
        """
        first = self.cycle()
        for a in axons:
            await self.events.send(pack(self.axon_layout, axon=a))
        self.current_step += 1
        await self.tick.send()
        delivered = self.cycle()
        await self.wait_idle()
        # tick.send returns one cycle after acceptance and wait_idle one after busy falls.
        return {"delivery_cycles": delivered - first - 1,
                "update_cycles": self.cycle() - delivered}

    async def run_job(self, image, steps, *, read_state=True, reference=None,
                      progress=None, rewards=None, learn_every=0, period=None):
        """Reset, load, run every step against the reference; returns a result dict.

        ``reference`` is the image the golden model runs (default: ``image``);
        a different one shows that the scoreboard catches a wrong core. On a
        learning core, ``rewards`` gives each step's reward, and every
        ``learn_every`` steps (and after the last) the weights, eligibilities,
        traces and LFSR are read and compared too. With ``period`` each step lasts that
        many cycles, and a gated core's ``gated_cycles`` is sampled at each step's end.
        """
        await self.reset()
        await self.load(image)
        ref = ReferenceModel(image if reference is None else reference)
        T, N = len(steps), self.params.n_neurons
        spikes = np.zeros((T, N), dtype=bool)
        us = np.zeros((T, N), dtype=np.int64)
        vs = np.zeros((T, N), dtype=np.int64)
        learning, gated = [], []
        for t, axons in enumerate(steps):
            self.spikes.items.clear()
            reward = 0 if rewards is None else int(rewards[t])
            await self.run_step(axons, reward, period)
            if period is not None and hasattr(self.dut, "gated_cycles"):
                # At the falling edge of the step's last cycle: its edge is yet to come, and
                # is counted if the gate holds it back.
                await ReadOnly()
                gated.append(int(self.dut.gated_cycles.value) + 1 - int(self.dut.clocked.value))
                await Timer(1, unit="ns")       # out of the read-only phase, edges untouched
            expected, _ = ref.step(axons, reward)
            got = np.zeros(N, dtype=bool)
            order = [n for _, n in self.spikes.items]
            got[order] = True
            spikes[t] = got
            self.scoreboard.compare(t, "spike", expected, got)
            if order != sorted(order) or len(order) != len(set(order)):
                self.scoreboard.mismatches.append((t, "spike order", -1))
                self.dut._log.error("step %d: spikes out of order or repeated: %s", t, order)
            if read_state:
                us[t], vs[t] = await self.read_state()
                self.scoreboard.compare(t, "u", ref.state.u, us[t])
                self.scoreboard.compare(t, "v", ref.state.v, vs[t])
            if learn_every and ((t + 1) % learn_every == 0 or t == T - 1):
                got_learning = await self.read_learning(len(image.synapses))
                for name, value in ref.learning().items():
                    self.scoreboard.compare(t, name, value, got_learning[name])
                learning.append((t, got_learning))
            self.scoreboard.steps += 1
            if progress is not None:
                progress(t + 1, T)
        counters = await self.counters()
        return {"spikes": spikes, "u": us, "v": vs, "counters": counters, "learning": learning,
                "mismatches": list(self.scoreboard.mismatches), "gated_by_step": gated}

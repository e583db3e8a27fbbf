"""cocotb bench: a PC on the far end of ``HostTop``'s UART lines, at the board's real baud rate.

The bench plays the host: it sends protocol frames bit by bit on ``rx``,
samples ``tx`` at bit centres, decodes the replies with
:class:`golden_model.protocol.FrameDecoder`, and waits for each reply before
the next command, as :class:`spikeforge.device.ProtocolTransport` does. A job
loads an image, then runs its steps (``SPIKES`` and ``RUN`` per step) and
records the events and the simulated time the link took, so the result is
both a check against the golden model and a measurement of the host link.

:func:`sim.host_runner.run_host_jobs` runs this module.
"""

import collections

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import Event, FallingEdge, Timer, with_timeout
from cocotb.utils import get_sim_time

from golden_model import protocol as pr
from rtl.chip import chip_config_writes
from .cocotb_bench import JobFiles

__all__ = ["UARTHost", "run_host"]


class UARTHost:
    """Driver, monitor and command layer of the PC's side of the link."""

    def __init__(self, dut, *, bit_ps, max_payload):
        self.dut = dut
        self.bit_ps = bit_ps
        self.max_payload = max_payload
        self.decoder = pr.FrameDecoder()
        self.frames = collections.deque()
        self.arrived = Event()
        self.seq = 0
        self.sent = self.received = 0

    async def send(self, data):
        for byte in data:
            for bit in (0, *((byte >> i) & 1 for i in range(8)), 1):
                self.dut.rx.value = bit
                await Timer(self.bit_ps, unit="ps")
        self.sent += len(data)

    async def monitor(self):
        tx = self.dut.tx
        while True:
            await FallingEdge(tx)
            await Timer(self.bit_ps * 3 // 2, unit="ps")
            byte = 0
            for i in range(8):
                byte |= int(tx.value) << i
                await Timer(self.bit_ps, unit="ps")
            self.received += 1
            for frame in self.decoder.feed([byte]):
                self.frames.append(frame)
                self.arrived.set()

    async def command(self, op, payload=b"", timeout_bits=200_000):
        """Send one command; return ``(reply payload, EVENTS records)``."""
        self.seq = (self.seq + 1) & 0xFF
        await self.send(pr.encode_frame(op, self.seq, payload))
        events = []
        while True:
            while not self.frames:
                self.arrived.clear()
                await with_timeout(self.arrived.wait(), timeout_bits * self.bit_ps, "ps")
            frame = self.frames.popleft()
            assert frame.crc_ok, f"a reply with a bad CRC: {frame}"
            if frame.seq != self.seq:
                continue
            if frame.op == pr.EVENTS:
                events += pr.unpack_events(frame.payload)
            elif frame.op == pr.ERROR:
                raise AssertionError(pr.error_text(frame.payload))
            else:
                assert frame.op == op | pr.REPLY, frame
                return frame.payload, events

    async def load(self, image):
        writes = chip_config_writes(image)
        per_frame = self.max_payload // pr.WRITE_RECORD.size
        crc = 0xFFFF
        await self.command(pr.Op.RESET)
        for i in range(0, len(writes), per_frame):
            payload = pr.pack_writes(writes[i:i + per_frame])
            await self.command(pr.Op.WRITE, payload)
            crc = pr.crc16(payload, crc)
        await self.command(pr.Op.COMMIT, len(writes).to_bytes(4, "little") +
                           crc.to_bytes(2, "little"))

    async def run(self, steps):
        rows = []
        per_frame = self.max_payload // pr.SPIKE_RECORD.size
        for t, events in enumerate(steps):
            for i in range(0, len(events), per_frame):
                await self.command(pr.Op.SPIKES, pr.pack_spikes(events[i:i + per_frame]))
            reply, got = await self.command(pr.Op.RUN, (1).to_bytes(4, "little"))
            assert int.from_bytes(reply[4:8], "little") == len(got)
            rows += [(t, x, y, n) for _, x, y, n in got]
        return rows


@cocotb.test()
async def run_host(dut):
    files = JobFiles()
    spec = files.spec
    period_ps = 2 * round(0.5e12 / spec["clk_hz"])     # even: Clock splits it in halves
    host = UARTHost(dut, bit_ps=spec["divisor"] * period_ps, max_payload=spec["max_payload"])
    cocotb.start_soon(Clock(dut.clk, period_ps, unit="ps").start())
    dut.rx.value = 1
    dut.rst.value = 1
    await Timer(10 * period_ps, unit="ps")
    dut.rst.value = 0
    await Timer(10 * period_ps, unit="ps")
    cocotb.start_soon(host.monitor())
    status = pr.unpack_status((await host.command(pr.Op.STATUS))[0])
    assert status["params_id"] == pr.params_id(spec["params"])
    for job in spec["jobs"]:
        t0, sent0, received0 = get_sim_time("ps"), host.sent, host.received
        await host.load(job["image"])
        t1, sent1, received1 = get_sim_time("ps"), host.sent, host.received
        rows = await host.run(job["steps"])
        t2 = get_sim_time("ps")
        files.job_done(job, {
            "host": sorted(rows), "load_s": (t1 - t0) * 1e-12, "run_s": (t2 - t1) * 1e-12,
            "load_bytes": (sent1 - sent0, received1 - received0),
            "run_bytes": (host.sent - sent1, host.received - received1),
            "spikes_in": sum(len(s) for s in job["steps"]), "events_out": len(rows)})

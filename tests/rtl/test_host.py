"""The RTL host interface (rtl/host.py) in front of a real chip, frame by frame, in the Amaranth simulator.

One simulated board is shared by the module (elaborating it takes seconds);
every test starts from RESET.
"""

import numpy as np
import pytest

from golden_model import protocol as pr
from golden_model.chip import ChipParams
from golden_model.params import CoreParams
from rtl.chip import CHIP_REGION, ChipCounter
from rtl.host import HostInterface, address_windows
from rtl.lif_core import LIFCore, Region
from rtl.output_table import OutRegion
from sim.host_link import SimLink

CHIP = ChipParams(rows=1, cols=2, n_routes=32,
                  core=CoreParams(n_neurons=16, n_axons=8, n_synapses=24, n_profiles=2,
                                  max_delay=2, state_bits=16))
MAX_PAYLOAD = 64


class Board:
    def __init__(self):
        self.link = SimLink(CHIP, max_payload=MAX_PAYLOAD)
        self.decoder = pr.FrameDecoder()
        self.seq = 0

    def send(self, data, until=1, timeout=1e-4):
        """Send raw bytes; return the frames that come back.

        Waits for ``until`` frames, or (a callable) for a frame it accepts.
        """
        self.link.write(data)
        frames = []
        done = until if callable(until) else lambda f: len(frames) >= until
        while not frames or not done(frames[-1]):
            b = self.link.read(1, timeout=timeout)
            if not b:
                break
            frames += self.decoder.feed(b)
        return frames

    def cmd(self, op, payload=b"", **kw):
        self.seq = (self.seq + 1) & 0xFF
        frames = self.send(pr.encode_frame(op, self.seq, payload), **kw)
        assert len(frames) == 1, frames
        f, = frames
        assert f.crc_ok and f.seq == self.seq
        return f

    def ok(self, op, payload=b""):
        f = self.cmd(op, payload)
        assert f.op == op | pr.REPLY, pr.error_text(f.payload) if f.op == pr.ERROR else f
        return f.payload

    def error(self, op, payload=b""):
        f = self.cmd(op, payload)
        assert f.op == pr.ERROR, f
        return pr.ERROR_PAYLOAD.unpack(f.payload)

    def read(self, core, region, addr, count=1):
        p = self.ok(pr.Op.READ, pr.READ_REQUEST.pack(core, region, addr, count))
        return [int.from_bytes(p[4 * i:4 * i + 4], "little") for i in range(count)]

    def status(self):
        return pr.unpack_status(self.ok(pr.Op.STATUS))


@pytest.fixture(scope="module")
def board():
    return Board()


@pytest.fixture
def fresh(board):
    board.ok(pr.Op.RESET)
    return board


def test_status_describes_the_chip(fresh):
    s = fresh.status()
    assert (s["magic"], s["version"], s["rows"], s["cols"]) == (pr.MAGIC, pr.VERSION, 1, 2)
    assert (s["n_neurons"], s["n_axons"], s["max_payload"]) == (16, 8, MAX_PAYLOAD)
    assert s["params_id"] == pr.params_id(CHIP)
    assert (s["flags"], s["writes"], s["load_crc"], s["timestep"]) == \
        (pr.STATUS_CYCLE_COUNTERS, 0, 0xFFFF, 0)


def random_writes(rng, n):
    """Writes to memories that read back what was written (masked to the memory's width)."""
    widths = LIFCore.memory_widths(CHIP.core)
    regions = [Region.AXON_START, Region.AXON_COUNT, Region.SYN_WEIGHT,
               Region.NEURON_PROFILE, Region.U, Region.V, Region.REFRACTORY]
    out = []
    for _ in range(n):
        r = regions[rng.integers(len(regions))]
        width, depth = widths[r]
        out.append((int(rng.integers(CHIP.n_cores)), int(r), int(rng.integers(depth)),
                    int(rng.integers(1 << width))))
    return out


def test_writes_read_back_and_are_counted(fresh):
    rng = np.random.default_rng(0)
    writes = random_writes(rng, 40)
    crc = 0xFFFF
    for i in range(0, 40, 8):
        payload = pr.pack_writes(writes[i:i + 8])
        fresh.ok(pr.Op.WRITE, payload)
        crc = pr.crc16(payload, crc)
    final = {}
    for core, region, addr, data in writes:
        final[core, region, addr] = data
    widths = LIFCore.memory_widths(CHIP.core)
    for (core, region, addr), data in final.items():
        # Signed memories read back sign-extended to 32 bits.
        mask = (1 << widths[region][0]) - 1
        assert fresh.read(core, region, addr)[0] & mask == data, (core, region, addr)
    s = fresh.status()
    assert (s["writes"], s["load_crc"], s["flags"] & pr.STATUS_LOADED) == (40, crc, 0)


def test_a_bad_record_applies_nothing(fresh):
    fresh.ok(pr.Op.WRITE, pr.pack_writes([(0, Region.U, 3, 111), (1, Region.V, 4, 222)]))
    bad = [(0, Region.U, 3, 5), (1, Region.V, 4, 6), (0, Region.U, 16, 7)]
    code, op, index, value = fresh.error(pr.Op.WRITE, pr.pack_writes(bad))
    assert (code, op, index, value) == (pr.Error.BAD_ADDRESS, pr.Op.WRITE, 2,
                                        0 | Region.U << 8 | 16 << 16)
    assert fresh.read(0, Region.U, 3) == [111] and fresh.read(1, Region.V, 4) == [222]
    assert fresh.status()["writes"] == 2
    # A core that does not exist, a region that is read only, and a window's edge.
    for rec, value in (((2, Region.U, 0, 1), 2 | Region.U << 8),
                       ((0, CHIP_REGION, 0, 1), CHIP_REGION << 8),
                       ((0, OutRegion.OUT_ENTRY, CHIP.n_routes, 1),
                        OutRegion.OUT_ENTRY << 8 | CHIP.n_routes << 16)):
        assert fresh.error(pr.Op.WRITE, pr.pack_writes([rec]))[3] == value


def test_bad_crc_is_refused_and_counted(fresh):
    before = fresh.status()["crc_errors"]
    fresh.seq += 1
    frame = bytearray(pr.encode_frame(pr.Op.WRITE, fresh.seq,
                                      pr.pack_writes([(0, Region.U, 1, 99)])))
    frame[9] ^= 0x04          # a bit of the data field
    f, = fresh.send(bytes(frame))
    assert (f.op, f.seq) == (pr.ERROR, fresh.seq)
    assert f.payload[0] == pr.Error.BAD_CRC
    assert fresh.read(0, Region.U, 1) == [0]
    assert fresh.status()["crc_errors"] == before + 1


def test_unknown_opcode_and_bad_lengths(fresh):
    assert fresh.error(0x42)[:2] == (pr.Error.UNKNOWN_OPCODE, 0x42)
    assert fresh.error(pr.Op.WRITE, bytes(7))[::3] == (pr.Error.BAD_LENGTH, 7)
    assert fresh.error(pr.Op.WRITE)[::3] == (pr.Error.BAD_LENGTH, 0)
    assert fresh.error(pr.Op.STATUS, b"x")[::3] == (pr.Error.BAD_LENGTH, 1)
    assert fresh.error(pr.Op.READ, pr.READ_REQUEST.pack(0, Region.U, 0, 0))[::3] == \
        (pr.Error.BAD_LENGTH, 0)
    assert fresh.error(pr.Op.READ, pr.READ_REQUEST.pack(0, Region.U, 0, MAX_PAYLOAD // 4 + 1)
                       )[::3] == (pr.Error.BAD_LENGTH, MAX_PAYLOAD // 4 + 1)
    # A read that runs off the end of the neuron memory.
    assert fresh.error(pr.Op.READ, pr.READ_REQUEST.pack(0, Region.U, 10, 7))[::3] == \
        (pr.Error.BAD_ADDRESS, Region.U << 8 | 10 << 16)


def test_too_long_then_resync(fresh):
    fresh.seq += 1
    long_frame = pr.encode_frame(pr.Op.WRITE, fresh.seq, bytes(MAX_PAYLOAD + 8))
    f, = fresh.send(long_frame)
    assert f.op == pr.ERROR and f.payload[0] == pr.Error.TOO_LONG
    assert pr.ERROR_PAYLOAD.unpack(f.payload)[3] == MAX_PAYLOAD + 8
    assert fresh.status()["magic"] == pr.MAGIC


def test_garbage_then_the_next_valid_frame(fresh):
    rng = np.random.default_rng(3)
    for trial in range(6):
        garbage = bytes(rng.choice([0x7E, 0x7D, 0x00, 0x03, 0xFF, 0x20], 15).astype(np.uint8))
        fresh.seq += 1
        seq = fresh.seq
        frames = fresh.send(garbage + pr.encode_frame(pr.Op.STATUS, seq),
                            until=lambda f: f.seq == seq and f.op == pr.Op.STATUS | pr.REPLY)
        good = [f for f in frames if f.crc_ok and f.op == pr.Op.STATUS | pr.REPLY]
        assert len(good) == 1 and good[0].seq == fresh.seq
        # Anything else the garbage provoked is an error reply, never a success.
        assert all(f.op == pr.ERROR for f in frames if f is not good[0])
    assert fresh.status()["frame_errors"] > 0


def test_load_must_be_committed(fresh):
    assert fresh.error(pr.Op.RUN, (1).to_bytes(4, "little"))[0] == pr.Error.NOT_LOADED
    assert fresh.error(pr.Op.SPIKES, pr.pack_spikes([(0, 0, 1)]))[0] == pr.Error.NOT_LOADED
    payload = pr.pack_writes([(0, Region.U, 2, 5), (1, Region.U, 2, 6)])
    fresh.ok(pr.Op.WRITE, payload)
    crc = pr.crc16(payload)
    code, _, index, value = fresh.error(pr.Op.COMMIT, (3).to_bytes(4, "little") +
                                        crc.to_bytes(2, "little"))
    assert (code, index, value) == (pr.Error.LOAD_MISMATCH, crc, 2)
    wrong_crc = (crc ^ 1).to_bytes(2, "little")
    assert fresh.error(pr.Op.COMMIT, (2).to_bytes(4, "little") + wrong_crc)[0] == \
        pr.Error.LOAD_MISMATCH
    fresh.ok(pr.Op.COMMIT, (2).to_bytes(4, "little") + crc.to_bytes(2, "little"))
    assert fresh.status()["flags"] & pr.STATUS_LOADED
    # Spikes out of range are refused whole; a later write clears the flag.
    assert fresh.error(pr.Op.SPIKES, pr.pack_spikes([(0, 0, 1), (2, 0, 1)]))[:4:2] == \
        (pr.Error.BAD_SPIKE, 1)
    assert fresh.error(pr.Op.SPIKES, pr.pack_spikes([(1, 0, 8)]))[3] == 1 | 8 << 16
    fresh.ok(pr.Op.WRITE, pr.pack_writes([(0, Region.U, 2, 5)]))
    assert not fresh.status()["flags"] & pr.STATUS_LOADED


def test_reset_clears_the_chip_registers(fresh):
    fresh.ok(pr.Op.COMMIT, (0).to_bytes(4, "little") + (0xFFFF).to_bytes(2, "little"))
    assert pr.unpack_status(fresh.ok(pr.Op.STATUS))["flags"] & pr.STATUS_LOADED
    reply = fresh.ok(pr.Op.RUN, (3).to_bytes(4, "little"))
    assert int.from_bytes(reply[:4], "little") == 3
    assert fresh.read(0, CHIP_REGION, ChipCounter.TIMESTEP) == [3]
    s = fresh.status()
    assert s["timestep"] == 3 and s["last_seq"] == (fresh.seq - 2) & 0xFF
    fresh.ok(pr.Op.RESET)
    s = fresh.status()
    assert (s["timestep"], s["flags"], s["writes"]) == (0, pr.STATUS_CYCLE_COUNTERS, 0)


def test_address_windows_cover_what_the_loader_writes():
    from rtl.chip import chip_config_writes
    from sim.stimulus import random_chip_image
    image = random_chip_image(np.random.default_rng(4), CHIP)
    windows = address_windows(CHIP, write=True)
    for core, region, addr, _ in chip_config_writes(image):
        assert any(lo <= addr < hi for lo, hi in windows[region]), (region, addr)


def test_address_windows_without_cycle_counters():
    from rtl.chip import CHIP_CYCLE_COUNTERS
    from rtl.lif_core import CYCLE_COUNTERS, Counter
    full = address_windows(CHIP, write=False)
    cut = address_windows(CHIP, write=False, cycle_counters=False)
    assert full[Region.COUNTER] == [(0, len(Counter))]
    assert cut[Region.COUNTER] == [(0, min(CYCLE_COUNTERS)), (max(CYCLE_COUNTERS) + 1,
                                                              len(Counter))]
    assert cut[CHIP_REGION] == [(0, 1), (5, ChipCounter.ROUTED + CHIP.n_cores)]
    assert sorted(CHIP_CYCLE_COUNTERS) == [1, 2, 3, 4]
    assert {r: w for r, w in cut.items() if r not in (Region.COUNTER, CHIP_REGION)} == \
        {r: w for r, w in full.items() if r not in (Region.COUNTER, CHIP_REGION)}
    assert address_windows(CHIP, write=True, cycle_counters=False) == \
        address_windows(CHIP, write=True)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"params": CHIP.core}, TypeError, r"^params must be a ChipParams, not CoreParams\("),
    ({"max_payload": 8}, ValueError, r"^max_payload must be between 16 and 4096, not 8$"),
    ({"max_payload": 64.0}, TypeError, r"^max_payload must be an integer, not 64.0$"),
    ({"cycle_counters": 0}, TypeError, r"^cycle_counters must be True or False, not 0$"),
])
def test_argument_errors(kwargs, error, message):
    args = {"params": CHIP} | kwargs
    with pytest.raises(error, match=message):
        HostInterface(args.pop("params"), **args)

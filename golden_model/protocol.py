"""The host protocol: framed commands between a PC and a board, over a UART.

A frame on the wire is a ``FLAG`` byte, then the escaped bytes of::

    opcode (1) | seq (1) | length (2) | payload (length) | crc (2)

Multi-byte fields are little endian. ``crc`` is CRC-16/CCITT-FALSE (polynomial
0x1021, initial value 0xFFFF, no reflection; ``binascii.crc_hqx(data, 0xFFFF)``)
over opcode, seq, length and payload. Inside a frame, ``FLAG`` (0x7E) and
``ESC`` (0x7D) are sent as ``ESC, byte ^ 0x20``, as HDLC does, so a ``FLAG``
can only ever mean "a frame starts here". That is what makes resynchronisation
certain: whatever garbage came before, the receiver drops the frame it was in
(counting it as a framing error) and starts over at the next ``FLAG``, so the
next valid frame is always received whole.

The host sends one command and waits for its reply (stop and wait). Every reply
echoes the command's ``seq``, so a stale or duplicated reply is recognised.

========  ======  ===============================================  =================================
opcode    name    payload                                          reply payload (``opcode | 0x80``)
========  ======  ===============================================  =================================
0x01      STATUS  none                                             :data:`STATUS_FIELDS`
0x02      RESET   none                                             none
0x03      WRITE   records ``core, region, addr (2), data (4)``     none
0x04      READ    ``core, region, addr (2), count (2)``            ``count`` words of 4 bytes
0x05      SPIKES  records ``x, y, axon (2)``                       none
0x06      RUN     ``n_steps (4)``                                  ``timestep (4), events (4)``
0x07      COMMIT  ``writes (4), load_crc (2)``                     none
========  ======  ===============================================  =================================

While ``RUN`` runs, the board streams the spikes it sends to the host as
``EVENTS`` frames (opcode 0xC0, the RUN's ``seq``) of records
``t (2, low bits of the timestep), x, y, neuron (2)``, then the RUN reply.

A command is checked whole before any of it is applied: a bad CRC, an unknown
opcode, a wrong length or any record out of range gets an ``ERROR`` reply
(opcode 0xFF, payload ``code, opcode, index (2), value (4)``) and changes
nothing. ``WRITE`` clears the board's *loaded* flag; ``COMMIT`` sets it again
only if the number of writes applied since ``RESET`` and their CRC (the same
CRC, chained over the payloads of every applied ``WRITE``) match what the host
sent. ``SPIKES`` and ``RUN`` are refused until then, so a load that failed half
way can never run as if it were complete.
"""

import binascii
import dataclasses
import enum
import struct

__all__ = ["FLAG", "ESC", "Op", "Error", "REPLY", "EVENTS", "ERROR", "MAGIC", "VERSION",
           "STATUS_FIELDS", "WRITE_RECORD", "READ_REQUEST", "SPIKE_RECORD", "EVENT_RECORD",
           "crc16", "escape", "encode_frame", "Frame", "FrameDecoder", "params_id",
           "pack_writes", "pack_spikes", "unpack_events", "unpack_status", "error_text"]

FLAG = 0x7E
ESC = 0x7D
ESC_XOR = 0x20


class Op(enum.IntEnum):
    STATUS = 0x01
    RESET = 0x02
    WRITE = 0x03
    READ = 0x04
    SPIKES = 0x05
    RUN = 0x06
    COMMIT = 0x07


REPLY = 0x80       # or-ed into the opcode of a command's success reply
EVENTS = 0xC0
ERROR = 0xFF


class Error(enum.IntEnum):
    BAD_CRC = 1
    UNKNOWN_OPCODE = 2
    BAD_LENGTH = 3        # value: the length
    TOO_LONG = 4          # value: the length; the frame is skipped
    BAD_ADDRESS = 5       # index: the record; value: core | region << 8 | addr << 16
    BAD_SPIKE = 6         # index: the record; value: x | y << 8 | axon << 16
    NOT_LOADED = 7
    LOAD_MISMATCH = 8     # index: the board's load CRC; value: its write count


MAGIC = 0x5346            # "SF"
VERSION = 1

#: ``(name, bytes)`` of the STATUS reply, in order.
STATUS_FIELDS = (
    ("magic", 2), ("version", 1), ("flags", 1), ("timestep", 4), ("params_id", 2),
    ("rows", 1), ("cols", 1), ("n_neurons", 2), ("n_axons", 2), ("max_payload", 2),
    ("writes", 4), ("load_crc", 2), ("crc_errors", 2), ("frame_errors", 2),
    ("overruns", 2), ("last_seq", 1),
)
STATUS_LOADED = 1         # flags bit 0
STATUS_BUSY = 2           # flags bit 1
STATUS_CYCLE_COUNTERS = 4  # flags bit 2: the chip has its cycle counters
STATUS_GATING = 8         # flags bit 3: the cores are clock-gated, with power registers

WRITE_RECORD = struct.Struct("<BBHI")      # core, region, addr, data
READ_REQUEST = struct.Struct("<BBHH")      # core, region, addr, count
SPIKE_RECORD = struct.Struct("<BBH")       # x, y, axon
EVENT_RECORD = struct.Struct("<HBBH")      # t, x, y, neuron
ERROR_PAYLOAD = struct.Struct("<BBHI")     # code, opcode, index, value
HEADER = struct.Struct("<BBH")             # opcode, seq, length


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE of ``data``, continuing from ``crc``."""
    return binascii.crc_hqx(bytes(data), crc)


def escape(data):
    out = bytearray()
    for b in data:
        if b in (FLAG, ESC):
            out += bytes((ESC, b ^ ESC_XOR))
        else:
            out.append(b)
    return bytes(out)


def encode_frame(op, seq, payload=b""):
    """The wire bytes of one frame."""
    payload = bytes(payload)
    if not 0 <= op <= 0xFF:
        raise ValueError(f"opcode must be between 0 and 255, not {op}")
    if not 0 <= seq <= 0xFF:
        raise ValueError(f"seq must be between 0 and 255, not {seq}")
    if len(payload) > 0xFFFF:
        raise ValueError(f"a frame's payload must be at most 65535 bytes, not {len(payload)}")
    body = HEADER.pack(op, seq, len(payload)) + payload
    return bytes((FLAG,)) + escape(body + struct.pack("<H", crc16(body)))


@dataclasses.dataclass(frozen=True)
class Frame:
    """A received frame; ``crc_ok`` is False for one whose CRC did not match."""
    op: int
    seq: int
    payload: bytes
    crc_ok: bool = True


class FrameDecoder:
    """Turns a byte stream into :class:`Frame` objects, resynchronising on ``FLAG``.

    ``feed`` returns the frames completed by the bytes given. ``framing_errors``
    counts frames cut short by a ``FLAG``, bytes outside any frame, and
    escapes of anything but ``FLAG`` or ``ESC``.
    """

    def __init__(self, max_payload=0xFFFF):
        self.max_payload = max_payload
        self.framing_errors = 0
        self._buf = None      # None: hunting for FLAG
        self._esc = False

    def feed(self, data):
        frames = []
        for b in bytes(data):
            if b == FLAG:
                if self._buf:
                    self.framing_errors += 1
                self._buf, self._esc = bytearray(), False
                continue
            if self._buf is None:
                self.framing_errors += 1
                continue
            if self._esc:
                self._esc = False
                if b ^ ESC_XOR not in (FLAG, ESC):
                    self.framing_errors += 1
                    self._buf = None
                    continue
                b ^= ESC_XOR
            elif b == ESC:
                self._esc = True
                continue
            self._buf.append(b)
            buf = self._buf
            if len(buf) >= HEADER.size:
                op, seq, length = HEADER.unpack_from(buf)
                if length > self.max_payload:
                    frames.append(Frame(op, seq, bytes(buf[HEADER.size:]), crc_ok=False))
                    self._buf = None
                elif len(buf) == HEADER.size + length + 2:
                    body, (crc,) = bytes(buf[:-2]), struct.unpack_from("<H", buf, len(buf) - 2)
                    frames.append(Frame(op, seq, body[HEADER.size:], crc_ok=crc16(body) == crc))
                    self._buf = None
        return frames


def params_id(params):
    """A 16-bit fingerprint of a :class:`~golden_model.chip.ChipParams`.

    A board reports the fingerprint of the chip it was built with, so the host
    can refuse to load an image made for another shape.
    """
    return crc16(repr(params).encode())


def pack_writes(writes):
    """WRITE payload bytes for ``(core, region, addr, data)`` tuples."""
    out = bytearray()
    for i, (core, region, addr, data) in enumerate(writes):
        for name, value, hi in (("core", core, 0xFF), ("region", region, 0xF),
                                ("addr", addr, 0xFFFF), ("data", data, 0xFFFF_FFFF)):
            if not 0 <= value <= hi:
                raise ValueError(f"write {i}: {name} must be between 0 and {hi}, not {value}")
        out += WRITE_RECORD.pack(core, region, addr, data)
    return bytes(out)


def pack_spikes(events):
    """SPIKES payload bytes for ``(x, y, axon)`` tuples."""
    out = bytearray()
    for i, (x, y, axon) in enumerate(events):
        for name, value, hi in (("x", x, 0xFF), ("y", y, 0xFF), ("axon", axon, 0xFFFF)):
            if not 0 <= value <= hi:
                raise ValueError(f"spike {i}: {name} must be between 0 and {hi}, not {value}")
        out += SPIKE_RECORD.pack(x, y, axon)
    return bytes(out)


def unpack_events(payload):
    """``(t_low16, x, y, neuron)`` tuples from an EVENTS payload."""
    if len(payload) % EVENT_RECORD.size:
        raise ValueError(f"an EVENTS payload must be a multiple of {EVENT_RECORD.size} bytes, "
                         f"not {len(payload)}")
    return [EVENT_RECORD.unpack_from(payload, i)
            for i in range(0, len(payload), EVENT_RECORD.size)]


def unpack_status(payload):
    size = sum(n for _, n in STATUS_FIELDS)
    if len(payload) != size:
        raise ValueError(f"a STATUS reply must be {size} bytes, not {len(payload)}")
    out, pos = {}, 0
    for name, n in STATUS_FIELDS:
        out[name] = int.from_bytes(payload[pos:pos + n], "little")
        pos += n
    return out


def error_text(payload):
    """A sentence for an ERROR reply's payload."""
    if len(payload) != ERROR_PAYLOAD.size:
        return f"malformed error reply {bytes(payload).hex()}"
    code, op, index, value = ERROR_PAYLOAD.unpack(payload)
    try:
        name = Op(op).name
    except ValueError:
        name = f"0x{op:02x}"
    try:
        code = Error(code)
    except ValueError:
        return f"the board answered {name} with unknown error code {code}"
    if code is Error.BAD_CRC:
        return f"the board saw a bad CRC on a {name} frame"
    if code is Error.UNKNOWN_OPCODE:
        return f"the board does not know opcode {name}"
    if code is Error.BAD_LENGTH:
        return f"the board refused {name}: a payload of {value} bytes is not a valid length"
    if code is Error.TOO_LONG:
        return f"the board refused {name}: a payload of {value} bytes is longer than its buffer"
    if code is Error.BAD_ADDRESS:
        core, region, addr = value & 0xFF, value >> 8 & 0xFF, value >> 16
        return (f"the board refused {name}: record {index} addresses core {core} region "
                f"{region} address {addr}, which does not exist")
    if code is Error.BAD_SPIKE:
        x, y, axon = value & 0xFF, value >> 8 & 0xFF, value >> 16
        return (f"the board refused {name}: spike {index} goes to core {x},{y} axon {axon}, "
                f"which does not exist")
    if code is Error.NOT_LOADED:
        return f"the board refused {name}: no network is loaded (load and commit first)"
    return (f"the board refused COMMIT: it applied {value} writes with load CRC "
            f"0x{index:04x}, which is not what the host sent")

"""The host protocol's framing, CRC and record formats (golden_model.protocol)."""

import numpy as np
import pytest

from golden_model import protocol as pr


def crc_bitwise(data, crc=0xFFFF):
    # An independent, bit-at-a-time CRC-16/CCITT-FALSE.
    for byte in data:
        for bit in range(7, -1, -1):
            top = (crc >> 15) ^ (byte >> bit & 1)
            crc = (crc << 1) & 0xFFFF
            if top:
                crc ^= 0x1021
    return crc


def test_crc_check_value():
    # The catalogued check value of CRC-16/CCITT-FALSE.
    assert pr.crc16(b"123456789") == 0x29B1
    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 17, 300):
        data = rng.integers(0, 256, n).astype(np.uint8).tobytes()
        assert pr.crc16(data) == crc_bitwise(data)
    # Chaining over pieces is the CRC of the whole.
    assert pr.crc16(b"6789", pr.crc16(b"12345")) == 0x29B1


def test_frame_bytes_by_hand():
    body = bytes([0x01, 0x02, 0x00, 0x00])
    crc = crc_bitwise(body)
    assert pr.encode_frame(pr.Op.STATUS, 2) == bytes([0x7E, *body, crc & 0xFF, crc >> 8])


def test_escaping():
    frame = pr.encode_frame(0x03, 0x7E, bytes([0x7D, 0x00, 0x7E, 0x5E]))
    assert frame[0] == pr.FLAG
    assert pr.FLAG not in frame[1:]
    assert frame[1:4] == bytes([0x03, 0x7D, 0x5E])          # seq 0x7E escaped
    assert frame[6:12] == bytes([0x7D, 0x5D, 0x00, 0x7D, 0x5E, 0x5E])
    decoded, = pr.FrameDecoder().feed(frame)
    assert decoded == pr.Frame(0x03, 0x7E, bytes([0x7D, 0x00, 0x7E, 0x5E]))


def test_decoder_round_trip_and_resync():
    rng = np.random.default_rng(1)
    dec = pr.FrameDecoder()
    for trial in range(200):
        op, seq = (int(v) for v in rng.integers(0, 256, 2))
        payload = rng.integers(0, 256, int(rng.integers(0, 40))).astype(np.uint8).tobytes()
        garbage = rng.choice([0x7E, 0x7D, 0x00, 0x41, 0xFF], int(rng.integers(0, 12)))
        frames = dec.feed(bytes(garbage.astype(np.uint8)) + pr.encode_frame(op, seq, payload))
        # Garbage may complete nothing or a damaged frame; the real frame always arrives last.
        assert frames[-1] == pr.Frame(op, seq, payload)
        assert all(not f.crc_ok for f in frames[:-1])


def test_decoder_flags_a_bad_crc():
    frame = bytearray(pr.encode_frame(0x04, 9, b"\x01\x02\x03"))
    frame[6] ^= 0x10
    f, = pr.FrameDecoder().feed(bytes(frame))
    assert (f.op, f.seq, f.crc_ok) == (0x04, 9, False)


def test_decoder_cut_short_by_flag_counts_a_framing_error():
    dec = pr.FrameDecoder()
    whole = pr.encode_frame(0x01, 1, b"abc")
    assert dec.feed(whole[:5] + whole) == [pr.Frame(0x01, 1, b"abc")]
    assert dec.framing_errors == 1


def test_records():
    assert pr.pack_writes([(1, 9, 0x1234, 0xDEADBEEF)]) == bytes(
        [1, 9, 0x34, 0x12, 0xEF, 0xBE, 0xAD, 0xDE])
    assert pr.pack_spikes([(2, 3, 0x0102)]) == bytes([2, 3, 0x02, 0x01])
    assert pr.unpack_events(bytes([5, 0, 1, 2, 7, 0])) == [(5, 1, 2, 7)]
    status = bytes(range(sum(n for _, n in pr.STATUS_FIELDS)))
    s = pr.unpack_status(status)
    assert s["magic"] == 0x0100 and s["timestep"] == 0x07060504


@pytest.mark.parametrize("call, message", [
    (lambda: pr.encode_frame(256, 0), r"^opcode must be between 0 and 255, not 256$"),
    (lambda: pr.encode_frame(1, -1), r"^seq must be between 0 and 255, not -1$"),
    (lambda: pr.encode_frame(1, 0, bytes(65536)),
     r"^a frame's payload must be at most 65535 bytes, not 65536$"),
    (lambda: pr.pack_writes([(0, 0, 0, 0), (0, 16, 0, 0)]),
     r"^write 1: region must be between 0 and 15, not 16$"),
    (lambda: pr.pack_writes([(0, 0, 0, -1)]),
     r"^write 0: data must be between 0 and 4294967295, not -1$"),
    (lambda: pr.pack_spikes([(0, 0, 70000)]),
     r"^spike 0: axon must be between 0 and 65535, not 70000$"),
    (lambda: pr.unpack_events(bytes(7)),
     r"^an EVENTS payload must be a multiple of 6 bytes, not 7$"),
    (lambda: pr.unpack_status(bytes(3)), r"^a STATUS reply must be 31 bytes, not 3$"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("code, index, value, text", [
    (pr.Error.BAD_CRC, 0, 0, "the board saw a bad CRC on a WRITE frame"),
    (pr.Error.UNKNOWN_OPCODE, 0, 0, "the board does not know opcode WRITE"),
    (pr.Error.BAD_LENGTH, 0, 7,
     "the board refused WRITE: a payload of 7 bytes is not a valid length"),
    (pr.Error.TOO_LONG, 0, 900,
     "the board refused WRITE: a payload of 900 bytes is longer than its buffer"),
    (pr.Error.BAD_ADDRESS, 3, 2 | 5 << 8 | 40 << 16,
     "the board refused WRITE: record 3 addresses core 2 region 5 address 40, "
     "which does not exist"),
    (pr.Error.BAD_SPIKE, 1, 1 | 0 << 8 | 99 << 16,
     "the board refused WRITE: spike 1 goes to core 1,0 axon 99, which does not exist"),
    (pr.Error.NOT_LOADED, 0, 0,
     "the board refused WRITE: no network is loaded (load and commit first)"),
    (pr.Error.LOAD_MISMATCH, 0xBEEF, 12,
     "the board refused COMMIT: it applied 12 writes with load CRC 0xbeef, which is not what "
     "the host sent"),
])
def test_error_text(code, index, value, text):
    assert pr.error_text(pr.ERROR_PAYLOAD.pack(code, pr.Op.WRITE, index, value)) == text

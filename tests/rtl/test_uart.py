"""Tiers 1 and 3: ``rtl.uart`` argument checks, and ``UARTTx``/``UARTRx`` in the Amaranth simulator.

Waveforms are built by hand from the 8N1 frame (start 0, data LSB first, stop 1),
so the transmitter and the receiver are each checked against the line format,
not only against each other.
"""

import gc
import warnings

import numpy as np
import pytest
from amaranth import Fragment, Module
from amaranth.hdl import UnusedElaboratable
from amaranth.sim import Simulator

from rtl.uart import UARTRx, UARTTx, uart_divisor
from sim.amaranth_sim import push


def frame(byte, stop=1):
    """The bits of one 8N1 frame, in line order."""
    return [0] + [byte >> i & 1 for i in range(8)] + [stop]


def waveform(bits, bit_cycles):
    """One line level per clock cycle; bit ``k`` spans cycles ``round(k * bit_cycles)`` up to
    ``round((k + 1) * bit_cycles)``, so a fractional length models a baud error."""
    levels = []
    for k, bit in enumerate(bits):
        levels += [bit] * (round((k + 1) * bit_cycles) - round(k * bit_cycles))
    return levels


def simulate(dut, *testbenches, background=()):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    for bench in testbenches:
        sim.add_testbench(bench)
    for bench in background:
        sim.add_testbench(bench, background=True)
    sim.run()


def collector(stream, got):
    """A background testbench that records every transfer on ``stream``."""
    async def bench(ctx):
        async for _, _, valid, ready, payload in ctx.tick().sample(
                stream.valid, stream.ready, stream.payload):
            if valid and ready:
                got.append(payload)
    return bench


def run_rx(divisor, levels, *, tail_bits=2):
    """Drive ``levels`` into a receiver with ``data.ready`` high; returns the bytes and counters."""
    dut = UARTRx(divisor)
    got, counters = [], {}

    async def main(ctx):
        ctx.set(dut.data.ready, 1)
        for level in levels + [1] * (tail_bits * divisor):
            ctx.set(dut.rx, level)
            await ctx.tick()
        counters.update(frame_errors=ctx.get(dut.frame_errors), overruns=ctx.get(dut.overruns))

    simulate(dut, main, background=[collector(dut.data, got)])
    return got, counters


# --- Tier 1: argument checks --------------------------------------------------------------

@pytest.mark.parametrize("cls", [UARTTx, UARTRx])
@pytest.mark.parametrize("divisor", [2, 3, 65536])
def test_divisor_out_of_range(cls, divisor):
    with pytest.raises(ValueError, match=rf"^divisor must be between 4 and 65535, not {divisor}$"):
        cls(divisor)


@pytest.mark.parametrize("cls", [UARTTx, UARTRx])
@pytest.mark.parametrize("divisor, shown", [(16.0, "16.0"), ("16", "'16'"), (True, "True")])
def test_divisor_not_an_integer(cls, divisor, shown):
    with pytest.raises(TypeError, match=rf"^divisor must be an integer, not {shown}$"):
        cls(divisor)


@pytest.mark.parametrize("cls", [UARTTx, UARTRx])
def test_rejected_component_does_not_warn_unused(cls):
    # Amaranth keeps the warning quiet until the first elaboration of the process.
    Fragment.get(cls(4), None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError):
            cls(1)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, UnusedElaboratable)]


def test_uart_divisor_rounds():
    assert uart_divisor(12_000_000, 115_200) == 104       # 0.16% off
    assert uart_divisor(12e6, 3_000_000) == 4
    assert uart_divisor(48_000_000, 9600) == 5000
    assert uart_divisor(100_000_000, 1526) == 65531


def test_uart_divisor_error_too_large():
    # 1 MHz / 115200 = 8.68; 9 cycles give 111111 baud.
    with pytest.raises(ValueError, match=r"^baud = 115200 cannot be reached from a 1000000 Hz "
                                         r"clock within 2%: divisor 9 gives 111111 baud, "
                                         r"3\.5% off$"):
        uart_divisor(1_000_000, 115_200)


@pytest.mark.parametrize("clk_hz, baud, divisor", [
    (12e6, 6_000_000, 2),
    (100_000_000, 300, 333333),
])
def test_uart_divisor_out_of_range(clk_hz, baud, divisor):
    with pytest.raises(ValueError, match=rf"^baud = {baud} needs a divisor of {divisor} from a "
                                         rf"{int(clk_hz)} Hz clock, but divisor must be "
                                         rf"between 4 and 65535$"):
        uart_divisor(clk_hz, baud)


@pytest.mark.parametrize("clk_hz, baud, name, shown", [
    (0, 9600, "clk_hz", "0"),
    (12e6, -9600, "baud", "-9600"),
    (float("nan"), 9600, "clk_hz", "nan"),
    (12e6, float("inf"), "baud", "inf"),
])
def test_uart_divisor_rates_must_be_positive(clk_hz, baud, name, shown):
    with pytest.raises(ValueError, match=rf"^{name} must be a positive finite number, "
                                         rf"not {shown}$"):
        uart_divisor(clk_hz, baud)


@pytest.mark.parametrize("clk_hz, baud, name, shown", [
    ("12e6", 9600, "clk_hz", "'12e6'"),
    (12e6, None, "baud", "None"),
    (12e6, True, "baud", "True"),
])
def test_uart_divisor_rates_must_be_numbers(clk_hz, baud, name, shown):
    with pytest.raises(TypeError, match=rf"^{name} must be a number, not {shown}$"):
        uart_divisor(clk_hz, baud)


# --- Tier 3: simulation -------------------------------------------------------------------

@pytest.mark.parametrize("divisor", [4, 7])
def test_tx_waveform_back_to_back(divisor):
    dut = UARTTx(divisor)
    data = [0x00, 0xFF, 0x55, 0xA3, 0x01]
    line, busy, accepted = [], [], []

    async def main(ctx):
        queue = list(data)
        for _ in range(5):
            await ctx.tick()
        assert ctx.get(dut.tx) == 1 and not ctx.get(dut.busy)
        for cycle in range(10 * divisor * (len(data) + 1)):
            ctx.set(dut.data.valid, bool(queue))
            if queue:
                ctx.set(dut.data.payload, queue[0])
            taken = bool(queue) and ctx.get(dut.data.ready)
            await ctx.tick()
            if taken:
                accepted.append(cycle)
                queue.pop(0)
            line.append(ctx.get(dut.tx))
            busy.append(ctx.get(dut.busy))

    simulate(dut, main)
    # Taken in the first cycle, then in the last cycle of each stop bit: no gap between frames.
    assert accepted == [10 * divisor * k for k in range(len(data))]
    expected = waveform([bit for byte in data for bit in frame(byte)], divisor)
    # Equal level by level, so every bit lasts exactly ``divisor`` cycles.
    assert line[:len(expected)] == expected
    assert set(line[len(expected):]) == {1}
    assert busy == [1] * len(expected) + [0] * (len(line) - len(expected))


@pytest.mark.parametrize("divisor", [4, 5, 7, 16])
def test_tx_rx_loopback(divisor):
    rng = np.random.default_rng(divisor)
    data = [0x00, 0xFF, 0x55, 0xAA] + [int(b) for b in rng.integers(0, 256, 28)]
    m = Module()
    m.submodules.tx = tx = UARTTx(divisor)
    m.submodules.rx = rx = UARTRx(divisor)
    m.d.comb += rx.rx.eq(tx.tx)
    got = []

    async def producer(ctx):
        for byte in data:
            await push(ctx, tx.data, byte)

    async def main(ctx):
        ctx.set(rx.data.ready, 1)
        for _ in range(10 * divisor * (len(data) + 2)):
            await ctx.tick()
        assert ctx.get(rx.frame_errors) == 0 and ctx.get(rx.overruns) == 0

    simulate(m, main, background=[producer, collector(rx.data, got)])
    assert got == data


@pytest.mark.parametrize("scale", [0.98, 1.02])
def test_rx_tolerates_two_percent_baud_error(scale):
    rng = np.random.default_rng(int(scale * 100))
    data = [0x00, 0xFF, 0x55, 0xAA, 0x0F, 0xF0] + [int(b) for b in rng.integers(0, 256, 6)]
    # Frames back to back: the error builds up over each frame and the next start edge
    # comes as early (or late) as it can.
    levels = [1] * 20 + waveform([bit for byte in data for bit in frame(byte)], 16 * scale)
    got, counters = run_rx(16, levels)
    assert got == data
    assert counters == {"frame_errors": 0, "overruns": 0}


@pytest.mark.parametrize("break_bits", [0, 3])
def test_rx_frame_error_drops_the_byte(break_bits):
    d = 8
    bits = [1] * 2 + frame(0x3C, stop=0) + [0] * break_bits + [1] * 2 + frame(0xC3)
    got, counters = run_rx(d, waveform(bits, d))
    assert got == [0xC3]
    assert counters == {"frame_errors": 1, "overruns": 0}


def test_rx_ignores_glitches_shorter_than_half_a_bit():
    d = 16
    levels = [1] * d
    for width in range(1, d // 2):
        levels += [0] * width + [1] * (3 * d)
    levels += waveform(frame(0xA5), d)
    got, counters = run_rx(d, levels)
    assert got == [0xA5]
    assert counters == {"frame_errors": 0, "overruns": 0}


def test_rx_overrun_keeps_the_first_byte():
    d = 5
    dut = UARTRx(d)
    got = []

    async def send(ctx, byte):
        for level in waveform(frame(byte) + [1], d):
            ctx.set(dut.rx, level)
            await ctx.tick()

    async def main(ctx):
        await send(ctx, 0x12)
        await send(ctx, 0x34)
        assert ctx.get(dut.data.valid) and ctx.get(dut.data.payload) == 0x12
        assert ctx.get(dut.overruns) == 1
        ctx.set(dut.data.ready, 1)
        await ctx.tick()
        assert not ctx.get(dut.data.valid)
        await send(ctx, 0x56)
        await send(ctx, 0x78)
        assert ctx.get(dut.overruns) == 1 and ctx.get(dut.frame_errors) == 0

    simulate(dut, main, background=[collector(dut.data, got)])
    assert got == [0x12, 0x56, 0x78]


def test_rx_counters_saturate():
    d = 4
    dut = UARTRx(d)
    bad = waveform(frame(0x00, stop=0) + [1], d)
    good = waveform(frame(0x11) + [1], d)

    async def main(ctx):
        # Start near the top rather than send 65535 frames.
        ctx.set(dut.frame_errors, 0xFFFE)
        ctx.set(dut.overruns, 0xFFFE)
        for level in bad * 3 + good * 4:
            ctx.set(dut.rx, level)
            await ctx.tick()
        assert ctx.get(dut.frame_errors) == 0xFFFF
        assert ctx.get(dut.overruns) == 0xFFFF
        assert ctx.get(dut.data.valid) and ctx.get(dut.data.payload) == 0x11

    simulate(dut, main)

"""The host runtime: one script on the golden model and on the simulated board gives the same spikes."""

import re

import numpy as np
import pytest

from golden_model import protocol as pr
from golden_model.chip import ChipParams
from golden_model.params import CoreParams
from sim.host_link import SimLink
from sim.stimulus import random_chip_image, random_chip_inputs
from spikeforge.device import Device, DeviceError, ProtocolTransport

CHIP = ChipParams(rows=1, cols=2, n_routes=32,
                  core=CoreParams(n_neurons=16, n_axons=8, n_synapses=24, n_profiles=2,
                                  max_delay=2, state_bits=16))
# Inter-byte silence after which the host gives up on a reply, in simulated seconds
# (the simulation clock is 100 MHz): longer than any step of these small networks.
TIMEOUT = 3e-5


class FaultyLink:
    """Damages some frames on their way to the board: bit flips, garbage and a lost frame."""

    def __init__(self, link, seed=0):
        self.link = link
        self.rng = np.random.default_rng(seed)
        self.frames = 0
        self.damaged = {"flip": 0, "garbage": 0, "lost": 0}

    def write(self, data):
        self.frames += 1
        data = bytearray(data)
        if self.frames % 5 == 0:
            pos = int(self.rng.integers(1, len(data)))
            data[pos] ^= 1 << int(self.rng.integers(8))
            self.damaged["flip"] += 1
        elif self.frames % 7 == 0:
            data = bytes(self.rng.choice([0x7E, 0x7D, 0x00, 0x55], 9).astype(np.uint8)) + data
            self.damaged["garbage"] += 1
        elif self.frames == 23:
            self.damaged["lost"] += 1
            return
        self.link.write(bytes(data))

    def read(self, n=1, timeout=1.0):
        return self.link.read(n, timeout)

    def close(self):
        self.link.close()


def script(dev, image, inputs):
    """What a user writes; run unchanged on every device."""
    dev.load(image)
    first = dev.run(inputs[:5])
    rest = dev.run(inputs[5:], n_steps=len(inputs) - 5 + 3)
    return np.concatenate([first, rest]), [dev.state(c) for c in range(CHIP.n_cores)], \
        dev.timestep


@pytest.fixture(scope="module")
def link():
    return SimLink(CHIP)


def test_same_script_same_spikes_golden_and_simulated_board(link):
    rng = np.random.default_rng(11)
    image = random_chip_image(rng, CHIP, host_all=True)
    inputs = random_chip_inputs(rng, CHIP, 10, rate=0.3)
    inputs[6] = []                       # a quiet stretch the host runs as one command
    golden = script(Device.golden(CHIP), image, inputs)
    board = Device.simulated(CHIP, link=link, timeout=TIMEOUT)
    simulated = script(board, image, inputs)
    assert len(golden[0]) > 20 and len(set(golden[0][:, 1])) == 2
    np.testing.assert_array_equal(golden[0], simulated[0])
    for (gu, gv), (su, sv) in zip(golden[1], simulated[1]):
        np.testing.assert_array_equal(gu, su)
        np.testing.assert_array_equal(gv, sv)
    assert golden[2] == simulated[2] == 13
    assert board.transport.counters()["host_events"] == len(golden[0])


def test_a_chip_without_cycle_counters():
    """As on the iCEBreaker: same spikes, STATUS says so, and the missing counters are refused."""
    from rtl.chip import CHIP_REGION, ChipCounter
    from rtl.lif_core import Counter, Region
    # One small core: a load through the simulated link costs a second per hundred writes.
    chip = ChipParams(rows=1, cols=1, n_routes=32,
                      core=CoreParams(n_neurons=16, n_axons=4, n_synapses=16, n_profiles=1,
                                      max_delay=1, state_bits=16))
    rng = np.random.default_rng(25)      # a seed whose network spikes
    image = random_chip_image(rng, chip, host_all=True)
    inputs = random_chip_inputs(rng, chip, 4, rate=0.5)
    golden = Device.golden(chip)
    golden.load(image)
    board = Device.simulated(chip, timeout=TIMEOUT, cycle_counters=False)
    board.load(image)
    expected = golden.run(inputs)
    np.testing.assert_array_equal(board.run(inputs), expected)
    t = board.transport
    assert not t.status()["flags"] & pr.STATUS_CYCLE_COUNTERS
    counters = t.counters()
    assert counters["host_events"] == len(expected) > 0 and counters["timestep"] == 4
    assert not {"deliver_cycles", "update_cycles", "drain_cycles", "idle_cycles"} & set(counters)
    # The counters beside the missing ones still read; a READ that touches one is refused.
    assert t.read(0, Region.COUNTER, Counter.TIMESTEP, 3)[0] == 4
    assert t.read(0, CHIP_REGION, ChipCounter.BAD_PACKETS, 1) == [0]
    for core, region, addr, count in ((0, Region.COUNTER, Counter.IDLE_CYCLES, 1),
                                      (0, Region.COUNTER, Counter.SPIKES, 2),
                                      (0, CHIP_REGION, ChipCounter.TIMESTEP, 2),
                                      (0, CHIP_REGION, ChipCounter.IDLE_CYCLES, 3)):
        with pytest.raises(DeviceError, match=rf"^the board refused READ: record 0 addresses "
                                              rf"core {core} region {int(region)} address "
                                              rf"{int(addr)}, which does not exist$"):
            t.read(core, region, addr, count)


def test_corrupted_frames_are_refused_and_sent_again(link):
    rng = np.random.default_rng(12)
    image = random_chip_image(rng, CHIP, host_all=True)
    inputs = random_chip_inputs(rng, CHIP, 6, rate=0.3)
    golden = script(Device.golden(CHIP), image, inputs)
    faulty = FaultyLink(link)
    board = Device.simulated(CHIP, link=faulty, timeout=TIMEOUT)
    simulated = script(board, image, inputs)
    np.testing.assert_array_equal(golden[0], simulated[0])
    assert all(faulty.damaged.values()), faulty.damaged
    # Every damaged or lost frame was sent again; garbage before a frame costs nothing,
    # since the board resynchronises on the frame's FLAG.
    assert board.transport.resent == faulty.damaged["flip"] + faulty.damaged["lost"]
    status = board.transport.status()
    assert status["crc_errors"] > 0 and status["loaded"]


def test_a_board_for_another_chip_is_refused(link):
    other = ChipParams(rows=1, cols=2, n_routes=32,
                       core=CoreParams(n_neurons=16, n_axons=8, n_synapses=32, n_profiles=2,
                                       max_delay=2, state_bits=16))
    with pytest.raises(DeviceError, match=r"^the board was built for another chip shape "
                                          r"\(2×1 cores of 16 neurons and 8 axons, "
                                          r"fingerprint 0x[0-9a-f]{4}\); the host expects "):
        ProtocolTransport(other, link, timeout=TIMEOUT)


def test_an_interrupted_load_cannot_run(link):
    rng = np.random.default_rng(13)
    image = random_chip_image(rng, CHIP, host_all=True)
    board = Device.simulated(CHIP, link=link, timeout=TIMEOUT)
    from rtl.chip import chip_config_writes
    t = board.transport
    t.reset()
    t.write(chip_config_writes(image)[:40])     # the host goes away half way
    assert not t.status()["loaded"]
    with pytest.raises(DeviceError, match=r"^the board refused RUN: no network is loaded "
                                          r"\(load and commit first\)$"):
        t.run([[]])


def test_load_checks_the_image(link):
    board = Device.golden(CHIP)
    with pytest.raises(TypeError, match=r"^image must be a ChipImage, not 3$"):
        board.load(3)
    with pytest.raises(ValueError, match=r"^inputs\[0\]\[0\] axon must be between 0 and 7, "
                                         r"not 9$"):
        board.run([[(0, 0, 9)]])
    with pytest.raises(DeviceError, match=r"^no network is loaded; call load\(\) first$"):
        board.run([[]])


def test_serial_port_that_is_not_there():
    pytest.importorskip("serial")
    with pytest.raises(DeviceError, match=r"^cannot open serial port '/dev/spikeforge-none' "
                                          r"\(.*\); ports found: "):
        Device.serial("/dev/spikeforge-none", CHIP)


def test_protocol_constants_reach_the_board(link):
    # The fingerprint the board reports is the host's, so a mismatch above is real.
    t = ProtocolTransport(CHIP, link, timeout=TIMEOUT)
    assert t.status()["params_id"] == pr.params_id(CHIP)


def test_a_gated_chip_reports_its_power_states():
    """A chip whose cores are clock-gated: same spikes as the golden model; each core's power
    registers, set and read over the protocol, give the states the golden policy predicts
    from the events the golden chip delivered to that core."""
    from golden_model.chip import simulate_chip
    from golden_model.power import PowerPolicy, simulate_policy
    from rtl.lif_core import Region
    from rtl.power import POWER_BASE, PowerReg
    built = PowerPolicy(window=8, low_pct=10, mid_pct=50)
    policy = PowerPolicy(window=2, low_pct=45, mid_pct=70)
    rng = np.random.default_rng(31)
    image = random_chip_image(rng, CHIP, host_all=True)
    inputs = random_chip_inputs(rng, CHIP, 12, rate=0.2)
    inputs[4:8] = [[]] * 4                  # a quieter stretch (the network keeps itself going)
    board = Device.simulated(CHIP, timeout=TIMEOUT, gating=built)
    assert board.transport.status()["flags"] & pr.STATUS_GATING
    board.load(image)
    assert board.power(1)["window"] == 8
    board.set_power_policy(policy)
    golden = simulate_chip(image, inputs)
    np.testing.assert_array_equal(board.run(inputs), _golden_events(image, inputs))
    states = simulate_policy(golden.events, policy, CHIP.core.n_axons)
    for core in range(CHIP.n_cores):
        p = board.power(core)
        assert (p["window"], p["low"], p["mid"]) == (2, *policy.limits(CHIP.core.n_axons))
        assert [p["steps"][s] for s in ("active", "reduced", "sleep")] == \
            [int((states[:, core] == s).sum()) for s in range(3)]
        assert p["state"] == ("active", "reduced", "sleep")[states[-1, core]]
    assert {0, 1, 2} <= set(states.ravel().tolist())
    assert board.power(0)["gated_cycles"] > 0 and board.power(1)["gated_cycles"] > 0
    # Only the settings can be written.
    with pytest.raises(DeviceError, match=r"^the board refused WRITE: record 0 addresses core 0 "
                                          rf"region 10 address {POWER_BASE + PowerReg.STATE}, "
                                          r"which does not exist$"):
        board.transport.write([(0, Region.COUNTER, POWER_BASE + PowerReg.STATE, 1)])


def _golden_events(image, inputs):
    dev = Device.golden(CHIP)
    dev.load(image)
    return dev.run(inputs)


@pytest.mark.parametrize("make,message", [
    (lambda: Device.golden(CHIP), "the golden model has no clock to gate: power status needs "
     "a chip built with gating, simulated (Device.simulated(..., gating=policy)) or on a board"),
    (lambda: Device.simulated(CHIP, timeout=TIMEOUT),
     "the simulated chip was built without clock gating; it has no power registers"),
])
def test_power_needs_a_gated_chip(make, message):
    from golden_model.power import PowerPolicy
    dev = make()
    for call in (lambda: dev.power(0), lambda: dev.set_power_policy(PowerPolicy())):
        with pytest.raises(DeviceError, match="^" + re.escape(message) + "$"):
            call()
    with pytest.raises(ValueError, match=r"^core must be between 0 and 1, not 2$"):
        dev.power(2)
    with pytest.raises(TypeError, match=r"^policy must be a PowerPolicy, not 5$"):
        dev.set_power_policy(5)

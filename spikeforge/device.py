"""The host runtime: one :class:`Device` API over the golden model, a simulated board and a real one.

::

    dev = Device.golden(chip_params)            # the numpy spec
    dev = Device.simulated(chip_params)         # the board's RTL, protocol bytes and all
    dev = Device.serial("/dev/ttyUSB1", chip_params)   # a board on its FTDI UART
    dev.load(chip_image)
    events = dev.run(inputs)      # rows (t, x, y, neuron), the spikes sent to the host

The same script gives the same events on all three. The simulated and serial
devices speak :mod:`golden_model.protocol`; a lost or corrupted command is
sent again, but only when the board has certainly not applied it (an error
reply says so, or the board's ``last_seq`` shows it), so nothing is ever
applied twice. Loading ends with ``COMMIT``, which the board accepts only if
it applied exactly the writes the host sent, so a load that failed half way
cannot run.
"""

import numpy as np

from golden_model import protocol as pr
from golden_model.chip import ChipImage, ChipParams, ChipState, simulate_chip
from golden_model.lif_core import CoreState

__all__ = ["Device", "DeviceError", "GoldenTransport", "ProtocolTransport", "SerialLink"]


class DeviceError(RuntimeError):
    """The board refused a command, or the link lost something it cannot recover."""


def _sorted_events(rows):
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    return rows[np.lexsort(rows.T[::-1])] if len(rows) else rows


def _check_inputs(params, inputs, n_steps):
    from golden_model.chip import normalise_chip_inputs
    normalise_chip_inputs(params, inputs, n_steps)      # raises with a sentence on bad input
    steps = [list(map(tuple, s)) for s in inputs]
    if n_steps is not None:
        steps += [[] for _ in range(n_steps - len(steps))]
    return steps


class GoldenTransport:
    """The numpy golden model behind the :class:`Device` API."""

    name = "golden"

    def __init__(self, params):
        self.params = params
        self.image = None
        self.state = None
        self.keymask = None

    def reset(self):
        self.image = self.state = None

    def load(self, image, keymask=None):
        self.image, self.keymask = image, keymask
        self.state = ChipState(t=0, cores=[CoreState.initial(c) for c in image.cores],
                               pending=[np.zeros(0, dtype=np.int64)] * self.params.n_cores)

    def run(self, steps):
        if self.image is None:
            raise DeviceError("no network is loaded; call load() first")
        out = simulate_chip(self.image, steps, state=self.state, keymask=self.keymask)
        return out.host

    def state_of(self, core):
        s = self.state.cores[core]
        return s.u.copy(), s.v.copy()

    def power(self, core):
        raise DeviceError("the golden model has no clock to gate: power status needs a chip "
                          "built with gating, simulated (Device.simulated(..., gating=policy))"
                          " or on a board")

    def set_power_policy(self, policy, cores):
        self.power(0)

    @property
    def timestep(self):
        return 0 if self.state is None else self.state.t

    def close(self):
        pass


class ProtocolTransport:
    """The host protocol over a byte link (a :class:`~sim.host_link.SimLink` or :class:`SerialLink`).

    ``timeout`` is how long to wait for a reply, in the link's seconds;
    ``retries`` how often a command the board did not apply is sent again.
    """

    def __init__(self, params, link, *, timeout, retries=4, name="protocol"):
        self.params = params
        self.link = link
        self.timeout = timeout
        self.retries = retries
        self.name = name
        self.decoder = pr.FrameDecoder()
        self.seq = 0
        self.resent = 0          # commands sent again after an error or a timeout
        self._pending = []
        self._writes = 0
        self._load_crc = 0xFFFF
        self.max_payload = None
        self.timestep = 0
        status = self.status()
        if status["magic"] != pr.MAGIC or status["version"] != pr.VERSION:
            raise DeviceError(f"the {name} link does not answer like a spikeforge board "
                              f"(magic 0x{status['magic']:04x}, version {status['version']})")
        if status["params_id"] != pr.params_id(params):
            raise DeviceError(
                f"the board was built for another chip shape ({status['cols']}×{status['rows']} "
                f"cores of {status['n_neurons']} neurons and {status['n_axons']} axons, "
                f"fingerprint 0x{status['params_id']:04x}); the host expects {params}, "
                f"fingerprint 0x{pr.params_id(params):04x}. Build and load a matching bitstream")
        self.max_payload = status["max_payload"]
        self.timestep = status["timestep"]

    # ---- frames -------------------------------------------------------------------------
    def _next_frame(self, timeout):
        while not self._pending:
            data = self.link.read(1, timeout=timeout)
            if not data:
                return None
            self._pending += self.decoder.feed(data)
        return self._pending.pop(0)

    def _exchange(self, op, payload, *, on_events=None):
        """Send one command; return the reply's payload. ``on_events`` takes EVENTS payloads."""
        idempotent = op in (pr.Op.STATUS, pr.Op.READ)
        for attempt in range(self.retries + 1):
            self.seq = (self.seq + 1) & 0xFF
            seq = self.seq
            self.link.write(pr.encode_frame(op, seq, payload))
            lost = False
            while True:
                frame = self._next_frame(self.timeout)
                if frame is None or not frame.crc_ok:
                    lost = True
                    break
                if frame.seq != seq:
                    continue            # a reply to an earlier attempt
                if frame.op == pr.EVENTS:
                    if on_events is not None:
                        on_events(frame.payload)
                    continue
                if frame.op == op | pr.REPLY:
                    return frame.payload
                if frame.op == pr.ERROR:
                    code = frame.payload[0] if frame.payload else 0
                    if code in (pr.Error.BAD_CRC, pr.Error.TOO_LONG):
                        break           # the board saw a damaged frame and applied nothing
                    raise DeviceError(pr.error_text(frame.payload))
                raise DeviceError(f"the board answered {pr.Op(op).name} with opcode "
                                  f"0x{frame.op:02x}")
            if lost and not idempotent and self._status_quietly()["last_seq"] == seq:
                if op is pr.Op.RUN:
                    raise DeviceError("the link lost part of a RUN's reply; the events of that "
                                      "run are incomplete. Reset and load again")
                return b""              # applied; only the reply was lost
            self.resent += 1
        raise DeviceError(f"no valid reply to {pr.Op(op).name} after {self.retries + 1} "
                          f"attempts; is the board connected and running the spikeforge "
                          f"bitstream?")

    def _status_quietly(self):
        return pr.unpack_status(self._exchange(pr.Op.STATUS, b""))

    # ---- commands -----------------------------------------------------------------------
    def status(self):
        s = pr.unpack_status(self._exchange(pr.Op.STATUS, b""))
        s["loaded"] = bool(s["flags"] & pr.STATUS_LOADED)
        s["busy"] = bool(s["flags"] & pr.STATUS_BUSY)
        return s

    def reset(self):
        self._exchange(pr.Op.RESET, b"")
        self._writes, self._load_crc, self.timestep = 0, 0xFFFF, 0

    def write(self, writes):
        per_frame = self.max_payload // pr.WRITE_RECORD.size
        writes = list(writes)
        for i in range(0, len(writes), per_frame):
            payload = pr.pack_writes(writes[i:i + per_frame])
            self._exchange(pr.Op.WRITE, payload)
            self._writes += len(writes[i:i + per_frame])
            self._load_crc = pr.crc16(payload, self._load_crc)

    def commit(self):
        self._exchange(pr.Op.COMMIT, self._writes.to_bytes(4, "little") +
                       self._load_crc.to_bytes(2, "little"))

    def load(self, image, keymask=None):
        from rtl.chip import chip_config_writes
        writes = chip_config_writes(image, keymask)
        self.reset()
        self.write(writes)
        self.commit()

    def read(self, core, region, addr, count=1):
        out = []
        per_frame = self.max_payload // 4
        while count:
            n = min(count, per_frame)
            payload = self._exchange(pr.Op.READ, pr.READ_REQUEST.pack(core, region, addr, n))
            out += [int.from_bytes(payload[4 * k:4 * k + 4], "little") for k in range(n)]
            addr, count = addr + n, count - n
        return out

    def run(self, steps):
        rows = []
        per_frame = self.max_payload // pr.SPIKE_RECORD.size
        t = 0
        while t < len(steps):
            for i in range(0, len(steps[t]), per_frame):
                self._exchange(pr.Op.SPIKES, pr.pack_spikes(steps[t][i:i + per_frame]))
            n = 1
            while t + n < len(steps) and not steps[t + n]:
                n += 1          # steps without input run as one command
            base = self.timestep
            got = []
            reply = self._exchange(pr.Op.RUN, n.to_bytes(4, "little"),
                                   on_events=lambda p: got.extend(pr.unpack_events(p)))
            timestep, count = int.from_bytes(reply[:4], "little"), int.from_bytes(reply[4:8],
                                                                                   "little")
            if count != len(got):
                raise DeviceError(f"the board sent {count} events in a RUN, the host received "
                                  f"{len(got)}")
            for t16, x, y, neuron in got:
                rows.append((base + ((t16 - base) & 0xFFFF), x, y, neuron))
            self.timestep = timestep
            t += n
        return np.array(rows, dtype=np.int64).reshape(-1, 4)

    def state_of(self, core):
        from rtl.lif_core import Region, signed_value
        N, S = self.params.core.n_neurons, self.params.core.state_bits
        u = [signed_value(d, S) for d in self.read(core, Region.U, 0, N)]
        v = [signed_value(d, S) for d in self.read(core, Region.V, 0, N)]
        return np.array(u, dtype=np.int64), np.array(v, dtype=np.int64)

    def _gated(self):
        if not self.status()["flags"] & pr.STATUS_GATING:
            raise DeviceError(f"the {self.name} chip was built without clock gating; it has "
                              "no power registers")

    def power(self, core):
        from golden_model.power import PowerState
        from rtl.lif_core import Region
        from rtl.power import POWER_BASE, PowerReg
        self._gated()
        words = dict(zip(PowerReg, self.read(core, Region.COUNTER, POWER_BASE, len(PowerReg))))
        return {"state": PowerState(words[PowerReg.STATE]).name.lower(),
                "window": words[PowerReg.WINDOW], "low": words[PowerReg.LOW],
                "mid": words[PowerReg.MID], "gated_cycles": words[PowerReg.GATED_CYCLES],
                "steps": {"active": words[PowerReg.ACTIVE_STEPS],
                          "reduced": words[PowerReg.REDUCED_STEPS],
                          "sleep": words[PowerReg.SLEEP_STEPS]}}

    def set_power_policy(self, policy, cores):
        from rtl.power import power_writes
        self._gated()
        writes = power_writes(policy, self.params.core.n_axons)
        # A write opens the load again; committing it (every write since the load, and
        # these) lets the network run on, its state untouched.
        self.write([(core, region, addr, data) for core in cores
                    for region, addr, data in writes])
        self.commit()

    def counters(self):
        """The chip's counters by name; a chip built without cycle counters has none of them."""
        from rtl.chip import CHIP_REGION, ChipCounter
        from rtl.host import address_windows
        cycles = bool(self.status()["flags"] & pr.STATUS_CYCLE_COUNTERS)
        values = {}
        for lo, hi in address_windows(self.params, write=False,
                                      cycle_counters=cycles)[CHIP_REGION]:
            values.update(zip(range(lo, hi), self.read(0, CHIP_REGION, lo, hi - lo)))
        out = {c.name.lower(): values[c] for c in ChipCounter
               if c != ChipCounter.ROUTED and c in values}
        out["routed"] = [values[ChipCounter.ROUTED + k] for k in range(self.params.n_cores)]
        return out

    def close(self):
        self.link.close()


class SerialLink:
    """A serial port (pyserial) as a byte link: ``write(bytes)``, ``read(n, timeout)``.

    ``port`` is a device name or any pyserial URL (``socket://host:port``,
    ``loop://``).
    """

    def __init__(self, port, baud=115200):
        try:
            import serial
        except ImportError:
            raise DeviceError("talking to a board needs pyserial: pip install pyserial") from None
        self.baud = baud
        try:
            self._port = serial.serial_for_url(port, baudrate=baud, timeout=0)
        except (serial.SerialException, ValueError) as e:
            from serial.tools import list_ports
            found = ", ".join(sorted(p.device for p in list_ports.comports())) or "none"
            raise DeviceError(f"cannot open serial port {port!r} ({e}); ports found: "
                              f"{found}") from None

    def write(self, data):
        self._port.write(bytes(data))

    def read(self, n=1, timeout=1.0):
        self._port.timeout = timeout
        return self._port.read(n)

    def close(self):
        self._port.close()


class Device:
    """A chip behind one API, whichever transport carries it (see the module docstring)."""

    def __init__(self, transport):
        self.transport = transport
        self.params = transport.params

    @classmethod
    def golden(cls, params):
        return cls(GoldenTransport(_check_params(params)))

    @classmethod
    def simulated(cls, params, *, uart=False, divisor=4, max_payload=512, timeout=2e-3,
                  link=None, cycle_counters=True, gating=None):
        """The board top in the Amaranth simulator; ``link`` may wrap it (to inject faults).

        ``cycle_counters=False`` simulates a chip built without them, as on the iCEBreaker;
        ``gating`` (a :class:`~golden_model.power.PowerPolicy`) one whose cores are
        clock-gated, starting from that policy.
        """
        from sim.host_link import SimLink
        params = _check_params(params)
        link = link or SimLink(params, uart=uart, divisor=divisor, max_payload=max_payload,
                               cycle_counters=cycle_counters, gating=gating)
        return cls(ProtocolTransport(params, link, timeout=timeout, name="simulated"))

    @classmethod
    def serial(cls, port, params, *, baud=115200, timeout=1.0):
        params = _check_params(params)
        return cls(ProtocolTransport(params, SerialLink(port, baud), timeout=timeout,
                                     name="serial"))

    def load(self, image, keymask=None):
        """Load a :class:`~golden_model.chip.ChipImage`; the board's state starts afresh."""
        if not isinstance(image, ChipImage):
            raise TypeError(f"image must be a ChipImage, not {image!r}")
        if image.params != self.params:
            raise ValueError(f"the image was built for {image.params}, the device is "
                             f"{self.params}")
        self.transport.load(image, keymask)

    def run(self, inputs, n_steps=None):
        """Run one step per entry of ``inputs`` (lists of ``(x, y, axon)``), or ``n_steps``.

        Returns the events sent to the host as rows ``(t, x, y, neuron)``,
        sorted; ``t`` counts steps since the load.
        """
        steps = _check_inputs(self.params, inputs, n_steps)
        return _sorted_events(self.transport.run(steps))

    def state(self, core=0):
        """``(u, v)`` of every neuron of core ``core``."""
        if not 0 <= core < self.params.n_cores:
            raise ValueError(f"core must be between 0 and {self.params.n_cores - 1}, "
                             f"not {core}")
        return self.transport.state_of(core)

    def power(self, core=0):
        """Core ``core``'s power controller: its ``state`` now, its settings (``window``
        in steps, ``low`` and ``mid`` in events per window), ``gated_cycles``, and the
        ``steps`` begun in each state. Only a chip built with gating has one."""
        self._check_core(core)
        return self.transport.power(core)

    def set_power_policy(self, policy, cores=None):
        """Set the power controllers of ``cores`` (default: every core) to ``policy`` (a
        :class:`~golden_model.power.PowerPolicy`); a load resets them to the built one."""
        from golden_model.power import PowerPolicy
        if not isinstance(policy, PowerPolicy):
            raise TypeError(f"policy must be a PowerPolicy, not {policy!r}")
        cores = range(self.params.n_cores) if cores is None else list(cores)
        for core in cores:
            self._check_core(core)
        self.transport.set_power_policy(policy, cores)

    def _check_core(self, core):
        if isinstance(core, bool) or not isinstance(core, (int, np.integer)) or \
                not 0 <= core < self.params.n_cores:
            raise ValueError(f"core must be between 0 and {self.params.n_cores - 1}, "
                             f"not {core!r}")

    @property
    def timestep(self):
        return self.transport.timestep

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_params(params):
    if not isinstance(params, ChipParams):
        raise TypeError(f"params must be a ChipParams, not {params!r}")
    return params

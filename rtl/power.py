"""A core's activity monitor and power controller: :mod:`golden_model.power` in hardware.

The monitor counts the events delivered to the core between timestep ticks; every
``window`` ticks the controller compares the window's count with the ``low`` and ``mid``
limits (event counts, as :meth:`golden_model.power.PowerPolicy.limits` computes them)
and sets the state that holds until the next decision. All three can be written at run
time; a new window length takes effect at the next decision.

``clock_en`` is the core's clock enable (or the :class:`~rtl.clock_gate.ClockGate`
request): always on when ACTIVE, one cycle in two when REDUCED, and only while ``busy``
says the core has work when asleep. ``gated_cycles`` counts the cycles whose edge the
gate held back (its ``clocked`` answer, which follows ``clock_en`` but is the gate's own
word) and ``state_steps`` the steps spent in each state, for the debug port.

A :class:`GatedCore` maps the controller into its core's ``COUNTER`` region, from
:data:`POWER_BASE` up (:class:`PowerReg`): the settings can be written through the config
port and everything read through the debug port, as any other register of the core.
"""

import enum

from amaranth import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden_model.power import PowerState

__all__ = ["PowerController", "GatedCore", "PoweredCore", "PowerReg", "POWER_BASE", "COUNTER_BITS",
           "power_writes"]

#: Width of the event, cycle and step counters; they saturate rather than wrap.
COUNTER_BITS = 32

#: Where the power registers start in a gated core's ``COUNTER`` region (below the
#: learning registers at ``0x8000``, far above the core's counters).
POWER_BASE = 0x4000


class PowerReg(enum.IntEnum):
    """A gated core's power registers, at ``POWER_BASE + reg`` of region ``COUNTER``."""
    WINDOW = 0          # read/write: steps per activity window (0 acts as 1)
    LOW = 1             # read/write: the SLEEP limit, events per window
    MID = 2             # read/write: the REDUCED limit, events per window
    STATE = 3           # read only: the PowerState now
    GATED_CYCLES = 4    # read only: cycles the core's clock was held off
    ACTIVE_STEPS = 5    # read only: steps begun in each state
    REDUCED_STEPS = 6
    SLEEP_STEPS = 7


#: The power registers a host may write.
POWER_WRITABLE = (PowerReg.WINDOW, PowerReg.LOW, PowerReg.MID)


def power_writes(policy, n_axons):
    """The ``(region, addr, data)`` config writes that set a gated core to ``policy``."""
    from golden_model.power import PowerPolicy
    from rtl.lif_core import Region
    if not isinstance(policy, PowerPolicy):
        raise TypeError(f"policy must be a PowerPolicy, not {policy!r}")
    low, mid = policy.limits(n_axons)
    return [(Region.COUNTER, POWER_BASE + PowerReg.WINDOW, policy.window),
            (Region.COUNTER, POWER_BASE + PowerReg.LOW, low),
            (Region.COUNTER, POWER_BASE + PowerReg.MID, mid)]


class PowerController(wiring.Component):
    """Ports: ``event`` (an event delivered this cycle), ``tick`` (a timestep starts),
    ``busy`` (the core has work), ``clocked`` (the gate lets this cycle's edge through),
    the run-time ``window``, ``low`` and ``mid``; out come ``state``
    (:class:`PowerState`), ``clock_en``, ``gated_cycles`` and ``state_steps``."""
    event: In(1)
    tick: In(1)
    busy: In(1)
    clocked: In(1)
    window: In(16)
    low: In(COUNTER_BITS)
    mid: In(COUNTER_BITS)
    state: Out(2)
    clock_en: Out(1)
    gated_cycles: Out(COUNTER_BITS)
    state_steps: Out(data.ArrayLayout(COUNTER_BITS, 3))

    def elaborate(self, platform):
        m = Module()
        top = (1 << COUNTER_BITS) - 1
        events = Signal(COUNTER_BITS)
        steps = Signal(16)
        phase = Signal()

        # Events delivered before tick t are step t's (the timestep contract delivers a
        # step's events before its update). Tick t completes step t's count; when that ends
        # a window, the decision waits for tick t + 1, where the next window begins.
        counted = Signal(COUNTER_BITS)
        decided = Signal(2)
        pending = Signal()
        now = Signal(2)
        m.d.comb += [counted.eq(events + (self.event & (events != top))),
                     now.eq(Mux(pending, decided, self.state))]
        with m.If(self.tick):
            m.d.sync += [self.state.eq(now), pending.eq(0)]
            with m.Switch(now):
                for s in PowerState:
                    with m.Case(s):
                        with m.If(self.state_steps[s] != top):
                            m.d.sync += self.state_steps[s].eq(self.state_steps[s] + 1)
            with m.If(steps + 1 >= self.window):
                m.d.sync += [steps.eq(0), events.eq(0), pending.eq(1)]
                with m.If(counted < self.low):
                    m.d.sync += decided.eq(PowerState.SLEEP)
                with m.Elif(counted < self.mid):
                    m.d.sync += decided.eq(PowerState.REDUCED)
                with m.Else():
                    m.d.sync += decided.eq(PowerState.ACTIVE)
            with m.Else():
                m.d.sync += [steps.eq(steps + 1), events.eq(counted)]
        with m.Else():
            m.d.sync += events.eq(counted)

        # The throttle's phase only runs while it is used: an idle controller stays still.
        with m.If(self.state == PowerState.REDUCED):
            m.d.sync += phase.eq(~phase)
        with m.Switch(self.state):
            with m.Case(PowerState.ACTIVE):
                m.d.comb += self.clock_en.eq(1)
            with m.Case(PowerState.REDUCED):
                m.d.comb += self.clock_en.eq(phase)
            with m.Default():
                m.d.comb += self.clock_en.eq(self.busy)
        with m.If(~self.clocked & (self.gated_cycles != top)):
            m.d.sync += self.gated_cycles.eq(self.gated_cycles + 1)
        return m


class PoweredCore(wiring.Component):
    """A :class:`~rtl.lif_core.LIFCore` with the power registers of its controller: the
    settings ``window``, ``low`` and ``mid`` (from ``policy``, then from config writes) and
    the answers to debug reads of every :class:`PowerReg`, from the controller's ``state``,
    ``gated_cycles`` and ``state_steps`` (inputs). Everything else passes to the core.

    It is what a :class:`GatedCore` puts behind its gate: the settings are written rarely,
    so they need the clock only when the core has it.
    """

    def __init__(self, params, policy, **core_args):
        from rtl.lif_core import LIFCore
        self.params, self.policy = params, policy
        self.core = LIFCore(params, **core_args)
        ports = dict(self.core.signature.members)
        ports.update(window=Out(16), low=Out(COUNTER_BITS), mid=Out(COUNTER_BITS),
                     state=In(2), gated_cycles=In(COUNTER_BITS),
                     state_steps=In(data.ArrayLayout(COUNTER_BITS, 3)))
        super().__init__(ports)

    def elaborate(self, platform):
        from rtl.lif_core import Region
        m = Module()
        m.submodules.core = core = self.core
        low, mid = self.policy.limits(self.params.n_axons)
        window = Signal(16, init=self.policy.window)
        low_r = Signal(COUNTER_BITS, init=low)
        mid_r = Signal(COUNTER_BITS, init=mid)
        m.d.comb += [self.window.eq(window), self.low.eq(low_r), self.mid.eq(mid_r)]

        def power_reg(request):
            """(is a power register, which one) for a config or debug request."""
            addr = request.payload.addr
            hit = (request.payload.region == Region.COUNTER) & (addr >= POWER_BASE) & \
                (addr < POWER_BASE + len(PowerReg))
            return hit, addr[:3]

        # Config: power registers are written here; everything else goes to the core.
        cfg_power, cfg_reg = power_reg(self.config)
        m.d.comb += [core.config.valid.eq(self.config.valid & ~cfg_power),
                     core.config.payload.eq(self.config.payload),
                     self.config.ready.eq(cfg_power | core.config.ready)]
        with m.If(self.config.valid & cfg_power):
            with m.Switch(cfg_reg):
                for reg, target in ((PowerReg.WINDOW, window), (PowerReg.LOW, low_r),
                                    (PowerReg.MID, mid_r)):
                    with m.Case(reg):
                        m.d.sync += target.eq(self.config.payload.data)

        # Debug: a power register is answered the next cycle, with its value then, in order
        # with the core's answers (one request is open at a time).
        dbg_power, dbg_reg = power_reg(self.debug.req)
        core_open = Signal()        # the core owes an answer
        p_valid, p_reg = Signal(), Signal(3)
        values = {PowerReg.WINDOW: window, PowerReg.LOW: low_r, PowerReg.MID: mid_r,
                  PowerReg.STATE: self.state, PowerReg.GATED_CYCLES: self.gated_cycles,
                  PowerReg.ACTIVE_STEPS: self.state_steps[PowerState.ACTIVE],
                  PowerReg.REDUCED_STEPS: self.state_steps[PowerState.REDUCED],
                  PowerReg.SLEEP_STEPS: self.state_steps[PowerState.SLEEP]}
        p_data = Signal(32)
        with m.Switch(p_reg):
            for reg, value in values.items():
                with m.Case(reg):
                    m.d.comb += p_data.eq(value)
        m.d.comb += [
            core.debug.req.valid.eq(self.debug.req.valid & ~dbg_power & ~p_valid),
            core.debug.req.payload.eq(self.debug.req.payload),
            self.debug.req.ready.eq(~p_valid & Mux(dbg_power, ~core_open,
                                                   core.debug.req.ready)),
            self.debug.resp.valid.eq(p_valid | core.debug.resp.valid),
            self.debug.resp.payload.eq(Mux(p_valid, p_data, core.debug.resp.payload)),
            core.debug.resp.ready.eq(self.debug.resp.ready & ~p_valid),
        ]
        with m.If(core.debug.req.valid & self.debug.req.ready):
            m.d.sync += core_open.eq(1)
        with m.If(core.debug.resp.valid & core.debug.resp.ready):
            m.d.sync += core_open.eq(0)
        with m.If(self.debug.req.valid & dbg_power & self.debug.req.ready):
            m.d.sync += [p_valid.eq(1), p_reg.eq(dbg_reg)]
        with m.If(p_valid & self.debug.resp.ready):
            m.d.sync += p_valid.eq(0)

        m.d.comb += self.busy.eq(core.busy | p_valid)
        wiring.connect(m, wiring.flipped(self.axon_in), core.axon_in)
        wiring.connect(m, wiring.flipped(self.tick), core.tick)
        wiring.connect(m, core.spike_out, wiring.flipped(self.spike_out))
        m.d.comb += self.timestep.eq(core.timestep)
        return m


class GatedCore(wiring.Component):
    """A :class:`~rtl.lif_core.LIFCore` behind a :class:`~rtl.clock_gate.ClockGate`, run by
    its own :class:`PowerController`.

    The ports are the core's (``axon_in``, ``tick``, ``spike_out``, ``config``, ``debug``,
    ``busy``, ``timestep``), so it stands wherever a core does, plus the controller's
    ``state``, ``gated_cycles`` and ``state_steps``, and the gate's ``clocked`` (this
    cycle's edge reaches the core), for a testbench. The controller's ``window``, ``low``
    and ``mid`` start from ``policy`` and are written, like everything else of it is read,
    through the config and debug ports (:class:`PowerReg`): a :class:`PoweredCore` keeps
    them behind the gate. ``backend`` goes to the gate; ``core_args`` to the core.

    A core sees only the edges its gate lets through, so every handshake across the
    boundary is qualified by ``clocked``: the outside may only take from, or give to, the
    core on an edge the core sees too. Nothing is lost or repeated while the clock is off,
    and an offer wakes the core in the same cycle (``busy`` includes the core's input
    valids, and config and debug requests wake it as well).
    """

    def __init__(self, params, *, policy=None, backend="auto", **core_args):
        from golden_model.power import PowerPolicy
        from rtl.clock_gate import ClockGate
        policy = PowerPolicy() if policy is None else policy
        if not isinstance(policy, PowerPolicy):
            raise TypeError(f"policy must be a PowerPolicy, not {policy!r}")
        self.params, self.policy = params, policy
        self.inner = PoweredCore(params, policy, **core_args)
        self.core = self.inner.core
        self.gate = ClockGate(self.inner, backend=backend)
        ports = dict(self.core.signature.members)
        ports.update(state=Out(2), clocked=Out(1), gated_cycles=Out(COUNTER_BITS),
                     state_steps=Out(data.ArrayLayout(COUNTER_BITS, 3)))
        super().__init__(ports)

    @property
    def backend_used(self):
        return self.gate.backend_used

    def elaborate(self, platform):
        m = Module()
        m.submodules.gate = gate = self.gate
        m.submodules.power = power = PowerController()
        inner = self.inner
        on = gate.clocked

        def into(outer, to):
            m.d.comb += [to.valid.eq(outer.valid), to.payload.eq(outer.payload),
                         outer.ready.eq(to.ready & on)]

        def out_of(source, outer):
            m.d.comb += [outer.valid.eq(source.valid & on), outer.payload.eq(source.payload),
                         source.ready.eq(outer.ready)]

        into(self.axon_in, inner.axon_in)
        m.d.comb += [inner.tick.valid.eq(self.tick.valid),
                     self.tick.ready.eq(inner.tick.ready & on)]
        into(self.config, inner.config)
        into(self.debug.req, inner.debug.req)
        out_of(inner.spike_out, self.spike_out)
        out_of(inner.debug.resp, self.debug.resp)
        wake = inner.busy | self.config.valid | self.debug.req.valid
        m.d.comb += [
            self.busy.eq(wake), self.timestep.eq(inner.timestep),
            power.event.eq(self.axon_in.valid & self.axon_in.ready),
            power.tick.eq(self.tick.valid & self.tick.ready),
            power.busy.eq(wake),
            power.window.eq(inner.window), power.low.eq(inner.low), power.mid.eq(inner.mid),
            inner.state.eq(power.state), inner.gated_cycles.eq(power.gated_cycles),
            inner.state_steps.eq(power.state_steps),
            gate.en.eq(power.clock_en), power.clocked.eq(on),
            self.state.eq(power.state), self.clocked.eq(on),
            self.gated_cycles.eq(power.gated_cycles),
            self.state_steps.eq(power.state_steps),
        ]
        return m

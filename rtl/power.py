"""A core's activity monitor and power controller: :mod:`golden_model.power` in hardware.

The monitor counts the events delivered to the core between timestep ticks; every
``window`` ticks the controller compares the window's count with the ``low`` and ``mid``
limits (event counts, as :meth:`golden_model.power.PowerPolicy.limits` computes them)
and sets the state that holds until the next decision. All three can be written at run
time; a new window length takes effect at the next decision.

``clock_en`` is the core's clock enable (or the :class:`~rtl.clock_gate.ClockGate`
request): always on when ACTIVE, one cycle in two when REDUCED, and only while ``busy``
says the core has work when asleep. ``gated_cycles`` counts the cycles it was off and
``state_steps`` the steps spent in each state, for the debug port.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden_model.power import PowerState

__all__ = ["PowerController", "COUNTER_BITS"]

#: Width of the event, cycle and step counters; they saturate rather than wrap.
COUNTER_BITS = 32


class PowerController(wiring.Component):
    """Ports: ``event`` (an event delivered this cycle), ``tick`` (a timestep starts),
    ``busy`` (the core has work), the run-time ``window``, ``low`` and ``mid``; out come
    ``state`` (:class:`PowerState`), ``clock_en``, ``gated_cycles`` and ``state_steps``."""
    event: In(1)
    tick: In(1)
    busy: In(1)
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
        with m.If(~self.clock_en & (self.gated_cycles != top)):
            m.d.sync += self.gated_cycles.eq(self.gated_cycles + 1)
        return m


class GatedCore(wiring.Component):
    """A :class:`~rtl.lif_core.LIFCore` behind a :class:`~rtl.clock_gate.ClockGate`, run by
    its own :class:`PowerController`.

    The ports are the core's (``axon_in``, ``tick``, ``spike_out``, ``config``, ``debug``,
    ``busy``, ``timestep``), so it stands wherever a core does, plus the controller's
    run-time ``window``, ``low`` and ``mid`` (initialised from ``policy``) and its
    ``state``, ``gated_cycles`` and ``state_steps``. ``backend`` goes to the gate;
    ``core_args`` to the core.

    A core sees only the edges its gate lets through, so every handshake across the
    boundary is qualified by ``clocked``: the outside may only take from, or give to, the
    core on an edge the core sees too. Nothing is lost or repeated while the clock is off,
    and an offer wakes the core in the same cycle (``busy`` includes the core's input
    valids, and config and debug requests wake it as well).
    """

    def __init__(self, params, *, policy=None, backend="auto", **core_args):
        from golden_model.power import PowerPolicy
        from rtl.clock_gate import ClockGate
        from rtl.lif_core import LIFCore
        policy = PowerPolicy() if policy is None else policy
        if not isinstance(policy, PowerPolicy):
            raise TypeError(f"policy must be a PowerPolicy, not {policy!r}")
        self.params, self.policy = params, policy
        self.core = LIFCore(params, **core_args)
        self.gate = ClockGate(self.core, backend=backend)
        low, mid = policy.limits(params.n_axons)
        ports = dict(self.core.signature.members)
        ports.update(window=In(16, init=policy.window), low=In(COUNTER_BITS, init=low),
                     mid=In(COUNTER_BITS, init=mid), state=Out(2),
                     gated_cycles=Out(COUNTER_BITS),
                     state_steps=Out(data.ArrayLayout(COUNTER_BITS, 3)))
        super().__init__(ports)

    @property
    def backend_used(self):
        return self.gate.backend_used

    def elaborate(self, platform):
        m = Module()
        m.submodules.gate = gate = self.gate
        m.submodules.power = power = PowerController()
        core = self.core
        on = gate.clocked

        def into(outer, inner):
            m.d.comb += [inner.valid.eq(outer.valid), inner.payload.eq(outer.payload),
                         outer.ready.eq(inner.ready & on)]

        def out_of(inner, outer):
            m.d.comb += [outer.valid.eq(inner.valid & on), outer.payload.eq(inner.payload),
                         inner.ready.eq(outer.ready)]

        into(self.axon_in, core.axon_in)
        m.d.comb += [core.tick.valid.eq(self.tick.valid),
                     self.tick.ready.eq(core.tick.ready & on)]
        into(self.config, core.config)
        into(self.debug.req, core.debug.req)
        out_of(core.spike_out, self.spike_out)
        out_of(core.debug.resp, self.debug.resp)
        wake = core.busy | self.config.valid | self.debug.req.valid
        m.d.comb += [
            self.busy.eq(wake), self.timestep.eq(core.timestep),
            power.event.eq(self.axon_in.valid & self.axon_in.ready),
            power.tick.eq(self.tick.valid & self.tick.ready),
            power.busy.eq(wake),
            power.window.eq(self.window), power.low.eq(self.low), power.mid.eq(self.mid),
            gate.en.eq(power.clock_en),
            self.state.eq(power.state), self.gated_cycles.eq(power.gated_cycles),
            self.state_steps.eq(power.state_steps),
        ]
        return m

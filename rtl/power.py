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

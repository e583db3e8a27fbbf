"""Clock gating: a block runs on a copy of its clock that stops while it has nothing to do.

:class:`ClockGate` wraps an elaboratable and moves its ``sync`` domain onto a gated
clock, by one of three backends:

``generic``
    A glitch-free integrated clock gate: the enable is captured on the falling edge
    and ANDed with the clock, so it can only change while the clock is low and the
    gated clock never carries a shortened pulse. Used in simulation and for ASIC flows.
``dcca``
    The ECP5's ``DCCA`` clock buffer with its enable, fed the same falling-edge capture.
``enable``
    No gated clock: the block keeps the free-running clock with a clock enable on
    every register. The iCE40 has no glitch-free gate for fabric clocks, so this is its
    only backend; it saves the registers' toggles but not the clock tree's power.

Whatever the backend, ``en`` high before a rising edge lets that edge through; the
block's registers see exactly the edges that a clock enable would give them, so the
three backends are cycle-equivalent. While the source domain is in reset the gate is
held open, so a gated block always resets. ``clocked`` says whether the block gets the
coming edge, for an activity monitor in the source domain.
"""

from amaranth import ClockDomain, ClockSignal, DomainRenamer, EnableInserter, Module, \
    ResetSignal, Signal
from amaranth.hdl import Instance
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["ClockGate", "BACKENDS", "backends_for"]

#: Every backend, in the order ``auto`` prefers them.
BACKENDS = ("dcca", "generic", "enable")


def _family(platform):
    if platform is None:
        return None
    family = str(getattr(platform, "family", "")).lower()
    return family if family in ("ecp5", "ice40") else "other"


def backends_for(platform):
    """The backends a platform supports (simulation, with no platform: generic and enable)."""
    return {None: ("generic", "enable"), "ecp5": ("dcca", "generic", "enable"),
            "ice40": ("enable",), "other": ("generic", "enable")}[_family(platform)]


def _silence(*elaboratables):
    # Refused before elaboration: Amaranth's "never elaborated" warning would only mislead.
    for e in elaboratables:
        e._MustUse__silence = True


class ClockGate(wiring.Component):
    """Run ``inner``'s ``sync`` domain on a gated copy of ``domain``'s clock.

    ``backend`` is ``"auto"`` (the platform's best: ``dcca`` on ECP5, ``enable`` on
    iCE40, ``generic`` in simulation), or one of :data:`BACKENDS`. :attr:`backend_used`
    names the one elaboration chose, for reports.
    """
    en: In(1)
    clocked: Out(1)

    def __init__(self, inner, *, domain="sync", backend="auto"):
        if backend != "auto" and backend not in BACKENDS:
            _silence(self, inner)
            raise ValueError(f"backend must be one of auto, {', '.join(BACKENDS)}, not "
                             f"{backend!r}")
        if not isinstance(domain, str) or not domain:
            _silence(self, inner)
            raise TypeError(f"domain must be a domain name, not {domain!r}")
        self._inner, self._domain, self._backend = inner, domain, backend
        self.backend_used = None
        super().__init__()

    def resolve(self, platform):
        """The backend for ``platform``; raises if the one asked for is not available there."""
        allowed = backends_for(platform)
        if self._backend == "auto":
            return allowed[0]
        if self._backend not in allowed:
            family = _family(platform)
            where = "simulation (no platform)" if family is None else \
                f"{type(platform).__name__} ({family})"
            _silence(self._inner)
            raise ValueError(f"backend {self._backend!r} is not available for {where}; it "
                             f"has {', '.join(allowed)}")
        return self._backend

    def elaborate(self, platform):
        backend = self.backend_used = self.resolve(platform)
        m = Module()
        src_clk, src_rst = ClockSignal(self._domain), ResetSignal(self._domain)
        # The gate stays open in reset, or a stopped block would never see its reset edge.
        want = Signal()
        m.d.comb += want.eq(self.en | src_rst)
        m.domains.gated = gated = ClockDomain("gated", local=True)
        m.d.comb += gated.rst.eq(src_rst)
        inner = DomainRenamer({"sync": "gated"})(self._inner)
        if backend == "enable":
            m.d.comb += [gated.clk.eq(src_clk), self.clocked.eq(want)]
            m.submodules.inner = EnableInserter({"gated": want})(inner)
            return m
        # Captured on the falling edge, the enable only moves while the clock is low.
        # No reset: in reset it must keep capturing the open request, not fall to 0.
        m.domains.gate_fall = fall = ClockDomain("gate_fall", clk_edge="neg", local=True,
                                                 reset_less=True)
        m.d.comb += fall.clk.eq(src_clk)
        held = Signal()
        m.d.gate_fall += held.eq(want)
        m.d.comb += self.clocked.eq(held)
        if backend == "generic":
            m.d.comb += gated.clk.eq(src_clk & held)
        else:
            m.submodules.dcca = Instance("DCCA", i_CLKI=src_clk, i_CE=held, o_CLKO=gated.clk)
        m.submodules.inner = inner
        return m

"""The stream ends every neuron step unit shares (:mod:`rtl.izhikevich`, :mod:`rtl.adex`).

A unit takes one neuron in state ``IDLE``, works through states of its own, and offers the
result in ``OUT`` until it is taken. These helpers write those two states inside the
unit's ``with m.FSM():``.
"""

__all__ = ["take", "offer", "finish"]


def take(m, inp, loads, first):
    """State ``IDLE``: ready for a neuron; on one, make ``loads`` and go to ``first``."""
    with m.State("IDLE"):
        m.d.comb += inp.ready.eq(1)
        with m.If(inp.valid):
            m.d.sync += loads
            m.next = first


def offer(m, out):
    """State ``OUT``: the result is held with ``valid`` until ``ready``, then ``IDLE``."""
    with m.State("OUT"):
        with m.If(out.ready):
            m.d.sync += out.valid.eq(0)
            m.next = "IDLE"


def finish(m, out, fields):
    """In a unit's last working state: register the result ``fields`` and offer it next."""
    m.d.sync += [getattr(out.payload, name).eq(value) for name, value in fields.items()]
    m.d.sync += out.valid.eq(1)
    m.next = "OUT"

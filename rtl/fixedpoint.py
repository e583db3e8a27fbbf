"""RTL mirror of :mod:`golden_model.fixedpoint`: rounding shifts, wrap and saturation.

Each helper returns an Amaranth value and adds no state, so the LIF datapath
can place pipeline registers between them where timing needs it.
"""

from amaranth.hdl import Const, Mux, signed

__all__ = ["shift_right_round", "wrap", "saturate", "overflow", "decay_factor", "decay_product"]


def shift_right_round(x, n, floor):
    """Signed ``x >> n``; rounds toward minus infinity when ``floor`` is 1, else toward zero.

    Toward zero adds ``2**n - 1`` to negative values before the floor shift,
    exactly as the golden model specifies it, so no absolute value (and no
    second carry chain on ``|x|``) is needed.
    """
    x = x.as_signed()
    bias = Mux(x[-1] & ~floor, Const((1 << n) - 1, n), 0)
    return (x + bias) >> n


def wrap(x, bits):
    """Keep the low ``bits`` bits of ``x`` as a signed value."""
    return x[:bits].as_signed()


def saturate(x, bits):
    """Clamp signed ``x`` to ``[-(2**(bits-1) - 1), 2**(bits-1) - 1]``."""
    hi = (1 << (bits - 1)) - 1
    x = x.as_signed()
    return Mux(x > hi, Const(hi, signed(bits)),
               Mux(x < -hi, Const(-hi, signed(bits)), x[:bits].as_signed()))


def overflow(x, bits, sat):
    """Wrap, or saturate when ``sat`` is 1, to ``bits`` bits."""
    return Mux(sat, saturate(x, bits), wrap(x, bits))


def decay_factor(d_eff):
    """``4096 - d_eff`` as 14 bits, to be read as signed: the factor that keeps ``x``."""
    return (Const(4096, 14) - d_eff)[:14]


def decay_product(x, d_eff=None, *, factor=None):
    """``x * (4096 - d_eff)``: the full-width product before the rounding shift.

    ``factor``, when given instead of ``d_eff``, is :func:`decay_factor` already made.
    """
    if factor is None:
        factor = decay_factor(d_eff)
    return x.as_signed() * factor.as_signed()

"""A memristive crossbar: vector-matrix products through conductances, float64.

A behavioural model on :mod:`golden_model.memristor` (no core runs it yet). Units are
volts, amperes, siemens and ohms; weights and inputs are plain numbers.

**Weights.** A signed weight ``W`` in ``[-w_max, w_max]`` is a differential pair of
devices on two neighbouring columns, ``G+`` and ``G-``::

    G+ = g_min + R * max(W, 0) / w_max,    G- = g_min + R * max(-W, 0) / w_max
    W  = w_max * (G+ - G-) / R                                 (R = g_max - g_min)

:meth:`Crossbar.program_weights` gets there by write-verify: read every device, give each
one outside ``tolerance * R`` of its target one set or reset pulse at the device's
programming voltage, and repeat until all pass or ``max_pulses`` pulses are spent. A
device that passes once is done. It returns the pulses each device took and the devices
that failed; a failure is reported, never hidden.

**Inputs.** ``x`` in ``[-1, 1]`` goes through a signed DAC of ``dac_bits`` bits::

    V = v_read * rint(x * L) / L,     L = 2**(dac_bits - 1) - 1

so 0 and +-1 are exact and the step is ``v_read / L``. A read must not program: ``v_read``
stays below the device's thresholds.

**Product.** Column ``j`` of the pair collects ``I+_j = sum_i V_i G+_ij`` and ``I-_j``
likewise; the ADC digitises ``I_j = I+_j - I-_j``, which is ``v_read R / w_max`` times
``x @ W``. The ADC is signed, ``adc_bits`` bits, full scale ``i_range``::

    code = clip(rint(I / q), -M, M),   q = i_range / M,   M = 2**(adc_bits - 1) - 1

(``rint`` rounds ties to even). An output beyond full scale is clipped *and counted*
(:attr:`VMMResult.clipped`, :attr:`Crossbar.adc_clipped`). The default ``i_range``,
``rows * v_read * R``, is the largest ideal ``|I_j|``. :meth:`Crossbar.vmm` returns the
codes and ``y = code * q * w_max / (v_read R)``, the estimate of ``x @ W``. Each call is
one read of the array (one draw of read noise, shared by a batch of inputs).

**IR drop.** With wire resistance ``r`` (ohms per segment) the cells do not see their
input voltage. The model is the resistive network itself: row ``i`` is driven at its
left end, ``r`` before its first cell and ``r`` between neighbouring cells; each
physical column (``G+`` and ``G-`` interleaved, ``n = 2 cols`` of them) ends ``r`` below
its last cell in a sense amplifier held at 0 V. With ``I`` the cell currents::

    Vr[i, k] = V_i - r * sum_{q <= k} sum_{m >= q} I[i, m]      (row wire at cell i, k)
    Vc[i, k] = r * sum_{q >= i} sum_{m <= q} I[m, k]            (column wire at cell i, k)
    I[i, k]  = G[i, k] * (Vr[i, k] - Vc[i, k])

solved by fixed-point iteration from the ideal currents ``I0 = G V``: ``ir_iterations``
rounds of "currents -> wire voltages (cumulative sums) -> currents". One round is the
first-order model (every cell sees its voltage less the drops the *ideal* currents
make); the fixed point is the exact solution of the network (the tests check it against
a nodal solve). The iteration contracts when ::

    eps = r * g_max * (n (n + 1) + rows (rows + 1)) / 2  <  1

and then the cell currents after ``k`` rounds are within ``eps**(k+1) / (1 - eps)`` of the
largest ideal cell current of the exact ones. That is the validity range: :class:`Crossbar`
refuses a wire resistance with ``eps >= 1``, ``g_max`` being the largest device bound of
the array (device-to-device spread included). The bound assumes every device at that
``g_max`` and is loose for typical weights. Not modelled: line capacitance, the drivers'
and the sense amplifiers' own resistance, and device I-V nonlinearity (each cell is a
linear conductance at read voltages).

**Performance.** Everything is vectorised over cells; only the IR iteration loops, over
its rounds, and write-verify over its pulses. Without IR drop a product is two
``(rows,) @ (rows, cols)`` products: about 0.04 ms at 256x256 and 0.3 ms at 1024x1024 on
a 2-core machine. With IR drop each round costs four cumulative sums over a
``(rows, 2 cols)`` array, about 5 ms at 256x256 and 80 ms at 1024x1024 (numpy's cumsum
does not vectorise). Write-verify of a 1024x1024 array takes a few seconds for 64 levels.
"""

import dataclasses
import math
import numbers

import numpy as np

from .memristor import DeviceParams, MemristorArray, as_generator
from .params import check_int

__all__ = ["CrossbarParams", "Crossbar", "VMMResult", "WriteVerifyResult", "ir_epsilon"]


def _positive(name, value, unit, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, not {value!r}")
    value = float(value)
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'at least' if allow_zero else 'above'} 0 {unit}, "
                         f"not {value}")
    return value


@dataclasses.dataclass(frozen=True)
class CrossbarParams:
    """Shape and periphery of one crossbar.

    =================  ======  =========  ===============================================
    field              unit    range      meaning
    =================  ======  =========  ===============================================
    ``rows``           --      1..65536   inputs, one row wire each
    ``cols``           --      1..65536   outputs, a pair of column wires each
    ``w_max``          --      above 0    the weight mapped to the full conductance range
    ``v_read``         V       above 0    DAC full scale (the read voltage for ``x = 1``)
    ``dac_bits``       bits    2..24      signed DAC
    ``adc_bits``       bits    2..24      signed ADC
    ``i_range``        A       above 0    ADC full scale; ``None``: ``rows * v_read * R``
    ``r_wire``         ohm     0 or more  wire resistance per cell segment
    ``ir_iterations``  --      1..1000    fixed-point rounds of the IR-drop model
    =================  ======  =========  ===============================================
    """
    rows: int
    cols: int
    w_max: float = 1.0
    v_read: float = 0.2
    dac_bits: int = 8
    adc_bits: int = 8
    i_range: float = None
    r_wire: float = 0.0
    ir_iterations: int = 3

    def __post_init__(self):
        for name, lo, hi in (("rows", 1, 65536), ("cols", 1, 65536), ("dac_bits", 2, 24),
                             ("adc_bits", 2, 24), ("ir_iterations", 1, 1000)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), lo, hi))
        object.__setattr__(self, "w_max", _positive("w_max", self.w_max, "(weight units)"))
        object.__setattr__(self, "v_read", _positive("v_read", self.v_read, "volts"))
        if self.i_range is not None:
            object.__setattr__(self, "i_range", _positive("i_range", self.i_range, "amperes"))
        object.__setattr__(self, "r_wire", _positive("r_wire", self.r_wire, "ohms", True))

    @property
    def dac_levels(self):
        """``L``: DAC codes run from ``-L`` to ``L``."""
        return (1 << (self.dac_bits - 1)) - 1

    @property
    def adc_levels(self):
        """``M``: ADC codes run from ``-M`` to ``M``."""
        return (1 << (self.adc_bits - 1)) - 1


def ir_epsilon(params, g_max):
    """The IR-drop iteration's contraction bound ``eps`` for ``params`` and devices of
    ``g_max`` siemens (see the module's text)."""
    n, m = 2 * params.cols, params.rows
    return params.r_wire * g_max * (n * (n + 1) + m * (m + 1)) / 2


@dataclasses.dataclass(frozen=True)
class VMMResult:
    """``codes``: the ADC codes (int64, ``(cols,)`` or ``(batch, cols)``); ``y``: the
    estimate of ``x @ W``; ``clipped``: how many outputs hit full scale in this call."""
    codes: np.ndarray
    y: np.ndarray
    clipped: int


@dataclasses.dataclass(frozen=True)
class WriteVerifyResult:
    """Write-verify per device, as ``(2, rows, cols)`` arrays (``[0]`` the ``G+`` devices,
    ``[1]`` the ``G-`` ones): ``pulses`` applied, ``failed`` (still outside tolerance when
    the pulses ran out) and ``error``, the last verify read minus the target, in siemens."""
    pulses: np.ndarray
    failed: np.ndarray
    error: np.ndarray

    @property
    def n_failed(self):
        return int(self.failed.sum())


class Crossbar:
    """A ``rows x cols`` signed crossbar of ``device`` pairs, with its DAC and ADC.

    ``seed`` (an int, a ``SeedSequence`` or a ``Generator``) seeds both device arrays:
    their device-to-device draws, cycle-to-cycle noise and read noise.
    """

    def __init__(self, params, device, seed=0):
        if not isinstance(params, CrossbarParams):
            raise TypeError(f"params must be a CrossbarParams, not {params!r}")
        if not isinstance(device, DeviceParams):
            raise TypeError(f"device must be a DeviceParams, not {device!r}")
        if params.v_read >= min(device.v_set, device.v_reset):
            raise ValueError(f"v_read must be below the device's thresholds (v_set "
                             f"{device.v_set} V, v_reset {device.v_reset} V), not "
                             f"{params.v_read}")
        plus, minus = as_generator(seed).spawn(2)
        shape = (params.rows, params.cols)
        self.plus = MemristorArray(device, shape, plus)
        self.minus = MemristorArray(device, shape, minus)
        g_top = max(self.plus.g_max.max(), self.minus.g_max.max())
        eps = ir_epsilon(params, g_top)
        if eps >= 1:
            limit = params.r_wire / eps
            raise ValueError(f"r_wire must be below {limit:.6g} ohm for a {params.rows}x"
                             f"{params.cols} array of these devices (the IR-drop iteration's "
                             f"convergence bound), not {params.r_wire}")
        self.params = params
        self.device = device
        self.i_range = (params.i_range if params.i_range is not None
                        else params.rows * params.v_read * device.g_range)
        #: ADC outputs clipped at full scale, summed over every call of :meth:`vmm`.
        self.adc_clipped = 0

    # ---- weights --------------------------------------------------------------------------

    def _check_weights(self, W):
        p = self.params
        W = np.asarray(W, dtype=np.float64)
        if W.shape != (p.rows, p.cols):
            raise ValueError(f"W must have shape ({p.rows}, {p.cols}), not {W.shape}")
        if not np.isfinite(W).all():
            raise ValueError(f"W must be finite, not {W[~np.isfinite(W)][0]}")
        if np.abs(W).max() > p.w_max:
            worst = W.flat[np.abs(W).argmax()]
            raise ValueError(f"W must lie between {-p.w_max} and {p.w_max} (w_max), not {worst}")
        return W

    def targets(self, W):
        """``(G+, G-)`` targets for weights ``W``, in siemens."""
        W = self._check_weights(W)
        d, w_max = self.device, self.params.w_max
        return (d.g_min + d.g_range * np.maximum(W, 0.0) / w_max,
                d.g_min + d.g_range * np.maximum(-W, 0.0) / w_max)

    def program_weights(self, W, tolerance=0.01, max_pulses=100):
        """Write-verify ``W`` into the device pairs; returns a :class:`WriteVerifyResult`.

        ``tolerance`` is the accepted ``|G_read - G_target|`` as a share of the range
        ``g_max - g_min``; ``max_pulses`` the most pulses any one device gets.
        """
        tolerance = _positive("tolerance", tolerance, "(share of the conductance range)")
        max_pulses = check_int("max_pulses", max_pulses, 0, 1 << 30)
        d = self.device
        target = np.stack(self.targets(W))
        arrays = (self.plus, self.minus)
        limit = tolerance * d.g_range
        pulses = np.zeros(target.shape, dtype=np.int64)
        done = np.zeros(target.shape, dtype=bool)
        for k in range(max_pulses + 1):
            error = np.stack([a.read() for a in arrays]) - target
            done |= np.abs(error) <= limit
            if k == max_pulses or done.all():
                break
            volts = np.where(done, 0.0, np.where(error < 0, d.v_up, d.v_down))
            for a, v in zip(arrays, volts):
                a.program_pulse(v)
            pulses += ~done
        return WriteVerifyResult(pulses=pulses, failed=~done, error=error)

    def weights(self):
        """The weights read back, read noise included: ``w_max (G+ - G-) / R``."""
        return (self.params.w_max / self.device.g_range) * (self.plus.read() - self.minus.read())

    def drift(self, seconds):
        """Let ``seconds`` pass for every device (see :meth:`MemristorArray.drift`)."""
        self.plus.drift(seconds)
        self.minus.drift(seconds)

    # ---- product --------------------------------------------------------------------------

    def dac(self, x):
        """Input voltages for ``x`` (``(rows,)`` or ``(batch, rows)``), in volts."""
        p = self.params
        x = np.asarray(x, dtype=np.float64)
        if x.ndim not in (1, 2) or x.shape[-1] != p.rows:
            raise ValueError(f"x must have {p.rows} values per input vector (one per row), "
                             f"not shape {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(f"x must be finite, not {x[~np.isfinite(x)][0]}")
        if x.size and np.abs(x).max() > 1:
            raise ValueError(f"x must lie between -1 and 1 (the DAC's range), not "
                             f"{x.flat[np.abs(x).argmax()]}")
        L = p.dac_levels
        return np.rint(x * L) * (p.v_read / L)

    def currents(self, x):
        """Differential column currents ``I+ - I-`` for ``x``, in amperes, before the ADC:
        the DAC, one read of every device, and the IR drop."""
        v = self.dac(x)
        g_plus, g_minus = self.plus.read(), self.minus.read()
        if self.params.r_wire == 0:
            return v @ g_plus - v @ g_minus
        rows, cols = self.params.rows, self.params.cols
        g = np.empty((rows, 2 * cols))
        g[:, 0::2], g[:, 1::2] = g_plus, g_minus
        cell = _ir_solve(g, v, self.params.r_wire, self.params.ir_iterations)
        column = cell.sum(axis=-2)
        return column[..., 0::2] - column[..., 1::2]

    def vmm(self, x):
        """``x @ W`` through the crossbar: a :class:`VMMResult` of ADC codes, the estimate
        ``y`` and the count of clipped outputs."""
        p = self.params
        M = p.adc_levels
        q = self.i_range / M
        raw = np.rint(self.currents(x) / q)
        clipped = int(np.count_nonzero(np.abs(raw) > M))
        codes = np.clip(raw, -M, M).astype(np.int64)
        self.adc_clipped += clipped
        y = codes * (q * p.w_max / (p.v_read * self.device.g_range))
        return VMMResult(codes=codes, y=y, clipped=clipped)


def _ir_solve(g, v, r, iterations):
    """Cell currents of the resistive network (module text) after ``iterations`` rounds;
    ``g`` is ``(rows, n)``, ``v`` is ``(rows,)`` or ``(batch, rows)``."""
    v = v[..., :, None]
    current = g * v
    for _ in range(iterations):
        # Row segment q carries the currents of cells q..n-1; column segment below row q
        # carries those of rows 0..q.
        row_seg = np.flip(np.cumsum(np.flip(current, -1), axis=-1), -1)
        col_seg = np.cumsum(current, axis=-2)
        v_row = v - r * np.cumsum(row_seg, axis=-1)
        v_col = r * np.flip(np.cumsum(np.flip(col_seg, -2), axis=-2), -2)
        current = g * (v_row - v_col)
    return current

"""Memristive synapse devices: a pulse-programmed conductance with its non-idealities.

A float64 behavioural model (no core runs it yet), the device layer under
:mod:`golden_model.crossbar`. Conductances are in siemens, voltages in volts, times in
seconds.

**Switching.** A device holds a conductance ``g`` between ``g_min`` and ``g_max``; write
``u = (g - g_min) / (g_max - g_min)`` for its place in that range and ``P = levels - 1``.
Programming is by identical pulses. With ``s = set_polarity``, a pulse of ``V`` volts

* sets (raises ``g`` one step) when ``s * V >= v_set``,
* resets (lowers ``g`` one step) when ``s * V <= -v_reset``,
* does nothing otherwise: below threshold a pulse neither moves nor disturbs the device.

The steps follow the exponential curves of NeuroSim (P.-Y. Chen, X. Peng, S. Yu,
"NeuroSim: A circuit-level macro model for benchmarking neuro-inspired architectures in
online learning", IEEE TCAD 37(12), 2018; the same equations are in MLP_NeuroSim_V3.0's
``formula.cpp``): after ``p`` set pulses from ``g_min`` ::

    u(p) = (1 - exp(-nu_s p / P)) / (1 - exp(-nu_s))

NeuroSim writes this ``G = B (1 - exp(-p / A)) + G_min`` with ``B = (G_max - G_min) /
(1 - exp(-P / A))``, so ``nu_s = P / A``: ``nonlinearity_set`` is the inverse of NeuroSim's
"normalised A". Depression is the mirror image, ``1 - u`` following the same law with
``nu_r`` from ``g_max``. A pulse moves a device from wherever it is along its curve,
which in closed form is ::

    set:    du = (1 - exp(-nu_s / P)) * (1 / (1 - exp(-nu_s)) - u)
    reset:  du = -(1 - exp(-nu_r / P)) * (1 / (1 - exp(-nu_r)) - (1 - u))

With ``nu = 0`` both are ``+-1 / P``: ``levels`` equally spaced states. With ``nu > 0`` the
steps shrink as the device nears the bound it moves towards.

**Variability**, all Gaussian and all drawn from the array's seeded generator:

* cycle to cycle: each programming pulse adds ``c2c_std * z`` to ``du``, i.e. a spread of
  ``c2c_std`` times the conductance range, NeuroSim's definition (``sigmaCtoC`` in its
  ``Cell.cpp``). Then ``u`` is clipped to ``[0, 1]``: ``g`` never leaves its bounds.
* device to device: each device's ``g_min`` and ``g_max`` are multiplied by
  ``1 + d2d_std * z`` (two draws per device), once, when the array is made.
* read: a read returns ``g * (1 + read_std * z)``, fresh for every device and every read,
  and leaves the device as it was.

**Drift.** ``t`` seconds after its last programming pulse a device conducts ::

    g(t) = g * (max(t, drift_t0) / drift_t0) ** -drift_nu

the power law of the resistance drift of amorphous phase-change memory (``R ~ t**nu``),
in the form IBM's aihwkit uses for PCM, there with ``t0 = 20 s`` (``PCMLikeNoiseModel``,
after Nandakumar et al., ICECS 2019). Drift may take ``g`` below ``g_min``; the next
programming pulse starts from the drifted value (clipped into the bounds) and restarts
that device's clock.

**Presets.** :data:`PRESETS` carries four devices. Every figure comes from one table:
the benchmark table of M. Jerry, P.-Y. Chen, J. Zhang, P. Sharma, K. Ni, S. Yu,
S. Datta, "Ferroelectric FET analog synapse for acceleration of deep neural network
training", IEEE IEDM 2017, pp. 6.2.1-6.2.4 (doi:10.1109/IEDM.2017.8268338). For each
device it lists the number of conductance states, NeuroSim nonlinearity labels, R_ON,
the ON/OFF ratio, the programming pulses and the cycle-to-cycle variation. The labels
become ``nu = 1 / A_norm`` through NeuroSim's own label-to-A table (``getParamA`` in
MLP_NeuroSim_V3.0's ``formula.cpp``). The table gives no device-to-device, read-noise or
drift figures, so those are 0 (off) in every preset: set them from your own data with
``dataclasses.replace``. The thresholds are the published pulse amplitudes, the only
voltages the table gives: a preset device programs at its published pulse, and below it
the model has no data and does not switch.

Left out: a *generic ReRAM* preset (no single published figure set defines one; any
numbers would be a guess), and a TiO2 preset after Strukov et al. (Nature 453, 2008),
who describe the switching in dimensionless units and give no number of levels,
programming thresholds or variability to build one from; the TiO2 preset is the
TaOx/TiO2 bilayer below.
"""

import dataclasses
import math
import numbers

import numpy as np

__all__ = ["DeviceParams", "MemristorArray", "PRESETS", "TAOX_TIO2", "PCMO", "ALOX_HFO2",
           "AG_A_SI", "as_generator"]


def _finite(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def as_generator(seed):
    """A numpy ``Generator`` from an int seed, a ``SeedSequence`` or a ``Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence) or (
            isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be a non-negative integer, a SeedSequence or a "
                    f"numpy Generator, not {seed!r}")


@dataclasses.dataclass(frozen=True)
class DeviceParams:
    """One memristive device technology.

    =====================  =======  =====================================================
    field                  unit     meaning
    =====================  =======  =====================================================
    ``g_min``              S        lowest programmable conductance, at least 0
    ``g_max``              S        highest programmable conductance, above ``g_min``
    ``levels``             --       states from ``g_min`` to ``g_max``, at least 2
    ``v_set``              V        smallest ``s * V`` that sets, above 0
    ``v_reset``            V        smallest ``-s * V`` that resets, above 0
    ``set_polarity``       --       ``s``: 1 if positive pulses set, -1 if negative do
    ``nonlinearity_set``   --       ``nu_s`` (0 is linear), at least 0
    ``nonlinearity_reset`` --       ``nu_r`` (0 is linear), at least 0
    ``c2c_std``            --       cycle-to-cycle spread per pulse, share of the range
    ``d2d_std``            --       device-to-device spread of ``g_min`` and ``g_max``
    ``read_std``           --       relative read noise
    ``drift_nu``           --       drift exponent, at least 0
    ``drift_t0``           s        drift reference time, above 0
    ``name``               --       a label
    =====================  =======  =====================================================
    """
    g_min: float
    g_max: float
    levels: int
    v_set: float
    v_reset: float
    set_polarity: int = 1
    nonlinearity_set: float = 0.0
    nonlinearity_reset: float = 0.0
    c2c_std: float = 0.0
    d2d_std: float = 0.0
    read_std: float = 0.0
    drift_nu: float = 0.0
    drift_t0: float = 1.0
    name: str = "device"

    def __post_init__(self):
        for name in ("g_min", "g_max", "v_set", "v_reset", "nonlinearity_set",
                     "nonlinearity_reset", "c2c_std", "d2d_std", "read_std", "drift_nu",
                     "drift_t0"):
            object.__setattr__(self, name, _finite(name, getattr(self, name)))
        if self.g_min < 0:
            raise ValueError(f"g_min must be at least 0 siemens, not {self.g_min}")
        if self.g_max <= self.g_min:
            raise ValueError(f"g_max must be above g_min ({self.g_min} S), not {self.g_max}")
        if isinstance(self.levels, bool) or not isinstance(self.levels, numbers.Integral):
            raise TypeError(f"levels must be an integer, not {self.levels!r}")
        if self.levels < 2:
            raise ValueError(f"levels must be at least 2, not {self.levels}")
        object.__setattr__(self, "levels", int(self.levels))
        for name in ("v_set", "v_reset", "drift_t0"):
            if getattr(self, name) <= 0:
                unit = "seconds" if name == "drift_t0" else "volts"
                raise ValueError(f"{name} must be above 0 {unit}, not {getattr(self, name)}")
        if isinstance(self.set_polarity, bool) or self.set_polarity not in (1, -1):
            raise ValueError(f"set_polarity must be 1 or -1, not {self.set_polarity!r}")
        object.__setattr__(self, "set_polarity", int(self.set_polarity))
        for name in ("nonlinearity_set", "nonlinearity_reset", "c2c_std", "d2d_std",
                     "read_std", "drift_nu"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be at least 0, not {getattr(self, name)}")
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, not {self.name!r}")

    @property
    def g_range(self):
        return self.g_max - self.g_min

    @property
    def v_up(self):
        """The pulse that sets: ``set_polarity * v_set`` volts."""
        return self.set_polarity * self.v_set

    @property
    def v_down(self):
        """The pulse that resets: ``-set_polarity * v_reset`` volts."""
        return -self.set_polarity * self.v_reset

    def step_coefficients(self, nu):
        """``(a, c)`` of one pulse's ``du = a - c * u'`` (``u'`` is ``u`` for a set,
        ``1 - u`` for a reset): ``a = (1 - e^(-nu/P)) / (1 - e^(-nu))``, ``c = 1 - e^(-nu/P)``;
        ``(1/P, 0)`` at ``nu = 0``."""
        P = self.levels - 1
        if nu == 0:
            return 1.0 / P, 0.0
        return math.expm1(-nu / P) / math.expm1(-nu), -math.expm1(-nu / P)


class MemristorArray:
    """A ``rows x cols`` array of one device technology, and its state.

    ``seed`` (an int, a ``SeedSequence`` or a ``Generator``) drives every random draw: the
    device-to-device bounds when the array is made, then cycle-to-cycle noise and reads.
    ``initial`` is ``"min"`` or ``"max"``: every device starts at its own bound, just
    programmed (drift clock at 0). ``g_min`` and ``g_max`` hold each device's own bounds
    (``(rows, cols)`` arrays, the nominal ones without device-to-device spread).
    """

    def __init__(self, params, shape, seed=0, initial="min"):
        if not isinstance(params, DeviceParams):
            raise TypeError(f"params must be a DeviceParams, not {params!r}")
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else shape
        if (not isinstance(shape, tuple) or len(shape) != 2
                or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool)
                           and n >= 1 for n in shape)):
            raise ValueError(f"shape must be two positive integers (rows, cols), not {shape!r}")
        if initial not in ("min", "max"):
            raise ValueError(f"initial must be 'min' or 'max', not {initial!r}")
        self.params = params
        self.shape = (int(shape[0]), int(shape[1]))
        self._rng = as_generator(seed)
        p = params
        if p.d2d_std > 0:
            spread = 1.0 + p.d2d_std * self._rng.standard_normal((2, *self.shape))
            g_min, g_max = p.g_min * spread[0], p.g_max * spread[1]
            bad = (g_min < 0) | (g_max <= g_min)
            if bad.any():
                raise ValueError(f"d2d_std {p.d2d_std} drew devices with bounds out of order "
                                 f"or negative; lower d2d_std")
        else:
            g_min, g_max = np.full(self.shape, p.g_min), np.full(self.shape, p.g_max)
        self.g_min, self.g_max = g_min, g_max
        self._g = (g_min if initial == "min" else g_max).copy()
        self._age = np.zeros(self.shape)

    @property
    def conductance(self):
        """Each device's conductance now, drift included, in siemens: a snapshot, read-only
        (the array replaces its state on every pulse, never writes it in place)."""
        p = self.params
        if p.drift_nu == 0:
            g = self._g.view()
            g.flags.writeable = False
            return g
        return self._g * (np.maximum(self._age, p.drift_t0) / p.drift_t0) ** -p.drift_nu

    def program_pulse(self, voltages):
        """Apply one pulse of ``voltages`` (volts; an array of the array's shape or one that
        broadcasts to it, 0 for no pulse). Returns the boolean mask of devices that were
        programmed (set or reset); the others are untouched."""
        p = self.params
        v = np.asarray(voltages, dtype=np.float64)
        try:
            v = np.broadcast_to(v, self.shape)
        except ValueError:
            raise ValueError(f"voltages must have shape {self.shape} or broadcast to it, not "
                             f"{v.shape}") from None
        if not np.isfinite(v).all():
            raise ValueError(f"voltages must be finite volts, not {v[~np.isfinite(v)][0]}")
        sv = p.set_polarity * v
        up, down = sv >= p.v_set, sv <= -p.v_reset
        hit = up | down
        if not hit.any():
            return hit
        span = self.g_max - self.g_min
        u = np.clip((self.conductance - self.g_min) / span, 0.0, 1.0)
        a_s, c_s = p.step_coefficients(p.nonlinearity_set)
        a_r, c_r = p.step_coefficients(p.nonlinearity_reset)
        du = np.where(up, a_s - c_s * u, np.where(down, -(a_r - c_r * (1.0 - u)), 0.0))
        if p.c2c_std > 0:
            du = du + np.where(hit, p.c2c_std * self._rng.standard_normal(self.shape), 0.0)
        u_new = np.clip(u + du, 0.0, 1.0)
        # The clip only catches g_min + 1.0 * span rounding one ulp past g_max.
        g_new = np.clip(self.g_min + u_new * span, self.g_min, self.g_max)
        self._g = np.where(hit, g_new, self._g)
        self._age = np.where(hit, 0.0, self._age)
        return hit

    def read(self, rng=None):
        """Every device's conductance as a read sees it: ``g(t) * (1 + read_std * z)``.
        ``rng`` (a seed or a ``Generator``) overrides the array's own generator."""
        rng = self._rng if rng is None else as_generator(rng)
        g = self.conductance
        if self.params.read_std == 0:
            return g
        return g * (1.0 + self.params.read_std * rng.standard_normal(self.shape))

    def drift(self, seconds):
        """Let ``seconds`` pass: every device's drift clock advances."""
        seconds = _finite("seconds", seconds)
        if seconds < 0:
            raise ValueError(f"seconds must be at least 0, not {seconds}")
        self._age = self._age + seconds


# ---- presets ----------------------------------------------------------------------------
# Every figure below is a cell of the benchmark table of Jerry et al., IEDM 2017 ("JERRY"
# in the comments): R_ON gives g_max = 1 / R_ON, ON/OFF gives g_min = g_max / ratio,
# "# of conductance states" gives levels, the weight increase/decrease pulses give the
# polarity and thresholds, and the cycle-to-cycle column gives c2c_std. Each NeuroSim
# nonlinearity label L becomes nu = 1 / A_norm(L), A_norm from NeuroSim's getParamA table
# (MLP_NeuroSim_V3.0, formula.cpp); the A_norm values are quoted as printed there.
# NeuroSim runs a device of N states as N pulses from bound to bound (N + 1 values); here
# levels = N states means N - 1 pulses, a difference of under one step.

#: TaOx/TiO2 bilayer (L. Gao et al., "Fully parallel write/read in resistive synaptic
#: array for accelerating on-chip learning", Nanotechnology 26(45) 455204, 2015), as
#: JERRY lists it: 102 states, labels 0.66/-0.69, R_ON 5 MOhm, ON/OFF 2, +3 V/40 ms up,
#: -3 V/10 ms down, cycle-to-cycle variation "<1%" (taken at its bound, 1%).
TAOX_TIO2 = DeviceParams(
    g_min=1 / 5e6 / 2, g_max=1 / 5e6, levels=102, v_set=3.0, v_reset=3.0, set_polarity=1,
    nonlinearity_set=1 / 1.905897, nonlinearity_reset=1 / 1.822384, c2c_std=0.01,
    name="TaOx/TiO2 (Gao et al. 2015)")

#: Pr0.7Ca0.3MnO3 (S. Park et al., "Neuromorphic speech systems using advanced
#: ReRAM-based synapse", IEEE IEDM 2013), as JERRY lists it: 50 states, labels
#: 3.68/-6.76, R_ON 23 MOhm, ON/OFF 6.84, -2 V/1 ms up (negative pulses potentiate),
#: +2 V/1 ms down, cycle-to-cycle variation "<1%" (taken at its bound, 1%).
PCMO = DeviceParams(
    g_min=1 / 23e6 / 6.84, g_max=1 / 23e6, levels=50, v_set=2.0, v_reset=2.0,
    set_polarity=-1, nonlinearity_set=1 / 0.300644, nonlinearity_reset=1 / 0.100251,
    c2c_std=0.01, name="PCMO (Park et al. 2013)")

#: AlOx/HfO2 bilayer (J. Woo et al., "Improved synaptic behavior under identical pulses
#: using AlOx/HfO2 bilayer RRAM array for neuromorphic systems", IEEE EDL 37(8) 994, 2016),
#: as JERRY lists it: 40 states, labels 1.94/-0.61, R_ON 16.9 kOhm, ON/OFF 4.43,
#: +0.9 V/100 us up, -1 V/100 us down, cycle-to-cycle variation 5%.
ALOX_HFO2 = DeviceParams(
    g_min=1 / 16.9e3 / 4.43, g_max=1 / 16.9e3, levels=40, v_set=0.9, v_reset=1.0,
    set_polarity=1, nonlinearity_set=1 / 0.629249, nonlinearity_reset=1 / 2.063266,
    c2c_std=0.05, name="AlOx/HfO2 (Woo et al. 2016)")

#: Ag:a-Si (S. H. Jo et al., "Nanoscale memristor device as synapse in neuromorphic
#: systems", Nano Lett. 10(4) 1297, 2010), as JERRY lists it: 97 states, labels
#: 2.4/-4.88, R_ON 26 MOhm, ON/OFF 12.5, +3.2 V/300 us up, -2.8 V/300 us down,
#: cycle-to-cycle variation 3.5%.
AG_A_SI = DeviceParams(
    g_min=1 / 26e6 / 12.5, g_max=1 / 26e6, levels=97, v_set=3.2, v_reset=2.8,
    set_polarity=1, nonlinearity_set=1 / 0.499181, nonlinearity_reset=1 / 0.200303,
    c2c_std=0.035, name="Ag:a-Si (Jo et al. 2010)")

#: The presets by name: "tio2" (TaOx/TiO2), "pcmo", "hfo2" (AlOx/HfO2), "ag_a_si".
PRESETS = {"tio2": TAOX_TIO2, "pcmo": PCMO, "hfo2": ALOX_HFO2, "ag_a_si": AG_A_SI}

"""Parameter dataclasses shared by the golden model, the RTL and the compiler.

Every parameter is validated once, here, with a one-line message that names
the parameter, the value and what is allowed. The RTL elaborates from these
objects and never re-derives a width on its own.

Two levels:

* :class:`CoreParams` is fixed when a core is elaborated: sizes and widths.
* :class:`LIFProfile` is loaded at run time into one of the core's profile
  slots; every neuron points at one profile.
"""

import dataclasses
import enum
import math
import operator

from .fixedpoint import Overflow, Rounding, signed_max, signed_min, unsigned_max

__all__ = ["ResetMode", "Rule", "NeuronModel", "LearningSpec", "CoreParams", "LIFProfile", "check_int",
           "check_enum", "check_field", "check_widths"]


def check_int(name, value, lo, hi):
    """Return ``value`` as an int, or raise with a sentence naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int,)) and not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    value = operator.index(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, not {value}")
    return value


def check_field(obj, name, lo, hi):
    """Check field ``name`` of frozen dataclass ``obj`` with :func:`check_int` and store it as an int."""
    object.__setattr__(obj, name, check_int(name, getattr(obj, name), lo, hi))


def check_widths(obj):
    """Check and default the datapath widths a core shares with every model of it.

    ``obj`` has ``state_bits``, ``weight_bits``, ``weight_signed``,
    ``refractory_bits`` and ``acc_bits`` (``None`` defaults to ``max(S, W + 1)``).
    """
    check_field(obj, "state_bits", 8, 24)
    check_field(obj, "weight_bits", 1, 16)
    if not isinstance(obj.weight_signed, bool):
        raise TypeError(f"weight_signed must be a bool, not {obj.weight_signed!r}")
    check_field(obj, "refractory_bits", 1, 8)
    if obj.acc_bits is None:
        object.__setattr__(obj, "acc_bits", max(obj.state_bits, obj.weight_bits + 1))
    check_field(obj, "acc_bits", obj.weight_bits + 1, 32)


def check_enum(name, value, enum_type):
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str):
        try:
            return enum_type[value.upper()]
        except KeyError:
            pass
    allowed = ", ".join(member.name.lower() for member in enum_type)
    raise ValueError(f"{name} must be one of {allowed}, not {value!r}")


class ResetMode(enum.Enum):
    """What the membrane does after a spike.

    ``ZERO``: ``v = 0``. ``SUBTRACT``: ``v = v - vth``. ``VALUE``: ``v = v_reset``.
    """
    ZERO = 0
    SUBTRACT = 1
    VALUE = 2


class NeuronModel(enum.Enum):
    """The neuron a core updates: current-based LIF (:mod:`golden_model.lif`), Izhikevich
    (:mod:`golden_model.izhikevich`) or AdEx (:mod:`golden_model.adex`). A core holds
    one model; its profiles are that model's."""
    LIF = 0
    IZHIKEVICH = 1
    ADEX = 2


class Rule(enum.Enum):
    """The learning rule a core's learning engine is built for (:mod:`golden_model.learning`)."""
    NONE = 0
    STDP = 1
    THREE_FACTOR = 2
    SDSP = 3


@dataclasses.dataclass(frozen=True)
class LearningSpec:
    """Elaboration-time shape of a core's learning engine.

    ====================  =========  =============================================
    field                 range      meaning
    ====================  =========  =============================================
    ``rule``              Rule       the weight rule; ``NONE`` for homeostasis only
    ``homeostasis``       bool       an adaptive threshold per neuron
    ``trace_bits``        1..16      width of the pre (x) and post (y) traces
    ``eligibility_bits``  2..16      width of a synapse's signed eligibility trace
    ``calcium_bits``      1..16      width of a neuron's SDSP calcium variable
    ``theta_bits``        1..16      width of a neuron's threshold offset
    ====================  =========  =============================================

    A learning core addresses its per-axon and per-neuron learning memories
    with 12 bits, so it takes at most 4096 axons.
    """
    rule: Rule = Rule.STDP
    homeostasis: bool = False
    trace_bits: int = 8
    eligibility_bits: int = 16
    calcium_bits: int = 8
    theta_bits: int = 8

    def __post_init__(self):
        object.__setattr__(self, "rule", check_enum("rule", self.rule, Rule))
        if not isinstance(self.homeostasis, bool):
            raise TypeError(f"homeostasis must be a bool, not {self.homeostasis!r}")
        check_field(self, "trace_bits", 1, 16)
        check_field(self, "eligibility_bits", 2, 16)
        check_field(self, "calcium_bits", 1, 16)
        check_field(self, "theta_bits", 1, 16)
        if self.rule is Rule.NONE and not self.homeostasis:
            raise ValueError("a LearningSpec with rule none must have homeostasis; "
                             "use CoreParams(learning=None) for a core without learning")


@dataclasses.dataclass(frozen=True)
class CoreParams:
    """Elaboration-time shape of one time-multiplexed LIF core.

    ========================  ==========  =======================================
    field                     range       meaning
    ========================  ==========  =======================================
    ``n_neurons``             16..4096    neurons, updated one per clock
    ``n_axons``               1..65536    input axons (AER addresses)
    ``n_synapses``            1..65536    synapse table entries (CSR)
    ``max_delay``             1..64       D: a synapse delay is 1..D steps
    ``state_bits``            8..24       S: width of ``u``, ``v``, ``vth``, bias
    ``weight_bits``           1..16       W: width of a stored weight
    ``weight_signed``         bool        weights are two's complement
    ``n_profiles``            1..16       parameter profiles
    ``refractory_bits``       1..8        width of the refractory counter
    ``acc_bits``              W+1..32     dendritic accumulator width
    ``learning``              spec/None   the learning engine (:class:`LearningSpec`)
    ``neuron_model``          NeuronModel the neuron every profile of the core is
    ========================  ==========  =======================================

    An Izhikevich or AdEx core keeps its second state variable (``u``, or the AdEx
    adaptation ``w``) where a LIF core keeps ``u``; it has 12 to 24-bit state, no
    learning engine, and its refractory counters stay 0.

    The accumulator wraps modulo ``2**acc_bits``, so its sum never depends on
    the order in which events arrive. With the default ``acc_bits = max(S, W + 1)`` and
    ``u_overflow = WRAP`` that wrap is invisible: ``u`` wraps at ``S`` bits
    anyway and the accumulator is shifted left before it is added.
    """
    n_neurons: int
    n_axons: int
    n_synapses: int
    max_delay: int = 8
    state_bits: int = 24
    weight_bits: int = 8
    weight_signed: bool = True
    n_profiles: int = 4
    refractory_bits: int = 4
    acc_bits: int = None
    learning: LearningSpec = None
    neuron_model: NeuronModel = NeuronModel.LIF

    def __post_init__(self):
        for name, lo, hi in (("n_neurons", 16, 4096), ("n_axons", 1, 65536),
                             ("n_synapses", 1, 65536), ("max_delay", 1, 64),
                             ("n_profiles", 1, 16)):
            check_field(self, name, lo, hi)
        check_widths(self)
        if self.learning is not None:
            if not isinstance(self.learning, LearningSpec):
                raise TypeError(f"learning must be a LearningSpec or None, not {self.learning!r}")
            if self.n_axons > 4096:
                raise ValueError(f"n_axons must be between 1 and 4096 for a core with learning, "
                                 f"not {self.n_axons}")
        object.__setattr__(self, "neuron_model",
                           check_enum("neuron_model", self.neuron_model, NeuronModel))
        if self.neuron_model is not NeuronModel.LIF:
            name = self.neuron_model.name
            if self.learning is not None:
                raise ValueError(f"learning needs LIF neurons; a core of {name} neurons has "
                                 f"none")
            if self.state_bits < 12:
                raise ValueError(f"state_bits must be between 12 and 24 for {name} neurons, "
                                 f"not {self.state_bits}")

    def __repr__(self):
        # A LIF core's model goes unsaid, so that its repr (and a chip's fingerprint) is
        # what it was before cores had a choice.
        fields = [f.name for f in dataclasses.fields(self)
                  if not (f.name == "neuron_model" and self.neuron_model is NeuronModel.LIF)]
        return f"CoreParams({', '.join(f'{n}={getattr(self, n)!r}' for n in fields)})"

    @classmethod
    def loihi(cls, n_neurons, n_axons, n_synapses, max_delay=8, **kwargs):
        """Loihi 1's widths: 24-bit ``u`` and ``v``, 8-bit signed weights."""
        return cls(n_neurons=n_neurons, n_axons=n_axons, n_synapses=n_synapses,
                   max_delay=max_delay, state_bits=24, weight_bits=8, weight_signed=True,
                   **kwargs)

    # Derived widths, used by the RTL and the compiler.

    @property
    def neuron_bits(self):
        return max(1, (self.n_neurons - 1).bit_length())

    @property
    def axon_bits(self):
        return max(1, (self.n_axons - 1).bit_length())

    @property
    def synapse_bits(self):
        """Width of a synapse table address."""
        return max(1, (self.n_synapses - 1).bit_length())

    @property
    def count_bits(self):
        """Width of a per-axon synapse count (0..n_synapses)."""
        return self.n_synapses.bit_length()

    @property
    def delay_bits(self):
        """Width of a stored delay, kept as ``delay - 1``."""
        return max(1, (self.max_delay - 1).bit_length())

    @property
    def profile_bits(self):
        return max(1, (self.n_profiles - 1).bit_length())

    @property
    def weight_min(self):
        return signed_min(self.weight_bits) if self.weight_signed else 0

    @property
    def weight_max(self):
        return signed_max(self.weight_bits) if self.weight_signed else unsigned_max(self.weight_bits)

    @property
    def refractory_max(self):
        return unsigned_max(self.refractory_bits)

    @property
    def acc_slots(self):
        """Delay slots in the dendritic accumulator ring (one per delay)."""
        return self.max_delay


@dataclasses.dataclass(frozen=True)
class LIFProfile:
    """One run-time parameter profile of the current-based LIF neuron.

    =================  =========================  =================================
    field              range                      meaning
    =================  =========================  =================================
    ``du``             0..4095 (12 bit)           current decay constant
    ``du_offset``      0..1                       added to ``du`` (Loihi: 1)
    ``dv``             0..4095 (12 bit)           voltage decay constant
    ``dv_offset``      0..1                       added to ``dv``
    ``vth``            0..2**(S-1)-1              threshold: spike when ``v > vth``
    ``bias_mant``      signed S bit               bias mantissa
    ``bias_exp``       0..S-1                     bias = ``bias_mant << bias_exp``
    ``reset``          ResetMode                  zero, subtract ``vth``, or ``v_reset``
    ``v_reset``        signed S bit               value for ``ResetMode.VALUE``
    ``refractory``     0..2**R-1                  steps held after a spike
    ``weight_exp``     0..S-1                     input = ``acc << weight_exp``
    ``rounding``       Rounding                   decay rounding
    ``u_overflow``     Overflow                   current overflow (Loihi: wrap)
    ``v_overflow``     Overflow                   voltage overflow (Loihi: saturate)
    =================  =========================  =================================

    The effective decay is ``du + du_offset`` in ``0..4096``: a state ``x``
    becomes ``x * (4096 - du - du_offset) >> 12``. Ranges that depend on the
    core's widths (S, R) are checked by :meth:`check_fits`.
    """
    du: int = 0
    dv: int = 0
    vth: int = 1000
    bias_mant: int = 0
    bias_exp: int = 0
    reset: ResetMode = ResetMode.ZERO
    v_reset: int = 0
    refractory: int = 0
    weight_exp: int = 0
    du_offset: int = 0
    dv_offset: int = 0
    rounding: Rounding = Rounding.TOWARD_ZERO
    u_overflow: Overflow = Overflow.WRAP
    v_overflow: Overflow = Overflow.SATURATE

    def __post_init__(self):
        check = lambda name, lo, hi: check_field(self, name, lo, hi)
        check("du", 0, 4095)
        check("dv", 0, 4095)
        check("du_offset", 0, 1)
        check("dv_offset", 0, 1)
        check("vth", 0, signed_max(24))
        check("bias_mant", signed_min(24), signed_max(24))
        check("bias_exp", 0, 23)
        check("v_reset", signed_min(24), signed_max(24))
        check("refractory", 0, 255)
        check("weight_exp", 0, 23)
        for name, enum_type in (("reset", ResetMode), ("rounding", Rounding),
                                ("u_overflow", Overflow), ("v_overflow", Overflow)):
            object.__setattr__(self, name, check_enum(name, getattr(self, name), enum_type))

    @classmethod
    def loihi(cls, du, dv, vth, bias_mant=0, bias_exp=0, weight_exp=0):
        """Loihi 1's bit-accurate CUBA LIF, as Lava's fixed-point model defines it.

        ``du`` and ``dv`` are 12-bit, with ``du`` taking a +1 offset; ``vth``
        is 17-bit and scaled by ``<< 6``; ``bias_mant`` is 13-bit signed and
        ``bias_exp`` 3-bit; synaptic input is scaled by ``<< 6`` (plus the
        weight exponent, 0..7). ``u`` wraps, ``v`` saturates, ``v`` resets to
        0, decays round toward zero. Use it with :meth:`CoreParams.loihi`.

        Two documented edges differ from Lava's numpy code, whose wrap is
        not two's complement: here ``u`` wraps modulo ``2**24`` into
        ``[-2**23, 2**23 - 1]``, so exactly ``+2**23`` becomes ``-2**23`` and
        ``-2**23`` stays, where Lava keeps ``+2**23`` and turns ``-2**23`` into
        ``+2**23``.
        """
        check_int("du", du, 0, 4095)
        check_int("dv", dv, 0, 4095)
        check_int("vth", vth, 0, (1 << 17) - 1)
        check_int("bias_mant", bias_mant, -(1 << 12), (1 << 12) - 1)
        check_int("bias_exp", bias_exp, 0, 7)
        check_int("weight_exp", weight_exp, 0, 7)
        return cls(du=du, du_offset=1, dv=dv, dv_offset=0, vth=vth << 6,
                   bias_mant=bias_mant, bias_exp=bias_exp, reset=ResetMode.ZERO,
                   refractory=0, weight_exp=6 + weight_exp, rounding=Rounding.TOWARD_ZERO,
                   u_overflow=Overflow.WRAP, v_overflow=Overflow.SATURATE)

    @property
    def du_eff(self):
        return self.du + self.du_offset

    @property
    def dv_eff(self):
        return self.dv + self.dv_offset

    @property
    def bias(self):
        return self.bias_mant << self.bias_exp

    def check_fits(self, core, name="profile"):
        """Check the width-dependent ranges against ``core``; ``name`` prefixes messages."""
        s = core.state_bits
        check_int(f"{name}.vth", self.vth, 0, signed_max(s))
        check_int(f"{name}.bias_mant", self.bias_mant, signed_min(s), signed_max(s))
        check_int(f"{name}.bias_exp", self.bias_exp, 0, s - 1)
        bias = self.bias
        if not signed_min(s) <= bias <= signed_max(s):
            raise ValueError(
                f"{name}.bias_mant << {name}.bias_exp must fit {s}-bit state "
                f"(between {signed_min(s)} and {signed_max(s)}), not {bias}")
        check_int(f"{name}.v_reset", self.v_reset, signed_min(s), signed_max(s))
        check_int(f"{name}.refractory", self.refractory, 0, core.refractory_max)
        check_int(f"{name}.weight_exp", self.weight_exp, 0, s - 1)

    def rest(self):
        """``(v, u)`` a neuron starts from."""
        return 0, 0

    def tau_u(self, dt=1.0):
        """Time constant of the current decay, ``-dt / ln(1 - du_eff/4096)``."""
        return _tau(self.du_eff, dt)

    def tau_v(self, dt=1.0):
        return _tau(self.dv_eff, dt)


def _tau(d, dt):
    if d == 0:
        return math.inf
    if d >= 4096:
        return 0.0
    return -dt / math.log1p(-d / 4096)

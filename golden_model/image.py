"""What is loaded into a core at run time: the synapse table and the core image.

These are data types only. The RTL's loader turns a :class:`CoreImage` into
config-port writes; the golden model simulates it.
"""

import dataclasses

import numpy as np

from .learning import check_rule_params, default_homeostasis_params, default_rule_params
from .lif import ProfileTable
from .structural import StructuralParams
from .params import CoreParams, LIFProfile, NeuronModel, check_int

__all__ = ["SynapseTable", "CoreImage", "profile_class"]


def profile_class(model):
    """The profile type of a core of ``model`` neurons."""
    from .adex import AdExProfile
    from .izhikevich import IzhikevichProfile
    return {NeuronModel.LIF: LIFProfile, NeuronModel.IZHIKEVICH: IzhikevichProfile,
            NeuronModel.ADEX: AdExProfile}[model]


@dataclasses.dataclass(frozen=True)
class SynapseTable:
    """CSR synapse table: axon ``a`` owns entries ``start[a] .. start[a] + count[a] - 1``.

    Arrays are int64: ``start`` and ``count`` per axon; ``target``,
    ``weight`` and ``delay`` (1..D) per entry.
    """
    start: np.ndarray
    count: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    delay: np.ndarray

    @classmethod
    def from_synapses(cls, n_axons, synapses):
        """Build from an iterable of ``(axon, target, weight, delay)``.

        Entries keep their order within an axon, so the same list always gives
        the same memory image.
        """
        rows = []
        for i, s in enumerate(synapses):
            row = tuple(s)
            if len(row) != 4:
                raise ValueError(f"synapses[{i}] must be (axon, target, weight, delay), not {row!r}")
            for field, x in zip(("axon", "target", "weight", "delay"), row):
                if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
                    raise TypeError(f"synapses[{i}] {field} must be an integer, not {x!r}")
            rows.append(tuple(int(x) for x in row))
            check_int(f"synapses[{i}] axon", row[0], 0, n_axons - 1)
        rows.sort(key=lambda r: r[0])  # stable: keeps order within an axon
        arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
        count = np.bincount(arr[:, 0], minlength=n_axons).astype(np.int64)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        return cls(start=start, count=count, target=arr[:, 1].copy(),
                   weight=arr[:, 2].copy(), delay=arr[:, 3].copy())

    @classmethod
    def from_dense(cls, weights, delays=1):
        """Build from a dense ``[n_axons, n_neurons]`` weight matrix; zeros are no synapse."""
        weights, delays = np.asarray(weights), np.asarray(delays)
        for name, arr in (("weights", weights), ("delays", delays)):
            if arr.dtype.kind not in "iu":
                raise TypeError(f"{name} must hold integers, not {arr.dtype}")
        weights = weights.astype(np.int64)
        delays = np.broadcast_to(delays.astype(np.int64), weights.shape)
        axon, target = np.nonzero(weights)
        return cls.from_synapses(weights.shape[0], zip(axon, target, weights[axon, target],
                                                       delays[axon, target]))

    @property
    def n_axons(self):
        return len(self.start)

    def __len__(self):
        return len(self.target)


@dataclasses.dataclass(frozen=True)
class CoreImage:
    """Everything loaded into a core at run time, checked against its :class:`CoreParams`.

    ``neuron_profile[n]`` selects the profile of neuron ``n``. ``u0`` and
    ``v0`` are the initial states (default zero).

    Learning: ``plastic`` marks synapse entries the learning engine may change
    (default none); ``learning`` holds the run-time parameters of the core's
    rule and ``homeostasis`` those of its adaptive threshold. Both default to
    the rule's defaults on a core with a :class:`~golden_model.params.LearningSpec`,
    and must stay ``None`` on a core without one. ``structural`` (a
    :class:`~golden_model.structural.StructuralParams`, golden model only)
    prunes and regrows plastic synapses after the rule.
    """
    params: CoreParams
    profiles: tuple
    neuron_profile: np.ndarray
    synapses: SynapseTable
    u0: np.ndarray = None
    v0: np.ndarray = None
    plastic: np.ndarray = None
    learning: object = None
    homeostasis: object = None
    structural: object = None

    def __post_init__(self):
        p = self.params
        if not isinstance(p, CoreParams):
            raise TypeError(f"params must be a CoreParams, not {p!r}")
        profiles = tuple(self.profiles)
        if not 1 <= len(profiles) <= p.n_profiles:
            raise ValueError(f"profiles must hold between 1 and {p.n_profiles} profiles "
                             f"(n_profiles), not {len(profiles)}")
        kind = profile_class(p.neuron_model)
        for i, prof in enumerate(profiles):
            if not isinstance(prof, kind):
                raise TypeError(f"profiles[{i}] must be a {kind.__name__} (the core's neurons "
                                f"are {p.neuron_model.name}), not {prof!r}")
            prof.check_fits(p, name=f"profiles[{i}]")
        object.__setattr__(self, "profiles", profiles)

        object.__setattr__(self, "neuron_profile",
                           self._vector("neuron_profile", self.neuron_profile, p.n_neurons,
                                        0, len(profiles) - 1))
        for name in ("u0", "v0"):
            value = getattr(self, name)
            value = 0 if value is None else value
            lo, hi = -(1 << (p.state_bits - 1)), (1 << (p.state_bits - 1)) - 1
            object.__setattr__(self, name, self._vector(name, value, p.n_neurons, lo, hi))

        syn = self.synapses
        if not isinstance(syn, SynapseTable):
            raise TypeError(f"synapses must be a SynapseTable, not {syn!r}")
        if syn.n_axons > p.n_axons:
            raise ValueError(f"synapses use {syn.n_axons} axons, more than n_axons = {p.n_axons}")
        if len(syn) > p.n_synapses:
            raise ValueError(f"synapses hold {len(syn)} entries, more than n_synapses = "
                             f"{p.n_synapses}")
        self._check_range("synapse entry {i} target", syn.target, 0, p.n_neurons - 1)
        self._check_range("synapse entry {i} weight", syn.weight, p.weight_min, p.weight_max,
                          f" for {p.weight_bits}-bit {'signed' if p.weight_signed else 'unsigned'}"
                          " weights")
        self._check_range("synapse entry {i} delay", syn.delay, 1, p.max_delay)
        if syn.n_axons < p.n_axons:
            pad = p.n_axons - syn.n_axons
            syn = SynapseTable(
                start=np.concatenate([syn.start, np.full(pad, len(syn), dtype=np.int64)]),
                count=np.concatenate([syn.count, np.zeros(pad, dtype=np.int64)]),
                target=syn.target, weight=syn.weight, delay=syn.delay)
            object.__setattr__(self, "synapses", syn)
        self._check_learning()

    def _check_learning(self):
        p, syn = self.params, self.synapses
        plastic = np.zeros(len(syn), dtype=bool) if self.plastic is None else \
            np.asarray(self.plastic)
        if plastic.dtype != bool:
            raise TypeError(f"plastic must hold booleans, not {plastic.dtype}")
        if plastic.shape != (len(syn),):
            raise ValueError(f"plastic must have one flag per synapse entry ({len(syn)}), "
                             f"not shape {plastic.shape}")
        object.__setattr__(self, "plastic", plastic.copy())
        spec = p.learning
        if spec is None:
            if plastic.any():
                raise ValueError(f"synapse entry {np.flatnonzero(plastic)[0]} is plastic, but "
                                 "the core is built without learning (CoreParams.learning is "
                                 "None)")
        else:
            if self.learning is None:
                object.__setattr__(self, "learning", default_rule_params(p))
            if self.homeostasis is None and spec.homeostasis:
                object.__setattr__(self, "homeostasis", default_homeostasis_params(p))
        check_rule_params(p, self.learning, self.homeostasis)
        if self.structural is not None:
            if spec is None:
                raise ValueError("structural must be None for a core built without learning "
                                 "(CoreParams.learning is None)")
            if not isinstance(self.structural, StructuralParams):
                raise TypeError(f"structural must be a StructuralParams, not {self.structural!r}")
            self.structural.check_fits(p)

    @staticmethod
    def _vector(name, value, n, lo, hi):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iub":
            raise TypeError(f"{name} must hold integers, not {arr.dtype}")
        arr = np.broadcast_to(arr.astype(np.int64), (n,)).copy() if arr.ndim == 0 else \
            arr.astype(np.int64)
        if arr.shape != (n,):
            raise ValueError(f"{name} must have one entry per neuron ({n}), not shape {arr.shape}")
        CoreImage._check_range(name + "[{i}]", arr, lo, hi)
        return arr

    @staticmethod
    def _check_range(name, arr, lo, hi, what=""):
        bad = np.flatnonzero((arr < lo) | (arr > hi))
        if len(bad):
            i = bad[0]
            raise ValueError(f"{name.format(i=i)} must be between {lo} and {hi}{what}, "
                             f"not {arr[i]}")

    @property
    def profile_table(self):
        """Per-neuron LIF parameter columns; ``None`` for a core of another model, whose
        update takes its neurons profile by profile."""
        if self.params.neuron_model is not NeuronModel.LIF:
            return None
        return ProfileTable.from_profiles(self.profiles).gather(self.neuron_profile)

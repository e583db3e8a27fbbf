"""The compiler: maps a :class:`~spikeforge.network.Network` onto a chip's cores.

Placement is a greedy fill. The neurons of the network's populations, in
network order, go onto cores 0, 1, 2, ... (row-major, as
:meth:`golden_model.chip.ChipParams.core_index` numbers them); a core is
closed as soon as the next neuron would break one of its limits:

* ``n_neurons``: neurons on the core;
* ``n_profiles``: distinct :class:`LIFProfile` s of its neurons;
* ``n_axons``: one input axon per distinct presynaptic source (a neuron or an
  input) with a target on the core;
* ``n_synapses``: one synapse entry per network synapse into the core;
* ``n_routes`` (a chip field): one output-table entry per (source neuron,
  destination core) pair, plus one per neuron of a recorded population.

A neuron's output-table use depends on where its targets land, which is only
known once every neuron is placed. So the fill counts, for each neuron, the
most entries it needed in any earlier placement, and is repeated until no
neuron needs more than that (see :func:`_place`). This is a heuristic: a core
closed on ``n_routes`` may hold fewer neurons than an exhaustive search would
put there, because an estimate never falls.

The host multicasts inputs: every input neuron gets the list of ``(x, y,
axon)`` packets to inject, one per core holding one of its targets. Timing
follows :mod:`spikeforge.network`: spikes of step ``t`` injected by
:meth:`CompiledNetwork.encode_inputs` go into chip step ``t``.
"""

import collections
import dataclasses
import typing

import numpy as np

from golden_model.chip import ChipImage, ChipParams, RouteTable
from golden_model.image import CoreImage, SynapseTable
from golden_model.params import LIFProfile, check_int

from .network import InputPopulation, Network, Population

__all__ = ["Block", "CompiledNetwork", "compile_network", "QUIET_PROFILE", "quiet_profile",
           "LIMITS"]

#: Profile of neurons no population uses: with no input ``v`` stays 0 and a
#: spike needs ``v > vth``, so it never fires; it fits every core's widths.
QUIET_PROFILE = LIFProfile(vth=0)


def quiet_profile(core):
    """The profile of a core's spare neurons: without input, from their rest state, they
    never spike (a LIF neuron at 0 under ``vth = 0``; an Izhikevich regular-spiking neuron
    from its reset, which settles to rest; an AdEx tonic neuron at ``EL``, a fixed point)."""
    from golden_model.params import NeuronModel
    if core.neuron_model is NeuronModel.IZHIKEVICH:
        from golden_model.izhikevich import PATTERNS, IzhikevichProfile
        return IzhikevichProfile.from_float(*PATTERNS["regular_spiking"],
                                            state_bits=core.state_bits)
    if core.neuron_model is NeuronModel.ADEX:
        from golden_model.adex import REGIMES, AdExProfile
        return AdExProfile.from_float(**REGIMES["tonic"], state_bits=core.state_bits)
    return QUIET_PROFILE

#: The per-core limits, in the order utilisation reports them.
LIMITS = ("n_neurons", "n_axons", "n_synapses", "n_routes", "n_profiles")


class Block(typing.NamedTuple):
    """A population's neurons ``neurons`` sit on core ``core`` as its neurons ``offset, ...``."""
    core: int
    neurons: range
    offset: int


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledNetwork:
    """A network placed on a chip: the image, and the maps between the two.

    ``placement[population]`` lists its :class:`Block` s; ``input_map[input]``
    holds, per input neuron, the tuple of ``(x, y, axon)`` packets the host
    injects for one spike. ``usage`` holds, per core, the count of each of
    :data:`LIMITS` the network's neurons use; ``full_at`` names, per used
    core, the limit that closed it (``None`` for the last one).
    """
    network: Network
    image: ChipImage
    placement: dict
    input_map: dict
    usage: tuple
    full_at: tuple
    #: Per projection, ``(core, entry)`` arrays: where each of its synapses sits.
    synapse_entries: dict = None

    @property
    def chip(self):
        return self.image.params

    @property
    def n_cores_used(self):
        return len(self.full_at)

    def encode_inputs(self, spikes_per_step, n_steps=None):
        """Per step, the ``(x, y, axon)`` events for :func:`golden_model.chip.simulate_chip`.

        ``spikes_per_step[input]`` is a sequence, one per step, of the input
        neuron ids spiking then (repeats are repeated events). Inputs may cover
        different numbers of steps; ``n_steps`` pads with empty steps.
        """
        if not isinstance(spikes_per_step, dict):
            raise TypeError("spikes_per_step must be a dict from InputPopulation to per-step "
                            f"neuron ids, not {type(spikes_per_step).__name__}")
        for pop in spikes_per_step:
            if pop not in self.input_map:
                raise ValueError(f"spikes_per_step key {pop!r} is not an InputPopulation of the "
                                 "network")
        steps = {pop: list(s) for pop, s in spikes_per_step.items()}
        T = max((len(s) for s in steps.values()), default=0)
        if n_steps is not None:
            check_int("n_steps", n_steps, 0, 1 << 40)
            if T > n_steps:
                raise ValueError(f"spikes_per_step covers {T} steps, more than n_steps = {n_steps}")
            T = n_steps
        events = [[] for _ in range(T)]
        for pop, per_step in steps.items():
            packets = self.input_map[pop]
            label = self.network.label(pop)
            for t, ids in enumerate(per_step):
                arr = np.asarray(list(ids))
                if arr.size and arr.dtype.kind not in "iu":
                    raise TypeError(f"spikes_per_step[{label}][{t}] must hold integer neuron ids, "
                                    f"not {arr.dtype}")
                arr = arr.astype(np.int64).reshape(-1)
                bad = np.flatnonzero((arr < 0) | (arr >= pop.n))
                if len(bad):
                    raise ValueError(f"spikes_per_step[{label}][{t}] neuron must be between 0 and "
                                     f"{pop.n - 1}, not {arr[bad[0]]}")
                for i in arr:
                    events[t].extend(packets[i])
        return events

    def decode(self, chip_run):
        """Per population, its ``[T, n]`` bool spikes from ``chip_run.spikes`` (every neuron)."""
        p = self.chip
        spikes = np.asarray(chip_run.spikes)
        if spikes.ndim != 3 or spikes.shape[1:] != (p.n_cores, p.core.n_neurons):
            raise ValueError(f"chip_run.spikes must have shape [T, {p.n_cores}, "
                             f"{p.core.n_neurons}], not {list(spikes.shape)}")
        out = {}
        for pop, blocks in self.placement.items():
            s = np.zeros((spikes.shape[0], pop.n), dtype=bool)
            for b in blocks:
                s[:, b.neurons.start:b.neurons.stop] = \
                    spikes[:, b.core, b.offset:b.offset + len(b.neurons)]
            out[pop] = s
        return out

    def decode_host(self, chip_run):
        """Per recorded population, its ``[T, n]`` bool spikes from the host output alone.

        This is what a board returns: ``chip_run.host`` rows ``(t, x, y,
        neuron)``. Their ``t`` is the chip's absolute step, so the run's first
        step is taken from its final state; decode a run before its state is
        passed on to :func:`~golden_model.chip.simulate_chip`, which advances
        that state in place.
        """
        p = self.chip
        T = np.asarray(chip_run.spikes).shape[0]
        t0 = chip_run.state.t - T   # host rows carry the chip's absolute step
        owner = np.full((p.n_cores, p.core.n_neurons), -1, dtype=np.int64)
        recorded = [pop for pop in self.placement if pop.record]
        for k, pop in enumerate(recorded):
            for b in self.placement[pop]:
                owner[b.core, b.offset:b.offset + len(b.neurons)] = k
        out = {pop: np.zeros((T, pop.n), dtype=bool) for pop in recorded}
        for t, x, y, n in np.asarray(chip_run.host, dtype=np.int64).reshape(-1, 4):
            c = p.core_index(x, y)
            k = owner[c, n]
            if k < 0:
                raise ValueError(f"host output at step {t} names core {x},{y} neuron {n}, "
                                 "which holds no recorded neuron")
            pop = recorded[k]
            b = next(b for b in self.placement[pop]
                     if b.core == c and b.offset <= n < b.offset + len(b.neurons))
            out[pop][t - t0, b.neurons.start + n - b.offset] = True
        return out

    def weights(self, state):
        """Per projection, its synapses' weights in ``state`` (a :class:`ChipState`), in the
        projection's synapse order: learning changes them on cores that learn."""
        return {proj: np.array([state.cores[c].weight[e] for c, e in zip(*where)],
                               dtype=np.int64)
                for proj, where in self.synapse_entries.items()}

    def utilisation(self):
        """Per core ``(x, y)``: ``{limit: (used, available)}`` for each of :data:`LIMITS`."""
        p = self.chip
        limit = {"n_neurons": p.core.n_neurons, "n_axons": p.core.n_axons,
                 "n_synapses": p.core.n_synapses, "n_routes": p.n_routes,
                 "n_profiles": p.core.n_profiles}
        return {p.core_xy(c): {name: (used[name], limit[name]) for name in LIMITS}
                for c, used in enumerate(self.usage)}

    def report(self):
        """A printable table of :meth:`utilisation`, one line per used core."""
        p = self.chip
        rows = list(self.utilisation().items())[:self.n_cores_used]
        # One space more than the widest "used/limit" cell, so columns never touch.
        width = 1 + max([len(f"{u}/{a}") for _, row in rows for u, a in row.values()] + [9])
        lines = [f"{self.n_cores_used} of {p.n_cores} cores used ({p.rows}×{p.cols} mesh)",
                 "core   " + "".join(f"{name[2:]:>{width + 5}}" for name in LIMITS)
                 + "  full at"]
        for c, ((x, y), row) in enumerate(rows):
            cells = "".join(f"{f'{u}/{a}':>{width}} {round(100 * u / a):>3}%"
                            for u, a in row.values())
            lines.append(f"{f'{x},{y}':<7}{cells}  {self.full_at[c] or '-'}")
        return "\n".join(lines)


def compile_network(network, chip):
    """Place ``network`` on ``chip`` (a :class:`ChipParams`); returns a :class:`CompiledNetwork`.

    Raises ``ValueError`` naming the population, projection or core and the
    limit when the network does not fit.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, not {network!r}")
    if not isinstance(chip, ChipParams):
        raise TypeError(f"chip must be a ChipParams, not {chip!r}")
    network.check()
    core = chip.core
    nodes = network.populations
    pops = [p for p in nodes if isinstance(p, Population)]

    for pop in pops:
        if pop.model is not core.neuron_model:
            raise ValueError(f"population {network.label(pop)} is of {pop.model.name} neurons, "
                             f"the chip's cores of {core.neuron_model.name}: a chip's cores "
                             f"are of one model")
        for k, prof in enumerate(pop.profiles):
            where = "" if len(pop.profiles) == 1 else \
                f" neuron {int(np.argmax(pop.neuron_profile == k))}"
            prof.check_fits(core, name=f"population {network.label(pop)}{where} profile")
    signed = "signed" if core.weight_signed else "unsigned"
    for k, proj in enumerate(network.projections):
        what = f"projection {k} ({network.label(proj.pre)} -> {network.label(proj.post)})"
        for name, arr, lo, hi, why in (
                ("delay", proj.delay, 1, core.max_delay, " (max_delay)"),
                ("weight", proj.weight, core.weight_min, core.weight_max,
                 f" for {core.weight_bits}-bit {signed} weights")):
            bad = np.flatnonzero((arr < lo) | (arr > hi))
            if len(bad):
                raise ValueError(f"{what} {name}[{bad[0]}] must be between {lo} and {hi}{why}, "
                                 f"not {arr[bad[0]]}")

    if core.learning is None:
        for k, proj in enumerate(network.projections):
            if proj.plastic and len(proj):
                raise ValueError(f"projection {k} ({network.label(proj.pre)} -> "
                                 f"{network.label(proj.post)}) is plastic, but the chip's cores "
                                 f"have no learning engine (CoreParams.learning is None)")
    net = _Flat(network, pops)
    net.check_single_neurons(core)
    bounds, full_at, routes_per = _place(net, chip)
    return _build(network, chip, net, bounds, full_at, routes_per)


class _Flat:
    """The network as flat arrays: "sources" are every node's neurons (inputs too), in
    node order; "neurons" are the populations' neurons, in placement order."""

    def __init__(self, network, pops):
        self.network, self.pops = network, pops
        self.src_offset, off = {}, 0
        for p in network.populations:
            self.src_offset[p], off = off, off + p.n
        self.n_src = off
        self.offset, off = {}, 0
        for p in pops:
            self.offset[p], off = off, off + p.n
        self.n = off
        # Source id of each neuron, and neuron id (or -1 for inputs) of each source.
        self.neuron_src = np.concatenate(
            [self.src_offset[p] + np.arange(p.n) for p in pops] or [np.zeros(0, np.int64)])
        self.src_neuron = np.full(self.n_src, -1, dtype=np.int64)
        self.src_neuron[self.neuron_src] = np.arange(self.n)
        self.record = np.concatenate(
            [np.full(p.n, p.record) for p in pops] or [np.zeros(0, bool)]).astype(np.int64)

        profile_ids = {}
        self.profile = np.zeros(self.n, dtype=np.int64)
        for p in pops:
            ids = np.array([profile_ids.setdefault(q, len(profile_ids)) for q in p.profiles])
            self.profile[self.offset[p]:self.offset[p] + p.n] = ids[p.neuron_profile]
        self.profiles = tuple(profile_ids)

        projs = network.projections
        cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        src = cat([self.src_offset[q.pre] + q.pre_index for q in projs])
        dst = cat([self.offset[q.post] + q.post_index for q in projs])
        # Sorted by target, then in projection and synapse order: the per-core tables
        # then come out the same for the same network, run after run.
        order = np.argsort(dst, kind="stable")
        self.sorted_of = np.empty(len(order), dtype=np.int64)   # projection synapse -> sorted
        self.sorted_of[order] = np.arange(len(order))
        self.src, self.dst = src[order], dst[order]
        self.weight = cat([q.weight for q in projs])[order]
        self.delay = cat([q.delay for q in projs])[order]
        self.plastic = np.concatenate([np.full(len(q), q.plastic) for q in projs]
                                      or [np.zeros(0, dtype=bool)])[order]

        # Synapses from neurons, by source neuron and then target: since a core holds a
        # contiguous run of neurons, a neuron's destination cores are then the changes
        # of core along its targets, counted without a sort in every placement round.
        from_neuron = self.src_neuron[self.src] >= 0
        by_source = np.lexsort((self.dst[from_neuron], self.src_neuron[self.src[from_neuron]]))
        self.out_src = self.src_neuron[self.src[from_neuron]][by_source]
        self.out_dst = self.dst[from_neuron][by_source]

        self.n_syn = np.bincount(self.dst, minlength=self.n)
        pairs = np.unique(self.dst * self.n_src + self.src)
        pair_dst, pair_src = pairs // max(self.n_src, 1), pairs % max(self.n_src, 1)
        self.n_axon = np.bincount(pair_dst, minlength=self.n)
        cuts = np.cumsum(self.n_axon)[:-1]
        self.sources = [frozenset(s.tolist()) for s in np.split(pair_src, cuts)] \
            if self.n else []

    def where(self, g):
        """``(population, index)`` of neuron ``g``."""
        for p in self.pops:
            if self.offset[p] <= g < self.offset[p] + p.n:
                return p, g - self.offset[p]
        raise IndexError(g)

    def describe(self, g):
        p, i = self.where(g)
        return f"population {self.network.label(p)} neuron {i}"

    def check_single_neurons(self, core):
        for need, name, what in ((self.n_axon, "n_axons", "input axons"),
                                 (self.n_syn, "n_synapses", "synapse entries")):
            limit = getattr(core, name)
            bad = np.flatnonzero(need > limit)
            if len(bad):
                raise ValueError(f"{self.describe(bad[0])} needs {need[bad[0]]} {what} on one "
                                 f"core, more than {name} = {limit}")


def _fill(net, chip, routes):
    """Greedy fill, counting ``routes[g]`` output entries for neuron ``g``.

    Returns ``[(first, end)]`` neuron ranges, one per core, and the limit that closed each.
    """
    core = chip.core
    bounds, full_at = [], []
    first = 0
    sources, profiles, n_syn, n_routes = set(), set(), 0, 0
    for g in range(net.n):
        reason = None
        if g - first + 1 > core.n_neurons:
            reason = "n_neurons"
        elif net.profile[g] not in profiles and len(profiles) + 1 > core.n_profiles:
            reason = "n_profiles"
        elif len(sources) + len(net.sources[g] - sources) > core.n_axons:
            reason = "n_axons"
        elif n_syn + net.n_syn[g] > core.n_synapses:
            reason = "n_synapses"
        elif n_routes + routes[g] > chip.n_routes:
            reason = "n_routes"
        if reason:
            bounds.append((first, g))
            full_at.append(reason)
            first, sources, profiles, n_syn, n_routes = g, set(), set(), 0, 0
        sources |= net.sources[g]
        profiles.add(net.profile[g])
        n_syn += net.n_syn[g]
        n_routes += routes[g]
    if net.n:
        bounds.append((first, net.n))
        full_at.append(None)
    return bounds, full_at


def _place(net, chip):
    """Fill with an estimate of each neuron's output entries until the estimates hold.

    The estimate starts at the host entry and rises to the most entries the neuron has
    needed in any placement so far. Estimates only rise, and never past ``n_routes``, so
    this ends; when no neuron needs more than its estimate, every core fits. Cores past
    the chip's last are placed like any other, so that a network that does not fit is
    told how many cores it needs.
    """
    estimate = net.record.copy()
    while True:
        bounds, full_at = _fill(net, chip, estimate)
        routes_per = _routes_per_neuron(net, bounds)
        bad = np.flatnonzero(routes_per > chip.n_routes)
        if len(bad):
            raise ValueError(f"{net.describe(bad[0])} needs {routes_per[bad[0]]} output-table "
                             f"entries, more than n_routes = {chip.n_routes}")
        if (routes_per <= estimate).all():
            break
        estimate = np.maximum(estimate, routes_per)
    if len(bounds) > chip.n_cores:
        x, y = chip.core_xy(chip.n_cores - 1)
        limit = full_at[chip.n_cores - 1]
        raise ValueError(f"the network needs {len(bounds)} cores, the chip has {chip.n_cores} "
                         f"({chip.rows}×{chip.cols}); core {x},{y} filled up on {limit} = "
                         f"{getattr(chip if limit == 'n_routes' else chip.core, limit)}")
    return bounds, full_at, routes_per


def _core_of(bounds, n):
    return np.repeat(np.arange(len(bounds)), [b - a for a, b in bounds]) if n else \
        np.zeros(0, dtype=np.int64)


def _route_pairs(net, bounds, from_neurons):
    """Sorted unique ``(source id, destination core)`` pairs of neuron or input sources."""
    core_of = _core_of(bounds, net.n)
    keep = (net.src_neuron[net.src] >= 0) == from_neurons
    K = max(len(bounds), 1)
    pairs = np.unique(net.src[keep] * K + core_of[net.dst[keep]])
    return pairs // K, pairs % K


def _routes_per_neuron(net, bounds):
    """Output-table entries of each neuron: its destination cores, plus the host if recorded."""
    core = _core_of(bounds, net.n)[net.out_dst]
    new = np.ones(len(core), dtype=bool)
    new[1:] = (net.out_src[1:] != net.out_src[:-1]) | (core[1:] != core[:-1])
    return np.bincount(net.out_src[new], minlength=net.n) + net.record


def _build(network, chip, net, bounds, full_at, routes_per):
    """Core images, output tables and the input map of a placement."""
    core = chip.core
    n_used = len(bounds)
    cores, usage, axon_sources = [], [], []
    entry_core = np.zeros(len(net.dst), dtype=np.int64)
    entry_index = np.zeros(len(net.dst), dtype=np.int64)
    quiet = quiet_profile(core)
    for k, (a, b) in enumerate(bounds):
        lo, hi = np.searchsorted(net.dst, [a, b])
        src = net.src[lo:hi]
        srcs = np.unique(src)
        axon_sources.append(srcs)
        axon = np.searchsorted(srcs, src)
        order = np.argsort(axon, kind="stable")
        entry_core[lo:hi] = k
        entry_index[lo + order] = np.arange(hi - lo)
        count = np.bincount(axon, minlength=core.n_axons).astype(np.int64)
        table = SynapseTable(start=np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64),
                             count=count, target=(net.dst[lo:hi] - a)[order],
                             weight=net.weight[lo:hi][order], delay=net.delay[lo:hi][order])
        ids = net.profile[a:b]
        _, first = np.unique(ids, return_index=True)
        used_ids = ids[np.sort(first)]   # order of first use on the core
        profiles = [net.profiles[i] for i in used_ids]
        sorter = np.argsort(used_ids)
        local = sorter[np.searchsorted(used_ids, ids, sorter=sorter)]
        # Spare neurons get a quiet profile when a slot is free, so their spikes never
        # show in the core's counters; otherwise profile 0, harmless: they have no routes.
        if quiet in profiles:
            spare = profiles.index(quiet)
        elif len(profiles) < core.n_profiles:
            spare = len(profiles)
            profiles.append(quiet)
        else:
            spare = 0
        neuron_profile = np.full(core.n_neurons, spare, dtype=np.int64)
        neuron_profile[:b - a] = local
        plastic = net.plastic[lo:hi][order]
        # Every neuron starts at its model's rest (0 and 0 for LIF).
        rest = np.array([profiles[i].rest() for i in neuron_profile], dtype=np.int64)
        cores.append(CoreImage(core, tuple(profiles), neuron_profile, table,
                               v0=rest[:, 0], u0=rest[:, 1],
                               plastic=plastic if plastic.any() else None))
        usage.append({"n_neurons": int(b - a), "n_axons": len(srcs), "n_synapses": int(hi - lo),
                      "n_routes": int(routes_per[a:b].sum()), "n_profiles": len(used_ids)})

    def packets(src, dest):
        """``(x, y, axon)`` of each ``(source, destination core)`` pair."""
        axon = np.zeros(len(src), dtype=np.int64)
        for k in range(n_used):
            sel = dest == k
            axon[sel] = np.searchsorted(axon_sources[k], src[sel])
        return np.asarray(dest % chip.cols), np.asarray(dest // chip.cols), axon

    src, dest = _route_pairs(net, bounds, from_neurons=True)
    neuron = net.src_neuron[src]
    x, y, axon = packets(src, dest)
    routes = []
    for k, (a, b) in enumerate(bounds):
        lo, hi = np.searchsorted(neuron, [a, b])   # pairs are sorted by source, so by neuron
        host = np.flatnonzero(net.record[a:b])
        # Per neuron: its mesh entries in destination-core order, then its host entry.
        rows = np.concatenate([
            np.stack([neuron[lo:hi] - a, dest[lo:hi], x[lo:hi], y[lo:hi], axon[lo:hi],
                      np.zeros(hi - lo, dtype=np.int64)], axis=1),
            np.stack([host, np.full(len(host), chip.n_cores), np.zeros_like(host),
                      np.zeros_like(host), np.zeros_like(host), np.ones_like(host)], axis=1)])
        rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
        count = np.bincount(rows[:, 0], minlength=core.n_neurons).astype(np.int64)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        routes.append(RouteTable(start=start,
                                 count=count, x=rows[:, 2].copy(), y=rows[:, 3].copy(),
                                 axon=rows[:, 4].copy(), host=rows[:, 5].copy()))

    v0, u0 = quiet.rest()
    empty = CoreImage(core, (quiet,), 0, SynapseTable.from_synapses(core.n_axons, []), v0=v0,
                      u0=u0)
    for _ in range(n_used, chip.n_cores):
        cores.append(empty)
        routes.append(RouteTable.empty(core.n_neurons))
        usage.append(dict.fromkeys(LIMITS, 0))

    src, dest = _route_pairs(net, bounds, from_neurons=False)
    x, y, axon = packets(src, dest)
    by_source = collections.defaultdict(list)
    for s, *packet in zip(src.tolist(), x.tolist(), y.tolist(), axon.tolist()):
        by_source[s].append(tuple(packet))
    input_map = {p: tuple(tuple(by_source[net.src_offset[p] + i]) for i in range(p.n))
                 for p in network.populations if isinstance(p, InputPopulation)}

    placement = {}
    for p in net.pops:
        p0 = net.offset[p]
        placement[p] = [Block(k, range(max(a, p0) - p0, min(b, p0 + p.n) - p0), max(a, p0) - a)
                        for k, (a, b) in enumerate(bounds) if a < p0 + p.n and p0 < b]
    synapse_entries, first = {}, 0
    for proj in network.projections:
        where = net.sorted_of[first:first + len(proj)]
        synapse_entries[proj] = (entry_core[where], entry_index[where])
        first += len(proj)
    return CompiledNetwork(network=network, image=ChipImage(chip, cores, routes),
                           placement=placement, input_map=input_map, usage=tuple(usage),
                           full_at=tuple(full_at), synapse_entries=synapse_entries)

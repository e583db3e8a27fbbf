"""Golden model of a multi-core chip: an R×C mesh of LIF cores joined by routers.

Cores sit at ``(x, y)``, ``x`` the column (0..cols-1, west to east) and
``y`` the row (0..rows-1, north to south); core index ``y * cols + x``.

**Packets.** An AER packet carries the destination core ``(x, y)``, an axon
id and, when ``payload_bits > 0``, a graded payload (carried, reserved for
graded spikes; the LIF core ignores it). :meth:`ChipParams.packet_fields`
gives the field widths that the RTL's ``data.Struct`` uses too.

**Multicast.** Each core has an output table in CSR form: neuron ``n`` owns
entries ``start[n] .. start[n] + count[n] - 1``; each entry sends the spike
to ``(x, y, axon)`` through the mesh, or, with ``host`` set, to the chip's
external output as ``(core x, core y, neuron)``.

**Timestep.** Step ``t`` of the chip is step ``t`` of every core, in the
order of the timestep contract: every core first receives the external
events of step ``t`` and the packets routed from the spikes of step
``t - 1``, then updates. A spike at step ``t`` through a synapse of delay
``d`` therefore reaches its target's update of step ``t + d``. The mesh's
timing never enters: the result is the same under any backpressure.
"""

import dataclasses

import numpy as np

from .image import CoreImage
from .lif_core import CoreState, step as core_step
from .params import CoreParams, check_field, check_int

__all__ = ["ChipParams", "RouteTable", "ChipImage", "ChipRun", "ChipState",
           "normalise_chip_inputs", "route_spikes", "simulate_chip"]


@dataclasses.dataclass(frozen=True)
class ChipParams:
    """Elaboration-time shape of a chip.

    ==================  ==========  ============================================
    field               range       meaning
    ==================  ==========  ============================================
    ``rows``            1..16       mesh rows (``y``)
    ``cols``            1..16       mesh columns (``x``)
    ``core``            CoreParams  the shape of every core
    ``n_routes``        1..65536    output-table entries per core
    ``fifo_depth``      2..64       router input FIFO depth, per port
    ``payload_bits``    0..16       graded payload carried by each packet
    ``key_entries``     0..64       key/mask routing entries per router (0: XY only)
    ``key_inputs``      0..64       key/mask input entries per core
    ==================  ==========  ============================================

    With ``key_entries > 0`` packets also carry a ``keyed`` flag and a routing
    key (:mod:`golden_model.keymask`); unkeyed packets are routed XY as before.
    """
    rows: int
    cols: int
    core: CoreParams
    n_routes: int = 256
    fifo_depth: int = 4
    payload_bits: int = 0
    key_entries: int = 0
    key_inputs: int = 0

    def __post_init__(self):
        check = lambda name, lo, hi: check_field(self, name, lo, hi)
        check("rows", 1, 16)
        check("cols", 1, 16)
        if not isinstance(self.core, CoreParams):
            raise TypeError(f"core must be a CoreParams, not {self.core!r}")
        check("n_routes", 1, 65536)
        check("fifo_depth", 2, 64)
        check("payload_bits", 0, 16)
        check("key_entries", 0, 64)
        check("key_inputs", 0, 64)

    @property
    def n_cores(self):
        return self.rows * self.cols

    @property
    def x_bits(self):
        return max(1, (self.cols - 1).bit_length())

    @property
    def y_bits(self):
        return max(1, (self.rows - 1).bit_length())

    @property
    def route_bits(self):
        return max(1, (self.n_routes - 1).bit_length())

    def packet_fields(self):
        """``{field: width}`` of an AER packet, in layout order."""
        fields = {"x": self.x_bits, "y": self.y_bits, "axon": self.core.axon_bits}
        if self.payload_bits:
            fields["payload"] = self.payload_bits
        if self.key_entries:
            fields["keyed"] = 1
            fields["key"] = self.key_bits
        return fields

    @property
    def key_bits(self):
        """Width of a routing key: core index, then neuron."""
        return max(1, (self.n_cores - 1).bit_length()) + self.core.neuron_bits

    def core_index(self, x, y):
        return y * self.cols + x

    def core_xy(self, index):
        return index % self.cols, index // self.cols


@dataclasses.dataclass(frozen=True)
class RouteTable:
    """One core's output table: CSR over its neurons; int64 arrays.

    ``start``/``count`` per neuron; ``x``, ``y``, ``axon``, ``host`` per entry.
    """
    start: np.ndarray
    count: np.ndarray
    x: np.ndarray
    y: np.ndarray
    axon: np.ndarray
    host: np.ndarray

    @classmethod
    def from_routes(cls, n_neurons, routes):
        """Build from ``(neuron, x, y, axon)`` mesh routes and ``(neuron, "host")`` outputs."""
        rows = []
        for i, r in enumerate(routes):
            r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
            if len(r) == 2 and isinstance(r[1], str) and r[1] == "host":
                fields = (("neuron", r[0]),)
            elif len(r) == 4:
                fields = tuple(zip(("neuron", "x", "y", "axon"), r))
            else:
                raise ValueError(f"routes[{i}] must be (neuron, x, y, axon) or (neuron, 'host'), "
                                 f"not {r!r}")
            for field, v in fields:
                if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                    raise TypeError(f"routes[{i}] {field} must be an integer, not {v!r}")
            rows.append((int(r[0]), 0, 0, 0, 1) if len(r) == 2 else
                        tuple(int(v) for v in r) + (0,))
            check_int(f"routes[{i}] neuron", rows[-1][0], 0, n_neurons - 1)
        rows.sort(key=lambda r: r[0])
        arr = np.array(rows, dtype=np.int64).reshape(-1, 5)
        count = np.bincount(arr[:, 0], minlength=n_neurons).astype(np.int64)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        return cls(start=start, count=count, x=arr[:, 1].copy(), y=arr[:, 2].copy(),
                   axon=arr[:, 3].copy(), host=arr[:, 4].copy())

    @classmethod
    def empty(cls, n_neurons):
        return cls.from_routes(n_neurons, [])

    def __len__(self):
        return len(self.x)


@dataclasses.dataclass(frozen=True)
class ChipImage:
    """Everything loaded into a chip: one :class:`CoreImage` and one :class:`RouteTable` per core."""
    params: ChipParams
    cores: tuple
    routes: tuple

    def __post_init__(self):
        p = self.params
        if not isinstance(p, ChipParams):
            raise TypeError(f"params must be a ChipParams, not {p!r}")
        cores, routes = tuple(self.cores), tuple(self.routes)
        for name, items in (("cores", cores), ("routes", routes)):
            if len(items) != p.n_cores:
                raise ValueError(f"{name} must hold one entry per core ({p.n_cores}), "
                                 f"not {len(items)}")
        for i, (core, table) in enumerate(zip(cores, routes)):
            x, y = p.core_xy(i)
            if not isinstance(core, CoreImage):
                raise TypeError(f"cores[{i}] must be a CoreImage, not {core!r}")
            if core.params != p.core:
                raise ValueError(f"cores[{i}] (core {x},{y}) was built for {core.params}, "
                                 f"not the chip's {p.core}")
            if not isinstance(table, RouteTable):
                raise TypeError(f"routes[{i}] must be a RouteTable, not {table!r}")
            if len(table.start) != p.core.n_neurons:
                raise ValueError(f"routes[{i}] (core {x},{y}) must cover {p.core.n_neurons} "
                                 f"neurons, not {len(table.start)}")
            if len(table) > p.n_routes:
                raise ValueError(f"core {x},{y} needs {len(table)} output-table entries, more "
                                 f"than n_routes = {p.n_routes}")
            mesh = table.host == 0
            for field, values, hi in (("x", table.x, p.cols - 1), ("y", table.y, p.rows - 1),
                                      ("axon", table.axon, p.core.n_axons - 1)):
                bad = np.flatnonzero(mesh & ((values < 0) | (values > hi)))
                if len(bad):
                    e = bad[0]
                    what = {"x": f"a core column between 0 and {hi}",
                            "y": f"a core row between 0 and {hi}",
                            "axon": f"an axon between 0 and {hi}"}[field]
                    raise ValueError(f"core {x},{y} output entry {e} must route to {what}, "
                                     f"not {field} = {values[e]}")
        object.__setattr__(self, "cores", cores)
        object.__setattr__(self, "routes", routes)


@dataclasses.dataclass
class ChipState:
    t: int
    cores: list          # CoreState per core
    pending: list        # per core: axon ids routed from the previous step


@dataclasses.dataclass
class ChipRun:
    """``spikes``, ``u``, ``v``: ``[T, n_cores, n_neurons]``; ``host``: ``(t, x, y, neuron)`` rows;
    ``events``: ``[T, n_cores]``, the axon events each core took in each step (external
    inputs and the packets routed from the step before); ``axons[t][c]`` those events'
    axons, in the order the core took them; ``learn_updates``: ``[T, n_cores]``, the
    learning rule's updates."""
    spikes: np.ndarray
    u: np.ndarray
    v: np.ndarray
    host: np.ndarray
    sops: np.ndarray      # [T, n_cores]
    routed: np.ndarray    # [T]: mesh packets generated by each step's spikes
    state: ChipState
    events: np.ndarray = None
    axons: list = None
    learn_updates: np.ndarray = None

    @property
    def n_routed(self):
        return int(self.routed.sum())


def normalise_chip_inputs(params, inputs, n_steps=None):
    """Per step, per core, the external axon events: a list of ``n_cores`` int64 arrays.

    ``inputs`` is a sequence (one per step) of ``(x, y, axon)`` triples.
    """
    steps = []
    for t, events in enumerate(inputs):
        if not isinstance(events, (list, tuple, np.ndarray)):
            raise TypeError(f"inputs[{t}] must be a list of (x, y, axon) events, not {events!r}")
        per_core = [[] for _ in range(params.n_cores)]
        for k, ev in enumerate(events):
            ev = tuple(ev) if isinstance(ev, (list, tuple, np.ndarray)) else (ev,)
            if len(ev) != 3:
                raise ValueError(f"inputs[{t}][{k}] must be (x, y, axon), not {ev!r}")
            x = check_int(f"inputs[{t}][{k}] x", ev[0], 0, params.cols - 1)
            y = check_int(f"inputs[{t}][{k}] y", ev[1], 0, params.rows - 1)
            a = check_int(f"inputs[{t}][{k}] axon", ev[2], 0, params.core.n_axons - 1)
            per_core[params.core_index(x, y)].append(a)
        steps.append([np.array(c, dtype=np.int64) for c in per_core])
    if n_steps is not None:
        check_int("n_steps", n_steps, 0, 1 << 40)
        if len(steps) > n_steps:
            raise ValueError(f"inputs cover {len(steps)} steps, more than n_steps = {n_steps}")
        steps += [[np.zeros(0, dtype=np.int64)] * params.n_cores
                  for _ in range(n_steps - len(steps))]
    return steps


def route_spikes(params, routes, spikes):
    """Route one step's spikes; returns ``(per-core axon lists, host (x, y, neuron) rows)``.

    ``spikes[c]`` is core ``c``'s boolean spike vector. Order within a list
    follows source core, neuron and table order, as the hardware emits them,
    though the result of the next step does not depend on it.
    """
    arrivals = [[] for _ in range(params.n_cores)]
    host = []
    for c, table in enumerate(routes):
        sx, sy = params.core_xy(c)
        for n in np.flatnonzero(spikes[c]):
            for e in range(table.start[n], table.start[n] + table.count[n]):
                if table.host[e]:
                    host.append((sx, sy, int(n)))
                else:
                    arrivals[params.core_index(int(table.x[e]), int(table.y[e]))].append(
                        int(table.axon[e]))
    return [np.array(a, dtype=np.int64) for a in arrivals], host


def simulate_chip(image, inputs, n_steps=None, state=None, keymask=None):
    """Run the chip for ``n_steps`` (default: as many as ``inputs`` has).

    With ``keymask`` (:class:`golden_model.keymask.KeyMaskTables`) spikes are
    routed in key/mask mode instead of through ``image.routes``.
    """
    p = image.params
    steps = normalise_chip_inputs(p, inputs, n_steps)
    if state is None:
        state = ChipState(t=0, cores=[CoreState.initial(c) for c in image.cores],
                          pending=[np.zeros(0, dtype=np.int64)] * p.n_cores)
    tables = [c.profile_table for c in image.cores]
    T, C, N = len(steps), p.n_cores, p.core.n_neurons
    spikes = np.zeros((T, C, N), dtype=bool)
    us = np.zeros((T, C, N), dtype=np.int64)
    vs = np.zeros((T, C, N), dtype=np.int64)
    sops = np.zeros((T, C), dtype=np.int64)
    routed = np.zeros(T, dtype=np.int64)
    n_events = np.zeros((T, C), dtype=np.int64)
    learn_updates = np.zeros((T, C), dtype=np.int64)
    axons = []
    host = []
    for t, external in enumerate(steps):
        axons.append([])
        for c in range(C):
            events = np.concatenate([external[c], state.pending[c]])
            n_events[t, c] = len(events)
            axons[t].append(events)
            before = state.cores[c].learn_updates
            spikes[t, c], sops[t, c] = core_step(state.cores[c], image.cores[c], events, tables[c])
            learn_updates[t, c] = state.cores[c].learn_updates - before
            us[t, c], vs[t, c] = state.cores[c].u, state.cores[c].v
        if keymask is None:
            state.pending, out = route_spikes(p, image.routes, spikes[t])
        else:
            from .keymask import route_spikes_keymask
            state.pending, out = route_spikes_keymask(p, keymask, spikes[t])
        routed[t] = sum(len(a) for a in state.pending)
        host += [(state.t, x, y, n) for x, y, n in out]
        state.t += 1
    return ChipRun(spikes=spikes, u=us, v=vs, host=np.array(host, dtype=np.int64).reshape(-1, 4),
                   sops=sops, routed=routed, state=state, events=n_events,
                   axons=axons, learn_updates=learn_updates)

"""SpiNNaker-style key/mask multicast routing: the chip's second routing mode.

In this mode a spike leaves its core as one packet carrying a routing
**key**, ``key = core_index << neuron_bits | neuron``. Every router holds a
table of ``(key, mask, ports)`` entries; the first entry with
``packet_key & mask == key & mask`` sends a copy of the packet to each of its
ports (N, E, S, W, L). A packet that matches nothing keeps going straight
(default routing, so a straight run of routers needs no entries), except at
the router where it was injected, where no match means the neuron has no
destinations and nothing is sent. A copy sent to ``L`` is looked up in the
core's input table, ``(key, mask, axon)`` entries, first match wins, and
becomes an axon event of the next step. A copy sent west from router (0, 0)
leaves the chip for the host, which reads ``(core, neuron)`` back from the key.

A packet copy that reaches a router it has already passed, leaves the mesh
anywhere but the host exit, or reaches a core whose input table has no entry
for it would loop, vanish or be dropped: :meth:`KeyMaskTables.check` refuses
such tables, naming the key and the router.

:func:`keymask_from_routes` compiles CSR output tables
(:class:`~golden_model.chip.RouteTable`) to this mode along XY multicast
trees, with entries only where a packet turns, splits or is delivered, and
:func:`route_spikes_keymask` routes one step's spikes, so that
``simulate_chip(image, ..., tables=...)`` gives exactly the spikes of the
CSR mode on the same network.
"""

import dataclasses

import numpy as np

from .params import check_int

__all__ = ["PORTS", "RouterEntry", "InputEntry", "KeyMaskTables", "make_key", "split_key",
           "keymask_from_routes", "route_spikes_keymask"]

PORTS = ("n", "e", "s", "w", "l")
_STEP = {"n": (0, -1), "e": (1, 0), "s": (0, 1), "w": (-1, 0)}
_OPPOSITE = {"n": "s", "s": "n", "e": "w", "w": "e"}


def make_key(params, core_index, neuron):
    return core_index << params.core.neuron_bits | neuron


def split_key(params, key):
    """``(x, y, neuron)`` of the spike a key names."""
    nb = params.core.neuron_bits
    return (*params.core_xy(key >> nb), key & ((1 << nb) - 1))


@dataclasses.dataclass(frozen=True)
class RouterEntry:
    key: int
    mask: int
    ports: frozenset

    def __post_init__(self):
        object.__setattr__(self, "ports", frozenset(self.ports))
        bad = sorted(set(self.ports) - set(PORTS))
        if bad or not self.ports:
            raise ValueError(f"ports must be a non-empty set of {', '.join(PORTS)}, "
                             f"not {sorted(self.ports)!r}")

    def matches(self, key):
        return key & self.mask == self.key & self.mask


@dataclasses.dataclass(frozen=True)
class InputEntry:
    key: int
    mask: int
    axon: int

    def matches(self, key):
        return key & self.mask == self.key & self.mask


@dataclasses.dataclass(frozen=True)
class KeyMaskTables:
    """Per router (core index order) its routing entries, per core its input entries."""
    routers: tuple
    inputs: tuple

    def route(self, params, source, key):
        """Follow one key from core ``source``; returns ``(deliveries, host)``.

        ``deliveries`` lists ``(core index, axon)``; ``host`` counts copies that
        left for the host. Raises on a loop, a copy leaving the mesh elsewhere, or a
        local copy no input entry accepts.
        """
        deliveries, host = [], 0
        visited = set()
        # (router, port the copy came in through; None at the source)
        todo = [(source, None)]
        while todo:
            r, came = todo.pop()
            x, y = params.core_xy(r)
            if r in visited:
                raise ValueError(f"key {key:#x} (core {_xy(params, key)}) loops: it reaches "
                                 f"router {x},{y} twice")
            visited.add(r)
            entry = next((e for e in self.routers[r] if e.matches(key)), None)
            if entry is not None:
                ports = entry.ports
            elif came is None:
                continue
            else:
                ports = {_OPPOSITE[came]}
            for port in sorted(ports):
                if port == "l":
                    inp = next((e for e in self.inputs[r] if e.matches(key)), None)
                    if inp is None:
                        raise ValueError(f"key {key:#x} (core {_xy(params, key)}) reaches core "
                                         f"{x},{y}, whose input table has no entry for it")
                    deliveries.append((r, inp.axon))
                    continue
                dx, dy = _STEP[port]
                nx, ny = x + dx, y + dy
                if (x, y, port) == (0, 0, "w"):
                    host += 1
                elif 0 <= nx < params.cols and 0 <= ny < params.rows:
                    todo.append((params.core_index(nx, ny), _OPPOSITE[port]))
                else:
                    raise ValueError(f"key {key:#x} (core {_xy(params, key)}) leaves the mesh "
                                     f"through port {port} of router {x},{y}")
        return deliveries, host

    def check(self, params):
        """Check every key of every core: no loops, no lost copies, axons in range."""
        if len(self.routers) != params.n_cores or len(self.inputs) != params.n_cores:
            raise ValueError(f"routers and inputs must hold one table per core "
                             f"({params.n_cores}), not {len(self.routers)} and {len(self.inputs)}")
        for c, table in enumerate(self.inputs):
            for i, e in enumerate(table):
                check_int(f"core {_core_name(params, c)} input entry {i} axon", e.axon, 0,
                          params.core.n_axons - 1)
        for c in range(params.n_cores):
            for n in range(params.core.n_neurons):
                self.route(params, c, make_key(params, c, n))


def _xy(params, key):
    x, y, n = split_key(params, key)
    return f"{x},{y} neuron {n}"


def _core_name(params, c):
    x, y = params.core_xy(c)
    return f"{x},{y}"


def _xy_path(params, src, dst):
    """Routers and the port taken at each, XY order, from core ``src`` to core ``dst``."""
    x, y = params.core_xy(src)
    tx, ty = params.core_xy(dst)
    hops = []
    while (x, y) != (tx, ty):
        port = "e" if tx > x else "w" if tx < x else "s" if ty > y else "n"
        hops.append((params.core_index(x, y), port))
        dx, dy = _STEP[port]
        x, y = x + dx, y + dy
    return hops


def keymask_from_routes(params, routes):
    """Compile per-core :class:`RouteTable`s to :class:`KeyMaskTables` along XY trees.

    A neuron may reach each core, and the host, at most once in this mode (a
    router sends one copy per port and the input table maps a key to one axon);
    a table that asks for more is refused.
    """
    full = (1 << params.key_bits) - 1
    routers = [[] for _ in range(params.n_cores)]
    inputs = [[] for _ in range(params.n_cores)]
    for c, table in enumerate(routes):
        for n in range(params.core.n_neurons):
            entries = range(table.start[n], table.start[n] + table.count[n])
            if not len(entries):
                continue
            key = make_key(params, c, n)
            out = {}                      # router -> ports
            axon_at = {}
            to_host = False
            for e in entries:
                if table.host[e]:
                    if to_host:
                        raise ValueError(f"core {_core_name(params, c)} neuron {n} reports to "
                                         f"the host twice; key/mask routing sends one copy")
                    to_host = True
                    hops = _xy_path(params, c, 0) + [(0, "w")]
                else:
                    dst = params.core_index(int(table.x[e]), int(table.y[e]))
                    axon = int(table.axon[e])
                    if dst in axon_at:
                        x, y = params.core_xy(dst)
                        raise ValueError(
                            f"core {_core_name(params, c)} neuron {n} reaches core {x},{y} "
                            f"twice (axons {axon_at[dst]} and {axon}); key/mask routing "
                            f"delivers one copy per key and core")
                    axon_at[dst] = axon
                    hops = _xy_path(params, c, dst) + [(dst, "l")]
                for r, port in hops:
                    out.setdefault(r, set()).add(port)
            for r, ports in out.items():
                came = _came_from(params, c, r)
                # Straight through with no split needs no entry: default routing does it.
                if came is not None and ports == {_OPPOSITE[came]}:
                    continue
                routers[r].append(RouterEntry(key, full, frozenset(ports)))
            for dst, axon in axon_at.items():
                inputs[dst].append(InputEntry(key, full, axon))
    return KeyMaskTables(tuple(tuple(t) for t in routers), tuple(tuple(t) for t in inputs))


def _came_from(params, src, r):
    """The port through which an XY tree from ``src`` enters router ``r`` (None at ``src``)."""
    if r == src:
        return None
    sx, sy = params.core_xy(src)
    x, y = params.core_xy(r)
    # XY: the row of the source is travelled first, then the column of r.
    if y == sy:
        return "w" if x > sx else "e"
    return "n" if y > sy else "s"


def route_spikes_keymask(params, tables, spikes):
    """Route one step's spikes in key/mask mode; same return as :func:`chip.route_spikes`."""
    arrivals = [[] for _ in range(params.n_cores)]
    host = []
    for c in range(params.n_cores):
        sx, sy = params.core_xy(c)
        for n in np.flatnonzero(spikes[c]):
            deliveries, to_host = tables.route(params, c, make_key(params, c, int(n)))
            for core, axon in deliveries:
                arrivals[core].append(axon)
            host += [(sx, sy, int(n))] * to_host
    return [np.array(a, dtype=np.int64) for a in arrivals], host

"""Reading NIR graphs: checked, flattened, and put in an order a discrete-time simulator can step.

NIR describes a network as continuous-time nodes joined by edges, and leaves
``dt`` out. :func:`read_nir` opens a ``.nir`` file, refuses what spikeforge
cannot take with one clear :class:`NIRImportError`, and returns a
:class:`Graph`: subgraphs flattened to dotted names (``lif1.w_rec``), every
node's input and output shape worked out and checked along every edge, and an
evaluation order in which each edge that closes a loop is marked recurrent
(it carries the value of the previous step).

Exporters differ, and the checks expect it: Rockpool writes an ``Output``
whose declared type is not its input's, so sizes, not shapes, are compared
across edges, and NIR's own type check is not used.
"""

import dataclasses
import math
from pathlib import Path

import numpy as np

__all__ = ["NIRImportError", "SUPPORTED_NODES", "NEURON_NODES", "SPIKING_NODES", "Graph",
           "read_nir", "from_nir"]

#: Every NIR node type spikeforge reads.
SUPPORTED_NODES = ("Input", "Output", "Affine", "Linear", "Scale", "Threshold", "LIF", "CubaLIF",
                   "IF", "LI", "CubaLI", "I", "Delay", "Conv1d", "Conv2d", "SumPool2d",
                   "AvgPool2d", "Flatten", "NIRGraph")

#: Nodes with state that integrates over time.
NEURON_NODES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I")

#: Nodes whose output is a spike train.
SPIKING_NODES = ("LIF", "CubaLIF", "IF", "Threshold")

# Parameters that are time constants (seconds, > 0) and the node types that have them.
_TIME_CONSTANTS = ("tau", "tau_syn", "tau_mem")
# Parameters whose arrays must all have the neuron's shape.
_NEURON_FIELDS = {
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "IF": ("r", "v_threshold", "v_reset"),
    "LI": ("tau", "r", "v_leak"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
    "I": ("r",),
    "Threshold": ("threshold",),
    "Delay": ("delay",),
    "Scale": ("scale",),
}


class NIRImportError(ValueError):
    """A NIR graph spikeforge cannot take; the message names the file or node and what is wrong."""


@dataclasses.dataclass(frozen=True)
class Graph:
    """A flattened, checked NIR graph.

    ``nodes`` maps dotted names to NIR nodes (no subgraphs, and no ``Input`` or
    ``Output`` inside a subgraph); ``edges`` are ``(source, target)`` pairs;
    ``inputs`` and ``outputs`` name the top-level ``Input`` and ``Output``
    nodes, sorted. ``in_shape`` and ``out_shape`` give each node's shapes.
    ``order`` lists the nodes so that every edge not in ``recurrent`` goes
    forward in it. ``source`` is where the graph came from.
    """
    nodes: dict
    edges: tuple
    inputs: tuple
    outputs: tuple
    in_shape: dict
    out_shape: dict
    order: tuple
    recurrent: frozenset
    source: str = "graph"

    def type_of(self, name):
        return type(self.nodes[name]).__name__

    def predecessors(self, name):
        """``(source, recurrent)`` for each edge into ``name``, in edge order."""
        return [(src, (src, dst) in self.recurrent) for src, dst in self.edges if dst == name]

    def successors(self, name):
        return [dst for src, dst in self.edges if src == name]

    def size(self, name):
        return int(np.prod(self.out_shape[name]))


# ---- reading the file -------------------------------------------------------------------------

def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _h5_types(group, prefix=""):
    """``(dotted name, type)`` for every node in an HDF5 NIR group, subgraphs included."""
    found = []
    nodes = group.get("nodes")
    if nodes is None:
        return found
    for name in nodes:
        node = nodes[name]
        kind = _text(node["type"][()]) if "type" in node else "(no type)"
        found.append((prefix + name, kind))
        if kind == "NIRGraph":
            found.extend(_h5_types(node, prefix + name + "."))
    return found


def read_nir(path):
    """Read the NIR file at ``path`` into a checked :class:`Graph`.

    Raises :class:`NIRImportError` for a missing, truncated or non-NIR file,
    for node types spikeforge does not support (all of them named at once),
    and for everything :func:`from_nir` refuses.
    """
    import h5py
    import nir

    path = Path(path)
    if not path.exists():
        raise NIRImportError(f"{path}: no such file")
    if path.is_dir():
        raise NIRImportError(f"{path} is a folder, not a NIR file")
    try:
        with h5py.File(path, "r") as f:
            if "node" not in f or "type" not in f["node"]:
                raise NIRImportError(f"{path} is an HDF5 file but not a NIR graph: it has no "
                                     f"'node' group with a type")
            kinds = [("(top)", _text(f["node"]["type"][()]))]
            kinds += _h5_types(f["node"])
    except OSError as exc:
        raise NIRImportError(f"{path} is not a NIR file: it cannot be read as HDF5 (a truncated "
                             f"or partly copied file looks like this): {exc}") from None
    if kinds[0][1] != "NIRGraph":
        raise NIRImportError(f"{path}: the top node is a {kinds[0][1]}, not a NIRGraph")
    unsupported = [(name, kind) for name, kind in kinds[1:] if kind not in SUPPORTED_NODES]
    if unsupported:
        listed = ", ".join(f"{name!r} ({kind})" for name, kind in unsupported)
        raise NIRImportError(f"{path}: {len(unsupported)} unsupported NIR node"
                             f"{'s' if len(unsupported) > 1 else ''}: {listed}; spikeforge "
                             f"supports {', '.join(SUPPORTED_NODES)}")
    try:
        graph = nir.read(path, type_check=False)
    except Exception as exc:   # nir raises KeyError, AssertionError, ValueError, ...
        detail = str(exc) or type(exc).__name__
        raise NIRImportError(f"{path}: the NIR graph is malformed: {detail}") from None
    return from_nir(graph, source=str(path))


# ---- flattening -------------------------------------------------------------------------------

def _flatten(graph, prefix, nodes, subgraphs, edges):
    import nir
    for name, node in graph.nodes.items():
        full = prefix + str(name)
        if isinstance(node, nir.NIRGraph):
            subgraphs[full] = node
            _flatten(node, full + ".", nodes, subgraphs, edges)
        else:
            nodes[full] = node
    for src, dst in graph.edges:
        edges.append((prefix + str(src), prefix + str(dst)))


def _port(name, nodes, subgraphs, kind, where):
    """The flat node an edge end ``name`` means: a node, or a subgraph's only Input/Output."""
    if name in nodes:
        return name
    if name in subgraphs:
        ports = [n for n, node in subgraphs[name].nodes.items() if type(node).__name__ == kind]
        if len(ports) != 1:
            raise NIRImportError(f"{where}: the edge {'into' if kind == 'Input' else 'out of'} "
                                 f"subgraph {name!r} is ambiguous: it has {len(ports)} {kind} "
                                 f"nodes, not one")
        return f"{name}.{ports[0]}"
    raise NIRImportError(f"{where}: an edge names {name!r}, which is not a node of the graph")


def _contract(nodes, edges, top_level):
    """Remove the Input and Output nodes of subgraphs: they pass values through."""
    for name in [n for n in nodes if n not in top_level
                 and type(nodes[n]).__name__ in ("Input", "Output")]:
        into = [src for src, dst in edges if dst == name]
        out = [dst for src, dst in edges if src == name]
        edges = [e for e in edges if name not in e] + [(s, d) for s in into for d in out]
        del nodes[name]
    return edges


# ---- checking ---------------------------------------------------------------------------------

def _array(node, field):
    return np.asarray(getattr(node, field), dtype=np.float64)


def _describe(name, node):
    return f"node {name!r} ({type(node).__name__})"


def _check_values(name, node):
    kind = type(node).__name__
    for field in dataclasses.fields(node) if dataclasses.is_dataclass(node) else ():
        value = getattr(node, field.name)
        if field.name in ("input_type", "output_type", "metadata") or value is None \
                or isinstance(value, str):
            continue
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        bad = np.flatnonzero(~np.isfinite(arr))
        if len(bad):
            where = np.unravel_index(bad[0], arr.shape) if arr.ndim else ()
            raise NIRImportError(f"{_describe(name, node)}: {field.name} must be finite, but "
                                 f"holds {arr.flat[bad[0]]} at index {tuple(map(int, where))}"
                                 f" ({len(bad)} such value{'s' if len(bad) > 1 else ''})")
    for field in _TIME_CONSTANTS:
        if hasattr(node, field):
            arr = _array(node, field)
            bad = np.flatnonzero(arr <= 0)
            if len(bad):
                raise NIRImportError(f"{_describe(name, node)}: {field} must be a positive time "
                                     f"in seconds, not {arr.flat[bad[0]]:g} (index {bad[0]})")
    if kind == "Delay":
        arr = _array(node, "delay")
        bad = np.flatnonzero(arr < 0)
        if len(bad):
            raise NIRImportError(f"{_describe(name, node)}: delay must be 0 or more seconds, not "
                                 f"{arr.flat[bad[0]]:g} (index {bad[0]})")
    if kind in ("LIF", "CubaLIF", "IF"):
        vth, vr = _array(node, "v_threshold"), _array(node, "v_reset")
        if vth.shape == vr.shape:
            bad = np.flatnonzero(vr > vth)
            if len(bad):
                raise NIRImportError(f"{_describe(name, node)}: v_reset must not be above "
                                     f"v_threshold, or the neuron fires for ever; index "
                                     f"{bad[0]} has v_reset {vr.flat[bad[0]]:g} and v_threshold "
                                     f"{vth.flat[bad[0]]:g}")
    fields = _NEURON_FIELDS.get(kind)
    if fields:
        shapes = {f: _array(node, f).shape for f in fields}
        # One value stands for every neuron (snnTorch writes a shared beta so).
        if len({shape for shape in shapes.values() if math.prod(shape) != 1}) > 1:
            listed = ", ".join(f"{f} {s}" for f, s in shapes.items())
            raise NIRImportError(f"{_describe(name, node)}: its parameters must all have one "
                                 f"shape, not {listed}")


def _pair(value, n, what, name, node):
    arr = np.atleast_1d(np.asarray(value))
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.shape != (n,):
        raise NIRImportError(f"{_describe(name, node)}: {what} must be one value or {n}, "
                             f"not {arr.tolist()}")
    return tuple(int(x) for x in arr)


def conv_geometry(name, node, in_shape):
    """``(stride, padding, dilation, out_shape)`` of a Conv1d/Conv2d on ``in_shape`` (C, *spatial)."""
    w = np.asarray(node.weight)
    dims = w.ndim - 2
    stride = _pair(node.stride, dims, "stride", name, node)
    dilation = _pair(node.dilation, dims, "dilation", name, node)
    kernel = w.shape[2:]
    spatial = tuple(in_shape[1:])
    if isinstance(node.padding, str):
        if node.padding == "valid":
            padding = (0,) * dims
        elif node.padding == "same":
            if any(s != 1 for s in stride):
                raise NIRImportError(f"{_describe(name, node)}: padding 'same' needs stride 1, "
                                     f"not {stride}")
            padding = tuple(d * (k - 1) // 2 for d, k in zip(dilation, kernel))
            if any(d * (k - 1) % 2 for d, k in zip(dilation, kernel)):
                raise NIRImportError(f"{_describe(name, node)}: padding 'same' with an even "
                                     f"kernel {kernel} is not symmetric; give the padding")
        else:
            raise NIRImportError(f"{_describe(name, node)}: padding must be a number, 'same' or "
                                 f"'valid', not {node.padding!r}")
    else:
        padding = _pair(node.padding, dims, "padding", name, node)
    groups = int(node.groups)
    if groups < 1 or w.shape[0] % groups or in_shape[0] != w.shape[1] * groups:
        raise NIRImportError(f"{_describe(name, node)}: weight {w.shape} with groups {groups} "
                             f"does not take {in_shape[0]} input channels")
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, p, d, k, s in zip(spatial, padding, dilation, kernel, stride))
    if any(o < 1 for o in out):
        raise NIRImportError(f"{_describe(name, node)}: a {kernel} kernel does not fit input "
                             f"{spatial} with padding {padding}")
    return stride, padding, dilation, (w.shape[0],) + out


def pool_geometry(name, node, in_shape):
    """``(kernel, stride, padding, out_shape)`` of a SumPool2d/AvgPool2d on ``in_shape`` (C, H, W)."""
    kernel = _pair(node.kernel_size, 2, "kernel_size", name, node)
    stride = _pair(node.stride, 2, "stride", name, node)
    padding = _pair(node.padding, 2, "padding", name, node)
    if len(in_shape) != 3:
        raise NIRImportError(f"{_describe(name, node)}: input must be (channels, height, width), "
                             f"not {tuple(in_shape)}")
    out = tuple((n + 2 * p - k) // s + 1
                for n, p, k, s in zip(in_shape[1:], padding, kernel, stride))
    if any(o < 1 for o in out) or any(s < 1 for s in stride):
        raise NIRImportError(f"{_describe(name, node)}: a {kernel} window with stride {stride} "
                             f"does not fit input {tuple(in_shape[1:])}")
    return kernel, stride, padding, (in_shape[0],) + out


def _declared(node, attr, port):
    shape = getattr(node, attr, {}).get(port)
    if shape is None:
        return None
    return tuple(int(x) for x in np.atleast_1d(shape))


def _shapes(name, node, in_shape):
    """``(in_shape, out_shape)`` of ``node``; ``in_shape`` is what its edges bring (or None)."""
    kind = type(node).__name__
    if kind in _NEURON_FIELDS:
        shapes = [_array(node, f).shape for f in _NEURON_FIELDS[kind]]
        full = [shape for shape in shapes if math.prod(shape) != 1]
        if full:
            return full[0], full[0]
        # Every parameter is one shared value: the node is as large as what it receives.
        shape = in_shape if in_shape is not None else shapes[0]
        return shape, shape
    if kind in ("Affine", "Linear"):
        w = np.asarray(node.weight)
        if w.ndim != 2:
            raise NIRImportError(f"{_describe(name, node)}: weight must be a matrix "
                                 f"(outputs, inputs), not shape {w.shape}")
        if kind == "Affine" and np.asarray(node.bias).shape not in ((w.shape[0],), ()):
            raise NIRImportError(f"{_describe(name, node)}: bias must have shape "
                                 f"({w.shape[0]},), not {np.asarray(node.bias).shape}")
        return (w.shape[1],), (w.shape[0],)
    if kind == "Input":
        shape = _declared(node, "input_type", "input")
        return shape, shape
    if kind == "Output":
        return in_shape, in_shape
    if in_shape is None:
        raise NIRImportError(f"{_describe(name, node)}: its input shape cannot be worked out: "
                             f"no edge brings it a value")
    if kind in ("Conv1d", "Conv2d"):
        dims = int(kind[-2])
        w = np.asarray(node.weight)
        if w.ndim != dims + 2:
            raise NIRImportError(f"{_describe(name, node)}: weight must have {dims + 2} "
                                 f"dimensions, not shape {w.shape}")
        if len(in_shape) == 1 and node.input_shape is not None:
            spatial = tuple(int(x) for x in np.atleast_1d(node.input_shape))
            in_shape = (in_shape[0] // max(1, int(np.prod(spatial))),) + spatial
        if len(in_shape) != dims + 1:
            raise NIRImportError(f"{_describe(name, node)}: input must be (channels, "
                                 f"{'length' if dims == 1 else 'height, width'}), not {in_shape}")
        return in_shape, conv_geometry(name, node, in_shape)[3]
    if kind in ("SumPool2d", "AvgPool2d"):
        return in_shape, pool_geometry(name, node, in_shape)[3]
    if kind == "Flatten":
        declared = _declared(node, "input_type", "input")
        if declared and int(np.prod(declared)) == int(np.prod(in_shape)):
            in_shape = declared
        nd = len(in_shape)
        start, end = int(node.start_dim), int(node.end_dim)
        start, end = start % nd if nd else 0, end % nd if nd else 0
        if start > end:
            raise NIRImportError(f"{_describe(name, node)}: start_dim {node.start_dim} comes "
                                 f"after end_dim {node.end_dim} for input {in_shape}")
        out = in_shape[:start] + (int(np.prod(in_shape[start:end + 1])),) + in_shape[end + 1:]
        return in_shape, out
    raise NIRImportError(f"{_describe(name, node)}: not supported")   # pragma: no cover


def _order(nodes, edges, inputs):
    """Depth-first from the inputs (then any node left), in name order; back edges are recurrent."""
    succ = {n: [] for n in nodes}
    for src, dst in edges:
        succ[src].append(dst)
    state, order, recurrent = {}, [], set()

    def visit(start):
        # Iterative DFS; a node is placed once all its forward predecessors are.
        stack = [(start, iter(sorted(set(succ[start]))))]
        state[start] = "open"
        while stack:
            node, it = stack[-1]
            for nxt in it:
                if state.get(nxt) == "open":
                    recurrent.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = "open"
                    stack.append((nxt, iter(sorted(set(succ[nxt])))))
                    break
            else:
                stack.pop()
                state[node] = "done"
                order.append(node)

    for start in list(inputs) + sorted(nodes):
        if start not in state:
            visit(start)
    return tuple(reversed(order)), frozenset(recurrent)


def from_nir(graph, source="graph"):
    """Flatten and check the in-memory ``nir.NIRGraph`` ``graph``; see :func:`read_nir`."""
    import nir
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"graph must be a nir.NIRGraph, not {type(graph).__name__}")
    nodes, subgraphs, edges = {}, {}, []
    _flatten(graph, "", nodes, subgraphs, edges)
    unsupported = [(n, type(v).__name__) for n, v in nodes.items()
                   if type(v).__name__ not in SUPPORTED_NODES]
    if unsupported:
        listed = ", ".join(f"{n!r} ({k})" for n, k in unsupported)
        raise NIRImportError(f"{source}: {len(unsupported)} unsupported NIR node"
                             f"{'s' if len(unsupported) > 1 else ''}: {listed}; spikeforge "
                             f"supports {', '.join(SUPPORTED_NODES)}")
    edges = [(_port(s, nodes, subgraphs, "Output", source),
              _port(d, nodes, subgraphs, "Input", source)) for s, d in edges]
    top_level = {str(n) for n in graph.nodes}
    edges = list(dict.fromkeys(_contract(nodes, edges, top_level)))
    inputs = tuple(sorted(n for n in nodes if n in top_level and type(nodes[n]).__name__ == "Input"))
    outputs = tuple(sorted(n for n in nodes
                           if n in top_level and type(nodes[n]).__name__ == "Output"))
    if not inputs:
        raise NIRImportError(f"{source}: the graph has no Input node")
    if not outputs:
        raise NIRImportError(f"{source}: the graph has no Output node")
    for src, dst in edges:
        if type(nodes[dst]).__name__ == "Input":
            raise NIRImportError(f"{source}: the edge {src!r} → {dst!r} goes into an Input node")
        if type(nodes[src]).__name__ == "Output":
            raise NIRImportError(f"{source}: the edge {src!r} → {dst!r} comes out of an Output "
                                 f"node")
    for name, node in nodes.items():
        try:
            _check_values(name, node)
        except NIRImportError as exc:
            raise NIRImportError(f"{source}: {exc}") from None

    order, recurrent = _order(nodes, edges, inputs)
    in_shape, out_shape = {}, {}
    for name in order:
        node = nodes[name]
        feeding = [src for src, dst in edges if dst == name and (src, dst) not in recurrent]
        brought = out_shape[feeding[0]] if feeding else None
        try:
            in_shape[name], out_shape[name] = _shapes(name, node, brought)
        except NIRImportError as exc:
            raise NIRImportError(f"{source}: {exc}") from None
        if in_shape[name] is None:
            raise NIRImportError(f"{source}: {_describe(name, node)} has no shape: it is not "
                                 f"reached by any edge")
    for src, dst in edges:
        got, want = out_shape[src], in_shape[dst]
        if math.prod(got) != math.prod(want):
            raise NIRImportError(f"{source}: the edge {src!r} → {dst!r} does not fit: {src!r} "
                                 f"gives shape {got}, {dst!r} takes shape {want}")
    for name in outputs:
        declared = _declared(nodes[name], "output_type", "output")
        if not any(dst == name for _, dst in edges):
            raise NIRImportError(f"{source}: the Output node {name!r} has no edge into it")
        if declared and math.prod(declared) != math.prod(in_shape[name]):
            raise NIRImportError(f"{source}: the Output node {name!r} declares shape {declared} "
                                 f"but receives {in_shape[name]}")
    return Graph(nodes=nodes, edges=tuple(edges), inputs=inputs, outputs=outputs,
                 in_shape=in_shape, out_shape=out_shape, order=order,
                 recurrent=recurrent, source=source)

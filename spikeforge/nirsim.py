"""The float path: a NIR graph stepped in float64 at a ``dt`` the user gives.

This is the reference the quantised network is measured against, and it is
written to be read. Its conventions, which every discrete-time reader of NIR
has to choose and which this one states:

* **Signals are piecewise constant.** Every edge carries one value per step,
  held for the whole step; an input spike is the value 1 during its step (as
  snnTorch, Norse and the NIR paper's reference runs feed it). Values arriving
  over several edges add up.
* **Edges are instantaneous,** so a feed-forward graph is evaluated node by
  node in :attr:`Graph.order <spikeforge.nirgraph.Graph.order>` within one
  step. An edge that closes a loop (:attr:`Graph.recurrent`) carries the
  value of the previous step.
* **Two discretisations,** chosen by the user and named in every report:

  ``exact``
      The ODEs are integrated in closed form over the step with the input
      held, and a threshold crossing is found at its time inside the step:
      the neuron resets there and integrates the rest of the step. A neuron
      may spike more than once in a step; its output is the count. This is
      NIR's continuous-time semantics.
  ``euler``
      One forward-Euler step: ``x += dt / tau * (...)``, the current first and
      the voltage from the new current, then ``v > v_threshold`` fires and
      resets. With snnTorch's export (``tau = dt / (1 - beta)``,
      ``r = 1 / (1 - beta)``) this is snnTorch's ``mem = beta * mem + input``.

* **Reset** is ``zero`` (``v = v_reset``, NIR's definition) or ``subtract``
  (``v -= v_threshold``). A node may state its own in its metadata
  (``reset_mechanism`` or ``reset``, as spikeforge's export writes it); otherwise the
  caller chooses, and zero is the default (:func:`resolve_resets`).

``IF`` and ``I`` integrate ``dv/dt = r * input``, so a step adds
``dt * r * input``: a graph exported by a framework that takes ``dt`` as 1
(Sinabs) behaves as it did there at ``dt = 1``.
"""

import enum
import math

import numpy as np

from .nirgraph import Graph, conv_geometry, pool_geometry

__all__ = ["Discretisation", "ResetRule", "FloatResult", "FloatNetwork", "MAX_SPIKES_PER_STEP",
           "STATELESS_NODES", "apply_stateless", "check_dt", "delay_steps", "input_arrays",
           "node_param", "resolve_resets"]

# In ``exact`` mode a crossing time is found by bisection: 64 halvings reach
# float64's resolution of any step length.
_BISECTIONS = 64

#: In ``exact`` mode, more crossings than this in one step is an error, not a result.
MAX_SPIKES_PER_STEP = 1000


class Discretisation(enum.Enum):
    EXACT = "exact"
    EULER = "euler"


class ResetRule(enum.Enum):
    ZERO = "zero"           # v = v_reset, as NIR defines it
    SUBTRACT = "subtract"   # v -= v_threshold


_STATED = {"zero": "zero", "to_zero": "zero", "reset_to_zero": "zero", "subtract": "subtract",
           "subtraction": "subtract", "reset_by_subtraction": "subtract"}


def _stated_reset(name, node):
    meta = getattr(node, "metadata", None) or {}
    for key in ("reset_mechanism", "reset"):
        if key in meta:
            value = meta[key]
            value = value.decode() if isinstance(value, (bytes, np.bytes_)) else str(value)
            if value.lower() not in _STATED:
                raise ValueError(f"node {name!r} states reset {value!r}; spikeforge knows "
                                 f"zero and subtract")
            return _STATED[value.lower()]
    return None


def resolve_resets(graph, reset=None):
    """``({node: ResetRule}, description)`` for the spiking neuron nodes of ``graph``.

    ``reset`` (``"zero"`` or ``"subtract"``) is the caller's choice for every node. With
    ``None`` each node takes what its metadata states, and zero where it states nothing.
    ``description`` says which, for reports.
    """
    nodes = [n for n in graph.order if graph.type_of(n) in ("LIF", "CubaLIF", "IF")]
    stated = {n: _stated_reset(n, graph.nodes[n]) for n in nodes}
    said = {n: r for n, r in stated.items() if r is not None}
    if reset is not None:
        rule = _enum("reset", reset, ResetRule)
        over = sorted(n for n, r in said.items() if r != rule.value)
        text = f"{rule.value}, chosen by the user"
        if over:
            text += f" over what the graph states for {', '.join(over)}"
        return {n: rule for n in nodes}, text
    rules = {n: ResetRule(stated[n] or "zero") for n in nodes}
    if not said:
        return rules, ("zero, v = v_reset after a spike (NIR's definition; the graph does not "
                       "say which reset it was trained with)")
    kinds = {r.value for r in rules.values()}
    if len(kinds) == 1:
        return rules, f"{kinds.pop()}, as the graph states"
    return rules, "per node, as the graph states: " + ", ".join(
        f"{n} {r.value}" for n, r in rules.items())


def _enum(name, value, enum_type):
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(repr(e.value) for e in enum_type)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}") from None


def check_dt(dt):
    """``dt`` as a positive finite float; NIR has no ``dt``, so there is no default."""
    if dt is None:
        raise ValueError("dt must be given in seconds (NIR graphs carry no time step), "
                         "for example dt=1e-3")
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)):
        raise TypeError(f"dt must be a number of seconds, not {dt!r}")
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive, finite number of seconds, not {dt!r}")
    return float(dt)


def delay_steps(delay, dt, where="delay"):
    """Delays in seconds as whole steps; refuses a delay that is not a multiple of ``dt``."""
    steps = np.asarray(delay, dtype=np.float64) / dt
    whole = np.rint(steps)
    bad = np.flatnonzero(np.abs(steps - whole) > 1e-6 * np.maximum(1.0, np.abs(steps)))
    if len(bad):
        raise ValueError(f"{where}: {np.ravel(delay)[bad[0]]:g} s is not a whole number of "
                         f"steps of dt = {dt:g} s")
    return whole.astype(np.int64)


def node_param(node, field, n):
    """A node's parameter ``field`` as ``n`` floats: one value given stands for every neuron."""
    return np.broadcast_to(np.asarray(getattr(node, field), dtype=np.float64).ravel(), (n,))


def input_arrays(graph, inputs):
    """``({Input node: [T, size] array}, T)`` from ``inputs``: one ``[T, *shape]`` array for
    a graph with one Input node, else a dict by Input node; shapes and lengths checked."""
    g = graph
    if not isinstance(inputs, dict):
        if len(g.inputs) != 1:
            raise ValueError(f"inputs must be a dict keyed by Input node "
                             f"({', '.join(g.inputs)}): the graph has {len(g.inputs)}")
        inputs = {g.inputs[0]: inputs}
    unknown = sorted(set(inputs) - set(g.inputs))
    if unknown:
        raise ValueError(f"inputs names {unknown[0]!r}, which is not an Input node; the "
                         f"Input nodes are {', '.join(g.inputs)}")
    arrays = {}
    for name in g.inputs:
        if name not in inputs:
            raise ValueError(f"inputs has nothing for the Input node {name!r}")
        arr = np.asarray(inputs[name])
        size = g.size(name)
        if arr.ndim < 1 or math.prod(arr.shape[1:]) != size:
            raise ValueError(f"inputs[{name!r}] must have shape [T, "
                             f"{', '.join(map(str, g.out_shape[name]))}], not {arr.shape}")
        arrays[name] = arr.reshape(len(arr), size)
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(f"every input must have the same number of steps, not "
                         f"{sorted(lengths)}")
    return arrays, lengths.pop()


class FloatResult:
    """What :meth:`FloatNetwork.run` returns.

    ``outputs[name]`` is ``[T, *shape]`` for each Output node; ``spikes[node]``
    is ``[T, n]`` for each spiking node (counts per step); ``v[node]`` and
    ``i[node]`` are ``[T, n]`` traces of the neuron nodes asked for.
    """

    def __init__(self, outputs, spikes, v, i):
        self.outputs, self.spikes, self.v, self.i = outputs, spikes, v, i


# ---- neuron dynamics --------------------------------------------------------------------------

def _first_crossing(f, lo, hi):
    """The first ``s`` in ``[lo, hi]`` where ``f(s)`` rises to 0, ``f`` monotone on the bracket."""
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = f(mid) > 0
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    return hi


class _Neurons:
    """State and step of one neuron node, flattened to ``n`` neurons."""

    def __init__(self, kind, node, n, dt, method, reset):
        self.kind, self.dt, self.method, self.reset = kind, dt, method, reset
        arr = lambda f: node_param(node, f, n).copy()
        self.r = arr("r")
        self.tau = arr("tau") if kind in ("LIF", "LI") else None
        self.tau_syn = arr("tau_syn") if kind in ("CubaLIF", "CubaLI") else None
        self.tau_mem = arr("tau_mem") if kind in ("CubaLIF", "CubaLI") else None
        self.w_in = arr("w_in") if kind in ("CubaLIF", "CubaLI") else np.ones(n)
        self.v_leak = arr("v_leak") if kind not in ("IF", "I") else np.zeros(n)
        self.spiking = kind in ("LIF", "CubaLIF", "IF")
        self.vth = arr("v_threshold") if self.spiking else None
        self.v_reset = arr("v_reset") if self.spiking else None
        self.v = np.zeros(n)
        self.i = np.zeros(n)

    def _after_spike(self, v):
        if self.reset is ResetRule.ZERO:
            return self.v_reset.copy()
        return v - self.vth

    # -- Euler --
    def _euler(self, x):
        dt = self.dt
        if self.kind in ("CubaLIF", "CubaLI"):
            self.i = self.i + dt / self.tau_syn * (self.w_in * x - self.i)
            drive, tau = self.r * self.i, self.tau_mem
        else:
            drive, tau = self.r * x, self.tau
        if tau is None:                 # IF, I: no leak
            self.v = self.v + dt * drive
        else:
            self.v = self.v + dt / tau * (self.v_leak - self.v + drive)
        if not self.spiking:
            return self.v.copy()
        fire = self.v > self.vth
        self.v = np.where(fire, self._after_spike(self.v), self.v)
        return fire.astype(np.float64)

    # -- exact --
    def _trajectory(self, v0, i0, x):
        """``v(s)`` over the step from ``(v0, i0)`` with input ``x`` held, as a function of s."""
        if self.kind in ("IF", "I"):
            rate = self.r * x
            return lambda s: v0 + rate * s, lambda s: i0
        if self.kind in ("LIF", "LI"):
            v_inf = self.v_leak + self.r * x
            tau = self.tau
            return lambda s: v_inf + (v0 - v_inf) * np.exp(-s / tau), lambda s: i0
        ts, tm = self.tau_syn, self.tau_mem
        i_inf = self.w_in * x
        v_inf = self.v_leak + self.r * i_inf
        same = np.isclose(ts, tm, rtol=1e-12, atol=0)
        # tau_syn != tau_mem: the current's transient drives v with amplitude a.
        a = np.where(same, 0.0, self.r * (i0 - i_inf) * ts / np.where(same, 1.0, ts - tm))

        def v_of(s):
            coupled = np.where(same, self.r * (i0 - i_inf) * (s / tm) * np.exp(-s / tm),
                               a * (np.exp(-s / ts) - np.exp(-s / tm)))
            return v_inf + (v0 - v_inf) * np.exp(-s / tm) + coupled

        return v_of, lambda s: i_inf + (i0 - i_inf) * np.exp(-s / ts)

    def _extremum(self, v0, i0, x):
        """Where ``v`` turns inside a CubaLIF step (or +inf): it turns at most once."""
        ts, tm = self.tau_syn, self.tau_mem
        i_inf = self.w_in * x
        v_inf = self.v_leak + self.r * i_inf
        same = np.isclose(ts, tm, rtol=1e-12, atol=0)
        a = np.where(same, 0.0, self.r * (i0 - i_inf) * ts / np.where(same, 1.0, ts - tm))
        b = v0 - v_inf - a     # v = v_inf + b e^{-s/tm} + a e^{-s/ts}
        with np.errstate(divide="ignore", invalid="ignore"):
            # dv/ds = 0: (a/ts) e^{-s/ts} = -(b/tm) e^{-s/tm}, so e^{s (1/tm - 1/ts)} = ratio
            ratio = -(b / tm) / (a / ts)
            s = np.log(ratio) / (1 / tm - 1 / ts)
            s_same = tm - (v0 - v_inf) * tm / (self.r * (i0 - i_inf))   # equal-tau case
        s = np.where(same, s_same, s)
        return np.where(np.isfinite(s) & (s > 0), s, np.inf)

    def _exact(self, x):
        dt, n = self.dt, self.r.size
        if not self.spiking:
            v_of, i_of = self._trajectory(self.v, self.i, x)
            self.v, self.i = v_of(np.full(n, dt)), i_of(np.full(n, dt))
            return self.v.copy()
        count = np.zeros(n)
        t = np.zeros(n)                 # time already integrated in this step
        v, i = self.v.copy(), self.i.copy()
        active = np.ones(n, dtype=bool)
        while active.any():
            if count.max() >= MAX_SPIKES_PER_STEP:
                raise ValueError(f"a {self.kind} neuron (index {int(count.argmax())}) fires "
                                 f"{MAX_SPIKES_PER_STEP} times in one step: its input is too "
                                 f"strong for dt = {dt:g} s")
            v_of, i_of = self._trajectory(v, i, x)
            rem = dt - t
            g = lambda s: v_of(s) - self.vth
            hi = np.where(g(rem) > 0, rem, 0.0)
            lo = np.zeros(n)
            if self.kind == "CubaLIF":
                s_e = self._extremum(v, i, x)
                inside = s_e < rem
                peak_above = inside & (g(np.minimum(s_e, rem)) > 0)
                # A peak above threshold: the crossing is before it. A dip: after it.
                hi = np.where(peak_above, s_e, hi)
                lo = np.where(inside & ~peak_above & (g(rem) > 0), s_e, lo)
            cross = active & (hi > 0) & (g(np.zeros(n)) <= 0)
            s = np.where(cross, _first_crossing(g, lo, np.where(cross, hi, 0.0)), rem)
            v_new, i_new = v_of(s), i_of(s)
            v = np.where(active, np.where(cross, self._after_spike(self.vth), v_new), v)
            i = np.where(active, i_new, i)
            t = np.where(active, t + s, t)
            count += cross
            active = cross & (t < dt)
        self.v, self.i = v, i
        return count

    def step(self, x):
        x = np.asarray(x, dtype=np.float64).ravel()
        if self.method is Discretisation.EULER:
            return self._euler(x)
        return self._exact(x)


# ---- stateless nodes --------------------------------------------------------------------------

def _conv(x, node, name, in_shape):
    """Conv1d/Conv2d of a batch ``x`` ``[B, C * spatial]``; returns ``[B, *out_shape]``."""
    stride, padding, dilation, out_shape = conv_geometry(name, node, in_shape)
    w = np.asarray(node.weight, dtype=np.float64)
    dims = w.ndim - 2
    groups = int(node.groups)
    x = np.pad(x.reshape((len(x),) + tuple(in_shape)), [(0, 0), (0, 0)] + [(p, p) for p in padding])
    kernel = w.shape[2:]
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    spatial = tuple(range(2, dims + 2))
    windows = np.lib.stride_tricks.sliding_window_view(x, span, axis=spatial)
    windows = windows[(slice(None), slice(None))
                      + tuple(slice(0, o * s, s) for o, s in zip(out_shape[1:], stride))]
    windows = windows[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]
    cin, per = w.shape[1], w.shape[0] // groups
    out = np.empty((len(x),) + tuple(out_shape))
    for g in range(groups):
        # windows [B, cin, *out, *kernel] against weights [per, cin, *kernel]
        part = np.tensordot(windows[:, g * cin:(g + 1) * cin], w[g * per:(g + 1) * per],
                            axes=([1] + [2 + dims + k for k in range(dims)],
                                  [1] + [2 + k for k in range(dims)]))
        out[:, g * per:(g + 1) * per] = np.moveaxis(part, -1, 1)
    bias = np.asarray(node.bias, dtype=np.float64)
    return out + bias.reshape((1, -1) + (1,) * dims)


def _pool(x, node, name, in_shape, average):
    """SumPool2d/AvgPool2d of a batch ``x``; returns ``[B, *out_shape]``."""
    kernel, stride, padding, out_shape = pool_geometry(name, node, in_shape)
    x = np.pad(x.reshape((len(x),) + tuple(in_shape)), [(0, 0), (0, 0)] + [(p, p) for p in padding])
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    windows = windows[:, :, :out_shape[1] * stride[0]:stride[0], :out_shape[2] * stride[1]:stride[1]]
    total = windows.sum(axis=(-2, -1))
    return total / (kernel[0] * kernel[1]) if average else total


#: The nodes with no state: each is an affine map of its summed input.
STATELESS_NODES = ("Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
                   "Flatten", "Output")


def apply_stateless(graph, name, x):
    """The affine node ``name`` on a batch ``x`` ``[B, n_in]``; returns ``[B, n_out]``."""
    node, kind = graph.nodes[name], graph.type_of(name)
    x = np.asarray(x, dtype=np.float64)
    if kind in ("Output", "Flatten"):
        return x
    if kind == "Affine":
        return x @ np.asarray(node.weight, dtype=np.float64).T + np.asarray(node.bias).ravel()
    if kind == "Linear":
        return x @ np.asarray(node.weight, dtype=np.float64).T
    if kind == "Scale":
        return x * np.asarray(node.scale, dtype=np.float64).ravel()
    if kind in ("Conv1d", "Conv2d"):
        return _conv(x, node, name, tuple(graph.in_shape[name])).reshape(len(x), -1)
    if kind in ("SumPool2d", "AvgPool2d"):
        return _pool(x, node, name, tuple(graph.in_shape[name]),
                     kind == "AvgPool2d").reshape(len(x), -1)
    raise ValueError(f"node {name!r} ({kind}) is not an affine node")


class FloatNetwork:
    """``graph`` (a :class:`~spikeforge.nirgraph.Graph`) stepped in float64.

    ``dt`` is required (seconds); ``method`` is ``"exact"`` or ``"euler"``
    and ``reset`` is ``"zero"``, ``"subtract"`` or ``None``, what the graph states
    (see :func:`resolve_resets`).
    """

    def __init__(self, graph, dt, method, reset=None):
        if not isinstance(graph, Graph):
            raise TypeError(f"graph must be a spikeforge.nirgraph.Graph, not {type(graph).__name__}")
        self.graph = graph
        self.dt = check_dt(dt)
        self.method = _enum("method", method, Discretisation)
        self.resets, self.reset_text = resolve_resets(graph, reset)
        self._delays = {}
        for name, node in graph.nodes.items():
            if type(node).__name__ == "Delay":
                steps = delay_steps(node.delay, self.dt, f"node {name!r} (Delay)").ravel()
                self._delays[name] = np.broadcast_to(steps, (graph.size(name),)).copy()
        self.reset()

    def reset(self):
        """Back to rest: every state zero, every delay line empty."""
        g = self.graph
        self._neurons = {n: _Neurons(g.type_of(n), g.nodes[n], g.size(n), self.dt, self.method,
                                     self.resets.get(n, ResetRule.ZERO))
                         for n in g.order if hasattr(g.nodes[n], "r")}
        self._values = {n: np.zeros(g.size(n)) for n in g.order}
        self._lines = {n: np.zeros((int(d.max()) + 1 if d.size else 1, d.size))
                       for n, d in self._delays.items()}
        self._t = 0

    def run(self, inputs, *, record=()):
        """Run the steps in ``inputs`` (``[T, *shape]``, or a dict by Input node).

        ``record`` names neuron nodes whose ``v`` (and for CubaLIF/CubaLI ``i``)
        traces are kept. State carries over from the previous call.
        """
        g = self.graph
        arrays, steps = input_arrays(self.graph, inputs)
        for name, arr in arrays.items():
            if not np.isfinite(arr).all():
                raise ValueError(f"inputs[{name!r}] must be finite; it holds NaN or inf")
        record = tuple(record)
        for name in record:
            if name not in self._neurons:
                raise ValueError(f"record names {name!r}, which is not a neuron node")
        outputs = {n: np.zeros((steps,) + tuple(g.in_shape[n])) for n in g.outputs}
        spiking = [n for n in g.order if g.type_of(n) in ("LIF", "CubaLIF", "IF", "Threshold")]
        spikes = {n: np.zeros((steps, g.size(n))) for n in spiking}
        v = {n: np.zeros((steps, g.size(n))) for n in record}
        i = {n: np.zeros((steps, g.size(n))) for n in record}
        for t in range(steps):
            previous = {n: val for n, val in self._values.items()}
            for name in g.order:
                self._values[name] = self._step(name, arrays, t, previous)
            for n in g.outputs:
                outputs[n][t] = self._values[n].reshape(g.in_shape[n])
            for n in spiking:
                spikes[n][t] = self._values[n]
            for n in record:
                v[n][t], i[n][t] = self._neurons[n].v, self._neurons[n].i
            self._t += 1
        return FloatResult(outputs, spikes, v, i)

    def _step(self, name, arrays, t, previous):
        g = self.graph
        node, kind = g.nodes[name], g.type_of(name)
        if kind == "Input":
            return arrays[name][t]
        x = np.zeros(int(math.prod(g.in_shape[name])))
        for src, recurrent in g.predecessors(name):
            x = x + (previous if recurrent else self._values)[src]
        if name in self._neurons:
            return self._neurons[name].step(x)
        if kind == "Threshold":
            return (x > np.asarray(node.threshold, dtype=np.float64).ravel()).astype(np.float64)
        if kind == "Delay":
            d = self._delays[name].ravel()
            line = self._lines[name]
            line[(self._t + d) % len(line), np.arange(d.size)] = x
            out = line[self._t % len(line)].copy()
            line[self._t % len(line)] = 0.0
            return out
        return apply_stateless(g, name, x[None])[0]

"""Quantisation: a NIR :class:`~spikeforge.nirgraph.Graph` as an integer spikeforge network.

Each neuron node becomes a :class:`~spikeforge.network.Population` of the
chip's current-based LIF neurons (:mod:`golden_model.lif`)::

    u' = decay(u, du) + (a << weight_exp)        a: this step's summed weights
    v' = decay(v, dv) + u' + bias;  spike when v' > vth

and the affine nodes between spiking nodes (Affine, Linear, Scale, convolutions,
pooling, Flatten) fold into one synapse matrix per (source, target) pair.

**The mapping**, for a step of ``dt`` with decays ``alpha`` (current) and
``beta`` (voltage) from the chosen discretisation (``exact``: ``exp(-dt/tau)``;
``euler``: ``1 - dt/tau``) and a voltage scale ``s`` per population:

============  =====================  ===========================  ==============
node          ``alpha``              input gain ``g``             ``beta``
============  =====================  ===========================  ==============
LIF, LI       0 (``u`` is the input)  ``(1 - beta) r``             from ``tau``
CubaLIF/LI    from ``tau_syn``       ``(1 - alpha)(1 - beta) r w_in``  from ``tau_mem``
IF, I         0                      ``dt r``                     1
Threshold     0                      1                            0
============  =====================  ===========================  ==============

A synapse weight is ``s * g * M`` (``M`` the folded matrix), stored as an
integer of ``weight_bits`` times ``2**weight_exp``; the threshold is
``s * v_threshold`` and ``v_leak`` becomes the bias ``s (1 - beta) v_leak``.
Under ``euler`` this is the float path exactly, up to rounding. Under ``exact``
the decays are exact and CubaLIF's coupling from current to voltage keeps its
steady-state gain; the in-step threshold crossing has no integer counterpart.

A constant term of the affine nodes (an Affine's bias) reaches the neurons
through one extra input, ``bias``, that spikes every step.

**Timing.** An input spike acts in its own step, as in the float path. A spike
that crosses a forward edge from one neuron node to the next is routed
between steps, so each such hop lags the float path by one step; an edge the
graph marks recurrent already carries the previous step, and matches.
:attr:`Quantised.lag` gives each population's lag. Non-spiking nodes (LI,
CubaLI, I) become populations that never fire; read their voltage.
"""

import dataclasses
import math

import numpy as np

from golden_model.fixedpoint import Overflow, Rounding, signed_max, signed_min
from golden_model.params import LIFProfile, ResetMode

from .network import InputPopulation, MAX_DELAY, Network, Population, Projection
from .nirgraph import NIRImportError
from .nirsim import (Discretisation, ResetRule, STATELESS_NODES, _enum, apply_stateless,
                     check_dt, delay_steps, input_arrays, node_param, resolve_resets)

__all__ = ["Quantised", "QuantReport", "ParameterError", "quantise", "count_agreement",
           "HEADROOM_BITS"]

#: Bits of voltage range kept above the largest threshold, for overshoot.
HEADROOM_BITS = 3

_POPULATION_NODES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold")
_NON_SPIKING = ("LI", "CubaLI", "I")
# Rows of basis vectors pushed through the affine nodes at once.
_BATCH = 512


@dataclasses.dataclass(frozen=True)
class ParameterError:
    """How one parameter of one population survived quantisation."""
    population: str
    parameter: str
    float_max: float        # largest magnitude before
    max_abs_error: float    # in the float model's units
    max_rel_error: float    # of max_abs_error to float_max
    clipped: int            # values clipped to the integer range
    zeroed: int = 0         # nonzero values that became 0


@dataclasses.dataclass
class QuantReport:
    """What quantisation did: the choices, each parameter's error, and what was clipped."""
    method: str
    dt: float
    reset: str
    weight_bits: int
    state_bits: int
    rows: list
    lag: dict
    notes: list

    @property
    def clipped(self):
        return sum(r.clipped for r in self.rows)

    def as_dict(self):
        return {"method": self.method, "dt": self.dt, "reset": self.reset,
                "weight_bits": self.weight_bits, "state_bits": self.state_bits,
                "parameters": [dataclasses.asdict(r) for r in self.rows],
                "lag": dict(self.lag), "notes": list(self.notes)}

    def format(self):
        lines = [f"quantisation: {self.method} discretisation at dt = {self.dt:g} s, "
                 f"{self.reset} reset, {self.weight_bits}-bit weights, "
                 f"{self.state_bits}-bit state",
                 f"{'population':<16} {'parameter':<12} {'max |float|':>12} {'max abs err':>12} "
                 f"{'rel err':>9} {'clipped':>8} {'zeroed':>7}"]
        for r in self.rows:
            lines.append(f"{r.population:<16} {r.parameter:<12} {r.float_max:>12.5g} "
                         f"{r.max_abs_error:>12.4g} {r.max_rel_error:>9.2e} {r.clipped:>8} "
                         f"{r.zeroed:>7}")
        lags = ", ".join(f"{n} +{k}" for n, k in self.lag.items() if k)
        lines.append(f"timing: spikes lag the float path by one step per neuron-to-neuron hop"
                     f"{': ' + lags if lags else ' (none here)'}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


class Quantised:
    """A quantised graph: the :class:`Network`, and the maps back to the graph's node names.

    ``populations[node]`` and ``inputs[node]`` are the network's groups for each
    neuron and Input node; ``bias`` is the always-on input (or None);
    ``scale[node]`` is the voltage scale ``s`` (hardware units per float unit);
    ``lag[node]`` the steps its spikes trail the float path.
    """

    def __init__(self, graph, network, populations, inputs, bias, scale, lag, report):
        self.graph, self.network = graph, network
        self.populations, self.inputs, self.bias = populations, inputs, bias
        self.scale, self.lag, self.report = scale, lag, report

    def input_counts(self, inputs):
        """Spike counts ``[T, n]`` for each of the network's inputs, the always-on bias included,
        as :func:`spikeforge.simulate.run` takes them.

        ``inputs`` is ``[T, *shape]`` (or a dict by Input node) of spike counts:
        whole numbers of 0 or more, since the chip takes spikes, not currents.
        """
        arrays, steps = input_arrays(self.graph, inputs)
        out = {}
        for name, flat in arrays.items():
            counts = np.rint(flat) if flat.dtype.kind == "f" else flat
            bad = (counts != flat) | (counts < 0) if flat.dtype.kind in "fiu" else None
            if bad is None or bad.any():
                where = np.argwhere(bad)[0] if bad is not None else (0, 0)
                raise ValueError(f"inputs[{name!r}] must hold spike counts (whole numbers of 0 "
                                 f"or more) for the chip; step {where[0]}, neuron {where[1]} "
                                 f"holds {flat[tuple(where)].item()!r}")
            out[self.inputs[name]] = counts.astype(np.int64)
        if self.bias is not None:
            out[self.bias] = np.ones((steps, 1), dtype=np.int64)
        return out

    def chip(self, core=None):
        """The smallest chip of ``core`` s (default: this quantisation's widths) that holds
        the network; see :func:`spikeforge.simulate.fit_chip`."""
        from .simulate import fit_chip
        return fit_chip(self.network, core, state_bits=self.report.state_bits,
                        weight_bits=self.report.weight_bits)

    def run_golden(self, inputs, chip=None):
        """Run on the golden chip model; returns ``(spikes, v)`` by neuron node, ``[T, n]``.

        ``spikes`` are as the chip emits them (see :attr:`lag`); ``v`` is the chip's
        voltage divided by the node's :attr:`scale`, in the float model's units.
        """
        from .simulate import run
        counts = self.input_counts(inputs)
        steps = len(next(iter(counts.values())))
        result = run(self.network, counts, steps, chip=chip or self.chip(),
                     state=list(self.populations.values()))
        spikes = {name: result.spikes[pop].astype(np.int64)
                  for name, pop in self.populations.items()}
        v = {name: result.v[pop] / self.scale[name] for name, pop in self.populations.items()}
        return spikes, v


# ---- folding the affine nodes -----------------------------------------------------------------

def _sources(graph, target, delays):
    """``{(source, delay_steps): recurrent}`` for every neuron or Input node feeding ``target``
    through affine nodes and Delays (``delays``: each Delay node's steps), one entry per
    distinct delay along its paths."""
    found = {}

    def walk(name, delay, recurrent, seen):
        for src, rec in graph.predecessors(name):
            kind = graph.type_of(src)
            if src in seen:
                raise NIRImportError(f"{graph.source}: the nodes {' → '.join(sorted(seen))} form "
                                     f"a loop with no neuron in it, which has no chip mapping")
            if kind in _POPULATION_NODES or kind == "Input":
                found[(src, delay)] = found.get((src, delay), False) or recurrent or rec
            elif kind == "Delay":
                for d in np.unique(delays[src]):
                    walk(src, delay + int(d), recurrent or rec, seen | {src})
            elif kind in STATELESS_NODES:
                walk(src, delay, recurrent or rec, seen | {src})
            else:   # pragma: no cover - every node kind is one of the above
                raise AssertionError(kind)

    walk(target, 0, False, frozenset())
    return found


def _add(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = out[k] + v if k in out else v
    return out


def _linear_input(graph, target, values, delays):
    """The linear part of ``target``'s summed input, by delay: ``{delay: [B, n]}`` when the
    sources hold ``values`` (``{source: [B, n]}``, sources absent from it hold zero)."""
    memo = {}

    def out(name):
        if name not in memo:
            memo[name] = _node(name)
        return memo[name]

    def summed(name):
        x = {}
        for src, _ in graph.predecessors(name):
            x = _add(x, out(src))
        return x

    def _node(name):
        kind = graph.type_of(name)
        if kind in _POPULATION_NODES or kind == "Input":
            return {0: values[name]} if name in values else {}
        x = summed(name)
        if kind == "Delay":
            # Each element goes its own delay: split the values by it.
            steps = np.broadcast_to(delays[name].ravel(), (graph.size(name),))
            out = {}
            for k in np.unique(steps):
                mask = steps == k
                out = _add(out, {d + int(k): v * mask for d, v in x.items()})
            return out
        zero = apply_stateless(graph, name, np.zeros((1, graph.size(_first(graph, name)))))
        return {d: apply_stateless(graph, name, v) - zero for d, v in x.items()}

    return summed(target)


def _first(graph, name):
    return graph.predecessors(name)[0][0]


def _constant(graph, target):
    """The constant part of ``target``'s summed input (Affine and convolution biases)."""
    memo = {}

    def out(name):
        if name not in memo:
            kind = graph.type_of(name)
            if kind in _POPULATION_NODES or kind == "Input":
                memo[name] = np.zeros((1, graph.size(name)))
            else:
                x = sum(out(src) for src, _ in graph.predecessors(name))
                memo[name] = x if kind == "Delay" else apply_stateless(graph, name, x)
        return memo[name]

    return sum(out(src) for src, _ in graph.predecessors(target))[0]


def _fold(graph, target, sources, delays):
    """``(matrices {(source, delay): [n_src, n_target]}, constant [n_target])``: the target's
    input is the sum of each source's spikes (``delay`` steps late) times its matrix, plus
    the constant."""
    n_target = int(np.prod(graph.in_shape[target]))
    matrices = {key: np.zeros((graph.size(key[0]), n_target)) for key in sources}
    for src in sorted({s for s, _ in sources}):
        n = graph.size(src)
        for start in range(0, n, _BATCH):
            rows = np.arange(start, min(n, start + _BATCH))
            basis = np.zeros((len(rows), n))
            basis[np.arange(len(rows)), rows] = 1.0
            for d, block in _linear_input(graph, target, {src: basis}, delays).items():
                matrices[(src, d)][rows] = block
    return matrices, _constant(graph, target)


# ---- neuron parameters ------------------------------------------------------------------------

def _dynamics(kind, node, n, dt, method, where):
    """``(leak_i, leak_v, gain, v_leak, vth or None)`` per neuron, in float.

    ``leak_i = 1 - alpha`` and ``leak_v = 1 - beta`` are computed directly (``dt / tau``,
    ``-expm1(-dt / tau)``), so that a very long time constant keeps its tiny leak and the
    gain built from it.
    """
    def leak(tau, field):
        if method is Discretisation.EXACT:
            return -np.expm1(-dt / tau)
        d = dt / tau
        if (d > 1).any():
            i = int(np.argmax(d > 1))
            raise NIRImportError(f"{where}: forward Euler needs dt <= {field}, but {field} is "
                                 f"{tau[i]:g} s at index {i} and dt is {dt:g} s; choose "
                                 f"method 'exact' or a smaller dt")
        return d
    zeros, ones = np.zeros(n), np.ones(n)
    if kind == "Threshold":
        return ones, ones, ones, zeros, node_param(node, "threshold", n)
    r = node_param(node, "r", n)
    vth = node_param(node, "v_threshold", n) if kind in ("LIF", "CubaLIF", "IF") else None
    if kind in ("IF", "I"):
        return ones, zeros, dt * r, zeros, vth
    v_leak = node_param(node, "v_leak", n)
    if kind in ("LIF", "LI"):
        lv = leak(node_param(node, "tau", n), "tau")
        return ones, lv, lv * r, v_leak, vth
    li = leak(node_param(node, "tau_syn", n), "tau_syn")
    lv = leak(node_param(node, "tau_mem", n), "tau_mem")
    return li, lv, li * lv * r * node_param(node, "w_in", n), v_leak, vth


def _decay_code(leak):
    """``d/4096`` nearest ``leak`` (``1 - decay``) in [0, 1], as ``(field, offset)`` of a
    LIFProfile."""
    d = np.clip(np.rint(4096 * leak), 0, 4096).astype(np.int64)
    return np.minimum(d, 4095), d - np.minimum(d, 4095)


def _error_row(population, parameter, exact, quantised, clipped=0, zeroed=0):
    exact = np.asarray(exact, dtype=np.float64)
    err = np.abs(np.asarray(quantised, dtype=np.float64) - exact)
    top = float(np.abs(exact).max()) if exact.size else 0.0
    worst = float(err.max()) if err.size else 0.0
    return ParameterError(population, parameter, top, worst, worst / top if top else 0.0,
                          int(clipped), int(zeroed))


def _mantissa_exp(value, bits):
    """``(mantissa, exp)`` with ``mantissa << exp`` nearest ``value``, mantissa in ``bits`` signed."""
    exp = 0
    while abs(value) > signed_max(bits) * (1 << exp) and exp < bits - 1:
        exp += 1
    return int(np.clip(round(value / (1 << exp)), signed_min(bits), signed_max(bits))), exp


def quantise(graph, dt, method, *, reset=None, weight_bits=8, state_bits=24, scale=None):
    """Quantise ``graph`` for a chip of ``weight_bits`` weights and ``state_bits`` state.

    ``dt``, ``method`` (``"exact"`` or ``"euler"``) and ``reset`` (``"zero"``,
    ``"subtract"`` or ``None``: what the graph states, else zero) mean what they mean for
    :class:`~spikeforge.nirsim.FloatNetwork`;
    there is no default for ``dt`` or ``method``. ``scale`` fixes the voltage scale
    (state units per float unit) of every neuron node, or of those a dict names,
    instead of the automatic choice: ``scale=1`` reads back a graph that
    :func:`spikeforge.nirexport.to_nir` wrote in the chip's own units. Returns a
    :class:`Quantised`.
    """
    dt = check_dt(dt)
    method = _enum("method", method, Discretisation)
    resets, reset_text = resolve_resets(graph, reset)
    for name, value, lo, hi in (("weight_bits", weight_bits, 2, 16),
                                ("state_bits", state_bits, 8, 24)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer between {lo} and {hi}, not {value!r}")
    g = graph
    if scale is not None:
        fixed = scale if isinstance(scale, dict) else {}
        for name, value in (fixed.items() if fixed else [("scale", scale)]):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"scale must be a positive number or a dict of them by neuron "
                                 f"node, not {value!r} for {name!r}")
    delays = {}
    for name in g.nodes:
        if g.type_of(name) == "Delay":
            try:
                delays[name] = delay_steps(g.nodes[name].delay, dt, f"node {name!r} (Delay)")
            except ValueError as exc:
                raise NIRImportError(str(exc)) from None

    # Which nodes become what.
    for name in g.order:
        kind = g.type_of(name)
        if kind in _NON_SPIKING:
            users = [d for d in g.successors(name) if g.type_of(d) != "Output"]
            if users:
                raise NIRImportError(f"{g.source}: node {name!r} ({kind}) does not spike, so it "
                                     f"can only be read out, but it feeds {users[0]!r}")
    targets = [n for n in g.order if g.type_of(n) in _POPULATION_NODES]
    net = Network()
    inputs = {n: net.add(InputPopulation(g.size(n), name=f"input:{n}")) for n in g.inputs}
    wmax = signed_max(weight_bits)
    vmax = signed_max(state_bits)
    rows, notes, scales, populations = [], [], {}, {}
    folded = {}
    for name in targets:
        sources = _sources(g, name, delays)
        matrices, constant = _fold(g, name, sources, delays)
        folded[name] = (sources, matrices, constant)

    for name in targets:
        kind, node, n = g.type_of(name), g.nodes[name], g.size(name)
        where = f"{g.source}: node {name!r} ({kind})"
        leak_i, leak_v, gain, v_leak, vth = _dynamics(kind, node, n, dt, method, where)
        sources, matrices, constant = folded[name]
        # The voltage scale. The largest threshold sits HEADROOM_BITS below the top of the
        # state range, unless the most the neurons can integrate (every source spiking every
        # step) needs more room: then that bound fits the range exactly, and u and v cannot
        # saturate. A neuron with no leak has no bound.
        reach = (sum(np.abs(m).sum(axis=0) for m in matrices.values()) + np.abs(constant)) \
            * np.abs(gain)
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where((leak_i > 0) & (leak_v > 0),
                             reach / leak_i / leak_v + np.abs(v_leak), np.inf)
        bound = float(bound.max()) if n else 0.0
        top = float(np.max(np.abs(vth))) if vth is not None else 0.0
        s = ((vmax + 1) >> HEADROOM_BITS) / top if top > 0 else math.inf
        if bound > 0 and math.isfinite(bound):
            s = min(s, vmax / bound)
        # A power of two, so that values with short binary fractions stay exact.
        s = 2.0 ** math.floor(math.log2(s)) if math.isfinite(s) and s > 0 else 1.0
        if isinstance(scale, dict):
            s = float(scale.get(name, s))
        elif scale is not None:
            s = float(scale)
        if vth is not None and top * s < 256:
            notes.append(f"{name}: the threshold is only {top * s:.0f} state units, to leave "
                         f"room for a reach of {bound / top:.3g} thresholds; more state_bits "
                         f"would resolve it better")
        scales[name] = s
        # Synapses: a weight exponent per neuron (it lives in the neuron's profile), the
        # smallest that fits every weight into that neuron.
        w_hw = {src: s * m * gain[None, :] for src, m in matrices.items()}
        c_hw = s * constant * gain
        largest = np.abs(c_hw)
        for w in w_hw.values():
            largest = np.maximum(largest, np.abs(w).max(axis=0, initial=0.0))
        with np.errstate(divide="ignore"):
            # A weight a rounding error above a power-of-two boundary still fits below it.
            wexp = np.where(largest > wmax, np.ceil(np.log2(largest / wmax) - 1e-9), 0)
        wexp = np.clip(wexp, 0, state_bits - 1).astype(np.int64)
        step = np.ldexp(1.0, wexp)
        q_all, w_all, s_all = [], [], []
        for src, w in w_hw.items():
            q_all.append(np.clip(np.rint(w / step), -wmax - 1, wmax).ravel())
            w_all.append(w.ravel())
            s_all.append(np.broadcast_to(step, w.shape).ravel())
        if np.any(c_hw != 0):
            q_all.append(np.clip(np.rint(c_hw / step), -wmax - 1, wmax))
            w_all.append(c_hw)
            s_all.append(step)
        if q_all:
            w_cat, q_cat, s_cat = (np.concatenate(a) for a in (w_all, q_all, s_all))
            rows.append(_error_row(name, "weight", w_cat / s, q_cat * s_cat / s,
                                   clipped=np.sum(np.abs(w_cat / s_cat) > wmax + 0.5),
                                   zeroed=np.sum((q_cat == 0) & (w_cat != 0))))

        # Profiles, per neuron.
        du, du_off = _decay_code(leak_i)
        dv, dv_off = _decay_code(leak_v)
        rows.append(_error_row(name, "alpha", 1 - leak_i, 1 - (du + du_off) / 4096))
        rows.append(_error_row(name, "beta", 1 - leak_v, 1 - (dv + dv_off) / 4096))
        if vth is not None:
            vth_hw = np.rint(s * vth)
            clipped = np.sum((vth_hw < 0) | (vth_hw > vmax))
            vth_hw = np.clip(vth_hw, 0, vmax).astype(np.int64)
            rows.append(_error_row(name, "v_threshold", vth, vth_hw / s, clipped=clipped))
        else:
            vth_hw = np.full(n, vmax, dtype=np.int64)    # a readout never fires
        bias_f = s * leak_v * v_leak
        bias = [_mantissa_exp(b, state_bits) for b in bias_f]
        bias_q = np.array([m * (1 << e) for m, e in bias], dtype=np.float64)
        if np.any(v_leak != 0):
            rows.append(_error_row(name, "v_leak", leak_v * v_leak, bias_q / s))
        if kind in ("LIF", "CubaLIF", "IF"):
            v_reset = node_param(node, "v_reset", n)
        else:
            v_reset = np.zeros(n)
        if resets.get(name) is ResetRule.SUBTRACT:
            mode, vr_hw = ResetMode.SUBTRACT, np.zeros(n, dtype=np.int64)
        elif np.all(v_reset == 0):
            mode, vr_hw = ResetMode.ZERO, np.zeros(n, dtype=np.int64)
        else:
            mode = ResetMode.VALUE
            vr_hw = np.clip(np.rint(s * v_reset), -vmax - 1, vmax).astype(np.int64)
            rows.append(_error_row(name, "v_reset", v_reset, vr_hw / s))
        if kind == "Threshold":
            mode = ResetMode.ZERO
        profiles = [LIFProfile(du=int(du[i]), du_offset=int(du_off[i]), dv=int(dv[i]),
                               dv_offset=int(dv_off[i]), vth=int(vth_hw[i]),
                               bias_mant=bias[i][0], bias_exp=bias[i][1], reset=mode,
                               v_reset=int(vr_hw[i]), weight_exp=int(wexp[i]),
                               rounding=Rounding.TOWARD_ZERO, u_overflow=Overflow.SATURATE,
                               v_overflow=Overflow.SATURATE)
                    for i in range(n)]
        populations[name] = net.add(Population(n, profiles, name=name,
                                               record=name in _recorded(g)))
        folded[name] = (sources, w_hw, c_hw, step)

    # Projections, once every population exists.
    bias_input = None
    lag = _lags(g, targets, delays)
    for name in targets:
        sources, w_hw, c_hw, step = folded[name]
        post = populations[name]
        for (src, delay), w in w_hw.items():
            pre = inputs[src] if src in inputs else populations[src]
            # A spike routed between cores arrives one step later; delay 1 is the least.
            d = 1 + delay
            if d > MAX_DELAY:
                raise NIRImportError(f"{g.source}: the path from {src!r} to {name!r} is {d} "
                                     f"steps long; the chip's longest delay is {MAX_DELAY}")
            q = np.clip(np.rint(w / step), -wmax - 1, wmax).astype(np.int64)
            pre_i, post_i = np.nonzero(q)
            if len(pre_i):
                net.add(Projection(pre, post, (pre_i, post_i, q[pre_i, post_i], d)))
        q = np.clip(np.rint(c_hw / step), -wmax - 1, wmax).astype(np.int64)
        if np.any(q):
            if bias_input is None:
                bias_input = net.add(InputPopulation(1, name="always-on bias"))
            post_i = np.flatnonzero(q)
            net.add(Projection(bias_input, post, (np.zeros(len(post_i), dtype=np.int64), post_i,
                                                  q[post_i], 1)))
    if method is Discretisation.EXACT:
        notes.append("exact: decays are exp(-dt/tau); a threshold crossing inside a step has no "
                     "integer counterpart, so spikes move to step ends")
        if any(g.type_of(n) in ("CubaLIF", "CubaLI") for n in targets):
            notes.append("exact: CubaLIF's current-to-voltage coupling keeps its steady-state "
                         "gain; its transient follows the chip's u-then-v update")
    notes.append(f"reset: {reset_text}")
    kinds = {r.value for r in resets.values()}
    report = QuantReport(method=method.value, dt=dt,
                         reset=kinds.pop() if len(kinds) == 1 else "per-node" if kinds else "zero",
                         weight_bits=weight_bits,
                         state_bits=state_bits, rows=rows, lag=lag, notes=notes)
    return Quantised(g, net, populations, inputs, bias_input, scales, lag, report)


def _recorded(graph):
    """Neuron nodes whose spikes reach an Output node."""
    out = set()
    for name in graph.outputs:
        stack = [name]
        while stack:
            for src, _ in graph.predecessors(stack.pop()):
                if graph.type_of(src) in _POPULATION_NODES:
                    out.add(src)
                elif graph.type_of(src) != "Input":
                    stack.append(src)
    return out


def _lags(graph, targets, delays):
    """Steps each population trails the float path: its forward neuron-to-neuron hops."""
    lag = {}
    for name in targets:   # graph order: sources first
        sources = _sources(graph, name, delays)
        lag[name] = max([lag[src] + 1 for (src, _), recurrent in sources.items()
                         if src not in graph.inputs and not recurrent] + [0])
    return lag


def count_agreement(a, b):
    """How well two runs agree in per-neuron spike counts: ``sum(min) / sum(max)``.

    ``a`` and ``b`` are ``[T, n]`` spike arrays (or dicts of them by node, pooled).
    1 is the same count for every neuron; two silent runs agree fully.
    """
    if isinstance(a, dict):
        keys = sorted(a)
        if sorted(b) != keys:
            raise ValueError(f"a and b must name the same nodes, not {keys} and {sorted(b)}")
        a = np.concatenate([np.asarray(a[k]).sum(axis=0) for k in keys])
        b = np.concatenate([np.asarray(b[k]).sum(axis=0) for k in keys])
    else:
        a, b = np.asarray(a).sum(axis=0), np.asarray(b).sum(axis=0)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same neurons, not {a.shape} and {b.shape}")
    top = np.maximum(a, b).sum()
    return float(np.minimum(a, b).sum() / top) if top else 1.0

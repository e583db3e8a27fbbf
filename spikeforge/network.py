"""The network API: LIF populations, host-driven inputs and the projections between them.

A :class:`Network` holds :class:`Population` s (LIF neurons with run-time
profiles), :class:`InputPopulation` s (spike sources the host drives) and
:class:`Projection` s (integer synapse lists). It knows nothing of cores:
:func:`spikeforge.compiler.compile_network` maps it onto a chip, and checks
weights and delays against that chip's widths.

**Timing**, as the chip's timestep contract (:mod:`golden_model.chip`) gives it:

* a :class:`Population` neuron's spike at step ``t`` through a synapse of
  delay ``d`` reaches its target's update of step ``t + d`` (the spike is
  routed to the target's core and delivered there in step ``t + 1``);
* an :class:`InputPopulation` neuron's spike at step ``t`` is injected by the
  host in step ``t``, before that step's update, so with delay ``d`` it
  reaches the update of step ``t + d - 1``: delay 1 acts at once.
"""

import numbers

import numpy as np

from golden_model.params import LIFProfile, check_int

__all__ = ["Population", "InputPopulation", "Projection", "Network", "MAX_NEURONS", "MAX_DELAY"]

#: The most neurons one chip holds (16 × 16 cores of 4096): a larger group never compiles.
MAX_NEURONS = 16 * 16 * 4096

#: The largest ``CoreParams.max_delay``: a longer delay never compiles.
MAX_DELAY = 64


def _check_name(name):
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a string or None, not {name!r}")
    if name == "":
        raise ValueError("name must be a non-empty string or None, not ''")
    return name


class _Group:
    """What populations and inputs share: a size and an optional name."""

    def __init__(self, n, name):
        self._n = check_int("n", n, 1, MAX_NEURONS)
        self._name = _check_name(name)

    @property
    def n(self):
        return self._n

    @property
    def name(self):
        return self._name

    def __len__(self):
        return self._n

    def __repr__(self):
        name = "" if self._name is None else f", name={self._name!r}"
        return f"{type(self).__name__}({self._n}{name})"


def _profile_types():
    from golden_model.adex import AdExProfile
    from golden_model.izhikevich import IzhikevichProfile
    return (LIFProfile, IzhikevichProfile, AdExProfile)


class Population(_Group):
    """``n`` neurons. ``profile`` is one profile or one per neuron: a :class:`LIFProfile`,
    an :class:`~golden_model.izhikevich.IzhikevichProfile` or an
    :class:`~golden_model.adex.AdExProfile`, all of one kind (:attr:`model`).

    ``record=True`` sends the population's spikes to the host as well (one
    output-table entry per neuron). Profiles are kept as ``profiles`` (the
    distinct ones, in order of first use) and ``neuron_profile`` (an int64
    index per neuron), as :class:`golden_model.image.CoreImage` keeps them.
    """

    def __init__(self, n, profile, name=None, record=False):
        super().__init__(n, name)
        kinds = _profile_types()
        if isinstance(profile, kinds):
            profiles, index = (profile,), np.zeros(self.n, dtype=np.int64)
        elif isinstance(profile, (list, tuple)):
            if len(profile) != self.n:
                raise ValueError(f"profile must be one profile or one per neuron ({self.n}), "
                                 f"not {len(profile)}")
            ids = {}
            for i, p in enumerate(profile):
                if not isinstance(p, kinds):
                    raise TypeError(f"profile[{i}] must be a LIFProfile, IzhikevichProfile or "
                                    f"AdExProfile, not {p!r}")
                if type(p) is not type(profile[0]):
                    raise TypeError(f"profile[{i}] is a {type(p).__name__}, but profile[0] is "
                                    f"a {type(profile[0]).__name__}: a population is of one "
                                    f"model")
                ids.setdefault(p, len(ids))
            profiles = tuple(ids)
            index = np.array([ids[p] for p in profile], dtype=np.int64)
        else:
            raise TypeError(f"profile must be a LIFProfile, IzhikevichProfile or AdExProfile, "
                            f"or a list of them, not {profile!r}")
        if not isinstance(record, bool):
            raise TypeError(f"record must be a bool, not {record!r}")
        index.setflags(write=False)
        self._profiles, self._neuron_profile, self._record = profiles, index, record

    @property
    def profiles(self):
        return self._profiles

    @property
    def model(self):
        """The :class:`~golden_model.params.NeuronModel` of the population's neurons."""
        from golden_model.params import NeuronModel
        return {cls: model for cls, model in zip(_profile_types(), NeuronModel)}[
            type(self._profiles[0])]

    @property
    def neuron_profile(self):
        return self._neuron_profile

    @property
    def record(self):
        return self._record


class InputPopulation(_Group):
    """``n`` external spike sources: the host injects their spikes, step by step."""

    def __init__(self, n, name=None):
        super().__init__(n, name)


def _check_ends(pre, post):
    if not isinstance(pre, (Population, InputPopulation)):
        raise TypeError(f"pre must be a Population or an InputPopulation, not {pre!r}")
    if not isinstance(post, Population):
        raise TypeError(f"post must be a Population, not {post!r}")


def _integers(name, value, shape, what):
    """``value`` as int64 broadcast to ``shape``; ``what`` describes ``shape`` in messages."""
    arr = np.asarray(value)
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)   # [] is float64 to numpy; an empty list is no synapse
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, not {arr.dtype}")
    if arr.ndim and arr.shape != shape:
        raise ValueError(f"{name} must be a scalar or have shape {shape} ({what}), "
                         f"not {arr.shape}")
    return np.broadcast_to(arr.astype(np.int64), shape)


def _check_delays(name, delays, where):
    """Range-check ``delays`` where a synapse is (``where``: index arrays), naming the position."""
    d = delays[where]
    bad = np.flatnonzero((d < 1) | (d > MAX_DELAY))
    if len(bad):
        at = ", ".join(str(int(w[bad[0]])) for w in where)
        raise ValueError(f"{name}[{at}] must be between 1 and {MAX_DELAY}, not {d[bad[0]]}")


def _check_range(name, arr, lo, hi):
    bad = np.flatnonzero((arr < lo) | (arr > hi))
    if len(bad):
        raise ValueError(f"{name}[{bad[0]}] must be between {lo} and {hi}, not {arr[bad[0]]}")


class Projection:
    """Synapses from ``pre`` (a population or an input) to ``post`` (a population).

    ``synapses`` is ``(pre_index, post_index, weight, delay)``: four integer
    arrays with one entry per synapse; ``weight`` and ``delay`` may be scalars.
    Repeated pairs are separate synapses whose weights add. Delays are
    ``1..MAX_DELAY``; the compiler checks weights and delays against the chip.
    The arrays are read-only. ``plastic=True`` lets the learning engine of the
    target's core change these weights (the chip's cores need a learning spec).
    """

    def __init__(self, pre, post, synapses, *, plastic=False):
        _check_ends(pre, post)
        if not isinstance(plastic, bool):
            raise TypeError(f"plastic must be a bool, not {plastic!r}")
        self._plastic = plastic
        if not isinstance(synapses, (tuple, list)):
            raise TypeError("synapses must be a tuple of four arrays (pre, post, weight, delay), "
                            f"not {type(synapses).__name__}")
        if len(synapses) != 4:
            raise ValueError("synapses must be a tuple of four arrays (pre, post, weight, delay), "
                             f"not of {len(synapses)}")
        indices = []
        for name, value in (("pre", synapses[0]), ("post", synapses[1])):
            arr = np.asarray(value)
            if arr.ndim != 1:
                raise ValueError(f"synapses {name} must be a 1-d array, not shape {arr.shape}")
            indices.append(arr)
        k = len(indices[0])
        if len(indices[1]) != k:
            raise ValueError(f"synapses post must have one entry per synapse ({k}, as pre), "
                             f"not {len(indices[1])}")
        pre_index, post_index = (_integers(f"synapses {name}", arr, (k,), "one per synapse")
                                 for name, arr in zip(("pre", "post"), indices))
        weight, delay = (_integers(f"synapses {name}", value, (k,), "one per synapse")
                         for name, value in (("weight", synapses[2]), ("delay", synapses[3])))
        _check_range("synapses pre", pre_index, 0, pre.n - 1)
        _check_range("synapses post", post_index, 0, post.n - 1)
        _check_range("synapses delay", delay, 1, MAX_DELAY)
        self._pre, self._post = pre, post
        self._arrays = []
        for arr in (pre_index, post_index, weight, delay):
            # An own, contiguous copy: the caller may reuse theirs.
            arr = np.array(arr, dtype=np.int64)
            arr.setflags(write=False)
            self._arrays.append(arr)

    @classmethod
    def dense(cls, pre, post, weights, delays=1, *, plastic=False):
        """From a ``[pre.n, post.n]`` weight matrix; zeros are no synapse."""
        _check_ends(pre, post)
        shape = (pre.n, post.n)
        w = np.asarray(weights)
        if w.dtype.kind not in "iu":
            raise TypeError(f"weights must hold integers, not {w.dtype}")
        if w.shape != shape:
            raise ValueError(f"weights must have shape {shape} (pre.n, post.n), not {w.shape}")
        d = _integers("delays", delays, shape, "pre.n, post.n")
        i, j = np.nonzero(w)
        _check_delays("delays", d, (i, j))
        return cls(pre, post, (i, j, w[i, j], d[i, j]), plastic=plastic)

    @classmethod
    def one_to_one(cls, pre, post, weight, delay=1, *, plastic=False):
        """Neuron ``i`` of ``pre`` to neuron ``i`` of ``post``.

        ``weight`` and ``delay`` are scalars or one per neuron.
        """
        _check_ends(pre, post)
        if pre.n != post.n:
            raise ValueError(f"one_to_one needs pre and post of one size, not {pre.n} and {post.n}")
        ids = np.arange(pre.n)
        w = _integers("weight", weight, (pre.n,), "pre.n")
        d = _integers("delay", delay, (pre.n,), "pre.n")
        _check_delays("delay", d, (ids,))
        return cls(pre, post, (ids, ids, w, d), plastic=plastic)

    @classmethod
    def sparse_random(cls, pre, post, p, weight, delay=1, seed=None, *, plastic=False):
        """Each ``(pre, post)`` pair is a synapse with probability ``p``, independently.

        ``weight`` and ``delay`` are scalars or ``[pre.n, post.n]`` arrays
        (read where a synapse is drawn). ``seed`` goes to
        :func:`numpy.random.default_rng`.
        """
        _check_ends(pre, post)
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"p must be a number, not {p!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"p must be between 0 and 1, not {p}")
        shape = (pre.n, post.n)
        w = _integers("weight", weight, shape, "pre.n, post.n")
        d = _integers("delay", delay, shape, "pre.n, post.n")
        rng = np.random.default_rng(seed)
        # Row by row, so a large projection never holds a [pre.n, post.n] float matrix.
        hits = [np.flatnonzero(rng.random(post.n) < p) for _ in range(pre.n)]
        i = np.repeat(np.arange(pre.n), [len(h) for h in hits])
        j = np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)
        _check_delays("delay", d, (i, j))
        return cls(pre, post, (i, j, w[i, j], d[i, j]), plastic=plastic)

    @classmethod
    def conv2d(cls, pre, post, weights, in_shape, stride=1, padding=0, delay=1, *,
               plastic=False):
        """A 2-d convolution expanded to synapses, PyTorch's layout and arithmetic.

        ``weights`` is ``[out_channels, in_channels, kh, kw]`` integers; ``in_shape``
        is ``(in_channels, height, width)`` of ``pre`` (channel-major, ``pre.n`` =
        their product); ``post`` holds ``(out_channels, out_height, out_width)``
        channel-major. ``stride`` and ``padding`` are one number or a pair. Zero
        weights and taps that fall in the padding are no synapse.
        """
        _check_ends(pre, post)
        w = np.asarray(weights)
        if w.dtype.kind not in "iu":
            raise TypeError(f"weights must hold integers, not {w.dtype}")
        if w.ndim != 4:
            raise ValueError(f"weights must have shape (out_channels, in_channels, kh, kw), "
                             f"not {w.shape}")
        shape = tuple(np.asarray(in_shape).tolist()) if not isinstance(in_shape, tuple) \
            else in_shape
        if len(shape) != 3 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                  or v < 1 for v in shape):
            raise ValueError(f"in_shape must be (channels, height, width) of positive "
                             f"integers, not {in_shape!r}")
        if shape[0] != w.shape[1]:
            raise ValueError(f"in_shape has {shape[0]} channels, but weights take {w.shape[1]}")
        if pre.n != shape[0] * shape[1] * shape[2]:
            raise ValueError(f"pre has {pre.n} neurons, not {shape[0] * shape[1] * shape[2]} "
                             f"(in_shape {shape})")
        pairs = {}
        for name, value in (("stride", stride), ("padding", padding)):
            pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
            lo = 1 if name == "stride" else 0
            if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                     or v < lo for v in pair):
                raise ValueError(f"{name} must be an integer of at least {lo} or a pair of "
                                 f"them, not {value!r}")
            pairs[name] = tuple(int(v) for v in pair)
        (sy, sx), (py, px) = pairs["stride"], pairs["padding"]
        c_in, h, wd = shape
        c_out, _, kh, kw = w.shape
        oh, ow = (h + 2 * py - kh) // sy + 1, (wd + 2 * px - kw) // sx + 1
        if oh < 1 or ow < 1:
            raise ValueError(f"a {kh}x{kw} kernel does not fit in_shape {shape} with padding "
                             f"{(py, px)}")
        if post.n != c_out * oh * ow:
            raise ValueError(f"post has {post.n} neurons, not {c_out * oh * ow} "
                             f"({c_out} channels of {oh}x{ow})")
        if isinstance(delay, bool) or not isinstance(delay, numbers.Integral):
            raise TypeError(f"delay must be an integer (one delay for the whole convolution), "
                            f"not {delay!r}")
        if not 1 <= delay <= MAX_DELAY:
            raise ValueError(f"delay must be between 1 and {MAX_DELAY}, not {delay}")
        d = int(delay)
        oy, ox = np.meshgrid(np.arange(oh), np.arange(ow), indexing="ij")
        oy, ox = oy.ravel(), ox.ravel()
        pre_parts, post_parts, w_parts = [], [], []
        for o, c, p, q in zip(*np.nonzero(w)):
            y, x = oy * sy - py + p, ox * sx - px + q
            inside = (y >= 0) & (y < h) & (x >= 0) & (x < wd)
            pre_parts.append(c * h * wd + y[inside] * wd + x[inside])
            post_parts.append(o * oh * ow + oy[inside] * ow + ox[inside])
            w_parts.append(np.full(int(inside.sum()), w[o, c, p, q], dtype=np.int64))
        cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return cls(pre, post, (cat(pre_parts), cat(post_parts), cat(w_parts), int(d)),
                   plastic=plastic)

    @property
    def plastic(self):
        return self._plastic

    @property
    def pre(self):
        return self._pre

    @property
    def post(self):
        return self._post

    @property
    def pre_index(self):
        return self._arrays[0]

    @property
    def post_index(self):
        return self._arrays[1]

    @property
    def weight(self):
        return self._arrays[2]

    @property
    def delay(self):
        return self._arrays[3]

    def __len__(self):
        return len(self._arrays[0])

    def __repr__(self):
        plastic = ", plastic" if self._plastic else ""
        return f"Projection({self._pre!r} -> {self._post!r}, {len(self)} synapses{plastic})"


class Network:
    """Populations, inputs and projections, in the order they were added.

    The compiler places populations in this order. Names, when given, are
    unique within a network.
    """

    def __init__(self):
        self._populations = []
        self._projections = []

    @property
    def populations(self):
        """Every :class:`Population` and :class:`InputPopulation`, in order."""
        return tuple(self._populations)

    @property
    def projections(self):
        return tuple(self._projections)

    def add(self, *items):
        """Add populations, inputs and projections, in any order; returns what it was given.

        ``exc = net.add(Population(...))`` keeps the handle;
        ``a, b = net.add(pa, pb)`` works for several.
        """
        for item in items:
            if isinstance(item, (Population, InputPopulation)):
                if any(item is p for p in self._populations):
                    raise ValueError(f"{item!r} is already in the network")
                if item.name is not None and any(p.name == item.name for p in self._populations):
                    raise ValueError(f"name {item.name!r} is already used in the network")
                self._populations.append(item)
            elif isinstance(item, Projection):
                if any(item is p for p in self._projections):
                    raise ValueError(f"{item!r} is already in the network")
                self._projections.append(item)
            else:
                raise TypeError("add takes a Population, an InputPopulation or a Projection, "
                                f"not {item!r}")
        return items[0] if len(items) == 1 else items

    def label(self, population):
        """How messages name ``population``: ``'exc'``, ``#2`` (unnamed: its place) or its repr."""
        if population.name is not None:
            return repr(population.name)
        for i, p in enumerate(self._populations):
            if p is population:
                return f"#{i}"
        return repr(population)

    def check(self):
        """Raise if a projection uses a population that is not in the network."""
        for k, proj in enumerate(self._projections):
            for role, pop in (("pre", proj.pre), ("post", proj.post)):
                if not any(pop is p for p in self._populations):
                    raise ValueError(
                        f"projection {k} ({self.label(proj.pre)} -> {self.label(proj.post)}) "
                        f"uses {role} population {self.label(pop)}, which is not in the network")

"""Input sources: spike trains for a network's inputs, as ``[T, n]`` arrays of spike counts.

Every source returns int64 counts per step and input neuron, the form
:func:`spikeforge.simulate.run` and :meth:`spikeforge.quantise.Quantised.input_counts`
take (a count of 2 is two events in that step).

* :func:`poisson`: independent Poisson processes at a rate in Hz.
* :func:`spike_array`: a list of ``(step, neuron)`` events.
* :func:`dvs_frames`: an event camera's ``(t, x, y, p)`` stream binned into steps,
  channel-major ``(polarity, y, x)`` like the NIR graphs of DVS networks take it.
* :func:`read_events`: a recording from an iniVation camera (``.aedat4``, through the
  ``aedat`` decoder) or an event list (``.npy``, ``.csv``), as a structured array with
  fields ``t`` (µs), ``x``, ``y``, ``p``.

Nothing is dropped in silence: an event outside the sensor, the neurons or the steps is
an error that says which one.
"""

import numbers
from pathlib import Path

import numpy as np

__all__ = ["poisson", "spike_array", "dvs_frames", "read_events", "EVENT_DTYPE"]

#: The event record every reader returns: time in microseconds, pixel, polarity (0 or 1).
EVENT_DTYPE = np.dtype([("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "u1")])


def _count(name, value, lo=0):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ValueError(f"{name} must be an integer of at least {lo}, not {value!r}")
    return int(value)


def poisson(rate_hz, steps, dt, n=None, seed=None):
    """Poisson spike counts ``[steps, n]``: each neuron fires at ``rate_hz`` (scalar or one per
    neuron), so a step of ``dt`` seconds holds Poisson(``rate_hz * dt``) spikes."""
    steps = _count("steps", steps)
    if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not dt > 0 \
            or not np.isfinite(dt):
        raise ValueError(f"dt must be a positive number of seconds, not {dt!r}")
    rate = np.asarray(rate_hz, dtype=np.float64)
    if rate.ndim > 1:
        raise ValueError(f"rate_hz must be a number or one per neuron, not shape {rate.shape}")
    if n is None:
        if rate.ndim == 0:
            raise ValueError("n must be given when rate_hz is one number")
        n = len(rate)
    n = _count("n", n, 1)
    if rate.ndim == 1 and len(rate) != n:
        raise ValueError(f"rate_hz must have one rate per neuron ({n}), not {len(rate)}")
    bad = np.flatnonzero(~np.isfinite(np.atleast_1d(rate)) | (np.atleast_1d(rate) < 0))
    if len(bad):
        raise ValueError(f"rate_hz must be finite and 0 or more, not "
                         f"{np.atleast_1d(rate)[bad[0]]!r}")
    rng = np.random.default_rng(seed)
    return rng.poisson(np.broadcast_to(rate * dt, (n,)), size=(steps, n)).astype(np.int64)


def spike_array(events, n, steps):
    """Counts ``[steps, n]`` from ``events``, ``(step, neuron)`` pairs (any order, repeats add)."""
    n, steps = _count("n", n, 1), _count("steps", steps)
    ev = np.asarray(events)
    if ev.size == 0:
        return np.zeros((steps, n), dtype=np.int64)
    if ev.ndim != 2 or ev.shape[1] != 2:
        raise ValueError(f"events must be (step, neuron) pairs, shape [k, 2], not {ev.shape}")
    if ev.dtype.kind not in "iu":
        raise TypeError(f"events must hold integers, not {ev.dtype}")
    for column, name, limit in ((0, "step", steps), (1, "neuron", n)):
        bad = np.flatnonzero((ev[:, column] < 0) | (ev[:, column] >= limit))
        if len(bad):
            raise ValueError(f"event {bad[0]} has {name} {ev[bad[0], column]}, outside "
                             f"0..{limit - 1}")
    out = np.zeros((steps, n), dtype=np.int64)
    np.add.at(out, (ev[:, 0], ev[:, 1]), 1)
    return out


def _as_events(events):
    ev = np.asarray(events)
    if ev.dtype.names:
        missing = [f for f in "txyp" if f not in ev.dtype.names]
        if missing:
            raise ValueError(f"events must have fields t, x, y and p; missing "
                             f"{', '.join(missing)}")
        out = np.empty(len(ev), dtype=EVENT_DTYPE)
        for f in "txyp":
            out[f] = ev[f]
        return out
    if ev.ndim != 2 or ev.shape[1] != 4:
        raise ValueError(f"events must be a structured array with fields t, x, y, p or an "
                         f"array of shape [k, 4], not shape {ev.shape}")
    if ev.dtype.kind not in "iu":
        raise TypeError(f"events must hold integers, not {ev.dtype}")
    out = np.empty(len(ev), dtype=EVENT_DTYPE)
    for i, f in enumerate("txyp"):
        out[f] = ev[:, i]
    return out


def dvs_frames(events, sensor, steps, dt_us, t0=None, downsample=1):
    """Bin an event stream into counts ``[steps, 2 * H * W]`` in ``(polarity, y, x)`` order.

    ``sensor`` is the camera's ``(width, height)``; ``dt_us`` the step in
    microseconds; ``t0`` the start (default: the first event). ``downsample``
    sums ``k × k`` pixel blocks, so ``H = ceil(height / k)``. Events after the
    last step are an error: pass a larger ``steps`` or cut the stream.
    """
    ev = _as_events(events)
    if not (isinstance(sensor, (tuple, list)) and len(sensor) == 2):
        raise ValueError(f"sensor must be (width, height), not {sensor!r}")
    width, height = (_count(f"sensor {name}", v, 1) for name, v in zip(("width", "height"), sensor))
    steps, k = _count("steps", steps), _count("downsample", downsample, 1)
    dt_us = _count("dt_us", dt_us, 1)
    for field, limit in (("x", width), ("y", height), ("p", 2)):
        bad = np.flatnonzero((ev[field] < 0) | (ev[field] >= limit))
        if len(bad):
            raise ValueError(f"event {bad[0]} has {field} = {ev[field][bad[0]]}, outside the "
                             f"sensor's 0..{limit - 1}")
    start = int(ev["t"].min()) if t0 is None and len(ev) else int(t0 or 0)
    step = (ev["t"] - start) // dt_us
    bad = np.flatnonzero((step < 0) | (step >= steps))
    if len(bad):
        raise ValueError(f"event {bad[0]} at t = {ev['t'][bad[0]]} µs falls in step "
                         f"{step[bad[0]]}, outside 0..{steps - 1} (t0 = {start} µs, dt_us = "
                         f"{dt_us})")
    h, w = -(-height // k), -(-width // k)
    out = np.zeros((steps, 2, h, w), dtype=np.int64)
    np.add.at(out, (step, ev["p"].astype(np.int64), ev["y"] // k, ev["x"] // k), 1)
    return out.reshape(steps, 2 * h * w)


def read_events(path):
    """Read events: an AEDAT4 recording (``.aedat4``; every event stream in it), ``.npy``
    (structured, or ``[k, 4]`` t, x, y, p) or ``.csv`` (columns t, x, y, p; a header line
    is skipped). Returns :data:`EVENT_DTYPE` rows."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".aedat4":
        import aedat
        try:
            parts = [packet["events"] for packet in aedat.Decoder(str(path))
                     if "events" in packet]
        except Exception as exc:   # the decoder's own errors name what is damaged
            raise ValueError(f"{path} is not a readable AEDAT4 recording: {exc}") from None
        out = np.empty(sum(len(p) for p in parts), dtype=EVENT_DTYPE)
        if parts:
            events = np.concatenate(parts)
            for field, source in (("t", "t"), ("x", "x"), ("y", "y"), ("p", "on")):
                out[field] = events[source]
        return out
    if suffix == ".npy":
        try:
            return _as_events(np.load(path, allow_pickle=False))
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path}: {exc}") from None
    if suffix == ".csv":
        with open(path) as f:
            first = f.readline()
        skip = 0 if first.strip()[:1].lstrip("-").isdigit() else 1
        try:
            table = np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.int64, ndmin=2)
        except ValueError as exc:
            raise ValueError(f"{path}: every row must be four integers t, x, y, p ({exc})") \
                from None
        if table.size == 0:
            return np.zeros(0, dtype=EVENT_DTYPE)
        try:
            return _as_events(table)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    raise ValueError(f"{path}: events are read from .aedat4, .npy or .csv files, not "
                     f"{suffix or 'a file without a suffix'}")

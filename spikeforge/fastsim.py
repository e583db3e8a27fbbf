"""Compiled fast path of the golden LIF core: the same timestep, as numba loops.

:func:`simulate_fast` runs a :class:`golden_model.CoreImage` and returns what
:func:`golden_model.lif_core.simulate` returns, bit for bit: spikes, ``u``,
``v``, SOPs per step and the final :class:`~golden_model.CoreState`. The
numpy code stays the specification; ``tests/spikeforge/test_fastsim.py``
checks the two against each other on random images with every mode.

:class:`FastCore` holds a core as flat int64 arrays without
:class:`~golden_model.CoreParams`' size limits (widths are still checked), so
benchmarks can run networks larger than one hardware core, and
:func:`simulate_core` can route a step's spikes back as the next step's axon
events (``loopback``), the "spikes routed from step t-1" of the contract.
"""

import dataclasses

import numba
import numpy as np

from golden_model.fixedpoint import (DECAY_ONE, DECAY_SHIFT, Overflow, Rounding, signed_max,
                                     signed_min, unsigned_max, wrap)
from golden_model.image import CoreImage, SynapseTable
from golden_model.lif_core import CoreRun, CoreState, normalise_inputs
from golden_model.params import LIFProfile, ResetMode, check_field, check_int, check_widths

__all__ = ["FastCore", "simulate_fast", "simulate_core"]


# The kernel's own codes. They are derived from the enum members in Python, never
# from the enums' numeric values, so a renumbering in golden_model cannot leave a
# stale cached kernel disagreeing with the spec.
_RESET_ZERO, _RESET_SUBTRACT, _RESET_VALUE = 0, 1, 2
_RESET_CODES = {ResetMode.ZERO: _RESET_ZERO, ResetMode.SUBTRACT: _RESET_SUBTRACT,
                ResetMode.VALUE: _RESET_VALUE}

# Sizes have no hardware limit here; this bound only keeps a typo from allocating
# the machine away before it fails.
_SIZE_MAX = 1 << 40


@dataclasses.dataclass(frozen=True, eq=False)
class FastCore:
    """One core as arrays for the compiled kernel, checked like a :class:`CoreImage`.

    Widths (``max_delay``, ``state_bits``, ``weight_bits``, ``weight_signed``,
    ``refractory_bits``, ``acc_bits``) have :class:`~golden_model.CoreParams`'
    ranges and defaults, and the arrays are checked as :class:`CoreImage`
    checks them. Sizes (``n_neurons``, ``n_axons``, the number of synapses and
    profiles) are limited only by memory, which is what lets a benchmark run a
    network bigger than one hardware core. The widths keep int64 exact: state
    at most 24 bits, accumulator at most 32.
    """
    n_neurons: int
    n_axons: int
    synapses: SynapseTable
    profiles: tuple
    neuron_profile: np.ndarray
    u0: np.ndarray = None
    v0: np.ndarray = None
    max_delay: int = 8
    state_bits: int = 24
    weight_bits: int = 8
    weight_signed: bool = True
    refractory_bits: int = 4
    acc_bits: int = None

    def __post_init__(self):
        check_field(self, "n_neurons", 1, _SIZE_MAX)
        check_field(self, "n_axons", 1, _SIZE_MAX)
        check_field(self, "max_delay", 1, 64)
        check_widths(self)

        profiles = tuple(self.profiles)
        if not profiles:
            raise ValueError("profiles must hold at least one profile, not 0")
        for i, prof in enumerate(profiles):
            if not isinstance(prof, LIFProfile):
                raise TypeError(f"profiles[{i}] must be a LIFProfile, not {prof!r}")
            # check_fits reads only state_bits and refractory_max, which this class has.
            prof.check_fits(self, name=f"profiles[{i}]")
        object.__setattr__(self, "profiles", profiles)

        # CoreImage's own helpers, so that both classes say the same sentences.
        N = self.n_neurons
        object.__setattr__(self, "neuron_profile", CoreImage._vector(
            "neuron_profile", self.neuron_profile, N, 0, len(profiles) - 1))
        lo, hi = signed_min(self.state_bits), signed_max(self.state_bits)
        for name in ("u0", "v0"):
            value = 0 if getattr(self, name) is None else getattr(self, name)
            object.__setattr__(self, name, CoreImage._vector(name, value, N, lo, hi))

        syn = self.synapses
        if not isinstance(syn, SynapseTable):
            raise TypeError(f"synapses must be a SynapseTable, not {syn!r}")
        columns = {}
        for f in dataclasses.fields(SynapseTable):
            arr = np.asarray(getattr(syn, f.name))
            if arr.dtype.kind not in "iu":
                raise TypeError(f"synapse {f.name} must hold integers, not {arr.dtype}")
            if arr.ndim != 1:
                raise ValueError(f"synapse {f.name} must be one-dimensional, not shape "
                                 f"{arr.shape}")
            columns[f.name] = np.ascontiguousarray(arr, dtype=np.int64)
        syn = SynapseTable(**columns)
        if syn.n_axons > self.n_axons:
            raise ValueError(f"synapses use {syn.n_axons} axons, more than n_axons = "
                             f"{self.n_axons}")
        n_syn = len(syn.target)
        for name in ("weight", "delay"):
            if len(getattr(syn, name)) != n_syn:
                raise ValueError(f"synapse {name} must have one entry per synapse ({n_syn}), "
                                 f"not {len(getattr(syn, name))}")
        if len(syn.count) != syn.n_axons:
            raise ValueError(f"synapse count must have one entry per axon ({syn.n_axons}), "
                             f"not {len(syn.count)}")
        # The compiled kernel does not check bounds, so a CSR row that leaves the table
        # would read other memory instead of failing.
        CoreImage._check_range("synapse axon {i} count", syn.count, 0, n_syn)
        CoreImage._check_range("synapse axon {i} start", syn.start, 0, n_syn)
        CoreImage._check_range("synapse axon {i} start + count", syn.start + syn.count, 0, n_syn)
        CoreImage._check_range("synapse entry {i} target", syn.target, 0, N - 1)
        CoreImage._check_range("synapse entry {i} weight", syn.weight, self.weight_min,
                               self.weight_max,
                               f" for {self.weight_bits}-bit "
                               f"{'signed' if self.weight_signed else 'unsigned'} weights")
        CoreImage._check_range("synapse entry {i} delay", syn.delay, 1, self.max_delay)
        if syn.n_axons < self.n_axons:
            pad = self.n_axons - syn.n_axons
            syn = SynapseTable(
                start=np.concatenate([syn.start, np.full(pad, n_syn, dtype=np.int64)]),
                count=np.concatenate([syn.count, np.zeros(pad, dtype=np.int64)]),
                target=syn.target, weight=syn.weight, delay=syn.delay)
        object.__setattr__(self, "synapses", syn)

        col = lambda f, dtype=np.int64: np.array([f(p) for p in profiles], dtype=dtype)
        object.__setattr__(self, "_profile_columns", (
            col(lambda p: p.du_eff), col(lambda p: p.dv_eff), col(lambda p: p.vth),
            col(lambda p: p.bias), col(lambda p: _RESET_CODES[p.reset]),
            col(lambda p: p.v_reset), col(lambda p: p.refractory),
            col(lambda p: p.weight_exp),
            col(lambda p: p.rounding is Rounding.FLOOR, np.bool_),
            col(lambda p: p.u_overflow is Overflow.SATURATE, np.bool_),
            col(lambda p: p.v_overflow is Overflow.SATURATE, np.bool_)))
        # Runs of consecutive neurons with one profile: the kernel updates a run with the
        # profile's parameters held in registers. Populations are usually contiguous, so
        # a real network has a handful of runs.
        cut = np.flatnonzero(np.diff(self.neuron_profile)) + 1
        run_lo = np.concatenate([[0], cut]).astype(np.int64)
        run_hi = np.concatenate([cut, [N]]).astype(np.int64)
        object.__setattr__(self, "_profile_runs",
                           (run_lo, run_hi, self.neuron_profile[run_lo].copy()))

    @classmethod
    def from_image(cls, image):
        """The arrays of a checked :class:`CoreImage`, with its widths."""
        if not isinstance(image, CoreImage):
            raise TypeError(f"image must be a CoreImage, not {image!r}")
        p = image.params
        if p.learning is not None:
            raise ValueError("the fast path has no learning engine; simulate a core with "
                             "CoreParams.learning with golden_model.lif_core.simulate")
        if p.neuron_model.name != "LIF":
            raise ValueError(f"the fast path runs LIF cores; simulate a core of "
                             f"{p.neuron_model.name} neurons with golden_model.lif_core.simulate")
        return cls(n_neurons=p.n_neurons, n_axons=p.n_axons, synapses=image.synapses,
                   profiles=image.profiles, neuron_profile=image.neuron_profile,
                   u0=image.u0, v0=image.v0, max_delay=p.max_delay, state_bits=p.state_bits,
                   weight_bits=p.weight_bits, weight_signed=p.weight_signed,
                   refractory_bits=p.refractory_bits, acc_bits=p.acc_bits)

    @property
    def n_synapses(self):
        return len(self.synapses.target)

    @property
    def weight_min(self):
        return signed_min(self.weight_bits) if self.weight_signed else 0

    @property
    def weight_max(self):
        return signed_max(self.weight_bits) if self.weight_signed else \
            unsigned_max(self.weight_bits)

    @property
    def refractory_max(self):
        return unsigned_max(self.refractory_bits)

    def initial_state(self):
        """The state before step 0, as :meth:`CoreState.initial` gives it for an image."""
        return CoreState(t=0, u=self.u0.copy(), v=self.v0.copy(),
                         ref=np.zeros(self.n_neurons, dtype=np.int64),
                         acc=np.zeros((self.max_delay, self.n_neurons), dtype=np.int64))


# --- the compiled kernel ------------------------------------------------------------
# Mirrors golden_model.fixedpoint and golden_model.lif on scalars. Every value is int64;
# unsigned types are avoided because numba promotes int64 op uint64 to float64.

@numba.njit(cache=True, inline="always")
def _wrap(x, bits):
    half = np.int64(1) << (bits - 1)
    return ((x + half) & ((np.int64(1) << bits) - 1)) - half


@numba.njit(cache=True, inline="always")
def _overflow(x, bits, saturate):
    if saturate:
        # Symmetric: the most negative code is never produced.
        hi = (np.int64(1) << (bits - 1)) - 1
        return min(max(x, -hi), hi)
    return _wrap(x, bits)


@numba.njit(cache=True, inline="always")
def _decay(x, d_eff, floor, shift, one):
    prod = x * (one - d_eff)
    if not floor:
        # Toward zero adds 2**shift - 1 to negatives before the floor shift; the sign
        # mask does it without a branch, so the neuron loop vectorises.
        prod += (prod >> 63) & (one - 1)
    return prod >> shift


@numba.njit(cache=True, inline="always")
def _deliver_axon(acc, a, base, syn_start, syn_count, syn_target, syn_weight, syn_delay):
    D = acc.shape[0]
    first = syn_start[a]
    for e in range(first, first + syn_count[a]):
        # (t - 1 + delay) mod D without a division: base = (t - 1) mod D and
        # 1 <= delay <= D, so one conditional subtraction suffices.
        s = base + syn_delay[e]
        if s >= D:
            s -= D
        # Summed unwrapped: wrapping is a ring homomorphism, so wrapping once when the
        # slot is read equals the spec's wrap after every delivery. int64 cannot overflow
        # first: a slot starts below 2**31 and a weight is at most 8 bits, so that would
        # take 2**54 SOPs into one slot before it is read.
        acc[s, syn_target[e]] += syn_weight[e]
    return syn_count[a]


@numba.njit(cache=True, inline="always")
def _update_run(acc_row, u, v, ref, spk, du, dv, vth, bias, reset, v_reset,
                refractory, weight_exp, floor, u_sat, v_sat, state_bits, acc_bits, shift, one):
    # The arrays are one run of neurons that share a profile, so every parameter is a
    # loop invariant and the body is selects, not branches: LLVM vectorises it.
    for n in range(len(u)):
        a = _wrap(acc_row[n], acc_bits)
        acc_row[n] = 0
        un = _overflow(_decay(u[n], du, floor, shift, one) + (a << weight_exp),
                       state_bits, u_sat)
        u[n] = un
        # Computed for refractory neurons too, and then dropped, as the spec does.
        vi = _overflow(_decay(v[n], dv, floor, shift, one) + un + bias, state_bits, v_sat)
        r = ref[n]
        held = r > 0
        fire = (not held) and vi > vth
        if reset == _RESET_ZERO:
            after = np.int64(0)
        elif reset == _RESET_SUBTRACT:
            after = vi - vth          # cannot overflow: 0 <= vth < vi
        else:
            after = v_reset
        v[n] = v[n] if held else (after if fire else vi)
        ref[n] = r - 1 if held else (refractory if fire else 0)
        spk[n] = fire


@numba.njit(cache=True)
def _run(t0, ev_ptr, ev_axon, loopback,
         syn_start, syn_count, syn_target, syn_weight, syn_delay,
         run_lo, run_hi, run_profile, du, dv, vth, bias, reset, v_reset, refractory,
         weight_exp, floor, u_sat, v_sat, state_bits, acc_bits, shift, one,
         u, v, ref, acc, spikes, u_rec, v_rec, record, sops):
    n_steps = len(ev_ptr) - 1
    N = u.shape[0]
    D = acc.shape[0]
    fired = np.empty(N, dtype=np.int64)   # neurons that spiked in the previous step
    n_fired = 0
    for i in range(n_steps):
        t = t0 + i
        # 1. Deliver: this step's external events, then last step's spikes (loopback).
        base = (t + D - 1) % D
        n_sop = 0
        for k in range(ev_ptr[i], ev_ptr[i + 1]):
            n_sop += _deliver_axon(acc, ev_axon[k], base,
                                   syn_start, syn_count, syn_target, syn_weight, syn_delay)
        for k in range(n_fired):
            n_sop += _deliver_axon(acc, fired[k], base,
                                   syn_start, syn_count, syn_target, syn_weight, syn_delay)
        sops[i] = n_sop

        # 2. Update every neuron from its slot for step t, one profile run at a time.
        acc_row = acc[t % D]
        spk = spikes[i]
        for r in range(len(run_lo)):
            p = run_profile[r]
            lo, hi = run_lo[r], run_hi[r]
            # Slices, not a range(lo, hi) loop: indices from 0 are provably non-negative,
            # so numba drops its negative-index wraparound select, which otherwise kept
            # LLVM from vectorising (half the speed on the CUBA benchmark).
            _update_run(acc_row[lo:hi], u[lo:hi], v[lo:hi], ref[lo:hi], spk[lo:hi],
                        du[p], dv[p], vth[p], bias[p], reset[p], v_reset[p], refractory[p],
                        weight_exp[p], floor[p], u_sat[p], v_sat[p],
                        state_bits, acc_bits, shift, one)
        n_fired = 0
        if loopback:
            for n in range(N):
                if spk[n]:
                    fired[n_fired] = n
                    n_fired += 1
        if record:
            u_rec[i, :] = u
            v_rec[i, :] = v


# --- Python entry points ------------------------------------------------------------

def _check_state(state, core):
    """Copies of ``state``'s arrays as contiguous int64, after checking they fit ``core``."""
    if not isinstance(state, CoreState):
        raise TypeError(f"state must be a CoreState, not {state!r}")
    check_int("state.t", state.t, 0, _SIZE_MAX)
    N, D = core.n_neurons, core.max_delay
    lo, hi = signed_min(core.state_bits), signed_max(core.state_bits)
    arrays = {}
    # Shapes and ranges matter here: the kernel indexes without bounds checks.
    for name, shape, lo_, hi_ in (("u", (N,), lo, hi), ("v", (N,), lo, hi),
                                  ("ref", (N,), 0, core.refractory_max),
                                  ("acc", (D, N), signed_min(core.acc_bits),
                                   signed_max(core.acc_bits))):
        arr = np.asarray(getattr(state, name))
        if arr.dtype.kind not in "iub":
            raise TypeError(f"state.{name} must hold integers, not {arr.dtype}")
        if arr.shape != shape:
            raise ValueError(f"state.{name} must have shape {shape}, not {arr.shape}")
        arr = np.array(arr, dtype=np.int64, order="C")
        for row, values in enumerate(arr.reshape(-1, N)):
            index = f"{row}, {{i}}" if arr.ndim == 2 else "{i}"
            CoreImage._check_range(f"state.{name}[{index}]", values, lo_, hi_)
        arrays[name] = arr
    return arrays


def simulate_core(core, inputs, n_steps=None, record_state=False, *, state=None,
                  loopback=False):
    """Run a :class:`FastCore`; returns a :class:`~golden_model.CoreRun`.

    ``inputs`` and ``n_steps`` are read by :func:`golden_model.lif_core.normalise_inputs`.
    With ``record_state`` the run holds ``u`` and ``v`` as ``[T, N]`` int64
    arrays; without it ``run.u`` and ``run.v`` are ``None``, so that code
    expecting them fails loudly instead of reading an empty array.

    ``state`` (default: the initial state) is continued from and updated in
    place, as :func:`golden_model.lif_core.simulate` does; ``run.state`` is it.

    With ``loopback`` each neuron's spike at step ``t`` is also an event on the
    axon with the neuron's id at step ``t + 1``, delivered with the external
    events of that step. The first step sees no routed spikes, and the last
    step's spikes are left undelivered in ``run.spikes[-1]``. It needs
    ``n_axons >= n_neurons``.
    """
    if not isinstance(core, FastCore):
        raise TypeError(f"core must be a FastCore, not {core!r}")
    if not isinstance(record_state, bool):
        raise TypeError(f"record_state must be a bool, not {record_state!r}")
    if not isinstance(loopback, bool):
        raise TypeError(f"loopback must be a bool, not {loopback!r}")
    if loopback and core.n_axons < core.n_neurons:
        raise ValueError(f"loopback needs an axon for every neuron: n_axons must be at least "
                         f"n_neurons = {core.n_neurons}, not {core.n_axons}")
    steps = normalise_inputs(inputs, core.n_axons, n_steps)
    state = core.initial_state() if state is None else state
    arrays = _check_state(state, core)

    T, N = len(steps), core.n_neurons
    ev_ptr = np.zeros(T + 1, dtype=np.int64)
    ev_ptr[1:] = np.cumsum([len(s) for s in steps])
    ev_axon = np.concatenate(steps).astype(np.int64) if T else np.zeros(0, dtype=np.int64)
    spikes = np.zeros((T, N), dtype=np.bool_)
    rec_shape = (T, N) if record_state else (0, 0)
    u_rec = np.zeros(rec_shape, dtype=np.int64)
    v_rec = np.zeros(rec_shape, dtype=np.int64)
    sops = np.zeros(T, dtype=np.int64)
    syn = core.synapses
    _run(np.int64(state.t), ev_ptr, ev_axon, loopback,
         syn.start, syn.count, syn.target, syn.weight, syn.delay,
         *core._profile_runs, *core._profile_columns,
         np.int64(core.state_bits), np.int64(core.acc_bits),
         np.int64(DECAY_SHIFT), np.int64(DECAY_ONE),
         arrays["u"], arrays["v"], arrays["ref"], arrays["acc"],
         spikes, u_rec, v_rec, record_state, sops)

    # The kernel leaves slots as unwrapped sums; the spec stores them wrapped.
    state.t += T
    state.u, state.v, state.ref = arrays["u"], arrays["v"], arrays["ref"]
    state.acc = wrap(arrays["acc"], core.acc_bits)
    return CoreRun(spikes=spikes, u=u_rec if record_state else None,
                   v=v_rec if record_state else None, sops=sops, state=state)


def simulate_fast(image, inputs, n_steps=None, record_state=False, *, state=None):
    """Compiled :func:`golden_model.lif_core.simulate`: the same run, bit for bit.

    Takes a :class:`CoreImage` and the same ``inputs``, ``n_steps`` and
    ``state``. ``run.u`` and ``run.v`` are ``[T, N]`` int64 arrays with
    ``record_state`` and ``None`` without it. See :func:`simulate_core`.
    """
    return simulate_core(FastCore.from_image(image), inputs, n_steps, record_state,
                         state=state)

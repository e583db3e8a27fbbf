"""Structural plasticity: prune synapses that stay at the bottom, regrow them elsewhere.

A slot of the synapse table that has sat at the prune level ``w_min`` for
``k_epochs`` epochs in a row gets a new target neuron, drawn at random, and
starts again at ``w_init``. The slot stays in its axon's CSR range, so the
table's layout (``start``, ``count``), the number of synapses, each axon's
number of synapses and every delay are fixed; only targets and weights move.

When it runs
------------
:func:`rewire` runs once per learning step, after the weight rule (step 3 of
the timestep contract, :mod:`golden_model.learning`), while
``StructuralParams.enable`` is set. With ``enable`` clear it does nothing at
all: the step counter, the epoch counters and the LFSR keep their values.

Order of operations in one call
-------------------------------
1. **Count.** ``step += 1``. If ``step`` is now ``epoch_steps``, set
   ``step = 0`` and this step ends an epoch: go on to 2. Otherwise stop. With
   ``epoch_steps = 1`` every step ends an epoch.
2. **Scan.** Visit every plastic entry once, axon by axon and each axon's
   entries in memory order (the scan order of
   :func:`golden_model.stdp.entry_axons`). Non-plastic entries and entries no
   axon owns are skipped and their counters stay 0. For entry ``e`` of axon
   ``a``, in this order:

   a. ``counter[e] = min(counter[e] + 1, k_epochs)`` if ``weight[e] == w_min``,
      else ``counter[e] = 0``.
   b. If ``counter[e] == k_epochs``, the entry is pruned (``pruned += 1``)
      and its slot is regrown: up to ``max_tries`` times, step the LFSR to its
      next state ``r`` (1..65535) and draw ``t = (r * n_neurons) >> 16``
      (0..n_neurons-1). Reject ``t`` if axon ``a``'s row already holds an
      entry with target ``t`` (a duplicate), or else if ``fan_in[t] >=
      fan_in_limit``. The first draw not rejected is taken: ``target[e] = t``,
      ``weight[e] = w_init``, ``counter[e] = 0``, ``fan_in`` moves one from the
      old target to ``t``, ``regrown += 1``; no further draws are made for
      ``e``. If all ``max_tries`` draws are rejected the slot keeps its old
      target and weight and its counter stays at ``k_epochs``, so the next
      epoch tries again if the weight is still ``w_min`` (and forgets it if
      the weight rule has moved it).

   The scan is one pass: a slot regrown earlier in the pass is already part
   of the table for the entries after it. ``fan_in[n]`` is the number of
   entries owned by an axon (plastic or not) whose target is ``n``, counted
   from ``target`` when the scan starts and kept up to date through it. The
   row of axon ``a`` in the duplicate check is its whole CSR range, including
   entry ``e`` itself with its old target: a slot never regrows to the neuron
   it was pruned from.

The LFSR steps exactly once per draw and never otherwise, so a draw's number
does not depend on anything but the number of draws before it. It is the
16-bit Galois LFSR of :class:`golden_model.stdp.LFSR` (right shift, tap mask
``0xB400``), with its own ``seed``, separate from the weight rule's.

Nothing else about an entry changes: its delay, its plastic flag, and other
per-entry learning state (the three-factor rule's eligibility) keep their
values. A neuron whose fan-in is already over ``fan_in_limit`` when the run
starts keeps those synapses; it only receives none from regrowth until it is
below the limit.

Because targets change, they are state: the caller holds an int64 copy of
:attr:`SynapseTable.target <golden_model.image.SynapseTable>` and delivers
spikes through it; :func:`rewire` changes that copy and ``weights`` in place.

Widths
------
=======================  ===========================================================
quantity                 width
=======================  ===========================================================
epoch counter            8 bit unsigned per entry (``k_epochs`` <= 255), saturating
step counter             16 bit, 0..epoch_steps-1 (``epoch_steps`` <= 65535)
LFSR state ``r``         16 bit, 1..65535
draw product             ``r * n_neurons``: 16 x 13 bit (n_neurons <= 4096), 28 bit
drawn target             ``neuron_bits``; the top bits of the product
fan-in of a neuron       ``count_bits`` (0..n_synapses, 17 bit for 65536 entries)
``fan_in_limit``         16 bit, 1..65535
``max_tries``            5 bit, 1..16
``w_min``, ``w_init``    the core's ``weight_bits`` (checked by ``check_fits``)
=======================  ===========================================================

The golden model keeps ``pruned`` and ``regrown`` as Python ints; they are
statistics, not part of the datapath.

What an RTL version would cost
------------------------------
The RTL does not implement structural plasticity. A version of it would need:

* a per-synapse counter memory of ``n_synapses x ceil(log2(k_epochs + 1))``
  bits (8 bits per entry for the full ``k_epochs`` range), read and written
  at every epoch end;
* a fan-in counter per neuron, ``n_neurons x count_bits`` bits, set up from
  the table at load time and updated on every regrowth (one decrement, one
  increment);
* a duplicate check: either a scan of the axon's row, ``count[a]`` cycles per
  draw (so up to ``max_tries x count[a]`` cycles per pruned slot), or a CAM
  over the row;
* write access to the target memory from the learning engine, which today
  only the loader writes through the config port;
* a 16 x 13 bit multiplier (or, for a power-of-two ``n_neurons``, a shift),
  a second LFSR and a 16-bit step counter.

The epoch-end scan visits every entry, so that step's learning phase is at
least ``n_synapses`` cycles longer, plus the cost of the draws.
"""

import dataclasses

import numpy as np

from .params import check_field, check_int
from .stdp import LFSR

__all__ = ["StructuralParams", "StructuralState", "rewire", "fan_in"]


@dataclasses.dataclass(frozen=True)
class StructuralParams:
    """Run-time parameters of structural plasticity.

    ================  =============  =============================================
    field             range          meaning
    ================  =============  =============================================
    ``epoch_steps``   1..65535       learning steps per epoch
    ``k_epochs``      1..255         epochs at ``w_min`` in a row before pruning
    ``w_init``        w_min..255     weight of a regrown synapse
    ``w_min``         -128..255      prune level: a weight equal to it counts
    ``fan_in_limit``  1..65535       regrowth never takes a neuron past this
                                     many synapses (one limit for the core)
    ``max_tries``     1..16          LFSR draws per pruned slot and epoch
    ``seed``          1..65535       seed of the structural LFSR
    ``enable``        bool           run structural plasticity at all
    ================  =============  =============================================

    ``w_init`` and ``w_min`` must lie within the core's weight range;
    :meth:`check_fits` checks them against a :class:`CoreParams`.
    """
    epoch_steps: int = 1000
    k_epochs: int = 3
    w_init: int = 1
    w_min: int = 0
    fan_in_limit: int = 65535
    max_tries: int = 4
    seed: int = 1
    enable: bool = True

    def __post_init__(self):
        check = lambda name, lo, hi: check_field(self, name, lo, hi)
        check("epoch_steps", 1, 65535)
        check("k_epochs", 1, 255)
        check("w_min", -128, 255)
        check("w_init", self.w_min, 255)
        check("fan_in_limit", 1, 65535)
        check("max_tries", 1, 16)
        check("seed", 1, 65535)
        if not isinstance(self.enable, bool):
            raise TypeError(f"enable must be a bool, not {self.enable!r}")

    def check_fits(self, core):
        """``w_init`` and ``w_min`` must lie in ``core``'s weight range."""
        check_int("w_min", self.w_min, core.weight_min, core.weight_max)
        check_int("w_init", self.w_init, core.weight_min, core.weight_max)


@dataclasses.dataclass
class StructuralState:
    """What structural plasticity holds between steps.

    ``counter`` (uint8 per entry): epochs in a row the entry ended at
    ``w_min``; ``step``: learning steps into the current epoch; ``lfsr``: the
    structural LFSR; ``pruned``: entries found at ``k_epochs`` at an epoch end
    (a slot that fails to regrow counts again each epoch it is retried);
    ``regrown``: of those, the ones that got a new target.
    """
    counter: np.ndarray
    lfsr: LFSR
    step: int = 0
    pruned: int = 0
    regrown: int = 0

    @classmethod
    def initial(cls, n_entries, params):
        return cls(counter=np.zeros(n_entries, dtype=np.uint8), lfsr=LFSR(params.seed))

    def copy(self):
        lfsr = LFSR(1)
        lfsr.state = self.lfsr.state
        return StructuralState(self.counter.copy(), lfsr, self.step, self.pruned, self.regrown)


def fan_in(target, axon_of, n_neurons):
    """Synapses per neuron: entries owned by an axon (``axon_of >= 0``) targeting it."""
    return np.bincount(target[axon_of >= 0], minlength=n_neurons).astype(np.int64)


def rewire(state, target, weights, plastic, axon_of, n_neurons, params):
    """Run structural plasticity for one learning step; changes its arguments in place.

    ``target`` and ``weights`` are int64 arrays per entry (the caller's
    mutable copies of the synapse table's targets and the learnt weights),
    ``plastic`` a boolean per entry and ``axon_of`` the owning axon of each
    entry (-1 for none), as :func:`golden_model.stdp.entry_axons` gives it;
    the scan order is entries sorted by axon, memory order within an axon.
    Returns the number of slots regrown by this call.
    """
    if not params.enable:
        return 0
    n_neurons = check_int("n_neurons", n_neurons, 1, 4096)
    for name, arr in (("target", target), ("weights", weights)):
        if not isinstance(arr, np.ndarray) or arr.dtype != np.int64:
            what = f"an array of {arr.dtype}" if isinstance(arr, np.ndarray) else \
                type(arr).__name__
            raise TypeError(f"{name} must be an int64 numpy array (it is changed in place), "
                            f"not {what}")
    n = len(state.counter)
    for name, arr in (("target", target), ("weights", weights), ("plastic", plastic),
                      ("axon_of", axon_of)):
        if len(arr) != n:
            raise ValueError(f"{name} must have one value per synapse entry ({n}), "
                             f"not {len(arr)}")

    state.step += 1
    if state.step < params.epoch_steps:
        return 0
    state.step = 0

    owned = np.flatnonzero(axon_of >= 0)
    order = owned[np.argsort(axon_of[owned], kind="stable")]
    rows = {}                                 # axon -> its entries, for the duplicate check
    for e in order:
        rows.setdefault(int(axon_of[e]), []).append(int(e))
    fan = fan_in(target, axon_of, n_neurons)
    regrown = 0
    for e in order[plastic[order]]:
        if weights[e] == params.w_min:
            state.counter[e] = min(int(state.counter[e]) + 1, params.k_epochs)
        else:
            state.counter[e] = 0
            continue
        if state.counter[e] < params.k_epochs:
            continue
        state.pruned += 1
        row = rows[int(axon_of[e])]
        for _ in range(params.max_tries):
            t = (state.lfsr.step() * n_neurons) >> 16
            if any(target[i] == t for i in row) or fan[t] >= params.fan_in_limit:
                continue
            fan[target[e]] -= 1
            fan[t] += 1
            target[e] = t
            weights[e] = params.w_init
            state.counter[e] = 0
            regrown += 1
            break
    state.regrown += regrown
    return regrown

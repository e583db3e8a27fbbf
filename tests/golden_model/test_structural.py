"""Golden structural plasticity: epoch counting, pruning, LFSR regrowth and its rejections, errors.

The regrown targets are worked out by hand from the LFSR (16-bit Galois,
right shift, taps 0xB400) and the draw ``(r * n_neurons) >> 16``;
:func:`draws` recomputes them with an LFSR instance of its own.
"""

import re

import numpy as np
import pytest

from golden_model import CoreParams, SynapseTable
from golden_model.stdp import LFSR, entry_axons
from golden_model.structural import StructuralParams, StructuralState, fan_in, rewire


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def draws(seed, n_neurons, k):
    """The first ``k`` targets the structural LFSR draws, from an independent LFSR."""
    lfsr = LFSR(seed)
    return [(lfsr.step() * n_neurons) >> 16 for _ in range(k)]


class Core:
    """A synapse table with the mutable arrays :func:`rewire` works on."""

    def __init__(self, synapses, params, n_axons=None, plastic=None, n_neurons=16, table=None):
        if table is None:
            n_axons = n_axons or 1 + max(s[0] for s in synapses)
            table = SynapseTable.from_synapses(n_axons, synapses)
        self.table = table
        self.target = table.target.copy()
        self.weight = table.weight.copy()
        self.axon_of, _ = entry_axons(table)
        self.plastic = np.ones(len(table), bool) if plastic is None else np.array(plastic)
        self.n_neurons = n_neurons
        self.params = params
        self.state = StructuralState.initial(len(table), params)

    def step(self):
        return rewire(self.state, self.target, self.weight, self.plastic, self.axon_of,
                      self.n_neurons, self.params)

    def fan_in(self):
        return fan_in(self.target, self.axon_of, self.n_neurons)


def test_lfsr_draws_by_hand():
    # Seed 1: 0x0001 -> lsb 1: 0x0000 ^ 0xB400 = 0xB400 = 46080; 46080 * 16 >> 16 = 11.
    # Then 0x5A00 = 23040 -> 5, 0x2D00 = 11520 -> 2, 0x1680 = 5760 -> 1.
    assert draws(1, 16, 4) == [11, 5, 2, 1]
    # Seed 12345 = 0x3039 -> lsb 1: 0x181C ^ 0xB400 = 0xAC1C = 44060; 44060 * 100 >> 16 = 67.
    assert draws(12345, 100, 1) == [67]
    # Seed 5760 = 0x1680 draws 0 seven times in a row.
    assert draws(5760, 16, 8) == [0] * 7 + [11]


def test_pruned_after_exactly_k_epochs_at_w_min_and_not_before():
    p = StructuralParams(epoch_steps=2, k_epochs=3, w_min=0, w_init=9, seed=1)
    core = Core([(0, 3, 0, 1), (0, 4, 1, 2)], p)
    trace = []
    for _ in range(6):
        done = core.step()
        trace.append((done, core.state.step, core.state.counter.tolist(), core.target.tolist(),
                      core.weight.tolist()))
    # Epochs end on calls 2, 4 and 6; entry 0 sits at w_min = 0, entry 1 at 1 never counts.
    assert trace[:5] == [
        (0, 1, [0, 0], [3, 4], [0, 1]),
        (0, 0, [1, 0], [3, 4], [0, 1]),
        (0, 1, [1, 0], [3, 4], [0, 1]),
        (0, 0, [2, 0], [3, 4], [0, 1]),
        (0, 1, [2, 0], [3, 4], [0, 1]),
    ]
    # End of the third epoch: the counter reaches 3, the slot regrows to the first draw
    # of seed 1 (11) at w_init, and its counter restarts.
    assert trace[5] == (1, 0, [0, 0], [11, 4], [9, 1])
    assert (core.state.pruned, core.state.regrown) == (1, 1)
    assert core.state.lfsr.state == 0xB400
    assert core.table.delay.tolist() == [1, 2]


def test_leaving_w_min_resets_the_counter():
    p = StructuralParams(epoch_steps=1, k_epochs=2, w_min=0, w_init=6)
    core = Core([(0, 3, 0, 1)], p)
    counters = []
    for w in (0, 5, 0):
        core.weight[0] = w
        core.step()
        counters.append(int(core.state.counter[0]))
    # 1 at w_min, 0 off it, then counting again from 1: no prune yet.
    assert counters == [1, 0, 1]
    assert core.target.tolist() == [3] and core.state.lfsr.state == 1
    core.step()
    assert core.target.tolist() == [11] and core.weight.tolist() == [6]


def test_regrown_target_is_the_lfsr_draw():
    p = StructuralParams(epoch_steps=1, k_epochs=1, w_min=-3, w_init=-1, seed=12345)
    core = Core([(0, 50, -3, 1)], p, n_neurons=100)
    assert core.step() == 1
    # r = 0xAC1C, (44060 * 100) >> 16 = 67.
    assert core.target.tolist() == [(0xAC1C * 100) >> 16] == draws(12345, 100, 1) == [67]
    assert core.weight.tolist() == [-1]


def test_scan_order_is_axon_by_axon_not_memory_order():
    # Entry 0 belongs to axon 1 and entry 1 to axon 0: axon 0's entry is scanned first and
    # takes the first draw (11), entry 0 the second (5).
    table = SynapseTable(start=np.array([1, 0]), count=np.array([1, 1]), target=np.array([3, 4]),
                         weight=np.array([0, 0]), delay=np.array([1, 1]))
    core = Core(None, StructuralParams(epoch_steps=1, k_epochs=1), table=table)
    assert core.step() == 2
    assert core.target.tolist() == [5, 11]


def test_duplicate_draws_are_rejected_and_retried():
    p = StructuralParams(epoch_steps=1, k_epochs=1, w_min=0, w_init=4, max_tries=3, seed=1)
    # Axon 0 already reaches 11 and 5, the first two draws; the third, 2, is taken.
    core = Core([(0, 0, 0, 1), (0, 11, 50, 1), (0, 5, 50, 1)], p)
    assert core.step() == 1
    assert core.target.tolist() == [2, 11, 5] and core.weight.tolist() == [4, 50, 50]
    assert core.state.lfsr.state == 0x2D00  # three draws


def test_a_slot_never_regrows_to_its_old_target():
    p = StructuralParams(epoch_steps=1, k_epochs=1, w_min=0, w_init=4, seed=1)
    core = Core([(0, 11, 0, 1)], p)
    core.step()
    # The first draw, 11, is the slot's own target: a duplicate. The second, 5, is taken.
    assert core.target.tolist() == [5] and core.state.lfsr.state == 0x5A00


def test_fan_in_limit_rejects_and_retries():
    p = StructuralParams(epoch_steps=1, k_epochs=1, w_min=0, w_init=4, fan_in_limit=2,
                         max_tries=3, seed=1)
    # Neurons 11 and 5 (the first two draws) already have two synapses each, from axons 1
    # and 2; axon 0 does not reach them, so they are rejected for fan-in alone.
    syn = [(0, 3, 0, 1), (1, 11, 50, 1), (1, 5, 50, 1), (2, 11, 50, 1), (2, 5, 50, 1)]
    core = Core(syn, p, plastic=[True, False, False, False, False])
    assert core.fan_in()[[3, 11, 5, 2]].tolist() == [1, 2, 2, 0]
    assert core.step() == 1
    assert core.target.tolist() == [2, 11, 5, 11, 5]
    assert core.fan_in()[[3, 11, 5, 2]].tolist() == [0, 2, 2, 1]


def test_fan_in_counts_slots_regrown_earlier_in_the_same_scan():
    p = StructuralParams(epoch_steps=1, k_epochs=1, w_min=0, w_init=4, fan_in_limit=1,
                         max_tries=2, seed=5760)
    # Seed 5760 draws 0, 0, 0, ...: axon 0's slot takes neuron 0, after which neuron 0 is at
    # the limit and both of axon 1's draws are rejected.
    core = Core([(0, 3, 0, 1), (1, 4, 0, 1)], p)
    assert core.step() == 1
    assert core.target.tolist() == [0, 4] and core.weight.tolist() == [4, 0]
    assert (core.state.pruned, core.state.regrown) == (2, 1)


def test_failure_keeps_the_slot_and_retries_next_epoch():
    p = StructuralParams(epoch_steps=1, k_epochs=2, w_min=0, w_init=4, max_tries=2, seed=1)
    core = Core([(0, 0, 0, 1), (0, 11, 50, 1), (0, 5, 50, 1)], p)
    core.step()
    assert core.state.counter.tolist() == [1, 0, 0]
    # Second epoch: counter 2 = k_epochs; draws 11 and 5 are both duplicates, so the
    # slot keeps target 0 and weight 0 and its counter stays at k_epochs.
    assert core.step() == 0
    assert core.target.tolist() == [0, 11, 5] and core.weight.tolist() == [0, 50, 50]
    assert core.state.counter.tolist() == [2, 0, 0]
    assert (core.state.pruned, core.state.regrown) == (1, 0)
    assert core.state.lfsr.state == 0x5A00
    # Third epoch: still at w_min, the counter saturates at 2 and the slot is retried:
    # the third draw, 2, is taken.
    assert core.step() == 1
    assert core.target.tolist() == [2, 11, 5] and core.weight.tolist() == [4, 50, 50]
    assert core.state.counter.tolist() == [0, 0, 0]
    assert (core.state.pruned, core.state.regrown) == (2, 1)


def test_failed_slot_that_leaves_w_min_is_forgotten():
    p = StructuralParams(epoch_steps=1, k_epochs=1, w_min=0, w_init=4, max_tries=2, seed=1)
    core = Core([(0, 0, 0, 1), (0, 11, 50, 1), (0, 5, 50, 1)], p)
    core.step()
    assert core.state.counter.tolist() == [1, 0, 0] and core.target[0] == 0
    core.weight[0] = 1
    assert core.step() == 0
    assert core.state.counter.tolist() == [0, 0, 0]
    assert core.state.lfsr.state == 0x5A00  # no draws


def test_non_plastic_and_unowned_entries_are_never_pruned():
    p = StructuralParams(epoch_steps=1, k_epochs=1, w_min=0, w_init=1, seed=1)
    # Entry 2 lies outside every axon's range; entry 0 is not plastic.
    table = SynapseTable(start=np.array([0]), count=np.array([2]), target=np.array([3, 4, 5]),
                         weight=np.array([0, 0, 0]), delay=np.array([1, 1, 1]))
    core = Core(None, p, table=table)
    core.plastic[0] = False
    for _ in range(5):
        core.step()
    # Only entry 1 is rewired, once (the first draw, 11); it then sits at w_init = 1.
    assert core.target.tolist() == [3, 11, 5] and core.weight.tolist() == [0, 1, 0]
    assert core.state.counter.tolist() == [0, 0, 0]
    assert core.state.lfsr.state == 0xB400
    assert core.fan_in()[[3, 5, 11]].tolist() == [1, 0, 1]


def test_disabled_does_nothing():
    p = StructuralParams(epoch_steps=1, k_epochs=1, w_min=0, enable=False)
    core = Core([(0, 3, 0, 1), (1, 4, 0, 1)], p)
    for _ in range(10):
        assert core.step() == 0
    assert core.target.tolist() == [3, 4] and core.weight.tolist() == [0, 0]
    s = core.state
    assert (s.step, s.counter.tolist(), s.lfsr.state, s.pruned, s.regrown) == \
        (0, [0, 0], 1, 0, 0)


def test_state_copy_is_independent():
    p = StructuralParams(epoch_steps=1, k_epochs=1)
    core = Core([(0, 3, 0, 1)], p)
    saved = core.state.copy()
    core.step()
    assert (saved.step, saved.counter.tolist(), saved.lfsr.state, saved.pruned) == (0, [0], 1, 0)
    assert core.state.lfsr.state == 0xB400


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_long_run_keeps_the_synapse_count_and_the_fan_in_limit(seed):
    rng = np.random.default_rng(seed)
    n_axons, n_neurons, limit = 12, 16, 3
    syn = []
    for n in range(n_neurons):
        for a in rng.choice(n_axons, size=rng.integers(0, limit + 1), replace=False):
            syn.append((int(a), n, int(rng.integers(0, 3)), int(rng.integers(1, 4))))
    p = StructuralParams(epoch_steps=2, k_epochs=2, w_min=0, w_init=2, fan_in_limit=limit,
                         max_tries=4, seed=int(rng.integers(1, 65536)))
    plastic = rng.random(len(syn)) < 0.8
    core = Core(syn, p, n_axons=n_axons, plastic=plastic)
    table, fixed = core.table, ~core.plastic
    fixed_target, fixed_weight = core.target[fixed].copy(), core.weight[fixed].copy()
    assert core.fan_in().max() <= limit
    for _ in range(400):
        # A stand-in weight rule: plastic weights drift down to w_min and sometimes up.
        move = rng.random(len(syn))
        w = core.weight
        w[plastic] = np.clip(w - (move < 0.3) + (move > 0.95), 0, 2)[plastic]
        core.step()
        fan = core.fan_in()
        assert len(core.target) == len(syn) and fan.sum() == len(syn)
        assert fan.max() <= limit
        assert core.target.min() >= 0 and core.target.max() < n_neurons
        for a in range(n_axons):
            row = core.target[table.start[a]:table.start[a] + table.count[a]]
            assert len(set(row.tolist())) == len(row)
        assert (core.target[fixed] == fixed_target).all()
        assert (core.weight[fixed] == fixed_weight).all()
        assert core.state.counter.max() <= p.k_epochs
    assert core.state.regrown > 0 and core.state.pruned >= core.state.regrown


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(epoch_steps=0), ValueError, "epoch_steps must be between 1 and 65535, not 0"),
    (dict(epoch_steps=65536), ValueError, "epoch_steps must be between 1 and 65535, not 65536"),
    (dict(k_epochs=0), ValueError, "k_epochs must be between 1 and 255, not 0"),
    (dict(k_epochs=256), ValueError, "k_epochs must be between 1 and 255, not 256"),
    (dict(w_min=-129), ValueError, "w_min must be between -128 and 255, not -129"),
    (dict(w_min=5, w_init=4), ValueError, "w_init must be between 5 and 255, not 4"),
    (dict(fan_in_limit=0), ValueError, "fan_in_limit must be between 1 and 65535, not 0"),
    (dict(max_tries=0), ValueError, "max_tries must be between 1 and 16, not 0"),
    (dict(max_tries=17), ValueError, "max_tries must be between 1 and 16, not 17"),
    (dict(seed=0), ValueError, "seed must be between 1 and 65535, not 0"),
    (dict(seed=65536), ValueError, "seed must be between 1 and 65535, not 65536"),
    (dict(k_epochs=2.0), TypeError, "k_epochs must be an integer, not 2.0"),
    (dict(enable=1), TypeError, "enable must be a bool, not 1"),
])
def test_parameter_errors(kwargs, exc, message):
    with raises(exc, message):
        StructuralParams(**kwargs)


def test_weights_must_fit_the_core():
    core = CoreParams(n_neurons=16, n_axons=1, n_synapses=1, weight_bits=4, weight_signed=False)
    with raises(ValueError, "w_init must be between 0 and 15, not 16"):
        StructuralParams(w_min=0, w_init=16).check_fits(core)
    signed = CoreParams(n_neurons=16, n_axons=1, n_synapses=1, weight_bits=4)
    with raises(ValueError, "w_min must be between -8 and 7, not -9"):
        StructuralParams(w_min=-9, w_init=0).check_fits(signed)
    StructuralParams(w_min=-8, w_init=7).check_fits(signed)


def test_rewire_argument_errors():
    p = StructuralParams(epoch_steps=1, k_epochs=1)
    core = Core([(0, 3, 0, 1), (0, 4, 0, 1)], p)
    args = dict(state=core.state, target=core.target, weights=core.weight, plastic=core.plastic,
                axon_of=core.axon_of, n_neurons=16, params=p)
    for change, exc, message in [
        (dict(target=[3, 4]), TypeError,
         "target must be an int64 numpy array (it is changed in place), not list"),
        (dict(weights=np.array([0, 0], np.int32)), TypeError,
         "weights must be an int64 numpy array (it is changed in place), not an array of int32"),
        (dict(plastic=np.ones(1, bool)), ValueError,
         "plastic must have one value per synapse entry (2), not 1"),
        (dict(n_neurons=0), ValueError, "n_neurons must be between 1 and 4096, not 0"),
    ]:
        with raises(exc, message):
            rewire(**{**args, **change})
    assert core.state.step == 0 and core.target.tolist() == [3, 4]


def test_core_step_prunes_regrows_and_delivers_to_the_new_target():
    # Axon 0 -> neuron 0 sits at w_min = 0 under an STDP rule that never moves it (a_plus =
    # a_minus = 0). With epoch_steps = 2 and k_epochs = 2 it is pruned at the end of step 3
    # (epochs end after steps 1 and 3) and regrown to the first draw of seed 5 with
    # w_init = 60; an event on axon 0 at step 4 then reaches that neuron, which fires
    # (60 > vth = 50; du = dv = 4095 leave nothing of a zero state).
    from golden_model import LIFProfile, lif_core
    from golden_model.image import CoreImage
    from golden_model.params import LearningSpec, Rule
    from golden_model.stdp import STDPParams
    core = CoreParams(n_neurons=16, n_axons=2, n_synapses=4, state_bits=16,
                      learning=LearningSpec(rule=Rule.STDP))
    new = draws(5, 16, 1)[0]
    assert new != 0
    image = CoreImage(core, (LIFProfile(du=4095, dv=4095, vth=50),), 0,
                      SynapseTable.from_synapses(2, [(0, 0, 0, 1)]), plastic=np.array([True]),
                      learning=STDPParams(a_plus=0, a_minus=0),
                      structural=StructuralParams(epoch_steps=2, k_epochs=2, w_init=60,
                                                  seed=5))
    run = lif_core.simulate(image, [[], [], [], [], [0]], record_weights=True)
    assert run.weights[:, 0].tolist() == [0, 0, 0, 60, 60]
    assert run.state.target.tolist() == [new]
    assert run.spikes[4].nonzero()[0].tolist() == [new]
    assert image.synapses.target.tolist() == [0]     # the image itself is not rewired


def test_structural_needs_a_learning_core_and_is_golden_only():
    from golden_model import LIFProfile
    from golden_model.image import CoreImage
    from golden_model.params import LearningSpec
    from rtl.lif_core import config_writes
    table = SynapseTable.from_synapses(1, [(0, 0, 0, 1)])
    plain = CoreParams(n_neurons=16, n_axons=1, n_synapses=4)
    with raises(ValueError, "structural must be None for a core built without learning "
                            "(CoreParams.learning is None)"):
        CoreImage(plain, (LIFProfile(),), 0, table, structural=StructuralParams())
    core = CoreParams(n_neurons=16, n_axons=1, n_synapses=4, learning=LearningSpec())
    with raises(TypeError, "structural must be a StructuralParams, not 3"):
        CoreImage(core, (LIFProfile(),), 0, table, structural=3)
    image = CoreImage(core, (LIFProfile(),), 0, table, structural=StructuralParams())
    with raises(ValueError, "structural plasticity runs in the golden model only; a LIFCore "
                            "cannot load an image with structural set"):
        config_writes(image)

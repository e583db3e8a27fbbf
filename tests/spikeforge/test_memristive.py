"""Tiers 1 and 2 for ``spikeforge.memristive``: every error sentence; an ideal device gives
back the weights and the spikes exactly; write-verify failures and pulse counts worked by
hand; weight errors that grow with each kind of variability; clipping that is counted;
drift; the layout of repeated pairs; the original network untouched; seeded
reproducibility."""

import dataclasses
import re

import numpy as np
import pytest

from golden_model.crossbar import CrossbarParams
from golden_model.memristor import DeviceParams
from golden_model.params import CoreParams, LIFProfile
from spikeforge.memristive import crossbar_shape, deploy
from spikeforge.network import InputPopulation, Network, Population, Projection
from spikeforge.simulate import run
from spikeforge.sources import poisson


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


#: Linear, 1001 states, no variability: with tolerance 0.001 every weight up to 20
#: comes back within 2 * 0.001 * 20 = 0.04 of itself, so it rounds to itself.
IDEAL = DeviceParams(g_min=1e-6, g_max=1e-5, levels=1001, v_set=1.0, v_reset=1.0, name="ideal")
#: Linear, 65 states: a full-range weight takes 64 pulses.
COARSE = DeviceParams(g_min=1e-6, g_max=1e-5, levels=65, v_set=1.0, v_reset=1.0, name="coarse")


def small_network():
    net = Network()
    inp = net.add(InputPopulation(2, name="in"))
    pop = net.add(Population(3, LIFProfile(vth=5), name="out"))
    proj = net.add(Projection.dense(inp, pop, np.array([[7, -3, 0], [2, 0, -7]])))
    return net, inp, pop, proj


def random_network(seed=5, shape=(24, 12), top=15):
    rng = np.random.default_rng(seed)
    net = Network()
    inp = net.add(InputPopulation(shape[0], name="in"))
    pop = net.add(Population(shape[1], LIFProfile(), name="out"))
    proj = net.add(Projection.dense(inp, pop, rng.integers(-top, top + 1, shape)))
    return net, proj


# -- tier 1: arguments ---------------------------------------------------------------------

def test_arguments():
    net, inp, pop, proj = small_network()
    other = Projection.one_to_one(inp, Population(2, LIFProfile()), 1)
    plastic = net.add(Projection.one_to_one(inp, Population(2, LIFProfile()), 1, plastic=True))
    for args, kwargs, exc, message in [
        ((None, proj, IDEAL), {}, TypeError, "network must be a Network, not None"),
        ((net, None, IDEAL), {}, TypeError, "projection must be a Projection, not None"),
        ((net, other, IDEAL), {}, ValueError, f"projection {other!r} is not in the network"),
        ((net, plastic, IDEAL), {}, ValueError,
         f"projection {plastic!r} is plastic: on-chip learning rewrites its weights, so only "
         f"a static projection (plastic=False) can be deployed on a crossbar"),
        ((net, proj, "hfo2"), {}, TypeError,
         "device must be a DeviceParams (for example golden_model.memristor.PRESETS['hfo2']), "
         "not 'hfo2'"),
        ((net, proj, IDEAL), dict(tolerance=0), ValueError,
         "tolerance must be above 0 and at most 1 (a share of the conductance range), not 0.0"),
        ((net, proj, IDEAL), dict(tolerance=1.5), ValueError,
         "tolerance must be above 0 and at most 1 (a share of the conductance range), not 1.5"),
        ((net, proj, IDEAL), dict(tolerance="0.1"), TypeError,
         "tolerance must be a finite number, not '0.1'"),
        ((net, proj, IDEAL), dict(tolerance=float("nan")), TypeError,
         "tolerance must be a finite number, not nan"),
        ((net, proj, IDEAL), dict(max_pulses=0), ValueError,
         "max_pulses must be between 1 and 1073741824, not 0"),
        ((net, proj, IDEAL), dict(max_pulses=2.5), TypeError,
         "max_pulses must be an integer, not 2.5"),
        ((net, proj, IDEAL), dict(drift_seconds=-1), ValueError,
         "drift_seconds must be at least 0 seconds, not -1.0"),
        ((net, proj, IDEAL), dict(drift_seconds=None), TypeError,
         "drift_seconds must be a finite number, not None"),
        ((net, proj, IDEAL), dict(core=8), TypeError, "core must be a CoreParams or None, not 8"),
        ((net, proj, IDEAL), dict(core=CoreParams(16, 4, 4, weight_bits=3)), ValueError,
         "core must hold the projection's weights (3-bit signed: -4 to 3), not a weight of 7"),
        ((net, proj, IDEAL), dict(core=CoreParams(16, 4, 4, weight_signed=False)), ValueError,
         "core must hold the projection's weights (8-bit unsigned: 0 to 255), not a weight "
         "of -3"),
        ((net, proj, IDEAL), dict(crossbar_params=(2, 3)), TypeError,
         "crossbar_params must be a CrossbarParams or None, not (2, 3)"),
        ((net, proj, IDEAL), dict(crossbar_params=CrossbarParams(3, 3)), ValueError,
         "crossbar_params must have rows=2 and cols=3 (the projection's crossbar_shape), "
         "not rows=3 and cols=3"),
        ((net, proj, IDEAL), dict(seed=-1), TypeError,
         "seed must be a non-negative integer, a SeedSequence or a numpy Generator, not -1"),
    ]:
        with raises(exc, message):
            deploy(*args, **kwargs)


def test_projections_that_cannot_be_deployed():
    net = Network()
    inp = net.add(InputPopulation(1))
    pop = net.add(Population(2, LIFProfile()))
    empty = net.add(Projection(inp, pop, ([], [], [], [])))
    with raises(ValueError, f"projection {empty!r} has no synapses: there is nothing to deploy"):
        deploy(net, empty, IDEAL)
    with raises(ValueError, f"projection {empty!r} has no synapses: there is nothing to deploy"):
        crossbar_shape(empty)
    with raises(TypeError, "projection must be a Projection, not None"):
        crossbar_shape(None)
    # 65537 synapses between one pair need 65537 cells: one row too many.
    many = net.add(Projection(inp, pop, (np.zeros(65537, int), np.zeros(65537, int), 1, 1)))
    with raises(ValueError, f"projection {many!r} needs a 65537x1 crossbar, larger than the "
                            f"65536x65536 one crossbar can be"):
        deploy(net, many, IDEAL)
    wide = Network()
    a, b = wide.add(InputPopulation(1), Population(1, LIFProfile()))
    huge = wide.add(Projection.one_to_one(a, b, 1 << 16))
    with raises(ValueError, "the network has a weight of 65536, wider than the 16 bits a core "
                            "stores"):
        deploy(wide, huge, IDEAL)


# -- tier 2: behaviour ---------------------------------------------------------------------

def test_ideal_device_gives_back_the_weights_and_the_spikes():
    rng = np.random.default_rng(1)
    net = Network()
    inp = net.add(InputPopulation(8, name="in"))
    pop = net.add(Population(6, LIFProfile(du=2048, dv=1024, vth=40), name="exc"))
    proj = net.add(Projection.dense(inp, pop, rng.integers(-20, 21, (8, 6)), delays=2))
    recurrent = net.add(Projection.one_to_one(pop, pop, -5))
    deployed, report = deploy(net, proj, IDEAL, tolerance=0.001, max_pulses=1100, seed=3)
    new = report.projection
    assert new in deployed.projections and new is not proj
    np.testing.assert_array_equal(new.weight, proj.weight)
    for name in ("pre_index", "post_index", "delay"):
        np.testing.assert_array_equal(getattr(new, name), getattr(proj, name))
    assert not new.plastic
    assert np.abs(report.analog - proj.weight).max() <= 2 * 0.001 * 20 + 1e-9
    assert (report.failed_devices, report.failed_synapses, report.changed, report.clipped,
            report.max_error, report.rms_error) == (0, 0, 0, 0, 0, 0.0)
    assert report.crossbar_shape == (8, 6) and report.devices == 96
    assert report.scale == 20.0 and report.weight_range == (-32, 31)
    # The weights of the digital network, so the very same spikes.
    counts = poisson(200.0, 120, 1e-3, n=8, seed=2)
    digital = run(net, {inp: counts}).spikes[pop]
    memristive = run(deployed, {inp: counts}).spikes[pop]
    assert digital.sum() > 20
    np.testing.assert_array_equal(memristive, digital)
    assert deployed.projections == (new, recurrent)


def test_write_verify_failures_and_pulses_by_hand():
    # 11 linear states: weight w of scale 10 is |w| set pulses on one device of its pair,
    # exactly on a state. With 3 pulses a device gets at most 3 steps: |w| > 3 fails and
    # comes back as +-3; the other device of each pair and the empty cell stay at g_min.
    net = Network()
    inp = net.add(InputPopulation(2))
    pop = net.add(Population(3, LIFProfile()))
    proj = net.add(Projection.dense(inp, pop, np.array([[10, -4, 0], [2, -10, 3]])))
    device = DeviceParams(g_min=1e-6, g_max=1e-5, levels=11, v_set=1.0, v_reset=1.0, name="lin")
    deployed, report = deploy(net, proj, device, tolerance=0.01, max_pulses=3)
    assert report.projection.weight.tolist() == [3, -3, 2, -3, 3]
    np.testing.assert_allclose(report.analog, [3, -3, 2, -3, 3], atol=1e-9)
    pulses = report.write_verify.pulses
    assert pulses[0].tolist() == [[3, 0, 0], [2, 0, 3]]        # G+ devices
    assert pulses[1].tolist() == [[0, 3, 0], [0, 3, 0]]        # G- devices
    assert (report.pulses_mean, report.pulses_max) == (14 / 12, 3)
    assert report.failed_devices == 3 and report.failed_synapses == 3
    assert report.changed == 3 and report.max_error == 7 and report.clipped == 0
    assert report.rms_error == pytest.approx(np.sqrt((49 + 1 + 49) / 5))
    assert report.summary() == (
        "5 synapses on a 2x3 crossbar of lin: 1.2 pulses per device on average (3 at most), "
        "3 of 12 devices failed, weight error RMS 4.450 and max 7 (integer units), 3 weights "
        "changed, 0 clipped")
    # With pulses enough, none fails and the weights come back.
    _, enough = deploy(net, proj, device, tolerance=0.01, max_pulses=10)
    assert enough.failed_devices == 0 and enough.changed == 0 and enough.pulses_max == 10


@pytest.mark.parametrize("field", ["c2c_std", "d2d_std", "read_std"])
def test_weight_error_grows_with_variability(field):
    net, proj = random_network()
    rms = {}
    for std in (0.0, 0.05, 0.2):
        device = dataclasses.replace(COARSE, **{field: std})
        rms[std] = [deploy(net, proj, device, tolerance=0.01, max_pulses=80, seed=s)[1].rms_error
                    for s in range(4)]
    assert rms[0.0] == [0.0] * 4
    # Every seed: zero < at 5 % < at 20 %.
    assert 0 < min(rms[0.05]) and max(rms[0.05]) < min(rms[0.2])


def test_failures_grow_with_device_variability():
    net, proj = random_network()
    failed = [deploy(net, proj, dataclasses.replace(COARSE, c2c_std=s, d2d_std=s),
                     tolerance=0.01, max_pulses=80, seed=0)[1].failed_devices
              for s in (0.0, 0.05, 0.2)]
    assert failed[0] == 0 < failed[1] < failed[2]


def test_clipping_is_counted_and_the_range_follows_the_core():
    net = Network()
    inp = net.add(InputPopulation(40))
    pop = net.add(Population(4, LIFProfile()))
    proj = net.add(Projection.dense(inp, pop, np.full((40, 4), 7)))
    noisy = dataclasses.replace(IDEAL, read_std=0.2)
    _, report = deploy(net, proj, noisy, tolerance=0.001, max_pulses=1100, seed=1)
    assert report.weight_range == (-8, 7)                # 7 needs 4 signed bits
    over = np.rint(report.analog) > 7
    assert report.clipped == int(over.sum()) > 10
    np.testing.assert_array_equal(report.projection.weight,
                                  np.clip(np.rint(report.analog), -8, 7))
    # An 8-bit core keeps them: same seed, same read, nothing clipped.
    _, wide = deploy(net, proj, noisy, tolerance=0.001, max_pulses=1100, seed=1,
                     core=CoreParams(16, 40, 160, weight_bits=8))
    assert wide.weight_range == (-128, 127) and wide.clipped == 0
    np.testing.assert_array_equal(wide.analog, report.analog)
    np.testing.assert_array_equal(wide.projection.weight, np.rint(report.analog))


def test_drift_scales_the_weights():
    # Both devices of a pair drift by one factor, (1000 / 1) ** -0.1, so the weight does.
    net, proj = random_network(shape=(6, 5), top=20)
    device = dataclasses.replace(IDEAL, drift_nu=0.1, drift_t0=1.0)
    factor = 1000.0 ** -0.1
    _, now = deploy(net, proj, device, tolerance=0.001, max_pulses=1100)
    _, later = deploy(net, proj, device, tolerance=0.001, max_pulses=1100, drift_seconds=1000)
    assert now.changed == 0
    np.testing.assert_allclose(later.analog, factor * now.analog, atol=1e-9)
    np.testing.assert_array_equal(later.projection.weight, np.rint(factor * now.analog))
    assert later.changed > 0


def test_repeated_pairs_get_cells_of_their_own():
    net = Network()
    inp = net.add(InputPopulation(5))
    pop = net.add(Population(4, LIFProfile()))
    # Pre neurons 1 and 3 and post neurons 0 and 2 only; the pair (1, 2) three times.
    synapses = ([1, 3, 1, 1, 3], [2, 0, 2, 2, 2], [4, -6, 5, 2, 1], [1, 2, 3, 1, 4])
    proj = net.add(Projection(inp, pop, synapses))
    assert crossbar_shape(proj) == (6, 2)                   # 3 blocks of 2 rows, 2 columns
    deployed, report = deploy(net, proj, IDEAL, tolerance=0.001, max_pulses=1100)
    assert report.crossbar_shape == (6, 2) and report.changed == 0
    assert report.projection.weight.tolist() == [4, -6, 5, 2, 1]
    assert report.projection.delay.tolist() == [1, 2, 3, 1, 4]
    # The weights sit in cells: block j holds the j-th synapse of each pair, rows in the
    # order pre 1, pre 3. A weight w of scale 6 takes the first pulse count p whose u =
    # p / 1000 is within 0.001 of |w| / 6: 666 for 4, 166 for 1, 999 for 6.
    plus, minus = report.write_verify.pulses
    assert plus[:, 1].tolist() == [666, 166, 833, 0, 333, 0]     # (1, 2) x 3 and (3, 2)
    assert minus[:, 0].tolist() == [0, 999, 0, 0, 0, 0]          # (3, 0): -6
    assert plus[:, 0].sum() == minus[:, 1].sum() == 0
    # A crossbar_params of that shape: w_max is a unit only, the weights are the same.
    shaped = CrossbarParams(6, 2, w_max=3.0, v_read=0.1)
    _, same = deploy(net, proj, IDEAL, tolerance=0.001, max_pulses=1100, crossbar_params=shaped)
    np.testing.assert_array_equal(same.projection.weight, report.projection.weight)


def test_the_original_network_is_untouched():
    net, inp, pop, proj = small_network()
    extra = net.add(Projection.one_to_one(pop, pop, 2, delay=3))
    before = (net.populations, net.projections, proj.weight.copy())
    noisy = dataclasses.replace(COARSE, c2c_std=0.2, d2d_std=0.2, read_std=0.2)
    deployed, report = deploy(net, proj, noisy, seed=7)
    assert report.changed > 0
    assert net.populations == before[0] and net.projections == before[1]
    np.testing.assert_array_equal(proj.weight, before[2])
    assert report.original is proj
    # The copy shares the populations (the caller's handles work) and the other projections.
    assert all(a is b for a, b in zip(deployed.populations, net.populations))
    assert deployed.projections[0] is report.projection and deployed.projections[1] is extra
    assert len(deployed.populations) == 2 and len(deployed.projections) == 2
    assert run(deployed, {inp: np.ones((4, 2), dtype=np.int64)}).spikes[pop].shape == (4, 3)


def test_one_seed_one_deployment():
    net, proj = random_network(shape=(10, 6))
    device = dataclasses.replace(COARSE, c2c_std=0.05, d2d_std=0.05, read_std=0.05)
    _, a = deploy(net, proj, device, seed=11)
    _, b = deploy(net, proj, device, seed=11)
    _, c = deploy(net, proj, device, seed=12)
    np.testing.assert_array_equal(a.analog, b.analog)
    np.testing.assert_array_equal(a.projection.weight, b.projection.weight)
    np.testing.assert_array_equal(a.write_verify.pulses, b.write_verify.pulses)
    assert (a.rms_error, a.failed_devices) == (b.rms_error, b.failed_devices)
    assert not np.array_equal(a.analog, c.analog)
    # The read noise is one draw of the deployment: the read that gives the weights, and
    # each verify read before it, all from the seed.
    noisy = dataclasses.replace(IDEAL, read_std=0.05)
    reads = [deploy(net, proj, noisy, tolerance=0.001, max_pulses=1100, seed=s)[1].analog
             for s in (0, 0, 1)]
    np.testing.assert_array_equal(reads[0], reads[1])
    assert not np.array_equal(reads[0], reads[2])

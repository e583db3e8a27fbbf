"""Tier 1 and 2 tests of :mod:`golden_model.chip`: argument checks and hand-computed traces.

Every error sentence of :class:`ChipParams`, :meth:`RouteTable.from_routes`,
:class:`ChipImage` and :func:`normalise_chip_inputs` is matched in full.
Small chips are traced by hand through :func:`simulate_chip`: a spike of
step ``t`` arrives as an axon event of step ``t + 1``, host outputs carry
the step of their spike, one neuron can reach every core, and a repeated
output entry is two events. :func:`route_spikes` keeps source-core, neuron
and table order.
"""

import re

import numpy as np
import pytest

from golden_model import CoreParams, LIFProfile, SynapseTable
from golden_model.chip import (ChipImage, ChipParams, RouteTable, normalise_chip_inputs,
                               route_spikes, simulate_chip)
from golden_model.image import CoreImage


def raises(exc, message):
    return pytest.raises(exc, match=rf"^{re.escape(message)}$")


CORE = CoreParams(n_neurons=16, n_axons=4, n_synapses=16, max_delay=8, state_bits=16)
# u = acc, v = u: fires exactly when this step's input exceeds 10.
FAST = LIFProfile(du=4095, du_offset=1, dv=4095, dv_offset=1, vth=10)
# u = this step's input (shifted by nothing), and v never reaches vth: a probe.
PROBE = LIFProfile(du=4095, du_offset=1, vth=(1 << 15) - 1)
# No decay, bias 3, vth 10: v = 3, 6, 9, 12 -> spike and reset to 0, period 4.
TICK = LIFProfile(bias_mant=3, vth=10)
QUIET = LIFProfile(vth=1000)


def core_image(synapses, profiles=(QUIET,), neuron_profile=0):
    return CoreImage(CORE, tuple(profiles), neuron_profile,
                     SynapseTable.from_synapses(CORE.n_axons, synapses))


def empty_routes():
    return RouteTable.empty(CORE.n_neurons)


# -- ChipParams ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(rows=0), ValueError, "rows must be between 1 and 16, not 0"),
    (dict(rows=17), ValueError, "rows must be between 1 and 16, not 17"),
    (dict(rows=2.0), TypeError, "rows must be an integer, not 2.0"),
    (dict(rows=True), TypeError, "rows must be an integer, not True"),
    (dict(cols=0), ValueError, "cols must be between 1 and 16, not 0"),
    (dict(cols=17), ValueError, "cols must be between 1 and 16, not 17"),
    (dict(cols="2"), TypeError, "cols must be an integer, not '2'"),
    (dict(core=None), TypeError, "core must be a CoreParams, not None"),
    (dict(core={"n_neurons": 16}), TypeError,
     "core must be a CoreParams, not {'n_neurons': 16}"),
    (dict(n_routes=0), ValueError, "n_routes must be between 1 and 65536, not 0"),
    (dict(n_routes=65537), ValueError, "n_routes must be between 1 and 65536, not 65537"),
    (dict(fifo_depth=1), ValueError, "fifo_depth must be between 2 and 64, not 1"),
    (dict(fifo_depth=65), ValueError, "fifo_depth must be between 2 and 64, not 65"),
    (dict(payload_bits=-1), ValueError, "payload_bits must be between 0 and 16, not -1"),
    (dict(payload_bits=17), ValueError, "payload_bits must be between 0 and 16, not 17"),
    (dict(payload_bits=None), TypeError, "payload_bits must be an integer, not None"),
])
def test_chip_params_errors(kwargs, exc, message):
    args = dict(rows=2, cols=2, core=CORE) | kwargs
    with raises(exc, message):
        ChipParams(**args)


def test_chip_params_defaults_and_widths():
    p = ChipParams(rows=3, cols=5, core=CoreParams(n_neurons=16, n_axons=100, n_synapses=1))
    assert (p.n_routes, p.fifo_depth, p.payload_bits) == (256, 4, 0)
    assert p.n_cores == 15
    # 5 columns need 3 bits, 3 rows 2 bits, 100 axons 7 bits, 256 routes 8 bits.
    assert (p.x_bits, p.y_bits, p.route_bits) == (3, 2, 8)
    assert p.packet_fields() == {"x": 3, "y": 2, "axon": 7}
    assert list(p.packet_fields()) == ["x", "y", "axon"]
    # Core index is row-major: y * cols + x.
    assert p.core_index(4, 0) == 4 and p.core_index(0, 1) == 5 and p.core_index(2, 2) == 12
    assert p.core_xy(12) == (2, 2) and p.core_xy(5) == (0, 1)
    # A 1x1 chip still spends one bit on each coordinate; the payload comes last.
    q = ChipParams(rows=1, cols=1, core=CORE, n_routes=1, payload_bits=4)
    assert (q.x_bits, q.y_bits, q.route_bits) == (1, 1, 1)
    assert list(q.packet_fields().items()) == [("x", 1), ("y", 1), ("axon", 2), ("payload", 4)]
    r = ChipParams(rows=16, cols=16, core=CORE, n_routes=65536)
    assert (r.x_bits, r.y_bits, r.route_bits) == (4, 4, 16)


# -- RouteTable ---------------------------------------------------------------------------

def test_route_table_csr_by_hand():
    routes = [(3, 1, 0, 2), (1, "host"), (3, "host"), (1, 0, 1, 3), (3, 0, 0, 1), [15, 1, 1, 0]]
    t = RouteTable.from_routes(16, routes)
    # Neuron 1 owns entries 0-1, neuron 3 entries 2-4, neuron 15 entry 5; a
    # neuron's entries keep the order they were given in.
    assert t.count.tolist() == [0, 2, 0, 3] + [0] * 11 + [1]
    assert t.start.tolist() == [0, 0, 2, 2] + [5] * 12
    assert t.host.tolist() == [1, 0, 0, 1, 0, 0]
    assert t.x.tolist() == [0, 0, 1, 0, 0, 1]
    assert t.y.tolist() == [0, 1, 0, 0, 0, 1]
    assert t.axon.tolist() == [0, 3, 2, 0, 1, 0]
    assert len(t) == 6
    assert all(a.dtype == np.int64 for a in (t.start, t.count, t.x, t.y, t.axon, t.host))
    e = RouteTable.empty(16)
    assert len(e) == 0 and e.count.tolist() == [0] * 16 and e.start.tolist() == [0] * 16
    # numpy integers are integers.
    n = RouteTable.from_routes(16, [(np.int64(2), np.int32(1), np.uint8(0), np.int16(3))])
    assert (n.count[2], n.x[0], n.axon[0]) == (1, 1, 3)


@pytest.mark.parametrize("routes, exc, message", [
    ([(0, 1, 2)], ValueError,
     "routes[0] must be (neuron, x, y, axon) or (neuron, 'host'), not (0, 1, 2)"),
    ([(0, "host"), (1, "hub")], ValueError,
     "routes[1] must be (neuron, x, y, axon) or (neuron, 'host'), not (1, 'hub')"),
    ([(0, 0, 0, 0, 0)], ValueError,
     "routes[0] must be (neuron, x, y, axon) or (neuron, 'host'), not (0, 0, 0, 0, 0)"),
    ([()], ValueError, "routes[0] must be (neuron, x, y, axon) or (neuron, 'host'), not ()"),
    ([(0, 0, 0, 0), (1.0, 0, 0, 0)], TypeError, "routes[1] neuron must be an integer, not 1.0"),
    ([(0, 1.5, 0, 0)], TypeError, "routes[0] x must be an integer, not 1.5"),
    ([(0, 0, "1", 0)], TypeError, "routes[0] y must be an integer, not '1'"),
    ([(0, 0, 0, None)], TypeError, "routes[0] axon must be an integer, not None"),
    ([(True, 0, 0, 0)], TypeError, "routes[0] neuron must be an integer, not True"),
    ([(0, np.bool_(False), 0, 0)], TypeError, "routes[0] x must be an integer, not np.False_"),
    ([(16, 0, 0, 0)], ValueError, "routes[0] neuron must be between 0 and 15, not 16"),
    ([(-1, 0, 0, 0)], ValueError, "routes[0] neuron must be between 0 and 15, not -1"),
    ([(2, "host"), (16, "host")], ValueError,
     "routes[1] neuron must be between 0 and 15, not 16"),
])
def test_route_table_errors(routes, exc, message):
    with raises(exc, message):
        RouteTable.from_routes(16, routes)


@pytest.mark.parametrize("route, shown", [((2.7, "host"), "2.7"), ((True, "host"), "True"),
                                          (("3", "host"), "'3'")])
def test_route_table_host_neuron_must_be_an_integer(route, shown):
    with raises(TypeError, f"routes[0] neuron must be an integer, not {shown}"):
        RouteTable.from_routes(16, [route])


def test_route_table_refuses_a_bare_value():
    with raises(ValueError, "routes[0] must be (neuron, x, y, axon) or (neuron, 'host'), not (5,)"):
        RouteTable.from_routes(16, [5])


def test_chip_inputs_refuse_non_lists():
    with raises(TypeError, "inputs[0] must be a list of (x, y, axon) events, not 5"):
        normalise_chip_inputs(CHIP, [5])
    with raises(ValueError, "inputs[0][0] must be (x, y, axon), not (5,)"):
        normalise_chip_inputs(CHIP, [[5]])


# -- ChipImage ----------------------------------------------------------------------------

CHIP = ChipParams(rows=1, cols=2, core=CORE, n_routes=4)


def test_chip_image_accepts_any_iterables():
    img = ChipImage(CHIP, [core_image([]), core_image([])], (r for r in [empty_routes()] * 2))
    assert isinstance(img.cores, tuple) and isinstance(img.routes, tuple)
    assert len(img.routes) == 2


def test_chip_image_errors():
    a, b, r = core_image([]), core_image([]), empty_routes()
    with raises(TypeError, "params must be a ChipParams, not None"):
        ChipImage(None, (a, b), (r, r))
    with raises(ValueError, "cores must hold one entry per core (2), not 1"):
        ChipImage(CHIP, (a,), (r, r))
    with raises(ValueError, "routes must hold one entry per core (2), not 3"):
        ChipImage(CHIP, (a, b), (r, r, r))
    with raises(TypeError, "cores[1] must be a CoreImage, not 'core'"):
        ChipImage(CHIP, (a, "core"), (r, r))
    other = CoreParams(n_neurons=32, n_axons=4, n_synapses=16, max_delay=8, state_bits=16)
    odd = CoreImage(other, (QUIET,), 0, SynapseTable.from_synapses(4, []))
    with raises(ValueError,
                "cores[1] (core 1,0) was built for CoreParams(n_neurons=32, n_axons=4, "
                "n_synapses=16, max_delay=8, state_bits=16, weight_bits=8, weight_signed=True, "
                "n_profiles=4, refractory_bits=4, acc_bits=16, learning=None), not the chip's "
                "CoreParams(n_neurons=16, n_axons=4, n_synapses=16, max_delay=8, "
                "state_bits=16, weight_bits=8, weight_signed=True, n_profiles=4, "
                "refractory_bits=4, acc_bits=16, learning=None)"):
        ChipImage(CHIP, (a, odd), (r, r))
    with raises(TypeError, "routes[0] must be a RouteTable, not []"):
        ChipImage(CHIP, (a, b), ([], r))
    with raises(ValueError, "routes[1] (core 1,0) must cover 16 neurons, not 8"):
        ChipImage(CHIP, (a, b), (r, RouteTable.empty(8)))
    five = RouteTable.from_routes(16, [(0, "host")] * 5)
    with raises(ValueError, "core 1,0 needs 5 output-table entries, more than n_routes = 4"):
        ChipImage(CHIP, (a, b), (r, five))
    # Exactly n_routes entries fit.
    ChipImage(CHIP, (a, b), (r, RouteTable.from_routes(16, [(0, "host")] * 4)))


@pytest.mark.parametrize("routes, message", [
    ([(0, 2, 0, 0)], "core 0,0 output entry 0 must route to a core column between 0 and 1, "
                     "not x = 2"),
    ([(0, -1, 0, 0)], "core 0,0 output entry 0 must route to a core column between 0 and 1, "
                      "not x = -1"),
    ([(0, 0, 1, 0)], "core 0,0 output entry 0 must route to a core row between 0 and 0, "
                     "not y = 1"),
    ([(0, 1, 0, 4)], "core 0,0 output entry 0 must route to an axon between 0 and 3, "
                     "not axon = 4"),
    ([(0, 1, 0, -2)], "core 0,0 output entry 0 must route to an axon between 0 and 3, "
                      "not axon = -2"),
    # The entry is counted in table (neuron) order, not in the order given.
    ([(9, 1, 0, 7), (3, "host"), (2, 0, 0, 1)],
     "core 0,0 output entry 2 must route to an axon between 0 and 3, not axon = 7"),
    # x is checked before y, and y before axon.
    ([(5, 0, 3, 9), (4, 5, 0, 9)],
     "core 0,0 output entry 0 must route to a core column between 0 and 1, not x = 5"),
])
def test_chip_image_route_range_errors(routes, message):
    r = empty_routes()
    with raises(ValueError, message):
        ChipImage(CHIP, (core_image([]), core_image([])), (RouteTable.from_routes(16, routes), r))


def test_chip_image_route_errors_name_the_core():
    chip = ChipParams(rows=2, cols=3, core=CORE)
    cores, routes = [core_image([])] * 6, [empty_routes()] * 6
    routes[5] = RouteTable.from_routes(16, [(0, 2, 1, 3), (1, 0, 2, 0)])
    with raises(ValueError, "core 2,1 output entry 1 must route to a core row between 0 and 1, "
                            "not y = 2"):
        ChipImage(chip, cores, routes)
    # Host entries carry no coordinates and are never range-checked.
    routes[5] = RouteTable.from_routes(16, [(0, 2, 1, 3), (1, "host")])
    ChipImage(chip, cores, routes)


# -- normalise_chip_inputs ----------------------------------------------------------------

@pytest.mark.parametrize("inputs, n_steps, exc, message", [
    ([[(0, 0)]], None, ValueError, "inputs[0][0] must be (x, y, axon), not (0, 0)"),
    ([[], [(0, 0, 0), (0, 0, 0, 0)]], None, ValueError,
     "inputs[1][1] must be (x, y, axon), not (0, 0, 0, 0)"),
    ([[(2, 0, 0)]], None, ValueError, "inputs[0][0] x must be between 0 and 1, not 2"),
    ([[(-1, 0, 0)]], None, ValueError, "inputs[0][0] x must be between 0 and 1, not -1"),
    ([[(0, 1, 0)]], None, ValueError, "inputs[0][0] y must be between 0 and 0, not 1"),
    ([[], [], [(1, 0, 4)]], None, ValueError, "inputs[2][0] axon must be between 0 and 3, not 4"),
    ([[(0, 0, 1.0)]], None, TypeError, "inputs[0][0] axon must be an integer, not 1.0"),
    ([[(True, 0, 0)]], None, TypeError, "inputs[0][0] x must be an integer, not True"),
    ([[(0, "0", 0)]], None, TypeError, "inputs[0][0] y must be an integer, not '0'"),
    ([[]], -1, ValueError, "n_steps must be between 0 and 1099511627776, not -1"),
    ([[]], 2.0, TypeError, "n_steps must be an integer, not 2.0"),
    ([[], [], []], 2, ValueError, "inputs cover 3 steps, more than n_steps = 2"),
])
def test_normalise_chip_inputs_errors(inputs, n_steps, exc, message):
    with raises(exc, message):
        normalise_chip_inputs(CHIP, inputs, n_steps)
    # simulate_chip reports the same sentence.
    with raises(exc, message):
        simulate_chip(ChipImage(CHIP, (core_image([]),) * 2, (empty_routes(),) * 2),
                      inputs, n_steps)


def test_normalise_chip_inputs_by_hand():
    chip = ChipParams(rows=2, cols=2, core=CORE)
    steps = normalise_chip_inputs(chip, [[(1, 1, 3), (0, 0, 2), (1, 1, 3)], [],
                                         np.array([[0, 1, 0]])], 5)
    assert len(steps) == 5
    assert [[c.tolist() for c in s] for s in steps] == [
        [[2], [], [], [3, 3]],      # (x, y) = (1, 1) is core 3; repeats kept, order kept
        [[], [], [], []],
        [[], [], [0], []],          # (0, 1) is core 2
        [[], [], [], []], [[], [], [], []]]
    assert all(c.dtype == np.int64 for s in steps for c in s)
    assert normalise_chip_inputs(chip, [], 0) == []


# -- route_spikes -------------------------------------------------------------------------

def test_route_spikes_order_by_hand():
    chip = ChipParams(rows=2, cols=2, core=CORE)
    routes = [RouteTable.empty(16) for _ in range(4)]
    routes[0] = RouteTable.from_routes(16, [(4, 1, 0, 0), (1, 1, 1, 3), (1, "host"),
                                            (1, 0, 0, 2)])
    routes[3] = RouteTable.from_routes(16, [(0, 0, 0, 1), (0, "host"), (7, 0, 1, 2)])
    spikes = np.zeros((4, 16), dtype=bool)
    spikes[0, [1, 4]] = True
    spikes[3, 0] = True
    spikes[2, 5] = True        # core 2 has no output entries: the spike goes nowhere
    arrivals, host = route_spikes(chip, routes, spikes)
    # Source core 0 first, its neuron 1 before neuron 4, each in table order;
    # then core 3. Core 0 receives from itself (axon 2) before core 3 (axon 1).
    assert [a.tolist() for a in arrivals] == [[2, 1], [0], [], [3]]
    assert host == [(0, 0, 1), (1, 1, 0)]
    assert all(a.dtype == np.int64 for a in arrivals)
    arrivals, host = route_spikes(chip, routes, np.zeros((4, 16), dtype=bool))
    assert [a.tolist() for a in arrivals] == [[], [], [], []] and host == []


# -- simulate_chip: hand traces -----------------------------------------------------------

def test_routing_latency_is_one_step():
    # Core (0,0) neuron 0 is FAST and driven by external axon 0 (weight 20,
    # delay 1) at step 3: it fires at 3. Its packet is axon 1 of core (1,0) at
    # step 4; axon 1 reaches the probe neuron 2 with weight 5 and delay 1, so
    # the probe's u is 5 at step 4 and only there.
    a = core_image([(0, 0, 20, 1)], (QUIET, FAST), [1] + [0] * 15)
    b = core_image([(1, 2, 5, 1)], (QUIET, PROBE), [0, 0, 1] + [0] * 13)
    image = ChipImage(CHIP, (a, b), (RouteTable.from_routes(16, [(0, 1, 0, 1)]),
                                     empty_routes()))
    run = simulate_chip(image, [[], [], [], [(0, 0, 0)]], 7)
    assert np.argwhere(run.spikes).tolist() == [[3, 0, 0]]
    assert run.u[:, 1, 2].tolist() == [0, 0, 0, 0, 5, 0, 0]
    assert run.sops.tolist() == [[0, 0], [0, 0], [0, 0], [1, 0], [0, 1], [0, 0], [0, 0]]
    assert run.routed.tolist() == [0, 0, 0, 1, 0, 0, 0] and run.n_routed == 1
    assert run.host.shape == (0, 4) and run.host.dtype == np.int64
    assert run.state.t == 7 and all(c.t == 7 for c in run.state.cores)
    assert [p.tolist() for p in run.state.pending] == [[], []]


def test_host_outputs_carry_the_step_and_core():
    # 2x2 chip. Core (0,1) (index 2) holds a TICK neuron 9 (spikes at 3, 7, 11)
    # with a host entry; core (1,1) neuron 0 is FAST, fed by external axon 2 at
    # steps 1 and 6, and has two host entries (so each spike is two rows).
    chip = ChipParams(rows=2, cols=2, core=CORE)
    cores = [core_image([])] * 4
    cores[2] = core_image([], (QUIET, TICK), [0] * 9 + [1] + [0] * 6)
    cores[3] = core_image([(2, 0, 11, 1)], (QUIET, FAST), [1] + [0] * 15)
    routes = [empty_routes()] * 4
    routes[2] = RouteTable.from_routes(16, [(9, "host")])
    routes[3] = RouteTable.from_routes(16, [(0, "host"), (0, "host")])
    image = ChipImage(chip, cores, routes)
    inputs = [[], [(1, 1, 2)], [], [], [], [], [(1, 1, 2)]]
    run = simulate_chip(image, inputs, 12)
    assert run.host.tolist() == [[1, 1, 1, 0], [1, 1, 1, 0], [3, 0, 1, 9], [6, 1, 1, 0],
                                 [6, 1, 1, 0], [7, 0, 1, 9], [11, 0, 1, 9]]
    assert run.n_routed == 0
    # Continuing from the final state: steps count on, and so do host tags.
    more = simulate_chip(image, [], 5, state=run.state)
    assert more.host.tolist() == [[15, 0, 1, 9]]
    assert np.argwhere(more.spikes).tolist() == [[3, 2, 9]]
    assert more.state.t == 17


def test_fan_out_to_every_core():
    # 2x2 chip. Core (1,0) neuron 4 is FAST, fed by external axon 3 at step 2,
    # and has one entry to axon 0 of every core, itself included, plus the host.
    # Core c's axon 0 reaches its probe neuron 7 with weight c + 1, delay 1.
    chip = ChipParams(rows=2, cols=2, core=CORE)
    cores = []
    for c in range(4):
        synapses = [(0, 7, c + 1, 1)] + ([(3, 4, 20, 1)] if c == 1 else [])
        profile = [0] * 16
        profile[7] = 1
        if c == 1:
            profile[4] = 2
        cores.append(core_image(synapses, (QUIET, PROBE, FAST), profile))
    fan = [(4, x, y, 0) for y in range(2) for x in range(2)] + [(4, "host")]
    routes = [empty_routes(), RouteTable.from_routes(16, fan), empty_routes(), empty_routes()]
    run = simulate_chip(ChipImage(chip, cores, routes), [[], [], [(1, 0, 3)]], 5)
    assert np.argwhere(run.spikes).tolist() == [[2, 1, 4]]
    assert run.u[:, :, 7].tolist() == [[0] * 4, [0] * 4, [0] * 4, [1, 2, 3, 4], [0] * 4]
    assert run.routed.tolist() == [0, 0, 4, 0, 0]
    assert run.sops[3].tolist() == [1, 1, 1, 1]
    assert run.host.tolist() == [[2, 1, 0, 4]]


def test_duplicate_routes_are_two_events():
    # The same entry twice sends two packets: the target sees the weight twice
    # in one step (two SOPs), as two external events on one axon would give.
    a = core_image([(0, 0, 20, 1)], (QUIET, FAST), [1] + [0] * 15)
    b = core_image([(1, 2, 5, 2)], (QUIET, PROBE), [0, 0, 1] + [0] * 13)
    twice = RouteTable.from_routes(16, [(0, 1, 0, 1), (0, 1, 0, 1)])
    image = ChipImage(CHIP, (a, b), (twice, empty_routes()))
    run = simulate_chip(image, [[(0, 0, 0)], [], [], [(1, 0, 1)]], 6)
    # Spike at 0 -> two events at step 1, delay 2 -> seen at 1 - 1 + 2 = 2.
    # The single external event at 3 is seen at 4.
    assert run.u[:, 1, 2].tolist() == [0, 0, 10, 0, 5, 0]
    assert run.sops[:, 1].tolist() == [0, 2, 0, 1, 0, 0]
    assert run.routed.tolist() == [2, 0, 0, 0, 0, 0]


def test_spike_at_last_step_stays_pending():
    # A spike of the last step is routed (counted) but not yet delivered.
    a = core_image([(0, 0, 20, 1)], (QUIET, FAST), [1] + [0] * 15)
    image = ChipImage(CHIP, (a, core_image([])),
                      (RouteTable.from_routes(16, [(0, 1, 0, 3), (0, 0, 0, 2)]), empty_routes()))
    run = simulate_chip(image, [[], [(0, 0, 0)]])
    assert run.spikes.shape == (2, 2, 16)
    assert run.routed.tolist() == [0, 2]
    assert [p.tolist() for p in run.state.pending] == [[2], [3]]

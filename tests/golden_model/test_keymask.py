"""Key/mask routing: the second routing mode gives the CSR mode's spikes, and bad tables are refused."""

import re

import numpy as np
import pytest

from golden_model import CoreParams
from golden_model.chip import ChipImage, ChipParams, RouteTable, simulate_chip
from golden_model.keymask import (InputEntry, KeyMaskTables, RouterEntry, keymask_from_routes,
                                  make_key, split_key)
from sim.stimulus import random_chip_image, random_chip_inputs

CORE = CoreParams(n_neurons=16, n_axons=16, n_synapses=64, max_delay=3, state_bits=16)


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def once_per_core(image):
    """Drop repeated destinations, which key/mask mode cannot express."""
    tables = []
    for t in image.routes:
        rows, seen = [], set()
        for n in range(image.params.core.n_neurons):
            for e in range(t.start[n], t.start[n] + t.count[n]):
                dest = "host" if t.host[e] else (int(t.x[e]), int(t.y[e]))
                if (n, dest) in seen:
                    continue
                seen.add((n, dest))
                rows.append((n, "host") if dest == "host" else (n, *dest, int(t.axon[e])))
        tables.append(RouteTable.from_routes(image.params.core.n_neurons, rows))
    return ChipImage(image.params, image.cores, tables)


@pytest.mark.parametrize("rows, cols", [(1, 1), (2, 2), (3, 4), (4, 1)])
def test_same_spikes_as_csr_mode(rows, cols):
    chip = ChipParams(rows=rows, cols=cols, core=CORE, n_routes=40)
    rng = np.random.default_rng([rows, cols])
    image = once_per_core(random_chip_image(rng, chip))
    tables = keymask_from_routes(chip, image.routes)
    tables.check(chip)
    steps = random_chip_inputs(rng, chip, 60, rate=0.1)
    csr, km = simulate_chip(image, steps), simulate_chip(image, steps, keymask=tables)
    np.testing.assert_array_equal(km.spikes, csr.spikes)
    np.testing.assert_array_equal(km.u, csr.u)
    assert sorted(map(tuple, km.host.tolist())) == sorted(map(tuple, csr.host.tolist()))
    assert km.n_routed == csr.n_routed > 0


def test_default_routing_needs_no_entries_on_straight_runs():
    """Core (0,0) neuron 5 -> core (3,0): only the delivery router needs an entry."""
    chip = ChipParams(rows=1, cols=4, core=CORE)
    routes = [RouteTable.from_routes(16, [(5, 3, 0, 9)])] + [RouteTable.empty(16)] * 3
    tables = keymask_from_routes(chip, routes)
    key = make_key(chip, 0, 5)
    assert [len(r) for r in tables.routers] == [1, 0, 0, 1]
    assert tables.routers[0][0].ports == {"e"} and tables.routers[3][0].ports == {"l"}
    assert tables.inputs[3] == (InputEntry(key, tables.inputs[3][0].mask, 9),)
    assert tables.route(chip, 0, key) == ([(3, 9)], 0)
    assert split_key(chip, key) == (0, 0, 5)


def test_tree_splits_and_host_exit():
    """Core (1,1) neuron 2 -> cores (0,1) and (1,0), and the host.

    XY trees split at (1,1) (west and north) and at (0,1) (local, and north to the
    host exit west of (0,0)).
    """
    chip = ChipParams(rows=2, cols=2, core=CORE)
    k = chip.core_index(1, 1)
    routes = [RouteTable.empty(16)] * 4
    routes[k] = RouteTable.from_routes(16, [(2, 0, 1, 4), (2, 1, 0, 6), (2, "host")])
    tables = keymask_from_routes(chip, routes)
    deliveries, host = tables.route(chip, k, make_key(chip, k, 2))
    assert sorted(deliveries) == sorted([(chip.core_index(0, 1), 4), (chip.core_index(1, 0), 6)])
    assert host == 1
    assert tables.routers[k][0].ports == {"w", "n"}
    assert tables.routers[chip.core_index(0, 1)][0].ports == {"l", "n"}


def test_loop_is_refused():
    chip = ChipParams(rows=1, cols=2, core=CORE)
    key = make_key(chip, 0, 0)
    tables = KeyMaskTables(routers=((RouterEntry(key, -1, {"e"}),), (RouterEntry(key, -1, {"w"}),)),
                           inputs=((), ()))
    with raises(ValueError, "key 0x0 (core 0,0 neuron 0) loops: it reaches router 0,0 twice"):
        tables.check(chip)


def test_leaving_the_mesh_is_refused():
    chip = ChipParams(rows=1, cols=2, core=CORE)
    key = make_key(chip, 1, 3)
    tables = KeyMaskTables(routers=((), (RouterEntry(key, -1, {"s"}),)), inputs=((), ()))
    with raises(ValueError, "key 0x13 (core 1,0 neuron 3) leaves the mesh through port s of "
                            "router 1,0"):
        tables.check(chip)


def test_local_copy_without_input_entry_is_refused():
    chip = ChipParams(rows=1, cols=2, core=CORE)
    key = make_key(chip, 0, 1)
    tables = KeyMaskTables(routers=((RouterEntry(key, -1, {"e"}),), (RouterEntry(key, -1, {"l"}),)),
                           inputs=((), ()))
    with raises(ValueError, "key 0x1 (core 0,0 neuron 1) reaches core 1,0, whose input table "
                            "has no entry for it"):
        tables.check(chip)


def test_input_axon_out_of_range_is_refused():
    chip = ChipParams(rows=1, cols=1, core=CORE)
    tables = KeyMaskTables(routers=((),), inputs=((InputEntry(0, -1, 16),),))
    with raises(ValueError, "core 0,0 input entry 0 axon must be between 0 and 15, not 16"):
        tables.check(chip)


def test_duplicate_destinations_are_refused():
    chip = ChipParams(rows=1, cols=2, core=CORE)
    routes = [RouteTable.from_routes(16, [(4, 1, 0, 2), (4, 1, 0, 3)]), RouteTable.empty(16)]
    with raises(ValueError, "core 0,0 neuron 4 reaches core 1,0 twice (axons 2 and 3); "
                            "key/mask routing delivers one copy per key and core"):
        keymask_from_routes(chip, routes)
    routes = [RouteTable.from_routes(16, [(4, "host"), (4, "host")]), RouteTable.empty(16)]
    with raises(ValueError, "core 0,0 neuron 4 reports to the host twice; key/mask routing "
                            "sends one copy"):
        keymask_from_routes(chip, routes)


def test_bad_ports_are_refused():
    with raises(ValueError, "ports must be a non-empty set of n, e, s, w, l, not ['up']"):
        RouterEntry(0, -1, {"up"})
    with raises(ValueError, "ports must be a non-empty set of n, e, s, w, l, not []"):
        RouterEntry(0, -1, set())

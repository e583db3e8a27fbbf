"""Tier 4: the exported multi-core ``Chip`` in cocotb against the golden chip model.

2×2 and 3×3 chips run random networks with random gaps on the external
input and random stalls on the external output. Every step the host events
are compared; with a host route on every neuron that is every spike of the
chip. Neuron state is compared through the debug port (every third step on
the 2×2, every tenth on the 3×3, and after the last). At the end, the
chip's packet counters must equal the golden model's routed spikes and every
core's delivered events must equal routed plus external events: no packet
lost, none duplicated. The 3×3 and key/mask chips are built with
``deep_pipeline``, as the ECP5 boards build them.
"""

import numpy as np
import pytest

from golden_model import CoreParams
from golden_model.chip import ChipImage, ChipParams, RouteTable, simulate_chip
from sim.chip_runner import chip_job, run_chip_jobs
from sim.stimulus import random_chip_image, random_chip_inputs, traffic_chip_image

pytestmark = pytest.mark.cocotb

CHIP_2X2 = ChipParams(rows=2, cols=2, n_routes=48, fifo_depth=2,
                      core=CoreParams(n_neurons=16, n_axons=16, n_synapses=96, max_delay=4,
                                      state_bits=16, weight_bits=6, n_profiles=3))
CHIP_3X3 = ChipParams(rows=3, cols=3, n_routes=128, fifo_depth=4,
                      core=CoreParams(n_neurons=16, n_axons=16, n_synapses=96, max_delay=4,
                                      state_bits=16, weight_bits=6, n_profiles=3))


def suite_jobs():
    """Every chip job of this module, as ``{chip name: (params, jobs)}``."""
    jobs_2x2 = []
    for k in range(3):
        rng = np.random.default_rng([22, k])
        image = random_chip_image(rng, CHIP_2X2, host_all=True)
        jobs_2x2.append(chip_job(image, random_chip_inputs(rng, CHIP_2X2, 45, rate=0.15),
                                 state_every=3))
    jobs_3x3 = []
    for k in range(1):
        rng = np.random.default_rng([33, k])
        image = random_chip_image(rng, CHIP_3X3, host_all=True)
        jobs_3x3.append(chip_job(image, random_chip_inputs(rng, CHIP_3X3, 40, rate=0.1),
                                 state_every=10))
    rng = np.random.default_rng(99)
    traffic = traffic_chip_image(rng, CHIP_3X3, routes_per_neuron=7)
    jobs_3x3.append(chip_job(traffic, random_chip_inputs(rng, CHIP_3X3, 450, rate=0.02),
                             state_every=50))
    return {"2x2": (CHIP_2X2, jobs_2x2), "3x3": (CHIP_3X3, jobs_3x3)}


def check(params, jobs, results):
    routed = 0
    for job, result in zip(jobs, results):
        assert result["mismatches"] == []
        golden = simulate_chip(job["image"], job["steps"])
        assert result["host"] == sorted(map(tuple, golden.host.tolist()))
        assert result["routed"] == golden.n_routed
        assert result["counters"]["packets"] == golden.n_routed
        assert result["counters"]["timestep"] == len(job["steps"])
        assert result["counters"]["bad_packets"] == 0
        assert sum(result["counters"]["core_events"]) == golden.n_routed + result["external"]
        routed += golden.n_routed
    return routed


@pytest.mark.parametrize("name", ["2x2", "3x3"])
def test_chip_random_networks_bit_exact(name):
    params, jobs = suite_jobs()[name]
    # The 3×3 chip is built with the deeper pipeline of the ECP5 boards.
    results, passed = run_chip_jobs(params, jobs, seed=len(name), event_gap=0.25,
                                    out_stall=0.4, deep_pipeline=name == "3x3")
    assert len(results) == len(jobs)
    routed = check(params, jobs, results)
    assert passed
    assert routed > 0


def test_suite_routes_at_least_1e5_spikes():
    """The chip jobs above account for more than 10^5 routed spikes between them."""
    total = sum(simulate_chip(job["image"], job["steps"]).n_routed
                for _, jobs in suite_jobs().values() for job in jobs)
    assert total >= 100_000, total


def test_one_neuron_fans_out_to_every_core():
    """Neuron 3 of core (1,1) drives one axon on each of the nine cores, every step."""
    from golden_model import CoreImage, LIFProfile, SynapseTable
    p = CHIP_3X3
    core = p.core
    cores, tables = [], []
    for k in range(p.n_cores):
        x, y = p.core_xy(k)
        fire = LIFProfile(vth=0, bias_mant=1)           # fires every step
        listen = LIFProfile(vth=1 << 14, weight_exp=3, dv=100)
        rows = [(k % core.n_axons, n, 7 + n, 1 + n % core.max_delay) for n in range(core.n_neurons)]
        cores.append(CoreImage(core, [listen, fire], [1 if (x, y, n) == (1, 1, 3) else 0
                                                      for n in range(core.n_neurons)],
                               SynapseTable.from_synapses(core.n_axons, rows)))
        routes = [(3, tx, ty, tk % core.n_axons) for tk in range(p.n_cores)
                  for tx, ty in [p.core_xy(tk)]] if (x, y) == (1, 1) else []
        tables.append(RouteTable.from_routes(core.n_neurons, routes + [(3, "host")]))
    image = ChipImage(p, cores, tables)
    steps = [[] for _ in range(12)]
    # Built deep, as the random 3×3 networks are: the two share one simulator build.
    results, passed = run_chip_jobs(p, [chip_job(image, steps, state_every=6)], out_stall=0.5,
                                    deep_pipeline=True)
    golden = simulate_chip(image, steps)
    assert passed and results[0]["mismatches"] == []
    assert golden.n_routed == 9 * 12
    assert results[0]["counters"]["core_events"] == [12] * 9
    # Every core's listening neurons integrated the fan-out.
    assert all((golden.state.cores[k].u != 0).any() for k in range(9))


CHIP_KEYMASK = ChipParams(rows=2, cols=3, n_routes=48, fifo_depth=3, key_entries=24,
                          key_inputs=14,
                          core=CoreParams(n_neurons=16, n_axons=16, n_synapses=96, max_delay=4,
                                          state_bits=16, weight_bits=6, n_profiles=3))


def test_keymask_mode_bit_exact():
    """Key/mask multicast in the routers gives the golden model's spikes and state."""
    from golden_model.keymask import keymask_from_routes
    from tests.golden_model.test_keymask import once_per_core
    jobs = []
    for k in range(1):
        rng = np.random.default_rng([44, k])
        image = once_per_core(random_chip_image(rng, CHIP_KEYMASK, n_routes=12,
                                                host_fraction=0.1))
        tables = keymask_from_routes(CHIP_KEYMASK, image.routes)
        assert max(map(len, tables.routers)) <= CHIP_KEYMASK.key_entries
        jobs.append(chip_job(image, random_chip_inputs(rng, CHIP_KEYMASK, 40, rate=0.15),
                             state_every=8, keymask=tables))
    # Built deep, as the ECP5 boards build a chip: the exit to the host joins the merge tree.
    results, passed = run_chip_jobs(CHIP_KEYMASK, jobs, seed=4, event_gap=0.2, out_stall=0.4,
                                    deep_pipeline=True)
    assert len(results) == len(jobs)
    for job, result in zip(jobs, results):
        assert result["mismatches"] == []
        golden = simulate_chip(job["image"], job["steps"], keymask=job["keymask"])
        assert result["host"] == sorted(map(tuple, golden.host.tolist()))
        assert sum(result["counters"]["core_events"]) == golden.n_routed + result["external"]
        assert result["counters"]["unrouted"] == 0
        assert golden.n_routed > 0
    assert passed


def test_compiled_network_runs_on_the_chip():
    """A network compiled by spikeforge.compiler runs on the RTL chip with the golden spikes."""
    from golden_model import LIFProfile
    from spikeforge.compiler import compile_network
    from spikeforge.network import InputPopulation, Network, Population, Projection
    net = Network()
    inp = net.add(InputPopulation(6, name="in"))
    exc = net.add(Population(16, LIFProfile(du=400, dv=300, vth=2000, weight_exp=4),
                             name="exc", record=True))
    inh = net.add(Population(4, LIFProfile(du=800, dv=400, vth=1500, weight_exp=4),
                             name="inh", record=True))
    net.add(Projection.sparse_random(inp, exc, 0.4, weight=25, delay=1, seed=1))
    net.add(Projection.sparse_random(exc, exc, 0.05, weight=12, delay=2, seed=2))
    net.add(Projection.sparse_random(exc, inh, 0.2, weight=20, delay=1, seed=3))
    net.add(Projection.sparse_random(inh, exc, 0.3, weight=-30, delay=3, seed=4))
    compiled = compile_network(net, CHIP_2X2)
    assert compiled.n_cores_used >= 2
    rng = np.random.default_rng(0)
    spikes = [list(np.flatnonzero(rng.random(6) < 0.3)) for _ in range(50)]
    steps = compiled.encode_inputs({inp: spikes})
    results, passed = run_chip_jobs(CHIP_2X2, [chip_job(compiled.image, steps, state_every=10)],
                                    out_stall=0.3)
    golden = simulate_chip(compiled.image, steps)
    assert passed and results[0]["mismatches"] == []
    assert results[0]["host"] == sorted(map(tuple, golden.host.tolist()))
    decoded = compiled.decode(golden)
    assert decoded[exc].any() and decoded[inh].any()

"""``spikeforge power`` and :mod:`spikeforge.power`: a network's activity, power states,
cycles and energy per core, against the golden model's own counts and properties; the
busiest core's toggles and gated cycles, measured from the RTL, against the report."""

import json

import numpy as np
import pytest

from golden_model import LIFProfile
from golden_model.chip import ChipParams
from golden_model.params import CoreParams
from golden_model.power import PUBLISHED, PowerPolicy, PowerState, simulate_policy
from spikeforge.cli import main
from spikeforge.network import InputPopulation, Network, Population, Projection
from spikeforge.power import measure_toggles, power_report
from spikeforge.simulate import run

PNG = b"\x89PNG\r\n\x1a\n"


def test_power_prints_plots_and_writes_json(braille, tmp_path, capsys):
    out, report = tmp_path / "png", tmp_path / "power.json"
    capsys.readouterr()
    assert main(["power", str(braille), "--steps", "120", "--rate", "200", "--window", "4",
                 "--low", "0.02", "--mid", "0.05", "--out", str(out), "--json",
                 str(report)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("120 steps of ")
    assert "window 4 steps, sleep below 0.02%, reduced below 0.05%" in text
    assert "23.6 pJ per SOP" in text and "Davies et al." in text
    for name in ("power-activity.png", "power-states.png", "power-energy.png"):
        assert (out / name).read_bytes()[:8] == PNG
        assert f"wrote {out / name}" in text
    d = json.loads(report.read_text())
    period, cores = d["period_cycles"], d["cores"]
    for core in cores:
        assert sum(core["steps"].values()) == 120
        assert sum(core["cycles"][s] for s in ("active", "reduced", "sleep")) == 120 * period
        assert core["cycles"]["clocked"] + core["cycles"]["gated"] == 120 * period
    # Only SOPs are priced by default: 23.6 pJ times the golden run's SOPs.
    sops = sum(c["sops"] for c in cores)
    assert d["energy"]["total_j"] == pytest.approx(23.6e-12 * sops) and sops > 0
    assert d["energy"]["per_sop_j"] == pytest.approx(23.6e-12)
    # With these thresholds the network passes through every state.
    assert {s for c in cores for s, n in c["steps"].items() if n} == {"active", "reduced",
                                                                      "sleep"}


def small_network():
    net = Network()
    inp = net.add(InputPopulation(16, name="in"))
    pop = net.add(Population(16, LIFProfile(du=2048, dv=1024, vth=2000, weight_exp=2),
                             name="out"))
    rng = np.random.default_rng(2)
    net.add(Projection.dense(inp, pop, rng.integers(-20, 90, (16, 16))))
    net.add(Projection.sparse_random(pop, pop, 0.2, 30, seed=3))
    return net, inp


def _small_report():
    net, inp = small_network()
    chip = ChipParams(rows=1, cols=1, n_routes=64,
                      core=CoreParams(n_neurons=32, n_axons=32, n_synapses=400, max_delay=1,
                                      state_bits=16))
    # Busy for 10 steps, then nearly silent.
    rate = np.r_[np.full(10, 0.3), np.full(20, 0.002)]
    counts = {inp: np.random.default_rng(4).poisson(rate[:, None] * np.ones(16))}
    policy = PowerPolicy(window=2, low_pct=10, mid_pct=40)
    report = power_report(net, counts, 30, policy=policy, chip=chip)
    return report, net, counts, chip, policy


def test_report_follows_the_golden_run():
    report, net, counts, chip, policy = _small_report()
    inp = net.populations[0]
    golden = run(net, counts, 30, chip=chip).chip_run
    np.testing.assert_array_equal(report.activity[:, 0], golden.events[:, 0] / 32)
    # Every event is an input spike of the step or a packet routed from the step before.
    assert golden.events.sum() == counts[inp].sum() + golden.routed[:-1].sum()
    np.testing.assert_array_equal(report.states, simulate_policy(golden.events, policy, 32))
    assert set(report.states[:, 0].tolist()) >= {PowerState.ACTIVE, PowerState.SLEEP}
    assert report.energy["total_j"] == pytest.approx(23.6e-12 * golden.sops.sum())


def test_toggles_and_gated_cycles_of_the_busiest_core():
    report = _small_report()[0]
    t = measure_toggles(report, steps=24)
    assert t["core"] == 0 and t["steps"] == 24 and t["from_step"] == 2
    assert t["spikes_equal"]
    # The RTL's own counter, after a gated run of the same events, is the golden count.
    assert t["gated_cycles_rtl"] == t["gated_cycles_golden"] > 0
    assert 0 < t["saved_clocked"] < 1 and 0 < t["saved_edges"] < 1
    plain, gated = np.array(t["per_step"]["plain"]), np.array(t["per_step"]["gated"])
    assert len(plain) == len(gated) == 24
    # Asleep, the core's registers see far fewer edges than without the gate.
    asleep = report.states[:24, 0] == PowerState.SLEEP
    assert asleep.sum() >= 3 and (gated[asleep] < 0.5 * plain[asleep]).all()


def _coefficients(tmp_path, text):
    path = tmp_path / "c.json"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("argv,message", [
    (["--low", "120"], "low_pct must be between 0 and 100 percent, not 120.0"),
    (["--window", "0"], "window must be between 1 and 65535 steps, not 0"),
    (["--low", "60", "--mid", "50"], "low_pct must not be above mid_pct, not 60.0 over 50.0"),
    (["--period", "0"], "period must be a whole number of cycles, at least 1, not 0"),
    (["--period", "30"], "period 30 is too short: core 0 needs "),
    (["--toggles", "--toggle-steps", "0"],
     "steps must be a whole number of steps, at least 1, not 0"),
    (["--coefficients", "{bad"], " is not JSON: "),
    (["--coefficients", '{"sops": 1e-12, "watts": 2}'],
     " has unknown counts watts; allowed: sops, neuron_updates, "),
    (["--coefficients", '{"sops": 1e-12}'], " must say where its figures come from, in "
                                            "\"source\""),
    (["--coefficients", '{"sops": -1, "source": "x"}'], "sops must not be negative, not -1"),
])
def test_user_errors_are_one_sentence(braille, tmp_path, capsys, argv, message):
    if argv[0] == "--coefficients":
        argv = ["--coefficients", _coefficients(tmp_path, argv[1])]
    assert main(["power", str(braille), "--steps", "20", "--out", str(tmp_path)] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikeforge power: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_user_coefficients_are_used(braille, tmp_path, capsys):
    path = _coefficients(tmp_path, json.dumps({"sops": 1e-12, "gated_cycles": 2e-15,
                                               "clocked_cycles": 5e-14,
                                               "source": "a test's own figures"}))
    report = tmp_path / "r.json"
    assert main(["power", str(braille), "--steps", "20", "--out", str(tmp_path), "--json",
                 str(report), "--coefficients", path]) == 0
    d = json.loads(report.read_text())
    core = d["cores"][0]
    expected = 1e-12 * core["sops"] + 2e-15 * core["cycles"]["gated"] + \
        5e-14 * core["cycles"]["clocked"]
    assert d["energy"]["total_j"] == pytest.approx(expected)
    assert d["energy"]["source"] == "a test's own figures"
    assert "coefficients: a test's own figures" in capsys.readouterr().out
    assert PUBLISHED.gated_cycles is None       # the default prices no cycles

"""Tier 3 for ``rtl.izhikevich``: the step unit against ``golden_model.izhikevich`` bit for bit,
on random states and profiles with the corners (saturation, spikes, negative values, zero),
at 16 and 24-bit state, with output backpressure; and its timing."""

import numpy as np
import pytest

from golden_model.fixedpoint import signed_max
from golden_model.izhikevich import PATTERNS, IzhikevichProfile, izhikevich_update
from rtl.izhikevich import CYCLES_PER_UPDATE, LATENCY, IzhikevichUnit
from sim.amaranth_sim import run_stream_unit, stream_unit_timing


def _cases(rng, S, n):
    top = signed_max(S)
    F = S - 9

    def pick(lo, hi, corners):
        return np.where(rng.random(n) < 0.2, rng.choice(corners, n), rng.integers(lo, hi + 1, n))

    cases = {
        "v": pick(-top, top, [-top, top, 0, -1, 29 << F, 30 << F, (30 << F) - 1]),
        "u": pick(-top, top, [-top, top, 0, -1]),
        "i": pick(-top, top, [-top, top, 0, 10 << F]),
        "a": pick(-(1 << 15), (1 << 15) - 1, [-(1 << 15), (1 << 15) - 1, 0, 1311]),
        "b": pick(-(1 << 15), (1 << 15) - 1, [-(1 << 15), (1 << 15) - 1, 0, 13107]),
        "c": pick(-top, top, [-top, top, -65 << F]),
        "d": pick(-top, top, [-top, top, 8 << F]),
        "v_peak": pick(-top, top, [top, 30 << F, 0]),
    }
    # Half the cases live where the model does: near rest, with a pattern's profile.
    for k in range(0, n, 2):
        a, b, c, d = PATTERNS[sorted(PATTERNS)[k % 5]]
        p = IzhikevichProfile.from_float(a, b, c, d, state_bits=S)
        cases["a"][k], cases["b"][k], cases["c"][k], cases["d"][k] = p.a, p.b, p.c, p.d
        cases["v_peak"][k] = p.v_peak
        cases["v"][k] = rng.integers(-80 << F, 32 << F)
        cases["u"][k] = rng.integers(-20 << F, 20 << F)
        cases["i"][k] = rng.integers(-20 << F, 40 << F)
    return cases


@pytest.mark.parametrize("S", [16, 24])
def test_unit_matches_golden(S):
    rng = np.random.default_rng(S)
    n = 1000
    cases = _cases(rng, S, n)
    v, u, spike = izhikevich_update(cases["v"], cases["u"], cases["i"], cases["a"], cases["b"],
                                    cases["c"], cases["d"], cases["v_peak"], S)
    payloads = [{name: int(cases[name][k]) for name in cases} for k in range(n)]
    got = [(o.v, o.u, o.spike) for o in run_stream_unit(IzhikevichUnit(S), payloads, seed=1)]
    assert [g[0] for g in got] == v.tolist()
    assert [g[1] for g in got] == u.tolist()
    assert [bool(g[2]) for g in got] == spike.tolist()
    assert spike.any() and not spike.all()


def test_timing():
    taken, offered = stream_unit_timing(
        IzhikevichUnit(16), {"v": -65 << 7, "u": -13 << 7, "i": 10 << 7, "a": 1311,
                             "b": 13107, "c": -65 << 7, "d": 8 << 7, "v_peak": 30 << 7}, 40)
    assert np.diff(taken).tolist() == [CYCLES_PER_UPDATE] * (len(taken) - 1)
    assert offered[0] - taken[0] == LATENCY

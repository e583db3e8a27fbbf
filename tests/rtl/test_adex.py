"""Tier 3 for ``rtl.adex``: the step unit against ``golden_model.adex`` bit for bit, on random
states and profiles (the four regimes' and random coefficients, with the corners: the
exponential's ends, saturation, spikes) at 16 and 24-bit state under output backpressure;
and its timing."""

import numpy as np
import pytest

from golden_model.adex import REGIMES, AdExProfile, Coef, adex_update
from golden_model.fixedpoint import signed_max
from rtl.adex import CYCLES_PER_UPDATE, LATENCY, AdExUnit
from sim.amaranth_sim import run_stream_unit, stream_unit_timing

COEFS = ("kL", "kx", "kE", "kw", "ka")


def _profiles(rng, S, n):
    """Half the regimes' profiles, half random ones within the format."""
    top = signed_max(S)
    out = []
    for k in range(n):
        if k % 2 == 0:
            out.append(AdExProfile.from_float(**REGIMES[sorted(REGIMES)[k % 4]], state_bits=S))
            continue
        base = AdExProfile.from_float(**REGIMES["tonic"], state_bits=S)
        coefs = {c: Coef(int(rng.integers(-(1 << 15), 1 << 15)), int(rng.integers(0, 41)))
                 for c in COEFS}
        # kE is positive; kL and kw are fractions in [0, 1), as the format has them.
        coefs["kE"] = Coef(int(rng.integers(0, 1 << 15)), int(rng.integers(0, 41)))
        for c in ("kL", "kw"):
            coefs[c] = Coef(int(rng.integers(0, 1 << 15)), int(rng.integers(15, 41)))
        volts = {name: int(rng.choice([rng.integers(-top, top + 1), top, -top, 0]))
                 for name in ("EL", "VT", "Vr", "V_peak", "b")}
        out.append(AdExProfile(**volts, **coefs, state_bits=base.state_bits))
    return out


def _payload(p, v, w, i):
    coef = lambda c: {"m": c.m, "s": c.s}
    return {"v": v, "w": w, "i": i, "el": p.EL, "vt": p.VT, "vr": p.Vr, "v_peak": p.V_peak,
            "b": p.b, "kl": coef(p.kL), "kx": coef(p.kx), "ke": coef(p.kE), "kw": coef(p.kw),
            "ka": coef(p.ka)}


@pytest.mark.parametrize("S", [16, 24])
def test_unit_matches_golden(S):
    rng = np.random.default_rng(S + 100)
    n = 600
    top = signed_max(S)
    F = S - 9
    profiles = _profiles(rng, S, n)
    states = []
    for k, p in enumerate(profiles):
        if k % 2 == 0:       # where the model lives: -80..+5 mV, moderate w and input
            v = int(rng.integers(-80 << F, 5 << F))
            w = int(rng.integers(-(top // 8), top // 8))
            i = int(rng.integers(-(1 << F), 2 << F))
        else:
            v, w, i = (int(rng.choice([rng.integers(-top, top + 1), top, -top, 0]))
                       for _ in range(3))
        states.append((v, w, i))
    expected = [adex_update(v, w, i, p) for p, (v, w, i) in zip(profiles, states)]
    payloads = [_payload(p, v, w, i) for p, (v, w, i) in zip(profiles, states)]
    got = [(o.v, o.w, bool(o.spike)) for o in run_stream_unit(AdExUnit(S), payloads, seed=2)]
    want = [(int(v), int(w), bool(s)) for v, w, s in expected]
    for k, (g, e) in enumerate(zip(got, want)):
        assert g == e, (k, profiles[k], states[k])
    spikes = [s for _, _, s in want]
    assert any(spikes) and not all(spikes)


def test_timing():
    p = AdExProfile.from_float(**REGIMES["tonic"])
    taken, offered = stream_unit_timing(AdExUnit(16), _payload(p, p.EL, 0, 100), 45)
    out = {"taken": taken, "offered": offered}
    assert np.diff(out["taken"]).tolist() == [CYCLES_PER_UPDATE] * (len(out["taken"]) - 1)
    assert out["offered"][0] - out["taken"][0] == LATENCY

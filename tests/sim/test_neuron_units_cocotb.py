"""Tier 4: the Izhikevich and AdEx step units as Verilog on Verilator against the golden
model, bit for bit, on random states and profiles (the corners included), with random
idle cycles on the input and backpressure on the output."""

import numpy as np
import pytest

from golden_model.adex import adex_update
from golden_model.izhikevich import izhikevich_update
from rtl.adex import AdExUnit, adex_in_layout, adex_out_layout, coef_layout
from rtl.izhikevich import IzhikevichUnit, izhikevich_in_layout, izhikevich_out_layout
from sim.cocotb_bench import pack
from sim.cocotb_chip import unpack
from sim.units_runner import run_unit_jobs

from ..rtl.test_adex import _profiles
from ..rtl.test_izhikevich import _cases

pytestmark = pytest.mark.cocotb


def _signed(value, bits):
    return value - (1 << bits) if value >> (bits - 1) else value


@pytest.mark.parametrize("S", [16, 24])
def test_izhikevich_unit_on_verilator(S):
    rng = np.random.default_rng(S + 7)
    n = 400
    cases = _cases(rng, S, n)
    v, u, spike = izhikevich_update(cases["v"], cases["u"], cases["i"], cases["a"], cases["b"],
                                    cases["c"], cases["d"], cases["v_peak"], S)
    layout = izhikevich_in_layout(S)
    words = [pack(layout, **{k: int(cases[k][j]) for k in cases}) for j in range(n)]
    results, passed = run_unit_jobs(lambda: IzhikevichUnit(S), ("izhikevich", S), [words],
                                    gap=0.3, stall=0.3, seed=S)
    assert passed
    out = [unpack(izhikevich_out_layout(S), w) for w in results[0]["words"]]
    assert [_signed(o["v"], S) for o in out] == v.tolist()
    assert [_signed(o["u"], S) for o in out] == u.tolist()
    assert [bool(o["spike"]) for o in out] == spike.tolist()


@pytest.mark.parametrize("S", [16, 24])
def test_adex_unit_on_verilator(S):
    rng = np.random.default_rng(S + 11)
    n = 300
    top = (1 << (S - 1)) - 1
    profiles = _profiles(rng, S, n)
    states = [tuple(int(rng.integers(-top, top + 1)) for _ in range(3)) for _ in range(n)]
    for k in range(0, n, 2):            # half near rest, where the model lives
        F = S - 9
        states[k] = (int(rng.integers(-80 << F, 5 << F)), int(rng.integers(-top // 8, top // 8)),
                     int(rng.integers(-(1 << F), 2 << F)))
    expected = [adex_update(v, w, i, p) for p, (v, w, i) in zip(profiles, states)]

    def coef(c):
        return pack(coef_layout, m=c.m, s=c.s)

    layout = adex_in_layout(S)
    words = [pack(layout, v=v, w=w, i=i, el=p.EL, vt=p.VT, vr=p.Vr, v_peak=p.V_peak, b=p.b,
                  kl=coef(p.kL), kx=coef(p.kx), ke=coef(p.kE), kw=coef(p.kw), ka=coef(p.ka))
             for p, (v, w, i) in zip(profiles, states)]
    results, passed = run_unit_jobs(lambda: AdExUnit(S), ("adex", S), [words], gap=0.3,
                                    stall=0.3, seed=S)
    assert passed
    out = [unpack(adex_out_layout(S), w) for w in results[0]["words"]]
    got = [(_signed(o["v"], S), _signed(o["w"], S), bool(o["spike"])) for o in out]
    assert got == [(int(v), int(w), bool(s)) for v, w, s in expected]
    assert any(s for _, _, s in got) and not all(s for _, _, s in got)

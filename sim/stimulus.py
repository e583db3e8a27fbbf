"""Random core images and input streams for differential tests and benchmarks.

Each draw is seeded, so a failing configuration is reproduced from its seed.
The generator leans on the corners on purpose: weights at their extremes,
weight exponents that push ``u`` past its width (wrap) and ``v`` into
saturation, decays of 0 and 4096, every reset mode and rounding mode,
refractory periods, and axons whose fan-out reaches every neuron.
"""

import numpy as np

from golden_model import CoreImage, LIFProfile, SynapseTable
from golden_model.fixedpoint import Overflow, Rounding, signed_max, signed_min
from golden_model.learning import HomeostasisParams, SDSPParams, ThreeFactorParams
from golden_model.params import NeuronModel, ResetMode, Rule
from golden_model.stdp import DecayMode, Pairing, STDPParams

__all__ = ["random_profile", "random_izhikevich_profile", "random_adex_profile", "random_image", "random_inputs", "random_routes", "random_chip_image",
           "random_chip_inputs", "traffic_chip_image", "random_learning_params",
           "random_learning_image"]


def random_profile(rng, params):
    S = params.state_bits
    smax = signed_max(S)

    def decay():
        return int(rng.choice([0, 4095, rng.integers(0, 4096), rng.integers(0, 600)]))

    du, dv = decay(), decay()
    # A weight exponent near S - weight_bits makes a few events overflow u.
    weight_exp = int(rng.integers(0, S - 1))
    vth = int(rng.choice([0, smax, rng.integers(0, smax + 1),
                          rng.integers(0, max(2, smax >> 6))]))
    bias_exp = int(rng.integers(0, S - 1))
    lim = smax >> bias_exp
    bias_mant = int(rng.integers(-lim, lim + 1)) if rng.random() < 0.5 else 0
    return LIFProfile(
        du=du, dv=dv, du_offset=int(rng.integers(0, 2)) if du == 4095 else 0,
        dv_offset=int(rng.integers(0, 2)) if dv == 4095 else 0,
        vth=vth, bias_mant=bias_mant, bias_exp=bias_exp,
        reset=ResetMode(int(rng.integers(0, 3))),
        v_reset=int(rng.integers(signed_min(S), smax + 1)),
        refractory=int(rng.integers(0, params.refractory_max + 1)) if rng.random() < 0.4 else 0,
        weight_exp=weight_exp,
        rounding=Rounding(int(rng.integers(0, 2))),
        u_overflow=Overflow(int(rng.integers(0, 2))),
        v_overflow=Overflow(int(rng.integers(0, 2))),
    )


def random_izhikevich_profile(rng, params):
    """Half the time one of the paper's patterns, else random fields (corners included)."""
    from golden_model.izhikevich import PATTERNS, IzhikevichProfile, frac_bits
    S = params.state_bits
    F = frac_bits(S)
    top = signed_max(S)
    state = lambda: int(rng.choice([rng.integers(-top, top + 1), top, -top, 0]))
    weight_exp = int(rng.integers(0, max(1, S - params.weight_bits)))
    if rng.random() < 0.5:
        a, b, c, d = PATTERNS[sorted(PATTERNS)[int(rng.integers(0, len(PATTERNS)))]]
        return IzhikevichProfile.from_float(a, b, c, d, bias=float(rng.uniform(-5, 15)),
                                            weight_exp=min(weight_exp, F), state_bits=S)
    coef = lambda: int(rng.integers(-(1 << 15), 1 << 15))
    return IzhikevichProfile(a=coef(), b=coef(), c=state(), d=state(), v_peak=state(),
                             bias=state(), weight_exp=weight_exp, state_bits=S)


def random_adex_profile(rng, params):
    """Half the time one of Naud et al.'s regimes, else random coefficients and voltages."""
    from golden_model.adex import REGIMES, AdExProfile, Coef
    S = params.state_bits
    top = signed_max(S)
    state = lambda: int(rng.choice([rng.integers(-top, top + 1), top, -top, 0]))
    weight_exp = int(rng.integers(0, max(1, S - params.weight_bits)))
    if rng.random() < 0.5:
        r = REGIMES[sorted(REGIMES)[int(rng.integers(0, len(REGIMES)))]]
        base = AdExProfile.from_float(**r, state_bits=S)
        return AdExProfile(**{**base.__dict__, "weight_exp": weight_exp,
                              "bias": AdExProfile.input_of(r["I"], r["C"], state_bits=S)})
    signed16 = lambda: int(rng.integers(-(1 << 15), 1 << 15))
    fraction = lambda: Coef(int(rng.integers(0, 1 << 15)), int(rng.integers(15, 41)))
    return AdExProfile(EL=state(), VT=state(), Vr=state(), V_peak=state(), b=state(),
                       kL=fraction(), kw=fraction(),
                       kx=Coef(signed16(), int(rng.integers(0, 41))),
                       kE=Coef(int(rng.integers(0, 1 << 15)), int(rng.integers(0, 41))),
                       ka=Coef(signed16(), int(rng.integers(0, 41))),
                       bias=state(), weight_exp=weight_exp, state_bits=S)


def random_image(rng, params, *, n_synapses=None, n_axons=None, fan_out_all=True):
    """A random :class:`CoreImage` that fits ``params``.

    Uses up to ``n_synapses`` entries (default: all) over ``n_axons`` axons.
    With ``fan_out_all`` axon 0 reaches every neuron (maximum fan-out), and
    some neurons get many synapses from one axon (large fan-in).
    """
    p = params
    n_axons = p.n_axons if n_axons is None else n_axons
    budget = p.n_synapses if n_synapses is None else n_synapses
    rows = []
    if fan_out_all and budget >= p.n_neurons:
        w = int(rng.choice([p.weight_min, p.weight_max]))
        rows += [(0, n, w, int(rng.integers(1, p.max_delay + 1))) for n in range(p.n_neurons)]
    while len(rows) < budget:
        a = int(rng.integers(0, n_axons))
        n = int(rng.integers(0, p.n_neurons))
        if rng.random() < 0.3:
            w = int(rng.choice([p.weight_min, p.weight_max, 0]))
        else:
            w = int(rng.integers(p.weight_min, p.weight_max + 1))
        rows.append((a, n, w, int(rng.integers(1, p.max_delay + 1))))
    rng.shuffle(rows)
    n_prof = int(rng.integers(1, p.n_profiles + 1))
    make = {NeuronModel.LIF: random_profile, NeuronModel.IZHIKEVICH: random_izhikevich_profile,
            NeuronModel.ADEX: random_adex_profile}[p.neuron_model]
    profiles = [make(rng, p) for _ in range(n_prof)]
    S = p.state_bits
    init = lambda: rng.integers(signed_min(S), signed_max(S) + 1, size=p.n_neurons) \
        if rng.random() < 0.5 else 0
    return CoreImage(params=p, profiles=profiles,
                     neuron_profile=rng.integers(0, n_prof, size=p.n_neurons),
                     synapses=SynapseTable.from_synapses(p.n_axons, rows),
                     u0=init(), v0=init())


def random_inputs(rng, n_axons, n_steps, rate=0.1, *, burst_every=0):
    """Per-step axon event lists: Bernoulli(``rate``) per axon, with repeats allowed.

    With ``burst_every`` every that many steps all axons fire back to back,
    several of them twice.
    """
    steps = []
    for t in range(n_steps):
        events = list(np.flatnonzero(rng.random(n_axons) < rate))
        if burst_every and t % burst_every == burst_every - 1:
            events = list(range(n_axons)) + list(rng.integers(0, n_axons, size=n_axons // 2))
        rng.shuffle(events)
        steps.append([int(a) for a in events])
    return steps


def random_routes(rng, chip, *, n_routes=None, host_fraction=0.2, fan_out_all=True,
                  host_all=False):
    """A random :class:`RouteTable` per core.

    Neuron 0 of core 0 reaches every core when ``fan_out_all``; with
    ``host_all`` every neuron also reports to the host, so the host sees every spike.
    """
    from golden_model.chip import RouteTable
    core = chip.core
    budget = chip.n_routes if n_routes is None else n_routes
    tables = []
    for k in range(chip.n_cores):
        rows = [(n, "host") for n in range(core.n_neurons)] if host_all else []
        if fan_out_all and k == 0 and budget >= chip.n_cores:
            rows += [(0, x, y, int(rng.integers(0, core.n_axons)))
                     for y in range(chip.rows) for x in range(chip.cols)]
        n = int(rng.integers((budget + len(rows)) // 2, budget + 1))
        while len(rows) < n:
            neuron = int(rng.integers(0, core.n_neurons))
            if rng.random() < host_fraction:
                rows.append((neuron, "host"))
            else:
                rows.append((neuron, int(rng.integers(0, chip.cols)),
                             int(rng.integers(0, chip.rows)), int(rng.integers(0, core.n_axons))))
        tables.append(RouteTable.from_routes(core.n_neurons, rows))
    return tables


def random_chip_image(rng, chip, **kwargs):
    """Random core images and output tables for every core of ``chip``."""
    from golden_model.chip import ChipImage
    cores = [random_image(rng, chip.core) for _ in range(chip.n_cores)]
    return ChipImage(chip, cores, random_routes(rng, chip, **kwargs))


def random_chip_inputs(rng, chip, n_steps, rate=0.1):
    """Per-step lists of external ``(x, y, axon)`` events, Bernoulli per core and axon."""
    steps = []
    for _ in range(n_steps):
        events = [(x, y, int(a)) for y in range(chip.rows) for x in range(chip.cols)
                  for a in np.flatnonzero(rng.random(chip.core.n_axons) < rate)]
        rng.shuffle(events)
        steps.append([tuple(int(v) for v in e) for e in events])
    return steps


def traffic_chip_image(rng, chip, *, routes_per_neuron=6, host_every=4):
    """A busy chip: every neuron fires often, drives ``routes_per_neuron`` random destinations,
    and one neuron in ``host_every`` reports to the host.

    Bias keeps neurons firing on their own and random signed weights make the
    routed spikes change when they fire, so a lost or doubled packet shows in
    the state.
    """
    from golden_model.chip import ChipImage, RouteTable
    core = chip.core
    profiles = [LIFProfile(du=1024, dv=512, vth=int(rng.integers(600, 1500)), bias_mant=300,
                           weight_exp=4, refractory=int(rng.integers(0, 2)))
                for _ in range(min(2, core.n_profiles))]
    cores, tables = [], []
    for _ in range(chip.n_cores):
        rows = [(int(rng.integers(0, core.n_axons)), int(rng.integers(0, core.n_neurons)),
                 int(rng.integers(core.weight_min, core.weight_max + 1)),
                 int(rng.integers(1, core.max_delay + 1))) for _ in range(core.n_synapses)]
        cores.append(CoreImage(core, profiles, rng.integers(0, len(profiles), core.n_neurons),
                               SynapseTable.from_synapses(core.n_axons, rows)))
        routes = []
        for n in range(core.n_neurons):
            routes += [(n, int(rng.integers(0, chip.cols)), int(rng.integers(0, chip.rows)),
                        int(rng.integers(0, core.n_axons))) for _ in range(routes_per_neuron)]
            if host_every and n % host_every == 0:
                routes.append((n, "host"))
        tables.append(RouteTable.from_routes(core.n_neurons, routes))
    return ChipImage(chip, cores, tables)


def _bounds(rng, p):
    lo, hi = p.weight_min, p.weight_max
    if rng.random() < 0.4:
        return lo, hi
    a, b = sorted(int(x) for x in rng.integers(lo, hi + 1, size=2))
    return a, b


def random_learning_params(rng, params):
    """Random run-time parameters for ``params.learning``'s rule and homeostasis.

    Amplitudes, shifts and bounds are drawn so that weights reach both bounds
    in a few hundred steps, with stochastic rounding half of the time.
    """
    p, spec = params, params.learning
    rule = None
    if spec.rule in (Rule.STDP, Rule.THREE_FACTOR):
        tb = int(rng.integers(max(1, spec.trace_bits - 3), spec.trace_bits + 1))
        mode = DecayMode(int(rng.integers(0, 2)))
        tmax = (1 << tb) - 1
        dec = (lambda: int(rng.integers(0, 8))) if mode is DecayMode.SHIFT else \
            (lambda: int(rng.choice([0, 4096, rng.integers(0, 1200)])))
        w_min, w_max = _bounds(rng, p)
        rule = STDPParams(
            trace_bits=tb, decay_mode=mode, x_decay=dec(), y_decay=dec(),
            x_inc=int(rng.integers(0, tmax + 1)), y_inc=int(rng.integers(0, tmax + 1)),
            pairing=Pairing(int(rng.integers(0, 2))), a_plus=int(rng.integers(0, 256)),
            a_minus=int(rng.integers(0, 256)), shift=int(rng.integers(0, 16)) if
            rng.random() < 0.2 else int(rng.integers(tb - 2 if tb > 2 else 0, tb + 4)),
            w_min=w_min, w_max=w_max, stochastic=bool(rng.random() < 0.5),
            seed=int(rng.integers(1, 65536)), enable=bool(rng.random() < 0.9))
        if spec.rule is Rule.THREE_FACTOR:
            rule = ThreeFactorParams(stdp=rule, e_decay=int(rng.integers(0, 8)),
                                     r_shift=int(rng.integers(0, 12)))
    elif spec.rule is Rule.SDSP:
        ca_max = (1 << spec.calcium_bits) - 1
        th = sorted(int(x) for x in rng.integers(0, ca_max + 1, size=3))
        w_min, w_max = _bounds(rng, p)
        S = p.state_bits
        rule = SDSPParams(
            ca_inc=int(rng.integers(0, ca_max + 1)), ca_decay=int(rng.integers(0, 6)),
            theta_m=int(rng.integers(-(1 << (S - 3)), 1 << (S - 3))),
            theta_1=th[0], theta_2=int(rng.choice([th[1], th[2]])), theta_3=th[2],
            w_min=w_min, w_max=w_max, drift_period=int(rng.choice([0, 1, rng.integers(2, 20)])),
            enable=bool(rng.random() < 0.9))
    homeo = None
    if spec.homeostasis:
        hmax = (1 << spec.theta_bits) - 1
        homeo = HomeostasisParams(theta_inc=int(rng.integers(0, hmax + 1)),
                                  theta_decay=int(rng.integers(0, 8)),
                                  enable=bool(rng.random() < 0.9))
    return rule, homeo


def random_learning_image(rng, params, *, plastic_fraction=None):
    """A random image for a learning core: active neurons, plastic flags, random rule parameters.

    Profiles fire often enough that pre and post spikes meet, also in the same step.
    """
    p = params
    base = random_image(rng, p, n_synapses=int(rng.integers(p.n_synapses // 2, p.n_synapses + 1)))
    wmax = max(1, abs(p.weight_max), abs(p.weight_min))
    S = p.state_bits
    profiles = []
    for _ in range(int(rng.integers(1, p.n_profiles + 1))):
        profiles.append(LIFProfile(
            du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 1500)),
            vth=int(rng.integers(0, min(signed_max(S), wmax) + 1)),
            reset=ResetMode(int(rng.integers(0, 3))),
            v_reset=int(rng.integers(-wmax, wmax + 1)),
            refractory=int(rng.integers(0, 3)) if rng.random() < 0.3 else 0,
            rounding=Rounding(int(rng.integers(0, 2))),
            v_overflow=Overflow.SATURATE, u_overflow=Overflow.SATURATE))
    fraction = float(rng.choice([0.5, 0.9, 1.0])) if plastic_fraction is None else plastic_fraction
    plastic = rng.random(len(base.synapses)) < fraction
    rule, homeo = random_learning_params(rng, p)
    return CoreImage(params=p, profiles=profiles,
                     neuron_profile=rng.integers(0, len(profiles), size=p.n_neurons),
                     synapses=base.synapses, plastic=plastic, learning=rule, homeostasis=homeo)

"""Tier 2 for ``spikeforge.nirsim``, the float path: the NIR paper's reference runs, hand-computed
steps, closed forms against fine Euler integration, and the stateless nodes against loops."""

from pathlib import Path

import nir
import numpy as np
import pytest

from spikeforge.nirgraph import from_nir, read_nir
from spikeforge.nirsim import MAX_SPIKES_PER_STEP, FloatNetwork

LIF_RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "nir" / "nir-paper" / "01_lif"


def _graph(nodes, edges):
    return from_nir(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))


def _chain(*pairs, n_in):
    """Input → each (name, node) in turn → Output."""
    nodes = {"input": nir.Input(input_type=np.array([n_in]))}
    names = ["input"]
    for name, node in pairs:
        nodes[name] = node
        names.append(name)
    nodes["output"] = nir.Output(output_type=np.array([1]))
    names.append("output")
    return _graph(nodes, list(zip(names, names[1:])))


def _lif(tau, r=1.0, v_leak=0.0, vth=1.0, v_reset=0.0, n=1):
    full = lambda x: np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()
    return nir.LIF(tau=full(tau), r=full(r), v_leak=full(v_leak), v_threshold=full(vth),
                   v_reset=full(v_reset))


def _cuba(tau_syn, tau_mem, r=1.0, w_in=1.0, vth=1.0, n=1, spiking=True):
    full = lambda x: np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()
    if not spiking:
        return nir.CubaLI(tau_syn=full(tau_syn), tau_mem=full(tau_mem), r=full(r),
                          v_leak=full(0), w_in=full(w_in))
    return nir.CubaLIF(tau_syn=full(tau_syn), tau_mem=full(tau_mem), r=full(r), v_leak=full(0),
                       v_threshold=full(vth), v_reset=full(0), w_in=full(w_in))


# ---- the NIR paper's single LIF neuron --------------------------------------------------------

def _paper_run(method, csv):
    runs = np.loadtxt(LIF_RUNS / csv, delimiter=",")
    g = read_nir(LIF_RUNS / "lif_norse.nir")
    result = FloatNetwork(g, 1e-4, method).run(runs[:, :1], record=["1"])
    return runs, result.spikes["1"][:, 0], result.v["1"][:, 0]


def test_exact_path_agrees_with_the_papers_exact_integration():
    runs, spikes, v = _paper_run("exact", "lif_exact.csv")
    assert np.flatnonzero(spikes).tolist() == np.flatnonzero(runs[:, 2]).tolist() \
        == [460, 510, 710, 760]
    # Relative error where the voltage is not a rounding residue of zero.
    meaningful = np.abs(runs[:, 1]) > 1e-12
    rel = np.abs(v[meaningful] - runs[meaningful, 1]) / np.abs(runs[meaningful, 1])
    assert rel.max() <= 1e-6
    assert np.abs(v[~meaningful]).max() <= 1e-12


def test_euler_path_agrees_with_norse():
    # Norse integrates with forward Euler, in float32.
    runs, spikes, v = _paper_run("euler", "lif_norse.csv")
    assert np.array_equal(spikes, runs[:, 2])
    assert np.abs(v - runs[:, 1]).max() <= 1e-6 * np.abs(runs[:, 1]).max()


def test_exact_reset_happens_inside_the_step():
    # The input crosses threshold at s* inside step 0; the rest of the step integrates from 0.
    tau, dt, drive, vth = 0.01, 1e-3, 3.0, 0.2
    g = _chain(("lif", _lif(tau, vth=vth)), n_in=1)
    res = FloatNetwork(g, dt, "exact").run(np.full((1, 1), drive), record=["lif"])
    s_star = tau * np.log(drive / (drive - vth))
    assert res.spikes["lif"][0, 0] == 1
    assert res.v["lif"][0, 0] == pytest.approx(drive * (1 - np.exp(-(dt - s_star) / tau)),
                                               rel=1e-12)


def test_exact_counts_every_crossing_in_a_step():
    # Inter-spike interval from rest after a reset is tau * ln(drive / (drive - vth)).
    tau, dt, drive, vth = 0.01, 1e-2, 50.0, 1.0
    g = _chain(("lif", _lif(tau, vth=vth)), n_in=1)
    res = FloatNetwork(g, dt, "exact").run(np.full((3, 1), drive), record=["lif"])
    isi = tau * np.log(drive / (drive - vth))
    first = int(dt // isi)
    assert res.spikes["lif"][0, 0] == first
    left = dt - first * isi
    assert res.v["lif"][0, 0] == pytest.approx(drive * (1 - np.exp(-left / tau)), rel=1e-9)


def test_exact_refuses_an_endless_burst():
    g = _chain(("lif", _lif(0.01, vth=1e-6)), n_in=1)
    with pytest.raises(ValueError, match=rf"^a LIF neuron \(index 0\) fires "
                                         rf"{MAX_SPIKES_PER_STEP} times in one step: its input "
                                         rf"is too strong for dt = 1 s$"):
        FloatNetwork(g, 1.0, "exact").run(np.full((1, 1), 1e9))


# ---- hand-computed Euler steps ----------------------------------------------------------------

@pytest.mark.parametrize("reset,after", [("zero", 0.25), ("subtract", 0.45)])
def test_euler_lif_steps_by_hand(reset, after):
    # dt/tau = 0.5, so v' = v + 0.5 (-v + x) = (v + x) / 2; v_reset 0.25 for "zero".
    g = _chain(("lif", _lif(0.002, vth=1.0, v_reset=0.25)), n_in=1)
    res = FloatNetwork(g, 1e-3, "euler", reset=reset).run(np.array([[2.0], [2.0], [0.0]]),
                                                          record=["lif"])
    # step 0: v = 1.0, not above 1; step 1: v = 1.5 > 1 fires, then reset.
    assert res.spikes["lif"][:, 0].tolist() == [0, 1, 0]
    assert res.v["lif"][0, 0] == 1.0
    assert res.v["lif"][1, 0] == pytest.approx(after if reset == "zero" else 0.5)
    v1 = res.v["lif"][1, 0]
    assert res.v["lif"][2, 0] == pytest.approx(v1 / 2)


def test_euler_cubalif_uses_the_new_current():
    # alpha = 1 - dt/tau_syn = 0.75, beta = 1 - dt/tau_mem = 0.5; i' = .75 i + .25 w_in x;
    # v' = .5 v + .5 r i'.
    g = _chain(("cuba", _cuba(4e-3, 2e-3, r=2.0, w_in=4.0, vth=100.0)), n_in=1)
    res = FloatNetwork(g, 1e-3, "euler").run(np.array([[1.0], [0.0], [0.0]]), record=["cuba"])
    i, v = [], []
    ii = vv = 0.0
    for x in (1.0, 0.0, 0.0):
        ii = 0.75 * ii + 0.25 * 4.0 * x
        vv = 0.5 * vv + 0.5 * 2.0 * ii
        i.append(ii)
        v.append(vv)
    assert res.i["cuba"][:, 0] == pytest.approx(i, rel=1e-12)
    assert res.v["cuba"][:, 0] == pytest.approx(v, rel=1e-12)


def test_snntorch_export_is_beta_decay_under_euler():
    # snnTorch: tau = dt / (1 - beta), r = 1 / (1 - beta); forward Euler is mem = beta mem + x.
    beta, dt = 0.9, 1e-4
    g = _chain(("lif", _lif(dt / (1 - beta), r=1 / (1 - beta), vth=1e9)), n_in=1)
    x = np.random.default_rng(1).uniform(0, 1, (20, 1))
    res = FloatNetwork(g, dt, "euler").run(x, record=["lif"])
    mem, want = 0.0, []
    for value in x[:, 0]:
        mem = beta * mem + value
        want.append(mem)
    assert res.v["lif"][:, 0] == pytest.approx(want, rel=1e-9)


# ---- closed forms against fine integration ----------------------------------------------------

def _fine_euler(node_args, x, dt, substeps=4000):
    """The same CubaLI ODE by Euler at dt / substeps, the input held over each step."""
    tau_syn, tau_mem, r, w_in = node_args
    h = dt / substeps
    i = v = 0.0
    out = []
    for value in x:
        for _ in range(substeps):
            i, v = i + h / tau_syn * (w_in * value - i), v + h / tau_mem * (-v + r * i)
        out.append(v)
    return np.array(out)


@pytest.mark.parametrize("tau_syn,tau_mem", [(2e-3, 5e-3), (5e-3, 2e-3), (3e-3, 3e-3)])
def test_exact_cuba_closed_form_matches_fine_integration(tau_syn, tau_mem):
    x = np.array([1.0, 0.0, 2.0, -1.0, 0.0, 0.0])
    g = _chain(("cuba", _cuba(tau_syn, tau_mem, r=1.5, w_in=2.0, spiking=False)), n_in=1)
    res = FloatNetwork(g, 1e-3, "exact").run(x[:, None])
    want = _fine_euler((tau_syn, tau_mem, 1.5, 2.0), x, 1e-3)
    assert res.outputs["output"][:, 0] == pytest.approx(want, rel=2e-3, abs=1e-6)


@pytest.mark.parametrize("kind", ["LIF", "CubaLIF", "IF"])
def test_exact_does_not_depend_on_the_step(kind):
    # With the input held over a step, exact integration is exact: a step of dt and 50 steps
    # of dt / 50 with the same input give the same spikes and the same voltage. Time constants
    # shorter than dt make CubaLIF's voltage peak and fall back inside one step.
    rng = np.random.default_rng(3)
    n = 6
    node = {"LIF": lambda: _lif(2e-3, r=1.0, vth=1.0, n=n),
            "CubaLIF": lambda: _cuba(1e-3, np.array([0.5e-3, 1e-3, 2e-3, 1e-3, 3e-3, 1e-3]),
                                     r=1.0, w_in=1.0, vth=1.0, n=n),
            "IF": lambda: nir.IF(r=np.full(n, 400.0), v_threshold=np.ones(n),
                                 v_reset=np.zeros(n))}[kind]()
    g = _graph({"input": nir.Input(input_type=np.array([n])), "cell": node,
                "output": nir.Output(output_type=np.array([n]))},
               [("input", "cell"), ("cell", "output")])
    x = rng.uniform(-0.5, 3.0, (30, n)) * (rng.random((30, n)) < 0.6)
    dt, k = 5e-3, 50
    coarse = FloatNetwork(g, dt, "exact").run(x, record=["cell"])
    fine = FloatNetwork(g, dt / k, "exact").run(np.repeat(x, k, axis=0), record=["cell"])
    fine_spikes = fine.spikes["cell"].reshape(30, k, n).sum(axis=1)
    assert coarse.spikes["cell"].sum() >= 20
    assert np.array_equal(coarse.spikes["cell"], fine_spikes)
    np.testing.assert_allclose(coarse.v["cell"], fine.v["cell"][k - 1::k], rtol=1e-9, atol=1e-12)


# ---- stateless nodes --------------------------------------------------------------------------

def _loop_conv2d(x, w, b, stride, padding, dilation, groups):
    cin, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((cout, oh, ow))
    per = cout // groups
    for o in range(cout):
        g = o // per
        for i in range(oh):
            for j in range(ow):
                total = b[o]
                for c in range(cin_g):
                    for p in range(kh):
                        for q in range(kw):
                            total += w[o, c, p, q] * xp[g * cin_g + c, i * stride[0] + p * dilation[0],
                                                        j * stride[1] + q * dilation[1]]
                out[o, i, j] = total
    return out


@pytest.mark.parametrize("seed", range(4))
def test_conv2d_matches_loops(seed):
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 2]))
    cin, cout = 2 * groups, 2 * groups
    kh, kw = (int(k) for k in rng.integers(1, 4, 2))
    stride = tuple(int(s) for s in rng.integers(1, 3, 2))
    padding = tuple(int(p) for p in rng.integers(0, 2, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    h, wd = (int(v) for v in rng.integers(6, 9, 2))
    w = rng.normal(size=(cout, cin // groups, kh, kw))
    b = rng.normal(size=cout)
    conv = nir.Conv2d(input_shape=(h, wd), weight=w, stride=stride, padding=padding,
                      dilation=dilation, groups=groups, bias=b)
    x = rng.normal(size=(2, cin, h, wd))
    want = [_loop_conv2d(x[t], w, b, stride, padding, dilation, groups) for t in range(2)]
    # nir's own output type uses the first kernel dimension for both, so it is not used here.
    g = _graph({"input": nir.Input(input_type=np.array([cin, h, wd])), "conv": conv,
                "output": nir.Output(output_type=np.array(want[0].shape))},
               [("input", "conv"), ("conv", "output")])
    res = FloatNetwork(g, 1e-3, "euler").run(x)
    for t in range(2):
        np.testing.assert_allclose(res.outputs["output"][t], want[t], rtol=1e-12, atol=1e-12)


def test_conv1d_matches_loops():
    rng = np.random.default_rng(7)
    w, b = rng.normal(size=(3, 2, 3)), rng.normal(size=3)
    conv = nir.Conv1d(input_shape=10, weight=w, stride=2, padding=1, dilation=2, groups=1, bias=b)
    g = _graph({"input": nir.Input(input_type=np.array([2, 10])), "conv": conv,
                "output": nir.Output(output_type=conv.output_type["output"])},
               [("input", "conv"), ("conv", "output")])
    x = rng.normal(size=(1, 2, 10))
    got = FloatNetwork(g, 1e-3, "euler").run(x).outputs["output"][0]
    want = _loop_conv2d(x[0][:, None, :], w[:, :, None, :], b, (1, 2), (0, 1), (1, 2), 1)[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("kind", ["SumPool2d", "AvgPool2d"])
def test_pooling_matches_loops(kind):
    x = np.arange(2 * 5 * 6, dtype=float).reshape(1, 2, 5, 6)
    pool = getattr(nir, kind)(kernel_size=np.array([2, 3]), stride=np.array([2, 2]),
                              padding=np.array([1, 0]))
    g = _graph({"input": nir.Input(input_type=np.array([2, 5, 6])), "pool": pool,
                "output": nir.Output(output_type=np.array([2, 3, 2]))},
               [("input", "pool"), ("pool", "output")])
    got = FloatNetwork(g, 1e-3, "euler").run(x).outputs["output"][0]
    xp = np.pad(x[0], ((0, 0), (1, 1), (0, 0)))
    want = np.array([[[xp[c, 2 * i:2 * i + 2, 2 * j:2 * j + 3].sum() for j in range(2)]
                      for i in range(3)] for c in range(2)])
    np.testing.assert_allclose(got, want / 6 if kind == "AvgPool2d" else want)


def test_delay_and_recurrent_edges_by_hand():
    # in → delay(2 steps) → sum ← rec(scale 0.5) ← sum: y_t = x_{t-2} + 0.5 y_{t-1}.
    nodes = {"input": nir.Input(input_type=np.array([1])),
             "delay": nir.Delay(delay=np.array([2e-3])),
             "sum": nir.Scale(scale=np.array([1.0])),
             "rec": nir.Scale(scale=np.array([0.5])),
             "output": nir.Output(output_type=np.array([1]))}
    g = _graph(nodes, [("input", "delay"), ("delay", "sum"), ("sum", "rec"), ("rec", "sum"),
                       ("sum", "output")])
    assert g.recurrent == {("rec", "sum")}
    x = np.array([1.0, 0, 0, 2.0, 0, 0, 0])
    got = FloatNetwork(g, 1e-3, "euler").run(x[:, None]).outputs["output"][:, 0]
    y, rec, want, line = 0.0, 0.0, [], [0.0, 0.0] + list(x)
    for t in range(len(x)):
        y = line[t] + rec
        rec = 0.5 * y
        want.append(y)
    assert got.tolist() == pytest.approx(want)


def test_state_carries_over_and_reset_clears_it():
    g = _chain(("lif", _lif(0.01, vth=10.0)), n_in=1)
    net = FloatNetwork(g, 1e-3, "exact")
    first = net.run(np.ones((3, 1)), record=["lif"]).v["lif"][:, 0]
    more = net.run(np.ones((2, 1)), record=["lif"]).v["lif"][:, 0]
    net.reset()
    again = net.run(np.ones((5, 1)), record=["lif"]).v["lif"][:, 0]
    assert np.array_equal(np.concatenate([first, more]), again)


# ---- bad arguments ----------------------------------------------------------------------------

@pytest.fixture
def g1():
    return _chain(("lif", _lif(0.01)), n_in=1)


@pytest.mark.parametrize("dt,error,message", [
    (None, ValueError, r"^dt must be given in seconds \(NIR graphs carry no time step\), for "
                       r"example dt=1e-3$"),
    (-1e-3, ValueError, r"^dt must be a positive, finite number of seconds, not -0\.001$"),
    (float("nan"), ValueError, r"^dt must be a positive, finite number of seconds, not nan$"),
    ("1ms", TypeError, r"^dt must be a number of seconds, not '1ms'$"),
])
def test_bad_dt(g1, dt, error, message):
    with pytest.raises(error, match=message):
        FloatNetwork(g1, dt, "exact")


def test_bad_method_and_reset(g1):
    with pytest.raises(ValueError, match=r"^method must be one of 'exact', 'euler', not 'rk4'$"):
        FloatNetwork(g1, 1e-3, "rk4")
    with pytest.raises(ValueError, match=r"^reset must be one of 'zero', 'subtract', not "
                                         r"'hold'$"):
        FloatNetwork(g1, 1e-3, "exact", reset="hold")


def test_delay_that_is_not_a_whole_number_of_steps():
    g = _chain(("delay", nir.Delay(delay=np.array([1.5e-3]))), n_in=1)
    with pytest.raises(ValueError, match=r"^node 'delay' \(Delay\): 0\.0015 s is not a whole "
                                         r"number of steps of dt = 0\.001 s$"):
        FloatNetwork(g, 1e-3, "euler")


def test_bad_inputs(g1):
    net = FloatNetwork(g1, 1e-3, "exact")
    with pytest.raises(ValueError, match=r"^inputs\['input'\] must have shape \[T, 1\], not "
                                         r"\(4, 2\)$"):
        net.run(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"^inputs\['input'\] must be finite; it holds NaN or "
                                         r"inf$"):
        net.run(np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"^inputs names 'x', which is not an Input node; the "
                                         r"Input nodes are input$"):
        net.run({"x": np.zeros((1, 1))})
    with pytest.raises(ValueError, match=r"^record names 'output', which is not a neuron node$"):
        net.run(np.zeros((1, 1)), record=["output"])


def test_resets_come_from_the_graph_or_the_caller():
    from spikeforge.nirsim import resolve_resets
    a, b = _lif(0.01), _lif(0.01)
    b.metadata = {"reset_mechanism": b"subtract"}
    g = _graph({"input": nir.Input(input_type=np.array([1])), "a": a, "b": b,
                "output": nir.Output(output_type=np.array([1]))},
               [("input", "a"), ("a", "b"), ("b", "output")])
    rules, text = resolve_resets(g)
    assert {n: r.value for n, r in rules.items()} == {"a": "zero", "b": "subtract"}
    assert text == "per node, as the graph states: a zero, b subtract"
    rules, text = resolve_resets(g, "zero")
    assert {r.value for r in rules.values()} == {"zero"}
    assert text == "zero, chosen by the user over what the graph states for b"
    plain = _chain(("lif", _lif(0.01)), n_in=1)
    assert resolve_resets(plain)[1].startswith("zero, v = v_reset after a spike (NIR's "
                                               "definition; the graph does not say")
    b.metadata = {"reset": "hold"}
    with pytest.raises(ValueError, match=r"^node 'b' states reset 'hold'; spikeforge knows zero "
                                         r"and subtract$"):
        resolve_resets(g)

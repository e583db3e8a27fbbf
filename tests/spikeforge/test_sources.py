"""Tiers 1 and 2 for ``spikeforge.sources``: spike trains built by hand, Poisson statistics,
event streams binned by hand, and every out-of-range event refused by name."""

import re
from pathlib import Path

import numpy as np
import pytest

from spikeforge.sources import EVENT_DTYPE, dvs_frames, poisson, read_events, spike_array


def test_poisson_statistics():
    counts = poisson([0.0, 100.0, 1000.0], steps=20000, dt=1e-3, seed=3)
    assert counts.shape == (20000, 3) and counts.dtype == np.int64
    assert counts[:, 0].sum() == 0
    # Mean rate * dt, variance equal to the mean (Poisson), within 3 standard errors.
    for column, lam in ((1, 0.1), (2, 1.0)):
        c = counts[:, column]
        assert abs(c.mean() - lam) < 3 * np.sqrt(lam / len(c))
        assert abs(c.var() - lam) < 0.05 * lam + 0.01
    assert np.array_equal(poisson(50.0, 30, 1e-3, n=4, seed=9), poisson(50.0, 30, 1e-3, n=4, seed=9))


@pytest.mark.parametrize("kwargs,message", [
    (dict(rate_hz=5.0, steps=10, dt=1e-3), "n must be given when rate_hz is one number"),
    (dict(rate_hz=[1.0, -2.0], steps=10, dt=1e-3), "rate_hz must be finite and 0 or more, not "
                                                   "np.float64(-2.0)"),
    (dict(rate_hz=[1.0, 2.0], steps=10, dt=1e-3, n=3), "rate_hz must have one rate per neuron "
                                                       "(3), not 2"),
    (dict(rate_hz=1.0, steps=-1, dt=1e-3, n=2), "steps must be an integer of at least 0, not -1"),
    (dict(rate_hz=1.0, steps=5, dt=0, n=2), "dt must be a positive number of seconds, not 0"),
])
def test_poisson_arguments(kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        poisson(**kwargs)


def test_spike_array_by_hand():
    out = spike_array([(0, 1), (2, 0), (2, 0), (1, 2)], n=3, steps=4)
    assert out.tolist() == [[0, 1, 0], [0, 0, 1], [2, 0, 0], [0, 0, 0]]
    assert spike_array([], n=2, steps=3).tolist() == [[0, 0]] * 3
    with pytest.raises(ValueError, match=r"^event 1 has neuron 3, outside 0\.\.2$"):
        spike_array([(0, 1), (1, 3)], n=3, steps=4)
    with pytest.raises(ValueError, match=r"^event 0 has step 4, outside 0\.\.3$"):
        spike_array([(4, 1)], n=3, steps=4)
    with pytest.raises(TypeError, match=r"^events must hold integers, not float64$"):
        spike_array([(0.5, 1)], n=3, steps=4)


def _events(rows):
    out = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for i, (t, x, y, p) in enumerate(rows):
        out[i] = (t, x, y, p)
    return out


def test_dvs_frames_by_hand():
    ev = _events([(1000, 0, 0, 1), (1500, 3, 2, 0), (2100, 3, 2, 0), (2999, 1, 1, 1)])
    frames = dvs_frames(ev, sensor=(4, 3), steps=2, dt_us=1000)
    f = frames.reshape(2, 2, 3, 4)
    assert f[0, 1, 0, 0] == 1 and f[0, 0, 2, 3] == 1 and f.sum() == 4
    assert f[1, 0, 2, 3] == 1 and f[1, 1, 1, 1] == 1
    # 2 x 2 blocks: the 4 x 3 sensor becomes 2 x 2 per polarity.
    down = dvs_frames(ev, sensor=(4, 3), steps=2, dt_us=1000, downsample=2).reshape(2, 2, 2, 2)
    assert down[0, 1, 0, 0] == 1 and down[0, 0, 1, 1] == 1 and down[1, 1, 0, 0] == 1
    assert np.array_equal(dvs_frames(np.array([[1000, 0, 0, 1]]), (4, 3), 1, 1000),
                          dvs_frames(ev[:1], (4, 3), 1, 1000))


def test_dvs_frames_refuse_events_outside():
    ev = _events([(0, 0, 0, 1), (5000, 1, 1, 0)])
    with pytest.raises(ValueError, match=r"^event 1 at t = 5000 µs falls in step 5, outside "
                                         r"0\.\.2 \(t0 = 0 µs, dt_us = 1000\)$"):
        dvs_frames(ev, (4, 3), steps=3, dt_us=1000)
    with pytest.raises(ValueError, match=r"^event 0 has x = 4, outside the sensor's 0\.\.3$"):
        dvs_frames(_events([(0, 4, 0, 0)]), (4, 3), steps=1, dt_us=1000)
    with pytest.raises(ValueError, match=r"^events must have fields t, x, y and p; missing p$"):
        dvs_frames(np.zeros(2, dtype=[("t", int), ("x", int), ("y", int)]), (4, 3), 1, 1000)


def test_read_events(tmp_path):
    ev = _events([(10, 1, 2, 1), (20, 3, 0, 0)])
    np.save(tmp_path / "ev.npy", ev)
    assert read_events(tmp_path / "ev.npy").tolist() == ev.tolist()
    (tmp_path / "ev.csv").write_text("t,x,y,p\n10,1,2,1\n20,3,0,0\n")
    assert read_events(tmp_path / "ev.csv").tolist() == ev.tolist()
    (tmp_path / "bad.csv").write_text("10,1,2\n")
    with pytest.raises(ValueError, match=r"bad\.csv: events must be a structured array with "
                                         r"fields t, x, y, p or an array of shape \[k, 4\], not "
                                         r"shape \(1, 3\)$"):
        read_events(tmp_path / "bad.csv")
    with pytest.raises(ValueError, match=r"ev\.txt: events are read from \.aedat4, \.npy or "
                                         r"\.csv files, not \.txt$"):
        (tmp_path / "ev.txt").write_text("")
        read_events(tmp_path / "ev.txt")
    with pytest.raises(FileNotFoundError, match=r"none\.npy: no such file$"):
        read_events(tmp_path / "none.npy")


AEDAT4 = Path(__file__).resolve().parents[1] / "fixtures" / "events" / "random34.aedat4"


def test_read_aedat4_recording(tmp_path):
    # The recording holds these 300 events, written by iniVation's dv-processing writer.
    rng = np.random.default_rng(11)
    t = np.sort(rng.integers(0, 50_000, 300)) + 1_000_000
    x, y, p = rng.integers(0, 34, 300), rng.integers(0, 34, 300), rng.integers(0, 2, 300)
    ev = read_events(AEDAT4)
    assert ev.dtype == EVENT_DTYPE
    assert np.array_equal(ev["t"], t) and np.array_equal(ev["x"], x)
    assert np.array_equal(ev["y"], y) and np.array_equal(ev["p"], p)
    frames = dvs_frames(ev, (34, 34), steps=50, dt_us=1000)
    assert frames.shape == (50, 2 * 34 * 34) and frames.sum() == 300
    data = AEDAT4.read_bytes()
    (tmp_path / "cut.aedat4").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.aedat4 is not a readable AEDAT4 recording: "):
        read_events(tmp_path / "cut.aedat4")

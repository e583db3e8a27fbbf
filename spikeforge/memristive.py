"""Deploying a projection's weights on a memristive crossbar, and back to a network.

:func:`deploy` asks what a network computes when one of its projections is stored
in memristors instead of SRAM. It writes the projection's integer weights into a
:class:`golden_model.crossbar.Crossbar` of ``device`` pairs by write-verify, reads
the effective weights back and returns a copy of the network that carries them,
ready for :func:`spikeforge.simulate.run`, plus a :class:`DeployReport`.

**The mapping.** With ``s`` the projection's largest ``|weight|`` (1 if every weight
is 0) and ``w_max`` the crossbar's, an integer weight ``w`` becomes the analog
weight ``W = (w / s) * w_max`` on a differential pair (``G+``, ``G-``, the crossbar
module's mapping), and an analog weight read back becomes ::

    w' = clip(rint(W_read * s / w_max), weight_min, weight_max)

(``rint`` rounds ties to even). A weight outside the core's range is clipped *and
counted* (:attr:`DeployReport.clipped`). The range is ``core``'s, or by default the
signed range :func:`spikeforge.simulate.fit_chip` picks for the network (the narrowest
its weights fit), so the deployed network runs on the chip the original runs on.

**The layout.** A crossbar row per presynaptic neuron the projection uses and a column
per postsynaptic one, in index order; neurons with no synapse get no wire. A pair
with ``k`` synapses (repeated pairs are separate synapses, maybe of other delays)
needs ``k`` cells, so the rows repeat: synapse number ``j`` of a pair (in synapse
order) sits in row block ``j``. Cells with no synapse are programmed to weight 0
and count in the pulse and failure figures (they are devices of the array), but
the network keeps the projection's synapse list: a cell without a synapse is not
read into it. Delays and every other projection, population and profile are kept;
the populations are the original objects, so the caller's handles key the inputs
and the spikes of the copy too. The original network is not touched.

**Randomness.** ``seed`` seeds the crossbar: its device-to-device draws, the
cycle-to-cycle noise of every pulse and the read noise (``device.read_std``) of
every verify read and of the one read that gives the deployed weights. One seed,
one deployment, bit for bit.
"""

import dataclasses
import math
import numbers

import numpy as np

from golden_model.crossbar import Crossbar, CrossbarParams, WriteVerifyResult
from golden_model.memristor import DeviceParams, as_generator
from golden_model.params import CoreParams, check_int

from .network import Network, Projection

__all__ = ["DeployReport", "deploy", "crossbar_shape", "MAX_CROSSBAR"]

#: The most rows or columns of one crossbar (:class:`golden_model.crossbar.CrossbarParams`).
MAX_CROSSBAR = 65536

#: The widest weight a core stores (``CoreParams.weight_bits``).
_MAX_WEIGHT_BITS = 16


@dataclasses.dataclass(frozen=True)
class DeployReport:
    """What one :func:`deploy` did.

    ====================  ==============================================================
    field                 meaning
    ====================  ==============================================================
    ``projection``        the deployed :class:`Projection`, in the returned network
    ``original``          the projection it replaces
    ``device``            the :class:`DeviceParams` of every cell
    ``crossbar_shape``    ``(rows, cols)`` of the crossbar (each cell a device pair)
    ``scale``             the integer weight that ``w_max`` stands for
    ``weight_range``      ``(weight_min, weight_max)`` the weights were clipped to
    ``analog``            per synapse, the weight read back in integer units, unrounded
    ``devices``           devices programmed: ``2 * rows * cols``
    ``pulses_mean``       pulses per device, mean over every device
    ``pulses_max``        pulses of the device that took the most
    ``failed_devices``    devices still outside tolerance when the pulses ran out
    ``failed_synapses``   synapses with a failed device in their pair
    ``rms_error``         RMS of deployed minus original weights, integer units
    ``max_error``         largest ``|deployed - original|``, integer units
    ``changed``           synapses whose integer weight changed
    ``clipped``           synapses whose weight was clipped to ``weight_range``
    ``write_verify``      the crossbar's :class:`WriteVerifyResult`, per device
    ====================  ==============================================================
    """
    projection: Projection
    original: Projection
    device: DeviceParams
    crossbar_shape: tuple
    scale: float
    weight_range: tuple
    analog: np.ndarray
    devices: int
    pulses_mean: float
    pulses_max: int
    failed_devices: int
    failed_synapses: int
    rms_error: float
    max_error: int
    changed: int
    clipped: int
    write_verify: WriteVerifyResult

    def summary(self):
        """One line: shape, pulses, failures and the weight error."""
        rows, cols = self.crossbar_shape
        return (f"{len(self.projection)} synapses on a {rows}x{cols} crossbar of "
                f"{self.device.name}: {self.pulses_mean:.1f} pulses per device on average "
                f"({self.pulses_max} at most), {self.failed_devices} of {self.devices} devices "
                f"failed, weight error RMS {self.rms_error:.3f} and max {self.max_error} "
                f"(integer units), {self.changed} weights changed, {self.clipped} clipped")


def _layout(projection):
    """``(rows, cols, row, col)``: the crossbar's shape and each synapse's cell."""
    pre_used, pre_pos = np.unique(projection.pre_index, return_inverse=True)
    post_used, post_pos = np.unique(projection.post_index, return_inverse=True)
    key = pre_pos * len(post_used) + post_pos
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    k = len(key)
    first = np.ones(k, dtype=bool)
    first[1:] = sorted_key[1:] != sorted_key[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(k), 0))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k) - group_start
    blocks = int(rank.max()) + 1
    return blocks * len(pre_used), len(post_used), rank * len(pre_used) + pre_pos, post_pos


def crossbar_shape(projection):
    """``(rows, cols)`` of the crossbar :func:`deploy` maps ``projection`` onto: a row per
    presynaptic neuron used (times the most synapses between one pair), a column per
    postsynaptic neuron used. Give a ``crossbar_params`` of this shape."""
    if not isinstance(projection, Projection):
        raise TypeError(f"projection must be a Projection, not {projection!r}")
    if len(projection) == 0:
        raise ValueError(f"projection {projection!r} has no synapses: there is nothing to "
                         f"deploy")
    rows, cols, _, _ = _layout(projection)
    return rows, cols


def _check_number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def _weight_range(network, projection, core):
    if core is None:
        widest = max([int(np.abs(p.weight).max()) for p in network.projections if len(p)] + [1])
        bits = max(2, widest.bit_length() + 1)
        if bits > _MAX_WEIGHT_BITS:
            raise ValueError(f"the network has a weight of {widest}, wider than the "
                             f"{_MAX_WEIGHT_BITS} bits a core stores")
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not isinstance(core, CoreParams):
        raise TypeError(f"core must be a CoreParams or None, not {core!r}")
    lo, hi = core.weight_min, core.weight_max
    w = projection.weight
    bad = np.flatnonzero((w < lo) | (w > hi))
    if len(bad):
        signed = "signed" if core.weight_signed else "unsigned"
        raise ValueError(f"core must hold the projection's weights ({core.weight_bits}-bit "
                         f"{signed}: {lo} to {hi}), not a weight of {w[bad[0]]}")
    return lo, hi


def deploy(network, projection, device, *, crossbar_params=None, tolerance=0.01,
           max_pulses=100, core=None, drift_seconds=0.0, seed=0):
    """Store ``projection`` of ``network`` on a crossbar of ``device`` pairs; returns
    ``(network', report)``: a copy of ``network`` whose ``projection`` carries the weights
    read back, and a :class:`DeployReport`.

    ``tolerance`` (above 0, at most 1) and ``max_pulses`` (at least 1) go to write-verify
    (:meth:`golden_model.crossbar.Crossbar.program_weights`): the accepted error as a share
    of the conductance range, and the most pulses any device gets. ``drift_seconds`` pass
    between programming and the read. ``crossbar_params`` sets the periphery (its shape
    must be :func:`crossbar_shape`'s; the default has ``w_max`` 1 and a read voltage below
    the device's thresholds); ``core`` the weight range (see the module's text). ``seed``
    (an int, a ``SeedSequence`` or a ``Generator``) drives every random draw.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, not {network!r}")
    if not isinstance(projection, Projection):
        raise TypeError(f"projection must be a Projection, not {projection!r}")
    if not any(projection is p for p in network.projections):
        raise ValueError(f"projection {projection!r} is not in the network")
    if projection.plastic:
        raise ValueError(f"projection {projection!r} is plastic: on-chip learning rewrites "
                         f"its weights, so only a static projection (plastic=False) can be "
                         f"deployed on a crossbar")
    if not isinstance(device, DeviceParams):
        raise TypeError(f"device must be a DeviceParams (for example "
                        f"golden_model.memristor.PRESETS['hfo2']), not {device!r}")
    tolerance = _check_number("tolerance", tolerance)
    if not 0 < tolerance <= 1:
        raise ValueError(f"tolerance must be above 0 and at most 1 (a share of the "
                         f"conductance range), not {tolerance}")
    max_pulses = check_int("max_pulses", max_pulses, 1, 1 << 30)
    drift_seconds = _check_number("drift_seconds", drift_seconds)
    if drift_seconds < 0:
        raise ValueError(f"drift_seconds must be at least 0 seconds, not {drift_seconds}")
    lo, hi = _weight_range(network, projection, core)
    rows, cols = crossbar_shape(projection)
    if rows > MAX_CROSSBAR or cols > MAX_CROSSBAR:
        raise ValueError(f"projection {projection!r} needs a {rows}x{cols} crossbar, larger "
                         f"than the {MAX_CROSSBAR}x{MAX_CROSSBAR} one crossbar can be")
    if crossbar_params is None:
        # The read voltage never reaches the weights read back; it only has to stay below
        # the thresholds, as the crossbar insists.
        crossbar_params = CrossbarParams(rows, cols,
                                         v_read=min(0.2, min(device.v_set, device.v_reset) / 2))
    elif not isinstance(crossbar_params, CrossbarParams):
        raise TypeError(f"crossbar_params must be a CrossbarParams or None, not "
                        f"{crossbar_params!r}")
    elif (crossbar_params.rows, crossbar_params.cols) != (rows, cols):
        raise ValueError(f"crossbar_params must have rows={rows} and cols={cols} (the "
                         f"projection's crossbar_shape), not rows={crossbar_params.rows} and "
                         f"cols={crossbar_params.cols}")
    rng = as_generator(seed)

    _, _, row, col = _layout(projection)
    original = projection.weight
    scale = float(max(int(np.abs(original).max()), 1))
    w_max = crossbar_params.w_max
    target = np.zeros((rows, cols))
    # w / scale first: the largest weight lands on +-1.0 exactly, so on +-w_max.
    target[row, col] = (original / scale) * w_max
    crossbar = Crossbar(crossbar_params, device, rng)
    verify = crossbar.program_weights(target, tolerance, max_pulses)
    if drift_seconds > 0:
        crossbar.drift(drift_seconds)
    analog = crossbar.weights()[row, col] * (scale / w_max)
    rounded = np.rint(analog).astype(np.int64)
    clipped = int(np.count_nonzero((rounded < lo) | (rounded > hi)))
    deployed = np.clip(rounded, lo, hi)
    error = deployed - original
    analog.setflags(write=False)

    new = Projection(projection.pre, projection.post,
                     (projection.pre_index, projection.post_index, deployed, projection.delay))
    copy = Network()
    for item in network.populations + tuple(new if p is projection else p
                                            for p in network.projections):
        copy.add(item)
    report = DeployReport(
        projection=new, original=projection, device=device, crossbar_shape=(rows, cols),
        scale=scale, weight_range=(lo, hi), analog=analog, devices=int(verify.pulses.size),
        pulses_mean=float(verify.pulses.mean()), pulses_max=int(verify.pulses.max()),
        failed_devices=verify.n_failed,
        failed_synapses=int(np.count_nonzero(verify.failed[:, row, col].any(axis=0))),
        rms_error=float(np.sqrt(np.mean(error.astype(np.float64) ** 2))),
        max_error=int(np.abs(error).max()), changed=int(np.count_nonzero(error)),
        clipped=clipped, write_verify=verify)
    return copy, report

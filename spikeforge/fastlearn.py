"""Compiled fast path of the golden learning phase: the rules' synapse scans as numba loops.

:func:`learn_fast` takes the arguments of :func:`golden_model.learning.learn`
and changes the weights and the :class:`~golden_model.learning.LearningState`
exactly as it does, bit for bit, LFSR included. Only the scan over synapses is
compiled: it is the part that runs once per synapse. The per-axon and
per-neuron trace updates reuse the specification's own vectorised functions.
``tests/spikeforge/test_fastlearn.py`` checks the two on random cores of every
rule.
"""

import numba
import numpy as np

from golden_model.learning import homeostasis, sdsp_calcium, sdsp_drift_step
from golden_model.params import Rule, check_int
from golden_model.stdp import decay_trace, entry_axons, increment_trace

__all__ = ["learn_fast"]

_STDP, _THREE, _SDSP = 0, 1, 2
_TAPS = 0xB400


@numba.njit(cache=True, inline="always")
def _step(lfsr):
    lsb = lfsr & 1
    lfsr >>= 1
    if lsb:
        lfsr ^= _TAPS
    return lfsr


@numba.njit(cache=True, inline="always")
def _round(p, shift, stochastic, lfsr):
    """``golden_model.stdp.round_shift``; returns ``(value, lfsr)``."""
    if stochastic:
        lfsr = _step(lfsr)
        p += lfsr & ((1 << shift) - 1)
    return p >> shift, lfsr


@numba.njit(cache=True, inline="always")
def _clamp(w, lo, hi):
    return lo if w < lo else (hi if w > hi else w)


@numba.njit(cache=True)
def _scan(rule, order, axon_of, target, weights, plastic, pre, post, x, y, elig, v, ca,
          reward, a_plus, a_minus, shift, r_shift, e_decay, stochastic, w_min, w_max, e_max,
          theta_m, theta_1, theta_2, theta_3, drift, lfsr):
    """One pass over the scan order; returns ``(count, lfsr)`` as the spec counts."""
    count = 0
    mid = w_min + w_max
    for k in range(order.shape[0]):
        e = order[k]
        if not plastic[e]:
            continue
        a = axon_of[e]
        n = target[e]
        w = weights[e]
        if rule == _STDP:
            if pre[a]:
                dw, lfsr = _round(a_minus * y[n], shift, stochastic, lfsr)
                w = _clamp(w - dw, w_min, w_max)
                count += 1
            if post[n]:
                dw, lfsr = _round(a_plus * x[a], shift, stochastic, lfsr)
                w = _clamp(w + dw, w_min, w_max)
                count += 1
        elif rule == _THREE:
            el = elig[e]
            # Toward zero: bias a negative value before the floor shift.
            el -= (el + ((1 << e_decay) - 1 if el < 0 else 0)) >> e_decay
            if pre[a]:
                de, lfsr = _round(a_minus * y[n], shift, stochastic, lfsr)
                el = _clamp(el - de, -e_max, e_max)
                count += 1
            if post[n]:
                de, lfsr = _round(a_plus * x[a], shift, stochastic, lfsr)
                el = _clamp(el + de, -e_max, e_max)
                count += 1
            if reward != 0:
                dw, lfsr = _round(reward * el, r_shift, stochastic, lfsr)
                w = _clamp(w + dw, w_min, w_max)
                count += 1
            elig[e] = el
        else:
            if pre[a]:
                if v[n] >= theta_m and theta_1 <= ca[n] < theta_3:
                    w += 1
                    count += 1
                elif v[n] < theta_m and theta_1 <= ca[n] < theta_2:
                    w -= 1
                    count += 1
            if drift:
                if 2 * w > mid:
                    w += 1
                elif 2 * w < mid:
                    w -= 1
            w = _clamp(w, w_min, w_max)
        weights[e] = w
    return count, lfsr


def learn_fast(state, core, synapses, weights, plastic, pre, post, v, reward,
               rule_params, homeostasis_params, order=None):
    """:func:`golden_model.learning.learn`, with the synapse scan compiled.

    ``order`` (``entry_axons(synapses)``, computed when not given) can be
    passed in to save recomputing it every step.
    """
    spec = core.learning
    axon_of, scan = entry_axons(synapses) if order is None else order
    pre = np.asarray(pre, dtype=np.bool_)
    post = np.asarray(post, dtype=np.bool_)
    plastic = np.asarray(plastic, dtype=np.bool_)
    target = np.asarray(synapses.target, dtype=np.int64)
    count = 0
    if spec.rule in (Rule.STDP, Rule.THREE_FACTOR):
        three = spec.rule is Rule.THREE_FACTOR
        sp = rule_params.stdp if three else rule_params
        if sp.enable:
            if three:
                check_int("reward", reward, -128, 127)
            x = decay_trace(state.x, sp.decay_mode, sp.x_decay)
            y = decay_trace(state.y, sp.decay_mode, sp.y_decay)
            count, state.lfsr.state = _scan(
                _THREE if three else _STDP, scan, axon_of, target, weights, plastic, pre, post,
                x, y, state.elig, v, state.ca, int(reward) if three else 0, sp.a_plus,
                sp.a_minus, sp.shift, rule_params.r_shift if three else 0,
                rule_params.e_decay if three else 0, sp.stochastic, sp.w_min, sp.w_max,
                (1 << (spec.eligibility_bits - 1)) - 1, 0, 0, 0, 0, False, state.lfsr.state)
            state.x = increment_trace(x, pre, sp.x_inc, sp)
            state.y = increment_trace(y, post, sp.y_inc, sp)
    elif spec.rule is Rule.SDSP:
        rp = rule_params
        if rp.enable:
            drift = sdsp_drift_step(state, rp)
            count, _ = _scan(_SDSP, scan, axon_of, target, weights, plastic, pre, post,
                             state.x, state.y, state.elig, np.asarray(v, dtype=np.int64),
                             state.ca, 0,
                             0, 0, 0, 0, 0, False, rp.w_min, rp.w_max, 0, rp.theta_m, rp.theta_1,
                             rp.theta_2, rp.theta_3, drift, 1)
            sdsp_calcium(state, post, rp, spec.calcium_bits)
    if spec.homeostasis and homeostasis_params is not None:
        homeostasis(state, post, homeostasis_params, spec.theta_bits)
    return count


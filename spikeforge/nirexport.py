"""NIR export: a spikeforge :class:`~spikeforge.network.Network` as a NIR graph.

Every population becomes a ``CubaLIF`` node, every input an ``Input`` node, the
projections between a pair of groups one ``Linear`` node per delay (with a
``Delay`` node when the delay is longer than the least), and each recorded
population feeds an ``Output`` node. Values are in the chip's own units
(voltage scale 1), under forward Euler at the ``dt`` given: a profile's decays
``du``, ``dv`` become ``tau = dt * 4096 / d``, its threshold, reset and bias
their integer values, and ``r`` makes the current-to-voltage gain exactly 1.
Each neuron node states its reset in its metadata (``reset_mechanism``: ``zero`` or
``subtract``), which the importer reads. So :func:`~spikeforge.quantise.quantise` with
``method="euler"``, the same ``dt`` and ``scale=1`` gives back the same neurons and the
same effective weights (``weight << weight_exp``).

What NIR cannot say is refused, not approximated: refractory periods, and a
population that mixes the subtract reset with the others (a node has one reset
rule). Rounding and overflow modes are not part of NIR; the importer chooses its own.
"""

import numpy as np

from golden_model.params import ResetMode

from .network import InputPopulation, Network, Population

__all__ = ["to_nir", "write_nir", "NO_DECAY_TAU_STEPS"]

#: A decay of 0 (no leak) is written as a time constant this many steps long: Euler's
#: ``1 - dt/tau`` then rounds back to a decay code of 0.
NO_DECAY_TAU_STEPS = 1e30


def _node_name(network, group, used):
    base = group.name if group.name is not None else \
        f"{'input' if isinstance(group, InputPopulation) else 'population'}" \
        f"{network.populations.index(group)}"
    return _unique(base, used)


def _taus(d, dt):
    d = np.asarray(d, dtype=np.float64)
    return np.where(d > 0, dt * 4096.0 / np.maximum(d, 1), dt * NO_DECAY_TAU_STEPS)


def to_nir(network, dt):
    """``network`` as a ``nir.NIRGraph`` at step ``dt`` seconds."""
    import nir

    from .nirsim import check_dt
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, not {network!r}")
    network.check()
    dt = check_dt(dt)
    used, names, nodes, edges = set(), {}, {}, []
    for group in network.populations:
        name = names[id(group)] = _node_name(network, group, used)
        label = network.label(group)
        if isinstance(group, InputPopulation):
            nodes[name] = nir.Input(input_type=np.array([group.n]))
            continue
        if group.model.name != "LIF":
            raise ValueError(f"NIR export writes LIF populations (as CubaLIF); population "
                             f"{label} is of {group.model.name} neurons")
        profiles = [group.profiles[i] for i in group.neuron_profile]
        refractory = [p.refractory for p in profiles]
        if any(refractory):
            raise ValueError(f"population {label} has a refractory period of "
                             f"{max(refractory)} steps, which NIR cannot express")
        modes = {p.reset for p in profiles}
        rule = "subtract" if modes == {ResetMode.SUBTRACT} else \
            "zero" if ResetMode.SUBTRACT not in modes else None
        if rule is None:
            raise ValueError(f"population {label} mixes the subtract reset with "
                             f"{', '.join(sorted(m.name.lower() for m in modes - {ResetMode.SUBTRACT}))}; "
                             f"a NIR node has one reset rule")
        du = np.array([p.du_eff for p in profiles])
        dv = np.array([p.dv_eff for p in profiles])
        tau_syn, tau_mem = _taus(du, dt), _taus(dv, dt)
        vth = np.array([p.vth for p in profiles], dtype=np.float64)
        v_reset = np.array([p.v_reset if p.reset is ResetMode.VALUE else 0 for p in profiles],
                           dtype=np.float64)
        bad = np.flatnonzero(v_reset > vth)
        if len(bad):
            raise ValueError(f"population {label} neuron {bad[0]} resets to {v_reset[bad[0]]:g}, "
                             f"above its threshold {vth[bad[0]]:g}")
        bias = np.array([p.bias for p in profiles], dtype=np.float64)
        nodes[name] = nir.CubaLIF(
            tau_syn=tau_syn, tau_mem=tau_mem,
            # gain = (dt/tau_syn) (dt/tau_mem) r w_in = 1: the chip's u is added to v as it is.
            r=tau_syn * tau_mem / dt ** 2, w_in=np.ones(group.n),
            v_leak=bias * tau_mem / dt, v_threshold=vth, v_reset=v_reset,
            metadata={"reset_mechanism": rule})

    # One Linear per (pre, post, delay): effective weights, summed where synapses repeat.
    exps = {id(p): np.array([p.profiles[i].weight_exp for i in p.neuron_profile])
            for p in network.populations if isinstance(p, Population)}
    blocks = {}
    for proj in network.projections:
        eff = proj.weight.astype(np.float64) * np.ldexp(1.0, exps[id(proj.post)][proj.post_index])
        for d in np.unique(proj.delay):
            sel = proj.delay == d
            key = (id(proj.pre), id(proj.post), int(d))
            if key not in blocks:
                blocks[key] = (proj.pre, proj.post, np.zeros((proj.post.n, proj.pre.n)))
            np.add.at(blocks[key][2], (proj.post_index[sel], proj.pre_index[sel]), eff[sel])
    for (_, _, d), (pre, post, matrix) in blocks.items():
        src, dst = names[id(pre)], names[id(post)]
        link = _unique(f"{src}->{dst}" + (f"@{d}" if d > 1 else ""), used)
        nodes[link] = nir.Linear(weight=matrix)
        edges.append((src, link))
        if d > 1:
            # The chip's least delay is one step; a Delay node holds the rest.
            delay = _unique(f"{link}:delay", used)
            nodes[delay] = nir.Delay(delay=np.full(post.n, (d - 1) * dt))
            edges += [(link, delay), (delay, dst)]
        else:
            edges.append((link, dst))
    for group in network.populations:
        if isinstance(group, Population) and group.record:
            out = _unique(f"{names[id(group)]}:out", used)
            nodes[out] = nir.Output(output_type=np.array([group.n]))
            edges.append((names[id(group)], out))
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _unique(name, used):
    while name in used:
        name = f"_{name}"
    used.add(name)
    return name


def write_nir(network, path, dt):
    """Write ``network`` to the NIR file ``path``."""
    import nir
    nir.write(path, to_nir(network, dt))

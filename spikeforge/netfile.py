"""Network files: a :class:`~spikeforge.network.Network` saved and loaded whole.

A network file is a NumPy ``.npz`` archive (no pickles): one JSON document,
``network.json``, describes the groups, their profiles and the projections, and
integer arrays hold each population's profile index per neuron and each
projection's synapses. ``meta`` is any JSON-able dict saved beside it (the NIR
import keeps its quantisation report and node map there).

Loading checks everything before it builds anything, and builds through the
network API, so a damaged file raises :class:`NetworkFileError` and never
yields a half-read network.
"""

import dataclasses
import enum
import json
import zipfile
from pathlib import Path

import numpy as np

from golden_model.params import LIFProfile

from .network import InputPopulation, Network, Population, Projection

__all__ = ["NetworkFileError", "save_network", "load_network", "FORMAT", "VERSION"]

FORMAT = "spikeforge-network"
VERSION = 1


class NetworkFileError(ValueError):
    """A network file that cannot be read; the message names the file and the problem."""


def _profile_dict(profile):
    out = {}
    for field in dataclasses.fields(profile):
        value = getattr(profile, field.name)
        out[field.name] = value.name.lower() if isinstance(value, enum.Enum) else value
    return out


def save_network(network, path, meta=None):
    """Write ``network`` (and ``meta``, a JSON-able dict) to ``path``; returns the path."""
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, not {network!r}")
    network.check()
    meta = {} if meta is None else meta
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, not {type(meta).__name__}")
    groups, arrays, index = [], {}, {}
    for i, group in enumerate(network.populations):
        index[id(group)] = i
        entry = {"n": group.n, "name": group.name}
        if isinstance(group, Population):
            if group.model.name != "LIF":
                raise ValueError(f"network files hold LIF populations; population "
                                 f"{network.label(group)} is of {group.model.name} neurons")
            entry.update(kind="population", record=group.record,
                         profiles=[_profile_dict(p) for p in group.profiles])
            arrays[f"group{i}_neuron_profile"] = np.asarray(group.neuron_profile)
        else:
            entry["kind"] = "input"
        groups.append(entry)
    projections = []
    for k, proj in enumerate(network.projections):
        projections.append({"pre": index[id(proj.pre)], "post": index[id(proj.post)],
                            "plastic": proj.plastic})
        for field in ("pre_index", "post_index", "weight", "delay"):
            arrays[f"proj{k}_{field}"] = np.asarray(getattr(proj, field))
    doc = {"format": FORMAT, "version": VERSION, "groups": groups,
           "projections": projections, "meta": meta}
    try:
        text = json.dumps(doc)
    except TypeError as exc:
        raise TypeError(f"meta must hold only JSON values: {exc}") from None
    path = Path(path)
    with open(path, "wb") as f:
        np.savez_compressed(f, **{"network.json": np.array(text)}, **arrays)
    return path


def load_network(path):
    """Read a network file; returns ``(network, meta)``."""
    path = Path(path)
    if not path.exists():
        raise NetworkFileError(f"{path}: no such file")
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as archive:
            contents = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise NetworkFileError(f"{path} is not a spikeforge network file (it cannot be read "
                               f"as an .npz archive: {exc})") from None
    if "network.json" not in contents:
        raise NetworkFileError(f"{path} is not a spikeforge network file: it has no "
                               f"network.json")
    try:
        doc = json.loads(str(contents["network.json"]))
    except json.JSONDecodeError as exc:
        raise NetworkFileError(f"{path}: network.json is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else doc
        raise NetworkFileError(f"{path} is not a spikeforge network file: its format is "
                               f"{found!r}")
    if doc.get("version") != VERSION:
        raise NetworkFileError(f"{path}: version {doc.get('version')!r} is not one this "
                               f"spikeforge reads (it reads {VERSION})")
    try:
        return _build(doc, contents), doc.get("meta", {})
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        detail = f"{exc.args[0]!r} is missing" if isinstance(exc, KeyError) else str(exc)
        raise NetworkFileError(f"{path}: the network in it is damaged: {detail}") from None


def _build(doc, arrays):
    net = Network()
    groups = []
    for i, entry in enumerate(doc["groups"]):
        if entry["kind"] == "population":
            profiles = [LIFProfile(**p) for p in entry["profiles"]]
            index = arrays[f"group{i}_neuron_profile"]
            if index.shape != (entry["n"],) or index.dtype.kind not in "iu" \
                    or (len(index) and not 0 <= index.min() <= index.max() < len(profiles)):
                raise ValueError(f"group {i}'s profile index does not fit its "
                                 f"{entry['n']} neurons and {len(profiles)} profiles")
            group = Population(entry["n"], [profiles[k] for k in index], name=entry["name"],
                               record=entry["record"])
        elif entry["kind"] == "input":
            group = InputPopulation(entry["n"], name=entry["name"])
        else:
            raise ValueError(f"group {i} has kind {entry['kind']!r}, not population or input")
        groups.append(net.add(group))
    for k, entry in enumerate(doc["projections"]):
        for end in ("pre", "post"):
            if not (isinstance(entry[end], int) and 0 <= entry[end] < len(groups)):
                raise ValueError(f"projection {k}'s {end} is {entry[end]!r}, not a group index "
                                 f"below {len(groups)}")
        synapses = tuple(arrays[f"proj{k}_{f}"] for f in ("pre_index", "post_index", "weight",
                                                           "delay"))
        net.add(Projection(groups[entry["pre"]], groups[entry["post"]], synapses,
                           plastic=entry["plastic"]))
    return net

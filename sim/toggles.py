"""Register toggles and clock edges, counted from a VCD dump of an Amaranth simulation.

:func:`instrument` elaborates a design, finds every register of every block (the
signals a fragment drives in a clocked domain) and every domain's clock, and gives
each a name no other signal has, so that the dump's variables map back to them. The
caller simulates the returned fragment with ``write_vcd``; :func:`count` then reads
the dump and returns, for each block, its register bit toggles (data), the rising
edges of its clock, and its clocked-register toggles (register bits times edges: what
the clock tree drives), in each window between consecutive boundaries, given as
cycles of the source clock (one window per timestep, say).

Memories (``lib.memory``) are arrays, not registers, and are not counted; their read
and write ports' registers are.
"""

import collections

import numpy as np
from amaranth import Fragment

__all__ = ["instrument", "count", "Blocks"]


class Blocks:
    """What :func:`instrument` found: ``registers[block]`` (signals) and ``clock[block]``
    (the key of the clock domain the block's registers use)."""

    def __init__(self):
        self.registers = collections.defaultdict(list)
        self.clock = {}
        self.by_name = {}         # unique VCD name -> (block, width)
        self.clocks = {}          # unique VCD name of each domain clock -> domain


def _walk(fragment, path=()):
    yield path, fragment
    for sub, name, _loc in fragment.subfragments:
        yield from _walk(sub, path + (str(name if name is not None else "anon"),))


def instrument(elaboratable, platform=None):
    """``(fragment, blocks)``: the elaborated design with unique register and clock names.

    A block's registers are clocked by the nearest domain of their name: a local domain
    of the block or of an enclosing one, else the design's global domain of that name.
    """
    fragment = Fragment.get(elaboratable, platform)
    blocks = Blocks()
    shared = {}
    for path, frag in _walk(fragment):
        for name, domain in frag.domains.items():
            if not domain.local:
                shared[name] = domain
    keys = {}

    def key_of(domain, path):
        if id(domain) not in keys:
            keys[id(domain)] = ".".join(path + (domain.name,)) if domain.local else domain.name
            if domain.clk is not None:
                domain.clk.name = "clock__" + keys[id(domain)].replace(".", "__")
                blocks.clocks[domain.clk.name] = keys[id(domain)]
        return keys[id(domain)]

    k = 0

    def visit(frag, path, scope):
        nonlocal k
        scope = dict(scope)
        for name, domain in frag.domains.items():
            scope[name] = (domain, path)
            key_of(domain, path)        # every clock gets a name, used by a block or not
        block = ".".join(path) or "top"
        for name, statements in frag.statements.items():
            if name == "comb":
                continue
            domain, where = scope.get(name, (shared.get(name), ()))
            seen = {}
            for statement in statements:
                for signal in statement._lhs_signals():
                    seen[id(signal)] = signal
            for signal in seen.values():
                signal.name = f"reg{k}__{signal.name}"
                blocks.by_name[signal.name] = (block, len(signal))
                blocks.registers[block].append(signal)
                k += 1
            blocks.clock[block] = key_of(domain, where) if domain is not None else name
        for sub, sub_name, _loc in frag.subfragments:
            visit(sub, path + (str(sub_name if sub_name is not None else "anon"),), scope)

    visit(fragment, (), {name: (domain, ()) for name, domain in shared.items()})
    return fragment, blocks


def _readable(vcd_path):
    """The dump as a binary stream pyvcd can tokenize: Amaranth names some anonymous
    signals ``$signal``, which the reader takes for a keyword, so those get a prefix."""
    import io
    out = io.BytesIO()
    with open(vcd_path, "rb") as f:
        for line in f:
            if line.startswith(b"$var ") and b" $" in line[5:-6]:
                parts = line.split(b" ")
                if len(parts) >= 6 and parts[4].startswith(b"$"):
                    parts[4] = b"anon" + parts[4]
                    line = b" ".join(parts)
            out.write(line)
            if line.startswith(b"$enddefinitions"):
                out.write(f.read())
                break
    out.seek(0)
    return out


def count(vcd_path, blocks, boundaries, source="sync"):
    """Per block: ``{"toggles": [...], "edges": [...]}``, one entry per window between
    consecutive ``boundaries``, counted in rising edges of the ``source`` domain's clock:
    a change belongs to the window of the last source edge at or before it."""
    from vcd.reader import TokenKind, tokenize

    bounds = np.asarray(boundaries, dtype=np.int64)
    n = len(bounds) - 1
    toggles = collections.defaultdict(lambda: np.zeros(n, dtype=np.int64))
    edges = collections.defaultdict(lambda: np.zeros(n, dtype=np.int64))
    code_reg, code_clk = {}, {}
    value = {}
    cycle = 0
    pending = []        # this timestamp's changes: an edge and what it causes share a window

    def flush():
        w = np.searchsorted(bounds, cycle, side="right") - 1
        for code, old, new in pending:
            if not 0 <= w < n:
                continue
            if code in code_reg:
                toggles[code_reg[code]][w] += bin(old ^ new).count("1")
            elif old == 0 and new == 1:
                edges[code_clk[code]][w] += 1
        pending.clear()

    with _readable(vcd_path) as f:
        for token in tokenize(f):
            kind = token.kind
            if kind is TokenKind.VAR:
                ref = token.data.reference
                if ref in blocks.by_name:
                    code_reg[token.data.id_code] = blocks.by_name[ref][0]
                elif ref in blocks.clocks:
                    code_clk[token.data.id_code] = blocks.clocks[ref]
            elif kind is TokenKind.CHANGE_TIME:
                flush()
            elif kind in (TokenKind.CHANGE_SCALAR, TokenKind.CHANGE_VECTOR):
                code = token.data.id_code
                if code not in code_reg and code not in code_clk:
                    continue
                raw = token.data.value
                new = int(raw) if isinstance(raw, int) or str(raw).isdigit() else 0
                old = value.get(code)
                value[code] = new
                if old is None:
                    continue
                if code in code_clk and code_clk[code] == source and old == 0 and new == 1:
                    cycle += 1
                pending.append((code, old, new))
        flush()
    out = {}
    for block, registers in blocks.registers.items():
        bits = sum(len(r) for r in registers)
        seen = edges[blocks.clock[block]]
        out[block] = {"domain": blocks.clock[block], "register_bits": bits,
                      "toggles": toggles[block].tolist(), "edges": seen.tolist(),
                      # Every flip-flop's clock pin toggles on every edge its domain sees.
                      "clocked": (bits * seen).tolist()}
    return out

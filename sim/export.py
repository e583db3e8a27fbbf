"""Verilog export of spikeforge components.

Amaranth's builtin yosys writes the Verilog. Source attributes are left out,
so the file does not depend on where the project lives and a rebuild is
skipped when the design did not change.
"""

import hashlib
from pathlib import Path

from amaranth.back import verilog

__all__ = ["export_verilog"]


def export_verilog(component, name, out_dir):
    """Write ``component`` as ``<out_dir>/<name>.v``; returns ``(path, changed)``.

    The file is only rewritten when its text changes, so the simulator's own
    up-to-date checks keep working.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = verilog.convert(component, name=name, emit_src=False)
    path = out_dir / f"{name}.v"
    if path.exists() and hashlib.sha256(path.read_bytes()).digest() == \
            hashlib.sha256(text.encode()).digest():
        return path, False
    path.write_text(text)
    return path, True

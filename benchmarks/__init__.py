"""spikeforge's performance suite: each module has ``run(...) -> dict`` and prints JSON.

Results go to ``benchmarks/results/``. Run one with ``python -m benchmarks.<name>``
from the repository root.
"""

__all__ = []

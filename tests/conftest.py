"""Shared test set-up: the suite runs on every core with pytest-xdist, one file per worker.

Verilator builds are cached in folders keyed by the design, and two workers
may build the same design at once, so each worker gets a build folder of its own.
"""

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["SPIKEFORGE_BUILD_DIR"] = os.path.join(
        os.environ.get("SPIKEFORGE_BUILD_DIR", "sim_build"), _worker)

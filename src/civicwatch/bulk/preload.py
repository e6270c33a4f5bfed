"""Imported once by the process that forks a local run's workers: builds the coder there, so every worker
starts with it (and with civicwatch, Dask and pyarrow imported) instead of building its own.

A LocalCluster started by ``civicwatch bulk code`` forks its workers from a multiprocessing forkserver
that imports this module first (``run._local_cluster``). Forked, the workers share the coder's memory
until they write to it; frozen out of the collector, its objects are not even touched by collections.
"""

from __future__ import annotations

import contextlib

import distributed  # noqa: F401 - imported here once rather than in every worker
import pyarrow.parquet  # noqa: F401

from civicwatch.bulk import run

# A forkserver that failed to start would lose every worker: if the coder cannot be built here, each
# worker builds it on its first partition, and that partition reports the error as usual.
with contextlib.suppress(Exception):
    run.prepare_worker()


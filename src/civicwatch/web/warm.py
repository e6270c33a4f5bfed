"""Warming: the country pages' aggregates computed in the background, busiest country first.

A country page counts its events by type, by month and by right and lists the persons and organisations
named most: at a million incidents that takes from 0.1 s to over a second for a busy country, far over the
page's 100 ms when a visitor is the first to ask. The server keeps these aggregates in memory until the
data changes (``browse._cached``, with the publish lag); this thread fills them before anyone asks:

- when the server starts,
- at once after a person's change (an edit, a confidential mark: every cached aggregate is dropped then),
- after machine writes, once the publish lag is over, but never spending more than ``share`` of its time
  warming (by default a tenth): on a database that ``process`` writes all day, a whole pass over a million
  incidents must not keep a core busy. Between passes a country whose aggregates have expired is counted
  when it is next viewed, as without warming.

Warming only reads; a failure (a database not yet initialised, a lost connection) is logged and retried.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from civicwatch.store import Store, browse

log = logging.getLogger("civicwatch.warm")

CHECK_SECONDS = 1.0  # how often the thread looks at the data versions
RETRY_SECONDS = 30.0


class Warmer:
    """A daemon thread calling ``warm_country(store, code)`` for every country with public incidents."""

    def __init__(self, store: Store, warm_country: Callable[[Store, str], object], *, lag_seconds: float,
                 share: float = 0.1) -> None:
        self.store = store
        self.warm_country = warm_country
        self.lag_seconds = lag_seconds
        self.share = share
        self.passes = 0
        self.last_pass_seconds: float | None = None
        self.warmed = threading.Event()  # set after the first complete pass (tests and benchmarks wait on it)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="civicwatch-warm", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        warmed: tuple[int, int] | None = None
        next_pass = 0.0
        while not self._stop.is_set():
            try:
                versions = self.store.data_versions()
            except Exception as exc:  # noqa: BLE001 - a thread must not die of a passing database problem
                log.warning("warming paused: %s", exc)
                self._stop.wait(RETRY_SECONDS)
                continue
            due = warmed is None or versions[1] != warmed[1] or (versions != warmed and time.monotonic() >= next_pass)
            if not due:
                self._stop.wait(CHECK_SECONDS)
                continue
            start = time.monotonic()
            try:
                countries = list(browse.counts_by_country(self.store))  # busiest first
                for code in countries:
                    if self._stop.is_set():
                        return
                    self.warm_country(self.store, code)
            except Exception as exc:  # noqa: BLE001
                log.warning("warming failed: %s", exc)
                self._stop.wait(RETRY_SECONDS)
                continue
            took = time.monotonic() - start
            warmed, self.passes, self.last_pass_seconds = versions, self.passes + 1, took
            next_pass = time.monotonic() + max(self.lag_seconds, took * (1 - self.share) / self.share)
            if not self.warmed.is_set():  # the operator (and the benchmark) learn when first views are fast
                print(f"Country pages ready: {len(countries)} countries counted in {took:.1f} s", file=sys.stderr,
                      flush=True)
            self.warmed.set()
            log.info("warmed %d country pages in %.1f s", len(countries), took)

"""Nothing lost on a crash: SIGKILL `civicwatch collect` mid-run, re-run, and find every page once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from civicwatch.store import Store
from support.corpus import write_site

PAGES = 120


def civicwatch(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "civicwatch", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_killed_collect_is_completed_by_a_rerun_without_duplicates(database_url, web, tmp_path):
    write_site(tmp_path / "site", PAGES, web.url("/site/"))
    web.serve_dir(tmp_path)
    env = {**os.environ, "CIVICWATCH_DATABASE_URL": database_url, "CIVICWATCH_PER_HOST_DELAY": "0",
           "CIVICWATCH_ALLOW_PRIVATE": "true"}
    assert civicwatch("init", env=env).returncode == 0
    added = civicwatch("add-source", web.url("/site/feed.atom"), "--name", "monitor", env=env)
    assert added.returncode == 0, added.stderr

    store = Store(database_url)
    kills = 0
    for threshold in (3, 40, 80):
        proc = subprocess.Popen([sys.executable, "-m", "civicwatch", "collect", "--all", "--json"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if store.counts()["documents"] >= threshold:
                proc.send_signal(signal.SIGKILL)
                kills += 1
                break
            time.sleep(0.02)
        proc.wait(timeout=60)
    assert kills >= 2, "the runs finished before they could be interrupted; make the site bigger"

    final = civicwatch("collect", "--all", "--json", env=env)
    assert final.returncode == 0, final.stderr
    counts = store.counts()
    assert counts["documents"] == PAGES
    assert counts["sightings"] == 0
    assert store.integrity_problems() == []
    assert json.loads(final.stdout)["failed"] == 0
    store.close()

"""The fuzz targets in CI: every seed and every past crash passes, then each atheris harness runs briefly.

``make fuzz`` runs each harness for ten minutes; here each gets ``FUZZ_SECONDS`` (the six together stay
under about 90 s). Any uncaught exception or broken invariant fails the test with libFuzzer's report,
which names the input written to the temporary folder. Where atheris is not installed (it has no wheel
for every Python), the same targets are fed hypothesis' binary inputs for the same time instead.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
sys.path.insert(0, str(FUZZ))

import targets  # noqa: E402

FUZZ_SECONDS = int(os.environ.get("CIVICWATCH_FUZZ_SECONDS", "12"))
NAMES = sorted(targets.TARGETS)
REGRESSIONS = sorted((FUZZ / "regressions").iterdir())


def test_there_is_a_harness_and_a_seed_corpus_per_target() -> None:
    for name in NAMES:
        assert (FUZZ / f"fuzz_{name}.py").is_file(), name
        assert any((FUZZ / "corpus" / name).iterdir()), name


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_inputs_that_once_crashed_pass(path: Path) -> None:
    targets.TARGETS[path.name.split("-")[0]](path.read_bytes())


@pytest.mark.parametrize("name", NAMES)
def test_every_seed_passes(name: str) -> None:
    for seed in sorted((FUZZ / "corpus" / name).iterdir()):
        targets.TARGETS[name](seed.read_bytes())


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
@pytest.mark.parametrize("name", NAMES)
def test_a_short_atheris_run_finds_no_crash(name: str, tmp_path: Path) -> None:
    learned = tmp_path / "corpus"
    learned.mkdir()
    command = [sys.executable, str(FUZZ / f"fuzz_{name}.py"), f"-max_total_time={FUZZ_SECONDS}", "-timeout=30",
               f"-artifact_prefix={tmp_path}/", str(learned), str(FUZZ / "corpus" / name)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
    crashes = [p.name for p in tmp_path.iterdir() if p.is_file()]
    assert run.returncode == 0 and not crashes, f"{crashes}\n{run.stderr[-4000:]}"
    assert "Done" in run.stderr, run.stderr[-2000:]


@pytest.mark.skipif(importlib.util.find_spec("atheris") is not None, reason="atheris runs the harnesses")
@pytest.mark.parametrize("name", NAMES)
def test_hypothesis_stands_in_for_atheris(name: str) -> None:
    deadline = time.monotonic() + FUZZ_SECONDS

    @given(st.binary(max_size=4096))
    @settings(max_examples=10**6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(data: bytes) -> None:
        if time.monotonic() < deadline:
            targets.TARGETS[name](data)

    run()

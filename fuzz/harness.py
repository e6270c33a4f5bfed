"""Running one fuzz target under atheris (libFuzzer): ``python fuzz/fuzz_<name>.py [libFuzzer flags] [dirs]``.

Without corpus folders the harness reads the seed corpus ``fuzz/corpus/<name>/`` and writes what it learns to
``fuzz/.work/<name>/`` (not committed), so the seeds stay ours and small. Crashing inputs are written to
``fuzz/.work/crash-<name>-*`` unless ``-artifact_prefix`` says otherwise. Only civicwatch's own modules are
instrumented: coverage of lxml or feedparser internals would slow every run for little.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent


def main(name: str) -> None:
    """Fuzz the target ``name`` of ``fuzz/targets.py`` with libFuzzer's arguments from the command line."""
    with atheris.instrument_imports(include=["civicwatch"]):
        import targets
    target = targets.TARGETS[name]
    args = list(sys.argv)
    work = HERE / ".work"
    if not any(a.startswith("-artifact_prefix=") for a in args[1:]):
        work.mkdir(exist_ok=True)
        args.append(f"-artifact_prefix={work}/{name}-")
    if not any(not a.startswith("-") for a in args[1:]):
        learned = work / name
        learned.mkdir(parents=True, exist_ok=True)
        args += [str(learned), str(HERE / "corpus" / name)]
    targets.coder()  # load the codebook before the clock starts
    atheris.Setup(args, target)
    atheris.Fuzz()

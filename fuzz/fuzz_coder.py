"""Fuzz the coder target (``fuzz/targets.py``): ``python fuzz/fuzz_coder.py -max_total_time=60``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import main  # noqa: E402

if __name__ == "__main__":
    main("coder")

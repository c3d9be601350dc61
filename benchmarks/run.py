"""Run the CPU benchmark suite: the same as ``actlab bench`` (every option is passed on).

python benchmarks/run.py                 # the full suite, writes BENCHMARKS.md (~10 min)
python benchmarks/run.py --quick -o /tmp/quick.md
"""

from __future__ import annotations

import sys

from actlab.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", *sys.argv[1:]]))

"""Compare two runs of the suite, row by row:

python benchmarks/compare.py OLD.md NEW.md      # or the --json files of the two runs
"""

from __future__ import annotations

import sys

from actlab.bench.compare import compare

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write("usage: python benchmarks/compare.py OLD.md|OLD.json NEW.md|NEW.json\n")
        raise SystemExit(2)
    try:
        sys.stdout.write(compare(sys.argv[1], sys.argv[2]))
    except (OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"compare: error: {exc}\n")
        raise SystemExit(2) from None

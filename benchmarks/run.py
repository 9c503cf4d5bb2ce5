"""Run every benchmark module (``benchmarks/bench_*.py``), each printing its own table.

Usage: ``python -m benchmarks.run [--only NAME] [--orders N ...]``; extra arguments are
passed to each module's ``main(argv)``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", default=[], help="run only these modules")
    args, rest = parser.parse_known_args(argv)
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if any(o in n for o in args.only)]
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n=== {name} ===", flush=True)
        module.main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())

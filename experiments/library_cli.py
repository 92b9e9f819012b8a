"""The command line shared by the tiny-library generators (``python -m experiments.papers.uplink_ee.library``,
``python -m experiments.papers.iot.library``): ``--only NAME ...``, ``--out DIR``, ``--time-limit S``, ``--dry-run``."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from instances.library import LIBRARY_DIR


def parse(prog: str, description: str, specs: Sequence[Any], argv: list[str] | None, *,
          time_limit: float) -> tuple[argparse.Namespace, list[Any]] | None:
    """(arguments, the selected specs), or None after printing the unknown ``--only`` names (exit code 2)."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument("--only", nargs="*", help="names to regenerate (default: all)")
    ap.add_argument("--out", default=str(LIBRARY_DIR), help="library directory (default: instances/library)")
    ap.add_argument("--time-limit", type=float, default=time_limit, help="per SCIP solve, seconds")
    ap.add_argument("--dry-run", action="store_true", help="certify but do not write files")
    args = ap.parse_args(argv)
    chosen = [s for s in specs if not args.only or s.name in args.only]
    if args.only and len(chosen) != len(args.only):
        print(f"--only: unknown name among {args.only}; known: {', '.join(s.name for s in specs)}", file=sys.stderr)
        return None
    return args, chosen

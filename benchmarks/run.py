"""Run every benchmark in ``benchmarks/`` (what ``make bench`` does).

    python benchmarks/run.py            # anchors set up if missing, then every benchmark
    python benchmarks/run.py --quick    # small sizes only (minutes, not an hour)
    python benchmarks/run.py --large    # also the ≥1 GB files of every format for the scanner

Each benchmark writes ``benchmarks/results/<name>.{json,md}``; the README quotes those tables.
A benchmark that fails stops the run with its exit code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(script: str, *args: str) -> None:
    command = [sys.executable, str(HERE / script), *args]
    print("$", " ".join(command), flush=True)
    code = subprocess.run(command, check=False).returncode
    if code:
        raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs only")
    parser.add_argument("--large", action="store_true", help="also the ≥1 GB scanner inputs")
    args = parser.parse_args(argv)
    if not (HERE / ".anchors" / "bin" / "python").exists():
        _run("scan_vs_anchors.py", "--setup")
    _run("scan_vs_anchors.py", "--repeat", "3", *(["--large"] if args.large else []))
    _run("sign_vs_anchors.py", "--sizes", "1,30" if args.quick else "1,300,3072")
    for extra in sorted(HERE.glob("*_speed.py")):
        _run(extra.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

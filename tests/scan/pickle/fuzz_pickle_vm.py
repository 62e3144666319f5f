"""Coverage-guided fuzzing of the pickle VM with atheris (not collected by pytest).

    python tests/scan/pickle/fuzz_pickle_vm.py -runs=100000 -max_len=4096

The property: analysing any bytes returns (never raises, never hangs past the limits), the
reported end lies inside the data, and a stream that did not reach STOP is never clean.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from mlwarden.scan.interface import ScanContext, ScanLimits, ScanTarget
    from mlwarden.scan.pickle import analyze_pickle, analyze_pickles, looks_like_pickle

LIMITS = ScanLimits(max_pickle_opcodes=100_000, max_pickle_stack=20_000, max_pickle_memo=20_000)


def test_one_input(data: bytes) -> None:
    ctx = ScanContext(limits=LIMITS)
    target = ScanTarget(path="fuzz.pkl", data=data)
    result = analyze_pickle(target, ctx)
    if not 0 <= result.end <= len(data):
        raise AssertionError(f"end {result.end} outside the data")
    if not result.complete and not ctx.findings:
        raise AssertionError("a broken stream came back clean")
    for r in analyze_pickles(target, ScanContext(limits=LIMITS)):
        if r.end > len(data):
            raise AssertionError("a stream ends past the data")
    looks_like_pickle(data[:256])


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

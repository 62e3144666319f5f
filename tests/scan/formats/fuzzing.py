"""Shared body of the atheris harnesses ``fuzz_<format>.py`` (run by hand, not by pytest).

Usage: ``.venv/bin/python tests/scan/formats/fuzz_gguf.py -atheris_runs=100000 [corpus_dir]``.
A harness fails when a scanner raises anything at all on hostile bytes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget


def one_input(scanner: type[FormatScanner], *, force: bool = True) -> Callable[[bytes], None]:
    """A fuzz target: detect, and scan (always when ``force``: the parser must cope anyway)."""

    def target(data: bytes) -> None:
        ctx = ScanContext(dispatch=lambda t, c: None)
        item = ScanTarget(path="fuzz", data=memoryview(data))
        hit = scanner.detect(data[:4096], item)
        if hit or force:
            scanner().scan(item, ctx)

    return target


def main(scanner: type[FormatScanner], *, force: bool = True) -> None:
    import atheris

    atheris.Setup(sys.argv, one_input(scanner, force=force))
    atheris.Fuzz()

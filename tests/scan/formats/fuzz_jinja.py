"""atheris harness for the chat-template analysis (not collected by pytest; see fuzzing.py)."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from mlwarden.scan.formats.jinja_ast import analyze_template


def one_input(data: bytes) -> None:
    analyze_template(atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(4096))


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()

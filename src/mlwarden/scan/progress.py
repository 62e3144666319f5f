"""How far the scan of the current file has got, for the progress bar (bytes and file name).

The engine sets :data:`METER` while a progress bar shows; readers that take long over one file —
decompressing a multi-GB gzip joblib, walking a large pickle — report the input bytes they consume
with :func:`advance`. With no bar (the default, and in worker processes) every call is a global
lookup and a return.
"""

from __future__ import annotations


class Meter:
    """Bytes read so far in the file being scanned (set back to 0 for each file)."""

    __slots__ = ("file", "read")

    def __init__(self) -> None:
        self.file = ""
        self.read = 0


METER: Meter | None = None


def advance(n: int) -> None:
    """``n`` more input bytes of the current file were consumed."""
    meter = METER
    if meter is not None:
        meter.read += n

"""JSON documents no other scanner claims (a Hugging Face ``config.json``, a
``preprocessor_config.json``, a custom component's settings): every string in them is looked at
for an embedded payload (:mod:`mlwarden.scan.formats.embedded`). Claimed only when the document
has a string long enough to hold one, so plain JSON stays "unknown".
"""

from __future__ import annotations

import json
import re
from typing import ClassVar

from mlwarden.scan.formats.embedded import MIN_ENCODED, scan_json_fields
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import could_be_json_object

_CANDIDATE = re.compile(rb'"[^"]{%d,}' % MIN_ENCODED)
"""A string of payload length, or an escape (``\\u``) that may hide one, in UTF-8 text."""


def _may_hold_payload(raw: bytes) -> bool:
    encoding = json.detect_encoding(raw[:4])
    if encoding not in ("utf-8", "utf-8-sig"):
        return True
    return b"\\" in raw or _CANDIDATE.search(raw) is not None


_PARSED: list[tuple[int, int, object]] = []
"""The last document parsed by ``detect`` (length, hash, value), so ``scan`` does not parse the
same bytes again (a tokenizer.json takes a quarter of a second)."""


def _parse(raw: bytes) -> object:
    key = (len(raw), hash(raw))
    if _PARSED and _PARSED[0][:2] == key:
        return _PARSED[0][2]
    value = json.loads(raw)
    _PARSED[:] = [(*key, value)]
    return value


class JsonFieldsScanner(FormatScanner):
    """Other JSON objects: strings that decode to pickles, archives or models."""

    name: ClassVar[str] = "json"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 885
    """After the JSON formats with a scanner of their own (which check their fields too)."""

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        if not could_be_json_object(head, target):
            return False
        raw = bytes(target.data)
        if not _may_hold_payload(raw):
            return False
        try:
            return isinstance(_parse(raw), dict)
        except (ValueError, RecursionError):
            return False

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        raw = bytes(target.data)
        try:
            root = _parse(raw)
        except (ValueError, RecursionError):
            return  # not JSON after all: nothing a JSON loader would decode
        finally:
            _PARSED.clear()
        scan_json_fields(root, target, ctx)

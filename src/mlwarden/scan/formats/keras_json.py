"""A Keras model config on its own, outside a ``.keras`` archive: ``model.to_json()`` files that
``model_from_json`` reads back, TensorFlow.js ``model.json``, the ``config.json`` of an unzipped
``.keras`` folder or of any archive. Kept apart from :mod:`.keras` so a JSON file does not import
the zip machinery (``mlwarden scan`` runs once per file; start-up is most of its time).
"""

from __future__ import annotations

import json
from typing import ClassVar

from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.keras_config import (
    ConfigError,
    ParsedConfig,
    looks_like_keras_config,
    parse_config,
    report_config,
)
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import MAX_CHAT_CONFIG, could_be_json_object

_KEYS = (b"class_name", b"model_config", b"modelTopology")


def _is_keras_json(data: bytes | memoryview, limit: int) -> bool:
    """Whether the document is a Keras config. Cheap first: in UTF-8 the key names (or a JSON
    escape that may spell them) must appear; then a plain ``json.loads`` (a tokenizer.json of
    20 MB should not pay for the duplicate-key bookkeeping of :func:`parse_config`)."""
    if len(data) > limit:
        return False
    raw = bytes(data)
    encoding = json.detect_encoding(raw[:4])
    if encoding in ("utf-8", "utf-8-sig") and b"\\u" not in raw and \
            not any(key in raw for key in _KEYS):
        return False
    try:
        root = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return looks_like_keras_config(root)


def _keras_json(data: bytes | memoryview, limit: int) -> ParsedConfig | None:
    """The document as a Keras config, or ``None`` when it is not one."""
    if not _is_keras_json(data, limit):
        return None
    try:
        parsed = parse_config(bytes(data), limit)
    except ConfigError:
        return None
    return parsed if looks_like_keras_config(parsed.root) else None


class KerasJsonScanner(FormatScanner):
    """A Keras model config on its own: ``model.to_json()`` files read back by
    ``model_from_json`` (the "architecture JSON + weights .h5" layout), TensorFlow.js
    ``model.json`` (converted back to Keras by ``tensorflowjs_converter``), the ``config.json``
    of an unzipped ``.keras`` folder or of any archive. Analysed like a ``.keras`` config.json,
    including a ``model_config`` held as a JSON string (the HDF5 attribute layout)."""

    name: ClassVar[str] = "keras-json"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 870

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return could_be_json_object(head, target) and _is_keras_json(target.data, MAX_CHAT_CONFIG)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        parsed = _keras_json(target.data, MAX_CHAT_CONFIG)
        if parsed is None:
            return
        report_config(parsed, target, ctx, base="")
        root = parsed.root
        from mlwarden.scan.formats.embedded import scan_json_fields

        scan_json_fields(root, target, ctx)
        documents = [root, root.get("modelTopology")] if isinstance(root, dict) else []
        for document in documents:
            inner = document.get("model_config") if isinstance(document, dict) else None
            if isinstance(inner, str):
                try:
                    nested = parse_config(inner, MAX_CHAT_CONFIG)
                except ConfigError as exc:
                    ctx.add(R.KERAS_MALFORMED.finding(f"model_config: {exc}", target.location()))
                    continue
                report_config(nested, target, ctx, base="model_config")

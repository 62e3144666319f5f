"""Sharded-checkpoint indexes (``model.safetensors.index.json``, ``pytorch_model.bin.index.json``):
``weight_map`` names, for every tensor, the shard file ``transformers`` loads from the model
folder (``os.path.join(folder, shard)`` for a local folder). A shard name that is absolute, climbs
out with ``..``, names a drive or a URL makes the loader read a file from elsewhere — another
downloaded repository's pickle in the cache, say — that was never scanned with the model.
"""

from __future__ import annotations

import contextlib
import json
from typing import ClassVar

from mlwarden.scan.container_rules import PATH_TRAVERSAL
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import MAX_CHAT_CONFIG, could_be_json_object

MAX_REPORTED = 20


def _weight_map(data: bytes | memoryview) -> dict[object, object] | None:
    raw = bytes(data)
    if len(raw) > MAX_CHAT_CONFIG:
        return None
    if json.detect_encoding(raw[:4]) in ("utf-8", "utf-8-sig") and b"weight_map" not in raw \
            and b"\\u" not in raw:
        return None
    try:
        root = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    mapping = root.get("weight_map") if isinstance(root, dict) else None
    return mapping if isinstance(mapping, dict) else None


class ShardIndexScanner(FormatScanner):
    """``*.index.json`` of sharded Hugging Face checkpoints."""

    name: ClassVar[str] = "hf-shard-index"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 875

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return could_be_json_object(head, target) and _weight_map(target.data) is not None

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        from mlwarden.scan.formats.embedded import scan_json_fields
        from mlwarden.scan.formats.onnx import location_problem

        with contextlib.suppress(ValueError, RecursionError):
            scan_json_fields(json.loads(bytes(target.data)), target, ctx)
        mapping = _weight_map(target.data) or {}
        bad: dict[str, str] = {}
        for shard in mapping.values():
            if isinstance(shard, str) and shard not in bad:
                why = location_problem(shard)
                if why is not None:
                    bad[shard] = why
        for shard, why in list(bad.items())[:MAX_REPORTED]:
            ctx.add(PATH_TRAVERSAL.finding(
                f"weight_map shard {shard!r} {why}: the loader reads a file outside the model "
                "folder, which was not scanned with it", target.location(),
                evidence={"shard": shard[:500]}))
        if len(bad) > MAX_REPORTED:
            ctx.add(PATH_TRAVERSAL.finding(f"{len(bad) - MAX_REPORTED} more shard names leave "
                                           "the model folder", target.location()))

"""Sharded-checkpoint indexes: every weight_map shard must stay in the model folder."""

from __future__ import annotations

import json

import pytest

from mlwarden.scan.engine import scan_bytes


def _index(shard: str) -> bytes:
    return json.dumps({"metadata": {}, "weight_map": {"w": "model-1.safetensors",
                                                      "v": shard}}).encode()


@pytest.mark.parametrize("shard", ["../x.bin", "a/../../x.bin", "/etc/x.bin", "C:\\x.bin",
                                   "https://host/x.bin", "~/x.bin", "a\\..\\..\\x.bin"])
def test_a_shard_outside_the_folder_is_high(shard: str) -> None:
    report = scan_bytes(_index(shard), name="model.safetensors.index.json")
    assert [f.rule_id for f in report.active] == ["MW-ARC-002"]


@pytest.mark.parametrize("shard", ["model-2.safetensors", "sub/model-2.safetensors"])
def test_shards_in_the_folder_are_clean(shard: str) -> None:
    report = scan_bytes(_index(shard), name="model.safetensors.index.json")
    assert not report.active
    assert report.metadata["formats"]["model.safetensors.index.json"] == "hf-shard-index"


def test_an_escaped_key_is_still_read() -> None:
    raw = _index("../x.bin").replace(b"weight_map", b"\\u0077eight_map")
    assert scan_bytes(raw, name="i.json").active

"""GGUF: benign files made by gguf-py's GGUFWriter, hostile ones assembled byte by byte."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFWriter

from mlwarden.core.severity import Severity

from .chat_templates import BENIGN, MALICIOUS
from .conftest import assert_no_crash, by_rule, format_of, rule_ids, scan, scan_file


def written(tmp_path: Path, template: str | list[dict[str, str]] | None = None,
            tensors: int = 2) -> Path:
    path = tmp_path / "model.gguf"
    writer = GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_context_length(128)
    writer.add_token_list(["<s>", "</s>", "hello", "world"])
    writer.add_token_scores([0.0, 0.0, -1.0, -2.0])
    if template is not None:
        writer.add_chat_template(template)
    for i in range(tensors):
        writer.add_tensor(f"blk.{i}.weight", np.arange(64, dtype=np.float32).reshape(8, 8))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_gguf_with_real_template_is_clean(tmp_path: Path, name: str) -> None:
    ctx = scan_file(written(tmp_path, BENIGN[name]))
    assert ctx.findings == []
    assert next(iter(ctx.formats.values())) == "gguf"


@pytest.mark.parametrize("name", ["cve-2024-34359", "attr-filter-concat", "map-attribute"])
def test_malicious_default_template(tmp_path: Path, name: str) -> None:
    ctx = scan_file(written(tmp_path, MALICIOUS[name]))
    findings = by_rule(ctx, "MW-GGUF-001")
    assert findings and findings[0].location.offset is not None
    assert findings[0].evidence["template"] == "tokenizer.chat_template"


def test_malicious_named_template(tmp_path: Path) -> None:
    ctx = scan_file(written(tmp_path, [{"name": "default", "template": BENIGN["chatml"]},
                                       {"name": "tool_use",
                                        "template": MALICIOUS["globals-via-lipsum"]}]))
    findings = by_rule(ctx, "MW-GGUF-001")
    assert {f.evidence["template"] for f in findings} == {"tokenizer.chat_template.tool_use"}
    assert any(f.severity is Severity.CRITICAL for f in findings)


# --- hand-built files -------------------------------------------------------------------------


def gstr(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def kv_string(key: str, value: str | bytes) -> bytes:
    return gstr(key) + struct.pack("<I", 8) + gstr(value)


def gguf(kvs: list[bytes], tensors: list[bytes] = (), version: int = 3,  # type: ignore[assignment]
         data: bytes = b"", counts: tuple[int, int] | None = None) -> bytes:
    n_tensors, n_kv = counts or (len(tensors), len(kvs))
    head = b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + b"".join(kvs) + b"".join(
        tensors)
    pad = (-len(head)) % 32
    return head + b"\0" * pad + data


def tensor(name: str, dims: list[int], ggml_type: int = 0, offset: int = 0,
           n_dims: int | None = None) -> bytes:
    return (gstr(name) + struct.pack("<I", len(dims) if n_dims is None else n_dims)
            + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ggml_type, offset))


def test_hand_built_valid_file_is_clean() -> None:
    data = gguf([kv_string("general.architecture", "llama")], [tensor("a", [4]), tensor("b", [8],
                                                                                      offset=32)],
                data=b"\0" * 64)
    ctx = scan(data)
    assert format_of(ctx) == "gguf" and ctx.findings == []


@pytest.mark.parametrize(("label", "data"), [
    ("huge-kv-count", gguf([], counts=(0, 2**62))),
    ("huge-tensor-count", gguf([], counts=(2**40, 0))),
    ("huge-string", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**63) + b"k"),
    ("truncated-value", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + gstr("k") + b"\4\0\0\0\1"),
    ("unknown-type", gguf([gstr("k") + struct.pack("<I", 99) + b"\0" * 8])),
    ("huge-array", gguf([gstr("k") + struct.pack("<IIQ", 9, 4, 2**60)])),
    ("nested-arrays", gguf([gstr("k") + struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * 20
                            + struct.pack("<IQ", 0, 0)])),
    ("duplicate-key", gguf([kv_string("a", "x"), kv_string("a", "y")])),
    ("bad-version", gguf([], version=7)),
    ("too-many-dims", gguf([], [tensor("t", [1, 1, 1, 1, 1])])),
    ("unknown-ggml-type", gguf([], [tensor("t", [4], ggml_type=200)])),
    ("element-overflow", gguf([], [tensor("t", [2**32, 2**32, 2**32])])),
    ("long-name", gguf([], [tensor("x" * 100, [4])])),
    ("duplicate-tensor", gguf([], [tensor("t", [4]), tensor("t", [4], offset=32)],
                              data=b"\0" * 64)),
    ("misaligned-block", gguf([], [tensor("q", [33], ggml_type=2)])),
    ("data-past-end", gguf([], [tensor("t", [1024])], data=b"\0" * 16)),
    ("overlap", gguf([], [tensor("a", [16]), tensor("b", [16], offset=32)], data=b"\0" * 128)),
    ("unaligned-offset", gguf([], [tensor("a", [4], offset=4)], data=b"\0" * 64)),
    ("bad-alignment", gguf([gstr("general.alignment") + struct.pack("<II", 4, 3)],
                           [tensor("a", [4])], data=b"\0" * 64)),
    ("template-not-utf8", gguf([kv_string("tokenizer.chat_template", b"\xff\xfe{{")])),
    ("template-not-string", gguf([gstr("tokenizer.chat_template") + struct.pack("<II", 4, 1)])),
])
def test_malformed_files_are_findings(label: str, data: bytes) -> None:
    ctx = scan(data)
    assert_no_crash(ctx)
    assert format_of(ctx) == "gguf"
    findings = by_rule(ctx, "MW-GGUF-002")
    assert findings, label
    assert all(f.severity in (Severity.HIGH, Severity.MEDIUM) for f in findings)


def test_big_endian_file_is_read() -> None:
    body = b"GGUF" + struct.pack(">IQQ", 3, 0, 1) + struct.pack(">Q", 23) \
        + b"tokenizer.chat_template" + struct.pack(">I", 8) + struct.pack(">Q", 20) \
        + b"{{ x.__globals__ }}!"
    assert "MW-GGUF-001" in rule_ids(scan(body))


def test_version_one_is_skipped_not_clean() -> None:
    ctx = scan(b"GGUF" + struct.pack("<III", 1, 0, 0))
    assert ctx.findings == [] and "version 1" in ctx.skipped[0].reason


@pytest.mark.parametrize("cut", [5, 13, 30, 200, -40])
def test_truncated_real_file(tmp_path: Path, cut: int) -> None:
    data = written(tmp_path, BENIGN["llama3"]).read_bytes()
    ctx = scan(data[:cut])
    assert_no_crash(ctx)
    assert by_rule(ctx, "MW-GGUF-002")


def test_metadata_and_array_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scan.formats import gguf as gguf_mod

    monkeypatch.setattr(gguf_mod, "MAX_ARRAY_STRINGS", 1000)
    many = gguf([gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2000)
                 + gstr("t") * 2000])
    assert "more than 1000 strings" in by_rule(scan(many), "MW-GGUF-002")[0].message
    monkeypatch.setattr(gguf_mod, "MAX_METADATA", 2)
    kvs = [kv_string(f"k{i}", "v") for i in range(3)]
    assert "over the limit" in by_rule(scan(gguf(kvs)), "MW-GGUF-002")[0].message

"""TensorFlow SavedModel and keras_metadata.pb, built by hand with the wire writer (no TF here)."""

from __future__ import annotations

import json

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.protobuf_wire import field_bytes as fb
from mlwarden.scan.formats.protobuf_wire import field_varint as fv

from .conftest import assert_no_crash, by_rule, format_of, rule_ids, scan
from .keras_samples import keras3_lambda


def attr(key: str, *, s: str | None = None, strings: list[str] | None = None,
         type_: int | None = None) -> bytes:
    if s is not None:
        value = fb(2, s)
    elif strings is not None:
        value = fb(1, b"".join(fb(2, x) for x in strings))
    else:
        value = fv(6, type_ or 1)
    return fb(5, fb(1, key) + fb(2, value))


def node(name: str, op: str, *inputs: str, attrs: bytes = b"") -> bytes:
    return fb(1, name) + fb(2, op) + b"".join(fb(3, i) for i in inputs) + attrs


def function(name: str, *nodes: bytes) -> bytes:
    return fb(1, fb(1, name)) + b"".join(fb(3, n) for n in nodes)


def saved_model(graph_nodes: list[bytes], functions: list[bytes] = (),  # type: ignore[assignment]
                extra_meta: bytes = b"") -> bytes:
    graph = b"".join(fb(1, n) for n in graph_nodes)
    if functions:
        graph += fb(2, b"".join(fb(1, f) for f in functions))
    graph += fb(4, fv(1, 1808))  # versions.producer
    meta_info = fb(4, "serve") + fb(5, "2.15.0")
    signature = fb(5, fb(1, "serving_default") + fb(2, fb(3, "tensorflow/serving/predict")))
    saver = fb(3, fb(1, "saver_filename:0") + fb(2, "StatefulPartitionedCall_1:0"))
    meta_graph = fb(1, meta_info) + fb(2, graph) + saver + signature + extra_meta
    return fv(1, 1) + fb(2, meta_graph)


CHECKPOINT_NODES = [
    node("saver_filename", "Placeholder", attrs=attr("dtype", type_=7)),
    node("SaveV2/tensor_names", "Const", attrs=attr("dtype", type_=7)),
    node("SaveV2", "SaveV2", "saver_filename", "SaveV2/tensor_names"),
    node("ShardedFilename", "ShardedFilename", "saver_filename"),
    node("MergeV2Checkpoints", "MergeV2Checkpoints", "ShardedFilename"),
    node("RestoreV2", "RestoreV2", "saver_filename"),
    node("StringJoin", "StringJoin", "saver_filename"),
]


def benign() -> bytes:
    fn = function("__inference_serving_default_42",
                  node("dense/MatMul", "MatMul", "x", "w"), node("dense/Relu", "Relu", "m"),
                  node("call", "StatefulPartitionedCall", "x"))
    return saved_model([node("x", "Placeholder"), node("w", "VarHandleOp"), *CHECKPOINT_NODES,
                        node("StatefulPartitionedCall", "StatefulPartitionedCall", "x")], [fn])


def test_benign_savedmodel_with_checkpoint_ops_is_clean() -> None:
    ctx = scan(benign())
    assert format_of(ctx) == "tf-savedmodel" and ctx.findings == []


@pytest.mark.parametrize("op", ["PyFunc", "PyFuncStateless", "EagerPyFunc"])
def test_python_call_ops_in_the_graph(op: str) -> None:
    ctx = scan(saved_model([*CHECKPOINT_NODES, node("evil", op, attrs=attr("token", s="pyfunc_0"))]))
    [finding] = by_rule(ctx, "MW-TF-001")
    assert finding.severity is Severity.HIGH and "pyfunc_0" in finding.message


@pytest.mark.parametrize(("op", "severity"), [("ReadFile", Severity.HIGH),
                                              ("WriteFile", Severity.CRITICAL),
                                              ("MatchingFiles", Severity.MEDIUM)])
def test_file_ops_hidden_in_a_library_function(op: str, severity: Severity) -> None:
    fn = function("__inference_call_7", node("read", op, "path"))
    ctx = scan(saved_model([node("x", "Placeholder")], [benign_fn(), fn]))
    [finding] = by_rule(ctx, "MW-TF-002")
    assert finding.severity is severity
    assert finding.evidence["in"] == "function __inference_call_7"


def benign_fn() -> bytes:
    return function("f", node("a", "AddV2", "x", "y"))


def test_printv2_to_a_file_and_debug_urls() -> None:
    ctx = scan(saved_model([
        node("p", "PrintV2", "x", attrs=attr("output_stream", s="file:///root/.bashrc")),
        node("q", "PrintV2", "x", attrs=attr("output_stream", s="stderr")),
        node("d", "DebugIdentity", "x", attrs=attr("debug_urls", strings=["file:///tmp/dump"])),
    ]))
    messages = [f.message for f in by_rule(ctx, "MW-TF-002")]
    assert len(messages) == 2
    assert any("/root/.bashrc" in m for m in messages) and any("/tmp/dump" in m for m in messages)


def test_truncated_savedmodel_is_malformed() -> None:
    data = saved_model([*CHECKPOINT_NODES, node("evil", "PyFunc")])
    ctx = scan(data[:-5])
    assert_no_crash(ctx)
    assert "MW-TF-003" in rule_ids(ctx)


def test_not_claimed_when_not_a_savedmodel() -> None:
    assert format_of(scan(fv(1, 1) + fb(2, b"hello world"))) != "tf-savedmodel"
    assert format_of(scan(fv(1, 3) + fb(2, fb(2, b"")))) != "tf-savedmodel"


def keras_metadata(*configs: dict[str, object]) -> bytes:
    out = b""
    for i, cfg in enumerate(configs):
        out += fb(1, fv(2, i) + fb(3, f"root.layer-{i}") + fb(4, "_tf_keras_layer")
                  + fb(5, json.dumps(cfg)))
    return out


def test_keras_metadata_lambda_is_critical() -> None:
    benign_layer = {"name": "dense", "class_name": "Dense", "config": {"units": 4}}
    ctx = scan(keras_metadata(benign_layer, keras3_lambda("meta_lambda")))
    assert format_of(ctx) == "keras-metadata"
    [finding] = by_rule(ctx, "MW-KERAS-001")
    assert finding.severity is Severity.CRITICAL and "meta_lambda" in finding.message


def test_keras_metadata_benign_and_broken_json() -> None:
    assert scan(keras_metadata({"name": "d", "class_name": "Dense", "config": {}})).findings == []
    broken = fb(1, fv(2, 0) + fb(4, "_tf_keras_layer") + fb(5, "{not json"))
    assert "MW-KERAS-004" in rule_ids(scan(broken))


def user_object(identifier: str, metadata: str) -> bytes:
    return fb(1, fb(4, fb(1, identifier) + fb(2, fv(1, 1)) + fb(3, metadata)))


def test_keras_config_in_the_object_graph() -> None:
    graph = fb(7, user_object("_tf_keras_sequential", json.dumps(
        {"class_name": "Sequential", "config": {"layers": [keras3_lambda("og")]}}))
        + user_object("trackable_dict_wrapper", "{}"))
    ctx = scan(saved_model([*CHECKPOINT_NODES], extra_meta=graph))
    [finding] = by_rule(ctx, "MW-KERAS-001")
    assert "og" in finding.message


@pytest.mark.parametrize(("filename", "flagged"), [("vocab.txt", False),
                                                   ("../../../etc/passwd", True),
                                                   ("/etc/shadow", True)])
def test_asset_filenames_must_stay_in_assets(filename: str, flagged: bool) -> None:
    asset = fb(6, fb(1, fb(1, "asset_path:0")) + fb(2, filename))
    ctx = scan(saved_model([*CHECKPOINT_NODES], extra_meta=asset))
    assert bool(by_rule(ctx, "MW-TF-002")) is flagged


def string_const(name: str, value: str, *, as_tensor: bool = True) -> bytes:
    """A Const node as TensorFlow writes it (``value``: a DT_STRING TensorProto's string_val)."""
    if not as_tensor:
        return node(name, "Const", attrs=attr("value", s=value))
    tensor = fv(1, 7) + fb(2, b"") + fb(8, value)
    return node(name, "Const", attrs=fb(5, fb(1, "value") + fb(2, fb(8, tensor))))


def tf1_saver_nodes(prefix: str = "model") -> list[bytes]:
    """The saver graph of a TF1 SavedModel: the filename is a Const the session feeds."""
    return [string_const("save/Const", prefix),
            string_const("save/StringJoin/inputs_1", "_temp_6e0b/part"),
            node("save/StringJoin", "StringJoin", "save/Const", "save/StringJoin/inputs_1"),
            string_const("save/num_shards", "1"),
            node("save/ShardedFilename", "ShardedFilename", "save/StringJoin:0",
                 "save/ShardedFilename/shard", "save/num_shards"),
            node("save/SaveV2", "SaveV2", "save/ShardedFilename", "save/SaveV2/tensor_names"),
            node("save/MergeV2Checkpoints", "MergeV2Checkpoints",
                 "save/MergeV2Checkpoints/checkpoint_prefixes", "save/Const"),
            node("save/RestoreV2", "RestoreV2", "save/Const")]


def test_tf1_saver_graph_with_a_relative_const_prefix_is_clean() -> None:
    ctx = scan(saved_model(tf1_saver_nodes()))
    assert ctx.findings == []


@pytest.mark.parametrize("prefix", ["/root/.bashrc", "../../../etc/cron.d/x", "~/.profile",
                                    "C:\\Windows\\x", "gs://bucket/x"])
@pytest.mark.parametrize("as_tensor", [True, False])
def test_save_ops_writing_to_a_constant_outside_path(prefix: str, as_tensor: bool) -> None:
    nodes = [string_const("p", prefix, as_tensor=as_tensor), node("id", "Identity", "p:0"),
             node("SaveV2", "SaveV2", "id", "names", "slices", "w")]
    [finding] = by_rule(scan(saved_model(nodes)), "MW-TF-002")
    assert finding.severity is Severity.HIGH and finding.evidence["path"] == prefix
    # through the TF1 StringJoin/ShardedFilename chain, as the constant leading part; the
    # graph's RestoreV2 reads the same constant prefix back (tf_path_ops.PATH_OPS)
    paths = {f.evidence["op"]: f.evidence["path"]
             for f in by_rule(scan(saved_model(tf1_saver_nodes(prefix))), "MW-TF-002")}
    assert paths == {"SaveV2": prefix + "_temp_6e0b/part", "MergeV2Checkpoints": prefix,
                     "RestoreV2": prefix}


@pytest.mark.parametrize("op", ["TextLineDataset", "TFRecordDataset", "FixedLengthRecordDataset"])
def test_datasets_reading_constant_outside_paths(op: str) -> None:
    fn = function("__inference_serve_7", string_const("path", "/etc/shadow"),
                  node("ds", op, "path:output:0", "compression", "buffer"))
    [finding] = by_rule(scan(saved_model([node("x", "Placeholder")], [fn])), "MW-TF-002")
    assert finding.severity is Severity.HIGH and "/etc/shadow" in finding.message
    fn = function("__inference_serve_8", string_const("path", "data/train.txt"),
                  node("ds", op, "path", "compression", "buffer"))
    assert scan(saved_model([node("x", "Placeholder")], [fn])).findings == []


@pytest.mark.parametrize(("op", "index", "severity"), [
    ("CreateSummaryFileWriter", 1, Severity.HIGH), ("DatasetToTFRecord", 1, Severity.HIGH),
    ("WriteRawProtoSummary", -1, Severity.LOW)])
def test_writer_ops_are_reported(op: str, index: int, severity: Severity) -> None:
    inputs = ["writer", "logdir", "q"] if index >= 0 else ["writer", "step", "tensor"]
    ctx = scan(saved_model([string_const("logdir", "/tmp/exfil"), node("w", op, *inputs)]))
    [finding] = by_rule(ctx, "MW-TF-002")
    assert finding.severity is severity
    assert ("/tmp/exfil" in finding.message) is (index >= 0)


def test_path_cycles_and_fan_out_stay_bounded() -> None:
    joins = [node(f"j{i}", "StringJoin", *[f"j{(i + k) % 40}" for k in range(1, 9)])
             for i in range(40)]
    ctx = scan(saved_model([*joins, node("SaveV2", "SaveV2", "j0", "n", "s", "w")]))
    assert_no_crash(ctx)
    assert ctx.findings == []

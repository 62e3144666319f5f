"""Every TensorFlow op that takes a path input (``tf_path_ops.PATH_OPS``): a constant path outside
the model is high, a path that is not a constant is medium unless the loader itself feeds the
model's own files (saver prefix, table-initialiser assets), and the checkpoint machinery of a real
SavedModel stays clean. Round-5 red-team regressions: InitializeTableFromTextFileV2, SqlDataset,
CacheDatasetV2, SaveDatasetV2, RestoreV2 with an absolute prefix."""

from __future__ import annotations

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.protobuf_wire import field_bytes as fb
from mlwarden.scan.formats.tf_path_ops import PATH_OPS

from .conftest import by_rule, scan
from .test_savedmodel import CHECKPOINT_NODES, attr, function, node, saved_model, string_const


def _inputs(op: str, path_input: str) -> list[str]:
    """Inputs for ``op`` with ``path_input`` at each of its path positions."""
    spec = PATH_OPS[op]
    return [path_input if i in spec.inputs else f"other{i}" for i in range(max(spec.inputs) + 1)]


def _findings(nodes: list[bytes]) -> list[tuple[Severity, str]]:
    return [(f.severity, f.message) for f in by_rule(scan(saved_model(nodes)), "MW-TF-002")]


@pytest.mark.parametrize("op", sorted(PATH_OPS))
def test_a_constant_path_outside_the_model_is_high(op: str) -> None:
    nodes = [string_const("p", "/etc/shadow"), node("id", "Identity", "p:0"),
             node("x", op, *_inputs(op, "id"))]
    [(severity, message)] = _findings(nodes)
    assert severity is Severity.HIGH and "/etc/shadow" in message


@pytest.mark.parametrize("op", sorted(op for op, s in PATH_OPS.items() if not s.always))
def test_a_constant_path_inside_the_model_is_clean(op: str) -> None:
    nodes = [string_const("p", "assets/vocab.txt"), node("x", op, *_inputs(op, "p"))]
    assert _findings(nodes) == []


@pytest.mark.parametrize("op", sorted(PATH_OPS))
def test_a_path_computed_by_other_ops(op: str) -> None:
    nodes = [node("r", "ReadFile", "q"), node("x", op, *_inputs(op, "r"))]
    found = [s for s, m in _findings(nodes) if op in m]
    spec = PATH_OPS[op]
    expected = [spec.severity] if spec.always else [spec.computed] if spec.computed else []
    assert found == expected


@pytest.mark.parametrize("op", sorted(PATH_OPS))
def test_a_fed_path(op: str) -> None:
    fn = function("__inference_f_1", node("x", op, *_inputs(op, "path_arg")))
    found = [f.severity for f in by_rule(scan(saved_model([node("ph", "Placeholder")], [fn])),
                                         "MW-TF-002")]
    spec = PATH_OPS[op]
    assert found == ([spec.severity] if spec.always else [spec.fed] if spec.fed else [])


def test_the_checkpoint_machinery_of_a_real_saved_model_is_clean() -> None:
    packed = [*CHECKPOINT_NODES, node("pack", "Pack", "ShardedFilename"),
              node("merge2", "MergeV2Checkpoints", "pack", "saver_filename")]
    assert _findings(packed) == []


def test_a_tf2_vocabulary_table_fed_from_a_captured_asset_is_clean() -> None:
    fn = function("__inference__initializer_1",
                  node("table", "HashTableV2"),
                  node("init", "InitializeTableFromTextFileV2", "table", "asset_path_initializer"))
    assert by_rule(scan(saved_model([node("ph", "Placeholder")], [fn])), "MW-TF-002") == []


def test_a_tf1_asset_const_with_its_export_path_is_clean() -> None:
    """TF1 keeps the path the asset was exported from in the Const; the loader feeds assets/."""
    nodes = [string_const("asset_path", "/home/me/data/vocab.txt"), node("t", "HashTableV2"),
             node("init", "InitializeTableFromTextFileV2", "t", "asset_path")]
    asset = fb(6, fb(1, fb(1, "asset_path:0")) + fb(2, "vocab.txt"))
    assert by_rule(scan(saved_model(nodes, extra_meta=asset)), "MW-TF-002") == []
    # the same Const not declared as an asset is a read outside the model
    [(severity, _)] = _findings(nodes)
    assert severity is Severity.HIGH


def test_restore_v2_of_another_models_checkpoint_is_high() -> None:
    nodes = [string_const("p", "/home/user/other-model/variables/variables"),
             node("r", "RestoreV2", "p", "names", "slices")]
    [(severity, message)] = _findings(nodes)
    assert severity is Severity.HIGH and "reads checkpoint tensors" in message


def test_sql_dataset_is_reported_whatever_its_arguments() -> None:
    nodes = [string_const("drv", "sqlite"), string_const("db", "data.db"),
             string_const("q", "ATTACH DATABASE '/tmp/owned.db' AS x"),
             node("s", "SqlDataset", "drv", "db", "q")]
    [(severity, message)] = _findings(nodes)
    assert severity is Severity.HIGH and "SQL" in message


def test_queue_readers_and_descriptor_files() -> None:
    assert [s for s, _ in _findings([node("r", "WholeFileReaderV2")])] == [Severity.MEDIUM]
    local = node("d", "DecodeProtoV2", "b", attrs=attr("descriptor_source", s="local://"))
    assert _findings([local]) == []
    outside = node("d", "DecodeProtoV2", "b", attrs=attr("descriptor_source", s="/etc/x.desc"))
    assert [s for s, _ in _findings([outside])] == [Severity.HIGH]

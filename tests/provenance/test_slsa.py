"""The provenance statement has the in-toto Statement v1 and SLSA provenance v1 shapes, and parses
back exactly; malformed predicates are refused with an InputError, never a crash."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.attestation import Statement, Subject
from mlwarden.core.errors import InputError
from mlwarden.provenance.slsa import (
    BUILD_TYPE,
    SLSA_PREDICATE_TYPE,
    Dependency,
    TrainingRun,
)

DIGEST_SET = {"type": "object", "minProperties": 1,
              "additionalProperties": {"type": "string", "minLength": 1}}
RESOURCE_DESCRIPTOR = {
    "type": "object",
    "properties": {
        "name": {"type": "string"}, "uri": {"type": "string"}, "digest": DIGEST_SET,
        "content": {"type": "string", "contentEncoding": "base64"},
        "downloadLocation": {"type": "string"}, "mediaType": {"type": "string"},
        "annotations": {"type": "object"},
    },
    "additionalProperties": False,
    "anyOf": [{"required": ["uri"]}, {"required": ["digest"]}, {"required": ["content"]}],
}
# https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
STATEMENT_V1 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["_type", "subject", "predicateType", "predicate"],
    "properties": {
        "_type": {"const": "https://in-toto.io/Statement/v1"},
        "subject": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["digest"],
            "properties": {"name": {"type": "string"}, "digest": {
                "type": "object", "minProperties": 1,
                "properties": {"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                "additionalProperties": {"type": "string"}}}}},
        "predicateType": {"type": "string", "format": "uri", "minLength": 1},
        "predicate": {"type": "object"},
    },
    "additionalProperties": False,
}
TIMESTAMP = {"type": "string",
             "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}
# https://slsa.dev/spec/v1.0/provenance
SLSA_PROVENANCE_V1 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["buildDefinition", "runDetails"],
    "additionalProperties": False,
    "properties": {
        "buildDefinition": {
            "type": "object", "required": ["buildType", "externalParameters"],
            "additionalProperties": False,
            "properties": {
                "buildType": {"type": "string", "format": "uri"},
                "externalParameters": {"type": "object"},
                "internalParameters": {"type": "object"},
                "resolvedDependencies": {"type": "array", "items": RESOURCE_DESCRIPTOR},
            }},
        "runDetails": {
            "type": "object", "required": ["builder"], "additionalProperties": False,
            "properties": {
                "builder": {"type": "object", "required": ["id"], "additionalProperties": False,
                            "properties": {"id": {"type": "string", "format": "uri"},
                                           "version": {"type": "object",
                                                       "additionalProperties": {"type": "string"}},
                                           "builderDependencies": {
                                               "type": "array", "items": RESOURCE_DESCRIPTOR}}},
                "metadata": {"type": "object", "additionalProperties": False, "properties": {
                    "invocationId": {"type": "string"}, "startedOn": TIMESTAMP,
                    "finishedOn": TIMESTAMP}},
                "byproducts": {"type": "array", "items": RESOURCE_DESCRIPTOR},
            }},
    },
}


def sample_run(**changes: Any) -> TrainingRun:
    start = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    fields: dict[str, Any] = dict(
        subjects=(Subject("model.skops", {"sha256": "ab" * 32}),),
        command=("python", "train.py", "--epochs", "3"), working_directory="/work/proj",
        started_on=start, finished_on=start + dt.timedelta(seconds=42.5),
        invocation_id="urn:uuid:00000000-0000-4000-8000-000000000000",
        parameters={"lr": 0.1, "layers": [64, 32], "seed": 7}, seed=7,
        dependencies=(
            Dependency("code", "source", {"gitCommit": "c" * 40},
                       uri="git+https://example.com/repo.git@refs/heads/main",
                       annotations={"dirty": False}),
            Dependency("dataset", "data/train.csv", {"sha256": "d" * 64},
                       uri="file:///work/proj/data/train.csv", path="data/train.csv",
                       annotations={"rows": 100, "files": 1, "bytes": 2048,
                                    "digestScheme": "mlwarden-model-digest-v1"}),
            Dependency("lockfile", "uv.lock", {"sha256": "e" * 64}, path="uv.lock"),
        ),
        environment={"python": {"version": "3.11.7"}, "packages": [
            {"name": "numpy", "version": "2.0.0"}]},
        metrics={"accuracy": 0.93}, tool_version="0.1.0", source={"kind": "mlwarden-train"},
    )
    fields.update(changes)
    return TrainingRun(**fields)


def test_statement_validates_against_in_toto_and_slsa_schemas() -> None:
    statement = sample_run().statement().to_dict()
    jsonschema.validate(statement, STATEMENT_V1, format_checker=jsonschema.FormatChecker())
    jsonschema.validate(statement["predicate"], SLSA_PROVENANCE_V1,
                        format_checker=jsonschema.FormatChecker())
    assert statement["predicateType"] == SLSA_PREDICATE_TYPE == "https://slsa.dev/provenance/v1"
    assert statement["predicate"]["buildDefinition"]["buildType"] == BUILD_TYPE


def test_statement_parses_with_the_in_toto_attestation_bindings() -> None:
    from google.protobuf import json_format
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
    from in_toto_attestation.v1.statement import Statement as ItStatement
    from in_toto_attestation.v1.statement_pb2 import Statement as StatementPb

    data = sample_run().statement().to_dict()
    pb = json_format.ParseDict(data, StatementPb())
    ItStatement.copy_from_pb(pb).validate()
    # strict: an unknown or mistyped SLSA field would raise ParseError here
    provenance = json_format.ParseDict(data["predicate"], provenance_pb2.Provenance())
    assert provenance.build_definition.build_type == BUILD_TYPE
    assert provenance.run_details.metadata.started_on.ToDatetime(dt.UTC) == \
        sample_run().started_on
    for rd in [*provenance.build_definition.resolved_dependencies,
               *provenance.run_details.byproducts]:
        ResourceDescriptor.copy_from_pb(rd).validate()


def test_round_trip_is_exact() -> None:
    run = sample_run()
    again = TrainingRun.from_statement(Statement.from_json_bytes(run.statement().to_json_bytes()))
    assert again == run


def test_other_predicates_and_build_types_are_refused() -> None:
    run = sample_run()
    other = Statement(run.subjects, "https://example.com/other/v1", run.predicate())
    with pytest.raises(InputError, match="predicateType"):
        TrainingRun.from_statement(other)
    predicate = run.predicate()
    predicate["buildDefinition"]["buildType"] = "https://example.com/build/v1"
    with pytest.raises(InputError, match="buildType"):
        TrainingRun.from_statement(Statement(run.subjects, SLSA_PREDICATE_TYPE, predicate))


def test_unknown_dependency_kind_is_refused() -> None:
    with pytest.raises(InputError, match="unknown kind"):
        Dependency("weights", "x", {"sha256": "a" * 64})
    with pytest.raises(InputError, match="digest"):
        Dependency("dataset", "x", {})


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=150, deadline=None)
@given(data=st.data(), replacement=JSON, delete=st.booleans())
def test_mutated_predicates_raise_input_error_or_parse(data: st.DataObject, replacement: Any,
                                                       delete: bool) -> None:
    run = sample_run()
    predicate = copy.deepcopy(run.predicate())
    path = data.draw(st.sampled_from(_paths(predicate)))
    parent = predicate
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    try:
        statement = Statement(run.subjects, SLSA_PREDICATE_TYPE, predicate)
        TrainingRun.from_statement(statement)
    except InputError:
        pass


def test_predicate_is_json_serialisable_and_stable() -> None:
    a, b = sample_run().predicate(), sample_run().predicate()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)

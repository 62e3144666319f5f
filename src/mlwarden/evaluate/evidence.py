"""The model-test evidence kind: a signed result of a model security test."""

from __future__ import annotations

from mlwarden.core.evidence import MODEL_TEST_PREDICATE, CheckResultKind


class ModelTestEvidence(CheckResultKind):
    name = "model-test"
    requirement = "model_tests"
    predicate_types = (MODEL_TEST_PREDICATE,)
    description = "a signed model-test result (robustness, privacy, extraction) that passed"

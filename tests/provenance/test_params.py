"""Hyperparameter capture: params files, ``--param k=v`` and ``MLWARDEN_PARAM_*``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.core.errors import InputError, UsageError
from mlwarden.provenance.params import (
    collect,
    env_params,
    load_params_file,
    parse_assignment,
    parse_scalar,
    seed_of,
)


@given(st.text(alphabet=st.characters(blacklist_characters="="), min_size=1).filter(str.strip),
       st.text())
def test_assignment_keeps_key_and_value(key: str, value: str) -> None:
    parsed_key, parsed = parse_assignment(f"{key}={value}")
    assert parsed_key == key.strip()
    assert parsed == parse_scalar(value)
    if isinstance(parsed, str):
        assert parsed == value  # text is never altered
    else:
        assert json.loads(value) == parsed


def test_scalars() -> None:
    assert parse_scalar("0.1") == 0.1 and parse_scalar("7") == 7 and parse_scalar("true") is True
    assert parse_scalar("null") is None and parse_scalar("adam") == "adam"
    assert parse_scalar("[1, 2]") == "[1, 2]" and parse_scalar("NaN") == "NaN"
    assert parse_scalar("1e400") == "1e400"


@pytest.mark.parametrize("text", ["novalue", "=3", "  =x"])
def test_bad_assignments(text: str) -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_assignment(text)


def test_environment_prefix() -> None:
    env = {"MLWARDEN_PARAM_LEARNING_RATE": "0.1", "MLWARDEN_PARAM_": "x", "HOME": "/root",
           "MLWARDEN_PARAM_OPT": "adam"}
    assert env_params(env) == {"learning_rate": 0.1, "opt": "adam"}


def test_files_and_precedence(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('{"lr": 0.1, "seed": 1, "nested": {"a": [1, 2]}}')
    (tmp_path / "p.yaml").write_text("lr: 0.2\nwhen: 2026-01-01\n")
    assert load_params_file(tmp_path / "p.yaml") == {"lr": 0.2, "when": "2026-01-01"}
    params = collect(tmp_path / "p.json", ["seed=3"], {"MLWARDEN_PARAM_SEED": "2",
                                                       "MLWARDEN_PARAM_LR": "0.5"})
    assert params == {"lr": 0.5, "seed": 3, "nested": {"a": [1, 2]}}
    assert seed_of(params) == 3 and seed_of({"random_state": 9}) == 9 and seed_of({}) is None


@pytest.mark.parametrize(("name", "content", "message"), [
    ("p.yaml", "a: [1,\n", "line 2: not valid YAML"),
    ("p.json", "{", "not valid JSON"),
    ("p.yaml", "- 1\n- 2\n", "must hold a mapping"),
    ("p.yaml", b"\xff\xfe", "not UTF-8"),
])
def test_malformed_params_files(tmp_path: Path, name: str, content: str | bytes,
                                message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError, match=message) as info:
        load_params_file(path)
    assert info.value.path == str(path)
    with pytest.raises(InputError, match="not found"):
        load_params_file(tmp_path / "missing.yaml")

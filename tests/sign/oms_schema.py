"""Validation against the OpenSSF Model Signing (OMS) v1.0 JSON Schemas (Apache-2.0).

The schemas are read from ``../shared/schemas/oms-v1.0/`` beside the checkout when it exists (as CI
lays it out), else from the vendored copy in ``tests/data/oms-v1.0/`` (with its LICENSE and NOTICE).
They compose through ``$ref`` by ``$id``: bundle → envelope, and (after decoding the DSSE payload)
statement → predicate, so one registry holds all four.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIRS = (ROOT.parent / "shared" / "schemas" / "oms-v1.0", ROOT / "tests" / "data" / "oms-v1.0")
NAMES = ("bundle", "envelope", "statement", "predicate")


def schema_dir() -> Path:
    for candidate in SCHEMA_DIRS:
        if all((candidate / f"{name}.schema.json").is_file() for name in NAMES):
            return candidate
    raise FileNotFoundError("oms-v1.0 schemas")


@functools.cache
def _validators() -> dict[str, Draft202012Validator]:
    directory = schema_dir()
    schemas = {name: json.loads((directory / f"{name}.schema.json").read_text())
               for name in NAMES}
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())
    return {name: Draft202012Validator(schema, registry=registry)
            for name, schema in schemas.items()}


def schema_errors(bundle: Mapping[str, Any] | str | bytes) -> list[str]:
    """Every way ``bundle`` (a parsed bundle or its JSON) departs from the OMS schemas."""
    raw = json.loads(bundle) if isinstance(bundle, (str, bytes)) else bundle
    validators = _validators()
    errors = [f"bundle: {e.json_path}: {e.message}"
              for e in validators["bundle"].iter_errors(raw)]
    try:
        payload = json.loads(base64.b64decode(raw["dsseEnvelope"]["payload"]))
    except (KeyError, TypeError, ValueError) as exc:
        return [*errors, f"payload: not a base64 JSON statement ({exc})"]
    errors += [f"statement: {e.json_path}: {e.message}"
               for e in validators["statement"].iter_errors(payload)]
    return errors


def assert_oms_conformant(bundle: Mapping[str, Any] | str | bytes | Path) -> None:
    """Fail naming every schema violation of ``bundle`` (a path, JSON text or parsed object)."""
    data = bundle.read_bytes() if isinstance(bundle, Path) else bundle
    errors = schema_errors(data)
    assert not errors, "not an OMS v1.0 bundle:\n  " + "\n  ".join(errors)

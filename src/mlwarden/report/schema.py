"""The JSON Schema of mlwarden's JSON report (``docs/report.schema.json``).

``python -m mlwarden.report.schema`` prints it; a test validates real reports against it and
checks the file in ``docs/`` is current.
"""

from __future__ import annotations

import json
from typing import Any

from mlwarden.core.report import REPORT_SCHEMA_URI

_SEVERITY = {"enum": ["info", "low", "medium", "high", "critical"]}
_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"], "minimum": 0}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": REPORT_SCHEMA_URI,
    "title": "mlwarden report",
    "type": "object",
    "required": ["$schema", "schema_version", "tool", "command", "target", "started_at",
                 "finished_at", "summary", "checks", "artifacts", "findings", "skipped",
                 "decision", "metadata"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"const": REPORT_SCHEMA_URI},
        "schema_version": {"type": "string", "pattern": r"^1\.\d+$"},
        "tool": {"type": "object", "required": ["name", "version"],
                 "properties": {"name": {"const": "mlwarden"}, "version": {"type": "string"},
                                "python": {"type": "string"}}},
        "command": {"type": "string"},
        "target": {"type": "string"},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time"},
        "duration_s": {"type": "number", "minimum": 0},
        "summary": {
            "type": "object",
            "required": ["total", "active", "suppressed", "skipped", "by_severity",
                         "max_severity"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "active": {"type": "integer", "minimum": 0},
                "suppressed": {"type": "integer", "minimum": 0},
                "skipped": {"type": "integer", "minimum": 0},
                "by_severity": {"type": "object",
                                "propertyNames": _SEVERITY,
                                "additionalProperties": {"type": "integer", "minimum": 0}},
                "max_severity": {"anyOf": [_SEVERITY, {"type": "null"}]},
            },
        },
        "checks": {"type": "array", "items": {
            "type": "object", "required": ["name", "version"],
            "properties": {"name": {"type": "string"}, "version": {"type": "string"}}}},
        "artifacts": {"type": "object", "additionalProperties": {
            "type": "string", "pattern": r"^[a-z0-9-]+:[0-9a-f]+$"}},
        "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
        "skipped": {"type": "array", "items": {
            "type": "object", "required": ["path", "member", "reason"],
            "properties": {"path": {"type": "string"}, "member": _NULLABLE_STR,
                           "reason": {"type": "string"}}}},
        "decision": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/decision"}]},
        "metadata": {"type": "object"},
    },
    "$defs": {
        "finding": {
            "type": "object",
            "required": ["rule_id", "severity", "title", "message", "location", "evidence",
                         "remediation", "references", "fingerprint", "suppression"],
            "additionalProperties": False,
            "properties": {
                "rule_id": {"type": "string", "pattern": r"^MW-[A-Z]+-\d{3}$"},
                "severity": _SEVERITY,
                "title": {"type": "string"},
                "message": {"type": "string"},
                "location": {
                    "type": "object", "required": ["path", "member", "offset", "line"],
                    "properties": {"path": {"type": "string"}, "member": _NULLABLE_STR,
                                   "offset": _NULLABLE_INT, "line": _NULLABLE_INT}},
                "evidence": {"type": "object"},
                "remediation": {"type": "string"},
                "references": {"type": "array", "items": {"type": "string"}},
                "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                "suppression": {"anyOf": [{"type": "null"}, {
                    "type": "object", "required": ["kind", "reason"],
                    "properties": {"kind": {"enum": ["waiver", "policy"]},
                                   "reason": {"type": "string"}, "owner": _NULLABLE_STR,
                                   "expires": {"type": ["string", "null"], "format": "date"}}}]},
            },
        },
        "decision": {
            "type": "object",
            "required": ["verdict", "allowed", "policy", "policy_digest", "evaluated_at",
                         "reasons"],
            "properties": {
                "verdict": {"enum": ["allow", "deny"]},
                "allowed": {"type": "boolean"},
                "policy": {"type": "string"},
                "policy_digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                "evaluated_at": {"type": "string", "format": "date-time"},
                "reasons": {"type": "array", "items": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"enum": ["threshold", "denied-rule", "expired-waiver",
                                                     "unscanned", "requirement", "clean"]},
                                   "message": {"type": "string"},
                                   "rule_id": _NULLABLE_STR, "fingerprint": _NULLABLE_STR}}},
            },
        },
    },
}


def schema_json() -> str:
    return json.dumps(SCHEMA, indent=2) + "\n"


if __name__ == "__main__":
    print(schema_json(), end="")

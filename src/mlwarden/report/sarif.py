"""SARIF 2.1.0, shaped for GitHub code scanning.

Rules carry help text, a ``security-severity`` and ``properties.tags`` with the OWASP ML Top 10 and
MITRE ATLAS ids; results carry a physical location (relative to the working directory when
possible, so GitHub can annotate the file) with a byte offset for binary files, the archive member
as a logical location, a stable partial fingerprint, and waivers as SARIF suppressions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlwarden.core import rules as rule_registry
from mlwarden.core.finding import Finding, Skip
from mlwarden.core.report import Report
from mlwarden.core.rules import Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


def _rule_for(finding: Finding) -> Rule:
    rule = rule_registry.get(finding.rule_id)
    if rule is not None:
        return rule
    from mlwarden.core.rules import Rule as _Rule

    return _Rule(id=finding.rule_id, name="Rule" + finding.rule_id.replace("-", ""),
                 title=finding.title, description=finding.title, severity=finding.severity,
                 remediation=finding.remediation, references=finding.references)


def _tags(rule: Rule) -> list[str]:
    tags = ["security", rule.area.lower(), *rule.tags]
    for ref in rule.references:
        if ref.startswith("CWE-"):
            tags.append(f"external/cwe/{ref.lower()}")
        elif not ref.startswith("http"):
            tags.append(ref)
    return list(dict.fromkeys(tags))


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    refs = "\n".join(f"- {r}" for r in rule.references)
    markdown = f"**{rule.title}**\n\n{rule.description}\n\n**Remediation:** {rule.remediation}"
    if refs:
        markdown += f"\n\n**References:**\n{refs}"
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": f"{rule.description}\n\nRemediation: {rule.remediation}",
                 "markdown": markdown},
        "defaultConfiguration": {"level": rule.severity.sarif_level},
        "properties": {
            "tags": _tags(rule),
            "security-severity": rule.severity.security_severity,
            "precision": "high",
            "problem.severity": "error" if rule.severity.sarif_level == "error" else "warning",
            "version": str(rule.version),
        },
    }


def _uri(path: str) -> tuple[str, str | None]:
    """A URI for ``path``: relative to the working directory (``%SRCROOT%``) when inside it."""
    p = Path(path)
    try:
        rel = p.resolve().relative_to(Path.cwd().resolve())
        return rel.as_posix(), "%SRCROOT%"
    except (ValueError, OSError):
        pass
    if p.is_absolute():
        return p.resolve().as_uri(), None
    return p.as_posix(), "%SRCROOT%"


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    artifact = _artifact_location(finding.location.path)
    region: dict[str, Any] = {"startLine": finding.location.line or 1}
    if finding.location.offset is not None:
        region["byteOffset"] = finding.location.offset
    message = finding.message
    if finding.location.member:
        message = f"{message} (in member {finding.location.member})"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": finding.severity.sarif_level,
        "message": {"text": f"{finding.title}: {message}"},
        "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": region}}],
        "partialFingerprints": {"mlwarden/v1": finding.fingerprint},
        "properties": {
            "severity": finding.severity.value,
            "security-severity": finding.severity.security_severity,
            "evidence": dict(finding.evidence),
            "references": list(finding.references),
        },
    }
    if finding.location.member:
        result["locations"][0]["logicalLocations"] = [
            {"fullyQualifiedName": finding.location.member, "kind": "member"}]
    if finding.suppression:
        s = finding.suppression
        justification = s.reason
        if s.owner:
            justification += f" (owner: {s.owner}"
            justification += f", expires {s.expires.isoformat()})" if s.expires else ")"
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": justification}]
    return result


def _artifact_location(path: str) -> dict[str, Any]:
    uri, base = _uri(path)
    return {"uri": uri, "uriBaseId": base} if base else {"uri": uri}


def _notification(skip: Skip) -> dict[str, Any]:
    where = f"{skip.path}!{skip.member}" if skip.member else skip.path
    return {"level": "warning", "message": {"text": f"skipped {where}: {skip.reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact_location(skip.path)}}]}


def to_sarif(report: Report) -> dict[str, Any]:
    from mlwarden import __version__

    rules: list[Rule] = []
    index: dict[str, int] = {}
    for finding in report.findings:
        if finding.rule_id not in index:
            index[finding.rule_id] = len(rules)
            rules.append(_rule_for(finding))
    notifications = [_notification(s) for s in report.skipped]
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "startTimeUtc": report.started_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "endTimeUtc": report.finished_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "workingDirectory": {"uri": Path.cwd().resolve().as_uri() + "/"},
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "mlwarden",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [_rule_descriptor(r) for r in rules],
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
        "invocations": [invocation],
        "results": [_result(f, index[f.rule_id]) for f in report.findings],
        "properties": {
            "command": report.command,
            "target": report.target,
            "checks": [c.to_dict() for c in report.checks],
        },
    }
    if report.decision is not None:
        run["properties"]["decision"] = report.decision.to_dict()
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report) -> str:
    return json.dumps(to_sarif(report), indent=2, default=str) + "\n"

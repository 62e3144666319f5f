from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jsonschema
import pytest

from mlwarden.core import Report, Suppression
from mlwarden.core.finding import Skip
from mlwarden.core.policy import Policy
from mlwarden.report import OutputFormat, render, write_report
from mlwarden.report.sarif import to_sarif
from mlwarden.report.schema import SCHEMA, schema_json

from ..conftest import ROOT, sarif_schema


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_renders(report: Report, fmt: OutputFormat) -> None:
    text = render(report, fmt)
    assert "MW-TEST-001" in text
    assert "models/evil.pkl" in text


def _with_waiver_skip_and_decision(report: Report) -> Report:
    waived = [f.suppressed_by(Suppression("waiver", "reviewed", owner="alice",
                                          expires=dt.date(2030, 1, 1)))
              if f.location.path == "models/evil.pkl" else f for f in report.findings]
    r = Report.build("scan", "models/", waived, started_at=report.started_at,
                     skipped=[Skip("models/enc.bin", "encrypted archive member", member="x")])
    return Policy.default().evaluate(r)


def test_sarif_validates_against_the_official_schema(report: Report) -> None:
    doc = json.loads(render(_with_waiver_skip_and_decision(report), OutputFormat.SARIF))
    jsonschema.validate(doc, sarif_schema())
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"MW-TEST-001", "MW-TEST-002"}
    rule = rules["MW-TEST-001"]
    assert rule["help"]["text"] and rule["help"]["markdown"]
    assert {"ML06", "AML.T0010", "external/cwe/cwe-502"} <= set(rule["properties"]["tags"])
    assert rule["properties"]["security-severity"] == "9.5"
    for result in run["results"]:
        phys = result["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"]
        assert phys["region"]["startLine"] >= 1
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    evil = next(r for r in run["results"] if "evil" in
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    assert evil["locations"][0]["physicalLocation"]["region"]["byteOffset"] == 42
    assert evil["suppressions"][0]["kind"] == "external"
    ckpt = next(r for r in run["results"] if "ckpt" in
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    assert ckpt["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "archive/data.pkl"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert "encrypted archive member" in notes[0]["message"]["text"]


def test_sarif_of_an_empty_report_is_valid() -> None:
    empty = Report.build("scan", ".", [], started_at=dt.datetime.now(dt.UTC))
    doc = to_sarif(empty)
    jsonschema.validate(doc, sarif_schema())
    assert doc["runs"][0]["results"] == []


def test_sarif_uses_relative_uris_inside_the_working_directory(
        report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    doc = to_sarif(report)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in
            doc["runs"][0]["results"]]
    assert all(u["uriBaseId"] == "%SRCROOT%" and not u["uri"].startswith("/") for u in uris)


def test_json_validates_against_the_documented_schema(report: Report) -> None:
    doc = json.loads(render(_with_waiver_skip_and_decision(report), OutputFormat.JSON))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(doc, SCHEMA)
    assert doc["summary"]["suppressed"] == 1
    assert doc["decision"]["verdict"] == "deny"


def test_docs_report_schema_is_current() -> None:
    assert (ROOT / "docs" / "report.schema.json").read_text() == schema_json(), (
        "docs/report.schema.json is stale: run `make docs`")


def test_html_is_self_contained_and_escapes_content(report: Report) -> None:
    from mlwarden.core import Location

    hostile = report.findings[0].__class__(
        rule_id="MW-TEST-001", severity=report.findings[0].severity, title="<script>alert(1)</script>",
        message="</td><img src=x onerror=alert(1)>", location=Location("<b>x</b>.pkl"))
    r = Report.build("scan", "t", [*report.findings, hostile], started_at=report.started_at)
    page = render(r, OutputFormat.HTML)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    # no network: nothing is fetched from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<svg" in page  # the plots are inline
    assert page.count("<tr") >= 4


@pytest.mark.parametrize("boxed", [False, True], ids=["plain", "rich"])
def test_table_shows_findings_skips_and_decision(report: Report, boxed: bool) -> None:
    from mlwarden.report.console import render_table

    full = _with_waiver_skip_and_decision(report)
    text = render_table(full, width=200) if boxed else render(full, OutputFormat.TABLE)
    assert "CRITICAL" in text and "MW-TEST-002" in text
    assert "waived" in text and "alice" in text
    assert "skipped models/enc.bin!x: encrypted archive member" in text
    assert "decision: DENY" in text
    assert ("┃" in text) is boxed  # files and pipes get no box drawing


def test_plain_table_is_one_aligned_line_per_finding(report: Report) -> None:
    full = _with_waiver_skip_and_decision(report)
    lines = render(full, OutputFormat.TABLE).splitlines()
    rows = [line for line in lines if line.split(" ", 1)[0] in
            {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"} or "(waived)" in line.split("  ")[0]]
    assert len(rows) == len(full.findings)
    starts = {row.index("MW-") for row in rows}
    assert len(starts) == 1, rows  # the rule column is aligned
    for f in full.findings:
        assert any(f.rule_id in row and " ".join(f.message.split()) in row for row in rows)


def test_write_report_is_atomic(report: Report, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "r.json"
    write_report(report, OutputFormat.JSON, target)
    before = target.read_text()
    import mlwarden.report.interface as iface

    def boom(*_a: object, **_k: object) -> str:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(iface, "render", boom)
    with pytest.raises(RuntimeError):
        iface.write_report(report, OutputFormat.JSON, target)
    assert target.read_text() == before
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]  # no temp file left

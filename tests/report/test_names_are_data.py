"""File names and every user-controlled string are data, never markup, in every renderer.

Attacker: the author of a model repository, who names a file so that a security report points at
another file (``evil[v2].pkl`` shown by rich as ``evil.pkl``), crashes the report (``run[/]m``), or
injects HTML into the HTML report. Property: for arbitrary names, every format renders without
error and shows the name exactly as it is.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
import urllib.parse
from pathlib import Path

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.core import Report
from mlwarden.core.finding import Location, Skip
from mlwarden.core.policy import Policy
from mlwarden.report import OutputFormat, render
from mlwarden.report.console import render_table

from ..conftest import SAMPLE_RULE, CliRun, sarif_schema

# Printable names, rich with what markup languages care about.
NAMES = st.text(alphabet=st.sampled_from(list("ab.-_ /[]\\<>&\"'`*#:=!@{}()%$~|^")) |
                st.characters(codec="utf-8", categories=["L", "N", "P", "S"]),
                min_size=1, max_size=40).filter(lambda s: s.strip() == s and s)


def _report(name: str, member: str) -> Report:
    finding = SAMPLE_RULE.finding(f"payload in {name}", Location(name, member=member, offset=3))
    r = Report.build("scan", name, [finding], started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                     skipped=[Skip(name, "encrypted member", member=member)])
    return Policy.default().evaluate(r)


@functools.cache
def _sarif_validator() -> jsonschema.protocols.Validator:
    schema = sarif_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, member=NAMES)
def test_every_renderer_shows_names_exactly(name: str, member: str) -> None:
    report = _report(name, member)
    boxed = render_table(report, width=1000)
    assert f"{name}!{member}" in boxed or (name in boxed and member in boxed)
    assert name in render(report, OutputFormat.TABLE)
    data = json.loads(render(report, OutputFormat.JSON))
    assert data["findings"][0]["location"]["path"] == name
    assert data["findings"][0]["location"]["member"] == member
    assert data["skipped"][0]["path"] == name
    sarif = json.loads(render(report, OutputFormat.SARIF))
    _sarif_validator().validate(sarif)
    result = sarif["runs"][0]["results"][0]
    assert name in result["message"]["text"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert urllib.parse.unquote(uri).endswith(name.lstrip("/")) or name in urllib.parse.unquote(uri)
    page = render(report, OutputFormat.HTML)
    assert name in html.unescape(page)
    if re.search(r"<[A-Za-z/!]", name):
        assert name not in page  # a tag in a name never reaches the page raw


def test_brackets_in_a_file_name_on_a_terminal(cli: CliRun, tmp_path: Path) -> None:
    from ..scan.engine.conftest import evil_pickle

    for name in ("evil[v2].pkl", "run[/]m.joblib", "x[bold]y[/bold].pt", "[link=x]z[/link].pkl"):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(evil_pickle())
        proc = cli("scan", str(target), env={"FORCE_COLOR": "1", "NO_COLOR": "", "COLUMNS": "400"})
        assert proc.returncode == 1, (name, proc.stderr)
        assert name in proc.stdout, (name, proc.stdout)
        assert "Traceback" not in proc.stderr
        target.unlink()


def test_convert_announces_the_file_it_writes(cli: CliRun, tmp_path: Path) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    source = tmp_path / "model[final].joblib"
    joblib.dump(model, source)
    proc = cli("convert", str(source), env={"FORCE_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "model[final].skops"
    assert written.is_file()
    assert str(written) in proc.stdout.replace("\n", ""), proc.stdout

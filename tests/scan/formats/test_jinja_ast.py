"""The chat-template analysis: real templates are clean, every injection technique is caught."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.jinja_ast import analyze_template, name_danger

from .chat_templates import BENIGN, LOADS, MALICIOUS, UNVERIFIABLE


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_real_chat_templates_are_clean(name: str) -> None:
    assert analyze_template(BENIGN[name]) == []


@pytest.mark.parametrize("name", sorted(MALICIOUS))
def test_injection_techniques_are_caught(name: str) -> None:
    issues = analyze_template(MALICIOUS[name])
    hits = [i for i in issues if i.rule.id == "MW-GGUF-001"]
    assert hits, issues
    assert any((i.severity or i.rule.severity) in (Severity.CRITICAL, Severity.HIGH) for i in hits)


@pytest.mark.parametrize("name", ["attr-filter-concat", "format-filter", "join-pieces",
                                  "replace-method", "set-variable", "reverse", "slice", "multiply",
                                  "mod-format"])
def test_assembled_names_are_folded_to_the_dunder(name: str) -> None:
    issues = analyze_template(MALICIOUS[name])
    assert any(i.evidence.get("name") == "__class__" for i in issues), issues


@pytest.mark.parametrize("name", sorted(UNVERIFIABLE))
def test_runtime_attribute_names_are_unverifiable(name: str) -> None:
    assert {i.rule.id for i in analyze_template(UNVERIFIABLE[name])} == {"MW-GGUF-003"}


@pytest.mark.parametrize("name", sorted(LOADS))
def test_template_loading_is_reported(name: str) -> None:
    assert "MW-GGUF-004" in {i.rule.id for i in analyze_template(LOADS[name])}


def test_syntax_error_is_unverifiable() -> None:
    [issue] = analyze_template("{% for x in %}")
    assert issue.rule.id == "MW-GGUF-003"


def test_line_numbers_point_at_the_construct() -> None:
    [issue] = analyze_template("line one\n{{ x }}\n{{ x.__class__ }}")
    assert issue.line == 3


@pytest.mark.parametrize(("name", "severity"), [("__globals__", Severity.CRITICAL),
                                                ("a.__class__", Severity.CRITICAL),
                                                ("_module", Severity.HIGH),
                                                ("f_globals", Severity.CRITICAL),
                                                ("content", None), ("role", None)])
def test_name_danger(name: str, severity: Severity | None) -> None:
    assert name_danger(name) is severity


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}%#()[]|~'\"._ abcx_+*019-=")), max_size=200))
def test_arbitrary_template_text_never_raises(source: str) -> None:
    analyze_template(source)


def test_doubling_set_chains_fold_in_linear_time() -> None:
    """``{% set a2 = a1 ~ a1 %}`` chains: without memoisation folding takes 2ⁿ steps."""
    import time

    chain = "".join(f"{{% set a{i + 1} = a{i} ~ a{i} %}}" for i in range(200))
    source = "{% set a0 = '_' %}" + chain + "{{ ()|attr(a200) }}"
    start = time.monotonic()
    issues = analyze_template(source)
    assert time.monotonic() - start < 2
    assert {i.rule.id for i in issues} & {"MW-GGUF-001", "MW-GGUF-003"}
    assert all((i.severity or i.rule.severity) is not Severity.INFO for i in issues)


def test_names_too_long_to_fold_are_not_clean() -> None:
    source = "{% set a = '_' * 3000 %}{{ ()|attr(a ~ a) }}"
    assert analyze_template(source)

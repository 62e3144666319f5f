"""Hugging Face chat templates outside GGUF: tokenizer_config.json and chat_template.jinja."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.severity import Severity

from .chat_templates import BENIGN, LOADS, MALICIOUS, UNVERIFIABLE
from .conftest import assert_no_crash, format_of, rule_ids, scan

REAL = sorted((Path(__file__).parents[1] / "redteam" / "templates").glob("*.jinja"))


def tokenizer_config(template: object) -> bytes:
    return json.dumps({"bos_token": "<s>", "eos_token": "</s>", "chat_template": template,
                       "tokenizer_class": "LlamaTokenizer"}, indent=2).encode()


@pytest.mark.parametrize("source", [*BENIGN.values(), *(p.read_text("utf-8") for p in REAL)])
def test_real_templates_are_clean_in_every_container(source: str) -> None:
    for data in (source.encode(), tokenizer_config(source),
                 tokenizer_config([{"name": "default", "template": source},
                                   {"name": "tool_use", "template": source}])):
        ctx = scan(data)
        assert format_of(ctx) == "chat-template"
        assert not ctx.findings, [f.message for f in ctx.findings]


@pytest.mark.parametrize("key", sorted(MALICIOUS))
def test_injections_are_reported_in_configs_and_files(key: str) -> None:
    for data in (tokenizer_config(MALICIOUS[key]), MALICIOUS[key].encode(),
                 tokenizer_config([{"name": "rag", "template": MALICIOUS[key]}])):
        ctx = scan(data)
        assert format_of(ctx) == "chat-template"
        assert "MW-TMPL-001" in rule_ids(ctx)
        assert max(f.severity for f in ctx.findings) >= Severity.HIGH


def test_unverifiable_and_loading_templates() -> None:
    for source in UNVERIFIABLE.values():
        for data in (tokenizer_config(source), source.encode()):
            assert "MW-TMPL-002" in rule_ids(scan(data))
    for source in LOADS.values():
        assert "MW-TMPL-003" in rule_ids(scan(tokenizer_config(source)))
    ctx = scan(tokenizer_config(42))
    assert rule_ids(ctx) == {"MW-TMPL-002"}


@pytest.mark.parametrize("data", [
    b'{"model_type": "bert", "hidden_size": 8}',
    b'{"chat_template_note": "none", "x": "{% for m in messages %}"}',
    b"# Model card\n\nUse {{ name }} to greet; messages are logged.\n",
    b"{% extends 'base.html' %}{% block body %}{{ user }}{% endblock %}",
    b"def f(messages):\n    return {m: 1 for m in messages}\n",
    b"{% for m in messages %}\xff{% endfor %}",
])
def test_ordinary_files_are_not_claimed(data: bytes) -> None:
    ctx = scan(data)
    assert format_of(ctx) != "chat-template"
    assert not ctx.findings


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.text(alphabet="{}%#messag_.()[]'\" ~|x\n", max_size=200).map(str.encode),
                 st.recursive(st.none() | st.text(max_size=20) | st.integers(),
                              lambda inner: st.lists(inner, max_size=3)
                              | st.dictionaries(st.sampled_from(["name", "template"]), inner,
                                                max_size=2),
                              max_leaves=8).map(tokenizer_config)))
def test_random_content_never_crashes(data: bytes) -> None:
    assert_no_crash(scan(data))

"""Differential test of the chat-template analysis against jinja2 itself.

Templates whose item/attribute keys are built at render time from data (token strings, messages,
splits, slices, case changes, joins of them; held in ``{% set %}`` variables, loop variables,
namespace attributes, macro parameters) are rendered by jinja2's ``ImmutableSandboxedEnvironment``
in a child process (:mod:`jinja_oracle`) with adversarial data and recording hooks. Whenever a
render reaches a dunder or private name, the static analysis must have reported the template
(``MW-GGUF-001``, or ``MW-GGUF-003`` "unverifiable", at high or above). Real templates must stay
clean, and the oracle confirms they reach no such name with ordinary data.
"""

from __future__ import annotations

import random

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.formats.jinja_ast import analyze_template, name_danger

from .chat_templates import BENIGN
from .jinja_oracle import reached_names

SOURCES = ("bos_token", "eos_token", "messages[0]['content']", "messages[0].role",
           "additional_special_tokens[0]")
TRANSFORMS = (
    "{}.split('|')[1]", "{}.split(',')[0]", "{}.rsplit(':', 1)[0]", "{}.partition('|')[2]",
    "{}.rpartition('|')[0]", "{}[1:]", "{}[:-1]", "{}[::-1]", "{}.strip()", "{}.lower()",
    "{}.upper()", "{}.replace('x', '')", "{}|trim", "{}|lower", "{}|reverse", "{}|string",
    "{}|list|join", "{}|replace('x', '')", "{}.title()", "{} ~ ''", "{} + ''", "{} * 1",
    "{}|join", "'%s'|format({})", "'{{}}'.format({})", "'%s' % {}", "{}.lstrip('x')",
    "{}.removeprefix('x')", "{}.casefold()", "[{}]|join", "[{}]|first", "({})|batch(99)|first|join",
    "{}.splitlines()[0]",
)
PASS_THROUGH = ("({} if true else '')", "({} if messages else none)", "({})")
"""Wrappers that keep a value as it is (after a first transform that builds it)."""
HOLDERS = (
    "{sink}",
    "{{% set k = {key} %}}{sink_k}",
    "{{% for k in [{key}] %}}{sink_k}{{% endfor %}}",
    "{{% set ns = namespace(k={key}) %}}{sink_ns}",
    "{{% set ns = namespace(k='') %}}{{% set ns.k = {key} %}}{sink_ns}",
    "{{% set k, j = ({key}, 1) %}}{sink_k}",
    "{{% macro m(k) %}}{sink_k}{{% endmacro %}}{{{{ m({key}) }}}}",
    "{{% for k in ({key}).split('#') %}}{sink_k}{{% endfor %}}",
    "{{% with k = {key} %}}{sink_k}{{% endwith %}}",
    "{{% set k %}}{{% if true %}}{{{{ {key} }}}}{{% endif %}}{{% endset %}}{sink_k}",
    "{{% for m in messages %}}{{% set k = loop.cycle({key}, {key}) %}}{sink_k}{{% endfor %}}",
)
SINKS = ("{{{{ ()[{0}] }}}}", "{{{{ messages[0][{0}] }}}}", "{{{{ ()|attr({0}) }}}}",
         "{{{{ [()]|map(attribute={0})|list }}}}", "{{{{ [()]|selectattr({0})|list }}}}",
         "{{{{ [()]|map('attr', {0})|list }}}}", "{{{{ ('{{0.' ~ {0} ~ '}}').format(()) }}}}",
         "{{{{ [()]|sort(attribute={0})|list }}}}", "{{{{ [()]|groupby({0})|list }}}}")


def make_template(rng: random.Random) -> str:
    key = "(" + rng.choice(TRANSFORMS).format(rng.choice(SOURCES)) + ")"
    for _ in range(rng.randint(0, 2)):
        key = "(" + rng.choice(TRANSFORMS + PASS_THROUGH).format(key) + ")"
    sink = rng.choice(SINKS)
    return rng.choice(HOLDERS).format(key=key, sink=sink.format(key),
                                      sink_k=sink.format("k"), sink_ns=sink.format("ns.k"))


def reported(source: str) -> bool:
    return any(i.rule.id in ("MW-GGUF-001", "MW-GGUF-003")
               and (i.severity or i.rule.severity) >= Severity.HIGH
               for i in analyze_template(source))


def disagreements(templates: list[str]) -> list[tuple[str, list[str]]]:
    out = []
    for source, names in zip(templates, reached_names(templates), strict=True):
        dangerous = [n for n in names if name_danger(n) is not None]
        if dangerous and not reported(source):
            out.append((source, dangerous))
    return out


REGRESSIONS = {
    # Each was clean to the analysis before issue 10 while jinja2 reached a dunder name.
    "split-key": "{{ ()[bos_token.split('|')[0]] }}",
    "rsplit-loop": "{% for m in messages %}{{ m[m.content.rsplit('|', 2)[1]] }}{% endfor %}",
    "partition-key": "{{ x[eos_token.partition('x')[2]] }}",
    "slice-key": "{{ x[bos_token[2:]] }}",
    "plus-data": "{{ x[bos_token + eos_token] }}",
    "repeat-data": "{{ x[bos_token * 2] }}",
    "loop-over-split": "{% for k in bos_token.split(',') %}{{ x[k] }}{% endfor %}",
    "tuple-set": "{% set a, b = bos_token.split(',') %}{{ x[a] }}",
    "namespace-built": "{% set ns = namespace(k='') %}{% for c in messages %}"
                       "{% set ns.k = ns.k ~ c.content %}{% endfor %}{{ x[ns.k] }}",
    "macro-argument": "{% macro m(k) %}{{ x[k] }}{% endmacro %}{{ m(bos_token.lower()) }}",
    "map-attribute-data": "{{ messages|map(attribute=bos_token)|list }}",
    "selectattr-data": "{{ messages|selectattr(bos_token)|list }}",
    "map-attr-data": "{{ messages|map('attr', bos_token)|list }}",
    "format-built": "{{ ('{0.' ~ bos_token ~ '}').format(x) }}",
    "model-token-key": "{{ ()[bos_token] }}",
    "model-token-set": "{% set k = eos_token %}{{ x[k] }}",
    "sort-attribute-data": "{{ messages|sort(attribute=eos_token)|list }}",
    # found by the long differential run (seed 20261208): a model token held in a namespace
    "namespace-model-token": "{% set ns = namespace(k='') %}"
                             "{% set ns.k = ((eos_token if true else '')) %}{{ ()[ns.k] }}",
    "namespace-init-model-token": "{% set ns = namespace(k=bos_token) %}{{ ()[ns.k] }}",
    # holders added after the first runs: a with-block, a set-block with control flow, a call
    # that hands back its argument
    "with-block": "{% with k = messages[0].content.split('|')[1] %}{{ ()[k] }}{% endwith %}",
    "set-block-with-if": "{% set k %}{% if true %}{{ messages[0].content[1:] }}{% endif %}"
                         "{% endset %}{{ ()[k] }}",
    "loop-cycle": "{% for m in messages %}{{ ()[loop.cycle(m.content.split('|')[1], 'a')] }}"
                  "{% endfor %}",
}

DATA_LOOKUPS = {
    # Keys taken from the conversation as they are, and loop indexes: jinja2 may reach whatever
    # name the *user's* data holds (a role of "__class__"), which the template's author does not
    # choose; these stay clean (see the README's known limits).
    "role-map": "{% set role_map = {'user': 'U'} %}{% for message in messages %}"
                "{{ role_map[message['role']] }}{% endfor %}",
    "loop-index": "{% for message in messages %}{{ messages[loop.index0 + 1] if not loop.last }}"
                  "{{ messages[loop.index0 - 1] }}{% endfor %}",
    "range-index": "{% for i in range(messages|length) %}{{ messages[i] }}{{ messages[i * 2] }}"
                   "{% endfor %}",
    "keys-of-data": "{% for k in message %}{{ message[k] }}{% endfor %}",
    "items": "{% for k, v in tools|items %}{{ tools[k] }}{% endfor %}",
    "namespace-counter": "{% set ns = namespace(i=0) %}{% for m in messages %}"
                         "{% set ns.i = ns.i + 1 %}{{ messages[ns.i] }}{% endfor %}",
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regressions_are_reported(name: str) -> None:
    assert reported(REGRESSIONS[name]), analyze_template(REGRESSIONS[name])


def test_regressions_reach_dunders_in_jinja2() -> None:
    """The oracle agrees these templates are dangerous: each reaches a dunder or private name."""
    names = reached_names(list(REGRESSIONS.values()))
    missing = [k for k, n in zip(REGRESSIONS, names, strict=True)
               if not any(name_danger(x) for x in n)]
    assert missing == []


@pytest.mark.parametrize("name", sorted(DATA_LOOKUPS))
def test_data_lookups_and_loop_indexes_stay_clean(name: str) -> None:
    assert analyze_template(DATA_LOOKUPS[name]) == []


def test_real_templates_reach_no_internals_and_are_clean() -> None:
    ordinary = [{"messages": [{"role": "system", "content": "Be brief."},
                              {"role": "user", "content": "Hi"},
                              {"role": "assistant", "content": "Hello"},
                              {"role": "user", "content": "Bye"}],
                 "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True}]
    templates = list(BENIGN.values())
    for source, names in zip(templates, reached_names(templates, ordinary), strict=True):
        assert [n for n in names if name_danger(n)] == [], source
        assert analyze_template(source) == []


def test_generated_templates_agree_with_jinja2() -> None:
    rng = random.Random(10)
    templates = [make_template(rng) for _ in range(300)]
    assert disagreements(templates) == []


@pytest.mark.slow
def test_generated_templates_agree_with_jinja2_long() -> None:
    rng = random.Random(20261208)
    templates = [make_template(rng) for _ in range(20_000)]
    assert disagreements(templates) == []

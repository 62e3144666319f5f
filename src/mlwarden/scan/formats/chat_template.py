"""Hugging Face chat templates outside GGUF: ``tokenizer_config.json`` / ``chat_template.json``
(a JSON object with a ``chat_template`` key: a string, or a list of ``{name, template}``) and
standalone ``chat_template.jinja`` files. ``transformers`` renders them in
``apply_chat_template``; they go through the same Jinja2 AST analysis as GGUF templates
(:mod:`mlwarden.scan.formats.jinja_ast`), reported under the ``MW-TMPL-*`` rules.

Recognised by content, never by name. A JSON object is claimed only when it has a
``chat_template`` key. A text file is claimed as a template only when it is valid UTF-8 within the
template size limit, holds Jinja2 tags (``{%`` or ``{{``), parses as Jinja2 and reads a variable
that ``apply_chat_template`` passes (``messages``, ``add_generation_prompt``, ``bos_token``,
``eos_token``) or reaches Python internals: ordinary text, code, configuration files and other
Jinja2 templates stay "unknown".
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from mlwarden.core.rules import Rule
from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.jinja_ast import analyze_template
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import MAX_CHAT_CONFIG as MAX_CONFIG
from mlwarden.scan.sniff import MAX_TEMPLATE

_CHAT_NAMES = frozenset({"messages", "add_generation_prompt", "bos_token", "eos_token"})
"""Variables ``apply_chat_template`` passes: a template that uses none is not a chat template."""
_RULES: dict[str, Rule] = {
    R.GGUF_TEMPLATE_INJECTION.id: R.TEMPLATE_INJECTION,
    R.GGUF_TEMPLATE_UNCHECKED.id: R.TEMPLATE_UNCHECKED,
    R.GGUF_TEMPLATE_LOADS.id: R.TEMPLATE_LOADS,
}


def _strip(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


def _json_templates(data: bytes | memoryview) -> list[tuple[str, Any]] | None:
    """``(name, value)`` of each chat template of a JSON object, or ``None`` if it has none."""
    try:
        value = json.loads(bytes(data).decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or "chat_template" not in value:
        return None
    templates = value["chat_template"]
    if isinstance(templates, list):  # transformers: [{"name": ..., "template": ...}, ...]
        return [(f"chat_template[{item.get('name', i)!s:.60}]" if isinstance(item, dict)
                 else f"chat_template[{i}]",
                 item.get("template") if isinstance(item, dict) else item)
                for i, item in enumerate(templates)]
    if isinstance(templates, dict):
        return [(f"chat_template[{name!s:.60}]", t) for name, t in templates.items()]
    return [("chat_template", templates)]


def _may_name_chat(raw: bytes) -> bool:
    """Whether a JSON document can hold a ``chat_template`` key: spelled out, or written with
    JSON escapes (``"\\u0063hat_template"`` is the same key to ``json.loads``)."""
    return b"chat" in raw or b"\\u" in raw


def _jinja_text(target: ScanTarget, head: bytes) -> str | None:
    """The file as a chat template, or ``None`` when it does not look like one."""
    if target.size > MAX_TEMPLATE or (b"{%" not in head and b"{{" not in head and
                                      target.size <= len(head)):
        return None
    raw = bytes(target.data)
    if (b"{%" not in raw and b"{{" not in raw) or b"\0" in raw:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    from jinja2 import TemplateError, nodes

    from mlwarden.scan.formats.jinja_ast import _environment

    try:
        tree = _environment().parse(text)
        used = {node.name for node in tree.find_all(nodes.Name)}
    except (TemplateError, RecursionError):
        return None
    if used & _CHAT_NAMES:
        return text
    # Not a chat template by its variables, but a Jinja2 file reaching Python internals is hostile
    # wherever it lies (transformers loads chat_template.jinja by its name alone).
    injection = R.GGUF_TEMPLATE_INJECTION.id
    return text if any(i.rule.id == injection for i in analyze_template(text)) else None


class ChatTemplateScanner(FormatScanner):
    """Chat templates of Hugging Face tokenizers (JSON configs and ``.jinja`` files)."""

    name: ClassVar[str] = "chat-template"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 880
    """After every binary format and the compressors, before the raw pickle fallback."""

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        if _strip(head).startswith(b"{") and target.size <= MAX_CONFIG and \
                _may_name_chat(bytes(target.data)) and _json_templates(target.data) is not None:
            return True
        return _jinja_text(target, head) is not None

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        templates = _json_templates(target.data) if _strip(target.head()).startswith(b"{") \
            else None
        if templates is not None:
            from mlwarden.scan.formats.embedded import scan_json_fields

            scan_json_fields(json.loads(bytes(target.data).decode("utf-8-sig")), target, ctx)
        if templates is None:
            text = _jinja_text(target, target.head(4096))
            templates = [("template", text)] if text is not None else []
        for key, source in templates:
            if not isinstance(source, str):
                ctx.add(R.TEMPLATE_UNCHECKED.finding(
                    f"{key} is not a string ({type(source).__name__})", target.location(),
                    evidence={"template": key}))
                continue
            for issue in analyze_template(source):
                rule = _RULES.get(issue.rule.id, issue.rule)
                ctx.add(rule.finding(f"{key}: {issue.message}",
                                     target.location(line=issue.line), severity=issue.severity,
                                     evidence={"template": key, **issue.evidence}))

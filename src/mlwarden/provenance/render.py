"""Lineage renderers: a rich tree for the console, JSON, and one self-contained HTML page."""

from __future__ import annotations

import enum
import html
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlwarden.core.finding import Finding
from mlwarden.provenance.lineage import Lineage, Link, Status

if TYPE_CHECKING:
    from rich.text import Text
    from rich.tree import Tree

LINEAGE_SCHEMA_URI = "https://mlwarden.dev/schemas/lineage/v1"


class LineageFormat(str, enum.Enum):
    """What ``mlwarden trace --format`` accepts."""

    TREE = "tree"
    JSON = "json"
    HTML = "html"
    SARIF = "sarif"


_STYLE = {Status.VERIFIED: ("✔", "green"), Status.MISMATCHED: ("✘", "bold red"),
          Status.UNAVAILABLE: ("?", "yellow"), Status.RECORDED: ("•", "cyan")}
_COLOR = {Status.VERIFIED: "#15803d", Status.MISMATCHED: "#b91c1c",
          Status.UNAVAILABLE: "#a16207", Status.RECORDED: "#0e7490"}


def _label(link: Link) -> Text:
    from rich.markup import escape
    from rich.text import Text

    mark, style = _STYLE[link.status]
    text = (f"[{style}]{mark} {link.status.value}[/] [bold]{escape(link.kind)}[/] "
            f"{escape(link.name)} — {escape(link.detail)}")
    if link.status is Status.MISMATCHED and link.expected and link.actual:
        text += f"\n[red]expected {escape(link.expected)}\nactual   {escape(link.actual)}[/]"
    return Text.from_markup(text)


def tree(lineage: Lineage) -> Tree:
    from rich.tree import Tree

    def add(node: Tree, link: Link) -> None:
        branch = node.add(_label(link))
        for child in link.children:
            add(branch, child)

    root = Tree(_label(lineage.root))
    for child in lineage.root.children:
        add(root, child)
    return root


def to_json(lineage: Lineage, findings: Sequence[Finding]) -> str:
    data: dict[str, Any] = {"$schema": LINEAGE_SCHEMA_URI, **lineage.to_dict(),
                            "findings": [f.to_dict() for f in findings]}
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


def to_html(lineage: Lineage, findings: Sequence[Finding]) -> str:
    e = html.escape

    def node(link: Link) -> str:
        color = _COLOR[link.status]
        extra = ""
        if link.expected or link.actual:
            extra = (f'<div class="d">expected <code>{e(link.expected or "-")}</code><br>'
                     f'actual <code>{e(link.actual or "-")}</code></div>')
        kids = "".join(node(c) for c in link.children)
        return (f'<li><span class="s" style="background:{color}">{e(link.status.value)}</span> '
                f"<b>{e(link.kind)}</b> {e(link.name)} — {e(link.detail)}{extra}"
                + (f"<ul>{kids}</ul>" if kids else "") + "</li>")

    rows = "".join(
        f"<tr><td>{e(f.severity.value)}</td><td>{e(f.rule_id)}</td><td>{e(f.title)}</td>"
        f"<td>{e(f.message)}</td></tr>" for f in findings) or \
        '<tr><td colspan="4">no findings</td></tr>'
    verdict = "OK: every link verified" if lineage.ok else "NOT OK"
    # JSON inside <script> is raw text: escape '<', '>' and '&' as JSON escapes, not entities.
    embedded = (to_json(lineage, findings).replace("<", "\\u003c").replace(">", "\\u003e")
                .replace("&", "\\u0026"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mlwarden lineage of {e(lineage.model)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}} ul{{list-style:none}}
li{{margin:.35em 0}} .s{{color:#fff;border-radius:3px;padding:0 .4em;font-size:.85em}}
.d{{font-size:.85em;color:#444;margin-left:1.5em}} code{{font-size:.9em}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
</style></head><body>
<h1>Lineage of {e(lineage.model)}</h1>
<p>Model digest <code>{e(lineage.digest)}</code> — <b>{e(verdict)}</b></p>
<ul>{node(lineage.root)}</ul>
<h2>Findings</h2>
<table><tr><th>Severity</th><th>Rule</th><th>Title</th><th>Message</th></tr>{rows}</table>
<script type="application/json" id="lineage">{embedded}</script>
</body></html>
"""

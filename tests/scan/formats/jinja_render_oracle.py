"""Oracle for the chat-template analysis: render templates with jinja2's own
``ImmutableSandboxedEnvironment`` and record every attribute or item name the render reaches.

Run as a child process (``python -I jinja_render_oracle.py``, standard library + jinja2 only) under
CPU-time and memory limits: JSON ``{"templates": [...], "contexts": [...]}`` on stdin, JSON on
stdout: for each template the sorted names it reached (``getattr``/``getitem`` with a string, the
sandbox's ``is_safe_attribute`` and ``unsafe_undefined``, ``|attr``, ``map(attribute=)``,
``str.format`` fields) over every context. The sandbox refuses the unsafe names, so nothing is
run; the point is *which* names a template reaches with the data it is given.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def render_all(templates: list[str], contexts: list[dict[str, Any]]) -> list[list[str]]:
    from jinja2 import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    reached: set[str] = set()

    class Recording(ImmutableSandboxedEnvironment):
        def getattr(self, obj: Any, attribute: str) -> Any:
            reached.add(str(attribute))
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            if isinstance(argument, str):
                reached.add(argument)
            return super().getitem(obj, argument)

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            reached.add(str(attr))
            return super().is_safe_attribute(obj, attr, value)

        def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
            reached.add(str(attribute))
            return super().unsafe_undefined(obj, attribute)

    env = Recording(extensions=["jinja2.ext.loopcontrols"])
    out: list[list[str]] = []
    for source in templates:
        reached.clear()
        try:
            template = env.from_string(source)
        except (TemplateError, RecursionError):
            out.append([])
            continue
        for context in contexts:
            try:
                template.render(**context)
            except Exception:  # noqa: BLE001 - a failed render still reached what it reached
                continue
        out.append(sorted(reached))
    return out


def main() -> None:
    request = json.load(sys.stdin)
    json.dump(render_all(request["templates"], request["contexts"]), sys.stdout)


if __name__ == "__main__":
    main()

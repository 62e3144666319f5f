"""Run :mod:`jinja_render_oracle` in a child process with time and memory limits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ORACLE = Path(__file__).with_name("jinja_render_oracle.py")
CPU_SECONDS = 60
MEMORY = 2 * 1024**3

ADVERSARIAL_CONTEXTS: list[dict[str, Any]] = [
    {"bos_token": value, "eos_token": value, "unk_token": value, "pad_token": value,
     "messages": [{"role": value, "content": value}, {"role": "user", "content": value}],
     "add_generation_prompt": True, "tools": [{"name": value}]}
    for value in ("__class__", " __class__ ", "a|__class__|b", "__ssalc__", "_class_",
                  "x__class__", "__CLASS__", "__class__,__init__", "__cl:ass__", "_")
]
"""Data chosen so that keys built from it by splits, slices, case changes, reversal, repetition
or concatenation come out as dunder names."""


def _limits() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def reached_names(templates: list[str], contexts: list[dict[str, Any]] | None = None,
                  batch: int = 1000) -> list[list[str]]:
    """For each template, the attribute/item names its sandboxed renders reach (one child
    process per ``batch`` templates, each under the CPU and memory limits)."""
    result: list[list[str]] = []
    for start in range(0, len(templates), batch):
        request = json.dumps({"templates": templates[start:start + batch],
                              "contexts": contexts or ADVERSARIAL_CONTEXTS})
        done = subprocess.run([sys.executable, "-I", str(ORACLE)], input=request, text=True,
                              capture_output=True, timeout=CPU_SECONDS * 2, check=True,
                              preexec_fn=_limits)
        result.extend(json.loads(done.stdout))
    return result

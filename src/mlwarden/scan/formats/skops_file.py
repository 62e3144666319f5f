"""skops files (``skops.io.dump``): a zip holding ``schema.json``, a tree of nodes that name the
module and class (or function) each object is rebuilt from, plus ``.npy`` members.

``skops.io.load`` refuses types it does not trust unless the caller trusts them, and the usual
way to load a downloaded model — ``load(f, trusted=get_untrusted_types(file=f))`` — trusts
whatever the file names. Its nodes then import and call those names: ``ReduceNode`` calls a
constructor with arguments, ``FunctionNode``/``PartialNode``/``MethodNode`` hand callables to
the model. Every ``__module__``/``__class__`` pair of the tree is judged like a pickle's import
(``mlwarden.scan.pickle.names.judge``); a denylisted one is ``MW-SKOPS-001``. Members (the
arrays) go through the zip scanner.
"""

from __future__ import annotations

import json
import zipfile
from typing import ClassVar

from mlwarden.scan import format_rules as R
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

SCHEMA = "schema.json"
MAX_SCHEMA = 64 * 1024 * 1024
MAX_NODES = 2_000_000
MAX_REPORTED = 20


def _schema(data: bytes | memoryview) -> object | None:
    """The parsed ``schema.json`` of a skops file (as skops reads it, through zipfile)."""
    from mlwarden.scan.formats.keras import open_zip

    try:
        with open_zip(data) as zf:
            info = zf.getinfo(SCHEMA)
            if info.file_size > MAX_SCHEMA or info.flag_bits & 0x1:
                return None
            with zf.open(info) as fh:
                raw = fh.read(MAX_SCHEMA + 1)
        root = json.loads(raw)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError,
            NotImplementedError, RecursionError):
        return None
    if isinstance(root, dict) and "__loader__" in root and "protocol" in root:
        return root
    return None


def referenced_names(root: object) -> list[tuple[str, str, str]]:
    """``(module, name, loader)`` of every node of the tree that names a type or function."""
    out: list[tuple[str, str, str]] = []
    stack = [root]
    nodes = 0
    while stack:
        value = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ValueError(f"schema has more than {MAX_NODES} JSON values")
        if isinstance(value, dict):
            module, name = value.get("__module__"), value.get("__class__")
            if isinstance(module, str) and isinstance(name, str):
                out.append((module, name, str(value.get("__loader__"))))
            func = value.get("func") if value.get("__loader__") == "MethodNode" else None
            if isinstance(func, str):
                out.append(("<method>", func, "MethodNode"))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return out


class SkopsScanner(FormatScanner):
    """skops.io files."""

    name: ClassVar[str] = "skops"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 790

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return _schema(target.data) is not None

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        from mlwarden.scan.pickle.names import DANGEROUS, judge

        root = _schema(target.data)
        try:
            names = referenced_names(root)
        except ValueError as exc:
            ctx.add(R.SKOPS_DANGEROUS_TYPE.finding(f"{SCHEMA}: {exc}; not analysed",
                                                   target.location()))
            names = []
        reported: set[tuple[str, str]] = set()
        for module, name, loader in names:
            if module == "<method>":
                verdict_bad = name.startswith("__") and name.endswith("__")
                why = "a dunder method (introspection gadget)"
            else:
                verdict = judge(module, name)
                verdict_bad, why = verdict.verdict == DANGEROUS, verdict.reason
            if not verdict_bad or (module, name) in reported:
                continue
            reported.add((module, name))
            if len(reported) > MAX_REPORTED:
                break
            what = name if module == "<method>" else f"{module}.{name}"
            ctx.add(R.SKOPS_DANGEROUS_TYPE.finding(
                f"{SCHEMA} names {what} ({loader}): {why}; skops.io.load runs it once the type "
                "is trusted (trusted=get_untrusted_types(...) trusts it)", target.location(),
                evidence={"name": what, "loader": loader}))
        import mlwarden.scan.formats.archive  # noqa: F401 - registers the zip scanner
        from mlwarden.scan.formats.pickled import note_ran

        zip_scanner = FormatScanner.registry.get("zip")
        if zip_scanner is not None:
            note_ran(ctx, zip_scanner.name, zip_scanner.version)
            zip_scanner().scan(target, ctx)

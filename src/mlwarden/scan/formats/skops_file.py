"""skops files (``skops.io.dump``): a zip holding ``schema.json``, a tree of nodes that name the
module and class (or function) each object is rebuilt from, plus ``.npy`` members.

``skops.io.load`` refuses types it does not trust unless the caller trusts them, and the usual
way to load a downloaded model — ``load(f, trusted=get_untrusted_types(file=f))`` — trusts
whatever the file names. Each node's ``__module__.__class__`` is judged by what the loader does
with it (``skops_nodes``: called with the file's arguments, instantiated by ``cls.__new__`` and
given the file's state through ``__setstate__``, handed to the model as a callable, or never
imported) and by the pickle allowlist/denylist (``mlwarden.scan.pickle.names``):

- a denylisted name anywhere is ``MW-SKOPS-001`` (critical where it is called or instantiated);
- a name off the allowlist that the loader imports and runs is ``MW-SKOPS-002`` (high; the
  policy's ``allow_globals`` clears it), the counterpart of a pickle's ``MW-PKL-003`` — an
  ``ObjectNode`` included, since skops runs the class's ``__setstate__``;
- an allowlisted name that is safe only to rebuild (``names.VALUE_ONLY``: ``xgboost.core.Booster``)
  or that opens files when called (``names.CALL_DANGEROUS``: ``numpy.memmap``), called by a
  ``ConstructorFromReduceNode``/``LossNode``/container node or handed over as a value, is
  ``MW-SKOPS-001``; so is state that a library ``__setstate__`` executes (scipy's
  ``rv_generic`` and ``_parse_arg_template``: critical) and a loader skops 0.16 does not have.

``tests/scan/formats/test_skops_differential.py`` checks this model against skops' own loader.
Members (the arrays) go through the zip scanner.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, NamedTuple

from mlwarden.core.rules import Rule
from mlwarden.core.severity import Severity
from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.skops_nodes import (
    BIT_GENERATORS,
    SETSTATE_EXEC_KEYS,
    NodeUse,
    bit_generator,
    node_uses,
)
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

SCHEMA = "schema.json"
MAX_SCHEMA = 64 * 1024 * 1024
MAX_NODES = 2_000_000
MAX_REPORTED = 20


class Oversized(NamedTuple):
    """A ``schema.json`` too large to analyse: skops reads it whatever its size."""

    size: int


def _schema(data: bytes | memoryview) -> object | None:
    """The parsed ``schema.json`` of a skops file (as skops reads it, through zipfile), or
    ``Oversized`` when it is larger than ``MAX_SCHEMA`` (claimed and reported, never passed)."""
    from mlwarden.scan.formats.keras import open_zip

    try:
        with open_zip(data) as zf:
            info = zf.getinfo(SCHEMA)
            if info.flag_bits & 0x1:
                return None  # encrypted: zipfile (and so skops) cannot read it
            if info.file_size > MAX_SCHEMA:
                return Oversized(info.file_size)
            with zf.open(info) as fh:
                raw = fh.read(MAX_SCHEMA + 1)
        if len(raw) > MAX_SCHEMA:
            return Oversized(len(raw))
        root = json.loads(raw)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError,
            NotImplementedError, RecursionError):
        return None
    if isinstance(root, dict) and "__loader__" in root and "protocol" in root:
        return root
    return None


def schema_nodes(root: object) -> list[dict[str, object]]:
    """Every node of the tree (a JSON object with a ``__loader__``), wherever it sits: a superset
    of the children skops' node classes follow."""
    out: list[dict[str, object]] = []
    stack = [root]
    values = 0
    while stack:
        value = stack.pop()
        values += 1
        if values > MAX_NODES:
            raise ValueError(f"schema has more than {MAX_NODES} JSON values")
        if isinstance(value, dict):
            if "__loader__" in value:
                out.append(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return out


def referenced_names(root: object) -> list[tuple[str, str, str]]:
    """``(module, name, loader)`` of every node of the tree that names a type or function (and
    ``("<method>", attribute, "MethodNode")`` for the attribute a ``MethodNode`` fetches)."""
    out: list[tuple[str, str, str]] = []
    for node in schema_nodes(root):
        for use in node_uses(node):
            out.append((use.module, use.name, use.loader))
            if use.method is not None:
                out.append(("<method>", use.method, "MethodNode"))
    return out


@dataclass(frozen=True)
class Problem:
    """One name the loader would use in a way the scanner does not clear."""

    rule: Rule
    what: str
    loader: str
    why: str
    severity: Severity | None = None


def judge_node(node: dict[str, object], allow_globals: tuple[str, ...] = ()) -> list[Problem]:
    """The problems of one schema node, judged by how ``skops.io.load`` uses its name
    (``skops_nodes``) and by the pickle allowlist/denylist (``mlwarden.scan.pickle.names``)."""
    out: list[Problem] = []
    for use in node_uses(node):
        out.extend(_judge_use(use, allow_globals))
        if use.loader == "RandomGeneratorNode":
            generator = bit_generator(node)
            if generator not in BIT_GENERATORS:
                out.append(Problem(R.SKOPS_UNVETTED_TYPE, f"numpy.random.{generator}",
                                   use.loader, "not a numpy bit generator skops knows; imported "
                                   "from numpy.random and called"))
    return out


@lru_cache(maxsize=4096)
def _judge_use(use: NodeUse, allow_globals: tuple[str, ...]) -> tuple[Problem, ...]:
    """The problems of one use of a name (a pure function of it: cached)."""
    from mlwarden.scan.pickle import names

    out: list[Problem] = []
    qual = f"{use.module}.{use.name}"
    verdict = names.judge(use.module, use.name)
    if use.use == "unmodelled":
        out.append(Problem(R.SKOPS_DANGEROUS_TYPE, qual, use.loader,
                           f"loader {use.loader!r} is not one skops 0.16 has; a skops version "
                           "that has it may import and call the name in a way not modelled here"))
    elif verdict.verdict == names.DANGEROUS:
        out.append(Problem(R.SKOPS_DANGEROUS_TYPE, qual, use.loader, verdict.reason,
                           Severity.CRITICAL if use.use in ("call", "new") else None))
    elif use.use != "none":
        safe = verdict.verdict == names.SAFE or _skops_safe(use.module, use.name, use.loader) \
            or names.allowed_by_policy(use.module, use.name, allow_globals)
        if not safe:
            how = {"call": "imported and called with the file's arguments",
                   "new": "imported, instantiated by cls.__new__ and given the file's state "
                          "through its __setstate__",
                   "value": "imported and handed to the model, which calls it with arguments "
                            "nobody judged"}[use.use]
            out.append(Problem(R.SKOPS_UNVETTED_TYPE, qual, use.loader,
                               f"{verdict.reason}; {how}"))
        elif use.use == "call" and qual in names.CALL_DANGEROUS:
            out.append(Problem(R.SKOPS_DANGEROUS_TYPE, qual, use.loader,
                               "opens or creates a file when called (here with the file's "
                               "arguments)"))
        elif use.use in ("call", "value") and qual in names.CALL_ONLY_HERE | names.CALL_DANGEROUS \
                and not names.allowed_by_policy(use.module, use.name, allow_globals):
            out.append(Problem(R.SKOPS_DANGEROUS_TYPE, qual, use.loader,
                               "allowlisted only to be rebuilt without a call; "
                               + ("called here with the file's arguments" if use.use == "call"
                                  else "handed over as a value, whoever holds it calls it with "
                                       "arguments nobody judged")))
    hooks = sorted(use.state_keys & SETSTATE_EXEC_KEYS)
    if hooks:
        out.append(Problem(R.SKOPS_DANGEROUS_TYPE, qual, use.loader,
                           f"its state sets {hooks[0]!r}, which scipy's rv_generic.__setstate__ "
                           "passes to exec() while loading", Severity.CRITICAL))
    if use.method is not None and names.judge("m", use.method).verdict == names.DANGEROUS:
        out.append(Problem(R.SKOPS_DANGEROUS_TYPE, f"{qual}.{use.method}", use.loader,
                           "a dunder method (introspection gadget)"))
    return tuple(out)


def _skops_safe(module: str, name: str, loader: str) -> bool:
    """Names skops trusts by default that the pickle allowlist does not hold: scipy.special's
    ufuncs handed over as functions (skops' ``SCIPY_UFUNC_TYPE_NAMES``; pure numeric)."""
    return loader == "FunctionNode" and (module == "scipy.special" or re.fullmatch(
        r"scipy\.special\._(special_)?ufuncs(_cxx)?", module) is not None) \
        and not name.startswith("_")


class SkopsScanner(FormatScanner):
    """skops.io files."""

    name: ClassVar[str] = "skops"
    version: ClassVar[str] = "2"
    priority: ClassVar[int] = 790

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return _schema(target.data) is not None

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        root = _schema(target.data)
        if isinstance(root, Oversized):
            ctx.add(R.SKOPS_DANGEROUS_TYPE.finding(
                f"{SCHEMA} holds {root.size} bytes, more than the {MAX_SCHEMA} analysed; "
                "skops.io.load reads it whole: not analysed", target.location(),
                evidence={"size": root.size, "limit": MAX_SCHEMA}))
            root = None
        try:
            nodes = schema_nodes(root)
        except ValueError as exc:
            ctx.add(R.SKOPS_DANGEROUS_TYPE.finding(f"{SCHEMA}: {exc}; not analysed",
                                                   target.location()))
            nodes = []
        problems = [p for node in nodes for p in judge_node(node, ctx.allow_globals)]
        problems.sort(key=lambda p: -(p.severity or p.rule.severity).rank)  # the worst use first
        reported: set[tuple[str, str, str]] = set()
        for problem in problems:
            key = (problem.rule.id, problem.what, problem.why)
            if key in reported:
                continue
            reported.add(key)
            if len(reported) > MAX_REPORTED:
                break
            ctx.add(problem.rule.finding(
                f"{SCHEMA} names {problem.what} ({problem.loader}): {problem.why}; "
                "skops.io.load runs it once the type is trusted "
                "(trusted=get_untrusted_types(...) trusts it)", target.location(),
                severity=problem.severity,
                evidence={"name": problem.what, "loader": problem.loader}))
        import mlwarden.scan.formats.archive  # noqa: F401 - registers the zip scanner
        from mlwarden.scan.formats.pickled import note_ran

        zip_scanner = FormatScanner.registry.get("zip")
        if zip_scanner is not None:
            note_ran(ctx, zip_scanner.name, zip_scanner.version)
            zip_scanner().scan(target, ctx)

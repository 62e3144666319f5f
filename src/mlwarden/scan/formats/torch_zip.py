"""PyTorch zip checkpoints (``torch.save`` since 1.6) and TorchScript archives (``torch.jit.save``).

The archive is read the way ``torch.load`` reads it (see :mod:`.zipreader`): every member the
central directory lists is considered, whatever the local headers say. Every pickle is analysed —
``data.pkl``, ``constants.pkl``, ``*.debug_pkl`` and any other member that is named like a pickle
or whose bytes look like one — while the tensor storages under ``data/`` are raw numbers that
torch never unpickles: they are not read at all, so a multi-GB checkpoint costs the size of its
pickles. TorchScript ``code/`` members are parsed (never run) and checked for operators that reach
files, native libraries or the OS.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import ClassVar

from mlwarden.core.severity import Severity
from mlwarden.scan import dangerous
from mlwarden.scan.container_rules import (
    TORCH_UNEXPECTED_MEMBER,
    TORCHSCRIPT_CODE,
    TORCHSCRIPT_PROGRAM,
)
from mlwarden.scan.formats import zipreader
from mlwarden.scan.formats.archive import open_zip, scan_zip_members
from mlwarden.scan.formats.pickled import (
    analyze_embedded,
    looks_pickled,
    note_ran,
    record_format,
)
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

_STORAGE = re.compile(r"^[^/]+/data/\d+$")
"""``<archive>/data/<key>``: raw tensor storage bytes (torch numbers the keys 0, 1, …). The
archive folder is the saved file's stem, so ``torch.save(x, "data.pt")`` writes ``data/data.pkl``
(a pickle) next to ``data/data/0``."""
_EXPECTED_PICKLES = re.compile(r"^(?:[^/]*/)?(?:data\.pkl|constants\.pkl)$|\.debug_pkl$",
                               re.IGNORECASE)
_TRACED_INPUTS = re.compile(r"^[^/]+/traced_inputs\.pkl$", re.IGNORECASE)
"""The example inputs torch.jit.trace stores beside a traced module (torch.jit.save writes it):
expected, so not reported as hidden, but analysed as an ordinary pickle."""
_MAIN_PICKLE = re.compile(r"^([^/]+)/(?:data|constants)\.pkl$", re.IGNORECASE)
"""torch finds records with miniz's case-insensitive lookup: ``A/DATA.PKL`` is ``a/data.pkl``."""
_CODE = re.compile(r"^(?:[^/]*/)?code/.+\.py$", re.IGNORECASE)
"""TorchScript sources; torch.jit.load finds them with miniz's case-insensitive lookup."""
_MAX_CODE = 16 * 1024 * 1024

STANDARD_OP_NAMESPACES = frozenset({
    "aten", "prim", "quantized", "_quantized", "prepacked", "quantized_decomposed", "_caffe2",
    "profiler", "torchvision", "image", "fbgemm", "mkldnn", "mkldnn_prepacked", "_c10d_functional",
    "c10d", "_dtensor", "rngprims", "higher_order", "inductor", "xnnpack", "sparse", "cuda",
})
"""Operator namespaces of PyTorch itself (and torchvision); others need a native library."""

DANGEROUS_CALLS = {
    "torch.from_file": "reads (and with shared=True maps writable) an arbitrary file",
    "torch.ops.aten.from_file": "reads (and with shared=True maps writable) an arbitrary file",
    "ops.aten.from_file": "reads (and with shared=True maps writable) an arbitrary file",
    "torch.save": "writes an arbitrary file",
    "torch.load": "loads (unpickles) another file",
    "torch.ops.aten.save": "writes an arbitrary file",
    "ops.aten.save": "writes an arbitrary file",
    "torch.ops.load_library": "loads a native library (runs its code)",
    "torch.classes.load_library": "loads a native library (runs its code)",
    "torch.jit.load": "loads another TorchScript archive",
    "torch.distributed.rpc.rpc_async": "calls a function on a remote worker (network)",
    "torch.distributed.rpc.rpc_sync": "calls a function on a remote worker (network)",
    "torch.distributed.rpc.remote": "runs a function on a remote worker (network)",
    "rpc.rpc_async": "calls a function on a remote worker (network)",
    "rpc.rpc_sync": "calls a function on a remote worker (network)",
}
PYTHON_ESCAPES = {"eval", "exec", "compile", "__import__", "open", "getattr", "setattr",
                  "globals", "locals", "vars", "breakpoint", "exit", "quit"}
"""Python builtins TorchScript cannot compile: their presence means the code is not genuine
TorchScript (or is meant for another loader)."""
BANNED_MODULES = dangerous.ROOT_MODULES
"""Modules TorchScript code has no business reaching (the one catalogue, :mod:`mlwarden.scan.dangerous`)."""


TORCHSCRIPT_UNPICKLER_NAMES = frozenset({
    "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist",
    "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
    "torch.jit._pickle.build_complexlist", "torch.jit._pickle.build_tensor_from_id",
    "torch.jit._pickle.restore_type_tag", "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor", "torch.device",
    "torch.tensor", "collections.OrderedDict", "builtins.set",
})
"""Globals that torch's C++ TorchScript unpickler resolves (besides ``__torch__`` classes, which
are compiled from the archive's own code/): it imports nothing else, so a TorchScript pickle can
only reach Python through these names and through code/."""
_IMPORT_RULES = frozenset({"MW-PKL-001", "MW-PKL-002", "MW-PKL-003"})


def is_torch_archive(directory: zipreader.ZipDirectory) -> bool:
    """``<folder>/data.pkl`` (or ``constants.pkl``) with ``<folder>/version`` beside it: the
    layout torch.save and torch.jit.save write (and PyTorchStreamReader expects)."""
    return is_torch_layout(e.name for e in directory.entries)


def is_torch_layout(member_names: Iterable[str]) -> bool:
    """:func:`is_torch_archive` on member names (case-insensitive, as miniz looks them up)."""
    names = {name.lower() for name in member_names}
    for name in names:
        match = _MAIN_PICKLE.match(name)
        if match and ({f"{match[1]}/version", f"{match[1]}/.data/version"} & names):
            return True
    return False


class TorchZipScanner(FormatScanner):
    """PyTorch zip checkpoints and TorchScript archives."""

    name: ClassVar[str] = "torch-zip"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 200

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        if not zipreader.looks_like_zip(head, target.data):
            return False
        try:
            directory = zipreader.read_directory_cached(target.data, max_members=100_000)
        except zipreader.ZipFormatError:
            return False
        return is_torch_archive(directory)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        directory = open_zip(target, ctx)
        if directory is None:
            return
        # torch.load hands archives holding constants.pkl to torch.jit.load (C++ unpickler).
        torchscript = any(e.name.lower().endswith("/constants.pkl") for e in directory.entries)
        record_format(ctx, target, "torchscript" if torchscript else "torch-zip")
        if torchscript:
            code = sum(1 for e in directory.entries if _CODE.match(e.name))
            ctx.add(TORCHSCRIPT_PROGRAM.finding(
                f"TorchScript archive with {code} code member(s): torch.load/torch.jit.load "
                "compile and run them (there is no weights-only mode for TorchScript)",
                target.location(), evidence={"code_members": code}))

        def wanted(entry: zipreader.ZipEntry) -> bool:
            return not _STORAGE.match(entry.name)

        def handle(entry: zipreader.ZipEntry, data: bytes | memoryview, complete: bool) -> None:
            child = target.child(entry.name, data)
            name = entry.name
            if name.lower().endswith((".pkl", ".debug_pkl")) or looks_pickled(bytes(data[:64])):
                record_format(ctx, child, "pickle")
                if not (_EXPECTED_PICKLES.search(name)
                        or (torchscript and _TRACED_INPUTS.match(name))):
                    ctx.add(TORCH_UNEXPECTED_MEMBER.finding(
                        f"pickle member {name!r} is not one torch.save/torch.jit.save writes; it "
                        "was analysed", child.location(), evidence={"member": name}))
                if torchscript and _EXPECTED_PICKLES.search(name):
                    analyze_torchscript_pickle(child, ctx)
                else:
                    analyze_embedded(child, ctx)
            elif _CODE.match(name):
                record_format(ctx, child, "torchscript-code")
                check_torchscript_code(child, ctx)
            else:
                ctx.scan_nested(child)

        scan_zip_members(target, ctx, directory, handle, wanted)


def analyze_torchscript_pickle(target: ScanTarget, ctx: ScanContext) -> None:
    """A pickle that torch.jit.load reads with its C++ unpickler.

    That unpickler resolves only ``__torch__`` classes (compiled from code/) and a few rebuild
    helpers. When every global of the pickle is one of those, the pickle VM's import findings
    about them (it judges names for Python's unpickler, where ``torch.jit`` is a gadget) do not
    apply and are dropped; any other global keeps every finding.
    """
    scratch = ScanContext(limits=ctx.limits, allow_globals=ctx.allow_globals,
                          dispatch=ctx.dispatch)
    results = analyze_embedded(target, scratch)
    note_ran(ctx, "pickle", _pickle_version())
    contained = all(g.verdict == "safe" or g.qualname in TORCHSCRIPT_UNPICKLER_NAMES
                    or g.qualname.startswith("__torch__.") for r in results for g in r.globals)
    for finding in scratch.findings:
        if not (contained and finding.rule_id in _IMPORT_RULES):
            ctx.add(finding)
    ctx.skipped.extend(scratch.skipped)
    ctx.formats.update(scratch.formats)


def _pickle_version() -> str:
    from mlwarden.scan.pickle import PickleScanner

    return PickleScanner.version


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


_ATTRIBUTE_BUILTINS = frozenset({"getattr", "hasattr"})
_PYTHON_ROOTS = frozenset({"__builtins__", "__import__", "globals", "locals", "vars"})
_TORCH_DUNDERS = frozenset({"__torch__", "__annotations__", "__parameters__", "__buffers__",
                            "__constants__", "__getstate__", "__setstate__"})
"""Dunder names genuine serialized TorchScript uses itself."""
_ATTRIBUTE_NAME = re.compile(r"^\w{1,200}$")


def _torchscript_attribute_access(call: ast.Call) -> str | None:
    """``base.name`` when ``call`` is ``getattr(base, "name"[, default])`` (or ``hasattr``) with a
    constant name on a plain variable/attribute chain: the form TorchScript itself emits for
    submodules whose names are not identifiers (``getattr(self, "0")``). None otherwise."""
    func = call.func
    if not isinstance(func, ast.Name) or func.id not in _ATTRIBUTE_BUILTINS or call.keywords:
        return None
    if not 2 <= len(call.args) <= (3 if func.id == "getattr" else 2):
        return None
    base = _dotted(call.args[0])
    name = call.args[1]
    if base is None or not (isinstance(name, ast.Constant) and isinstance(name.value, str)
                            and _ATTRIBUTE_NAME.match(name.value)):
        return None
    return f"{base}.{name.value}"


def check_torchscript_code(target: ScanTarget, ctx: ScanContext) -> None:
    """Parse a TorchScript ``code/*.py`` member (never run it) and report what reaches the OS."""
    raw = bytes(target.data[:_MAX_CODE])
    text = raw.decode("utf-8", "replace")
    try:
        tree = ast.parse(text, filename=target.member or target.path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        ctx.add(TORCHSCRIPT_CODE.finding(
            f"TorchScript code member cannot be parsed ({exc}); torch.jit.load would reject it "
            "unless another loader reads it", target.location(), severity=Severity.MEDIUM,
            evidence={"error": str(exc)[:300]}))
        return
    hits: dict[str, tuple[int, str, Severity]] = {}

    def hit(what: str, line: int, why: str, severity: Severity) -> None:
        hits.setdefault(what, (line, why, severity))

    def check_attribute(dotted: str, line: int, via_builtin: bool = False) -> None:
        for call, why in DANGEROUS_CALLS.items():
            if dotted == call or dotted.endswith("." + call):
                hit(call, line, why, Severity.HIGH)
        parts = dotted.split(".")
        if via_builtin and (parts[0] in BANNED_MODULES or parts[0] in _PYTHON_ROOTS):
            hit(f"getattr({dotted})", line, "reaches a Python module TorchScript cannot use",
                Severity.HIGH)
        if via_builtin and parts[-1].startswith("__") and parts[-1] not in _TORCH_DUNDERS:
            hit(f"getattr({dotted})", line, "reaches a Python dunder attribute (an escape from "
                "TorchScript)", Severity.HIGH)
        if "ops" in parts:
            i = parts.index("ops")
            if len(parts) > i + 1:
                ns = parts[i + 1]
                if ns not in STANDARD_OP_NAMESPACES and ns != "load_library":
                    hit(f"ops.{ns}", line, f"calls operators of the custom namespace {ns!r}, "
                        "which run native code from a separately loaded library",
                        Severity.MEDIUM)
        if len(parts) >= 2 and parts[-2] == "classes" and parts[0] in ("torch", "__torch__"):
            hit(dotted, line, "uses a custom TorchScript class (native code)", Severity.MEDIUM)

    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in BANNED_MODULES:
                    hit(f"import {alias.name}", line, "imports a Python module TorchScript cannot "
                        "use (the code is not genuine TorchScript)", Severity.HIGH)
        elif isinstance(node, ast.ImportFrom):
            root = (node.module or "").split(".")[0]
            if root in BANNED_MODULES:
                hit(f"from {node.module} import", line, "imports a Python module TorchScript "
                    "cannot use (the code is not genuine TorchScript)", Severity.HIGH)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in PYTHON_ESCAPES:
            attribute = _torchscript_attribute_access(node)
            if attribute is None:
                hit(f"{node.func.id}()", line, "calls a Python builtin TorchScript cannot "
                    "compile", Severity.HIGH)
            else:
                # getattr(self, "0") is how TorchScript spells a submodule access: judge the
                # attribute it reaches like the spelled-out ``self.<name>``.
                check_attribute(attribute, line, via_builtin=True)
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            hit(node.id, line, "reaches the Python builtins", Severity.HIGH)
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted is not None:
                check_attribute(dotted, line)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                re.search(r"\b(?:subprocess|os\.system|/bin/sh|bash -c)\b", node.value):
            hit(f"string {node.value[:40]!r}", line, "holds a shell command string",
                Severity.MEDIUM)
    for what, (line, why, severity) in sorted(hits.items(), key=lambda kv: kv[1][0]):
        ctx.add(TORCHSCRIPT_CODE.finding(
            f"TorchScript code uses {what}: {why}", target.location(line=line or None),
            severity=severity, evidence={"construct": what, "line": line}))

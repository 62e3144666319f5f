"""Entry points: analyse one pickle, a run of concatenated pickles, or sniff whether bytes are one."""

from __future__ import annotations

import re

from mlwarden.core.finding import JSONValue
from mlwarden.core.severity import Severity
from mlwarden.scan.interface import ScanContext, ScanLimits, ScanTarget
from mlwarden.scan.pickle import libraries, names, rules
from mlwarden.scan.pickle.result import PickleResult, ResolvedGlobal
from mlwarden.scan.pickle.state import Shared
from mlwarden.scan.pickle.values import Imp
from mlwarden.scan.pickle.vm import VM
from mlwarden.scan.sniff import PICKLE_FIRST_OPCODES

_SNIFF_LIMITS = ScanLimits(max_pickle_opcodes=4096, max_pickle_stack=4096, max_pickle_memo=4096)


def _view(data: bytes | memoryview) -> memoryview:
    view = data if isinstance(data, memoryview) else memoryview(data)
    if not view.contiguous:
        return memoryview(view.tobytes())  # a strided view: the only case that copies
    if view.ndim != 1 or view.itemsize != 1 or view.format != "B":
        view = view.cast("B")
    return view


MAX_IMPORT_FINDINGS = 200
"""Import findings listed one by one per pickle; the rest are summed up in one finding."""


def _rank(imp: Imp) -> int:
    return (2 if imp.verdict == names.DANGEROUS or imp.handled == "ext" else 0) + int(imp.called)


def _report_imports(shared: Shared) -> None:
    """One finding per non-safe import (dangerous-and-called is critical), in stream order."""
    if shared.walk_overflow:
        # values were no longer walked: a name safe only where the pickle calls it may have been
        # handed over as a value unseen (fail closed)
        for imp in shared.imports:
            if imp.verdict == names.SAFE and imp.qualname in names.CALL_ONLY_HERE:
                imp.verdict = names.UNKNOWN
                imp.reason = ("too many values to check whether this name, safe only where the "
                              "pickle calls it, was handed over as a value")
    pending = [i for i in shared.imports
               if i.verdict != names.SAFE and i.handled not in ("unresolved", "shadow")]
    if len(pending) > MAX_IMPORT_FINDINGS:
        pending.sort(key=lambda i: (-_rank(i), i.offset))
        rest = pending[MAX_IMPORT_FINDINGS:]
        pending = pending[:MAX_IMPORT_FINDINGS]
        first = min(rest, key=lambda i: i.offset)
        shared.ctx.add(rules.UNVETTED_IMPORT.finding(
            f"{len(rest)} more non-allowlisted imports are not listed one by one (the first at "
            f"offset {first.offset}: {first.qualname})", shared.target.location(first.offset),
            evidence={"callable": first.qualname, "opcode": first.opcode, "offset": first.offset,
                      "omitted": len(rest)}))
    for imp in sorted(pending, key=lambda i: (i.call_offset or i.offset, i.offset)):
        qual = imp.qualname
        at = imp.call_offset if imp.called and imp.call_offset is not None else imp.offset
        evidence: dict[str, JSONValue] = {
            "callable": qual, "opcode": imp.opcode, "offset": imp.offset, "reason": imp.reason,
            "called": imp.called,
        }
        if imp.called:
            evidence.update(called_by=imp.call_opcode, call_offset=imp.call_offset,
                            args=imp.call_args)
        if imp.derived_from:
            evidence["derived_from"] = imp.derived_from
        if imp.nested_depth:
            evidence["nested_depth"] = imp.nested_depth
        if imp.nested_offset is not None:
            evidence["nested_offset"] = imp.nested_offset
        location = shared.target.location(at)
        where = f"{imp.opcode} at offset {imp.offset}"
        if imp.handled == "ext":
            shared.ctx.add(rules.EXTENSION_OPCODE.finding(
                f"{where} imports extension-registry code {imp.name}"
                + (f", called by {imp.call_opcode} at offset {imp.call_offset}" if imp.called else ""),
                location, evidence=evidence,
                severity=Severity.CRITICAL if imp.called else Severity.HIGH))
        elif imp.verdict == names.DANGEROUS:
            if imp.handled in ("nested", "code"):
                continue  # reported by the nested-payload / code-object rule with more detail
            if imp.called:
                shared.ctx.add(rules.DANGEROUS_CALL.finding(
                    f"{qual} is called by {imp.call_opcode} at offset {imp.call_offset} "
                    f"({where}; {imp.reason})", location, evidence=evidence))
            else:
                shared.ctx.add(rules.DANGEROUS_IMPORT.finding(
                    f"{where} imports {qual} ({imp.reason})", location, evidence=evidence))
        elif only_instantiated(imp) and not shared.walk_overflow:
            evidence["instantiated_only"] = True
            shared.ctx.add(rules.UNVETTED_IMPORT.finding(
                f"{where} imports {qual}, which is not on the allowlist; it is only instantiated "
                f"without calling it ({imp.call_opcode} at offset {imp.call_offset}, then its "
                "attributes set by BUILD), as pickle saves any class instance. Its __setstate__ "
                "may still run code: allowlist it if you trust it", location, evidence=evidence,
                severity=Severity.MEDIUM))
        elif rebuilt_only(imp) and not shared.walk_overflow:
            evidence["instantiated_only"] = True
            evidence["library"] = libraries.top_level(imp.module)
            shared.ctx.add(rules.UNVETTED_IMPORT.finding(
                f"{where} imports {qual}, which is not on the allowlist; it is only instantiated "
                f"without calling it ({imp.call_opcode} at offset {imp.call_offset}), but it is a "
                f"class of {_owner(imp.module)}, not a user's class: its __setstate__, __del__, "
                "__getattr__ or attribute setters run that library's code on the pickle's state",
                location, evidence=evidence))
        else:
            shared.ctx.add(rules.UNVETTED_IMPORT.finding(
                f"{where} imports {qual}, which is not on the allowlist"
                + (f"; it is called by {imp.call_opcode} at offset {imp.call_offset}"
                   if imp.called else ""), location, evidence=evidence))


def _owner(module: str) -> str:
    top = libraries.top_level(module)
    return "the standard library" if names.in_stdlib(module) else f"the library {top!r}"


def rebuilt_only(imp: Imp) -> bool:
    """Whether an unvetted import is a class that is only rebuilt the way ``object.__reduce_ex__``
    saves an instance: ``cls.__new__(cls)`` with no arguments (``NEWOBJ``/``NEWOBJ_EX`` with an empty
    tuple, ``copyreg.__newobj__(cls)``, ``copyreg._reconstructor(cls, object, None)``), then at most
    a BUILD with a plain attribute/slot state — never called with arguments, never handed around as
    a value (where whoever holds it may call it), never mutated. No constructor runs then; only the
    class's own hooks (``__setstate__``, ``__del__``, ``__getattr__``, slot setters) see the judged
    state."""
    return (imp.verdict == names.UNKNOWN and imp.handled is None and imp.called
            and not (imp.invoked or imp.escaped or imp.odd_state)
            and imp.derived_from is None and imp.module != "<computed>"
            and names.looks_like_class(imp.name))


def only_instantiated(imp: Imp) -> bool:
    """Whether an unvetted import is medium: a *user* class (see
    :func:`mlwarden.scan.pickle.libraries.is_user_module`) or a class of a vetted model namespace,
    only rebuilt without a call (:func:`rebuilt_only`). Its hooks are the user's own code, which the
    analyser cannot see; a standard-library or third-party library class stays high, because an
    attacker can pick it for what its hooks do with the state."""
    return rebuilt_only(imp) and libraries.may_rebuild_as_medium(imp.module)


def _resolved(imports: list[Imp]) -> tuple[ResolvedGlobal, ...]:
    return tuple(ResolvedGlobal(module=i.module, name=i.name, offset=i.offset, verdict=i.verdict,
                                called=i.called) for i in imports)


def analyze_pickle(target: ScanTarget, ctx: ScanContext, *, start: int = 0) -> PickleResult:
    """Analyse one pickle starting at byte ``start`` of ``target.data``; findings go to ``ctx``.

    Returns where the stream ended (just after STOP, or where analysis stopped), so a caller can go
    on with the next pickle. Never raises on hostile input.
    """
    view = _view(target.data)
    shared = Shared(target=target, ctx=ctx)
    vm = VM(shared, view, start, len(view), base=0, anchor=start)
    vm.run()
    _report_imports(shared)
    return PickleResult(start=start, end=vm.pos, complete=vm.complete, protocol=vm.proto,
                        globals=_resolved(shared.imports))


def analyze_pickles(target: ScanTarget, ctx: ScanContext, *, start: int = 0) -> list[PickleResult]:
    """Analyse pickles concatenated from ``start`` to the end of the data.

    Each stream may use its own protocol. Bytes after a complete pickle that do not look like
    another pickle are reported as trailing data (low); a broken stream is reported by the VM.
    """
    view = _view(target.data)
    results: list[PickleResult] = []
    pos = start
    while pos < len(view):
        if results and not looks_like_pickle(bytes(view[pos:pos + 256]), final=pos + 256 >= len(view)):
            ctx.add(rules.TRAILING_DATA.finding(
                f"{len(view) - pos} bytes after the last pickle (offset {pos}) are not a pickle",
                target.location(pos), evidence={"offset": pos, "size": len(view) - pos}))
            break
        result = analyze_pickle(target, ctx, start=pos)
        results.append(result)
        if not result.complete or result.end <= pos:
            break
        pos = result.end
    if not results:
        analyze_pickle_empty(target, ctx, start)
    return results


def analyze_pickle_empty(target: ScanTarget, ctx: ScanContext, start: int) -> None:
    ctx.add(rules.MALFORMED.finding(f"no pickle data at offset {start} (empty stream)",
                                    target.location(start),
                                    evidence={"offset": start, "problem": "empty stream"}))


def looks_like_pickle(head: bytes, *, final: bool = False, size: int | None = None) -> bool:
    """Whether ``head`` (the first bytes of a file) plausibly starts a pickle of protocol 0-5.

    A PROTO opcode with a known protocol is enough. Without one (protocols 0 and 1) the head is run
    through the VM silently: it must consist of valid opcodes that keep the stack consistent, and
    either reach STOP or run on to the end of ``head`` after several opcodes. ``final`` says that
    ``head`` is the whole data, so running out of bytes is not a pass; ``size`` (the whole data's
    length, when known) lets a long protocol-1 string that runs past ``head`` count.
    """
    if len(head) >= 2 and head[0] == 0x80 and head[1] <= 5:
        return True
    if not head or head[0] not in PICKLE_FIRST_OPCODES:
        return False  # any opcode may open a stream: the unpickler does not require PROTO
    target = ScanTarget(path="<sniff>", data=head)
    shared = Shared(target=target, ctx=ScanContext(limits=_SNIFF_LIMITS), emit_findings=False)
    vm = VM(shared, memoryview(head), 0, len(head))
    vm.run()
    invalid = [i.offset for i in shared.imports if i.reason.startswith("not a valid")]
    first_invalid = min(invalid, default=len(head))
    if any(i.called and (i.call_offset if i.call_offset is not None else i.offset) < first_invalid
           for i in shared.imports):
        # the unpickler has called something before any break or unimportable name: whatever
        # follows (garbage, a failing import), what ran is a pickle's doing
        return True
    if invalid:
        return False  # text that happens to start like GLOBAL/INST
    if vm.complete:
        return vm.pos == len(head) or vm.nops >= 3  # "N.B. ..." is text, "N." alone a pickle
    if vm.failure == "limit":
        return True
    if vm.failure != "truncated" or final:
        return False
    return vm.nops >= 3 or _partial_argument_fits(head, vm.pos, size)


_NUMBER = re.compile(rb"[-+0-9.eExXa-fA-FL_ ]*")
_DOTTED = re.compile(rb"[A-Za-z_][A-Za-z0-9_.]*")


def _partial_argument_fits(head: bytes, at: int, size: int | None) -> bool:
    """Whether the argument cut off by the end of ``head`` has the syntax its opcode needs (a long
    protocol-0/1 string or number runs past any fixed-size head)."""
    if at >= len(head):
        return False
    op, rest = chr(head[at]), head[at + 1:]
    if op == "S":
        return rest[:1] in (b"'", b'"')
    if op == "V":
        return len(head) >= 1024  # a raw-unicode line longer than 1 KiB: no text file's first line
    if op in "XTB" and size is not None and len(rest) >= 4:
        n = int.from_bytes(rest[:4], "little", signed=op == "T")
        if n < 0 or at + 5 + n > size:
            return False
        if op == "X":
            try:
                rest[4:].decode("utf-8")
            except UnicodeDecodeError as exc:
                return exc.start >= len(rest) - 4 - 3  # only the last character was cut
        return True
    if op in "IFLgpj":
        return bool(rest) and _NUMBER.fullmatch(rest) is not None
    if op in "ci":
        return _DOTTED.fullmatch(rest) is not None
    return False

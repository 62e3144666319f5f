"""ONNX models (``ModelProto``), parsed with the bounded wire reader, never with ``onnx.load``.

Recognised structurally: the first field is ``ir_version`` (field 1, varint) and every top-level
field has a ModelProto field number with the right wire type, including the graph (field 7).
The whole model is walked: the main graph, subgraphs in node attributes (If/Loop/Scan bodies),
training-info graphs and model-local functions. Reported: external-data locations that leave the
model directory (absolute paths, ``..``, drive letters, URLs, NUL, symlinks out of the directory
when the file is on disk) and operator domains that need a custom-operator library.

Field numbers are those of ``onnx/onnx.proto`` (IR version 11).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PureWindowsPath
from typing import ClassVar

from mlwarden.core.severity import Severity
from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.embedded import MIN_RAW, FieldScanner
from mlwarden.scan.formats.protobuf_wire import (
    LEN,
    VARINT,
    Buffer,
    Field,
    FieldBudget,
    WireError,
    iter_fields,
    text,
)
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import could_be_onnx

# ModelProto field number → wire type.
_MODEL_FIELDS = {1: VARINT, 2: LEN, 3: LEN, 4: LEN, 5: VARINT, 6: LEN, 7: LEN, 8: LEN, 14: LEN,
                 20: LEN, 25: LEN, 26: LEN}
STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training",
                              "ai.onnx.training", "ai.onnx.preview", "com.microsoft"})
"""Operator domains of the ONNX standard and of ONNX Runtime's built-in contrib operators."""
MAX_DEPTH = 64
"""Nested graphs (If inside Loop inside ...) followed before the walk stops."""
MAX_FINDINGS_PER_RULE = 50
MAX_FIELDS = 20_000_000
"""Protobuf fields read from one model before it is reported as malformed (bounded time)."""
MAX_STRING_DATA = 10_000
"""Elements of one string tensor checked for embedded payloads."""
DETECT_FIELDS = 4096
"""Top-level fields looked at to recognise a model."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _standard_domain(domain: str) -> bool:
    return domain in STANDARD_DOMAINS or domain.startswith("com.microsoft.")


def location_problem(location: str) -> str | None:
    """Why an external-data location is not a plain relative path inside the model directory."""
    if not location:
        return "is empty"
    if "\x00" in location:
        return "contains a NUL byte"
    if location.startswith(("/", "\\")):
        return "is an absolute path"
    if PureWindowsPath(location).drive or re.match(r"^[A-Za-z]:", location):
        return "names a drive"
    if _URL.match(location):
        return "is a URL"
    if location.startswith("~"):
        return "starts at a home directory"
    parts = re.split(r"[\\/]+", location)
    if ".." in parts:
        return "climbs out of the model directory"
    return None


@dataclass
class _Walk:
    buf: Buffer
    target: ScanTarget
    ctx: ScanContext
    local_functions: set[tuple[str, str]] = field(default_factory=set)
    local_domains: set[str] = field(default_factory=set)
    domains: dict[str, dict[str, int]] = field(default_factory=dict)
    """custom domain → op type → count (or '<opset_import>')."""
    domain_offsets: dict[str, int] = field(default_factory=dict)
    external: int = 0
    budget: FieldBudget = field(default_factory=lambda: FieldBudget(MAX_FIELDS))
    values: FieldScanner | None = None
    """Where string fields (metadata_props, string attributes) go to be checked for payloads."""

    def value(self, where: str, f: Field) -> None:
        if self.values is not None and f.end - f.start >= MIN_RAW:
            self.values.value(where, bytes(self.buf[f.start:f.end]))

    def props(self, f: Field, where: str) -> None:
        """A ``StringStringEntryProto`` (``metadata_props``): its value is checked."""
        key, value = "", None
        for g in self.fields(f.start, f.end):
            if g.number == 1 and g.wire == LEN:
                key = text(self.buf, g, 256)
            elif g.number == 2 and g.wire == LEN:
                value = g
        if value is not None:
            self.value(f"{where}metadata_props[{key!r}]", value)

    def fields(self, start: int, end: int) -> Iterator[Field]:
        return iter_fields(self.buf, start, end, self.budget)

    def note_domain(self, domain: str, op: str, offset: int) -> None:
        if _standard_domain(domain):
            return
        ops = self.domains.setdefault(domain, {})
        ops[op] = ops.get(op, 0) + 1
        self.domain_offsets.setdefault(domain, offset)

    def graph(self, start: int, end: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise WireError(f"graphs nested deeper than {MAX_DEPTH}", start)
        for f in self.fields(start, end):
            if f.wire != LEN:
                continue
            if f.number == 1:
                self.node(f.start, f.end, depth)
            elif f.number == 5:
                self.tensor(f.start, f.end)
            elif f.number == 15:
                self.sparse(f.start, f.end)
            elif f.number == 16:
                self.props(f, "graph.")

    def sparse(self, start: int, end: int) -> None:
        for f in self.fields(start, end):
            if f.number in (1, 2) and f.wire == LEN:
                self.tensor(f.start, f.end)

    def node(self, start: int, end: int, depth: int) -> None:
        op, domain, offset, name = "", "", start, ""
        for f in self.fields(start, end):
            if f.number == 4 and f.wire == LEN:
                op = text(self.buf, f, 4096)
            elif f.number == 3 and f.wire == LEN:
                name = text(self.buf, f, 256)
            elif f.number == 7 and f.wire == LEN:
                domain, offset = text(self.buf, f, 4096), f.tag_offset
            elif f.number == 5 and f.wire == LEN:
                self.attribute(f.start, f.end, depth, name)
            elif f.number == 9 and f.wire == LEN:
                self.props(f, f"node[{name!r}].")
        if (domain, op) not in self.local_functions:
            self.note_domain(domain, op, offset)

    def attribute(self, start: int, end: int, depth: int, node: str = "") -> None:
        attr = ""
        strings: list[Field] = []
        for f in self.fields(start, end):
            if f.wire != LEN:
                continue
            if f.number == 1:
                attr = text(self.buf, f, 256)
            elif f.number in (4, 9):  # s, strings: bytes a custom operator may deserialise
                strings.append(f)
            elif f.number in (5, 10):  # t, tensors
                self.tensor(f.start, f.end)
            elif f.number in (6, 11):  # g, graphs
                self.graph(f.start, f.end, depth + 1)
            elif f.number in (22, 23):  # sparse_tensor, sparse_tensors
                self.sparse(f.start, f.end)
        for index, f in enumerate(strings):
            self.value(f"node[{node!r}].{attr}" + (f"[{index}]" if len(strings) > 1 else ""), f)

    def tensor(self, start: int, end: int) -> None:
        name = ""
        strings: list[Field] = []
        for f in self.fields(start, end):
            if f.number == 6 and f.wire == LEN:  # string_data
                strings.append(f)
            elif f.number == 8 and f.wire == LEN:
                name = text(self.buf, f, 4096)
            elif f.number == 13 and f.wire == LEN:
                key, value, value_field = "", "", f
                for g in self.fields(f.start, f.end):
                    if g.number == 1 and g.wire == LEN:
                        key = text(self.buf, g, 4096)
                    elif g.number == 2 and g.wire == LEN:
                        value, value_field = text(self.buf, g, 65536), g
                if key == "location":
                    self.external += 1
                    self.check_location(name, value, value_field)
        for index, f in enumerate(strings[:MAX_STRING_DATA]):
            self.value(f"tensor[{name!r}].string_data[{index}]", f)
        if len(strings) > MAX_STRING_DATA and self.values is not None:
            self.values.over.append(f"tensor {name!r} has {len(strings)} strings; the first "
                                    f"{MAX_STRING_DATA} were checked")

    def check_location(self, tensor: str, location: str, where: Field) -> None:
        problem = location_problem(location)
        if problem is None and self.target.fs_path is not None and self.target.member is None:
            base = self.target.fs_path.resolve().parent
            candidate = base / location
            if os.path.lexists(candidate):
                resolved = candidate.resolve()
                if not resolved.is_relative_to(base):
                    problem = f"resolves through a symlink to {resolved}, outside the directory"
        if problem is None:
            return
        self.ctx.add(R.ONNX_EXTERNAL_PATH.finding(
            f"tensor {tensor!r} external data location {location!r} {problem}",
            self.target.location(where.tag_offset),
            evidence={"tensor": tensor, "location": location, "problem": problem}))

    def function(self, start: int, end: int) -> None:
        for f in self.fields(start, end):
            if f.wire != LEN:
                continue
            if f.number == 7:
                self.node(f.start, f.end, 0)
            elif f.number == 9:
                self.opset(f)
            elif f.number == 11:
                self.attribute(f.start, f.end, 0)
            elif f.number == 14:
                self.props(f, "function.")

    def opset(self, f: Field) -> None:
        for g in self.fields(f.start, f.end):
            if g.number == 1 and g.wire == LEN:
                domain = text(self.buf, g, 4096)
                if domain not in self.local_domains:
                    self.note_domain(domain, "<opset_import>", f.tag_offset)


def _top_fields(buf: Buffer, budget: FieldBudget) -> list[Field]:
    fields: list[Field] = []
    for f in iter_fields(buf, budget=budget):
        if _MODEL_FIELDS.get(f.number) != f.wire:
            raise WireError(f"field {f.number} (wire type {f.wire}) is not a ModelProto field",
                            f.tag_offset)
        fields.append(f)
    return fields


class OnnxScanner(FormatScanner):
    """ONNX ``ModelProto`` files."""

    name: ClassVar[str] = "onnx"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 70

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        # Fields may come in any order (protobuf parsers, onnx.load, take them so): every
        # top-level field must be a ModelProto field of the right wire type, with the graph
        # among them; an ir_version, wherever it is, must be plausible.
        if not could_be_onnx(head):
            return False
        buf = target.data
        seen: list[Field] = []
        try:
            for f in iter_fields(buf):
                if len(seen) >= DETECT_FIELDS:
                    break
                if _MODEL_FIELDS.get(f.number) != f.wire:
                    return False
                if f.number == 1 and not 1 <= f.value <= 64:
                    return False
                seen.append(f)
        except WireError as exc:
            # A truncated model still counts when its start is unmistakably ONNX: a valid
            # ir_version followed by a cut-off graph (tag 0x3a), or by several model fields.
            graph_cut = exc.offset < len(buf) and buf[exc.offset] == 0x3A
            return bool(seen) and seen[0].number == 1 and (graph_cut or (
                len(seen) >= 2 and any(f.number in (3, 4, 5, 6, 8) for f in seen)))
        return any(f.number == 7 for f in seen)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        buf = target.data
        walk = _Walk(buf, target, ctx, values=FieldScanner(target, ctx))
        try:
            fields = _top_fields(buf, walk.budget)
            if not any(f.number == 7 for f in fields):
                raise WireError("the model has no graph", 0)
            for f in fields:  # model-local functions: their (domain, name) resolve inside the file
                if f.number == 25:
                    domain, name = "", ""
                    for g in walk.fields(f.start, f.end):
                        if g.number == 10 and g.wire == LEN:
                            domain = text(buf, g, 4096)
                        elif g.number == 1 and g.wire == LEN:
                            name = text(buf, g, 4096)
                    walk.local_functions.add((domain, name))
                    walk.local_domains.add(domain)
            for f in fields:
                if f.number == 8:
                    walk.opset(f)
                elif f.number == 7:
                    walk.graph(f.start, f.end, 0)
                elif f.number == 20:
                    for g in walk.fields(f.start, f.end):
                        if g.number in (1, 2) and g.wire == LEN:
                            walk.graph(g.start, g.end, 0)
                elif f.number == 25:
                    walk.function(f.start, f.end)
                elif f.number == 14:
                    walk.props(f, "")
        except WireError as exc:
            ctx.add(R.ONNX_MALFORMED.finding(f"ONNX protobuf is malformed: {exc}",
                                             target.location(exc.offset)))
        except RecursionError:
            ctx.add(R.ONNX_MALFORMED.finding("ONNX graphs are nested too deeply",
                                             target.location(), severity=Severity.HIGH))
        if walk.values is not None:
            walk.values.finish()
        for domain, ops in sorted(walk.domains.items())[:MAX_FINDINGS_PER_RULE]:
            op_names = sorted(op for op in ops if op != "<opset_import>")
            ctx.add(R.ONNX_CUSTOM_DOMAIN.finding(
                f"operator domain {domain!r} is not a standard ONNX domain"
                + (f" (ops: {', '.join(op_names[:10])})" if op_names else ""),
                target.location(walk.domain_offsets.get(domain)),
                evidence={"domain": domain, "ops": op_names[:50]}))


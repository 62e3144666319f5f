"""TensorFlow SavedModel (``saved_model.pb``) and Keras ``keras_metadata.pb``, without TensorFlow.

``saved_model.pb`` is a ``SavedModel`` protobuf: meta graphs → graph → nodes, plus the function
library's function bodies. Every NodeDef's op is checked against the ops that call Python
(PyFunc family) or touch arbitrary files (ReadFile, WriteFile, MatchingFiles, ImmutableConst,
PrintV2 to a file, debug ops with URLs, summary writers, DatasetToTFRecord). The Save/Restore ops
of the checkpoint machinery appear in every benign SavedModel (their prefix is fed by the
``saver_filename`` placeholder, or a relative ``Const`` the session overrides) and are reported only
when a constant path leads to them that is absolute, climbs out with ``..``, names a drive, a home
directory or a URL. Every other op of TensorFlow's registry that takes a path as an input
(``tf_path_ops.PATH_OPS``: table initialisers, file-reading and caching datasets, checkpoint
remapping, SQL and tf.data-service datasets) is judged the same way, and also when its path is not
a constant (fed by a placeholder or function argument, or computed: medium, except where the loader
itself feeds the model's own files). A path is followed back through Identity, StringJoin and
ShardedFilename nodes to its Const nodes in the same graph or function body.

``keras_metadata.pb`` (``SavedMetadata``) holds one JSON config per Keras object, and older TF2
Keras SavedModels keep the same JSON in the object graph's ``SavedUserObject.metadata``; both go
through the Keras config analysis (Lambda layers, foreign modules). Asset filenames that leave
the ``assets/`` directory are reported as file access.

Field numbers (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto, framework/graph.proto,
node_def.proto, function.proto, attr_value.proto, keras/protobuf/saved_metadata.proto):
SavedModel{1 schema_version, 2 meta_graphs}; MetaGraphDef{1 meta_info_def, 2 graph_def, 3 saver_def,
4 collection_def, 5 signature_def, 6 asset_file_def, 7 object_graph_def}; GraphDef{1 node,
2 library, 3 version, 4 versions, 5 debug_info}; NodeDef{1 name, 2 op, 3 input, 4 device, 5 attr,
6 experimental_debug_info, 7 experimental_type}; FunctionDefLibrary{1 function, 2 gradient,
3 registered_gradients}; FunctionDef{1 signature, 3 node_def, 4 ret, 5 attr, 6 control_ret,
7 arg_attr, 8 resource_arg_unique_id}; AttrValue{1 list, 2 s, ...}; ListValue{2 s};
SavedMetadata{1 nodes}; SavedObject{2 node_id, 3 node_path, 4 identifier, 5 metadata, 6 version};
AssetFileDef{1 tensor_info, 2 filename}; SavedObjectGraph{1 nodes}; SavedObject (object graph)
{4 user_object}; SavedUserObject{1 identifier, 2 version, 3 metadata}.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from mlwarden.core.rules import Rule
from mlwarden.core.severity import Severity
from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.keras_config import ConfigError, analyze_config, parse_config
from mlwarden.scan.formats.onnx import location_problem
from mlwarden.scan.formats.protobuf_wire import (
    LEN,
    VARINT,
    Buffer,
    Field,
    FieldBudget,
    WireError,
    iter_fields,
    read_varint,
    text,
)
from mlwarden.scan.formats.tf_path_ops import PATH_ATTRS, PATH_OPS, QUEUE_READERS
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import could_be_keras_metadata

PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
FILE_OPS = {
    "ReadFile": Severity.HIGH,
    "WriteFile": Severity.CRITICAL,
    "MatchingFiles": Severity.MEDIUM,
    "ImmutableConst": Severity.MEDIUM,
}
"""Ops that always touch the file system, with the severity they are reported at."""
WRITER_OPS: dict[str, tuple[int, Severity, str]] = {
    "CreateSummaryFileWriter": (1, Severity.HIGH, "writes event files under"),
    "CreateSummaryDbWriter": (1, Severity.HIGH, "writes an SQLite database at"),
    "DatasetToTFRecord": (1, Severity.HIGH, "writes a TFRecord file at"),
    "ExperimentalDatasetToTFRecord": (1, Severity.HIGH, "writes a TFRecord file at"),
    "WriteSummary": (-1, Severity.LOW, "writes a summary through a writer"),
    "WriteRawProtoSummary": (-1, Severity.LOW, "writes a summary through a writer"),
    "WriteScalarSummary": (-1, Severity.LOW, "writes a summary through a writer"),
    "WriteHistogramSummary": (-1, Severity.LOW, "writes a summary through a writer"),
    "WriteImageSummary": (-1, Severity.LOW, "writes a summary through a writer"),
    "WriteAudioSummary": (-1, Severity.LOW, "writes a summary through a writer"),
    "WriteGraphSummary": (-1, Severity.LOW, "writes a summary through a writer"),
    "ImportEvent": (-1, Severity.LOW, "writes a summary through a writer"),
}
"""Ops that always write files (the writer ops name the file: reported whatever their input,
with the constant path when there is one); writing a summary needs one of those writers."""
_PASS_THROUGH = frozenset({"Identity", "StringJoin", "ShardedFilename", "Snapshot"})
_FED_OPS = frozenset({"Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "_Arg"})
MAX_PATH_STEPS = 64
DEBUG_OPS = frozenset({"DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount",
                       "DebugNumericSummary", "DebugNumericSummaryV2"})
_META_GRAPH_FIELDS = frozenset(range(1, 8))
MAX_FINDINGS = 200
MAX_FIELDS = 20_000_000
"""Protobuf fields read from one file before it is reported as malformed (bounded time)."""
DETECT_FIELDS = 4096


@dataclass
class _Node:
    name: str
    op: str
    inputs: list[str]
    attrs: dict[str, list[str]]
    offset: int


@dataclass
class _Graphs:
    buf: Buffer
    target: ScanTarget
    ctx: ScanContext
    reported: int = 0
    ops: dict[str, int] = field(default_factory=dict)
    budget: FieldBudget = field(default_factory=lambda: FieldBudget(MAX_FIELDS))
    asset_tensors: set[str] = field(default_factory=set)
    """Graph tensors ``asset_file_def`` names: the loader replaces their value with the path of
    the asset under ``assets/`` (a TF1 asset Const keeps the path it was exported from)."""

    def fields(self, start: int, end: int) -> Iterator[Field]:
        return iter_fields(self.buf, start, end, self.budget)

    def report(self, rule: Rule, message: str, offset: int, evidence: dict[str, object],
               severity: Severity | None = None) -> None:
        self.reported += 1
        if self.reported <= MAX_FINDINGS:
            self.ctx.add(rule.finding(message, self.target.location(offset), severity=severity,
                                      evidence=evidence))

    def saved_model(self) -> None:
        for f in iter_fields(self.buf, budget=self.budget):
            if f.number == 2 and f.wire == LEN:
                self.meta_graph(f.start, f.end)

    def meta_graph(self, start: int, end: int) -> None:
        self.asset_tensors = set()
        for f in self.fields(start, end):  # AssetFileDef{1 tensor_info: TensorInfo{1 name}}
            if f.number == 6 and f.wire == LEN:
                for g in self.fields(f.start, f.end):
                    if g.number == 1 and g.wire == LEN:
                        self.asset_tensors.update(
                            text(self.buf, h, 4096).split(":", 1)[0]
                            for h in self.fields(g.start, g.end) if h.number == 1 and h.wire == LEN)
        for f in self.fields(start, end):
            if f.wire != LEN:
                continue
            if f.number == 2:
                self.graph(f.start, f.end)
            elif f.number == 6:
                self.asset(f.start, f.end)
            elif f.number == 7:
                self.object_graph(f.start, f.end)

    def asset(self, start: int, end: int) -> None:
        """AssetFileDef{1 tensor_info, 2 filename}: the loader joins filename to assets/."""
        for f in self.fields(start, end):
            if f.number == 2 and f.wire == LEN:
                filename = text(self.buf, f, 4096)
                problem = location_problem(filename)
                if problem is not None:
                    self.report(R.TF_FILE_OP, f"asset filename {filename!r} {problem}",
                                f.tag_offset, {"asset": filename, "problem": problem})

    def object_graph(self, start: int, end: int) -> None:
        """SavedObjectGraph{1 nodes}: SavedObject{4 user_object: SavedUserObject{1 identifier,
        3 metadata}} holds the Keras config of TF2 Keras models saved before keras_metadata.pb."""
        for f in self.fields(start, end):
            if f.number != 1 or f.wire != LEN:
                continue
            for g in self.fields(f.start, f.end):
                if g.number != 4 or g.wire != LEN:
                    continue
                identifier, metadata, offset = "", b"", g.start
                for h in self.fields(g.start, g.end):
                    if h.number == 1 and h.wire == LEN:
                        identifier = text(self.buf, h, 4096)
                    elif h.number == 3 and h.wire == LEN:
                        metadata, offset = bytes(self.buf[h.start:h.end]), h.start
                if identifier.startswith("_tf_keras") and metadata:
                    analyze_keras_metadata(metadata, identifier, offset, self.target, self.ctx)

    def graph(self, start: int, end: int) -> None:
        nodes: list[_Node] = []
        for f in self.fields(start, end):
            if f.wire != LEN:
                continue
            if f.number == 1:
                nodes.append(self.node(f.start, f.end))
            elif f.number == 2:
                self.library(f.start, f.end)
        self.check_scope(nodes, "graph")

    def library(self, start: int, end: int) -> None:
        for f in self.fields(start, end):
            if f.number == 1 and f.wire == LEN:
                self.function(f.start, f.end)

    def function(self, start: int, end: int) -> None:
        name = "?"
        nodes: list[tuple[int, int]] = []
        for f in self.fields(start, end):
            if f.number == 1 and f.wire == LEN:
                for g in self.fields(f.start, f.end):
                    if g.number == 1 and g.wire == LEN:
                        name = text(self.buf, g, 4096)
            elif f.number == 3 and f.wire == LEN:
                nodes.append((f.start, f.end))
        self.check_scope([self.node(s, e) for s, e in nodes], f"function {name}")

    def check_scope(self, nodes: list[_Node], where: str) -> None:
        """Check the nodes of one graph or function body (inputs name nodes of the same scope)."""
        by_name = {n.name: n for n in nodes}
        for n in nodes:
            self.ops[n.op] = self.ops.get(n.op, 0) + 1
            self.check(n.op, n.name, n.attrs, where, n.offset)
            self.check_paths(n, by_name, where)

    def node(self, start: int, end: int) -> _Node:
        name, op = "", ""
        inputs: list[str] = []
        attrs: dict[str, list[str]] = {}
        for f in self.fields(start, end):
            if f.wire != LEN:
                continue
            if f.number == 1:
                name = text(self.buf, f, 4096)
            elif f.number == 2:
                op = text(self.buf, f, 4096)
            elif f.number == 3 and len(inputs) < 64:
                inputs.append(text(self.buf, f, 4096))
            elif f.number == 5:
                key, values = "", []
                for g in self.fields(f.start, f.end):
                    if g.number == 1 and g.wire == LEN:
                        key = text(self.buf, g, 4096)
                    elif g.number == 2 and g.wire == LEN:
                        values = self.attr_strings(g.start, g.end)
                attrs[key] = values
        return _Node(name, op, inputs, attrs, start)

    def constant_path(self, source: str, by_name: dict[str, _Node],
                      budget: list[int] | None = None) -> str | None:
        """The string a node input evaluates to when it is built from constants only (through
        Identity/StringJoin/ShardedFilename; a join keeps its constant leading parts), or None.
        At most ``MAX_PATH_STEPS`` nodes are visited (cycles and fan-out stay bounded)."""
        budget = budget if budget is not None else [MAX_PATH_STEPS]
        out: list[str] = []
        name = source.lstrip("^").split(":", 1)[0]
        while budget[0] > 0:
            budget[0] -= 1
            node = by_name.get(name)
            if node is None:
                break
            if node.op == "Const":
                value = node.attrs.get("value", [])
                if value:
                    out.append(value[0])
                break
            if node.op not in _PASS_THROUGH or not node.inputs:
                break
            if node.op == "StringJoin" and len(node.inputs) > 1:
                parts = [self.constant_path(i, by_name, budget) for i in node.inputs[:8]]
                if parts[0] is not None:
                    joined = [parts[0]]
                    for part in parts[1:]:
                        if part is None:
                            break
                        joined.append(part)
                    sep = (node.attrs.get("separator") or [""])[0]
                    out.append(sep.join(joined))
                break
            name = node.inputs[0].lstrip("^").split(":", 1)[0]
        return "".join(out) if out else None

    def path_source(self, source: str, by_name: dict[str, _Node],
                    budget: list[int] | None = None) -> str:
        """Where a path input comes from when it is not a constant: ``fed`` (a Placeholder or a
        name that is no node of the scope: a function argument) or ``computed`` (other ops)."""
        budget = budget if budget is not None else [MAX_PATH_STEPS]
        name = source.lstrip("^").split(":", 1)[0]
        while budget[0] > 0:
            budget[0] -= 1
            node = by_name.get(name)
            if node is None or node.op in _FED_OPS:
                return "fed"
            if node.op == "Const":
                return "const"
            if node.op not in _PASS_THROUGH or not node.inputs:
                return "computed"
            if node.op == "StringJoin" and len(node.inputs) > 1:
                kinds = {self.path_source(i, by_name, budget) for i in node.inputs[:8]}
                return "computed" if "computed" in kinds else "fed" if "fed" in kinds \
                    else "const"
            name = node.inputs[0].lstrip("^").split(":", 1)[0]
        return "computed"

    def check_paths(self, n: _Node, by_name: dict[str, _Node], where: str) -> None:
        evidence: dict[str, object] = {"op": n.op, "node": n.name, "in": where}
        if n.op in WRITER_OPS:
            index, severity, does = WRITER_OPS[n.op]
            path = self.constant_path(n.inputs[index], by_name) \
                if 0 <= index < len(n.inputs) else None
            self.report(R.TF_FILE_OP, f"{where}: node {n.name!r} is a {n.op} op: it {does}"
                        + (f" {path!r}" if path is not None else "" if index < 0 else
                           " a path computed at run time"), n.offset,
                        {**evidence, "path": path}, severity=severity)
            return
        if n.op in QUEUE_READERS:
            self.report(R.TF_FILE_OP, f"{where}: node {n.name!r} is a {n.op} op: it reads the "
                        "files a queue names at run time", n.offset, evidence,
                        severity=Severity.MEDIUM)
            return
        if n.op in PATH_ATTRS:
            source = (n.attrs.get(PATH_ATTRS[n.op]) or [""])[0]
            if source and source != "local://":
                problem = location_problem(source)
                self.report(R.TF_FILE_OP, f"{where}: node {n.name!r} is a {n.op} op: it reads "
                            f"protobuf descriptors from {source!r}"
                            + (f", which {problem}" if problem else ""), n.offset,
                            {**evidence, "path": source, "problem": problem},
                            severity=Severity.HIGH if problem else Severity.MEDIUM)
            return
        spec = PATH_OPS.get(n.op)
        if spec is None:
            return
        worst: tuple[Severity, str, dict[str, object]] | None = None
        for index in spec.inputs:
            if index >= len(n.inputs):
                continue
            source = n.inputs[index].lstrip("^").split(":", 1)[0]
            path = self.constant_path(n.inputs[index], by_name)
            kind = self.path_source(n.inputs[index], by_name)
            found: tuple[Severity, str, dict[str, object]] | None = None
            if kind == "const" and path is not None and source not in self.asset_tensors:
                problem = location_problem(path)
                if problem is not None and problem != "is empty":
                    found = (spec.severity, f"it {spec.does} the constant path {path!r}, which "
                             f"{problem}", {"path": path, "problem": problem})
            elif kind == "fed" and spec.fed is not None:
                found = (spec.fed, f"it {spec.does} a path fed at run time (a placeholder or "
                         "function argument, not a file of the model)", {"path": None})
            elif kind == "computed" and spec.computed is not None:
                found = (spec.computed, f"it {spec.does} a path computed by other ops at run "
                         "time", {"path": None})
            if found is not None and (worst is None or found[0] > worst[0]):
                worst = found
        if spec.always and (worst is None or worst[0] < spec.severity):
            path = next((p for i in spec.inputs if i < len(n.inputs)
                         for p in [self.constant_path(n.inputs[i], by_name)] if p), None)
            worst = (spec.severity, f"it {spec.does}" + (f" {path!r}" if path else ""),
                     {"path": path})
        if worst is not None:
            self.report(R.TF_FILE_OP, f"{where}: node {n.name!r} is a {n.op} op: {worst[1]}",
                        n.offset, {**evidence, **worst[2]}, severity=worst[0])

    def attr_strings(self, start: int, end: int) -> list[str]:
        """String values of an AttrValue (``s``, ``list.s``, or a string tensor's ``string_val``
        as a Const node's ``value`` holds it)."""
        out: list[str] = []
        for f in self.fields(start, end):
            if f.number == 2 and f.wire == LEN:
                out.append(text(self.buf, f, 4096))
            elif f.number == 8 and f.wire == LEN:  # TensorProto{8 string_val}
                out.extend(text(self.buf, g, 4096) for g in self.fields(f.start, f.end)
                           if g.number == 8 and g.wire == LEN)
            elif f.number == 1 and f.wire == LEN:
                out.extend(text(self.buf, g, 4096) for g in self.fields(f.start, f.end)
                           if g.number == 2 and g.wire == LEN)
        return out

    def check(self, op: str, name: str, attrs: dict[str, list[str]], where: str,
              offset: int) -> None:
        evidence: dict[str, object] = {"op": op, "node": name, "in": where}
        if op in PYTHON_OPS:
            token = attrs.get("token", [])
            self.report(R.TF_PYTHON_OP, f"{where}: node {name!r} is a {op} op (calls Python "
                        f"function {token[0] if token else '?'!r})", offset,
                        {**evidence, "token": token[0] if token else None})
        elif op in FILE_OPS:
            detail = attrs.get("memory_region_name", [])
            self.report(R.TF_FILE_OP, f"{where}: node {name!r} is a {op} op"
                        + (f" on {detail[0]!r}" if detail else ""), offset, evidence,
                        severity=FILE_OPS[op])
        elif op == "PrintV2":
            stream = (attrs.get("output_stream") or [""])[0]
            if stream.startswith("file://"):
                self.report(R.TF_FILE_OP, f"{where}: node {name!r} prints to {stream!r}", offset,
                            {**evidence, "output_stream": stream})
        elif op in DEBUG_OPS:
            urls = [u for u in attrs.get("debug_urls", []) if u]
            if urls:
                self.report(R.TF_FILE_OP, f"{where}: debug node {name!r} sends tensors to "
                            f"{urls[:3]}", offset, {**evidence, "debug_urls": urls[:10]},
                            severity=Severity.MEDIUM)


def _looks_like_meta_graph(buf: Buffer, start: int, end: int) -> bool:
    fields = 0
    for f in iter_fields(buf, start, end):
        if f.number not in _META_GRAPH_FIELDS or f.wire != LEN:
            return False
        fields += 1
        if fields >= DETECT_FIELDS:
            break
    return fields > 0


def _cut_meta_graph(buf: Buffer, offset: int) -> bool:
    if offset < 2 or bytes(buf[:2]) != b"\x08\x01" or offset >= len(buf) or buf[offset] != 0x12:
        return False
    try:
        _, payload = read_varint(buf, offset + 1, len(buf))
    except WireError:
        return False
    return payload < len(buf) and buf[payload] in (0x0A, 0x12)


class SavedModelScanner(FormatScanner):
    """TensorFlow ``saved_model.pb``."""

    name: ClassVar[str] = "tf-savedmodel"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 72

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        if not head or head[0] not in (0x08, 0x12):
            return False
        buf = target.data
        metas = seen = 0
        try:
            for f in iter_fields(buf):
                seen += 1
                if seen > DETECT_FIELDS:
                    break
                if f.number == 1 and f.wire == VARINT:
                    if f.value != 1:
                        return False
                elif f.number == 2 and f.wire == LEN:
                    if metas == 0 and not _looks_like_meta_graph(buf, f.start, f.end):
                        return False
                    metas += 1
                else:
                    return False
        except WireError as exc:
            # Truncated: still a SavedModel if a cut-off meta graph (tag 0x12, payload starting
            # with MetaGraphDef field 1 or 2) follows the schema version or a whole meta graph.
            return metas > 0 or _cut_meta_graph(buf, exc.offset)
        return metas > 0

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        walk = _Graphs(target.data, target, ctx)
        try:
            walk.saved_model()
        except WireError as exc:
            ctx.add(R.TF_MALFORMED.finding(f"saved_model.pb is malformed: {exc}",
                                           target.location(exc.offset)))


class KerasMetadataScanner(FormatScanner):
    """Keras ``keras_metadata.pb`` (SavedMetadata) of a TensorFlow SavedModel."""

    name: ClassVar[str] = "keras-metadata"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 72

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        # Every top-level field a SavedObject node (field 1), one of the first ones a Keras
        # object: the identifier may follow a long metadata field, and the first node may be
        # another trackable object, so neither the head nor the first node is enough.
        if not could_be_keras_metadata(head, target):
            return False
        data = target.data
        try:
            for f in itertools.islice(iter_fields(data), DETECT_FIELDS):
                if f.number != 1 or f.wire != LEN:
                    return False
                if any(g.number == 4 and bytes(data[g.start:g.start + 10]) == b"_tf_keras_"
                       for g in itertools.islice(iter_fields(data, f.start, f.end),
                                                 DETECT_FIELDS)):
                    return True
        except WireError:
            return False
        return False

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        buf = target.data
        budget = FieldBudget(MAX_FIELDS)
        try:
            for f in iter_fields(buf, budget=budget):
                if f.number != 1 or f.wire != LEN:
                    continue
                path, metadata, meta_offset = "", None, f.start
                for g in iter_fields(buf, f.start, f.end, budget):
                    if g.number == 3 and g.wire == LEN:
                        path = text(buf, g, 4096)
                    elif g.number == 5 and g.wire == LEN:
                        metadata, meta_offset = bytes(buf[g.start:g.end]), g.start
                if metadata:
                    analyze_keras_metadata(metadata, path, meta_offset, target, ctx)
        except WireError as exc:
            ctx.add(R.TF_MALFORMED.finding(f"keras_metadata.pb is malformed: {exc}",
                                           target.location(exc.offset)))


def analyze_keras_metadata(metadata: bytes, path: str, offset: int, target: ScanTarget,
                           ctx: ScanContext) -> None:
    """Run the Keras config analysis on one object's JSON metadata."""
    try:
        parsed = parse_config(metadata, ctx.limits.max_header_size)
        issues = analyze_config(parsed, base=path or "<object>")
    except ConfigError as exc:
        ctx.add(R.KERAS_MALFORMED.finding(f"metadata of {path!r}: {exc}",
                                          target.location(offset)))
        return
    from mlwarden.scan.formats.embedded import scan_json_fields

    scan_json_fields(parsed.root, target, ctx, prefix=f"{path or '<object>'}:")
    for issue in issues:
        ctx.add(issue.rule.finding(issue.message, target.location(offset),
                                   severity=issue.severity,
                                   evidence={"json_path": issue.path, **issue.evidence}))

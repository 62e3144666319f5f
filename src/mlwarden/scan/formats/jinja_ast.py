"""Static analysis of Jinja2 chat templates: find the constructs that reach Python internals.

The template is only *parsed* (by Jinja2's own parser, in a sandboxed environment), never rendered.
The AST is walked for attribute and item access to dunder/private names, including names passed
through filters (``|attr``, ``map(attribute=...)``, ``selectattr``) and names assembled from pieces
(``'__cla' ~ 'ss__'``, ``'%s'|format``, ``|join``, ``.replace()``, ``{% set %}`` variables): string
expressions are constant-folded into the set of values they can take. Names that cannot be folded
but are built from strings at render time are reported as unverifiable. Include/import/extends
and template-object globals (``self``, ``lipsum``, ``cycler``...) are reported too.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlwarden.core.finding import JSONValue
from mlwarden.core.rules import Rule
from mlwarden.core.severity import Severity
from mlwarden.scan import format_rules as R
from mlwarden.scan.sniff import MAX_TEMPLATE

if TYPE_CHECKING:
    from jinja2 import Environment, nodes

MAX_VARIANTS = 64
"""Possible values of one folded expression kept before folding gives up."""
MAX_FOLDED_LEN = 4096

DANGEROUS_ATTRIBUTES = frozenset({
    "mro", "func_globals", "func_code", "func_closure", "f_globals", "f_locals", "f_back",
    "f_builtins", "f_code", "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code",
    "tb_frame", "tb_next", "co_code", "im_func", "im_self", "im_class", "load_module",
    "exec_module",
})
"""Attribute names (besides ``_``-prefixed ones) that only serve to reach interpreter internals."""

SUSPICIOUS_GLOBALS = frozenset({
    "self", "lipsum", "cycler", "joiner", "config", "request", "os", "sys", "builtins",
    "__builtins__", "subprocess", "importlib", "url_for", "get_flashed_messages", "application",
    "environment", "context",
})
"""Global names whose objects lead to Python internals (Flask/Jinja objects, modules)."""

STRING_FILTERS = frozenset({"format", "join", "replace", "lower", "upper", "title", "capitalize",
                            "trim", "reverse", "string", "first", "last", "list", "e", "escape",
                            "safe", "striptags", "center", "indent", "urlencode", "default", "d"})
STRING_METHODS = frozenset({"replace", "format", "join", "lower", "upper", "strip", "lstrip",
                            "rstrip", "title", "capitalize", "swapcase", "removeprefix",
                            "removesuffix", "casefold", "zfill", "ljust", "rjust", "center"})
KEY_BUILDING_METHODS = STRING_METHODS | frozenset({
    "split", "rsplit", "partition", "rpartition", "splitlines", "format_map", "expandtabs",
    "translate", "encode", "decode", "title", "join", "__add__", "__mul__", "__mod__"})
"""Methods whose result is a string (or pieces of one) computed from their subject at render
time: an item or attribute key built with them cannot be verified."""
KEY_BUILDING_FILTERS = STRING_FILTERS | frozenset({
    "slice", "batch", "wordwrap", "truncate", "min", "max", "random", "tojson", "pprint",
    "urlize", "xmlattr", "forceescape"})
"""Filters whose result is a string, a character or pieces of one built from their input
(``map`` counts when the filter it maps does). Filters that pick items of data as they are
(``select``, ``sort``, ``items``, ``dictsort``) build nothing."""
MODEL_VARIABLES = frozenset({"bos_token", "eos_token", "unk_token", "pad_token", "sep_token",
                             "cls_token", "mask_token", "additional_special_tokens"})
"""Variables the loaders fill from the model's own files (tokenizer config, GGUF vocabulary):
a key read from them is chosen by whoever made the model, so it cannot be verified either."""
ATTRIBUTE_ARGUMENTS = {"attr": 1, "selectattr": 1, "rejectattr": 1, "groupby": 1, "sum": 1}
"""Filters whose positional argument (1-based) names the attribute they read; with the
``attribute=`` keyword of any filter and ``map('attr', name)``, such a name that is not a
constant cannot be verified, whatever it is built from."""
NUMERIC_FILTERS = frozenset({"length", "count", "int", "float", "round", "abs", "sum",
                             "wordcount", "filesizeformat"})
LOOP_NUMBERS = frozenset({"index", "index0", "revindex", "revindex0", "length", "depth",
                          "depth0"})
ATTRIBUTE_FILTERS = frozenset({"map", "selectattr", "rejectattr", "sort", "groupby", "sum",
                               "unique", "min", "max", "attr", "dictsort"})

Value = str | int | tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class TemplateIssue:
    rule: Rule
    message: str
    line: int | None
    evidence: dict[str, JSONValue] = field(default_factory=dict)
    severity: Severity | None = None


def name_danger(name: str) -> Severity | None:
    """How bad reaching attribute ``name`` is (each dotted component is checked)."""
    worst: Severity | None = None
    for part in name.split("."):
        part = part.strip()
        if part.startswith("__") or part in DANGEROUS_ATTRIBUTES:
            return Severity.CRITICAL
        if part.startswith("_"):
            worst = Severity.HIGH
    return worst


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import nodes as jnodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationTag(Extension):
        """``{% generation %}`` of Hugging Face templates (marks assistant tokens)."""

        tags = {"generation"}  # noqa: RUF012 - Jinja2's own API

        def parse(self, parser: Any) -> jnodes.Node:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return jnodes.Scope(body, lineno=lineno)

    return ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                         extensions=["jinja2.ext.loopcontrols", GenerationTag])


class _Analyzer:
    def __init__(self, tree: nodes.Template) -> None:
        from jinja2 import nodes as jnodes

        self.n = jnodes
        self.tree = tree
        self.issues: list[TemplateIssue] = []
        self.assigned: dict[str, list[nodes.Node]] = {}
        self.stored: set[str] = set()
        self._folding: set[str] = set()
        self._folded: dict[int, list[Value] | None] = {}
        self._builds: dict[str, bool] = {}
        self.sources: dict[str, list[nodes.Node]] = {}
        """Where a name's value comes from when it is not a constant expression: the iterable of a
        loop it walks, the right side of a tuple ``{% set %}``, a macro's call arguments."""
        self.ns_assigned: dict[str, list[nodes.Node]] = {}
        """``{% set ns.attr = ... %}`` and ``namespace(attr=...)`` values, by attribute name."""
        self._numeric: dict[str, bool] = {}
        for node in tree.find_all(jnodes.Name):
            if node.ctx in ("store", "param"):
                self.stored.add(node.name)
        for assign in tree.find_all(jnodes.Assign):
            if isinstance(assign.target, jnodes.Name):
                self.assigned.setdefault(assign.target.name, []).append(assign.node)
        for block in tree.find_all(jnodes.AssignBlock):  # {% set x %}...{% endset %}
            if isinstance(block.target, jnodes.Name) and all(
                    isinstance(out, jnodes.Output) for out in block.body):
                parts = [n for out in block.body if isinstance(out, jnodes.Output)
                         for n in out.nodes]
                self.assigned.setdefault(block.target.name, []).append(jnodes.Concat(parts))
        for macro in tree.find_all(jnodes.Macro):  # parameter defaults
            for param, default in zip(macro.args[len(macro.args) - len(macro.defaults):],
                                      macro.defaults, strict=True):
                self.assigned.setdefault(param.name, []).append(default)
        self._collect_sources(tree)
        for loop in tree.find_all(jnodes.For):  # loop variables over constant sequences
            if not isinstance(loop.target, jnodes.Name):
                continue
            if isinstance(loop.iter, jnodes.List | jnodes.Tuple):
                self.assigned.setdefault(loop.target.name, []).extend(loop.iter.items)
            else:
                for seq in self.fold(loop.iter) or []:
                    items = seq if isinstance(seq, tuple) else (seq,) if isinstance(seq, str) else ()
                    self.assigned.setdefault(loop.target.name, []).extend(
                        jnodes.Const(item) for item in items[:MAX_VARIANTS])

    def _collect_sources(self, tree: nodes.Template) -> None:
        n = self.n
        for block in tree.find_all(n.AssignBlock):  # with control flow: text built at render
            if isinstance(block.target, n.Name) and not all(
                    isinstance(out, n.Output) for out in block.body):
                parts = [expr for child in block.body
                         for out in ([child] if isinstance(child, n.Output)
                                     else child.find_all(n.Output))
                         for expr in out.nodes]
                self.sources.setdefault(block.target.name, []).append(n.Concat(parts))
        for scope in tree.find_all(n.With):  # {% with k = ... %}
            for target, value in zip(scope.targets, scope.values, strict=False):
                if isinstance(target, n.Name):
                    self.assigned.setdefault(target.name, []).append(value)
        for loop in tree.find_all(n.For):
            for name in self._target_names(loop.target):
                self.sources.setdefault(name, []).append(loop.iter)
        for assign in tree.find_all(n.Assign):
            if isinstance(assign.target, n.Tuple):
                for name in self._target_names(assign.target):
                    self.sources.setdefault(name, []).append(assign.node)
            elif isinstance(assign.target, n.NSRef):
                self.ns_assigned.setdefault(assign.target.attr, []).append(assign.node)
        for call in tree.find_all(n.Call):
            if isinstance(call.node, n.Name) and call.node.name == "namespace":
                for kw in call.kwargs:
                    self.ns_assigned.setdefault(kw.key, []).append(kw.value)
        macros = {m.name: m for m in tree.find_all(n.Macro)}
        for call in tree.find_all(n.Call):  # macro arguments flow into its parameters
            macro = macros.get(call.node.name) if isinstance(call.node, n.Name) else None
            if macro is None:
                continue
            params = {p.name: p for p in macro.args}
            for param, arg in zip(macro.args, call.args, strict=False):
                self.assigned.setdefault(param.name, []).append(arg)
            for kw in call.kwargs:
                if kw.key in params:
                    self.assigned.setdefault(kw.key, []).append(kw.value)
            if call.dyn_args is not None or call.dyn_kwargs is not None:
                for param in macro.args:
                    self.sources.setdefault(param.name, []).append(
                        call.dyn_args if call.dyn_args is not None else call.dyn_kwargs)

    def _target_names(self, target: nodes.Node) -> list[str]:
        n = self.n
        if isinstance(target, n.Name):
            return [target.name]
        if isinstance(target, n.Tuple):
            return [name for item in target.items for name in self._target_names(item)]
        return []

    # --- folding ---------------------------------------------------------------------------

    def fold(self, node: nodes.Node) -> list[Value] | None:
        """Every value ``node`` can take, if it is a constant expression (else ``None``).

        Memoised per node: ``{% set a2 = a1 ~ a1 %}`` chains would otherwise fold in 2ⁿ steps.
        """
        key = id(node)
        if key in self._folded:
            return self._folded[key]
        try:
            values = self._fold(node)
        except (TypeError, ValueError, IndexError, KeyError, OverflowError, RecursionError):
            values = None
        if values is not None and (len(values) > MAX_VARIANTS or any(
                isinstance(v, str | tuple) and len(v) > MAX_FOLDED_LEN for v in values)):
            values = None  # too many or too long to follow: treated as computed at render time
        self._folded[key] = values
        return values

    def _fold(self, node: nodes.Node) -> list[Value] | None:
        n = self.n
        if isinstance(node, n.Const):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, str | int):
                return None
            return [value]
        if isinstance(node, n.TemplateData):
            return [node.data]
        if isinstance(node, n.List | n.Tuple):
            parts = [self.fold(item) for item in node.items]
            if any(p is None for p in parts):
                return None
            return self._product(parts, tuple)  # type: ignore[arg-type]
        if isinstance(node, n.Concat):
            parts = [self.fold(item) for item in node.nodes]
            if any(p is None for p in parts):
                return None
            return self._product(parts, lambda xs: "".join(str(x) for x in xs))  # type: ignore[arg-type]
        if isinstance(node, n.Add | n.Mul | n.Mod):
            left, right = self.fold(node.left), self.fold(node.right)
            if left is None or right is None:
                return None
            return self._product([left, right], lambda xs: self._binop(node, xs[0], xs[1]))
        if isinstance(node, n.CondExpr):
            first = self.fold(node.expr1)
            second = self.fold(node.expr2) if node.expr2 is not None else []
            if first is None or second is None:
                return None
            return first + second
        if isinstance(node, n.Name):
            if node.name in self._folding or node.name not in self.assigned:
                return None
            self._folding.add(node.name)
            try:
                out: list[Value] = []
                for expr in self.assigned[node.name]:
                    values = self.fold(expr)
                    if values is None:
                        return None
                    out.extend(values)
                return out
            finally:
                self._folding.discard(node.name)
        if isinstance(node, n.Getitem):
            base = self.fold(node.node)
            if base is None:
                return None
            if isinstance(node.arg, n.Slice):
                bounds = [self.fold(x) if x is not None else [None] for x in
                          (node.arg.start, node.arg.stop, node.arg.step)]
                if any(b is None for b in bounds):
                    return None
                return self._product([base, *bounds],  # type: ignore[list-item]
                                     lambda xs: xs[0][slice(xs[1], xs[2], xs[3])])
            index = self.fold(node.arg)
            if index is None:
                return None
            return self._product([base, index], lambda xs: xs[0][xs[1]])
        if isinstance(node, n.Filter) and node.node is not None:
            return self._fold_call(node.name, node.node, node.args, node.kwargs)
        if isinstance(node, n.Call) and isinstance(node.node, n.Getattr):
            return self._fold_call(node.node.attr, node.node.node, node.args, node.kwargs,
                                   method=True)
        return None

    @staticmethod
    def _binop(node: nodes.Node, left: Value, right: Value) -> Value:
        import operator

        from jinja2 import nodes as jnodes

        if isinstance(node, jnodes.Mul):
            count = right if isinstance(right, int) else left
            if not isinstance(count, int) or count > MAX_FOLDED_LEN:
                raise ValueError("repeat too large")
            result = operator.mul(left, right)
        elif isinstance(node, jnodes.Mod):
            if not isinstance(left, str):
                raise TypeError("not a format string")
            result = left % right
        else:
            result = operator.add(left, right)
        if isinstance(result, str | int | tuple):
            return result
        raise TypeError("unsupported fold")

    def _fold_call(self, name: str, subject: nodes.Node, args: list[nodes.Expr],
                   kwargs: list[nodes.Keyword], method: bool = False) -> list[Value] | None:
        if kwargs or name not in (STRING_METHODS if method else STRING_FILTERS):
            return None
        base = self.fold(subject)
        folded = [self.fold(a) for a in args]
        if base is None or any(f is None for f in folded):
            return None

        def apply(xs: tuple[Any, ...]) -> Value:
            value, rest = xs[0], xs[1:]
            if method:
                if name == "join":
                    return str(value).join(str(x) for x in rest[0])
                if name == "format":
                    if re.search(r"\{[^{}]*[.\[]", str(value)):
                        raise ValueError("attribute fields are not folded")
                    return str(value).format(*rest)
                result = getattr(str(value), name)(*rest)
                return result if isinstance(result, str) else str(result)
            if name == "format":
                return str(value) % (rest if len(rest) != 1 else rest[0])
            if name == "join":
                items = value if isinstance(value, tuple) else tuple(str(value))
                return (str(rest[0]) if rest else "").join(str(x) for x in items)
            if name == "replace":
                return str(value).replace(str(rest[0]), str(rest[1]))
            if name == "reverse":
                seq = value if isinstance(value, str | tuple) else str(value)
                return seq[::-1]
            if name == "list":
                return tuple(value) if isinstance(value, str | tuple) else (value,)
            if name in ("first", "last"):
                seq = value if isinstance(value, str | tuple) else str(value)
                return seq[0] if name == "first" else seq[-1]
            if name in ("lower", "upper", "title", "capitalize"):
                return str(getattr(str(value), name)())
            if name == "trim":
                return str(value).strip()
            if name in ("default", "d") and isinstance(value, str | int | tuple):
                return value
            return str(value)

        return self._product([base, *folded], apply)  # type: ignore[list-item]

    @staticmethod
    def _product(parts: list[list[Any]], combine: Any) -> list[Value] | None:
        total = 1
        for p in parts:
            total *= max(len(p), 1)
            if total > MAX_VARIANTS:
                return None
        return [combine(combo) for combo in itertools.product(*parts)]

    def numeric(self, node: nodes.Node, depth: int = 0) -> bool:
        """Whether ``node`` is a number at render time (``loop.index0 + 1``, ``x|length``, a
        ``range`` loop variable): arithmetic on it builds no string."""
        n = self.n
        if depth > 20:
            return False
        if isinstance(node, n.Const):
            return isinstance(node.value, int | float) and not isinstance(node.value, bool)
        if isinstance(node, n.Getattr):
            return (isinstance(node.node, n.Name) and node.node.name == "loop"
                    and node.attr in LOOP_NUMBERS)
        if isinstance(node, n.Filter):
            return node.name in NUMERIC_FILTERS
        if isinstance(node, n.Neg | n.Pos):
            return self.numeric(node.node, depth + 1)
        if isinstance(node, n.Sub | n.Div | n.FloorDiv | n.Pow):
            return True  # only numbers subtract or divide
        if isinstance(node, n.Add | n.Mul | n.Mod):
            return self.numeric(node.left, depth + 1) and self.numeric(node.right, depth + 1)
        if isinstance(node, n.Call):
            return isinstance(node.node, n.Name) and node.node.name == "range"
        if isinstance(node, n.Name):
            if node.name in self._numeric:
                return self._numeric[node.name]
            self._numeric[node.name] = False  # cycles count as "not a number"
            exprs = self.assigned.get(node.name, [])
            loops = self.sources.get(node.name, [])
            result = bool(exprs or loops) and all(
                self.numeric(e, depth + 1) for e in exprs) and all(
                self.numeric(s, depth + 1) for s in loops)  # ``for i in range(n)``
            self._numeric[node.name] = result
            return result
        return False

    def builds_strings(self, node: nodes.Node, depth: int = 0) -> bool:
        """Whether ``node`` assembles a string at render time: concatenation, ``format``, a join,
        a split, a slice, a string filter or method — directly or through the ``{% set %}``
        variable, loop variable, namespace attribute or macro parameter that holds it."""
        n = self.n
        if depth > 20:
            return True
        if isinstance(node, n.Concat):
            return True
        if isinstance(node, n.Add):  # a number on either side makes it arithmetic
            return not (self.numeric(node.left) or self.numeric(node.right))
        if isinstance(node, n.Mul | n.Mod):
            return not (self.numeric(node.left) and (self.numeric(node.right)
                                                     or isinstance(node, n.Mod)))
        if isinstance(node, n.Filter) and node.name == "map" and node.args:
            mapped = self.fold(node.args[0])
            return mapped is None or any(
                isinstance(m, str) and m in KEY_BUILDING_FILTERS for m in mapped)
        if isinstance(node, n.Filter):
            return node.name in KEY_BUILDING_FILTERS or (
                node.node is not None and node.name not in NUMERIC_FILTERS
                and self.builds_strings(node.node, depth + 1))
        if isinstance(node, n.Call):
            if isinstance(node.node, n.Getattr) and (
                    node.node.attr in KEY_BUILDING_METHODS
                    or self.builds_strings(node.node.node, depth + 1)):
                return True
            # a call may hand back what it was given (``loop.cycle(a, b)``, ``d.get(k, a)``)
            return any(self.builds_strings(arg, depth + 1) for arg in
                       (*node.args, *(kw.value for kw in node.kwargs)))
        if isinstance(node, n.Getitem):
            if isinstance(node.arg, n.Slice):
                return True
            return self.builds_strings(node.node, depth + 1)
        if isinstance(node, n.CondExpr):
            return any(self.builds_strings(e, depth + 1) for e in (node.expr1, node.expr2)
                       if e is not None)
        if isinstance(node, n.List | n.Tuple):
            return any(self.builds_strings(e, depth + 1) for e in node.items)
        if isinstance(node, n.Getattr):
            if isinstance(node.node, n.Name) and node.attr in self.ns_assigned:
                return self._name_builds(f"ns.{node.attr}", self.ns_assigned[node.attr], depth)
            return False
        if isinstance(node, n.Name):
            exprs = self.assigned.get(node.name, []) + self.sources.get(node.name, [])
            return self._name_builds(node.name, exprs, depth)
        return False

    def reads_model_text(self, expr: nodes.Node) -> bool:
        """Whether the value of ``expr`` comes from a :data:`MODEL_VARIABLES` string, directly
        or through the variables that hold it (a number computed from one does not count)."""
        n = self.n
        if self.numeric(expr):
            return False
        roots: list[nodes.Node] = [expr]
        seen: set[str] = set()
        while roots and len(seen) < 256:
            root = roots.pop()
            if isinstance(root, n.CondExpr):  # the test picks a branch; its value is not the key
                roots.extend(e for e in (root.expr1, root.expr2) if e is not None)
                continue
            for ref in (root, *root.find_all(n.Getattr)):  # namespace attributes
                if isinstance(ref, n.Getattr) and isinstance(ref.node, n.Name) and \
                        f"ns.{ref.attr}" not in seen and ref.attr in self.ns_assigned:
                    seen.add(f"ns.{ref.attr}")
                    roots.extend(self.ns_assigned[ref.attr])
            for name in (root, *root.find_all(n.Name)):
                if not isinstance(name, n.Name) or name.name in seen:
                    continue
                seen.add(name.name)
                if name.name in MODEL_VARIABLES and name.name not in self.stored:
                    return True
                roots.extend(self.assigned.get(name.name, []))
                roots.extend(self.sources.get(name.name, []))
        return False

    def _name_builds(self, key: str, exprs: list[nodes.Node], depth: int) -> bool:
        if not exprs:
            return False
        if key not in self._builds:
            self._builds[key] = False  # cycles count as "no"
            self._builds[key] = any(self.builds_strings(e, depth + 1) for e in exprs)
        return self._builds[key]

    # --- checks ------------------------------------------------------------------------------

    def add(self, rule: Rule, message: str, node: nodes.Node, severity: Severity | None = None,
            **evidence: JSONValue) -> None:
        self.issues.append(TemplateIssue(rule, message, getattr(node, "lineno", None),
                                         dict(evidence), severity))

    def check_name(self, name: str, node: nodes.Node, how: str) -> None:
        danger = name_danger(name)
        if danger is not None:
            self.add(R.GGUF_TEMPLATE_INJECTION, f"template reaches {name!r} through {how}", node,
                     severity=danger, name=name, via=how)

    def check_dynamic(self, expr: nodes.Node, node: nodes.Node, how: str,
                      always: bool = False) -> None:
        """An attribute/key name given by ``expr``: fold it, or report it as unverifiable (when
        it is built at render time, or ``always`` for a position that names an attribute)."""
        values = self.fold(expr)
        if values is not None:
            for value in values:
                if isinstance(value, str):
                    self.check_name(value, node, how)
            return
        if self.extracts_characters(expr):
            self.add(R.GGUF_TEMPLATE_INJECTION, f"template cuts characters out of an object's "
                     f"text to build the name used for {how}", node, severity=Severity.HIGH,
                     via=how)
            return
        fragments = [c.value for c in expr.find_all(self.n.Const) if isinstance(c.value, str)]
        if isinstance(expr, self.n.Const):
            fragments.append(str(expr.value))
        if any("__" in f or f.startswith("_") or f.endswith("_") for f in fragments):
            self.add(R.GGUF_TEMPLATE_INJECTION, f"template assembles an attribute name for "
                     f"{how} from pieces {fragments[:8]!r}", node, fragments=fragments[:20],
                     via=how)
        elif always or self.builds_strings(expr):
            self.add(R.GGUF_TEMPLATE_UNCHECKED, f"template computes the name used for {how} at "
                     "render time", node, severity=Severity.HIGH, via=how)
        elif self.reads_model_text(expr):
            self.add(R.GGUF_TEMPLATE_UNCHECKED, f"template takes the name used for {how} from "
                     "the model's own token strings", node, severity=Severity.HIGH, via=how)

    def extracts_characters(self, expr: nodes.Node) -> bool:
        """``(()|select|string)[24]``-style: indexing or slicing the text of a runtime object."""
        n = self.n
        roots, seen = [expr], set()
        for root in roots:  # follow {% set %} variables into the expressions they hold
            for name in (root, *root.find_all(n.Name)):
                if isinstance(name, n.Name) and name.name not in seen and len(roots) < 64:
                    seen.add(name.name)
                    roots.extend(self.assigned.get(name.name, []))
        for item in (node for root in roots for node in (root, *root.find_all(n.Getitem | n.Filter))):
            subject = item.node if isinstance(item, n.Getitem | n.Filter) else None
            if isinstance(item, n.Filter) and item.name not in ("first", "last", "batch",
                                                                 "slice"):
                continue
            if (isinstance(subject, n.Filter) and subject.name in ("string", "list")
                    and subject.node is not None and self.fold(subject.node) is None):
                return True
        return False

    def run(self) -> list[TemplateIssue]:
        n = self.n
        for node in self.tree.find_all(n.Node):
            if isinstance(node, n.Getattr):
                self.check_name(node.attr, node, f"attribute .{node.attr}")
            elif isinstance(node, n.NSRef):
                self.check_name(node.attr, node, f"namespace attribute .{node.attr}")
            elif isinstance(node, n.Getitem):
                if not isinstance(node.arg, n.Slice):
                    self.check_dynamic(node.arg, node, "item access")
            elif isinstance(node, n.Filter | n.Test):
                self.check_filter(node)
            elif isinstance(node, n.Call):
                self.check_call(node)
            elif isinstance(node, n.Name):
                if (node.ctx == "load" and node.name in SUSPICIOUS_GLOBALS
                        and node.name not in self.stored):
                    self.add(R.GGUF_TEMPLATE_INJECTION, f"template uses the global {node.name!r} "
                             "(a way to Python internals)", node, severity=Severity.HIGH,
                             name=node.name)
            elif isinstance(node, n.Include | n.Import | n.FromImport | n.Extends):
                self.add(R.GGUF_TEMPLATE_LOADS, f"template uses {{% {type(node).__name__.lower()} "
                         "%}} to load other templates", node)
        return self.issues

    def _keyword_args(self, node: nodes.Filter | nodes.Test | nodes.Call) -> Iterator[
            tuple[str, nodes.Expr]]:
        for index, arg in enumerate(node.args):
            yield f"argument {index + 1}", arg
        for kw in node.kwargs:
            yield str(kw.key), kw.value
        if node.dyn_args is not None:
            yield "*args", node.dyn_args
        if node.dyn_kwargs is not None:
            yield "**kwargs", node.dyn_kwargs

    def check_filter(self, node: nodes.Filter | nodes.Test) -> None:
        kind = "|" if isinstance(node, self.n.Filter) else "is "
        position = ATTRIBUTE_ARGUMENTS.get(node.name)
        maps_attr = node.name == "map" and bool(node.args) and "attr" in (
            self.fold(node.args[0]) or [])
        for label, arg in self._keyword_args(node):
            how = f"{kind}{node.name}({label})"
            if label == "attribute" or (position is not None and label == f"argument {position}") \
                    or (maps_attr and label == "argument 2"):
                self.check_dynamic(arg, node, how, always=True)
            elif node.name in ATTRIBUTE_FILTERS and label in ("argument 1", "argument 2"):
                self.check_dynamic(arg, node, how)
            else:
                for value in self.fold(arg) or []:
                    if isinstance(value, str) and re.fullmatch(r"[\w.]+", value):
                        self.check_name(value, node, how)

    def check_call(self, node: nodes.Call) -> None:
        n = self.n
        if isinstance(node.node, n.Getattr) and node.node.attr in ("format", "format_map"):
            formats = self.fold(node.node.node)
            if formats is None and self.builds_strings(node.node.node):
                self.add(R.GGUF_TEMPLATE_UNCHECKED, "template calls .format on a string built at "
                         "render time (its fields may read attributes)", node,
                         severity=Severity.HIGH, via="a format string built at render time")
            for value in formats or []:
                if isinstance(value, str):
                    for fieldname in re.findall(r"\{([^{}!:]*)", value):
                        for part in re.split(r"[.\[\]]", fieldname):
                            if part and name_danger(part):
                                self.check_name(part, node, "a format-string field")
        for label, arg in self._keyword_args(node):
            for value in self.fold(arg) or []:
                if isinstance(value, str) and re.fullmatch(r"__\w+__", value):
                    self.check_name(value, node, f"call {label}")


def analyze_template(source: str) -> list[TemplateIssue]:
    """Issues in one Jinja2 template (never renders it)."""
    if len(source) > MAX_TEMPLATE:
        return [TemplateIssue(R.GGUF_TEMPLATE_UNCHECKED, f"template is {len(source)} characters, "
                              f"over the {MAX_TEMPLATE} analysis limit", None)]
    from jinja2 import TemplateError

    try:
        tree = _environment().parse(source)
    except TemplateError as exc:
        return [TemplateIssue(R.GGUF_TEMPLATE_UNCHECKED, f"template is not valid Jinja2: {exc}",
                              getattr(exc, "lineno", None))]
    except RecursionError:
        return [TemplateIssue(R.GGUF_TEMPLATE_UNCHECKED, "template is nested too deeply to parse",
                              None, severity=Severity.HIGH)]
    try:
        return _dedupe(_Analyzer(tree).run())
    except RecursionError:
        return [TemplateIssue(R.GGUF_TEMPLATE_UNCHECKED, "template is nested too deeply to "
                              "analyse", None, severity=Severity.HIGH)]


def _dedupe(issues: Iterable[TemplateIssue]) -> list[TemplateIssue]:
    seen: set[tuple[str, str, int | None]] = set()
    out: list[TemplateIssue] = []
    for issue in issues:
        key = (issue.rule.id, issue.message, issue.line)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out

"""What ``skops.io.load`` does with each node of a skops ``schema.json`` — modelled from the loader
itself (skops 0.16: ``skops/io/_general.py``, ``_numpy.py``, ``_scipy.py``, ``_sklearn.py``,
``_quantile_forest.py``, ``_audit.py``), never by importing anything the file names.

``load`` first builds the whole node tree (no import, no call), audits it against ``trusted``, then
``construct``s it. Per ``__loader__``, construction uses the node's ``__module__.__class__`` as:

- ``CALL`` — imported and called with values from the file: ``ConstructorFromReduceNode``
  (``cls(*args)``), ``LossNode`` (``cls(*args)`` then ``__setstate__``), ``DictNode`` /
  ``ListNode`` / ``SetNode`` (``cls()`` / ``cls(items)``), ``TupleNode`` (``cls(*items)`` when the
  class is a named tuple), ``NdArrayNode`` of ``type: numpy`` that is not ``numpy.ndarray``
  (``cls(array)``), ``RandomStateNode`` (``cls()`` then ``set_state``), ``RandomGeneratorNode``
  (``cls(bit_generator=...)``), ``OperatorFuncNode`` (``getattr(operator, name)(*attrs)``);
- ``NEW`` — ``cls.__new__(cls)`` then ``instance.__setstate__(attrs)`` (or ``__dict__.update``):
  ``ObjectNode``. No constructor runs, but the class's ``__setstate__`` does;
- ``VALUE`` — imported and handed to the model, which calls it later with arguments nobody judged:
  ``FunctionNode``, ``TypeNode`` (``DictNode`` even calls its key types on the file's keys);
- ``NONE`` — the name is only audited, construction never imports it: ``JsonNode``, ``BytesNode``,
  ``BytearrayNode``, ``SliceNode``, ``MaskedArrayNode``, ``DTypeNode``, ``SparseMatrixNode``,
  ``DefaultDictNode``, ``CachedNode``, ``PartialNode`` (always ``functools.partial``),
  ``MethodNode`` (its object is a node of its own), ``TreeNode`` and ``QuantileForestNode`` (their
  constructors are fixed by skops).

A loader skops does not know makes ``load`` fail before anything is constructed; it is still
reported (``UNMODELLED``): a newer skops may load it, and the scanner cannot say what it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Use = Literal["call", "new", "value", "none", "unmodelled"]

CALL_LOADERS = frozenset({"ConstructorFromReduceNode", "LossNode", "DictNode", "ListNode",
                          "SetNode", "RandomStateNode", "RandomGeneratorNode",
                          "OperatorFuncNode"})
NEW_LOADERS = frozenset({"ObjectNode"})
VALUE_LOADERS = frozenset({"FunctionNode", "TypeNode"})
NAME_UNUSED_LOADERS = frozenset({"JsonNode", "BytesNode", "BytearrayNode", "SliceNode",
                                 "MaskedArrayNode", "DTypeNode", "SparseMatrixNode",
                                 "DefaultDictNode", "CachedNode", "PartialNode", "MethodNode",
                                 "TreeNode", "QuantileForestNode", "_DictWithDeprecatedKeysNode"})
"""Every loader of ``NODE_TYPE_MAPPING`` in skops 0.16 (a test compares the sets)."""
KNOWN_LOADERS = CALL_LOADERS | NEW_LOADERS | VALUE_LOADERS | NAME_UNUSED_LOADERS | {
    "TupleNode", "NdArrayNode"}

BIT_GENERATORS = frozenset({"MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"})
"""``numpy.random`` bit generators (skops' ``NUMPY_RANDOM_BIT_GENERATOR_TYPE_NAMES``)."""

SETSTATE_EXEC_KEYS = frozenset({"_parse_arg_template"})
"""State keys a library ``__setstate__`` runs as code: scipy's ``rv_generic.__setstate__`` calls
``_attach_methods`` → ``_attach_argparser_methods``, which ``exec``s ``_parse_arg_template``
(``scipy/stats/_distn_infrastructure.py``). Any class that accepts the key is judged by it."""


@dataclass(frozen=True)
class NodeUse:
    """One node of the tree: the name it carries and how construction uses it."""

    module: str
    name: str
    loader: str
    use: Use
    state_keys: frozenset[str] = frozenset()
    method: str | None = None


FIXED_CONSTRUCTORS: dict[str, tuple[str, str]] = {
    "TreeNode": ("sklearn.tree._tree", "Tree"),
    "QuantileForestNode": ("quantile_forest._quantile_forest_fast", "QuantileForest"),
}
"""ReduceNode loaders whose constructor skops fixes: called with the file's ``__reduce__`` args,
then given its state through ``__setstate__`` (and listed by ``get_untrusted_types``)."""


def node_uses(node: dict[str, object]) -> list[NodeUse]:
    """Every use ``skops.io.load`` makes of names carried by one schema node: its own name
    (``node_use``), a fixed constructor it calls, and the key types a ``DictNode`` calls on the
    file's keys (``content[k_type(key)]``)."""
    own = node_use(node)
    if own is None:
        return []
    out = [own]
    fixed = FIXED_CONSTRUCTORS.get(own.loader)
    if fixed is not None:
        out.append(NodeUse(fixed[0], fixed[1], own.loader, "call", own.state_keys))
    key_types = node.get("key_types") if own.loader == "DictNode" else None
    items = key_types.get("content") if isinstance(key_types, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("__loader__") == "TypeNode":
            module, name = item.get("__module__"), item.get("__class__")
            if isinstance(module, str) and isinstance(name, str):
                out.append(NodeUse(module, name, "DictNode key type", "call"))
    return out


def node_use(node: dict[str, object]) -> NodeUse | None:
    """How ``skops.io.load`` uses the name of one schema node (``None``: not a node)."""
    loader, module, name = node.get("__loader__"), node.get("__module__"), node.get("__class__")
    if not isinstance(loader, str) or not isinstance(module, str) or not isinstance(name, str):
        return None
    qual = f"{module}.{name}"
    use: Use
    if loader in CALL_LOADERS:
        use = "call"
    elif loader in NEW_LOADERS:
        use = "new"
    elif loader in VALUE_LOADERS:
        use = "value"
    elif loader == "TupleNode":
        use = "call"  # always imported; called when it is a named tuple
    elif loader == "NdArrayNode":
        use = "call" if node.get("type") == "numpy" and qual != "numpy.ndarray" else "none"
    elif loader in NAME_UNUSED_LOADERS:
        use = "none"
    else:
        use = "unmodelled"
    content = node.get("content")
    method = content.get("func") if loader == "MethodNode" and isinstance(content, dict) else None
    keys = _state_keys(node) if loader in NEW_LOADERS or loader == "LossNode" \
        or loader in FIXED_CONSTRUCTORS else frozenset()
    return NodeUse(module, name, loader, use, keys, method if isinstance(method, str) else None)


def bit_generator(node: dict[str, object]) -> str | None:
    """The bit generator a ``RandomGeneratorNode`` imports from ``numpy.random`` (as skops reads
    it: ``content.bit_generator.content.bit_generator.content`` as JSON)."""
    import json

    try:
        raw = node["content"]["bit_generator"]["content"]["bit_generator"]["content"]  # type: ignore[index]
        value = json.loads(raw)
    except (KeyError, TypeError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _state_keys(node: dict[str, object]) -> frozenset[str]:
    """Keys of the attribute dict ``__setstate__`` receives: a ``DictNode``'s content, or the
    ``main`` dict of a ``DefaultDictNode`` (``defaultdict(**main)``)."""
    state = node.get("content")
    if isinstance(state, dict) and state.get("__loader__") == "DefaultDictNode":
        inner = state.get("content")
        state = inner.get("main") if isinstance(inner, dict) else None
    content = state.get("content") if isinstance(state, dict) else None
    if isinstance(content, dict):
        return frozenset(k for k in content if isinstance(k, str))
    return frozenset()

"""The skops scanner against skops' own loader (``skops_oracle``: the real ``get_untrusted_types``
and ``load`` in a child process, with every import refused and replaced by a recording stand-in).

* **Parity of names**: every name ``get_untrusted_types`` lists (what the usual idiom trusts) and
  every name the loader imports is a name the scanner judged.
* **Parity of use**: a name the loader calls is one the scanner models as called (``call``), a
  class it instantiates with ``cls.__new__`` is modelled as ``new``; a node whose name the loader
  never imports is modelled as ``none`` — for a probe node of every loader skops has, and for real
  dumps of sklearn models, pipelines, scipy sparse matrices and numpy values.
* **Verdicts**: a name the loader imports that is not on the allowlist is reported; real dumps
  are clean.

Disagreements this oracle found in the first model (each kept as a probe case below, fixed in
``skops_nodes``): a ``TypeNode`` in a ``DictNode``'s ``key_types`` is *called* on the file's keys
(``content[k_type(key)]``), not only handed over (probe ``DictNode-key-type``); ``TupleNode``
imports its class even when it is ``builtins.tuple`` (and calls it when it is a named tuple);
``TreeNode`` makes ``get_untrusted_types`` list and the loader call ``sklearn.tree._tree.Tree``,
a name the file never spells (probe ``TreeNode``; likewise QuantileForestNode).
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlwarden.scan.engine import scan_bytes
from mlwarden.scan.formats.skops_file import referenced_names, schema_nodes
from mlwarden.scan.formats.skops_nodes import KNOWN_LOADERS, node_uses

from .skops_oracle import OracleResult, run

pytest.importorskip("skops")

PROBE = "mlw_probe"
FIXED = {"numpy.random.bit_generator.SeedSequence"}
"""A name skops itself supplies (RandomGeneratorNode's seed sequence; its bit generator is
checked against ``skops_nodes.BIT_GENERATORS``)."""


def _json(value: object) -> dict[str, object]:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _tuple(*items: dict[str, object]) -> dict[str, object]:
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
            "content": list(items)}


def _dict(**items: dict[str, object]) -> dict[str, object]:
    return {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
            "content": items, "key_types": {
                "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                "content": [{"__class__": "str", "__module__": "builtins",
                             "__loader__": "TypeNode"} for _ in items]}}


def _named(loader: str, **extra: object) -> dict[str, object]:
    return {"__class__": f"P_{loader}", "__module__": PROBE, "__loader__": loader, **extra}


def _npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.arange(3.0))
    return buf.getvalue()


PROBES: dict[str, dict[str, object]] = {
    "ConstructorFromReduceNode": _named("ConstructorFromReduceNode", content=_tuple(_json(1))),
    "ObjectNode": _named("ObjectNode", content=_dict(a=_json(1))),
    "FunctionNode": _named("FunctionNode"),
    "TypeNode": _named("TypeNode"),
    "DictNode": _named("DictNode", content={"k": _json(1)}, key_types={
        "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
        "content": [{"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"}]}),
    "DictNode-key-type": _dict(k=_json(1)) | {"key_types": {
        "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
        "content": [_named("TypeNode")]}},
    "ListNode": _named("ListNode", content=[_json(1)]),
    "SetNode": _named("SetNode", content=[_json(1)]),
    "TupleNode": _named("TupleNode", content=[_json(1)]),
    "NdArrayNode": _named("NdArrayNode", type="numpy", file="a.npy"),
    "NdArrayNode-json": _named("NdArrayNode", type="json", content=[_json(1)],
                               shape=_tuple(_json(1))),
    "RandomStateNode": _named("RandomStateNode", content=_json(None)),
    "MethodNode": _named("MethodNode", content={"func": "predict",
                                                "obj": _named("ObjectNode",
                                                              __class__="P_MethodNode")}),
    "PartialNode": _named("PartialNode", content={
        "func": {"__class__": "add", "__module__": "numpy", "__loader__": "FunctionNode"},
        "args": _tuple(), "kwds": _dict(), "namespace": _json(None)}),
    "LossNode": _named("LossNode", content=_dict(a=_json(1)),
                       __reduce__={"args": _tuple(_json(1))}),
    "TreeNode": _named("TreeNode", content=_dict(a=_json(1)), __reduce__={"args": _tuple()}),
    "DefaultDictNode": _named("DefaultDictNode", content={
        "main": _dict(), "default_factory": {"__class__": "list", "__module__": "builtins",
                                             "__loader__": "TypeNode"}}),
    "JsonNode": _named("JsonNode", content="1", is_json=True),
    "BytesNode": _named("BytesNode", file="b.bin"),
    "BytearrayNode": _named("BytearrayNode", file="b.bin"),
    "SliceNode": _named("SliceNode", content={"start": 1, "stop": 2, "step": None}),
}


def _skops(root: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("schema.json", json.dumps({**root, "protocol": 2,
                                               "_skops_version": "0.16.0"}))
        zf.writestr("a.npy", _npy())
        zf.writestr("b.bin", b"xy")
    return buf.getvalue()


def _benign() -> dict[str, bytes]:
    import scipy.sparse as sp
    import scipy.special
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

    rng = np.random.default_rng(0)
    x, y = rng.random((40, 3)), [0, 1] * 20
    objs: dict[str, Any] = {
        "pipeline": make_pipeline(MinMaxScaler(), FunctionTransformer(np.log1p),
                                  FunctionTransformer(scipy.special.expit),
                                  LogisticRegression()).fit(x, y),
        "forest": RandomForestClassifier(n_estimators=2, random_state=0).fit(x, y),
        "hgb": HistGradientBoostingClassifier(max_iter=2).fit(x, y),
        "sgd": SGDClassifier().fit(x, y),
        "knn": KNeighborsClassifier().fit(x, y),
        "values": {"csr": sp.csr_matrix(np.eye(3)), "coo": sp.coo_array(np.eye(2)),
                   "rs": np.random.RandomState(0), "gen": np.random.default_rng(1),
                   "t": (1, 2), "s": {1}, "b": b"x", "sl": slice(1, 2), "dt": np.dtype("f4"),
                   "ma": np.ma.MaskedArray([1, 2], [0, 1]), "f": np.float64(1.5)},
    }
    return {k: bytes(sio.dumps(v)) for k, v in objs.items()}


def _hostile() -> dict[str, bytes]:
    from tests.scan.redteam import cases_round5 as r5

    canary = Path("/nonexistent/mlwarden-canary")
    return {"r5-booster": r5._skops_booster_reduce(canary), "r5-rv": r5._skops_rv_object(canary),
            "r5-memmap": r5._skops_memmap_reduce(canary)}


@pytest.fixture(scope="module")
def oracle() -> tuple[dict[str, bytes], dict[str, OracleResult]]:
    files = {f"probe-{k}": _skops(v) for k, v in PROBES.items()}
    files.update(_benign())
    files.update(_hostile())
    files.update(_random_files(seed=5, count=40))
    return files, run(files)


def _scanner_view(data: bytes) -> tuple[set[str], dict[str, set[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = json.loads(zf.read("schema.json"))
    names = set()
    for module, name, _loader in referenced_names(root):
        names.add(name if module == "<method>" else f"{module}.{name}")
    uses: dict[str, set[str]] = {}
    for node in schema_nodes(root):
        for use in node_uses(node):
            uses.setdefault(f"{use.module}.{use.name}", set()).add(use.use)
            if use.method is not None:
                names.add(f"{use.module}.{use.name}.{use.method}")
    return names, uses


def test_every_loader_of_the_installed_skops_is_modelled(
        oracle: tuple[dict[str, bytes], dict[str, OracleResult]]) -> None:
    loaders = set(oracle[1]["LOADERS"].untrusted or [])
    assert "ObjectNode" in loaders and loaders <= KNOWN_LOADERS, loaders - KNOWN_LOADERS


def _parity_problems(key: str, data: bytes, result: OracleResult) -> list[str]:
    problems = []
    names, uses = _scanner_view(data)
    for qual in result.untrusted or []:
        if qual not in names:
            problems.append(f"{key}: get_untrusted_types lists {qual}, the scanner misses it")
    for qual, events in result.events.items():
        if qual in FIXED or (qual.startswith("numpy.random.") and qual.count(".") == 2):
            continue
        modelled = uses.get(qual)
        if modelled is None:
            problems.append(f"{key}: the loader imports {qual}, the scanner misses it")
            continue
        if "call" in events and "call" not in modelled:
            problems.append(f"{key}: the loader calls {qual}, the scanner says {modelled}")
        if "new" in events and "new" not in modelled:
            problems.append(f"{key}: the loader runs {qual}.__new__, the scanner says {modelled}")
        if modelled == {"none"}:
            problems.append(f"{key}: the loader imports {qual}, the scanner says unused")
    if result.error is None:  # the whole tree was constructed: nothing the scanner models as
        for qual, modelled in uses.items():  # used may go unimported
            if qual.startswith(PROBE) and qual not in result.events and modelled - {"none"}:
                problems.append(f"{key}: the scanner says {qual} is used as {modelled}, the "
                                "loader never imports it")
    return problems


def _unreported(key: str, data: bytes, result: OracleResult) -> list[str]:
    """Names the loader imported and called or instantiated that are neither allowlisted for
    that use nor reported."""
    from mlwarden.scan.pickle import names

    report = scan_bytes(data, name=f"{key}.skops")
    reported = {f.evidence.get("name") for f in report.active}
    out = []
    for qual, events in result.events.items():
        module, _, name = qual.rpartition(".")
        if qual in reported or qual in FIXED or not {"call", "new"} & set(events):
            continue
        if qual.startswith("numpy.random.") and qual.count(".") == 2:
            continue
        safe = names.judge(module, name).verdict == names.SAFE
        if not safe or ("call" in events and qual in names.CALL_ONLY_HERE | names.CALL_DANGEROUS):
            out.append(f"{key}: the loader {sorted(set(events))} {qual}, not reported")
    return out


def test_names_and_uses_match_the_loader(oracle: tuple[dict[str, bytes],
                                                       dict[str, OracleResult]]) -> None:
    files, results = oracle
    problems = [p for key, data in files.items()
                for p in _parity_problems(key, data, results[key])]
    assert problems == [], "\n".join(problems)


def test_verdicts_follow_the_loader(oracle: tuple[dict[str, bytes],
                                                 dict[str, OracleResult]]) -> None:
    files, results = oracle
    for key, data in files.items():
        report = scan_bytes(data, name=f"{key}.skops")
        reported = {f.evidence.get("name") for f in report.active}
        if key.startswith("probe-"):
            imported = {q for q in results[key].events if q.startswith(PROBE)}
            assert imported <= reported, (key, imported, reported)
        elif key.startswith("random-"):
            continue
        elif key.startswith("r5-"):
            assert any(f.severity.value in ("high", "critical") for f in report.active), key
        else:
            assert not report.active, (key, [f.message for f in report.active])


# -- random trees: every node kind, nested, with names from a pool -----------------------------

_POOL = [(PROBE, "P"), ("builtins", "dict"), ("builtins", "list"), ("numpy", "memmap"),
         ("xgboost.core", "Booster"), ("posix", "system"), ("my_models", "TinyNet"),
         ("sklearn.linear_model._logistic", "LogisticRegression"), ("numpy", "log1p"),
         ("scipy.stats._continuous_distns", "norm_gen")]


def random_tree(rng: random.Random, depth: int = 0) -> dict[str, object]:
    """A schema node of a random kind, its children random too (at most four levels)."""
    module, name = rng.choice(_POOL)
    if name == "P":
        name = f"P{rng.randrange(10**6)}"

    def kids(n: int) -> list[dict[str, object]]:
        return [random_tree(rng, depth + 1) for _ in range(n)]

    def named(loader: str, **extra: object) -> dict[str, object]:
        return {"__class__": name, "__module__": module, "__loader__": loader, **extra}

    kinds = ["json", "function", "type"] if depth >= 3 else [
        "json", "function", "type", "reduce", "object", "list", "set", "tuple", "dict",
        "partial", "loss", "method", "defaultdict", "ndarray", "tree"]
    kind = rng.choice(kinds)
    if kind == "json":
        return _json(rng.choice([1, "a", None, [1, 2]]))
    if kind == "function":
        return named("FunctionNode")
    if kind == "type":
        return named("TypeNode")
    if kind == "reduce":
        return named("ConstructorFromReduceNode", content=_tuple(*kids(rng.randrange(3))))
    if kind == "object":
        return named("ObjectNode", content=_dict(**{f"a{i}": k for i, k in
                                                   enumerate(kids(rng.randrange(3)))}))
    if kind in ("list", "set", "tuple"):
        loader = {"list": "ListNode", "set": "SetNode", "tuple": "TupleNode"}[kind]
        return named(loader, content=[_json(i) for i in range(rng.randrange(3))])
    if kind == "dict":
        items = {f"k{i}": k for i, k in enumerate(kids(rng.randrange(3)))}
        key_types = [named("TypeNode") if rng.random() < 0.3 else
                     {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"}
                     for _ in items]
        return named("DictNode", content=items, key_types={
            "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
            "content": key_types})
    if kind == "partial":
        return named("PartialNode", content={"func": named("FunctionNode"),
                                             "args": _tuple(*kids(rng.randrange(2))),
                                             "kwds": _dict(), "namespace": _json(None)})
    if kind in ("loss", "tree"):
        return named("LossNode" if kind == "loss" else "TreeNode",
                     content=_dict(**{f"a{i}": k for i, k in enumerate(kids(rng.randrange(2)))}),
                     __reduce__={"args": _tuple(*kids(rng.randrange(2)))})
    if kind == "method":
        return named("MethodNode", content={"func": rng.choice(["predict", "fit"]),
                                            "obj": named("ObjectNode", content=_dict())})
    if kind == "defaultdict":
        return named("DefaultDictNode", content={"main": _dict(),
                                                 "default_factory": named("TypeNode")})
    return named("NdArrayNode", type="numpy", file="a.npy")


def _random_files(seed: int, count: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    return {f"random-{seed}-{i}": _skops(random_tree(rng)) for i in range(count)}


def _check_random(files: dict[str, bytes]) -> None:
    results = run(files)
    problems = [p for key, data in files.items()
                for p in (*_parity_problems(key, data, results[key]),
                          *_unreported(key, data, results[key]))]
    assert problems == [], "\n".join(problems[:40])


def test_random_trees_match_the_loader(oracle: tuple[dict[str, bytes],
                                                     dict[str, OracleResult]]) -> None:
    """40 random trees, run by the module's oracle child with the other files."""
    files, results = oracle
    problems = [p for key, data in files.items() if key.startswith("random-")
                for p in (*_parity_problems(key, data, results[key]),
                          *_unreported(key, data, results[key]))]
    assert problems == [], "\n".join(problems[:40])


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_random_trees_match_the_loader_long(seed: int) -> None:
    _check_random(_random_files(seed=1000 + seed, count=500))

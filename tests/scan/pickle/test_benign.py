"""Benign model files the real libraries write: no finding at or above low, every stream complete.

Objects are only *dumped* here (pickle.dumps, joblib.dump, torch.save); nothing is ever loaded.
"""

from __future__ import annotations

import array
import collections
import datetime
import decimal
import fractions
import io
import ipaddress
import pickle
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.interface import ScanTarget
from mlwarden.scan.pickle import PickleScanner, looks_like_pickle
from tests.scan.pickle.opcodes import scan


def assert_clean(data: bytes | memoryview, label: str) -> None:
    ctx, results = scan(data, many=True)
    loud = [(f.rule_id, f.severity.value, f.message) for f in ctx.findings
            if f.severity >= Severity.LOW]
    assert not loud, f"{label}: {loud}"
    assert results and all(r.complete for r in results), label
    assert results[-1].end == len(data), label


def _fitted() -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import BallTree, KDTree, KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    x = rng.random((40, 3))
    y = (x[:, 0] > 0.5).astype(int)
    return {
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
        "forest": RandomForestClassifier(n_estimators=2, random_state=0).fit(x, y),
        "hgb": HistGradientBoostingClassifier(max_iter=2).fit(x, y),
        "knn": KNeighborsClassifier().fit(x, y),
        "kdtree": KDTree(x), "balltree": BallTree(x),
        "tfidf": TfidfVectorizer().fit(["apple banana", "banana cherry"]),
        "onehot": OneHotEncoder().fit([["a"], ["b"]]),
        "log1p": FunctionTransformer(np.log1p),
    }


@pytest.fixture(scope="module")
def sklearn_models() -> dict[str, Any]:
    return _fitted()


@pytest.mark.parametrize("protocol", range(6))
def test_sklearn_models_all_protocols(sklearn_models: dict[str, Any], protocol: int) -> None:
    for name, model in sklearn_models.items():
        assert_clean(pickle.dumps(model, protocol=protocol), f"{name}/p{protocol}")


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_numpy_arrays(protocol: int) -> None:
    arrays = [np.arange(10.0), np.zeros((2, 3), dtype=np.int32, order="F"), np.array(["a", "bc"]),
              np.array([True, False]), np.float64(1.5), np.int64(3),
              np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]), np.ma.masked_array([1, 2], [0, 1]),
              np.random.default_rng(1), np.random.RandomState(2)]
    for arr in arrays:
        assert_clean(pickle.dumps(arr, protocol=protocol), f"{type(arr).__name__}/p{protocol}")


def test_pickle5_in_band_buffers() -> None:
    data = pickle.dumps(pickle.PickleBuffer(np.arange(1000, dtype=np.uint8)), protocol=5)
    assert_clean(data, "PickleBuffer")
    assert_clean(pickle.dumps(np.arange(100_000, dtype=np.float32), protocol=5), "big array p5")


def test_pandas_frames() -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"],
                          "c": pd.to_datetime(["2020-01-01", "2020-01-02"]),
                          "d": pd.Categorical(["u", "v"])})
    series = pd.Series([1.0, 2.0], index=pd.MultiIndex.from_tuples([(1, 2), (3, 4)]))
    for obj in (frame, series, pd.date_range("2020", periods=3), pd.Timestamp("2020-01-01")):
        for protocol in (2, 4, 5):
            assert_clean(pickle.dumps(obj, protocol=protocol), f"{type(obj).__name__}/p{protocol}")


def test_scipy_sparse() -> None:
    import scipy.sparse as sp

    for obj in (sp.csr_matrix(np.eye(3)), sp.csc_array(np.eye(3)), sp.coo_matrix(np.eye(3))):
        assert_clean(pickle.dumps(obj, protocol=4), type(obj).__name__)


def test_xgboost_and_lightgbm_wrappers() -> None:
    import lightgbm as lgb
    import xgboost as xgb

    x = np.random.default_rng(0).random((40, 3))
    y = (x[:, 0] > 0.5).astype(int)
    for model in (xgb.XGBClassifier(n_estimators=2).fit(x, y),
                  lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(x, y)):
        assert_clean(pickle.dumps(model, protocol=4), type(model).__name__)


def test_torch_zip_data_pkl() -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())
    optimizer = torch.optim.Adam(model.parameters())
    for obj in (model.state_dict(), {"model": model.state_dict(), "epoch": 3,
                                     "optimizer": optimizer.state_dict()}):
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        with zipfile.ZipFile(buffer) as archive:
            [member] = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            assert_clean(archive.read(member), member)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_joblib_uncompressed_with_inline_arrays(tmp_path: Path, sklearn_models: dict[str, Any],
                                                protocol: int) -> None:
    import joblib

    objects = {**sklearn_models,
               "objects": np.array([{"k": 1}, "text", None], dtype=object),
               "mixed": {"big": np.arange(50_000, dtype=np.float64), "u8": np.arange(7, dtype=np.uint8),
                         "obj": np.array([[1, "a"]], dtype=object), "str": np.array(["ab", "c"]),
                         "fortran": np.asfortranarray(np.ones((3, 5))), "scalar": np.array(3.0)}}
    for name, obj in objects.items():
        path = tmp_path / f"{name}.joblib"
        joblib.dump(obj, path, protocol=protocol)
        assert_clean(path.read_bytes(), f"joblib {name}/p{protocol}")


def test_joblib_alignment_padding_is_honoured(tmp_path: Path) -> None:
    import joblib

    # arrays of odd sizes force non-zero padding before each following array
    path = tmp_path / "pad.joblib"
    joblib.dump([np.arange(n, dtype=np.int8) for n in range(1, 20)], path)
    data = path.read_bytes()
    assert b"numpy_array_alignment_bytes" in data
    assert_clean(data, "padded")


def test_plain_values() -> None:
    values = [collections.OrderedDict(a=1), collections.defaultdict(list, a=[1]),
              collections.deque([1, 2]), collections.Counter("aab"),
              datetime.datetime(2020, 1, 2, tzinfo=datetime.UTC), datetime.date(2020, 1, 1),
              datetime.timedelta(3), decimal.Decimal("1.10"), fractions.Fraction(1, 3),
              uuid.UUID(int=7), {1, 2}, frozenset([3]), bytearray(b"xy"), complex(1, 2),
              slice(1, 5, 2), range(4), b"bytes", "text", 10**40, -1.5, None, True,
              [[[]]], {"nested": {"dict": (1, 2)}}, type(None), ..., NotImplemented,
              array.array("d", [1.0, 2.0]), re.IGNORECASE, collections.ChainMap({"a": 1}),
              ipaddress.ip_address("10.0.0.1"), ipaddress.ip_network("10.0.0.0/8")]
    for value in values:
        for protocol in range(6):
            assert_clean(pickle.dumps(value, protocol=protocol), f"{value!r}/p{protocol}")


def test_sniffing() -> None:
    for protocol in range(6):
        assert looks_like_pickle(pickle.dumps({"a": [1, 2.5, "x"]}, protocol=protocol)[:64])
    assert looks_like_pickle(b"cos\nsystem\n(S'id'\ntR.")
    for other in (b"hello world, this is text\n", b'{"json": true}', b"\x89PNG\r\n\x1a\n",
                  b"PK\x03\x04", b"", b"GGUF\x03\x00\x00\x00", b"Now is the time\n", b"\x80\x09",
                  b"N.B. this is a note\n", b"(c) 2024 Example Corp.\nAll rights reserved.\n" * 4,
                  b"I am text\n"):
        assert not looks_like_pickle(other), other
    assert looks_like_pickle(b"]]]") and not looks_like_pickle(b"]]]", final=True)
    # a protocol-0 string or number longer than the sniffed head is still a pickle
    long_string = b"S'" + b"weights " * 700 + b"'\n0cos\nsystem\n(S'id'\ntR."
    assert looks_like_pickle(long_string[:512])
    assert looks_like_pickle(b"I" + b"1" * 600)
    text = "weights " * 1000
    long_unicode = b"X" + len(text).to_bytes(4, "little") + text.encode() + b"0N."
    assert looks_like_pickle(long_unicode[:4096], size=len(long_unicode))
    assert not looks_like_pickle(b"XML data follows " * 300, size=5100)
    assert not looks_like_pickle(b"Some text that is long " * 40)


def test_pickle_scanner_is_registered() -> None:
    from mlwarden.scan.interface import FormatScanner

    assert FormatScanner.registry["pickle"] is PickleScanner
    assert PickleScanner.priority == 900
    data = pickle.dumps([1, 2], protocol=2)
    target = ScanTarget(path="x.pkl", data=data)
    assert PickleScanner.detect(target.head(), target)
    ctx, _ = scan(data)
    PickleScanner().scan(target, ctx)
    assert ctx.findings == []


def test_out_of_band_buffers() -> None:
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(np.arange(1000, dtype=np.float32), protocol=5, buffer_callback=buffers.append)
    assert buffers and b"\x97" in data  # NEXT_BUFFER
    assert_clean(data, "out-of-band")


def test_nested_globals_are_part_of_the_result() -> None:
    inner = pickle.dumps(collections.OrderedDict(a=1), protocol=2)
    data = (b"\x80\x02cpickle\nloads\n(C" + bytes([len(inner)]) + inner + b"tR.")
    ctx, [result] = scan(data)
    offsets = {g.qualname: g.offset for g in result.globals}
    assert offsets["pickle.loads"] == 2
    assert data.index(inner) < offsets["collections.OrderedDict"] < data.index(inner) + len(inner)
    assert [f.rule_id for f in ctx.findings] == ["MW-PKL-004"]


def test_estimators_with_function_parameters() -> None:
    from sklearn.cluster import BisectingKMeans, FeatureAgglomeration
    from sklearn.feature_selection import SelectKBest
    from sklearn.preprocessing import SplineTransformer

    x = np.random.default_rng(0).random((30, 4))
    y = (x[:, 0] > 0.5).astype(int)
    for model in (SelectKBest(k=2).fit(x, y), FeatureAgglomeration(n_clusters=2).fit(x),
                  SplineTransformer().fit(x), BisectingKMeans(n_clusters=2, random_state=0).fit(x)):
        assert_clean(pickle.dumps(model, protocol=5), type(model).__name__)


@pytest.mark.slow
def test_every_sklearn_estimator() -> None:
    import warnings

    from sklearn.utils import all_estimators

    rng = np.random.default_rng(0)
    x = rng.random((60, 4))
    targets = ((x[:, 0] > 0.5).astype(int), x[:, 1], None)
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, cls in all_estimators():
            try:
                model = cls()
            except TypeError:
                continue  # meta-estimators need an inner estimator
            for target in targets:
                try:
                    model.fit(x, target) if target is not None else model.fit(x)
                    break
                except Exception:  # noqa: BLE001 - estimators reject data shapes in many ways
                    continue
            assert_clean(pickle.dumps(model, protocol=5), name)
            checked += 1
    assert checked > 150


def test_more_pandas_and_time_zones() -> None:
    import pandas as pd

    objects = [pd.timedelta_range("1D", periods=3), pd.interval_range(0, 3),
               pd.array(["a", None], dtype="string"), pd.period_range("2020", periods=2, freq="M"),
               pd.Series(pd.date_range("2020", periods=2, tz="Europe/Paris"))]
    for obj in objects:
        for protocol in (2, 5):
            assert_clean(pickle.dumps(obj, protocol=protocol), f"{type(obj).__name__}/p{protocol}")


def test_torch_tensors_pickled_with_plain_pickle() -> None:
    torch = pytest.importorskip("torch")
    for obj in (torch.nn.Parameter(torch.ones(2)), torch.ones(3, dtype=torch.bfloat16),
                {"w": torch.arange(4, dtype=torch.int8)}):
        data = pickle.dumps(obj, protocol=4)
        ctx, results = scan(data, many=True)
        nested = [f for f in ctx.findings if f.rule_id == "MW-PKL-004"]
        assert nested and all(f.severity is Severity.INFO for f in ctx.findings)
        assert nested[0].evidence["nested_pickles"] == 5 and results[0].complete


def test_training_args_namespaces() -> None:
    import argparse
    import types

    for obj in ({"args": argparse.Namespace(lr=0.1, epochs=3)}, types.SimpleNamespace(a=1)):
        for protocol in (0, 2, 4):
            assert_clean(pickle.dumps(obj, protocol=protocol), f"{obj!r}/p{protocol}")


@pytest.mark.parametrize("qualname", [
    "transformers.training_args.TrainingArguments", "transformers.trainer_utils.IntervalStrategy",
    "lightning.fabric.utilities.data.AttributeDict", "omegaconf.dictconfig.DictConfig",
    "omegaconf.base.ContainerMetadata", "omegaconf.nodes.AnyNode", "argparse.Namespace",
])
def test_training_metadata_classes_in_checkpoints(qualname: str) -> None:
    module, _, name = qualname.rpartition(".")
    data = (b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n)\x81}X\x02\x00\x00\x00lr"
            b"G?PbM\xd2\xf1\xa9\xfcsb.")
    assert_clean(data, qualname)


def test_numpy_record_arrays() -> None:
    rec = np.rec.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])
    for protocol in (2, 4, 5):
        assert_clean(pickle.dumps(rec, protocol=protocol), f"recarray/p{protocol}")
        assert_clean(pickle.dumps(rec[0], protocol=protocol), f"record/p{protocol}")

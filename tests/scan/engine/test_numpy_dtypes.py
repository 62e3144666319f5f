"""The numpy-free dtype table answers exactly as numpy does, and declines everything else."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.scan.numpy_dtypes import SCALAR_TYPES, simple_descr_has_objects, simple_dtype

CODES = ["".join(p) for p in itertools.product(["", "<", ">", "|", "="], "biufcMmOSUVe?dqx",
                                                ["", "0", "1", "2", "4", "8", "16", "32", "08"])]
CODES += ["V64", "S10", "U7", "<U7", "|S1", "V2147483647", "V2147483648", "U536870911",
          "U536870912", "S2147483647", "S99999999999"]


@pytest.mark.parametrize("code", CODES)
def test_simple_codes_agree_with_numpy(code: str) -> None:
    ours = simple_dtype(code)
    if ours is None:
        return  # declined: the caller asks numpy
    dt = np.dtype(code)  # raises where numpy would refuse what we accepted
    assert ours == (dt.itemsize, dt.hasobject, dt.kind), code


def test_the_codes_numpy_writes_itself_are_answered() -> None:
    for dtype in (np.float64, np.float32, np.float16, np.int8, np.uint64, np.bool_, np.complex128,
                  np.object_, "datetime64[ns]", "timedelta64[s]"):
        dt = np.dtype(dtype)
        if dt.kind not in "Mm":  # '<M8[ns]' carries a unit: numpy reads that one
            assert simple_dtype(dt.str) == (dt.itemsize, dt.hasobject, dt.kind)
        code = dt.__reduce__()[1][0]  # what a pickled dtype carries: 'f8', 'b1', 'O8', 'M8'
        assert simple_dtype(code) == (dt.itemsize, dt.hasobject, dt.kind)


@pytest.mark.parametrize("name", sorted(SCALAR_TYPES))
def test_scalar_classes_agree_with_numpy(name: str) -> None:
    dt = np.dtype(getattr(np, name))
    assert SCALAR_TYPES[name] == (dt.itemsize, dt.hasobject, dt.kind)


@given(st.text(max_size=6))
def test_anything_accepted_is_read_by_numpy_the_same_way(spelling: str) -> None:
    ours = simple_dtype(spelling)
    if ours is not None:
        dt = np.dtype(spelling)
        assert ours == (dt.itemsize, dt.hasobject, dt.kind)


_CODES = st.sampled_from(["<f4", "|b1", "<i8", "|O", "O8", "|u1", "<c16", "|V4", "<U3", "|S2",
                          "<M8", "?", "<f16", "(2,)f4"])


def _descrs(depth: int = 0) -> st.SearchStrategy[object]:
    field_code = _CODES if depth >= 2 else st.one_of(_CODES, st.deferred(lambda: _descrs(depth + 1)))
    field = st.one_of(
        st.tuples(st.text(alphabet="abcxyz", min_size=1, max_size=3), field_code),
        st.tuples(st.text(alphabet="abcxyz", min_size=1, max_size=3), field_code,
                  st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3)))))
    return st.lists(field, min_size=1, max_size=4)


@given(st.one_of(_CODES, _descrs()))
def test_structured_descrs_agree_with_numpy(descr: object) -> None:
    from numpy.lib.format import descr_to_dtype

    ours = simple_descr_has_objects(descr)
    if ours is None:
        return
    try:
        numpy_says = bool(descr_to_dtype(descr).hasobject)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - numpy refuses it: np.load cannot load it either
        return
    assert ours == numpy_says, descr

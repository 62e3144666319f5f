"""Pickled scipy distributions: scipy's own argument-parser template is vetted, any other one is
the ``exec`` gadget it is (``rv_generic.__setstate__`` runs ``exec(self._parse_arg_template)``)."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_bytes
from mlwarden.scan.pickle.scipy_dists import canonical_template
from tests.conftest import LazyModule

stats: Any = LazyModule("scipy.stats")  # imported by the tests that use it, not at collection


def _worst(data: bytes) -> Severity | None:
    return scan_bytes(data, name="d.pkl").max_severity()


@pytest.mark.parametrize("make", [lambda: stats.norm(0, 1), lambda: stats.loguniform(1e-3, 1e2),
                                  lambda: stats.beta(2, 3), lambda: stats.gamma(1.5),
                                  lambda: {"C": stats.uniform(0, 4), "l1": stats.expon()}],
                         ids=["norm", "loguniform", "beta", "gamma", "search-space"])
def test_genuine_distributions_are_clean(make: object) -> None:
    assert _worst(pickle.dumps(make(), protocol=4)) is None  # type: ignore[operator]


def test_every_installed_distribution_template_is_recognised() -> None:
    for name in dir(stats):
        dist = getattr(stats, name)
        template = getattr(dist, "_parse_arg_template", None)
        if isinstance(template, str):
            assert canonical_template(template), name


def _hostile(edit: str) -> bytes:
    dist = copy.deepcopy(stats.norm)
    own = stats.norm._parse_arg_template
    dist._parse_arg_template = (own + "\nimport os\nos.system('true')\n" if edit == "appended"
                                else own.replace("return (), loc, scale\n",
                                                 "return __import__('os'), loc, scale\n", 1))
    return pickle.dumps(dist)


@pytest.mark.parametrize("edit", ["appended", "inlined"])
def test_another_template_is_critical(edit: str) -> None:
    assert _worst(_hostile(edit)) == Severity.CRITICAL


def test_one_bad_rebuild_spoils_the_class_for_the_whole_stream() -> None:
    data = pickle.dumps((stats.norm, copy.deepcopy(stats.norm)))
    assert _worst(data) is None  # two genuine rebuilds
    bad = copy.deepcopy(stats.norm)
    bad._parse_arg_template += "\nimport os\n"
    assert _worst(pickle.dumps((stats.norm, bad))) == Severity.CRITICAL
    assert _worst(pickle.dumps((bad, stats.norm))) == Severity.CRITICAL


def test_shapes_must_be_identifiers() -> None:
    own = stats.gamma._parse_arg_template
    assert canonical_template(own)
    assert not canonical_template(own.replace("a, ", "a=__import__('os'), ", 1))
    assert not canonical_template(own.replace(" a,", " self,"))
    assert not canonical_template(own + "\n")

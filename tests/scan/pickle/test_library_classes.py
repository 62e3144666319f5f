"""The medium "instantiated without a call" verdict is for user classes only (issue 10).

A class rebuilt by ``NEWOBJ`` with no arguments + ``BUILD`` runs no constructor, but its own hooks
(``__setstate__``, ``__del__``, ``__getattr__``, slot setters) still run on the pickle's state. For a
user's own class that is the user's code: medium, a review note. For a class of the standard
library or of a library ML users install, it is shared code an attacker can pick for its hooks:
high, and critical for the gadget classes the sweep found (``test_gadget_sweep.py``). Every pickle
here is built opcode by opcode and only scanned.
"""

from __future__ import annotations

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan.pickle import libraries
from tests.scan.pickle.opcodes import (
    BUILD,
    EMPTY_DICT,
    EMPTY_TUPLE,
    NEWOBJ,
    NONE,
    REDUCE,
    SETITEM,
    STOP,
    TUPLE3,
    by_rule,
    global_,
    proto,
    s,
    scan,
    worst,
)

STATE = EMPTY_DICT + s("name") + s("a") + SETITEM


def rebuilt(module: str, name: str, state: bytes = STATE) -> bytes:
    """``cls.__new__(cls)`` + BUILD, as ``object.__reduce_ex__(2)`` saves any instance."""
    return proto(2) + global_(module, name) + EMPTY_TUPLE + NEWOBJ + state + BUILD + STOP


def reconstructed(module: str, name: str) -> bytes:
    """``copyreg._reconstructor(cls, object, None)`` + BUILD (protocols 0 and 1)."""
    return (proto(1) + global_("copyreg", "_reconstructor") + global_(module, name)
            + global_("builtins", "object") + NONE + TUPLE3 + REDUCE + STATE + BUILD + STOP)


def _severity_of(data: bytes, qual: str) -> Severity:
    ctx, _ = scan(data)
    found = [f.severity for f in ctx.findings if f.evidence.get("callable") == qual]
    assert found, [f.message for f in ctx.findings]
    return max(found)


USER = [("__main__", "Net"), ("train", "MyModel"), ("myproj.models.heads", "Head"),
        ("tests.scan.pickle.tinynet", "Record"), ("src.model", "UNet")]
"""Modules of no known library: the user's own code."""

VETTED_MODEL_NAMESPACES = [("torchvision.models.resnet", "ResNet"),
                           ("torchvision.models.resnet", "BasicBlock"),
                           ("ultralytics.nn.tasks", "DetectionModel"),
                           ("ultralytics.nn.modules.conv", "Conv"),
                           ("timm.models.vision_transformer", "VisionTransformer")]
"""torch.nn.Module model classes ``torch.save(model)`` names (libraries/INSTANTIATE_ONLY_NAMESPACES)."""

LIBRARY = [("transformers.models.bert.modeling_bert", "BertModel"),
           ("torch.optim.adam", "Adam"), ("scipy.optimize._optimize", "OptimizeResult"),
           ("pandas.plotting._core", "PlotAccessor"), ("mlflow.pyfunc", "PyFuncModel"),
           ("accelerate.accelerator", "Accelerator"), ("torchvision.datasets.folder", "ImageFolder"),
           ("diffusers.pipelines", "StableDiffusionPipeline"), ("onnx.onnx_ml_pb2", "ModelProto"),
           ("wave", "Wave_write"), ("email.message", "Message"), ("json.decoder", "JSONDecoder")]
"""Classes of the standard library or of catalogued libraries that are not on the allowlist."""


@pytest.mark.parametrize(("module", "name"), USER)
@pytest.mark.parametrize("build", [rebuilt, reconstructed])
def test_a_user_class_only_rebuilt_is_medium(module: str, name: str, build: object) -> None:
    assert callable(build)
    assert _severity_of(build(module, name), f"{module}.{name}") == Severity.MEDIUM


@pytest.mark.parametrize(("module", "name"), VETTED_MODEL_NAMESPACES)
def test_vetted_model_namespaces_keep_the_medium_note(module: str, name: str) -> None:
    assert _severity_of(rebuilt(module, name), f"{module}.{name}") == Severity.MEDIUM
    # called with arguments, a vetted model class is high like any unvetted name
    called = proto(2) + global_(module, name) + s("x") + b"\x85" + REDUCE + STOP
    assert _severity_of(called, f"{module}.{name}") == Severity.HIGH


@pytest.mark.parametrize(("module", "name"), LIBRARY)
@pytest.mark.parametrize("build", [rebuilt, reconstructed])
def test_a_library_class_only_rebuilt_stays_high(module: str, name: str, build: object) -> None:
    assert callable(build)
    ctx, _ = scan(build(module, name))
    [finding] = [f for f in by_rule(ctx, "MW-PKL-003")
                 if f.evidence.get("callable") == f"{module}.{name}"]
    assert finding.severity == Severity.HIGH, finding.message
    assert finding.evidence["instantiated_only"] is True
    assert "not a user's class" in finding.message
    assert finding.evidence["library"] == module.partition(".")[0]


def test_allow_globals_still_waives_a_library_class() -> None:
    ctx, _ = scan(rebuilt("torch.optim.adam", "Adam"), allow=("torch.optim.adam.Adam",))
    assert worst(ctx) is None


@pytest.mark.parametrize(("module", "user"), [
    ("__main__", True), ("model", True), ("my_company.nets", True), ("tests.helpers", True),
    ("numpy.core", False), ("sklearn.ensemble._forest", False), ("torch", False),
    ("transformers", False), ("xgboost.sklearn", False), ("dill._dill", False), ("os", False),
    ("collections", False), ("<computed>", False), ("", False), ("mlwarden.scan", False),
])
def test_user_module_definition(module: str, user: bool) -> None:
    assert libraries.is_user_module(module) is user


def test_the_catalogue_covers_every_library_the_lists_name() -> None:
    """Every third-party top-level package the allow/deny lists mention is a known library."""
    from mlwarden.scan.pickle import names

    for module in names.library_modules():
        assert not libraries.is_user_module(module), module

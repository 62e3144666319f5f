"""Real torch.jit.trace / torch.jit.script archives are clean; hostile code/ members are not.

TorchScript spells a submodule whose name is not an identifier as ``getattr(self, "0")``: that is
attribute access compiled by TorchScript, not a Python escape.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from mlwarden.scan.formats.torch_zip import check_torchscript_code
from mlwarden.scan.interface import ScanContext, ScanTarget

from .conftest import scan_file

MODEL_NAMES = ("script-custom-submodules", "script-lstm", "script-sequential", "trace-conv",
               "trace-custom-submodules", "trace-lstm", "trace-sequential")
"""Real TorchScript archives made by torch.jit.trace/script: built once per process, on first use
(building them costs seconds of torch work that collection must not pay)."""


@functools.cache
def models() -> dict[str, Any]:
    torch_models = pytest.importorskip("tests.scan.engine.torchscript_model")
    built: dict[str, Any] = torch_models.real_models()
    assert sorted(built) == sorted(MODEL_NAMES)
    return built



@pytest.mark.parametrize("name", MODEL_NAMES)
def test_real_torchscript_archives_have_no_code_finding(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.pt"
    models()[name].save(str(path))
    report = scan_file(path)
    assert report.metadata["formats"][str(path)] == "torchscript"
    # Only the by-design "TorchScript is code" notice; nothing from the code/ check.
    assert [f.rule_id for f in report.findings] == ["MW-TORCH-003"]


def test_the_archives_do_spell_submodules_with_getattr(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "m.pt"
    models()["trace-sequential"].save(str(path))
    with zipfile.ZipFile(path) as z:
        code = b"".join(z.read(n) for n in z.namelist() if "/code/" in n and n.endswith(".py"))
    assert b'getattr(self, "0")' in code  # the construct the check must accept


def _constructs(code: str) -> set[str]:
    ctx = ScanContext()
    check_torchscript_code(ScanTarget("m.pt", code.encode(), member="m/code/__torch__.py"), ctx)
    return {str(f.evidence["construct"]) for f in ctx.findings}


@pytest.mark.parametrize("code", [
    'def forward(self, x: Tensor) -> Tensor:\n  _0 = getattr(self, "0")\n  return _0.forward(x)\n',
    'def forward(self, x: Tensor) -> Tensor:\n  b = getattr(self.body, "1")\n  return b(x)\n',
    'def forward(self, x: Tensor) -> Tensor:\n  return getattr(self, "w", x)\n',
    'def forward(self, x: Tensor) -> bool:\n  return hasattr(self, "bias")\n',
])
def test_constant_attribute_access_is_clean(code: str) -> None:
    assert _constructs(code) == set()


@pytest.mark.parametrize(("code", "construct"), [
    ("def f(self, x: Tensor) -> Tensor:\n  return getattr(self, name)(x)\n", "getattr()"),
    ("def f(self, x: Tensor) -> Tensor:\n  return getattr(self, 'a' + 'b')\n", "getattr()"),
    ("def f(self, x: Tensor) -> Tensor:\n  return getattr(__import__('os'), 'system')('id')\n",
     "__import__()"),
    ("def f(self, x: Tensor) -> Tensor:\n  getattr(torch.ops, 'load_library')('/tmp/x.so')\n"
     "  return x\n", "torch.ops.load_library"),
    ("def f(self, x: Tensor) -> Tensor:\n  return getattr(torch, 'from_file')('/etc/passwd')\n",
     "torch.from_file"),
    ("def f(self, x: Tensor) -> Tensor:\n  return getattr(os, 'system')('id')\n",
     "getattr(os.system)"),
    ("def f(self, x: Tensor) -> Tensor:\n  return getattr(self, '__class__')\n",
     "getattr(self.__class__)"),
    ("def f(self, x: Tensor) -> Tensor:\n  return getattr(getattr(self, 'f'), '__globals__')\n",
     "getattr()"),
    ("def f(self, x: Tensor) -> Tensor:\n  return open('/etc/passwd').read()\n", "open()"),
    ("def f(self, x: Tensor) -> Tensor:\n  setattr(self, 'w', x)\n  return x\n", "setattr()"),
])
def test_escapes_through_builtins_are_still_flagged(code: str, construct: str) -> None:
    assert construct in _constructs(code)


def test_traced_inputs_pickle_is_expected_but_still_analysed(tmp_path: Path) -> None:
    import zipfile

    from .conftest import Member, build_zip, critical, evil_pickle, scan

    path = tmp_path / "m.pt"
    models()["trace-conv"].save(str(path))
    with zipfile.ZipFile(path) as z:
        members = [Member(i.filename, z.read(i.filename)) for i in z.infolist()]
    assert any(m.name.endswith("/traced_inputs.pkl") for m in members)
    for m in members:
        if m.name.endswith("/traced_inputs.pkl"):
            m.data = evil_pickle()
    assert critical(scan(build_zip(members)))

"""Real torch.jit.trace / torch.jit.script archives are clean; hostile code/ members are not.

TorchScript spells a submodule whose name is not an identifier as ``getattr(self, "0")``: that is
attribute access compiled by TorchScript, not a Python escape.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from mlwarden.scan.formats.torch_zip import check_torchscript_code
from mlwarden.scan.interface import ScanContext, ScanTarget

from .conftest import scan_file


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 2)])
        self.gates = nn.ModuleDict({"a": nn.Identity(), "b": nn.Tanh()})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x).mean(dim=(2, 3))
        out = self.gates["a"](y)
        for head in self.heads:
            out = out + head(y).sum(dim=1, keepdim=True)
        result: torch.Tensor = out
        return result


class Recurrent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 8, num_layers=2, batch_first=True)
        self.out = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.lstm(x)
        result: torch.Tensor = self.out(y[:, -1])
        return result


def _trace(module: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    traced: torch.jit.ScriptModule = torch.jit.trace(module, example)  # type: ignore[no-untyped-call]
    return traced


def _models() -> dict[str, torch.jit.ScriptModule]:
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    cnn = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 3 * 3, 2))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        return {
            "trace-sequential": _trace(mlp, torch.zeros(1, 4)),
            "script-sequential": torch.jit.script(mlp),
            "trace-conv": _trace(cnn, torch.zeros(1, 3, 8, 8)),
            "script-custom-submodules": torch.jit.script(Block()),
            "trace-custom-submodules": _trace(Block().eval(), torch.zeros(1, 3, 6, 6)),
            "script-lstm": torch.jit.script(Recurrent()),
            "trace-lstm": _trace(Recurrent(), torch.zeros(2, 5, 4)),
        }


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_real_torchscript_archives_have_no_code_finding(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.pt"
    MODELS[name].save(str(path))
    report = scan_file(path)
    assert report.metadata["formats"][str(path)] == "torchscript"
    # Only the by-design "TorchScript is code" notice; nothing from the code/ check.
    assert [f.rule_id for f in report.findings] == ["MW-TORCH-003"]


def test_the_archives_do_spell_submodules_with_getattr(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "m.pt"
    MODELS["trace-sequential"].save(str(path))
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
    MODELS["trace-conv"].save(str(path))
    with zipfile.ZipFile(path) as z:
        members = [Member(i.filename, z.read(i.filename)) for i in z.infolist()]
    assert any(m.name.endswith("/traced_inputs.pkl") for m in members)
    for m in members:
        if m.name.endswith("/traced_inputs.pkl"):
            m.data = evil_pickle()
    assert critical(scan(build_zip(members)))

"""A small TorchScript module (in a file, since torch.jit.script reads the source)."""

from __future__ import annotations

import warnings

import torch
from torch import nn


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.lin(x))


def scripted() -> torch.jit.ScriptModule:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(Tiny())


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


def real_models() -> dict[str, torch.jit.ScriptModule]:
    """Seven real archives' modules: traced and scripted, sequential, conv, custom, LSTM."""
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

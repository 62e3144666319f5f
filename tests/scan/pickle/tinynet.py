"""Small classes for the instantiation tests: whole objects pickled the way users save them."""

from __future__ import annotations

from typing import Any


class Record:
    """A plain Python class with an attribute dict."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size


class Slotted:
    """A class with ``__slots__`` (pickled with a ``(None, slots)`` state)."""

    __slots__ = ("a", "b")

    def __init__(self) -> None:
        self.a = 1
        self.b = "two"


def __getattr__(name: str) -> Any:
    """``TinyNet`` is defined on first use (it needs torch, which collection must not import);
    then it is a module attribute like any other, so pickles name it by reference."""
    if name != "TinyNet":
        raise AttributeError(name)
    import torch

    class TinyNet(torch.nn.Module):
        """A user's model class (what ``torch.save(model)`` pickles by reference)."""

        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(3, 2)
            self.act = torch.nn.ReLU()
            self.labels = {0: "cat", 1: "dog"}

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.as_tensor(self.act(self.fc(x)))

    TinyNet.__qualname__ = "TinyNet"  # a module-level name for pickle, like any user's class
    globals()["TinyNet"] = TinyNet
    return TinyNet

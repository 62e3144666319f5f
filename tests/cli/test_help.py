"""Every command's ``--help`` reads like a classic CLI (no Python types as placeholders), and the
README's tour lists exactly the commands the CLI has."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer

from mlwarden.cli.main import app, run

from ..conftest import ROOT


def _commands() -> list[tuple[str, ...]]:
    from mlwarden.cli.helptext import install

    install()
    root = typer.main.get_command(app)
    out: list[tuple[str, ...]] = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        out.append(path)
        if hasattr(cmd, "commands"):  # a group (typer ships its own click)
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))

    walk(root, ())
    return out


PYTHON_TYPES = re.compile(r"<(bool|int|str|path|file|float|list\[|[a-z_]+ range)|\{[a-z_]+\}")


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "mlwarden")
def test_help_has_no_python_types(path: tuple[str, ...], capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    assert run([*path, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Usage: mlwarden" in text
    bad = PYTHON_TYPES.findall(text)
    assert not bad, f"{' '.join(path)} --help shows Python types: {bad}\n{text}"


def test_readme_tour_lists_every_command(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert run(["--help"]) == 0
    actual = re.findall(r"^│ (\w[\w-]*)\s{2,}", capsys.readouterr().out, flags=re.M)
    readme = (ROOT / "README.md").read_text()
    tour = readme[readme.index("$ mlwarden --help"):]
    tour = tour[:tour.index("╰")]
    documented = re.findall(r"^│ (\w[\w-]*)\s{2,}", tour, flags=re.M)
    assert documented == actual, "README's `mlwarden --help` block is stale"

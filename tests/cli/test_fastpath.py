"""The lean ``scan`` path must accept exactly the options of the typer command and behave alike."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from mlwarden.cli.fastpath import fast_scan, scan_parser
from mlwarden.cli.main import app


def _typer_scan_options() -> set[str]:
    command = typer.main.get_command(app)
    scan = command.commands["scan"]  # type: ignore[attr-defined]
    names: set[str] = set()
    for param in scan.params:
        names.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("-"))
    return names


def test_lean_parser_mirrors_the_typer_command() -> None:
    lean = {o for a in scan_parser()._actions for o in a.option_strings}
    # --policy/-p is deliberately left to typer (it needs pydantic and YAML anyway); -h/--help too.
    assert lean | {"--policy", "-p"} == _typer_scan_options() - {"-h", "--help"}


def test_lean_path_declines_what_it_does_not_own(tmp_path: Path) -> None:
    f = tmp_path / "x.pkl"
    f.write_bytes(pickle.dumps([1, 2]))
    for argv in (["scan", "--help"], ["scan", str(f), "--policy", "p.yaml"], ["scan"],
                 ["scan", str(f), "--bogus"], ["scan", str(f), "-f", "nope"],
                 ["scan", str(f), "-j", "0"], ["digest", str(f)], []):
        assert fast_scan(argv) is None, argv


@pytest.mark.parametrize("extra", [[], ["-f", "json"], ["--fail-on", "critical"]])
def test_lean_and_typer_paths_agree(tmp_path: Path, extra: list[str]) -> None:
    evil = tmp_path / "evil.bin"
    # GLOBAL os.system, a string argument, TUPLE1, REDUCE, STOP: built by hand, never loaded
    evil.write_bytes(b"cos\nsystem\n(S'touch " + str(tmp_path / "canary").encode()
                     + b"'\ntR.")
    lean = subprocess.run([sys.executable, "-m", "mlwarden", "scan", str(evil), *extra],
                          capture_output=True, text=True, cwd=tmp_path)
    full = subprocess.run([sys.executable, "-m", "mlwarden", "-v", "scan", str(evil), *extra],
                          capture_output=True, text=True, cwd=tmp_path)
    assert lean.returncode == full.returncode == 1
    assert "MW-PKL" in lean.stdout and "MW-PKL" in full.stdout
    assert not (tmp_path / "canary").exists()

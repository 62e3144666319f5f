"""The lean ``scan`` path must accept exactly the options of the typer command and behave alike."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.cli.fastpath import FLAG_OPTIONS, VALUE_OPTIONS, fast_scan, parse_scan
from mlwarden.cli.main import app
from mlwarden.report.interface import OutputFormat


def _typer_scan() -> typer.core.TyperCommand:
    command = typer.main.get_command(app)
    return command.commands["scan"]  # type: ignore[attr-defined, no-any-return]


def _typer_scan_options() -> set[str]:
    scan = _typer_scan()
    names: set[str] = set()
    for param in scan.params:
        names.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("-"))
    return names


def test_lean_parser_mirrors_the_typer_command() -> None:
    lean = set(VALUE_OPTIONS) | set(FLAG_OPTIONS)
    # --policy/-p is deliberately left to typer (it needs pydantic and YAML anyway); -h/--help too.
    assert lean | {"--policy", "-p"} == _typer_scan_options() - {"-h", "--help"}


def test_lean_path_declines_what_it_does_not_own(tmp_path: Path) -> None:
    f = tmp_path / "x.pkl"
    f.write_bytes(pickle.dumps([1, 2]))
    for argv in (["scan", "--help"], ["scan", str(f), "--policy", "p.yaml"], ["scan"],
                 ["scan", str(f), "--bogus"], ["scan", str(f), "-f", "nope"],
                 ["scan", str(f), "-j", "0"], ["digest", str(f)], []):
        assert fast_scan(argv) is None, argv


PLAIN = [
    ["a.pkl"], ["a.pkl", "b/"], ["-f", "json", "a.pkl"], ["a.pkl", "--format=sarif"],
    ["a.pkl", "-f", "HTML"], ["--fail-on", "critical", "a.pkl"], ["a.pkl", "--fail-on=low"],
    ["-j", "3", "a.pkl"], ["a.pkl", "--workers=1"], ["a.pkl", "--progress"],
    ["a.pkl", "--no-progress", "--progress"], ["a.pkl", "--digest"], ["a.pkl", "--no-digest"],
    ["a.pkl", "-o", "out.json", "-f", "json"], ["--output=r.sarif", "a.pkl"],
    ["-f", "json", "-f", "table", "a.pkl"], ["--", "-odd-name.pkl"], ["a.pkl", "--", "--digest"],
    ["-", "a.pkl"],
]


@pytest.mark.parametrize("args", PLAIN, ids=[" ".join(a) for a in PLAIN])
def test_lean_parser_reads_arguments_as_click_does(args: list[str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lean = parse_scan(args)
    assert lean is not None, args
    params = _typer_scan().make_context("scan", list(args)).params
    assert params.pop("policy") is None
    assert lean == params


ODD = [["--help"], [], ["-fjson", "a.pkl"], ["--form", "json", "a.pkl"], ["-o=x", "a.pkl"],
       ["a.pkl", "-f"], ["a.pkl", "--bogus"], ["a.pkl", "-f", "nope"], ["a.pkl", "-j", "0"],
       ["a.pkl", "-j", "x"], ["a.pkl", "--digest=yes"], ["-jf", "2", "a.pkl"]]


@pytest.mark.parametrize("args", ODD, ids=[" ".join(a) or "none" for a in ODD])
def test_lean_parser_declines_anything_else(args: list[str]) -> None:
    assert parse_scan(args) is None


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


@given(st.lists(st.one_of(st.sampled_from(sorted(VALUE_OPTIONS) + sorted(FLAG_OPTIONS)
                                          + ["--", "-", "--format=json", "-fjson", "x.pkl"]),
                          st.text(max_size=8)), max_size=8))
def test_lean_parser_never_raises(args: list[str]) -> None:
    parsed = parse_scan(args)
    if parsed is not None:
        assert parsed["paths"] and all(isinstance(p, Path) for p in parsed["paths"])
        assert isinstance(parsed["fmt"], OutputFormat)
        assert parsed["workers"] is None or parsed["workers"] >= 1

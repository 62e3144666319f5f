"""Paths the system refuses are bad input (exit 2, one line), never an internal error; long paths
cost linear time (no highlighter runs over them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden.cli.main import run

LONG = "a" * 300  # one component over the 255-byte limit of every common file system


@pytest.mark.parametrize("args", [
    ("digest", LONG), ("sign", LONG, "--key", "k"), ("verify", LONG, "--public-key", "k.pub"),
    ("convert", LONG), ("trace", LONG), ("bom", LONG), ("data", "fingerprint", LONG),
    ("scan", LONG), ("gate", LONG, "--policy", "p.yaml"),
], ids=lambda a: a[0] if a[0] != "data" else "data-fingerprint")
def test_a_component_over_255_bytes_is_bad_input(
        args: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text("name: p\ngate:\n  scan: true\n")
    code = run(list(args))
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("mlwarden: error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "internal error" not in err


def test_a_very_long_path_is_refused_in_linear_time(capsys: pytest.CaptureFixture[str]) -> None:
    deep = "/".join(["d" * 200] * 200)  # 40 k characters: 51 s with rich's highlighter before
    assert run(["convert", deep]) == 2
    assert "mlwarden: error: " in capsys.readouterr().err


def test_dash_output_means_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.chdir(tmp_path)
    model = tmp_path / "m.safetensors"
    header = b'{"__metadata__": {"a": "b"}}'
    model.write_bytes(len(header).to_bytes(8, "little") + header)
    assert run(["scan", str(model), "-f", "json", "-o", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["command"] == "scan"
    assert run(["digest", str(model)]) == 0
    capsys.readouterr()
    assert not (tmp_path / "-").exists()

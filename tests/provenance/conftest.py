"""Fixtures for provenance tests: keys, git repositories, and one real sklearn training run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlwarden.sign.keys import (
    EcdsaSigner,
    EcdsaVerifier,
    generate_private_key,
    private_pem,
    public_pem,
)

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")

TRAIN_SCRIPT = """\
import json, os, sys
import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.linear_model import LogisticRegression

data, out = sys.argv[1], sys.argv[2]
seed = int(os.environ.get("MLWARDEN_PARAM_SEED", "0"))
frame = pd.read_csv(data)
x, y = frame.drop(columns=["label"]), frame["label"]
model = LogisticRegression(max_iter=300, random_state=seed).fit(x, y)
sio.dump(model, out)
with open("metrics.json", "w") as handle:
    json.dump({"accuracy": float(model.score(x, y)), "eval": {"rows": len(frame)}}, handle)
"""


@dataclass(frozen=True)
class Keys:
    private: Path
    public: Path
    signer: EcdsaSigner
    verifier: EcdsaVerifier


def make_keys(folder: Path, name: str = "train") -> Keys:
    key = generate_private_key("P-256")
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / f"{name}.pem", folder / f"{name}.pub"
    private.write_bytes(private_pem(key, None))
    public.write_bytes(public_pem(key.public_key()))
    return Keys(private, public, EcdsaSigner(key), EcdsaVerifier(key.public_key()))


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


def git(repo: Path, *args: str) -> str:
    assert GIT is not None
    proc = subprocess.run([GIT, "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, capture_output=True,
                          text=True, check=True)
    return proc.stdout.strip()


def init_repo(repo: Path) -> str:
    """``git init`` + commit everything; returns the commit."""
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return git(repo, "rev-parse", "HEAD")


def write_dataset(path: Path, rows: int = 60, seed: int = 0) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(x, columns=["f1", "f2", "f3"])
    frame["label"] = (x[:, 0] + x[:, 1] > 0).astype(int)
    frame.to_csv(path, index=False)


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    full.pop("MLWARDEN_HOME", None)
    return subprocess.run([sys.executable, "-m", "mlwarden", *args], cwd=cwd, capture_output=True,
                          text=True, env=full, timeout=300)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    """A git project whose model.skops was trained through ``mlwarden train`` (real sklearn)."""
    if GIT is None:
        pytest.skip("git is not installed")
    root = tmp_path_factory.mktemp("project")
    (root / "train.py").write_text(TRAIN_SCRIPT)
    write_dataset(root / "data.csv")
    (root / "requirements.txt").write_text("scikit-learn\nskops\n")
    (root / ".gitignore").write_text("model.skops*\nmetrics.json\n.mlwarden/\n")
    init_repo(root)
    proc = run_cli("train", "--data", "data.csv", "--out", "model.skops", "--key",
                   str(keys.private), "--metrics", "metrics.json", "--param", "lr=0.5",
                   "--", sys.executable, "train.py", "data.csv", "model.skops",
                   cwd=root, env={"MLWARDEN_PARAM_SEED": "7"})
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    """A private copy of the trained project, free to tamper with."""
    copy = tmp_path / "project"
    shutil.copytree(trained, copy, symlinks=True)
    return copy

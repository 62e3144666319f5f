"""A new rule cannot land without a test: every registered rule id appears in some test file.

DESIGN.md: "Every rule has an ID, a page in docs/rules.md and a test with a positive and a negative
case." This guard checks the cheap, mechanical half of that (the id is referenced by a test file
other than this one); reviewers check that the reference is a real positive and negative case.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SRC = ROOT / "src" / "mlwarden"
TEST_ONLY = re.compile(r"^MW-TEST-")

# A fresh interpreter, so rules registered in this process by other tests do not change the answer.
_LIST_RULES = ("import json\nfrom mlwarden import catalog\nfrom mlwarden.core.rules import all_rules\n"
               "catalog.load_all()\nprint(json.dumps([r.id for r in all_rules()]))\n")


@pytest.fixture(scope="module")
def rule_ids() -> list[str]:
    out = subprocess.run([sys.executable, "-c", _LIST_RULES], capture_output=True, text=True,
                         check=True, cwd=ROOT, timeout=120)
    ids: list[str] = json.loads(out.stdout)
    return [i for i in ids if not TEST_ONLY.match(i)]


def _test_texts() -> str:
    me = Path(__file__).resolve()
    texts = []
    for path in sorted(TESTS.rglob("*")):
        if not path.is_file() or path.resolve() == me or "__pycache__" in path.parts:
            continue
        if path.suffix not in {".py", ".yaml", ".yml", ".json", ".txt", ".md", ".toml"}:
            continue
        texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def test_the_registry_is_not_empty(rule_ids: list[str]) -> None:
    assert len(rule_ids) >= 20
    assert {"MW-SIGN-001", "MW-GATE-001"} <= set(rule_ids)
    assert all(re.fullmatch(r"MW-[A-Z0-9]+-\d{3}", i) for i in rule_ids), rule_ids


def test_every_rule_id_is_referenced_by_a_test(rule_ids: list[str]) -> None:
    text = _test_texts()
    untested = [i for i in rule_ids if not re.search(rf"(?<![\w-]){re.escape(i)}(?!\d)", text)]
    assert untested == [], f"rules no test under tests/ names: {', '.join(untested)}"


def test_every_module_declaring_rules_is_in_the_catalog() -> None:
    from mlwarden.catalog import RULE_MODULES

    declaring = sorted(
        ".".join(("mlwarden", *p.relative_to(SRC).with_suffix("").parts))
        for p in SRC.rglob("*.py") if "register(Rule(" in p.read_text(encoding="utf-8"))
    missing = sorted(set(declaring) - set(RULE_MODULES))
    assert missing == [], f"rule modules not in mlwarden.catalog.RULE_MODULES: {missing}"

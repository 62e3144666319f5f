"""One catalogue of dangerous names for every scanner that judges names: a module added there is
dangerous in a pickle, a Keras config and TorchScript code alike."""

from __future__ import annotations

import pytest

from mlwarden.core.severity import Severity
from mlwarden.scan import dangerous
from mlwarden.scan.engine import scan_bytes
from mlwarden.scan.formats import keras_config, torch_zip
from mlwarden.scan.pickle import names

from .formats.keras_samples import keras_zip, layer, sequential


def test_every_scanner_reads_the_one_catalogue() -> None:
    assert names._DANGEROUS_MODULES is dangerous.MODULES
    assert names._DANGEROUS_NAMES is dangerous.CALLABLES
    assert torch_zip.BANNED_MODULES is dangerous.ROOT_MODULES
    assert dangerous.ROOT_MODULES - keras_config.KERAS_MODULE_ROOTS - {"tensorflow"} == \
        keras_config.DANGEROUS_MODULE_ROOTS


@pytest.mark.parametrize("root", ["paramiko", "webbrowser", "sqlite3", "pexpect"])
def test_a_catalogued_module_is_dangerous_in_a_pickle_and_a_keras_config(root: str) -> None:
    assert names.judge(root, "Anything").verdict == names.DANGEROUS
    config = sequential([layer("Thing", {}, module=f"{root}.sub")])
    report = scan_bytes(keras_zip(config), name="m.keras")
    assert report.max_severity() == Severity.CRITICAL, report.findings

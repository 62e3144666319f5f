"""Coverage-guided differential fuzzing of the pickle VM against CPython's C unpickler (atheris).

    PYTHONPATH=src:. python tests/scan/pickle/fuzz_pickle_parity.py -max_total_time=60 -max_len=512

Every input goes to the oracle's child (``oracle.py``: ``_pickle`` over inert stand-ins, limited)
and to the VM; any import or call the real unpickler made that the VM missed — or a stream it
loads that the VM gives up on without failing closed — is a crash with the disagreement listed.
The VM's own code is instrumented, so mutations that reach new VM branches are kept.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from tests.scan.pickle.oracle import Oracle
    from tests.scan.pickle.parity import disagreements, vm_view

ORACLE = Oracle()


def test_one_input(data: bytes) -> None:
    record = ORACLE.run(data)
    if record.timeout or record.crashed:
        return  # the child's limits fired (a bomb): nothing to compare
    found = disagreements(record, vm_view(data))
    if found:
        raise AssertionError(f"disagreement on {data!r}: {found}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

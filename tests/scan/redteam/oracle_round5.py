"""The real loaders, run on round-five samples in a throwaway child process.

This is the oracle the scanner is judged against: it shows that a hostile sample's payload really
runs when its loader opens the file with the default call. It *executes* the sample, so it only
ever runs

* in a child process (``python -c``) whose working directory and ``HOME`` are a fresh temporary
  directory, with CPU, address-space, file-size and open-file limits (``resource.setrlimit``) and
  a timeout;
* on samples whose payload is harmless by construction: ``touch <canary>`` (or an ``open(...,
  'w')``) of a path inside that temporary directory, an attempt to read a path there, or a
  sandboxed Jinja render that only raises.

Nothing here is imported by the scanner, and the normal test suite never calls it
(``test_round5_oracle.py`` is ``@pytest.mark.slow``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_PRELUDE = """
import json, resource, sys, warnings
warnings.simplefilter("ignore")
resource.setrlimit(resource.RLIMIT_CPU, (60, 60))
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
path = sys.argv[1]
result = {"error": None}
try:
{body}
except BaseException as exc:  # the loader's own error is part of the evidence
    result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
print("ORACLE " + json.dumps(result))
"""

LOADERS: dict[str, str] = {
    "pickle": "import pickle\nwith open(path, 'rb') as fh:\n    pickle.load(fh)",
    "pickle-reads-path": "import pickle\nwith open(path, 'rb') as fh:\n    pickle.load(fh)",
    "pickle-deletes-dir": "import pickle\nwith open(path, 'rb') as fh:\n    pickle.load(fh)",
    "numpy": ("import numpy as np\nd = np.load(path, allow_pickle=True)\n"
              "if hasattr(d, 'files'):\n    [d[k] for k in d.files]"),
    "joblib": ("import joblib, os\n"
               "if os.path.isdir(path):\n    path = os.path.join(path, 'model.joblib')\n"
               "joblib.load(path)"),
    "pandas-pickle": "import pandas as pd\npd.read_pickle(path)",
    "skops": ("from skops.io import get_untrusted_types, load\n"
              "load(path, trusted=get_untrusted_types(file=path))"),
    "skops-reads-path": ("from skops.io import get_untrusted_types, load\n"
                         "load(path, trusted=get_untrusted_types(file=path))"),
    "torch-full": ("import os, torch\n"
                   "if os.path.isdir(path):\n    path = os.path.join(path, 'pytorch_model.bin')\n"
                   "torch.load(path, weights_only=False)"),
    "onnx": ("import os, onnx\nfrom onnx import numpy_helper\n"
             "model = onnx.load(os.path.join(path, 'model.onnx') if os.path.isdir(path) else path)\n"
             "t = model.graph.node[0].attribute[0].t\n"
             "result['value'] = numpy_helper.to_array(t).tolist()"),
    "jinja-sandbox": (
        "import json, os\n"
        "from jinja2.ext import loopcontrols\n"
        "from jinja2.sandbox import ImmutableSandboxedEnvironment\n"
        "if path.endswith('.gguf'):\n"
        "    from gguf import GGUFReader\n"
        "    field = GGUFReader(path).fields['tokenizer.chat_template']\n"
        "    template = bytes(field.parts[field.data[0]]).decode()\n"
        "else:\n"
        "    template = json.load(open(path))['chat_template']\n"
        "class Recording(ImmutableSandboxedEnvironment):\n"
        "    def unsafe_undefined(self, obj, attribute):\n"
        "        result.setdefault('refused', []).append(attribute)\n"
        "        return super().unsafe_undefined(obj, attribute)\n"
        "env = Recording(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])\n"
        "result['output'] = env.from_string(template).render(\n"
        "    messages=[{'role': 'user', 'content': 'hi'}], add_generation_prompt=True,\n"
        "    bos_token='<s>', eos_token='</s>')[:500]"),
}
"""Oracle key → the loader call, with ``path`` the sample (indented under ``try:``)."""


@dataclass(frozen=True)
class OracleRun:
    """What the child saw: the loader's exception (or None) and anything it reported."""

    returncode: int
    error: str | None
    detail: dict[str, object]
    stderr: str


def run_loader(key: str, sample: Path, workdir: Path, timeout: float = 120) -> OracleRun:
    """Run the ``key`` loader on ``sample`` in a child process confined to ``workdir``."""
    body = "\n".join("    " + line for line in LOADERS[key].splitlines())
    code = _PRELUDE.replace("{body}", body)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir),
           "TMPDIR": str(workdir), "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
           "NO_PROXY": "*", "no_proxy": "*"}
    proc = subprocess.run([sys.executable, "-c", code, str(sample)], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("ORACLE ")), None)
    detail: dict[str, object] = json.loads(line[len("ORACLE "):]) if line else {}
    error = detail.pop("error", None) if line else "no result (child crashed)"
    return OracleRun(proc.returncode, error if isinstance(error, str) else None, detail,
                     proc.stderr[-2000:])


def proved(key: str, run: OracleRun, canary: Path) -> tuple[bool, str]:
    """Whether the run shows the payload working, and what showed it."""
    if key in ("pickle-reads-path", "skops-reads-path"):
        seen = run.error is not None and str(canary) in run.error
        return seen, f"the loader opened {canary}: {run.error}"
    if key == "pickle-deletes-dir":
        victim = Path(f"{canary}.d")
        return not victim.exists(), f"{victim} deleted when the loaded object was collected"
    if key == "jinja-sandbox":
        refused = run.detail.get("refused")
        reached = isinstance(refused, list) and any(
            isinstance(a, str) and a.startswith("__") for a in refused)
        return reached, (f"the template asked the sandbox for {refused} (refused and rendered "
                         f"empty; error: {run.error})")
    if key == "onnx":
        value = run.detail.get("value")
        return value == [1.5], f"onnx.load read the file outside the model folder: {value}"
    return canary.exists(), (f"canary created (loader error afterwards: {run.error})"
                             if canary.exists() else f"no canary; loader said {run.error}")

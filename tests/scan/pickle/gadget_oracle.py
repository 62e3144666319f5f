"""A differential oracle for the gadget sweep: rebuild every library class in the real unpickler
and watch what it does through audit hooks.

For each class a root's modules define, a child process loads ``cls.__new__(cls)`` + ``BUILD({})``
with ``pickle.loads`` (the way ``object.__reduce_ex__`` saves any instance), drops it and collects
garbage (``__del__``), with a ``sys.addaudithook`` hook armed around that: it records the audit
events that act outside the process's memory (``open`` for writing, ``os.remove``,
``shutil.rmtree``, ``subprocess.Popen``, ``os.system``, ``socket.connect``/``bind``,
``ctypes.dlopen``, ``exec``/``compile``) and *raises* on each, so nothing happens. The child runs
under CPU/memory limits and a per-class alarm; if it dies (a C type that crashes when built
without arguments), the parent restarts it after the class that killed it.

This needs no model of any hook: the classes that act with an empty state are exactly the ones the
audit log names. Each must be covered by the gadget table or the denylist (the sweep reads hooks
statically; a hook in C or Cython is only seen here). The reverse is expected to differ: most
gadgets act only on particular state (``_istmpdest`` true, a template string).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ACTING_EVENTS = frozenset((
    "os.remove", "os.rmdir", "os.rename", "os.truncate", "os.chmod", "os.chown", "os.mkdir",
    "os.symlink", "os.link", "os.kill", "os.killpg", "os.system", "os.exec", "os.posix_spawn",
    "os.spawn", "os.fork", "os.forkpty", "os.startfile", "os.putenv", "os.unsetenv", "os.chdir",
    "shutil.rmtree", "shutil.move", "shutil.copyfile", "shutil.chown", "subprocess.Popen",
    "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo", "ctypes.dlopen",
    "ctypes.call_function", "ctypes.dlsym", "exec", "compile", "webbrowser.open",
    "urllib.Request", "sqlite3.connect", "pty.spawn", "mmap.__new__", "marshal.loads",
    "pickle.find_class_nested"))
"""Audit events that act outside memory (``open`` counts when its mode writes)."""

CHILD = r'''
import gc, io, json, os, pickle, resource, signal, sys, warnings, contextlib
resource.setrlimit(resource.RLIMIT_CPU, (BUDGET, BUDGET + 5))
resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
from tests.scan.pickle.gadget_sweep import _submodules, _classes
import importlib
ACTING = frozenset(ACTING_EVENTS)
root, start = sys.argv[1], int(sys.argv[2])
armed = []
class Blocked(Exception):
    pass
def hook(event, args):
    if not armed:
        return
    if event == "open":
        mode = args[1] if len(args) > 1 else "r"
        flags = args[2] if len(args) > 2 else 0
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if not writes:
            return
    elif event not in ACTING and not event.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
        return
    armed[-1].append(f"{event} {str(args)[:120]}")
    raise Blocked(event)
sys.addaudithook(hook)
sys.unraisablehook = lambda unraisable: None  # __del__ errors: printing them compiles source
def alarm(signum, frame):
    raise TimeoutError
signal.signal(signal.SIGALRM, alarm)
sink = io.StringIO()
classes = []
seen = set()
listed = sys.argv[3] if len(sys.argv) > 3 else ""
if listed:
    classes = [tuple(c) for c in json.load(open(listed))]
else:
  with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
      warnings.simplefilter("ignore")
      for name in _submodules(root):
          try:
              module = importlib.import_module(name)
          except BaseException:
              continue
          for attr, cls in _classes(module):
              home = getattr(cls, "__module__", None)
              qual = getattr(cls, "__qualname__", None)
              if not isinstance(home, str) or not isinstance(qual, str) or "<" in qual:
                  continue
              if id(cls) in seen or not home.startswith(root if root != "stdlib" else ""):
                  continue
              seen.add(id(cls))
              classes.append((home, qual))
classes.sort()
out = sys.__stdout__
out.write(json.dumps({"total": len(classes), "classes": classes if not listed else None}) + "\n")
out.flush()
def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"
for i, (home, qual) in enumerate(classes):
    if i < start:
        continue
    out.write(json.dumps({"start": i, "name": f"{home}.{qual}"}) + "\n")
    out.flush()
    data = b"\x80\x02" + op_global(home, qual) + b")\x81}b."
    try:  # imported before the hook is armed: an import runs marshal.loads and exec itself
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            importlib.import_module(home)
    except BaseException:
        pass
    events = []
    outcome = "loaded"
    armed.append(events)
    signal.alarm(5)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            try:
                obj = pickle.loads(data)
            except BaseException as exc:
                outcome = type(exc).__name__
            obj = None
            gc.collect()
    except BaseException as exc:
        outcome = type(exc).__name__
    finally:
        signal.alarm(0)
        armed.pop()
    sink.seek(0)
    sink.truncate()
    if events:
        out.write(json.dumps({"class": f"{home}.{qual}", "events": events,
                              "outcome": outcome}) + "\n")
        out.flush()
out.write(json.dumps({"done": True}) + "\n")
'''


STALL = 30.0
"""Seconds without progress, once the classes are listed, after which a child is stopped (a hook
that blocks where the per-class alarm cannot reach it, in C)."""


def _watched(argv: list[str], env: dict[str, str], cwd: Path,
             budget: int) -> tuple[str, int | str]:
    """Run one child; stop it when it exceeds ``budget`` or stalls on one class."""
    lines: list[str] = []
    last = [time.monotonic()]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=cwd)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            last[0] = time.monotonic()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started = time.monotonic()
    while proc.poll() is None:
        time.sleep(0.5)
        listed = any('"total"' in line for line in lines)
        now = time.monotonic()
        if now - started > budget + 60 or (listed and now - last[0] > STALL):
            proc.kill()
            proc.wait()
            reader.join(5)
            return "".join(lines), "stalled"
    reader.join(5)
    return "".join(lines), proc.returncode


def run_root(root: str, budget: int = 300) -> dict[str, Any]:
    """Rebuild every class ``root`` defines in children; the classes whose rebuild acted."""
    repo = Path(__file__).resolve().parents[3]
    code = (CHILD.replace("ACTING_EVENTS", repr(sorted(ACTING_EVENTS)))
            .replace("BUDGET", str(budget)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), str(repo / "src")]),
           "CUDA_VISIBLE_DEVICES": "", "MPLBACKEND": "Agg"}
    acted: dict[str, list[str]] = {}
    crashed: list[str] = []
    start, total, restarts = 0, None, 0
    listing = ""
    while restarts < 50:
        argv = [sys.executable, "-c", code, root, str(start)] + ([listing] if listing else [])
        stdout, code_ = _watched(argv, env, repo, budget)
        current = None
        name = ""
        done = False
        for line in stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "total" in msg:
                total = msg["total"]
                if msg.get("classes") is not None:
                    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
                        json.dump(msg["classes"], fh)
                    listing = fh.name
            elif "start" in msg:
                current, name = msg["start"], msg["name"]
            elif "class" in msg:
                acted[msg["class"]] = msg["events"]
            elif msg.get("done"):
                done = True
        if done or current is None:
            break
        crashed.append(f"{name} (exit {code_})")
        start = current + 1
        restarts += 1
    if listing:
        os.unlink(listing)
    return {"root": root, "total": total, "acted": acted, "crashed": crashed}


if __name__ == "__main__":
    from tests.scan.pickle.gadget_sweep import ROOTS

    for root_name in sys.argv[1:] or ROOTS:
        if root_name == "stdlib" or __import__("importlib.util").util.find_spec(root_name):
            print(json.dumps(run_root(root_name)), flush=True)

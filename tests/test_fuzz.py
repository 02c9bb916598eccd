"""Bad input to every public function of every ``kexue`` module: a right answer or a clear error, quickly.

The public API is found, not listed: every module under ``src/kexue`` (``kexue.exercises.*`` included), and in each
every function and class defined there whose name has no leading underscore. For each parameter the test derives a
valid value and a set of bad ones from its annotation and default (wrong types, NaN and infinities, empty, negative,
zero and oversized values) and calls the function with one bad value at a time, the other parameters at their
valid values. Acceptable outcomes:

- a TypeError or ValueError whose message names the parameter (any parameter, if the valid call itself fails);
- a normal return, unless the bad value was of the wrong type (silent acceptance), or the result holds a NaN or an
  infinity that the input did not (a silent NaN).

The one documented exception is ``CATCH_ALL``: a parameter whose contract is to accept anything (``exercises.call``
runs whatever a student passed and turns every failure, a non-callable included, into a verdict).

Not acceptable: any other exception type, a MemoryError, a crash of the interpreter, or a call that takes more than
``CALL_SECONDS`` (the valid call, which runs the full default computation, gets ``VALID_CALL_FACTOR`` times that).
Each module's calls run in a child process under an address-space limit, watched by the parent, which kills the
child on a hang and resumes after the hanging call; modules run in parallel.
"""
from __future__ import annotations

import json
import os
import pkgutil
import selectors
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import kexue

# A call that takes longer than this counts as a hang: 8 s on an idle machine, stretched by the load average on a
# busy one (several test runs sharing two cores), so that waiting for a CPU is not mistaken for a hang.
CALL_SECONDS = 8.0 * min(8.0, max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)))
VALID_CALL_FACTOR = 8
ADDRESS_SPACE_EXTRA = 2 << 30  # bytes of address space a child may add to what its imports took
WORKERS = 2
CHILD = Path(__file__).with_name("fuzz_child.py")
# (function, parameter) pairs that accept any value by contract, so that silently accepting a wrong type is right.
CATCH_ALL = {("kexue.exercises.call", "function")}


def excused(record: dict) -> bool:
    """Whether a record's misbehaviour is the documented contract of a CATCH_ALL parameter."""
    return record["outcome"] == "silent-acceptance" and any(
        record["call"].startswith(f"{fn}({param}=") for fn, param in CATCH_ALL)


def public_modules() -> list[str]:
    """Every importable module of the kexue package (found on disk, so new modules are covered)."""
    names = []
    for info in pkgutil.walk_packages(kexue.__path__, prefix="kexue."):
        names.append(info.name)
    return sorted(names)


def run_module(module: str, workdir: Path) -> list[dict]:
    """Run the fuzz child on ``module`` in ``workdir`` (functions that write files write there); resume after a hang
    or a crash. One record per call."""
    records: list[dict] = []
    start = 0
    while True:
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MPLBACKEND="Agg", KEXUE_FUZZ_AS_EXTRA=str(ADDRESS_SPACE_EXTRA), PYTHONHASHSEED="0")
        proc = subprocess.Popen([sys.executable, str(CHILD), module, str(start)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, text=True, bufsize=1, cwd=workdir)
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        current: dict | None = None
        deadline = time.monotonic() + 120  # imports and setup
        done = False
        while True:
            timeout = deadline - time.monotonic()
            if timeout <= 0 or not sel.select(timeout):
                proc.kill()
                proc.wait()
                if current is None:
                    records.append({"module": module, "call": f"{module} (import)", "outcome": "hang"})
                    return records
                records.append({**current, "outcome": "hang"})
                start = current["index"] + 1
                break
            line = proc.stdout.readline()
            if not line:  # the child ended
                proc.wait()
                if proc.returncode == 0:
                    done = True
                elif current is not None:
                    records.append({**current, "outcome": "crash",
                                    "detail": f"exit {proc.returncode}: {proc.stderr.read()[-300:]}"})
                    start = current["index"] + 1
                else:
                    records.append({"module": module, "call": f"{module} (import)", "outcome": "crash",
                                    "detail": proc.stderr.read()[-500:]})
                    done = True
                break
            message = json.loads(line)
            if message["event"] == "start":
                current = message
                # The valid call runs the function's full default computation (a chapter's training run, say);
                # only the bad-input calls must be quick.
                valid = message["call"].endswith("(valid)")
                deadline = time.monotonic() + CALL_SECONDS * (VALID_CALL_FACTOR if valid else 1)
            elif message["event"] == "end":
                records.append(message)
                current = None
                deadline = time.monotonic() + CALL_SECONDS
            elif message["event"] == "done":
                deadline = time.monotonic() + 30
        sel.close()
        if done:
            return records


@pytest.fixture(scope="module")
def fuzz_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    modules = public_modules()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(run_module, modules, [tmp_path_factory.mktemp(m) for m in modules]))
    return [r for records in results for r in records]


def test_modules_are_found() -> None:
    modules = public_modules()
    assert {"kexue.hippo", "kexue.validate", "kexue.runtime"} <= set(modules)


def test_every_bad_input_is_refused_clearly(fuzz_records: list[dict]) -> None:
    bad = [r for r in fuzz_records if r["outcome"] != "ok" and not excused(r)]
    calls = len(fuzz_records)
    counts = Counter(r["outcome"] for r in bad)
    report = "\n".join(f"{r['outcome']}: {r['call']}  -> {r.get('detail', '')}"[:400] for r in bad[:80])
    assert not bad, f"{len(bad)} of {calls} calls misbehaved {dict(counts)}:\n{report}"
    assert calls > 500, f"only {calls} calls were made"

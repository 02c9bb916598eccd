"""Topic benchmark for chapter 02 (SquarePlus): how fast are ReLU, softplus, GELU, SiLU and squareplus on a CPU?

The article's motivation is speed: squareplus needs no exp or log. This measures it instead of assuming it, as
ratios to ReLU timed in the same round (interleaved rounds, medians and quartiles), for

- eager PyTorch on 1 thread (forward, and forward + backward through autograd),
- ``torch.compile`` (inductor) on 1 thread, when a compiler works here (detected, and reported if not),
- NumPy/SciPy (forward, and forward + a hand-written gradient, since NumPy has no autograd).

``run()`` returns the Markdown for benchmarks/RESULTS.md and writes the numbers to benchmarks/activations.csv, which
the chapter loads. Run it with ``benchmarks/run.py --only topics`` (part of ``make bench``).
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CSV_PATH = HERE / "activations.csv"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from kexue import activations as act  # noqa: E402
from kexue.runtime import Stopwatch  # noqa: E402

SIZES = (2**18, 2**21)       # 1 MiB (fits in cache) and 8 MiB (does not) of float32
ROUNDS = 15
MIN_TIME = 2e-3  # seconds per timed block (the fastest of 3 blocks counts)
MODES = ("forward", "forward+backward")
BACKENDS = ("torch eager", "torch compiled", "numpy")
RATIO_ROW = act.RATIO_ROW  # per-round ratio of squareplus to softplus, in the same rounds
CSV_FIELDS = ["backend", "mode", "n", "activation", "ratio", "ratio_q1", "ratio_q3", "us_per_call", "rounds",
              "first_call_s", "measured"]


def compiler_status() -> tuple[bool, str]:
    """Whether torch.compile (inductor) works here, with a one-line reason."""
    try:
        import torch

        f = torch.compile(lambda x: x * 2 + 1, dynamic=False)
        ok = bool(torch.equal(f(torch.ones(8)), torch.full((8,), 3.0)))
        return ok, "inductor compiled and ran a test kernel" if ok else "inductor returned a wrong result"
    except Exception as exc:  # any failure means: no compiled column
        return False, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ''}"


def machine_rows(compiled_ok: bool, compiled_note: str) -> list[list[str]]:
    """Facts about the machine and software that the timings depend on."""
    import numpy as np
    import torch

    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown"
    try:
        gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        gcc = "not found"
    isa = "unknown"
    try:
        from torch._inductor import cpu_vec_isa

        isa = str(cpu_vec_isa.pick_vec_isa()) or "none"
    except Exception:  # private API; informational only
        pass
    return [
        ["CPU", cpu],
        ["cores (os.cpu_count / usable)", f"{os.cpu_count()} / {len(os.sched_getaffinity(0))}"],
        ["load average at start (1, 5, 15 min)", " ".join(f"{v:.2f}" for v in os.getloadavg())],
        ["torch / threads used", f"{torch.__version__} / 1 (`torch.set_num_threads(1)`)"],
        ["torch CPU capability / inductor vector ISA", f"{torch.backends.cpu.get_cpu_capability()} / {isa}"],
        ["numpy / scipy", f"{np.__version__} / {__import__('scipy').__version__}"],
        ["C++ compiler", gcc],
        ["torch.compile", ("works: " if compiled_ok else "not available: ") + compiled_note],
        ["dtype, input", "float32, standard normal (seed 0), upstream gradient standard normal"],
    ]


def measure(backend: str, mode: str, n: int) -> dict[str, dict]:
    """One time_activations run for a backend label."""
    if backend == "numpy":
        kwargs = {"backend": "numpy"}
    else:
        kwargs = {"backend": "torch", "compiled": backend == "torch compiled"}
    return act.time_activations(n=n, rounds=ROUNDS, threads=1, mode=mode, min_time=MIN_TIME, **kwargs)


def csv_rows(backend: str, mode: str, n: int, result: dict[str, dict], stamp: str) -> list[dict]:
    """The CSV rows of one run, plus the squareplus/softplus row."""
    import statistics

    rows = [{"backend": backend, "mode": mode, "n": n, "activation": name, "ratio": f"{s['ratio']:.4g}",
             "ratio_q1": f"{s['ratio_q1']:.4g}", "ratio_q3": f"{s['ratio_q3']:.4g}",
             "us_per_call": f"{s['seconds'] * 1e6:.4g}", "rounds": len(s["times"]),
             "first_call_s": f"{s['first_call_seconds']:.3g}", "measured": stamp} for name, s in result.items()]
    per_round = [a / b for a, b in zip(result["squareplus"]["times"], result["softplus"]["times"])]
    q1, _, q3 = statistics.quantiles(per_round, n=4, method="inclusive")
    rows.append({"backend": backend, "mode": mode, "n": n, "activation": RATIO_ROW,
                 "ratio": f"{statistics.median(per_round):.4g}", "ratio_q1": f"{q1:.4g}", "ratio_q3": f"{q3:.4g}",
                 "us_per_call": "", "rounds": len(per_round), "first_call_s": "", "measured": stamp})
    return rows


def compiled_relu_note() -> str:
    """Eager vs compiled ReLU forward+backward at 2**18 (why the compiled rows keep an eager ReLU baseline)."""
    import torch

    from kexue import runtime

    runtime.set_threads(1)
    x = torch.randn(2**18, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    g = torch.ones_like(x)
    compiled = torch.compile(lambda t: torch.relu(t), dynamic=False)
    calls = {"eager": lambda: torch.autograd.grad(torch.relu(x), x, g),
             "compiled": lambda: torch.autograd.grad(compiled(x), x, g)}
    for call in calls.values():  # the first call compiles
        call()
    eager, comp = (runtime.time_call(calls[k], repeat=5, number=10) * 1e6 for k in ("eager", "compiled"))
    return (f"ReLU itself stays eager in the compiled columns: compiled ReLU forward+backward took {comp:.0f} µs per "
            f"call against {eager:.0f} µs eager here ({comp / eager:.1f}×), because inductor's kernel that stores "
            f"ReLU's boolean mask for the backward pass is slow on this CPU.")


def cell(stats: dict[tuple, dict], key: tuple) -> str:
    """'ratio (q1–q3)' for a table cell, or '–' when not measured."""
    row = stats.get(key)
    if row is None:
        return "–"
    return f"{float(row['ratio']):.2f} ({float(row['ratio_q1']):.2f}–{float(row['ratio_q3']):.2f})"


def run() -> str:
    """Measure everything, write activations.csv, and return the Markdown section."""
    from run import markdown_table

    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    compiled_ok, compiled_note = compiler_status()
    machine = machine_rows(compiled_ok, compiled_note)
    backends = [b for b in BACKENDS if b != "torch compiled" or compiled_ok]
    rows: list[dict] = []
    seconds = {}
    for n in SIZES:
        for backend in backends:
            for mode in MODES:
                with Stopwatch() as clock:
                    result = measure(backend, mode, n)
                seconds[(backend, mode, n)] = clock.seconds
                rows += csv_rows(backend, mode, n, result, stamp)
                print(f"[activations] {backend}, {mode}, n={n}: {seconds[(backend, mode, n)]:.1f} s", flush=True)
    with CSV_PATH.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)

    stats = {(r["backend"], r["mode"], int(r["n"]), r["activation"]): r for r in rows}
    columns = [(b, m) for b in backends for m in MODES]
    headers = ["activation"] + [f"{b}, {'fwd' if m == 'forward' else 'fwd+bwd'}" for b, m in columns]
    parts = [
        "Time of each activation as a multiple of ReLU's time in the same round (median over "
        f"{ROUNDS} interleaved rounds, quartiles in brackets; lower is faster), float32, one thread. "
        "The last row of each table is squareplus's time divided by softplus's, round by round: below 1 means "
        "squareplus is faster. NumPy has no autograd, so its fwd+bwd column adds a hand-written gradient "
        "`g * f'(x)`. Machine-dependent: compare ratios, not absolute times, and only on one machine.\n",
    ]
    for n in SIZES:
        table = [[name] + [cell(stats, (b, m, n, name)) for b, m in columns]
                 for name in list(act.ACTIVATIONS) + [RATIO_ROW]]
        parts.append(f"### n = 2^{n.bit_length() - 1} = {n:,} elements ({n * 4 / 2**20:g} MiB)\n\n"
                     + markdown_table(headers, table))
    relu_us = [[f"{b}, {m}"] + [f"{float(stats[(b, m, n, 'ReLU')]['us_per_call']):.0f}" for n in SIZES]
               for b, m in columns]
    parts.append("### ReLU baseline, µs per call\n\n"
                 + markdown_table(["configuration"] + [f"n = 2^{n.bit_length() - 1}" for n in SIZES], relu_us))
    counts = act.eager_kernel_counts()
    parts.append("### Why: kernels and memory passes in eager PyTorch\n\n"
                 "Counted by intercepting ATen dispatch (`kexue.activations.eager_kernel_counts`); a pass is one "
                 "length-n array read or written by a kernel. These counts do not depend on the machine.\n\n"
                 + markdown_table(["activation", "forward kernels", "forward passes", "backward kernels",
                                   "backward passes"],
                                  [[k] + list(v.values()) for k, v in counts.items()]))
    notes = [f"Measurement took {sum(seconds.values()):.0f} s in all."]
    if compiled_ok:
        first = [float(stats[("torch compiled", m, n, name)]["first_call_s"]) for m in MODES for n in SIZES
                 for name in act.ACTIVATIONS[1:]]
        notes.append(f"First calls of compiled functions (compilation, possibly from inductor's on-disk cache) "
                     f"took {min(first):.1f}–{max(first):.1f} s each.")
        notes.append(compiled_relu_note())
    else:
        notes.append("torch.compile is not available here, so the compiled columns are missing.")
    parts.append("### Machine and notes\n\n" + markdown_table(["item", "value"], machine) + "\n"
                 + "\n".join(f"- {note}" for note in notes) + "\n")
    parts.append(f"Numbers: `benchmarks/{CSV_PATH.name}` (read by chapter 02).")
    return "\n".join(parts)


if __name__ == "__main__":
    print(run())

"""Topic benchmark for chapter 05 (token mixing): CPU time of one mixer layer against the sequence length n.

`run()` times one forward pass of each mixer of `kexue.token_mixing.MIXERS` (batch 4, d = 64, one thread, min of
5 repeats of `time.process_time`) for n = 128 … 2048, fits the log-log slope over n = 512 … 2048, writes
`benchmarks/token_mixing.csv` (read by the chapter) and returns the Markdown for benchmarks/RESULTS.md.
Reproduce with `.venv/bin/python benchmarks/bench_token_mixing.py`.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import torch

from kexue import token_mixing as tm

HERE = Path(__file__).resolve().parent
CSV_PATH = HERE / "token_mixing.csv"
NS = (128, 256, 512, 1024, 2048)
FIT_FROM = 512
REPEATS = 5
EXPECTED = {"attention": 2, "synthesizer": 2, "mlp_mixer": 2, "resmlp": 2, "fnet": 1, "gmlp": 2, "external": 1}


def measure() -> list[dict[str, object]]:
    """One row per (mixer, n): the minimum CPU seconds of one forward pass."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    times = tm.benchmark(NS, d=64, batch=4, reps=REPEATS)
    return [{"mixer": m, "n": n, "seconds": t} for m, ts in times.items() for n, t in zip(NS, ts)]


def slopes(rows: list[dict[str, object]]) -> dict[str, float]:
    """Least-squares slope of log time against log n for n ≥ FIT_FROM, per mixer."""
    out = {}
    for mixer in EXPECTED:
        pts = [(r["n"], r["seconds"]) for r in rows if r["mixer"] == mixer and r["n"] >= FIT_FROM]
        out[mixer] = float(np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)[0])
    return out


def write_csv(rows: list[dict[str, object]], path: Path = CSV_PATH) -> None:
    """The measurements as CSV (mixer, n, seconds)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["mixer", "n", "seconds"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "seconds": f"{row['seconds']:.6g}"})


def _table(headers: list[str], body: list[list[object]]) -> str:
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in body]) + "\n"


def run() -> str:
    """Measure, write the CSV, and return the Markdown section body."""
    rows = measure()
    write_csv(rows)
    fitted = slopes(rows)
    by = {(r["mixer"], r["n"]): r["seconds"] for r in rows}
    mixers = list(EXPECTED)
    body = [[n] + [f"{by[(m, n)] * 1e3:.2f}" for m in mixers] for n in NS]
    slope_rows = [[m, f"{fitted[m]:.2f}", EXPECTED[m]] for m in mixers]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ("CPU time of one forward pass of each token mixer of `kexue.token_mixing` (chapter 05): batch 4, "
            f"d = 64, float32, `torch.set_num_threads(1)`, minimum of {REPEATS} repeats of `time.process_time`. "
            "Attention uses the fused `scaled_dot_product_attention` kernel; MLP-Mixer's token MLP has hidden 2n; "
            "gMLP's expansion is 2; External Attention has S = 32 slots. The raw numbers are in "
            "`benchmarks/token_mixing.csv`; the machine is shared, so read ratios, not absolute times.\n"
            "\n### CPU time per layer (ms)\n\n" + _table(["n"] + mixers, body)
            + f"\n### Fitted log-log slopes (n = {FIT_FROM} … {NS[-1]})\n\n"
            + _table(["mixer", "slope", "expected"], slope_rows)
            + "\nAt these lengths the n-linear projections (d×d for attention and Synthesizer, the e·d-wide ones "
              "of gMLP) still take a visible share of the time, which pulls the quadratic mixers' slopes below 2.\n"
            + f"\n_Measured {when} by `.venv/bin/python benchmarks/bench_token_mixing.py`._\n")


if __name__ == "__main__":
    print(run())

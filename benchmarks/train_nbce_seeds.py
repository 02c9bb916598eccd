"""The seed spread of chapter 07's tiny-LM table, too long to run with the chapter: writes `benchmarks/nbce_seeds.json`.

Each seed trains `kexue.nbce.train_tiny_lm` (1000 steps, one thread) and scores every method of `kexue.nbce.METHODS`
on 400 problems per number of chunks (the chapter's own seed 0 is among them). Reproduce with
`.venv/bin/python benchmarks/train_nbce_seeds.py` (about 20 CPU-seconds per seed on an idle core).
"""
from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

import torch

from kexue import nbce

HERE = Path(__file__).resolve().parent
JSON_PATH = HERE / "nbce_seeds.json"
SEEDS = (0, 1, 2, 3)
NS = (1, 2, 4, 8, 12)


def main() -> None:
    torch.set_num_threads(1)
    seeds = tuple(int(s) for s in sys.argv[1:]) or SEEDS
    rows = []
    for seed in seeds:
        start = time.process_time()
        model, _ = nbce.train_tiny_lm(seed=seed, progress=False)
        cpu = time.process_time() - start
        for n in NS:
            data = nbce.problem_logprobs(model, n)
            row = {"seed": seed, "n": n, "train_cpu_s": round(cpu, 1), "entropy_right": nbce.entropy_picks_right(data)}
            row |= {m: nbce.accuracy(data, m) for m in nbce.METHODS}
            rows.append(row)
        print(f"seed {seed}: {cpu:.1f} CPU-s, n=8 NBCE {rows[-2]['nbce']:.3f}", flush=True)
    provenance = {"command": "python benchmarks/train_nbce_seeds.py", "date": dt.date.today().isoformat(),
                  "seeds": list(seeds), "torch": torch.__version__.split("+")[0], "python": platform.python_version(),
                  "trials": 400, "steps": 1000}
    JSON_PATH.write_text(json.dumps({"provenance": provenance, "runs": rows}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

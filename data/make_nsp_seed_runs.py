"""Chapter 10's seed study, too long to run with the chapter: writes `src/kexue/corpora/nsp_seed_runs.json`.

Every run is `kexue.nsp.seed_run((seed, p_name))`: a fresh synthetic corpus and a miniature NSP-BERT pre-trained on it
(600 Adam steps, batch 128, one thread), then its NSP accuracy on held-out documents and its zero-shot topic accuracy
(candidates-contrast, prefix / suffix / bare-name prompts) on 1000 fresh sentences. Seeds 0-3 with name words in
half of the sentences (p_name = 0.5), seeds 0-7 with name words in a fifth of them (0.2) and never (the control, 0).
Runs already in the file are kept. Reproduce with `.venv/bin/python data/make_nsp_seed_runs.py`
(about 4 CPU-minutes on an idle core; the runs are spread over the idle cores).
"""
from __future__ import annotations

import datetime as dt
import json
import platform
from pathlib import Path

import torch

from kexue import nsp
from kexue.runtime import run_parallel

OUT = Path(__file__).resolve().parents[1] / "src" / "kexue" / "corpora" / "nsp_seed_runs.json"
SEEDS = {0.5: range(4), 0.2: range(8), 0.0: range(8)}


def main() -> None:
    done = json.loads(OUT.read_text(encoding="utf-8"))["runs"] if OUT.exists() else []
    have = {(r["seed"], r["p_name"]) for r in done}
    jobs = [(seed, p) for p, seeds in SEEDS.items() for seed in seeds if (seed, p) not in have]
    runs = done + run_parallel(nsp.seed_run, jobs, workers=2, desc="seed runs")
    runs.sort(key=lambda r: (-r["p_name"], r["seed"]))
    record = {"provenance": {"command": "python data/make_nsp_seed_runs.py", "function": "kexue.nsp.seed_run",
                             "date": dt.date.today().isoformat(), "torch": torch.__version__,
                             "python": platform.python_version(), "threads": 1},
              "runs": runs}
    OUT.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(runs)} runs)")


if __name__ == "__main__":
    main()

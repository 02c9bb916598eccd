"""The chapter-05 training runs too long to execute with the chapter: writes `benchmarks/token_mixing_training.json`.

Every run is `kexue.token_mixing.train_and_eval` (2 pre-LN blocks, d = 64, AdamW lr 3e-3, batch 64, one thread),
accuracy on 1000 fresh examples. Reproduce with `.venv/bin/python benchmarks/train_token_mixing.py`
(about 5 CPU-minutes).
"""
from __future__ import annotations

import datetime as dt
import json
import platform
from pathlib import Path

import torch

from kexue import token_mixing as tm

HERE = Path(__file__).resolve().parent
JSON_PATH = HERE / "token_mixing_training.json"
SEEDS = (0, 1)
RACE = [("attention", {}), ("synthesizer", {}), ("mlp_mixer", {}), ("resmlp", {}), ("fnet", {}), ("gmlp", {}),
        ("external", {}), ("external", {"double_norm": False})]
STEPS = {"reverse": 400, "kv_recall": 1000}


def label(mixer: str, options: dict[str, object]) -> str:
    """Row name: the mixer, with '_per_token' for External Attention without the token-axis softmax."""
    return mixer + ("_per_token" if options.get("double_norm") is False else "")


def main() -> dict[str, object]:
    """Run the race (both tasks, all seeds) and the position-embedding-scale ablation; write and return the JSON."""
    torch.set_num_threads(1)
    runs = []
    for task, steps in STEPS.items():
        for seed in SEEDS:
            for mixer, options in RACE:
                for pos_std in ((1.0, 0.02) if task == "reverse" and seed == 0 else (1.0,)):
                    acc, cpu, params = tm.train_and_eval(mixer, task, steps, seed=seed, pos_std=pos_std,
                                                         progress=False, **options)
                    runs.append({"task": task, "mixer": label(mixer, options), "seed": seed, "steps": steps,
                                 "pos_std": pos_std, "accuracy": acc, "cpu_s": round(cpu, 2), "params": params})
                    print(runs[-1], flush=True)
    result = {
        "provenance": {
            "command": ".venv/bin/python benchmarks/train_token_mixing.py",
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "seeds": list(SEEDS), "torch": torch.__version__, "python": platform.python_version(),
            "setup": "kexue.token_mixing.train_and_eval: MixerModel d=64, 2 blocks, AdamW lr 3e-3, batch 64, "
                     "one thread; accuracy on 1000 fresh examples (seed 12345)",
        },
        "runs": runs,
    }
    JSON_PATH.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()

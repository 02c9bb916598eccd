"""The chapter-05 training runs too long to execute with the chapter: writes `benchmarks/token_mixing_training.json`.

Every run is `kexue.token_mixing.train_and_eval` (2 pre-LN blocks, d = 64, AdamW lr 3e-3, batch 64, one thread),
accuracy on 1000 fresh examples. Reproduce with `.venv/bin/python benchmarks/train_token_mixing.py`
(about 5 CPU-minutes on an idle core).
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
SEEDS = (0,)
RECALL = [("attention", {}), ("mlp_mixer", {}), ("synthesizer", {}), ("fnet", {}), ("gmlp", {}), ("external", {}),
          ("external", {"double_norm": False}), ("resmlp", {})]
POSITION_SCALE = [("fnet", {}), ("external", {})]  # reversal with position embeddings of std 0.02 and of std 1
STEPS = {"reverse": 400, "kv_recall": 1000}


def label(mixer: str, options: dict[str, object]) -> str:
    """Row name: the mixer, with '_per_token' for External Attention without the token-axis softmax."""
    return mixer + ("_per_token" if options.get("double_norm") is False else "")


def plan() -> list[tuple[str, str, dict[str, object], float, int]]:
    """(task, mixer, options, pos_std, seed) of every run, shortest first."""
    runs = [("reverse", m, o, p, s) for p in (0.02, 1.0) for s in SEEDS for m, o in POSITION_SCALE]
    return runs + [("kv_recall", m, o, 1.0, s) for s in SEEDS for m, o in RECALL]


def key(run: dict[str, object]) -> tuple[object, ...]:
    """What identifies a run in the JSON."""
    return run["task"], run["mixer"], run["seed"], run["steps"], run["pos_std"]


def main() -> dict[str, object]:
    """Run the plan; rewrite the JSON after every run and resume from it, so an interrupted run loses nothing."""
    torch.set_num_threads(1)
    done = {}
    if JSON_PATH.exists():  # resume: runs are deterministic, so a finished one need not be repeated
        done = {key(r): r for r in json.loads(JSON_PATH.read_text(encoding="utf-8"))["runs"]}
    result: dict[str, object] = {
        "provenance": {
            "command": ".venv/bin/python benchmarks/train_token_mixing.py",
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "seeds": list(SEEDS), "torch": torch.__version__, "python": platform.python_version(),
            "setup": "kexue.token_mixing.train_and_eval: MixerModel d=64, 2 blocks, AdamW lr 3e-3, batch 64, "
                     "one thread; accuracy on 1000 fresh examples (seed 12345)",
        },
        "runs": [],
    }
    for task, mixer, options, pos_std, seed in plan():
        if (task, label(mixer, options), seed, STEPS[task], pos_std) in done:
            result["runs"].append(done[(task, label(mixer, options), seed, STEPS[task], pos_std)])
            continue
        acc, cpu, params = tm.train_and_eval(mixer, task, STEPS[task], seed=seed, pos_std=pos_std,
                                             progress=False, **options)
        result["runs"].append({"task": task, "mixer": label(mixer, options), "seed": seed, "steps": STEPS[task],
                               "pos_std": pos_std, "accuracy": acc, "cpu_s": round(cpu, 2), "params": params})
        print(result["runs"][-1], flush=True)
        JSON_PATH.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()

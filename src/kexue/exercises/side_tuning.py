"""Checkers for the exercises of chapter 11 (Ladder Side-Tuning).

kexue.side_tuning imports torch (and the cache exercise transformers), so they are imported inside the checkers:
loading every checker must work without them.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from kexue.exercises import as_float, call, close, grade, register

DEPTH_METHODS = ("full", "adapters", "lora", "bitfit", "prompt tuning", "lst")
_DEPTH = {"full": 0, "adapters": 1, "lora": 1, "bitfit": 0, "prompt tuning": 0, "lst": None}


@register("lst-backprop-depth", hint="Find the trainable parameter nearest the input: the backward pass must reach "
                                     "the layer that holds it. Biases include those of the embedding LayerNorm.")
def backprop_depth(answer: Any) -> tuple[bool, str]:
    """A dict method -> the earliest backbone layer the backward pass reaches (0 = embeddings, None = none)."""
    if not isinstance(answer, Mapping):
        return False, f"give a dict with the keys {', '.join(map(repr, DEPTH_METHODS))}."
    missing = [m for m in DEPTH_METHODS if m not in answer]
    if missing:
        return False, f"the dict lacks {', '.join(map(repr, missing))}."
    wrong = []
    for method in DEPTH_METHODS:
        value = answer[method]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return False, f"the value for {method!r} must be a layer number (0 to 6) or None."
        if value != _DEPTH[method]:
            wrong.append(method)
    if not wrong:
        return True, "right for all six methods."
    return False, f"{len(wrong)} of 6 are not right, among them {wrong[0]!r}."


def _case_linear(n: int, k: int, m: int, trainable_w: bool) -> tuple[Callable[[], Any], list[Any]]:
    """(x @ W).sum() with x (n×k) and W (k×m); either W trainable and x constant, or the reverse."""
    import torch

    x = torch.randn(n, k, requires_grad=not trainable_w)
    w = torch.nn.Parameter(torch.randn(k, m), requires_grad=trainable_w)
    return (lambda: (x @ w).sum()), [w]


def _case_head(n: int, k: int, h: int) -> tuple[Callable[[], Any], list[Any]]:
    """A frozen ReLU MLP under no_grad, then a trainable linear head."""
    import torch
    from torch import nn

    mlp = nn.Sequential(nn.Linear(k, h), nn.ReLU(), nn.Linear(h, h)).requires_grad_(False)
    lin, x = nn.Linear(h, 3), torch.randn(n, k)

    def loss() -> Any:
        with torch.no_grad():
            feats = mlp(x)
        return lin(feats).sum()

    return loss, [*mlp.parameters(), *lin.parameters()]


def _case_tanh(n: int, k: int) -> tuple[Callable[[], Any], list[Any]]:
    """tanh(x W).sum(): x is saved for W's gradient and tanh's output for its own backward."""
    import torch

    x, w = torch.randn(n, k), torch.nn.Parameter(torch.randn(k, k))
    return (lambda: torch.tanh(x @ w).sum()), [w]


def _case_shared(n: int) -> tuple[Callable[[], Any], list[Any]]:
    """(w * y * y).sum(): two multiplications save the same y."""
    import torch

    w, y = torch.nn.Parameter(torch.randn(n)), torch.randn(n)
    return (lambda: (w * y * y).sum()), [w]


_BYTES_CASES = [("linear", (6, 5, 2, True)), ("linear", (9, 3, 4, False)), ("head", (5, 4, 6)), ("tanh", (4, 7)),
                ("shared", (12,)), ("linear", (3, 8, 8, True))]


@register("lst-saved-bytes", hint="Count each distinct storage once (t.untyped_storage()), skip the storages of the "
                                  "parameters, and remember that autograd saves only what a gradient needs.")
def saved_bytes(answer: Any) -> tuple[bool, str]:
    """A function saved_bytes(loss_fn, params) equal to kexue's saved-activation count on six hidden graphs."""
    if not callable(answer):
        return False, "pass a function saved_bytes(loss_fn, params) returning a number of bytes."
    import torch

    from kexue.side_tuning import saved_activation_bytes

    makers = {"linear": _case_linear, "head": _case_head, "tanh": _case_tanh, "shared": _case_shared}
    wrong = []
    for kind, args in _BYTES_CASES:
        torch.manual_seed(len(wrong) + sum(args))
        expected = saved_activation_bytes(*makers[kind](*args))
        value, error = call(answer, *makers[kind](*args))
        try:
            ok = error is None and close(as_float(value), expected)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            wrong.append(kind)
    if not wrong:
        return True, f"right on all {len(_BYTES_CASES)} graphs."
    what = {"linear": "a single matrix product", "head": "a frozen network under no_grad followed by a head",
            "tanh": "a matrix product followed by tanh", "shared": "two products that save the same tensor"}
    return False, (f"{len(wrong)} of {len(_BYTES_CASES)} graphs give another count; the first is "
                   f"{what[wrong[0]]}.")


LORA_TARGETS = {"query": "dd", "key": "dd", "value": "dd", "attention.output.dense": "dd",
                "intermediate.dense": "df"}


def _lora_params(d: int, n_layers: int, ffn: int, r: int, targets: tuple[str, ...]) -> int:
    """LoRA's trainable parameters: r (in + out) per adapted map, per layer."""
    per_layer = sum(r * (d + (d if LORA_TARGETS[t] == "dd" else ffn)) for t in targets)
    return n_layers * per_layer


_LORA_CASES = [(64, 2, 128, 4, ("key",)), (384, 6, 1536, 8, ("query", "value")),
               (384, 6, 1536, 8, ("query", "key", "value", "attention.output.dense")),
               (768, 12, 3072, 16, ("intermediate.dense",)), (256, 4, 1024, 2, ("value", "intermediate.dense"))]


@register("lst-lora-params", hint="A rank-r update of a map from n_in to n_out numbers has r·n_in + r·n_out "
                                  "parameters; the intermediate map goes from d to ffn.")
def lora_params(answer: Any) -> tuple[bool, str]:
    """A function lora_params(d, n_layers, ffn, r, targets) -> LoRA's trainable parameters (no head)."""
    if not callable(answer):
        return False, "pass a function lora_params(d, n_layers, ffn, r, targets)."
    result = grade(answer, _LORA_CASES, _lora_params, rtol=0, names=("d", "n_layers", "ffn", "r", "targets"),
                   what="configurations")
    if result.passed:
        return True, f"right for all {result.total} configurations."
    only_qv = all(close(v, _lora_params(*c[:4], ("query", "value"))) if isinstance(v, (int, float)) else False
                  for v, c in zip(result.values, _LORA_CASES))
    if only_qv:
        return False, "your count ignores targets: it is the query/value count every time."
    return False, result.message()


def _gate_slope(alpha: float, T: float) -> float:
    """dμ/dα for μ = σ(α/T)."""
    mu = 1.0 / (1.0 + math.exp(-alpha / T))
    return mu * (1.0 - mu) / T


_GATE_CASES = [(a, T) for T in (0.1, 0.5, 1.0, 2.0) for a in (-1.0, -0.1, 0.0, 0.05, 0.3, 2.0)]


@register("lst-gate", hint="Differentiate σ(α/T) with the chain rule: σ'(z) = σ(z)(1 − σ(z)).")
def gate(answer: Any) -> tuple[bool, str]:
    """A function gate_slope(alpha, T) -> dμ/dα of the gate μ = σ(α/T)."""
    if not callable(answer):
        return False, "pass a function gate_slope(alpha, T)."
    result = grade(answer, _GATE_CASES, _gate_slope, rtol=1e-6, atol=1e-12, names=("alpha", "T"), what="(α, T) pairs")
    if result.passed:
        return True, f"right for all {result.total} (α, T) pairs."
    if all(isinstance(v, (int, float)) and close(v, 1 / (4 * c[1])) for v, c in zip(result.values, _GATE_CASES)):
        return False, "that is the slope at α = 0 only; the slope changes as α moves away from 0."
    return False, result.message()


def _cache_setup() -> tuple[Any, Any, Any]:
    """A tiny random BERT with strong dropout, in train mode, an LST classifier on it, and a batch."""
    import torch
    import transformers

    from kexue.side_tuning import adapt

    torch.manual_seed(11)
    config = transformers.BertConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, hidden_dropout_prob=0.5,
                                     attention_probs_dropout_prob=0.5)
    model = adapt(transformers.BertModel(config, add_pooling_layer=False), "lst", reduction=4, seed=3)
    ids = torch.randint(3, 60, (4, 9), generator=torch.Generator().manual_seed(5))
    mask = torch.ones_like(ids)
    mask[:2, 6:] = 0
    return model, ids, mask


@register("lst-cache", hint="Run the backbone once, without building a graph and with dropout off, and keep every "
                            "hidden state: the embeddings and each layer's output.")
def cache(answer: Any) -> tuple[bool, str]:
    """A function cache(backbone, input_ids, attention_mask) -> the backbone's hidden states for an LST side net."""
    if not callable(answer):
        return False, "pass a function cache(backbone, input_ids, attention_mask)."
    import torch

    model, ids, mask = _cache_setup()
    model.backbone.train()
    with torch.no_grad():
        want = model(ids, mask)
    model.backbone.train()  # a student's function finds the backbone as a training loop would leave it
    states, error = call(answer, model.backbone, ids, mask)
    if error is not None:
        return False, f"your function raised {error}."
    if isinstance(states, torch.Tensor) or not isinstance(states, (tuple, list)) or \
            not all(isinstance(h, torch.Tensor) for h in states):
        return False, "return a tuple or list of tensors (the hidden states)."
    n = len(model.backbone.encoder.layer) + 1
    if len(states) != n:
        return False, f"return {n} tensors for this {n - 1}-layer backbone: the embeddings and every layer's output."
    if any(h.requires_grad for h in states):
        return False, "the cached states carry a graph: compute them without gradients."
    try:
        with torch.no_grad():
            got = model.forward_hidden(list(states), mask)
    except (RuntimeError, ValueError, TypeError) as err:
        return False, f"the side network could not read your states ({type(err).__name__})."
    if (got - want).abs().max() < 1e-5:
        return True, "right: the side network gives the same logits from your cache."
    return False, ("same shapes, other values: is dropout switched off while you compute the states, and does the "
                   "backbone see the attention mask?")


def _max_batch(memory_gb: float, n_params: float, trainable_fraction: float, act_per_example: float) -> int:
    """The largest batch with 4P + 12 P_t + B a ≤ M (fp32, Adam), M in units of 2^30 bytes."""
    free = memory_gb * 2**30 - 4 * n_params - 12 * trainable_fraction * n_params
    return max(0, math.floor(free / act_per_example))


_BUDGET_CASES = [(24.0, 330e6, 1.0, 150e6), (24.0, 330e6, 0.01, 0.6 * 150e6), (24.0, 330e6, 0.005, 0.18 * 150e6),
                 (16.0, 110e6, 1.0, 40e6), (16.0, 110e6, 0.002, 0.2 * 40e6), (8.0, 1.3e9, 0.01, 30e6)]


@register("lst-budget", hint="Memory = 4P (weights) + 4P_t (gradients) + 8P_t (Adam) + B·a (activations); solve for "
                             "the largest whole B, and use 2^30 bytes per GB.")
def budget(answer: Any) -> tuple[bool, str]:
    """A function max_batch(memory_gb, n_params, trainable_fraction, act_per_example) -> the largest batch size."""
    if not callable(answer):
        return False, "pass a function max_batch(memory_gb, n_params, trainable_fraction, act_per_example)."
    result = grade(answer, _BUDGET_CASES, _max_batch, rtol=0, atol=1.0,
                   names=("memory_gb", "n_params", "trainable_fraction", "act_per_example"), what="budgets")
    if result.passed:
        return True, f"right for all {result.total} budgets (within 1)."
    return False, result.message()

"""NBCE, naive-Bayes context extension: combining per-context next-token predictions, on a tiny LM and a real one.

The combination rules (``entropy``, ``top_p_filter``, ``nbce_scores`` and friends) work on log-probabilities of shape
``(..., n, V)`` for ``n`` contexts and ``(..., V)`` for the no-context run. The synthetic key-value task and ``TinyLM``
(built on ``kexue.nn``) give a model small enough to train in seconds; ``people_problem``, ``first_token_logprobs`` and
``nbce_generate`` run the same rules on a pretrained causal LM (``kexue.pretrained.load_smollm2``).
"""
from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn
from torch.nn import functional as F

from kexue import nn as knn
from kexue import validate

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

POOLINGS = ("min_entropy", "average", "max", "kl")
"""How ``nbce_scores`` pools the contexts: the least uncertain one, the mean, the maximum, the most informative one."""
CLIP = -100.0
"""Log-probabilities are clipped at this value inside entropies and KL divergences (keeps 0·(−∞) out)."""


# ------------------------------------------------------------------------------------------------ combination rules
def _logp(value: ArrayLike | torch.Tensor, name: str, min_ndim: int = 1) -> torch.Tensor:
    """Log-probabilities as a float tensor (float64 from arrays): no NaN, no +∞, none above 0; −∞ allowed."""
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool or value.is_complex() or not value.is_floating_point():
            raise TypeError(f"{name} must be a floating tensor of log-probabilities, got dtype {value.dtype}")
        x = value.detach()
    else:
        x = torch.from_numpy(np.ascontiguousarray(validate.array(value, name, finite=True, allow_inf=True)))
    if x.dim() < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    if bool(torch.isnan(x).any()) or bool((x == float("inf")).any()):
        raise ValueError(f"{name} must not contain NaN or +inf (log-probabilities are at most 0)")
    if bool((x > 1e-6).any()):
        raise ValueError(f"{name} must hold log-probabilities (at most 0), got a maximum of {float(x.max()):.3g}")
    return x


def entropy(logp: ArrayLike | torch.Tensor) -> torch.Tensor:
    """Entropy −Σ p·clip(log p, −100, 0) over the last axis (the reference code's form; −∞ entries contribute 0)."""
    x = _logp(logp, "logp")
    return -(x.exp() * x.clamp(CLIP, 0.0)).sum(-1)


def top_p_filter(logp: ArrayLike | torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the most probable tokens whose mass reaches ``top_p`` (at least one), set the rest to −∞; no renormalising.

    Hugging Face's TopPLogitsWarper rule: sort ascending and drop the tokens whose cumulative probability is at most
    1 − top_p.
    """
    x = _logp(logp, "logp")
    top_p = validate.real(top_p, "top_p", positive=True, maximum=1.0)
    ordered, index = torch.sort(x, dim=-1)
    drop = ordered.softmax(-1).cumsum(-1) <= 1 - top_p
    drop[..., -1] = False  # the most probable token always stays
    drop = drop.scatter(-1, index, drop)
    return x.masked_fill(drop, float("-inf"))


def select_chunk(entropies: ArrayLike | torch.Tensor, prev_k: int | None = None,
                 eta: float = 0.0) -> int:
    """Index of the smallest entropy; the previous choice ``prev_k`` gets a bonus ``eta`` (switch if beaten by η)."""
    h = validate.tensor(entropies, "entropies", ndim=1, dtype=torch.float64)
    eta = validate.real(eta, "eta", positive=True, allow_zero=True)
    if prev_k is not None:
        prev_k = validate.integer(prev_k, "prev_k", 0, h.numel() - 1)
        h = h.clone()
        h[prev_k] -= eta
    return int(h.argmin())


def _pair(logp_ctx: ArrayLike | torch.Tensor,
          logp_uncond: ArrayLike | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The contexts' log-probabilities ``(..., n, V)`` and the no-context ones ``(..., V)``, shapes checked."""
    ctx, unc = _logp(logp_ctx, "logp_ctx", 2), _logp(logp_uncond, "logp_uncond", 1)
    if unc.shape != ctx.shape[:-2] + ctx.shape[-1:]:
        raise ValueError(f"logp_uncond must have shape {tuple(ctx.shape[:-2] + ctx.shape[-1:])} to match logp_ctx "
                         f"{tuple(ctx.shape)} (same vocabulary, one row per problem), got {tuple(unc.shape)}")
    dtype = torch.promote_types(ctx.dtype, unc.dtype)
    return ctx.to(dtype), unc.to(dtype)


def kl_to_uncond(logp_ctx: ArrayLike | torch.Tensor, logp_uncond: ArrayLike | torch.Tensor) -> torch.Tensor:
    """KL(p(·|S_k) ‖ p(·)) for every context, logs clipped at −100: how far each context moves the prediction."""
    ctx, unc = _pair(logp_ctx, logp_uncond)
    return (ctx.exp() * (ctx.clamp(CLIP, 0.0) - unc.unsqueeze(-2).clamp(CLIP, 0.0))).sum(-1)


def kl_select(logp_ctx: ArrayLike | torch.Tensor, logp_uncond: ArrayLike | torch.Tensor) -> torch.Tensor | int:
    """The context whose prediction is farthest (in KL) from the no-context one: an int, or a tensor when batched."""
    k = kl_to_uncond(logp_ctx, logp_uncond).argmax(-1)
    return int(k) if k.dim() == 0 else k


def nbce_scores(logp_ctx: ArrayLike | torch.Tensor, logp_uncond: ArrayLike | torch.Tensor,
                pooling: str = "min_entropy", beta: float = 0.25, top_p: float | None = None,
                prev_k: int | None = None, eta: float = 0.0) -> tuple[torch.Tensor, torch.Tensor | int | None]:
    """Scores (1+β)·P[log p(T|S)] − β·log p(T) and the chosen context (None for average and max pooling).

    ``top_p`` truncates every distribution first. Where log p(T) = −∞ the score is P[log p(T|S)] alone (the infinity
    rule: it avoids +∞ and NaN). ``prev_k`` and ``eta`` add the transition bonus to min-entropy selection
    (unbatched only). Batched inputs ``(B, n, V)`` and ``(B, V)`` give scores ``(B, V)`` and ``k`` of shape ``(B,)``.
    """
    ctx, unc = _pair(logp_ctx, logp_uncond)
    pooling = validate.choice(pooling, "pooling", POOLINGS)
    beta = validate.real(beta, "beta", minimum=-1.0, maximum=1e6)
    eta = validate.real(eta, "eta", positive=True, allow_zero=True)
    if top_p is not None:
        ctx, unc = top_p_filter(ctx, top_p), top_p_filter(unc, top_p)
    if prev_k is not None and ctx.dim() != 2:
        raise ValueError("prev_k works with one problem at a time: logp_ctx must be (n, V) when prev_k is given")
    k: torch.Tensor | int | None = None
    if pooling == "average":
        pooled = ctx.mean(-2)
    elif pooling == "max":
        pooled = ctx.max(-2).values
    else:
        if pooling == "min_entropy" and ctx.dim() == 2:
            k = select_chunk(entropy(ctx), prev_k, eta)
        elif pooling == "min_entropy":
            k = entropy(ctx).argmin(-1)
        else:
            k = kl_select(ctx, unc)
        index = torch.as_tensor(k).reshape(ctx.shape[:-2] + (1, 1)).expand(ctx.shape[:-2] + (1, ctx.shape[-1]))
        pooled = ctx.gather(-2, index).squeeze(-2)
    finite = unc > float("-inf")
    merged = (1 + beta) * pooled - beta * unc.masked_fill(~finite, 0.0)
    return torch.where(finite, merged, pooled), k


def naive_bayes_scores(logp_ctx: ArrayLike | torch.Tensor, logp_uncond: ArrayLike | torch.Tensor) -> torch.Tensor:
    """The textbook naive-Bayes scores Σ_k log p(T|S_k) − (n−1)·log p(T) (average pooling with β = n − 1)."""
    ctx, unc = _pair(logp_ctx, logp_uncond)
    n = ctx.shape[-2]
    finite = unc > float("-inf")
    total = ctx.sum(-2)
    return torch.where(finite, total - (n - 1) * unc.masked_fill(~finite, 0.0), total / n)


def independent_posterior(prior: ArrayLike, likelihoods: Sequence[ArrayLike],
                          observed: Sequence[int]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(brute-force posterior, naive-Bayes-formula posterior) of T given S_k = observed[k], S_k ⟂ S_j given T.

    ``likelihoods[k][t, s]`` is p(S_k = s | T = t). The brute force enumerates the joint distribution; the formula
    uses only p(T | S_k) and p(T), as NBCE does.
    """
    p_t = validate.probability(prior, "prior")
    if isinstance(likelihoods, (str, bytes)) or not isinstance(likelihoods, Sequence) or not likelihoods:
        raise TypeError("likelihoods must be a non-empty sequence of (T, S_k) matrices")
    tables = [validate.matrix(m, "likelihoods", shape=(p_t.size, None)) for m in likelihoods]
    if any(np.any(m < 0) or not np.allclose(m.sum(1), 1) for m in tables):
        raise ValueError("likelihoods must be row-stochastic: each row p(S_k | T = t) sums to 1")
    if isinstance(observed, (str, bytes)) or not isinstance(observed, Sequence) or len(observed) != len(tables):
        raise TypeError(f"observed must be a sequence of {len(tables)} observed values, one per context")
    obs = [validate.integer(s, "observed", 0, m.shape[1] - 1) for s, m in zip(observed, tables)]
    validate.memory(8.0 * p_t.size * np.prod([m.shape[1] for m in tables], dtype=float), "likelihoods", "the joint")
    joint = p_t.copy()
    for m in tables:  # p(T, S_1, ..., S_n) as an array with one axis per variable
        joint = joint[..., None] * m.reshape((p_t.size,) + (1,) * (joint.ndim - 1) + (m.shape[1],))
    brute = joint[(slice(None), *obs)]
    brute = brute / brute.sum()
    log_post = [np.log(m[:, s] * p_t) - np.log((m[:, s] * p_t).sum()) for m, s in zip(tables, obs)]
    formula = np.sum(log_post, axis=0) - (len(tables) - 1) * np.log(p_t)
    formula = np.exp(formula - formula.max())
    return brute, formula / formula.sum()


# ------------------------------------------------------------------------------------------------ the key-value task
@dataclass(frozen=True)
class KVVocab:
    """Token ids of the key-value task: PAD, SEP, Q, 40 keys, 20 values, NONE (the refusal token)."""

    pad: int = 0
    sep: int = 1
    q: int = 2
    key0: int = 3
    n_keys: int = 40
    value0: int = 43
    n_values: int = 20
    none: int = 63
    size: int = 64
    length: int = 11  # the training window: 9 context tokens (3 pairs "k v SEP"), then "Q key"
    pairs: int = 3


VOCAB = KVVocab()
DEFAULT = np.random.default_rng(0).integers(0, VOCAB.n_values, VOCAB.n_keys)
"""The default value of each key: the answer the model learns when the key is not in its context."""


def kv_vocab() -> KVVocab:
    """The key-value task's vocabulary and sizes."""
    return VOCAB


def encode(pairs: Sequence[tuple[int, int]], kq: int) -> NDArray[np.int64]:
    """One sequence: the pairs (key index, value index) as "k v SEP", left-padded to 9 tokens, then "Q k_q"."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence) or len(pairs) > VOCAB.pairs:
        raise TypeError(f"pairs must be a sequence of at most {VOCAB.pairs} (key, value) index pairs")
    kq = validate.integer(kq, "kq", 0, VOCAB.n_keys - 1)
    tokens = []
    for pair in pairs:
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError("pairs must hold (key, value) index pairs")
        k = validate.integer(pair[0], "pairs", 0, VOCAB.n_keys - 1)
        v = validate.integer(pair[1], "pairs", 0, VOCAB.n_values - 1)
        tokens += [VOCAB.key0 + k, VOCAB.value0 + v, VOCAB.sep]
    return _encode(tokens, kq)


def _encode(tokens: list[int], kq: int) -> NDArray[np.int64]:
    """Context tokens (already "k v SEP" triples) left-padded, then "Q k_q"; no checks (inner loops)."""
    context = [VOCAB.pad] * (VOCAB.length - 2 - len(tokens)) + tokens
    return np.array(context + [VOCAB.q, VOCAB.key0 + kq], dtype=np.int64)


def _triples(keys: NDArray[np.int64], values: NDArray[np.int64]) -> list[int]:
    """The token ids of the pairs as "k v SEP" triples."""
    return [t for k, v in zip(keys.tolist(), values.tolist()) for t in (VOCAB.key0 + k, VOCAB.value0 + v, VOCAB.sep)]


def sample_batch(B: int, rng: np.random.Generator, p_present: float = 0.5, p_empty: float = 0.1,
                 refusal: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Training examples ``(B, 11)`` and their next tokens ``(B,)``.

    With probability ``p_empty`` the context is empty, else it holds 1–3 pairs with distinct keys. With probability
    ``p_present`` (non-empty contexts) the queried key is in it and the target is its value; otherwise the target is
    the key's DEFAULT value half of the time and a random value the other half, or NONE when ``refusal``.
    """
    B = validate.integer(B, "B", 1, 1_000_000)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    p_present = validate.real(p_present, "p_present", minimum=0.0, maximum=1.0)
    p_empty = validate.real(p_empty, "p_empty", minimum=0.0, maximum=1.0)
    refusal = validate.boolean(refusal, "refusal")
    x = np.empty((B, VOCAB.length), dtype=np.int64)
    y = np.empty(B, dtype=np.int64)
    for b in range(B):
        m = 0 if rng.random() < p_empty else int(rng.integers(1, VOCAB.pairs + 1))
        keys = rng.choice(VOCAB.n_keys, m + 1, replace=False)  # the last one is a key absent from the context
        values = rng.integers(0, VOCAB.n_values, m)
        if m and rng.random() < p_present:
            i = int(rng.integers(m))
            kq, target = int(keys[i]), VOCAB.value0 + int(values[i])
        else:
            kq = int(keys[m])
            if refusal:
                target = VOCAB.none
            elif rng.random() < 0.5:
                target = VOCAB.value0 + int(DEFAULT[kq])
            else:
                target = VOCAB.value0 + int(rng.integers(VOCAB.n_values))
        x[b] = _encode(_triples(keys[:m], values), kq)
        y[b] = target
    return torch.from_numpy(x), torch.from_numpy(y)


@dataclass(frozen=True)
class Problem:
    """A retrieval problem: ``n`` context sequences, the no-context one, the answer token and the right chunk."""

    contexts: NDArray[np.int64]  # (n, 11)
    uncond: NDArray[np.int64]  # (11,)
    answer: int
    right: int


def make_problem(n: int, rng: np.random.Generator) -> Problem:
    """``n`` chunks of 3 pairs with 3n distinct keys; the queried key lies in exactly one chunk."""
    n = validate.integer(n, "n", 1, VOCAB.n_keys // VOCAB.pairs)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    keys = rng.choice(VOCAB.n_keys, (n, VOCAB.pairs), replace=False)
    values = rng.integers(0, VOCAB.n_values, (n, VOCAB.pairs))
    right, slot = int(rng.integers(n)), int(rng.integers(VOCAB.pairs))
    kq = int(keys[right, slot])
    contexts = np.stack([_encode(_triples(keys[j], values[j]), kq) for j in range(n)])
    return Problem(contexts, _encode([], kq), VOCAB.value0 + int(values[right, slot]), right)


# ------------------------------------------------------------------------------------------------ the tiny LM
class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which each position sees itself and the positions before it."""

    def __init__(self, d: int, heads: int = 4) -> None:
        super().__init__()
        d = validate.integer(d, "d", 1, 4096)
        self.heads = validate.integer(heads, "heads", 1, d)
        if d % self.heads:
            raise ValueError(f"heads must divide d = {d}, got {heads}")
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, n, d)`` to ``(B, n, d)``."""
        B, n, d = x.shape
        q, k, v = self.qkv(x).view(B, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(B, n, d))


class TinyLM(nn.Module):
    """A causal pre-LN transformer over the key-value vocabulary that predicts the token after the last position."""

    def __init__(self, d: int = 64, layers: int = 2, heads: int = 4, hidden: int = 256) -> None:
        super().__init__()
        d = validate.integer(d, "d", 1, 1024)
        layers = validate.integer(layers, "layers", 1, 16)
        hidden = validate.integer(hidden, "hidden", 1, 8192)
        self.embed = knn.Embedding(VOCAB.size, VOCAB.length, d)
        self.blocks = nn.Sequential(*(knn.Block(CausalSelfAttention(d, heads), d, hidden) for _ in range(layers)))
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, VOCAB.size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, 11)`` token ids to ``(B, V)`` next-token logits."""
        return self.head(self.norm(self.blocks(self.embed(tokens))[:, -1]))


def _fit(model: nn.Module, steps: int, seed: int, lr: float, refusal: bool, progress: bool, desc: str) -> list[float]:
    """AdamW (weight decay 0.01) with a one-cycle schedule (10% warm-up), batch 64, fresh data from ``seed``."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.1)
    model.train()
    losses = []
    for step in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        x, y = sample_batch(64, rng, refusal=refusal)
        loss = F.cross_entropy(model(x), y)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss.item()} at step {step}")
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
    model.eval()
    return losses


def train_tiny_lm(steps: int = 1000, seed: int = 0, progress: bool = True) -> tuple[TinyLM, list[float]]:
    """A TinyLM trained on the key-value task (lr 3e-3): the model and the loss of every step."""
    steps = validate.integer(steps, "steps", 1, 100_000)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    progress = validate.boolean(progress, "progress")
    knn.set_seed(seed)
    model = TinyLM()
    return model, _fit(model, steps, seed, 3e-3, False, progress, "training the tiny LM")


def refusal_fine_tune(model: TinyLM, steps: int = 300, seed: int = 5,
                      progress: bool = True) -> tuple[TinyLM, list[float]]:
    """A copy of ``model`` fine-tuned (lr 1e-3) to answer NONE when the queried key is not in its context."""
    if not isinstance(model, TinyLM):
        raise TypeError(f"model must be a TinyLM, got {type(model).__name__}")
    steps = validate.integer(steps, "steps", 1, 100_000)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    progress = validate.boolean(progress, "progress")
    tuned = copy.deepcopy(model)
    torch.manual_seed(seed)
    return tuned, _fit(tuned, steps, seed, 1e-3, True, progress, "refusal fine-tune")


# ------------------------------------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class ProblemSet:
    """A model's log-probabilities per problem: contexts ``(T, n, V)``, no context ``(T, V)``, answers, right chunks."""

    logp_ctx: torch.Tensor
    logp_uncond: torch.Tensor
    answer: torch.Tensor
    right: torch.Tensor
    keys: torch.Tensor  # the queried key's index, for the DEFAULT-value diagnosis


@torch.no_grad()
def problem_logprobs(model: TinyLM, n: int, trials: int = 400, seed: int = 7) -> ProblemSet:
    """Run ``model`` once on ``trials`` problems of ``n`` chunks (rng seed ``seed + n``): all it takes to score them."""
    if not isinstance(model, TinyLM):
        raise TypeError(f"model must be a TinyLM, got {type(model).__name__}")
    n = validate.integer(n, "n", 1, VOCAB.n_keys // VOCAB.pairs)
    trials = validate.integer(trials, "trials", 1, 20_000)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    rng = np.random.default_rng(seed + n)
    problems = [make_problem(n, rng) for _ in range(trials)]
    x = torch.from_numpy(np.stack([np.vstack([p.contexts, p.uncond]) for p in problems]))
    model.eval()
    logp = model(x.view(-1, VOCAB.length)).double().log_softmax(-1).view(trials, n + 1, VOCAB.size)
    return ProblemSet(logp[:, :n], logp[:, n], torch.tensor([p.answer for p in problems]),
                      torch.tensor([p.right for p in problems]), x[:, n, -1] - VOCAB.key0)


METHODS = ("truncated", "average", "naive_bayes", "nb_top_p", "max", "nbce", "kl", "oracle")
"""The ways of answering compared in the chapter (see ``predict``)."""


def predict(data: ProblemSet, method: str, beta: float | None = None, top_p: float | None = None) -> torch.Tensor:
    """The predicted token of every problem under ``method``.

    truncated: the last chunk only (what a fixed window sees); average: mean of logs, β = 0; naive_bayes: β = n − 1;
    nb_top_p: the same after Top-P 0.95; max: max pooling, β = 0.25; nbce: min-entropy, β = 0.25; kl: the context
    farthest from the no-context run, β = 0.25; oracle: the right chunk alone. ``beta`` and ``top_p`` override.
    """
    if not isinstance(data, ProblemSet):
        raise TypeError(f"data must be a ProblemSet (from problem_logprobs), got {type(data).__name__}")
    method = validate.choice(method, "method", METHODS)
    ctx, unc = data.logp_ctx, data.logp_uncond
    n = ctx.shape[1]
    if method == "truncated":
        return ctx[:, -1].argmax(-1)
    if method == "oracle":
        return ctx[torch.arange(len(ctx)), data.right].argmax(-1)
    pooling = {"average": "average", "naive_bayes": "average", "nb_top_p": "average", "max": "max",
               "nbce": "min_entropy", "kl": "kl"}[method]
    default_beta = {"average": 0.0, "naive_bayes": n - 1.0, "nb_top_p": n - 1.0}.get(method, 0.25)
    default_top_p = 0.95 if method == "nb_top_p" else None
    scores, _ = nbce_scores(ctx, unc, pooling, default_beta if beta is None else beta,
                            default_top_p if top_p is None else top_p)
    return scores.argmax(-1)


def accuracy(data: ProblemSet, method: str, beta: float | None = None, top_p: float | None = None) -> float:
    """Fraction of problems answered right by ``method`` (see ``predict``)."""
    return float((predict(data, method, beta, top_p) == data.answer).double().mean())


def evaluate(model: TinyLM, n: int, method: str, trials: int = 400, seed: int = 7) -> float:
    """Accuracy of ``method`` on ``trials`` fresh problems with ``n`` chunks."""
    method = validate.choice(method, "method", METHODS)
    return accuracy(problem_logprobs(model, n, trials, seed), method)


def entropy_picks_right(data: ProblemSet) -> float:
    """How often the chunk of least entropy is the one that holds the answer."""
    if not isinstance(data, ProblemSet):
        raise TypeError(f"data must be a ProblemSet, got {type(data).__name__}")
    return float((entropy(data.logp_ctx).argmin(-1) == data.right).double().mean())


def failure_kinds(data: ProblemSet, prediction: torch.Tensor) -> dict[str, int]:
    """Count predictions that are right, another value, the key's DEFAULT value, or not a value at all."""
    if not isinstance(data, ProblemSet):
        raise TypeError(f"data must be a ProblemSet, got {type(data).__name__}")
    if not isinstance(prediction, torch.Tensor) or prediction.shape != data.answer.shape:
        raise TypeError(f"prediction must be a tensor of shape {tuple(data.answer.shape)}")
    right = prediction == data.answer
    is_value = (prediction >= VOCAB.value0) & (prediction < VOCAB.value0 + VOCAB.n_values)
    default = prediction == VOCAB.value0 + torch.from_numpy(DEFAULT)[data.keys]
    return {"right": int(right.sum()), "default value": int((~right & default).sum()),
            "other value": int((~right & ~default & is_value).sum()), "not a value": int((~is_value).sum())}


# ------------------------------------------------------------------------------------------------ a real LM
FIRST_NAMES = ("Alice", "Brian", "Carla", "Daniel", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack", "Karen",
               "Louis", "Maria", "Nathan", "Olivia", "Peter", "Rachel", "Samuel", "Tina", "Victor", "Wendy", "Oscar",
               "Laura", "George", "Helen", "Martin", "Nora", "Paul", "Sarah", "Thomas", "Linda", "Kevin")
SURNAMES = ("Adams", "Baker", "Carter", "Dixon", "Evans", "Fisher", "Gordon", "Harris", "Jensen", "Keller", "Lawson",
            "Miller", "Nolan", "Parker", "Quinn", "Reed", "Shaw", "Turner", "Walsh", "Young", "Brooks", "Collins",
            "Foster", "Hughes", "Morgan", "Porter", "Russell", "Stone", "Tucker", "Warren", "Palmer", "Bishop")
TOWNS = ("Zorvath", "Quellin", "Brindor", "Maskelo", "Tevrun", "Olandra", "Kastow", "Yelmir", "Fenwick",
         "Drumlo", "Varnis", "Pexford", "Harrowgate", "Glimsby", "Ulverin", "Rostrel", "Nimbleton", "Corvale",
         "Ishmoor", "Jasperly", "Akrill", "Lunford", "Eskmire", "Soreth", "Wexlow", "Trellby", "Bramova",
         "Lochvane", "Penthorne", "Mirrowby", "Delvane", "Hestmark")
"""Made-up people and invented-sounding towns: nothing about them can be answered without the documents."""


@dataclass(frozen=True)
class PeopleProblem:
    """Documents "First Last lives in Town." and one question: whose town, in which document."""

    documents: tuple[str, ...]
    person: str
    town: str
    right: int


def people_problem(n: int, rng: np.random.Generator, per_doc: int = 3,
                   towns: Sequence[str] = TOWNS) -> PeopleProblem:
    """``n`` documents of ``per_doc`` people each (unique first and last names), one of them queried."""
    per_doc = validate.integer(per_doc, "per_doc", 1, 8)
    n = validate.integer(n, "n", 1, len(FIRST_NAMES) // per_doc)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(towns, (str, bytes)) or not isinstance(towns, Sequence) or not all(isinstance(t, str) for t in towns):
        raise TypeError("towns must be a sequence of town names")
    m = n * per_doc
    if len(towns) < 1:
        raise ValueError("towns must not be empty")
    first = rng.choice(len(FIRST_NAMES), m, replace=False)
    last = rng.choice(len(SURNAMES), m, replace=False)
    where = rng.integers(0, len(towns), m)
    people = [f"{FIRST_NAMES[f]} {SURNAMES[s]}" for f, s in zip(first, last)]
    docs = tuple(" ".join(f"{people[i]} lives in {towns[where[i]]}." for i in range(j * per_doc, (j + 1) * per_doc))
                 for j in range(n))
    q = int(rng.integers(m))
    return PeopleProblem(docs, people[q], towns[where[q]], q // per_doc)


def people_prompt(person: str, document: str | None = None) -> str:
    """A plain prompt ending in the answer prefix; no Document line for the no-context run."""
    person = validate.string(person, "person")
    head = "" if document is None else f"Document: {validate.string(document, 'document')}\n"
    return f"{head}Question: Where does {person} live?\nAnswer: {person} lives in"


def _check_lm(model: PreTrainedModel, tok: PreTrainedTokenizerBase) -> None:
    """A causal LM and its tokenizer, or a TypeError."""
    if not isinstance(model, nn.Module) or not hasattr(model, "config"):
        raise TypeError(f"model must be a transformers causal LM, got {type(model).__name__}")
    if not callable(tok) or not hasattr(tok, "decode"):
        raise TypeError(f"tok must be a transformers tokenizer, got {type(tok).__name__}")


def _prompts(prompts: Sequence[str]) -> list[str]:
    """A non-empty list of strings, or an error naming prompts."""
    if isinstance(prompts, (str, bytes)) or not isinstance(prompts, Sequence) or not prompts \
            or not all(isinstance(p, str) for p in prompts):
        raise TypeError("prompts must be a non-empty sequence of strings")
    return list(prompts)


@torch.no_grad()
def first_token_logprobs(model: PreTrainedModel, tok: PreTrainedTokenizerBase, prompts: Sequence[str],
                         batch: int = 16) -> torch.Tensor:
    """Next-token log-probabilities ``(len(prompts), V)`` (float32), left-padded batches, last position only."""
    _check_lm(model, tok)
    prompts = _prompts(prompts)
    batch = validate.integer(batch, "batch", 1, 256)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    rows = []
    for i in range(0, len(prompts), batch):
        enc = tok(prompts[i:i + batch], return_tensors="pt", padding=True)
        position_ids = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        out = model(**enc, position_ids=position_ids, logits_to_keep=1)
        rows.append(out.logits[:, -1].float().log_softmax(-1))
    return torch.cat(rows)


@torch.no_grad()
def nbce_generate(model: PreTrainedModel, tok: PreTrainedTokenizerBase, prompts: Sequence[str],
                  uncond: str, beta: float = 0.25, eta: float = 0.1, top_p: float = 0.95,
                  max_new: int = 5) -> tuple[str, list[int]]:
    """Greedy NBCE decoding over ``prompts`` (one per context) with ``uncond`` as the no-context prompt.

    Every step: log-softmax, Top-P, min-entropy context with the transition bonus η, the infinity rule, the argmax
    token fed to every row (KV cache, positions from the attention mask). Returns the text and the chosen contexts.
    """
    _check_lm(model, tok)
    prompts = _prompts(prompts)
    uncond = validate.string(uncond, "uncond")
    max_new = validate.integer(max_new, "max_new", 1, 256)
    beta = validate.real(beta, "beta", minimum=-1.0, maximum=1e6)
    eta = validate.real(eta, "eta", positive=True, allow_zero=True)
    top_p = validate.real(top_p, "top_p", positive=True, maximum=1.0)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    enc = tok([uncond, *prompts], return_tensors="pt", padding=True)
    mask = enc["attention_mask"]
    ids, past, tokens, chosen = enc["input_ids"], None, [], []
    k: int | None = None
    # transformers 5.24 renamed past_key_values to cache (the old name still works, with a warning)
    cache_name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    for _ in range(max_new):
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)[:, -ids.shape[1]:]
        out = model(input_ids=ids, attention_mask=mask, position_ids=position_ids, use_cache=True,
                    logits_to_keep=1, **{cache_name: past})
        past = getattr(out, cache_name)
        logp = out.logits[:, -1].float().log_softmax(-1)
        scores, k = nbce_scores(logp[1:], logp[0], "min_entropy", beta, top_p, prev_k=k, eta=eta)
        token = int(scores.argmax())
        tokens.append(token)
        chosen.append(int(k))
        if token == tok.eos_token_id:
            break
        ids = torch.full((mask.shape[0], 1), token, dtype=ids.dtype)
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
    return tok.decode(tokens), chosen


__all__ = [
    "CLIP", "DEFAULT", "FIRST_NAMES", "METHODS", "POOLINGS", "SURNAMES", "TOWNS", "VOCAB", "CausalSelfAttention",
    "KVVocab", "PeopleProblem", "Problem", "ProblemSet", "TinyLM", "accuracy", "encode", "entropy",
    "entropy_picks_right", "evaluate", "failure_kinds", "first_token_logprobs", "independent_posterior",
    "kl_select", "kl_to_uncond", "kv_vocab", "make_problem", "naive_bayes_scores", "nbce_generate", "nbce_scores",
    "people_problem", "people_prompt", "predict", "problem_logprobs", "refusal_fine_tune", "sample_batch",
    "select_chunk", "top_p_filter", "train_tiny_lm",
]

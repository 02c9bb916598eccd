"""Checkers for the exercises of chapter 08 (SimCSE versus whitening)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from kexue import data
from kexue.exercises import as_float, call, close, grade, register


def _se():  # noqa: ANN202 - the module; imported on use, since it loads PyTorch (checkers load without it)
    from kexue import sentence_embeddings

    return sentence_embeddings


# ------------------------------------------------------------------------------------------------ 1 basis matters
def _circle_cosines(seed: int) -> tuple[float, float]:
    """Reference: 1000 points on the unit circle through diag(5, 0.2) plus (10, 10), before and after whitening."""
    theta = np.random.default_rng(seed).uniform(0, 2 * np.pi, 1000)
    x = np.c_[np.cos(theta), np.sin(theta)] @ np.diag([5.0, 0.2]) + 10.0
    mu, W = _se().whitening_params(x)
    return _se().average_cosine(x), _se().average_cosine((x - mu) @ W)


@register("simcse-basis-matters", hint="average cosine over pairs i ≠ j; whiten with the mean and W = UΛ^(-1/2) of "
                                       "the points themselves")
def _basis_matters(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "answer with a function of the seed that returns (before, after)"
    for seed in (0, 1, 2):
        value, error = call(answer, seed)
        if error or not isinstance(value, (tuple, list)) or len(value) != 2:
            return False, f"for seed {seed} the function must return a pair (before, after)"
        try:
            before, after = as_float(value[0], "before"), as_float(value[1], "after")
        except (TypeError, ValueError) as err:
            return False, f"for seed {seed}: {err}"
        ref_before, _ = _circle_cosines(seed)
        if abs(before - ref_before) > 0.02:
            return False, (f"for seed {seed} the average cosine before whitening is off: did you add the offset "
                           "(10, 10) after scaling, and average over pairs i ≠ j only?")
        if abs(after) > 0.05:
            return False, f"for seed {seed} the whitened points do not look isotropic: subtract the mean first"
    return True, "right: the offset squeezes the cloud into a narrow cone, and whitening opens it again"


# ------------------------------------------------------------------------------------------------ 2 whitening-k
def _whitening_cases() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(8069)
    cases = []
    for n, d, k in ((300, 6, 2), (500, 10, 10), (200, 5, 1), (400, 8, 5)):
        x = rng.standard_normal((n, d)) @ np.diag(np.geomspace(5, 0.2, d)) @ np.linalg.qr(
            rng.standard_normal((d, d)))[0] + rng.standard_normal(d)
        cases.append((x, k))
    return cases


def _is_whitening_k(value: Any, x: np.ndarray, k: int) -> bool:
    """(mu, W) whitens x onto its top-k principal subspace (1/N or 1/(N−1) covariance)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return False
    mu, W = (np.asarray(v, dtype=float) for v in value)
    if mu.shape != (x.shape[1],) or W.shape != (x.shape[1], k) or not np.all(np.isfinite(W)):
        return False
    if not close(mu, x.mean(0), atol=1e-8):
        return False
    lam, U = np.linalg.eigh(np.cov(x.T, ddof=0))
    for ddof in (0, 1):
        sigma = np.cov(x.T, ddof=ddof)
        if not close(W.T @ sigma @ W, np.eye(k), atol=1e-7):
            continue
        root = U @ np.diag(np.sqrt(lam * len(x) / (len(x) - ddof))) @ U.T  # Σ^(1/2)
        top = U[:, ::-1][:, :k]
        v = root @ W  # orthonormal columns; they must span the top-k eigenvectors
        if close(top @ (top.T @ v), v, atol=1e-6):
            return True
    return False


@register("simcse-whitening-k", hint="sort the eigenvalues of the covariance in decreasing order and keep the first "
                                     "k columns of U Λ^(-1/2)")
def _whitening_k(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "answer with a function whiten(X, k) that returns (mu, W)"
    result = grade(answer, _whitening_cases(), lambda x, k: (x, k), compare=lambda v, e: _is_whitening_k(v, *e),
                   names=("X", "k"), what="matrices")
    return result.passed, result.message("right: cov((X − μ)W) = I_k on the k directions of largest variance.")


# ------------------------------------------------------------------------------------------------ 3 two losses
def _losses_reference(h0: np.ndarray, h1: np.ndarray, tau: float) -> tuple[float, float, int, int]:
    """The post's loss (each of 2N vectors against its 2N − 1 others) and the paper's (N cross-view), both means."""
    def unit(h: np.ndarray) -> np.ndarray:
        return h / np.linalg.norm(h, axis=1, keepdims=True)

    n = len(h0)
    x = np.empty((2 * n, h0.shape[1]))
    x[0::2], x[1::2] = unit(h0), unit(h1)
    logits = x @ x.T / tau
    np.fill_diagonal(logits, -np.inf)
    twins = np.arange(2 * n) + 1 - 2 * (np.arange(2 * n) % 2)
    lse = np.log(np.sum(np.exp(logits - logits.max(1, keepdims=True)), 1)) + logits.max(1)
    post = float(np.mean(lse - logits[np.arange(2 * n), twins]))
    cross = unit(h0) @ unit(h1).T / tau
    lse = np.log(np.sum(np.exp(cross - cross.max(1, keepdims=True)), 1)) + cross.max(1)
    paper = float(np.mean(lse - np.diag(cross)))
    return post, paper, 2 * n - 1, n


def _loss_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    rng = np.random.default_rng(8348)
    cases = []
    for n, d, tau in ((4, 3, 1.0), (5, 7, 0.05), (8, 16, 0.1), (3, 2, 0.5)):
        h0 = rng.standard_normal((n, d))
        cases.append((h0, h0 + 0.3 * rng.standard_normal((n, d)), tau))
    return cases


@register("simcse-two-losses", hint="interleave the two views; mask the diagonal; the twin of row k is k + 1 − 2(k "
                                    "mod 2). The paper's version compares view 0 with view 1 only")
def _two_losses(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "answer with a function losses(h0, h1, tau) returning (post, paper, n_post, n_paper)"
    result = grade(answer, _loss_cases(), _losses_reference, rtol=1e-8, atol=1e-12, names=("h0", "h1", "tau"),
                   what="batches")
    return result.passed, result.message("right: both losses and both candidate counts agree on every batch.")


# ------------------------------------------------------------------------------------------------ 4 rule of thumb
def _rule(d: float) -> float:
    """Su's reading 0.5 + ρ/2 with ρ the large-sample Spearman of equal-variance Gaussian scores d apart."""
    return 0.5 + _se().spearman_from_auc(norm.cdf(d / math.sqrt(2))) / 2


@lru_cache(maxsize=1)
def _crossing() -> float:
    return brentq(lambda d: _rule(d) - norm.cdf(d / 2), 0.5, 6.0)


@register("simcse-rule-of-thumb", hint="the best threshold sits half-way between the two means; the rule and the "
                                       "best accuracy meet where 0.5 + ρ(d)/2 = Φ(d/2)")
def _rule_of_thumb(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2 or not callable(answer[0]):
        return False, "answer with a pair (best_accuracy, crossing): a function of d′ and the d′ where they meet"
    cases = [(d,) for d in (0.3, 0.5, 1.0, 1.7, 2.0, 3.0, 4.5)]
    result = grade(answer[0], cases, lambda d: norm.cdf(d / 2), atol=3e-3, names=("d",), what="separations")
    if not result.passed:
        return False, "best_accuracy: " + result.message()
    try:
        crossing = as_float(answer[1], "crossing")
    except (TypeError, ValueError) as err:
        return False, str(err)
    if abs(crossing - _crossing()) > 0.01:
        if crossing < _crossing():
            return False, "best_accuracy is right; at your crossing the rule still overstates it: look higher"
        return False, "best_accuracy is right; at your crossing the rule already understates it: look lower"
    return True, "right: the rule overstates the best accuracy for small separations and understates it beyond"


# ------------------------------------------------------------------------------------------------ 5 linear head
@register("simcse-linear-head", hint="requires_grad_(False) on the encoder's parameters; the head is one nn.Linear "
                                     "with no activation; record loss.item() at every step")
def _linear_head(answer: Any) -> tuple[bool, str]:
    import torch

    if not isinstance(answer, Mapping) or not {"head", "frozen", "losses"} <= set(answer):
        return False, "answer with a dict {'head': ..., 'frozen': the encoder module, 'losses': [...]}"
    head, frozen, losses = answer["head"], answer["frozen"], answer["losses"]
    if type(head) is not torch.nn.Linear:
        return False, "the head must be exactly one torch.nn.Linear (no activation, no extra layers)"
    if not isinstance(frozen, torch.nn.Module) or not list(frozen.parameters()):
        return False, "'frozen' must be the encoder (a torch module with parameters)"
    if any(p.requires_grad for p in frozen.parameters()):
        return False, "some encoder parameters still require gradients: freeze all of them"
    if any(p is q for p in frozen.parameters() for q in head.parameters()):
        return False, "the head must not be part of the frozen encoder"
    try:
        values = np.asarray(losses, dtype=float).ravel()
    except (TypeError, ValueError):
        return False, "'losses' must be a list of numbers, one per training step"
    if len(values) < 20 or not np.all(np.isfinite(values)):
        return False, "train for at least 20 steps and record a finite loss at each"
    if values[-5:].mean() >= values[:5].mean() - 1e-3:
        return False, "the loss does not go down: is the optimiser given the head's parameters, and dropout on?"
    return True, ("the set-up is right; compare its Spearman/AUC with whitening's in your discussion (graded by "
                  "hand)")


# ------------------------------------------------------------------------------------------------ 6 with a plot
@lru_cache(maxsize=1)
def _whitening_gain_correlation() -> float:
    t = data.load_simcse_zh_table()
    raw, white = t.values[:, :, 0].ravel(), t.values[:, :, 1].ravel()
    return _se().spearman(raw, white - raw)


@register("simcse-whitening-gain-plot", hint="x = raw score a, y = b − a, one point per cell (150); Spearman of "
                                             "the two lists")
def _whitening_gain(answer: Any) -> tuple[bool, str]:
    try:
        value = as_float(answer, "answer")
    except (TypeError, ValueError) as err:
        return False, str(err)
    ref = _whitening_gain_correlation()
    if abs(value) > 1:
        return False, "a Spearman correlation lies between −1 and 1"
    if np.sign(value) != np.sign(ref):
        return False, "the sign is wrong: look again at where the points with a large raw score lie"
    if abs(value - ref) > 0.005:
        return False, "the sign is right but the value is not: use all 150 cells, gain = whitening − raw"
    return True, "right: whitening helps the weak raw rows most and often hurts the strong ones"

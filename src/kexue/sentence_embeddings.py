"""The geometry of sentence embeddings: whitening, anisotropy, alignment and uniformity, rank evaluation, and an
unsupervised SimCSE run that retrains only an encoder's last layer (chapters 08 and 09).

Chapter source: Su Jianlin (苏剑林), 《中文任务还是SOTA吗？我们给SimCSE补充了一些实验》, Scientific Spaces, 2021-04-26,
https://kexue.fm/archives/8348; whitening from https://kexue.fm/archives/8069.

Notation: sentence vectors are the rows of X (n, d). Whitening finds μ and W with (X − μ)W of zero mean and identity
covariance: Σ = UΛUᵀ, W = UΛ^(−1/2) (first k columns for whitening-k). Alignment and uniformity are Wang and Isola's
ℓ_align = E‖f(x) − f(x⁺)‖² and ℓ_uniform = log E exp(−t‖f(x) − f(y)‖²).

The poolings P0–P4 (:func:`pool`) and the encoders live in :mod:`kexue.pretrained`, shared with chapters 10 and 11.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from kexue import validate
from kexue.data import PublishedTable
from kexue.pretrained.encoder import POOLINGS, Encoder, pool, texts_argument

__all__ = [
    "LayerInputs", "POOLINGS", "SimCSERun", "SkewedPairs", "alignment", "anisotropy", "apply_whitening",
    "auc_from_spearman", "average_cosine", "dropout_cloud", "geometry_summary", "last_layer_inputs", "pair_auc",
    "pair_cosines", "pair_task", "plot_pair_explorer", "pool", "rank_auc", "rerun_last_layer", "simcse_formula_sum",
    "skewed_pairs", "spearman", "spearman_from_auc", "streaming_mean_cov", "table_summary", "train_last_layer",
    "uniformity", "whitening_auc_curve", "whitening_params",
]


# ------------------------------------------------------------------------------------------------ whitening
def _rows(X: ArrayLike, name: str = "X", min_rows: int = 1) -> NDArray[np.float64]:
    """A 2-D float64 array with at least ``min_rows`` rows."""
    arr = validate.matrix(X, name)
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows, got {arr.shape[0]}")
    validate.memory(8.0 * arr.shape[1] ** 2 * 3, name, "its covariance matrix")
    return arr


def whitening_params(X: ArrayLike, k: int | None = None, ddof: int = 0) -> tuple[NDArray[np.float64],
                                                                                  NDArray[np.float64]]:
    """μ (d,) and W (d, k) with cov((X − μ)W) = I: W = UΛ^(−1/2) from Σ = UΛUᵀ, eigenvalues in decreasing order.

    ``k=None`` keeps every direction of non-zero variance: all d of them unless the vectors lie in a subspace (fewer
    rows than dimensions, or LayerNorm outputs, whose coordinates obey one linear constraint).
    """
    X = _rows(X, "X", 2)
    d = X.shape[1]
    k = None if k is None else validate.integer(k, "k", 1, d)
    ddof = validate.integer(ddof, "ddof", 0, 1)
    if X.shape[0] - ddof < 1:
        raise ValueError(f"X must have more than {ddof} rows for ddof={ddof}")
    mu = X.mean(0)
    sigma = (X - mu).T @ (X - mu) / (X.shape[0] - ddof)
    lam, U = np.linalg.eigh(sigma)
    lam, U = lam[::-1], U[:, ::-1]
    if k is None:  # a null direction's eigenvalue is rounding noise, many orders below the largest
        k = max(1, int(np.sum(lam > 1e-8 * max(lam[0], 1e-300))))
    lam, U = lam[:k], U[:, :k]
    if lam[-1] <= 1e-8 * max(lam[0], 1e-300):
        raise ValueError(f"X has a covariance of rank below k={k} (more dimensions than independent rows?): "
                         "choose a smaller k or more rows")
    return mu, U / np.sqrt(lam)


def apply_whitening(X: ArrayLike, mu: ArrayLike, W: ArrayLike, normalize: bool = True) -> NDArray[np.float64]:
    """(X − μ)W, its rows scaled to unit length if ``normalize``."""
    X = _rows(X, "X")
    mu = validate.vector(mu, "mu", size=X.shape[1])
    W = validate.matrix(W, "W")
    if W.shape[0] != X.shape[1]:
        raise ValueError(f"W must have {X.shape[1]} rows (the dimension of X), got {W.shape[0]}")
    Y = (X - mu) @ W
    if validate.boolean(normalize, "normalize"):
        norms = np.linalg.norm(Y, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise ValueError("X has a row equal to mu: its whitened vector has no direction to normalise")
        Y = Y / norms
    return validate.finite(Y, "X")


def streaming_mean_cov(rows: Iterable[ArrayLike]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and covariance (1/N) updated one row at a time, in constant memory (the post's recursion)."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be an iterable of vectors, got {type(rows).__name__}")
    mu = sigma = None
    n = 0
    for i, row in enumerate(rows):
        x = validate.vector(row, f"rows[{i}]", size=None if mu is None else len(mu))
        if mu is None:
            validate.memory(8.0 * len(x) ** 2 * 3, "rows", "the covariance of vectors this long")
            mu, sigma = np.zeros(len(x)), np.zeros((len(x), len(x)))
        new_mu = n / (n + 1) * mu + x / (n + 1)
        sigma = n / (n + 1) * (sigma + np.outer(mu, mu)) + np.outer(x, x) / (n + 1) - np.outer(new_mu, new_mu)
        mu, n = new_mu, n + 1
    if mu is None:
        raise ValueError("rows must hold at least one vector")
    return mu, sigma


# ------------------------------------------------------------------------------------------------ geometry
def _unit(X: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    norms = np.linalg.norm(X, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"{name} has a zero row: its direction (cosine) is undefined")
    return X / norms


def average_cosine(X: ArrayLike) -> float:
    """Mean cosine over all pairs i ≠ j, in O(nd): (n²‖ū‖² − n)/(n² − n) with ū the mean of the unit rows."""
    u = _unit(_rows(X, "X", 2), "X")
    n = len(u)
    return float((n * n * np.sum(u.mean(0) ** 2) - n) / (n * n - n))


def pair_cosines(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """cos(a_i, b_i) for each row i."""
    a, b = _rows(a, "a"), _rows(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return np.sum(_unit(a, "a") * _unit(b, "b"), axis=1)


def alignment(a: ArrayLike, b: ArrayLike, normalize: bool = True) -> float:
    """ℓ_align = mean ‖a_i − b_i‖² over positive pairs (rows), on unit vectors if ``normalize``."""
    a, b = _rows(a, "a"), _rows(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if validate.boolean(normalize, "normalize"):
        a, b = _unit(a, "a"), _unit(b, "b")
    return float(validate.finite(np.mean(np.sum((a - b) ** 2, axis=1)), "a"))


def uniformity(X: ArrayLike, t: float = 2.0, normalize: bool = True, max_rows: int = 5000) -> float:
    """ℓ_uniform = log of the mean of exp(−t‖x_i − x_j‖²) over pairs i ≠ j (rows made unit if ``normalize``)."""
    X = _rows(X, "X", 2)
    t = validate.real(t, "t", positive=True)
    max_rows = validate.integer(max_rows, "max_rows", 2, 20000)
    if len(X) > max_rows:
        raise ValueError(f"X has {len(X)} rows, more than max_rows={max_rows} (the pairwise matrix is n²)")
    if validate.boolean(normalize, "normalize"):
        X = _unit(X, "X")
    sq = np.maximum(np.sum(X**2, 1)[:, None] + np.sum(X**2, 1)[None, :] - 2 * X @ X.T, 0)
    n = len(X)
    logits = (-t * sq)[~np.eye(n, dtype=bool)]
    top = logits.max()  # log-mean-exp, stable for large t
    return float(validate.finite(top + np.log(np.mean(np.exp(logits - top))), "t"))


def anisotropy(vectors: dict[str, ArrayLike]) -> dict[str, tuple[float, float]]:
    """{name: (average cosine, average cosine after whitening)} for each set of vectors (whitening keeps every
    direction of non-zero variance)."""
    if not isinstance(vectors, dict) or not vectors:
        raise TypeError(f"vectors must be a non-empty dict of name → array, got {type(vectors).__name__}")
    out = {}
    for name, v in vectors.items():
        v = _rows(v, f"vectors[{name!r}]", 3)
        mu, W = whitening_params(v)
        out[name] = (average_cosine(v), average_cosine((v - mu) @ W))
    return out


# ------------------------------------------------------------------------------------------------ evaluation
def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rank correlation (ties get their average rank), as the article's evaluation uses it."""
    from scipy.stats import spearmanr

    x, y = validate.vector(x, "x", min_size=2), validate.vector(y, "y", min_size=2)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise ValueError("x and y must each hold at least two different values (a constant has no ranking)")
    return float(spearmanr(x, y).statistic)


def rank_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """P(score of a random positive > score of a random negative), ties counting ½ (Mann–Whitney)."""
    from scipy.stats import rankdata

    scores = validate.vector(scores, "scores", min_size=2)
    labels = validate.integers(labels, "labels", 0, 1, ndim=1)
    if len(labels) != len(scores):
        raise ValueError(f"labels must have one entry per score ({len(scores)}), got {len(labels)}")
    n1 = int(labels.sum())
    n0 = len(labels) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("labels must hold both 0 and 1")
    ranks = rankdata(scores)
    return float((ranks[labels == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def pair_auc(vectors: ArrayLike, left: ArrayLike, right: ArrayLike, labels: ArrayLike) -> float:
    """AUC of the cosines of the pairs (vectors[left[i]], vectors[right[i]]) against their 0/1 labels."""
    v = _rows(vectors, "vectors")
    left = validate.integers(left, "left", 0, len(v) - 1, ndim=1)
    right = validate.integers(right, "right", 0, len(v) - 1, ndim=1)
    if len(left) != len(right):
        raise ValueError(f"left and right must have the same length, got {len(left)} and {len(right)}")
    return rank_auc(pair_cosines(v[left], v[right]), labels)


def whitening_auc_curve(vectors: ArrayLike, left: ArrayLike, right: ArrayLike, labels: ArrayLike,
                        ks: Sequence[int]) -> list[float]:
    """:func:`pair_auc` after whitening-k for each k in ``ks`` (statistics from all the vectors, no labels)."""
    v = _rows(vectors, "vectors", 3)
    if isinstance(ks, (str, bytes)) or not isinstance(ks, Sequence) or not ks:
        raise TypeError(f"ks must be a non-empty sequence of dimensions, got {type(ks).__name__}")
    mu, W = whitening_params(v)
    ks = [validate.integer(k, "ks", 1, W.shape[1]) for k in ks]
    return [pair_auc((v - mu) @ W[:, :k], left, right, labels) for k in ks]


def auc_from_spearman(rho: float) -> float:
    """AUC = ½ + ρ/√3: Spearman's ρ between a score and a balanced 0/1 label, read back as an AUC (large n)."""
    rho = validate.real(rho, "rho")
    if abs(rho) > math.sqrt(3) / 2:
        raise ValueError(f"rho must lie within ±√3/2 ≈ ±0.866 (the most a balanced binary label allows), got {rho}")
    return 0.5 + rho / math.sqrt(3)


def spearman_from_auc(auc: float) -> float:
    """ρ = (√3/2)(2·AUC − 1), the inverse of :func:`auc_from_spearman`."""
    auc = validate.real(auc, "auc", minimum=0)
    if auc > 1:
        raise ValueError(f"auc must lie in [0, 1], got {auc}")
    return math.sqrt(3) / 2 * (2 * auc - 1)


# ------------------------------------------------------------------------------------------------ the article's table
def table_summary(table: PublishedTable) -> dict[str, object]:
    """Where SimCSE (c) beats whitening (b) in the article's table: counts of "green" cells (c > b) overall, per task
    and on the plain encoders (not SimBERT) outside PAWSX, mean gains per task, the largest gain, the red cells."""
    if not isinstance(table, PublishedTable):
        raise TypeError(f"table must be a PublishedTable (kexue.data.load_simcse_zh_table()), got "
                        f"{type(table).__name__}")
    if table.values.ndim != 3 or table.values.shape[2] != 3:
        raise ValueError("table must hold raw / whitening / SimCSE triples")
    gain = table.values[:, :, 2] - table.values[:, :, 1]
    green = gain > 0
    tasks, rows = list(table.columns), list(table.rows)
    plain_rows = [i for i, r in enumerate(rows) if not r.startswith("SimBERT")]
    plain_tasks = [j for j, t in enumerate(tasks) if t != "PAWSX"]
    plain = gain[np.ix_(plain_rows, plain_tasks)]
    i, j = np.unravel_index(np.argmax(gain), gain.shape)
    bq = tasks.index("BQ")
    best_plain = max(plain_rows, key=lambda r: table.values[r, bq, 2])
    simbert = [r for r, name in enumerate(rows) if name.startswith("SimBERT-")]  # the base model, supervised
    best_simbert = max(simbert, key=lambda r: table.values[r, bq, 0])
    return {
        "cells": int(gain.size), "green": int(green.sum()),
        "green_per_task": {t: int(green[:, k].sum()) for k, t in enumerate(tasks)},
        "mean_gain": {t: float(gain[:, k].mean()) for k, t in enumerate(tasks)},
        "largest_gain": (rows[i], tasks[j], float(gain[i, j])),
        "pawsx_green_rows": [rows[r] for r in np.flatnonzero(green[:, tasks.index("PAWSX")])],
        "plain_cells": int(plain.size), "plain_green": int((plain > 0).sum()), "plain_over_10": int((plain > 10).sum()),
        "plain_red": [(rows[plain_rows[a]], tasks[plain_tasks[b]]) for a, b in zip(*np.nonzero(plain <= 0))],
        "bq_best_plain": (rows[best_plain], float(table.values[best_plain, bq, 2])),
        "bq_simbert_raw_best": (rows[best_simbert], float(table.values[best_simbert, bq, 0])),
        "bq_simbert_simcse_best": float(table.values[simbert, bq, 2].max()),
    }


def pair_task(pairs: Sequence[tuple[str, str, str]], n: int = 150, seed: int = 0) -> tuple[list[str], list[str],
                                                                                         NDArray[np.int64]]:
    """A balanced matching task from (text, paraphrase, group) triples: ``n`` positive pairs and ``n`` negatives that
    pair a text with the paraphrase of another triple of the same group (a different triple if the group is alone)."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise TypeError(f"pairs must be a sequence of (text, paraphrase, group) triples, got {type(pairs).__name__}")
    if not all(isinstance(p, (tuple, list)) and len(p) == 3 and all(isinstance(x, str) for x in p) for p in pairs):
        raise TypeError("pairs must hold (text, paraphrase, group) triples of strings")
    n = validate.integer(n, "n", 2, max(2, len(pairs)))
    if len(pairs) < 2:
        raise ValueError(f"pairs must hold at least 2 triples, got {len(pairs)}")
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    rng = np.random.default_rng(seed)
    chosen = [pairs[i] for i in rng.choice(len(pairs), size=n, replace=False)]
    left = [a for a, _, _ in chosen] * 2
    right = [b for _, b, _ in chosen]
    for i, (_, _, group) in enumerate(chosen):
        others = [j for j, (_, _, g) in enumerate(chosen) if j != i and g == group] or [j for j in range(n) if j != i]
        right.append(chosen[int(rng.choice(others))][1])
    return left, right, np.repeat(np.array([1, 0], dtype=np.int64), n)


# ------------------------------------------------------------------------------------------------ a skewed basis
@dataclass(frozen=True)
class SkewedPairs:
    """Pairs with a known similarity ``rho``: latent vectors z, z' and what an encoder with a bad basis shows, x, x'."""

    z: NDArray[np.float64]
    z2: NDArray[np.float64]
    x: NDArray[np.float64]
    x2: NDArray[np.float64]
    rho: NDArray[np.float64]


def skewed_pairs(n: int = 4000, d: int = 16, nuisance: int = 0, seed: int = 1, offset: float = 5.0,
                 nuisance_scale: float = 0.05) -> SkewedPairs:
    """Latent z ~ N(0, I), partner ρz + √(1−ρ²)ε with ρ ~ U(0, 1), seen as x = zA + b with A = U diag(s) Q (s from
    10 to 0.1) and a large offset b; ``nuisance`` extra coordinates of small variance carry only noise (whitening
    blows them up to unit variance; whitening-k with k = d drops them)."""
    n, d = validate.integer(n, "n", 4, 200_000), validate.integer(d, "d", 2, 512)
    nuisance = validate.integer(nuisance, "nuisance", 0, 512)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    offset = validate.real(offset, "offset", minimum=0)
    nuisance_scale = validate.real(nuisance_scale, "nuisance_scale", positive=True)
    if offset > 1e6 or nuisance_scale > 1e6:
        raise ValueError("offset and nuisance_scale must be at most 1e6")
    validate.memory(8.0 * n * (d + nuisance) * 6, "n", "the pairs")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, d))
    rho = rng.uniform(0, 1, n)
    z2 = rho[:, None] * z + np.sqrt(1 - rho[:, None] ** 2) * rng.standard_normal((n, d))
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    A = U @ np.diag(np.geomspace(10, 0.1, d)) @ Q
    b = offset * rng.standard_normal(d)
    x, x2 = z @ A + b, z2 @ A + b
    if nuisance:
        x = np.hstack([x, nuisance_scale * rng.standard_normal((n, nuisance))])
        x2 = np.hstack([x2, nuisance_scale * rng.standard_normal((n, nuisance))])
    return SkewedPairs(z, z2, x, x2, rho)


# ------------------------------------------------------------------------------------------------ the SimCSE loss
def simcse_formula_sum(h0: ArrayLike, h1: ArrayLike, tau: float = 0.05) -> float:
    """The post's loss written term by term (a slow reference): −Σ_i Σ_α log(e^{cos(h_i^α, h_i^{1−α})/τ} / (Σ_{j≠i}
    e^{cos(h_i^α, h_j^α)/τ} + Σ_j e^{cos(h_i^α, h_j^{1−α})/τ})), in float64."""
    h0, h1 = _rows(h0, "h0", 2), _rows(h1, "h1", 2)
    if h0.shape != h1.shape:
        raise ValueError(f"h0 and h1 must have the same shape, got {h0.shape} and {h1.shape}")
    tau = validate.real(tau, "tau", positive=True)
    validate.memory(8.0 * len(h0) ** 2, "h0", "the pairwise terms")
    views = (_unit(h0, "h0"), _unit(h1, "h1"))
    total = 0.0
    for alpha in (0, 1):
        same, other = views[alpha], views[1 - alpha]
        for i in range(len(h0)):
            terms = [same[i] @ same[j] / tau for j in range(len(h0)) if j != i]
            terms += [same[i] @ other[j] / tau for j in range(len(h0))]
            total -= same[i] @ other[i] / tau - float(np.logaddexp.reduce(terms))
    return float(validate.finite(total, "tau"))


# ------------------------------------------------------------------------------------------------ dropout as noise
def dropout_cloud(encoder: Encoder, text: str, p: float, n: int = 30, seed: int = 0) -> NDArray[np.float32]:
    """``n`` L2-normalised P3 encodings of ``text`` with dropout ``p`` switched on (the model is left as it was)."""
    if not isinstance(encoder, Encoder):
        raise TypeError(f"encoder must be a kexue.pretrained Encoder, got {type(encoder).__name__}")
    text = validate.string(text, "text")
    p = validate.real(p, "p", minimum=0)
    n, seed = validate.integer(n, "n", 1, 1000), validate.integer(seed, "seed", 0, 2**32 - 1)
    if p >= 1:
        raise ValueError(f"p must be below 1, got {p}")
    rates = {m: m.p for m in encoder.model.modules() if isinstance(m, torch.nn.Dropout)}
    was_training = encoder.model.training
    torch.manual_seed(seed)
    try:
        encoder.set_dropout(p)
        encoder.model.train()
        with torch.no_grad():
            out = torch.nn.functional.normalize(encoder.forward([text] * n).pooled("last-avg"), dim=-1)
    finally:
        encoder.model.train(was_training)
        for module, rate in rates.items():
            module.p = rate
    return out.numpy()


# ------------------------------------------------------------------------------------------------ SimCSE, last layer
@dataclass
class LayerInputs:
    """What enters an encoder's last layer for each text (T_i, H), computed once without gradients."""

    states: list[torch.Tensor]
    texts: list[str]
    before: NDArray[np.float32] = field(repr=False)  # the encoder's own P3 embedding of each text, L2-normalised
    poolings: dict[str, NDArray[np.float32]] = field(default_factory=dict, repr=False)  # every pooling, raw

    def __len__(self) -> int:
        return len(self.states)


def last_layer_inputs(encoder: Encoder, texts: Sequence[str], prefix: str | None = None,
                      batch_size: int = 64) -> LayerInputs:
    """Run ``texts`` once and keep the input of the last layer, the L2-normalised P3 embeddings (``before``) and every
    pooling the encoder supports, unnormalised (``poolings``)."""
    if not isinstance(encoder, Encoder):
        raise TypeError(f"encoder must be a kexue.pretrained Encoder, got {type(encoder).__name__}")
    texts = texts_argument(texts)
    batch_size = validate.integer(batch_size, "batch_size", 1, 4096)
    lengths = [len(ids) for ids in encoder.token_ids(texts, prefix)]
    order = np.argsort(lengths, kind="stable")
    states: list[torch.Tensor] = [torch.empty(0)] * len(texts)
    before = np.empty((len(texts), encoder.model.config.hidden_size), dtype=np.float32)
    poolings = {how: np.empty_like(before) for how in encoder.poolings}
    was_training = encoder.model.training
    encoder.model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                idx = order[start:start + batch_size]
                out = encoder.forward([texts[i] for i in idx], prefix)
                vectors = torch.nn.functional.normalize(out.pooled("last-avg"), dim=-1)
                for how in poolings:
                    poolings[how][idx] = out.pooled(how).numpy()
                for row, i in enumerate(idx):
                    states[i] = out.hidden_states[-2][row, :int(out.mask[row].sum())].clone()
                    before[i] = vectors[row].numpy()
    finally:
        encoder.model.train(was_training)
    return LayerInputs(states, texts, before, poolings)


def _padded(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad (T_i, H) states to (B, T, H) and return them with the 0/1 mask (B, T)."""
    width = max(s.shape[0] for s in states)
    x = torch.zeros(len(states), width, states[0].shape[1])
    mask = torch.zeros(len(states), width)
    for i, s in enumerate(states):
        x[i, :len(s)], mask[i, :len(s)] = s, 1
    return x, mask


def _run_layer(layer: torch.nn.Module, states: Sequence[torch.Tensor]) -> torch.Tensor:
    """The layer on a padded batch, then the mean over real tokens (P3)."""
    x, mask = _padded(states)
    additive = (1.0 - mask)[:, None, None, :] * torch.finfo(x.dtype).min  # padding is never attended to
    out = layer(x, attention_mask=additive)
    h = out[0] if isinstance(out, tuple) else out
    return (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)


def rerun_last_layer(layer: torch.nn.Module, inputs: LayerInputs, batch_size: int = 128) -> NDArray[np.float32]:
    """L2-normalised P3 embeddings of the texts of ``inputs`` through ``layer`` (eval mode, no dropout)."""
    if not isinstance(layer, torch.nn.Module):
        raise TypeError(f"layer must be a torch module (a Transformer layer), got {type(layer).__name__}")
    if not isinstance(inputs, LayerInputs):
        raise TypeError(f"inputs must be LayerInputs from last_layer_inputs, got {type(inputs).__name__}")
    batch_size = validate.integer(batch_size, "batch_size", 1, 4096)
    was_training = layer.training
    layer.eval()
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(inputs), batch_size):
                h = _run_layer(layer, inputs.states[start:start + batch_size])
                out.append(torch.nn.functional.normalize(h, dim=-1).numpy())
    finally:
        layer.train(was_training)
    return np.concatenate(out).astype(np.float32)


def geometry_summary(reviews: ArrayLike, questions: ArrayLike, left: ArrayLike, right: ArrayLike,
                     labels: ArrayLike) -> dict[str, float]:
    """Average cosine and uniformity of ``reviews``; alignment of the positive pairs and the pairs' AUC, for pairs
    (questions[left[i]], questions[right[i]]) with 0/1 ``labels``."""
    reviews, questions = _rows(reviews, "reviews", 2), _rows(questions, "questions", 2)
    left = validate.integers(left, "left", 0, len(questions) - 1, ndim=1)
    right = validate.integers(right, "right", 0, len(questions) - 1, ndim=1)
    labels = validate.integers(labels, "labels", 0, 1, ndim=1)
    if not len(left) == len(right) == len(labels):
        raise ValueError("left, right and labels must have the same length")
    positive = labels == 1
    return {"average cosine": average_cosine(reviews), "uniformity": uniformity(reviews),
            "alignment": alignment(questions[left[positive]], questions[right[positive]]),
            "AUC": pair_auc(questions, left, right, labels)}


def plot_pair_explorer(vectors: dict[str, ArrayLike], pooling: str, k: int | str, left: ArrayLike,
                       right: ArrayLike, labels: ArrayLike, ks: Sequence[int]) -> None:
    """The explorer's figure: cosine histograms of positive and negative pairs for one pooling and whitening-k
    ("raw": none), and the AUC against k."""
    import matplotlib.pyplot as plt

    if not isinstance(vectors, dict) or pooling not in vectors:
        raise ValueError(f"pooling must be one of the keys of vectors, got {pooling!r}")
    v = _rows(vectors[pooling], "vectors", 3)
    if k != "raw":
        mu, W = whitening_params(v)
        v = (v - mu) @ W[:, :validate.integer(k, "k", 1, W.shape[1])]
    cos = pair_cosines(v[np.asarray(left)], v[np.asarray(right)])
    labels = validate.integers(labels, "labels", 0, 1, ndim=1)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.6, 3.4))
    bins = np.linspace(cos.min(), cos.max(), 30)
    for label, name in ((1, "paraphrases"), (0, "hard negatives")):
        ax0.hist(cos[labels == label], bins=bins, alpha=0.6, label=name)
    ax0.set(xlabel="cosine", ylabel="pairs", title=f"{pooling}, k = {k}: AUC {rank_auc(cos, labels):.3f}")
    ax0.legend(fontsize=8)
    ax1.plot(ks, whitening_auc_curve(vectors[pooling], left, right, labels, ks), "o-", label="whitening-k")
    ax1.axhline(pair_auc(vectors[pooling], left, right, labels), ls="--", c="k", label="raw")
    ax1.set(xscale="log", xlabel="k (whitened directions kept)", ylabel="AUC", title="AUC against k")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    plt.show()


@dataclass
class SimCSERun:
    """The trained copy of the last layer and the loss at every step."""

    layer: torch.nn.Module
    losses: list[float]


def train_last_layer(encoder: Encoder, inputs: LayerInputs, loss_fn: Callable[[torch.Tensor, torch.Tensor],
                                                                                torch.Tensor],
                     steps: int = 40, batch: int = 16, lr: float = 1e-4, dropout: float = 0.1, seed: int = 0,
                     progress: bool = False) -> SimCSERun:
    """Unsupervised SimCSE on a copy of the encoder's last layer: each step encodes ``batch`` sentences twice with
    independent dropout masks (probability ``dropout``, inside that layer only) and takes an Adam step on
    ``loss_fn(h0, h1)`` (e.g. ``kexue.contrastive.simcse_loss``). The encoder itself is not changed."""
    if not isinstance(encoder, Encoder):
        raise TypeError(f"encoder must be a kexue.pretrained Encoder, got {type(encoder).__name__}")
    if not isinstance(inputs, LayerInputs):
        raise TypeError(f"inputs must be LayerInputs from last_layer_inputs, got {type(inputs).__name__}")
    loss_fn = validate.function(loss_fn, "loss_fn")
    steps, batch = validate.integer(steps, "steps", 1, 10_000), validate.integer(batch, "batch", 2, 512)
    lr = validate.real(lr, "lr", positive=True)
    dropout = validate.real(dropout, "dropout", minimum=0)
    if lr > 1 or dropout >= 1:
        raise ValueError(f"lr must be at most 1 and dropout below 1, got lr={lr}, dropout={dropout}")
    seed, progress = validate.integer(seed, "seed", 0, 2**32 - 1), validate.boolean(progress, "progress")
    if batch > len(inputs):
        raise ValueError(f"batch must be at most the number of texts ({len(inputs)}), got {batch}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    layer = copy.deepcopy(encoder.model.encoder.layer[-1])
    for module in layer.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = dropout
    layer.train()
    optimiser = torch.optim.Adam(layer.parameters(), lr=lr)
    losses: list[float] = []
    bar = range(steps)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(bar, desc="SimCSE steps")
    for step in bar:
        idx = rng.choice(len(inputs), size=batch, replace=False)
        states = [inputs.states[i] for i in idx]
        loss = loss_fn(_run_layer(layer, states), _run_layer(layer, states))  # two passes, two dropout masks
        if not torch.isfinite(loss):
            raise ValueError(f"the loss became non-finite at step {step}: lower lr (now {lr})")
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    layer.eval()
    return SimCSERun(layer, losses)

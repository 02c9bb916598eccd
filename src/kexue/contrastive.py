"""Losses for sentence embeddings: SimCSE's in-batch loss, the cosine losses, Sentence-BERT's softmax head, CoSENT and
the distillation of a similarity matrix.

Chapter sources: Su Jianlin (苏剑林), 《中文任务还是SOTA吗？我们给SimCSE补充了一些实验》, Scientific Spaces, 2021-04-26,
https://kexue.fm/archives/8348 (chapter 08), and 《用开源的人工标注数据来增强RoFormer-Sim》, 2021-07-19,
https://kexue.fm/archives/8541 (chapter 09); CoSENT from https://kexue.fm/archives/8847.

Notation: a batch of pairs gives encoder outputs ``u`` and ``v`` (rows), their cosines ``cos`` and labels ``t``.

- ``cos_losses``: the three losses that look at the cosine directly, ``sq01`` = t(c-1)² + (1-t)c²,
  ``sqpm1`` = t(c-1)² + (1-t)(c+1)², ``hinge`` = t·max(0.9-c, 0) + (1-t)·max(c-0.1, 0).
- ``sbert_features`` and ``sbert_logit_decomposition``: InferSent / Sentence-BERT's classifier on [u; v; |u-v|] and
  its two-class score split into two one-sentence ("topic") terms, a closeness term and a constant.
- ``cosent_loss``: log(1 + Σ exp(λ(c_k - c_i))) over all pairs i, k with label_i > label_k.
- ``similarity_distillation_loss``: λ/n² Σ_ij (cos(u_i,u_j) - cos(v_i,v_j))², which moves geometry, not coordinates.

torch is imported at the top: this module is about training. ``import kexue`` does not import it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray
from torch import nn

from kexue import validate

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ARTICLE_PAIRS", "COSENT_TASKS", "COS_LOSSES", "ENGLISH_PAIRS", "HEAD_LOSSES", "HeadTraining",
    "OBJECTS_EN", "OBJECTS_ZH", "SUBJECTS_EN", "SUBJECTS_ZH", "TASKS", "cos_losses", "cosent_loss",
    "difference_coherence", "distill_linear", "embedding_average", "insurance_pairs", "interleave",
    "negation_triples", "pair_cosines", "plot_cosine_bars", "sbert_features", "sbert_logit_decomposition",
    "simcse_loss", "similarity_distillation_loss", "train_head", "twin_targets",
]

TensorLike = ArrayLike | torch.Tensor
COS_LOSSES = ("sq01", "sqpm1", "hinge")
HEAD_LOSSES = ("cosent", "sbert", *COS_LOSSES)
_MAX_PAIRS = 4096  # CoSENT and the distillation loss build n x n matrices (4096² floats: 64 MiB each)


# --- Input checks ------------------------------------------------------------------------------------------------
def _rows(value: TensorLike, name: str) -> torch.Tensor:
    """A finite 2-D float tensor (n, d); a 1-D input is one row. Tensors keep their dtype and graph."""
    x = validate.tensor(value, name, min_ndim=1)
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if x.dim() != 2:
        raise ValueError(f"{name} must be a matrix of row vectors (n, d), got shape {tuple(x.shape)}")
    return x


def _same_shape(a: torch.Tensor, b: torch.Tensor, names: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``a`` and ``b`` in a common dtype, refusing different shapes."""
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    dtype = torch.promote_types(a.dtype, b.dtype)
    return a.to(dtype), b.to(dtype)


def _unit(x: torch.Tensor, name: str) -> torch.Tensor:
    """Rows of ``x`` scaled to unit length; a zero row has no direction and is refused."""
    norms = x.norm(dim=-1, keepdim=True)
    if bool((norms.detach() == 0).any()):
        raise ValueError(f"{name} has a zero vector: its cosine with anything is undefined")
    if not bool(torch.isfinite(norms.detach()).all()):
        raise ValueError(f"{name} is too large in magnitude: its norms overflow")
    return x / norms


def _labels(value: TensorLike, name: str, size: int, binary: bool = False) -> torch.Tensor:
    """A 1-D float tensor of ``size`` labels (0/1 only when ``binary``)."""
    t = validate.tensor(value, name, min_ndim=0)
    t = t.reshape(-1) if t.dim() == 0 else t
    if t.dim() != 1 or t.numel() != size:
        raise ValueError(f"{name} must hold one label per pair ({size}), got shape {tuple(t.shape)}")
    if binary and not bool(((t == 0) | (t == 1)).all()):
        raise ValueError(f"{name} must hold 0/1 labels (1 = similar pair), got other values")
    return t


def _reduction(value: str) -> str:
    return validate.choice(value, "reduction", ("mean", "sum", "none"))


def _reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


# --- SimCSE (chapter 08) -----------------------------------------------------------------------------------------
def interleave(h0: TensorLike, h1: TensorLike) -> torch.Tensor:
    """Rows h0[0], h1[0], h0[1], h1[1], ...: the two views of each sentence side by side, as in the post's code."""
    a, b = _same_shape(_rows(h0, "h0"), _rows(h1, "h1"), "h0 and h1")
    return torch.stack([a, b], dim=1).reshape(2 * a.shape[0], a.shape[1])


def twin_targets(n2: int) -> torch.Tensor:
    """For 2N interleaved rows, the index of each row's twin: k + 1 - 2 (k mod 2), i.e. [1, 0, 3, 2, ...]."""
    n2 = validate.integer(n2, "n2", 2, 10**7)
    if n2 % 2:
        raise ValueError(f"n2 must be even (two views per sentence), got {n2}")
    k = torch.arange(n2)
    return k + 1 - 2 * (k % 2)


def simcse_loss(h0: TensorLike, h1: TensorLike, tau: float = 0.05, same_view_negatives: bool = True,
                reduction: str = "mean") -> torch.Tensor:
    """Unsupervised SimCSE loss of two dropout views: the post's 2N-1 candidates (True) or the paper's N (False)."""
    a, b = _same_shape(_rows(h0, "h0"), _rows(h1, "h1"), "h0 and h1")
    tau = validate.real(tau, "tau", positive=True)
    same_view_negatives = validate.boolean(same_view_negatives, "same_view_negatives")
    reduction = _reduction(reduction)
    if a.shape[0] < 2:
        raise ValueError(f"h0 must hold at least 2 sentences (the others are the negatives), got {a.shape[0]}")
    validate.memory(4.0 * a.shape[0] ** 2 * a.element_size(), "h0", "the similarity matrix")
    if same_view_negatives:
        x = _unit(interleave(a, b), "h0 and h1")
        logits = x @ x.T / tau
        # A row is never its own candidate: a logit of -inf removes the diagonal from the softmax.
        logits = logits.masked_fill(torch.eye(len(x), dtype=torch.bool), float("-inf"))
        targets = twin_targets(len(x))
    else:
        logits = _unit(a, "h0") @ _unit(b, "h1").T / tau
        targets = torch.arange(a.shape[0])
    losses = F.cross_entropy(logits, targets, reduction="none")
    if not bool(torch.isfinite(losses.detach()).all()):
        raise ValueError(f"tau is too small ({tau}): the logits overflow")
    return _reduce(losses, reduction)


# --- Supervised pair losses (chapter 09) -------------------------------------------------------------------------
def pair_cosines(u: TensorLike, v: TensorLike) -> torch.Tensor:
    """cos(u_i, v_i) for each row i (one cosine per pair)."""
    a, b = _same_shape(_rows(u, "u"), _rows(v, "v"), "u and v")
    return (_unit(a, "u") * _unit(b, "v")).sum(-1)


def cos_losses(cos: TensorLike, t: TensorLike, kind: str) -> torch.Tensor:
    """Per-pair loss ℓ1 ("sq01"), ℓ2 ("sqpm1") or ℓ3 ("hinge") of cosines ``cos`` with 0/1 labels ``t``."""
    c = validate.tensor(cos, "cos", min_ndim=0)
    kind = validate.choice(kind, "kind", COS_LOSSES)
    if bool((c.detach().abs() > 1 + 1e-6).any()):
        raise ValueError("cos must hold cosines, between -1 and 1")
    t = _labels(t, "t", c.numel(), binary=True).reshape(c.shape).to(c.dtype)
    if kind == "sq01":
        return t * (c - 1) ** 2 + (1 - t) * c**2
    if kind == "sqpm1":
        return t * (c - 1) ** 2 + (1 - t) * (c + 1) ** 2
    return t * torch.clamp(0.9 - c, min=0) + (1 - t) * torch.clamp(c - 0.1, min=0)


def sbert_features(u: TensorLike, v: TensorLike) -> torch.Tensor:
    """Sentence-BERT's classifier input [u; v; |u - v|] (rows), of width 3d."""
    a, b = _same_shape(_rows(u, "u"), _rows(v, "v"), "u and v")
    return torch.cat([a, b, (a - b).abs()], dim=-1)


def sbert_logit_decomposition(W: TensorLike, b: TensorLike, u: TensorLike,
                              v: TensorLike) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split the two-class score (logit 1 - logit 0) of W[u; v; |u-v|] + b into ⟨u,w1⟩, ⟨v,w2⟩, ⟨|u-v|,w3⟩, c."""
    W = validate.tensor(W, "W", ndim=2)
    b = validate.tensor(b, "b", ndim=1)
    x, y = _same_shape(_rows(u, "u"), _rows(v, "v"), "u and v")
    d = x.shape[1]
    if W.shape != (2, 3 * d):
        raise ValueError(f"W must have shape (2, 3d) = (2, {3 * d}) for two classes on [u; v; |u-v|], "
                         f"got {tuple(W.shape)}")
    if b.shape != (2,):
        raise ValueError(f"b must hold the two class biases, got shape {tuple(b.shape)}")
    dtype = torch.promote_types(torch.promote_types(W.dtype, b.dtype), x.dtype)
    W, b, x, y = W.to(dtype), b.to(dtype), x.to(dtype), y.to(dtype)
    w = W[1] - W[0]  # the score is a difference of logits, so only the rows' difference counts
    w1, w2, w3 = w[:d], w[d:2 * d], w[2 * d:]
    topic_u, topic_v, closeness = x @ w1, y @ w2, (x - y).abs() @ w3
    const = b[1] - b[0]
    return topic_u, topic_v, closeness, const


def cosent_loss(cos: TensorLike, labels: TensorLike, lam: float = 20.0) -> torch.Tensor:
    """CoSENT: log(1 + Σ_{label_i > label_k} exp(λ(cos_k - cos_i))), a soft count of wrongly ordered pairs."""
    c = validate.tensor(cos, "cos", ndim=1)
    lam = validate.real(lam, "lam", positive=True, maximum=1e4)
    if bool((c.detach().abs() > 1 + 1e-6).any()):
        raise ValueError("cos must hold cosines, between -1 and 1")
    y = _labels(labels, "labels", c.numel()).to(c.dtype)
    n = c.numel()
    if n > _MAX_PAIRS:
        raise ValueError(f"cos must hold at most {_MAX_PAIRS} pairs (the loss compares every two), got {n}")
    diff = lam * (c[None, :] - c[:, None])  # entry (i, k) = λ(c_k - c_i)
    # Pairs that are not ordered by their labels get -inf, i.e. e^-inf = 0 in the sum.
    terms = diff.masked_fill(~(y[:, None] > y[None, :]), float("-inf")).reshape(-1)
    # logsumexp over the ordered pairs and a 0 (the "1 +"): stable for any λ, and exactly 0 without ordered pairs
    return torch.logsumexp(torch.cat([c.new_zeros(1), terms]), dim=0)


def similarity_distillation_loss(u: TensorLike, v: TensorLike, lam: float = 100.0) -> torch.Tensor:
    """λ/n² Σ_ij (cos(u_i, u_j) - cos(v_i, v_j))²: teacher rows u and student rows v (widths may differ)."""
    a, b = _rows(u, "u"), _rows(v, "v")
    lam = validate.real(lam, "lam", positive=True, maximum=1e6)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"u and v must hold the same sentences (rows), got {a.shape[0]} and {b.shape[0]}")
    if a.shape[0] > _MAX_PAIRS:
        raise ValueError(f"u must hold at most {_MAX_PAIRS} rows, got {a.shape[0]}")
    dtype = torch.promote_types(a.dtype, b.dtype)
    a, b = _unit(a.to(dtype), "u"), _unit(b.to(dtype), "v")
    return lam * ((a @ a.T - b @ b.T) ** 2).mean()


# --- Training a head on frozen embeddings ------------------------------------------------------------------------
@dataclass
class HeadTraining:
    """A trained linear map of frozen embeddings (and Sentence-BERT's classifier), with its loss per step."""

    map: nn.Linear
    classifier: nn.Linear | None
    losses: list[float] = field(default_factory=list)
    tracked: list[NDArray[np.float64]] = field(default_factory=list)

    def encode(self, x: TensorLike) -> torch.Tensor:
        """The mapped embeddings of rows ``x`` (no gradient)."""
        with torch.no_grad():
            return self.map(_rows(x, "x").to(self.map.weight.dtype))


def _identity_map(d: int) -> nn.Linear:
    layer = nn.Linear(d, d)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(d))
        layer.bias.zero_()
    return layer


def _check_finite(loss: torch.Tensor, step: int) -> None:
    if not bool(torch.isfinite(loss)):
        raise ValueError(f"the loss became non-finite at step {step}; lower lr or check the inputs")


def train_head(ea: TensorLike, eb: TensorLike, labels: TensorLike, loss: str = "cosent", steps: int = 200,
               lr: float = 1e-3, lam: float = 20.0, seed: int = 0,
               track: Callable[[nn.Linear], ArrayLike] | None = None, track_every: int = 1) -> HeadTraining:
    """Train a linear map (identity at start) of frozen pair embeddings (ea_i, eb_i) with 0/1 labels, full batch.

    ``loss`` is "cosent" (λ = ``lam``), one of the cosine losses, or "sbert" (a 2-way softmax classifier on
    [u; v; |u-v|], trained with the map and discarded afterwards). ``track(map)``, if given, is recorded before the
    first step and after every ``track_every`` steps (e.g. the cosines of held-out probe pairs).
    """
    a, b = _same_shape(_rows(ea, "ea"), _rows(eb, "eb"), "ea and eb")
    a, b = a.detach().float(), b.detach().float()
    y = _labels(labels, "labels", a.shape[0], binary=True)
    loss = validate.choice(loss, "loss", HEAD_LOSSES)
    steps = validate.integer(steps, "steps", 0, 100_000)
    lr = validate.real(lr, "lr", positive=True, maximum=1.0)
    lam = validate.real(lam, "lam", positive=True, maximum=1e4)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    if track is not None:
        validate.function(track, "track")
    track_every = validate.integer(track_every, "track_every", 1, 100_000)
    if len(torch.unique(y)) < 2:
        raise ValueError("labels must contain both similar (1) and dissimilar (0) pairs")
    d = a.shape[1]
    validate.memory(4.0 * d * d * 4, "ea", "the linear map and its optimiser state")
    torch.manual_seed(seed)
    head = _identity_map(d)
    classifier = nn.Linear(3 * d, 2) if loss == "sbert" else None
    params = list(head.parameters()) + (list(classifier.parameters()) if classifier is not None else [])

    def step_loss() -> torch.Tensor:
        u, v = head(a), head(b)
        if loss == "sbert":
            return F.cross_entropy(classifier(sbert_features(u, v)), y.long())
        if loss == "cosent":
            return cosent_loss(pair_cosines(u, v), y, lam)
        return cos_losses(pair_cosines(u, v), y, loss).mean()

    return _fit(HeadTraining(head, classifier), params, step_loss, steps, lr, track, track_every)


def _fit(result: HeadTraining, params: list[torch.Tensor], step_loss: Callable[[], torch.Tensor], steps: int,
         lr: float, track: Callable[[nn.Linear], ArrayLike] | None, track_every: int) -> HeadTraining:
    """Adam on ``params`` for ``steps`` steps of ``step_loss``, recording each loss and, every ``track_every``
    steps, ``track(result.map)``."""
    optimiser = torch.optim.Adam(params, lr=lr)

    def record(step: int) -> None:
        if track is not None and step % track_every == 0:
            with torch.no_grad():
                result.tracked.append(np.asarray(track(result.map), dtype=np.float64))

    record(0)
    for step in range(steps):
        value = step_loss()
        _check_finite(value, step)
        optimiser.zero_grad()
        value.backward()
        optimiser.step()
        result.losses.append(float(value.detach()))
        record(step + 1)
    return result


def distill_linear(teacher: TensorLike, student_inputs: TensorLike, dim: int = 128, steps: int = 300,
                   batch: int = 32, lam: float = 100.0, lr: float = 1e-2, seed: int = 0,
                   track: Callable[[nn.Linear], ArrayLike] | None = None, track_every: int = 1) -> HeadTraining:
    """Fit a linear student map so that its cosines match the teacher's, with the distillation loss on random batches.

    ``teacher`` holds the teacher's vectors of n sentences, ``student_inputs`` the student's own features of the same
    sentences (any width); the student map is a ``dim``-wide linear layer (random start). ``track`` and
    ``track_every`` as in train_head.
    """
    t, s = _rows(teacher, "teacher").detach().float(), _rows(student_inputs, "student_inputs").detach().float()
    if t.shape[0] != s.shape[0]:
        raise ValueError(f"teacher and student_inputs must hold the same sentences, got {t.shape[0]} and {s.shape[0]}")
    dim = validate.integer(dim, "dim", 1, 4096)
    steps = validate.integer(steps, "steps", 0, 100_000)
    batch = validate.integer(batch, "batch", 2, t.shape[0])
    lam = validate.real(lam, "lam", positive=True, maximum=1e6)
    lr = validate.real(lr, "lr", positive=True, maximum=1.0)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    if track is not None:
        validate.function(track, "track")
    track_every = validate.integer(track_every, "track_every", 1, 100_000)
    validate.memory(4.0 * s.shape[1] * dim * 4, "dim", "the student map and its optimiser state")
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    student = nn.Linear(s.shape[1], dim)
    def step_loss() -> torch.Tensor:
        rows = torch.randperm(t.shape[0], generator=generator)[:batch]
        return similarity_distillation_loss(t[rows], student(s[rows]), lam)

    return _fit(HeadTraining(student, None), list(student.parameters()), step_loss, steps, lr, track, track_every)


# --- Chapter 09's data: the article's tables, the negation sentences, InsuranceQA pairs --------------------------
TASKS = ("ATEC", "BQ", "LCQMC", "PAWSX", "STS-B")  # the five Chinese tasks (the article's table: kexue.data)
# The article's demonstration: cosines of RoFormer-Sim-FT (base) on its own sentence pairs.
ARTICLE_PAIRS: tuple[tuple[str, str, float], ...] = (
    ("今天天气不错", "今天天气很好", 0.9769838), ("今天天气不错", "今天天气不好", 0.62359834),
    ("我喜欢北京", "我很喜欢北京", 0.9921096), ("我喜欢北京", "我不喜欢北京", 0.5291042),
    ("电影不错", "电影很好", 0.96764225), ("电影不错", "电影不好", 0.6312722),
    ("红色的苹果", "绿色的苹果", 0.6974633), ("给我推荐一款红色的车", "给我推荐一款黑色的车", 0.7191832),
    ("给我推荐一款红色的车", "推荐一辆红车", 0.9866457), ("给我推荐一款红色的车", "麻烦来一辆红车", 0.9460306),
)
# The same questions in English, for an English encoder (our translation; no article values).
ENGLISH_PAIRS: tuple[tuple[str, str], ...] = (
    ("The weather is nice today", "The weather is great today"),
    ("The weather is nice today", "The weather is bad today"),
    ("I like Beijing", "I really like Beijing"), ("I like Beijing", "I don't like Beijing"),
    ("The movie is good", "The movie is great"), ("The movie is good", "The movie is bad"),
    ("a red apple", "a green apple"), ("Recommend me a red car", "Recommend me a black car"),
    ("Recommend me a red car", "Suggest a red car"), ("Recommend me a red car", "Could you get me a red car"),
)
# CoSENT's follow-up (8847): test Spearman x 100 after training on each task's train split (and its average).
COSENT_TASKS: dict[str, tuple[float, ...]] = {
    "BERT+CoSENT": (49.74, 72.38, 78.69, 60.00, 80.14, 68.19),
    "Sentence-BERT": (46.36, 70.36, 78.72, 46.86, 66.41, 61.74),
    "RoBERTa+CoSENT": (50.81, 71.45, 79.31, 61.56, 81.13, 68.85),
    "Sentence-RoBERTa": (48.29, 69.99, 79.22, 44.10, 72.42, 62.80),
}
SUBJECTS_ZH = ("我", "他", "她", "我们")
OBJECTS_ZH = ("北京", "上海", "苹果", "这部电影", "这本书", "咖啡", "下雨天", "猫", "数学", "足球", "火锅", "音乐",
              "夏天", "这家酒店", "跑步", "旅行")
SUBJECTS_EN = ("I", "He", "She", "We")
OBJECTS_EN = ("Beijing", "Shanghai", "apples", "this movie", "this book", "coffee", "rainy days", "cats", "math",
              "football", "hot pot", "music", "summer", "this hotel", "running", "travelling")
_THIRD_PERSON = {"He", "She", "It"}


def negation_triples(subjects: tuple[str, ...], objects: tuple[str, ...],
                     lang: str = "zh") -> list[tuple[str, str, str]]:
    """(likes, does not like, really likes) sentences for every subject and object, subject-major order."""
    lang = validate.choice(lang, "lang", ("zh", "en"))
    for name, words in (("subjects", subjects), ("objects", objects)):
        if isinstance(words, str) or not isinstance(words, (tuple, list)) or not words:
            raise TypeError(f"{name} must be a non-empty tuple of strings")
        if not all(isinstance(w, str) and w.strip() for w in words):
            raise ValueError(f"{name} must hold non-empty strings")
    out = []
    for s in subjects:
        for o in objects:
            if lang == "zh":
                out.append((f"{s}喜欢{o}", f"{s}不喜欢{o}", f"{s}很喜欢{o}"))
            elif s in _THIRD_PERSON:
                out.append((f"{s} likes {o}", f"{s} doesn't like {o}", f"{s} really likes {o}"))
            else:
                out.append((f"{s} like {o}", f"{s} don't like {o}", f"{s} really like {o}"))
    return out


def difference_coherence(e_pos: TensorLike, e_neg: TensorLike) -> float:
    """Mean cosine between the normalised differences e_neg[i] - e_pos[i] over all pairs i != j (1: one direction)."""
    a, b = _same_shape(_rows(e_pos, "e_pos"), _rows(e_neg, "e_neg"), "e_pos and e_neg")
    if a.shape[0] < 2:
        raise ValueError(f"e_pos must hold at least 2 rows, got {a.shape[0]}")
    d = _unit((b - a).double(), "e_neg - e_pos")
    n = d.shape[0]
    gram = d @ d.T
    return float((gram.sum() - gram.diagonal().sum()) / (n * (n - 1)))


def insurance_pairs(max_positive: int = 300, seed: int = 0) -> list[tuple[str, str, int, str]]:
    """Chinese question pairs from InsuranceQA (``insuranceqa-data`` 1.2): (q1, q2, label, split).

    Label 1: two distinct questions that share an answer (all splits of the corpus); label 0: the first question with
    a random question of the same insurance domain and no shared answer. Whole answer groups go to "train" or
    "test" (every second group in a seeded order), so no question pair leaks across the split.
    """
    max_positive = validate.integer(max_positive, "max_positive", 2, 10_000)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    records = _insurance_questions()
    by_answer: dict[str, list[int]] = {}
    for i, (_, answers, _) in enumerate(records):
        for a in answers:
            by_answer.setdefault(a, []).append(i)
    positives: dict[tuple[str, str], tuple[int, int, str]] = {}
    for answer, members in sorted(by_answer.items()):
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                i, j = members[x], members[y]
                key = tuple(sorted((records[i][0], records[j][0])))
                if key[0] != key[1]:
                    positives.setdefault(key, (i, j, answer))
    rng = np.random.default_rng(seed)
    keys = sorted(positives)
    keys = [keys[k] for k in sorted(rng.permutation(len(keys))[:max_positive])]
    groups = sorted({positives[k][2] for k in keys})
    test_groups = {groups[g] for g in rng.permutation(len(groups))[::2]}
    by_domain: dict[str, list[int]] = {}
    for i, (_, _, domain) in enumerate(records):
        by_domain.setdefault(domain, []).append(i)
    out = []
    for key in keys:
        i, j, answer = positives[key]
        split = "test" if answer in test_groups else "train"
        out.append((records[i][0], records[j][0], 1, split))
        out.append((records[i][0], records[_negative(records, by_domain[records[i][2]], i, rng)][0], 0, split))
    return out


def _negative(records: tuple[tuple[str, tuple[str, ...], str], ...], pool: list[int], i: int,
              rng: np.random.Generator) -> int:
    """A random question of ``pool`` (i's domain) sharing no answer with question i: a hard negative of the kind the
    labelled corpora hold."""
    def fits(k: int) -> bool:
        return not set(records[k][1]) & set(records[i][1]) and records[k][0] != records[i][0]

    for _ in range(100):
        k = pool[int(rng.integers(len(pool)))]
        if fits(k):
            return k
    candidates = [k for k in pool if fits(k)]
    if not candidates:
        raise ValueError(f"no negative question found for question {i} in its domain")
    return candidates[int(rng.integers(len(candidates)))]


@lru_cache(maxsize=1)
def _insurance_questions() -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """Every question of InsuranceQA's three splits: (Chinese text, answer ids, domain), in a fixed order."""
    try:
        import insuranceqa_data
    except ImportError:
        raise ImportError("the package 'insuranceqa-data' is missing: install it with `pip install "
                          "insuranceqa-data==1.2` (later versions download the data at run time)") from None
    import gzip
    import json
    import re

    out = []
    for path in (insuranceqa_data.TRAIN_DATA, insuranceqa_data.VALID_DATA, insuranceqa_data.TEST_DATA):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            # Each question lists ~200 negative answer ids we do not use; dropping them before parsing
            # keeps the parsed split small (the package's own loader needs about 230 MB more).
            text = re.sub(r'"negatives":\s*\[[^\]]*\]', '"negatives": []', f.read())
        split = json.loads(text)
        del text
        for key in sorted(split, key=int):
            rec = split[key]
            out.append((rec["zh"].strip(), tuple(rec["answers"]), rec["domain"]))
    return tuple(out)


def embedding_average(encoder: object, texts: list[str], batch_size: int = 256) -> NDArray[np.float32]:
    """P0 without the Transformer: the mean over tokens of the embedding layer's output (a bag-of-tokens model).

    ``encoder`` is a ``kexue.pretrained`` encoder (it tokenises with its own prefix); equal to its
    ``encode(texts, pooling="embedding-avg", normalize=False)`` at a fraction of the cost.
    """
    if not (hasattr(encoder, "tokenize") and hasattr(getattr(encoder, "model", None), "embeddings")):
        raise TypeError(f"encoder must be a kexue.pretrained encoder (load_e5, load_minilm), got "
                        f"{type(encoder).__name__}")
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts \
            or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a non-empty list of strings")
    batch_size = validate.integer(batch_size, "batch_size", 1, 4096)
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = encoder.tokenize(list(texts[start:start + batch_size]))
            h = encoder.model.embeddings(input_ids=batch["input_ids"])
            mask = batch["attention_mask"].to(h.dtype).unsqueeze(-1)
            out.append(((h * mask).sum(1) / mask.sum(1)).float().numpy())
    return np.concatenate(out)


def plot_cosine_bars(names: list[str], before: ArrayLike, after: ArrayLike, after_label: str = "after",
                     title: str = "") -> Axes:
    """Horizontal bars of cosines per named pair, before (light blue) and after (blue) some training."""
    import matplotlib.pyplot as plt

    from kexue.plotting import PALETTE

    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not names:
        raise TypeError("names must be a non-empty list of pair names")
    before = validate.vector(before, "before", size=len(names))
    after = validate.vector(after, "after", size=len(names))
    after_label, title = validate.string(after_label, "after_label"), validate.string(title, "title")
    _, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.2))
    y = np.arange(len(names))
    ax.barh(y + 0.2, before, height=0.4, color=PALETTE["sky"], label="before")
    ax.barh(y - 0.2, after, height=0.4, color=PALETTE["blue"], label=after_label)
    ax.set_yticks(y, [str(n) for n in names])
    ax.invert_yaxis()
    ax.set(xlim=(min(-0.2, float(after.min()) - 0.05), 1.05), xlabel="cosine", title=title)
    ax.legend(fontsize="small", loc="lower left")
    return ax

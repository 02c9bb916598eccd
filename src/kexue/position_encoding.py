"""Position encodings for Transformers: absolute, relative, and rotary, in NumPy.

Chapter source: Su Jianlin (苏剑林), 《让研究人员绞尽脑汁的Transformer位置编码》
("The Transformer position encodings that made researchers rack their brains"), Scientific Spaces, 2021-02-03,
https://kexue.fm/archives/8130.

Conventions (kept everywhere in this module and tested):

- Encodings are *interleaved*: ``p[k, 2i] = sin(k * theta_i)``, ``p[k, 2i + 1] = cos(k * theta_i)`` with
  ``theta_i = base ** (-2i / d)``, as in the article and in Vaswani et al. (2017).
- ``rotation_blocks(m)`` is the matrix that *shifts* a sinusoidal encoding: ``p[k + m] = rotation_blocks(m) @ p[k]``.
  Its 2x2 blocks are ``[[cos, sin], [-sin, cos]]``; seen as points of the plane, the pairs ``(sin, cos)`` turn
  clockwise as the position grows.
- ``rope(x, n)`` turns each pair ``(x[2i], x[2i + 1])`` *counter-clockwise* by ``n * theta_i``, the article's real
  form (multiplication of ``x[2i] + i x[2i + 1]`` by ``exp(i n theta_i)``).
  Hence ``rope(x, n) = rotation_blocks(-n) @ x``.
- ``rope_rotate_half`` is the layout of much library code: coordinate ``i`` is paired with ``i + d/2``. It equals
  ``rope`` after the fixed permutation ``half_layout(d)`` of the coordinates.
- ``t5_bucket`` takes ``rel = j - i`` (key position minus query position), the sign convention of the T5 code.

NumPy only at import time; the two small training experiments import PyTorch inside the functions that need it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kexue import runtime, validate
from kexue.validate import integer as _check_int
from kexue.validate import real as _check_real

if TYPE_CHECKING:
    import torch
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CNNResult", "COPY_SCHEMES", "CopyModel", "SCHEMES", "SchemeParams", "ScoreTerms", "TERMS", "attention",
    "attention_terms", "cnn_padding_experiment", "complex_order", "copy_task_benchmark", "frequencies",
    "half_layout", "hierarchical_extend", "omega_generator", "plot_position_logits", "plot_scheme_gallery",
    "position_logits", "random_scheme_params", "rope", "rope_decay_bound", "rope_rotate_half", "rotation_blocks",
    "score_terms", "scores", "shaw_index", "sinusoidal", "sinusoidal_at", "sinusoidal_dot", "sinusoidal_from_ode",
    "t5_bucket", "toeplitz_spread", "train_copy_model",
]

DEFAULT_BASE = 10000.0
TERMS: tuple[str, ...] = ("content-content", "content-position", "position-content", "position-position")
"""The four terms of the expanded attention logit, in the order of ``attention_terms``."""

SCHEMES: dict[str, str] = {
    "sinusoidal": "sinusoidal, raw p_i·p_j",
    "sinusoidal-W": "sinusoidal through W_Q W_K^T",
    "shaw": "Shaw et al. (clipped table)",
    "xl": "Transformer-XL / XLNet",
    "t5": "T5 (bucketed bias)",
    "deberta": "DeBERTa (c2p + p2c)",
    "rope": "RoPE (rotary)",
}
"""Scheme names accepted by ``position_logits`` and ``plot_position_logits``, with a display label each."""


# --- Input checks ----------------------------------------------------------------------------------------------
def _check_dim(d: Any, name: str = "d") -> int:
    """An even, positive encoding dimension (at most 2^16: a model dimension, not a memory test)."""
    d = _check_int(d, name, 2, 2**16)
    if d % 2:
        raise ValueError(f"{name} must be even (coordinates come in pairs), got {d}")
    return d


def _check_base(base: Any) -> float:
    """A positive, finite base for the frequencies."""
    return _check_real(base, "base", positive=True)


# --- Sinusoids -------------------------------------------------------------------------------------------------
def frequencies(d: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """The d/2 angular frequencies theta_i = base ** (-2i/d), i = 0 .. d/2 - 1."""
    d, base = _check_dim(d), _check_base(base)
    return base ** (-2.0 * np.arange(d // 2) / d)


def sinusoidal_at(pos: ArrayLike, d: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """Interleaved sinusoidal encodings of arbitrary (real) positions: shape pos.shape + (d,)."""
    theta = frequencies(d, base)
    angles = validate.array(pos, "pos")[..., None] * theta
    out = np.empty(angles.shape[:-1] + (d,))
    out[..., 0::2] = np.sin(angles)
    out[..., 1::2] = np.cos(angles)
    return out


def sinusoidal(n_pos: int, d: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """The (n_pos, d) table of Vaswani et al.: p[k, 2i] = sin(k theta_i), p[k, 2i+1] = cos(k theta_i)."""
    n_pos = _check_int(n_pos, "n_pos", 1)
    validate.memory(2.0 * n_pos * _check_dim(d) * 8, "n_pos", "the table")
    return sinusoidal_at(np.arange(n_pos), d, base)


def _blocks(angles: np.ndarray) -> np.ndarray:
    """Block-diagonal matrix with 2x2 blocks [[cos a, sin a], [-sin a, cos a]]."""
    d = 2 * len(angles)
    out = np.zeros((d, d))
    c, s = np.cos(angles), np.sin(angles)
    idx = np.arange(0, d, 2)
    out[idx, idx], out[idx, idx + 1] = c, s
    out[idx + 1, idx], out[idx + 1, idx + 1] = -s, c
    return out


def rotation_blocks(m: float, d: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """The (d, d) block rotation R_m with p[k + m] = R_m @ p[k] for every k (blocks [[cos, sin], [-sin, cos]])."""
    m = _check_real(m, "m")
    return _blocks(m * frequencies(d, base))


def sinusoidal_dot(m: ArrayLike, d: int = 128, base: float = DEFAULT_BASE) -> NDArray[np.float64] | float:
    """p_k · p_{k+m} = sum_i cos(m theta_i), which does not depend on k (scalar or array, like m)."""
    theta = frequencies(d, base)
    mm = validate.array(m, "m")
    out = np.cos(mm[..., None] * theta).sum(axis=-1)
    return float(out) if out.ndim == 0 else out


def rope_decay_bound(m: ArrayLike, d: int = 128, base: float = DEFAULT_BASE) -> NDArray[np.float64] | float:
    """RoFormer's long-range bound (1/(d/2)) sum_{j=1}^{d/2} |S_j|, S_j = sum_{l<j} exp(i m theta_l)."""
    theta = frequencies(d, base)
    mm = validate.array(m, "m")
    partial = np.cumsum(np.exp(1j * mm[..., None] * theta), axis=-1)
    out = np.abs(partial).mean(axis=-1)
    return float(out) if out.ndim == 0 else out


def omega_generator(d: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """The skew-symmetric Omega (blocks [[0, theta_i], [-theta_i, 0]]) with dp/dk = Omega p for the sinusoid."""
    theta = frequencies(d, base)
    out = np.zeros((d, d))
    idx = np.arange(0, d, 2)
    out[idx, idx + 1], out[idx + 1, idx] = theta, -theta
    return out


def sinusoidal_from_ode(k: float, d: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """p_k obtained by solving dp/dk = Omega p from p_0 = (0, 1, 0, 1, ...): expm(k Omega) @ p_0 (SciPy)."""
    from scipy.linalg import expm

    k = _check_real(k, "k")
    p0 = np.tile([0.0, 1.0], _check_dim(d) // 2)
    return expm(k * omega_generator(d, base)) @ p0


# --- RoPE ------------------------------------------------------------------------------------------------------
def rope(x: ArrayLike, pos: ArrayLike, base: float = DEFAULT_BASE) -> np.ndarray:
    """Rotate each pair (x[2i], x[2i+1]) counter-clockwise by pos * theta_i; pos broadcasts over x's leading axes."""
    x = validate.array(x, "x")
    if x.ndim == 0 or x.shape[-1] % 2 or x.shape[-1] == 0:
        raise ValueError(f"x must have an even, non-zero last dimension, got shape {x.shape}")
    pos = validate.array(pos, "pos")
    theta = frequencies(x.shape[-1], base)  # outside the try: a bad base is the base's fault, not pos's
    try:
        angles = pos[..., None] * theta
        np.broadcast_shapes(angles.shape, x[..., 0::2].shape)
    except ValueError:
        raise ValueError(f"pos of shape {pos.shape} does not broadcast against x's leading axes "
                         f"{x.shape[:-1]}") from None
    c, s = np.cos(angles), np.sin(angles)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty(np.broadcast_shapes(x.shape, angles.shape[:-1] + (x.shape[-1],)))
    out[..., 0::2] = even * c - odd * s
    out[..., 1::2] = even * s + odd * c
    return out


def half_layout(d: int) -> np.ndarray:
    """The permutation taking interleaved pairs (0, 1), (2, 3), ... to rotate-half pairs (0, d/2), (1, d/2 + 1), ..."""
    d = _check_dim(d)
    return np.concatenate([np.arange(0, d, 2), np.arange(1, d, 2)])


def rope_rotate_half(x: ArrayLike, pos: ArrayLike, base: float = DEFAULT_BASE) -> np.ndarray:
    """RoPE in the rotate-half layout: the pair (x[i], x[i + d/2]) turns counter-clockwise by pos * theta_i."""
    x = validate.array(x, "x")
    if x.ndim == 0 or x.shape[-1] % 2 or x.shape[-1] == 0:
        raise ValueError(f"x must have an even, non-zero last dimension, got shape {x.shape}")
    half = x.shape[-1] // 2
    pos = validate.array(pos, "pos")
    theta = frequencies(x.shape[-1], base)  # outside the try: a bad base is the base's fault, not pos's
    try:
        angles = np.concatenate([pos[..., None] * theta] * 2, -1)
        np.broadcast_shapes(angles.shape, x.shape)
    except ValueError:
        raise ValueError(f"pos of shape {pos.shape} does not broadcast against x's leading axes "
                         f"{x.shape[:-1]}") from None
    rotated = np.concatenate([-x[..., half:], x[..., :half]], -1)  # the quarter turn of every pair
    return x * np.cos(angles) + rotated * np.sin(angles)


def complex_order(r: ArrayLike, omega: ArrayLike, theta: ArrayLike, k: ArrayLike) -> np.ndarray:
    """Complex Order embedding r * exp(i (omega k + theta)) of a word at position(s) k: shape k.shape + r.shape."""
    r, omega, theta = (validate.array(v, name) for v, name in ((r, "r"), (omega, "omega"), (theta, "theta")))
    if not (r.shape == omega.shape == theta.shape):
        raise ValueError(f"r, omega and theta must have one shape, got {r.shape}, {omega.shape}, {theta.shape}")
    k = validate.array(k, "k")
    k = k.reshape(k.shape + (1,) * r.ndim)
    with np.errstate(over="ignore", invalid="ignore"):
        return validate.finite(r * np.exp(1j * (omega * k + theta)), "k, omega or r", "the embedding")


# --- Trained absolute encodings: hierarchical decomposition ----------------------------------------------------
def hierarchical_extend(P: ArrayLike, alpha: float = 0.4) -> np.ndarray:
    """Extend an (n, d) table to (n*n, d) rows alpha u_i + (1 - alpha) u_j, u_i = (p_i - alpha p_0) / (1 - alpha)."""
    P = validate.matrix(P, "P")
    alpha = _check_real(alpha, "alpha")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    u = (P - alpha * P[:1]) / (1 - alpha)
    n, d = P.shape
    return (alpha * u[:, None, :] + (1 - alpha) * u[None, :, :]).reshape(n * n, d)


# --- Attention and its expansion -------------------------------------------------------------------------------
def _softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax (masked entries are -inf)."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def attention(x: ArrayLike, Wq: ArrayLike, Wk: ArrayLike, Wv: ArrayLike, bias: ArrayLike | None = None,
              causal: bool = False) -> np.ndarray:
    """Single-head attention o_i = sum_j softmax_j(q_i k_j^T + bias_ij) v_j with q, k, v = x W (no scaling)."""
    x = validate.matrix(x, "x")
    d = x.shape[1]
    Wq, Wk, Wv = (validate.matrix(W, name, (d, None)) for W, name in ((Wq, "Wq"), (Wk, "Wk"), (Wv, "Wv")))
    if not isinstance(causal, bool):
        raise TypeError(f"causal must be a bool, got {type(causal).__name__}")
    logits = (x @ Wq) @ (x @ Wk).T
    if bias is not None:
        logits = logits + validate.matrix(bias, "bias", (len(x), len(x)))
    if causal:
        logits = np.where(np.tril(np.ones_like(logits, dtype=bool)), logits, -np.inf)
    return _softmax(logits) @ (x @ Wv)


class ScoreTerms(NamedTuple):
    """The four (n, n) terms of (x + p) W_Q W_K^T (x + p)^T; they sum to the full logits."""

    content_content: np.ndarray
    content_position: np.ndarray
    position_content: np.ndarray
    position_position: np.ndarray


def attention_terms(x: ArrayLike, p: ArrayLike, Wq: ArrayLike, Wk: ArrayLike) -> ScoreTerms:
    """Split the absolute-encoding logits (x+p) Wq Wk^T (x+p)^T into content/position terms (eq. qk-exp)."""
    x = validate.matrix(x, "x")
    p = validate.matrix(p, "p", x.shape)
    d = x.shape[1]
    Wq = validate.matrix(Wq, "Wq", (d, None))
    Wk = validate.matrix(Wk, "Wk", (d, Wq.shape[1]))
    W = Wq @ Wk.T
    return ScoreTerms(x @ W @ x.T, x @ W @ p.T, p @ W @ x.T, p @ W @ p.T)


def shaw_index(i: ArrayLike, j: ArrayLike, p_min: int, p_max: int) -> NDArray[np.int64] | int:
    """Row of the relative table used for query i and key j: clip(i - j, p_min, p_max) - p_min."""
    p_min, p_max = _check_int(p_min, "p_min"), _check_int(p_max, "p_max")
    if p_min > p_max:
        raise ValueError(f"p_min must not exceed p_max, got p_min={p_min}, p_max={p_max}")
    i, j = validate.integers(i, "i"), validate.integers(j, "j")
    out = np.clip(i - j, p_min, p_max) - p_min
    return int(out) if out.ndim == 0 else out


def t5_bucket(rel: ArrayLike, bidirectional: bool = True, num_buckets: int = 32,
              max_distance: int = 128) -> NDArray[np.int64] | int:
    """T5's bucket for rel = j - i (key minus query): exact for small |rel|, log-spaced up to max_distance, clipped."""
    r = validate.integers(rel, "rel")
    if not isinstance(bidirectional, bool):
        raise TypeError(f"bidirectional must be a bool, got {type(bidirectional).__name__}")
    num_buckets = _check_int(num_buckets, "num_buckets", 4 if bidirectional else 2)
    max_distance = _check_int(max_distance, "max_distance", 1)
    buckets = np.zeros_like(r)
    if bidirectional:
        num_buckets //= 2
        buckets += (r > 0) * num_buckets  # keys after the query use the upper half
        n = np.abs(r)
    else:
        n = np.maximum(-r, 0)  # keys after the query (impossible in a decoder) share bucket 0
    max_exact = num_buckets // 2
    if max_distance <= max_exact:
        raise ValueError(f"max_distance must exceed {max_exact} (the exact range), got {max_distance}")
    with np.errstate(divide="ignore"):
        scaled = np.log(np.maximum(n, 1) / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    large = np.minimum(max_exact + np.floor(scaled).astype(np.int64), num_buckets - 1)
    buckets += np.where(n < max_exact, n, large)
    return int(buckets) if buckets.ndim == 0 else buckets


def toeplitz_spread(M: ArrayLike) -> float:
    """Largest (max - min) along any diagonal of a square matrix: 0 exactly when M[i, j] depends on i - j only."""
    M = validate.matrix(M, "M")
    n = M.shape[0]
    if M.shape[1] != n:
        raise ValueError(f"M must be square, got shape {M.shape}")
    return float(max(np.ptp(np.diagonal(M, o)) for o in range(-(n - 1), n)))


# --- Relative schemes as score functions -----------------------------------------------------------------------
@dataclass(frozen=True)
class SchemeParams:
    """Random weights for the score functions of every scheme (d = model dimension, clip = Shaw/DeBERTa window)."""

    Wq: np.ndarray
    Wk: np.ndarray
    Wkr: np.ndarray  # Transformer-XL's separate key projection for positions
    u: np.ndarray  # Transformer-XL's content bias
    v: np.ndarray  # Transformer-XL's position bias
    shaw_k: np.ndarray  # (2 clip + 1, d): Shaw et al.'s relative key vectors, rows indexed by shaw_index
    deberta_r: np.ndarray  # (2 clip + 1, d): DeBERTa's relative position vectors
    t5_bias: np.ndarray  # (num_buckets,): T5's scalar biases, one per bucket
    clip: int = 8
    base: float = DEFAULT_BASE

    @property
    def d(self) -> int:
        """The model dimension."""
        return self.Wq.shape[0]


def random_scheme_params(d: int, rng: np.random.Generator, clip: int = 8, num_buckets: int = 32,
                         base: float = DEFAULT_BASE) -> SchemeParams:
    """Gaussian weights (scaled by 1/sqrt(d)) for every scheme's score function."""
    d = _check_dim(d)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    clip = _check_int(clip, "clip", 1)
    num_buckets = _check_int(num_buckets, "num_buckets", 4)
    base = _check_base(base)
    g = lambda *shape: rng.standard_normal(shape) / math.sqrt(d)  # noqa: E731
    return SchemeParams(Wq=g(d, d), Wk=g(d, d), Wkr=g(d, d), u=g(d), v=g(d), shaw_k=g(2 * clip + 1, d),
                        deberta_r=g(2 * clip + 1, d), t5_bias=rng.standard_normal(num_buckets), clip=clip, base=base)


def _positions(pos: Any, n: int) -> np.ndarray:
    """Integer positions of the n tokens (default 0 .. n-1)."""
    if pos is None:
        return np.arange(n)
    pos = validate.integers(pos, "pos")
    if pos.shape != (n,):
        raise ValueError(f"pos must have shape ({n},), got {pos.shape}")
    return pos


ADDITIVE_SCHEMES = ("absolute", "shaw", "xl", "t5", "deberta")


def score_terms(scheme: str, x: ArrayLike, params: SchemeParams, pos: ArrayLike = None) -> dict[str, np.ndarray | None]:
    """The four logit terms a scheme keeps (None where it drops one), for tokens x at integer positions pos."""
    if scheme not in ADDITIVE_SCHEMES:
        raise ValueError(f"scheme must be one of {ADDITIVE_SCHEMES}, got {scheme!r}")
    if not isinstance(params, SchemeParams):
        raise TypeError(f"params must be a SchemeParams, got {type(params).__name__}")
    x = validate.matrix(x, "x", (None, params.d))
    n = len(x)
    pos = _positions(pos, n)
    W = params.Wq @ params.Wk.T
    cc = x @ W @ x.T
    terms: dict[str, np.ndarray | None] = dict.fromkeys(TERMS)
    terms["content-content"] = cc
    i, j = pos[:, None], pos[None, :]
    if scheme == "absolute":
        p = sinusoidal_at(pos, params.d, params.base)
        return dict(zip(TERMS, attention_terms(x, p, params.Wq, params.Wk)))
    if scheme == "shaw":
        rk = params.shaw_k[shaw_index(i, j, -params.clip, params.clip)]  # (n, n, d): R^K_{i,j}
        terms["content-position"] = np.einsum("id,ijd->ij", x @ params.Wq, rk)
    elif scheme == "xl":
        r = sinusoidal_at(i - j, params.d, params.base)  # (n, n, d): R_{i-j}, not clipped
        rk = r @ params.Wkr
        terms["content-position"] = np.einsum("id,ijd->ij", x @ params.Wq, rk)
        terms["position-content"] = np.broadcast_to(params.u @ params.Wk.T @ x.T, (n, n)).copy()
        terms["position-position"] = rk @ params.v
    elif scheme == "t5":
        terms["position-position"] = params.t5_bias[t5_bucket(j - i, num_buckets=len(params.t5_bias))]
    elif scheme == "deberta":
        r_ij = params.deberta_r[shaw_index(i, j, -params.clip, params.clip)]
        r_ji = params.deberta_r[shaw_index(j, i, -params.clip, params.clip)]
        terms["content-position"] = np.einsum("id,ijd->ij", x @ W, r_ij)  # x_i W R_{i,j}^T
        terms["position-content"] = np.einsum("ijd,jd->ij", r_ji @ W, x)  # R_{j,i} W x_j^T
    return terms


def scores(scheme: str, x: ArrayLike, params: SchemeParams, pos: ArrayLike = None) -> np.ndarray:
    """Full (n, n) attention logits of a scheme: 'none', 'rope', or one of the additive schemes."""
    scheme = validate.choice(scheme, "scheme", ("none", "rope", *ADDITIVE_SCHEMES))
    if not isinstance(params, SchemeParams):
        raise TypeError(f"params must be a SchemeParams, got {type(params).__name__}")
    if scheme == "none":
        x = validate.matrix(x, "x", (None, params.d))
        return x @ params.Wq @ params.Wk.T @ x.T
    if scheme == "rope":
        x = validate.matrix(x, "x", (None, params.d))
        pos = _positions(pos, len(x))
        q, k = rope(x @ params.Wq, pos, params.base), rope(x @ params.Wk, pos, params.base)
        return q @ k.T
    terms = score_terms(scheme, x, params, pos)
    return sum(t for t in terms.values() if t is not None)


def position_logits(scheme: str, n: int, d: int = 64, base: float = DEFAULT_BASE, seed: int = 0,
                    clip: int = 8) -> np.ndarray:
    """The position-dependent part of the logits for n positions, with content held fixed (see SCHEMES)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {tuple(SCHEMES)}, got {scheme!r}")
    n = _check_int(n, "n", 1)
    d, base = _check_dim(d), _check_base(base)
    validate.memory(3.0 * n * n * d * 8, "n", "the (n, n, d) relative-position tensors")
    seed = _check_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    params = random_scheme_params(d, rng, clip=clip, base=base)
    pos = np.arange(n)
    if scheme == "sinusoidal":
        P = sinusoidal(n, d, base)
        return P @ P.T
    if scheme == "sinusoidal-W":
        P = sinusoidal(n, d, base)
        return P @ (math.sqrt(d) * params.Wq @ params.Wk.T) @ P.T
    if scheme == "rope":  # one random vector as both query and key: the logit peaks at j = i
        rotated = rope(np.broadcast_to(rng.standard_normal(d), (n, d)), pos, base)
        return rotated @ rotated.T
    x = np.broadcast_to(rng.standard_normal(d), (n, d))  # the same token everywhere: content held fixed
    terms = score_terms(scheme, x, params, pos)
    if scheme in ("xl", "t5"):  # their position-position term
        return terms["position-position"]
    if scheme == "shaw":  # Shaw et al. keep only content-position
        return terms["content-position"]
    return terms["content-position"] + terms["position-content"]  # DeBERTa's c2p + p2c


def plot_position_logits(scheme: str, n: int = 64, d: int = 64, base: float = DEFAULT_BASE, seed: int = 0,
                         axes: Sequence[Axes] | None = None) -> Sequence[Axes]:
    """Heat map of position_logits and, beside it, the logit against j - i (band = spread along each diagonal)."""
    M = position_logits(scheme, n, d, base, seed)
    if axes is None:
        import matplotlib.pyplot as plt  # lazy: importing this module must not pull in matplotlib

        _, axes = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
    ax_map, ax_line = axes
    ax_map.grid(False)
    image = ax_map.imshow(M, cmap="RdBu_r", vmin=-np.abs(M).max(), vmax=np.abs(M).max())
    ax_map.figure.colorbar(image, ax=ax_map, shrink=0.8, label="logit")
    ax_map.set(xlabel="key position j", ylabel="query position i", title=SCHEMES[scheme])
    offsets = np.arange(-(n - 1), n)
    diagonals = [np.diagonal(M, o) for o in offsets]  # diagonal o holds the pairs with j - i = o
    low, high = [d_.min() for d_ in diagonals], [d_.max() for d_ in diagonals]
    mean = [d_.mean() for d_ in diagonals]
    ax_line.fill_between(offsets, low, high, alpha=0.35, color="#E69F00", label="min–max over pairs (i, j)")
    ax_line.plot(offsets, mean, color="#0072B2", lw=1.2, label="mean")
    ax_line.set(xlabel="relative position j − i", ylabel="logit",
                title=f"spread along diagonals: {toeplitz_spread(M):.2g}")
    ax_line.legend(loc="lower center", fontsize="small")
    ax_map.figure.tight_layout()
    return axes


def plot_scheme_gallery(n: int = 64, d: int = 64, base: float = DEFAULT_BASE, seed: int = 0) -> Figure:
    """One heat map of position_logits per scheme, each with its colour bar and its spread along diagonals."""
    import matplotlib.pyplot as plt  # lazy: importing this module must not pull in matplotlib

    logits = {scheme: position_logits(scheme, n, d, base, seed) for scheme in SCHEMES}  # checks the arguments first
    fig, axes = plt.subplots(2, 4, figsize=(13, 6.4))
    for ax, (scheme, M) in zip(axes.flat, logits.items()):
        ax.grid(False)
        image = ax.imshow(M, cmap="RdBu_r", vmin=-np.abs(M).max(), vmax=np.abs(M).max())
        fig.colorbar(image, ax=ax, shrink=0.8, label="logit")
        ax.set_title(f"{SCHEMES[scheme]}\nspread {toeplitz_spread(M):.1g}", fontsize=9)
        ax.set(xlabel="key j", ylabel="query i")
    axes.flat[-1].axis("off")
    fig.tight_layout()
    return fig


# --- PyTorch experiments ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CNNResult:
    """Outcome of the padding experiment: per-step training losses, held-out loss/accuracy, predicted positions."""

    padding: str
    losses: list[float]
    loss: float
    accuracy: float
    predicted: np.ndarray
    seconds: float


MAX_STEPS = 100_000  # training steps: more is not a classroom computation


def _check_loss(loss: torch.Tensor, step: int, lr: float) -> None:
    """Stop a training loop whose loss is no longer finite, with a message that says what to change."""
    value = float(loss.detach())
    if not math.isfinite(value):
        raise ValueError(f"training diverged at step {step} (loss = {value}): lower lr (got {lr})")


def cnn_padding_experiment(padding: str = "zeros", length: int = 32, channels: int = 32,
                           dilations: Sequence[int] = (1, 2, 4, 8, 16), steps: int = 300, batch: int = 16,
                           lr: float = 3e-3, seed: int = 0) -> CNNResult:
    """Train a dilated 1-D CNN to name each position of a constant input; only zero padding makes that possible."""
    if padding not in ("zeros", "circular"):
        raise ValueError(f"padding must be 'zeros' or 'circular', got {padding!r}")
    length, channels = _check_int(length, "length", 2, 4096), _check_int(channels, "channels", 1, 4096)
    steps, batch = _check_int(steps, "steps", 1, MAX_STEPS), _check_int(batch, "batch", 1, 4096)
    lr, seed = _check_real(lr, "lr", positive=True, maximum=10), _check_int(seed, "seed", 0)
    # activations of every layer, kept for the backward pass, and the (channels x length) head's logits
    validate.memory(4.0 * (max(batch, 256) * channels * length * 2 * 6 + channels * length), "length",
                    "the network's activations")
    if isinstance(dilations, (str, bytes)) or not hasattr(dilations, "__iter__"):
        raise TypeError(f"dilations must be a sequence of integers, got {type(dilations).__name__}")
    dilations = tuple(_check_int(v, "dilations", 1) for v in dilations)
    if not dilations or max(dilations) >= length:
        raise ValueError(f"dilations must be non-empty and below length = {length}, got {dilations}")
    # Imported after the checks, so bad arguments are refused also where PyTorch is not installed.
    import torch
    import torch.nn.functional as F

    from kexue.runtime import seed_everything, set_threads

    set_threads(1)
    seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    clock = runtime.Stopwatch()
    convs = torch.nn.ModuleList(
        torch.nn.Conv1d(1 if k == 0 else channels, channels, 3, dilation=dil) for k, dil in enumerate(dilations))
    head = torch.nn.Conv1d(channels, length, 1)  # one logit per candidate position
    mode = "constant" if padding == "zeros" else "circular"

    def forward(x: torch.Tensor) -> torch.Tensor:
        for conv, dil in zip(convs, dilations):
            x = F.relu(conv(F.pad(x, (dil, dil), mode=mode)))  # explicit "same" padding, unpadded conv
        return head(x)  # (batch, length classes, length positions)

    params = list(convs.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    target = torch.arange(length)

    def batch_of(size: int) -> torch.Tensor:
        level = 0.5 + torch.rand(size, 1, 1, generator=gen)  # a constant sequence at a random level
        return level.expand(size, 1, length).contiguous()

    losses = []
    for step in range(steps):
        logits = forward(batch_of(batch))
        loss = F.cross_entropy(logits, target.expand(batch, length))
        _check_loss(loss, step, lr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        logits = forward(batch_of(256))
        test_loss = float(F.cross_entropy(logits, target.expand(256, length)))
        accuracy = float((logits.argmax(dim=1) == target).float().mean())
        predicted = forward(torch.ones(1, 1, length)).argmax(dim=1)[0].numpy()
    return CNNResult(padding, losses, test_loss, accuracy, predicted, clock.elapsed())


def _rope_torch(x: Any, theta: Any) -> Any:
    """Torch twin of rope for x of shape (..., n, d) at positions 0 .. n-1."""
    import torch

    n = x.shape[-2]
    angles = torch.arange(n, dtype=x.dtype)[:, None] * theta
    c, s = torch.cos(angles), torch.sin(angles)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * c - odd * s, even * s + odd * c), dim=-1).flatten(-2)


COPY_SCHEMES = ("none", "learned", "t5", "rope")


@dataclass(frozen=True)
class CopyModel:
    """A trained copy-task model: its scheme, training losses, T5 biases (if any) and an accuracy(n) probe."""

    scheme: str
    lag: int
    n_train: int
    losses: list[float]
    t5_bias: np.ndarray | None
    seconds: float
    _accuracy: Callable[[int], float]

    def accuracy(self, n: int) -> float:
        """Held-out accuracy at sequence length n (NaN for a learned table asked beyond its n_train rows)."""
        return self._accuracy(_check_int(n, "n", self.lag + 1))


def train_copy_model(scheme: str, lag: int = 3, n_train: int = 32, d: int = 64, vocab: int = 16,
                     steps: int = 300, batch: int = 32, lr: float = 1e-2, seed: int = 0) -> CopyModel:
    """Train one causal single-layer attention model to output the token lag steps back, at length n_train."""
    if scheme not in COPY_SCHEMES:
        raise ValueError(f"scheme must be one of {COPY_SCHEMES}, got {scheme!r}")
    lag, n_train = _check_int(lag, "lag", 1), _check_int(n_train, "n_train", 2, 4096)
    if lag >= n_train:
        raise ValueError(f"lag must be below n_train = {n_train}, got {lag}")
    d, vocab = _check_dim(d), _check_int(vocab, "vocab", 2, 2**20)
    steps, batch, seed = _check_int(steps, "steps", 1, MAX_STEPS), _check_int(batch, "batch", 1, 4096), \
        _check_int(seed, "seed", 0)
    lr = _check_real(lr, "lr", positive=True, maximum=10)
    # q, k, v and the (n, n) scores of every sequence in a batch (and of the 256-sequence test batches)
    validate.memory(4.0 * max(batch, 256) * (6 * n_train * d + 3 * n_train * n_train + n_train * vocab), "n_train",
                    "one batch's activations")
    # Imported after the checks, so bad arguments are refused also where PyTorch is not installed.
    import torch
    import torch.nn.functional as F

    from kexue.runtime import seed_everything, set_threads

    set_threads(1)
    seed_everything(seed)
    clock = runtime.Stopwatch()
    gen = torch.Generator().manual_seed(seed)
    emb = torch.nn.Embedding(vocab, d)
    proj = torch.nn.ModuleDict({k: torch.nn.Linear(d, d) for k in ("q", "k", "v")})
    out = torch.nn.Linear(d, vocab)
    params = list(emb.parameters()) + list(proj.parameters()) + list(out.parameters())
    table = torch.nn.Parameter(0.1 * torch.randn(n_train, d, generator=gen)) if scheme == "learned" else None
    t5 = torch.nn.Parameter(torch.zeros(32)) if scheme == "t5" else None  # unidirectional buckets, init 0
    params += [p for p in (table, t5) if p is not None]
    theta = torch.tensor(frequencies(d), dtype=torch.float32)

    def logits_of(tokens: torch.Tensor) -> torch.Tensor:
        n = tokens.shape[1]
        x = emb(tokens)
        if table is not None:
            x = x + table[:n]
        q, k, v = proj["q"](x), proj["k"](x), proj["v"](x)
        if scheme == "rope":
            q, k = _rope_torch(q, theta), _rope_torch(k, theta)
        a = q @ k.transpose(-1, -2) / math.sqrt(d)
        if t5 is not None:
            rel = np.arange(n)[None, :] - np.arange(n)[:, None]  # j - i
            a = a + t5[torch.as_tensor(t5_bucket(rel, bidirectional=False))]
        a = a.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        return out(torch.softmax(a, dim=-1) @ v)

    opt = torch.optim.Adam(params, lr=lr)
    losses = []
    for step in range(steps):
        tokens = torch.randint(vocab, (batch, n_train), generator=gen)
        loss = F.cross_entropy(logits_of(tokens)[:, lag:].reshape(-1, vocab), tokens[:, :-lag].reshape(-1))
        _check_loss(loss, step, lr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())

    def accuracy(n: int) -> float:
        if table is not None and n > n_train:
            return float("nan")  # no trained vectors for positions beyond n_train
        test_gen = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            tokens = torch.randint(vocab, (256, n), generator=test_gen)
            pred = logits_of(tokens)[:, lag:].argmax(-1)
            return float((pred == tokens[:, :-lag]).float().mean())

    bias = None if t5 is None else t5.detach().numpy().copy()
    return CopyModel(scheme, lag, n_train, losses, bias, clock.elapsed(), accuracy)


def copy_task_benchmark(schemes: Sequence[str] = COPY_SCHEMES, n_test: Sequence[int] = (32, 64), steps: int = 300,
                        **kwargs: Any) -> dict[str, dict[int, float]]:
    """Accuracy at each test length of train_copy_model(scheme, steps=steps, **kwargs) for every scheme."""
    if isinstance(schemes, (str, bytes)) or not isinstance(schemes, Sequence):
        raise TypeError(f"schemes must be a sequence drawn from {COPY_SCHEMES}, got {type(schemes).__name__}")
    if not all(s in COPY_SCHEMES for s in schemes):
        raise ValueError(f"schemes must be a sequence drawn from {COPY_SCHEMES}, got {schemes!r}")
    if isinstance(n_test, (str, bytes)) or not hasattr(n_test, "__iter__"):
        raise TypeError(f"n_test must be a sequence of integers, got {type(n_test).__name__}")
    n_test = [_check_int(n, "n_test", 2, 4096) for n in n_test]
    results = {}
    for scheme in schemes:
        model = train_copy_model(scheme, steps=steps, **kwargs)
        results[scheme] = {n: model.accuracy(n) for n in n_test}
    return results

"""Inequalities for logsumexp: stable evaluation, the article's bounds, their tightness, and symbolic checks.

Chapter source: Su Jianlin (苏剑林), 《logsumexp运算的几个不等式》 ("A few inequalities for the logsumexp
operation"), Scientific Spaces, 2022-05-10, https://kexue.fm/archives/9070.

For ``x`` in R^n, ``lse(x) = log(sum(exp(x)))``; ``tau * lse(x / tau)`` is its version at temperature ``tau``. The
article's inequalities, each with a ``*_slack`` or bound function here (a slack is "larger side minus smaller side",
so it is non-negative whenever the inequality holds):

1. ``x_max < lse(x) <= x_max + log n`` and, at temperature tau, ``x_max < tau lse(x/tau) <= x_max + tau log n``;
2. ``lse(x) >= mean(x) + log n`` (Jensen);
3. ``lse(x) >= p.x + H_t(p)`` for every probability vector ``p`` and every ``t >= 1``, with the Renyi entropy
   ``H_t(p) = log(sum p^t) / (1 - t)``: ``t = 2`` is the article's Cauchy-Schwarz bound, ``t > 1`` its Hölder
   family, ``t = 1`` (Shannon entropy) the limit, which is exact at ``p = softmax(x)``;
4. ``|lse(x) - lse(y)| <= max_i |x_i - y_i|`` (Lipschitz in the max-norm);
5. ``lse(s x + (1 - s) y) <= s lse(x) + (1 - s) lse(y)`` (convexity).

Numerical functions use NumPy and SciPy only; the symbolic checks import SymPy (and mpmath) when called, so
``import kexue.logsumexp`` stays light. Exercise checkers are registered under ids starting with ``lse-``.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special


if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "BOUND_NAMES", "convexity_slack", "cross_entropy_bounds", "draw_explorer", "lipschitz_slack", "logsumexp",
    "max_bounds", "max_gap", "mean_bound", "naive_logsumexp", "reference_values", "renyi_entropy", "softmax",
    "stress_test", "symbolic_entropy_limit", "symbolic_gradient", "symbolic_hessian", "symbolic_hessian_kernel",
    "symbolic_n2_gap", "symbolic_quadratic_form", "symbolic_segment_derivative", "symbolic_temperature_limit",
    "tightness_examples", "weighted_bound",
]

BOUND_NAMES: tuple[str, ...] = (
    "max-lower", "max-upper", "tau-lower", "tau-upper", "mean", "cauchy", "holder", "entropy", "lipschitz",
    "convexity",
)
"""The inequalities that :func:`stress_test` tries to break, in the order of the chapter."""


_SUM_TOL = 1e-9  # how far sum(p) may be from 1 before p is refused as a probability vector
_NEAR_ONE = 0.5  # |t - 1| below which the Renyi entropy is evaluated in the cancellation-free form


# --- Input checks ----------------------------------------------------------------------------------------------
def _as_real(value: Any, name: str) -> float:
    """``value`` as a float, or a TypeError/ValueError naming it (bools and NaN are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return value


def _positive(value: Any, name: str) -> float:
    """A finite, strictly positive real number."""
    value = _as_real(value, name)
    if not (0 < value < math.inf):
        raise ValueError(f"{name} must be a finite positive number, got {value}")
    return value


def _as_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 array of real numbers (NaN and infinities allowed), or a TypeError naming it."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an array of real numbers, got an array of dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _as_vector(x: Any, name: str, n: int | None = None, min_size: int = 1) -> np.ndarray:
    """A finite 1-D float64 array with at least ``min_size`` entries (exactly ``n`` if given)."""
    arr = _as_array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} must have {n} entries (as many as x), got {arr.size}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} entries, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain finite numbers only")
    return arr


def _as_probability(p: Any, name: str = "p", n: int | None = None) -> np.ndarray:
    """A probability vector: finite, non-negative, summing to 1 within 1e-9; returned renormalised."""
    arr = _as_vector(p, name, n)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    total = float(arr.sum())
    if abs(total - 1.0) > _SUM_TOL:
        raise ValueError(f"{name} must sum to 1 (a probability vector), got sum {total!r}")
    return arr / total


def _check_axis(axis: Any, ndim: int) -> int:
    """A valid axis of an ``ndim``-dimensional array, normalised to be non-negative."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an array of dimension {ndim}")
    return int(axis) % ndim


def _check_order(t: Any, name: str = "t") -> float:
    """A Renyi order: a real number t >= 0 (t = inf allowed)."""
    t = _as_real(t, name)
    if t < 0:
        raise ValueError(f"{name} must be >= 0 (a Renyi order), got {t}")
    return t


# --- Evaluation ------------------------------------------------------------------------------------------------
def _gap_core(arr: np.ndarray, tau: float, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(max along axis, tau*lse(x/tau) - max) with keepdims; the gap is tau*log1p(sum of the other terms)."""
    m = np.max(arr, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        shift = np.where(np.isfinite(m), m, 0.0)
        z = (arr - shift) / tau  # <= 0 wherever the maximum is finite
        # Drop one maximal entry: its term is exactly 1, and log1p of the rest keeps tiny gaps accurate.
        np.put_along_axis(z, np.argmax(arr, axis=axis, keepdims=True), -np.inf, axis=axis)
        gap = tau * np.log1p(np.exp(z).sum(axis=axis, keepdims=True))
    return m, gap


def _prepare(x: Any, tau: Any, axis: Any) -> tuple[np.ndarray, float, int]:
    """Validated (array, tau, axis) for the functions that reduce along an axis."""
    arr = _as_array(x, "x")
    if arr.ndim == 0:
        raise ValueError("x must have at least one dimension")
    tau = _positive(tau, "tau")
    axis = _check_axis(axis, arr.ndim)
    if arr.shape[axis] == 0:
        raise ValueError("x must have at least one entry along axis")
    return arr, tau, axis


def _squeeze(values: np.ndarray, axis: int) -> np.ndarray | float:
    """Drop the reduced axis; a 0-d result becomes a NumPy float."""
    out = np.squeeze(values, axis=axis)
    return out[()] if out.ndim == 0 else out


def logsumexp(x: Any, tau: float = 1.0, axis: int = -1) -> np.ndarray | float:
    """Stable tau * log(sum(exp(x / tau))) along ``axis`` (never overflows; -inf entries are allowed)."""
    arr, tau, axis = _prepare(x, tau, axis)
    m, gap = _gap_core(arr, tau, axis)
    # A maximum of +inf, -inf (all entries -inf) or NaN is the answer itself.
    return _squeeze(np.where(np.isfinite(m), m + gap, m), axis)


def max_gap(x: Any, tau: float = 1.0, axis: int = -1) -> np.ndarray | float:
    """tau * lse(x / tau) - max(x), computed without cancellation (NaN where the maximum is not finite)."""
    arr, tau, axis = _prepare(x, tau, axis)
    m, gap = _gap_core(arr, tau, axis)
    return _squeeze(np.where(np.isfinite(m), gap, np.nan), axis)


def naive_logsumexp(x: Any, tau: float = 1.0) -> float:
    """The textbook tau * log(sum(exp(x / tau))) in the input's float precision: overflows to inf for large x."""
    arr = np.asarray(x)
    if isinstance(x, (str, bytes)) or arr.dtype.kind not in "iuf":
        raise TypeError(f"x must be an array of real numbers, got {type(x).__name__}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    tau = _positive(tau, "tau")
    with np.errstate(over="ignore", divide="ignore"):
        return arr.dtype.type(tau) * np.log(np.sum(np.exp(arr / arr.dtype.type(tau))))


def softmax(x: Any, tau: float = 1.0, axis: int = -1) -> np.ndarray:
    """Stable softmax(x / tau) along ``axis``: the gradient of tau * lse(x / tau)."""
    arr, tau, axis = _prepare(x, tau, axis)
    m = np.max(arr, axis=axis, keepdims=True)
    if not np.all(np.isfinite(m)):
        raise ValueError("x must have a finite maximum along axis")
    e = np.exp((arr - m) / tau)
    return e / e.sum(axis=axis, keepdims=True)


# --- The bounds --------------------------------------------------------------------------------------------------
def max_bounds(x: Any, tau: float = 1.0) -> tuple[float, float]:
    """The sandwich (x_max, x_max + tau * log n) around tau * lse(x / tau), for a 1-D x."""
    arr = _as_vector(x, "x")
    tau = _positive(tau, "tau")
    top = float(arr.max())
    return top, top + tau * math.log(arr.size)


def mean_bound(x: Any) -> float:
    """Jensen's lower bound mean(x) + log n on lse(x), for a 1-D x."""
    arr = _as_vector(x, "x")
    return float(arr.mean()) + math.log(arr.size)


def _renyi_rows(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Renyi entropies of the rows of ``p`` (non-negative, each summing to 1) for orders ``t`` (one per row)."""
    t = np.broadcast_to(np.asarray(t, dtype=np.float64), p.shape[:-1])
    tt = t[..., None]
    positive = p > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logp = np.log(p)
        shannon = special.entr(p).sum(axis=-1)  # -sum p log p, with 0 log 0 = 0
        hartley = np.log(positive.sum(axis=-1))  # t = 0: log of the support size
        min_entropy = -np.log(p.max(axis=-1))  # t = inf
        # Near t = 1: sum p^t - 1 = sum p (p^(t-1) - 1), with expm1, has no cancellation; divide by sum p exactly.
        u = (tt - 1.0) * logp
        terms = np.where(positive, np.where(u < 700.0, p * np.expm1(u), np.exp(tt * logp) - p), 0.0)
        near = np.log1p(terms.sum(axis=-1) / p.sum(axis=-1)) / (1.0 - t)
        # Away from t = 1: log sum p^t as a logsumexp of t log p (safe for large t, where p^t underflows).
        tlogp = np.where(positive, tt * logp, -np.inf)
        far = logsumexp(tlogp, axis=-1) / (1.0 - t)
    general = np.where(np.abs(t - 1.0) < _NEAR_ONE, near, far)
    return np.select([t == 1.0, t == 0.0, np.isinf(t)], [shannon, hartley, min_entropy], general)


def renyi_entropy(p: Any, t: float) -> float:
    """Renyi entropy log(sum p^t) / (1 - t) of a probability vector; t = 1 is Shannon's (0 log 0 = 0)."""
    p = _as_probability(p, "p")
    t = _check_order(t, "t")
    return float(_renyi_rows(p, np.float64(t)))


def weighted_bound(x: Any, p: Any, t: float = 2.0) -> float:
    """p . x + H_t(p): a lower bound on lse(x) for every t >= 1 (t = 2 Cauchy, t = 1 exact at p = softmax(x))."""
    arr = _as_vector(x, "x")
    p = _as_probability(p, "p", n=arr.size)
    t = _check_order(t, "t")
    return float(p @ arr) + float(_renyi_rows(p, np.float64(t)))


def cross_entropy_bounds(logits: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on the cross-entropy loss lse(x) - x_y of each row: max(x_max, x_mean + log n) - x_y
    and x_max + log n - x_y."""
    z = _as_array(logits, "logits")
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"logits must be a (batch, classes) array with at least 2 classes, got shape {z.shape}")
    y = np.asarray(labels)
    if y.shape != (z.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise TypeError("labels must be an integer array with one label per row of logits")
    if np.any((y < 0) | (y >= z.shape[1])):
        raise ValueError(f"labels must lie in range({z.shape[1]})")
    x_y = z[np.arange(z.shape[0]), y]
    log_n = math.log(z.shape[1])
    lower = np.maximum(z.max(axis=1), z.mean(axis=1) + log_n) - x_y
    return lower, z.max(axis=1) + log_n - x_y


def lipschitz_slack(x: Any, y: Any) -> float:
    """max_i |x_i - y_i| - |lse(x) - lse(y)|: non-negative by the Lipschitz bound, 0 iff x - y is constant."""
    x = _as_vector(x, "x")
    y = _as_vector(y, "y", n=x.size)
    return float(np.max(np.abs(x - y))) - abs(float(logsumexp(x)) - float(logsumexp(y)))


def convexity_slack(x: Any, y: Any, s: float) -> float:
    """s lse(x) + (1 - s) lse(y) - lse(s x + (1 - s) y): non-negative for s in [0, 1] since lse is convex."""
    x = _as_vector(x, "x")
    y = _as_vector(y, "y", n=x.size)
    s = _as_real(s, "s")
    if not 0 <= s <= 1:
        raise ValueError(f"s must lie in [0, 1], got {s}")
    return s * float(logsumexp(x)) + (1 - s) * float(logsumexp(y)) - float(logsumexp(s * x + (1 - s) * y))


# --- Random testing ----------------------------------------------------------------------------------------------
def _check_bounds(bounds: Iterable[str] | None) -> tuple[str, ...]:
    """The bounds to test: all of BOUND_NAMES by default."""
    if bounds is None:
        return BOUND_NAMES
    if isinstance(bounds, str):
        bounds = (bounds,)
    try:
        chosen = tuple(bounds)
    except TypeError:
        raise TypeError(f"bounds must be a sequence of bound names, got {type(bounds).__name__}") from None
    unknown = [b for b in chosen if b not in BOUND_NAMES]
    if unknown or not chosen:
        raise ValueError(f"bounds must be names from {BOUND_NAMES}, got {list(chosen)}")
    return chosen


def _batch_slacks(x: np.ndarray, y: np.ndarray, p: np.ndarray, t: np.ndarray, tau: np.ndarray,
                  s: np.ndarray, bounds: tuple[str, ...]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(slack, scale) per bound for a batch of rows with the same dimension n."""
    n = x.shape[1]
    lse_x = logsumexp(x, axis=-1)
    top = x.max(axis=-1)
    scale = np.maximum(1.0, np.abs(x).max(axis=-1))
    scale_xy = np.maximum(scale, np.abs(y).max(axis=-1))
    px = (p * x).sum(axis=-1)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in bounds:
        if name == "max-lower":
            out[name] = lse_x - top, scale
        elif name == "max-upper":
            out[name] = top + math.log(n) - lse_x, scale
        elif name in ("tau-lower", "tau-upper"):
            lse_tau = tau * logsumexp(x / tau[:, None], axis=-1)
            out[name] = (lse_tau - top if name == "tau-lower" else top + tau * math.log(n) - lse_tau), scale
        elif name == "mean":
            out[name] = lse_x - (x.mean(axis=-1) + math.log(n)), scale
        elif name in ("cauchy", "holder", "entropy"):
            order = {"cauchy": np.full_like(t, 2.0), "holder": t, "entropy": np.ones_like(t)}[name]
            out[name] = lse_x - (px + _renyi_rows(p, order)), scale
        elif name == "lipschitz":
            out[name] = np.abs(x - y).max(axis=-1) - np.abs(lse_x - logsumexp(y, axis=-1)), scale_xy
        elif name == "convexity":
            mix = s[:, None] * x + (1 - s[:, None]) * y
            out[name] = s * lse_x + (1 - s) * logsumexp(y, axis=-1) - logsumexp(mix, axis=-1), scale_xy
    return out


def stress_test(n_trials: int = 20_000, seed: int = 0, bounds: Iterable[str] | None = None,
                rtol: float = 1e-9) -> dict[str, tuple[float, int]]:
    """Try to break each bound on random inputs: {bound: (most negative slack, violations beyond rtol*scale)}."""
    if isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rtol = _as_real(rtol, "rtol")
    if rtol < 0:
        raise ValueError(f"rtol must be >= 0, got {rtol}")
    chosen = _check_bounds(bounds)
    rng = np.random.default_rng(int(seed))
    # One draw of every knob per trial; the trials are then grouped by dimension so that each group is one batch.
    n = rng.integers(2, 50, size=n_trials)
    spread = rng.choice([0.01, 1.0, 10.0, 100.0], size=n_trials)
    alpha = rng.choice([0.1, 1.0, 10.0], size=n_trials)
    t = 1.0 + rng.exponential(2.0, size=n_trials)
    tau = rng.choice([0.01, 0.1, 1.0, 10.0], size=n_trials)
    s = rng.uniform(0.0, 1.0, size=n_trials)
    worst = dict.fromkeys(chosen, math.inf)
    violations = dict.fromkeys(chosen, 0)
    for dim in np.unique(n):
        rows = np.flatnonzero(n == dim)
        x = rng.standard_normal((rows.size, dim)) * spread[rows, None]
        y = rng.standard_normal((rows.size, dim)) * spread[rows, None]
        g = rng.standard_gamma(np.repeat(alpha[rows, None], dim, axis=1))
        p = g / g.sum(axis=1, keepdims=True)
        for name, (slack, scale) in _batch_slacks(x, y, p, t[rows], tau[rows], s[rows], chosen).items():
            worst[name] = min(worst[name], float(slack.min()))
            violations[name] += int(np.count_nonzero(slack < -rtol * scale))
    return {name: (worst[name], violations[name]) for name in chosen}


def tightness_examples(n: int = 5, seed: int = 0) -> list[dict[str, Any]]:
    """For each bound: its slack at an equality case, at a near-equality case and at a generic random case."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 2 <= n <= 1000:
        raise ValueError(f"n must be an integer between 2 and 1000, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    x = rng.standard_normal(n)
    y = rng.standard_normal(n)
    flat = np.full(n, 0.7)
    uniform = np.full(n, 1.0 / n)
    lse_x = float(logsumexp(x))
    p = rng.dirichlet(np.ones(n))
    nearly_flat = flat + 1e-3 * rng.standard_normal(n)
    lonely = np.r_[0.0, np.full(n - 1, -40.0)]  # every other entry far below the maximum
    shift = x + 0.7

    def below(v: np.ndarray, q: np.ndarray, t: float) -> float:
        """Slack of the weighted bound of order t."""
        return float(logsumexp(v)) - weighted_bound(v, q, t)

    rows = [
        ("x_max < lse", "never (strict); approached as the others fall to -inf",
         "—", float(max_gap(lonely)), float(max_gap(x))),
        ("lse <= x_max + log n", "all x_i equal",
         max_bounds(flat)[1] - float(logsumexp(flat)), max_bounds(nearly_flat)[1] - float(logsumexp(nearly_flat)),
         max_bounds(x)[1] - lse_x),
        ("lse >= mean + log n", "all x_i equal",
         float(logsumexp(flat)) - mean_bound(flat), float(logsumexp(nearly_flat)) - mean_bound(nearly_flat),
         lse_x - mean_bound(x)),
        ("Cauchy, t = 2", "p uniform and all x_i equal", below(flat, uniform, 2.0),
         below(nearly_flat, uniform, 2.0), below(x, p, 2.0)),
        ("Hölder, t = 3", "p uniform and all x_i equal", below(flat, uniform, 3.0),
         below(nearly_flat, uniform, 3.0), below(x, p, 3.0)),
        ("entropy, t → 1", "p = softmax(x), for every x", below(x, softmax(x), 1.0),
         below(x, 0.99 * softmax(x) + 0.01 * uniform, 1.0), below(x, p, 1.0)),
        ("Lipschitz", "x - y constant", lipschitz_slack(x, shift),
         lipschitz_slack(np.r_[10.0, np.zeros(n - 1)], np.r_[9.0, np.zeros(n - 1)]), lipschitz_slack(x, y)),
        ("convexity", "x - y constant (or s = 0, 1)", convexity_slack(x, shift, 0.3),
         convexity_slack(x, x + 0.7 + 1e-3 * rng.standard_normal(n), 0.3), convexity_slack(x, y, 0.3)),
    ]
    keys = ("bound", "equality when", "slack at equality", "slack near equality", "slack, generic case")
    return [dict(zip(keys, row)) for row in rows]


# --- High-precision reference values -----------------------------------------------------------------------------
def reference_values(digits: int = 25) -> dict[str, float]:
    """The worked example x = (1, 2, 3), p = (0.2, 0.3, 0.5) evaluated with mpmath at ``digits`` digits."""
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or not 16 <= digits <= 1000:
        raise ValueError(f"digits must be an integer between 16 and 1000, got {digits!r}")
    import mpmath  # lazy: only the reference values need arbitrary precision

    with mpmath.workdps(int(digits)):
        x = [mpmath.mpf(v) for v in (1, 2, 3)]
        p = [mpmath.mpf(v) for v in ("0.2", "0.3", "0.5")]

        def lse(values: Sequence[Any]) -> Any:
            return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in values))

        px = mpmath.fsum(a * b for a, b in zip(p, x))

        def holder(t: Any) -> Any:
            return px + mpmath.log(mpmath.fsum(q**t for q in p)) / (1 - t)

        values = {
            "lse": lse(x),
            "max_upper": max(x) + mpmath.log(3),
            "mean": mpmath.fsum(x) / 3 + mpmath.log(3),
            "cauchy": holder(2),
            "holder_t3": holder(3),
            "holder_t1.5": holder(mpmath.mpf("1.5")),
            "entropy": px - mpmath.fsum(q * mpmath.log(q) for q in p),
            "tau_2": 2 * lse([v / 2 for v in x]),
            "tau_0.5": mpmath.mpf("0.5") * lse([v / mpmath.mpf("0.5") for v in x]),
            "tau_0.1": mpmath.mpf("0.1") * lse([v / mpmath.mpf("0.1") for v in x]),
        }
        return {key: float(v) for key, v in values.items()}


# --- Symbolic checks (SymPy, imported on call) -------------------------------------------------------------------
def _check_n(n: Any) -> int:
    """A small dimension for the symbolic checks."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an integer, got {type(n).__name__}")
    if not 1 <= n <= 8:
        raise ValueError(f"n must be between 1 and 8 (symbolic checks grow fast), got {n}")
    return int(n)


def _symbols(n: int, name: str = "x") -> tuple[Any, list[Any], Any, list[Any]]:
    """(sympy, symbols x_1..x_n, lse as an expression, softmax as expressions)."""
    import sympy as sp

    xs = list(sp.symbols(f"{name}1:{n + 1}", real=True))
    total = sum(sp.exp(v) for v in xs)
    return sp, xs, sp.log(total), [sp.exp(v) / total for v in xs]


def symbolic_gradient(n: int = 3) -> list[Any]:
    """d lse / d x_i - softmax_i for i = 1..n, simplified by SymPy (each is 0)."""
    sp, xs, lse, p = _symbols(_check_n(n))
    return [sp.simplify(sp.diff(lse, v) - q) for v, q in zip(xs, p)]


def symbolic_hessian(n: int = 3) -> Any:
    """The Hessian of lse minus (diag(p) - p p^T) with p = softmax(x), simplified by SymPy (the zero matrix)."""
    sp, xs, lse, p = _symbols(_check_n(n))
    hessian = sp.hessian(lse, xs)
    col = sp.Matrix(p)
    return (hessian - (sp.diag(*p) - col * col.T)).applyfunc(sp.simplify)


def symbolic_hessian_kernel(n: int = 3) -> Any:
    """The Hessian of lse times the all-ones vector, simplified (zero: lse is affine along the diagonal)."""
    sp, xs, lse, _ = _symbols(_check_n(n))
    return (sp.hessian(lse, xs) * sp.ones(len(xs), 1)).applyfunc(sp.simplify)


def symbolic_quadratic_form(n: int = 3) -> Any:
    """v^T H v - Var_p(v) with H the Hessian of lse and p = softmax(x), simplified (0, so H is PSD)."""
    sp, xs, lse, p = _symbols(_check_n(n))
    v = sp.Matrix(sp.symbols(f"v1:{len(xs) + 1}", real=True))
    quad = (v.T * sp.hessian(lse, xs) * v)[0, 0]
    mean = sum(q * vi for q, vi in zip(p, v))
    variance = sum(q * (vi - mean) ** 2 for q, vi in zip(p, v))
    return sp.simplify(sp.together(quad - variance))


def symbolic_segment_derivative(n: int = 3) -> Any:
    """f'(s) minus the softmax-weighted mean of x - y, for f(s) = lse(s x + (1 - s) y); simplifies to 0."""
    sp, xs, _, _ = _symbols(_check_n(n))
    ys = list(sp.symbols(f"y1:{len(xs) + 1}", real=True))
    s = sp.Symbol("s", real=True)
    weights = [sp.exp(s * a + (1 - s) * b) for a, b in zip(xs, ys)]
    f = sp.log(sum(weights))
    claimed = sum(w * (a - b) for w, a, b in zip(weights, xs, ys)) / sum(weights)
    return sp.simplify(sp.diff(f, s) - claimed)


def symbolic_entropy_limit(p: Sequence[Any] = ("1/5", "3/10", "1/2")) -> tuple[Any, Any]:
    """(lim_{t->1} log(sum p^t) / (t - 1), that limit minus sum p log p) for exact rational p; the second is 0."""
    import sympy as sp

    if isinstance(p, (str, bytes)) or not isinstance(p, Sequence) or len(p) < 1:
        raise TypeError("p must be a sequence of rational numbers (or strings such as '1/5')")
    try:
        probs = [sp.Rational(q) for q in p]
    except (TypeError, ValueError, sp.SympifyError) as err:
        raise TypeError(f"p must hold rational numbers: {err}") from None
    if any(q < 0 for q in probs) or sum(probs) != 1:
        raise ValueError("p must be non-negative and sum to exactly 1")
    t = sp.Symbol("t", positive=True)
    limit = sp.limit(sp.log(sum(q**t for q in probs if q)) / (t - 1), t, 1)
    shannon = sum(q * sp.log(q) for q in probs if q)
    return limit, sp.simplify(sp.expand_log(limit - shannon, force=True))


def symbolic_n2_gap() -> Any:
    """lse(a, b) - max(a, b) - log(1 + exp(-|a - b|)) with a = b + d, d >= 0, simplified by SymPy (it is 0)."""
    import sympy as sp

    b = sp.Symbol("b", real=True)
    d = sp.Symbol("d", nonnegative=True)
    a = b + d
    gap = sp.log(sp.exp(a) + sp.exp(b)) - sp.Max(a, b)
    return sp.simplify(sp.expand_log(gap - sp.log(1 + sp.exp(-sp.Abs(a - b))), force=True))


def symbolic_temperature_limit(x: Sequence[Any] = (1, 2, 3)) -> Any:
    """lim_{tau->0+} tau * lse(x / tau) for exact numbers x (SymPy); it equals max(x)."""
    import sympy as sp

    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence) or len(x) < 1:
        raise TypeError("x must be a sequence of rational numbers")
    try:
        values = [sp.Rational(v) for v in x]
    except (TypeError, ValueError, sp.SympifyError) as err:
        raise TypeError(f"x must hold rational numbers: {err}") from None
    tau = sp.Symbol("tau", positive=True)
    return sp.limit(tau * sp.log(sum(sp.exp(v / tau) for v in values)), tau, 0, "+")


# --- Figures -----------------------------------------------------------------------------------------------------
def draw_explorer(tau: float = 0.5, n: int = 10, seed: int = 0, n_samples: int = 2000) -> Figure:
    """Two panels: the sandwich of tau*lse(x/tau) for one random x in R^n, and where random vectors' gaps fall."""
    tau = _positive(tau, "tau")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 2 <= n <= 10_000:
        raise ValueError(f"n must be an integer between 2 and 10000, got {n!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or not 10 <= n_samples <= 10**5:
        raise ValueError(f"n_samples must be an integer between 10 and 100000, got {n_samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import matplotlib.pyplot as plt  # lazy: importing this module must not pull in matplotlib

    rng = np.random.default_rng(int(seed))
    x = rng.standard_normal(n)
    taus = np.geomspace(0.01, 10, 200)
    smooth = taus * logsumexp(x[None, :] / taus[:, None], axis=-1)
    top, _ = max_bounds(x)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8))
    left.plot(taus, smooth, label=r"$\tau\,\mathrm{lse}(x/\tau)$")
    left.plot(taus, np.full_like(taus, top), "--", label=r"$x_{\max}$")
    left.plot(taus, top + taus * math.log(n), ":", label=r"$x_{\max}+\tau\log n$")
    left.plot([tau], [float(logsumexp(x, tau=tau))], "o", color="black", label=f"τ = {tau:.3g}")
    left.set(xscale="log", xlabel="temperature τ", ylabel="value",
             title=f"One random x with n = {n} entries")
    left.legend(loc="upper left")
    samples = rng.standard_normal((int(n_samples), n))
    ratio = max_gap(samples, tau=tau) / (tau * math.log(n))
    right.hist(ratio, bins=40, range=(0, 1), color="#0072B2")
    right.axvline(1.0, color="#D55E00", linestyle="--", label=r"the bound $\tau\log n$")
    right.set(xlim=(0, 1.05), xlabel=r"gap $(\tau\,\mathrm{lse}(x/\tau)-x_{\max})\,/\,(\tau\log n)$",
              ylabel="number of vectors", title=f"{n_samples} random x at τ = {tau:.3g}")
    right.legend(loc="upper center")
    fig.tight_layout()
    return fig

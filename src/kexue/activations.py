"""SquarePlus, an algebraic smooth ReLU, and the activations it is compared with.

Chapter source: Su Jianlin (苏剑林), 《SquarePlus:可能是运算最简单的ReLU光滑近似》
("SquarePlus: possibly the computationally simplest smooth approximation of ReLU"), Scientific Spaces, 2021-12-29,
https://kexue.fm/archives/8833, after J. T. Barron, "Squareplus: A Softplus-Like Algebraic Rectifier",
arXiv:2112.11687 (2021).

``squareplus(x, b) = (x + sqrt(x**2 + b)) / 2``. The module has four parts:

- the functions (NumPy arrays or PyTorch tensors, dispatched on the input's type) and their closed-form derivatives;
- SymPy derivations of the chapter's claims (derivatives, the Student-t and logistic identities, the upper-bound
  threshold ``4 log(2)**2``), returned as expressions that simplify to zero when a claim holds;
- the best uniform approximation of softplus, ``minimax_b()``, by equioscillation, with two independent cross-checks
  (the article's Powell-on-a-grid recipe, and golden-section minimisation of the accurately computed maximum error);
- timing helpers that measure activations as ratios to ReLU, interleaved and repeated, in eager PyTorch,
  ``torch.compile``d PyTorch and NumPy, with a count of the kernels and memory passes eager PyTorch runs, and the
  readers of the benchmark's table (benchmarks/activations.csv).

Importing this module loads NumPy and SciPy's special functions only; torch, sympy and matplotlib are imported by
the functions that need them.
"""
from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from kexue.validate import integer as _check_int, real as _check_real

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ACTIVATIONS", "DEFAULT_B", "RATIO_ROW", "algebraic_gelu", "algebraic_gelu_fit", "approximation_error",
    "benchmark_facts", "benchmark_table", "draw_explorer", "eager_kernel_counts", "error_shape", "gelu", "max_abs_error",
    "minimax_b", "minimax_b_article", "minimax_b_direct", "numpy_activations", "numpy_gradients", "ratio_between",
    "read_benchmark", "relu", "relu_gelu_gap", "silu", "softplus", "softplus_grad", "softplus_hess", "squareplus",
    "squareplus_grad", "squareplus_hess", "sym_derivatives", "sym_identities", "sym_is_zero", "sym_special_b",
    "sym_upper_bound", "time_activations", "torch_activations", "upper_bound_rhs", "upper_bound_threshold",
]

DEFAULT_B = 4.0  # the default of jax.nn.squareplus and keras.ops.squareplus: it matches softplus's curvature at 0
ACTIVATIONS: tuple[str, ...] = ("ReLU", "softplus", "GELU (erf)", "GELU (tanh)", "SiLU", "squareplus")
"""The activations the timing helpers compare, in table order; the first is the baseline."""

_GRID_END = 60.0        # every error studied here is even in x and peaks well inside [0, 60]
_GRID_POINTS = 120_001  # step 5e-4; the peak is then polished by a bounded scalar search
_EPS_RTOL = 4 * np.finfo(float).eps  # the smallest relative tolerance scipy's brentq accepts


# --- Input checks and dispatch ---------------------------------------------------------------------------------
def _is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch.Tensor (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _as_array(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as a floating NumPy array (float32/float64 kept, anything else converted to float64)."""
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        return x
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a number, an array or a tensor, got {type(x).__name__}")
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number, an array or a tensor of numbers: {err}") from None


def _scalar(value: np.ndarray) -> Any:
    """A 0-d array as a NumPy scalar, anything else unchanged."""
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _check_b(b: Any, allow_zero: bool = True) -> float:
    """Validate the squareplus parameter b (b >= 0, or b > 0 where derivatives need it)."""
    b = _check_real(b, "b")
    if b < 0 or (b == 0 and not allow_zero):
        raise ValueError(f"b must be {'non-negative' if allow_zero else 'positive'}, got {b}")
    return b


# --- The functions ---------------------------------------------------------------------------------------------
def relu(x: Any) -> Any:
    """ReLU, max(x, 0), for NumPy input or a torch tensor."""
    if _is_tensor(x):
        return sys.modules["torch"].relu(x)
    return _scalar(np.maximum(_as_array(x), 0.0))


def squareplus(x: Any, b: float = DEFAULT_B) -> Any:
    """SquarePlus (x + sqrt(x² + b)) / 2, evaluated without cancellation or overflow; b = 0 gives ReLU exactly."""
    b = _check_b(b)
    if b == 0:
        return relu(x)
    root_b = math.sqrt(b)
    if _is_tensor(x):
        torch = sys.modules["torch"]
        r = torch.hypot(x, torch.full_like(x, root_b))
        # For x <= 0 the textbook form subtracts nearly equal numbers; (x + r)/2 = b / (2 (r - x)) does not.
        return torch.where(x > 0, 0.5 * (x + r), 0.5 * b / (r - x))
    x = _as_array(x)
    r = np.hypot(x, root_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(x > 0, 0.5 * (x + r), 0.5 * b / (r - x))
    return _scalar(out.astype(x.dtype, copy=False))


def squareplus_grad(x: Any, b: float = DEFAULT_B) -> Any:
    """Closed-form derivative (1 + x / sqrt(x² + b)) / 2, computed as squareplus(x, b) / sqrt(x² + b)."""
    b = _check_b(b, allow_zero=False)
    if _is_tensor(x):
        torch = sys.modules["torch"]
        return squareplus(x, b) / torch.hypot(x, torch.full_like(x, math.sqrt(b)))
    x = _as_array(x)
    return _scalar(np.asarray(squareplus(x, b) / np.hypot(x, math.sqrt(b))))


def squareplus_hess(x: Any, b: float = DEFAULT_B) -> Any:
    """Closed-form second derivative b / (2 (x² + b)^(3/2)), the density of sqrt(b/2)·T₂."""
    b = _check_b(b, allow_zero=False)
    if _is_tensor(x):
        torch = sys.modules["torch"]
        return 0.5 * b / torch.hypot(x, torch.full_like(x, math.sqrt(b))) ** 3
    x = _as_array(x)
    with np.errstate(over="ignore"):
        return _scalar(0.5 * b / np.hypot(x, math.sqrt(b)) ** 3)


def softplus(x: Any, beta: float = 1.0) -> Any:
    """Softplus log(1 + e^(βx)) / β without overflow (np.logaddexp; torch's F.softplus for tensors)."""
    beta = _check_real(beta, "beta")
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if _is_tensor(x):
        return sys.modules["torch"].nn.functional.softplus(x, beta=beta)
    x = _as_array(x)
    return _scalar(np.logaddexp(0.0, beta * x) / beta)


def softplus_grad(x: Any) -> Any:
    """Derivative of softplus: the logistic sigmoid 1 / (1 + e^(-x))."""
    if _is_tensor(x):
        return sys.modules["torch"].sigmoid(x)
    return _scalar(special.expit(_as_array(x)))


def softplus_hess(x: Any) -> Any:
    """Second derivative of softplus: the logistic density σ(x)(1 − σ(x))."""
    return softplus_grad(x) * softplus_grad(-x)  # σ(x)·σ(−x), which avoids the cancellation in 1 − σ(x)


def gelu(x: Any, approximate: str = "none") -> Any:
    """GELU x·Φ(x) (approximate="none") or its tanh approximation (approximate="tanh"), as in torch."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    if _is_tensor(x):
        return sys.modules["torch"].nn.functional.gelu(x, approximate=approximate)
    x = _as_array(x)
    if approximate == "tanh":
        return _scalar(0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))))
    return _scalar(x * special.ndtr(x))


def silu(x: Any) -> Any:
    """SiLU (Swish with β = 1), x·σ(x)."""
    if _is_tensor(x):
        return sys.modules["torch"].nn.functional.silu(x)
    x = _as_array(x)
    return _scalar(x * special.expit(x))


def algebraic_gelu(x: Any, b: float = 1.0) -> Any:
    """x·squareplus'(x): GELU's x·Φ(x) with Φ replaced by the CDF of sqrt(b/2)·T₂ (beyond the article)."""
    return x * squareplus_grad(x, b)


# --- Errors and the upper bound --------------------------------------------------------------------------------
_REFERENCES = ("softplus", "gelu", "relu")


def _check_beta(beta: Any, ref: str = "softplus") -> float:
    """Validate softplus's sharpness β (only the softplus reference has one)."""
    beta = _check_real(beta, "beta", positive=True)
    if beta != 1.0 and ref != "softplus":
        raise ValueError(f"beta applies to ref='softplus' only, got beta={beta} with ref={ref!r}")
    return beta


def approximation_error(x: Any, b: float = DEFAULT_B, ref: str = "softplus", beta: float = 1.0) -> Any:
    """The signed error squareplus_b(x) − ref(x) for ref in "softplus" (sharpness β), "gelu", "relu" (NumPy)."""
    b = _check_b(b)
    if ref not in _REFERENCES:
        raise ValueError(f"ref must be one of {_REFERENCES}, got {ref!r}")
    beta = _check_beta(beta, ref)
    x = _as_array(x)
    ax = np.abs(x)
    # sqp_b(x) − ReLU(x) = (sqrt(x² + b) − |x|)/2 = b / (2 (sqrt(x² + b) + |x|)): even in x, no cancellation.
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(ax + b > 0, 0.5 * b / (np.hypot(x, math.sqrt(b)) + ax), 0.0)
    if ref == "softplus":  # softplus_β(x) − relu(x) = log(1 + e^(−β|x|)) / β
        out = lift - np.log1p(np.exp(-beta * ax)) / beta
    elif ref == "gelu":    # relu(x) − gelu(x) = |x|·Φ(−|x|)
        out = lift + ax * special.ndtr(-ax)
    else:
        out = lift
    return _scalar(out)


def _grid(grid: Any) -> np.ndarray:
    """The x values searched by max_abs_error: the default half-line grid or a user's finite 1-d grid."""
    if grid is None:
        return np.linspace(0.0, _GRID_END, _GRID_POINTS)
    values = _as_array(grid, "grid")
    if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError("grid must be a finite 1-d array of at least 2 x values")
    return np.sort(values)


def max_abs_error(b: float, ref: str = "softplus", grid: Any = None, refine: bool = True,
                  beta: float = 1.0) -> float:
    """sup over x of |squareplus_b(x) − ref(x)|: grid maximum (default [0, 60/β]; errors are even), peaks polished."""
    b = _check_b(b)
    if not isinstance(refine, bool):
        raise TypeError(f"refine must be a bool, got {type(refine).__name__}")
    beta = _check_beta(beta, ref)
    xs = _grid(grid) / (beta if grid is None else 1.0)  # a sharper softplus has its features closer to 0
    err = np.abs(approximation_error(xs, b, ref, beta))
    best = float(err.max())
    if refine:
        from scipy.optimize import minimize_scalar

        # Polish every grid peak, not only the highest: near the minimax b two peaks are almost level, and the
        # grid's sampling error (~1e-9 here) would otherwise decide which one counts.
        padded = np.concatenate(([-np.inf], err, [-np.inf]))
        peaks = np.flatnonzero((padded[1:-1] >= padded[:-2]) & (padded[1:-1] >= padded[2:]))
        for i in peaks[np.argsort(err[peaks])[::-1][:8]]:
            lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, xs.size - 1)]
            res = minimize_scalar(lambda t: -abs(float(approximation_error(t, b, ref, beta))), bounds=(lo, hi),
                                  method="bounded", options={"xatol": 1e-12})
            best = max(best, -float(res.fun))
    return best


def error_shape(b: float, x_end: float = 40.0, points: int = 40_001) -> dict[str, Any]:
    """The shape of e_b on [0, x_end]: whether it is smallest at 0, its interior local maxima and minima, peak sign."""
    b = _check_b(b, allow_zero=False)
    x_end = _check_real(x_end, "x_end", positive=True)
    points = _check_int(points, "points", 3, 10_000_000)
    err = np.asarray(approximation_error(np.linspace(0.0, x_end, points), b))
    inner = err[1:-1]
    maxima = (inner > err[:-2]) & (inner >= err[2:])
    minima = (inner < err[:-2]) & (inner <= err[2:])
    return {"smallest at x = 0": bool(np.argmin(err) == 0), "interior maxima": int(maxima.sum()),
            "interior minima": int(minima.sum()), "peak positive": bool(maxima.any() and inner[maxima].max() > 0)}


def upper_bound_rhs(x: Any) -> Any:
    """4·log(1 + e^x)·log(1 + e^(−x)): squareplus_b ≥ softplus at x exactly when b is at least this."""
    return 4 * softplus(x) * softplus(-_as_array(x))


def upper_bound_threshold(beta: float = 1.0) -> float:
    """The least b with squareplus_b ≥ softplus_β everywhere: the maximum of upper_bound_rhs, at 0 (4·log²2 / β²)."""
    beta = _check_beta(beta)
    return float(upper_bound_rhs(0.0)) / beta**2


# --- The best uniform approximation of softplus ----------------------------------------------------------------
def _check_tol(tol: Any) -> float:
    tol = _check_real(tol, "tol")
    if not 0 < tol < 1e-3:
        raise ValueError(f"tol must be in (0, 1e-3), got {tol}")
    return tol


def _peak_location(b: float, tol: float, beta: float = 1.0) -> float:
    """The positive x where e_b'(x) = 0, i.e. x / sqrt(x² + b) = tanh(βx / 2) (0 < bβ² < 4)."""
    from scipy.optimize import brentq

    slope_gap = lambda x: x / math.hypot(x, math.sqrt(b)) - math.tanh(beta * x / 2)  # noqa: E731
    return brentq(slope_gap, 1e-3 / beta, _GRID_END / beta, xtol=tol, rtol=_EPS_RTOL)


def minimax_b(tol: float = 1e-13, beta: float = 1.0) -> tuple[float, float, float]:
    """The b minimising sup|squareplus_b − softplus_β|, by equioscillation: (b*, x*, max error)."""
    from scipy.optimize import brentq

    tol, beta = _check_tol(tol), _check_beta(beta)
    e = lambda x, b: float(approximation_error(x, b, beta=beta))  # noqa: E731

    # For b below the threshold the error is −(log 2 / β − sqrt(b)/2) at 0 and peaks positive at ±x*(b);
    # the optimum makes the two equal in size: e_b(x*(b)) + e_b(0) = 0.
    def balance(b: float) -> float:
        return e(_peak_location(b, tol, beta), b) + e(0.0, b)

    b_star = brentq(balance, 0.1 / beta**2, upper_bound_threshold(beta), xtol=tol / beta**2, rtol=_EPS_RTOL)
    x_star = _peak_location(b_star, tol, beta)
    return b_star, x_star, e(x_star, b_star)


def minimax_b_article(lo: float = -2.0, hi: float = 4.0, step: float = 1e-4) -> tuple[float, float]:
    """The article's recipe: Powell on a with b = a², max error over the grid arange(lo, hi, step); (b, error)."""
    from scipy.optimize import minimize

    lo, hi, step = _check_real(lo, "lo"), _check_real(hi, "hi"), _check_real(step, "step")
    if not hi > lo:
        raise ValueError(f"hi must exceed lo, got lo={lo}, hi={hi}")
    if not 0 < step <= (hi - lo) / 10:
        raise ValueError(f"step must be positive and at most (hi - lo)/10, got {step}")
    xs = np.arange(lo, hi, step)
    sp_xs = np.logaddexp(0.0, xs)

    def worst(a: np.ndarray) -> float:
        return float(np.max(np.abs(0.5 * (xs + np.sqrt(xs * xs + a[0] ** 2)) - sp_xs)))

    res = minimize(worst, [1.0], method="Powell", options={"xtol": 1e-10, "ftol": 1e-10, "maxiter": 100_000})
    return float(res.x[0] ** 2), float(res.fun)


def minimax_b_direct(bounds: tuple[float, float] = (0.5, 3.0), tol: float = 1e-12) -> tuple[float, float]:
    """A second method: golden-section minimisation of the accurate max_abs_error(b) after a coarse scan; (b, error)."""
    from scipy.optimize import minimize_scalar

    if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence) or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair (low, high), got {bounds!r}")
    lo, hi = _check_b(bounds[0]), _check_b(bounds[1])
    if not hi > lo:
        raise ValueError(f"bounds must be increasing, got {bounds}")
    tol = _check_tol(tol)
    # The maximum error is unimodal in b with a kink at the optimum; a scan finds a bracketing triple, and golden
    # section (which, unlike scipy's bounded Brent, has no sqrt(eps) floor on its tolerance) closes in on the kink.
    scan = np.linspace(lo, hi, 9)
    i = int(np.argmin([max_abs_error(b) for b in scan]))
    if i in (0, scan.size - 1):
        raise ValueError(f"bounds {bounds} do not bracket the minimum of the maximum error")
    res = minimize_scalar(max_abs_error, bracket=tuple(scan[i - 1:i + 2]), method="golden", tol=tol)
    return float(res.x), float(res.fun)


# --- GELU -------------------------------------------------------------------------------------------------------
def relu_gelu_gap() -> tuple[float, float]:
    """Where and how much ReLU exceeds GELU most: max over x > 0 of x·Φ(−x), as (x, gap)."""
    from scipy.optimize import brentq

    # d/dx [x Φ(−x)] = Φ(−x) − x φ(x) changes sign once on (0, ∞)
    x = brentq(lambda t: special.ndtr(-t) - t * math.exp(-t * t / 2) / math.sqrt(2 * math.pi), 0.1, 3.0,
               xtol=1e-15, rtol=_EPS_RTOL)
    return x, x * float(special.ndtr(-x))


def algebraic_gelu_fit(bounds: tuple[float, float] = (0.05, 10.0)) -> tuple[float, float]:
    """The b minimising sup|algebraic_gelu(x, b) − gelu(x)| and that error (beyond the article)."""
    from scipy.optimize import minimize_scalar

    lo, hi = _check_b(bounds[0], allow_zero=False), _check_b(bounds[1], allow_zero=False)
    xs = np.linspace(0.0, _GRID_END, _GRID_POINTS)  # x·(T(x) − Φ(x)) is even too
    target = gelu(xs)

    def worst(b: float) -> float:
        return float(np.max(np.abs(algebraic_gelu(xs, b) - target)))

    res = minimize_scalar(worst, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    return float(res.x), float(res.fun)


# --- SymPy derivations -----------------------------------------------------------------------------------------
def _symbols() -> tuple[Any, Any]:
    import sympy as sp

    return sp.Symbol("x", real=True), sp.Symbol("b", positive=True)


def sym_derivatives() -> tuple[Any, Any, Any]:
    """SymPy's squareplus(x, b) and its first and second x-derivatives, simplified (symbols x real, b > 0)."""
    import sympy as sp

    x, b = _symbols()
    f = (x + sp.sqrt(x**2 + b)) / 2
    return f, sp.simplify(sp.diff(f, x)), sp.simplify(sp.diff(f, x, 2))


def sym_identities() -> dict[str, Any]:
    """The chapter's identities as SymPy differences (computed − claimed), each 0 when the claim holds."""
    import sympy as sp
    from sympy.stats import StudentT, cdf, density

    x, b = _symbols()
    f, d1, d2 = sym_derivatives()
    r = sp.sqrt(x**2 + b)
    sp_x = sp.log(1 + sp.exp(x))
    t2 = StudentT("T", 2)
    scale = sp.sqrt(b / 2)
    phi = sp.log(sp_x)
    phi2_claim = sp.exp(x) * (sp_x - sp.exp(x)) / ((1 + sp.exp(x)) ** 2 * sp_x**2)
    return {
        "sqp' = (1 + x/√(x²+b))/2": d1 - (1 + x / r) / 2,
        "sqp'' = b/(2(x²+b)^(3/2))": d2 - b / (2 * r**3),
        "sqp' = sqp/√(x²+b)": d1 - f / r,
        "sqp − ReLU = (√(x²+b) − |x|)/2": f - sp.Max(x, 0) - (r - sp.Abs(x)) / 2,
        "sqp'' = density of √(b/2)·T₂": d2 - density(t2)(x / scale) / scale,
        "sqp' = CDF of √(b/2)·T₂": d1 - cdf(t2)(x / scale),
        "sp'' = logistic density": sp.diff(sp_x, x, 2) - sp.exp(x) / (1 + sp.exp(x)) ** 2,
        "log(1+eˣ) − x = log(1+e⁻ˣ)": sp_x - x - sp.log(1 + sp.exp(-x)),
        "φ'' formula, φ = log log(1+eˣ)": sp.diff(phi, x, 2) - phi2_claim,
    }


def sym_is_zero(expr: Any) -> bool:
    """Whether SymPy simplifies ``expr`` to exactly 0 (rewriting Max/Abs for real x first)."""
    import sympy as sp

    x, _ = _symbols()
    if expr.has(sp.Max, sp.Abs):  # split into x ≥ 0 and x < 0, where Max and Abs are polynomials
        pos, neg = sp.Symbol("p", positive=True), sp.Symbol("n", negative=True)
        return all(sym_is_zero(expr.subs(x, s).rewrite(sp.Piecewise)) for s in (pos, neg, sp.S.Zero))
    return sp.simplify(sp.hyperexpand(expr)) == 0


def sym_special_b() -> dict[str, Any]:
    """Values of b solved by SymPy: matching softplus's value at 0, and its curvature at 0."""
    import sympy as sp

    x, b = _symbols()
    f, _, d2 = sym_derivatives()
    sp_x = sp.log(1 + sp.exp(x))
    (value,) = sp.solve(sp.Eq(f.subs(x, 0), sp_x.subs(x, 0)), b)
    (curvature,) = sp.solve(sp.Eq(d2.subs(x, 0), sp.diff(sp_x, x, 2).subs(x, 0)), b)
    return {"value at 0": sp.simplify(value), "curvature at 0": sp.simplify(curvature)}


def sym_upper_bound() -> dict[str, Any]:
    """SymPy's steps for the upper bound: the right side of b ≥ ..., its evenness, slope at 0 and value at 0."""
    import sympy as sp

    x, b = _symbols()
    f, _, _ = sym_derivatives()
    sp_x = sp.log(1 + sp.exp(x))
    # f ≥ sp  ⟺  sqrt(x²+b) ≥ 2 sp − x  ⟺  (both sides > 0)  b ≥ (2 sp − x)² − x² = 4 sp (sp − x)
    rhs = sp.factor(sp.expand((2 * sp_x - x) ** 2 - x**2))
    return {
        "rhs": rhs,
        "rhs(x) − rhs(−x)": sp.simplify(rhs - rhs.subs(x, -x)),
        "rhs'(0)": sp.simplify(sp.diff(rhs, x).subs(x, 0)),
        "threshold": sp.simplify(rhs.subs(x, 0)),
    }


# --- Timing -------------------------------------------------------------------------------------------------------
def torch_activations(b: float = DEFAULT_B) -> dict[str, Callable]:
    """The compared activations as PyTorch functions, as one writes them (squareplus in its textbook form)."""
    b = _check_b(b, allow_zero=False)
    import torch
    import torch.nn.functional as F

    # One Python function each (not the bare builtins): torch.compile caches compiled code per code object, and
    # wrapped builtins all share one wrapper, which would soon hit its recompilation limit and fall back to eager.
    def relu_(x: Any) -> Any:
        return torch.relu(x)

    def softplus_(x: Any) -> Any:
        return F.softplus(x)

    def gelu_erf(x: Any) -> Any:
        return F.gelu(x)

    def gelu_tanh(x: Any) -> Any:
        return F.gelu(x, approximate="tanh")

    def silu_(x: Any) -> Any:
        return F.silu(x)

    def squareplus_eager(x: Any) -> Any:
        return (x + torch.sqrt(x * x + b)) * 0.5

    return dict(zip(ACTIVATIONS, (relu_, softplus_, gelu_erf, gelu_tanh, silu_, squareplus_eager)))


def numpy_activations(b: float = DEFAULT_B) -> dict[str, Callable]:
    """The compared activations as NumPy/SciPy functions (one array in, one array out)."""
    b = _check_b(b, allow_zero=False)
    c = math.sqrt(2 / math.pi)
    return {
        "ReLU": lambda x: np.maximum(x, 0),
        "softplus": lambda x: np.logaddexp(0, x),
        "GELU (erf)": lambda x: x * special.ndtr(x),
        "GELU (tanh)": lambda x: 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3))),
        "SiLU": lambda x: x * special.expit(x),
        "squareplus": lambda x: (x + np.sqrt(x * x + b)) * 0.5,
    }


def numpy_gradients(b: float = DEFAULT_B) -> dict[str, Callable]:
    """Hand-written backward passes g·f'(x) for numpy_activations (NumPy has no autograd)."""
    b = _check_b(b, allow_zero=False)
    c = math.sqrt(2 / math.pi)
    inv_sqrt_2pi = 1 / math.sqrt(2 * math.pi)

    def gelu_tanh_grad(x: np.ndarray, g: np.ndarray) -> np.ndarray:
        t = np.tanh(c * (x + 0.044715 * x**3))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x))

    def silu_grad(x: np.ndarray, g: np.ndarray) -> np.ndarray:
        s = special.expit(x)
        return g * s * (1 + x * (1 - s))

    return {
        "ReLU": lambda x, g: g * (x > 0),
        "softplus": lambda x, g: g * special.expit(x),
        "GELU (erf)": lambda x, g: g * (special.ndtr(x) + x * np.exp(-0.5 * x * x) * inv_sqrt_2pi),
        "GELU (tanh)": gelu_tanh_grad,
        "SiLU": silu_grad,
        "squareplus": lambda x, g: g * 0.5 * (1 + x / np.sqrt(x * x + b)),
    }


_BACKENDS = ("torch", "numpy")
_MODES = ("forward", "forward+backward")


def _timed_calls(call: Callable[[], Any], number: int) -> float:
    """Seconds per call of ``call`` over ``number`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def _calibrate(call: Callable[[], Any], min_time: float) -> int:
    """The number of calls that takes at least ``min_time`` seconds (doubling, as timeit does)."""
    number = 1
    while True:
        if _timed_calls(call, number) * number >= min_time or number >= 2**16:
            return number
        number *= 2


def _make_calls(backend: str, mode: str, n: int, seed: int, dtype: str, compiled: bool, b: float,
                names: Sequence[str]) -> dict[str, Callable[[], Any]]:
    """Zero-argument closures that run one forward (and backward) pass of each activation on seeded inputs."""
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal(n, dtype=np.float32).astype(dtype)
    g_np = rng.standard_normal(n, dtype=np.float32).astype(dtype)
    if backend == "numpy":
        fwd, bwd = numpy_activations(b), numpy_gradients(b)
        if mode == "forward":
            return {k: (lambda f=fwd[k]: f(x_np)) for k in names}
        return {k: (lambda f=fwd[k], d=bwd[k]: (f(x_np), d(x_np, g_np))) for k in names}

    import torch

    fns = torch_activations(b)
    if compiled:  # the baseline stays eager: see time_activations
        fns = {k: f if k == ACTIVATIONS[0] else torch.compile(f, dynamic=False) for k, f in fns.items()}
    x, g = torch.from_numpy(x_np), torch.from_numpy(g_np)
    if mode == "forward":
        def forward(f: Callable) -> Callable[[], Any]:
            def call() -> Any:
                with torch.no_grad():
                    return f(x)
            return call

        return {k: forward(fns[k]) for k in names}
    xg = x.clone().requires_grad_(True)

    def both(f: Callable) -> Callable[[], Any]:
        return lambda: torch.autograd.grad(f(xg), xg, g)

    return {k: both(fns[k]) for k in names}


def time_activations(n: int = 2**18, rounds: int = 7, threads: int = 1, backend: str = "torch",
                     mode: str = "forward", compiled: bool = False, b: float = DEFAULT_B, seed: int = 0,
                     dtype: str = "float32", min_time: float = 1e-3, repeat: int = 3,
                     names: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """Interleaved, repeated timing of activations on n seeded inputs; per name: median time and ratios to ReLU.

    Every round times every activation, in a rotated order: ``repeat`` blocks of ``number`` back-to-back calls
    (calibrated to last ``min_time``), of which the fastest counts, as in ``timeit`` (a block that another process
    interrupted is slower, never faster). A ratio compares two timings from the same round, which cancels most of a
    shared machine's drift.
    Per name the result has ``seconds`` (median per call), ``ratio`` (median ratio to ReLU), ``ratio_q1``/``ratio_q3``
    (quartiles over rounds), ``first_call_seconds`` (includes compilation) and the raw ``times``. With
    ``compiled=True`` every activation but the ReLU baseline goes through ``torch.compile``: ReLU is already one
    kernel, and inductor's compiled ReLU backward (which stores a boolean mask) is slow on some CPUs.
    """
    n = _check_int(n, "n", 16)
    rounds = _check_int(rounds, "rounds", 1)
    threads = _check_int(threads, "threads", 1)
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if not isinstance(compiled, bool):
        raise TypeError(f"compiled must be a bool, got {type(compiled).__name__}")
    if compiled and backend != "torch":
        raise ValueError("compiled=True needs backend='torch'")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    min_time = _check_real(min_time, "min_time")
    if not 0 < min_time <= 1:
        raise ValueError(f"min_time must be in (0, 1] seconds, got {min_time}")
    repeat = _check_int(repeat, "repeat", 1)
    names = list(ACTIVATIONS if names is None else names)
    unknown = [k for k in names if k not in ACTIVATIONS]
    if unknown or ACTIVATIONS[0] not in names:
        raise ValueError(f"names must be activations from {ACTIVATIONS} including 'ReLU', got {names}")
    seed = _check_int(seed, "seed", 0)

    previous = None
    if backend == "torch":
        import torch

        from kexue.runtime import set_threads

        previous = torch.get_num_threads()
        set_threads(threads)
    try:
        calls = _make_calls(backend, mode, n, seed, dtype, compiled, _check_b(b, allow_zero=False), names)
        first_call = {}
        for k, call in calls.items():  # warm up (and, when compiled, compile) before anything is timed
            start = time.perf_counter()
            call()
            first_call[k] = time.perf_counter() - start
        numbers_ = {k: _calibrate(call, min_time) for k, call in calls.items()}
        times: dict[str, list[float]] = {k: [] for k in names}
        for r in range(rounds):  # interleave: every round times every activation, in a rotated order
            order = names[r % len(names):] + names[:r % len(names)]
            for k in order:
                times[k].append(min(_timed_calls(calls[k], numbers_[k]) for _ in range(repeat)))
    finally:
        if previous is not None:
            sys.modules["torch"].set_num_threads(previous)
    out: dict[str, dict[str, Any]] = {}
    for k in names:
        ratios = [t / t0 for t, t0 in zip(times[k], times[ACTIVATIONS[0]])]
        q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive") if rounds > 1 else (ratios[0],) * 3
        out[k] = {"seconds": statistics.median(times[k]), "ratio": statistics.median(ratios),
                  "ratio_q1": q1, "ratio_q3": q3, "first_call_seconds": first_call[k], "times": times[k]}
    return out


def ratio_between(result: dict[str, dict[str, Any]], a: str, b: str) -> float:
    """Median over rounds of time(a) / time(b) in a time_activations result (same-round pairs)."""
    for name in (a, b):
        if name not in result:
            raise ValueError(f"{name!r} is not in the result; it has {sorted(result)}")
    return statistics.median(ta / tb for ta, tb in zip(result[a]["times"], result[b]["times"]))


_NO_MEMORY_OPS = {"detach", "alias", "view", "_unsafe_view", "t", "expand", "lift_fresh"}


def eager_kernel_counts(b: float = DEFAULT_B, n: int = 4096) -> dict[str, dict[str, int]]:
    """Per activation, the ATen kernels eager PyTorch runs and the full-length arrays they read or write (passes)."""
    b = _check_b(b, allow_zero=False)
    n = _check_int(n, "n", 16)
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class Tally(TorchDispatchMode):
        """Counts the kernels dispatched inside it and the length-n tensors each one reads or writes."""

        def __init__(self) -> None:
            super().__init__()
            self.kernels = 0
            self.passes = 0

        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            if func.overloadpacket.__name__ not in _NO_MEMORY_OPS:
                tensors = [t for t in tree_flatten((args, kwargs, out))[0] if isinstance(t, torch.Tensor)]
                self.kernels += 1
                self.passes += sum(t.numel() == n for t in tensors)
            return out

    x = torch.from_numpy(np.random.default_rng(0).standard_normal(n, dtype=np.float32))
    g = torch.ones_like(x)
    counts = {}
    for name, f in torch_activations(b).items():
        with torch.no_grad(), Tally() as forward:
            f(x)
        xg = x.clone().requires_grad_(True)
        y = f(xg)
        with Tally() as backward:
            torch.autograd.grad(y, xg, g)
        counts[name] = {"forward kernels": forward.kernels, "forward passes": forward.passes,
                        "backward kernels": backward.kernels, "backward passes": backward.passes}
    return counts


_BENCH_LABELS = {"torch eager": "eager", "torch compiled": "compiled", "numpy": "NumPy"}
_MODE_LABELS = {"forward": "fwd", "forward+backward": "fwd+bwd"}
RATIO_ROW = "squareplus / softplus"
"""The benchmark file's row that divides squareplus's time by softplus's, round by round."""


def read_benchmark(path: Any) -> Any:
    """The benchmark's numbers (benchmarks/activations.csv) as a pandas DataFrame, or None if the file is missing."""
    import pandas as pd
    from pathlib import Path

    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    return pd.read_csv(path) if path.exists() else None


def _bench_slice(bench: Any, n: int | None) -> Any:
    """The rows of one array size (the smallest by default), indexed by (backend, mode, activation)."""
    required = {"backend", "mode", "n", "activation", "ratio", "measured"}
    if not hasattr(bench, "columns") or not required <= set(bench.columns):
        raise ValueError(f"bench must be a DataFrame with columns {sorted(required)}")
    n = int(bench["n"].min()) if n is None else _check_int(n, "n", 1)
    rows = bench[bench["n"] == n]
    if rows.empty:
        raise ValueError(f"n = {n} was not measured; the file has n in {sorted(set(bench['n']))}")
    return rows


def benchmark_table(bench: Any, n: int | None = None) -> Any:
    """Ratios to ReLU for one array size: activations as rows, 'backend mode' columns in measurement order."""
    rows = _bench_slice(bench, n)
    columns = list(dict.fromkeys(zip(rows["backend"], rows["mode"])))
    table = rows.pivot_table(index="activation", columns=["backend", "mode"], values="ratio", sort=False)
    table = table[columns]
    table.columns = [f"{_BENCH_LABELS.get(b, b)} {_MODE_LABELS.get(m, m)}" for b, m in columns]
    return table.rename_axis(index=None, columns=None)


def benchmark_facts(bench: Any, n: int | None = None) -> dict[str, str]:
    """The benchmark numbers chapter 02 quotes, as formatted strings ('n/a' when missing or not measured)."""
    wanted = {
        "bench_eager_fwd_vs_sp": ("torch eager", "forward", RATIO_ROW),
        "bench_eager_fb_vs_sp": ("torch eager", "forward+backward", RATIO_ROW),
        "bench_comp_fwd_sqp": ("torch compiled", "forward", "squareplus"),
        "bench_comp_fb_sqp": ("torch compiled", "forward+backward", "squareplus"),
        "bench_comp_fwd_vs_sp": ("torch compiled", "forward", RATIO_ROW),
        "bench_comp_fb_vs_sp": ("torch compiled", "forward+backward", RATIO_ROW),
        "bench_numpy_fwd_sqp": ("numpy", "forward", "squareplus"),
        "bench_numpy_fwd_vs_sp": ("numpy", "forward", RATIO_ROW),
    }
    facts = {"bench_date": "never (the file is missing)", "bench_n": "n/a"} | dict.fromkeys(wanted, "n/a")
    facts |= dict.fromkeys(("bench_eager_fwd_vs_gelu", "bench_eager_fb_vs_gelu", "bench_eager_beat_sqp",
                            "bench_order_fwd", "bench_order_fb"), "n/a")
    if bench is None:
        return facts
    rows = _bench_slice(bench, n)
    ratio = rows.set_index(["backend", "mode", "activation"])["ratio"].sort_index()
    facts["bench_date"] = str(rows["measured"].iloc[0])
    facts["bench_n"] = f"2^{int(rows['n'].iloc[0]).bit_length() - 1}"
    for key, where in wanted.items():
        if where in ratio.index:
            facts[key] = f"{float(ratio[where]):.2f}"
    eager = [ratio.loc[("torch eager", m)] for m in _MODES if ("torch eager", m) in ratio.index.droplevel(2)]
    if len(eager) == len(_MODES) and all("squareplus" in e.index for e in eager):
        # the smooth activations faster than squareplus in both eager columns, in table order
        faster = [a for a in ACTIVATIONS[1:-1] if all(a in e.index and e[a] < e["squareplus"] for e in eager)]
        facts["bench_eager_beat_sqp"] = " and ".join(faster) if faster else "none of the others"
    for mode, key in (("forward", "bench_eager_fwd_vs_gelu"), ("forward+backward", "bench_eager_fb_vs_gelu")):
        where = [("torch eager", mode, name) for name in ("squareplus", "GELU (erf)")]
        if all(w in ratio.index for w in where):  # ratio of the two medians (the file has no per-round pairs)
            facts[key] = f"{float(ratio[where[0]]) / float(ratio[where[1]]):.2f}"
    for mode, key in (("forward", "bench_order_fwd"), ("forward+backward", "bench_order_fb")):
        if ("torch eager", mode) in ratio.index.droplevel(2):
            eager = ratio.loc[("torch eager", mode)].drop(RATIO_ROW, errors="ignore")
            facts[key] = " < ".join(eager.sort_values().index)
    return facts


# --- Figures -----------------------------------------------------------------------------------------------------
def draw_explorer(b: float, fig: Figure | None = None) -> Figure:
    """The explorer's figure for one b: ReLU, softplus and squareplus above, the error e_b(x) on [−8, 8] below."""
    b = _check_b(b)
    import matplotlib.pyplot as plt

    from kexue.plotting import PALETTE

    if fig is None:
        fig = plt.figure(figsize=(7.5, 6))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    xs = np.linspace(-8, 8, 801)
    top.plot(xs, relu(xs), color=PALETTE["black"], lw=1, label="ReLU")
    top.plot(xs, softplus(xs), color=PALETTE["blue"], lw=2, label="softplus")
    top.plot(xs, squareplus(xs, b), color=PALETTE["vermillion"], lw=2, ls="--", label=f"squareplus, b = {b:.3g}")
    top.set(ylabel="activation", ylim=(-0.5, 4), xlim=(-8, 8),
            title=f"squareplus with b = {b:.3g}: sup |error| = {max_abs_error(b):.4f}")
    top.legend(loc="upper left")
    err = approximation_error(xs, b)
    bottom.plot(xs, err, color=PALETTE["vermillion"], lw=2, label="e_b(x) = squareplus − softplus")
    b_star, x_star, e_star = minimax_b()
    bottom.axhline(0, color="grey", lw=0.8)
    for level in (e_star, -e_star):
        bottom.axhline(level, color=PALETTE["green"], lw=1, ls=":")
    bottom.plot([-x_star, 0, x_star], [e_star, -e_star, e_star], "o", color=PALETTE["green"],
                label=f"±{e_star:.4f}: the minimax level (b* = {b_star:.4f})")
    bottom.set(xlabel="x", ylabel="error", ylim=(-0.45, 0.35))
    bottom.legend(loc="lower left", fontsize="small")
    return fig

"""HiPPO memories: Legendre (LegT, LegS) and Fourier (FouT, FouS) state-space systems, their discretisations, exact
projections to test them against, and the O(N) structure of the LegS matrix.

Chapter source: Su Jianlin (苏剑林), 《重温SSM(二):HiPPO的一些遗留问题》
("Revisiting SSMs (II): some loose ends of HiPPO"), Scientific Spaces, 2024-06-05,
https://kexue.fm/archives/10137, which builds on 《重温SSM(一):线性系统和HiPPO矩阵》, 2024-05-24,
https://kexue.fm/archives/10114.

Conventions used throughout:

* ``N`` is the number of Legendre coefficients (degrees 0 .. N-1). The Fourier systems use the frequencies
  ``-N .. N`` (2N+1 complex coefficients), in that order, so the mean ``c_0`` sits in the middle.
* The basis is ``g_n(s) = sqrt((2n+1)/2) P_n(s)``, orthonormal on [-1, 1]. The history to remember is mapped onto
  [-1, 1]: the window [T-w, T] for LegT, the whole of [0, T] for LegS.
* ``norm`` picks a diagonal rescaling ``c_n = lam_n c~_n`` of the coefficients (``A~ = diag(1/lam) A diag(lam)``,
  ``B~ = B / lam``). ``"su"``: ``lam_n = 1`` (the article's orthonormal coefficients, ``B_n = sqrt(2(2n+1))``);
  ``"paper"``: ``lam_n = sqrt(2)`` (the HiPPO paper and its code, ``B_n = sqrt(2n+1)``); ``"lmu"`` (LegT) and
  ``"scaled"`` (LegS): ``lam_n = sqrt(2/(2n+1))`` (integer matrices, ``B_n = 2n+1``; for LegT the Legendre Memory
  Unit's form up to the signs ``diag((-1)^n)``).
* A sequence ``u_0, u_1, ...`` is read as the piecewise-constant input ``u(t) = u_k`` on ``[k eps, (k+1) eps)``;
  it is zero before ``t = 0``.

SymPy is not imported here; the symbolic derivations live in :mod:`kexue.hippo_symbolic`.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from kexue import runtime, validate
from kexue.validate import choice as _check_choice
from kexue.validate import real as _check_real

if TYPE_CHECKING:
    import sympy
    from matplotlib.axes import Axes

__all__ = [
    "LEGS_METHODS", "LEGS_NORMS", "LEGT_NORMS", "LTI_METHODS", "MemoryRun", "affine_scan", "discretize", "error_table",
    "fourier_project", "fourier_reconstruct", "fourier_scaled_matrices", "fourier_window_matrices", "httyh_kernel",
    "impulse_response", "legendre", "legendre_orthonormal", "legs_first_state", "legs_from_projection",
    "legs_impulse_memory", "legs_matrices", "legs_matvec", "legs_solve", "legs_step", "legt_eigenvalues",
    "legt_euler_threshold", "legt_from_projection", "legt_matrices", "lmu_matrices", "loglog_slope",
    "memory_figure", "memory_run", "midpoint_samples", "norm_scale", "plot_memory", "plot_scaling", "project_history",
    "project_window", "reconstruct",
    "reconstruction_error", "relative_error", "rescale", "run_grid", "run_legs", "run_lti",
    "sawtooth_partial_sum", "scaling_timings", "step_errors", "test_signal", "time_per_call",
]

LegTNorm = Literal["su", "paper", "lmu"]
LegSNorm = Literal["su", "paper", "scaled"]
LTIMethod = Literal["forward", "backward", "bilinear", "zoh", "alpha"]
LegSMethod = Literal["zoh", "bilinear-log", "bilinear", "bilinear-same-t", "forward", "backward"]

LEGT_NORMS: tuple[str, ...] = ("su", "paper", "lmu")
LEGS_NORMS: tuple[str, ...] = ("su", "paper", "scaled")
LTI_METHODS: tuple[str, ...] = ("forward", "backward", "bilinear", "zoh", "alpha")
"""Discretisations of a time-invariant x' = Ax + Bu over one step of a piecewise-constant input."""
LEGS_METHODS: tuple[str, ...] = ("zoh", "bilinear-log", "bilinear", "bilinear-same-t", "forward", "backward")
"""Recurrences for LegS, t x' = Ax + Bu, at t = k eps (none of them involves eps):

* ``"zoh"``: exact; LegS is LegT in the log-time ln t, so x_{k+1} = e^{hA} x_k + A^{-1}(e^{hA} - I) B u_k with
  h = ln((k+1)/k);
* ``"bilinear"``: the article's trapezoid rule on x(s)/s with input integral 1/k,
  x_{k+1} = (I - A/(2(k+1)))^{-1} [(I + A/(2k)) x_k + B u_k / k];
* ``"bilinear-log"``: the same with the exact input integral ln((k+1)/k) in place of 1/k;
* ``"bilinear-same-t"``: the HiPPO code's bilinear rule with t = k in both halves,
  (I - A/(2k))^{-1} [(I + A/(2k)) x_k + B u_k / k];
* ``"forward"``: x_{k+1} = (I + A/k) x_k + B u_k / k;
* ``"backward"``: x_{k+1} = (I - A/(k+1))^{-1} (x_k + B u_k / (k+1)).
"""

MAX_N = 1 << 22  # sizes above this are not a classroom computation (and the dense builders refuse far earlier)
MAX_DENSE_N = 8192  # an 8192 x 8192 float64 matrix is 512 MiB
# The recurrences here make thousands of tiny matrix-vector products and small batched exponentials: they run with
# one BLAS thread (runtime.one_blas_thread), since more threads only add synchronisation and, on a busy machine,
# made the chapter several times slower.


# ------------------------------------------------------------------------------------------------ input checks
def _check_int(value: Any, name: str, low: int = 1, high: int = MAX_N) -> int:
    """``value`` as an int in [low, high], or a TypeError/ValueError naming ``name``."""
    return validate.integer(value, name, low, high)


def _as_system(A: ArrayLike, B: ArrayLike, names: tuple[str, str] = ("A", "B")) -> tuple[np.ndarray, np.ndarray]:
    """A square matrix A (N, N) and an input vector B of length N ((N,) or (N, 1)), as arrays."""
    a_name, b_name = names
    A = validate.matrix(A, a_name, kind="complex", square=True)
    B = validate.array(B, b_name, min_ndim=1, kind="complex")
    if B.ndim == 2 and B.shape[1] == 1:
        B = B[:, 0]
    if B.shape != (A.shape[0],):
        raise ValueError(f"{b_name} must have shape ({A.shape[0]},) to match {a_name}, got {B.shape}")
    return A, B


# ------------------------------------------------------------------------------------------------ Legendre basis
def legendre(N: int, s: ArrayLike) -> np.ndarray:
    """Legendre polynomials P_0 .. P_{N-1} at the points ``s``: an array of shape (len(s), N)."""
    N = _check_int(N, "N")
    s = validate.vector(s, "s", scalar=True, dtype=np.float64)
    P = np.empty((s.size, N))
    P[:, 0] = 1.0
    if N > 1:
        P[:, 1] = s
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(1, N - 1):  # Bonnet: (n+1) P_{n+1} = (2n+1) s P_n - n P_{n-1}
            P[:, n + 1] = ((2 * n + 1) * s * P[:, n] - n * P[:, n - 1]) / (n + 1)
    return validate.finite(P, "s", "P_n(s)")


def legendre_orthonormal(N: int, s: ArrayLike) -> np.ndarray:
    """The orthonormal basis g_n(s) = sqrt((2n+1)/2) P_n(s), n < N, at the points ``s``: shape (len(s), N)."""
    N = _check_int(N, "N")
    return legendre(N, s) * np.sqrt((2 * np.arange(N) + 1) / 2)


def _legendre_antiderivative(N: int, s: np.ndarray) -> np.ndarray:
    """Antiderivatives of g_0 .. g_{N-1} at ``s`` (shape (len(s), N)), from (2n+1) P_n = P'_{n+1} - P'_{n-1}."""
    P = legendre(N + 1, s)
    G = np.empty((s.size, N))
    G[:, 0] = s
    if N > 1:
        n = np.arange(1, N)
        G[:, 1:] = (P[:, 2:N + 1] - P[:, 0:N - 1]) / (2 * n + 1)
    return G * np.sqrt((2 * np.arange(N) + 1) / 2)


# ------------------------------------------------------------------------------------------------ the matrices
def norm_scale(N: int, norm: str) -> np.ndarray:
    """The factors lam_n with c_n(su) = lam_n c_n(norm), for every normalisation of LegT or LegS."""
    N = _check_int(N, "N")
    norm = _check_choice(norm, "norm", ("su", "paper", "lmu", "scaled"))
    n = np.arange(N)
    if norm == "su":
        return np.ones(N)
    if norm == "paper":
        return np.full(N, np.sqrt(2.0))
    return np.sqrt(2.0 / (2 * n + 1))


def rescale(A: ArrayLike, B: ArrayLike, lam: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The system of the rescaled state c~ = c / lam: A~ = diag(1/lam) A diag(lam), B~ = B / lam."""
    A, B = _as_system(A, B)
    lam = validate.vector(lam, "lam", kind="complex", scalar=True)
    if lam.shape != B.shape:
        raise ValueError(f"lam must have length {B.size}, got {lam.size}")
    if np.any(lam == 0):
        raise ValueError("lam must have no zero entries")
    return A * lam[None, :] / lam[:, None], B / lam


def legt_matrices(N: int, w: float = 1.0, norm: LegTNorm = "su") -> tuple[np.ndarray, np.ndarray]:
    """HiPPO-LegT (sliding window of width w): A (N, N) and B (N,) of x' = Ax + Bu, in normalisation ``norm``."""
    N = _check_int(N, "N", high=MAX_DENSE_N)
    w = _check_real(w, "w", positive=True)
    norm = _check_choice(norm, "norm", LEGT_NORMS)
    n = np.arange(N)
    r = np.sqrt(2 * n + 1)
    sign = np.where(n[None, :] < n[:, None], 1.0, (-1.0) ** np.abs(n[:, None] - n[None, :]))
    A = -sign * np.outer(r, r) / w
    B = np.sqrt(2.0) * r / w
    return rescale(A, B, norm_scale(N, norm)) if norm != "su" else (A, B)


def lmu_matrices(N: int, theta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The Legendre Memory Unit's (A, B) as Voelker et al. (2019) write them, for a window theta."""
    N = _check_int(N, "N", high=MAX_DENSE_N)
    theta = _check_real(theta, "theta", positive=True)
    i, j = np.meshgrid(np.arange(N), np.arange(N), indexing="ij")
    A = (2 * i + 1) / theta * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    B = (2 * np.arange(N) + 1) * (-1.0) ** np.arange(N) / theta
    return A, B


def legs_matrices(N: int, norm: LegSNorm = "su") -> tuple[np.ndarray, np.ndarray]:
    """HiPPO-LegS (the whole history): A (N, N) and B (N,) of t x' = Ax + Bu, in normalisation ``norm``."""
    N = _check_int(N, "N", high=MAX_DENSE_N)
    norm = _check_choice(norm, "norm", LEGS_NORMS)
    n = np.arange(N)
    r = np.sqrt(2 * n + 1)
    A = -np.tril(np.outer(r, r), -1) - np.diag(n + 1.0)
    B = np.sqrt(2.0) * r
    return rescale(A, B, norm_scale(N, norm)) if norm != "su" else (A, B)


def fourier_window_matrices(N: int, w: float = 1.0, closure: str = "hippo") -> tuple[np.ndarray, np.ndarray]:
    """FouT (a window of width w, Fourier basis e^{2i pi n s}, n = -N..N): complex A (2N+1, 2N+1) and B.

    ``closure="hippo"`` approximates the forgotten value u(T - w) by the truncated series (Part I, the HiPPO paper);
    ``closure="s4"`` doubles the rank-one term and B, the Fourier closure of the S4 repository ("How to Train Your
    HiPPO"), which reads the series' value at the window edge as the average of both ends.
    """
    N = _check_int(N, "N", low=0, high=MAX_DENSE_N // 2)
    w = _check_real(w, "w", positive=True)
    if closure not in ("hippo", "s4"):
        raise ValueError(f"closure must be 'hippo' or 's4', got {closure!r}")
    scale = 2.0 if closure == "s4" else 1.0
    n = np.arange(-N, N + 1)
    A = -scale * np.ones((n.size, n.size), dtype=complex) / w + np.diag(2j * np.pi * n) / w
    return A, scale * np.ones(n.size, dtype=complex) / w


def fourier_scaled_matrices(N: int) -> tuple[np.ndarray, np.ndarray]:
    """FouS (the whole history, Fourier basis, n = -N..N): complex A (2N+1, 2N+1) and B of t x' = Ax + Bu."""
    N = _check_int(N, "N", low=0, high=MAX_DENSE_N // 2)
    n = np.arange(-N, N + 1)
    diff = n[:, None] - n[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        A = np.where(diff == 0, 0.0, -n[:, None] / np.where(diff == 0, 1, diff)).astype(complex)
    A[np.diag_indices(n.size)] = 1j * np.pi * n - 1
    return A, np.ones(n.size, dtype=complex)


def legt_from_projection(N: int, w: float | sympy.Expr = 1) -> tuple[sympy.Matrix, sympy.Matrix]:
    """LegT's (A, B) derived symbolically from the projection definition (SymPy; see kexue.hippo_symbolic)."""
    from kexue import hippo_symbolic

    return hippo_symbolic.legt_from_projection(N, w)


def legs_from_projection(N: int) -> tuple[sympy.Matrix, sympy.Matrix]:
    """LegS's (A, B) derived symbolically from the projection definition (SymPy; see kexue.hippo_symbolic)."""
    from kexue import hippo_symbolic

    return hippo_symbolic.legs_from_projection(N)


# ------------------------------------------------------------------------------------------------ O(N) LegS
def affine_scan(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """The solution S of S_n = a_n S_{n-1} + b_n, S_{-1} = 0, along the last axis, by a work-efficient scan."""
    a = validate.array(a, "a", min_ndim=1, kind="complex")
    b = validate.array(b, "b", min_ndim=1, kind="complex")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a and b must have the same length along the last axis, got {a.shape} and {b.shape}")
    a, b = np.broadcast_arrays(a, b)
    dtype = np.result_type(a, b)
    return _affine_scan(a.astype(dtype, copy=True), b.astype(dtype, copy=True))


def _affine_scan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """affine_scan on arrays it may overwrite (same shape and dtype), without checks."""
    n = b.shape[-1]
    # Each entry holds an affine map x -> a x + b; composing "left then right" gives (a_r a_l, a_r b_l + b_r).
    # Up-sweep (Brent-Kung): entry 2^(d+1) m - 1 collects the 2^(d+1) maps that end there.
    step = 1
    while step < n:
        right, left = slice(2 * step - 1, n, 2 * step), slice(step - 1, n - step, 2 * step)
        b[..., right] += a[..., right] * b[..., left]
        a[..., right] *= a[..., left]
        step *= 2
    # Down-sweep: complete the prefixes of the entries in between, from coarse to fine.
    while step > 1:
        step //= 2
        right, left = slice(3 * step - 1, n, 2 * step), slice(2 * step - 1, n - step, 2 * step)
        b[..., right] += a[..., right] * b[..., left]
        a[..., right] *= a[..., left]
    return b  # the maps applied to S_{-1} = 0


def legs_matvec(v: ArrayLike) -> np.ndarray:
    """The LegS product A v in O(N) (A of norms "su"/"paper"), along the last axis of ``v``."""
    v = validate.array(v, "v", min_ndim=1, kind="complex")
    n = np.arange(v.shape[-1])
    r = np.sqrt(2 * n + 1)
    # A_nk = n delta_nk - sqrt(2n+1) sqrt(2k+1) for k <= n: a diagonal plus a rank-one lower triangle.
    return n * v - r * np.cumsum(r * v, axis=-1)


def legs_solve(lam: float, v: ArrayLike) -> np.ndarray:
    """z = (I - lam A)^{-1} v for the LegS matrix A in O(N) (norms "su"/"paper"; lam > 0 is well-conditioned)."""
    lam = _check_real(lam, "lam")
    v = validate.array(v, "v", min_ndim=1, kind="complex")
    n = np.arange(v.shape[-1])
    denom = 1 + lam * (n + 1)  # the eigenvalues of I - lam A are 1 + lam (n+1)
    if np.any(denom == 0):
        raise ValueError(f"lam = {lam} makes I - lam A singular (lam = -1/j for some j <= N)")
    r = np.sqrt(2 * n + 1)
    # S_n = sum_{k<=n} sqrt(2k+1) z_k obeys S_n = a_n S_{n-1} + b_n; then z_n = (S_n - S_{n-1}) / sqrt(2n+1).
    with np.errstate(over="ignore", invalid="ignore"):
        b = r * v / denom
        S = _affine_scan(np.broadcast_to((1 - lam * n) / denom, b.shape).astype(b.dtype), b)
        z = np.empty_like(S)
        z[..., 0] = S[..., 0]
        z[..., 1:] = np.diff(S, axis=-1) / r[1:]
    return validate.finite(z, "lam or v", "the solution")


# ------------------------------------------------------------------------------------------------ discretisation
@runtime.one_blas_thread
def discretize(A: ArrayLike, B: ArrayLike, eps: float, method: LTIMethod = "zoh",
               alpha: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(Abar, Bbar) with x_{k+1} = Abar x_k + Bbar u_k for x' = Ax + Bu and input u_k held over a step eps.

    ``method``: "forward" (Euler), "backward" (Euler), "bilinear" (trapezoid), "zoh" (exact for a piecewise-constant
    input, via one block exponential), or "alpha" with ``alpha`` in [0, 1] (1 forward, 0 backward, 1/2 bilinear).
    """
    A, B = _as_system(A, B)
    eps = _check_real(eps, "eps", positive=True)
    method = _check_choice(method, "method", LTI_METHODS)
    if method == "alpha":
        if alpha is None:
            raise ValueError("alpha must be given when method is 'alpha'")
        alpha = _check_real(alpha, "alpha")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    elif alpha is not None:
        raise ValueError(f"alpha is only used with method='alpha', not with method={method!r}")
    N = A.shape[0]
    validate.memory(8.0 * (N + 1) ** 2 * A.itemsize, "A", "the work arrays of the matrix exponential")
    eye = np.eye(N)
    if method == "zoh":
        block = np.zeros((N + 1, N + 1), dtype=np.result_type(A, B))
        block[:N, :N], block[:N, N] = A, B
        E = scipy.linalg.expm(eps * block)  # [[e^{eps A}, A^{-1}(e^{eps A} - I) B], [0, 1]]
        return E[:N, :N], E[:N, N]
    a = {"forward": 1.0, "backward": 0.0, "bilinear": 0.5}.get(method, alpha)
    left = eye - (1 - a) * eps * A
    return np.linalg.solve(left, eye + a * eps * A), np.linalg.solve(left, eps * B)


@runtime.one_blas_thread
def run_lti(Abar: ArrayLike, Bbar: ArrayLike, u: ArrayLike, x0: ArrayLike = None) -> np.ndarray:
    """States x_1 .. x_K of x_{k+1} = Abar x_k + Bbar u_k from x_0 (zero by default): shape (K, N)."""
    Abar, Bbar = _as_system(Abar, Bbar, ("Abar", "Bbar"))
    u = validate.vector(u, "u", kind="complex", scalar=True)
    N = Abar.shape[0]
    if x0 is None:
        x = np.zeros(N, dtype=np.result_type(Abar, Bbar, u))
    else:
        x = validate.vector(x0, "x0", kind="complex", scalar=True)
    if x.shape != (N,):
        raise ValueError(f"x0 must have length {N}, got {x.size}")
    out = np.empty((u.size, N), dtype=np.result_type(Abar, Bbar, u, x))
    with np.errstate(over="ignore", invalid="ignore"):  # forward Euler is allowed to blow up
        for k, uk in enumerate(u):
            x = Abar @ x + Bbar * uk
            out[k] = x
    return out


def legs_first_state(A: ArrayLike, B: ArrayLike, u0: float) -> np.ndarray:
    """The exact LegS state after the first step, x_1 = -A^{-1} B u_0 (the projection of a constant)."""
    A, B = _as_system(A, B)
    u0 = _check_real(u0, "u0") if not isinstance(u0, complex) else complex(u0)
    return -np.linalg.solve(A, B) * u0


def _zoh_blocks(A: np.ndarray, B: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """e^{h A} and A^{-1}(e^{h A} - I) B for every step h.

    With a well-conditioned eigenvector matrix (the Fourier systems) this diagonalises A once; otherwise (LegS,
    whose eigenvectors are hopelessly ill-conditioned from N ~ 10 on) it takes batched block exponentials.
    """
    N = A.shape[0]
    mu, V = np.linalg.eig(A)
    if np.min(np.abs(mu)) > 1e-8 and np.linalg.cond(V) < 1e3:
        Vinv = np.linalg.inv(V)
        growth = np.exp(np.outer(h, mu))  # (steps, N)
        Abar = np.einsum("ij,kj,jl->kil", V, growth, Vinv)
        Bbar = ((growth - 1) / mu * (Vinv @ B)) @ V.T
        if not (np.iscomplexobj(A) or np.iscomplexobj(B)):
            Abar, Bbar = Abar.real, Bbar.real
        return Abar, Bbar
    block = np.zeros((N + 1, N + 1), dtype=np.result_type(A, B))
    block[:N, :N], block[:N, N] = A, B
    Abar = np.empty((h.size, N, N), dtype=block.dtype)
    Bbar = np.empty((h.size, N), dtype=block.dtype)
    chunk = max(1, 2**21 // (N + 1) ** 2)  # about 16 MiB of float64 per batch
    for start in range(0, h.size, chunk):
        E = scipy.linalg.expm(h[start:start + chunk, None, None] * block)
        Abar[start:start + chunk], Bbar[start:start + chunk] = E[:, :N, :N], E[:, :N, N]
    return Abar, Bbar


@runtime.one_blas_thread
def legs_step(x: ArrayLike, u: float, k: int, A: ArrayLike, B: ArrayLike, method: LegSMethod = "zoh") -> np.ndarray:
    """One LegS step x_k -> x_{k+1} (k >= 1, t = k eps) of the recurrence ``method`` (see LEGS_METHODS)."""
    A, B = _as_system(A, B)
    x = validate.vector(x, "x", kind="complex", scalar=True)
    if x.shape != B.shape:
        raise ValueError(f"x must have length {B.size}, got {x.size}")
    u = complex(u) if isinstance(u, complex) else _check_real(u, "u")
    k = _check_int(k, "k", low=1, high=2**62)
    method = _check_choice(method, "method", LEGS_METHODS)
    if method == "zoh":
        Abar, Bbar = _zoh_blocks(A, B, np.array([math.log1p(1 / k)]))
        return Abar[0] @ x + Bbar[0] * u
    return _legs_approx_step(A, B, x, u, k, method, np.eye(A.shape[0]))


def _legs_approx_step(A: np.ndarray, B: np.ndarray, x: np.ndarray, u: Any, k: int, method: str,
                      eye: np.ndarray) -> np.ndarray:
    """One step of an approximate LegS recurrence (no checks)."""
    if method == "forward":
        return x + (A @ x + B * u) / k
    if method == "backward":
        return np.linalg.solve(eye - A / (k + 1), x + B * u / (k + 1))
    if method == "bilinear-same-t":
        return np.linalg.solve(eye - A / (2 * k), x + A @ x / (2 * k) + B * u / k)
    gain = math.log1p(1 / k) if method == "bilinear-log" else 1 / k
    return np.linalg.solve(eye - A / (2 * (k + 1)), x + A @ x / (2 * k) + B * u * gain)


@runtime.one_blas_thread
def run_legs(A: ArrayLike, B: ArrayLike, u: ArrayLike, method: LegSMethod = "zoh") -> np.ndarray:
    """LegS states x_1 .. x_K for the inputs u_0 .. u_{K-1}: shape (K, N); row k remembers [0, (k+1) eps].

    The first row is the exact x_1 = -A^{-1} B u_0 (every recurrence is singular at k = 0); the others follow
    ``method`` (see LEGS_METHODS). No step size appears: LegS is time-scale equivariant.
    """
    A, B = _as_system(A, B)
    u = validate.vector(u, "u", kind="complex", scalar=True)
    method = _check_choice(method, "method", LEGS_METHODS)
    K, N = u.size, A.shape[0]
    if method == "zoh":  # one N x N propagator per step
        validate.memory(1.0 * K * N * N * np.result_type(A, B).itemsize, "u", f"{K} propagators of size {N} x {N}")
    out = np.empty((K, N), dtype=np.result_type(A, B, u))
    out[0] = legs_first_state(A, B, 1.0) * u[0]
    if K == 1:
        return out
    ks = np.arange(1, K)
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "zoh":
            Abar, Bbar = _zoh_blocks(A, B, np.log1p(1 / ks))
            for k in ks:
                out[k] = Abar[k - 1] @ out[k - 1] + Bbar[k - 1] * u[k]
        else:
            eye = np.eye(N)
            for k in ks:
                out[k] = _legs_approx_step(A, B, out[k - 1], u[k], int(k), method, eye)
    return out


# ------------------------------------------------------------------------------------------------ projections
def test_signal(t: ArrayLike) -> np.ndarray:
    """The chapter's test signal f(t) = sin(4 pi t) + 0.5 cos(10 pi t + 1) + 0.3 sin(22 pi t + 0.3)."""
    t = validate.array(t, "t", empty=True)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.sin(4 * np.pi * t) + 0.5 * np.cos(10 * np.pi * t + 1) + 0.3 * np.sin(22 * np.pi * t + 0.3)
    return validate.finite(out, "t", "the signal")


test_signal.__test__ = False  # not a pytest test, despite its name


def midpoint_samples(f: Callable[[np.ndarray], Any], eps: float, T: float) -> np.ndarray:
    """u_k = f((k + 1/2) eps) for the K = round(T / eps) steps that cover [0, T]."""
    if not callable(f):
        raise TypeError(f"f must be a function of time, got {type(f).__name__}")
    eps = _check_real(eps, "eps", positive=True)
    T = _check_real(T, "T", positive=True)
    if T / eps > 10**8:  # a hundred million samples is not a classroom computation
        raise ValueError(f"eps is too small for T: T / eps = {T / eps:.3g} steps, more than 10^8")
    K = round(T / eps)
    if K < 1 or abs(K * eps - T) > 1e-9 * max(1.0, T):
        raise ValueError(f"T / eps must be a positive whole number of steps, got T={T}, eps={eps}")
    return validate.vector(f((np.arange(K) + 0.5) * eps), "f(t)", kind="complex", scalar=True)


def _window_breakpoints(K: int, eps: float, T: float, w: float) -> tuple[slice, np.ndarray]:
    """The steps that overlap [T - w, T], and their boundaries k eps mapped to s in [-1, 1] (clipped)."""
    k0 = min(K, max(0, math.floor((T - w) / eps) - 1))
    k1 = max(k0, min(K, math.ceil(T / eps) + 1))
    s = 2 * (np.arange(k0, k1 + 1) * eps - (T - w)) / w - 1
    return slice(k0, k1), np.clip(s, -1.0, 1.0)


def _check_window(u: np.ndarray, eps: float, T: float, w: float) -> None:
    """The window [T-w, T] must lie within the recorded input [0, K eps] on the right."""
    if w / eps > 1e9:
        raise ValueError(f"w is too large for eps: the window [T - w, T] spans {w / eps:.3g} steps, more than 10^9")
    if T > u.size * eps * (1 + 1e-12):
        raise ValueError(f"T = {T} lies beyond the input, which ends at K eps = {u.size * eps}")
    if w > T * (1 + 1e-12) + 1e-15 and T <= 0:
        raise ValueError("T must be positive")


def project_window(u: ArrayLike, eps: float, T: float, w: float, N: int, norm: str = "su") -> np.ndarray:
    """Exact Legendre coefficients c_0 .. c_{N-1} of the piecewise-constant input over the window [T - w, T]."""
    u = validate.vector(u, "u", kind="complex", scalar=True)
    eps = _check_real(eps, "eps", positive=True)
    T = _check_real(T, "T", positive=True)
    w = _check_real(w, "w", positive=True)
    N = _check_int(N, "N")
    _check_window(u, eps, T, w)
    steps, s = _window_breakpoints(u.size, eps, T, w)
    G = _legendre_antiderivative(N, s)
    return (u[steps] @ np.diff(G, axis=0)) / norm_scale(N, norm)


def project_history(u: ArrayLike, eps: float, N: int, T: float | None = None, norm: str = "su") -> np.ndarray:
    """Exact Legendre coefficients of the whole history [0, T] (T = K eps by default): project_window with w = T."""
    u = validate.vector(u, "u", kind="complex", scalar=True)
    eps = _check_real(eps, "eps", positive=True)
    if T is None:
        T = validate.real(u.size * eps, "eps", maximum=1e300)  # K eps must stay a finite time
    else:
        T = _check_real(T, "T", positive=True)
    return project_window(u, eps, T, T, N, norm)


def reconstruct(c: ArrayLike, s: ArrayLike, norm: str = "su") -> np.ndarray:
    """sum_n c_n g_n(s) (in normalisation ``norm``) at the points s in [-1, 1]; c may be (N,) or (..., N)."""
    c = validate.array(c, "c", min_ndim=1, kind="complex")
    s = validate.vector(s, "s", scalar=True, dtype=np.float64)
    N = c.shape[-1]
    G = legendre_orthonormal(N, s) * norm_scale(N, norm)
    with np.errstate(over="ignore", invalid="ignore"):
        return validate.finite(c @ G.T, "c or s", "the reconstruction")


def _input_at(u: np.ndarray, eps: float, t: np.ndarray) -> np.ndarray:
    """The piecewise-constant input at times t (zero before 0)."""
    k = np.floor(t / eps).astype(int)
    return np.where(k >= 0, u[np.clip(k, 0, u.size - 1)], 0.0)


def reconstruction_error(c: ArrayLike, u: ArrayLike, eps: float, T: float, w: float, M: int = 4000,
                         norm: str = "su") -> float:
    """Relative RMS error of sum_n c_n g_n against the piecewise-constant input on [T-w, T], at M cell midpoints."""
    c = validate.vector(c, "c", kind="complex", scalar=True)
    u = validate.vector(u, "u", kind="complex", scalar=True)
    eps = _check_real(eps, "eps", positive=True)
    T = _check_real(T, "T", positive=True)
    w = _check_real(w, "w", positive=True)
    M = _check_int(M, "M", high=10**7)
    _check_window(u, eps, T, w)
    s = -1 + (2 * np.arange(M) + 1) / M
    target = _input_at(u, eps, (s + 1) * w / 2 + T - w)
    if not np.any(target):
        raise ValueError("u is zero on the window [T - w, T], so a relative error is undefined")
    approx = reconstruct(c, s, norm)
    with np.errstate(over="ignore", invalid="ignore"):
        error = np.sqrt(np.mean(np.abs(approx - target) ** 2) / np.mean(np.abs(target) ** 2))
    return float(validate.finite(error, "c or u", "the error"))


def relative_error(x: ArrayLike, ref: ArrayLike) -> float:
    """||x - ref||_2 / ||ref||_2 (inf if x is not finite: a recurrence that blew up is infinitely wrong)."""
    x = validate.array(x, "x", kind="complex", finite=False)
    ref = validate.array(ref, "ref", kind="complex")
    if x.shape != ref.shape:
        raise ValueError(f"x and ref must have the same shape, got {x.shape} and {ref.shape}")
    if not np.all(np.isfinite(x)):
        return math.inf
    return float(np.linalg.norm(x - ref) / np.linalg.norm(ref))


# ------------------------------------------------------------------------------------------------ Fourier basis
def fourier_project(u: ArrayLike, eps: float, T: float, w: float, N: int) -> np.ndarray:
    """Exact c_n = int_0^1 u(s w + T - w) e^{-2 i pi n s} ds, n = -N..N, of the piecewise-constant input."""
    u = validate.vector(u, "u", kind="complex", scalar=True)
    eps = _check_real(eps, "eps", positive=True)
    T = _check_real(T, "T", positive=True)
    w = _check_real(w, "w", positive=True)
    N = _check_int(N, "N", low=0)
    _check_window(u, eps, T, w)
    steps, s = _window_breakpoints(u.size, eps, T, w)
    s = (s + 1) / 2  # on [0, 1]
    n = np.arange(-N, N + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        F = np.where(n == 0, s[:, None] + 0j, np.exp(-2j * np.pi * np.outer(s, n)) / (-2j * np.pi * n))
    return u[steps] @ np.diff(F, axis=0)


def fourier_reconstruct(c: ArrayLike, s: ArrayLike) -> np.ndarray:
    """sum_n c_n e^{2 i pi n s} (n = -N..N) at points s in [0, 1]; the real part for a real input."""
    c = validate.vector(c, "c", kind="complex", scalar=True)
    s = validate.vector(s, "s", scalar=True, dtype=np.float64)
    if c.size % 2 == 0:
        raise ValueError(f"c must have an odd length 2N+1, got {c.size}")
    N = c.size // 2
    with np.errstate(over="ignore", invalid="ignore"):
        return validate.finite(np.exp(2j * np.pi * np.outer(s, np.arange(-N, N + 1))) @ c, "c or s", "the sum")


def sawtooth_partial_sum(s: ArrayLike, K: int) -> np.ndarray:
    """The partial sum 1/2 + (i / 2 pi) sum_{0<|k|<=K} e^{2 i pi k s} / k (real), which tends to s on (0, 1)."""
    s = validate.vector(s, "s", scalar=True, dtype=np.float64)
    K = _check_int(K, "K", low=0)
    validate.memory(8.0 * s.size * K, "K", "the terms of the partial sums")
    k = np.arange(1, K + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        return validate.finite(0.5 - (np.sin(2 * np.pi * np.outer(s, k)) / (np.pi * k)).sum(axis=1), "s")


# ------------------------------------------------------------------------------------------------ properties
def legt_eigenvalues(N: int, exact: bool = True, dps: int = 30) -> np.ndarray:
    """Eigenvalues of LegT (w = 1), sorted by imaginary part: exactly (mpmath) or with float64 ``eigvals``.

    The exact route uses the fact that LegT's characteristic polynomial is the denominator of the [N-1/N] Pade
    approximant of e^{-s} (the LMU construction); float64 ``eigvals`` is unreliable from N ~ 32 on, because the
    matrix is far from normal.
    """
    N = _check_int(N, "N", high=128)
    if not isinstance(exact, bool):
        raise TypeError(f"exact must be True or False, got {type(exact).__name__}")
    if exact:
        dps = _check_int(dps, "dps", low=15, high=1000)
    return _legt_eigenvalues(N, exact, dps).copy()


@lru_cache(maxsize=32)
def _legt_eigenvalues(N: int, exact: bool, dps: int) -> np.ndarray:
    """legt_eigenvalues without checks (cached: the exact route takes seconds from N ~ 32)."""
    if exact:
        import mpmath

        with mpmath.workdps(dps):
            f = math.factorial
            coeffs = [mpmath.mpf(f(2 * N - 1 - j) * f(N)) / (f(2 * N - 1) * f(j) * f(N - j)) for j in range(N + 1)]
            roots = mpmath.polyroots(coeffs[::-1], maxsteps=400, extraprec=4 * N + 40)
            ev = np.array([complex(r) for r in roots])
    else:
        ev = np.linalg.eigvals(legt_matrices(N)[0])
    return ev[np.lexsort((ev.real, ev.imag))]


def legt_euler_threshold(eigenvalues: ArrayLike) -> float:
    """The largest stable forward-Euler step: min over eigenvalues of 2 |Re l| / |l|^2 (|1 + eps l| < 1 below it)."""
    ev = validate.vector(eigenvalues, "eigenvalues", kind="complex", scalar=True)
    if np.any(ev.real >= 0):
        raise ValueError("eigenvalues must all have negative real parts")
    return float(np.min(2 * np.abs(ev.real) / np.abs(ev) ** 2))


@runtime.one_blas_thread
def legs_impulse_memory(N: int, m: int, n: Any) -> np.ndarray:
    """LegS states x_n (rows) after a unit impulse held over step m, by exact propagation e^{ln(n/(m+1)) A}."""
    N = _check_int(N, "N", high=512)
    m = _check_int(m, "m")
    n = np.atleast_1d(np.asarray(n))
    if n.ndim != 1 or not np.issubdtype(n.dtype, np.integer) or np.any(n <= m):
        raise ValueError(f"n must be integers larger than m = {m}")
    A, B = legs_matrices(N)
    Abar, Bbar = _zoh_blocks(A, B, np.array([math.log1p(1 / m)]))
    x = Bbar[0]  # the state after the impulse step, from x_m = 0
    props = scipy.linalg.expm(np.log(n / (m + 1))[:, None, None] * A)
    return props @ x


@runtime.one_blas_thread
def impulse_response(A: ArrayLike, B: ArrayLike, t: ArrayLike) -> np.ndarray:
    """e^{tA} B for every time in ``t`` (the impulse response of x' = Ax + Bu): shape (len(t), N)."""
    A, B = _as_system(A, B)
    t = validate.vector(t, "t", scalar=True, dtype=np.float64)
    out = np.empty((t.size, B.size), dtype=np.result_type(A, B))
    chunk = max(1, 2**21 // B.size**2)
    for start in range(0, t.size, chunk):
        out[start:start + chunk] = scipy.linalg.expm(t[start:start + chunk, None, None] * A) @ B
    return out


def httyh_kernel(N: int, t: ArrayLike) -> np.ndarray:
    """The warped-Legendre kernels sqrt(2n+1) P_n(2 e^{-t} - 1) e^{-t}, n < N, at times t: shape (len(t), N)."""
    N = _check_int(N, "N")
    t = validate.vector(t, "t", scalar=True, dtype=np.float64)
    if np.any(t < 0):
        raise ValueError("t must be non-negative")
    r = np.exp(-t)
    return legendre(N, 2 * r - 1) * np.sqrt(2 * np.arange(N) + 1) * r[:, None]


# ------------------------------------------------------------------------------------------------ experiments
@dataclass(frozen=True)
class MemoryRun:
    """One run of a memory on a sampled signal: its final state, the exact coefficients, and the errors."""

    memory: str
    method: str
    N: int
    eps: float
    T: float
    w: float
    u: np.ndarray
    states: np.ndarray
    exact: np.ndarray
    coef_error: float
    recon_error: float
    best_recon_error: float
    spectral_radius: float | None = None

    def curve(self, points: int = 800, which: str = "state") -> tuple[np.ndarray, np.ndarray]:
        """Times and values of the reconstruction from the final ``"state"`` (or the ``"exact"`` projection)."""
        if self.memory not in ("legt", "legs"):
            raise ValueError("curve() needs a Legendre memory ('legt' or 'legs')")
        points = _check_int(points, "points", low=2, high=10**6)
        which = _check_choice(which, "which", ("state", "exact"))
        s = -1 + (2 * np.arange(points) + 1) / points
        c = self.states[-1] if which == "state" else self.exact
        return (s + 1) * self.w / 2 + self.T - self.w, reconstruct(c, s)


@runtime.one_blas_thread
def memory_run(memory: str, N: int, eps: float, method: str, T: float = 1.0, w: float | None = None,
               signal: Callable[[np.ndarray], Any] = test_signal, M: int = 4000) -> MemoryRun:
    """Run "legt", "legs", "fout" or "fous" on ``signal`` sampled at step midpoints up to T; compare with exact.

    LegT/FouT start from x_0 = 0 with window w (default 1) and use ``discretize(..., method)``; LegS/FouS use
    ``run_legs(..., method)`` and remember [0, T]. Errors are relative: coefficients in the 2-norm, reconstruction
    as an RMS over M cell midpoints (Legendre memories only; NaN for Fourier).
    """
    memory = _check_choice(memory, "memory", ("legt", "legs", "fout", "fous"))
    N = _check_int(N, "N", high=1024)
    eps = _check_real(eps, "eps", positive=True)
    T = _check_real(T, "T", positive=True)
    steps = T / eps
    if memory in ("legs", "fous") and method == "zoh":  # one propagator per step (see run_legs)
        size = N if memory == "legs" else 2 * N + 1
        itemsize = 8 if memory == "legs" else 16
        validate.memory(1.0 * steps * size * size * itemsize, "N",
                        f"{steps:.0f} step propagators of size {size} x {size} (or choose a larger eps)")
    u = midpoint_samples(signal, eps, T)
    windowed = memory in ("legt", "fout")
    w = (1.0 if w is None else _check_real(w, "w", positive=True)) if windowed else T
    if windowed:
        method = _check_choice(method, "method", LTI_METHODS[:4])
        A, B = legt_matrices(N, w) if memory == "legt" else fourier_window_matrices(N, w)
        Abar, Bbar = discretize(A, B, eps, method)
        states = run_lti(Abar, Bbar, u)
        radius = float(np.max(np.abs(np.linalg.eigvals(Abar))))
    else:
        method = _check_choice(method, "method", LEGS_METHODS)
        A, B = legs_matrices(N) if memory == "legs" else fourier_scaled_matrices(N)
        states = run_legs(A, B, u, method)
        radius = None
    if memory in ("legt", "legs"):
        exact = project_window(u, eps, T, w, N)
        recon = reconstruction_error(states[-1], u, eps, T, w, M) if np.all(np.isfinite(states[-1])) else math.inf
        best = reconstruction_error(exact, u, eps, T, w, M)
    else:
        exact = fourier_project(u, eps, T, w, N)
        recon = best = math.nan
    return MemoryRun(memory, method, N, eps, T, w, u, states, exact, relative_error(states[-1], exact), recon, best,
                     radius)


def plot_memory(run: MemoryRun, ax: Axes | None = None, points: int = 800) -> Axes:
    """Draw the input over the remembered interval, the exact projection and the run's reconstruction."""
    import matplotlib.pyplot as plt

    from kexue.plotting import PALETTE

    if not isinstance(run, MemoryRun) or run.memory not in ("legt", "legs"):
        raise TypeError("run must be a MemoryRun of a Legendre memory ('legt' or 'legs')")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    s = -1 + (2 * np.arange(points) + 1) / points
    t = (s + 1) * run.w / 2 + run.T - run.w
    ax.plot(t, _input_at(run.u, run.eps, t), color="0.6", lw=1.0, label="input (piecewise constant)")
    ax.plot(t, reconstruct(run.exact, s), color=PALETTE["blue"], lw=1.6, label="exact projection")
    finite = np.all(np.isfinite(run.states[-1]))
    y = reconstruct(run.states[-1], s) if finite else np.full_like(t, np.nan)
    ax.plot(t, y, color=PALETTE["vermillion"], lw=1.4, ls="--", label=f"state of the recurrence ({run.method})")
    ax.set(xlabel="time t (s)", ylabel="signal (a.u.)", ylim=(-2.5, 2.5))
    if not finite or np.max(np.abs(y)) > 2.5:
        ax.text(0.02, 0.95, "the recurrence has blown up" if not finite else "reconstruction leaves the frame",
                transform=ax.transAxes, va="top", color=PALETTE["vermillion"])
    return ax


def time_per_call(call: Callable[[], object], repeat: int = 5, min_time: float = 2e-3) -> float:
    """Seconds per call of ``call``: the best of ``repeat`` blocks, each of enough calls to last ``min_time``."""
    min_time = _check_real(min_time, "min_time", positive=True)
    if min_time > 10:  # the blocks would take minutes
        raise ValueError(f"min_time must be at most 10 seconds, got {min_time}")
    return runtime.time_call(call, repeat=repeat, min_time=min_time, best=True)


@runtime.one_blas_thread
def scaling_timings(sizes: Any, dense_max: int = 512, seed: int = 0) -> dict[str, dict[int, float]]:
    """Seconds per call of legs_matvec, legs_solve and their dense counterparts for each N in ``sizes``.

    The dense routines are timed only up to ``dense_max``; BLAS runs on one thread, as everywhere in this module.
    """
    sizes = [_check_int(N, "sizes", 1, 2**14) for N in np.atleast_1d(np.asarray(sizes)).tolist()]
    dense_max = _check_int(dense_max, "dense_max", 1, 2048)
    rng = np.random.default_rng(_check_int(seed, "seed", 0, 2**32))
    table: dict[str, dict[int, float]] = {"legs_matvec": {}, "legs_solve": {}, "dense matvec": {}, "dense solve": {}}
    for N in sizes:
        v = rng.normal(size=N)
        table["legs_matvec"][N] = time_per_call(lambda v=v: legs_matvec(v))
        table["legs_solve"][N] = time_per_call(lambda v=v: legs_solve(0.5, v))
        if N <= dense_max:  # dense matrices beyond this would cost memory and minutes, not insight
            A = legs_matrices(N)[0]
            M = np.eye(N) - 0.5 * A
            table["dense matvec"][N] = time_per_call(lambda A=A, v=v: A @ v)
            table["dense solve"][N] = time_per_call(lambda M=M, v=v: np.linalg.solve(M, v))
    return table


# ------------------------------------------------------------------------------------------------ chapter tables
_MAX_GRID_RUNS = 200  # a grid of runs larger than this is not a classroom computation


def _methods(methods: Any, name: str, allowed: tuple[str, ...]) -> list[str]:
    """A non-empty list of method names, each one of ``allowed``."""
    if isinstance(methods, str) or not isinstance(methods, (list, tuple)):
        raise TypeError(f"{name} must be a list of method names, got {type(methods).__name__}")
    if not methods:
        raise ValueError(f"{name} must name at least one method")
    return [_check_choice(m, name, allowed) for m in methods]


def run_grid(memory: str, cases: Any, methods: Any, T: float = 1.0) -> Any:
    """Run ``memory_run`` for every (N, K) in ``cases`` and every method, with eps = 1/K on [0, T].

    Returns a pandas DataFrame with one row per run: N, K, method, coef, recon, projection only (the reconstruction
    error of the exact coefficients), rho (the spectral radius of the step matrix, LegT only) and the run itself.
    """
    import pandas as pd

    memory = _check_choice(memory, "memory", ("legt", "legs"))
    cases = validate.integers(cases, "cases", minimum=1, maximum=10**5, ndim=2)
    if cases.shape[1] != 2 or not len(cases):
        raise ValueError(f"cases must be a list of (N, K) pairs, got shape {cases.shape}")
    methods = _methods(methods, "methods", LTI_METHODS[:4] if memory == "legt" else LEGS_METHODS)
    T = _check_real(T, "T", positive=True)
    if len(cases) * len(methods) > _MAX_GRID_RUNS:
        raise ValueError(f"cases and methods ask for {len(cases) * len(methods)} runs; at most {_MAX_GRID_RUNS}")
    rows = []
    for N, K in cases.tolist():
        for method in methods:
            run = memory_run(memory, N, 1 / K, method, T=T)
            rows.append({"N": N, "K": K, "method": method, "coef": run.coef_error, "recon": run.recon_error,
                         "projection only": run.best_recon_error, "rho": run.spectral_radius, "run": run})
    return pd.DataFrame(rows)


def error_table(runs: Any) -> Any:
    """The runs of ``run_grid`` as a table: one row per (N, K), one column per method, each cell
    "coefficient error / reconstruction error", after a column with the projection-only error."""
    import pandas as pd

    if not isinstance(runs, pd.DataFrame) or not {"N", "K", "method", "coef", "recon"} <= set(runs.columns):
        raise TypeError("runs must be the DataFrame that run_grid returns")
    cells = runs.assign(value=[f"{c:.3g} / {r:.4g}" for c, r in zip(runs["coef"], runs["recon"])])
    table = cells.pivot(index=["N", "K"], columns="method", values="value")[list(dict.fromkeys(runs["method"]))]
    best = runs.groupby(["N", "K"])["projection only"].first()
    table.insert(0, "projection only", best.map("{:.4g}".format))
    return table


def step_errors(memory: str, N: int, Ks: ArrayLike, methods: Any, T: float = 1.0) -> dict[str, list[float]]:
    """Relative error of each method at t = T for each number of steps per second K (eps = 1/K).

    LegS is compared with the exact projection of the history; LegT (window 1) with the exact (ZOH) solution of the
    same ODE, so that its closure error cancels and only the discretisation error remains.
    """
    memory = _check_choice(memory, "memory", ("legt", "legs"))
    N = _check_int(N, "N", high=256)
    Ks = validate.integers(Ks, "Ks", minimum=1, maximum=10**5, ndim=1).tolist()
    methods = _methods(methods, "methods", LTI_METHODS[:3] if memory == "legt" else LEGS_METHODS)
    T = _check_real(T, "T", positive=True)
    if len(Ks) * len(methods) > _MAX_GRID_RUNS:
        raise ValueError(f"Ks and methods ask for {len(Ks) * len(methods)} runs; at most {_MAX_GRID_RUNS}")
    if memory == "legs":
        return {m: [memory_run("legs", N, 1 / K, m, T=T).coef_error for K in Ks] for m in methods}
    A, B = legt_matrices(N)
    errors: dict[str, list[float]] = {m: [] for m in methods}
    for K in Ks:
        u = midpoint_samples(test_signal, 1 / K, T)
        reference = run_lti(*discretize(A, B, 1 / K, "zoh"), u)[-1]
        for m in methods:
            errors[m].append(relative_error(run_lti(*discretize(A, B, 1 / K, m), u)[-1], reference))
    return errors


def memory_figure(N: int = 32, dt: float = 0.005, method: str = "bilinear", window: float | None = 1.0) -> Axes:
    """The explorer's picture: a LegT memory (window in seconds) or LegS (window None) of the test signal at T = 2."""
    dt = _check_real(dt, "dt", positive=True)
    if dt > 1 or abs(2 / dt - round(2 / dt)) > 1e-9 * (2 / dt):
        raise ValueError(f"dt must divide the 2 s of signal into whole steps, got {dt}")
    if window is None:
        run = memory_run("legs", N, dt, method, T=2.0)
        what = "LegS, all of [0, 2]"
    else:
        window = _check_real(window, "window", positive=True)
        if window > 2:
            raise ValueError(f"window must be at most the 2 s of signal, got {window}")
        run = memory_run("legt", N, dt, method, T=2.0, w=window)
        what = f"LegT, window {window} s"
    ax = plot_memory(run)
    ax.set_title(f"{what}: N = {N}, Δt = {dt} s, {method}; coefficient error {run.coef_error:.3g}")
    ax.legend(fontsize="x-small", loc="lower left")
    return ax


def loglog_slope(times: Any, min_N: int = 1) -> float:
    """The least-squares slope of log(time) against log(N) over the entries {N: seconds} with N >= min_N."""
    if not isinstance(times, dict):
        raise TypeError(f"times must be a dict {{N: seconds}}, got {type(times).__name__}")
    min_N = _check_int(min_N, "min_N")
    points = [(_check_int(N, "times", 1), _check_real(t, "times", positive=True)) for N, t in times.items()]
    points = [(N, t) for N, t in points if N >= min_N]
    if len({N for N, _ in points}) < 2:
        raise ValueError(f"times must hold at least two sizes N >= min_N = {min_N}")
    N, t = np.log(np.array(points, dtype=float)).T
    return float(np.polyfit(N, t, 1)[0])


def plot_scaling(timings: Any, slopes: Any = None, ax: Axes | None = None) -> Axes:
    """Time per call against N (log-log) for each routine of ``scaling_timings``, with reference slopes 1 and 2."""
    import matplotlib.pyplot as plt

    if not isinstance(timings, dict) or not all(isinstance(t, dict) for t in timings.values()):
        raise TypeError("timings must be the dict of dicts that scaling_timings returns")
    if slopes is not None and not isinstance(slopes, dict):
        raise TypeError(f"slopes must be a dict {{routine: slope}}, got {type(slopes).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, times in timings.items():
        sizes = sorted(times)
        label = name if slopes is None or name not in slopes else f"{name} (slope {slopes[name]:.2f})"
        ax.loglog(sizes, [times[N] * 1e6 for N in sizes], "o-", ms=3, label=label)
    everything = [N for times in timings.values() for N in times]
    if everything:
        lo, hi = min(everything), max(everything)
        ref = np.array([lo, hi], dtype=float)
        start = min(t for times in timings.values() for t in times.values()) * 1e6
        ax.loglog(ref, start * ref / lo, ":", color="0.5", label="slope 1")
        ax.loglog(ref, start * (ref / lo) ** 2, "--", color="0.5", label="slope 2")
    ax.set(xlabel="N (number of coefficients)", ylabel="time per call (µs)",
           title="O(N) LegS routines against dense linear algebra (this run)")
    ax.legend(fontsize="x-small", ncol=2)
    return ax

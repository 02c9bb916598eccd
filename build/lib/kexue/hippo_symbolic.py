"""Symbolic HiPPO (SymPy): the matrices derived from the projection definition, their closed forms, the exactness of
the LegS closure, and the LegS propagator as polynomials in r = e^{-h}.

Companion of :mod:`kexue.hippo` (chapter: https://kexue.fm/archives/10137, building on
https://kexue.fm/archives/10114). SymPy is imported on first use, so that importing this module stays light.

The general recipe (eq. "hippo-base" of 10114). Map s in [-1, 1] onto the part of the history to remember with
t = t_T(s), t_T(1) = T, and let c_n(T) = int_{-1}^{1} u(t_T(s)) g_n(s) ds with g_n orthonormal. Differentiating in T
and integrating by parts, with rho(s) = (d t/d T) / (d t/d s),

    dc_n/dT = [u(t_T(s)) rho(s) g_n(s)]_{s=-1}^{s=1} - int_{-1}^{1} u(t_T(s)) (rho g_n)'(s) ds.

When (rho g_n)' is a polynomial of degree < N it is exactly sum_k <(rho g_n)', g_k> g_k, so the integral is a
combination of the c_k. The boundary term at s = 1 is u(T) rho(1) g_n(1), the input. The one at s = -1 vanishes if
rho(-1) = 0 (LegS: exact closure); otherwise it needs the forgotten value u(t_T(-1)), which is approximated by the
truncated series sum_k c_k g_k(-1) (LegT: approximate closure).
"""
from __future__ import annotations

import numbers
from functools import lru_cache
from typing import Any

__all__ = [
    "fourier_scaled_closed_form", "g", "gram_matrix", "hippo_from_map", "legendre_identities", "legs_closed_form",
    "legs_from_projection", "legs_propagator", "legt_closed_form", "legt_from_projection", "closure_residual",
    "rescale", "pade_denominator",
]

MAX_SYMBOLIC_N = 16  # exact integrals grow quickly; the chapter and tests use N <= 8


def _sp():
    """The sympy module, imported on first use."""
    import sympy

    return sympy


def _check_n(N: Any, name: str = "N", low: int = 1, high: int = MAX_SYMBOLIC_N) -> int:
    """``N`` as an int in [low, high], or a TypeError/ValueError naming ``name``."""
    if isinstance(N, bool) or not isinstance(N, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(N).__name__}")
    if not low <= int(N) <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {N}")
    return int(N)


@lru_cache(maxsize=None)
def _symbols() -> tuple[Any, Any]:
    """The symbols s (position on [-1, 1]) and T (current time, positive)."""
    sp = _sp()
    return sp.Symbol("s", real=True), sp.Symbol("T", positive=True)


def g(n: int, s: Any = None) -> Any:
    """The orthonormal Legendre polynomial g_n(s) = sqrt((2n+1)/2) P_n(s) as a SymPy expression."""
    sp = _sp()
    n = _check_n(n, "n", low=0, high=64)
    s = _symbols()[0] if s is None else s
    return sp.sqrt(sp.Rational(2 * n + 1, 2)) * sp.legendre(n, s)


def _inner(p: Any, q: Any) -> Any:
    """int_{-1}^{1} p q ds for polynomials in s (exact; coefficients may contain other symbols)."""
    sp = _sp()
    s = _symbols()[0]
    antiderivative = sp.Poly(sp.expand(p * q), s).integrate()
    return sp.expand(antiderivative.eval(1) - antiderivative.eval(-1))


def _kappa(n: int) -> Any:
    """The normalising factor sqrt((2n+1)/2) of g_n = kappa_n P_n."""
    sp = _sp()
    return sp.sqrt(sp.Rational(2 * n + 1, 2))


def gram_matrix(N: int) -> Any:
    """The Gram matrix [int g_m g_n] of the first N basis functions (the identity)."""
    sp = _sp()
    N = _check_n(N)
    s = _symbols()[0]
    P = [sp.legendre(n, s) for n in range(N)]  # rational coefficients: fast exact integrals
    return sp.Matrix(N, N, lambda m, n: _kappa(m) * _kappa(n) * _inner(P[m], P[n]))


def legendre_identities(n_max: int = 10) -> dict[str, list[Any]]:
    """Residuals (simplified, all zero) of the four Legendre identities used by the derivation, for n <= n_max.

    * ``"derivative difference"``: P'_{n+1} - P'_{n-1} - (2n+1) P_n (n >= 1);
    * ``"derivative recursion"``: P'_{n+1} - (n+1) P_n - s P'_n;
    * ``"derivative expansion"``: P'_{n+1} - sum_{k<=n} (2k+1) chi_{n-k} P_k, chi_j = 1 for even j, 0 for odd;
    * ``"(s+1) derivative"``: (s+1) P'_n + (n+1) P_n - sum_{k<=n} (2k+1) P_k.
    """
    sp = _sp()
    n_max = _check_n(n_max, "n_max", low=1, high=40)
    s = _symbols()[0]
    # Poly arithmetic over the rationals: exact and fast; .as_expr() turns a zero residual into 0.
    P = [sp.legendre_poly(n, s, polys=True) for n in range(n_max + 2)]
    dP = [p.diff(s) for p in P]
    x1 = sp.Poly(s + 1, s)
    out: dict[str, list[Any]] = {"derivative difference": [], "derivative recursion": [],
                                 "derivative expansion": [], "(s+1) derivative": []}
    for n in range(n_max + 1):
        if n >= 1:
            out["derivative difference"].append((dP[n + 1] - dP[n - 1] - (2 * n + 1) * P[n]).as_expr())
        out["derivative recursion"].append((dP[n + 1] - (n + 1) * P[n] - sp.Poly(s, s) * dP[n]).as_expr())
        chi = sum(((2 * k + 1) * P[k] for k in range(n + 1) if (n - k) % 2 == 0), sp.Poly(0, s))
        out["derivative expansion"].append((dP[n + 1] - chi).as_expr())
        total = sum(((2 * k + 1) * P[k] for k in range(n + 1)), sp.Poly(0, s))
        out["(s+1) derivative"].append((x1 * dP[n] + (n + 1) * P[n] - total).as_expr())
    return out


def hippo_from_map(t_map: Any, N: int) -> tuple[Any, Any, bool]:
    """(A, B, exact) of dc/dT = A c + B u(T) for the map t_map(s, T) of [-1, 1] onto the history (see module doc).

    ``exact`` is True when the boundary term at s = -1 vanishes, i.e. no truncation is needed. A and B may depend
    on T (LegS: both are proportional to 1/T).
    """
    sp = _sp()
    N = _check_n(N)
    s, T = _symbols()
    t_map = sp.sympify(t_map)
    if not {s, T} <= t_map.free_symbols:
        raise ValueError(f"t_map must depend on both s and T, got symbols {t_map.free_symbols}")
    if sp.simplify(t_map.subs(s, 1) - T) != 0:
        raise ValueError("t_map must send s = 1 to the present time T")
    rho = sp.cancel(sp.diff(t_map, T) / sp.diff(t_map, s))
    if not rho.is_polynomial(s):
        raise ValueError("t_map must be polynomial in s with d t/d s independent of s (an affine map)")
    rho_left = sp.simplify(rho.subs(s, -1))
    # Work with the Legendre polynomials P_n (rational coefficients) and put g_n = kappa_n P_n back at the end.
    P = [sp.legendre(n, s) for n in range(N)]
    A = sp.zeros(N, N)
    B = sp.zeros(N, 1)
    for n in range(N):
        B[n] = sp.expand(_kappa(n) * rho.subs(s, 1) * P[n].subs(s, 1))
        deriv = sp.expand(sp.diff(rho * P[n], s))
        coeffs = [_inner(deriv, P[k]) for k in range(N)]  # <(rho P_n)', P_k>
        remainder = sp.expand(deriv - sum(c * sp.Rational(2 * k + 1, 2) * P[k] for k, c in enumerate(coeffs)))
        if remainder != 0:
            raise ValueError(f"(rho g_{n})' is not in the span of g_0..g_{N - 1}: this map needs more truncation")
        for k in range(N):
            # u(t_T(-1)) ~ sum_k c_k g_k(-1) closes the boundary term at s = -1 when rho(-1) != 0.
            boundary = rho_left * P[n].subs(s, -1) * P[k].subs(s, -1)
            A[n, k] = sp.expand(-_kappa(n) * _kappa(k) * (coeffs[k] + boundary))
    return A, B, rho_left == 0


def legt_from_projection(N: int, w: Any = 1) -> tuple[Any, Any]:
    """LegT's (A, B) derived from the projection onto the window [T - w, T] (article normalisation)."""
    sp = _sp()
    s, T = _symbols()
    w = sp.sympify(w)
    A, B, exact = hippo_from_map((s + 1) * w / 2 + T - w, N)
    assert not exact  # the window's left end needs the truncated series
    return A, B


def legs_from_projection(N: int) -> tuple[Any, Any]:
    """LegS's (A, B) derived from the projection of the whole history [0, T] (t x' = Ax + Bu, article norm)."""
    sp = _sp()
    s, T = _symbols()
    A, B, exact = hippo_from_map((s + 1) * T / 2, N)
    assert exact  # no boundary term at the start of the history
    return (T * A).applyfunc(sp.expand), (T * B).applyfunc(sp.expand)


def _lams(N: int, norm: str) -> list[Any]:
    """The rescaling factors lam_n of a normalisation, exactly."""
    sp = _sp()
    table = {"su": lambda n: sp.Integer(1), "paper": lambda n: sp.sqrt(2),
             "lmu": lambda n: sp.sqrt(sp.Rational(2, 2 * n + 1)),
             "scaled": lambda n: sp.sqrt(sp.Rational(2, 2 * n + 1))}
    if norm not in table:
        raise ValueError(f"norm must be one of {', '.join(map(repr, table))}; got {norm!r}")
    return [table[norm](n) for n in range(N)]


def rescale(A: Any, B: Any, lam: Any) -> tuple[Any, Any]:
    """(diag(1/lam) A diag(lam), B / lam) exactly: the system of c~ = c / lam."""
    sp = _sp()
    A, B = sp.Matrix(A), sp.Matrix(B)
    if len(lam) != A.shape[0] or B.shape != (A.shape[0], 1):
        raise ValueError("lam, A and B must have matching sizes")
    At = sp.Matrix(A.shape[0], A.shape[1], lambda n, k: sp.simplify(A[n, k] * lam[k] / lam[n]))
    Bt = sp.Matrix(B.shape[0], 1, lambda n, _: sp.simplify(B[n] / lam[n]))
    return At, Bt


def legt_closed_form(N: int, w: Any = 1, norm: str = "su") -> tuple[Any, Any]:
    """LegT's closed form: A_nk = -sqrt((2n+1)(2k+1))/w times 1 (k<n) or (-1)^(n-k) (k>=n); B_n = sqrt(2(2n+1))/w."""
    sp = _sp()
    N = _check_n(N, high=256)
    if norm not in ("su", "paper", "lmu"):
        raise ValueError(f"norm must be 'su', 'paper' or 'lmu'; got {norm!r}")
    w = sp.sympify(w)
    A = sp.Matrix(N, N, lambda n, k: -sp.sqrt((2 * n + 1) * (2 * k + 1)) * (1 if k < n else (-1) ** (n - k)) / w)
    B = sp.Matrix(N, 1, lambda n, _: sp.sqrt(2 * (2 * n + 1)) / w)
    return rescale(A, B, _lams(N, norm)) if norm != "su" else (A, B)


def legs_closed_form(N: int, norm: str = "su") -> tuple[Any, Any]:
    """LegS's closed form: A_nk = -sqrt((2n+1)(2k+1)) (k < n), -(n+1) (k = n), 0 (k > n); B_n = sqrt(2(2n+1))."""
    sp = _sp()
    N = _check_n(N, high=256)
    if norm not in ("su", "paper", "scaled"):
        raise ValueError(f"norm must be 'su', 'paper' or 'scaled'; got {norm!r}")
    A = sp.Matrix(N, N, lambda n, k: -sp.sqrt((2 * n + 1) * (2 * k + 1)) if k < n else (-(n + 1) if k == n else 0))
    B = sp.Matrix(N, 1, lambda n, _: sp.sqrt(2 * (2 * n + 1)))
    return rescale(A, B, _lams(N, norm)) if norm != "su" else (A, B)


def closure_residual(kind: str, N: int, j: int) -> Any:
    """For u(t) = t^j, the residual of the ODE with the exact coefficients c_n(T) (no integration by parts).

    ``kind`` "legt" (w = 1): dc/dT - (A c + B T^j); "legs": T dc/dT - (A c + B T^j). An all-zero column means the
    N coefficients of this input obey the ODE exactly at every T.
    """
    sp = _sp()
    if kind not in ("legt", "legs"):
        raise ValueError(f"kind must be 'legt' or 'legs', got {kind!r}")
    N = _check_n(N, high=10)
    j = _check_n(j, "j", low=0, high=20)
    s, T = _symbols()
    t_map = (s + 1) / 2 + T - 1 if kind == "legt" else (s + 1) * T / 2
    # In the normalisation lam_n = sqrt(2/(2n+1)) every quantity is rational: c~_n = (2n+1)/2 int u P_n.
    lam = _lams(N, "lmu" if kind == "legt" else "scaled")
    c = sp.Matrix(N, 1, lambda n, _: sp.Rational(2 * n + 1, 2) * _inner(sp.expand(t_map ** j), sp.legendre(n, s)))
    if kind == "legt":
        A, B = legt_closed_form(N, norm="lmu")
        res = c.diff(T) - (A * c + B * T ** j)
    else:
        A, B = legs_closed_form(N, norm="scaled")
        res = T * c.diff(T) - (A * c + B * T ** j)
    # Back to the article's normalisation: residual(su) = diag(lam) residual(rescaled).
    return sp.Matrix(N, 1, lambda n, _: sp.expand(lam[n] * res[n]))


def legs_propagator(N: int, r: Any = None) -> Any:
    """e^{hA} for LegS (article norm) as a matrix of polynomials in r = e^{-h}, via spectral projectors."""
    sp = _sp()
    N = _check_n(N, high=12)
    r = sp.Symbol("r") if r is None else r
    A, _ = legs_closed_form(N)
    eye = sp.eye(N)
    total = sp.zeros(N, N)
    for j in range(1, N + 1):  # eigenvalue -j; projector prod_{i != j} (A + i I) / (i - j)
        proj = eye
        for i in range(1, N + 1):
            if i != j:
                proj = proj * (A + i * eye) / (i - j)
        total += r ** j * proj
    return total.applyfunc(lambda e: sp.factor(sp.expand(e)))


def fourier_scaled_closed_form(N: int) -> tuple[Any, Any]:
    """FouS exactly: A_nn = i pi n - 1, A_nk = -n/(n-k) (k != n), B_n = 1, for n, k = -N..N."""
    sp = _sp()
    N = _check_n(N, low=0, high=64)
    idx = list(range(-N, N + 1))
    A = sp.Matrix(len(idx), len(idx), lambda a, b: sp.I * sp.pi * idx[a] - 1 if a == b
                  else sp.Rational(-idx[a], idx[a] - idx[b]))
    return A, sp.ones(len(idx), 1)


def pade_denominator(N: int, z: Any = None) -> Any:
    """The denominator of the [N-1/N] Pade approximant of e^{-z}, normalised to be monic (LegT's char. polynomial)."""
    sp = _sp()
    N = _check_n(N, high=128)
    z = sp.Symbol("z") if z is None else z
    f = sp.factorial
    q = sum(f(2 * N - 1 - j) * f(N) / (f(2 * N - 1) * f(j) * f(N - j)) * z ** j for j in range(N + 1))
    return sp.expand(q / sp.Poly(q, z).LC())

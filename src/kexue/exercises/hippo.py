"""Checkers for the exercises of chapter 06 (HiPPO: memory as projection onto polynomials)."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from kexue.exercises import as_expression, as_float, call, grade, register
from kexue.hippo import (discretize, fourier_scaled_matrices, legs_matrices, legt_matrices, memory_run, rescale)

if TYPE_CHECKING:
    import sympy


def random_stable_system(rng: np.random.Generator, N: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A random matrix with eigenvalues in the left half plane, and a random B."""
    M = rng.normal(size=(N, N))
    return M - (np.max(np.linalg.eigvals(M).real) + 1) * np.eye(N), rng.normal(size=N)


def _max_error(got: Any, expected: np.ndarray) -> float:
    """max |got - expected| / max(1, max |expected|), or inf if ``got`` has the wrong shape or is not numeric."""
    try:
        got = np.asarray(got, dtype=np.result_type(expected, float))
    except (TypeError, ValueError):
        return math.inf
    if got.shape != expected.shape and got.size == expected.size:
        got = got.reshape(expected.shape)
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return math.inf
    return float(np.max(np.abs(got - expected)) / max(1.0, float(np.max(np.abs(expected)))))


def _pair_within(tol: float) -> Callable[[Any, tuple[np.ndarray, np.ndarray]], bool]:
    """A comparison of a returned pair (A, B) with the reference pair, to relative error ``tol``."""
    def compare(got: Any, expected: tuple[np.ndarray, np.ndarray]) -> bool:
        got_a, got_b = got
        return _max_error(got_a, expected[0]) < tol and _max_error(got_b, expected[1]) < tol

    return compare


@register("hippo-alpha-scheme",
          hint="For x' = λx the α-scheme multiplies x by g(z) = (1 + αz) / (1 − (1 − α)z) with z = ελ. Ask when "
               "|g(z)| ≤ 1 for every z with Re z < 0, including z far out on the negative real axis.")
def alpha_scheme(answer: Any) -> tuple[bool, str]:
    """The largest α for which the α-scheme is stable for every step ε > 0 and every eigenvalue with Re λ < 0."""
    if isinstance(answer, str) or hasattr(answer, "free_symbols"):  # "1/2" or a SymPy number
        expr = as_expression(answer, {})
        if not expr.is_number:
            raise ValueError("alpha must be a number")
        answer = float(expr)
    alpha = as_float(answer, "alpha")
    if not 0 <= alpha <= 1:
        return False, "α weights the old state, so it lies in [0, 1]."
    z = -np.logspace(-3, 6, 400)  # ελ on the negative real axis, out to stiff eigenvalues
    gain = np.abs((1 + alpha * z) / (1 - (1 - alpha) * z))
    if np.any(gain > 1 + 1e-12):
        return False, "with this α some stiff eigenvalue (large ε|λ| on the negative real axis) is amplified."
    if alpha < 0.5 - 1e-12:
        return False, "stable, yes, but a larger α is stable for every ε too: find the largest one."
    return True, "right: up to that weight the scheme is stable for every step and every stable eigenvalue."


def _lambda_function(answer: Any) -> Callable[[int], float] | sympy.Expr:
    """A student's lam_n as a SymPy expression or string in n, or a Python function of n."""
    if callable(answer) and not hasattr(answer, "free_symbols"):
        return answer
    import sympy as sp

    return as_expression(answer, {"n": sp.Symbol("n", integer=True, nonnegative=True)})


@register("hippo-rescaling",
          hint="Under c_n = lam_n c~_n the entries become A_nk lam_k / lam_n and B_n / lam_n. Make B_n / lam_n = 1 "
               "and see what lam_k / lam_n does to A_nk.")
def rescaling(answer: Any) -> tuple[bool, str]:
    """lam_n (SymPy expression in n, string, or function) turning LegT (w = 1) into B_n = 1, A_nk = -(2k+1) (k < n)."""
    import sympy as sp

    lam = _lambda_function(answer)
    n, k = sp.symbols("n k", integer=True, nonnegative=True)
    if isinstance(lam, sp.Expr):
        lam_n, lam_k = lam, lam.subs(n, k)
        # Symbolic check below the diagonal (k < n) and of B, for all n and k at once: the ratios to the targets
        # square to 1 (squaring removes the square roots SymPy will not always cancel); signs are checked below.
        ratio_a = sp.sqrt((2 * n + 1) * (2 * k + 1)) * lam_k / lam_n / (2 * k + 1)
        ratio_b = sp.sqrt(2 * (2 * n + 1)) / lam_n
        a_ok = sp.simplify(sp.expand_power_base(ratio_a**2, force=True) - 1) == 0
        b_ok = sp.simplify(sp.expand_power_base(ratio_b**2, force=True) - 1) == 0
        values = [complex(lam_n.subs(n, i).evalf()) for i in range(6)]
    else:
        values, error = call(lambda: [complex(lam(i)) for i in range(6)])
        if error:
            return False, f"your function raised an exception: {error}"
        a_ok = b_ok = None
    values = np.array(values)
    if np.any(values == 0) or not np.all(np.isfinite(values)):
        return False, "lam_n must be finite and non-zero for n = 0..5."
    A, B = legt_matrices(6)
    At, Bt = rescale(A, B, values)
    target_A, target_B = rescale(A, B, np.sqrt(2 * (2 * np.arange(6) + 1)))
    a_num = np.allclose(At, target_A, rtol=1e-12, atol=1e-12)
    b_num = np.allclose(Bt, target_B, rtol=1e-12, atol=1e-12)
    a_ok = a_num if a_ok is None else (a_ok and a_num)
    b_ok = b_num if b_ok is None else (b_ok and b_num)
    how = "symbolically for all n, k" if isinstance(lam, sp.Expr) else "for N = 6"
    if a_ok and b_ok:
        return True, f"right ({how}): the rescaled LegT has B_n = 1 and A_nk = -(2k+1) below the diagonal."
    if a_ok:
        ratio = Bt / target_B
        if np.allclose(ratio, ratio[0]):
            return False, "A is right, but every B_n is off by the same factor: the constant in lam_n is wrong."
        return False, "A is right, but B_n is not 1."
    if b_ok:
        return False, "B is right, but the rescaled A is not -(2k+1) below the diagonal."
    return False, "the rescaled B_n is not 1 for every n: B_n / lam_n must cancel sqrt(2(2n+1))."


@register("hippo-legs-solve",
          hint="With S_n = sum_{k<=n} sqrt(2k+1) z_k, row n of z - lam A z = v involves only z_n, S_n and S_{n-1}; "
               "solve it for S_n, loop over n, then recover z_n = (S_n - S_{n-1}) / sqrt(2n+1).")
def legs_solve(answer: Any) -> tuple[bool, str]:
    """A student's solve(lam, v) = (I - lam A)^{-1} v for LegS, against a dense solve (relative error < 1e-10)."""
    if not callable(answer):
        return False, "pass a function solve(lam, v) returning (I - lam A)^{-1} v."
    rng = np.random.default_rng(6)
    cases, expected = [], []
    for N in (1, 5, 64, 300):
        A = legs_matrices(N)[0]
        for lam in (0.1, 1.0, 10.0):
            v = rng.normal(size=N)
            cases.append((lam, v))
            expected.append(np.linalg.solve(np.eye(N) - lam * A, v))
    result = grade(answer, cases, expected, compare=lambda got, want: _max_error(got, want) <= 1e-10,
                   names=("lam", "v"))
    if result.passed:
        return True, "right for N = 1, 5, 64, 300 and lam = 0.1, 1, 10 (relative error below 1e-10)."
    return False, result.message()


@register("hippo-propagator",
          hint="A is lower triangular with eigenvalues -1, ..., -4, so e^{hA} = sum_j r^j P_j with spectral "
               "projectors P_j = prod_{i != j} (A + i I) / (i - j) and r = e^{-h}.")
def propagator(answer: Any) -> tuple[bool, str]:
    """Three polynomials in r: the entries (3,0), (3,1), (3,2) of e^{hA} for LegS, N = 4, with r = e^{-h}."""
    import sympy as sp

    from kexue import hippo_symbolic

    r = sp.Symbol("r")
    if isinstance(answer, dict):
        answer = [answer.get(key) for key in ((3, 0), (3, 1), (3, 2))]
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__") or len(answer) != 3:
        return False, "give three expressions in r: the entries (3,0), (3,1) and (3,2) of e^{hA}, in that order."
    P = hippo_symbolic.legs_propagator(4, r)
    names = ("(3,0)", "(3,1)", "(3,2)")
    wrong = []
    for name, got, (i, j) in zip(names, answer, ((3, 0), (3, 1), (3, 2))):
        try:
            expr = as_expression(got, {"r": r})
        except (TypeError, ValueError) as err:
            wrong.append(f"{name} ({err})")
            continue
        if sp.expand(expr - P[i, j]) != 0:
            wrong.append(name)
    if not wrong:
        return True, "right: all three entries agree with e^{hA} as exact polynomials in r = e^{-h}."
    return False, f"entries {', '.join(wrong)} do not agree with e^{{hA}} (checked symbolically as polynomials in r)."


@register("hippo-fourier-scaled",
          hint="Differentiate c_n(T) = int_0^1 u(sT) e^{-2i pi n s} ds, integrate by parts, and expand the leftover "
               "factor s in the Fourier series 1/2 + (i/2pi) sum_{k!=0} e^{2i pi k s}/k.")
def fourier_scaled(answer: Any) -> tuple[bool, str]:
    """(make_matrices, error12): a FouS builder N -> (A, B), and the measured error for N = 12, K = 400."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 2 or not callable(answer[0]):
        return False, "give a pair (make_matrices, error) with make_matrices(N) -> (A, B)."
    make, reported = answer
    result = grade(make, [(1,), (3,), (8,)], fourier_scaled_matrices, compare=_pair_within(1e-12), names=("N",))
    wrong = sorted({case[0] for case in result.wrong} | {case[0] for case, _ in result.raised})
    try:
        reported = float(reported)
    except (TypeError, ValueError):
        return False, "the error must be a number."
    expected = memory_run("fous", 12, 1 / 400, "zoh").coef_error
    error_ok = abs(reported - expected) <= 0.01 * expected
    if not wrong and error_ok:
        return True, "right: the matrices agree for N = 1, 3, 8 and your error for N = 12 is within 1%."
    parts = []
    if wrong:
        parts.append(f"the matrices differ for N = {wrong} (frequencies -N..N, in increasing order)")
    if not error_ok:
        side = "too large" if reported > expected else "too small"
        parts.append(f"the reported error is {side} by more than 1% (exact log-time steps, K = 400 on [0, 1], "
                     "relative 2-norm error against the exact Fourier coefficients)")
    return False, "; ".join(parts) + "."

"""Checkers for the exercises of chapter 01 (logsumexp and its bounds)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from kexue.exercises import as_float, grade, register
from kexue.logsumexp import _as_probability, _as_vector, _check_order, logsumexp, softmax, weighted_bound


def _to_float(value: Any) -> float:
    """A student's scalar return value (a number, 0-d or one-element array) as a float."""
    return float(np.asarray(value, dtype=np.float64).reshape(()))


@register("lse-ce-lipschitz",
          hint="The loss is lse(x) minus one logit. How far can each of the two terms move when every logit moves by "
               "at most δ, and can both moves point the same way?")
def ce_lipschitz(answer: Any) -> tuple[bool, str]:
    """The best constant c with |L(x) - L(x')| <= c max|x_i - x'_i| for the cross-entropy L(x) = lse(x) - x_y."""
    value = as_float(answer, "c")
    if value == 2.0:
        return True, ("right: lse moves by at most δ and the label's logit by δ, in opposite directions when the "
                      "softmax mass sits on another class.")
    if value == 1.0:
        return False, "that is the constant for lse alone; the loss also subtracts the label's logit, which moves too."
    if value < 2.0:
        return False, ("too small: lower the label's logit by δ and raise a dominant other logit by δ; how much "
                       "does the loss change?")
    return False, "a valid constant, but not the best one: bound each of the two terms separately."


def _smooth_min_cases() -> list[tuple[np.ndarray, float]]:
    """Random vectors and temperatures for the smooth-minimum sandwich."""
    rng = np.random.default_rng(90702)
    cases = []
    for tau in (1.0, 0.1, 3.0, 0.5, 10.0, 0.02):
        n = int(rng.integers(2, 9))
        cases.append((rng.normal(0, 4, size=n), tau))
    cases.append((np.array([5.0, 5.0, 5.0]), 2.0))
    return cases


def _smooth_min_reference(x: np.ndarray, tau: float) -> tuple[float, float]:
    """(x_min - tau log n, x_min): the sandwich of the smooth minimum -tau lse(-x / tau)."""
    return float(np.min(x) - tau * math.log(x.size)), float(np.min(x))


def _as_pair(value: Any) -> tuple[float, float]:
    """A student's (lower, upper) pair as two floats."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError("return a pair (lower, upper)")
    return as_float(value[0], "lower"), as_float(value[1], "upper")


@register("lse-smooth-min",
          hint="Write the smooth minimum as minus a smooth maximum of -x, and apply the temperature sandwich to -x.")
def smooth_min(answer: Any) -> tuple[bool, str]:
    """A student's smooth_min_bounds(x, tau) -> (lower, upper) for -tau lse(-x/tau), compared on 7 cases."""
    if not callable(answer):
        return False, "pass a function smooth_min_bounds(x, tau) that returns a pair (lower, upper)."
    cases = _smooth_min_cases()
    result = grade(answer, cases, _smooth_min_reference, rtol=1e-12, atol=1e-12, convert=_as_pair,
                   names=("x", "tau"))
    if result.passed:
        return True, f"right on all {len(cases)} cases: the smooth minimum lies below x_min by at most τ log n."
    message = result.message()
    values = [v for v in result.values if v is not None]
    smooth = [-logsumexp(-x, tau=tau) for x, tau in cases]
    if len(values) == len(cases) and any(lo > s + 1e-12 or hi < s - 1e-12 for (lo, hi), s in zip(values, smooth)):
        message += " For some case the smooth minimum lies outside your interval, so it is not a sandwich."
    return False, message


def cauchy_best_p(x: Sequence[float] = (1.0, 2.0, 3.0)) -> np.ndarray:
    """The probability vector that maximises the Cauchy bound p . x - log sum p_i**2 (KKT: p_i ∝ (x_i - λ)_+)."""
    x = np.asarray(x, dtype=float)

    def weights(lam: float) -> np.ndarray:
        w = np.maximum(x - lam, 0.0)
        return w / w.sum()

    # At the optimum x_i - 2 p_i / S = λ on the support (S = sum p²): p ∝ (x_i - λ)_+ with λ = x_i - 2 p_i / S.
    lo, hi = float(x.min()) - 100.0, float(x.max()) - 1e-12
    for _ in range(200):
        lam = (lo + hi) / 2
        p = weights(lam)
        s = float(p @ p)
        support = p > 0
        implied = float(np.mean(x[support] - 2 * p[support] / s))
        lo, hi = (lam, hi) if implied > lam else (lo, lam)
    return weights((lo + hi) / 2)


@register("lse-cauchy-best-p",
          hint="Maximise p . x - log sum p² over the simplex: with a Lagrange multiplier, the optimal p_i is a linear "
               "function of x_i where it is positive.")
def cauchy_best(answer: Any) -> tuple[bool, str]:
    """The p maximising the Cauchy (t = 2) bound for x = (1, 2, 3): its bound must be within 1e-9 of the best."""
    x = np.array([1.0, 2.0, 3.0])
    p = _as_probability(answer, "p", n=3)
    best = weighted_bound(x, cauchy_best_p(x), 2.0)
    value = weighted_bound(x, p, 2.0)
    if value >= best - 1e-9:
        return True, "right: no other p gives a larger Cauchy bound, and it still lies below lse(x)."
    if np.allclose(p, softmax(x), atol=1e-6):
        return False, ("that is softmax(x), the best p for the entropy bound; the Cauchy bound is maximised "
                       "elsewhere.")
    if np.allclose(p, 1 / 3, atol=1e-9):
        return False, "uniform weights give the mean bound; other weights give a larger Cauchy bound."
    if np.allclose(p, np.eye(3)[2], atol=1e-9):
        return False, "all weight on the largest entry gives x_max, and the log term is then 0; spread the weight."
    return False, "a valid p, but not the best one: its Cauchy bound can still be raised."


@register("lse-ce-margin",
          hint="With the label's logit m above every other one, lse(x) - x_y = log(1 + sum over j != y of "
               "exp(x_j - x_y)); how large can each term of the sum be?")
def ce_margin(answer: Any) -> tuple[bool, str]:
    """The tight upper bound ce_bound(m, n) on the cross-entropy loss when the label's logit leads by at least m."""
    if not callable(answer):
        return False, "pass a function ce_bound(m, n) that returns the largest possible loss."
    cases = [(m, n) for m in (0.0, 0.5, 2.0, 7.0, 30.0) for n in (2, 10, 1000)]
    reference = lambda m, n: math.log1p((n - 1) * math.exp(-m))  # noqa: E731
    result = grade(answer, cases, reference, rtol=1e-10, atol=1e-15, convert=_to_float, names=("m", "n"),
                   what="(margin, classes) cases")
    if result.passed:
        return True, f"right on all {len(cases)} cases: the bound is attained when every other logit is exactly m below."
    message = result.message()
    values = result.values
    if all(v is not None for v in values):
        if all(math.isclose(v, (n - 1) * math.exp(-m), rel_tol=1e-9) for v, (m, n) in zip(values, cases)):
            message += " That is a valid bound (log(1 + u) <= u) but never attained; keep the logarithm."
        elif all(math.isclose(v, math.log(n), rel_tol=1e-9) for v, (m, n) in zip(values, cases)):
            message += " That ignores the margin: a leading label logit lowers the loss."
        elif any(v < reference(m, n) - 1e-9 for v, (m, n) in zip(values, cases)):
            message += " In some case your value is below a loss that logits with that margin actually reach."
    return False, message


@register("lse-holder-fails",
          hint="The family p . x + H_t(p) is largest when p = softmax(x); there, at t = 1, it touches lse. Renyi "
               "entropy keeps growing as t drops below 1.")
def holder_fails(answer: Any) -> tuple[bool, str]:
    """A triple (x, p, t) with 0 <= t < 1 for which p . x + H_t(p) exceeds lse(x)."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Sequence) or len(answer) != 3:
        return False, "pass a triple (x, p, t)."
    x = _as_vector(answer[0], "x", min_size=2)
    p = _as_probability(answer[1], "p", n=x.size)
    t = _check_order(answer[2], "t")
    if t >= 1:
        return False, "for t >= 1 the bound is a theorem and cannot fail; choose an order t below 1."
    excess = weighted_bound(x, p, t) - float(logsumexp(x))
    if excess > 1e-9 * max(1.0, float(np.max(np.abs(x)))):
        return True, f"right: at t = {t:g} the 'bound' exceeds lse(x) by {excess:.3g}, so t >= 1 is needed."
    return False, "here the inequality still holds (lse(x) is larger); try another p or t."

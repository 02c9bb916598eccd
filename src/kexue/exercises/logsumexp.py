"""Checkers for the exercises of chapter 01 (logsumexp and its bounds)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from kexue.exercises import as_float, grade, register
from kexue.logsumexp import (EX_LIMIT_P, EX_LIMIT_X, _as_probability, _as_vector, _check_order, logsumexp,
                             renyi_entropy, weighted_bound)


def _to_float(value: Any) -> float:
    """A student's scalar return value (a number, 0-d or one-element array) as a float."""
    return float(np.asarray(value, dtype=np.float64).reshape(()))


def _n2_gap_cases() -> list[tuple[float, float]]:
    """Pairs for the n = 2 gap exercise: random moderate pairs, ties, a < b, and large entries."""
    rng = np.random.default_rng(9070)
    pairs = [(float(a), float(b)) for a, b in rng.normal(0, 5, size=(100, 2))]
    pairs += [(1.0, 1.0), (-3.5, -3.5), (0.0, 30.0), (30.0, 0.0), (-2.0, 5.0)]
    pairs += [(800.0, 790.0), (1000.0, 1000.0), (-750.0, -760.0)]
    return pairs


def _n2_gap_reference(a: float, b: float) -> float:
    """The n = 2 gap, evaluated directly from its closed form."""
    return math.log1p(math.exp(-abs(a - b)))


@register("lse-n2-gap", hint="Factor e^max(a, b) out of e^a + e^b; what is left inside the logarithm?")
def n2_gap(answer: Any) -> tuple[bool, str]:
    """A student's gap(a, b) = lse(a, b) - max(a, b), checked on 108 pairs (absolute error <= 1e-12 * scale)."""
    if not callable(answer):
        return False, "pass a function gap(a, b) that returns a number."
    pairs = _n2_gap_cases()
    result = grade(answer, pairs, _n2_gap_reference, rtol=0.0, atol=lambda a, b: 1e-12 * max(1.0, abs(a), abs(b)),
                   convert=_to_float, names=("a", "b"), what="pairs")
    if result.passed:
        return True, f"right on all {len(pairs)} pairs, including ties and entries near 1000."
    message = result.message()
    wrong = result.wrong
    if wrong and all(max(abs(a), abs(b)) > 700 for a, b in wrong):
        message += " Only pairs with entries above 700 fail: does the function evaluate exp(a) itself? It overflows."
    elif wrong and all(a < b for a, b in wrong):
        message += " It fails exactly when a < b: the formula must be symmetric in a and b."
    return False, message


def _holder_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Random (x, p, t) with t > 1, including t = 2, large t and p with zeros."""
    rng = np.random.default_rng(90701)
    cases = []
    for k, t in enumerate([2.0, 1.5, 3.0, 1.05, 7.5, 2.0, 4.0, 1.2, 10.0, 2.5, 1.8, 6.0]):
        n = int(rng.integers(2, 9))
        x = rng.normal(0, 3, size=n)
        p = rng.dirichlet(np.full(n, 0.5 if k % 3 else 2.0))
        if k % 4 == 3:
            p[0] = 0.0
            p /= p.sum()
        cases.append((x, p, t))
    return cases


@register("lse-holder-bound",
          hint="Hölder with exponents t and t/(t-1) on the sum of p_i * exp(x_i (t-1)/t), then Jensen on the same "
               "sum; take logarithms and multiply by t/(t-1).")
def holder_bound(answer: Any) -> tuple[bool, str]:
    """A student's holder_bound(x, p, t), compared with p . x + H_t(p) on 12 random cases with t > 1."""
    if not callable(answer):
        return False, "pass a function holder_bound(x, p, t) that returns a number."
    cases = _holder_cases()
    result = grade(answer, cases, weighted_bound, rtol=0.0,
                   atol=lambda x, p, t: 1e-9 * max(1.0, abs(weighted_bound(x, p, t))),
                   convert=_to_float, names=("x", "p", "t"))
    if result.passed:
        return True, f"right on all {len(cases)} cases (t from 1.05 to 10, some p with zeros), and below lse."
    message = result.message()
    if result.right == 2 and not any(case[2] == 2.0 for case in result.wrong + [c for c, _ in result.raised]):
        message += " It is right for t = 2 only: the exponent of p and the factor in front of the log depend on t."
    above = sum(v is not None and math.isfinite(v) and v > float(logsumexp(x)) + 1e-9
                for v, (x, _, _) in zip(result.values, cases))
    if above:
        message += (f" In {above} case(s) your value exceeds lse(x), so it cannot be a lower bound: check the sign "
                    "and the factor in front of the logarithm.")
    return False, message


@register("lse-entropy-limit",
          hint="Write the log term as log(sum p^t) / (1 - t); both numerator and denominator vanish at t = 1, so "
               "differentiate both with respect to t.")
def entropy_limit(answer: Any) -> tuple[bool, str]:
    """The limit t -> 1 of the Hölder bound for x = EX_LIMIT_X, p = EX_LIMIT_P (relative tolerance 1e-10)."""
    value = as_float(answer, "answer")
    x, p = np.array(EX_LIMIT_X), np.array(EX_LIMIT_P)
    expected = weighted_bound(x, p, 1.0)
    lse_x = float(logsumexp(x))
    if math.isclose(value, expected, rel_tol=1e-10, abs_tol=1e-12):
        return True, "right: the limit is p . x plus the Shannon entropy of p, still below lse(x)."
    if math.isclose(value, weighted_bound(x, p, 2.0), rel_tol=1e-10):
        return False, "that is the t = 2 (Cauchy) member of the family, not its limit as t -> 1."
    if math.isclose(value, lse_x, rel_tol=1e-10):
        return False, "that is lse(x) itself; the limit reaches lse(x) only when p = softmax(x), not the case here."
    if math.isclose(value, float(p @ x) - renyi_entropy(p, 1.0), rel_tol=1e-10):
        return False, "the entropy term has the wrong sign: -sum p log p is positive."
    if value > lse_x:
        return False, "too large: it exceeds lse(x), and every member of the family is a lower bound."
    if value < weighted_bound(x, p, 1.0 + 1e-6) - 1e-9:
        return False, "too small: the bounds increase as t decreases to 1, and your value is below members near t = 1."
    return False, "not the limit (it lies between the family and lse(x)); check the logarithms' base and the entropy."


@register("lse-lipschitz-ratio",
          hint="The slope of lse along the segment is a softmax-weighted average of x_i - y_i; make one coordinate "
               "dominate the softmax along the whole segment and put the largest change there.")
def lipschitz_ratio(answer: Any) -> tuple[bool, str]:
    """A pair (x, y) with x - y far from constant whose ratio |lse(x) - lse(y)| / max|x_i - y_i| exceeds 0.99."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Sequence) or len(answer) != 2:
        return False, "pass a pair (x, y) of vectors of the same length."
    x = _as_vector(answer[0], "x", min_size=2)
    y = _as_vector(answer[1], "y", n=x.size)
    d = x - y
    size = float(np.max(np.abs(d)))
    if size == 0:
        return False, "x and y are equal, so the ratio is undefined; move y away from x."
    if float(np.ptp(d)) < 0.5 * size:
        return False, ("x - y is (nearly) a constant vector: that is the equality case. Find a pair whose "
                       "differences spread over at least half of their largest size.")
    ratio = abs(float(logsumexp(x)) - float(logsumexp(y))) / size
    if ratio > 0.99:
        return True, f"right: the ratio is {ratio:.5f} although x - y is far from constant."
    return False, f"the ratio is {ratio:.4f}, below 0.99: the softmax weights spread the change over several entries."


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

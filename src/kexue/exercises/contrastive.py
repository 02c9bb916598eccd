"""Checkers for the exercises of chapter 09 (supervised sentence similarity: cosine losses, CoSENT, distillation).

The reference answers are computed here with NumPy, so that loading the checkers does not import PyTorch.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kexue.exercises import call, grade, register


# --- Reference computations (NumPy) ------------------------------------------------------------------------------
def _cosent(cos: NDArray[np.float64], labels: NDArray[np.float64], lam: float) -> float:
    """CoSENT in float64: log(1 + Σ_{labels_i > labels_k} exp(λ(c_k - c_i)))."""
    diff = lam * (cos[None, :] - cos[:, None])
    terms = np.concatenate([[0.0], diff[labels[:, None] > labels[None, :]]])
    top = terms.max()
    return float(top + np.log(np.exp(terms - top).sum()))


def _cosent_limits(cos: NDArray[np.float64], labels: NDArray[np.float64]) -> tuple[float, float]:
    """(lim L(λ)/λ as λ → ∞, lim L(λ) as λ → 0)."""
    ordered = labels[:, None] > labels[None, :]
    gaps = (cos[None, :] - cos[:, None])[ordered]
    return float(max(0.0, gaps.max(initial=0.0))), math.log1p(int(ordered.sum()))


def _project_out(E: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows of E without their component along n, then renormalised."""
    n = n / np.linalg.norm(n)
    P = E - np.outer(E @ n, n)
    return P / np.linalg.norm(P, axis=1, keepdims=True)


def _orthogonal(d: int, seed: int) -> NDArray[np.float64]:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


# --- 1. Gradients of the cosine losses ---------------------------------------------------------------------------
COS_POINTS = (0.3, -0.2)


def _cos_gradients() -> NDArray[np.float64]:
    """dℓ/dcos for a dissimilar pair (t = 0): rows are cos = 0.3 and -0.2, columns ℓ1, ℓ2, ℓ3."""
    return np.array([[2 * c, 2 * (c + 1), 1.0 if c > 0.1 else 0.0] for c in COS_POINTS])


@register("contrastive-cos-gradients", hint="for t = 0 the losses are c², (c + 1)² and max(c - 0.1, 0); "
                                            "differentiate each with respect to c")
def _cos_gradients_check(answer: Any) -> tuple[bool, str]:
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False, "answer with a 2 x 3 array: rows cos = 0.3 and cos = -0.2, columns ℓ1, ℓ2, ℓ3"
    if got.shape != (2, 3):
        return False, f"answer with a 2 x 3 array (rows cos = 0.3 and -0.2, columns ℓ1, ℓ2, ℓ3), got shape {got.shape}"
    want = _cos_gradients()
    right = np.isclose(got, want, rtol=1e-6, atol=1e-9)
    if right.all():
        return True, ("all six derivatives are right: ℓ1 pulls a negative pair at cos -0.2 back up towards 0, ℓ2 "
                      "keeps pushing it towards -1, and ℓ3 leaves it alone")
    names = ("ℓ1", "ℓ2", "ℓ3")
    wrong = [f"{names[j]} at cos {COS_POINTS[i]}" for i in range(2) for j in range(3) if not right[i, j]]
    return False, f"{len(wrong)} of 6 derivatives are not right, e.g. {wrong[0]}"


# --- 2. CoSENT with graded labels --------------------------------------------------------------------------------
def _cosent_cases() -> list[tuple[NDArray[np.float64], NDArray[np.float64], float]]:
    rng = np.random.default_rng(8847)
    cases = [(np.array([0.9, 0.6, 0.7, 0.2]), np.array([1.0, 1.0, 0.0, 0.0]), 20.0),
             (np.array([0.8, 0.5, 0.3]), np.array([2.0, 1.0, 0.0]), 20.0),
             (np.array([0.1, 0.4, 0.4, 0.9]), np.array([0.5, 0.5, 0.5, 0.5]), 20.0)]  # all tied: loss 0
    for n, lam in ((6, 20.0), (9, 5.0), (12, 50.0)):
        cos = rng.uniform(-1, 1, n)
        labels = rng.integers(0, 4, n).astype(float) * 1.25  # graded, with ties
        cases.append((cos, labels, lam))
    cases.append((rng.uniform(-1, 1, 10), rng.uniform(0, 5, 10).round(1), 20.0))  # real-valued scores
    return cases


@register("contrastive-cosent-graded", hint="sum over every ordered pair (i, k) with label_i strictly greater than "
                                            "label_k; tied pairs contribute nothing, and keep the 1 inside the log")
def _cosent_graded(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "answer with your function cosent(cos, labels, lam) returning a number"
    result = grade(answer, _cosent_cases(), _cosent, rtol=1e-7, atol=1e-10, names=("cos", "labels", "lam"))
    return result.passed, result.message("your CoSENT agrees on every case, ties and real-valued labels included.")


# --- 3. Projecting out the negation direction --------------------------------------------------------------------
def _projection_cases() -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    rng = np.random.default_rng(8541)
    return [(rng.normal(size=(5, 4)), rng.normal(size=4)), (rng.normal(size=(3, 8)) + 2, 10 * rng.normal(size=8)),
            (np.eye(3) + 0.5, np.array([1.0, 0.0, 0.0]))]


@register("contrastive-negation-projection",
          hint="make n a unit vector, subtract (e·n) n from every row e, then divide each row by its new length")
def _negation_projection(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2 or not callable(answer[0]):
        return False, "answer with a pair (project_out, cos_after): your function and the measured cosine"
    project, value = answer
    result = grade(project, _projection_cases(), _project_out, rtol=1e-6, atol=1e-9, names=("E", "n"))
    if not result.passed:
        return False, "your project_out: " + result.message()
    try:
        cos_after = float(value)
    except (TypeError, ValueError):
        return False, "project_out is right; cos_after must be a number"
    if not math.isfinite(cos_after) or not -1 <= cos_after <= 1:
        return False, "project_out is right; cos_after must be a cosine, between -1 and 1"
    if cos_after < 0.985:
        return False, ("project_out is right, but the cosine after projection is too low: did you project both "
                       "embeddings, with the direction from all 64 triples, and renormalise?")
    return True, "right: without that one direction, 我喜欢北京 and 我不喜欢北京 are as close as a paraphrase pair"


# --- 4. Which maps leave the distillation loss unchanged ---------------------------------------------------------
def _invariance_cases() -> list[tuple[NDArray[np.float64], bool]]:
    q = _orthogonal(4, 1)
    shear = np.eye(4)
    shear[0, 1] = 0.7
    return [(q, True), (3.0 * _orthogonal(4, 2), True), (-q, True), (np.eye(4)[[2, 0, 3, 1]], True),
            (-0.5 * np.eye(4), True), (shear, False), (np.diag([1.0, 2.0, 1.0, 1.0]), False),
            (q @ np.diag([1.0, 1.0, 1.0, 1.5]), False), (np.ones((4, 4)) + np.eye(4), False)]


@register("contrastive-distill-invariance", hint="cosines between rows depend only on the Gram matrix V Vᵀ up to "
                                                 "the rows' lengths; which A keep (VA)(VA)ᵀ proportional to V Vᵀ?")
def _distill_invariance(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "answer with your function leaves_invariant(A) returning True or False"
    misjudged_invariant = misjudged_other = failed = 0
    for matrix, invariant in _invariance_cases():
        value, error = call(answer, matrix.copy())
        if error is not None or not isinstance(value, (bool, np.bool_)):
            failed += 1
        elif bool(value) != invariant:
            misjudged_invariant += invariant
            misjudged_other += not invariant
    total = len(_invariance_cases())
    if failed:
        return False, f"your function raised an exception or did not return True/False on {failed} of {total} matrices"
    if misjudged_invariant or misjudged_other:
        parts = ([f"{misjudged_invariant} map(s) that leave the loss unchanged called not invariant"]
                 if misjudged_invariant else []) + (
                [f"{misjudged_other} map(s) that change it called invariant"] if misjudged_other else [])
        return False, f"{' and '.join(parts)}, out of {total} matrices"
    return True, f"right on all {total} matrices: exactly the non-zero multiples of orthogonal matrices"


# --- 5. CoSENT's two limits --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _limit_cases() -> tuple[tuple[NDArray[np.float64], NDArray[np.float64]], ...]:
    rng = np.random.default_rng(20)
    cases = [(np.array([0.9, 0.6, 0.7, 0.2]), np.array([1.0, 1.0, 0.0, 0.0])),
             (np.array([0.9, 0.8, 0.3, 0.1]), np.array([1.0, 1.0, 0.0, 0.0])),  # no violation: slope 0
             (np.array([0.2, 0.5, 0.8]), np.array([2.0, 1.0, 0.0]))]
    cases += [(rng.uniform(-1, 1, 8), rng.integers(0, 3, 8).astype(float)) for _ in range(3)]
    return tuple(cases)


@register("contrastive-cosent-limit", hint="for large λ the largest exponent dominates the sum; as λ → 0 every term "
                                           "tends to e⁰ = 1: count the ordered pairs")
def _cosent_limit(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "answer with your function limits(cos, labels) returning (slope, value_at_zero)"
    result = grade(answer, list(_limit_cases()), _cosent_limits, rtol=1e-7, atol=1e-9, names=("cos", "labels"))
    if result.passed:
        return True, "both limits are right on every case: a soft maximum of the worst violation, and log(1 + #pairs)"
    return False, result.message() + " Return a pair (slope, value_at_zero)."

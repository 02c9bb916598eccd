"""Tests for the exercise checkers of chapter 09 (kexue.exercises.contrastive): reference answers pass, wrong and
do-nothing answers fail, and no message gives the answer away."""
from __future__ import annotations

import numpy as np
import pytest

from kexue import exercises
from kexue.exercises import check
from kexue.exercises import contrastive as X

EXERCISES = ["contrastive-cos-gradients", "contrastive-cosent-graded", "contrastive-cosent-limit",
             "contrastive-distill-invariance", "contrastive-negation-projection"]


def test_all_exercises_registered() -> None:
    assert sorted(i for i in exercises.registered() if i.startswith("contrastive-")) == EXERCISES


@pytest.mark.parametrize("exercise_id", EXERCISES)
@pytest.mark.parametrize("answer", [None, 0, 0.0, (), [], "1", lambda *args: 0.0, lambda *args: None,
                                    (lambda *args: args[0], 0.9)])
def test_do_nothing_answers_fail(exercise_id: str, answer: object) -> None:
    assert not check(exercise_id, answer).passed


def test_cos_gradients() -> None:
    right = [[0.6, 2.6, 1.0], [-0.4, 1.6, 0.0]]
    assert check("contrastive-cos-gradients", right).passed
    feedback = check("contrastive-cos-gradients", [[0.6, 2.6, 1.0], [0.4, 1.6, 0.0]])  # |c| instead of c
    assert not feedback.passed and "1 of 6" in feedback.message and "-0.4" not in str(feedback)
    assert not check("contrastive-cos-gradients", [[0.09, 1.69, 0.2], [0.04, 0.64, 0.0]]).passed  # losses, not slopes
    assert not check("contrastive-cos-gradients", np.zeros((3, 2))).passed


def cosent(cos, labels, lam):
    cos, labels = np.asarray(cos, float), np.asarray(labels, float)
    terms = [lam * (cos[k] - cos[i]) for i in range(len(cos)) for k in range(len(cos)) if labels[i] > labels[k]]
    return float(np.log1p(np.exp(terms).sum())) if terms else 0.0


def test_cosent_graded() -> None:
    assert check("contrastive-cosent-graded", cosent).passed

    def with_ties(cos, labels, lam):
        cos, labels = np.asarray(cos, float), np.asarray(labels, float)
        terms = [lam * (cos[k] - cos[i]) for i in range(len(cos)) for k in range(len(cos))
                 if labels[i] >= labels[k] and i != k]
        return float(np.log1p(np.exp(terms).sum()))

    def binary_only(cos, labels, lam):
        return cosent(cos, np.asarray(labels) > np.median(labels), lam)

    def without_one(cos, labels, lam):
        value = cosent(cos, labels, lam)
        return float(np.log(np.expm1(value))) if value > 0 else 0.0

    for wrong in (with_ties, binary_only, without_one):
        feedback = check("contrastive-cosent-graded", wrong)
        assert not feedback.passed, wrong.__name__


def project_out(E, n):
    n = np.asarray(n, float) / np.linalg.norm(n)
    P = np.asarray(E, float) - np.outer(np.asarray(E, float) @ n, n)
    return P / np.linalg.norm(P, axis=1, keepdims=True)


def test_negation_projection() -> None:
    assert check("contrastive-negation-projection", (project_out, 0.995)).passed
    feedback = check("contrastive-negation-projection", (project_out, 0.955))
    assert not feedback.passed and "too low" in feedback.message
    not_normalised = lambda E, n: np.asarray(E) - np.outer(np.asarray(E) @ (n / np.linalg.norm(n)),  # noqa: E731
                                                              n / np.linalg.norm(n))
    assert not check("contrastive-negation-projection", (not_normalised, 0.995)).passed
    def unit_n_assumed(E, n):  # forgets to normalise n before projecting
        P = np.asarray(E) - np.outer(np.asarray(E) @ n, n)
        return P / np.linalg.norm(P, axis=1, keepdims=True)

    assert not check("contrastive-negation-projection", (unit_n_assumed, 0.995)).passed
    assert not check("contrastive-negation-projection", (project_out, 1.5)).passed


def leaves_invariant(A):
    gram = A @ A.T
    scale = gram[0, 0]
    return bool(scale > 1e-12 and np.allclose(gram, scale * np.eye(len(A)), atol=1e-9 * scale))


def test_distill_invariance() -> None:
    assert check("contrastive-distill-invariance", leaves_invariant).passed
    only_orthogonal = lambda A: bool(np.allclose(A @ A.T, np.eye(len(A))))  # noqa: E731
    feedback = check("contrastive-distill-invariance", only_orthogonal)
    assert not feedback.passed and "called not invariant" in feedback.message
    invertible = lambda A: bool(abs(np.linalg.det(A)) > 1e-9)  # noqa: E731
    feedback = check("contrastive-distill-invariance", invertible)
    assert not feedback.passed and "called invariant" in feedback.message
    for constant in (True, False):
        assert not check("contrastive-distill-invariance", lambda A, c=constant: c).passed


def limits(cos, labels):
    cos, labels = np.asarray(cos, float), np.asarray(labels, float)
    gaps = [cos[k] - cos[i] for i in range(len(cos)) for k in range(len(cos)) if labels[i] > labels[k]]
    return max([0.0, *gaps]), float(np.log1p(len(gaps)))


def test_cosent_limit() -> None:
    assert check("contrastive-cosent-limit", limits).passed
    assert not check("contrastive-cosent-limit", lambda c, y: (limits(c, y)[0], np.log(len(c)))).passed
    no_floor = lambda c, y: (max(np.asarray(c)[None, :] - np.asarray(c)[:, None]  # noqa: E731
                                 [np.asarray(y)[:, None] > np.asarray(y)[None, :]]), limits(c, y)[1])
    assert not check("contrastive-cosent-limit", no_floor).passed


def test_references_agree_with_the_topic_module() -> None:
    torch = pytest.importorskip("torch")
    from kexue import contrastive as C

    for cos, labels, lam in X._cosent_cases():
        want = float(C.cosent_loss(torch.from_numpy(cos), torch.from_numpy(labels), lam))
        assert np.isclose(X._cosent(cos, labels, lam), want, rtol=1e-12)

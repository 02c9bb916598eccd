"""Tests for the exercise checkers of chapter 01 (kexue.exercises.logsumexp)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from kexue import exercises
from kexue import logsumexp as L


LSE_IDS = ["lse-entropy-limit", "lse-holder-bound", "lse-holder-fails", "lse-lipschitz-ratio", "lse-n2-gap"]


def holder_reference(x, p, t):
    p, x = np.asarray(p), np.asarray(x)
    return float(p @ x + np.log(np.sum(p**t)) / (1 - t))


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("lse-")) == LSE_IDS


EX_X, EX_P = np.array(L.EX_LIMIT_X), np.array(L.EX_LIMIT_P)
EX_ANSWER = float(EX_P @ EX_X - np.sum(EX_P * np.log(EX_P)))


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("lse-n2-gap", lambda a, b: math.log1p(math.exp(-abs(a - b))), lambda a, b: math.log(2)),
    ("lse-holder-bound", holder_reference, lambda x, p, t: float(np.dot(p, x) - np.log(np.sum(np.square(p))))),
    ("lse-entropy-limit", EX_ANSWER, L.weighted_bound(EX_X, EX_P, 2.0)),
    ("lse-lipschitz-ratio", ([10.0, 0.0], [9.0, 0.0]), ([1.0, 0.0], [0.0, 0.0])),
    ("lse-holder-fails", ([0.0, 1.0, 2.0, -1.0], L.softmax([0.0, 1.0, 2.0, -1.0]), 0.5),
     ([0.0, 1.0, 2.0, -1.0], L.softmax([0.0, 1.0, 2.0, -1.0]), 1.5)),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


def test_n2_gap_feedback():
    naive = exercises.check("lse-n2-gap", lambda a, b: np.log(np.exp(a) + np.exp(b)) - max(a, b))
    assert not naive.passed and "overflows" in naive.message
    one_sided = exercises.check("lse-n2-gap", lambda a, b: math.log1p(math.exp(b - a)))
    assert not one_sided.passed and "a < b" in one_sided.message
    assert exercises.check("lse-n2-gap", lambda a, b: L.logsumexp([a, b]) - max(a, b)).passed
    assert exercises.check("lse-n2-gap", lambda a, b: np.log1p(np.exp(-np.abs(a - b)))).passed

    def broken(a, b):
        raise ZeroDivisionError

    feedback = exercises.check("lse-n2-gap", broken)
    assert not feedback.passed and "exception" in feedback.message
    assert not exercises.check("lse-n2-gap", 0.3).passed


def test_holder_bound_feedback():
    cauchy = exercises.check("lse-holder-bound", lambda x, p, t: L.weighted_bound(x, p, 2.0))
    assert not cauchy.passed and "t = 2 only" in cauchy.message
    factor = exercises.check("lse-holder-bound",
                             lambda x, p, t: float(np.dot(p, x) - t / (t - 1) * np.log(np.sum(p**t))))
    assert not factor.passed and "exceeds lse" in factor.message
    assert "exception" in exercises.check("lse-holder-bound", lambda x, p, t: 1 / 0).message
    assert exercises.check("lse-holder-bound", lambda x, p, t: L.weighted_bound(x, p, t)).passed


def test_entropy_limit_feedback():
    lse = float(L.logsumexp(EX_X))
    assert "t = 2" in exercises.check("lse-entropy-limit", L.weighted_bound(EX_X, EX_P, 2.0)).message
    assert "lse(x) itself" in exercises.check("lse-entropy-limit", lse).message
    sign = float(EX_P @ EX_X + np.sum(EX_P * np.log(EX_P)))
    assert "sign" in exercises.check("lse-entropy-limit", sign).message
    assert "too large" in exercises.check("lse-entropy-limit", lse + 1).message
    assert "too small" in exercises.check("lse-entropy-limit", EX_ANSWER - 1).message
    assert not exercises.check("lse-entropy-limit", (EX_ANSWER + lse) / 2).passed
    assert not exercises.check("lse-entropy-limit", "1.68").passed
    assert exercises.check("lse-entropy-limit", np.float64(EX_ANSWER)).passed


def test_lipschitz_ratio_feedback():
    shift = exercises.check("lse-lipschitz-ratio", ([1.0, 2.0, 3.0], [0.0, 1.0, 2.001]))
    assert not shift.passed and "constant" in shift.message
    assert "undefined" in exercises.check("lse-lipschitz-ratio", ([1.0, 2.0], [1.0, 2.0])).message
    assert not exercises.check("lse-lipschitz-ratio", ([1.0, 2.0], [1.0])).passed
    assert not exercises.check("lse-lipschitz-ratio", [1.0, 2.0, 3.0]).passed


def test_holder_fails_feedback():
    x = [0.0, 1.0, 2.0, -1.0]
    assert "theorem" in exercises.check("lse-holder-fails", (x, L.softmax(x), 1.0)).message
    holds = exercises.check("lse-holder-fails", (x, [0.25] * 4, 0.5))
    assert not holds.passed and "still holds" in holds.message
    bad_p = exercises.check("lse-holder-fails", (x, [0.5, 0.5, 0.5, 0.5], 0.5))
    assert not bad_p.passed and "p must sum to 1" in bad_p.message


def test_messages_do_not_reveal_answers():
    answer_texts = [f"{EX_ANSWER:.4f}", f"{EX_ANSWER:.3f}", f"{EX_ANSWER:.2f}"]
    wrongs = [L.weighted_bound(EX_X, EX_P, 2.0), float(L.logsumexp(EX_X)), EX_ANSWER - 1, EX_ANSWER + 0.01, 0.0]
    for wrong in wrongs:
        feedback = str(exercises.check("lse-entropy-limit", wrong))
        assert not any(text in feedback for text in answer_texts)
    for wrong in (lambda a, b: 0.0, lambda a, b: math.log(2)):
        feedback = str(exercises.check("lse-n2-gap", wrong))
        assert "log1p" not in feedback and "abs" not in feedback
    feedback = str(exercises.check("lse-holder-fails", ([0.0, 1.0], [0.5, 0.5], 0.5)))
    assert "softmax(x)" not in feedback.split("Hint")[0]

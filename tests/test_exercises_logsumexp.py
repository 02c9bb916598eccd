"""Tests for the exercise checkers of chapter 01 (kexue.exercises.logsumexp)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from kexue import exercises
from kexue import logsumexp as L
from kexue.exercises.logsumexp import cauchy_best_p

LSE_IDS = ["lse-cauchy-best-p", "lse-ce-lipschitz", "lse-ce-margin", "lse-holder-fails", "lse-smooth-min"]
X4 = [0.0, 1.0, 2.0, -1.0]


def smooth_min_bounds(x, tau):
    x = np.asarray(x)
    return float(np.min(x) - tau * np.log(x.size)), float(np.min(x))


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("lse-")) == LSE_IDS


def test_cauchy_best_p_is_the_maximiser():
    # An independent optimiser (Nelder-Mead on the simplex) finds no better p.
    x = np.array([1.0, 2.0, 3.0])
    found = minimize(lambda q: -L.weighted_bound(x, np.abs(q) / np.abs(q).sum(), 2.0), [0.3, 0.3, 0.4],
                     method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 10_000})
    best = cauchy_best_p(x)
    assert L.weighted_bound(x, best, 2.0) >= -found.fun - 1e-12
    assert L.weighted_bound(x, best, 2.0) < float(L.logsumexp(x))


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("lse-ce-lipschitz", 2, 1),
    ("lse-ce-lipschitz", 2, 0),
    ("lse-smooth-min", smooth_min_bounds, lambda x, tau: (float(np.min(x)), float(np.min(x) + tau * np.log(len(x))))),
    ("lse-smooth-min", smooth_min_bounds, lambda x, tau: (0.0, 0.0)),
    ("lse-cauchy-best-p", cauchy_best_p(), L.softmax([1.0, 2.0, 3.0])),
    ("lse-cauchy-best-p", cauchy_best_p(), [1 / 3, 1 / 3, 1 / 3]),
    ("lse-ce-margin", lambda m, n: math.log1p((n - 1) * math.exp(-m)), lambda m, n: (n - 1) * math.exp(-m)),
    ("lse-ce-margin", lambda m, n: math.log1p((n - 1) * math.exp(-m)), lambda m, n: 0.0),
    ("lse-holder-fails", (X4, L.softmax(X4), 0.5), (X4, L.softmax(X4), 1.5)),
    ("lse-holder-fails", (X4, L.softmax(X4), 0.5), None),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


def test_ce_lipschitz_feedback():
    assert "lse alone" in exercises.check("lse-ce-lipschitz", 1.0).message
    assert "too small" in exercises.check("lse-ce-lipschitz", 1.5).message
    assert "not the best" in exercises.check("lse-ce-lipschitz", 3).message
    assert not exercises.check("lse-ce-lipschitz", "2").passed


def test_smooth_min_feedback():
    upside_down = exercises.check("lse-smooth-min",
                                  lambda x, tau: (float(np.min(x)), float(np.min(x) + tau * np.log(len(x)))))
    assert "outside your interval" in upside_down.message
    assert "exception" in exercises.check("lse-smooth-min", lambda x, tau: 1 / 0).message
    assert not exercises.check("lse-smooth-min", lambda x, tau: 3.0).passed
    assert not exercises.check("lse-smooth-min", 1.0).passed


def test_cauchy_best_p_feedback():
    assert "softmax" in exercises.check("lse-cauchy-best-p", L.softmax([1.0, 2.0, 3.0])).message
    assert "mean bound" in exercises.check("lse-cauchy-best-p", [1 / 3] * 3).message
    assert "x_max" in exercises.check("lse-cauchy-best-p", [0.0, 0.0, 1.0]).message
    assert "not the best" in exercises.check("lse-cauchy-best-p", [0.1, 0.3, 0.6]).message
    assert "sum to 1" in exercises.check("lse-cauchy-best-p", [0.5, 0.5, 0.5]).message
    text = str(exercises.check("lse-cauchy-best-p", [0.1, 0.3, 0.6]))
    assert "0.122" not in text and "0.544" not in text


def test_ce_margin_feedback():
    assert "log(1 + u) <= u" in exercises.check("lse-ce-margin", lambda m, n: (n - 1) * math.exp(-m)).message
    assert "ignores the margin" in exercises.check("lse-ce-margin", lambda m, n: math.log(n)).message
    below = exercises.check("lse-ce-margin", lambda m, n: math.log1p((n - 1) * math.exp(-m)) / 2)
    assert "actually reach" in below.message
    assert not exercises.check("lse-ce-margin", 0.3).passed


def test_holder_fails_feedback():
    assert "theorem" in exercises.check("lse-holder-fails", (X4, L.softmax(X4), 1.0)).message
    holds = exercises.check("lse-holder-fails", (X4, [0.25] * 4, 0.5))
    assert not holds.passed and "still holds" in holds.message
    bad_p = exercises.check("lse-holder-fails", (X4, [0.5, 0.5, 0.5, 0.5], 0.5))
    assert not bad_p.passed and "p must sum to 1" in bad_p.message
    feedback = str(exercises.check("lse-holder-fails", ([0.0, 1.0], [0.5, 0.5], 0.5)))
    assert "softmax(x)" not in feedback.split("Hint")[0]

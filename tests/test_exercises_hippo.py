"""Tests for the exercise checkers of chapter 06 (kexue.exercises.hippo)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from kexue import exercises
from kexue import hippo as h


HIPPO_IDS = ["hippo-alpha-scheme", "hippo-fourier-scaled", "hippo-legs-solve", "hippo-propagator", "hippo-rescaling"]


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("hippo-")) == HIPPO_IDS


def reference_alpha(A, B, eps, alpha):
    left = np.eye(len(B)) - (1 - alpha) * eps * A
    return np.linalg.solve(left, np.eye(len(B)) + alpha * eps * A), np.linalg.solve(left, eps * B)


def loop_solve(lam, v):
    n = np.arange(len(v))
    r = np.sqrt(2 * n + 1)
    S, prev = np.zeros(len(v)), 0.0
    for i in range(len(v)):
        prev = ((1 - lam * i) * prev + r[i] * v[i]) / (1 + lam * (i + 1))
        S[i] = prev
    return np.diff(S, prepend=0.0) / r


def wrong_alpha(A, B, eps, alpha):  # forgets the solve on the input term
    left = np.eye(len(B)) - (1 - alpha) * eps * A
    return np.linalg.solve(left, np.eye(len(B)) + alpha * eps * A), eps * B


R_EXPRS = ["sqrt(7)*r*(r-1)*(5*r**2-5*r+1)", "sqrt(21)*r**2*(r-1)*(3*r-2)", "sqrt(35)*r**3*(r-1)"]


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("hippo-alpha-scheme", 0.5, 1.0),
    ("hippo-alpha-scheme", 0.5, 0),
    ("hippo-alpha-scheme", "1/2", 0.6),
    ("hippo-rescaling", "sqrt(2*(2*n+1))", "sqrt(2/(2*n+1))"),
    ("hippo-rescaling", lambda n: math.sqrt(2 * (2 * n + 1)), lambda n: 1.0),
    ("hippo-legs-solve", loop_solve, lambda lam, v: v),
    ("hippo-propagator", R_EXPRS, R_EXPRS[:2] + ["sqrt(35)*r**3*(1-r)"]),
    ("hippo-propagator", R_EXPRS, ["sqrt(3)*r*(r-1)", "sqrt(5)*r*(r-1)*(2*r-1)", "sqrt(15)*r**2*(r-1)"]),
    ("hippo-fourier-scaled", (h.fourier_scaled_matrices, 0.17370),
     (h.fourier_scaled_matrices, 0.1386)),
    ("hippo-fourier-scaled", (h.fourier_scaled_matrices, 0.17370), (lambda N: h.fourier_window_matrices(N), 0.0)),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed, exercises.check(exercise_id, right)
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


def test_checker_messages_do_not_reveal_the_answer():
    factor = exercises.check("hippo-rescaling", "2*sqrt(2*n+1)")
    assert "A is right" in factor.message and "same factor" in factor.message and "sqrt(2*(2" not in str(factor)
    assert "cancel" in exercises.check("hippo-rescaling", "1").message
    prop = exercises.check("hippo-propagator", R_EXPRS[:2] + ["0"])
    assert "(3,2)" in prop.message and "sqrt(35)" not in str(prop)
    fourier = exercises.check("hippo-fourier-scaled", (h.fourier_scaled_matrices, 0.5))
    assert "too large" in fourier.message and "0.138" not in str(fourier)
    wrong_matrix = exercises.check("hippo-fourier-scaled", (lambda N: h.fourier_window_matrices(N), 0.1737))
    assert "matrices differ" in wrong_matrix.message
    solve = exercises.check("hippo-legs-solve", lambda lam, v: v)
    assert "of 12 cases" in solve.message
    assert "larger" in exercises.check("hippo-alpha-scheme", 0.2).message
    assert "amplified" in exercises.check("hippo-alpha-scheme", 1.0).message
    assert "0.5" not in str(exercises.check("hippo-alpha-scheme", 0.2))


def test_checkers_survive_broken_or_odd_answers():
    def broken(*args):
        raise ZeroDivisionError("oops")

    for exercise_id, answer in [("hippo-alpha-scheme", None), ("hippo-legs-solve", broken),
                                ("hippo-rescaling", broken), ("hippo-fourier-scaled", (broken, 0.1386))]:
        feedback = exercises.check(exercise_id, answer)
        assert not feedback.passed and feedback.message
    assert not exercises.check("hippo-alpha-scheme", broken).passed
    assert not exercises.check("hippo-alpha-scheme", 3).passed
    assert not exercises.check("hippo-legs-solve", "solve").passed
    assert not exercises.check("hippo-propagator", "r").passed
    assert not exercises.check("hippo-propagator", ["((", "r", "r"]).passed
    assert not exercises.check("hippo-propagator", ["r*x", "r", "r"]).passed
    assert not exercises.check("hippo-rescaling", "n*m").passed
    assert not exercises.check("hippo-rescaling", "0").passed
    assert not exercises.check("hippo-fourier-scaled", h.fourier_scaled_matrices).passed
    assert not exercises.check("hippo-fourier-scaled", (h.fourier_scaled_matrices, "small")).passed
    assert exercises.check("hippo-propagator", {(3, 0): R_EXPRS[0], (3, 1): R_EXPRS[1], (3, 2): R_EXPRS[2]}).passed
    assert exercises.check("hippo-rescaling", sp.sqrt(2) * sp.sqrt(2 * sp.Symbol("n") + 1)).passed

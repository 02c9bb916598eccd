"""Tests for the exercise checkers of chapter 02 (kexue.exercises.activations)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from kexue import exercises

LOG2 = math.log(2)
B_STAR = 1.5238210325187506642  # the equioscillation equations solved with mpmath at 20 digits
GELU_GAP = 0.16997120747990366
GELU_GAP_X = 0.751791524693559


SQP_IDS = ["squareplus-float32-zero", "squareplus-gelu-gap", "squareplus-half-curvature",
           "squareplus-least-squares-b", "squareplus-temperature"]
HALF = 2 ** (2 / 3) - 1  # (x² + b)^(3/2) = 2 b^(3/2) at half the peak curvature
LS_B = 1.3557956572  # least-squares b on [-8, 8], scipy quad + bounded search and a 160 001-point trapezoid agree
FLOAT32_ZERO = 11585.0  # beyond about sqrt(2**27), x*x + 4 rounds to x*x in float32


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("squareplus-")) == SQP_IDS


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("squareplus-half-curvature", lambda b: math.sqrt(b * HALF), lambda b: math.sqrt(b) * HALF),
    ("squareplus-half-curvature", lambda b: math.sqrt(b * HALF), lambda b: 0.0),
    ("squareplus-float32-zero", FLOAT32_ZERO, 5793.0),
    ("squareplus-float32-zero", FLOAT32_ZERO, 0),
    ("squareplus-least-squares-b", LS_B, B_STAR),
    ("squareplus-least-squares-b", LS_B, 0.0),
    ("squareplus-temperature", lambda beta: B_STAR / beta**2, lambda beta: B_STAR * beta**2),
    ("squareplus-temperature", lambda beta: B_STAR / beta**2, lambda beta: B_STAR),
    ("squareplus-gelu-gap", GELU_GAP, GELU_GAP_X),
    ("squareplus-gelu-gap", GELU_GAP, 0.0),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


def test_feedback_does_not_reveal_the_answer():
    wrong = {
        "squareplus-least-squares-b": [1.5, B_STAR, 1.9218, 1.2, 0.0],
        "squareplus-gelu-gap": [0.2, GELU_GAP_X, 0.1699],
        "squareplus-float32-zero": [5793.0, 1e8, 9000.0, 20000.0],
    }
    secrets = ["1.3557", "1.5238", "0.1699", "1158", "0.0759"]
    for exercise_id, answers in wrong.items():
        for answer in answers:
            text = str(exercises.check(exercise_id, answer))
            assert not any(s in text for s in secrets), (exercise_id, answer, text)


def test_checker_messages_are_specific():
    assert "factor" in exercises.check("squareplus-half-curvature", lambda b: 2 * math.sqrt(b * HALF)).message
    assert "sqrt(b)" in exercises.check("squareplus-half-curvature", lambda b: b * HALF).message
    assert "first zeros" in exercises.check("squareplus-float32-zero", 5793.0).message
    assert "float64" in exercises.check("squareplus-float32-zero", 1e8).message
    assert "too small" in exercises.check("squareplus-float32-zero", 9000.0).message
    assert "too large" in exercises.check("squareplus-float32-zero", 20000.0).message
    assert exercises.check("squareplus-float32-zero", -FLOAT32_ZERO).passed
    assert "minimax" in exercises.check("squareplus-least-squares-b", B_STAR).message
    assert "threshold" in exercises.check("squareplus-least-squares-b", 4 * LOG2**2).message
    assert "b = a²" in exercises.check("squareplus-least-squares-b", math.sqrt(LS_B)).message
    assert "power" in exercises.check("squareplus-temperature", lambda beta: B_STAR / beta).message
    assert "where" in exercises.check("squareplus-gelu-gap", GELU_GAP_X).message
    assert exercises.check("squareplus-least-squares-b", np.float64(LS_B)).passed


@pytest.mark.torch
def test_checkers_accept_a_torch_scalar():
    torch = pytest.importorskip("torch")
    assert exercises.check("squareplus-gelu-gap", torch.tensor(GELU_GAP, dtype=torch.float64)).passed


def test_broken_student_answers_are_feedback_not_crashes():
    def broken(b):
        if b > 1:
            raise ZeroDivisionError("oops")
        return math.sqrt(b * HALF)

    feedback = exercises.check("squareplus-half-curvature", broken)
    assert not feedback.passed and "exception" in feedback.message
    assert not exercises.check("squareplus-temperature", lambda beta: 1 / 0).passed
    assert not exercises.check("squareplus-half-curvature", 0.5).passed
    assert not exercises.check("squareplus-least-squares-b", "1.35").passed
    assert not exercises.check("squareplus-float32-zero", None).passed
    assert not exercises.check("squareplus-gelu-gap", [GELU_GAP]).passed

"""Tests for the exercise checkers of chapter 02 (kexue.exercises.activations)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from kexue import exercises

LOG2 = math.log(2)
B_STAR = 1.5238210325187506642  # 20-digit mpmath solution quoted in the brief
GELU_GAP = 0.16997120747990366
GELU_GAP_X = 0.751791524693559


SQP_IDS = ["squareplus-gelu-gap", "squareplus-matching-b", "squareplus-minimax-b", "squareplus-relu-gap",
           "squareplus-temperature"]


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("squareplus-")) == SQP_IDS


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("squareplus-relu-gap", lambda b: math.sqrt(b) / 2, lambda b: math.sqrt(b)),
    ("squareplus-matching-b", (4 * LOG2**2, 4.0), (4.0, 4 * LOG2**2)),
    ("squareplus-minimax-b", B_STAR, 1.5),
    ("squareplus-temperature", lambda beta: B_STAR / beta**2, lambda beta: B_STAR * beta**2),
    ("squareplus-gelu-gap", GELU_GAP, GELU_GAP_X),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


def test_feedback_does_not_reveal_the_answer():
    wrong = {
        "squareplus-minimax-b": [1.5, 1.53276, 1.9218, 1.2344],
        "squareplus-gelu-gap": [0.2, GELU_GAP_X, 0.1699],
        "squareplus-matching-b": [(1.0, 2.0), (2 * LOG2, 4.0)],
    }
    secrets = ["1.5238", "0.1699", "1.9218", "0.0759"]
    for exercise_id, answers in wrong.items():
        for answer in answers:
            text = str(exercises.check(exercise_id, answer))
            assert not any(s in text for s in secrets), (exercise_id, answer, text)


def test_checker_messages_are_specific():
    assert "factor" in exercises.check("squareplus-relu-gap", lambda b: math.sqrt(b)).message
    assert "swapped" in exercises.check("squareplus-matching-b", (4.0, 4 * LOG2**2)).message
    assert "sqrt(b)" in exercises.check("squareplus-matching-b", (2 * LOG2, 4.0)).message
    assert "grid" in exercises.check("squareplus-minimax-b", 1.53276).message
    assert "above softplus" in exercises.check("squareplus-minimax-b", 4 * LOG2**2).message
    assert "b = a²" in exercises.check("squareplus-minimax-b", math.sqrt(B_STAR)).message
    assert "power" in exercises.check("squareplus-temperature", lambda beta: B_STAR / beta).message
    assert "where" in exercises.check("squareplus-gelu-gap", GELU_GAP_X).message
    assert exercises.check("squareplus-minimax-b", np.float64(B_STAR)).passed


@pytest.mark.torch
def test_checkers_accept_a_torch_scalar():
    torch = pytest.importorskip("torch")
    assert exercises.check("squareplus-gelu-gap", torch.tensor(GELU_GAP, dtype=torch.float64)).passed


def test_broken_student_answers_are_feedback_not_crashes():
    def broken(b):
        if b > 1:
            raise ZeroDivisionError("oops")
        return math.sqrt(b) / 2

    feedback = exercises.check("squareplus-relu-gap", broken)
    assert not feedback.passed and "exception" in feedback.message
    assert not exercises.check("squareplus-temperature", lambda beta: 1 / 0).passed
    assert not exercises.check("squareplus-relu-gap", 0.5).passed
    assert not exercises.check("squareplus-minimax-b", "1.52").passed
    assert not exercises.check("squareplus-matching-b", 4.0).passed
    assert not exercises.check("squareplus-gelu-gap", [GELU_GAP]).passed

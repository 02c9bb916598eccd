"""Tests for the exercise checkers of chapter 03 (kexue.exercises.cross_coloring)."""
from __future__ import annotations


import numpy as np
import pytest

from kexue import cross_coloring as cc
from kexue import exercises

K3_TOTAL = 27216


CROSS_IDS = ["cross-54432", "cross-arm-count", "cross-share-peak", "cross-square-k4", "cross-total-formula"]


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("cross-")) == CROSS_IDS


def arm_reference(shared, d, k):
    return 3 * (k - 1) * (k - 2) if shared == d else 3 * (k - 2)


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("cross-square-k4", 144, 36),
    ("cross-square-k4", 144, 0),
    ("cross-arm-count", arm_reference, lambda s, d, k: 6 if s == d else 3),
    ("cross-arm-count", arm_reference, lambda s, d, k: 0),
    ("cross-share-peak", 6, 3),
    ("cross-share-peak", 6, 0),
    ("cross-54432", 72, 36),
    ("cross-54432", 72, 0),
    ("cross-total-formula", "162*k*(k-1)*(k-2)**7*(3*k-5)*(4*k-5)", "162*k*(k-1)*(k-2)**7*(3*k-5)**2"),
    ("cross-total-formula", "162*k*(k-1)*(k-2)**7*(3*k-5)*(4*k-5)", "0"),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


def test_checker_messages_are_helpful_without_the_answer():
    assert "three colours" in exercises.check("cross-square-k4", 36).message
    assert "every colouring" in exercises.check("cross-square-k4", 256).message
    assert "factor of 2" in exercises.check("cross-square-k4", 72).message
    assert "144" not in str(exercises.check("cross-square-k4", 143))
    assert "rising" in exercises.check("cross-share-peak", 4).message
    assert "falling" in exercises.check("cross-share-peak", 10).message
    assert "between 3 and 10" in exercises.check("cross-share-peak", 40).message
    assert "54432" in exercises.check("cross-54432", 54).message
    assert not exercises.check("cross-square-k4", "many").passed
    assert exercises.check("cross-square-k4", np.int64(144)).passed
    assert exercises.check("cross-share-peak", 6.0).passed


def test_total_formula_checker_feedback():
    partly = exercises.check("cross-total-formula", "27216 + 0*k")
    assert not partly.passed and "k = [3]" in partly.message
    assert "single symbol k" in exercises.check("cross-total-formula", "n**2").message
    assert not exercises.check("cross-total-formula", "((").passed


def test_arm_count_checker_diagnoses_without_the_answer():
    k3_only = exercises.check("cross-arm-count", lambda s, d, k: 6 if s == d else 3)
    assert not k3_only.passed and "only for k = [3]" in k3_only.message

    def broken(s, d, k):
        if s == 2:
            raise ZeroDivisionError("oops")
        return arm_reference(s, d, k)

    feedback = exercises.check("cross-arm-count", broken)
    assert not feedback.passed and "exception" in feedback.message
    assert not exercises.check("cross-arm-count", 6).passed
    assert "0 of" in exercises.check("cross-arm-count", lambda s, d, k: "six").message
    two_args = exercises.check("cross-arm-count", lambda s, d: 6 if s == d else 3)
    assert not two_args.passed and "TypeError" in two_args.message

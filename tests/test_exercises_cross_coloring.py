"""Tests for the exercise checkers of chapter 03 (kexue.exercises.cross_coloring)."""
from __future__ import annotations


import numpy as np
import pytest

from kexue import cross_coloring as cc
from kexue import exercises

K3_TOTAL = 27216


CROSS_IDS = ["cross-54432", "cross-arm-count", "cross-bruteforce", "cross-square-fixed-colour", "cross-total-formula"]


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("cross-")) == CROSS_IDS


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("cross-square-fixed-colour", 12, 24),
    ("cross-arm-count", lambda s, d: 6 if s == d else 3, lambda s, d: 6),
    ("cross-bruteforce", K3_TOTAL, 2 * K3_TOTAL),
    ("cross-54432", 72, 36),
    ("cross-total-formula", "162*k*(k-1)*(k-2)**7*(3*k-5)*(4*k-5)", "162*k*(k-1)*(k-2)**7*(3*k-5)**2"),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


def test_checker_messages_are_helpful_without_the_answer():
    feedback = exercises.check("cross-bruteforce", 2 * K3_TOTAL)
    assert "factor of 2" in feedback.message and str(K3_TOTAL) not in str(feedback)
    assert "differ too" in exercises.check("cross-bruteforce", cc.count_relaxed(3)).message
    assert "any colour" in exercises.check("cross-square-fixed-colour", 36).message
    assert "factor of 2" in exercises.check("cross-square-fixed-colour", 6).message
    assert "54432" in exercises.check("cross-54432", 54).message
    assert exercises.check("cross-bruteforce", np.int64(K3_TOTAL)).passed
    assert not exercises.check("cross-bruteforce", "many").passed


def test_total_formula_checker_feedback():
    partly = exercises.check("cross-total-formula", "27216 + 0*k")
    assert not partly.passed and "k = [3]" in partly.message
    assert "single symbol k" in exercises.check("cross-total-formula", "n**2").message
    assert not exercises.check("cross-total-formula", "((").passed


def test_arm_count_checker_survives_broken_functions():
    def broken(s, d):
        if s == 2:
            raise ZeroDivisionError("oops")
        return 6 if s == d else 3

    feedback = exercises.check("cross-arm-count", broken)
    assert not feedback.passed and "6 of 9" in feedback.message and "exception" in feedback.message
    assert "2 of 3 with shared == d" in feedback.message
    assert not exercises.check("cross-arm-count", 6).passed
    assert "0 of 9" in exercises.check("cross-arm-count", lambda s, d: "six").message

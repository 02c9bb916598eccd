"""Tests for the exercise checkers of chapter 12 (kexue.exercises.amos)."""
from __future__ import annotations

import math

import pytest

from kexue import exercises
from kexue.exercises import amos as ex

AMOS_IDS = ["amos-adamw", "amos-half-life", "amos-lag", "amos-ode", "amos-q0"]


def _const(t, a):
    return 1 / (a * t + 1) ** 2


def _dyn(t, a):
    return 1 / (2 * a * t + 1)


def _to_adamw(alpha0, sigma, r):
    lr = alpha0 * math.sqrt(2) * sigma / r
    return lr, alpha0 * r / (2 * math.sqrt(2) * sigma)


def _predict(alpha0, p, T):
    return 1 / (alpha0 * p * T + 1) + alpha0 / (4 * p)


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("amos-")) == AMOS_IDS


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("amos-ode", (_const, _dyn), (_dyn, _const)),
    ("amos-half-life", ((math.sqrt(2) - 1) / 5000, 1e-4), (1 / 5000, 1e-4)),
    ("amos-q0", (ex.simulated_q0(), 0.01), (ex.simulated_q0(spread=1.0), 0.0)),
    ("amos-adamw", _to_adamw, lambda a, s, r: (a * math.sqrt(2) * s / r, a**2 / 2)),
    ("amos-lag", _predict, lambda a, p, T: 1 / (a * p * T + 1)),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


@pytest.mark.parametrize("exercise_id", AMOS_IDS)
@pytest.mark.parametrize("nothing", [None, 0, (0, 0), lambda *a: 0.0, lambda *a: a[0]])
def test_do_nothing_answers_fail(exercise_id, nothing):
    assert not exercises.check(exercise_id, nothing).passed


def test_messages_do_not_reveal_answers():
    fb = exercises.check("amos-half-life", (1 / 5000, 1 / 5000))
    assert "8.28" not in str(fb) and "0.0001" not in str(fb)
    assert "first-order" in exercises.check("amos-lag", lambda a, p, T: 1 / (a * p * T + 1)).message
    assert "lr" in exercises.check("amos-adamw", lambda a, s, r: (a * math.sqrt(2) * s / r, a**2 / 2)).message


def test_simulated_q0_near_half():
    assert abs(ex.simulated_q0() - 0.2) < 0.05 and abs(ex.simulated_q0(spread=1.0) - 0.5) < 0.05

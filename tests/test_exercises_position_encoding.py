"""Tests for the exercise checkers of chapter 04 (kexue.exercises.position_encoding)."""
from __future__ import annotations

import numpy as np
import pytest

from kexue import exercises
from kexue import position_encoding as pe


POSENC_IDS = ["posenc-commuting-w", "posenc-ode-generator", "posenc-rope-values", "posenc-rotation",
              "posenc-t5-bucket"]


def commuting_w() -> np.ndarray:
    W = np.zeros((16, 16))
    for k in range(8):
        W[2 * k:2 * k + 2, 2 * k:2 * k + 2] = [[1.0 + k, 0.5 - k], [k - 0.5, 1.0 + k]]
    return W


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("posenc-")) == POSENC_IDS


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("posenc-rotation", lambda m: pe.rotation_blocks(m, 8), lambda m: pe.rotation_blocks(m, 8).T),
    ("posenc-t5-bucket", lambda r, b: pe.t5_bucket(r, b), lambda r, b: min(abs(r), 31)),
    ("posenc-ode-generator", pe.omega_generator(8), pe.omega_generator(8).T),
    ("posenc-commuting-w", commuting_w(), np.random.default_rng(0).standard_normal((16, 16))),
    ("posenc-rope-values", lambda x, p: pe.rope(x, p), lambda x, p: pe.rope(x, p, base=10000.0) * 1.01),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


@pytest.mark.parametrize("exercise_id", POSENC_IDS)
def test_checkers_survive_raising_and_junk_answers(exercise_id):
    def broken(*args):
        raise ZeroDivisionError("oops")

    for junk in (broken, None, "text", 3, np.ones((2, 2))):
        feedback = exercises.check(exercise_id, junk)
        assert not feedback.passed and feedback.message


def test_feedback_explains_without_revealing():
    mirrored = exercises.check("posenc-t5-bucket", lambda r, b: pe.t5_bucket(-r, b))
    assert "i − j instead of j − i" in mirrored.message and "91" not in str(mirrored)
    off_by_one = exercises.check("posenc-t5-bucket", lambda r, b: pe.t5_bucket(r, b) + (abs(r) == 91))
    assert not off_by_one.passed and "smallest |j − i| among them is 91" in off_by_one.message
    backwards = exercises.check("posenc-ode-generator", -pe.omega_generator(8))
    assert "backwards" in backwards.message and "0.1" not in str(backwards)
    assert "other way" in exercises.check("posenc-rotation", lambda m: pe.rotation_blocks(-m, 8)).message
    assert "too easy" in exercises.check("posenc-commuting-w", 2 * np.eye(16)).message
    assert "35.9" in exercises.check("posenc-commuting-w", np.random.default_rng(0).standard_normal((16, 16))).message
    assert "unchanged" in exercises.check("posenc-rope-values", lambda x, p: np.asarray(x)).message
    raising = exercises.check("posenc-rotation", lambda m: 1 / 0)
    assert "ZeroDivisionError" in raising.message

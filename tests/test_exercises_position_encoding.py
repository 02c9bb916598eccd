"""Tests for the exercise checkers of chapter 04 (kexue.exercises.position_encoding)."""
from __future__ import annotations

import numpy as np
import pytest

from kexue import exercises
from kexue import position_encoding as pe


POSENC_IDS = ["posenc-commuting-w", "posenc-decay-base", "posenc-ode-generator", "posenc-rope-values",
              "posenc-t5-bucket", "posenc-t5-float32"]
CAT = pe.half_layout(8)
OMEGA_CAT = pe.omega_generator(8)[np.ix_(CAT, CAT)]


def commuting_w() -> np.ndarray:
    W = np.zeros((16, 16))
    for k in range(8):
        W[2 * k:2 * k + 2, 2 * k:2 * k + 2] = [[1.0 + k, 0.5 - k], [k - 0.5, 1.0 + k]]
    return W


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("posenc-")) == POSENC_IDS


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("posenc-t5-bucket", lambda r, b: pe.t5_bucket(r, b), lambda r, b: min(abs(r), 31)),
    ("posenc-ode-generator", OMEGA_CAT, OMEGA_CAT.T),
    ("posenc-ode-generator", OMEGA_CAT, pe.omega_generator(8)),
    ("posenc-t5-float32", 104, 103),
    ("posenc-t5-float32", 104, 0),
    ("posenc-decay-base", 59, 1707),
    ("posenc-decay-base", 59, 60),
    ("posenc-decay-base", 59, 0),
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
    backwards = exercises.check("posenc-ode-generator", -OMEGA_CAT)
    assert "backwards" in backwards.message and "0.1" not in str(backwards)
    assert "interleaved" in exercises.check("posenc-ode-generator", pe.omega_generator(8)).message
    assert "too easy" in exercises.check("posenc-commuting-w", 2 * np.eye(16)).message
    assert "35.9" in exercises.check("posenc-commuting-w", np.random.default_rng(0).standard_normal((16, 16))).message
    assert "unchanged" in exercises.check("posenc-rope-values", lambda x, p: np.asarray(x)).message
    raising = exercises.check("posenc-rope-values", lambda x, p: 1 / 0)
    assert "ZeroDivisionError" in raising.message


@pytest.mark.parametrize("wrong, words", [
    (lambda x, p: pe.rope(x, p, base=100.0), "check the base"),
    (lambda x, p: pe.rope(x, -np.asarray(p)), "clockwise"),
    (pe.rope_rotate_half, "rotate-half"),
    (lambda x, p: np.asarray(x), "unchanged"),
])
def test_rope_checker_rejects_other_conventions(wrong, words):
    feedback = exercises.check("posenc-rope-values", wrong)
    assert not feedback.passed and words in feedback.message


def test_rope_checker_accepts_a_complex_implementation():
    def rope(x, pos):
        x = np.asarray(x, dtype=float)
        theta = 10000.0 ** (-np.arange(0, x.shape[-1], 2) / x.shape[-1])
        z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * np.asarray(pos)[..., None] * theta)
        return np.stack([z.real, z.imag], axis=-1).reshape(x.shape)

    assert exercises.check("posenc-rope-values", rope).passed


def test_float32_and_decay_checkers_do_not_reveal_the_answer():
    for exercise_id, wrong in (("posenc-t5-float32", 103), ("posenc-decay-base", 60), ("posenc-decay-base", 1707)):
        text = str(exercises.check(exercise_id, wrong))
        assert "104" not in text and "59" not in text

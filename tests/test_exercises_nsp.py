"""Tests for the exercise checkers of chapter 10 (kexue.exercises.nsp)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from kexue import exercises
from kexue.exercises import nsp as ex

NSP_IDS = ["nsp-coherent-pairs", "nsp-ensemble", "nsp-lucky-control", "nsp-read-head", "nsp-template"]


def _probs():
    return [1 / (1 + math.exp(-(a - b))) for a, b in ex.READ_HEAD_LOGITS]


def _coherent(corpus, n, seed):
    from kexue import nsp

    rng = np.random.default_rng(seed)
    first, second, labels = [], [], []
    want = {0: n // 2, 1: n - n // 2}
    start = corpus.content_ids(0)[0]
    while len(labels) < n:
        topic = int(rng.integers(corpus.K))
        a = nsp._sentence(topic, corpus.K, corpus.words_per_topic, corpus.n_function, 0.0, rng)
        b = nsp._sentence(topic, corpus.K, corpus.words_per_topic, corpus.n_function, 0.0, rng)
        y = int(len({t for t in a if t >= start} & {t for t in b if t >= start}) >= 2)
        if want[y]:
            want[y] -= 1
            first.append(a)
            second.append(b)
            labels.append(y)
    return first, second, labels


def _rencontres():
    return np.array([44, 45, 20, 10, 0, 1]) / 120


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("nsp-")) == NSP_IDS


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("nsp-read-head", (_probs(), 0), (_probs(), 2)),
    ("nsp-read-head", (_probs(), 0), ([1.2, 0.4, 2.1], 0)),
    ("nsp-ensemble", lambda ms: np.mean(np.log(np.stack(ms)), axis=0), lambda ms: np.mean(np.stack(ms), axis=0)),
    ("nsp-lucky-control", _rencontres(), [0.8, 0, 0, 0, 0, 0.2]),
    ("nsp-lucky-control", list(_rencontres()), [1 / 6] * 6),
    ("nsp-coherent-pairs", _coherent, lambda c, n, s: ([[16, 17, 3]] * n, [[28, 29, 3]] * n, [0] * n)),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed, exercises.check(exercise_id, right)
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


def test_coherent_pairs_wrong_labels_fail():
    def flipped(corpus, n, seed):
        first, second, labels = _coherent(corpus, n, seed)
        return first, second, [1 - y for y in labels]

    assert "disagree" in exercises.check("nsp-coherent-pairs", flipped).message


@pytest.mark.parametrize("exercise_id", NSP_IDS)
@pytest.mark.parametrize("nothing", [None, 0, (0, 0), lambda *a: 0.0, lambda *a: a[0]])
def test_do_nothing_answers_fail(exercise_id, nothing):
    assert not exercises.check(exercise_id, nothing).passed


def test_messages_do_not_reveal_answers():
    fb = str(exercises.check("nsp-read-head", ([0.5, 0.5, 0.5], 2)))
    assert "0.817" not in fb and "0.377" not in fb and "0.645" not in fb
    fb = str(exercises.check("nsp-lucky-control", [1 / 6] * 6))
    assert "0.366" not in fb and "44" not in fb and "0.375" not in fb
    assert "logarithms" in exercises.check("nsp-ensemble", lambda ms: np.mean(np.stack(ms), axis=0)).message


@pytest.mark.torch
def test_template_checker_refuses_untrained_and_default():
    torch = pytest.importorskip("torch")
    from kexue import nsp

    torch.manual_seed(0)
    untrained = nsp.TinyNSPBert(76)
    fb = exercises.check("nsp-template", (untrained, lambda k: [3, 11 + k]))
    assert not fb.passed and "not learned" in fb.message


@pytest.mark.torch
@pytest.mark.slow
def test_template_checker_with_a_trained_model():
    pytest.importorskip("torch")
    from kexue import nsp

    corpus = nsp.make_corpus()
    model, _ = nsp.train_tiny_nsp(corpus)
    default = nsp.label_prompts(corpus)
    assert "default" in exercises.check("nsp-template", (model, lambda k: default[k])).message
    assert not exercises.check("nsp-template", (model, lambda k: [3])).passed  # no name word
    assert not exercises.check("nsp-template", (model, lambda k: [3, 4, 5, 6, 11 + k])).passed  # too long

"""Tests for the exercise checkers of chapter 08 (kexue.exercises.sentence_embeddings): reference answers pass,
wrong and do-nothing answers fail, and no message gives the answer away."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from scipy.stats import norm

from kexue import data, exercises
from kexue import sentence_embeddings as se
from kexue.exercises import check
from kexue.exercises import sentence_embeddings as ex

EXERCISES = ["simcse-basis-matters", "simcse-linear-head", "simcse-rule-of-thumb", "simcse-two-losses",
             "simcse-whitening-gain-plot", "simcse-whitening-k"]


def test_all_exercises_registered() -> None:
    assert sorted(i for i in exercises.registered() if i.startswith("simcse-")) == EXERCISES


@pytest.mark.parametrize("exercise_id", EXERCISES)
@pytest.mark.parametrize("answer", [None, 0, {}, (), lambda *args: None, lambda *args: 0.0, (lambda d: 0.5, 0.0)])
def test_do_nothing_answers_fail(exercise_id: str, answer: object) -> None:
    assert not check(exercise_id, answer).passed


def before_after(seed: int) -> tuple[float, float]:
    t = np.random.default_rng(seed).uniform(0, 2 * np.pi, 1000)
    pts = np.c_[np.cos(t), np.sin(t)] @ np.diag([5.0, 0.2]) + 10.0
    mu, W = se.whitening_params(pts)
    return se.average_cosine(pts), se.average_cosine((pts - mu) @ W)


def test_basis_matters() -> None:
    assert check("simcse-basis-matters", before_after).passed
    assert not check("simcse-basis-matters", lambda s: (before_after(s)[0], 0.5)).passed  # not centred
    assert not check("simcse-basis-matters", lambda s: (0.62, 0.0)).passed  # the offset (3, 3) instead
    assert not check("simcse-basis-matters", lambda s: before_after(s)[0]).passed


def whiten(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    lam, U = np.linalg.eigh(np.cov(X.T, ddof=0))
    order = np.argsort(lam)[::-1][:k]
    return X.mean(0), U[:, order] / np.sqrt(lam[order])


def test_whitening_k() -> None:
    assert check("simcse-whitening-k", whiten).passed
    assert check("simcse-whitening-k", lambda X, k: (X.mean(0), se.whitening_params(X, k, ddof=1)[1])).passed

    def smallest(X, k):  # the k directions of *least* variance
        lam, U = np.linalg.eigh(np.cov(X.T, ddof=0))
        return X.mean(0), U[:, :k] / np.sqrt(lam[:k])

    def pca_only(X, k):  # rotation without rescaling
        lam, U = np.linalg.eigh(np.cov(X.T, ddof=0))
        return X.mean(0), U[:, ::-1][:, :k]

    for wrong in (smallest, pca_only, lambda X, k: (np.zeros(X.shape[1]), whiten(X, k)[1])):
        feedback = check("simcse-whitening-k", wrong)
        assert not feedback.passed and "differ" in feedback.message


def losses(h0: np.ndarray, h1: np.ndarray, tau: float) -> tuple[float, float, int, int]:
    return ex._losses_reference(h0, h1, tau)


def test_two_losses() -> None:
    assert check("simcse-two-losses", losses).passed
    assert not check("simcse-two-losses", lambda a, b, t: (*losses(a, b, t)[:2], 2 * len(a), len(a))).passed
    assert not check("simcse-two-losses", lambda a, b, t: (losses(a, b, t)[1], losses(a, b, t)[0],
                                                           *losses(a, b, t)[2:])).passed
    assert not check("simcse-two-losses", lambda a, b, t: (losses(a, b, 1.0)[0], *losses(a, b, t)[1:])).passed


def test_two_losses_reference_matches_the_closed_form() -> None:
    eye = np.eye(4)
    post, paper, n_post, n_paper = ex._losses_reference(eye, eye, 1.0)
    assert post == pytest.approx(math.log(1 + 6 / math.e), rel=1e-12)
    assert post == pytest.approx(1.1654221804855955, rel=1e-12)
    assert paper == pytest.approx(math.log(1 + 3 / math.e), rel=1e-12)
    assert (n_post, n_paper) == (7, 4)


def test_rule_of_thumb() -> None:
    def best(d: float) -> float:
        return norm.cdf(d / 2)

    def rule(d: float) -> float:
        return 0.5 + math.sqrt(3) / 2 * (2 * norm.cdf(d / math.sqrt(2)) - 1) / 2

    crossing = brentq(lambda d: rule(d) - best(d), 0.5, 6)
    assert 2 < crossing < 3
    assert check("simcse-rule-of-thumb", (best, crossing)).passed
    low = check("simcse-rule-of-thumb", (best, crossing - 0.2))
    assert not low.passed and "higher" in low.message and f"{crossing:.2f}" not in low.message
    assert not check("simcse-rule-of-thumb", (best, crossing + 0.2)).passed
    assert not check("simcse-rule-of-thumb", (lambda d: norm.cdf(d / math.sqrt(2)), crossing)).passed  # the AUC
    assert not check("simcse-rule-of-thumb", (rule, crossing)).passed


def test_whitening_gain_plot() -> None:
    t = data.load_simcse_zh_table()
    a, b = t.values[:, :, 0].ravel(), t.values[:, :, 1].ravel()
    rho = se.spearman(a, b - a)
    assert rho < -0.3
    assert check("simcse-whitening-gain-plot", rho).passed
    assert not check("simcse-whitening-gain-plot", -rho).passed
    assert not check("simcse-whitening-gain-plot", se.spearman(a, b)).passed
    feedback = check("simcse-whitening-gain-plot", rho + 0.1)
    assert not feedback.passed and f"{rho:.2f}" not in feedback.message


def test_linear_head_checker() -> None:
    torch.manual_seed(0)
    frozen = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Dropout(0.1))
    for p in frozen.parameters():
        p.requires_grad_(False)
    head = torch.nn.Linear(8, 8)
    good = list(np.linspace(2.0, 1.0, 25))
    assert check("simcse-linear-head", {"head": head, "frozen": frozen, "losses": good}).passed
    assert not check("simcse-linear-head", {"head": head, "frozen": frozen, "losses": [2.0] * 25}).passed
    assert not check("simcse-linear-head", {"head": head, "frozen": frozen, "losses": good[:10]}).passed
    deep = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU())
    assert not check("simcse-linear-head", {"head": deep, "frozen": frozen, "losses": good}).passed
    thawed = torch.nn.Linear(8, 8)
    assert not check("simcse-linear-head", {"head": head, "frozen": thawed, "losses": good}).passed
    assert not check("simcse-linear-head", {"head": head, "frozen": head, "losses": good}).passed

"""The chapter-07 checkers accept right answers and refuse wrong and do-nothing ones without revealing the key."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from kexue import nbce  # noqa: E402
from kexue.exercises import check  # noqa: E402

pytestmark = pytest.mark.torch


def posterior(prior, likelihoods, observed):
    log_post = sum(np.log(m[:, s] * prior / (m[:, s] * prior).sum()) for m, s in zip(likelihoods, observed))
    log_post = log_post - (len(likelihoods) - 1) * np.log(prior)
    p = np.exp(log_post - log_post.max())
    return p / p.sum()


def scores(logp_ctx, logp_uncond, pooling, beta, top_p):
    return nbce.nbce_scores(logp_ctx, logp_uncond, pooling, beta, top_p)[0]


def scores_without_infinity_rule(logp_ctx, logp_uncond, pooling, beta, top_p):
    ctx, unc = logp_ctx, logp_uncond
    if top_p is not None:
        ctx, unc = nbce.top_p_filter(ctx, top_p), nbce.top_p_filter(unc, top_p)
    pooled = {"average": ctx.mean(0), "max": ctx.max(0).values,
              "min_entropy": ctx[int(nbce.entropy(ctx).argmin())]}[pooling]
    return (1 + beta) * pooled - beta * unc


def pcw_weights(scores):
    blocks = [np.exp(s - s.max()) / np.exp(s - s.max()).sum() for s in scores]
    return np.concatenate(blocks) / len(blocks)


def one_softmax_over_all(scores):
    s = np.concatenate(scores)
    return np.exp(s - s.max()) / np.exp(s - s.max()).sum()


def not_the_refusal(logp_ctx, logp_uncond):
    h = nbce.entropy(logp_ctx)
    same = logp_ctx.argmax(-1) == logp_uncond.argmax(-1, keepdim=True)
    return h.masked_fill(same, float("inf")).argmin(-1)


def test_right_answers_pass():
    assert check("nbce-nb-posterior", posterior).passed
    assert check("nbce-scores", scores).passed
    assert check("nbce-duplicate-beta", lambda n, m: n / m - 1).passed
    assert check("nbce-pcw-average", pcw_weights).passed
    assert check("nbce-refusal-rule", not_the_refusal).passed
    assert check("nbce-refusal-rule", lambda c, u: nbce.kl_select(c, u)).passed


@pytest.mark.parametrize("exercise_id, answer", [
    ("nbce-nb-posterior", None), ("nbce-nb-posterior", lambda p, L, o: p), ("nbce-nb-posterior", lambda p, L, o: 0),
    ("nbce-nb-posterior", lambda p, L, o: posterior(p, L, o) ** 2),
    ("nbce-scores", None), ("nbce-scores", lambda c, u, p, b, t: u), ("nbce-scores", scores_without_infinity_rule),
    ("nbce-scores", lambda c, u, p, b, t: 0),
    ("nbce-duplicate-beta", None), ("nbce-duplicate-beta", lambda n, m: n - 1), ("nbce-duplicate-beta", lambda n, m: 0),
    ("nbce-pcw-average", None), ("nbce-pcw-average", one_softmax_over_all),
    ("nbce-pcw-average", lambda s: np.concatenate(s)),
    ("nbce-refusal-rule", None), ("nbce-refusal-rule", lambda c, u: nbce.entropy(c).argmin(-1)),
    ("nbce-refusal-rule", lambda c, u: torch.zeros(len(c), dtype=torch.long)), ("nbce-refusal-rule", lambda c, u: c),
    ("nbce-refusal-rule", lambda c, u: nbce.entropy(c).argmax(-1)),
])
def test_wrong_and_do_nothing_answers_fail(exercise_id, answer):
    assert not check(exercise_id, answer).passed


def test_messages_do_not_reveal_the_key():
    message = check("nbce-duplicate-beta", lambda n, m: n - 1).message
    assert "n / m" not in message and "n/m" not in message
    message = check("nbce-scores", scores_without_infinity_rule).message
    assert "with Top-P" in message and "−∞" not in message

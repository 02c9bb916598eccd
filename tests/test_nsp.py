"""Tests of kexue.nsp: the NSP scoring rules, the FewCLUE table, the miniature NSP-BERT and the frozen-vector head."""
from __future__ import annotations

import math

import numpy as np
import pytest

# PyTorch comes with the [torch] extra; without it this module is skipped.
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from kexue import nsp  # noqa: E402

torch.set_num_threads(1)


# ------------------------------------------------------------------------------------------------ scoring rules
def test_nsp_prob_value_and_batch() -> None:
    assert nsp.nsp_prob([2.0, 0.5]) == pytest.approx(0.8175744761936437, rel=1e-14)
    assert nsp.nsp_prob(np.array([2.0, 0.5])) == pytest.approx(1 / (1 + math.exp(-1.5)), rel=1e-14)
    batch = nsp.nsp_prob(np.array([[2.0, 0.5], [0.0, 0.0], [-800.0, 800.0]]))
    assert batch.shape == (3,)
    assert batch[1] == 0.5 and batch[2] == 0.0 and np.all(np.isfinite(batch))
    assert nsp.nsp_prob(torch.tensor([[2.0, 0.5]])) == pytest.approx([0.8175744761936437], rel=1e-6)


def test_nsp_prob_is_the_softmax() -> None:
    logits = np.random.default_rng(0).normal(size=(50, 2)) * 5
    soft = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert np.allclose(nsp.nsp_prob(logits), soft[:, 0], rtol=1e-12)


@pytest.mark.parametrize("bad, error", [(None, TypeError), ("ab", TypeError), ([1.0, 2.0, 3.0], ValueError),
                                        ([[[1.0, 2.0]]], ValueError), ([np.nan, 1.0], ValueError)])
def test_nsp_prob_refuses(bad, error) -> None:
    with pytest.raises(error, match="logits"):
        nsp.nsp_prob(bad)


def test_candidates_contrast_prefix_and_suffix() -> None:
    table = {("sports", "goal!"): 0.9, ("finance", "goal!"): 0.3, ("goal!", "sports"): 0.2,
             ("goal!", "finance"): 0.7}
    seen = []

    def fake(a, b):
        seen.append((a, b))
        return table[(a, b)]

    best, scores = nsp.candidates_contrast(fake, "goal!", ["sports", "finance"])
    assert best == 0 and scores.tolist() == [0.9, 0.3]
    assert seen == [("sports", "goal!"), ("finance", "goal!")]
    seen.clear()
    best, scores = nsp.candidates_contrast(fake, "goal!", ["sports", "finance"], prefix=False)
    assert best == 1 and scores.tolist() == [0.2, 0.7]
    assert seen == [("goal!", "sports"), ("goal!", "finance")]


def test_candidates_contrast_refuses() -> None:
    with pytest.raises(TypeError, match="score_fn"):
        nsp.candidates_contrast(3, "x", ["a", "b"])
    with pytest.raises(ValueError, match="prompts"):
        nsp.candidates_contrast(lambda a, b: 0.5, "x", ["a"])
    with pytest.raises(TypeError, match="prompts"):
        nsp.candidates_contrast(lambda a, b: 0.5, "x", "ab")
    with pytest.raises(ValueError, match="score_fn"):
        nsp.candidates_contrast(lambda a, b: 1.5, "x", ["a", "b"])
    with pytest.raises(TypeError, match="text"):
        nsp.candidates_contrast(lambda a, b: 0.5, None, ["a", "b"])


def test_samples_contrast() -> None:
    assert nsp.samples_contrast([0.9, 0.1, 0.8, 0.2]).tolist() == [1, 0, 1, 0]
    three = nsp.samples_contrast([0.5, 0.1, 0.9, 0.3, 0.7, 0.2], n_classes=3)
    assert np.bincount(three).tolist() == [2, 2, 2]
    assert three.tolist() == [1, 0, 2, 1, 2, 0]
    skew = nsp.samples_contrast(np.arange(8.0)[::-1], proportions=[0.25, 0.75])
    assert (skew == 0).sum() == 2 and skew.tolist() == [1, 1, 1, 1, 1, 1, 0, 0]
    # ties: the stable sort ranks earlier samples lower
    assert nsp.samples_contrast([0.5, 0.5, 0.5, 0.5]).tolist() == [0, 0, 1, 1]


def test_samples_contrast_thresholds_are_boundary_scores() -> None:
    scores = np.array([0.5, 0.1, 0.9, 0.3, 0.7, 0.2])
    labels, thresholds = nsp.samples_contrast(scores, n_classes=3, return_thresholds=True)
    assert thresholds.tolist() == [0.3, 0.7]
    assert nsp.apply_thresholds(scores, thresholds).tolist() == labels.tolist()


def test_dev_thresholds_reproduce_the_dev_assignment() -> None:
    rng = np.random.default_rng(1)
    dev = rng.random(40)
    dev_labels = np.repeat([0, 1, 2], [10, 20, 10])
    thresholds = nsp.thresholds_from_dev(dev, dev_labels)
    expected = nsp.samples_contrast(dev, 3, proportions=[0.25, 0.5, 0.25])
    assert nsp.apply_thresholds(dev, thresholds).tolist() == expected.tolist()
    test = rng.random(200)
    assert set(nsp.apply_thresholds(test, thresholds).tolist()) == {0, 1, 2}


def test_scoring_rules_refuse() -> None:
    with pytest.raises(ValueError, match="proportions"):
        nsp.samples_contrast([0.1, 0.2, 0.3], proportions=[0.5, 0.6])
    with pytest.raises(ValueError, match="proportions"):
        nsp.samples_contrast([0.1, 0.2, 0.3], n_classes=3, proportions=[0.5, 0.5])
    with pytest.raises(ValueError, match="n_classes"):
        nsp.samples_contrast([0.1, 0.2], n_classes=3)
    with pytest.raises(ValueError, match="labels"):
        nsp.thresholds_from_dev([0.1, 0.2, 0.3], [0, 0, 0])
    with pytest.raises(ValueError, match="labels"):
        nsp.thresholds_from_dev([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(ValueError, match="thresholds"):
        nsp.apply_thresholds([0.1], [0.5, 0.2])
    with pytest.raises(ValueError, match="accs"):
        nsp.fewclue_score([50.0, 101.0])


def test_fewclue_scores() -> None:
    table = nsp.fewclue_table()
    row = table.set_index("method").loc
    assert nsp.fewclue_score(row["NSP-BERT"][list(nsp.FEWCLUE_TASKS)].to_numpy(float)) == pytest.approx(55.967,
                                                                                                           abs=5e-4)
    assert nsp.fewclue_score(row["PET-zero"][list(nsp.FEWCLUE_TASKS)].to_numpy(float)) == pytest.approx(45.10,
                                                                                                           abs=1e-9)
    assert row["P-tuning"]["mean of the 9 tasks"] == pytest.approx(59.91, abs=5e-3)
    # the averages that do not reproduce the reported score (the baseline rows come from the FewCLUE paper)
    assert row["BERT"]["mean of the 9 tasks"] == pytest.approx(39.344, abs=1e-3)
    assert row["GPT-zero"]["mean of the 9 tasks"] == pytest.approx(43.344, abs=1e-3)
    assert len(table) == 11 and table.attrs["source"].startswith("Sun")


# ------------------------------------------------------------------------------------------------ miniature BERT
@pytest.fixture(scope="module")
def corpus() -> nsp.Corpus:
    return nsp.make_corpus()


def test_corpus_vocabulary(corpus: nsp.Corpus) -> None:
    assert corpus.vocab == 76
    assert corpus.function_ids == list(range(3, 11)) and corpus.name_ids == list(range(11, 16))
    assert corpus.content_ids(0) == list(range(16, 28)) and corpus.content_ids(4)[-1] == 75
    assert len(corpus.docs) == 2000 and all(len(d) == 5 for d in corpus.docs)
    names = 0
    for doc, topic in zip(corpus.docs, corpus.topics):
        for s in doc:
            content = [w for w in s if w >= 16]
            assert 3 <= len(content) <= 5 and set(content) <= set(corpus.content_ids(int(topic)))
            assert 1 <= sum(3 <= w <= 10 for w in s) <= 2
            assert set(w for w in s if 11 <= w <= 15) <= {11 + int(topic)}
            names += any(11 <= w <= 15 for w in s)
    assert abs(names / 10_000 - 0.2) < 0.02
    control = nsp.make_corpus(p_name=0.0, n_docs=200)
    assert not any(11 <= w <= 15 for d in control.docs for s in d for w in s)


def test_batch_layout(corpus: nsp.Corpus) -> None:
    tokens, segments, labels = nsp.nsp_batch(corpus, 2000, np.random.default_rng(0))
    assert tokens.shape == segments.shape == (2000, 20) and labels.shape == (2000,)
    # about half are IsNext: binomial(2000, 1/2) has sd 22
    assert abs(int((labels == nsp.IS_NEXT).sum()) - 1000) < 5 * 23
    for row, seg in zip(tokens[:200].tolist(), segments[:200].tolist()):
        assert row[0] == nsp.CLS
        first_sep = row.index(nsp.SEP)
        end = len(row) - row[::-1].index(nsp.SEP)
        assert seg[:first_sep + 1] == [0] * (first_sep + 1)
        assert seg[first_sep + 1:end] == [1] * (end - first_sep - 1)
        assert all(t == nsp.PAD and s == 0 for t, s in zip(row[end:], seg[end:]))


def test_is_next_pairs_are_consecutive(corpus: nsp.Corpus) -> None:
    rng = np.random.default_rng(3)
    tokens, _, labels = nsp.nsp_batch(corpus, 300, rng)
    consecutive = {(tuple(d[i]), tuple(d[i + 1])) for d in corpus.docs for i in range(4)}
    for row, lab in zip(tokens.tolist(), labels.tolist()):
        s1 = row.index(nsp.SEP)
        s2 = row.index(nsp.SEP, s1 + 1)
        pair = (tuple(row[1:s1]), tuple(row[s1 + 1:s2]))
        if lab == nsp.IS_NEXT:
            assert pair in consecutive


def test_model_forward_shape(corpus: nsp.Corpus) -> None:
    torch.manual_seed(0)
    model = nsp.TinyNSPBert(corpus.vocab)
    tokens, segments, _ = nsp.nsp_batch(corpus, 7, np.random.default_rng(1))
    assert model(tokens, segments).shape == (7, 2)
    assert sum(p.numel() for p in model.parameters()) < 30_000
    with pytest.raises(ValueError, match="tokens"):
        model(tokens[:, :10], segments[:, :10])


def test_segments_matter(corpus: nsp.Corpus) -> None:
    torch.manual_seed(0)
    model = nsp.TinyNSPBert(corpus.vocab).eval()
    tokens, segments, _ = nsp.nsp_batch(corpus, 5, np.random.default_rng(1))
    assert not torch.allclose(model(tokens, segments), model(tokens, torch.zeros_like(segments)))


def test_short_training_lowers_the_loss(corpus: nsp.Corpus) -> None:
    model, losses = nsp.train_tiny_nsp(corpus, steps=150, batch=64)
    assert len(losses) == 150 and all(math.isfinite(x) for x in losses)
    assert np.mean(losses[-20:]) < np.mean(losses[:5])
    assert not model.training


def test_topic_ceiling() -> None:
    assert nsp.topic_ceiling(5) == pytest.approx(0.9, rel=1e-15)
    assert nsp.topic_ceiling(1) == 0.5  # one topic: topics say nothing
    assert nsp.topic_ceiling(10**6) == pytest.approx(1.0, abs=1e-6)


def test_candidate_scores_and_prompts(corpus: nsp.Corpus) -> None:
    torch.manual_seed(0)
    model = nsp.TinyNSPBert(corpus.vocab).eval()
    texts, topics = nsp.sample_sentences(corpus, 12, seed=1)
    assert not any(11 <= w <= 15 for s in texts for w in s)
    prompts = nsp.label_prompts(corpus)
    assert prompts[2] == [3, 4, 13] and nsp.label_prompts(corpus, "bare")[4] == [15]
    pre = nsp.candidate_scores(model, texts, prompts, prefix=True)
    suf = nsp.candidate_scores(model, texts, prompts, prefix=False)
    assert pre.shape == suf.shape == (12, 5) and np.all((pre > 0) & (pre < 1))
    # each entry equals the single-pair probability, in the stated order
    assert pre[3, 1] == pytest.approx(nsp.pair_probs(model, [prompts[1]], [texts[3]])[0], rel=1e-6)
    assert suf[3, 1] == pytest.approx(nsp.pair_probs(model, [texts[3]], [prompts[1]])[0], rel=1e-6)
    best, scores = nsp.candidates_contrast(lambda a, b: nsp.pair_probs(model, [a], [b])[0], texts[3], prompts)
    assert best == int(pre[3].argmax()) and np.allclose(scores, pre[3], rtol=1e-6)
    acc = nsp.zero_shot_accuracy(model, texts, topics, prompts)
    assert acc == pytest.approx(float((pre.argmax(1) == topics).mean()))


def test_topic_pairs_are_balanced(corpus: nsp.Corpus) -> None:
    first, second, labels = nsp.topic_pairs(corpus, 400, seed=2)
    assert labels.sum() == 200 and len(first) == len(second) == 400

    def topic(s):
        return (max(s) - 16) // 12

    assert all((topic(a) == topic(b)) == bool(y) for a, b, y in zip(first, second, labels))


def test_encode_pairs_refuses() -> None:
    with pytest.raises(ValueError, match="max_len"):
        nsp.encode_pairs([[3] * 10], [[4] * 10], max_len=20)
    with pytest.raises(ValueError, match="first"):
        nsp.encode_pairs([[3]], [[4], [5]])
    with pytest.raises(ValueError, match="first"):
        nsp.encode_pairs([[1, 3]], [[4]])  # a special token inside a segment


def test_bad_arguments_are_named(corpus: nsp.Corpus) -> None:
    with pytest.raises(ValueError, match="K"):
        nsp.make_corpus(K=1)
    with pytest.raises(ValueError, match="p_name"):
        nsp.make_corpus(p_name=1.5)
    with pytest.raises(TypeError, match="corpus"):
        nsp.nsp_batch([[1]], 3, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        nsp.nsp_batch(corpus, 3, 0)
    with pytest.raises(ValueError, match="heads"):
        nsp.TinyNSPBert(76, d=30, heads=4)
    with pytest.raises(TypeError, match="model"):
        nsp.nsp_accuracy(None, corpus)
    with pytest.raises(ValueError, match="style"):
        nsp.label_prompts(corpus, "long")


# ------------------------------------------------------------------------------------------------ frozen vectors
def test_split_sentences() -> None:
    text = "这是第一句话，很长的一句。短句。这是第三句话吗？是的！最后一句没有句号但是足够长"
    assert nsp.split_sentences(text, min_chars=4) == ["这是第一句话，很长的一句。", "这是第三句话吗？",
                                                      "最后一句没有句号但是足够长"]
    assert nsp.split_sentences(text, min_chars=1, max_chars=3) == ["短句。", "是的！"]


def test_consecutive_pairs() -> None:
    paragraphs = [[f"p{i}s{j}" for j in range(4)] for i in range(30)]
    first, second, labels = nsp.consecutive_pairs(paragraphs, 500, seed=0)
    assert abs(labels.mean() - 0.5) < 0.1
    for a, b, y in zip(first, second, labels):
        p, s = a[1:].split("s")
        follows = b == f"p{p}s{int(s) + 1}"
        assert follows == (y == nsp.IS_NEXT)
    with pytest.raises(ValueError, match="paragraphs"):
        nsp.consecutive_pairs([["only one"]], 5)


def test_pair_head_learns_a_similarity() -> None:
    rng = np.random.default_rng(0)
    u = rng.normal(size=(400, 8))
    labels = (rng.random(400) >= 0.5).astype(np.int64)
    v = np.where(labels[:, None] == 0, u + 0.3 * rng.normal(size=u.shape), rng.normal(size=u.shape))
    head = nsp.train_pair_head(u, v, labels, steps=300, lr=1e-2)
    p = nsp.pair_head_prob(head, u, v)
    assert ((p > 0.5) == (labels == 0)).mean() > 0.9
    assert nsp.roc_auc(p, labels == 0) > 0.95
    shuffled = nsp.pair_head_prob(nsp.train_pair_head(u, v, labels, steps=300, lr=1e-2, shuffle_labels=True), u, v)
    assert ((shuffled > 0.5) == (labels == 0)).mean() < 0.8
    cands = nsp.head_candidate_scores(head, u[:5], u[:3])
    assert cands.shape == (5, 3) and cands[1, 1] == pytest.approx(nsp.pair_head_prob(head, u[1:2], u[1:2])[0])
    assert nsp.head_candidate_scores(head, u[:5], u[:3], prefix=False)[1, 2] == pytest.approx(
        nsp.pair_head_prob(head, u[1:2], u[2:3])[0])


def test_cosine_and_auc() -> None:
    x = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert np.allclose(nsp.cosine_scores(x, np.array([[3.0, 0.0], [1.0, 1.0]])),
                       [[1.0, 1 / math.sqrt(2)], [0.0, 1 / math.sqrt(2)]])
    assert nsp.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert nsp.roc_auc([0.5, 0.5], [0, 1]) == 0.5
    with pytest.raises(ValueError, match="positive"):
        nsp.roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="texts"):
        nsp.cosine_scores(np.zeros((1, 2)), np.ones((1, 2)))


def test_insuranceqa_loaders() -> None:
    pytest.importorskip("insuranceqa_data")
    texts, labels = nsp.insuranceqa_questions(per_domain=5)
    assert len(texts) == 30 and np.bincount(labels).tolist() == [5] * 6
    assert all(isinstance(t, str) and t for t in texts)
    paragraphs = nsp.insuranceqa_paragraphs(20)
    assert len(paragraphs) == 20 and all(len(p) >= 2 for p in paragraphs)
    assert all(8 <= len(s) <= 60 for p in paragraphs for s in p)


def test_stored_seed_runs() -> None:
    runs, provenance = nsp.stored_seed_runs()
    assert provenance["function"] == "kexue.nsp.seed_run"
    expected = [(s, p) for s in range(8) for p in (0.0, 0.2)] + [(s, 0.5) for s in range(4)]
    assert sorted(zip(runs.seed, runs.p_name)) == sorted(expected)
    treated, control = runs[runs.p_name == 0.5], runs[runs.p_name == 0]
    # the chapter's claims: similar NSP accuracy, a clear zero-shot gap between the means
    assert abs(treated.nsp.mean() - control.nsp.mean()) < 0.03
    assert treated.prefix.mean() - control.prefix.mean() >= 0.15
    import hashlib
    from pathlib import Path

    path = Path(nsp.__file__).parent / "corpora" / "nsp_seed_runs.json"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    readme = (Path(__file__).parents[1] / "data" / "README.md").read_text(encoding="utf-8")
    assert digest in readme, "data/README.md must give the JSON's current SHA-256"


@pytest.mark.slow
def test_seed_run_reproduces_the_stored_row() -> None:
    runs, _ = nsp.stored_seed_runs()
    stored = runs[(runs.seed == 1) & (runs.p_name == 0.0)].iloc[0]
    live = nsp.seed_run((1, 0.0))
    for key in ("nsp", "prefix", "suffix", "bare"):
        assert live[key] == pytest.approx(stored[key], abs=0.03)

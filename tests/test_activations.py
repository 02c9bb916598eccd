"""Tests for kexue.activations (chapter 02: SquarePlus, kexue.fm/archives/8833).

The article's values and independently computed references (mpmath) are asserted here with their tolerances;
timing helpers are tested for structure only (timings are machine-dependent).
"""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from kexue import activations as act

# PyTorch comes with the [torch] extra; without it this module is skipped (`-m "not torch"` deselects it).
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

LOG2 = math.log(2)
B_STAR = 1.5238210325187506642  # the equioscillation equations solved with mpmath at 20 digits
X_STAR = 3.5646210379963
E_STAR = 0.07593144993597
GELU_GAP = 0.16997120747990366
GELU_GAP_X = 0.751791524693559

reals = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
positive_b = st.floats(1e-3, 100, allow_nan=False, allow_infinity=False)


# --- Reference values ---------------------------------------------------------------------------------------------
def test_squareplus_values():
    np.testing.assert_allclose(act.squareplus([-1, 0, 1], 4), [0.6180339887498949, 1.0, 1.618033988749895],
                               rtol=1e-15)
    assert act.squareplus(1, 1) == pytest.approx(1.2071067811865475, rel=1e-15)
    assert act.squareplus(0.0) == 1.0  # default b = 4


def test_squareplus_with_b_zero_is_relu():
    x = np.linspace(-5, 5, 1001)
    np.testing.assert_array_equal(act.squareplus(x, 0), np.maximum(x, 0))
    t = torch.linspace(-5, 5, 101)
    assert torch.equal(act.squareplus(t, 0.0), torch.relu(t))


def test_grad_and_hess_values():
    assert act.squareplus_grad(1, b=1) == pytest.approx(0.8535533905932737, rel=1e-15)
    for b in (0.5, 1.0, 4.0, 9.0):
        assert act.squareplus_hess(0, b) == pytest.approx(1 / (2 * math.sqrt(b)), rel=1e-15)
        assert act.squareplus(0.0, b) == pytest.approx(math.sqrt(b) / 2, rel=1e-15)
        assert act.squareplus_grad(0.0, b) == pytest.approx(0.5, rel=1e-15)


@pytest.mark.parametrize("b", [0.3, 1.0, 4.0, 25.0])
def test_hess_is_student_t2_density_and_grad_its_cdf(b):
    x = np.linspace(-30, 30, 2001)
    t2 = stats.t(df=2, scale=math.sqrt(b / 2))
    np.testing.assert_allclose(act.squareplus_hess(x, b), t2.pdf(x), rtol=1e-12)
    np.testing.assert_allclose(act.squareplus_grad(x, b), t2.cdf(x), rtol=1e-12)


def test_softplus_is_stable_and_its_derivatives_are_logistic():
    assert act.softplus(1000.0) == 1000.0
    assert act.softplus(-1000.0) == 0.0
    assert act.softplus(0.0) == pytest.approx(LOG2, rel=1e-16)
    x = np.linspace(-10, 10, 201)
    np.testing.assert_allclose(act.softplus_grad(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(act.softplus_hess(x), stats.logistic.pdf(x), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(act.softplus(x, beta=2.0), np.log1p(np.exp(2 * x)) / 2, rtol=1e-14)


def test_upper_bound_threshold():
    assert act.upper_bound_threshold() == pytest.approx(1.9218120556728057, rel=1e-15)
    assert act.upper_bound_threshold() == pytest.approx(4 * LOG2**2, rel=1e-15)


def test_minimax_b_by_equioscillation():
    b, x_star, err = act.minimax_b()
    assert b == pytest.approx(1.5238210325187507, rel=1e-10)
    assert b == pytest.approx(B_STAR, rel=1e-14)
    assert x_star == pytest.approx(X_STAR, rel=1e-9)
    assert err == pytest.approx(E_STAR, rel=1e-9)
    # the three touching points: e(0) = −err, e(±x*) = +err, e'(x*) = 0
    assert act.approximation_error(0.0, b) == pytest.approx(-err, rel=1e-12)
    assert act.approximation_error(-x_star, b) == pytest.approx(err, rel=1e-12)
    assert math.sqrt(b) / 2 == pytest.approx(LOG2 - E_STAR, rel=1e-12)
    assert x_star / math.hypot(x_star, math.sqrt(b)) == pytest.approx(math.tanh(x_star / 2), rel=1e-14)


def test_minimax_methods_agree():
    b, _, err = act.minimax_b()
    b_article, err_article = act.minimax_b_article()  # the post's Powell recipe on [-2, 4), step 1e-4
    assert abs(b_article - b) < 1e-9
    assert err_article == pytest.approx(err, rel=1e-9)
    b_direct, err_direct = act.minimax_b_direct()
    assert abs(b_direct - b) < 1e-9
    assert err_direct == pytest.approx(err, rel=1e-11)
    assert act.max_abs_error(b) == pytest.approx(err, rel=1e-12)


def test_minimax_is_a_minimum():
    b, _, err = act.minimax_b()
    for db in (1e-4, 1e-2, 0.1):
        assert act.max_abs_error(b - db) > err and act.max_abs_error(b + db) > err


def test_short_grid_misleads_the_article_recipe():
    b, err = act.minimax_b_article(-2.0, 3.0, 1e-4)
    assert b == pytest.approx(1.53276, abs=1e-5)
    assert err == pytest.approx(0.07412, abs=1e-5)
    assert act.max_abs_error(b) > act.minimax_b()[2]  # its true error is worse than the optimum's


@pytest.mark.parametrize("b, expected, where", [
    (4.0, 1 - LOG2, 0.0),
    (1.0, LOG2 - 0.5, 0.0),
    (1.9218120556728057, 0.1038682205, 3.073),
])
def test_max_abs_error_softplus(b, expected, where):
    assert act.max_abs_error(b) == pytest.approx(expected, rel=1e-9)
    xs = np.linspace(0, 60, 600_001)
    peak = xs[np.argmax(np.abs(act.approximation_error(xs, b)))]
    assert peak == pytest.approx(where, abs=1e-3)


def test_max_abs_error_named_values():
    assert act.max_abs_error(4) == pytest.approx(0.3068528194, rel=1e-9)
    assert act.max_abs_error(1) == pytest.approx(0.1931471806, rel=1e-9)
    assert act.max_abs_error(0.0, ref="gelu") == pytest.approx(GELU_GAP, rel=1e-9)
    assert act.max_abs_error(1e-12, ref="gelu") == pytest.approx(GELU_GAP, rel=1e-6)
    assert act.max_abs_error(0.0, ref="relu") == 0.0


@pytest.mark.parametrize("b, expected", [(1e-4, 0.170004), (0.1, 0.204029), (1.0, 0.5)])
def test_max_abs_error_gelu(b, expected):
    assert act.max_abs_error(b, ref="gelu") == pytest.approx(expected, abs=1e-6)


def test_relu_gelu_gap():
    x, gap = act.relu_gelu_gap()
    assert gap == pytest.approx(GELU_GAP, rel=1e-12)
    assert x == pytest.approx(GELU_GAP_X, rel=1e-12)
    xs = np.linspace(-10, 10, 200_001)
    assert -float(np.min(act.gelu(xs))) == pytest.approx(gap, rel=1e-9)  # also GELU's minimum


def test_max_abs_error_with_custom_grid_and_no_refinement():
    coarse = act.max_abs_error(act.minimax_b()[0], grid=np.linspace(-2, 4, 61), refine=False)
    assert coarse <= act.minimax_b()[2] + 1e-15
    assert act.max_abs_error(4.0, grid=[-1.0, 0.0, 1.0]) == pytest.approx(1 - LOG2, rel=1e-12)


def test_temperature_scaling():
    b, _, err = act.minimax_b()
    beta = 2.0
    u = np.linspace(-20, 20, 4001)
    # squareplus_b(u/β) = squareplus_{bβ²}(u)/β, so b/β² is optimal for the sharper softplus
    np.testing.assert_allclose(act.squareplus(u / beta, b), act.squareplus(u, b * beta**2) / beta, rtol=1e-13)
    xs = np.linspace(0, 30, 300_001)
    for scale in (1.0, 1.01, 0.99):
        worst = np.max(np.abs(act.squareplus(xs, scale * b / beta**2) - act.softplus(xs, beta=beta)))
        if scale == 1.0:
            assert worst == pytest.approx(err / beta, rel=1e-6)
        else:
            assert worst > err / beta


def test_algebraic_gelu_fit():
    b, err = act.algebraic_gelu_fit()
    assert b == pytest.approx(0.6703, abs=1e-3)
    assert err == pytest.approx(0.04916, abs=1e-4)
    assert err < GELU_GAP  # better than any squareplus, which cannot beat ReLU
    x = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(act.algebraic_gelu(x, b), x * act.squareplus_grad(x, b))


# --- Agreement with torch autograd --------------------------------------------------------------------------------
@pytest.mark.parametrize("b", [0.1, 1.0, 1.5238, 4.0, 30.0])
def test_closed_form_derivatives_match_autograd(b):
    x = torch.linspace(-40, 40, 4001, dtype=torch.float64, requires_grad=True)
    y = act.squareplus(x, b)
    (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (hess,) = torch.autograd.grad(grad.sum(), x)
    torch.testing.assert_close(grad, act.squareplus_grad(x.detach(), b), rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(hess, act.squareplus_hess(x.detach(), b), rtol=1e-12, atol=1e-15)
    # the textbook form the timings use has the same derivatives
    (eager_grad,) = torch.autograd.grad(act.torch_activations(b)["squareplus"](x).sum(), x)
    torch.testing.assert_close(eager_grad, act.squareplus_grad(x.detach(), b), rtol=1e-10, atol=1e-12)


def test_torch_and_numpy_agree():
    x = np.linspace(-8, 8, 321)
    t = torch.from_numpy(x)
    for name in ("squareplus", "squareplus_grad", "squareplus_hess"):
        f = getattr(act, name)
        np.testing.assert_allclose(f(t, 2.0).numpy(), f(x, 2.0), rtol=1e-14)
    for f in (act.softplus, act.gelu, act.silu, act.relu, act.softplus_grad):
        np.testing.assert_allclose(f(t).numpy(), f(x), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(act.gelu(t, "tanh").numpy(), act.gelu(x, "tanh"), rtol=1e-12, atol=1e-15)


def test_numpy_gradients_match_autograd():
    x = np.linspace(-6, 6, 241)
    g = np.cos(x)
    fwd, grads = act.numpy_activations(2.0), act.numpy_gradients(2.0)
    for name, f in act.torch_activations(2.0).items():
        t = torch.tensor(x, requires_grad=True)
        (expected,) = torch.autograd.grad(f(t), t, torch.tensor(g))
        np.testing.assert_allclose(grads[name](x, g), expected.numpy(), rtol=1e-6, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(fwd[name](x), f(torch.tensor(x)).numpy(), rtol=1e-7, atol=1e-12, err_msg=name)


def test_float32_stays_float32_and_extremes_are_finite():
    x32 = np.linspace(-3, 3, 7, dtype=np.float32)
    assert act.squareplus(x32).dtype == np.float32
    assert act.squareplus(-1e30, 4.0) == pytest.approx(1 / 1e30, rel=1e-12)  # no cancellation to 0
    assert act.squareplus(1e200, 4.0) == 1e200  # no overflow in x²
    assert act.squareplus_grad(-1e10, 4.0) == pytest.approx(1e-20, rel=1e-9)
    assert act.squareplus_hess(1e200, 4.0) == 0.0


# --- Properties ------------------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(reals, reals, positive_b)
def test_monotone_and_convex(x1, x2, b):
    lo, hi = min(x1, x2), max(x1, x2)
    assert act.squareplus(lo, b) <= act.squareplus(hi, b) * (1 + 4e-16)  # monotone up to rounding
    mid = (lo + hi) / 2
    assert act.squareplus(mid, b) <= (act.squareplus(lo, b) + act.squareplus(hi, b)) / 2 + 1e-12 * (1 + hi - lo)
    assert 0 < act.squareplus_grad(x1, b) < 1 or abs(x1) > 1e3 * math.sqrt(b)
    assert act.squareplus_hess(x1, b) > 0


@settings(max_examples=200, deadline=None)
@given(reals, positive_b)
def test_bounds_above_relu(x, b):
    gap = act.squareplus(x, b) - max(x, 0.0)
    assert 0 < gap <= math.sqrt(b) / 2 * (1 + 1e-14)
    # The gap b / (2 (sqrt(x^2 + b) + |x|)) without cancellation; `gap` itself subtracts two numbers near x, so it is
    # good to a few units in the last place of x.
    exact = b / (2 * (math.sqrt(x * x + b) + abs(x)))
    assert gap == pytest.approx(exact, rel=1e-9, abs=4 * math.ulp(max(abs(x), math.sqrt(b))))


@settings(max_examples=200, deadline=None)
@given(reals)
def test_upper_bound_iff_threshold(x):
    threshold = act.upper_bound_threshold()
    assert act.squareplus(x, threshold) >= act.softplus(x) - 1e-15
    assert act.upper_bound_rhs(x) <= threshold * (1 + 1e-15)
    assert act.upper_bound_rhs(x) == pytest.approx(act.upper_bound_rhs(-x), rel=1e-12)


def test_below_threshold_squareplus_dips_below_softplus_at_zero():
    threshold = act.upper_bound_threshold()
    assert act.squareplus(0.0, threshold * (1 - 1e-9)) < act.softplus(0.0)
    assert act.approximation_error(0.0, threshold) == pytest.approx(0.0, abs=1e-16)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.5, 50), positive_b)
def test_limits(x, b):
    # large |x|: squareplus → ReLU with gap b/(4|x|) to first order
    big = 1e6 * x
    assert act.squareplus(-big, b) == pytest.approx(b / (4 * big), rel=1e-6)
    assert act.squareplus(big, b) == pytest.approx(big + b / (4 * big), rel=1e-15)
    # squareplus(x) − x = squareplus(−x): the gap above the line y = x mirrors the gap above 0
    assert act.squareplus(x, b) - x == pytest.approx(act.squareplus(-x, b), rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(reals, st.floats(0, 10))
def test_errors_are_even(x, b):
    for ref in ("softplus", "gelu", "relu"):
        assert act.approximation_error(x, b, ref) == pytest.approx(act.approximation_error(-x, b, ref),
                                                                   rel=1e-12, abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(reals, positive_b)
def test_squareplus_is_above_gelu(x, b):
    assert act.squareplus(x, b) > act.gelu(x)
    direct = act.squareplus(x, b) - act.softplus(x)
    assert act.approximation_error(x, b) == pytest.approx(direct, rel=1e-9, abs=1e-12)


# --- SymPy derivations -----------------------------------------------------------------------------------------------
def test_sympy_derivatives_and_identities():
    import sympy as sp

    f, d1, d2 = act.sym_derivatives()
    x, b = sorted(f.free_symbols, key=str)[::-1]
    assert sp.simplify(d1 - (1 + x / sp.sqrt(x**2 + b)) / 2) == 0
    assert sp.simplify(d2 - b / (2 * (x**2 + b) ** sp.Rational(3, 2))) == 0
    identities = act.sym_identities()
    assert len(identities) >= 8
    for name, expr in identities.items():
        assert act.sym_is_zero(expr), name


def test_sym_is_zero_rejects_a_false_identity():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    assert not act.sym_is_zero(sp.log(1 + sp.exp(x)) - x)
    assert not act.sym_is_zero(sp.Max(x, 0) - x)


def test_sympy_special_b_and_upper_bound():
    import sympy as sp

    special = act.sym_special_b()
    assert sp.simplify(special["value at 0"] - 4 * sp.log(2) ** 2) == 0
    assert special["curvature at 0"] == 4
    assert special["value at 0"] != special["curvature at 0"]
    bound = act.sym_upper_bound()
    assert bound["rhs(x) − rhs(−x)"] == 0
    assert bound["rhs'(0)"] == 0
    assert sp.simplify(bound["threshold"] - 4 * sp.log(2) ** 2) == 0
    assert float(bound["threshold"]) == pytest.approx(act.upper_bound_threshold(), rel=1e-15)
    x = sorted(bound["rhs"].free_symbols, key=str)[0]
    assert float(bound["rhs"].subs(x, 1.3)) == pytest.approx(float(act.upper_bound_rhs(1.3)), rel=1e-13)


# --- Timing helpers (structure only, never speed) ------------------------------------------------------------------
@pytest.mark.parametrize("backend, mode", [("torch", "forward"), ("torch", "forward+backward"),
                                           ("numpy", "forward"), ("numpy", "forward+backward")])
def test_time_activations_structure(backend, mode):
    threads = torch.get_num_threads()
    result = act.time_activations(n=2**12, rounds=3, backend=backend, mode=mode, min_time=1e-4)
    assert list(result) == list(act.ACTIVATIONS)
    assert result["ReLU"]["ratio"] == 1.0
    for stats_ in result.values():
        assert all(math.isfinite(stats_[k]) and stats_[k] > 0 for k in ("seconds", "ratio", "ratio_q1", "ratio_q3"))
        assert stats_["ratio_q1"] <= stats_["ratio"] <= stats_["ratio_q3"]
        assert len(stats_["times"]) == 3
    assert torch.get_num_threads() == threads  # restored
    assert act.ratio_between(result, "squareplus", "squareplus") == 1.0
    assert math.isfinite(act.ratio_between(result, "squareplus", "softplus"))


def test_time_activations_subset_and_one_round():
    result = act.time_activations(n=256, rounds=1, names=["ReLU", "squareplus"], min_time=1e-5)
    assert set(result) == {"ReLU", "squareplus"}
    assert result["ReLU"]["ratio"] == 1.0 and result["squareplus"]["ratio"] > 0


def test_eager_kernel_counts():
    counts = act.eager_kernel_counts()
    assert counts["squareplus"] == {"forward kernels": 5, "forward passes": 12, "backward kernels": 7,
                                    "backward passes": 19}
    for name in ("ReLU", "softplus", "GELU (erf)", "SiLU"):
        assert counts[name] == {"forward kernels": 1, "forward passes": 2, "backward kernels": 1,
                                "backward passes": 3}


def fake_benchmark():
    """A small benchmark table in the format of benchmarks/activations.csv."""
    import pandas as pd

    rows = []
    for n in (2**18, 2**21):
        for backend in ("torch eager", "torch compiled", "numpy"):
            for mode in ("forward", "forward+backward"):
                ratios = dict(zip(act.ACTIVATIONS, (1.0, 20.0, 5.0, 21.0, 6.0, 8.0 if backend == "torch eager"
                                                    else 2.0)))
                ratios[act.RATIO_ROW] = ratios["squareplus"] / ratios["softplus"]
                rows += [{"backend": backend, "mode": mode, "n": n, "activation": name, "ratio": r,
                          "measured": "2026-01-01 00:00 UTC"} for name, r in ratios.items()]
    return pd.DataFrame(rows)


def test_benchmark_table_and_facts(tmp_path):
    bench = fake_benchmark()
    table = act.benchmark_table(bench)
    assert list(table.index) == list(act.ACTIVATIONS) + [act.RATIO_ROW]
    assert list(table.columns) == ["eager fwd", "eager fwd+bwd", "compiled fwd", "compiled fwd+bwd", "NumPy fwd",
                                   "NumPy fwd+bwd"]
    assert table.loc["squareplus", "eager fwd"] == 8.0 and table.loc["squareplus", "compiled fwd"] == 2.0
    facts = act.benchmark_facts(bench)
    assert facts["bench_eager_fwd_vs_sp"] == "0.40" and facts["bench_comp_fwd_vs_sp"] == "0.10"
    assert facts["bench_n"] == "2^18" and facts["bench_date"] == "2026-01-01 00:00 UTC"
    assert facts["bench_eager_fwd_vs_gelu"] == "1.60" and facts["bench_comp_fwd_sqp"] == "2.00"
    assert facts["bench_eager_beat_sqp"] == "GELU (erf) and SiLU"
    assert facts["bench_order_fwd"] == "ReLU < GELU (erf) < SiLU < squareplus < softplus < GELU (tanh)"
    assert act.benchmark_facts(bench, n=2**21)["bench_n"] == "2^21"
    missing = act.benchmark_facts(None)
    assert set(missing) == set(facts) and missing["bench_comp_fb_sqp"] == "n/a"
    no_compiler = act.benchmark_facts(bench[bench["backend"] != "torch compiled"])
    assert no_compiler["bench_comp_fwd_sqp"] == "n/a" and no_compiler["bench_numpy_fwd_sqp"] == "2.00"
    path = tmp_path / "activations.csv"
    assert act.read_benchmark(path) is None
    bench.to_csv(path, index=False)
    assert act.benchmark_facts(act.read_benchmark(str(path))) == facts


# --- Bad inputs ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, name", [
    (lambda: act.squareplus([0.0], -1), ValueError, "b"),
    (lambda: act.squareplus([0.0], "4"), TypeError, "b"),
    (lambda: act.squareplus([0.0], float("nan")), ValueError, "b"),
    (lambda: act.squareplus("x"), TypeError, "x"),
    (lambda: act.squareplus(None), TypeError, "x"),
    (lambda: act.squareplus_grad(1.0, 0), ValueError, "b"),
    (lambda: act.squareplus_hess(1.0, True), TypeError, "b"),
    (lambda: act.softplus(1.0, beta=0), ValueError, "beta"),
    (lambda: act.gelu(1.0, approximate="fast"), ValueError, "approximate"),
    (lambda: act.approximation_error(1.0, 1.0, ref="elu"), ValueError, "ref"),
    (lambda: act.max_abs_error(1.0, grid=[1.0]), ValueError, "grid"),
    (lambda: act.max_abs_error(1.0, refine="yes"), TypeError, "refine"),
    (lambda: act.minimax_b(tol=0), ValueError, "tol"),
    (lambda: act.minimax_b(tol="small"), TypeError, "tol"),
    (lambda: act.minimax_b_article(4.0, -2.0), ValueError, "hi"),
    (lambda: act.minimax_b_article(step=0.0), ValueError, "step"),
    (lambda: act.minimax_b_direct(bounds=(3.0, 0.5)), ValueError, "bounds"),
    (lambda: act.minimax_b_direct(bounds=(2.0, 3.0)), ValueError, "bounds"),
    (lambda: act.minimax_b_direct(bounds=1.0), TypeError, "bounds"),
    (lambda: act.time_activations(n=8), ValueError, "n"),
    (lambda: act.time_activations(rounds=0), ValueError, "rounds"),
    (lambda: act.time_activations(repeat=0), ValueError, "repeat"),
    (lambda: act.time_activations(threads=1.5), TypeError, "threads"),
    (lambda: act.time_activations(backend="jax"), ValueError, "backend"),
    (lambda: act.time_activations(mode="backward"), ValueError, "mode"),
    (lambda: act.time_activations(backend="numpy", compiled=True), ValueError, "compiled"),
    (lambda: act.time_activations(names=["squareplus"]), ValueError, "names"),
    (lambda: act.time_activations(dtype="float16"), ValueError, "dtype"),
    (lambda: act.time_activations(min_time=0), ValueError, "min_time"),
    (lambda: act.eager_kernel_counts(n=4), ValueError, "n"),
    (lambda: act.draw_explorer(-1.0), ValueError, "b"),
    (lambda: act.read_benchmark(3), TypeError, "path"),
    (lambda: act.benchmark_table(None), ValueError, "bench"),
    (lambda: act.benchmark_table(fake_benchmark(), n=7), ValueError, "n"),
])
def test_bad_inputs_name_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


# --- Figure and import weight -------------------------------------------------------------------------------------
def test_draw_explorer_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = act.draw_explorer(act.minimax_b()[0])
    top, bottom = fig.axes
    assert len(top.get_lines()) == 3 and top.get_legend() is not None
    assert bottom.get_xlabel() == "x" and top.get_title()
    plt.close(fig)


def test_module_import_does_not_load_torch_or_sympy():
    code = "import sys, kexue.activations; print('torch' in sys.modules, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


@pytest.mark.parametrize("beta", [0.3, 2.0, 7.5])
def test_beta_scales_the_minimax_problem(beta):
    # sqp_b(x) - sp_beta(x) = e_{b beta^2}(beta x) / beta, so b* scales like 1/beta^2 and the error like 1/beta.
    b_star, x_star, e_star = act.minimax_b()
    b_beta, x_beta, e_beta = act.minimax_b(beta=beta)
    assert b_beta == pytest.approx(b_star / beta**2, rel=1e-10)
    assert x_beta == pytest.approx(x_star / beta, rel=1e-9)
    assert e_beta == pytest.approx(e_star / beta, rel=1e-10)
    assert act.max_abs_error(b_beta, beta=beta) == pytest.approx(e_beta, rel=1e-8)
    assert act.upper_bound_threshold(beta) == pytest.approx(4 * math.log(2) ** 2 / beta**2, rel=1e-14)
    xs = np.linspace(-5, 5, 101)
    direct = act.squareplus(xs, b_beta) - act.softplus(xs, beta=beta)
    np.testing.assert_allclose(act.approximation_error(xs, b_beta, beta=beta), direct, atol=1e-14)


@pytest.mark.parametrize("call, error, name", [
    (lambda: act.minimax_b(beta=0.0), ValueError, "beta"),
    (lambda: act.minimax_b(beta="2"), TypeError, "beta"),
    (lambda: act.approximation_error(1.0, 1.0, ref="gelu", beta=2.0), ValueError, "beta"),
    (lambda: act.max_abs_error(1.0, beta=-1.0), ValueError, "beta"),
    (lambda: act.upper_bound_threshold(float("inf")), ValueError, "beta"),
])
def test_beta_is_validated(call, error, name):
    with pytest.raises(error, match=name):
        call()


@pytest.mark.parametrize("b", [0.05, 0.5, 1.0, 1.52, 1.9])
def test_error_shape_below_the_threshold(b):
    shape = act.error_shape(b)
    assert shape == {"smallest at x = 0": True, "interior maxima": 1, "interior minima": 0, "peak positive": True}


def test_error_shape_above_the_threshold_has_no_dip_below_zero():
    assert act.approximation_error(0.0, 4.0) > 0 and act.error_shape(4.0)["smallest at x = 0"] is False
    with pytest.raises(ValueError, match="points"):
        act.error_shape(1.0, points=2)

"""Tests for kexue.logsumexp (chapter: inequalities for logsumexp, kexue.fm/archives/9070)."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.special
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kexue import logsumexp as L

# Reference values computed independently with mpmath at 25 digits (see reference_values and the chapter).
X = [1, 2, 3]
P = [0.2, 0.3, 0.5]
LSE_123 = 3.40760596444438
MAX_UPPER_123 = 4.09861228866811
MEAN_123 = 3.09861228866811
BOUND_CAUCHY = 3.267584026261706
BOUND_T3 = 3.216290731874155
BOUND_T15 = 3.297422345411625
BOUND_ENTROPY = 3.329653014064574
SHANNON_P = 1.029653014064574
TAU_VALUES = {2.0: 4.360539341283469, 0.5: 3.07146581424995, 0.1: 3.000004540096028}
# x = (0, 1, 2, -1), p = softmax(x): the t < 1 member exceeds lse by these amounts.
T_BELOW_ONE = {0.5: 0.18695068086, 0.9: 0.0320706015554}


def tol(*arrays, rtol=1e-12):
    """Floating-point allowance for a 'strict' or tight inequality: relative to the inputs' size."""
    return rtol * max([1.0] + [float(np.max(np.abs(a))) for a in arrays])


# --- Strategies --------------------------------------------------------------------------------------------------
sizes = st.integers(2, 12)
reals = st.floats(-500, 500, allow_nan=False, allow_infinity=False)


@st.composite
def vectors(draw, n=None):
    n = draw(sizes) if n is None else n
    return np.array(draw(st.lists(reals, min_size=n, max_size=n)))


@st.composite
def probabilities(draw, n):
    """A probability vector of length n, possibly with zeros (0 log 0 = 0 must be handled)."""
    raw = np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 10.0)), min_size=n, max_size=n)))
    assume(raw.sum() > 0)
    return raw / raw.sum()


@st.composite
def vector_and_probability(draw):
    x = draw(vectors())
    return x, draw(probabilities(x.size))


@st.composite
def vector_pairs(draw):
    x = draw(vectors())
    return x, draw(vectors(x.size))


# --- logsumexp and friends ---------------------------------------------------------------------------------------
def test_logsumexp_reference_values():
    assert math.isclose(L.logsumexp(X), LSE_123, rel_tol=1e-14)
    big = L.logsumexp([1000.0, 0.0])
    assert math.isfinite(big) and big == 1000.0
    for tau, expected in TAU_VALUES.items():
        assert math.isclose(L.logsumexp(X, tau=tau), expected, rel_tol=1e-14)


def test_logsumexp_agrees_with_scipy_on_random_arrays():
    rng = np.random.default_rng(0)
    for _ in range(100):
        a = rng.normal(0, rng.choice([0.1, 10, 300]), size=rng.integers(1, 60))
        assert math.isclose(L.logsumexp(a), scipy.special.logsumexp(a), rel_tol=1e-12)


def test_logsumexp_axes_and_special_values():
    a = np.random.default_rng(1).normal(size=(3, 4, 5))
    for axis in (0, 1, 2, -1):
        np.testing.assert_allclose(L.logsumexp(a, axis=axis), scipy.special.logsumexp(a, axis=axis), rtol=1e-13)
    np.testing.assert_allclose(L.logsumexp(a, tau=0.3, axis=1), 0.3 * scipy.special.logsumexp(a / 0.3, axis=1),
                               rtol=1e-13)
    assert L.logsumexp([-np.inf, -np.inf]) == -np.inf
    assert L.logsumexp([np.inf, 0.0]) == np.inf
    assert math.isnan(L.logsumexp([np.nan, 0.0]))
    assert L.logsumexp([-np.inf, 2.0]) == 2.0
    assert L.logsumexp([5.0]) == 5.0


@pytest.mark.torch
def test_logsumexp_agrees_with_torch():
    torch = pytest.importorskip("torch")

    a = np.random.default_rng(2).normal(0, 50, size=(4, 7))
    np.testing.assert_allclose(L.logsumexp(a), torch.logsumexp(torch.from_numpy(a), dim=-1).numpy(), rtol=1e-13)


def test_naive_logsumexp_overflows():
    assert L.naive_logsumexp([1000.0, 0.0]) == np.inf
    assert L.naive_logsumexp(np.float32([89.0, 0.0])) == np.inf  # float32 overflows beyond ~88.7
    assert math.isclose(L.naive_logsumexp(X), LSE_123, rel_tol=1e-14)


def test_max_gap_is_accurate_where_subtraction_is_not():
    # lse(5, -35) - 5 rounds to 0.0 in float64; the gap itself is log1p(e^-40) ~ 4.2e-18.
    assert L.logsumexp([5.0, -35.0]) - 5.0 == 0.0
    assert math.isclose(L.max_gap([5.0, -35.0]), math.log1p(math.exp(-40.0)), rel_tol=1e-14)
    assert L.max_gap([3.0, 3.0, 3.0]) == pytest.approx(math.log(3), rel=1e-15)
    assert math.isclose(L.max_gap(X, tau=0.1), TAU_VALUES[0.1] - 3, rel_tol=1e-9)
    assert math.isnan(L.max_gap([np.inf, 0.0]))


def test_softmax_is_a_probability_vector_and_the_gradient():
    s = L.softmax([1000.0, 0.0, -np.inf])
    assert s.tolist() == [1.0, math.exp(-1000.0), 0.0]
    np.testing.assert_allclose(L.softmax(X), scipy.special.softmax(X), rtol=1e-14)
    # central differences of lse agree with softmax
    x, h = np.array([0.3, -1.2, 2.0, 0.5]), 1e-6
    grad = [(L.logsumexp(x + h * e) - L.logsumexp(x - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(grad, L.softmax(x), atol=1e-9)


def test_max_and_mean_bounds_reference_values():
    low, high = L.max_bounds(X)
    assert low == 3 and math.isclose(high, MAX_UPPER_123, rel_tol=1e-14)
    assert math.isclose(L.mean_bound(X), MEAN_123, rel_tol=1e-14)
    low, high = L.max_bounds(X, tau=0.5)
    assert low == 3 and math.isclose(high, 3 + 0.5 * math.log(3), rel_tol=1e-15)


# --- Renyi entropy and the weighted bounds -----------------------------------------------------------------------
def test_renyi_entropy_values():
    assert math.isclose(L.renyi_entropy(P, 1), SHANNON_P, rel_tol=1e-14)
    assert math.isclose(L.renyi_entropy(P, 2), -math.log(0.38), rel_tol=1e-14)
    assert math.isclose(L.renyi_entropy(P, 0), math.log(3), rel_tol=1e-15)
    assert math.isclose(L.renyi_entropy(P, math.inf), math.log(2), rel_tol=1e-15)
    assert math.isclose(L.renyi_entropy([0.0, 0.5, 0.5], 1), math.log(2), rel_tol=1e-15)  # 0 log 0 = 0
    assert math.isclose(L.renyi_entropy([0.0, 0.5, 0.5], 0.3), math.log(2), rel_tol=1e-14)
    assert math.isclose(L.renyi_entropy([0.25] * 4, 7.0), math.log(4), rel_tol=1e-14)
    # continuous at t = 1 (the limit), and no cancellation just beside it
    for eps in (1e-3, 1e-7, 1e-12):
        for side in (-1, 1):
            assert abs(L.renyi_entropy(P, 1 + side * eps) - SHANNON_P) < 0.2 * eps + 1e-15
    # large orders do not underflow: H_t -> -log max p
    assert math.isclose(L.renyi_entropy(P, 1e6), math.log(2) * 1e6 / (1e6 - 1), rel_tol=1e-12)


def test_renyi_entropy_is_non_increasing_on_a_grid():
    grid = np.concatenate([np.linspace(0, 0.99, 50), [1.0], np.linspace(1.01, 30, 100)])
    rng = np.random.default_rng(3)
    for p in [np.array(P), *rng.dirichlet(np.full(6, 0.3), size=20)]:
        values = np.array([L.renyi_entropy(p, t) for t in grid])
        assert np.all(np.diff(values) <= 1e-12)


def test_renyi_derivative_is_minus_kl_of_the_escort_distribution():
    # dH_t/dt = -KL(z_t || p) / (1 - t)^2 with z_t = p^t / sum p^t: the chapter's monotonicity argument
    rng = np.random.default_rng(4)
    for p in [np.array(P), *rng.dirichlet(np.ones(5), size=5)]:
        for t in (0.3, 0.8, 1.5, 2.0, 4.0):
            h = 1e-5
            slope = (L.renyi_entropy(p, t + h) - L.renyi_entropy(p, t - h)) / (2 * h)
            z = p**t / np.sum(p**t)
            kl = float(np.sum(z * np.log(z / p)))
            assert math.isclose(slope, -kl / (1 - t) ** 2, rel_tol=1e-6, abs_tol=1e-9)


def test_weighted_bound_reference_values():
    assert math.isclose(L.weighted_bound(X, P), BOUND_CAUCHY, rel_tol=1e-12)
    assert math.isclose(L.weighted_bound(X, P, 2.0), BOUND_CAUCHY, rel_tol=1e-12)
    assert math.isclose(L.weighted_bound(X, P, 3.0), BOUND_T3, rel_tol=1e-12)
    assert math.isclose(L.weighted_bound(X, P, 1.5), BOUND_T15, rel_tol=1e-12)
    assert math.isclose(L.weighted_bound(X, P, 1.0), BOUND_ENTROPY, rel_tol=1e-12)
    x = np.array([0.4, -2.0, 3.1, 0.0, 1.7])
    assert abs(L.weighted_bound(x, L.softmax(x), 1) - L.logsumexp(x)) <= 1e-12
    # uniform p at t = 2 is the mean bound
    assert math.isclose(L.weighted_bound(X, [1 / 3] * 3, 2.0), MEAN_123, rel_tol=1e-14)


def test_orders_below_one_can_break_the_bound():
    x = np.array([0.0, 1.0, 2.0, -1.0])
    for t, excess in T_BELOW_ONE.items():
        assert math.isclose(L.weighted_bound(x, L.softmax(x), t) - L.logsumexp(x), excess, rel_tol=1e-9)


def test_reference_values_match_the_float64_functions():
    ref = L.reference_values()
    assert math.isclose(ref["lse"], LSE_123, rel_tol=1e-14)
    assert math.isclose(ref["max_upper"], MAX_UPPER_123, rel_tol=1e-14)
    assert math.isclose(ref["mean"], MEAN_123, rel_tol=1e-14)
    assert math.isclose(ref["cauchy"], BOUND_CAUCHY, rel_tol=1e-14)
    assert math.isclose(ref["holder_t3"], BOUND_T3, rel_tol=1e-14)
    assert math.isclose(ref["holder_t1.5"], BOUND_T15, rel_tol=1e-14)
    assert math.isclose(ref["entropy"], BOUND_ENTROPY, rel_tol=1e-14)
    for tau, expected in TAU_VALUES.items():
        key = f"tau_{tau:g}"
        assert math.isclose(ref[key], expected, rel_tol=1e-14)


# --- Property tests: every inequality of the article -------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(vectors(), st.sampled_from([0.01, 0.1, 1.0, 10.0]))
def test_max_sandwich(x, tau):
    value = L.logsumexp(x, tau=tau)
    low, high = L.max_bounds(x, tau=tau)
    assert value - low >= -tol(x)  # strict in exact arithmetic; float64 may round the gap to 0
    assert high - value >= -tol(x)
    assert 0 <= L.max_gap(x, tau=tau) <= tau * math.log(x.size) * (1 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(sizes, reals, st.sampled_from([0.1, 1.0, 3.0]))
def test_upper_bound_is_attained_by_equal_entries(n, c, tau):
    x = np.full(n, c)
    assert abs(L.max_bounds(x, tau)[1] - L.logsumexp(x, tau=tau)) <= tol(x)
    assert abs(L.logsumexp(x) - L.mean_bound(x)) <= tol(x)


@settings(max_examples=200, deadline=None)
@given(vectors())
def test_mean_bound(x):
    assert L.logsumexp(x) - L.mean_bound(x) >= -tol(x)


@settings(max_examples=200, deadline=None)
@given(vector_and_probability(), st.floats(1.0, 50.0))
def test_holder_family_and_entropy_bound(case, t):
    x, p = case
    lse = L.logsumexp(x)
    for order in (t, 2.0, 1.0):
        assert lse - L.weighted_bound(x, p, order) >= -tol(x)
    # the family increases as t decreases to 1 (Renyi entropy is non-increasing)
    assert L.weighted_bound(x, p, 1.0) >= L.weighted_bound(x, p, t) - tol(x)


@settings(max_examples=100, deadline=None)
@given(vectors())
def test_entropy_bound_is_exact_at_softmax(x):
    assert abs(L.weighted_bound(x, L.softmax(x), 1.0) - L.logsumexp(x)) <= tol(x)


@settings(max_examples=200, deadline=None)
@given(vector_pairs())
def test_lipschitz(pair):
    x, y = pair
    assert L.lipschitz_slack(x, y) >= -tol(x, y)


@settings(max_examples=100, deadline=None)
@given(vectors(), st.floats(-100, 100))
def test_lipschitz_equality_for_constant_shifts(x, c):
    assert abs(L.lipschitz_slack(x, x + c)) <= tol(x, x + c)
    assert abs(L.logsumexp(x + c) - L.logsumexp(x) - c) <= tol(x, x + c)


@settings(max_examples=200, deadline=None)
@given(vector_pairs(), st.floats(0.0, 1.0))
def test_convexity(pair, s):
    x, y = pair
    assert L.convexity_slack(x, y, s) >= -tol(x, y)
    assert abs(L.convexity_slack(x, x + 2.5, s)) <= tol(x, x + 2.5)


def test_slacks_on_moderate_random_pairs_are_above_minus_1e_12():
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(2, 30))
        x, y = rng.normal(0, 3, n), rng.normal(0, 3, n)
        assert L.lipschitz_slack(x, y) >= -1e-12
        assert L.convexity_slack(x, y, float(rng.uniform())) >= -1e-12
        assert abs(L.lipschitz_slack(x, x + 0.7)) <= 1e-12
        assert abs(L.convexity_slack(x, x + 0.7, 0.3)) <= 1e-12


def test_lipschitz_and_convexity_are_strict_otherwise():
    x, y = np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 2.0])
    assert L.lipschitz_slack(x, y) > 0.1
    assert L.convexity_slack(x, y, 0.5) > 1e-4


def test_stress_test_finds_no_violation():
    result = L.stress_test(2000, seed=0)
    assert set(result) == set(L.BOUND_NAMES)
    for name, (worst, violations) in result.items():
        assert violations == 0, name
        assert worst >= -1e-9 * 300, name  # entries are at most a few hundred in size
    assert L.stress_test(2000, seed=0) == result  # deterministic
    only = L.stress_test(500, seed=1, bounds=["mean", "lipschitz"])
    assert list(only) == ["mean", "lipschitz"]
    assert L.stress_test(50, seed=1, bounds="convexity")["convexity"][1] == 0


def test_stress_test_counts_violations_of_a_false_bound(monkeypatch):
    # rounding never pushes lse below x_max, even with no tolerance at all
    assert L.stress_test(300, seed=0, bounds=["max-lower"], rtol=0.0)["max-lower"][1] == 0
    assert L.stress_test(300, seed=0, bounds=["max-upper"])["max-upper"][0] > 0
    # a logsumexp that is 10 too large breaks the upper bound (slack <= log 49) in every trial
    real = L.logsumexp
    monkeypatch.setattr(L, "logsumexp", lambda x, tau=1.0, axis=-1: real(x, tau, axis) + 10.0)
    worst, count = L.stress_test(300, seed=0, bounds=["max-upper"])["max-upper"]
    assert count == 300 and worst <= -10 + math.log(49)


def test_tightness_examples():
    rows = {r["bound"]: r for r in L.tightness_examples()}
    assert len(rows) == 8
    for name, row in rows.items():
        if row["slack at equality"] != "—":
            assert abs(row["slack at equality"]) <= 1e-12, name
        assert -1e-12 <= row["slack near equality"] < 0.01, name
        assert row["slack, generic case"] > 0.01, name
    assert 0 < rows["x_max < lse"]["slack near equality"] < 1e-16


# --- Symbolic checks ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 4])
def test_symbolic_gradient_hessian_and_kernel(n):
    import sympy as sp

    assert L.symbolic_gradient(n) == [0] * n
    assert L.symbolic_hessian(n) == sp.zeros(n, n)
    assert L.symbolic_hessian_kernel(n) == sp.zeros(n, 1)
    assert L.symbolic_quadratic_form(n) == 0
    assert L.symbolic_segment_derivative(n) == 0


def test_symbolic_checks_are_not_vacuous():
    import sympy as sp

    sp_, xs, lse, p = L._symbols(3)
    hessian = sp.hessian(lse, xs)
    assert (hessian - sp.diag(*p)).applyfunc(sp.simplify) != sp.zeros(3, 3)
    assert sp.simplify(sp.diff(lse, xs[0]) - p[1]) != 0


def test_symbolic_limits():
    import sympy as sp

    limit, residual = L.symbolic_entropy_limit()
    assert residual == 0
    assert math.isclose(float(limit), -SHANNON_P, rel_tol=1e-14)
    assert L.symbolic_entropy_limit(["1/2", "1/2", "0"])[1] == 0
    assert L.symbolic_n2_gap() == 0
    assert L.symbolic_temperature_limit() == 3
    assert L.symbolic_temperature_limit([sp.Rational(-1, 2), 0]) == 0


# --- Bad input ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, name", [
    (lambda: L.logsumexp("123"), TypeError, "x"),
    (lambda: L.logsumexp(None), TypeError, "x"),
    (lambda: L.logsumexp([1 + 2j, 0]), TypeError, "x"),
    (lambda: L.logsumexp(3.0), ValueError, "x"),
    (lambda: L.logsumexp([]), ValueError, "x"),
    (lambda: L.logsumexp([1.0], tau=0.0), ValueError, "tau"),
    (lambda: L.logsumexp([1.0], tau=-1.0), ValueError, "tau"),
    (lambda: L.logsumexp([1.0], tau="1"), TypeError, "tau"),
    (lambda: L.logsumexp([1.0], tau=math.nan), ValueError, "tau"),
    (lambda: L.logsumexp([1.0], axis=1), ValueError, "axis"),
    (lambda: L.logsumexp([1.0], axis=0.0), TypeError, "axis"),
    (lambda: L.softmax([np.inf, 0.0]), ValueError, "x"),
    (lambda: L.max_bounds([[1.0, 2.0]]), ValueError, "x"),
    (lambda: L.max_bounds([1.0, np.nan]), ValueError, "x"),
    (lambda: L.mean_bound([]), ValueError, "x"),
    (lambda: L.renyi_entropy([0.5, 0.6], 2), ValueError, "p"),
    (lambda: L.renyi_entropy([1.5, -0.5], 2), ValueError, "p"),
    (lambda: L.renyi_entropy([0.5, 0.5], -1), ValueError, "t"),
    (lambda: L.renyi_entropy([0.5, 0.5], "2"), TypeError, "t"),
    (lambda: L.renyi_entropy("ab", 2), TypeError, "p"),
    (lambda: L.weighted_bound([1.0, 2.0], [1.0], 2), ValueError, "p"),
    (lambda: L.weighted_bound([1.0, 2.0], [0.5, 0.5], math.nan), ValueError, "t"),
    (lambda: L.lipschitz_slack([1.0, 2.0], [1.0]), ValueError, "y"),
    (lambda: L.convexity_slack([1.0], [1.0], 1.5), ValueError, "s"),
    (lambda: L.convexity_slack([1.0], [1.0], True), TypeError, "s"),
    (lambda: L.stress_test(0), ValueError, "n_trials"),
    (lambda: L.stress_test(10, seed=-1), ValueError, "seed"),
    (lambda: L.stress_test(10, bounds=["nope"]), ValueError, "bounds"),
    (lambda: L.stress_test(10, bounds=5), TypeError, "bounds"),
    (lambda: L.stress_test(10, rtol=-1.0), ValueError, "rtol"),
    (lambda: L.tightness_examples(n=1), ValueError, "n"),
    (lambda: L.reference_values(digits=5), ValueError, "digits"),
    (lambda: L.symbolic_hessian(0), ValueError, "n"),
    (lambda: L.symbolic_hessian(2.0), TypeError, "n"),
    (lambda: L.symbolic_entropy_limit(["1/2", "1/3"]), ValueError, "p"),
    (lambda: L.symbolic_entropy_limit("1/2"), TypeError, "p"),
    (lambda: L.symbolic_temperature_limit(["a"]), TypeError, "x"),
    (lambda: L.draw_explorer(tau=0), ValueError, "tau"),
    (lambda: L.draw_explorer(n=1), ValueError, "n"),
    (lambda: L.draw_explorer(seed=-1), ValueError, "seed"),
    (lambda: L.naive_logsumexp("12"), TypeError, "x"),
])
def test_bad_inputs_name_the_argument(call, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()


# --- Figures and import weight -----------------------------------------------------------------------------------
def test_draw_explorer_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = L.draw_explorer(tau=0.3, n=7, n_samples=200)
    left, right = fig.axes
    assert len(left.lines) == 4 and left.get_xscale() == "log"
    assert left.get_xlabel() and right.get_xlabel() and left.get_title() and right.get_title()
    assert left.get_legend() is not None and right.get_legend() is not None
    plt.close(fig)


def test_module_import_is_light():
    code = "import sys, kexue.logsumexp; print(sorted({'sympy', 'torch', 'matplotlib', 'mpmath'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_weighted_bounds_can_all_fall_below_the_mean_bound():
    # For a fixed non-uniform p only Holder <= entropy (same p) holds; all may lie below the mean bound.
    x, p = np.array([1.0, 2.0, 3.0]), np.array([0.8, 0.1, 0.1])
    mean = L.mean_bound(x)
    weighted = [L.weighted_bound(x, p, t) for t in (3.0, 2.0, 1.5, 1.0)]
    assert all(w < mean for w in weighted)
    assert weighted == sorted(weighted)  # the Holder bounds increase as t decreases to the entropy bound


@pytest.mark.torch
def test_cross_entropy_bounds_hold_for_torch_losses():
    torch = pytest.importorskip("torch")

    rng = np.random.default_rng(1)
    logits = rng.normal(0, 4, (500, 7))
    labels = rng.integers(0, 7, 500)
    loss = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels), reduction="none").numpy()
    lower, upper = L.cross_entropy_bounds(logits, labels)
    assert np.all(lower <= loss + 1e-12) and np.all(loss <= upper + 1e-12)
    equal_lower, equal_upper = L.cross_entropy_bounds(np.zeros((1, 10)), np.array([3]))
    assert equal_lower[0] == pytest.approx(np.log(10)) and equal_upper[0] == pytest.approx(np.log(10))
    with pytest.raises(ValueError, match="logits"):
        L.cross_entropy_bounds(np.zeros(5), np.array([0]))
    with pytest.raises(TypeError, match="labels"):
        L.cross_entropy_bounds(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="labels"):
        L.cross_entropy_bounds(np.zeros((2, 3)), np.array([0, 3]))

"""Tests for kexue.hippo and kexue.hippo_symbolic (chapter 06: HiPPO, https://kexue.fm/archives/10137).

The reference values were computed independently (NumPy/SciPy float64, SymPy, mpmath at 100 digits for the LegT
spectrum).
"""
from __future__ import annotations

import functools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kexue import hippo as h
from kexue import hippo_symbolic as hs
from kexue.exercises.hippo import random_stable_system

SQ = np.sqrt


# --- Independent references ------------------------------------------------------------------------------------
def official_transition(measure: str, N: int) -> tuple[np.ndarray, np.ndarray]:
    """transition() of HazyResearch/hippo-code model/op.py for 'legt' and 'legs', re-typed."""
    if measure == "legt":
        Q = np.arange(N, dtype=np.float64)
        R = (2 * Q + 1) ** 0.5
        j, i = np.meshgrid(Q, Q)
        A = -(R[:, None] * np.where(i < j, (-1.0) ** (i - j), 1) * R[None, :])
        return A, R
    q = np.arange(N, dtype=np.float64)
    col, row = np.meshgrid(q, q)
    r = 2 * q + 1
    M = -(np.where(row >= col, r, 0) - np.diag(q))
    T = np.sqrt(np.diag(2 * q + 1))
    return T @ M @ np.linalg.inv(T), np.diag(T)


@functools.cache
def _dense_legs(N: int) -> np.ndarray:
    """The LegS matrix entry by entry from its definition."""
    A = np.zeros((N, N))
    for n in range(N):
        for k in range(N):
            A[n, k] = -math.sqrt((2 * n + 1) * (2 * k + 1)) if k < n else (-(n + 1) if k == n else 0.0)
    return A


def dense_legs(N: int) -> np.ndarray:
    return _dense_legs(N).copy()


def loop_scan(a, b):
    S, prev = np.zeros(len(b)), 0.0
    for i, (ai, bi) in enumerate(zip(a, b)):
        prev = ai * prev + bi
        S[i] = prev
    return S


def sym_zero(M) -> bool:
    return all(sp.simplify(e) == 0 for e in M)


# --- The Legendre basis ------------------------------------------------------------------------------------------
def test_legendre_orthonormal_by_gauss_legendre_quadrature():
    s, wts = np.polynomial.legendre.leggauss(40)
    G = h.legendre_orthonormal(20, s)
    assert G.shape == (40, 20)
    assert np.allclose(G.T @ (wts[:, None] * G), np.eye(20), atol=1e-12, rtol=0)


def test_legendre_values_match_numpy():
    s = np.linspace(-1, 1, 11)
    P = h.legendre(7, s)
    for n in range(7):
        assert np.allclose(P[:, n], np.polynomial.legendre.Legendre.basis(n)(s), atol=1e-14)
    assert np.allclose(P[-1], 1) and np.allclose(P[0], (-1.0) ** np.arange(7))


def test_symbolic_orthonormality_and_legendre_identities():
    assert hs.gram_matrix(8) == sp.eye(8)
    identities = hs.legendre_identities(10)
    assert set(identities) == {"derivative difference", "derivative recursion", "derivative expansion",
                               "(s+1) derivative"}
    for name, residuals in identities.items():
        assert len(residuals) >= 10 and all(r == 0 for r in residuals), name


# --- LegT --------------------------------------------------------------------------------------------------------
def test_legt_su_n4_values():
    A, B = h.legt_matrices(4)
    assert np.allclose(A[0], [-1, SQ(3), -SQ(5), SQ(7)], atol=1e-14)
    assert np.allclose(A[1], [-SQ(3), -3, SQ(15), -SQ(21)], atol=1e-14)
    assert np.allclose(B, [SQ(2), SQ(6), SQ(10), SQ(14)], atol=1e-14)


def test_legt_paper_and_lmu_normalisations():
    A, B = h.legt_matrices(4)
    Ap, Bp = h.legt_matrices(4, norm="paper")
    assert np.allclose(Ap, A) and np.allclose(Bp, SQ(2 * np.arange(4) + 1))
    Al, Bl = h.legt_matrices(4, norm="lmu")
    n, k = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    expected = np.where(k < n, -(2 * n + 1), -((-1.0) ** (n - k)) * (2 * n + 1))
    assert np.allclose(Al, expected, atol=1e-13) and np.allclose(Bl, 2 * np.arange(4) + 1)


@pytest.mark.parametrize("N", [1, 4, 9])
@pytest.mark.parametrize("w", [1.0, 0.37])
def test_lmu_form_is_voelkers_lmu_up_to_signs(N, w):
    Al, Bl = h.legt_matrices(N, w, norm="lmu")
    D = np.diag((-1.0) ** np.arange(N))
    Av, Bv = h.lmu_matrices(N, theta=w)
    assert np.allclose(D @ Al @ D, Av) and np.allclose(D @ Bl, Bv)
    assert not np.allclose(Al, Av) or N == 1


def test_legt_matches_official_code_and_scales_with_w():
    for N in (1, 5, 12):
        A, B = h.legt_matrices(N, norm="paper")
        Ao, Bo = official_transition("legt", N)
        assert np.allclose(A, Ao) and np.allclose(B, Bo)
    A1, B1 = h.legt_matrices(6)
    A3, B3 = h.legt_matrices(6, w=3.0)
    assert np.allclose(A3, A1 / 3) and np.allclose(B3, B1 / 3)


def test_legt_n4_eigenvalues():
    ev = np.sort_complex(np.linalg.eigvals(h.legt_matrices(4)[0]))
    expected = np.sort_complex(np.array([-4.7871931031 + 1.5674764169j, -4.7871931031 - 1.5674764169j,
                                         -3.2128068969 + 4.7730874333j, -3.2128068969 - 4.7730874333j]))
    assert np.allclose(ev, expected, atol=1e-9)
    assert np.allclose(np.sort_complex(h.legt_eigenvalues(4)), expected, atol=1e-9)


@pytest.mark.parametrize("N, max_abs, re_min, re_max, threshold", [
    (8, 12.89, -10.17, -4.69, 0.0564),
    (16, 27.83, -20.82, -6.49, 0.0167),
    (32, 58.53, -42.05, -8.70, 0.00508),
])
def test_legt_exact_spectrum_and_euler_threshold(N, max_abs, re_min, re_max, threshold):
    ev = h.legt_eigenvalues(N)
    assert ev.size == N
    assert np.max(np.abs(ev)) == pytest.approx(max_abs, abs=0.006)
    assert ev.real.min() == pytest.approx(re_min, abs=0.006) and ev.real.max() == pytest.approx(re_max, abs=0.006)
    assert h.legt_euler_threshold(ev) == pytest.approx(threshold, rel=0.005)
    if N <= 16:  # float64 is still reliable here, not from N ~ 32 on
        assert np.allclose(np.sort_complex(ev), np.sort_complex(h.legt_eigenvalues(N, exact=False)), atol=1e-8)


def test_legt_float64_spectrum_is_unreliable_at_n32():
    exact = h.legt_eigenvalues(32).real.min()
    assert abs(h.legt_eigenvalues(32, exact=False).real.min() - exact) > 1.0


@pytest.mark.parametrize("N", range(1, 7))
def test_legt_characteristic_polynomial_is_the_pade_denominator(N):
    z = sp.Symbol("z")
    A, _ = hs.legt_closed_form(N, norm="lmu")
    assert sp.expand(A.charpoly(z).as_expr() - hs.pade_denominator(N, z)) == 0


# --- LegS --------------------------------------------------------------------------------------------------------
def test_legs_su_n4_values():
    A, B = h.legs_matrices(4)
    expected = np.array([[-1, 0, 0, 0], [-SQ(3), -2, 0, 0], [-SQ(5), -SQ(15), -3, 0],
                         [-SQ(7), -SQ(21), -SQ(35), -4]])
    assert np.allclose(A, expected, atol=1e-14)
    assert np.allclose(B, [SQ(2), SQ(6), SQ(10), SQ(14)], atol=1e-14)


@pytest.mark.parametrize("N", [1, 2, 7, 16, 40])
def test_legs_eigenvalues_and_fixed_point(N):
    A, B = h.legs_matrices(N)
    assert np.allclose(np.sort(np.diag(A)), -np.arange(N, 0, -1))  # triangular: the diagonal is the spectrum
    assert np.allclose(-np.linalg.solve(A, B), SQ(2) * np.eye(N)[0], atol=1e-10)
    Ap, Bp = h.legs_matrices(N, "paper")
    assert np.allclose(-np.linalg.solve(Ap, Bp), np.eye(N)[0], atol=1e-10)
    assert np.allclose(h.legs_first_state(A, B, 0.7), 0.7 * SQ(2) * np.eye(N)[0], atol=1e-10)


def test_legs_normalisations_and_official_code():
    for N in (1, 6, 11):
        A, B = h.legs_matrices(N, "paper")
        Ao, Bo = official_transition("legs", N)
        assert np.allclose(A, Ao) and np.allclose(B, Bo)
        assert np.allclose(A, dense_legs(N))
    As, Bs = h.legs_matrices(5, "scaled")
    n, k = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    assert np.allclose(As, np.where(k < n, -(2 * n + 1), np.where(k == n, -(n + 1), 0)))
    assert np.allclose(Bs, 2 * np.arange(5) + 1)


def test_rescale_rules():
    rng = np.random.default_rng(1)
    A, B, lam = rng.normal(size=(4, 4)), rng.normal(size=4), rng.uniform(0.5, 2, size=4)
    At, Bt = h.rescale(A, B, lam)
    assert np.allclose(At, A * lam[None, :] / lam[:, None]) and np.allclose(Bt, B / lam)
    assert np.allclose(np.diag(At), np.diag(A))


# --- Symbolic derivations ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("N", range(1, 7))
def test_legt_derived_from_projection_equals_closed_form(N):
    A, B = hs.legt_from_projection(N)
    Ac, Bc = hs.legt_closed_form(N)
    assert sym_zero(A - Ac) and sym_zero(B - Bc)
    An, Bn = h.legt_matrices(N)
    assert np.allclose(np.array(A.evalf(), dtype=float), An) and np.allclose(np.array(B.evalf(), dtype=float)[:, 0], Bn)


@pytest.mark.parametrize("N", range(1, 7))
def test_legs_derived_from_projection_equals_closed_form(N):
    A, B = hs.legs_from_projection(N)
    Ac, Bc = hs.legs_closed_form(N)
    assert sym_zero(A - Ac) and sym_zero(B - Bc)
    assert np.allclose(np.array(A.evalf(), dtype=float), h.legs_matrices(N)[0])


def test_numeric_module_reexports_the_symbolic_derivations():
    for N in (1, 3):
        assert h.legt_from_projection(N) == hs.legt_from_projection(N)
        assert h.legs_from_projection(N) == hs.legs_from_projection(N)


def test_symbolic_window_width():
    w = sp.Symbol("w", positive=True)
    A, B = hs.legt_from_projection(3, w)
    Ac, Bc = hs.legt_closed_form(3, w)
    assert sym_zero(A - Ac) and sym_zero(B - Bc)


@pytest.mark.parametrize("N", range(1, 7))
def test_closure_exact_for_legs_and_only_for_low_degree_for_legt(N):
    for j in range(N):
        assert hs.closure_residual("legt", N, j) == sp.zeros(N, 1)
        assert hs.closure_residual("legs", N, j) == sp.zeros(N, 1)
    assert hs.closure_residual("legs", N, N) == sp.zeros(N, 1)
    assert hs.closure_residual("legt", N, N) != sp.zeros(N, 1)


def test_normalisations_symbolically_and_the_rescaling_erratum():
    N = 5
    A, B = hs.legt_closed_form(N)
    Al, Bl = hs.legt_closed_form(N, norm="lmu")
    assert all(Al[n, k] == (-(2 * n + 1) if k < n else -((-1) ** abs(n - k)) * (2 * n + 1))
               for n in range(N) for k in range(N))
    assert all(Bl[n] == 2 * n + 1 for n in range(N))
    # 10114's lambda_n = 2 / sqrt(2n+1) gives the right A but B_n = (2n+1) / sqrt(2).
    At, Bt = hs.rescale(A, B, [2 / sp.sqrt(2 * n + 1) for n in range(N)])
    assert sym_zero(At - Al)
    assert all(sp.simplify(Bt[n] - (2 * n + 1) / sp.sqrt(2)) == 0 for n in range(N))
    Ap, Bp = hs.legs_closed_form(N, norm="paper")
    assert all(sp.simplify(Bp[n] - sp.sqrt(2 * n + 1)) == 0 for n in range(N))


def test_hippo_from_map_reports_exactness_and_rejects_bad_maps():
    s, T = sp.symbols("s T")
    s, T = hs._symbols()
    assert hs.hippo_from_map((s + 1) * T / 2, 3)[2] is True
    assert hs.hippo_from_map((s + 1) / 2 + T - 1, 3)[2] is False
    with pytest.raises(ValueError, match="t_map"):
        hs.hippo_from_map((s + 1) * T / 3, 3)
    with pytest.raises(ValueError, match="t_map"):
        hs.hippo_from_map(s + sp.Symbol("q"), 2)


def test_symbolic_propagator_entries():
    r = sp.Symbol("r")
    P = hs.legs_propagator(3, r)
    assert sp.expand(P[1, 0] - sp.sqrt(3) * r * (r - 1)) == 0
    assert sp.expand(P[2, 0] - sp.sqrt(5) * r * (r - 1) * (2 * r - 1)) == 0
    assert sp.expand(P[2, 1] - sp.sqrt(15) * r**2 * (r - 1)) == 0
    assert [P[i, i] for i in range(3)] == [r, r**2, r**3]
    A = h.legs_matrices(3)[0]
    for hval in (0.1, 0.7, 2.3):
        numeric = np.array(P.subs(r, math.exp(-hval)).evalf(), dtype=float)
        assert np.allclose(numeric, scipy.linalg.expm(hval * A), atol=1e-13)


@pytest.mark.parametrize("m, n", [(1, 2), (10, 100), (3, 7)])
def test_propagator_entries_are_polynomials_in_m_over_n(m, n):
    P = scipy.linalg.expm(math.log(n / m) * h.legs_matrices(3)[0])
    r = m / n
    assert P[0, 0] == pytest.approx(r, abs=1e-14) and P[1, 1] == pytest.approx(r**2, abs=1e-14)
    assert P[1, 0] == pytest.approx(-SQ(3) * (r - r**2), abs=1e-13)
    if (m, n) == (10, 100):
        assert P[1, 0] == pytest.approx(-0.1558845727, abs=1e-10)


# --- Discretisation ----------------------------------------------------------------------------------------------
def test_discretize_scalar_values():
    a, b, eps = -0.7, 1.3, 0.5
    A, B = np.array([[a]]), np.array([b])
    Az, Bz = h.discretize(A, B, eps, "zoh")
    assert Az[0, 0] == pytest.approx(math.exp(-0.35), rel=1e-14)
    assert Bz[0] == pytest.approx((math.exp(-0.35) - 1) / a * b, rel=1e-13)
    Ab, Bb = h.discretize(A, B, eps, "bilinear")
    assert Ab[0, 0] == pytest.approx((1 + eps * a / 2) / (1 - eps * a / 2), rel=1e-14)
    assert Bb[0] == pytest.approx(eps * b / (1 - eps * a / 2), rel=1e-14)
    for alpha, method in ((0.5, "bilinear"), (1.0, "forward"), (0.0, "backward")):
        Aa, Ba = h.discretize(A, B, eps, "alpha", alpha=alpha)
        Am, Bm = h.discretize(A, B, eps, method)
        assert np.allclose(Aa, Am, rtol=1e-14) and np.allclose(Ba, Bm, rtol=1e-14)
    Af, Bf = h.discretize(A, B, eps, "forward")
    assert Af[0, 0] == pytest.approx(1 + eps * a) and Bf[0] == pytest.approx(eps * b)


def test_bilinear_is_forward_half_step_then_backward_half_step():
    rng = np.random.default_rng(2)
    A, B = random_stable_system(rng, 6)
    Af, Bf = h.discretize(A, B, 0.05, "forward")
    Ab, Bb = h.discretize(A, B, 0.05, "backward")
    Abil, Bbil = h.discretize(A, B, 0.1, "bilinear")
    assert np.allclose(Ab @ Af, Abil, atol=1e-13)
    assert np.allclose(Ab @ Bf + Bb, Bbil, atol=1e-13)


def test_zoh_is_exact_for_piecewise_constant_input():
    A, B = h.legt_matrices(6)
    u = np.array([0.3, -1.2, 2.0])
    Abar, Bbar = h.discretize(A, B, 0.1, "zoh")
    x = h.run_lti(Abar, Bbar, u)[-1]
    sol = scipy.integrate.solve_ivp(lambda t, x: A @ x + B * u[min(int(t / 0.1), 2)], (0, 0.3), np.zeros(6),
                                    rtol=1e-11, atol=1e-12, max_step=0.01, t_eval=[0.3])
    assert np.allclose(x, sol.y[:, -1], atol=1e-8)


def test_zoh_handles_complex_systems():
    A, B = h.fourier_window_matrices(3)
    Abar, Bbar = h.discretize(A, B, 0.01, "zoh")
    assert np.allclose(Abar, scipy.linalg.expm(0.01 * A))
    assert np.allclose(Bbar, np.linalg.solve(A, (Abar - np.eye(7)) @ B))


# --- LegS recurrences --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def signal_1000():
    return h.midpoint_samples(h.test_signal, 1e-3, 1.0)


def test_exact_legs_reproduces_the_projection(signal_1000):
    A, B = h.legs_matrices(8)
    X = h.run_legs(A, B, signal_1000, "zoh")
    assert X.shape == (1000, 8)
    c = h.project_history(signal_1000, 1e-3, 8)
    assert np.max(np.abs(X[-1] - c)) < 1e-12
    c_half = h.project_history(signal_1000[:500], 1e-3, 8)
    assert np.max(np.abs(X[499] - c_half)) < 1e-12
    assert np.allclose(c_half, h.project_window(signal_1000, 1e-3, 0.5, 0.5, 8), atol=1e-14)


@pytest.mark.parametrize("method", h.LEGS_METHODS)
def test_legs_step_agrees_with_run_legs(method, signal_1000):
    A, B = h.legs_matrices(5)
    u = signal_1000[:30]
    X = h.run_legs(A, B, u, method)
    assert np.allclose(X[0], SQ(2) * u[0] * np.eye(5)[0])
    x = X[0]
    for k in range(1, 30):
        x = h.legs_step(x, u[k], k, A, B, method)
        assert np.allclose(x, X[k], atol=1e-12, rtol=1e-12)


def test_legs_is_time_scale_equivariant():
    # The same samples, read as a signal on [0, 1] or on [0, 2]: the states coincide, since no step size enters.
    u1 = h.midpoint_samples(h.test_signal, 1e-3, 1.0)
    u2 = h.midpoint_samples(lambda t: h.test_signal(t / 2), 2e-3, 2.0)
    assert np.allclose(u1, u2, atol=1e-12)
    A, B = h.legs_matrices(12)
    assert np.allclose(h.run_legs(A, B, u1, "bilinear"), h.run_legs(A, B, u2, "bilinear"), atol=1e-12)


LEGS_TABLE = {  # N, K -> {method: (coef error, recon error)}; [projection-only reconstruction error]
    (8, 100): (0.4732, {"bilinear": (2.92e-2, 0.4739), "bilinear-log": (5.83e-3, 0.4732),
                        "bilinear-same-t": (3.35e-2, 0.4741), "forward": (0.184, 0.5003), "backward": (0.154, 0.4922)}),
    (8, 1000): (0.4720, {"bilinear": (6.90e-3, 0.4721), "bilinear-log": (5.56e-4, 0.4720),
                         "bilinear-same-t": (3.35e-3, 0.4720), "forward": (1.69e-2, 0.4723),
                         "backward": (1.66e-2, 0.4723)}),
    (32, 100): (0.1534, {"bilinear": (8.74e-2, 0.1761), "bilinear-log": (6.74e-2, 0.1672),
                         "bilinear-same-t": (6.40e-2, 0.1659), "forward": (21.2, 20.9), "backward": (0.343, 0.3716)}),
    (32, 1000): (0.1384, {"bilinear": (7.63e-3, 0.1386), "bilinear-log": (1.07e-3, 0.1384),
                          "bilinear-same-t": (6.24e-3, 0.1385), "forward": (0.111, 0.1766),
                          "backward": (7.68e-2, 0.1579)}),
    (64, 100): (0.0712, {"bilinear": (0.163, 0.1771), "bilinear-log": (0.105, 0.1265),
                         "bilinear-same-t": (8.24e-2, 0.1087), "forward": (57.1, 56.9), "backward": (0.366, 0.3715)}),
    (64, 1000): (0.00697, {"bilinear": (8.56e-3, 0.01103), "bilinear-log": (1.58e-3, 0.00715),
                           "bilinear-same-t": (6.53e-3, 0.00955), "forward": (0.155, 0.1550),
                           "backward": (9.75e-2, 0.0977)}),
}


@pytest.mark.parametrize("N, K", list(LEGS_TABLE))
def test_legs_table(N, K):
    best, rows = LEGS_TABLE[(N, K)]
    exact = h.memory_run("legs", N, 1 / K, "zoh")
    assert exact.coef_error < 2e-14
    assert exact.recon_error == pytest.approx(best, rel=0.005)
    assert exact.best_recon_error == pytest.approx(best, rel=0.005)
    for method, (coef, recon) in rows.items():
        run = h.memory_run("legs", N, 1 / K, method)
        assert run.coef_error == pytest.approx(coef, rel=0.005), method
        assert run.recon_error == pytest.approx(recon, rel=0.005), method


def test_legs_forward_euler_amplifies_only_while_k_below_n_over_2():
    N = 32
    A = h.legs_matrices(N)[0]
    for k in range(1, 40):
        radius = np.max(np.abs(np.diag(np.eye(N) + A / k)))  # triangular: eigenvalues 1 - j/k
        assert (radius > 1) == (k < N / 2), k


# --- LegT runs ---------------------------------------------------------------------------------------------------
LEGT_TABLE = {  # N, K_w -> {method: (coef error, recon error)}, T = 2, w = 1
    (8, 100): {"zoh": (0.217, 0.5105), "bilinear": (0.216, 0.5100), "backward": (0.409, 0.5950),
               "forward": (0.453, 0.6190)},
    (8, 1000): {"zoh": (0.217, 0.5095), "bilinear": (0.217, 0.5095), "backward": (0.232, 0.5146),
                "forward": (0.207, 0.5060)},
    (32, 100): {"zoh": (0.237, 0.2800), "bilinear": (0.180, 0.2350), "backward": (0.513, 0.5293),
                "forward": (3.6e8, None)},
    (32, 1000): {"zoh": (0.241, 0.2760), "bilinear": (0.241, 0.2755), "backward": (0.230, 0.2664),
                 "forward": (0.432, 0.4493)},
    (64, 100): {"zoh": (5.33e-3, 0.0714), "bilinear": (0.364, 0.3704), "backward": (0.526, 0.5293),
                "forward": (2.5e37, None)},
    (64, 1000): {"zoh": (1.20e-4, 0.00697), "bilinear": (4.19e-3, 0.00813), "backward": (0.208, 0.2081),
                 "forward": (1.12, 1.1200)},
}
LEGT_RADIUS = {(8, 100): 0.9607, (32, 100): 1.0810, (64, 100): 1.4944}


@pytest.mark.parametrize("N, K", list(LEGT_TABLE))
def test_legt_table(N, K):
    for method, (coef, recon) in LEGT_TABLE[(N, K)].items():
        run = h.memory_run("legt", N, 1 / K, method, T=2.0)
        rel = 0.02 if coef > 1e6 else 0.005
        assert run.coef_error == pytest.approx(coef, rel=rel), method
        if recon is not None:
            assert run.recon_error == pytest.approx(recon, rel=0.005), method
        if method == "forward" and (N, K) in LEGT_RADIUS:
            assert run.spectral_radius == pytest.approx(LEGT_RADIUS[(N, K)], abs=6e-5)


def test_forward_euler_stability_rule_is_not_two_over_max_modulus():
    ev = h.legt_eigenvalues(32)
    assert 0.01 < 2 / np.max(np.abs(ev))  # the naive rule calls eps = 0.01 stable ...
    assert np.max(np.abs(1 + 0.01 * ev)) > 1  # ... but it is not
    assert h.legt_euler_threshold(ev) < 0.01


# --- Projections ---------------------------------------------------------------------------------------------------
def test_project_constant_and_window():
    c = h.project_history(np.ones(50), 0.02, 6)
    assert np.allclose(c, SQ(2) * np.eye(6)[0], atol=1e-14)
    cw = h.project_window(np.ones(300), 0.01, 3.0, 1.0, 4)
    assert np.allclose(cw, SQ(2) * np.eye(4)[0], atol=1e-13)
    assert np.allclose(h.project_history(np.ones(50), 0.02, 6, norm="paper"), np.eye(6)[0], atol=1e-14)


def test_project_linear_input_exactly_against_sympy():
    # A "linear" sequence u_k = k on steps of 0.1 over [0, 1]; window [0.25, 0.85].
    u = np.arange(10.0)
    c = h.project_window(u, 0.1, 0.85, 0.6, 5)
    s, t = sp.symbols("s t")
    exact = []
    for n in range(5):
        total = 0
        for k in range(10):
            lo = max(k * sp.Rational(1, 10), sp.Rational(1, 4))
            hi = min((k + 1) * sp.Rational(1, 10), sp.Rational(17, 20))
            if lo < hi:
                # s = 2 (t - 0.25) / 0.6 - 1
                total += k * sp.integrate(hs.g(n, s), (s, 2 * (lo - sp.Rational(1, 4)) / sp.Rational(3, 5) - 1,
                                                       2 * (hi - sp.Rational(1, 4)) / sp.Rational(3, 5) - 1))
        exact.append(float(total))
    assert np.allclose(c, exact, atol=1e-13)


def test_project_window_before_the_start_sees_zeros():
    u = np.ones(100)
    c = h.project_window(u, 0.01, 0.5, 1.0, 3)  # window [-0.5, 0.5]: half zeros
    assert c[0] == pytest.approx(1 / SQ(2), rel=1e-13)


def test_reconstruct_and_reconstruction_error():
    s = np.linspace(-1, 1, 7)
    c = np.array([SQ(2), 0, 0])
    assert np.allclose(h.reconstruct(c, s), 1.0)
    assert np.allclose(h.reconstruct(np.array([1.0, 0, 0]), s, norm="paper"), 1.0)
    u = np.ones(20)
    assert h.reconstruction_error(c, u, 0.05, 1.0, 1.0) == pytest.approx(0.0, abs=1e-14)
    assert h.reconstruction_error(0 * c, u, 0.05, 1.0, 1.0) == pytest.approx(1.0)
    C = np.stack([c, 2 * c])
    assert h.reconstruct(C, s).shape == (2, 7)


def test_test_signal_formula():
    t = np.array([0.0, 0.1, 0.37])
    f = np.sin(4 * np.pi * t) + 0.5 * np.cos(10 * np.pi * t + 1) + 0.3 * np.sin(22 * np.pi * t + 0.3)
    assert np.allclose(h.test_signal(t), f)
    assert h.midpoint_samples(h.test_signal, 0.25, 1.0) == pytest.approx(h.test_signal(np.array([0.125, 0.375,
                                                                                                 0.625, 0.875])))


# --- O(N) LegS -----------------------------------------------------------------------------------------------------
def test_legs_solve_exact_example():
    z = h.legs_solve(0.5, [1, 2, 3, 4])
    expected = [2 / 3, 1 - SQ(3) / 6, 6 / 5 - SQ(15) / 5 - SQ(5) / 30, 4 / 3 - SQ(35) / 5]
    assert np.allclose(z, expected, atol=1e-15, rtol=0)
    assert np.allclose(z, [0.6666666667, 0.7113248654, 0.3508677315, 0.1501173767], atol=1e-10)


@pytest.mark.parametrize("N", [5, 64, 256])
def test_legs_matvec_and_solve_reference_sizes(N):
    rng = np.random.default_rng(N)
    A = h.legs_matrices(N)[0]
    v = rng.normal(size=N)
    dense = A @ v
    assert np.max(np.abs(h.legs_matvec(v) - dense)) / np.max(np.abs(dense)) < 1e-12
    for lam in (0.3, 1 / 7, 2.5):
        ref = np.linalg.solve(np.eye(N) - lam * A, v)
        assert np.max(np.abs(h.legs_solve(lam, v) - ref)) < 1e-13


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 300), st.floats(-1e3, 1e3), st.integers(0, 2**32 - 1))
def test_legs_matvec_equals_dense_product(N, scale, seed):
    v = np.random.default_rng(seed).normal(size=N) * scale
    dense = dense_legs(N) @ v
    got = h.legs_matvec(v)
    assert np.max(np.abs(got - dense)) <= 1e-12 * max(np.max(np.abs(dense)), 1e-300)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 300), st.floats(1e-4, 1e4), st.integers(0, 2**32 - 1))
def test_legs_solve_equals_dense_solve(N, lam, seed):
    # lam > 0, as in every implicit step (lam = eps/2, eps, ...); for lam < 0 the system is violently
    # ill-conditioned (the recurrence amplifies by |1 - lam n| / |1 + lam (n+1)| > 1 at every n).
    v = np.random.default_rng(seed).normal(size=N)
    M = np.eye(N) - lam * dense_legs(N)
    ref = np.linalg.solve(M, v)
    got = h.legs_solve(lam, v)
    assert np.max(np.abs(got - ref)) <= 1e-9 * max(1.0, np.max(np.abs(ref)))
    assert np.allclose(M @ got, v, atol=1e-8 * max(1.0, np.max(np.abs(v))))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1.5, 1.5), st.floats(-10, 10)), min_size=1, max_size=200))
def test_affine_scan_equals_loop(pairs):
    a, b = map(np.array, zip(*pairs))
    ref = loop_scan(a, b)
    assert np.allclose(h.affine_scan(a, b), ref, rtol=1e-9, atol=1e-9 * max(1.0, np.max(np.abs(ref))))


def test_o_n_routines_work_on_batches():
    V = np.random.default_rng(3).normal(size=(4, 33))
    assert np.allclose(h.legs_matvec(V), V @ h.legs_matrices(33)[0].T)
    assert np.allclose(h.legs_solve(0.2, V), np.stack([h.legs_solve(0.2, v) for v in V]))


# --- Memory, HTTYH -------------------------------------------------------------------------------------------------
def test_legs_impulse_memory_decays_like_one_over_n():
    X = h.legs_impulse_memory(16, 100, np.array([101, 1000, 10**4, 10**5]))
    assert np.allclose(X[:, 0], [1.4002e-2, 1.4142e-3, 1.4142e-4, 1.4142e-5], rtol=2e-4)
    assert np.allclose(np.linalg.norm(X, axis=1), [0.12816, 5.8547e-3, 9.3634e-4, 1.9910e-4], rtol=2e-4)
    u = np.zeros(1000)
    u[100] = 1.0
    assert np.allclose(X[1], h.project_history(u, 1.0, 16), atol=1e-14)  # exact propagation = projection


def test_legt_impulse_response_forgets_outside_the_window():
    A, B = h.legt_matrices(16)
    norms = [np.linalg.norm(scipy.linalg.expm(t * A) @ B) for t in (0.5, 1.0, 2.0, 4.0)]
    assert np.allclose(norms, [4.547, 2.687, 8.90e-4, 2.39e-9], rtol=2e-3)


def test_httyh_warped_legendre_kernel():
    A, B = h.legs_matrices(6, "paper")
    kernel = scipy.linalg.expm(0.5 * A) @ B
    assert np.allclose(kernel, [0.606531, 0.22383, -0.585772, -0.474056, 0.389, 0.64034], atol=2e-6)
    assert np.max(np.abs(kernel - h.httyh_kernel(6, [0.5])[0])) < 4e-15
    t = np.linspace(0, 6, 25)
    assert np.allclose(np.stack([scipy.linalg.expm(x * A) @ B for x in t]), h.httyh_kernel(6, t), atol=1e-12)


# --- Fourier -------------------------------------------------------------------------------------------------------
def test_fourier_scaled_structure():
    for N in (1, 4, 8):
        A, B = h.fourier_scaled_matrices(N)
        row0 = A[N]
        assert np.all(np.delete(row0, N) == 0) and row0[N] == -1
        assert np.allclose(-np.linalg.solve(A, B), np.eye(2 * N + 1)[N], atol=1e-14)
        As, Bs = hs.fourier_scaled_closed_form(N)
        assert np.allclose(np.array(As.evalf(), dtype=complex), A)
        assert np.allclose(np.array(Bs.evalf(), dtype=complex)[:, 0], B)


def test_fourier_window_spectrum():
    ev = np.linalg.eigvals(h.fourier_window_matrices(8)[0])
    assert ev.real.min() == pytest.approx(-1.0900, abs=5e-5) and ev.real.max() == pytest.approx(-0.7796, abs=5e-5)
    A, B = h.fourier_window_matrices(2, w=0.5)
    assert np.allclose(A[0], np.array([-1 - 4j * np.pi, -1, -1, -1, -1]) / 0.5) and np.allclose(B, 2)


def test_sawtooth_series_converges_to_s():
    s = np.array([0.1, 0.37, 0.8])
    errors = [np.max(np.abs(h.sawtooth_partial_sum(s, K) - s)) for K in (10, 100, 1000)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 2e-3


@pytest.mark.parametrize("N, error", [(4, 0.3239), (8, 0.2299), (16, 0.1386), (32, 0.0849)])
def test_fous_errors(N, error):
    run = h.memory_run("fous", N, 1 / 400, "zoh")
    assert run.coef_error == pytest.approx(error, rel=0.002)
    assert abs(run.states[-1][N] - run.exact[N]) < 5e-15  # the running mean is exact


@pytest.mark.parametrize("N, error", [(4, 0.147), (8, 0.121), (16, 0.114), (32, 0.112)])
def test_fout_error_floor(N, error):
    assert h.memory_run("fout", N, 1 / 800, "zoh", T=2.0).coef_error == pytest.approx(error, rel=0.005)


def test_fout_periodic_vs_non_periodic_long_run():
    periodic = lambda t: np.sin(6 * np.pi * t)  # noqa: E731
    aperiodic = lambda t: np.sin(5 * np.pi * t)  # noqa: E731
    assert h.memory_run("fout", 8, 1e-3, "zoh", T=10.0, signal=periodic).coef_error == pytest.approx(2.2e-5, rel=0.03)
    assert h.memory_run("fout", 32, 1e-3, "zoh", T=10.0, signal=periodic).coef_error == pytest.approx(2.3e-5, rel=0.03)
    for N, err in ((8, 0.507), (32, 0.500), (64, 0.500)):
        run = h.memory_run("fout", N, 1e-3, "zoh", T=10.0, signal=aperiodic)
        assert run.coef_error == pytest.approx(err, rel=0.002)
    assert h.memory_run("fout", 8, 1e-3, "zoh", T=2.0, signal=periodic).coef_error == pytest.approx(0.11, abs=0.01)


# --- Plotting smoke test -------------------------------------------------------------------------------------------
def test_plot_memory_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = h.memory_run("legt", 8, 0.01, "forward", T=1.5)
    ax = h.plot_memory(run)
    assert len(ax.lines) == 3
    plt.close(ax.figure)
    ax = h.plot_memory(h.memory_run("legt", 32, 0.01, "forward", T=2.0))
    assert any("blown up" in t.get_text() or "frame" in t.get_text() for t in ax.texts)
    plt.close(ax.figure)


# --- Bad inputs --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, name", [
    (lambda: h.legendre_orthonormal(0, [0.0]), ValueError, "N"),
    (lambda: h.legendre_orthonormal(3.0, [0.0]), TypeError, "N"),
    (lambda: h.legendre_orthonormal(3, "abc"), TypeError, "s"),
    (lambda: h.legendre_orthonormal(3, [[0.0]]), ValueError, "s"),
    (lambda: h.legt_matrices(4, w=0), ValueError, "w"),
    (lambda: h.legt_matrices(4, norm="scaled"), ValueError, "norm"),
    (lambda: h.legt_matrices(4, norm=1), TypeError, "norm"),
    (lambda: h.legs_matrices(4, norm="lmu"), ValueError, "norm"),
    (lambda: h.legs_matrices(True), TypeError, "N"),
    (lambda: h.lmu_matrices(3, theta=-1.0), ValueError, "theta"),
    (lambda: h.discretize(np.eye(2), np.ones(2), 0.1, "euler"), ValueError, "method"),
    (lambda: h.discretize(np.eye(2), np.ones(2), -0.1, "zoh"), ValueError, "eps"),
    (lambda: h.discretize(np.eye(2), np.ones(3), 0.1, "zoh"), ValueError, "B"),
    (lambda: h.discretize(np.ones((2, 3)), np.ones(2), 0.1, "zoh"), ValueError, "A"),
    (lambda: h.discretize(np.eye(2), np.ones(2), 0.1, "alpha"), ValueError, "alpha"),
    (lambda: h.discretize(np.eye(2), np.ones(2), 0.1, "alpha", alpha=1.5), ValueError, "alpha"),
    (lambda: h.discretize(np.eye(2), np.ones(2), 0.1, "zoh", alpha=0.5), ValueError, "alpha"),
    (lambda: h.run_legs(*h.legs_matrices(3), [1.0, np.nan]), ValueError, "u"),
    (lambda: h.run_legs(*h.legs_matrices(3), [1.0], method="exact"), ValueError, "method"),
    (lambda: h.run_lti(np.eye(2), np.ones(2), [1.0], x0=np.ones(3)), ValueError, "x0"),
    (lambda: h.legs_step(np.ones(3), 1.0, 0, *h.legs_matrices(3)), ValueError, "k"),
    (lambda: h.legs_step(np.ones(2), 1.0, 1, *h.legs_matrices(3)), ValueError, "x"),
    (lambda: h.project_window(np.ones(10), 0.1, 2.0, 1.0, 3), ValueError, "T"),
    (lambda: h.project_history(np.ones(10), 0.0, 3), ValueError, "eps"),
    (lambda: h.project_history([], 0.1, 3), ValueError, "u"),
    (lambda: h.reconstruction_error(np.ones(3), np.zeros(10), 0.1, 1.0, 1.0), ValueError, "zero"),
    (lambda: h.reconstruction_error(np.ones(3), np.ones(10), 0.1, 1.0, 1.0, M=0), ValueError, "M"),
    (lambda: h.legs_matvec("1 2 3"), TypeError, "v"),
    (lambda: h.legs_solve("0.5", [1.0]), TypeError, "lam"),
    (lambda: h.legs_solve(-0.5, [1.0, 2.0]), ValueError, "lam"),
    (lambda: h.legs_solve(math.inf, [1.0]), ValueError, "lam"),
    (lambda: h.affine_scan([1.0, 2.0], [1.0]), ValueError, "a and b"),
    (lambda: h.fourier_window_matrices(-1), ValueError, "N"),
    (lambda: h.fourier_reconstruct(np.ones(4), [0.5]), ValueError, "c"),
    (lambda: h.midpoint_samples(h.test_signal, 0.3, 1.0), ValueError, "T / eps"),
    (lambda: h.midpoint_samples(3.0, 0.1, 1.0), TypeError, "f"),
    (lambda: h.memory_run("legx", 4, 0.1, "zoh"), ValueError, "memory"),
    (lambda: h.memory_run("legt", 4, 0.1, "bilinear-log"), ValueError, "method"),
    (lambda: h.legt_eigenvalues(4, exact="yes"), TypeError, "exact"),
    (lambda: h.legt_euler_threshold([1.0, -1.0]), ValueError, "eigenvalues"),
    (lambda: h.legs_impulse_memory(4, 10, np.array([5])), ValueError, "n"),
    (lambda: h.httyh_kernel(3, [-1.0]), ValueError, "t"),
    (lambda: h.rescale(np.eye(2), np.ones(2), [1.0, 0.0]), ValueError, "lam"),
    (lambda: h.test_signal("now"), TypeError, "t"),
    (lambda: h.plot_memory("run"), TypeError, "run"),
    (lambda: hs.legt_from_projection(0), ValueError, "N"),
    (lambda: hs.legs_from_projection(2.5), TypeError, "N"),
    (lambda: hs.closure_residual("fout", 3, 1), ValueError, "kind"),
    (lambda: hs.legt_closed_form(3, norm="scaled"), ValueError, "norm"),
])
def test_bad_inputs_name_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


# --- Import weight -------------------------------------------------------------------------------------------------
def test_module_import_does_not_load_sympy_or_matplotlib():
    code = ("import sys, kexue.hippo, kexue.hippo_symbolic; "
            "print('sympy' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_s4_fourier_closure_removes_the_fout_floor():
    """Doubling FouT's rank-one term and B (the S4 repository's closure) makes the error fall like 1/N."""
    A, B = h.fourier_window_matrices(4)
    A2, B2 = h.fourier_window_matrices(4, closure="s4")
    assert np.allclose(A2 - np.diag(np.diag(A2)), 2 * (A - np.diag(np.diag(A)))) and np.allclose(B2, 2 * B)
    u = h.midpoint_samples(lambda t: np.sin(5 * np.pi * t), 1e-3, 10.0)
    errors = {}
    for N in (8, 32):
        target = h.fourier_project(u, 1e-3, 10.0, 1.0, N)
        for closure in ("hippo", "s4"):
            final = h.run_lti(*h.discretize(*h.fourier_window_matrices(N, closure=closure), 1e-3, "zoh"), u)[-1]
            errors[closure, N] = h.relative_error(final, target)
    assert errors["hippo", 8] > 0.45 and errors["hippo", 32] > 0.45  # the floor
    assert errors["s4", 32] < 0.06 and 3.3 < errors["s4", 8] / errors["s4", 32] < 4.5  # about 1/N
    with pytest.raises(ValueError, match="closure"):
        h.fourier_window_matrices(4, closure="s5")


def test_s4_repository_legt_is_hippo_code_with_w_2():
    for N in (1, 5, 12):
        Ao, Bo = official_transition("legt", N)
        A2, B2 = h.legt_matrices(N, w=2.0, norm="paper")
        assert np.allclose(Ao / 2, A2) and np.allclose(Bo / 2, B2)


def test_alpha_scheme_is_scipy_gbt_with_one_minus_alpha():
    from scipy.signal import cont2discrete

    A, B = h.legt_matrices(6)
    for alpha in (0.0, 0.3, 0.5, 1.0):
        ours = h.discretize(A, B, 0.01, "alpha", alpha=alpha)
        theirs = cont2discrete((A, B[:, None], np.eye(6), np.zeros((6, 1))), 0.01, method="gbt", alpha=1 - alpha)
        assert np.allclose(ours[0], theirs[0]) and np.allclose(ours[1], theirs[1].ravel())
    assert np.allclose(h.discretize(A, B, 0.01, "forward")[0], np.eye(6) + 0.01 * A)


def test_chapter_06_compares_with_the_article_only():
    text = (Path(__file__).resolve().parents[1] / "book" / "06-hippo.md").read_text(encoding="utf-8")
    assert "brief" not in text.lower()
    assert "Beyond the article: S4's Fourier closure" in text and "cont2discrete" in text


def test_chapter_06_fits_its_slopes_on_its_own_run_and_keeps_machinery_out():
    """The scaling slope is fitted on the page's live timings, not on a committed benchmark file, and the lesson
    does not set threads or start process pools itself (the module does, behind one call)."""
    text = (Path(__file__).resolve().parents[1] / "book" / "06-hippo.md").read_text(encoding="utf-8")
    assert "hippo_scaling.csv" not in text and "hippo.loglog_slope(t" in text
    for machinery in ("set_threads", "threadpool", "ProcessPool", "multiprocessing", "perf_counter"):
        assert machinery not in text
    assert text.count("```{code-cell}") <= 42, "chapter 06 is growing back into a very long page"


def test_run_grid_and_error_table():
    runs = h.run_grid("legs", [(4, 50), (8, 50)], ["zoh", "forward"])
    assert list(runs.columns) == ["N", "K", "method", "coef", "recon", "projection only", "rho", "run"]
    assert len(runs) == 4 and runs["rho"].isna().all()
    zoh = runs.query("N == 8 and method == 'zoh'").iloc[0]
    assert zoh["coef"] < 1e-12 and zoh["run"].N == 8 and zoh["run"].eps == 1 / 50
    table = h.error_table(runs)
    assert list(table.columns) == ["projection only", "zoh", "forward"]
    assert table.loc[(8, 50), "zoh"] == f"{zoh['coef']:.3g} / {zoh['recon']:.4g}"
    legt = h.run_grid("legt", [(4, 100)], ["forward"], T=1.5)
    assert legt["rho"].iloc[0] == h.memory_run("legt", 4, 0.01, "forward", T=1.5).spectral_radius
    with pytest.raises(ValueError, match="methods"):
        h.run_grid("legt", [(4, 100)], ["bilinear-log"])
    with pytest.raises(ValueError, match="cases"):
        h.run_grid("legs", [4, 100], ["zoh"])
    with pytest.raises(TypeError, match="methods"):
        h.run_grid("legs", [(4, 100)], "zoh")
    with pytest.raises(ValueError, match="runs"):
        h.run_grid("legs", [(4, 100)] * 100, ["zoh", "forward", "backward"])
    with pytest.raises(TypeError, match="runs"):
        h.error_table({"N": [1]})


def test_step_errors_orders():
    legs = h.step_errors("legs", 4, [100, 200], ["forward"])
    assert legs["forward"][0] == h.memory_run("legs", 4, 0.01, "forward").coef_error
    legt = h.step_errors("legt", 4, [100, 200, 400], ["forward", "bilinear"], T=1.0)
    forward, bilinear = np.array(legt["forward"]), np.array(legt["bilinear"])
    assert np.all(forward[:-1] / forward[1:] > 1.7)  # first order: halving the step halves the error
    assert np.all(bilinear[:-1] / bilinear[1:] > 3.5)  # second order
    with pytest.raises(ValueError, match="methods"):
        h.step_errors("legt", 4, [100], ["zoh"])  # the reference itself
    with pytest.raises(ValueError, match="Ks"):
        h.step_errors("legs", 4, [0], ["forward"])


def test_loglog_slope_and_plot_scaling():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert h.loglog_slope({2**k: 3e-6 * 2**k for k in range(4, 10)}) == pytest.approx(1.0)
    assert h.loglog_slope({8: 1.0, 16: 1.0, 32: 4.0, 64: 16.0}, min_N=32) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="min_N"):
        h.loglog_slope({8: 1.0, 16: 2.0}, min_N=16)
    with pytest.raises(TypeError, match="times"):
        h.loglog_slope([1.0, 2.0])
    with pytest.raises(ValueError, match="times"):
        h.loglog_slope({8: 0.0, 16: 1.0})
    timings = h.scaling_timings([8, 64, 512], dense_max=64)
    ax = h.plot_scaling(timings, {"legs_solve": 0.9})
    labels = [line.get_label() for line in ax.lines]
    assert "legs_solve (slope 0.90)" in labels and "slope 2" in labels and len(ax.lines) == 6
    plt.close(ax.figure)
    with pytest.raises(TypeError, match="timings"):
        h.plot_scaling([1, 2])


def test_memory_figure_titles_the_run():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = h.memory_figure(8, 0.01, "zoh", 1.0)
    run = h.memory_run("legt", 8, 0.01, "zoh", T=2.0, w=1.0)
    assert f"{run.coef_error:.3g}" in ax.get_title() and "LegT" in ax.get_title()
    plt.close(ax.figure)
    ax = h.memory_figure(8, 0.01, "bilinear-log", None)
    assert ax.get_title().startswith("LegS")
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="window"):
        h.memory_figure(8, 0.01, "zoh", 3.0)


def test_scaling_timings_and_time_per_call():
    table = h.scaling_timings([8, 64], dense_max=8)
    assert set(table) == {"legs_matvec", "legs_solve", "dense matvec", "dense solve"}
    assert set(table["legs_solve"]) == {8, 64} and set(table["dense solve"]) == {8}
    assert all(0 < t < 1 for col in table.values() for t in col.values())
    with pytest.raises(TypeError, match="call"):
        h.time_per_call(3)
    with pytest.raises(ValueError, match="min_time"):
        h.time_per_call(lambda: None, min_time=100)
    with pytest.raises(ValueError, match="sizes"):
        h.scaling_timings([0])

"""Tests for kexue.aquarium (chapter: the equal-path bottom-filter eco-tank, kexue.fm/archives/7961)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import trapezoid

from kexue import aquarium as aq

LPH = aq.LPH
Q = 500 * LPH


# --- Edge laws -----------------------------------------------------------------------------------------------------
def test_friction_factor_values_and_continuity():
    assert float(aq.friction_factor(1000)) == pytest.approx(0.064, rel=1e-14)
    assert float(aq.friction_factor(1e4)) == pytest.approx(0.3164 * 1e4 ** -0.25, rel=1e-14)
    assert float(aq.friction_factor(1e4)) == pytest.approx(0.031640, abs=1e-6)
    for re in (2300.0, 4000.0):
        below, above = aq.friction_factor([re * (1 - 1e-12), re * (1 + 1e-12)])
        assert above == pytest.approx(below, rel=1e-9)
    # The blend weights the two laws at the same Re (not a straight line between their end values).
    w = (3000 - 2300) / 1700
    assert float(aq.friction_factor(3000)) == pytest.approx((1 - w) * 64 / 3000 + w * 0.3164 * 3000 ** -0.25)


def test_pipe_dp_laminar_is_hagen_poiseuille():
    mu = aq.WATER["mu"]
    for q in (10 * LPH, 62.5 * LPH, -30 * LPH):
        L, D = 0.3, 0.017
        assert aq.pipe_dp(q, L, D) == pytest.approx(128 * mu * L * q / (math.pi * D**4), rel=1e-12)
    assert aq.pipe_dp(0.0, 1.0, 0.017, K=2.0) == 0.0


def test_pipe_dp_turbulent_and_odd():
    q, L, D, K = Q, 0.15, 0.017, 1.0
    v = q / (math.pi * D**2 / 4)
    re = aq.WATER["rho"] * v * D / aq.WATER["mu"]
    expected = (0.3164 * re**-0.25 * L / D + K) * aq.WATER["rho"] * v * v / 2
    assert aq.pipe_dp(q, L, D, K) == pytest.approx(expected, rel=1e-12)
    assert aq.pipe_dp(-q, L, D, K) == pytest.approx(-expected, rel=1e-12)


def test_orifice_and_ergun_values():
    area = 4 * math.pi * 0.005**2 / 4
    assert aq.orifice_dp(1.0, 4, 0.005) == pytest.approx(998.2 / (2 * 0.61**2 * area**2), rel=1e-12)
    assert aq.ergun_dp(500 / 3.6e6, 0.24, 0.12, 0.01, 0.4) == pytest.approx(0.65292, abs=1e-4)
    # Per metre of bed: 5.44 Pa/m; the particle Reynolds number at 0.579 mm/s is 5.8.
    assert aq.ergun_dp(Q, 0.24, 1.0, 0.01, 0.4) == pytest.approx(5.44, abs=0.005)
    u = Q / 0.24
    assert u * 1000 == pytest.approx(0.579, abs=5e-4)
    assert aq.WATER["rho"] * u * 0.01 / aq.WATER["mu"] == pytest.approx(5.8, abs=0.05)


def test_inlet_resistance_defaults():
    r_lin, r_quad = aq.inlet_resistance()
    assert r_lin == pytest.approx(33817.5, rel=1e-9)
    assert r_quad == pytest.approx(2.176627e11, rel=1e-6)
    assert aq.orifice_dp(1.0, 4, 0.005) == pytest.approx(2.174444e11, rel=1e-6)
    assert r_quad - aq.orifice_dp(1.0, 4, 0.005) == pytest.approx(2.1836e8, rel=1e-4)


def test_bed_geometry():
    g = aq.bed_geometry()
    assert g["volume_l"] == pytest.approx(28.57, abs=0.01)
    assert g["depth_m"] == pytest.approx(0.119, abs=0.001)
    assert g["surface_m2"] == pytest.approx(10.3, abs=0.05)
    lo, hi = aq.bed_geometry(bulk_density=0.9), aq.bed_geometry(bulk_density=0.5)
    assert (lo["volume_l"], hi["volume_l"]) == (pytest.approx(22.2, abs=0.05), pytest.approx(40.0))
    assert lo["surface_m2"] == pytest.approx(8.0, abs=0.05) and hi["surface_m2"] == pytest.approx(14.4, abs=0.05)


# --- Networks ------------------------------------------------------------------------------------------------------
def test_htree_exactly_uniform_default():
    sol = aq.solve_layout(aq.htree_layout())
    np.testing.assert_allclose(sol.inlet_flows, Q / 8, rtol=1e-10)
    assert sol.suction == pytest.approx(-145.45, abs=0.01)
    net = aq.htree_layout()
    lengths = {round(sum(e.L for e in net.edges if e.kind == "pipe"), 12)}
    assert lengths == {1.30}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_htree_uniform_for_any_per_level_diameters(seed):
    rng = np.random.default_rng(seed)
    diameters = rng.uniform(0.010, 0.030, size=3)
    sol = aq.solve_layout(aq.htree_layout(D=list(diameters)), q=rng.uniform(100, 1500) * LPH)
    np.testing.assert_allclose(sol.inlet_flows, sol.inlet_flows.mean(), rtol=1e-10)
    lin = aq.solve_layout(aq.htree_layout(levels=4, D=list(rng.uniform(0.01, 0.03, 4))), laminar=True)
    np.testing.assert_allclose(lin.inlet_flows, Q / 16, rtol=1e-10)


def test_htree_symmetry_broken_by_one_pipe():
    net = aq.htree_layout()
    k = next(i for i, e in enumerate(net.edges) if e.u == "O000")
    e = net.edges[k]
    net.edges[k] = aq.Edge(e.u, e.v, L=e.L, D=0.015, K=e.K)
    u, _ = aq.uniformity(aq.solve_layout(net).inlet_flows)
    assert u < 0.999


def test_comb_reference_row():
    sol = aq.solve_layout(aq.comb_layout())
    flows = sol.inlet_flows / LPH
    np.testing.assert_allclose(flows[::2], [82.83, 63.24, 53.15, 50.78], atol=0.01)
    np.testing.assert_allclose(flows[::2], flows[1::2], rtol=1e-10)
    u, cv = aq.uniformity(sol.inlet_flows)
    assert (u, cv) == (pytest.approx(0.6131, abs=1e-4), pytest.approx(0.2021, abs=1e-4))
    assert sol.suction == pytest.approx(-204.16, abs=0.01)
    assert sol.pump_power * 1000 == pytest.approx(28.4, abs=0.05)


def test_open_pipe_end_rows():
    inlet = aq.inlet_resistance(open_end=0.017)
    tree = aq.solve_layout(aq.htree_layout(inlet=inlet))
    comb = aq.solve_layout(aq.comb_layout(inlet=inlet))
    np.testing.assert_allclose(tree.inlet_flows, Q / 8, rtol=1e-10)
    assert tree.suction == pytest.approx(-82.83, abs=0.01)
    np.testing.assert_allclose(comb.inlet_flows[::2] / LPH, [136.16, 60.88, 32.39, 20.57], atol=0.01)
    u, cv = aq.uniformity(comb.inlet_flows)
    assert (u, cv) == (pytest.approx(0.1511, abs=1e-4), pytest.approx(0.7197, abs=1e-4))
    assert comb.suction == pytest.approx(-113.59, abs=0.01)


@pytest.mark.parametrize(("kwargs", "q", "expected"), [
    ({"D": 0.022}, 500, 0.8168),
    ({"inlet": "8 holes"}, 500, 0.3425),
    ({}, 250, 0.6155),
    ({}, 1000, 0.6270),
])
def test_comb_further_rows(kwargs, q, expected):
    if kwargs.get("inlet") == "8 holes":
        kwargs = {"inlet": aq.inlet_resistance(n_holes=8)}
    u, _ = aq.uniformity(aq.solve_layout(aq.comb_layout(**kwargs), q=q * LPH).inlet_flows)
    assert u == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("make", [aq.htree_layout, aq.comb_layout, lambda: aq.htree_layout(levels=5)])
def test_energy_and_mass_balance(make):
    net = make()
    sol = aq.solve_layout(net)
    # Tellegen: the pump's hydraulic power equals the power dissipated in every edge.
    assert sol.pump_power == pytest.approx(-sol.suction * Q, rel=1e-12)
    assert sol.dissipated == pytest.approx(sol.pump_power, rel=1e-9)
    assert sol.inlet_flows.sum() == pytest.approx(Q, rel=1e-12)
    balance = {n: 0.0 for n in net.nodes}
    for e, qe in zip(net.edges, sol.flows):
        balance[e.u] -= qe
        balance[e.v] += qe
    for node, b in balance.items():
        expected = {net.tank: -Q, net.pump: Q}.get(node, 0.0)
        assert b - expected == pytest.approx(0.0, abs=1e-12 * Q)


def test_picard_and_newton_agree():
    net = aq.comb_layout()
    p, q = aq.solve_network(net.nodes, net.edges, {"T": 0.0}, {"O": -Q})
    # Each edge law holds at the returned point to rounding (the Newton polish's target).
    for e, qe in zip(net.edges, q):
        assert p[e.u] - p[e.v] == pytest.approx(e.dp(qe), abs=2e-12)


def test_solver_reports_nonconvergence():
    net = aq.comb_layout()
    with pytest.raises(RuntimeError, match="converge"):
        aq.solve_network(net.nodes, net.edges, {"T": 0.0}, {"O": -Q}, max_iter=2)


def test_solver_rejects_ill_posed_networks():
    e = aq.Edge("a", "b", L=1.0)
    with pytest.raises(ValueError, match="fixed"):
        aq.solve_network(["a", "b"], [e], {}, {"b": 1e-4})
    with pytest.raises(ValueError, match="not connected"):
        aq.solve_network(["a", "b", "c"], [e], {"a": 0.0}, {"b": 1e-4})
    with pytest.raises(ValueError, match="missing"):
        aq.solve_network(["a", "b"], [aq.Edge("a", "z", L=1.0)], {"a": 0.0}, {})
    with pytest.raises(TypeError, match="edges"):
        aq.solve_network(["a", "b"], [("a", "b")], {"a": 0.0}, {})


# --- Closed forms --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [0.1, 0.5, 2.0])
def test_ladder_small_cases(x):
    assert aq.ladder_uniformity(2, x) == pytest.approx(1 / (1 + x), rel=1e-12)
    assert aq.ladder_uniformity(3, x) == pytest.approx(1 / (x * x + 3 * x + 1), rel=1e-12)


def test_ladder_small_cases_symbolic():
    x, th = sp.symbols("x theta", positive=True)
    for n, expected in ((2, 1 / (1 + x)), (3, 1 / (x**2 + 3 * x + 1))):
        u = sp.cosh(th / 2) / sp.cosh((n - sp.Rational(1, 2)) * th)
        # Write cosh(kθ/2) as a polynomial in c = cosh(θ/2), then use cosh θ = 2c² − 1 = 1 + x/2.
        c = sp.Symbol("c", positive=True)
        poly = sp.expand(sp.chebyshevt(2 * n - 1, c) / c)
        value = sp.simplify((1 / poly).subs(c, sp.sqrt((2 + x / 2) / 2)))
        assert sp.simplify(value - expected) == 0
        assert abs(float(u.subs(th, sp.acosh(1 + sp.Rational(3, 10)))) - float(expected.subs(x, 0.6))) < 1e-12


@pytest.mark.parametrize(("n", "x", "expected"), [(4, 0.1, 0.6056935191), (8, 0.05, 0.3646571279),
                                                  (8, 0.2, 0.0734971768), (16, 0.01, 0.4069443271)])
def test_ladder_values_and_solver(n, x, expected):
    assert aq.ladder_uniformity(n, x) == pytest.approx(expected, abs=1e-10)
    sol = aq.solve_layout(aq.ladder_layout(n, x), laminar=True)
    u, _ = aq.uniformity(sol.inlet_flows)
    assert u == pytest.approx(aq.ladder_uniformity(n, x), rel=1e-12)


def test_ladder_solver_range():
    worst = max(abs(aq.uniformity(aq.solve_layout(aq.ladder_layout(n, x), laminar=True).inlet_flows)[0]
                    - aq.ladder_uniformity(n, x)) for n in range(2, 21) for x in (0.01, 0.3))
    assert worst < 1e-13


def test_ladder_continuum_limit():
    n, x = 4000, 1e-7
    assert aq.ladder_uniformity(n, x) == pytest.approx(1 / math.cosh(n * math.sqrt(x)), rel=1e-3)


def test_reverse_and_direct_return():
    rev = aq.solve_layout(aq.reverse_return_layout(8, 0.05), laminar=True).inlet_flows
    direct = aq.solve_layout(aq.direct_return_layout(8, 0.05), laminar=True).inlet_flows
    assert aq.uniformity(rev)[0] == pytest.approx(0.6057, abs=1e-4)
    assert aq.uniformity(direct)[0] == pytest.approx(0.1891, abs=1e-4)
    np.testing.assert_allclose(rev, rev[::-1], rtol=1e-12)  # U-shaped and symmetric
    assert rev[0] > rev[3] and rev[7] > rev[4]


@pytest.mark.parametrize("n", range(2, 21, 2))
def test_reverse_return_identity(n):
    for x in (0.01, 0.05, 0.3):
        rev = aq.solve_layout(aq.reverse_return_layout(n, x), laminar=True).inlet_flows
        assert aq.uniformity(rev)[0] == pytest.approx(aq.ladder_uniformity(n // 2, 2 * x), rel=1e-10)


def test_uniformity():
    assert aq.uniformity([1.0, 1.0]) == (1.0, 0.0)
    u, cv = aq.uniformity([1.0, 3.0])
    assert u == pytest.approx(1 / 3) and cv == pytest.approx(0.5)


# --- Nitrogen ------------------------------------------------------------------------------------------------------
def test_tan_and_free_ammonia():
    assert aq.tan_production(1.0, 0.40) == pytest.approx(36.8)
    assert aq.ammonia_pka(25) == pytest.approx(9.2464, abs=1e-4)
    assert aq.free_ammonia_fraction(25, 7.5) == pytest.approx(0.017616, abs=1e-6)
    assert aq.free_ammonia_fraction(20, 7.0) == pytest.approx(0.003942, abs=1e-6)
    assert aq.free_ammonia_fraction(28, 8.0) == pytest.approx(0.065384, abs=1e-6)


def test_stoichiometry():
    assert aq.OXYGEN_PER_N[0] == pytest.approx(3.43, abs=0.005)
    assert aq.OXYGEN_PER_N[1] == pytest.approx(1.14, abs=0.005)
    assert sum(aq.OXYGEN_PER_N) == pytest.approx(4.57, abs=0.005)
    assert aq.ALKALINITY_PER_N == pytest.approx(7.14, abs=0.005)


@pytest.fixture(scope="module")
def reference_run():
    t = np.linspace(0, 200, 20001)
    return aq.simulate_cycle(aq.NitrogenParams(), 200, t)


def test_reference_cycle_peaks(reference_run):
    r = reference_run
    i, j = int(r.tan.argmax()), int(r.nitrite.argmax())
    assert r.tan[i] == pytest.approx(8.705, abs=0.01) and r.t[i] == pytest.approx(10.93, abs=0.05)
    assert r.nitrite[j] == pytest.approx(13.647, abs=0.01) and r.t[j] == pytest.approx(16.12, abs=0.05)
    below = np.nonzero((r.t > r.t[j]) & (r.tan < 0.25) & (r.nitrite < 0.25))[0][0]
    assert r.t[below] == pytest.approx(19.56, abs=0.05)
    assert r.tan[i] * aq.free_ammonia_fraction(25, 7.5) == pytest.approx(0.153, abs=5e-4)


def test_steady_state_formulas_match_long_run():
    p = aq.NitrogenParams()
    r = aq.simulate_cycle(p, 2000, np.array([0.0, 2000.0]))
    a_star = aq.steady_state_substrate(p.k_a, p.b_a, p.mu_a)
    i_star = aq.steady_state_substrate(p.k_n, p.b_n, p.mu_n)
    assert (a_star, i_star) == (pytest.approx(0.11644, abs=1e-5), pytest.approx(0.04096, abs=1e-5))
    assert r.tan[-1] == pytest.approx(a_star, rel=1e-4) and r.nitrite[-1] == pytest.approx(i_star, rel=1e-4)
    xa = aq.steady_biomass(p.y_a, p.load, p.volume, p.b_a)
    xn = aq.steady_biomass(p.y_n, p.load, p.volume, p.b_n)
    assert (xa, xn) == (pytest.approx(32.47, abs=0.01), pytest.approx(10.82, abs=0.01))
    assert r.aob[-1] == pytest.approx(xa, rel=1e-4) and r.nob[-1] == pytest.approx(xn, rel=1e-4)


def test_steady_states_with_removal_match_long_run():
    p = aq.NitrogenParams(k_pa=0.02, k_pn=0.05, w=aq.exchange_rate(0.2, 45))
    r = aq.simulate_cycle(p, 2000, np.array([0.0, 2000.0]))
    a_star = aq.steady_state_substrate(p.k_a, p.b_a, p.mu_a)
    i_star = aq.steady_state_substrate(p.k_n, p.b_n, p.mu_n)
    xa = aq.steady_biomass(p.y_a, p.load, p.volume, p.b_a, removed=(p.k_pa + p.w) * a_star)
    xn = aq.steady_biomass(p.y_n, p.load, p.volume, p.b_n, removed=(p.k_pa + p.w) * a_star + p.w * i_star)
    assert r.aob[-1] == pytest.approx(xa, rel=1e-4) and r.nob[-1] == pytest.approx(xn, rel=1e-4)
    n_star = (p.load - (p.k_pa + p.w) * a_star - p.w * i_star) / (p.k_pn + p.w)
    assert r.nitrate[-1] == pytest.approx(n_star, rel=1e-4)


def test_steady_nitrate_numbers():
    p = aq.NitrogenParams()
    w = aq.exchange_rate(0.2, 45)
    assert w == pytest.approx(0.0049587, abs=1e-7)
    a_star, i_star = aq.steady_state_substrate(0.5, 0.17, 0.9), aq.steady_state_substrate(0.2, 0.17, 1.0)
    assert aq.steady_nitrate(p.load, w, 0.0, a_star, i_star) == pytest.approx(185.4, abs=0.05)
    assert aq.steady_nitrate(p.load, w, 0.05, a_star, i_star) == pytest.approx(16.7, abs=0.05)
    limit = 50 * aq.NITRATE_N_PER_NO3
    assert limit == pytest.approx(11.29, abs=0.01)
    assert p.load / limit == pytest.approx(0.0815, abs=1e-4)


def test_steady_formulas_symbolic():
    a, k, b, mu, y, lo, v, xa = sp.symbols("A K b mu Y L V X_A", positive=True)
    r = mu / y * xa / v * a / (k + a)
    sol = sp.solve([lo - r, y * r * v - b * xa], [a, xa], dict=True)
    assert any(sp.simplify(s[a] - k * b / (mu - b)) == 0 and sp.simplify(s[xa] - y * lo * v / b) == 0 for s in sol)


def test_nitrogen_bookkeeping():
    p = aq.NitrogenParams(k_pa=0.01, k_pn=0.03, w=0.004)
    t = np.linspace(0, 120, 12001)
    r = aq.simulate_cycle(p, 120, t)
    total = r.tan + r.nitrite + r.nitrate
    # d/dt (A+I+N) = L − k_pA A − k_pN N − w (A+I+N): integrate both sides.
    rhs = p.load - p.k_pa * r.tan - p.k_pn * r.nitrate - p.w * total
    assert total[-1] - total[0] == pytest.approx(trapezoid(rhs, t), rel=1e-6)
    assert total[-1] - total[0] == pytest.approx(p.load * 120 - r.removed[-1], rel=1e-6)


def test_impulsive_changes_conserve_nitrogen():
    p = aq.NitrogenParams()
    r = aq.simulate_cycle(p, 100, np.linspace(0, 100, 1001), change_fraction=0.2, change_interval=30)
    total = r.tan + r.nitrite + r.nitrate
    assert total[-1] + r.removed[-1] == pytest.approx(p.load * 100, rel=1e-6)
    k = 300  # day 30: the value right after the change is 80 % of the one just before
    assert r.nitrate[k] < r.nitrate[k - 1]


# --- Bad input -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("call", "exc", "words"), [
    (lambda: aq.friction_factor(-5), ValueError, "re"),
    (lambda: aq.pipe_dp(1e-4, -1.0, 0.017), ValueError, "L .*m"),
    (lambda: aq.pipe_dp(1e-4, 1.0, 0.0), ValueError, "D .*m"),
    (lambda: aq.pipe_dp("1", 1.0, 0.017), TypeError, "q"),
    (lambda: aq.pipe_dp(1e-4, 1.0, 0.017, K=-1), ValueError, "K"),
    (lambda: aq.orifice_dp(1e-4, 0, 0.005), ValueError, "n_holes"),
    (lambda: aq.orifice_dp(1e-4, 4, -0.005), ValueError, "d_hole .*m"),
    (lambda: aq.orifice_dp(1e-4, 4, 0.005, cd=1.5), ValueError, "cd"),
    (lambda: aq.ergun_dp(1e-4, 0.24, 0.12, 0.01, 1.2), ValueError, "eps"),
    (lambda: aq.ergun_dp(1e-4, -0.24, 0.12, 0.01, 0.4), ValueError, "area .*m²"),
    (lambda: aq.inlet_resistance(n_inlets=0), ValueError, "n_inlets"),
    (lambda: aq.inlet_resistance(open_end=-0.01), ValueError, "open_end"),
    (lambda: aq.Edge("a", "b", L=-1.0), ValueError, "L .*m"),
    (lambda: aq.Edge("a", "b", D=-0.01, L=1.0), ValueError, "D .*m"),
    (lambda: aq.Edge("a", "b", kind="pump"), ValueError, "kind"),
    (lambda: aq.Edge("a", "a", L=1.0), ValueError, "different"),
    (lambda: aq.Edge("a", "b", kind="inlet"), ValueError, "r_lin"),
    (lambda: aq.htree_layout(levels=0), ValueError, "levels"),
    (lambda: aq.htree_layout(D=[0.017, 0.017]), ValueError, "D"),
    (lambda: aq.htree_layout(a=-0.1), ValueError, "a .*m"),
    (lambda: aq.comb_layout(D=-0.017), ValueError, "D .*m"),
    (lambda: aq.comb_layout(inlet=(1.0,)), TypeError, "inlet"),
    (lambda: aq.comb_layout(inlet=(-1.0, 1.0)), ValueError, "r_lin"),
    (lambda: aq.ladder_layout(0, 0.1), ValueError, "n"),
    (lambda: aq.reverse_return_layout(8, -0.1), ValueError, "x"),
    (lambda: aq.solve_layout("net"), TypeError, "network"),
    (lambda: aq.solve_layout(aq.comb_layout(), q=-1e-4), ValueError, "q .*m³/s"),
    (lambda: aq.uniformity([1.0, -1.0]), ValueError, "q"),
    (lambda: aq.uniformity([]), ValueError, "q"),
    (lambda: aq.ladder_uniformity(0, 0.1), ValueError, "n"),
    (lambda: aq.ladder_uniformity(4, -0.1), ValueError, "x"),
    (lambda: aq.ladder_uniformity(4.0, 0.1), TypeError, "n"),
    (lambda: aq.tan_production(-1.0, 0.4), ValueError, "feed_g .*g/day"),
    (lambda: aq.tan_production(1.0, 1.4), ValueError, "protein"),
    (lambda: aq.free_ammonia_fraction(-300, 7.0), ValueError, "temp_c .*absolute zero"),
    (lambda: aq.free_ammonia_fraction(25, 15.0), ValueError, "ph"),
    (lambda: aq.free_ammonia_fraction(25, None), TypeError, "ph"),
    (lambda: aq.exchange_rate(1.0, 45), ValueError, "fraction"),
    (lambda: aq.exchange_rate(0.2, 0), ValueError, "interval"),
    (lambda: aq.NitrogenParams(volume=-40), ValueError, "volume"),
    (lambda: aq.NitrogenParams(protein=2.0), ValueError, "protein"),
    (lambda: aq.simulate_cycle({}, 10), TypeError, "params"),
    (lambda: aq.simulate_cycle(aq.NitrogenParams(), -10), ValueError, "days"),
    (lambda: aq.simulate_cycle(aq.NitrogenParams(), 10, change_fraction=0.2), ValueError, "change_interval"),
    (lambda: aq.simulate_cycle(aq.NitrogenParams(), 10, t_eval=[0, 20]), ValueError, "t_eval"),
    (lambda: aq.steady_state_substrate(0.5, 1.0, 0.9), ValueError, "mu"),
    (lambda: aq.steady_nitrate(0.92, 0.0, 0.0), ValueError, "w \\+ k_p"),
    (lambda: aq.steady_biomass(0.15, 0.92, 40, 0.0), ValueError, "b"),
])
def test_bad_input(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_every_htree_inlet_has_the_same_path():
    net = aq.htree_layout()
    parent = {e.u: e for e in net.edges if e.kind == "pipe"}
    paths = set()
    for k in net.inlets:
        node, length = net.edges[k].v, 0.0
        while node != net.pump:
            length += parent[node].L
            node = parent[node].v
        paths.add(round(length, 12))
    assert paths == {0.325}


def test_nitrification_capacity():
    surface = aq.bed_geometry()["surface_m2"]
    load = aq.tan_production(1.0, 0.40) / 1000  # g TAN/day
    ratio = np.array([0.2, 1.0]) * surface / load
    assert ratio[0] == pytest.approx(56, abs=1) and ratio[1] == pytest.approx(280, abs=1)
    assert 0.2 * 0.24 == pytest.approx(0.048) and 1.0 * 0.24 > load


def test_chinese_labels_render_without_missing_glyphs():
    import io
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kexue.plotting import cjk_font, use_style

    if cjk_font() is None:
        pytest.skip("no CJK font installed")
    use_style()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = aq.draw_layout(aq.solve_layout(aq.htree_layout()), title="同程 H 形底滤 (H-tree)")
        ax.figure.savefig(io.BytesIO(), format="png")
    plt.close(ax.figure)
    assert not [w for w in caught if "missing from" in str(w.message)]


def test_layout_table_and_compare_layouts():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = aq.layout_table({"tree": aq.solve_layout(aq.htree_layout()), "comb": aq.solve_layout(aq.comb_layout())})
    assert list(table["U"]) == [1.0, 0.6131]
    assert table.iloc[1, 1] == "82.83, 63.24, 53.15, 50.78" and table.iloc[0, 1] == "62.50 (all 8)"
    assert list(table["pump suction (Pa)"]) == [-145.45, -204.16]
    fig = aq.compare_layouts(flow_lph=800, diameter_mm=20, holes=6, hole_mm=4)
    assert len(fig.axes) == 4 and fig.axes[0].get_title().startswith("同程 H-tree: U = 1.000")
    plt.close(fig)
    with pytest.raises(ValueError, match="diameter_mm"):
        aq.compare_layouts(diameter_mm=-1)
    with pytest.raises(ValueError, match="solutions"):
        aq.layout_table({})
    with pytest.raises(TypeError, match="solutions"):
        aq.layout_table({"x": 1})


def test_plot_cycle():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = aq.plot_cycle(aq.NitrogenParams(feed=2.0), days=30, temp_c=28, ph=8.0)
    ax = fig.axes[0]
    guide = [line for line in ax.get_lines() if line.get_linestyle() == ":"][0]
    assert guide.get_ydata()[0] == pytest.approx(0.02 / aq.free_ammonia_fraction(28, 8.0))
    plt.close(fig)
    with pytest.raises(ValueError, match="ph"):
        aq.plot_cycle(aq.NitrogenParams(), ph=-1)


def test_solver_refuses_an_unreachable_tolerance():
    net = aq.comb_layout()
    with pytest.raises(RuntimeError, match="converge"):
        aq.solve_network(net.nodes, net.edges, {"T": 0.0}, {"O": -Q}, tol=1e-30)

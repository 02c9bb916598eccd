"""Tests for kexue.cookware (chapter: the iron wok, kexue.fm/archives/9855)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from kexue import cookware as cw

STEEL = [("carbon_steel_1010", 0.0015)]


# --- material data and plate properties -------------------------------------------------------------------------
def test_diffusivity_of_304() -> None:
    rho, c, k = cw.MATERIALS["stainless_304"]
    assert k / (rho * c) == pytest.approx(3.954e-6, rel=1e-3)


def test_plate_properties() -> None:
    C, K = cw.plate_properties(STEEL)
    assert C == pytest.approx(5098.632, abs=1e-3)
    assert K == pytest.approx(0.09585, abs=1e-9)
    assert cw.pan_properties("tri_ply")[1] == pytest.approx(0.37040, abs=1e-9)
    assert cw.pan_properties("aluminium_ptfe")[0] == pytest.approx(7385.718, abs=1e-3)


def test_heat_capacity_per_area_of_the_pans() -> None:
    expected = {"titanium": 2349, "carbon_steel": 5099, "copper": 6878, "aluminium_ptfe": 7386, "tri_ply": 7428,
                "stainless_304": 7537, "cast_iron": 12217}
    for pan, C in expected.items():
        assert cw.pan_properties(pan)[0] == pytest.approx(C, abs=0.6), pan


def test_spreading_lengths() -> None:
    assert cw.spreading_length(cw.plate_properties(STEEL)[1], 300) == pytest.approx(0.017875, abs=1e-6)
    expected = {"titanium": 0.85, "stainless_304": 1.00, "carbon_steel": 1.79, "cast_iron": 2.63, "tri_ply": 3.51,
                "aluminium_ptfe": 4.87, "copper": 5.17}
    for pan, ell_cm in expected.items():
        assert 100 * cw.spreading_length(cw.pan_properties(pan)[1], 300) == pytest.approx(ell_cm, abs=0.005), pan


# --- sources --------------------------------------------------------------------------------------------------
def test_induction_flux_profile() -> None:
    model = cw.RadialPan(STEEL)
    q = model.flux("induction", 1800)
    assert np.sum(q * model.areas) == pytest.approx(1800, rel=1e-12)
    assert q.max() == pytest.approx(76650, abs=5)
    assert np.all(q[(model.r < 0.025) | (model.r > 0.09)] == 0)


def test_gas_flux_profile_peaks_on_the_ring() -> None:
    model = cw.RadialPan(STEEL)
    q = model.flux("gas", 2400)
    assert np.sum(q * model.areas) == pytest.approx(2400, rel=1e-12)
    assert q.max() == pytest.approx(100.8e3, rel=2e-3)
    assert model.r[q.argmax()] == pytest.approx(0.05, abs=1e-3)


# --- the solver against exact solutions -------------------------------------------------------------------------
def bessel_errors(ns: tuple[int, ...]) -> list[float]:
    """Max error of the finite-volume steady state against the Bessel solution (steel, 20 kW/m^2 on r < 6 cm)."""
    errors = []
    K = cw.plate_properties(STEEL)[1]
    for n in ns:
        model = cw.RadialPan(STEEL, n=n)
        q = np.where(model.r < 0.06, 20e3, 0.0)
        T = model.steady_linear(q, 300.0, 100.0)
        errors.append(float(np.abs(T - cw.fin_steady_bessel(model.r, 0.06, 0.14, 20e3, 300, K, 100)).max()))
    return errors


def test_bessel_solution_values() -> None:
    K = cw.plate_properties(STEEL)[1]
    centre, rim = cw.fin_steady_bessel(np.array([0.0, 0.14]), 0.06, 0.14, 20e3, 300, K, 100)
    assert centre == pytest.approx(160.78, abs=0.005)
    assert rim == pytest.approx(100.46, abs=0.005)


def test_finite_volumes_converge_to_bessel_with_order_two() -> None:
    ns = (70, 140, 280, 560)
    errors = bessel_errors(ns)
    for err, ref in zip(errors, (0.0487, 0.0126, 0.0032, 0.00081)):
        assert err == pytest.approx(ref, rel=0.02)
    assert errors[1] < 0.02
    assert 3.5 <= errors[1] / errors[2] <= 4.5
    order = -np.polyfit(np.log(ns), np.log(errors), 1)[0]  # fitted over the whole refinement
    assert order == pytest.approx(2.0, abs=0.05)


def test_steady_energy_balance() -> None:
    model = cw.RadialPan(STEEL)
    q = np.where(model.r < 0.06, 20e3, 0.0)
    T = model.steady_linear(q, 300.0, 100.0)
    heat_in = np.sum(q * model.areas)
    assert abs(heat_in - np.sum(300 * (T - 100) * model.areas)) / heat_in < 1e-12


def test_lumped_transient() -> None:
    model = cw.RadialPan(STEEL)
    q = model.flux("uniform", 1000)
    T = np.full(model.n, 25.0)
    for _ in range(3000):
        T = model.step(T, 0.01, q, h_top=10, h_bot=10)
    exact = 25 + q[0] / 20 * (1 - math.exp(-20 * 30 / model.C))
    assert exact == pytest.approx(115.1485, abs=1e-4)
    assert model.mean(T) == pytest.approx(115.1469, abs=1e-4)
    assert T.max() - T.min() < 1e-9


# --- the experiments --------------------------------------------------------------------------------------------
def test_time_to_ptfe_limit() -> None:
    t, T, model = cw.time_to_temperature("carbon_steel", "gas", T_limit=260)
    assert t == pytest.approx(14.1, abs=0.2)
    inner = model.r < 0.1
    assert model.mean(T, 0.1) == pytest.approx(195.7, abs=1.5)
    assert T[inner].max() - T[inner].min() == pytest.approx(158.8, abs=1.5)
    assert cw.time_to_temperature("aluminium_ptfe", "induction")[0] == pytest.approx(45.3, abs=0.2)


def test_leidenfrost_readiness() -> None:
    t, T, _ = cw.time_to_temperature("carbon_steel", "gas", T_limit=193, which="min", r_max=0.08)
    assert t == pytest.approx(15.65, abs=0.3)
    assert T.max() == pytest.approx(281.3, abs=2)


def test_loaded_pan() -> None:
    T, model = cw.simulate_loaded("copper", "gas")
    inner = T[model.r < 0.12]
    assert (inner.max(), inner.min()) == (pytest.approx(172.6, abs=1.5), pytest.approx(131.9, abs=1.5))
    T, model = cw.simulate_loaded("titanium", "induction")
    inner = T[model.r < 0.12]
    assert inner.max() - inner.min() == pytest.approx(81.0, abs=1.5)


def test_time_to_temperature_reports_non_convergence() -> None:
    with pytest.raises(cw.ConvergenceError, match="did not reach"):
        cw.time_to_temperature("carbon_steel", "gas", T_limit=2000, t_max=5)


def test_lumped_cooling() -> None:
    assert cw.lumped_cooling(1.436, 434, 0.2444, 300, 60) == pytest.approx(183.18, abs=0.05)
    assert cw.lumped_cooling(1.4357, 434, 0.2444, 300, 60) == pytest.approx(183.15, abs=0.05)
    assert cw.lumped_cooling(1.436, 434, 0.2444, 250, 60) == pytest.approx(160.1, abs=0.05)
    assert cw.lumped_cooling(3.555, 420, 0.2444, 300, 60) == pytest.approx(239.2, abs=0.05)
    curve = cw.lumped_cooling(1.436, 434, 0.2444, 300, np.array([0.0, 30.0, 60.0]))
    assert curve[0] == 300 and np.all(np.diff(curve) < 0)


def test_wok_geometry() -> None:
    area = cw.cap_area(0.34, 0.10)
    assert area == pytest.approx(0.1222, abs=5e-5)
    assert cw.MATERIALS["carbon_steel_1010"][0] * area * 0.0015 == pytest.approx(1.436, abs=5e-4)


# --- contact and induction ----------------------------------------------------------------------------------
def test_contact_temperatures() -> None:
    steel = cw.effusivity(63.9, 7832, 434)
    assert steel == pytest.approx(14738, abs=1)
    food = cw.effusivity(0.5, 1050, 3500)
    wood = cw.effusivity(0.15, 600, 1700)
    assert cw.contact_temperature(steel, 25, food, 100) == pytest.approx(31.32, abs=0.005)
    assert cw.contact_temperature(wood, 25, food, 100) == pytest.approx(83.20, abs=0.005)
    assert cw.contact_temperature(steel, 200, food, 5) == pytest.approx(183.6, abs=0.05)


def test_skin_depth() -> None:
    assert cw.skin_depth(2.65e-8, 1, 25e3) == pytest.approx(5.182e-4, rel=1e-3)
    assert cw.skin_depth(9.7e-8, 100, 25e3) == pytest.approx(9.91e-5, rel=1e-3)
    assert cw.surface_resistance(9.7e-8, 100, 25e3) == pytest.approx(9.8e-4, rel=1e-2)


# --- bad input --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, words", [
    (lambda: cw.plate_properties([("carbon_steel_1010", -0.001)]), ValueError, r"thickness must be positive \(in m\)"),
    (lambda: cw.plate_properties([("unobtainium", 0.001)]), ValueError, "material must be one of"),
    (lambda: cw.plate_properties("carbon_steel_1010"), TypeError, "layers"),
    (lambda: cw.plate_properties([("carbon_steel_1010",)]), TypeError, r"layers\[0\]"),
    (lambda: cw.spreading_length(-1.0, 300), ValueError, r"K must be positive \(in W/K\)"),
    (lambda: cw.spreading_length(0.1, "300"), TypeError, "H must be a real number"),
    (lambda: cw.effusivity(0.5, 0, 3500), ValueError, "rho must be positive"),
    (lambda: cw.contact_temperature(1.0, -300, 1.0, 20), ValueError, "T1 must be above absolute zero"),
    (lambda: cw.skin_depth(1e-7, 0.5, 25e3), ValueError, "mu_r must be at least 1"),
    (lambda: cw.skin_depth(1e-7, 1, -5), ValueError, r"f must be positive \(in Hz\)"),
    (lambda: cw.heat_flux_profile("laser", [0.01], 100, [1e-4]), ValueError, "kind must be one of"),
    (lambda: cw.heat_flux_profile("gas", [0.01], -100, [1e-4]), ValueError, r"power must be non-negative \(in W\)"),
    (lambda: cw.heat_flux_profile("induction", [0.001], 100, [1e-4]), ValueError, "heats none of the cells"),
    (lambda: cw.RadialPan(STEEL, R=-0.1), ValueError, r"R must be positive \(in m\)"),
    (lambda: cw.RadialPan(STEEL, n=1), ValueError, "n must be"),
    (lambda: cw.RadialPan(STEEL, n=10**9), ValueError, "n must be"),
    (lambda: cw.RadialPan(STEEL).step(np.full(140, -300.0), 0.1, 0.0), ValueError, "T must be above absolute zero"),
    (lambda: cw.RadialPan(STEEL).step(np.full(140, 25.0), 0.1, 0.0, eps_bot=2), ValueError, "eps_bot must be"),
    (lambda: cw.RadialPan(STEEL).step(np.full(3, 25.0), 0.1, 0.0), ValueError, "T must be a scalar or an array"),
    (lambda: cw.RadialPan(STEEL).steady_linear(0.0, 0.0, 25.0), ValueError, "H must be positive somewhere"),
    (lambda: cw.fin_steady_bessel([0.0], 0.2, 0.14, 1e4, 300, 0.1, 25), ValueError, "a must be smaller than R"),
    (lambda: cw.fin_steady_bessel([0.0], 0.06, 0.14, 1e4, 300, 0.1, -280), ValueError, "T_inf must be above"),
    (lambda: cw.time_to_temperature("wooden", "gas"), ValueError, "pan must be one of"),
    (lambda: cw.time_to_temperature("carbon_steel", "candle"), ValueError, "source must be one of"),
    (lambda: cw.time_to_temperature("carbon_steel", "gas", T_limit=-274), ValueError, "T_limit must be above"),
    (lambda: cw.heat_up("carbon_steel", "gas", dt=1e-6, t_max=600), ValueError, "at most 200000 steps"),
    (lambda: cw.simulate_loaded("carbon_steel", "gas", food_radius=-0.1), ValueError, r"food_radius must be positive"),
    (lambda: cw.lumped_cooling(-1.0, 434, 0.2, 300, 60), ValueError, r"mass must be positive \(in kg\)"),
    (lambda: cw.lumped_cooling(1.0, 434, 0.2, -300, 60), ValueError, "T0 must be above absolute zero"),
    (lambda: cw.lumped_cooling(1.0, 434, 0.2, 300, -1), ValueError, r"t must be finite and non-negative \(in s\)"),
    (lambda: cw.cap_area(0.34, 0.5), ValueError, "depth must be at most half the diameter"),
    (lambda: cw.wall_check("steel", 0.001), ValueError, "material must be one of"),
    (lambda: cw.rz_heat_up("stainless_304", 0.002, "induction", nz=10**6), ValueError, "nz must be"),
    (lambda: cw.rz_heat_up("stainless_304", -0.002, "induction"), ValueError, r"thickness must be positive"),
    (lambda: cw.RadialPan(STEEL).mean(np.full(140, 25.0), 1e-5), ValueError, "r_max must include"),
    (lambda: cw.wall_check("stainless_304", 0.0), ValueError, r"thickness must be positive \(in m\)"),
    (lambda: cw.bessel_errors(STEEL, [1], 0.06, 1e4, 300, 25), ValueError, r"ns\[0\] must be"),
    (lambda: cw.heat_up_summary("carbon_steel", "gas", T_ready=-300), ValueError, "T_ready must be above"),
    (lambda: cw.heat_up_summary("carbon_steel", "gas", T_limit=900, t_max=2), cw.ConvergenceError, "did not reach"),
    (lambda: cw.wok("carbon_steel_1010", -0.001), ValueError, r"thickness must be positive \(in m\)"),
    (lambda: cw.wok_cooling("carbon_steel_1010", 0.0015, -500, 60), ValueError, "T0 must be above absolute zero"),
    (lambda: cw.steady_loaded(STEEL, "gas", ring_radius=-0.01), ValueError, r"ring_radius must be non-negative"),
])
def test_bad_input_is_refused(call, error, words) -> None:
    with pytest.raises(error, match=words):
        call()


# --- figures: the chapter's Chinese labels ------------------------------------------------------------------
def test_chapter_labels_render_without_missing_glyphs(tmp_path) -> None:
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kexue import plotting

    assert plotting.cjk_font() is not None, "install fonts-noto-cjk"
    plotting.use_style()
    labels = ["铁锅 carbon steel", "铸铁 cast iron", "不锈钢 304", "三层钢 tri-ply", "不粘锅 Al+PTFE", "钛锅 titanium",
              "铜锅 copper", "钢铲 steel", "硅胶铲 silicone", "木铲 wood"]
    fig, ax = plt.subplots()
    ax.barh(labels, range(len(labels)))
    ax.set(title="空锅干烧 关火一分钟 锅铲为什么粘 火圈半径 横向导热 储热 电磁炉 燃气", xlabel="°C ℓ µm ²")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig.savefig(tmp_path / "labels.png")
    plt.close(fig)


# --- the chapter's summaries -------------------------------------------------------------------------------
@pytest.mark.parametrize("material, thickness, biot, time, drop", [
    ("carbon_steel_1010", 0.0015, 0.0235, 0.12, 1.8), ("stainless_304", 0.002, 0.134, 1.01, 10.3),
    ("titanium", 0.001, 0.046, 0.11, 3.5), ("cast_iron", 0.004, 0.077, 0.94, 5.9), ("ptfe", 30e-6, None, None, 9.2),
])
def test_wall_check(material, thickness, biot, time, drop) -> None:
    checks = cw.wall_check(material, thickness, H=1000, flux=76.65e3)
    if biot is not None:
        assert checks["Biot H δ/k"] == pytest.approx(biot, abs=6e-4)
        assert checks["δ²/α (s)"] == pytest.approx(time, abs=0.006)
    assert checks["drop across δ (K)"] == pytest.approx(drop, abs=0.06)


def test_heat_up_summary_and_loaded_summary() -> None:
    run = cw.heat_up_summary("titanium", "gas")
    assert run.t_limit == pytest.approx(5.9, abs=0.2)
    assert run.mean_at_limit == pytest.approx(189.2, abs=1.5)
    assert run.spread_at_limit == pytest.approx(171.8, abs=1.5)
    assert (run.t_ready, run.peak_at_ready) == (pytest.approx(9.55, abs=0.3), pytest.approx(389.9, abs=2))
    assert run.history.shape == (len(run.times), 140)
    loaded = cw.loaded_summary("cast_iron", "induction")
    assert loaded["spread (K)"] == pytest.approx(63.9, abs=1.5)


def test_wok_and_its_cooling() -> None:
    steel, iron = cw.wok("carbon_steel_1010", 0.0015), cw.wok("cast_iron", 0.004)
    assert (steel["mass"], steel["heat_capacity"]) == (pytest.approx(1.436, abs=5e-4), pytest.approx(623, abs=0.5))
    assert (iron["mass"], iron["heat_capacity"]) == (pytest.approx(3.555, abs=5e-4), pytest.approx(1493, abs=0.5))
    assert cw.wok_cooling("cast_iron", 0.004, 300, 60) == pytest.approx(239.2, abs=0.05)


def test_plot_loaded_profiles() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = cw.plot_loaded_profiles([("steel", cw.PANS["carbon_steel"].layers), ("copper", cw.PANS["copper"].layers)])
    assert len(ax.get_lines()) == 3  # two profiles and the ring marker
    assert "contrast" in ax.get_legend().get_texts()[0].get_text()
    plt.close(ax.figure)


def test_steady_loaded_is_the_long_time_limit_without_radiation() -> None:
    r, T = cw.steady_loaded(cw.PANS["copper"].layers, "gas")
    assert r.shape == T.shape == (140,)
    assert 100 < T.min() < T.max() < 260


def test_rz_model_conserves_heat_and_matches_the_plate_mean() -> None:
    r, T2, T_plate = cw.rz_heat_up("stainless_304", 0.002, "induction", h=0.0)
    plate = cw.RadialPan([("stainless_304", 0.002)])
    assert (T2.mean(axis=0) - 25) @ plate.areas * plate.C == pytest.approx(1800 * 20, rel=1e-9)
    assert np.abs(T2.mean(axis=0) - T_plate).max() < 0.1
    # Heat deposited at the bottom and stored evenly: a parabolic profile, top below the mean by q delta / (6 k).
    r, T2, T_plate = cw.rz_heat_up("stainless_304", 0.002, "induction")
    q = plate.flux("induction", 1800).max()
    assert np.abs(T2[-1] - T_plate).max() == pytest.approx(q * 0.002 / (6 * 14.9), rel=0.05)

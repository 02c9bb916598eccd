"""Checkers for the exercises of chapter 16 (heat in a frying pan)."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from kexue import cookware as cw
from kexue.exercises import as_float, register

MAGNETIC = ("carbon_steel_1010", "plain_carbon_steel", "pure_iron", "cast_iron")
DESIGN_BUDGET = 8000.0  # J m^-2 K^-1, the heat capacity per area a design may use
WOK_THICKNESSES_MM = (1.0, 2.0, 3.0)


def _number(value: Any) -> float | None:
    """A student's number as a float, or None if it is not one."""
    try:
        return as_float(value)
    except (TypeError, ValueError):
        return None


@register("wok-lumped-time", hint="All the power heats the bottom: t = C · πR² · ΔT / P, with C in J/(m² K).")
def lumped_time(answer: Any) -> tuple[bool, str]:
    """The no-loss time (s) for the 28 cm, 2 mm copper bottom to warm 25 -> 100 degC at 1.8 kW, within 0.05 s."""
    value = _number(answer)
    if value is None:
        return False, "give the time in seconds as a number."
    C = cw.pan_properties("copper")[0]
    expected = C * math.pi * cw.PANS_RADIUS**2 * 75 / cw.SOURCES["induction"]
    if abs(value - expected) <= 0.05:
        return True, "right: this is the time a perfectly conducting pan with no losses would need."
    if abs(value / 60 - expected) <= 0.05 or abs(value * 60 - expected) <= 0.05:
        return False, "the number looks like it is in the wrong unit: give seconds."
    if value <= 0:
        return False, "a time to heat up must be positive."
    return False, "not within 0.05 s of the lumped time; check the area of the bottom and the units."


@register("wok-spreading-1000", hint="ell = sqrt(K / H) with K = sum of k·δ over the layers; answer in metres.")
def spreading_1000(answer: Any) -> tuple[bool, str]:
    """A dict {pan: spreading length in m at H = 1000} for every pan of cw.PANS, each within 0.1 %."""
    if not isinstance(answer, Mapping):
        return False, "give a dict {pan name: spreading length in m} with one entry per pan of cw.PANS."
    missing = [p for p in cw.PANS if p not in answer]
    if missing:
        return False, f"the dict lacks the pans {missing}."
    wrong, in_cm = [], 0
    for pan in cw.PANS:
        value = _number(answer[pan])
        expected = cw.spreading_length(cw.pan_properties(pan)[1], 1000.0)
        if value is None or not math.isclose(value, expected, rel_tol=1e-3):
            wrong.append(pan)
            in_cm += value is not None and math.isclose(value, 100 * expected, rel_tol=1e-3)
    if not wrong:
        return True, f"right for all {len(cw.PANS)} pans."
    if in_cm == len(wrong):
        return False, "the values look like centimetres: give metres."
    return False, f"{len(wrong)} of {len(cw.PANS)} lengths are off: {wrong}. Check H and the pan's layers."


@lru_cache(maxsize=1)
def _order_reference() -> tuple[float, ...]:
    """Max FV-vs-Bessel errors for cast iron 4 mm, 30 kW/m^2 on r < 4 cm, H = 500, n = 70, 140, 280."""
    errors, _ = cw.bessel_errors(cw.PANS["cast_iron"].layers, (70, 140, 280), a=0.04, q0=30e3, H=500.0, T_inf=100.0)
    return tuple(float(e) for e in errors)


@register("wok-fv-order", hint="Put the heated disc edge on a cell boundary (R/n divides 4 cm) and compare at the "
                               "cell centres; the error should fall by about 4 per halving.")
def fv_order(answer: Any) -> tuple[bool, str]:
    """The three max errors (K) for n = 70, 140, 280, each within 10 % of the reference."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, (Sequence, np.ndarray)) or len(answer) != 3:
        return False, "give a list of three errors in kelvin, for n = 70, 140 and 280."
    values = [_number(v) for v in answer]
    if any(v is None or v <= 0 for v in values):
        return False, "each error must be a positive number (in kelvin)."
    if not values[0] > values[1] > values[2]:
        return False, "the errors should shrink as the grid is refined; yours do not."
    off = [n for n, v, ref in zip((70, 140, 280), values, _order_reference()) if not math.isclose(v, ref, rel_tol=0.1)]
    if off:
        return False, f"the error for n = {off} is not the one the solver gives for this case; check a, q0, H, K."
    return True, "right: the errors fall by about four per halving of the cell width, second order."


@register("wok-thickness", hint="The mass is rho · A · thickness with A the cap's one-face area; both faces lose "
                                "heat, so the losing area is 2A.")
def wok_thickness(answer: Any) -> tuple[bool, str]:
    """A dict {thickness in mm: temperature after 60 s from 300 degC} for 1, 2 and 3 mm, each within 0.1 K."""
    if not isinstance(answer, Mapping):
        return False, "give a dict {thickness in mm: temperature in °C after 60 s}."
    keys = {float(k): v for k, v in answer.items() if _number(k) is not None}
    missing = [mm for mm in WOK_THICKNESSES_MM if mm not in keys]
    if missing:
        return False, f"the dict lacks the thicknesses {missing} (in mm)."
    wrong = []
    for mm in WOK_THICKNESSES_MM:
        value = _number(keys[mm])
        expected = cw.wok_cooling("carbon_steel_1010", mm / 1e3, 300.0, 60.0)
        if value is None or abs(value - expected) > 0.1:
            wrong.append(mm)
    if not wrong:
        return True, "right for all three thicknesses; now explain the trend with your plot."
    return False, f"the temperatures for {wrong} mm are off; check the mass, the area and the time (60 s)."


@lru_cache(maxsize=1)
def _tri_ply_spread() -> float:
    """Loaded spread (K) of the tri-ply pan on gas, r < 12 cm (Experiment 2)."""
    T, model = cw.simulate_loaded("tri_ply", "gas")
    inner = T[model.r < 0.12]
    return float(inner.max() - inner.min())


@register("wok-design", hint="Copper gives the most conductance per unit of heat capacity; keep the magnetic layer "
                             "thin.")
def pan_design(answer: Any) -> tuple[bool, str]:
    """A list of (material, thickness m) layers: magnetic first, C <= 8000, loaded gas spread below tri-ply's."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Sequence) or len(answer) == 0:
        return False, "give a non-empty list of (material, thickness in m) layers."
    try:
        C, _ = cw.plate_properties(answer)
    except (TypeError, ValueError) as err:
        return False, f"the layers are not valid: {err}"
    if answer[0][0] not in MAGNETIC:
        return False, f"the first layer must be magnetic for induction: one of {', '.join(MAGNETIC)}."
    if C > DESIGN_BUDGET:
        return False, f"the heat capacity per area is {C:.0f} J/(m² K), above the budget of {DESIGN_BUDGET:.0f}."
    pan = cw.Pan("design", tuple((m, float(t)) for m, t in answer), 0.3)
    T, model = cw.simulate_loaded(pan, "gas")
    inner = T[model.r < 0.12]
    spread = float(inner.max() - inner.min())
    if spread >= _tri_ply_spread():
        return False, f"your pan's loaded spread is {spread:.1f} K: not more even than the tri-ply pan of Experiment 2."
    return True, f"a magnetic, more even pan within budget: loaded spread {spread:.1f} K on gas."


@lru_cache(maxsize=1)
def _thin_plate_gap() -> float:
    """Max |T_top(2-D) - T(thin plate)| (K) after 20 s, 2 mm 304 on induction, nr = 140, nz = 10."""
    _, T2, T_plate = cw.rz_heat_up("stainless_304", 0.002, "induction")
    return float(np.abs(T2[-1] - T_plate).max())


@register("wok-thin-plate", hint="Deposit the heat in the lowest cells, couple the cells radially and axially, and "
                                 "compare the top row with the thin-plate solver stepped with the same dt and losses.")
def thin_plate(answer: Any) -> tuple[bool, str]:
    """The largest top-surface difference (K) between a 2-D r-z model and the thin plate, within 20 %."""
    value = _number(answer)
    if value is None:
        return False, "give the largest top-surface difference in kelvin, as a number."
    if value <= 0:
        return False, "a 2-D model of a heated pan has a top surface cooler than the plate's mean: the gap is positive."
    if abs(value - _thin_plate_gap()) <= 0.2 * _thin_plate_gap():
        return True, "right: a few kelvin, small against the radial differences, so the thin plate is adequate here."
    return False, ("not within 20 % of the reference 2-D model (140 x 10 cells, dt = 0.05 s, h = 10 on both faces, "
                   "no radiation); compare the top row, not the bottom, with the plate.")

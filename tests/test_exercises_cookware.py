"""Tests for the exercise checkers of chapter 16 (kexue.exercises.cookware): reference answers pass, wrong and
do-nothing answers fail, and no message gives the expected value away."""
from __future__ import annotations

import math

import numpy as np

from kexue import cookware as cw
from kexue import exercises
from kexue.exercises import check

WOK_IDS = ["wok-design", "wok-fv-order", "wok-lumped-time", "wok-spreading-1000", "wok-thickness", "wok-thin-plate"]


def test_all_exercises_registered() -> None:
    assert sorted(i for i in exercises.registered() if i.startswith("wok-")) == WOK_IDS


def passes(exercise_id: str, answer) -> bool:
    return check(exercise_id, answer).passed


def test_check_lumped_time() -> None:
    C = cw.pan_properties("copper")[0]
    right = C * math.pi * 0.14**2 * 75 / 1800
    assert passes("wok-lumped-time", right)
    for wrong in (None, 0, -right, right / 60, right * 1.1, "30"):
        assert not passes("wok-lumped-time", wrong)
    assert "wrong unit" in check("wok-lumped-time", right / 60).message


def test_check_spreading_1000() -> None:
    right = {p: cw.spreading_length(cw.pan_properties(p)[1], 1000) for p in cw.PANS}
    assert passes("wok-spreading-1000", right)
    at_300 = {p: cw.spreading_length(cw.pan_properties(p)[1], 300) for p in cw.PANS}
    in_cm = {p: 100 * v for p, v in right.items()}
    for wrong in (None, {}, 0, at_300, in_cm, dict(list(right.items())[:3])):
        assert not passes("wok-spreading-1000", wrong)
    assert "centimetres" in check("wok-spreading-1000", in_cm).message


def test_check_fv_order() -> None:
    layers, K = cw.PANS["cast_iron"].layers, cw.pan_properties("cast_iron")[1]
    right = []
    for n in (70, 140, 280):
        model = cw.RadialPan(layers, n=n)
        T = model.steady_linear(np.where(model.r < 0.04, 30e3, 0.0), 500.0, 100.0)
        right.append(np.abs(T - cw.fin_steady_bessel(model.r, 0.04, 0.14, 30e3, 500, K, 100)).max())
    assert passes("wok-fv-order", right)
    assert passes("wok-fv-order", np.array(right))
    for wrong in (None, 0, [0, 0, 0], right[::-1], [2 * e for e in right], [0.0487, 0.0126, 0.0032], right[:2]):
        assert not passes("wok-fv-order", wrong)
    message = check("wok-fv-order", [2 * e for e in right]).message
    assert not any(f"{e:.3g}" in message for e in right)  # never reveals the reference


def test_check_wok_thickness() -> None:
    rho, c, _ = cw.MATERIALS["carbon_steel_1010"]
    area = cw.cap_area(0.34, 0.10)
    right = {mm: cw.lumped_cooling(rho * area * mm / 1e3, c, 2 * area, 300, 60) for mm in (1.0, 2.0, 3.0)}
    assert passes("wok-thickness", right)
    assert passes("wok-thickness", {1: right[1.0], 2: right[2.0], 3: right[3.0]})
    one_face = {mm: cw.lumped_cooling(rho * area * mm / 1e3, c, area, 300, 60) for mm in (1.0, 2.0, 3.0)}
    for wrong in (None, {}, 0, one_face, {mm: 300.0 for mm in right}, {1.0: right[1.0]}):
        assert not passes("wok-thickness", wrong)


def test_check_pan_design() -> None:
    assert passes("wok-design", [("carbon_steel_1010", 0.0003), ("copper", 0.002)])
    for wrong in (None, [], 0, "copper",
                  [("copper", 0.002)],  # not magnetic
                  [("carbon_steel_1010", 0.0003), ("copper", 0.003)],  # over budget
                  [("carbon_steel_1010", 0.0015)],  # a plain wok: no more even than tri-ply
                  [("carbon_steel_1010", -0.001)]):
        assert not passes("wok-design", wrong)
    assert "budget" in check("wok-design", [("carbon_steel_1010", 0.0003), ("copper", 0.003)]).message
    assert "magnetic" in check("wok-design", [("copper", 0.002)]).message


def test_check_thin_plate() -> None:
    r, T2, T_plate = cw.rz_heat_up("stainless_304", 0.002, "induction")
    right = float(np.abs(T2[-1] - T_plate).max())
    assert passes("wok-thin-plate", right)
    bottom_gap = float(np.abs(T2[0] - T_plate).max())
    for wrong in (None, 0, -right, 2 * right, bottom_gap, float((T2[0] - T2[-1]).max()), "1.7"):
        assert not passes("wok-thin-plate", wrong)
    assert f"{right:.2f}" not in check("wok-thin-plate", 2 * right).message

"""Checkers for the exercises of chapter 02 (SquarePlus and other activations)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from kexue.activations import (DEFAULT_B, max_abs_error, minimax_b, minimax_b_article, relu, relu_gelu_gap,
                               squareplus, upper_bound_threshold)
from kexue.exercises import as_float, grade, register


def _close(a: float, b: float, rtol: float) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)


@register("squareplus-relu-gap",
          hint="The gap (sqrt(x² + b) − |x|)/2 is even in x; where is sqrt(x² + b) − |x| largest?")
def relu_gap(answer: Any) -> tuple[bool, str]:
    """The student's gap(b) = max over x of squareplus_b(x) − ReLU(x), at 20 values of b."""
    if not callable(answer):
        return False, "pass a function gap(b) that returns max over x of squareplus_b(x) − ReLU(x)."
    bs = [float(b) for b in np.geomspace(0.01, 100.0, 20)]
    xs = np.linspace(-50, 50, 200_001)
    expected = [float(np.max(squareplus(xs, b) - relu(xs))) for b in bs]
    result = grade(answer, [(b,) for b in bs], expected, compare=lambda v, e: _close(v, e, 1e-6),
                   convert=lambda v: as_float(v, "gap(b)"), names=("b",), what="values of b (from 0.01 to 100)")
    if result.passed:
        return True, f"right for all {len(bs)} values of b from 0.01 to 100."
    message = result.message()
    ratios = [v / e for v, e in zip(result.values, expected) if v is not None]
    if len(ratios) == len(bs) and np.ptp(ratios) < 1e-6:
        message += " Your values are a constant factor times the true gap: check a factor."
    return False, message


@register("squareplus-matching-b",
          hint="Write squareplus and softplus and their second derivatives at x = 0, then solve for b.")
def matching_b(answer: Any) -> tuple[bool, str]:
    """The pair (b matching softplus's value at 0, b matching its curvature at 0)."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Sequence) or len(answer) != 2:
        return False, "give a pair (b_value, b_curvature)."
    value, curvature = (as_float(a, n) for a, n in zip(answer, ("b_value", "b_curvature")))
    want_value, want_curvature = upper_bound_threshold(), float(DEFAULT_B)
    ok = (_close(value, want_value, 1e-12), _close(curvature, want_curvature, 1e-12))
    if all(ok):
        return True, "both right: no single b matches softplus's value and curvature at 0 together."
    if _close(value, want_curvature, 1e-12) and _close(curvature, want_value, 1e-12):
        return False, "the two values are swapped: the first should match the value at 0, the second the curvature."
    parts = [f"{label} is {'right' if good else 'wrong'}"
             for label, good in zip(("the value-matching b", "the curvature-matching b"), ok)]
    message = "; ".join(parts) + "."
    if not ok[0] and _close(value, math.sqrt(want_value), 1e-9):
        message += " Your first number looks like sqrt(b): squareplus(0) is sqrt(b)/2, so square it."
    return False, message


@register("squareplus-minimax-b",
          hint="The error squareplus_b − softplus is even; at the optimum its value at 0 and at its positive peaks "
               "have the same size and opposite signs.")
def minimax(answer: Any) -> tuple[bool, str]:
    """The student's minimax b* (within 1e-8 of the equioscillation solution)."""
    value = as_float(answer, "b")
    b_star, _, _ = minimax_b()
    if abs(value - b_star) <= 1e-8:
        return True, "right: the error equioscillates at x = 0 and at its two symmetric peaks."
    if _close(value, upper_bound_threshold(), 1e-6):
        return False, "that is the smallest b for which squareplus stays above softplus, not the minimax b."
    if _close(value, math.sqrt(b_star), 1e-6):
        return False, "that looks like a with b = a²: report b itself."
    short_grid, _ = minimax_b_article(-2.0, 3.0, 1e-3)
    if abs(value - short_grid) < 1e-4:
        return False, ("that is what a grid ending before x = 3.6 gives: the error's positive peak lies outside "
                       "it, so the grid maximum underestimates the true error.")
    error = max_abs_error(value) if value >= 0 else float("inf")
    return False, f"with this b the largest error is {error:.6f}; the minimax b does better."


@register("squareplus-temperature",
          hint="Substitute x = u/β: how does squareplus_b(u/β) relate to a squareplus in u?")
def temperature(answer: Any) -> tuple[bool, str]:
    """The student's b_of_beta(beta): the minimax b for softplus with temperature β, checked at β = 0.5, 2, 3."""
    if not callable(answer):
        return False, "pass a function b_of_beta(beta) returning the minimax b for log(1 + e^(βx))/β."
    b_star, _, _ = minimax_b()
    betas = (0.5, 2.0, 3.0)
    result = grade(answer, [(beta,) for beta in betas], lambda beta: b_star / beta**2,
                   compare=lambda v, e: _close(v, e, 1e-8), convert=lambda v: as_float(v, "b_of_beta(beta)"),
                   names=("β",), what="temperatures")
    if result.passed:
        return True, "right for β = 0.5, 2 and 3: the best b scales like the square of the length scale 1/β."
    message = result.message()
    values = [math.nan if v is None else v for v in result.values]
    if all(_close(v, b_star * beta**2, 1e-8) for v, beta in zip(values, betas)):
        message += " Your b grows with β; a larger β makes softplus sharper, closer to ReLU."
    elif all(_close(v, b_star / beta, 1e-8) for v, beta in zip(values, betas)):
        message += " The dependence on β has the right direction; check the power."
    return False, message


@register("squareplus-gelu-gap",
          hint="ReLU − GELU = |x|·Φ(−|x|): maximise x·Φ(−x) over x > 0, where its slope is 0.")
def gelu_gap(answer: Any) -> tuple[bool, str]:
    """The student's sup over x of |ReLU(x) − GELU(x)|."""
    value = as_float(answer, "gap")
    x_peak, gap = relu_gelu_gap()
    if _close(value, gap, 1e-9):
        return True, "right: and every b > 0 only adds to this gap, since squareplus lies above ReLU."
    if _close(value, x_peak, 1e-4):
        return False, "that is where the gap is largest; give the size of the gap there."
    if _close(value, gap, 1e-3):
        return False, "close, but not to 9 digits: refine the maximiser with a root finder instead of a grid."
    if _close(value, max_abs_error(4.0, "gelu"), 1e-6):
        return False, "that is the error of squareplus with b = 4; the question asks about ReLU itself."
    return False, "not the largest gap between ReLU and GELU."

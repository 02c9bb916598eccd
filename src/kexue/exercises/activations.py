"""Checkers for the exercises of chapter 02 (SquarePlus and other activations)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from kexue.activations import (approximation_error, max_abs_error, minimax_b, relu_gelu_gap, squareplus_hess,
                               upper_bound_threshold)
from kexue.exercises import as_float, grade, register


def _close(a: float, b: float, rtol: float) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)


@register("squareplus-half-curvature",
          hint="squareplus_b''(x) = b / (2 (x² + b)^(3/2)) is largest at 0; set it equal to half of that and solve "
               "for x.")
def half_curvature(answer: Any) -> tuple[bool, str]:
    """The student's half_width(b): the x > 0 where squareplus_b'' is half its maximum, at 12 values of b."""
    if not callable(answer):
        return False, "pass a function half_width(b) that returns the positive x where the curvature halves."
    bs = [float(b) for b in np.geomspace(0.01, 100.0, 12)]

    def reference(b: float) -> float:
        from scipy.optimize import brentq

        peak = float(squareplus_hess(0.0, b))
        return brentq(lambda x: float(squareplus_hess(x, b)) - peak / 2, 0.0, 10 * math.sqrt(b), xtol=1e-14)

    expected = [reference(b) for b in bs]
    result = grade(answer, [(b,) for b in bs], expected, compare=lambda v, e: _close(v, e, 1e-8),
                   convert=lambda v: as_float(v, "half_width(b)"), names=("b",), what="values of b (0.01 to 100)")
    if result.passed:
        return True, f"right for all {len(bs)} values of b: the width grows like sqrt(b)."
    message = result.message()
    values = result.values
    if all(v is not None and v > 0 for v in values):
        ratios = [v / e for v, e in zip(values, expected)]
        if np.ptp(ratios) < 1e-6:
            message += " Your values are a constant factor times the right ones: check the exponent 3/2 and the 2."
        elif np.ptp(np.log(ratios)) > 1:
            message += " Your values do not grow like sqrt(b): the curvature depends on x only through x/sqrt(b)."
    return False, message


_FLOAT32_B = 4.0


def _naive_float32_zero_from() -> float:
    """The |x| beyond which the textbook squareplus in float32 (b = 4) returns exactly 0, from a dense scan."""
    xs = -np.geomspace(1e3, 1e5, 1_000_001).astype(np.float32)
    naive = (xs + np.sqrt(xs * xs + np.float32(_FLOAT32_B))) / np.float32(2)
    return float(-xs[np.flatnonzero(naive != 0)[-1]])


@register("squareplus-float32-zero",
          hint="Evaluate (x + np.sqrt(x*x + 4)) / 2 in float32 for negative x on a log grid and plot it with the "
               "stable form; where does the naive curve drop to 0 for good?")
def float32_zero(answer: Any) -> tuple[bool, str]:
    """The |x| beyond which naive float32 squareplus (b = 4) is exactly 0 for every x (within 1 %)."""
    value = abs(as_float(answer, "answer"))
    expected = _naive_float32_zero_from()
    if _close(value, expected, 1e-2):
        return True, "right: beyond it, x*x + 4 rounds to x*x and the two terms cancel exactly."
    if _close(value, expected / 2, 2e-2):  # zeros start at about half the answer
        return False, ("that is where the first zeros appear; between there and the answer the naive values "
                       "alternate between 0 and tiny positive numbers. Look for the last non-zero value.")
    if value > 1e6:
        return False, "too large for float32: that is the scale at which float64 cancels; evaluate in float32."
    if value < expected:
        return False, "too small: just beyond that |x| the naive float32 formula still returns positive values."
    return False, "too large: the naive float32 formula is already exactly 0 well before that |x|."


def _least_squares_b() -> float:
    """The b minimising the integral of (squareplus_b − softplus)² over [−8, 8] (scipy quad + bounded search)."""
    from scipy import integrate, optimize

    def loss(b: float) -> float:
        return integrate.quad(lambda x: float(approximation_error(x, b)) ** 2, -8, 8, epsabs=1e-14, epsrel=1e-12,
                              limit=200)[0]

    return float(optimize.minimize_scalar(loss, bounds=(0.5, 3.0), method="bounded", options={"xatol": 1e-10}).x)


@register("squareplus-least-squares-b",
          hint="Minimise the integral of (squareplus_b(x) − softplus(x))² over [−8, 8] in b, e.g. scipy quad inside "
               "minimize_scalar.")
def least_squares_b(answer: Any) -> tuple[bool, str]:
    """The b minimising the squared error to softplus integrated over [−8, 8] (relative tolerance 1e-5)."""
    value = as_float(answer, "b")
    expected = _least_squares_b()
    b_star, _, _ = minimax_b()
    if _close(value, expected, 1e-5):
        return True, "right: the least-squares b lies below the minimax b, trading the peaks for the dip at 0."
    if _close(value, b_star, 1e-5):
        return False, "that is the minimax b; a squared error integrated over x weighs the curve differently."
    if _close(value, upper_bound_threshold(), 1e-5):
        return False, "that is the upper-bound threshold, not a least-squares fit."
    if _close(value, math.sqrt(expected), 1e-4):
        return False, "that looks like a with b = a²: report b itself."
    if value <= 0:
        return False, "b must be positive."
    return False, "not the least-squares b; check the interval [−8, 8] and that the error is squared."


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

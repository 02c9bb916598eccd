"""Checkers for the exercises of chapter 12 (training recipes derived from the Amos optimizer).

kexue.amos imports torch, so it is imported inside the checkers: loading every checker must work without torch.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from kexue import validate
from kexue.exercises import as_float, call, close, grade, register

_TIMES = [0.0, 1.0, 10.0, 100.0, 500.0, 1000.0, 5000.0, 1e4, 1e5, 1e6]


def _square(t: float, a: float) -> float:
    """1/(a t + 1)²."""
    return 1.0 / (a * t + 1.0) ** 2


def _time(t: float, a: float) -> float:
    """1/(2 a t + 1)."""
    return 1.0 / (2.0 * a * t + 1.0)


def _pair(answer: Any, what: str) -> tuple[Any, Any]:
    """Two items from a tuple or list answer, or a TypeError saying what is expected."""
    if not isinstance(answer, Sequence) or isinstance(answer, str) or len(answer) != 2:
        raise TypeError(f"give a pair ({what})")
    return answer[0], answer[1]


@register("amos-ode", hint="Multiply by e^S: d(e^S)/dt is constant for the first ODE; for the second use e^{2S}.")
def ode(answer: Any) -> tuple[bool, str]:
    """Two functions (t, a) -> e^{-2S_t}: the solutions for Ṡ = a e^{-S} and Ṡ = a e^{-2S}, S_0 = 0."""
    first, second = _pair(answer, "f_const(t, a), f_dynamic(t, a)")
    messages, ok = [], True
    for label, f, ref in (("constant-cosine", first, _square), ("slowing", second, _time)):
        if not callable(f):
            return False, f"the {label} solution must be a function of (t, a)."
        cases = [(t, a) for t in _TIMES for a in (1e-4, 1e-3, 0.05)]
        result = grade(f, cases, ref, rtol=1e-12, names=("t", "a"), what="(t, a) pairs")
        ok &= result.passed
        messages.append(f"{label}: " + ("right." if result.passed else
                                        f"right at {result.right} of {result.total} (t, a) pairs. "
                                        "Check e^{-2S} at t = 0 (must be 1) and its decay at large t."))
    return ok, " ".join(messages)


@register("amos-half-life", hint="Set the schedule factor at T equal to 1/2 and solve for the coefficient.")
def half_life(answer: Any) -> tuple[bool, str]:
    """(α₀p for the inverse-square schedule, α₀p₀ for inverse time) halving the learning rate at T = 5000."""
    a_sq, a_time = (as_float(x, "each coefficient") for x in _pair(answer, "inverse-square, inverse-time"))
    ok_sq = math.isclose(_square(5000, a_sq), 0.5, rel_tol=1e-6)
    ok_time = math.isclose(_time(5000, a_time), 0.5, rel_tol=1e-6)
    parts = []
    for label, ok, value in (("inverse-square", ok_sq, _square(5000, a_sq) if a_sq >= 0 else float("nan")),
                             ("inverse-time", ok_time, _time(5000, a_time) if a_time >= 0 else float("nan"))):
        if ok:
            parts.append(f"{label}: right.")
        elif not value == value:
            parts.append(f"{label}: the coefficient must be positive.")
        else:
            parts.append(f"{label}: at t = 5000 your factor is {value:.3f}, not 1/2.")
    return ok_sq and ok_time, " ".join(parts)


@register("amos-q0", hint="Write θ₀·ε₀ = ‖θ₀‖² − θ₀·θ* and ‖ε₀‖² = ‖θ₀‖² + ‖θ*‖² − 2θ₀·θ*, and drop the cross terms "
                          "of independent vectors; for the gain, ε₀ has mean zero.")
def q0(answer: Any) -> tuple[bool, str]:
    """(q₀ of one draw for a kernel with σ = 0.05 and optimum spread 2σ, q₀ of one draw for a gain 1 vs 1 + 0.5z)."""
    kernel, gain = (as_float(x, "each q0") for x in _pair(answer, "q0 for the wide kernel, q0 for the gain"))
    ok_kernel, ok_gain = abs(kernel - 0.2) <= 0.05, abs(gain) <= 0.12
    msg = ["kernel: " + ("right." if ok_kernel else "not what independent draws with these spreads give; is θ* "
                         "drawn with twice the spread, and is ε₀ = θ₀ − θ*?"),
           "gain: " + ("right." if ok_gain else "θ₀ is the all-ones vector and θ* = 1 + 0.5 z; recompute θ₀·ε₀.")]
    if abs(kernel - 0.5) <= 0.05:
        msg[0] = "kernel: that is the equal-spread case of the page; here θ* spreads twice as wide."
    elif kernel == 1.0:
        msg[0] = "kernel: 1 is the assumption q = 1, not what a simulation gives."
    return ok_kernel and ok_gain, " ".join(msg)


def _to_adamw(alpha0: float, sigma: float, r: float) -> tuple[float, float]:
    """PyTorch AdamW (lr, weight_decay) for the recipe with a per-coordinate RMS r of the direction."""
    lr = alpha0 * math.sqrt(2.0) * sigma / r
    return lr, (alpha0**2 / 2.0) / lr


@register("amos-adamw", hint="The step norm is α₀‖ε₀‖ with ‖ε₀‖ = √(2k)σ and ‖u‖ = √k r; PyTorch decays the weights "
                             "by lr·weight_decay per step, which must equal ρ₀ = α₀²/(2q) with q = 1.")
def adamw(answer: Any) -> tuple[bool, str]:
    """A function to_adamw(alpha0, sigma, r) -> (lr, weight_decay)."""
    if not callable(answer):
        return False, "pass a function to_adamw(alpha0, sigma, r) returning (lr, weight_decay)."
    cases = [(a, s, r) for a in (1e-3, 1e-2) for s in (0.02, 0.5) for r in (0.5, 1.0)]
    result = grade(answer, cases, _to_adamw, rtol=1e-9, names=("alpha0", "sigma", "r"), what="cases")
    if result.passed:
        return True, "right for all 8 cases."
    lrs_ok = 0
    for case, value in zip(cases, result.values):
        try:
            lrs_ok += close(float(value[0]), _to_adamw(*case)[0])
        except (TypeError, ValueError, IndexError, KeyError):
            pass
    note = ("the learning rates are right; check the weight decay: PyTorch multiplies it by lr."
            if lrs_ok == len(cases) else "check the learning rate first: it scales with σ and with 1/r.")
    return False, f"right for {result.right} of {len(cases)} cases; {note}"


def second_order_recursion(alpha0: float, p: float, T: int) -> float:
    """y_T of y_{t+1}² = y_t² − 2 a_t p y_t + a_t², a_t = α₀/(α₀pt+1)², y_0 = 1 (no weight decay)."""
    alpha0 = validate.real(alpha0, "alpha0", positive=True, maximum=1e6)
    p = validate.real(p, "p", positive=True, maximum=1e6)
    T = validate.integer(T, "T", minimum=0, maximum=10**7)  # a loop of T steps: bounded so it cannot hang
    y = 1.0
    for t in range(T):
        a = alpha0 / (alpha0 * p * t + 1.0) ** 2
        y = math.sqrt(max(y * y - 2 * a * p * y + a * a, 0.0))
    return y


@register("amos-lag", hint="Expand the square root: y_{t+1} ≈ y_t − a_t p + a_t²/(2y_t). The first two terms are what "
                           "1/(α₀pt+1) does; sum the last one over t.")
def lag(answer: Any) -> tuple[bool, str]:
    """A function predict(alpha0, p, T) of ‖ε_T‖/‖ε₀‖ including the second-order lag, within 5% of the recursion."""
    if not callable(answer):
        return False, "pass a function predict(alpha0, p, T) returning the predicted ratio at step T."
    cases = [(0.01, 0.1, 20_000), (0.005, 0.2, 20_000)]
    right = 0
    for case in cases:
        value, error = call(answer, *case)
        try:
            ok = error is None and abs(as_float(value) / second_order_recursion(*case) - 1) <= 0.05
        except (TypeError, ValueError):
            ok = False
        right += ok
    if right == len(cases):
        return True, "right: within 5% of the second-order recursion for both settings."
    first_order = [_first for _first in (1 / (a * p * T + 1) for a, p, T in cases)]
    vals = [call(answer, *c)[0] for c in cases]
    if all(isinstance(v, (int, float)) and close(v, f, rtol=1e-6) for v, f in zip(vals, first_order)):
        return False, "that is the first-order prediction; the neglected α² term keeps the ratio higher."
    return False, f"within 5% for {right} of {len(cases)} settings."


def simulated_q0(k: int = 4096, sigma: float = 0.05, spread: float = 2.0, seed: int = 0) -> float:
    """q₀ = θ₀·ε₀/‖ε₀‖² for one draw of θ₀ ~ N(0, σ²I) and an independent θ* ~ N(0, (spread·σ)²I)."""
    k = validate.integer(k, "k", minimum=1, maximum=10**7)  # two float64 draws of k entries
    sigma = validate.real(sigma, "sigma", positive=True, maximum=1e6)
    spread = validate.real(spread, "spread", positive=True, maximum=1e6)
    rng = np.random.default_rng(validate.integer(seed, "seed", minimum=0))
    theta0, theta_star = sigma * rng.standard_normal(k), spread * sigma * rng.standard_normal(k)
    eps = theta0 - theta_star
    return float(theta0 @ eps / (eps @ eps))

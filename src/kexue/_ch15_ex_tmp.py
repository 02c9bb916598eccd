"""Checkers for the exercises of chapter 15 (the equal-path bottom filter and the nitrogen cycle)."""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from kexue import aquarium as aq
from kexue.exercises import register


def _number(answer: Any, name: str = "answer") -> float:
    """A finite real number, or a TypeError/ValueError the student can act on."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(answer).__name__}")
    value = float(answer)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _call(function: Callable[..., Any], *args: Any) -> float:
    """The function's value at args as a finite float; errors say which arguments failed."""
    try:
        return _number(function(*args), f"the value at {args}")
    except (TypeError, ValueError):
        raise
    except Exception as err:  # the student's code may raise anything; report it instead of crashing
        raise ValueError(f"your function raised {type(err).__name__} at {args}: {err}") from err


@register("aquarium-two-inlets", hint="The far inlet and the segment are in series; together they are in parallel "
          "with the near inlet, so both branches see the same suction.")
def _two_inlets(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "pass a function u2(x) of the ratio x = r/R"
    xs = [0.013, 0.1, 0.37, 1.0, 2.5, 7.0]
    values = [_call(answer, x) for x in xs]
    if any(not 0 < v <= 1 for v in values):
        return False, "the far inlet never draws more than the near one, and both draw: u2 must lie in (0, 1]"
    wrong = [x for x, v in zip(xs, values) if not math.isclose(v, 1 / (1 + x), rel_tol=1e-9)]
    if not wrong:
        return True, "q_far/q_near is right for every ratio tried"
    if len(set(np.round(values, 12))) == 1:
        return False, "your function does not depend on x, but a longer header must starve the far inlet more"
    return False, f"wrong at x = {', '.join(map(str, wrong))}; it should fall from 1 at x = 0 towards 0 as x grows"


@register("aquarium-tan-limit", hint="Free NH3-N = TAN × un-ionised fraction; invert that for the TAN.")
def _tan_limit(answer: Any) -> tuple[bool, str]:
    value = _number(answer)
    if value <= 0:
        return False, "a concentration limit must be positive (mg N/L)"
    fraction = aq.free_ammonia_fraction(28.0, 8.0)
    if math.isclose(value, 0.02 / fraction, rel_tol=5e-3):
        return True, "that TAN gives just 0.02 mg/L of free NH3-N at 28 °C and pH 8.0"
    if math.isclose(value, 0.02 / aq.free_ammonia_fraction(25.0, 7.5), rel_tol=5e-3):
        return False, "that is the limit at 25 °C and pH 7.5; use the tropical tank's temperature and pH"
    if math.isclose(value, 0.02 * fraction, rel_tol=5e-3):
        return False, "you multiplied by the fraction; the TAN must be larger than its free-ammonia part"
    return False, "not the TAN at which free NH3-N reaches 0.02 mg/L at 28 °C and pH 8.0"


@lru_cache(maxsize=1)
def _broken_tree_u() -> float:
    net = aq.htree_layout()
    k = next(i for i, e in enumerate(net.edges) if e.u == "O000")
    e = net.edges[k]
    net.edges[k] = aq.Edge(e.u, e.v, L=e.L, D=0.015, K=e.K)
    return aq.uniformity(aq.solve_layout(net).inlet_flows)[0]


@register("aquarium-broken-tree", hint="Copy the layout, replace one Edge of the last level with D = 0.015, solve "
          "with aq.solve_layout and take aq.uniformity of the inlet flows.")
def _broken_tree(answer: Any) -> tuple[bool, str]:
    value = _number(answer)
    if not 0 < value <= 1:
        return False, "U = q_min/q_max lies in (0, 1]"
    if value == 1 or math.isclose(value, 1.0, abs_tol=1e-9):
        return False, "the tree is no longer symmetric, so U cannot be exactly 1"
    if abs(value - _broken_tree_u()) <= 1e-3:
        return True, "U of the perturbed tree is right to 1e-3"
    return False, "not the uniformity of the tree with one 15 mm pipe of the last level (4 holes, 500 L/h)"


@register("aquarium-u-vs-flow", hint="Build aq.comb_layout with the right inlet (aq.inlet_resistance(open_end=0.017) "
          "for open ends), solve at q = flow_lph * aq.LPH and return aq.uniformity(...)[0].")
def _u_vs_flow(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "pass a function u_of_flow(flow_lph, open_ends)"
    for flow, open_ends in ((250, False), (1000, False), (300, True), (1500, True)):
        value = _call(answer, flow, open_ends)
        inlet = aq.inlet_resistance(open_end=0.017) if open_ends else aq.inlet_resistance()
        expected = aq.uniformity(aq.solve_layout(aq.comb_layout(inlet=inlet), q=flow * aq.LPH).inlet_flows)[0]
        if abs(value - expected) > 1e-3:
            kind = "open pipe ends" if open_ends else "the 4-hole inlets"
            return False, f"wrong for {kind} at {flow} L/h"
    return True, "U of the comb is right at every flow tried, with holes and with open ends"


def _reverse_reference(n: int, x: float) -> float:
    return aq.uniformity(aq.solve_layout(aq.reverse_return_layout(n, x), q=1.0, laminar=True).inlet_flows)[0]


@register("aquarium-reverse-return", hint="The pressure difference across terminal k obeys the ladder recursion "
          "with 2x and is symmetric about the middle terminal; odd N puts a terminal exactly in the middle.")
def _reverse_return(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "pass a function u_reverse(n, x)"
    wrong = {"even": [], "odd": []}
    for n in (2, 3, 4, 5, 8, 11, 16, 19):
        for x in (0.02, 0.3, 1.5):
            if not math.isclose(_call(answer, n, x), _reverse_reference(n, x), rel_tol=1e-10, abs_tol=1e-12):
                wrong["odd" if n % 2 else "even"].append((n, x))
    if not wrong["even"] and not wrong["odd"]:
        return True, "u_reverse matches the network solver for odd and even N"
    if not wrong["even"]:
        return False, "right for even N; for odd N the smallest flow is at the middle terminal itself"
    if not wrong["odd"]:
        return False, "right for odd N but not for even N"
    return False, f"wrong at (n, x) = {(wrong['even'] + wrong['odd'])[0]} and elsewhere"


def _worst_nitrate(k_pn: float) -> float:
    grid = np.linspace(300, 600, 601)
    run = aq.simulate_cycle(aq.NitrogenParams(k_pn=k_pn), 600, grid, change_fraction=0.2, change_interval=45,
                            rtol=1e-8)
    return float(run.nitrate.max())


@register("aquarium-lazy-keeper", hint="Bisect on k_pN: simulate with change_fraction=0.2, change_interval=45 and "
          "compare the largest nitrate between days 300 and 600 with the limit.")
def _lazy_keeper(answer: Any) -> tuple[bool, str]:
    value = _number(answer)
    if not 0 < value < 1:
        return False, "without any uptake nitrate climbs far above the limit; look for a rate between 0 and 1 per day"
    limit = 50 * aq.NITRATE_N_PER_NO3
    if _worst_nitrate(value * 1.02) >= limit:
        return False, "too small: with this uptake nitrate still exceeds the limit before some water changes"
    if _worst_nitrate(value * 0.98) < limit:
        return False, "more than needed: a smaller uptake already keeps nitrate below the limit"
    return True, "the smallest uptake keeping nitrate below 50 mg/L, to 2 %"

"""Checkers for the exercises of chapter 15 (the equal-path bottom filter and the nitrogen cycle)."""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from kexue import aquarium as aq
from kexue.exercises import as_float, close, grade, register


@register("aquarium-two-inlets", hint="The far inlet and the segment are in series; together they are in parallel "
          "with the near inlet, so both branches see the same suction.")
def two_inlets(answer: Any) -> tuple[bool, str]:
    """A student's u2(x) = q_far/q_near for two inlets on a linear header, against Kirchhoff on a range of x."""
    if not callable(answer):
        return False, "pass a function u2(x) of the ratio x = r/R."
    xs = [(0.013,), (0.1,), (0.37,), (1.0,), (2.5,), (7.0,)]
    result = grade(answer, xs, lambda x: aq.ladder_uniformity(2, x), rtol=1e-9, convert=float, names=("x",),
                   what="ratios x")
    if result.passed:
        return True, "q_far/q_near is right for every ratio tried."
    values = [v for v in result.values if v is not None]
    if values and any(not 0 < v <= 1 for v in values):
        return False, "the far inlet never draws more than the near one, and both draw: u2 must lie in (0, 1]."
    if len(values) == len(xs) and len(set(np.round(values, 12))) == 1:
        return False, "your function does not depend on x, but a longer header must starve the far inlet more."
    return False, result.message()


@register("aquarium-tan-limit", hint="Free NH3-N = TAN × un-ionised fraction; invert that for the TAN.")
def tan_limit(answer: Any) -> tuple[bool, str]:
    """The largest TAN (mg N/L) keeping free NH3-N below the guide at 28 °C and pH 8.0."""
    value = as_float(answer)
    if value <= 0:
        return False, "a concentration limit must be positive (mg N/L)."
    fraction = aq.free_ammonia_fraction(28.0, 8.0)
    if close(value, aq.FREE_AMMONIA_GUIDE / fraction, rtol=5e-3):
        return True, "that TAN gives just the guide value of free NH3-N at 28 °C and pH 8.0."
    if close(value, aq.FREE_AMMONIA_GUIDE / aq.free_ammonia_fraction(25.0, 7.5), rtol=5e-3):
        return False, "that is the limit at 25 °C and pH 7.5; use the tropical tank's temperature and pH."
    if close(value, aq.FREE_AMMONIA_GUIDE * fraction, rtol=5e-3):
        return False, "you multiplied by the fraction; the TAN must be larger than its free-ammonia part."
    return False, "not the TAN at which free NH3-N reaches the guide value at 28 °C and pH 8.0."


@lru_cache(maxsize=1)
def _broken_tree_u() -> float:
    """U of the reference H-tree with one last-level pipe narrowed to 15 mm (any of them, by symmetry)."""
    net = aq.htree_layout()
    k = next(i for i, e in enumerate(net.edges) if e.u == "O000")
    e = net.edges[k]
    net.edges[k] = aq.Edge(e.u, e.v, L=e.L, D=0.015, K=e.K)
    return aq.uniformity(aq.solve_layout(net).inlet_flows)[0]


@register("aquarium-broken-tree", hint="Copy the layout, replace one Edge of the last level with D = 0.015, solve "
          "with aq.solve_layout and take aq.uniformity of the inlet flows.")
def broken_tree(answer: Any) -> tuple[bool, str]:
    """U of the H-tree with one 15 mm pipe in its last level, to 1e-3."""
    value = as_float(answer)
    if not 0 < value <= 1:
        return False, "U = q_min/q_max lies in (0, 1]."
    if math.isclose(value, 1.0, abs_tol=1e-9):
        return False, "the tree is no longer symmetric, so U cannot be exactly 1."
    if abs(value - _broken_tree_u()) <= 1e-3:
        return True, "U of the perturbed tree is right to 1e-3."
    return False, "not the uniformity of the tree with one 15 mm pipe of the last level (4 holes, 500 L/h)."


def _comb_u(flow_lph: float, open_ends: bool) -> float:
    inlet = aq.inlet_resistance(open_end=0.017) if open_ends else aq.inlet_resistance()
    return aq.uniformity(aq.solve_layout(aq.comb_layout(inlet=inlet), q=flow_lph * aq.LPH).inlet_flows)[0]


@register("aquarium-u-vs-flow", hint="Build aq.comb_layout with the right inlet (aq.inlet_resistance(open_end=0.017) "
          "for open ends), solve at q = flow_lph * aq.LPH and return aq.uniformity(...)[0].")
def u_vs_flow(answer: Any) -> tuple[bool, str]:
    """A student's u_of_flow(flow_lph, open_ends) for the comb, to 1e-3, with holes and with open ends."""
    if not callable(answer):
        return False, "pass a function u_of_flow(flow_lph, open_ends)."
    cases = [(250, False), (1000, False), (300, True), (1500, True)]
    result = grade(answer, cases, _comb_u, rtol=0.0, atol=1e-3, convert=float, names=("flow_lph", "open_ends"),
                   what="designs")
    if result.passed:
        return True, "U of the comb is right at every flow tried, with holes and with open ends."
    failed = set(result.wrong) | {case for case, _ in result.raised}
    if failed and all(open_ends for _, open_ends in failed):
        return False, "right with the 4-hole inlets but wrong for open pipe ends. " + result.message()
    return False, result.message()


def _reverse_reference(n: int, x: float) -> float:
    return aq.uniformity(aq.solve_layout(aq.reverse_return_layout(n, x), q=1.0, laminar=True).inlet_flows)[0]


@register("aquarium-reverse-return", hint="The pressure difference across terminal k obeys the ladder recursion "
          "with 2x and is symmetric about the middle terminal; odd N puts a terminal exactly in the middle.")
def reverse_return(answer: Any) -> tuple[bool, str]:
    """A student's closed form u_reverse(n, x), against the network solver for odd and even n."""
    if not callable(answer):
        return False, "pass a function u_reverse(n, x)."
    cases = [(n, x) for n in (2, 3, 4, 5, 8, 11, 16, 19) for x in (0.02, 0.3, 1.5)]
    result = grade(answer, cases, _reverse_reference, rtol=1e-10, atol=1e-12, convert=float, names=("n", "x"),
                   what="(n, x) pairs")
    if result.passed:
        return True, "u_reverse matches the network solver for odd and even N."
    failed = set(result.wrong) | {case for case, _ in result.raised}
    if all(n % 2 for n, _ in failed):
        return False, "right for even N; for odd N the smallest flow is at the middle terminal itself."
    if not any(n % 2 for n, _ in failed):
        return False, "right for odd N but not for even N. " + result.message()
    return False, result.message()


def _worst_nitrate(k_pn: float) -> float:
    """The largest nitrate-N (mg/L) between days 300 and 600 with 20 % changed every 45 days."""
    grid = np.linspace(300, 600, 601)
    run = aq.simulate_cycle(aq.NitrogenParams(k_pn=k_pn), 600, grid, change_fraction=0.2, change_interval=45,
                            rtol=1e-8)
    return float(run.nitrate.max())


@register("aquarium-lazy-keeper", hint="Search on k_pN: simulate with change_fraction=0.2, change_interval=45 and "
          "compare the largest nitrate between days 300 and 600 with the limit.")
def lazy_keeper(answer: Any) -> tuple[bool, str]:
    """The smallest plant uptake keeping nitrate below 50 mg/L NO3-, to 2 %: 2 % more must pass, 2 % less fail."""
    value = as_float(answer)
    if not 0 < value < 1:
        return False, "without any uptake nitrate climbs far above the limit; look for a rate between 0 and 1 per day."
    limit = 50 * aq.NITRATE_N_PER_NO3
    if _worst_nitrate(value * 1.02) >= limit:
        return False, "too small: with this uptake nitrate still exceeds the limit before some water changes."
    if _worst_nitrate(value * 0.98) < limit:
        return False, "more than needed: a smaller uptake already keeps nitrate below the limit."
    return True, "the smallest uptake keeping nitrate below 50 mg/L, to 2 %."

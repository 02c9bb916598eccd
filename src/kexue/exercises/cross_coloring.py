"""Checkers for the exercises of chapter 03 (colouring a cross of squares)."""
from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np

from kexue.cross_coloring import (COMPETING_ANSWER, N_EDGES, _completions, _table, centre_overcount_total,
                                  count_by_centre, count_relaxed, total_formula)
from kexue.exercises import as_expression, as_int, grade, register


def _compare(answer: int, expected: int) -> str:
    """A hint on how far ``answer`` is from ``expected``, without stating ``expected``."""
    if answer <= 0:
        return "the count must be positive."
    if answer > expected:
        if answer % expected == 0:
            factor = answer // expected
            extra = " — are the two equal-coloured sides being treated as distinguishable?" if factor == 2 else "."
            return f"too large by a factor of {factor}{extra}"
        return "too large."
    if expected % answer == 0:
        return f"too small by a factor of {expected // answer}."
    return "too small."


@register("cross-square-fixed-colour",
          hint="Place the two i-coloured sides (how many unordered choices?), then the two other colours.")
def square_fixed_colour(answer: Any) -> tuple[bool, str]:
    """Single squares that are i-dominated for one fixed colour i (k = 3)."""
    answer = as_int(answer)
    table = _table(3)
    expected = int(np.count_nonzero(table == 0))
    if answer == expected:
        return True, "right: choose the positions of the two i-sides, then order the other two colours."
    if answer == int(np.count_nonzero(table >= 0)):
        return False, "that counts squares dominated by any colour; fix the colour i."
    return False, _compare(answer, expected)


def _same_count(value: Any, expected: int) -> bool:
    """An integer count equal to ``expected`` (bools and strings are not counts)."""
    return not isinstance(value, (bool, str)) and value == expected


@register("cross-arm-count",
          hint="If the shared edge already has colour d, the own edges hold one d and the two other colours; "
               "otherwise they hold two d's and the remaining colour.")
def arm_count(answer: Any) -> tuple[bool, str]:
    """A student's arm_count(shared, d) for k = 3, compared with enumeration on all 9 pairs."""
    if not callable(answer):
        return False, "pass a function arm_count(shared, d) returning an integer."
    pairs = list(product(range(3), repeat=2))
    result = grade(answer, pairs, lambda s, d: len(_completions(s, d, 3)), compare=_same_count,
                   names=("shared", "d"), what="(shared, d) pairs")
    if result.passed:
        return True, "right for all 9 (shared, d) pairs."
    failed = set(result.wrong) | {case for case, _ in result.raised}
    same = sum((s, d) not in failed for s, d in pairs if s == d)
    other = sum((s, d) not in failed for s, d in pairs if s != d)
    return False, (f"right for {result.right} of 9 (shared, d) pairs: {same} of 3 with shared == d, {other} of 6 "
                   f"with shared != d. " + result.message())


@register("cross-bruteforce",
          hint="Every square must be dominated, and the three squares of each bar need pairwise different dominant "
               "colours (the two arms of a bar too).")
def bruteforce(answer: Any) -> tuple[bool, str]:
    """The student's brute-force total for k = 3."""
    answer = as_int(answer)
    expected = count_by_centre(3)[0]
    if answer == expected:
        return True, "right: this agrees with the article's enumeration."
    if answer == 3**N_EDGES:
        return False, "that is the number of all colourings: the validity test never rejects anything."
    if answer == count_relaxed(3):
        return False, "that is the count where arms only differ from the centre; the two arms of a bar must differ too."
    return False, _compare(answer, expected)


@register("cross-54432", hint="Try counting the centre's two equal-coloured sides as an ordered pair of positions.")
def overcount_54432(answer: Any) -> tuple[bool, str]:
    """A proposed (mistaken) number of centre colourings that would turn 27216 into 54432."""
    answer = as_int(answer)
    true_centres = len(count_by_centre(3)[1])
    if answer == true_centres:
        return False, "that is the correct number of centre colourings; propose the number a slip would produce."
    try:
        total = centre_overcount_total(answer)
    except ValueError:
        return False, f"{answer} centre colourings would not even give an integer total."
    if total == COMPETING_ANSWER:
        return True, (f"right: {answer} = 2 × {true_centres}; every centre class is overcounted alike, so the "
                      "total doubles.")
    return False, f"with {answer} centre colourings the total would be {total}, not {COMPETING_ANSWER}."


@register("cross-total-formula",
          hint="Write A = f(d, d) and B = f(s, d) for s != d as polynomials in k; then count centres by type "
               "(adjacent, opposite) and, for each bar, sum A or B products over ordered colour pairs.")
def total_formula_in_k(answer: Any) -> tuple[bool, str]:
    """A closed form N(k) for the number of valid colourings with k colours (a SymPy expression or string in k)."""
    import sympy as sp

    k = sp.Symbol("k")
    try:
        expr = as_expression(answer, {"k": k})
    except (TypeError, ValueError) as err:
        return False, f"could not read the formula: {err}"
    if sp.expand(expr - total_formula()) == 0:
        return True, "right: the formula agrees with the factorised count for every k."
    wrong = [n for n in range(3, 9) if expr.subs(k, n) != count_by_centre(n)[0]]
    right = [n for n in range(3, 9) if n not in wrong]
    if right:
        return False, f"it gives the right count for k = {right} but not for k = {wrong}."
    return False, "it gives a wrong count for every k from 3 to 8; check it against count_by_centre first."

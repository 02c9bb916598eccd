"""Checkers for the exercises of chapter 03 (colouring a cross of squares)."""
from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np

from kexue.cross_coloring import (COMPETING_ANSWER, N_EDGES, _completions, _table, centre_overcount_total,
                                  count_by_centre, total_formula)
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


@register("cross-square-k4",
          hint="Choose the dominant colour, the two sides it takes (unordered), then an ordered pair of two different "
               "other colours for the remaining sides.")
def square_k4(answer: Any) -> tuple[bool, str]:
    """Single squares that are dominated when there are k = 4 colours."""
    answer = as_int(answer)
    table = _table(4)
    expected = int(np.count_nonzero(table >= 0))
    if answer == expected:
        return True, "right: dominant colour x its two sides x an ordered pair of the other colours."
    if answer == int(np.count_nonzero(_table(3) >= 0)):
        return False, "that is the count for three colours (or for one fixed colour with four); count all four."
    if answer == int(np.count_nonzero(table == 0)):
        return False, "that counts squares dominated by one fixed colour; every colour can dominate."
    if answer == 4**4:
        return False, "that is every colouring of the square; most of them are not dominated."
    return False, _compare(answer, expected)


def _same_count(value: Any, expected: int) -> bool:
    """An integer count equal to ``expected`` (bools and strings are not counts)."""
    return not isinstance(value, (bool, str)) and value == expected


_ARM_KS = (3, 4, 5, 6)


@register("cross-arm-count",
          hint="If the shared edge already has colour d, the own edges hold d and two other, distinct colours (how "
               "many ordered choices?); otherwise they hold two d's and one colour that is neither d nor the shared one.")
def arm_count(answer: Any) -> tuple[bool, str]:
    """A student's arm_count(shared, d, k), compared with enumeration on every pair for k = 3..6."""
    if not callable(answer):
        return False, "pass a function arm_count(shared, d, k) returning an integer."
    cases = [(s, d, k) for k in _ARM_KS for s, d in product(range(k), repeat=2)]
    result = grade(answer, cases, lambda s, d, k: len(_completions(s, d, k)), compare=_same_count,
                   names=("shared", "d", "k"), what="(shared, d, k) cases")
    if result.passed:
        return True, f"right for all {len(cases)} (shared, d, k) cases, k = 3 to 6."
    failed = set(result.wrong) | {case for case, _ in result.raised}
    by_k = [k for k in _ARM_KS if not any(case[2] == k for case in failed)]
    same = sum(case not in failed for case in cases if case[0] == case[1])
    other = sum(case not in failed for case in cases if case[0] != case[1])
    n_same = sum(case[0] == case[1] for case in cases)
    text = (f"right for {result.right} of {len(cases)} cases: {same} of {n_same} with shared == d, {other} of "
            f"{len(cases) - n_same} with shared != d")
    text += f"; every case right only for k = {by_k}. " if by_k else ". "
    return False, text + result.message()


@register("cross-share-peak",
          hint="Compute count_by_centre(k)[0] / k**16 for k from 3 to 10 and plot it; where does it turn?")
def share_peak(answer: Any) -> tuple[bool, str]:
    """The number of colours k at which the share of valid colourings among all k**16 is largest."""
    answer = as_int(answer)
    import sympy as sp

    formula = total_formula()  # equal to count_by_centre(k)[0] for every k (tested), and much faster
    shares = {k: int(formula.subs(sp.Symbol("k"), k)) / k**N_EDGES for k in range(3, 11)}
    best = max(shares, key=shares.get)
    if answer == best:
        return True, "right: the share rises, peaks there and falls again."
    if answer == 3:
        return False, "k = 3 is the article's case, where the share is smallest of the first few; plot further."
    if not 3 <= answer <= 10:
        return False, "choose k between 3 and 10 (fewer than 3 colours cannot dominate a square)."
    side = "rising" if answer < best else "falling"  # the share is unimodal in k
    return False, f"at k = {answer} the share is still {side}; look for the turn."


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

"""Checkers for the exercises of chapter 05 (token mixing beyond attention).

Only NumPy at import time: loading the checkers must not import torch (kexue.token_mixing is imported on use).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kexue.exercises import call, close, grade, register

AFFINE = {"attention": False, "synthesizer": True, "mlp_mixer": False, "resmlp": True, "fnet": True,
          "gmlp": False, "external": False}


@register("affine-mixers", hint="A mixer is affine in X when it is a fixed linear map plus a constant: look for a "
                                "softmax, a GELU or a product of two functions of X.")
def affine_mixers(answer: Any) -> tuple[bool, str]:
    """A dict mixer → True if the mixer (with its weights fixed) is an affine function of its input X."""
    if not isinstance(answer, Mapping):
        return False, f"give a dict from each of {', '.join(AFFINE)} to True or False."
    missing = [m for m in AFFINE if m not in answer]
    if missing:
        return False, f"the dict has no entry for {', '.join(missing)}."
    odd = [m for m in AFFINE if not isinstance(answer[m], (bool, np.bool_))]
    if odd:
        return False, f"the entry for {odd[0]} is not True or False."
    wrong = [m for m in AFFINE if bool(answer[m]) != AFFINE[m]]
    if wrong:
        return False, f"{len(wrong)} of {len(AFFINE)} entries are not right yet, among them {wrong[0]}."
    return True, "all seven are right."


@register("fnet-two-terms", hint="Re F_m is the cosine matrix and Im F_m the negative sine matrix; expand "
                                 "Re((C − iS) X (C − iS)ᵀ).")
def fnet_two_terms(answer: Any) -> tuple[bool, str]:
    """A function two_terms(x) equal to Re(F_n X F_dᵀ) on random real inputs."""
    if not callable(answer):
        return False, "pass a function two_terms(x) of a real (n, d) array."
    rng = np.random.default_rng(8431)
    cases = [(rng.normal(size=shape),) for shape in [(4, 3), (8, 6), (5, 7), (16, 2)]]
    result = grade(answer, cases, lambda x: np.fft.fft2(x).real, rtol=0, atol=1e-10, names=("x",), what="random inputs")
    return result.passed, result.message("right on four random inputs of different shapes, to 1e-10.")


@register("param-formulas", hint="Count each weight matrix and bias of the module: for Synthesizer R is n×n and the "
                                 "value and output projections are d×d with biases.")
def param_formulas(answer: Any) -> tuple[bool, str]:
    """A dict of functions f(n, d) giving the parameter counts of four mixers."""
    names = ("synthesizer", "mlp_mixer", "gmlp", "external")
    if not isinstance(answer, Mapping) or not all(callable(answer.get(m)) for m in names):
        return False, f"give a dict with a function f(n, d) for each of {', '.join(names)}."
    from kexue.token_mixing import make_mixer, param_count

    pairs = [(16, 8), (37, 12), (100, 64)]
    wrong = []
    for m in names:
        for n, d in pairs:
            value, error = call(answer[m], n, d)
            if error is not None or not close(value, param_count(make_mixer(m, n, d)), rtol=0):
                wrong.append(m)
                break
    if wrong:
        return False, f"the formula is not right yet for {', '.join(wrong)} (tested at three (n, d) pairs)."
    return True, "all four formulas agree with the modules at three (n, d) pairs."


def _external(x: np.ndarray, Mk: np.ndarray, Mv: np.ndarray, double_norm: bool) -> np.ndarray:
    """Reference External Attention on one sequence."""
    scores = x @ Mk.T
    axis = 0 if double_norm else 1
    a = np.exp(scores - scores.max(axis, keepdims=True))
    a = a / a.sum(axis, keepdims=True)
    if double_norm:
        a = a / (a.sum(1, keepdims=True) + 1e-9)
    return a @ Mv


@register("ea-normalisers", hint="Per token: softmax of each row of X M_kᵀ over the slots. Paper: softmax of each "
                                 "column over the tokens, then divide each row by its sum.")
def ea_normalisers(answer: Any) -> tuple[bool, str]:
    """A function external(x, Mk, Mv, double_norm) against the reference, both normalisers."""
    if not callable(answer):
        return False, "pass a function external(x, Mk, Mv, double_norm)."
    rng = np.random.default_rng(2105)
    cases = [(rng.normal(size=(n, d)), rng.normal(size=(S, d)), rng.normal(size=(S, d)), double)
             for n, d, S in [(6, 4, 3), (10, 8, 5)] for double in (False, True)]
    result = grade(answer, cases, _external, rtol=1e-8, atol=1e-10, names=("x", "Mk", "Mv", "double_norm"))
    if result.passed:
        return True, "right for both normalisers on random inputs."
    bad = {case[3] for case in result.wrong} | {case[0][3] for case in result.raised}
    which = " and ".join(("the token-axis (double) normalisation" if b else "the per-token softmax") for b in sorted(bad))
    return False, f"not right yet for {which}."


def _phase(n: int) -> np.ndarray:
    """D with F_n roll(x, 1) = D ⊙ F_n x, read off the DFT of the shifted unit vector."""
    j = np.arange(n)
    F = np.exp(-2j * np.pi * np.outer(j, j) / n)
    return F @ np.roll(np.eye(n)[0], 1) / (F @ np.eye(n)[0])


@register("fnet-shift-phase", hint="Substitute j → j − 1 in the DFT sum of the shifted sequence and pull the factor "
                                   "that depends only on k out of the sum.")
def fnet_shift_phase(answer: Any) -> tuple[bool, str]:
    """A function phase_factor(n) with F_n roll(x, 1) = D ⊙ F_n x."""
    if not callable(answer):
        return False, "pass a function phase_factor(n) returning a vector of n complex numbers."
    ns = [5, 8, 13]
    wrong = []
    for n in ns:
        value, error = call(answer, n)
        try:
            ok = error is None and np.asarray(value).shape == (n,) and np.allclose(
                np.asarray(value, dtype=complex), _phase(n), atol=1e-10, rtol=0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            wrong.append(n)
    if wrong:
        return False, f"{len(wrong)} of {len(ns)} lengths differ; the first is n = {wrong[0]}."
    return True, "right for n = 5, 8 and 13."

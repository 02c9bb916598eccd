"""The chapter-05 checkers accept right answers and refuse wrong and do-nothing ones without revealing the key."""
from __future__ import annotations

import numpy as np
import pytest

from kexue.exercises import check

RIGHT = {"attention": False, "synthesizer": True, "mlp_mixer": False, "resmlp": True, "fnet": True, "gmlp": False,
         "external": False}


def two_terms(x):
    n, d = x.shape
    C = lambda m: np.cos(2 * np.pi * np.outer(np.arange(m), np.arange(m)) / m)
    S = lambda m: np.sin(2 * np.pi * np.outer(np.arange(m), np.arange(m)) / m)
    return C(n) @ x @ C(d).T - S(n) @ x @ S(d).T


FORMULAS = {"synthesizer": lambda n, d: n * n + 2 * (d * d + d), "mlp_mixer": lambda n, d: 4 * n * n + 3 * n,
            "gmlp": lambda n, d: n * n + n + 6 * d * d + 9 * d, "external": lambda n, d: 64 * d}


def external(x, Mk, Mv, double_norm):
    s = x @ Mk.T
    axis = 0 if double_norm else 1
    a = np.exp(s - s.max(axis, keepdims=True))
    a = a / a.sum(axis, keepdims=True)
    if double_norm:
        a = a / (a.sum(1, keepdims=True) + 1e-9)
    return a @ Mv


def per_token_only(x, Mk, Mv, double_norm):
    return external(x, Mk, Mv, False)


def test_right_answers_pass():
    assert check("affine-mixers", RIGHT).passed
    assert check("fnet-two-terms", two_terms).passed
    assert check("param-formulas", FORMULAS).passed
    assert check("ea-normalisers", external).passed
    assert check("fnet-shift-phase", lambda n: np.exp(-2j * np.pi * np.arange(n) / n)).passed


@pytest.mark.parametrize("exercise_id, answer", [
    ("affine-mixers", None), ("affine-mixers", {}), ("affine-mixers", {**RIGHT, "external": True}),
    ("affine-mixers", {m: True for m in RIGHT}), ("affine-mixers", {m: False for m in RIGHT}),
    ("affine-mixers", {m: "yes" for m in RIGHT}),
    ("fnet-two-terms", None), ("fnet-two-terms", lambda x: x), ("fnet-two-terms", lambda x: np.fft.fft2(x).imag),
    ("fnet-two-terms", lambda x: 0),
    ("param-formulas", None), ("param-formulas", {k: (lambda n, d: 0) for k in FORMULAS}),
    ("param-formulas", {**FORMULAS, "gmlp": lambda n, d: n * n + n}),
    ("ea-normalisers", None), ("ea-normalisers", lambda x, Mk, Mv, double_norm: x), ("ea-normalisers", per_token_only),
    ("fnet-shift-phase", None), ("fnet-shift-phase", lambda n: np.ones(n)),
    ("fnet-shift-phase", lambda n: np.exp(2j * np.pi * np.arange(n) / n)), ("fnet-shift-phase", lambda n: 0),
])
def test_wrong_and_do_nothing_answers_fail(exercise_id, answer):
    feedback = check(exercise_id, answer)
    assert not feedback.passed


def test_messages_do_not_reveal_the_key():
    feedback = check("affine-mixers", {**RIGHT, "fnet": False})
    assert "True" not in feedback.message and "False" not in feedback.message
    feedback = check("ea-normalisers", per_token_only)
    assert "token-axis" in feedback.message and "per-token" not in feedback.message

"""Tests for the exercise checkers of chapter 15 (kexue.exercises.aquarium)."""
from __future__ import annotations

import math

import pytest

from kexue import aquarium as aq
from kexue import exercises
from kexue.exercises import check

LPH = aq.LPH
AQUARIUM_IDS = ["aquarium-broken-tree", "aquarium-lazy-keeper", "aquarium-reverse-return", "aquarium-tan-limit",
                "aquarium-two-inlets", "aquarium-u-vs-flow"]


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("aquarium-")) == AQUARIUM_IDS



def passes(exercise_id, answer):
    return check(exercise_id, answer).passed


def test_two_inlets_checker():
    assert passes("aquarium-two-inlets", lambda x: 1 / (1 + x))
    for wrong in (None, 0, lambda x: x, lambda x: 1.0, lambda x: 1 / (1 + x) ** 2, lambda x: 1 - x / 2):
        assert not passes("aquarium-two-inlets", wrong)


def test_tan_limit_checker():
    assert passes("aquarium-tan-limit", 0.02 / aq.free_ammonia_fraction(28, 8.0))
    feedback = check("aquarium-tan-limit", 0.02 / aq.free_ammonia_fraction(25, 7.5))
    assert not feedback.passed and "25 °C" in feedback.message
    for wrong in (None, 0, 0.02, 0.02 * aq.free_ammonia_fraction(28, 8.0), 1.0):
        assert not passes("aquarium-tan-limit", wrong)


def test_broken_tree_checker():
    net = aq.htree_layout()
    k = next(i for i, e in enumerate(net.edges) if e.u == "O011")  # any last-level pipe: same U by symmetry
    e = net.edges[k]
    net.edges[k] = aq.Edge(e.u, e.v, L=e.L, D=0.015, K=e.K)
    u = aq.uniformity(aq.solve_layout(net).inlet_flows)[0]
    assert passes("aquarium-broken-tree", u)
    for wrong in (None, 0, 1.0, u - 0.01, 0.6131):
        assert not passes("aquarium-broken-tree", wrong)


def test_u_vs_flow_checker():
    def right(flow, open_ends=False):
        inlet = aq.inlet_resistance(open_end=0.017) if open_ends else aq.inlet_resistance()
        return aq.uniformity(aq.solve_layout(aq.comb_layout(inlet=inlet), q=flow * LPH).inlet_flows)[0]

    assert passes("aquarium-u-vs-flow", right)
    feedback = check("aquarium-u-vs-flow", lambda flow, open_ends=False: right(flow, False))
    assert not feedback.passed and "open pipe ends" in feedback.message
    for wrong in (None, 0, lambda f, o=False: 1.0, lambda f, o=False: f):
        assert not passes("aquarium-u-vs-flow", wrong)


def test_reverse_return_checker():
    def right(n, x):
        phi = math.acosh(1 + x)
        return (1.0 if n % 2 else math.cosh(phi / 2)) / math.cosh((n - 1) / 2 * phi)

    assert passes("aquarium-reverse-return", right)
    even_only = check("aquarium-reverse-return", lambda n, x: aq.ladder_uniformity(max(n // 2, 1), 2 * x))
    assert not even_only.passed and "odd" in even_only.message
    for wrong in (None, 0, lambda n, x: 1.0, lambda n, x: aq.ladder_uniformity(n, x)):
        assert not passes("aquarium-reverse-return", wrong)


def test_lazy_keeper_checker():
    assert passes("aquarium-lazy-keeper", 0.08099)
    for wrong in (None, 0, 0.075, 0.09, 0.05, 0.2, 1.0):
        assert not passes("aquarium-lazy-keeper", wrong)


def test_messages_do_not_reveal_the_answer():
    tan = aq.FREE_AMMONIA_GUIDE / aq.free_ammonia_fraction(28, 8.0)
    for wrong in (0.1, 1.0, 0.02):
        text = str(check("aquarium-tan-limit", wrong))
        assert f"{tan:.3f}" not in text and f"{tan:.2f}" not in text
    text = str(check("aquarium-broken-tree", 0.9))
    assert "0.98" not in text
    text = str(check("aquarium-two-inlets", lambda x: 1 - x))
    assert "1 / (1 + x)" not in text and "Not yet" in text

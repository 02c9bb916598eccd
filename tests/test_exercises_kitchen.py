"""Tests for the exercise checkers of chapter 14 (kexue.exercises.kitchen): reference answers pass, wrong and
do-nothing answers fail, and no message gives the answer away."""
from __future__ import annotations

import pytest

from kexue import exercises
from kexue import kitchen as k
from kexue.exercises import check

EXERCISES = ["kitchen-anise-bound", "kitchen-apriori", "kitchen-communities", "kitchen-dull-rule",
             "kitchen-ginger-lift", "kitchen-synonyms"]


@pytest.fixture(scope="module")
def savoury() -> list[frozenset[str]]:
    return k.load_howtocook(categories=k.SAVOURY)


def test_all_exercises_registered() -> None:
    assert sorted(i for i in exercises.registered() if i.startswith("kitchen-")) == EXERCISES


@pytest.mark.parametrize("exercise_id", EXERCISES)
@pytest.mark.parametrize("answer", [None, 0, {}, (), set(), lambda *args: {}, (set(), "")])
def test_do_nothing_answers_fail(exercise_id: str, answer: object) -> None:
    assert not check(exercise_id, answer).passed


def test_ginger_lift_check() -> None:
    lifts = {str(r): r.confidence * k.ARTICLE_N / 3671 for r in k.ARTICLE_RULES if r.table == "confidence ≥ 0.8"}
    assert check("kitchen-ginger-lift", lifts).passed
    assert not check("kitchen-ginger-lift", {key: value / k.ARTICLE_N for key, value in lifts.items()}).passed
    assert not check("kitchen-ginger-lift", dict(list(lifts.items())[:5])).passed


def test_anise_bound_check() -> None:
    assert check("kitchen-anise-bound", (576, 18209 / 756)).passed
    feedback = check("kitchen-anise-bound", (524, 18209 / 756))
    assert not feedback.passed and "576" not in str(feedback)
    assert "576" not in str(check("kitchen-anise-bound", (1, 0.0)))
    assert not check("kitchen-anise-bound", (577, 18209 / 756)).passed
    assert not check("kitchen-anise-bound", (576, 0.761905)).passed


def test_apriori_check() -> None:
    assert check("kitchen-apriori", k.apriori).passed
    no_pairs = lambda t, s: k.apriori(t, s, max_len=1)
    feedback = check("kitchen-apriori", no_pairs)
    assert not feedback.passed and "missing" in feedback.message
    strict = lambda t, s: {x: c for x, c in k.apriori(t, s).items() if c > s * len(t)}
    assert not check("kitchen-apriori", strict).passed


def test_dull_rule_check() -> None:
    assert check("kitchen-dull-rule", ({"胡椒粉"}, "盐")).passed
    assert not check("kitchen-dull-rule", ({"料酒", "葱"}, "姜")).passed  # informative
    assert not check("kitchen-dull-rule", ({"盐"}, "油")).passed  # not confident
    assert not check("kitchen-dull-rule", ({"咖啡"}, "盐")).passed  # not frequent


def test_synonyms_check(savoury: list[frozenset[str]]) -> None:
    def keys(recipes: list[frozenset[str]]) -> set[tuple[frozenset[str], str]]:
        data = k.article_protocol(recipes)
        return {(r.antecedent, next(iter(r.consequent)))
                for r in k.association_rules(k.apriori(data, 0.03), len(data), 0.8)}

    merged = keys(savoury)
    only = merged - keys(k.load_howtocook(categories=k.SAVOURY, synonyms={}))
    assert check("kitchen-synonyms", only).passed
    assert not check("kitchen-synonyms", merged).passed
    assert not check("kitchen-synonyms", set(sorted(only, key=str)[1:])).passed


def test_communities_check() -> None:
    graph = k.cooccurrence_graph(k.load_howtocook())
    parts, q = k.communities(graph, "greedy")
    assert check("kitchen-communities", (parts, q)).passed
    assert not check("kitchen-communities", (parts, q + 0.05)).passed
    butter_alone = [p - {"黄油"} for p in parts] + [{"黄油"}]
    assert not check("kitchen-communities", (butter_alone, q)).passed
    assert not check("kitchen-communities", ([set(graph)], 0.0)).passed

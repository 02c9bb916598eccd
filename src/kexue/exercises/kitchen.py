"""Checkers for the exercises of chapter 14 (recipes as market baskets)."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from kexue import kitchen as k
from kexue.exercises import grade, register

_FIRST_TABLE = "confidence ≥ 0.8"


@register("kitchen-ginger-lift", hint="lift = confidence / P(consequent); P(姜) = 3671 / 18209 in the article's data")
def _ginger_lift(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, Mapping):
        return False, "answer with a dict from str(rule) to its lift"
    expected = {str(r): r.confidence * k.ARTICLE_N / k.ARTICLE_TOP16["姜"] for r in k.ARTICLE_RULES
                if r.table == _FIRST_TABLE}
    missing = set(expected) - set(answer)
    if missing:
        return False, f"some rules of the first table are missing (keys must be str(rule), e.g. {next(iter(expected))!r})"
    wrong = [key for key in expected if not isinstance(answer[key], (int, float, np.floating))
             or not math.isclose(float(answer[key]), expected[key], rel_tol=1e-6)]
    if wrong:
        return False, f"some lifts are not right, e.g. that of {wrong[0]}"
    return True, "all 14 lifts are right; with one consequent, lift ranks the rules exactly as confidence does"


@lru_cache(maxsize=1)
def _anise_bound() -> tuple[int, float]:
    bound = 0
    for r in k.ARTICLE_RULES:
        joint, antecedent = k.recover_counts(r.support, r.confidence, k.ARTICLE_N)
        if r.consequent == "八角" or "八角" in r.antecedent:
            bound = max(bound, joint)
        if "八角" in r.antecedent:
            bound = max(bound, antecedent)
    joint, antecedent = k.recover_counts(0.031633, 0.761905, k.ARTICLE_N)
    return bound, joint * k.ARTICLE_N / (antecedent * bound)


@register("kitchen-anise-bound", hint="every itemset containing 八角, as a whole rule or as an antecedent, is in at "
                                      "most cnt(八角) recipes")
def _anise(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return False, "answer with a pair (count_bound, lift_bound)"
    count, lift = answer
    bound, lift_bound = _anise_bound()
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
        return False, "the count bound must be an integer"
    if count <= 0:
        return False, "a count bound of zero or less says nothing: use the recovered counts"
    if count > bound:
        return False, "that count is not implied by the published rules (it is too large)"
    if count < bound:
        return False, "a valid lower bound, but not the largest one the rules imply"
    if not isinstance(lift, (int, float, np.floating)) or not math.isclose(float(lift), lift_bound, rel_tol=1e-4):
        return False, "the count bound is right; the lift bound is not (use the recovered counts of 桂皮 ⇒ 八角)"
    return True, "both bounds are right"


def _test_sets() -> list[tuple[list[frozenset[str]], float]]:
    rng = np.random.default_rng(3587)
    x = rng.random((120, 14)) < 0.3
    random_sets = [frozenset(f"i{j:02d}" for j in np.flatnonzero(row)) for row in x]
    savoury = k.article_protocol(k.load_howtocook(categories=k.SAVOURY))
    small = [frozenset("abc"), frozenset("ab"), frozenset("bcd"), frozenset("a"), frozenset("cd")]
    return [(small, 0.4), (small, 0.2), (random_sets, 0.05), (savoury, 0.05)]


def _itemset_counts(value: Any) -> dict[frozenset[str], int]:
    """A returned mapping of itemsets to counts in comparable form."""
    if not isinstance(value, Mapping):
        raise TypeError("not a dict")
    return {frozenset(key): int(count) for key, count in value.items()}


@register("kitchen-apriori", hint="level k's candidates are unions of two frequent (k-1)-sets whose (k-1)-subsets "
                                  "are all frequent; keep a set when count / N >= min_support")
def _apriori(answer: Any) -> tuple[bool, str]:
    if not callable(answer):
        return False, "answer with your function my_apriori(transactions, min_support)"
    cases = _test_sets()
    result = grade(answer, cases, k.apriori, compare=lambda got, want: got == want, convert=_itemset_counts)
    if result.passed:
        return True, f"your Apriori agrees on all {len(cases)} test sets"
    number = 1 + min(cases.index(case) for case in [*result.wrong, *(c for c, _ in result.raised)])
    got, want = result.values[number - 1], k.apriori(*cases[number - 1])
    if got is None:
        return False, f"on test set {number} your function raised an exception or did not return a dict"
    problems = (["some frequent itemsets are missing"] if want.keys() - got.keys() else []) + (
        ["some returned itemsets are not frequent"] if got.keys() - want.keys() else [])
    diagnosis = " and ".join(problems) or "some counts are wrong"
    return False, f"on test set {number} (min_support {cases[number - 1][1]}) {diagnosis}"


@lru_cache(maxsize=1)
def _salt_kept() -> tuple[list[frozenset[str]], dict[frozenset[str], int]]:
    data = k.article_protocol(k.load_howtocook(categories=k.SAVOURY), drop=())
    return data, k.apriori(data, 0.03)


@register("kitchen-dull-rule", hint="keep salt: which ingredient is in most recipes, so that a rule ending in it "
                                    "is confident whatever its antecedent?")
def _dull(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return False, "answer with (antecedent_items, consequent), e.g. ({'料酒', '葱'}, '姜')"
    antecedent, consequent = answer
    if isinstance(antecedent, str) or not isinstance(antecedent, Iterable) or not isinstance(consequent, str):
        return False, "the antecedent must be a set of names and the consequent one name"
    a = frozenset(antecedent)
    if not a or consequent in a:
        return False, "the antecedent must be non-empty and must not contain the consequent"
    data, itemsets = _salt_kept()
    whole = a | {consequent}
    if whole not in itemsets:
        return False, "that combination has support below 0.03 on the salt-kept savoury recipes"
    confidence = itemsets[whole] / itemsets[a]
    lift = confidence * len(data) / itemsets[frozenset([consequent])]
    if confidence < 0.8:
        return False, "that rule's confidence is below 0.8"
    if lift >= 1.5:
        return False, "that rule is confident, but its lift is 1.5 or more: it does tell us something"
    return True, "confident yet nearly uninformative: its consequent is common anyway"


@lru_cache(maxsize=1)
def _synonym_rules() -> frozenset[tuple[frozenset[str], str]]:
    def keys(recipes: list[frozenset[str]]) -> set[tuple[frozenset[str], str]]:
        data = k.article_protocol(recipes)
        return {(r.antecedent, next(iter(r.consequent)))
                for r in k.association_rules(k.apriori(data, 0.03), len(data), 0.8)}

    merged = keys(k.load_howtocook(categories=k.SAVOURY))
    plain = keys(k.load_howtocook(categories=k.SAVOURY, synonyms={}))
    return frozenset(merged - plain)


def _rule_key(item: Any) -> tuple[frozenset[str], str]:
    if isinstance(item, k.Rule):
        if len(item.consequent) != 1:
            raise ValueError("rules must have one consequent")
        return item.antecedent, next(iter(item.consequent))
    antecedent, consequent = item
    if isinstance(antecedent, str) or not isinstance(consequent, str):
        raise TypeError("each rule must be (antecedent_items, consequent) with a set of names and one name")
    return frozenset(antecedent), consequent


@register("kitchen-synonyms", hint="mine both versions with the same protocol and take the set difference of "
                                   "(antecedent, consequent) pairs")
def _synonyms(answer: Any) -> tuple[bool, str]:
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
        return False, "answer with a set of rules, each (antecedent_items, consequent) or a Rule"
    got = {_rule_key(item) for item in answer}
    want = _synonym_rules()
    if not got:
        return False, "the set is empty, but merging synonyms does create new rules"
    if got - want:
        return False, "some of your rules are not among those that appear only with the synonym map"
    if want - got:
        return False, "every rule you list is right, but some are missing"
    return True, "exactly the rules that merging spellings creates"


@lru_cache(maxsize=1)
def _all_categories_q() -> float:
    return k.communities(k.cooccurrence_graph(k.load_howtocook()), "greedy")[1]


@register("kitchen-communities", hint="build the graph from k.load_howtocook() (all categories) with the chapter's "
                                      "settings, then k.communities(graph, 'greedy')")
def _communities(answer: Any) -> tuple[bool, str]:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return False, "answer with (communities, modularity)"
    parts, q = answer
    if isinstance(parts, (str, bytes)) or not isinstance(parts, Iterable):
        return False, "communities must be a list of sets of ingredient names"
    parts = [set(p) for p in parts]
    if len(parts) < 2:
        return False, "one community is the whole graph: no structure found yet"
    if isinstance(q, bool) or not isinstance(q, (int, float, np.floating)) or not math.isfinite(float(q)):
        return False, "the modularity must be a number"
    if abs(float(q) - _all_categories_q()) > 0.02:
        return False, "the modularity is not what greedy modularity gives on the all-categories graph"
    butter = next((p for p in parts if "黄油" in p), None)
    if butter is None or not {"牛奶", "面粉"} <= butter:
        return False, "the modularity is plausible, but butter's community is not the one greedy modularity finds"
    return True, "right; now explain with your plot why the dessert ingredients do not stand alone"

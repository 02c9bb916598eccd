"""Recipes as baskets: name cleaning, Apriori (cross-checked with mlxtend), rules, count recovery, PMI, PPMI-SVD
embeddings and the co-occurrence graph, on a ten-recipe fixture and on the shipped HowToCook corpus."""
from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from kexue import kitchen as k

FIXTURE = """\
五花肉 料酒 姜 葱 生抽 老抽 冰糖 八角
排骨 料酒 姜 葱 生抽 老抽 冰糖 八角 桂皮
鸡肉 姜 葱 料酒 盐 玉米
牛肉 姜 葱 料酒 生抽 八角 桂皮 香叶
番茄 鸡蛋 盐 白糖 葱
土豆 青椒 蒜 盐 醋
鸡蛋 韭菜 盐
玉米 排骨 姜 盐
茄子 蒜 生抽 白糖 盐
鱼 姜 葱 料酒 盐
"""
RECIPES = [frozenset(line.split()) for line in FIXTURE.splitlines()]


@pytest.fixture(scope="module")
def savoury() -> list[frozenset[str]]:
    return k.load_howtocook(categories=k.SAVOURY)


def brute_force(transactions: list[frozenset[str]], min_support: float) -> dict[frozenset[str], int]:
    """Every itemset of every transaction, counted, kept when frequent: the definition, without pruning."""
    counts: dict[frozenset[str], int] = {}
    for t in transactions:
        for size in range(1, len(t) + 1):
            for items in combinations(sorted(t), size):
                counts[frozenset(items)] = counts.get(frozenset(items), 0) + 1
    return {s: c for s, c in counts.items() if c / len(transactions) >= min_support}


# --- cleaning and loading ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, clean", [
    ("青蟹（别称：肉蟹）", "青蟹"), ("大蒜", "蒜"), ("盐：2-3g", "盐"), ("1 汤匙 =", ""), ("盐量 = 份数", ""),
    ("香油", "芝麻油"), ("小米辣(可选）", "小米椒"), ("（可选）：鸡蛋，青菜", ""), ("原料", ""),
    ("![成品](./a.jpg)姜", "姜"), ("`白砂糖`", "白糖"), ("黄油（推荐安佳", ""),
])
def test_normalize_ingredient(raw: str, clean: str) -> None:
    assert k.normalize_ingredient(raw) == clean


def test_normalize_without_synonyms_keeps_the_name() -> None:
    assert k.normalize_ingredient("大蒜", {}) == "大蒜"
    assert k.normalize_ingredient("大蒜", {"大蒜": "garlic"}) == "garlic"


def test_load_howtocook_json(tmp_path: Path) -> None:
    recipes = [
        {"id": "a", "category": "荤菜", "ingredients": [{"name": "大蒜"}, {"name": "蒜瓣"}, {"name": "盐：2g"}]},
        {"id": "b", "category": "甜品", "ingredients": [{"name": "黄油"}, {"name": "白砂糖"}]},
        {"id": "c", "category": "荤菜", "ingredients": [{"name": "1 汤匙 ="}]},
    ]
    path = tmp_path / "all_recipes.json"
    path.write_text(json.dumps(recipes, ensure_ascii=False), encoding="utf-8")
    assert k.load_howtocook(path) == [frozenset({"蒜", "盐"}), frozenset({"黄油", "白糖"})]
    assert k.load_howtocook(path, categories=["荤菜"]) == [frozenset({"蒜", "盐"})]
    assert k.load_howtocook(path, synonyms={}) == [frozenset({"大蒜", "蒜瓣", "盐"}), frozenset({"黄油", "白砂糖"})]


def test_shipped_corpus_sizes(savoury: list[frozenset[str]]) -> None:
    everything = k.load_howtocook()
    assert (len(savoury), len(k.item_counts(savoury))) == (263, 709)
    assert (len(everything), len(k.item_counts(everything))) == (318, 871)
    assert len(k.read_recipes(k.corpus_path())) == 322


def test_shipped_corpus_top_ten(savoury: list[frozenset[str]]) -> None:
    assert k.item_counts(savoury).most_common(10) == [
        ("盐", 157), ("油", 126), ("葱", 101), ("蒜", 100), ("生抽", 98), ("姜", 84), ("料酒", 65), ("白糖", 62),
        ("鸡蛋", 60), ("水", 58)]


def test_shipped_corpus_hash() -> None:
    import hashlib

    digest = hashlib.sha256(k.corpus_path().read_bytes()).hexdigest()
    readme = (Path(__file__).parents[1] / "data" / "README.md").read_text(encoding="utf-8")
    assert digest in readme, "data/README.md must give the TSV's current SHA-256"


# --- Apriori and rules ------------------------------------------------------------------------------------------

def test_fixture_counts() -> None:
    counts = k.item_counts(RECIPES)
    assert [counts[i] for i in ["盐", "姜", "葱", "料酒", "生抽", "八角"]] == [7, 6, 6, 5, 4, 3]


def test_fixture_apriori() -> None:
    frequent = k.apriori(RECIPES, 0.3)
    assert len(frequent) == 34
    assert {next(iter(s)) for s in frequent if len(s) == 1} == {"盐", "姜", "葱", "料酒", "生抽", "八角"}
    assert frequent[frozenset({"姜", "葱", "料酒"})] / 10 == 0.5
    largest = max(frequent, key=len)
    assert largest == frozenset({"八角", "姜", "料酒", "生抽", "葱"}) and frequent[largest] == 3
    assert frequent == brute_force(RECIPES, 0.3)


def test_fixture_rules() -> None:
    rules = {str(r): r for r in k.association_rules(k.apriori(RECIPES, 0.3), 10, 0.0)}
    assert rules["料酒 ⇒ 姜"].confidence == 1.0 and math.isclose(rules["料酒 ⇒ 姜"].lift, 10 / 6)
    assert math.isclose(rules["姜 ⇒ 葱"].confidence, 5 / 6) and math.isclose(rules["姜 ⇒ 葱"].lift, 1.388888888888889)
    assert rules["八角 ⇒ 生抽"].confidence == 1.0 and math.isclose(rules["八角 ⇒ 生抽"].lift, 2.5)
    assert rules["八角 ⇒ 生抽"].count == 3 and math.isclose(rules["八角 ⇒ 生抽"].support, 0.3)


def test_rules_with_larger_consequents() -> None:
    frequent = k.apriori(RECIPES, 0.3)
    single = k.association_rules(frequent, 10, 0.5)
    every = k.association_rules(frequent, 10, 0.5, single_consequent=False)
    assert set(map(str, single)) < set(map(str, every))
    assert all(r.confidence >= 0.5 for r in every)


def random_baskets(seed: int = 0, n: int = 200, m: int = 30, p: float = 0.2) -> list[frozenset[str]]:
    """A seeded random n×m Bernoulli(p) basket matrix as transactions."""
    x = np.random.default_rng(seed).random((n, m)) < p
    return [frozenset(f"i{j:02d}" for j in np.flatnonzero(row)) for row in x]


@pytest.mark.parametrize("transactions, min_support", [(RECIPES, 0.3), (RECIPES, 0.1), (random_baskets(), 0.02)])
def test_apriori_equals_mlxtend(transactions: list[frozenset[str]], min_support: float) -> None:
    pd = pytest.importorskip("pandas")
    mlx = pytest.importorskip("mlxtend.frequent_patterns")
    items = sorted(set().union(*transactions))
    frame = pd.DataFrame([[i in t for i in items] for t in transactions], columns=items)
    theirs = mlx.apriori(frame, min_support=min_support, use_colnames=True)
    ours = k.apriori(transactions, min_support)
    n = len(transactions)
    assert {frozenset(s): round(v * n) for s, v in zip(theirs["itemsets"], theirs["support"])} == ours
    rules = mlx.association_rules(theirs, metric="confidence", min_threshold=0.6)
    rules = rules[rules["consequents"].map(len) == 1]
    expected = {(frozenset(a), frozenset(c)): (s, cf, lf) for a, c, s, cf, lf in
                zip(rules["antecedents"], rules["consequents"], rules["support"], rules["confidence"], rules["lift"])}
    mine = {(r.antecedent, r.consequent): (r.support, r.confidence, r.lift) for r in k.association_rules(ours, n, 0.6)}
    assert expected.keys() == mine.keys()
    assert max(abs(a - b) for key in mine for a, b in zip(mine[key], expected[key])) < 1e-12


def test_howtocook_apriori_protocol(savoury: list[frozenset[str]]) -> None:
    baskets = k.article_protocol(savoury)
    assert len(baskets) == 263 and not any("盐" in t for t in baskets)
    frequent = k.apriori(baskets, 0.03)
    assert len(frequent) == 599
    rules = k.association_rules(frequent, len(baskets), 0.8)
    heads = [next(iter(r.consequent)) for r in rules]
    assert max(set(heads), key=heads.count) == "姜"
    assert sorted(set(heads), key=heads.count)[-2] == "八角"
    table = {str(r): r for r in k.association_rules(frequent, len(baskets), 0.5)}
    r = table["料酒+葱 ⇒ 姜"]
    assert (r.count, round(r.support, 6), round(r.confidence, 6), round(r.lift, 3)) == (37, 0.140684, 0.902439, 2.825)
    r = table["桂皮 ⇒ 八角"]
    assert (r.count, r.confidence, round(r.lift, 2)) == (14, 1.0, 10.52)
    r = table["香叶 ⇒ 八角"]
    assert (r.count, round(r.confidence, 6), round(r.lift, 3)) == (19, 0.863636, 9.085)


def test_mine_is_the_protocol(savoury: list[frozenset[str]]) -> None:
    rules = k.mine(savoury, 0.03, 0.8)
    baskets = k.article_protocol(savoury)
    assert rules == k.association_rules(k.apriori(baskets, 0.03), len(baskets), 0.8)
    ginger = k.mine(savoury, 0.03, 0.8, consequent="姜")
    assert ginger and all(r.consequent == {"姜"} for r in ginger)
    with pytest.raises(TypeError, match="consequent"):
        k.mine(savoury, 0.03, 0.8, consequent=1)


def test_salt_makes_rules_uninteresting(savoury: list[frozenset[str]]) -> None:
    kept = k.article_protocol(savoury, drop=())
    rules = k.association_rules(k.apriori(kept, 0.03), len(kept), 0.8)
    dull = [r for r in rules if r.lift < 1.5]
    assert len(dull) == 111 and {next(iter(r.consequent)) for r in dull} == {"盐"}
    pepper = next(r for r in dull if str(r) == "胡椒粉 ⇒ 盐")
    assert (round(pepper.confidence, 4), round(pepper.lift, 4)) == (0.8333, 1.3960)
    dropped = k.article_protocol(savoury)
    assert not [r for r in k.association_rules(k.apriori(dropped, 0.03), 263, 0.8) if r.lift < 1.5]


def test_low_support_blows_up(savoury: list[frozenset[str]]) -> None:
    frequent = k.apriori(k.article_protocol(savoury), 0.01)
    sizes = [len(s) for s in frequent]
    assert (len(frequent), sizes.count(5), sizes.count(6), max(sizes)) == (4879, 1004, 387, 9)


# --- the article's numbers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("support, confidence, counts", [
    (0.019935, 0.912060, (363, 398)), (0.050799, 0.805749, (925, 1148)), (0.031633, 0.761905, (576, 756)),
    (0.028777, 0.738028, (524, 710)),
])
def test_recover_counts(support: float, confidence: float, counts: tuple[int, int]) -> None:
    assert k.recover_counts(support, confidence, 18209) == counts


def test_all_published_rules_recover() -> None:
    assert len(k.ARTICLE_RULES) == 48
    recovered = {str(r): k.recover_counts(r.support, r.confidence, k.ARTICLE_N) for r in k.ARTICLE_RULES}
    for r in k.ARTICLE_RULES:  # brute rounding: the recovered integers give back the printed digits
        joint, antecedent = recovered[str(r)]
        assert (round(joint / k.ARTICLE_N, 6), round(joint / antecedent, 6)) == (r.support, r.confidence)
    # one itemset, two rules: the same count from both
    assert recovered["糖+葱+蒜 ⇒ 姜"][0] == recovered["姜+糖+蒜 ⇒ 葱"][0] == 204
    assert recovered["糖+蒜 ⇒ 姜"][0] == recovered["姜+糖+蒜 ⇒ 葱"][1] == 283


def test_recover_counts_refuses_impossible_numbers() -> None:
    with pytest.raises(ValueError, match="no integer pair"):
        k.recover_counts(0.000001, 0.3, 18209)
    with pytest.raises(ValueError, match="decimals"):
        k.recover_counts(0.019935, 0.9121, 18209, decimals=4)
    with pytest.raises(ValueError, match="no integer pair"):
        k.recover_counts(0.5, 0.999999, 10)


def test_ginger_lift_and_salt_base_rate() -> None:
    top = k.ARTICLE_TOP16
    assert round(k.ARTICLE_N / top["姜"], 6) == 4.960229
    assert round(0.912060 * k.ARTICLE_N / top["姜"], 3) == 4.524
    assert round(top["盐"] / k.ARTICLE_N, 4) == 0.6151


# --- PMI, embeddings, graph -------------------------------------------------------------------------------------

def test_fixture_pmi() -> None:
    assert math.isclose(k.pmi(RECIPES, "八角", "桂皮"), math.log(10 / 3))
    assert math.isclose(k.pmi(RECIPES, "盐", "姜"), math.log(30 / 42))
    assert math.isclose(k.pmi(RECIPES, "桂皮", "八角"), k.pmi(RECIPES, "八角", "桂皮"))
    lift = next(r.lift for r in k.association_rules(k.apriori(RECIPES, 0.1), 10, 0.0) if str(r) == "料酒 ⇒ 葱")
    assert math.isclose(k.pmi(RECIPES, "料酒", "葱"), math.log(lift))


def test_ppmi_matrix_properties() -> None:
    vocab = k.vocabulary(RECIPES, 2)
    m = k.ppmi_matrix(RECIPES, vocab)
    assert np.allclose(m, m.T) and np.all(m >= 0) and np.all(np.diag(m) == 0)
    i, j = vocab.index("八角"), vocab.index("生抽")
    assert math.isclose(m[i, j], math.log(2.5))


def test_howtocook_pmi_ranking(savoury: list[frozenset[str]]) -> None:
    assert math.isclose(k.pmi(savoury, "八角", "桂皮"), math.log(263 / 25))
    assert round(k.pmi(savoury, "八角", "桂皮"), 4) == 2.3533
    top = k.top_pmi_pairs(savoury, min_cooccurrence=5, topn=4)
    assert [set(p[:2]) for p in top] == [{"八角", "桂皮"}, {"香叶", "桂皮"}, {"香叶", "冰糖"}, {"八角", "香叶"}]


def test_howtocook_embeddings(savoury: list[frozenset[str]]) -> None:
    vocab, e = k.ppmi_svd_embeddings(savoury, min_count=5, dim=20)
    assert len(vocab) == 59 and "盐" in vocab and e.shape == (59, 20)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0)
    assert [w for w, _ in k.most_similar(vocab, e, "八角", 5)] == ["香叶", "冰糖", "花椒", "桂皮", "姜"]
    assert k.most_similar(vocab, e, "鸡蛋", 1)[0][0] == "玉米粒"


def test_howtocook_graph(savoury: list[frozenset[str]]) -> None:
    graph = k.cooccurrence_graph(savoury, min_count=3, min_pmi=0.0)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (59, 439)
    for seed in range(3):
        parts, q = k.communities(graph, "louvain", seed=seed)
        assert 0.31 < q < 0.335
        braising = next(p for p in parts if "八角" in p)
        assert {"桂皮", "香叶", "冰糖"} <= braising


def test_all_categories_graph() -> None:
    graph = k.cooccurrence_graph(k.load_howtocook())
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (63, 479)
    parts, q = k.communities(graph, "greedy")
    assert round(q, 3) == 0.301
    dairy = next(p for p in parts if "黄油" in p)
    assert {"牛奶", "面粉", "淡奶油"} <= dairy
    assert {"冰块", "柠檬"} in parts


# --- bad input --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, name", [
    (lambda: k.normalize_ingredient(3), TypeError, "name"),
    (lambda: k.normalize_ingredient("盐", ["a"]), TypeError, "synonyms"),
    (lambda: k.load_howtocook("/no/such/file.tsv"), ValueError, "path"),
    (lambda: k.load_howtocook(categories="荤菜"), TypeError, "categories"),
    (lambda: k.item_counts("盐 姜"), TypeError, "transactions"),
    (lambda: k.item_counts([]), ValueError, "transactions"),
    (lambda: k.apriori(RECIPES, 0), ValueError, "min_support"),
    (lambda: k.apriori(RECIPES, 1.5), ValueError, "min_support"),
    (lambda: k.apriori(RECIPES, "0.3"), TypeError, "min_support"),
    (lambda: k.apriori(RECIPES, 0.3, max_len=0), ValueError, "max_len"),
    (lambda: k.association_rules([], 10, 0.5), TypeError, "itemsets"),
    (lambda: k.association_rules({}, 0, 0.5), ValueError, "n"),
    (lambda: k.association_rules({}, 10, 1.5), ValueError, "min_confidence"),
    (lambda: k.association_rules({frozenset("ab"): 2}, 10, 0.5), ValueError, "itemsets"),
    (lambda: k.recover_counts(-0.1, 0.5, 100), ValueError, "support"),
    (lambda: k.recover_counts(0.1, 1.5, 100), ValueError, "confidence"),
    (lambda: k.recover_counts(0.1, 0.5, 0), ValueError, "n"),
    (lambda: k.recover_counts(0.1, 0.5, 100, decimals=-1), ValueError, "decimals"),
    (lambda: k.pmi(RECIPES, "八角", "八角"), ValueError, "a and b"),
    (lambda: k.pmi(RECIPES, "八角", "咖啡"), ValueError, "b="),
    (lambda: k.pmi(RECIPES, "八角", "鸡蛋"), ValueError, "never occur together"),
    (lambda: k.pmi(RECIPES, 1, "鸡蛋"), TypeError, "a must"),
    (lambda: k.ppmi_matrix(RECIPES, ["盐", "盐"]), ValueError, "vocab"),
    (lambda: k.ppmi_matrix(RECIPES, ["盐", "咖啡"]), ValueError, "vocab"),
    (lambda: k.ppmi_svd_embeddings(RECIPES, min_count=0), ValueError, "min_count"),
    (lambda: k.ppmi_svd_embeddings(RECIPES, min_count=3, dim=99), ValueError, "dim"),
    (lambda: k.most_similar(["a"], np.ones((2, 2)), "a"), ValueError, "embeddings"),
    (lambda: k.most_similar(["a", "b"], np.eye(2), "c"), ValueError, "word"),
    (lambda: k.most_similar(["a", "b"], np.eye(2), "a", topn=0), ValueError, "topn"),
    (lambda: k.cooccurrence_graph(RECIPES, min_count=0), ValueError, "min_count"),
    (lambda: k.cooccurrence_graph(RECIPES, min_pmi=float("nan")), ValueError, "min_pmi"),
    (lambda: k.communities("graph"), TypeError, "graph"),
    (lambda: k.communities(k.cooccurrence_graph(RECIPES, min_item_count=2), "spectral"), ValueError, "method"),
    (lambda: k.article_protocol(RECIPES, drop="盐"), TypeError, "drop"),
    (lambda: k.top_pmi_pairs(RECIPES, min_cooccurrence=0), ValueError, "min_cooccurrence"),
])
def test_bad_input_is_refused(call, error: type[Exception], name: str) -> None:
    with pytest.raises(error, match=name):
        call()


def test_apriori_refuses_an_explosion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(k, "MAX_ITEMSETS", 20)
    with pytest.raises(ValueError, match="min_support"):
        k.apriori(RECIPES, 0.1)


# --- figures ----------------------------------------------------------------------------------------------------

def test_chinese_labels_render_without_missing_glyphs(savoury: list[frozenset[str]]) -> None:
    import io
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kexue.plotting import cjk_font, use_style

    if cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    use_style()
    graph = k.cooccurrence_graph(savoury)
    vocab, e = k.ppmi_svd_embeddings(savoury)
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(12, 4))
    k.draw_communities(graph, k.communities(graph)[0], ax=ax1)
    k.plot_embedding(vocab, e, ax=ax2, highlight=["八角"])
    k.draw_rule_graph(k.rule_graph(k.mine(savoury, 0.05, 0.8)), ax=ax3)
    ax3.set_title("配料 ingredients")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would be raised here
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def test_rule_graph() -> None:
    rules = k.association_rules(k.apriori(RECIPES, 0.3), 10, 0.9)
    graph = k.rule_graph(rules)
    heads = {next(iter(r.consequent)) for r in rules}
    assert {b for _, b in graph.edges} == heads
    assert sum(graph.edges[e]["weight"] for e in graph.edges) == sum(len(r.antecedent) for r in rules)
    with pytest.raises(TypeError, match="rules"):
        k.rule_graph(["料酒 ⇒ 姜"])


def test_explore_rules_draws_what_it_mines() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, table = k.explore_rules(RECIPES, 0.3, 0.9, drop_salt=False, top=5)
    found = k.mine(RECIPES, 0.3, 0.9, drop=())
    assert f"{len(found)} rules" in fig.axes[0].get_title() and "salt kept" in fig.axes[0].get_title()
    assert list(table["rule"]) == list(k.rules_table(found).head(10)["rule"])
    plt.close(fig)
    fig, table = k.explore_rules(RECIPES, 0.3, 0.9, consequent="姜")
    assert all(rule.endswith("姜") for rule in table["rule"])
    plt.close(fig)
    with pytest.raises(TypeError, match="drop_salt"):
        k.explore_rules(RECIPES, 0.3, 0.9, drop_salt="yes")
    with pytest.raises(TypeError, match="consequent"):
        k.explore_rules(RECIPES, 0.3, 0.9, consequent=None)
    with pytest.raises(ValueError, match="top"):
        k.explore_rules(RECIPES, 0.3, 0.9, top=0)


def test_rules_table() -> None:
    frame = k.rules_table(k.association_rules(k.apriori(RECIPES, 0.3), 10, 0.9))
    assert list(frame.columns) == ["rule", "count", "support", "confidence", "lift"]
    assert (frame["confidence"] >= 0.9).all() and "料酒 ⇒ 姜" in set(frame["rule"])


def test_shipped_corpus_ranks(savoury: list[frozenset[str]]) -> None:
    counts = k.item_counts(savoury)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    assert (ranked.index("土豆") + 1, ranked.index("五花肉") + 1) == (26, 28)
    assert len([w for w in ranked if counts[w] == 1]) == sum(c == 1 for c in counts.values())

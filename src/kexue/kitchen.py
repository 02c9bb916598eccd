"""Recipes as market baskets: cleaning ingredient names, Apriori and association rules, recovering counts from
rounded published numbers, pointwise mutual information, PPMI-SVD embeddings and an ingredient co-occurrence graph."""
from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kexue import validate

Transactions = Sequence[frozenset[str]]

# Different spellings of one ingredient in HowToCook, mapped to one name. 糖 and 白糖 stay apart on purpose:
# the article kept them apart too, and the split shows how naming inflates an ingredient list.
SYNONYMS: dict[str, str] = {
    **dict.fromkeys(["食用盐", "食盐", "精盐", "细盐"], "盐"),
    **dict.fromkeys(["食用油", "植物油", "花生油", "玉米油", "菜籽油", "色拉油"], "油"),
    **dict.fromkeys(["大蒜", "蒜瓣", "蒜头", "蒜末", "蒜蓉", "大蒜瓣"], "蒜"),
    **dict.fromkeys(["生姜", "老姜", "姜片", "姜丝", "姜末"], "姜"),
    **dict.fromkeys(["白砂糖", "砂糖"], "白糖"),
    **dict.fromkeys(["大葱", "小葱", "香葱", "葱花", "葱段", "小香葱", "葱白"], "葱"),
    "小米辣": "小米椒",
    **dict.fromkeys(["生粉", "玉米淀粉", "水淀粉"], "淀粉"),
    **dict.fromkeys(["香醋", "陈醋", "米醋", "白醋"], "醋"),
    "西红柿": "番茄",
    "味精": "鸡精",
    **dict.fromkeys(["开水", "饮用水", "清水", "温水", "凉水", "冷水"], "水"),
    "干辣椒段": "干辣椒",
    **dict.fromkeys(["白胡椒粉", "黑胡椒粉"], "胡椒粉"),
    "香油": "芝麻油",
}
# HowToCook's categories of savoury dishes (drinks, desserts, condiments and semi-finished foods left out).
SAVOURY: tuple[str, ...] = ("荤菜", "素菜", "水产", "汤", "主食", "早餐")

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")  # a complete pair; an unclosed bracket stays
_SEPARATORS = re.compile(r"[\s,，、/或：:=]+")
_NOT_INGREDIENT = ("量", "份数", "注", "可以", "一般", "容器")  # quantities, notes and cookware in the JSON
_HEADINGS = frozenset({"原料", "工具", "平底锅"})
MAX_ITEMSETS = 200_000  # Apriori refuses to go on beyond this many frequent itemsets (memory and readability)


def normalize_ingredient(name: str, synonyms: Mapping[str, str] | None = None) -> str:
    """One cleaned ingredient name from a HowToCook ingredient string, or "" when it is not an ingredient."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if synonyms is None:
        synonyms = SYNONYMS
    elif not isinstance(synonyms, Mapping):
        raise TypeError(f"synonyms must be a mapping of name to name, got {type(synonyms).__name__}")
    text = _BRACKETS.sub("", _IMAGE.sub("", name)).replace("`", "")
    # the first piece only: a name that starts with a separator (a note such as "（可选）：鸡蛋") is dropped
    word = _SEPARATORS.split(text.strip())[0].strip("-*·")
    word = synonyms.get(word, word)
    if (not word or word[0].isdigit() or len(word) > 6 or word in _HEADINGS
            or any(bad in word for bad in _NOT_INGREDIENT)):
        return ""
    return word


def _check_categories(categories: Iterable[str] | None) -> frozenset[str] | None:
    if categories is None:
        return None
    if isinstance(categories, str) or not isinstance(categories, Iterable) \
            or not all(isinstance(c, str) for c in categories):
        raise TypeError("categories must be a collection of category names (strings), or None")
    return frozenset(categories)


def corpus_path() -> Path:
    """The HowToCook TSV shipped with ``kexue`` (derived from howtocook-mcp 0.2.2; see data/README.md)."""
    return Path(str(resources.files("kexue") / "corpora" / "howtocook_recipes.tsv"))


def read_recipes(path: str | Path) -> list[tuple[str, str, list[str]]]:
    """(id, category, cleaned ingredient names) of each recipe in ``all_recipes.json`` or the derived TSV."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a file")
    if path.suffix == ".json":
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, list):
            raise ValueError(f"path {str(path)!r} must hold a JSON list of recipes")
        recipes = []
        for r in raw:
            names = [normalize_ingredient(i["name"], {}) for i in r["ingredients"]]
            recipes.append((r["id"], r["category"], list(dict.fromkeys(n for n in names if n))))
        return recipes
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or set(rows[0]) != {"id", "category", "ingredients"}:
        raise ValueError(f"path {str(path)!r} must be a TSV with the columns id, category, ingredients")
    return [(r["id"], r["category"], r["ingredients"].split()) for r in rows]


def load_howtocook(path: str | Path | None = None, categories: Iterable[str] | None = None,
                   synonyms: Mapping[str, str] | None = None) -> list[frozenset[str]]:
    """HowToCook recipes as ingredient sets (empty recipes dropped); by default the TSV shipped with ``kexue``."""
    wanted = _check_categories(categories)
    if synonyms is not None and not isinstance(synonyms, Mapping):
        raise TypeError(f"synonyms must be a mapping of name to name, got {type(synonyms).__name__}")
    mapping = SYNONYMS if synonyms is None else synonyms
    recipes = read_recipes(corpus_path() if path is None else path)
    baskets = []
    for _, category, names in recipes:
        if wanted is None or category in wanted:
            basket = frozenset(mapping.get(n, n) for n in names)
            if basket:
                baskets.append(basket)
    return baskets


def _transactions(transactions: object, name: str = "transactions") -> list[frozenset[str]]:
    """The transactions as a list of frozensets of strings, or an error naming the argument."""
    if isinstance(transactions, (str, bytes)) or not isinstance(transactions, Iterable):
        raise TypeError(f"{name} must be a sequence of ingredient sets, got {type(transactions).__name__}")
    baskets = []
    for t in transactions:
        if isinstance(t, (str, bytes)) or not isinstance(t, Iterable):
            raise TypeError(f"{name} must hold sets of ingredient names, got an item of type {type(t).__name__}")
        basket = frozenset(t)
        if not all(isinstance(i, str) for i in basket):
            raise TypeError(f"{name} must hold sets of strings")
        baskets.append(basket)
    if not baskets:
        raise ValueError(f"{name} must not be empty")
    return baskets


def item_counts(transactions: Transactions) -> Counter[str]:
    """In how many transactions each item occurs."""
    return Counter(i for t in _transactions(transactions) for i in t)


def article_protocol(transactions: Transactions, drop: Iterable[str] = ("盐",), min_count: int = 2
                     ) -> list[frozenset[str]]:
    """The article's cleaning before Apriori: delete ``drop`` (salt) and items in fewer than ``min_count`` recipes.

    The number of transactions stays the same (a recipe may become empty), as supports are divided by it.
    """
    baskets = _transactions(transactions)
    min_count = validate.integer(min_count, "min_count", minimum=1)
    if isinstance(drop, str):
        raise TypeError("drop must be a collection of item names, not a single string")
    counts = Counter(i for t in baskets for i in t)
    keep = {i for i, c in counts.items() if c >= min_count} - set(drop)
    return [t & keep for t in baskets]


def apriori(transactions: Transactions, min_support: float, max_len: int | None = None
            ) -> dict[frozenset[str], int]:
    """Counts of all itemsets with support count/N >= ``min_support``, found level by level (Agrawal & Srikant)."""
    baskets = _transactions(transactions)
    min_support = validate.real(min_support, "min_support", positive=True)
    if min_support > 1:
        raise ValueError(f"min_support must be at most 1, got {min_support}")
    if max_len is not None:
        max_len = validate.integer(max_len, "max_len", minimum=1)
    n = len(baskets)
    threshold = math.ceil(min_support * n - 1e-9)  # count/N >= s, with a guard against float noise
    # each itemset's transactions as the bits of one integer: the count of a union is the popcount of an AND
    masks: dict[str, int] = {}
    for row, t in enumerate(baskets):
        for i in t:
            masks[i] = masks.get(i, 0) | (1 << row)
    level = {frozenset([i]): m for i, m in masks.items() if m.bit_count() >= threshold}
    frequent = {s: m.bit_count() for s, m in level.items()}
    k = 1
    while level and (max_len is None or k < max_len):
        k += 1
        level = {c: m for c, m in _candidates(level, k, masks).items() if m.bit_count() >= threshold}
        frequent.update((s, m.bit_count()) for s, m in level.items())
        if len(frequent) > MAX_ITEMSETS:
            raise ValueError(f"min_support {min_support} gives more than {MAX_ITEMSETS} frequent itemsets; raise it")
    return frequent


def _candidates(previous: Mapping[frozenset[str], int], k: int, masks: Mapping[str, int]) -> dict[frozenset[str], int]:
    """Unions of two frequent (k-1)-itemsets of size k whose (k-1)-subsets are all frequent (downward closure),
    each with the bit mask of the transactions containing it."""
    ordered = sorted(tuple(sorted(s)) for s in previous)
    out = {}
    for x, a in enumerate(ordered):
        for b in ordered[x + 1:]:
            if a[:-1] != b[:-1]:  # sorted order: once the first k-2 items differ, no later set shares them
                break
            union = frozenset(a) | {b[-1]}
            if all(union - {i} in previous for i in union):
                out[union] = previous[frozenset(a)] & masks[b[-1]]
    return out


@dataclass(frozen=True)
class Rule:
    """An association rule A ⇒ B with its joint support, confidence, lift and joint count."""

    antecedent: frozenset[str]
    consequent: frozenset[str]
    support: float
    confidence: float
    lift: float
    count: int

    def __str__(self) -> str:
        return f"{'+'.join(sorted(self.antecedent))} ⇒ {'+'.join(sorted(self.consequent))}"


def association_rules(itemsets: Mapping[frozenset[str], int], n: int, min_confidence: float,
                      single_consequent: bool = True) -> list[Rule]:
    """Rules A ⇒ X∖A from frequent itemsets X with confidence >= ``min_confidence``, best first."""
    if not isinstance(itemsets, Mapping):
        raise TypeError("itemsets must map frozensets to counts (the output of apriori), got "
                        f"{type(itemsets).__name__}")
    n = validate.integer(n, "n", minimum=1)
    min_confidence = validate.real(min_confidence, "min_confidence", minimum=0.0)
    if min_confidence > 1:
        raise ValueError(f"min_confidence must be at most 1, got {min_confidence}")
    rules = []
    for items, joint in itemsets.items():
        if len(items) < 2:
            continue
        sizes = [len(items) - 1] if single_consequent else range(1, len(items))
        for size in sizes:
            for antecedent in itertools.combinations(sorted(items), size):
                a = frozenset(antecedent)
                b = items - a
                if a not in itemsets or b not in itemsets:
                    raise ValueError("itemsets must contain every subset of each itemset (use apriori's output)")
                confidence = joint / itemsets[a]
                if confidence >= min_confidence - 1e-12:
                    rules.append(Rule(a, b, joint / n, confidence, confidence * n / itemsets[b], joint))
    return sorted(rules, key=lambda r: (-r.confidence, -r.support, sorted(r.antecedent), sorted(r.consequent)))


def mine(transactions: Transactions, min_support: float, min_confidence: float, drop: Iterable[str] = ("盐",),
         min_count: int = 2, consequent: str | None = None) -> list[Rule]:
    """The article's protocol in one call: delete ``drop`` and rare items, run Apriori, keep single-consequent rules
    (only those ending in ``consequent`` if given)."""
    if consequent is not None and not isinstance(consequent, str):
        raise TypeError(f"consequent must be an ingredient name or None, got {type(consequent).__name__}")
    data = article_protocol(transactions, drop=drop, min_count=min_count)
    rules = association_rules(apriori(data, min_support), len(data), min_confidence)
    return [r for r in rules if consequent is None or consequent in r.consequent]


def recover_counts(support: float, confidence: float, n: int, decimals: int = 6) -> tuple[int, int]:
    """The integers (joint, antecedent) whose ratios joint/n and joint/antecedent round to the published numbers."""
    support = validate.real(support, "support", positive=True)
    confidence = validate.real(confidence, "confidence", positive=True)
    n = validate.integer(n, "n", minimum=1)
    decimals = validate.integer(decimals, "decimals", minimum=0, maximum=12)
    if support > 1 or confidence > 1:
        raise ValueError(f"support and confidence must be at most 1, got {support} and {confidence}")
    for value, name in ((support, "support"), (confidence, "confidence")):
        if round(value, decimals) != value:
            raise ValueError(f"{name}={value} has more than decimals={decimals} digits")
    half = 0.5 * 10.0 ** -decimals
    # The search visits about (2·half·n) joint counts, each with about 2·half·joint/confidence² antecedents.
    candidates = (2 * half * n + 2) * (2 * half * (support + half) * n / max(confidence - half, 1e-300) ** 2 + 2)
    if candidates > 1e7:
        raise ValueError(f"n={n} with decimals={decimals} leaves about {candidates:.2g} candidate counts to search; "
                         "the published digits cannot pin the counts down")
    found = []
    # every joint count within half a unit of the last digit of support·n, then every antecedent count likewise
    for joint in range(max(1, math.floor((support - half) * n)), math.ceil((support + half) * n) + 1):
        if round(joint / n, decimals) != support:
            continue
        low, high = joint / (confidence + half), joint / max(confidence - half, 1e-300)
        for antecedent in range(max(joint, math.floor(low)), min(n, math.ceil(high)) + 1):
            if round(joint / antecedent, decimals) == confidence:
                found.append((joint, antecedent))
    if len(found) != 1:
        what = "no integer pair" if not found else f"{len(found)} integer pairs"
        raise ValueError(f"{what} reproduce support {support} and confidence {confidence} with n={n}")
    return found[0]


def _vocab_counts(baskets: list[frozenset[str]],
                  vocab: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Item counts and the matrix of co-occurrence counts of ``vocab`` (recipe level)."""
    index = {w: k for k, w in enumerate(vocab)}
    x = np.zeros((len(baskets), len(vocab)))
    for row, t in enumerate(baskets):
        x[row, [index[i] for i in t if i in index]] = 1.0
    return x.sum(axis=0), x.T @ x


def pmi(transactions: Transactions, a: str, b: str) -> float:
    """Pointwise mutual information log(cnt(a,b)·N / (cnt(a)·cnt(b))) of two items, at recipe level."""
    baskets = _transactions(transactions)
    for value, name in ((a, "a"), (b, "b")):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be an ingredient name, got {type(value).__name__}")
    if a == b:
        raise ValueError(f"a and b must be different items, got {a!r} twice")
    counts, co = _vocab_counts(baskets, [a, b])
    for value, name, c in ((a, "a", counts[0]), (b, "b", counts[1])):
        if c == 0:
            raise ValueError(f"{name}={value!r} occurs in no transaction")
    if co[0, 1] == 0:
        raise ValueError(f"a={a!r} and b={b!r} never occur together: their PMI is minus infinity")
    return math.log(co[0, 1] * len(baskets) / (counts[0] * counts[1]))


def top_pmi_pairs(transactions: Transactions, min_cooccurrence: int = 5, topn: int = 10
                  ) -> list[tuple[str, str, float, int]]:
    """The ``topn`` item pairs of highest PMI among pairs that co-occur in >= ``min_cooccurrence`` transactions."""
    baskets = _transactions(transactions)
    min_cooccurrence = validate.integer(min_cooccurrence, "min_cooccurrence", minimum=1)
    topn = validate.integer(topn, "topn", minimum=1)
    vocab = vocabulary(baskets, min_cooccurrence)  # an item in fewer recipes cannot co-occur that often
    counts, co = _vocab_counts(baskets, vocab)
    n = len(baskets)
    pairs = [(vocab[i], vocab[j], math.log(co[i, j] * n / (counts[i] * counts[j])), int(co[i, j]))
             for i, j in zip(*np.triu_indices(len(vocab), k=1)) if co[i, j] >= min_cooccurrence]
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))[:topn]


def ppmi_matrix(transactions: Transactions, vocab: Sequence[str]) -> NDArray[np.float64]:
    """The positive PMI matrix max(PMI, 0) of ``vocab`` with a zero diagonal."""
    baskets = _transactions(transactions)
    if isinstance(vocab, str) or not all(isinstance(w, str) for w in vocab):
        raise TypeError("vocab must be a sequence of ingredient names")
    if len(set(vocab)) != len(vocab) or not vocab:
        raise ValueError("vocab must be a non-empty sequence of distinct names")
    if len(vocab) > 5000:
        raise ValueError(f"vocab has {len(vocab)} items; at most 5000 (the matrix is dense)")
    counts, co = _vocab_counts(baskets, vocab)
    missing = [w for w, c in zip(vocab, counts) if c == 0]
    if missing:
        raise ValueError(f"vocab items {missing[:5]} occur in no transaction")
    with np.errstate(divide="ignore"):
        ratio = co * len(baskets) / np.outer(counts, counts)
        out = np.where(co > 0, np.log(np.where(co > 0, ratio, 1.0)), 0.0)
    out = np.maximum(out, 0.0)
    np.fill_diagonal(out, 0.0)  # an item's PMI with itself, log(N/cnt), says only that it is rare
    return out


def vocabulary(transactions: Transactions, min_count: int = 5) -> list[str]:
    """Items occurring in at least ``min_count`` transactions, most frequent first (ties by name)."""
    counts = item_counts(transactions)
    min_count = validate.integer(min_count, "min_count", minimum=1)
    return sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))


def ppmi_svd_embeddings(transactions: Transactions, min_count: int = 5, dim: int = 20
                        ) -> tuple[list[str], NDArray[np.float64]]:
    """Unit-length item vectors U_k Σ_k^{1/2} from the SVD of the PPMI matrix of the frequent items."""
    vocab = vocabulary(transactions, min_count)
    dim = validate.integer(dim, "dim", minimum=1)
    if dim > len(vocab):
        raise ValueError(f"dim must be at most the vocabulary size {len(vocab)}, got {dim}")
    m = ppmi_matrix(transactions, vocab)
    u, s, _ = np.linalg.svd(m)
    e = u[:, :dim] * np.sqrt(s[:dim])
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("an item has a zero vector (it has positive PMI with no other item); raise min_count")
    return vocab, e / norms


def most_similar(vocab: Sequence[str], embeddings: NDArray[np.float64], word: str, topn: int = 10
                 ) -> list[tuple[str, float]]:
    """The ``topn`` items with the largest cosine similarity to ``word``."""
    vocab = _check_vocab(vocab)
    e = _check_embeddings(embeddings, vocab)
    if not isinstance(word, str):
        raise TypeError(f"word must be an ingredient name, got {type(word).__name__}")
    if word not in vocab:
        raise ValueError(f"word {word!r} is not in the vocabulary")
    topn = validate.integer(topn, "topn", minimum=1)
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    if not np.all(norms > 0):  # a zero row has no direction, so its cosine similarity is undefined
        raise ValueError("embeddings must have no all-zero row")
    unit = e / norms
    k = list(vocab).index(word)
    sims = unit @ unit[k]
    order = [j for j in np.argsort(-sims, kind="stable") if j != k][:topn]
    return [(vocab[j], float(sims[j])) for j in order]


def cooccurrence_graph(transactions: Transactions, min_count: int = 3, min_pmi: float = 0.0,
                       min_item_count: int = 5):  # -> networkx.Graph (networkx imported lazily)
    """Items in >= ``min_item_count`` recipes, joined if they co-occur >= ``min_count`` times with PMI > ``min_pmi``."""
    import networkx as nx

    baskets = _transactions(transactions)
    min_count = validate.integer(min_count, "min_count", minimum=1)
    min_pmi = validate.real(min_pmi, "min_pmi")
    vocab = vocabulary(baskets, min_item_count)
    counts, co = _vocab_counts(baskets, vocab)
    graph = nx.Graph()
    for w, c in zip(vocab, counts):
        graph.add_node(w, count=int(c))
    n = len(baskets)
    for i, j in zip(*np.triu_indices(len(vocab), k=1)):
        if co[i, j] >= min_count:
            value = math.log(co[i, j] * n / (counts[i] * counts[j]))
            if value > min_pmi:
                graph.add_edge(vocab[i], vocab[j], weight=value, count=int(co[i, j]))
    return graph


def communities(graph, method: str = "louvain", seed: int = 0) -> tuple[list[set[str]], float]:
    """Communities of a weighted graph (largest first) and their modularity; Louvain is seeded."""
    import networkx as nx
    from networkx.algorithms import community as nxc

    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx Graph, got {type(graph).__name__}")
    validate.choice(method, "method", ("louvain", "greedy"))
    seed = validate.integer(seed, "seed", minimum=0)
    if graph.number_of_edges() == 0:
        raise ValueError("graph has no edges: lower min_count or min_pmi")
    if method == "louvain":
        parts = nxc.louvain_communities(graph, weight="weight", seed=seed)
    else:
        parts = nxc.greedy_modularity_communities(graph, weight="weight")
    parts = sorted((set(p) for p in parts), key=lambda p: (-len(p), sorted(p)))
    return parts, float(nxc.modularity(graph, parts, weight="weight"))


# --- The article's published numbers (Su 2016, 18,209 recipes of meishichina.com) ---------------------------------
ARTICLE_N = 18209
ARTICLE_MIN_SUPPORT = 0.01  # the thresholds of the article's first rule table
ARTICLE_MIN_CONFIDENCE = 0.8
ARTICLE_CHICKEN_CORN_COSINE = 0.94  # Word2Vec: chicken's nearest neighbour, corn, at this cosine similarity
ARTICLE_TOP16: dict[str, int] = {
    "盐": 11200, "料酒": 4601, "生抽": 4413, "姜": 3671, "葱": 2854, "鸡精": 2579, "白糖": 2440, "糖": 2303,
    "油": 2297, "蒜": 2058, "鸡蛋": 1924, "酱油": 1883, "老抽": 1625, "胡椒粉": 1619, "花椒": 1571, "胡萝卜": 1324,
}


@dataclass(frozen=True)
class PublishedRule:
    """A rule as the article prints it: antecedent items, consequent, rounded support and confidence, its table."""

    antecedent: tuple[str, ...]
    consequent: str
    support: float
    confidence: float
    table: str

    def __str__(self) -> str:
        return f"{'+'.join(self.antecedent)} ⇒ {self.consequent}"


def _rules(table: str, text: str) -> list[PublishedRule]:
    rows = []
    for line in text.strip().splitlines():
        rule, s, c = line.split()
        left, right = rule.split("⇒")
        rows.append(PublishedRule(tuple(left.split("+")), right, float(s), float(c), table))
    return rows


# Three tables: support >= 0.01 with confidence >= 0.8; support >= 0.01 with 0.7 <= confidence < 0.8; and a
# selection of rules with support near 0.005 (the article repeats 料酒+葱⇒姜 there).
ARTICLE_RULES: tuple[PublishedRule, ...] = tuple(_rules("confidence ≥ 0.8", """
料酒+葱+蒜⇒姜 0.019935 0.912060
糖+葱+蒜⇒姜 0.011203 0.879310
料酒+花椒+葱⇒姜 0.010544 0.872727
料酒+老抽+葱⇒姜 0.011643 0.868852
八角+葱⇒姜 0.016695 0.858757
料酒+糖+葱⇒姜 0.013345 0.846690
料酒+生抽+蒜⇒姜 0.013345 0.840830
生抽+葱+蒜⇒姜 0.012741 0.840580
老抽+蒜⇒姜 0.013290 0.831615
花椒+葱⇒姜 0.019221 0.825472
料酒+蒜⇒姜 0.032511 0.821082
料酒+生抽+葱⇒姜 0.019057 0.816471
老抽+葱⇒姜 0.017903 0.808933
料酒+葱⇒姜 0.050799 0.805749
""") + _rules("0.7 ≤ confidence < 0.8", """
葱+蒜⇒姜 0.038497 0.799316
桂皮+香叶⇒八角 0.018013 0.782816
冰糖+桂皮⇒八角 0.010160 0.780591
花椒+蒜⇒姜 0.014169 0.779456
生抽+香叶⇒八角 0.010874 0.770428
料酒+桂皮⇒八角 0.014938 0.764045
桂皮⇒八角 0.031633 0.761905
桂皮+花椒⇒八角 0.015267 0.761644
老抽+香叶⇒八角 0.011423 0.759124
胡椒粉+葱⇒姜 0.014498 0.758621
桂皮+老抽⇒八角 0.013070 0.757962
糖+葱⇒姜 0.022297 0.753247
桂皮+生抽⇒八角 0.011148 0.751852
料酒+香叶⇒八角 0.012411 0.750831
花椒+香叶⇒八角 0.014608 0.745098
葱+醋⇒姜 0.011203 0.744526
冰糖+生抽⇒老抽 0.010929 0.742537
香叶⇒八角 0.028777 0.738028
姜+桂皮⇒八角 0.011917 0.735593
淀粉+葱⇒姜 0.011038 0.730909
姜+香叶⇒八角 0.010215 0.723735
姜+糖+蒜⇒葱 0.011203 0.720848
糖+蒜⇒姜 0.015542 0.712846
生抽+葱⇒姜 0.032402 0.704898
葱+酱油⇒姜 0.017244 0.700893
""") + _rules("support ≈ 0.005", """
料酒+老抽+葱+蒜⇒姜 0.005602 0.953271
料酒+花椒+葱+蒜⇒姜 0.005547 0.952830
料酒+糖+葱+蒜⇒姜 0.007634 0.952055
料酒+桂皮+葱⇒姜 0.005711 0.936937
料酒+生抽+葱+蒜⇒姜 0.007743 0.921569
桂皮+花椒+葱⇒姜 0.005217 0.913462
料酒+白糖+蒜⇒姜 0.005931 0.805970
料酒+葱⇒姜 0.050799 0.805749
冰糖+老抽+香叶⇒八角 0.005162 0.803419
"""))


# --- tables and figures -----------------------------------------------------------------------------------------

def _check_rules(rules: object) -> list[Rule]:
    """``rules`` as a list of Rule objects, or a TypeError naming it."""
    items = list(rules) if isinstance(rules, Iterable) and not isinstance(rules, str) else None
    if items is None or not all(isinstance(r, Rule) for r in items):
        raise TypeError("rules must be a collection of Rule objects (the output of association_rules), got "
                        f"{type(rules).__name__}")
    return items


def rules_table(rules: Iterable[Rule]):  # -> pandas.DataFrame
    """Rules as a table: the rule, its joint count, support, confidence and lift."""
    import pandas as pd

    rows = [{"rule": str(r), "count": r.count, "support": r.support, "confidence": r.confidence, "lift": r.lift}
            for r in _check_rules(rules)]
    return pd.DataFrame(rows, columns=["rule", "count", "support", "confidence", "lift"])


def rule_graph(rules: Iterable[Rule]):  # -> networkx.DiGraph
    """Items of the rules as nodes; an edge a → b, weighted by the number of rules, for each antecedent item a of a
    rule ending in b."""
    import networkx as nx

    graph = nx.DiGraph()
    for r in _check_rules(rules):
        for a in r.antecedent:
            for b in r.consequent:
                weight = graph.edges[a, b]["weight"] + 1 if graph.has_edge(a, b) else 1
                graph.add_edge(a, b, weight=weight)
    return graph


def _check_graph(graph: object) -> None:
    """A TypeError naming ``graph`` unless it is a networkx graph."""
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx graph, got {type(graph).__name__}")


def _check_ax(ax: object) -> None:
    """A TypeError naming ``ax`` unless it is None or matplotlib Axes."""
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be matplotlib Axes or None, got {type(ax).__name__}")


def _check_vocab(vocab: object) -> list[str]:
    """``vocab`` as a list of item names, or a TypeError naming it."""
    if isinstance(vocab, str) or not isinstance(vocab, Sequence) or not all(isinstance(w, str) for w in vocab):
        raise TypeError(f"vocab must be a sequence of item names (strings), got {type(vocab).__name__}")
    return list(vocab)


def _check_embeddings(embeddings: object, vocab: list[str], min_columns: int = 1) -> NDArray[np.float64]:
    """A finite matrix with one row per vocab item and at least ``min_columns`` columns."""
    e = validate.matrix(embeddings, "embeddings")
    if e.shape[0] != len(vocab) or e.shape[1] < min_columns:
        raise ValueError(f"embeddings must have one row per vocab item ({len(vocab)}) and >= {min_columns} "
                         f"columns, got shape {e.shape}")
    return e


def draw_rule_graph(graph, ax=None):
    """A rule graph on two circles, consequents (orange) inside and the other items outside; edge width grows with
    the number of rules."""
    import matplotlib.pyplot as plt
    import networkx as nx

    from kexue.plotting import PALETTE

    _check_graph(graph)
    _check_ax(ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.set_axis_off()
    if graph.number_of_nodes() == 0:
        return ax
    heads = sorted({b for _, b in graph.edges})
    others = sorted(set(graph) - set(heads))
    pos = nx.shell_layout(graph, [heads, others] if others else [heads])
    widths = [0.5 + math.log1p(graph.edges[e]["weight"]) for e in graph.edges]
    nx.draw_networkx_edges(graph, pos, ax=ax, width=widths, alpha=0.3, arrowsize=8, node_size=300)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=300,
                           node_color=[PALETTE["orange"] if w in heads else PALETTE["sky"] for w in graph])
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=8, font_family=plt.rcParams["font.family"])
    return ax


def draw_communities(graph, parts: Sequence[set[str]], ax=None, seed: int = 0, label_size: float = 8.0):
    """The co-occurrence graph in a seeded spring layout, nodes coloured by community and sized by count."""
    import matplotlib.pyplot as plt
    import networkx as nx

    from kexue.plotting import CYCLE

    seed = validate.integer(seed, "seed", minimum=0, maximum=2**32 - 1)
    label_size = validate.real(label_size, "label_size", positive=True, maximum=100)
    _check_graph(graph)
    _check_ax(ax)
    if isinstance(parts, (str, bytes)) or not isinstance(parts, Iterable) \
            or not all(isinstance(part, Iterable) and not isinstance(part, str) for part in parts):
        raise TypeError(f"parts must be a sequence of sets of item names, got {type(parts).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 6.5))
    colour = {w: CYCLE[c % len(CYCLE)] for c, part in enumerate(parts) for w in part}
    pos = nx.spring_layout(graph, weight="weight", seed=seed)
    nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.15, width=0.6)
    sizes = [40 + 2.5 * graph.nodes[w].get("count", 1) for w in graph]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[colour.get(w, "0.6") for w in graph], node_size=sizes,
                           alpha=0.85)
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=label_size,
                            font_family=plt.rcParams["font.family"])
    ax.set_axis_off()
    return ax


def explore_rules(transactions: Transactions, min_support: float, min_confidence: float, drop_salt: bool = True,
                  consequent: str = "", top: int = 40):
    """The chapter's explorer: mine the rules at these thresholds, chart them by consequent, draw the ``top`` strongest
    as a graph; returns (figure, table of the ten strongest rules)."""
    import matplotlib.pyplot as plt

    from kexue.plotting import PALETTE

    drop_salt = validate.boolean(drop_salt, "drop_salt")
    if not isinstance(consequent, str):
        raise TypeError(f"consequent must be an ingredient name ('' for all), got {type(consequent).__name__}")
    top = validate.integer(top, "top", minimum=1, maximum=500)
    found = mine(transactions, min_support, min_confidence, drop=("盐",) if drop_salt else (),
                 consequent=consequent.strip() or None)
    fig, (ax, ax_graph) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=[1.3, 1])
    tally = Counter(next(iter(r.consequent)) for r in found).most_common(12)
    ax.bar([w for w, _ in tally], [c for _, c in tally], color=PALETTE["blue"])
    ax.set(xlabel="consequent", ylabel="rules", title=f"{len(found)} rules (support ≥ {min_support}, "
           f"confidence ≥ {min_confidence}{'' if drop_salt else ', salt kept'})")
    draw_rule_graph(rule_graph(found[:top]), ax=ax_graph)
    ax_graph.set_title(f"the {top} strongest rules: antecedent → consequent (orange)")
    return fig, rules_table(found).head(10)


def plot_embedding(vocab: Sequence[str], embeddings: NDArray[np.float64], ax=None,
                   highlight: Iterable[str] = ()):
    """Items on the first two principal axes of their embeddings, labelled, ``highlight`` in colour."""
    import matplotlib.pyplot as plt

    from kexue.plotting import PALETTE

    vocab = _check_vocab(vocab)
    e = _check_embeddings(embeddings, vocab, min_columns=2)
    _check_ax(ax)
    centred = e - e.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 6.5))
    marked = set(highlight)
    for (x, y), w in zip(xy, vocab):
        colour = PALETTE["vermillion"] if w in marked else PALETTE["blue"]
        ax.scatter([x], [y], s=14, color=colour)
        ax.annotate(w, (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points", color=colour)
    ax.set(xlabel="principal axis 1", ylabel="principal axis 2")
    return ax

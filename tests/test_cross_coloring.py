"""Tests for kexue.cross_coloring (chapter: the "cross" colouring problem, kexue.fm/archives/9291)."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter
from itertools import permutations, product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kexue import cross_coloring as cc

K3_TOTAL = 27216
K4_TOTAL = 19160064


# --- Reference definitions written independently of the module ------------------------------------------------
def ref_dominant(sides):
    """Colour appearing exactly twice while the other two sides are two different colours, else None."""
    for d in set(sides):
        others = [x for x in sides if x != d]
        if len(others) == 2 and others[0] != others[1]:
            return d
    return None


def ref_valid(colouring):
    doms = {name: ref_dominant([colouring[e] for e in edges]) for name, edges in cc.SQUARES.items()}
    return all(None not in bar and len(set(bar)) == 3 for bar in ((doms["U"], doms["C"], doms["B"]),
                                                                  (doms["L"], doms["C"], doms["R"])))


def dihedral_images(c):
    """The 8 images of a centre colouring (top, left, bottom, right) under the symmetries of the square."""
    images = []
    for r in range(4):
        images.append(tuple(c[(i + r) % 4] for i in range(4)))
        images.append(tuple(c[(r - i) % 4] for i in range(4)))
    return images


def edge_permutation(transform):
    """Permutation of the 16 edge labels induced by a map of the plane that sends the cross onto itself."""
    lookup = {frozenset(map(tuple, segment)): i for i, segment in enumerate(cc.EDGES)}
    return [lookup[frozenset(transform(*p) for p in segment)] for segment in cc.EDGES]


ROTATE = edge_permutation(lambda x, y: (1 - y, x))  # quarter turn about the centre (1/2, 1/2)
MIRROR = edge_permutation(lambda x, y: (1 - x, y))


def cross_symmetries():
    """All 8 edge permutations of the cross's symmetry group, generated from a rotation and a mirror."""
    group = {tuple(range(16))}
    while True:
        new = {tuple(g[p] for p in gen) for g in group for gen in (ROTATE, MIRROR)} | group
        if new == group:
            return sorted(group)
        group = new


def apply(perm, colouring):
    image = np.empty(16, dtype=np.int64)
    image[list(perm)] = colouring
    return image


# --- Geometry ----------------------------------------------------------------------------------------------------
def test_edges_are_16_distinct_unit_segments():
    assert len(cc.EDGES) == cc.N_EDGES == 16
    assert len({frozenset(map(tuple, s)) for s in cc.EDGES}) == 16
    for (x0, y0), (x1, y1) in cc.EDGES:
        assert abs(x1 - x0) + abs(y1 - y0) == 1


def test_squares_list_sides_in_order_top_left_bottom_right():
    offsets = [(0, 0.5), (-0.5, 0), (0, -0.5), (0.5, 0)]
    for name, edges in cc.SQUARES.items():
        cx, cy = cc.SQUARE_CENTRES[name]
        for e, (dx, dy) in zip(edges, offsets):
            (x0, y0), (x1, y1) = cc.EDGES[e]
            assert ((x0 + x1) / 2, (y0 + y1) / 2) == (cx + dx, cy + dy), (name, e)


def test_arms_share_exactly_one_edge_with_the_centre_and_none_with_each_other():
    uses = Counter(e for edges in cc.SQUARES.values() for e in edges)
    assert sorted(e for e, n in uses.items() if n == 2) == [0, 1, 2, 3]
    assert set(uses) == set(range(16))
    for arm in cc.ARMS:
        assert set(cc.SQUARES[arm]) == {cc.SHARED_EDGE[arm], *cc.OWN_EDGES[arm]}


def test_cross_has_eight_symmetries():
    assert len(cross_symmetries()) == 8


# --- One square ----------------------------------------------------------------------------------------------
def test_dominant_examples():
    assert cc.dominant((0, 0, 1, 2)) == 0
    assert cc.dominant((0, 0, 1, 1)) is None
    assert cc.dominant((2, 1, 2, 0)) == 2
    assert cc.dominant((1, 1, 1, 0)) is None
    assert cc.dominant((0, 0, 3, 1), k=4) == 0
    assert cc.dominant((0, 0, 3, 3), k=4) is None


def test_36_of_81_squares_are_dominated():
    doms = [cc.dominant(t) for t in product(range(3), repeat=4)]
    assert sum(d is not None for d in doms) == 36
    assert Counter(d for d in doms if d is not None) == {0: 12, 1: 12, 2: 12}


@settings(max_examples=300, deadline=None)
@given(st.integers(3, 6).flatmap(lambda k: st.tuples(st.just(k), st.lists(st.integers(0, k - 1), min_size=4,
                                                                            max_size=4))))
def test_dominant_agrees_with_direct_definition(case):
    k, sides = case
    assert cc.dominant(sides, k) == ref_dominant(sides)


@pytest.mark.parametrize("k", [3, 4, 5])
def test_dominance_table_matches_dominant_in_product_order(k):
    table = cc.dominance_table(k)
    assert table.shape == (k**4,)
    expected = [ref_dominant(t) for t in product(range(k), repeat=4)]
    assert table.tolist() == [-1 if d is None else d for d in expected]
    assert table[((0 * k + 0) * k + 1) * k + 2] == 0  # first side is the most significant digit
    table[0] = 99  # the returned array is a copy, the cached table is unaffected
    assert cc.dominance_table(k)[0] == -1


# --- Arms and centres ------------------------------------------------------------------------------------------
def test_arm_count_values():
    assert cc.arm_count(0, 0) == 6
    assert cc.arm_count(1, 0) == 3
    assert cc.arm_count(0, 0, k=4) == 18
    assert cc.arm_count(1, 0, k=4) == 6


@pytest.mark.parametrize("k", range(3, 9))
def test_arm_count_closed_form(k):
    for s, d in product(range(k), repeat=2):
        expected = 3 * (k - 1) * (k - 2) if s == d else 3 * (k - 2)
        assert cc.arm_count(s, d, k) == expected


@pytest.mark.parametrize("k, adjacent, opposite", [(3, 24, 12), (4, 96, 48)])
def test_centre_classes(k, adjacent, opposite):
    centres = [c for c in product(range(k), repeat=4) if cc.dominant(c, k) is not None]
    assert Counter(cc.classify_centre(c) for c in centres) == {"adjacent": adjacent, "opposite": opposite}
    assert cc.classify_centre((0, 0, 1, 2)) == "adjacent"
    assert cc.classify_centre((0, 1, 2, 0)) == "adjacent"  # top and right share a corner
    assert cc.classify_centre((0, 1, 0, 2)) == "opposite"


def test_count_by_centre_k3():
    total, per_centre = cc.count_by_centre(3)
    assert total == K3_TOTAL
    assert len(per_centre) == 36
    assert sorted(set(per_centre.values())) == [729, 810]
    assert Counter(per_centre.values()) == {729: 24, 810: 12}
    by_class = Counter()
    for c, n in per_centre.items():
        assert n == {"adjacent": 729, "opposite": 810}[cc.classify_centre(c)]
        by_class[cc.classify_centre(c)] += n
    assert by_class == {"adjacent": 17496, "opposite": 9720}
    assert 17496 + 9720 == total


def test_count_by_centre_k4():
    total, per_centre = cc.count_by_centre(4)
    assert len(per_centre) == 144
    assert Counter((cc.classify_centre(c), n) for c, n in per_centre.items()) == {
        ("adjacent", 129600): 96, ("opposite", 139968): 48}
    assert total == 96 * 129600 + 48 * 139968 == K4_TOTAL


@pytest.mark.parametrize("k", [3, 4])
def test_per_centre_counts_are_symmetric(k):
    _, per_centre = cc.count_by_centre(k)
    for c, n in per_centre.items():
        for image in dihedral_images(c):
            assert per_centre[image] == n
        for sigma in permutations(range(k)):
            assert per_centre[tuple(sigma[x] for x in c)] == n


@pytest.mark.parametrize("k", [3, 4])
def test_article_algorithm_agrees_with_factorised_formula(k):
    assert cc.count_article(k) == cc.count_by_centre(k)[0]


@pytest.mark.parametrize("k", [3, 4])
def test_relaxed_variant(k):
    relaxed = cc.count_relaxed(k)
    assert relaxed == cc.count_article(k, relaxed=True)
    assert relaxed > cc.count_by_centre(k)[0]
    if k == 3:
        assert relaxed == 36 * 6 * 6 * 9 * 9  # two arms see their target on the shared edge, two do not


# --- Brute force -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bruteforce_by_centre():
    return cc.count_bruteforce_by_centre()


def test_bruteforce_per_centre_matches_formula(bruteforce_by_centre):
    _, per_centre = cc.count_by_centre(3)
    assert len(bruteforce_by_centre) == 81
    assert {c: n for c, n in bruteforce_by_centre.items() if n} == per_centre
    assert sum(bruteforce_by_centre.values()) == K3_TOTAL


def test_bruteforce_total_with_another_block_size():
    assert cc.count_bruteforce(chunk_pow=8) == K3_TOTAL


@pytest.mark.parametrize("dominance, bars", [("exact", "centre"), ("plurality", "distinct"),
                                             ("plurality", "centre")])
def test_bruteforce_rule_variants_agree_with_the_article_algorithm(dominance, bars):
    expected = cc.count_article(3, relaxed=bars == "centre", dominance=dominance)
    assert cc.count_bruteforce(k=3, dominance=dominance, bars=bars) == expected
    if (dominance, bars) == ("exact", "centre"):
        assert expected == cc.count_relaxed(3)


def test_plurality_rule_on_one_square():
    table = cc.dominance_table(3, dominance="plurality")
    assert int(np.count_nonzero(table >= 0)) == 36 + 24 + 3  # counts 2+1+1, 3+1 and 4
    assert cc.dominant((1, 1, 1, 0), dominance="plurality") == 1
    assert cc.dominant((1, 1, 0, 0), dominance="plurality") is None
    assert cc.dominant((1, 1, 1, 0)) is None


def test_bruteforce_k4_on_one_centre_of_each_kind():
    # 4**12 arm colourings per centre; the article's rule gives 129600 (adjacent) and 139968 (opposite).
    centres = [(0, 0, 1, 2), (0, 1, 0, 2)]
    counts = cc.count_bruteforce_by_centre(k=4, centres=centres)
    _, per_centre = cc.count_by_centre(4)
    assert counts == {c: per_centre[c] for c in centres} == {(0, 0, 1, 2): 129600, (0, 1, 0, 2): 139968}
    assert cc.count_by_centre(4)[0] == 96 * 129600 + 48 * 139968 == 19_160_064


def test_three_methods_agree(bruteforce_by_centre):
    assert sum(bruteforce_by_centre.values()) == cc.count_article(3) == cc.count_by_centre(3)[0] == K3_TOTAL


# --- The competing answer --------------------------------------------------------------------------------------
def test_54432_from_ordered_centre_placements():
    assert cc.ordered_centre_count() == 72
    assert cc.centre_overcount_total(cc.ordered_centre_count()) == 54432 == 2 * K3_TOTAL == cc.COMPETING_ANSWER
    assert cc.centre_overcount_total(36) == K3_TOTAL


def test_ordered_slip_hits_every_centre_twice():
    # Rebuild the slip's labelled centres and forget the labels: each true centre appears exactly twice.
    hits = Counter()
    for m in range(3):
        singles = [c for c in range(3) if c != m]
        for pair in permutations(range(4), 2):
            rest = [p for p in range(4) if p not in pair]
            for arrangement in permutations(singles):
                sides = [m] * 4
                for p, colour in zip(rest, arrangement):
                    sides[p] = colour
                hits[tuple(sides)] += 1
    assert sum(hits.values()) == cc.ordered_centre_count()
    assert set(hits) == set(cc.count_by_centre(3)[1]) and set(hits.values()) == {2}


# --- Whole colourings ------------------------------------------------------------------------------------------
colourings = st.lists(st.integers(0, 2), min_size=16, max_size=16)


@st.composite
def near_valid_colourings(draw):
    """A random valid colouring, possibly with one edge repainted (valid colourings are rare among all)."""
    colouring = cc.random_valid_colouring(np.random.default_rng(draw(st.integers(0, 2**32 - 1))))
    if draw(st.booleans()):
        colouring[draw(st.integers(0, 15))] = draw(st.integers(0, 2))
    return colouring.tolist()


@settings(max_examples=200, deadline=None)
@given(st.one_of(colourings, near_valid_colourings()))
def test_is_valid_agrees_with_direct_definition(colouring):
    assert cc.is_valid(colouring) == ref_valid(colouring)


@settings(max_examples=60, deadline=None)
@given(near_valid_colourings(), st.permutations(range(3)))
def test_validity_is_invariant_under_symmetries(colouring, sigma):
    valid = cc.is_valid(colouring)
    for perm in cross_symmetries():
        assert cc.is_valid(apply(perm, colouring)) == valid
    assert cc.is_valid([sigma[x] for x in colouring]) == valid


def test_square_dominants():
    colouring = next(cc.valid_colourings())
    doms = cc.square_dominants(colouring)
    assert set(doms) == {"C", "U", "L", "B", "R"}
    assert len({doms["U"], doms["C"], doms["B"]}) == len({doms["L"], doms["C"], doms["R"]}) == 3


def test_valid_colourings_lists_every_valid_colouring_once():
    rows = np.array(list(cc.valid_colourings()))
    assert rows.shape == (K3_TOTAL, 16)
    assert len({r.tobytes() for r in rows}) == K3_TOTAL
    table = cc.dominance_table(3)
    dom = {name: table[((rows[:, a] * 3 + rows[:, b]) * 3 + rows[:, c]) * 3 + rows[:, d]]
           for name, (a, b, c, d) in cc.SQUARES.items()}
    for x, y, z in cc.BARS:
        assert np.all((dom[x] >= 0) & (dom[y] >= 0) & (dom[z] >= 0))
        assert np.all((dom[x] != dom[y]) & (dom[y] != dom[z]) & (dom[x] != dom[z]))
    assert all(cc.is_valid(r) for r in rows[::997])
    assert len(list(cc.valid_colourings(limit=5))) == 5


def test_random_valid_colouring_is_valid_and_uniform_over_centre_classes():
    rng = np.random.default_rng(9291)
    samples = [cc.random_valid_colouring(rng) for _ in range(3000)]
    assert all(s.shape == (16,) and cc.is_valid(s) for s in samples[:300])
    adjacent = np.mean([cc.classify_centre(s[:4]) == "adjacent" for s in samples])
    # Uniform sampling puts 17496 / 27216 of the mass on adjacent centres; 5 standard deviations of slack.
    p = 17496 / K3_TOTAL
    assert abs(adjacent - p) < 5 * np.sqrt(p * (1 - p) / len(samples))
    assert cc.is_valid(cc.random_valid_colouring(rng, k=4), k=4)


# --- Bad inputs ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, name", [
    (lambda: cc.dominant((0, 0, 1)), ValueError, "edges"),
    (lambda: cc.dominant("0012"), TypeError, "edges"),
    (lambda: cc.dominant((0, 0, 1, 3)), ValueError, "edges[3]"),
    (lambda: cc.dominant((0, 0, 1.0, 2)), TypeError, "edges[2]"),
    (lambda: cc.dominant((0, 0, 1, 2), k=2), ValueError, "k"),
    (lambda: cc.dominant((0, 0, 1, 2), k=3.0), TypeError, "k"),
    (lambda: cc.dominance_table(100), ValueError, "k"),
    (lambda: cc.arm_count(3, 0), ValueError, "shared"),
    (lambda: cc.arm_count(0, -1), ValueError, "d"),
    (lambda: cc.arm_count(0.5, 0), TypeError, "shared"),
    (lambda: cc.classify_centre((0, 0, 1, 1)), ValueError, "c"),
    (lambda: cc.classify_centre((0, 0, 1)), ValueError, "c"),
    (lambda: cc.count_by_centre(k="3"), TypeError, "k"),
    (lambda: cc.count_article(relaxed="yes"), TypeError, "relaxed"),
    (lambda: cc.count_bruteforce(13), ValueError, "chunk_pow"),
    (lambda: cc.count_bruteforce(5), ValueError, "chunk_pow"),
    (lambda: cc.count_bruteforce(12.0), TypeError, "chunk_pow"),
    (lambda: cc.count_bruteforce(10, k=4), ValueError, "chunk_pow"),
    (lambda: cc.count_bruteforce(k=5), ValueError, "k"),
    (lambda: cc.count_bruteforce(dominance="majority"), ValueError, "dominance"),
    (lambda: cc.count_bruteforce(bars=1), TypeError, "bars"),
    (lambda: cc.count_bruteforce_by_centre(centres=[(0, 0, 1, 3)]), ValueError, r"centres[0][3]"),
    (lambda: cc.count_bruteforce_by_centre(centres=[]), ValueError, "centres"),
    (lambda: cc.count_bruteforce_by_centre(centres=5), TypeError, "centres"),
    (lambda: cc.dominance_table(dominance=None), TypeError, "dominance"),
    (lambda: cc.count_article(dominance="any"), ValueError, "dominance"),
    (lambda: cc.centre_overcount_total(0), ValueError, "centres"),
    (lambda: cc.centre_overcount_total("72"), TypeError, "centres"),
    (lambda: cc.random_valid_colouring(42), TypeError, "rng"),
    (lambda: cc.is_valid([0] * 15), ValueError, "colouring"),
    (lambda: cc.is_valid([0] * 15 + [3]), ValueError, "colouring[15]"),
    (lambda: cc.square_dominants(None), TypeError, "colouring"),
    (lambda: cc.valid_colourings(limit=-1), ValueError, "limit"),
    (lambda: cc.draw_cross([0] * 16, palette=["red", "blue"]), ValueError, "palette"),
])
def test_bad_inputs_name_the_argument(call, error, name):
    with pytest.raises(error, match=name.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_total_formula_matches_both_counts():
    import sympy as sp

    k = sp.Symbol("k")
    formula = cc.total_formula()
    assert sp.factor(formula) == sp.factor(162 * k * (k - 1) * (k - 2) ** 7 * (3 * k - 5) * (4 * k - 5))
    for n in range(3, 9):
        assert formula.subs(k, n) == cc.count_by_centre(n)[0]
    for n in (3, 4, 5):  # the plain enumeration shares no algebra with the formula
        assert formula.subs(k, n) == cc.count_article(n)
    assert formula.subs(k, 4) == K4_TOTAL


# --- Drawing and import weight ---------------------------------------------------------------------------------
def test_draw_cross_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colouring = cc.random_valid_colouring(np.random.default_rng(0))
    ax = cc.draw_cross(colouring)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.lines) == 16
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 16 + 5
    doms = cc.square_dominants(colouring)
    assert all(f"{name}\n{cc.COLOUR_NAMES[d]}" in texts for name, d in doms.items())
    plt.close(ax.figure)

    fig, ax = plt.subplots()
    assert cc.draw_cross([0] * 16, ax=ax, labels=False) is ax
    assert [t.get_text() for t in ax.texts] == [f"{n}\n—" for n in cc.SQUARES]
    plt.close(fig)


def test_module_import_does_not_load_matplotlib():
    code = "import sys, kexue.cross_coloring; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Counting edge colourings of a plus-shaped "cross" of five unit squares.

Chapter source: Su Jianlin (苏剑林), 《“十字架”组合计数问题浅试》
("A first try at the 'cross' combinatorial counting problem"), Scientific Spaces, 2022-10-09,
https://kexue.fm/archives/9291.

The cross is a centre square C with one arm square on each side (U, L, B, R); it has 16 unit edges, each painted
with one of ``k`` colours (``k = 3`` in the article). A square is *d-dominated* if exactly two of its sides have
colour ``d`` and the other two sides have two different colours other than ``d``. A colouring is valid when both
bars (U, C, B) and (L, C, R) consist of three squares with pairwise distinct dominant colours. For ``k = 3`` there
are 27216 valid colourings; the competing answer 54432 is exactly twice that.

Edge labels (every square lists its edges in the cyclic order top, left, bottom, right, so two sides of a square
are opposite exactly when their positions differ by 2)::

              +--4--+
              5  U  6
        +--7--+--0--+-13--+
        8  L  1  C  3  R  15
        +--9--+--2--+-14--+
              10 B  12
              +-11--+

The centre's edges 0..3 are shared with U, L, B, R respectively; arm number ``i`` (U, L, B, R) owns edges
``4 + 3i .. 6 + 3i``. A colouring is a length-16 sequence of colours indexed by these labels.

Three independent counts are provided: the factorised formula (:func:`count_by_centre`), a plain-Python version of
the article's centre-first algorithm (:func:`count_article`) and a vectorised test of all ``3**16`` colourings
(:func:`count_bruteforce`), which uses no part of the factorisation.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import permutations, product
from typing import TYPE_CHECKING, Any

import numpy as np

from kexue.validate import choice as _check_choice
from kexue.validate import integer as _check_int

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ARMS", "BARS", "COLOUR_NAMES", "COMPETING_ANSWER", "EDGES", "N_EDGES", "OWN_EDGES", "PALETTE", "SHARED_EDGE",
    "SQUARES", "arm_count", "centre_overcount_total", "classify_centre", "count_article", "count_bruteforce",
    "count_bruteforce_by_centre", "count_by_centre", "count_relaxed", "dominance_table", "dominant", "draw_cross",
    "BAR_RULES", "BRUTEFORCE_MAX_K", "DOMINANCE_RULES",
    "is_valid", "ordered_centre_count", "random_valid_colouring", "square_dominants", "total_formula", "valid_colourings",
]

# --- Geometry --------------------------------------------------------------------------------------------------
# The centre square is [0, 1] x [0, 1]; U sits above it, L to the left, B below, R to the right.
Point = tuple[float, float]
EDGES: tuple[tuple[Point, Point], ...] = (
    ((0, 1), (1, 1)),    # 0  centre top    = U bottom
    ((0, 0), (0, 1)),    # 1  centre left   = L right
    ((0, 0), (1, 0)),    # 2  centre bottom = B top
    ((1, 0), (1, 1)),    # 3  centre right  = R left
    ((0, 2), (1, 2)),    # 4  U top
    ((0, 1), (0, 2)),    # 5  U left
    ((1, 1), (1, 2)),    # 6  U right
    ((-1, 1), (0, 1)),   # 7  L top
    ((-1, 0), (-1, 1)),  # 8  L left
    ((-1, 0), (0, 0)),   # 9  L bottom
    ((0, -1), (0, 0)),   # 10 B left
    ((0, -1), (1, -1)),  # 11 B bottom
    ((1, -1), (1, 0)),   # 12 B right
    ((1, 1), (2, 1)),    # 13 R top
    ((1, 0), (2, 0)),    # 14 R bottom
    ((2, 0), (2, 1)),    # 15 R right
)
"""For each of the 16 edges, its two endpoints in the plane (unit squares, centre square = [0,1]^2)."""

N_EDGES = len(EDGES)

SQUARES: dict[str, tuple[int, int, int, int]] = {
    "C": (0, 1, 2, 3),
    "U": (4, 5, 0, 6),
    "L": (7, 8, 9, 1),
    "B": (2, 10, 11, 12),
    "R": (13, 3, 14, 15),
}
"""Each square's edge labels in the cyclic order (top, left, bottom, right)."""

ARMS: tuple[str, ...] = ("U", "L", "B", "R")
SHARED_EDGE: dict[str, int] = {arm: i for i, arm in enumerate(ARMS)}
OWN_EDGES: dict[str, tuple[int, int, int]] = {arm: (4 + 3 * i, 5 + 3 * i, 6 + 3 * i) for i, arm in enumerate(ARMS)}
BARS: tuple[tuple[str, str, str], ...] = (("U", "C", "B"), ("L", "C", "R"))

# Okabe-Ito colours (the values of kexue.plotting.PALETTE, repeated so that importing this module stays light).
PALETTE: tuple[str, ...] = ("#D55E00", "#F0E442", "#0072B2")
COLOUR_NAMES: tuple[str, ...] = ("red", "yellow", "blue")

COMPETING_ANSWER = 54432  # the other teacher's published answer, quoted in the article
MAX_K = 16  # tables grow like k**4; larger k is not a classroom computation
BRUTEFORCE_MAX_K = 4  # 4**16 = 4.3e9 colourings is a minute of work; 5**16 = 1.5e11 would be hours

DOMINANCE_RULES: tuple[str, ...] = ("exact", "plurality")
"""When a square is dominated by colour d. "exact" (the article): d on exactly two sides, two other distinct colours
on the other two. "plurality": d appears on more sides than any other colour (counts 2+1+1, 3+1 or 4)."""

BAR_RULES: tuple[str, ...] = ("distinct", "centre")
"""What a bar needs. "distinct" (the article): its three squares have pairwise different dominant colours.
"centre": each arm's dominant colour differs from the centre's (the two arms of a bar may agree)."""


# --- Input checks ----------------------------------------------------------------------------------------------
def _check_k(k: Any, name: str = "k") -> int:
    """Validate the number of colours."""
    k = _check_int(k, name)
    # Dominance needs a repeated colour plus two other distinct colours, so fewer than 3 colours is meaningless.
    if not 3 <= k <= MAX_K:
        raise ValueError(f"{name} must be between 3 and {MAX_K}, got {k}")
    return k


def _check_colours(values: Any, length: int, k: int | None, name: str) -> tuple[int, ...]:
    """Validate a sequence of ``length`` colours in ``range(k)`` (any non-negative colour if k is None)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of {length} integers, got {type(values).__name__}")
    items = tuple(values)
    if len(items) != length:
        raise ValueError(f"{name} must have {length} entries, got {len(items)}")
    colours = tuple(_check_int(x, f"{name}[{i}]") for i, x in enumerate(items))
    for i, x in enumerate(colours):
        if x < 0 or (k is not None and x >= k):
            allowed = f"range({k})" if k is not None else "the non-negative integers"
            raise ValueError(f"{name}[{i}] = {x} is not a colour in {allowed}")
    return colours


# --- One square ------------------------------------------------------------------------------------------------
def _dominant_unchecked(sides: Sequence[int], rule: str = "exact") -> int | None:
    """Dominant colour of four already-validated sides under ``rule`` (fast path for the enumerations)."""
    counts = Counter(sides)
    if rule == "plurality":
        ranked = counts.most_common(2)
        return ranked[0][0] if len(ranked) == 1 or ranked[0][1] > ranked[1][1] else None
    if sorted(counts.values()) != [1, 1, 2]:
        return None
    return next(colour for colour, n in counts.items() if n == 2)


def _check_rule(dominance: Any) -> str:
    """Validate the name of a dominance rule."""
    return _check_choice(dominance, "dominance", DOMINANCE_RULES)


def dominant(edges: Sequence[int], k: int = 3, dominance: str = "exact") -> int | None:
    """The dominant colour of one square given its four side colours, or None if it is not dominated."""
    k, dominance = _check_k(k), _check_rule(dominance)
    return _dominant_unchecked(_check_colours(edges, 4, k, "edges"), dominance)


@lru_cache(maxsize=None)
def _table(k: int, dominance: str = "exact") -> np.ndarray:
    """Read-only cached dominance table (see dominance_table)."""
    # Row i holds the colour of side i; side 0 is the most significant base-k digit (itertools.product order).
    digits = (np.arange(k**4)[None, :] // k ** np.arange(3, -1, -1)[:, None]) % k
    counts = (digits[None, :, :] == np.arange(k)[:, None, None]).sum(axis=1)  # shape (k, k**4)
    if dominance == "plurality":
        top = counts.max(axis=0)
        dominated = (counts == top).sum(axis=0) == 1  # the most frequent colour is unique
        table = np.where(dominated, np.argmax(counts, axis=0), -1).astype(np.int16)
    else:
        dominated = ((counts == 2).sum(axis=0) == 1) & ((counts == 1).sum(axis=0) == 2)
        table = np.where(dominated, np.argmax(counts == 2, axis=0), -1).astype(np.int16)
    table.flags.writeable = False
    return table


def dominance_table(k: int = 3, dominance: str = "exact") -> np.ndarray:
    """Dominant colour (-1 for none) of every square, indexed by e0*k**3 + e1*k**2 + e2*k + e3."""
    return _table(_check_k(k), _check_rule(dominance)).copy()


def _square_index(sides: Sequence[int], k: int) -> int:
    """Position of a 4-side colouring in the dominance table (first side = most significant digit)."""
    return ((sides[0] * k + sides[1]) * k + sides[2]) * k + sides[3]


# --- Arms and centres ------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _completions(shared: int, d: int, k: int, rule: str = "exact") -> tuple[tuple[int, int, int], ...]:
    """All colourings of an arm's three own edges that make it d-dominated, given the shared edge's colour."""
    # Dominance ignores the order of the sides, so the arm's geometry does not matter here. The table row of the
    # squares whose first side is `shared` lists the k**3 own-edge colourings in itertools.product order.
    row = _table(k, rule)[shared * k**3:(shared + 1) * k**3]
    own = list(product(range(k), repeat=3))
    return tuple(own[i] for i in np.flatnonzero(row == d))


def arm_count(shared: int, d: int, k: int = 3, dominance: str = "exact") -> int:
    """Number of colourings of an arm's three own edges that make the arm d-dominated, given its shared edge."""
    k, dominance = _check_k(k), _check_rule(dominance)
    shared, d = _check_int(shared, "shared"), _check_int(d, "d")
    for name, value in (("shared", shared), ("d", d)):
        if not 0 <= value < k:
            raise ValueError(f"{name} = {value} is not a colour in range({k})")
    return len(_completions(shared, d, k, dominance))


def classify_centre(c: Sequence[int]) -> str:
    """'adjacent' or 'opposite': whether the centre's two dominant-coloured sides share a corner."""
    sides = _check_colours(c, 4, None, "c")
    m = _dominant_unchecked(sides)
    if m is None:
        raise ValueError(f"c = {sides} is not dominated, so it has no dominant sides to classify")
    first, second = (i for i, colour in enumerate(sides) if colour == m)
    return "opposite" if second - first == 2 else "adjacent"


def _ordered_pairs(m: int, k: int) -> Iterator[tuple[int, int]]:
    """Ordered pairs of distinct colours that both differ from the centre's dominant colour m."""
    return ((a, b) for a, b in permutations(range(k), 2) if m not in (a, b))


def _bar_weight(s1: int, s2: int, m: int, k: int) -> int:
    """Completions of the two arms of one bar (shared colours s1, s2) giving three distinct dominants."""
    return sum(len(_completions(s1, a, k)) * len(_completions(s2, b, k)) for a, b in _ordered_pairs(m, k))


def _dominated_centres(k: int) -> Iterator[tuple[tuple[int, ...], int]]:
    """All dominated centre colourings with their dominant colour, in itertools.product order."""
    for c in product(range(k), repeat=4):
        m = _dominant_unchecked(c)
        if m is not None:
            yield c, m


@lru_cache(maxsize=None)
def _per_centre(k: int) -> tuple[tuple[tuple[int, ...], int], ...]:
    """Cached (centre, count) pairs of the factorised formula; the sampler needs them on every draw."""
    weights: dict[tuple[int, int, int], int] = {}  # a bar's weight depends only on (s1, s2, m): k**3 of them

    def bar(s1: int, s2: int, m: int) -> int:
        if (s1, s2, m) not in weights:
            weights[s1, s2, m] = _bar_weight(s1, s2, m, k)
        return weights[s1, s2, m]

    return tuple((c, bar(c[0], c[2], m) * bar(c[1], c[3], m)) for c, m in _dominated_centres(k))


def count_by_centre(k: int = 3) -> tuple[int, dict[tuple[int, int, int, int], int]]:
    """Total valid colourings by the factorised formula, and the count for each dominated centre."""
    per_centre = dict(_per_centre(_check_k(k)))
    return sum(per_centre.values()), per_centre


def count_relaxed(k: int = 3) -> int:
    """Colourings in which every arm's dominant colour merely differs from the centre's (arms of a bar may agree)."""
    k = _check_k(k)
    total = 0
    for c, m in _dominated_centres(k):
        # Without the arm-arm condition the four arms are independent given the centre.
        arms = [sum(len(_completions(c[i], d, k)) for d in range(k) if d != m) for i in range(4)]
        total += math.prod(arms)
    return total


def total_formula() -> Any:
    """The number of valid colourings as a SymPy polynomial in the number of colours k."""
    import sympy as sp  # lazy: only this function needs it

    k = sp.Symbol("k")
    same, other = 3 * (k - 1) * (k - 2), 3 * (k - 2)  # f(s, d) for s == d and for s != d
    pairs = (k - 1) * (k - 2)  # ordered pairs of distinct colours other than the centre's
    # A bar whose two shared edges both have the centre's colour m: every arm gets f = other.
    both_m = pairs * other**2
    # A bar with one shared edge coloured m and one coloured y != m: f = same only for the arm whose target is y.
    one_m = other * ((k - 2) * same + (k - 2) ** 2 * other)
    # A bar with shared colours y != z, both != m: split the ordered pairs by whether they use y and z.
    none_m = same**2 + other**2 + 2 * (k - 3) * same * other + (2 * (k - 3) + (k - 3) * (k - 4)) * other**2
    # Centres: k dominant colours x ordered pair of the other two sides' colours x positions (4 adjacent, 2 opposite).
    centres_per_layout = k * pairs
    total = centres_per_layout * (4 * one_m**2 + 2 * both_m * none_m)
    return sp.expand(total)


def count_article(k: int = 3, relaxed: bool = False, dominance: str = "exact") -> int:
    """The article's centre-first algorithm in plain Python: enumerate each arm's k**3 completions per centre.

    ``relaxed=True`` applies the bar rule "centre" (arms need only differ from the centre); ``dominance`` is one of
    ``DOMINANCE_RULES``.
    """
    k, dominance = _check_k(k), _check_rule(dominance)
    if not isinstance(relaxed, bool):
        raise TypeError(f"relaxed must be a bool, got {type(relaxed).__name__}")
    total = 0
    for centre in product(range(k), repeat=4):
        m = _dominant_unchecked(centre, dominance)
        if m is None:
            continue
        tally = {arm: _arm_tally(arm, centre, k, dominance) for arm in ARMS}
        total += _bar_choices(tally, ("U", "B"), m, relaxed) * _bar_choices(tally, ("L", "R"), m, relaxed)
    return total


def _arm_tally(arm: str, centre: Sequence[int], k: int, rule: str = "exact") -> Counter:
    """How many of the arm's k**3 own-edge colourings give each dominant colour (None counted too)."""
    colour = dict(zip(SQUARES["C"], centre))
    tally: Counter = Counter()
    for own in product(range(k), repeat=3):
        colour.update(zip(OWN_EDGES[arm], own))
        tally[_dominant_unchecked([colour[e] for e in SQUARES[arm]], rule)] += 1
    return tally


def _bar_choices(tally: dict[str, Counter], arms: tuple[str, str], m: int, relaxed: bool) -> int:
    """Number of joint completions of a bar's two arms that satisfy the bar condition."""
    first, second = (tally[a] for a in arms)
    total = 0
    for d1, n1 in first.items():
        for d2, n2 in second.items():
            if d1 is None or d2 is None or m in (d1, d2):
                continue
            if relaxed or d1 != d2:
                total += n1 * n2
    return total


# --- Brute force -----------------------------------------------------------------------------------------------
def _digit_table(m: int, k: int) -> np.ndarray:
    """Base-k digits of 0..k**m-1 as an (m, k**m) array; row j is digit j (least significant first)."""
    # Row by row, so the int64 intermediates are one row (4 MB for 3**12) rather than the whole table (51 MB).
    index = np.arange(k**m)
    digits = np.empty((m, k**m), dtype=np.int8)
    for j in range(m):
        digits[j] = (index // k**j) % k
    return digits


_MAX_BLOCK = 3**12  # arm colourings tested at once: each per-block array is at most ~1 MB (int16)


def _check_chunk_pow(chunk_pow: Any, k: int) -> int:
    """Validate the block size exponent of the brute force (None picks the largest block that fits _MAX_BLOCK)."""
    if chunk_pow is None:
        return max(j for j in range(1, N_EDGES - 3) if k**j <= _MAX_BLOCK)
    chunk_pow = _check_int(chunk_pow, "chunk_pow")
    # Small blocks make the Python loop over centres x blocks dominate; large ones would allocate too much.
    low = 6 if k == 3 else 5
    if not low <= chunk_pow <= N_EDGES - 4 or k**chunk_pow > _MAX_BLOCK:
        high = max(j for j in range(1, N_EDGES - 3) if k**j <= _MAX_BLOCK)
        raise ValueError(f"chunk_pow must be between {low} and {high} for k = {k}, got {chunk_pow}")
    return chunk_pow


def _check_centres(centres: Any, k: int) -> list[tuple[int, ...]]:
    """Validate an optional list of centre colourings (None means all k**4)."""
    if centres is None:
        return list(product(range(k), repeat=4))
    if isinstance(centres, (str, bytes)) or not hasattr(centres, "__iter__"):
        raise TypeError(f"centres must be a sequence of 4-colour centres, got {type(centres).__name__}")
    chosen = [_check_colours(c, 4, k, f"centres[{i}]") for i, c in enumerate(centres)]
    if not chosen:
        raise ValueError("centres must not be empty")
    return list(dict.fromkeys(chosen))


def count_bruteforce_by_centre(chunk_pow: int | None = None, k: int = 3, dominance: str = "exact",
                               bars: str = "distinct",
                               centres: Sequence[Sequence[int]] | None = None) -> dict[tuple[int, ...], int]:
    """Valid colourings for each centre colouring, by testing every colouring of the arms' 12 own edges.

    Works for k = 3 and 4 under every rule in ``DOMINANCE_RULES`` and ``BAR_RULES``; the arms are tested in blocks of
    k**chunk_pow, so memory stays near 10 MB whatever k. All k**16 colourings (4.3e9 for k = 4, about a minute) are
    tested unless ``centres`` restricts the centre colourings.
    """
    k = _check_int(k, "k", 3, BRUTEFORCE_MAX_K)
    dominance, bars = _check_rule(dominance), _check_choice(bars, "bars", BAR_RULES)
    chunk_pow = _check_chunk_pow(chunk_pow, k)
    chosen = _check_centres(centres, k)
    n_arm_edges = N_EDGES - 4
    table = _table(k, dominance)
    low = _digit_table(chunk_pow, k).astype(np.int16)  # int16: the table indices below reach k**4 - 1
    counts = dict.fromkeys(chosen, 0)
    needed = {arm: {c[SHARED_EDGE[arm]] for c in chosen} for arm in ARMS}  # shared colours the centres use
    for high in range(k ** (n_arm_edges - chunk_pow)):
        # Arm edge 4 + j takes digit j of the arm index: low digits vary inside the block, high ones are fixed.
        arm_colours = [low[j] if j < chunk_pow else (high // k ** (j - chunk_pow)) % k for j in range(n_arm_edges)]
        # dom[arm][s]: the arm's dominant colour when its shared edge has colour s (reused by many centres).
        dom = {arm: {s: table[_arm_index(arm, s, arm_colours, k)] for s in needed[arm]} for arm in ARMS}
        for c in chosen:
            m = table[_square_index(c, k)]  # -1 for a centre that is not dominated, which then counts zero
            if m < 0:
                continue
            u, left, b, r = (dom[arm][c[SHARED_EDGE[arm]]] for arm in ARMS)
            ok = (u >= 0) & (b >= 0) & (left >= 0) & (r >= 0)
            ok &= (u != m) & (b != m) & (left != m) & (r != m)
            if bars == "distinct":
                ok &= (u != b) & (left != r)
            counts[c] += int(np.count_nonzero(ok))
    return counts


def _arm_index(arm: str, shared: int, arm_colours: list, k: int) -> Any:
    """Dominance-table index of an arm's square, with the shared edge coloured ``shared``."""
    sides = [shared if e == SHARED_EDGE[arm] else arm_colours[e - 4] for e in SQUARES[arm]]
    return _square_index(sides, k)


def count_bruteforce(chunk_pow: int | None = None, k: int = 3, dominance: str = "exact",
                     bars: str = "distinct") -> int:
    """Valid colourings by testing every one of the k**16 colourings (k = 3 in a second, k = 4 in about a minute)."""
    return sum(count_bruteforce_by_centre(chunk_pow, k, dominance, bars).values())


# --- The competing answer --------------------------------------------------------------------------------------
def centre_overcount_total(centres: int) -> int:
    """The total if the centre were counted with ``centres`` colourings instead of the true number (36 for k=3)."""
    centres = _check_int(centres, "centres")
    if centres <= 0:
        raise ValueError(f"centres must be positive, got {centres}")
    total, per_centre = count_by_centre(3)
    # Every centre class contributes a multiple of the same per-centre counts, so an overcount scales the total.
    if total * centres % len(per_centre):
        raise ValueError(f"centres = {centres} does not scale {total} to an integer total")
    return total * centres // len(per_centre)


def ordered_centre_count() -> int:
    """Centre colourings counted as if the two equal-coloured sides were distinguishable (the 54432 slip)."""
    k = 3
    slips = set()
    for m in range(k):
        singles = [c for c in range(k) if c != m]
        for pair in permutations(range(4), 2):  # ordered: "first" and "second" m-side
            rest = [p for p in range(4) if p not in pair]
            for arrangement in permutations(singles):
                slips.add((m, pair, tuple(zip(rest, arrangement))))
    return len(slips)


# --- Whole colourings ------------------------------------------------------------------------------------------
def square_dominants(colouring: Sequence[int], k: int = 3) -> dict[str, int | None]:
    """The dominant colour (or None) of each of the five squares of a colouring."""
    k = _check_k(k)
    colours = _check_colours(colouring, N_EDGES, k, "colouring")
    return {name: _dominant_unchecked([colours[e] for e in edges]) for name, edges in SQUARES.items()}


def is_valid(colouring: Sequence[int], k: int = 3) -> bool:
    """Whether both bars of the colouring have three squares with pairwise distinct dominant colours."""
    doms = square_dominants(colouring, k)
    return all(None not in (doms[a], doms[b], doms[c]) and len({doms[a], doms[b], doms[c]}) == 3 for a, b, c in BARS)


def _assemble(centre: Sequence[int], own: dict[str, Sequence[int]]) -> np.ndarray:
    """A full colouring from the centre's four colours and each arm's own-edge colours."""
    colouring = np.empty(N_EDGES, dtype=np.int64)
    colouring[list(SQUARES["C"])] = centre
    for arm in ARMS:
        colouring[list(OWN_EDGES[arm])] = own[arm]
    return colouring


def valid_colourings(limit: int | None = None, k: int = 3) -> Iterator[np.ndarray]:
    """Yield the valid colourings in a fixed order (centre, then bar dominants, then arm edges), at most ``limit``."""
    k = _check_k(k)
    if limit is not None:
        limit = _check_int(limit, "limit")
        if limit < 0:
            raise ValueError(f"limit must be non-negative or None, got {limit}")
    return _valid_colourings(limit, k)


def _valid_colourings(limit: int | None, k: int) -> Iterator[np.ndarray]:
    """Generator behind valid_colourings (separate so that bad arguments fail at the call)."""
    produced = 0
    for c, m in _dominated_centres(k):
        for (du, db), (dl, dr) in product(list(_ordered_pairs(m, k)), repeat=2):
            choices = [_completions(c[SHARED_EDGE[arm]], d, k) for arm, d in zip(ARMS, (du, dl, db, dr))]
            for own in product(*choices):
                if limit is not None and produced >= limit:
                    return
                yield _assemble(c, dict(zip(ARMS, own)))
                produced += 1


def _pick(rng: np.random.Generator, weights: Sequence[int]) -> int:
    """Index i drawn with probability weights[i] / sum(weights), exactly (integer arithmetic)."""
    cumulative = np.cumsum(weights)
    return int(np.searchsorted(cumulative, rng.integers(cumulative[-1]), side="right"))


def random_valid_colouring(rng: np.random.Generator, k: int = 3) -> np.ndarray:
    """A uniformly random valid colouring (16 colours): centre, bar dominants and arm edges drawn in turn."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    k = _check_k(k)
    centres, weights = zip(*_per_centre(k))
    c = centres[_pick(rng, weights)]
    m = _dominant_unchecked(c)
    target = {}
    for arm1, arm2 in (("U", "B"), ("L", "R")):
        s1, s2 = c[SHARED_EDGE[arm1]], c[SHARED_EDGE[arm2]]
        pairs = list(_ordered_pairs(m, k))
        weights = [len(_completions(s1, a, k)) * len(_completions(s2, b, k)) for a, b in pairs]
        target[arm1], target[arm2] = pairs[_pick(rng, weights)]
    own = {}
    for arm in ARMS:
        options = _completions(c[SHARED_EDGE[arm]], target[arm], k)
        own[arm] = options[int(rng.integers(len(options)))]
    return _assemble(c, own)


# --- Drawing ---------------------------------------------------------------------------------------------------
SQUARE_CENTRES: dict[str, Point] = {"C": (0.5, 0.5), "U": (0.5, 1.5), "L": (-0.5, 0.5), "B": (0.5, -0.5),
                                    "R": (1.5, 0.5)}


def draw_cross(colouring: Sequence[int], ax: Axes | None = None, labels: bool = True,
               palette: Sequence[Any] | None = None) -> Axes:
    """Draw the cross with coloured edges and each square's dominant colour name (or '—') written inside it."""
    colours = palette if palette is not None else PALETTE
    if isinstance(colours, (str, bytes)) or len(colours) < 3:
        raise ValueError("palette must be a sequence of at least 3 colours")
    names = COLOUR_NAMES if palette is None else tuple(str(p) for p in palette)  # a custom palette names itself
    values = _check_colours(colouring, N_EDGES, len(colours), "colouring")
    if ax is None:
        import matplotlib.pyplot as plt  # lazy: importing this module must not pull in matplotlib

        _, ax = plt.subplots(figsize=(4, 4))
    for index, ((x0, y0), (x1, y1)) in enumerate(EDGES):
        ax.plot([x0, x1], [y0, y1], color=colours[values[index]], linewidth=7, solid_capstyle="butt")
        if labels:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, str(index), fontsize=7, ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    for name, d in square_dominants(values, len(colours)).items():
        x, y = SQUARE_CENTRES[name]
        ax.text(x, y, f"{name}\n{'—' if d is None else names[d]}", ha="center", va="center", fontsize=9)
    ax.set_aspect("equal")
    ax.set_xlim(-1.2, 2.2)
    ax.set_ylim(-1.2, 2.2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)  # the course style turns grids on
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax

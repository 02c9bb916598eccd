"""Tests for kexue.position_encoding (chapter: Transformer position encodings, kexue.fm/archives/8130)."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kexue import position_encoding as pe

# The article's table (i - j -> bucket), bidirectional T5 with the defaults, keys at or before the query.
ARTICLE_T5_TABLE = {**{k: k for k in range(8)}, **{k: 8 for k in range(8, 12)}, **{k: 9 for k in range(12, 16)},
                    **{k: 10 for k in range(16, 23)}, **{k: 11 for k in range(23, 31)}}

# p_k . p_(k+m) for d = 128, base 10000 (independent NumPy float64 computation, 6 decimals).
ROOT = Path(__file__).resolve().parents[1]

SINUSOID_DOTS = {0: 64.0, 1: 62.093684, 2: 57.381861, 5: 47.185012, 10: 42.820023, 20: 38.934047, 50: 34.955011,
                 100: 30.543455, 200: 19.564012, 500: 19.102697, 1000: 10.177728}

# RoFormer's long-range bound for d = 128, base 10000 (4 decimals); not monotone after m = 1000.
ROPE_BOUND = {0: 32.5, 1: 31.5382, 10: 17.9541, 50: 12.6295, 100: 10.2273, 250: 6.5482, 500: 6.1898,
              1000: 4.4708, 2000: 5.0468, 4000: 5.0381}


def hf_t5_bucket_float32(rel: np.ndarray, bidirectional: bool, num_buckets: int = 32, max_distance: int = 128):
    """Hugging Face's T5Attention._relative_position_bucket in NumPy float32 (independent of the module)."""
    buckets = np.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).astype(np.int64) * num_buckets
        rel = np.abs(rel)
    else:
        rel = -np.minimum(rel, 0)
    max_exact = num_buckets // 2
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) at rel = 0, which is an exact bucket anyway
        large = max_exact + (np.log(rel.astype(np.float32) / np.float32(max_exact))
                             / np.float32(math.log(max_distance / max_exact))
                             * np.float32(num_buckets - max_exact)).astype(np.int64)
    large = np.minimum(large, num_buckets - 1)
    return buckets + np.where(rel < max_exact, rel, large)


# --- Sinusoids -------------------------------------------------------------------------------------------------
def test_sinusoidal_shape_row_zero_and_layout():
    P = pe.sinusoidal(50, 16)
    assert P.shape == (50, 16)
    np.testing.assert_array_equal(P[0], np.tile([0.0, 1.0], 8))
    theta = 10000.0 ** (-np.arange(8) * 2 / 16)
    np.testing.assert_allclose(P[7, 0::2], np.sin(7 * theta), atol=1e-15)
    np.testing.assert_allclose(P[7, 1::2], np.cos(7 * theta), atol=1e-15)
    np.testing.assert_allclose(pe.frequencies(16), theta)
    np.testing.assert_allclose(pe.sinusoidal_at(np.arange(50), 16), P)


def test_rotation_identity_at_four_shifts():
    d = 128
    worst = 0.0
    for k in (0, 7, 100, 900):
        for m in (1, 5, 50, 1000):
            p_k, p_km = pe.sinusoidal_at(k, d), pe.sinusoidal_at(k + m, d)
            worst = max(worst, np.abs(p_km - pe.rotation_blocks(m, d) @ p_k).max())
    assert worst < 1e-12  # 9.2e-14 in an independent float64 computation


@pytest.mark.parametrize("m, value", SINUSOID_DOTS.items())
def test_sinusoid_dot_products_depend_on_m_only(m, value):
    P = pe.sinusoidal_at(np.array([0, 3, 17, 250, 999]), 128)
    shifted = pe.sinusoidal_at(np.array([0, 3, 17, 250, 999]) + m, 128)
    dots = np.einsum("kd,kd->k", P, shifted)
    assert np.ptp(dots) < 4e-13
    assert round(float(dots[0]), 6) == value
    assert round(pe.sinusoidal_dot(m), 6) == value


def test_rotation_blocks_are_orthogonal_and_compose():
    for a, b in ((1, 2), (-3.5, 10), (100, -100)):
        Ra, Rb = pe.rotation_blocks(a, 12), pe.rotation_blocks(b, 12)
        np.testing.assert_allclose(Ra @ Ra.T, np.eye(12), atol=1e-13)
        np.testing.assert_allclose(Ra @ Rb, pe.rotation_blocks(a + b, 12), atol=1e-12)
    np.testing.assert_array_equal(pe.rotation_blocks(0, 6), np.eye(6))


@settings(max_examples=80, deadline=None)
@given(k=st.integers(-2000, 2000), m=st.integers(-2000, 2000), half=st.integers(1, 64),
       base=st.sampled_from([10.0, 100.0, 10000.0, 5e5]))
def test_rotation_identity_property(k, m, half, base):
    d = 2 * half
    lhs = pe.sinusoidal_at(k + m, d, base)
    rhs = pe.rotation_blocks(m, d, base) @ pe.sinusoidal_at(k, d, base)
    assert np.abs(lhs - rhs).max() < 1e-11


def test_ode_generator_reproduces_the_sinusoid():
    assert np.abs(pe.sinusoidal_from_ode(37, 128) - pe.sinusoidal_at(37, 128)).max() < 1e-12  # 2.4e-14 in an independent float64 computation
    omega = pe.omega_generator(128)
    np.testing.assert_array_equal(omega, -omega.T)
    P = pe.sinusoidal(3, 8)
    # dp/dk = Omega p, by a central difference
    h = 1e-5
    deriv = (pe.sinusoidal_at(1 + h, 8) - pe.sinusoidal_at(1 - h, 8)) / (2 * h)
    np.testing.assert_allclose(deriv, pe.omega_generator(8) @ P[1], atol=1e-9)


@pytest.mark.parametrize("m, value", ROPE_BOUND.items())
def test_rope_decay_bound_values(m, value):
    assert round(pe.rope_decay_bound(m, 128), 4) == value


def test_rope_decay_bound_is_not_monotone_and_vectorises():
    ms = np.arange(0, 4001)
    bound = pe.rope_decay_bound(ms)
    assert bound.shape == ms.shape and bound[0] == 32.5
    assert np.any(np.diff(bound) > 0) and bound[2000] > bound[1000]
    np.testing.assert_allclose(pe.sinusoidal_dot(ms[:5]), [pe.sinusoidal_dot(int(m)) for m in ms[:5]])


# --- RoPE ------------------------------------------------------------------------------------------------------
def test_rope_in_two_dimensions_is_complex_multiplication():
    q, k, theta = 0.3 - 1.2j, -0.7 + 0.4j, 1.0  # d = 2 has theta_0 = 1 for every base
    m, n = 5, 2
    rot = lambda z, t: pe.rope(np.array([z.real, z.imag]), t)  # noqa: E731
    lhs = float(rot(q, m) @ rot(k, n))
    assert abs(lhs - (q * np.conj(k) * np.exp(1j * (m - n) * theta)).real) < 1e-15  # 1.1e-16 in an independent float64 computation
    np.testing.assert_allclose(rot(q, m), [(q * np.exp(1j * m)).real, (q * np.exp(1j * m)).imag], atol=1e-15)


def test_rope_is_the_inverse_sinusoid_rotation_and_broadcasts():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 16))
    pos = np.array([0, 1, 7, -3, 40])
    y = pe.rope(x, pos)
    for row, p in zip(range(5), pos):
        np.testing.assert_allclose(y[row], pe.rotation_blocks(-p, 16) @ x[row], atol=1e-13)
        np.testing.assert_allclose(y[row], x[row] @ pe.rotation_blocks(p, 16), atol=1e-13)  # row-vector form
    np.testing.assert_allclose(pe.rope(x, 3), pe.rope(x, np.full(5, 3)))
    assert pe.rope(x[None], pos).shape == (1, 5, 16)


def test_rope_identity_at_d_128():
    rng = np.random.default_rng(8265)
    q, k = rng.standard_normal(128), rng.standard_normal(128)
    worst = 0.0
    for m, n in ((0, 0), (5, 2), (100, 900), (2048, 7), (-30, 30)):
        worst = max(worst, abs(pe.rope(q, m) @ pe.rope(k, n) - pe.rope(q, m - n) @ k))
    assert worst < 1e-12  # 7.2e-14 in an independent float64 computation


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), half=st.integers(1, 64), m=st.integers(-5000, 5000),
       n=st.integers(-5000, 5000), base=st.sampled_from([10.0, 10000.0, 1e6]))
def test_rope_relative_property_and_norms(seed, half, m, n, base):
    rng = np.random.default_rng(seed)
    d = 2 * half
    q, k = rng.standard_normal(d), rng.standard_normal(d)
    # <rope(q, m), rope(k, n)> = <rope(q, m - n), k>, and in matrix form <R_m q, R_n k> = <q, R_(n-m) k>
    assert abs(pe.rope(q, m, base) @ pe.rope(k, n, base) - pe.rope(q, m - n, base) @ k) < 1e-11
    Rm, Rn, Rnm = (pe.rotation_blocks(t, d, base) for t in (m, n, n - m))
    assert abs((Rm @ q) @ (Rn @ k) - q @ (Rnm @ k)) < 1e-11
    assert abs(np.linalg.norm(pe.rope(q, m, base)) - np.linalg.norm(q)) < 1e-12


def test_rope_scores_are_translation_invariant():
    rng = np.random.default_rng(1)
    params = pe.random_scheme_params(16, rng)
    x = rng.standard_normal((10, 16))
    base = pe.scores("rope", x, params)
    np.testing.assert_allclose(pe.scores("rope", x, params, pos=np.arange(10) + 123), base, atol=1e-12)
    assert pe.toeplitz_spread(pe.position_logits("rope", 40)) < 1e-12


# --- Complex Order ---------------------------------------------------------------------------------------------
def test_complex_order_shift_property():
    rng = np.random.default_rng(2020)
    r, omega, theta = rng.uniform(0.5, 2, 8), rng.uniform(-1, 1, 8), rng.uniform(0, 2 * np.pi, 8)
    for k, m in ((0, 1), (5, 17), (100, -40)):
        shifted = pe.complex_order(r, omega, theta, k + m)
        np.testing.assert_allclose(shifted, pe.complex_order(r, omega, theta, k) * np.exp(1j * omega * m), atol=1e-12)
    table = pe.complex_order(r, omega, theta, np.arange(6))
    assert table.shape == (6, 8)
    np.testing.assert_allclose(np.abs(table), np.broadcast_to(r, (6, 8)))


# --- Trained absolute encodings --------------------------------------------------------------------------------
def test_hierarchical_extend():
    rng = np.random.default_rng(7947)
    P = rng.standard_normal((6, 5))
    alpha = 0.4
    Q = pe.hierarchical_extend(P, alpha)
    assert Q.shape == (36, 5)
    np.testing.assert_allclose(Q[:6], P, atol=1e-14)
    u = (P - alpha * P[0]) / (1 - alpha)
    # row n is alpha u_2 + (1 - alpha) u_1 in the article's 1-based indices
    np.testing.assert_allclose(Q[6], alpha * u[1] + (1 - alpha) * u[0])
    np.testing.assert_allclose(Q[4 * 6 + 2], alpha * u[4] + (1 - alpha) * u[2])
    assert len({row.round(12).tobytes() for row in Q}) == 36
    # alpha = 1/2 cannot tell (i, j) from (j, i)
    half = pe.hierarchical_extend(P, 0.5)
    assert len({row.round(12).tobytes() for row in half}) == 6 * 7 // 2


# --- Attention, its expansion, and the schemes -----------------------------------------------------------------
def test_permutation_equivariance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 8))
    W = [rng.standard_normal((8, 8)) for _ in range(3)]
    perm = rng.permutation(9)
    np.testing.assert_allclose(pe.attention(x[perm], *W), pe.attention(x, *W)[perm], atol=1e-13)
    causal = pe.attention(x, *W, causal=True)
    np.testing.assert_allclose(causal[0], x[0] @ W[2])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), d=st.integers(1, 10), e=st.integers(1, 10))
def test_four_terms_sum_to_the_full_logits(seed, n, d, e):
    rng = np.random.default_rng(seed)
    x, p = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    Wq, Wk = rng.standard_normal((d, e)), rng.standard_normal((d, e))
    terms = pe.attention_terms(x, p, Wq, Wk)
    full = ((x + p) @ Wq) @ ((x + p) @ Wk).T
    assert np.abs(sum(terms) - full).max() < 1e-12 * max(1.0, np.abs(full).max())
    assert all(t.shape == (n, n) for t in terms)
    np.testing.assert_allclose(terms.position_position, p @ Wq @ Wk.T @ p.T, atol=1e-12)


def test_shaw_index_grid():
    i, j = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    grid = pe.shaw_index(i, j, -2, 2)
    expected = np.array([[2, 1, 0, 0, 0, 0],
                         [3, 2, 1, 0, 0, 0],
                         [4, 3, 2, 1, 0, 0],
                         [4, 4, 3, 2, 1, 0],
                         [4, 4, 4, 3, 2, 1],
                         [4, 4, 4, 4, 3, 2]])
    np.testing.assert_array_equal(grid, expected)
    assert pe.shaw_index(10, 0, -3, 5) == 8 and pe.shaw_index(0, 10, -3, 5) == 0
    assert isinstance(pe.shaw_index(1, 0, -1, 1), int)


def test_t5_matches_the_articles_table_exactly():
    for i_minus_j, bucket in ARTICLE_T5_TABLE.items():
        assert pe.t5_bucket(-i_minus_j) == bucket, i_minus_j
    assert pe.t5_bucket(-np.arange(31)).tolist() == list(ARTICLE_T5_TABLE.values())


def test_t5_single_values():
    assert pe.t5_bucket(-90) == 14 and pe.t5_bucket(-91) == 15 and pe.t5_bucket(3) == 19  # i - j = -3
    assert pe.t5_bucket(-18, False) == 16 and pe.t5_bucket(-19, False) == 17
    assert pe.t5_bucket(-113, False) == 31 and pe.t5_bucket(5, False) == 0  # i - j = -5


def starts(values: np.ndarray, offsets: np.ndarray) -> list[tuple[int, int]]:
    """(offset, bucket) where each new bucket begins."""
    return [(int(o), int(v)) for k, (o, v) in enumerate(zip(offsets, values)) if k == 0 or v != values[k - 1]]


def test_t5_bucket_starts_both_modes():
    offsets = np.arange(0, 400)  # i - j
    bi = pe.t5_bucket(-offsets)
    assert starts(bi, offsets) == [(k, k) for k in range(8)] + [(8, 8), (12, 9), (16, 10), (23, 11), (32, 12),
                                                                  (46, 13), (64, 14), (91, 15)]
    after = {-1: 17, -2: 18, -7: 23, -8: 24, -12: 25, -16: 26, -23: 27, -91: 31, -300: 31}
    assert {k: pe.t5_bucket(-k) for k in after} == after  # keys after the query: add 16
    uni = pe.t5_bucket(-offsets, bidirectional=False)
    assert starts(uni, offsets) == [(k, k) for k in range(16)] + [
        (16, 16), (19, 17), (21, 18), (24, 19), (27, 20), (31, 21), (35, 22), (40, 23), (46, 24), (52, 25),
        (59, 26), (67, 27), (77, 28), (87, 29), (99, 30), (113, 31)]
    assert set(pe.t5_bucket(np.arange(1, 50), bidirectional=False).tolist()) == {0}


@pytest.mark.parametrize("bidirectional", [True, False])
def test_t5_agrees_with_the_hugging_face_float32_rule(bidirectional):
    rel = np.arange(-300, 301)
    np.testing.assert_array_equal(pe.t5_bucket(rel, bidirectional), hf_t5_bucket_float32(rel, bidirectional))
    for nb, md in ((16, 64), (64, 256), (8, 20)):
        np.testing.assert_array_equal(pe.t5_bucket(rel, bidirectional, nb, md),
                                      hf_t5_bucket_float32(rel, bidirectional, nb, md))


def test_toeplitz_spread_of_the_position_position_term():
    P = pe.sinusoidal(64, 16)
    W = np.random.default_rng(0).standard_normal((16, 16))
    assert round(pe.toeplitz_spread(P @ W @ P.T), 1) == 35.9
    a, b = np.arange(1.0, 9.0), np.linspace(-1, 1, 8)
    blocks = np.zeros((16, 16))
    for k in range(8):
        blocks[2 * k:2 * k + 2, 2 * k:2 * k + 2] = [[a[k], b[k]], [-b[k], a[k]]]
    assert pe.toeplitz_spread(P @ blocks @ P.T) < 1e-12  # 1.3e-14 in an independent float64 computation
    R = pe.rotation_blocks(3, 16)
    np.testing.assert_allclose(blocks @ R, R @ blocks, atol=1e-14)
    assert pe.toeplitz_spread(np.arange(9.0).reshape(3, 3) * 0 + 1) == 0.0


RELATIVE = ["shaw", "xl", "t5", "deberta"]


@pytest.mark.parametrize("scheme", RELATIVE + ["absolute"])
def test_score_terms_shapes_and_translation(scheme):
    rng = np.random.default_rng(3)
    params = pe.random_scheme_params(8, rng, clip=3)
    x = rng.standard_normal((7, 8))
    terms = pe.score_terms(scheme, x, params)
    assert set(terms) == set(pe.TERMS)
    assert all(t is None or t.shape == (7, 7) for t in terms.values())
    np.testing.assert_allclose(terms["content-content"], x @ params.Wq @ params.Wk.T @ x.T)
    shifted = pe.scores(scheme, x, params, pos=np.arange(7) + 11)
    if scheme == "absolute":
        assert np.abs(shifted - pe.scores(scheme, x, params)).max() > 1e-3
    else:
        np.testing.assert_allclose(shifted, pe.scores(scheme, x, params), atol=1e-12)


def test_which_terms_each_scheme_keeps():
    rng = np.random.default_rng(4)
    params = pe.random_scheme_params(8, rng)
    x = rng.standard_normal((5, 8))
    kept = {s: tuple(t is not None for t in pe.score_terms(s, x, params).values()) for s in ["absolute"] + RELATIVE}
    assert kept == {"absolute": (True,) * 4, "shaw": (True, True, False, False), "xl": (True,) * 4,
                    "t5": (True, False, False, True), "deberta": (True, True, True, False)}


def test_scheme_terms_match_the_formulas():
    rng = np.random.default_rng(5)
    params = pe.random_scheme_params(6, rng, clip=2)
    x = rng.standard_normal((5, 6))
    W = params.Wq @ params.Wk.T
    t = pe.score_terms("deberta", x, params)
    i, j = 4, 0
    r = lambda a, b: params.deberta_r[np.clip(a - b, -2, 2) + 2]  # noqa: E731
    assert np.isclose(t["content-position"][i, j], x[i] @ W @ r(i, j))
    assert np.isclose(t["position-content"][i, j], r(j, i) @ W @ x[j])
    xl = pe.score_terms("xl", x, params)
    R = pe.sinusoidal_at(i - j, 6)
    assert np.isclose(xl["position-position"][i, j], params.v @ params.Wkr.T @ R)
    assert np.isclose(xl["content-position"][i, j], x[i] @ params.Wq @ params.Wkr.T @ R)
    assert np.isclose(xl["position-content"][i, j], params.u @ params.Wk.T @ x[j])
    t5 = pe.score_terms("t5", x, params)["position-position"]
    assert t5[i, j] == params.t5_bias[pe.t5_bucket(j - i)]
    shaw = pe.score_terms("shaw", x, params)["content-position"]
    assert np.isclose(shaw[i, j], x[i] @ params.Wq @ params.shaw_k[pe.shaw_index(i, j, -2, 2)])


@pytest.mark.parametrize("scheme", list(pe.SCHEMES))
def test_position_logits_are_toeplitz_except_through_w(scheme):
    M = pe.position_logits(scheme, 48, d=16)
    assert M.shape == (48, 48)
    if scheme == "sinusoidal-W":
        assert pe.toeplitz_spread(M) > 1.0
    else:
        assert pe.toeplitz_spread(M) < 1e-11


def test_plot_position_logits_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = pe.plot_position_logits("t5", n=20, d=8)
    assert len(axes) == 2 and axes[0].get_xlabel() == "key position j"
    assert axes[1].get_legend() is not None
    plt.close(axes[0].figure)


def test_scheme_gallery_has_a_colour_bar_per_heat_map():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = pe.plot_scheme_gallery(n=16, d=8)
    maps = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(maps) == len(pe.SCHEMES) and len(bars) == len(maps)
    plt.close(fig)


@pytest.mark.parametrize("d", [2, 8, 64, 128])
def test_rope_rotate_half_equals_interleaved_after_permutation(d):
    rng = np.random.default_rng(d)
    x, pos = rng.standard_normal((7, d)), np.array([0, 1, 3, 50, 999, 4096, -12])
    layout = pe.half_layout(d)
    assert sorted(layout.tolist()) == list(range(d))
    np.testing.assert_allclose(pe.rope_rotate_half(x[:, layout], pos), pe.rope(x, pos)[:, layout], atol=1e-12)
    if d > 2:  # the layouts differ unless the permutation is applied
        assert np.abs(pe.rope_rotate_half(x, pos) - pe.rope(x, pos)).max() > 0.1


def test_rope_rotate_half_matches_the_library_formula():
    """x cos + rotate_half(x) sin with rotate_half(x) = (−x2, x1), the layout of common transformer libraries."""
    rng = np.random.default_rng(1)
    x, pos, d = rng.standard_normal((5, 16)), np.arange(5) * 7, 16
    angles = np.concatenate([pos[:, None] * pe.frequencies(d)] * 2, axis=1)
    rotate_half = np.concatenate([-x[:, d // 2:], x[:, :d // 2]], axis=1)
    np.testing.assert_allclose(pe.rope_rotate_half(x, pos), x * np.cos(angles) + rotate_half * np.sin(angles),
                               atol=1e-14)


def test_t5_float32_and_float64_differ_at_an_exact_log_boundary():
    """128 unidirectional buckets, max distance 169 = 64·(13/8)²: at i − j = 104 the real value is exactly 32."""
    rel = -np.arange(169)
    ours = pe.t5_bucket(rel, False, 128, 169)
    reference = hf_t5_bucket_float32(rel, False, 128, 169)
    assert np.nonzero(ours != reference)[0].tolist() == [104]
    n = 104  # exact floor of 64 ln(n/64) / ln(169/64), in integers
    exact = max(k for k in range(64) if 169**k * 64**64 <= n**64 * 64**k)
    assert ours[104] == 64 + exact == reference[104] + 1


def test_chapter_marks_the_cnn_experiment_and_names_the_layouts():
    text = (ROOT / "book" / "04-position-encoding.md").read_text(encoding="utf-8")
    cnn = text.index("### CNNs learn position from zero padding")
    assert "Beyond the article" in text[cnn:text.index("cnn_padding_experiment", cnn)]
    assert "rotate-half" in text and "sqrt{d}" in text and "brief" not in text.lower()


# --- PyTorch experiments ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cnn_runs():
    pytest.importorskip("torch")
    return {pad: pe.cnn_padding_experiment(pad) for pad in ("zeros", "circular")}


@pytest.mark.torch
def test_cnn_zero_padding_reveals_position(cnn_runs):
    zeros = cnn_runs["zeros"]
    assert zeros.accuracy == 1.0 and zeros.loss < 0.05 and zeros.losses[-1] < 0.05
    np.testing.assert_array_equal(zeros.predicted, np.arange(32))
    assert len(zeros.losses) == 300


@pytest.mark.torch
def test_cnn_circular_padding_stays_at_chance(cnn_runs):
    circ = cnn_runs["circular"]
    assert abs(circ.loss - math.log(32)) < 1e-3 and circ.accuracy == 1 / 32
    assert len(set(circ.predicted.tolist())) == 1  # a shift-equivariant net answers the same everywhere


@pytest.mark.torch
def test_cnn_experiment_is_reproducible_and_fast():
    pytest.importorskip("torch")
    a = pe.cnn_padding_experiment("zeros", steps=25)
    b = pe.cnn_padding_experiment("zeros", steps=25)
    assert a.losses == b.losses and a.loss == b.loss
    assert a.seconds < 5


@pytest.fixture(scope="module")
def copy_models():
    pytest.importorskip("torch")
    return {scheme: pe.train_copy_model(scheme) for scheme in pe.COPY_SCHEMES}


@pytest.mark.torch
def test_copy_task_accuracies(copy_models):
    acc = {s: {n: m.accuracy(n) for n in (32, 64)} for s, m in copy_models.items()}
    for scheme in ("learned", "t5", "rope"):
        assert acc[scheme][32] >= 0.95  # 1.00 in a reference run
    assert 0.1 < acc["none"][32] < 0.35  # 0.21 in a reference run
    assert math.isnan(acc["learned"][64]) and acc["rope"][64] >= 0.95 and acc["t5"][64] < acc["t5"][32]
    assert all(len(m.losses) == 300 for m in copy_models.values())


@pytest.mark.torch
def test_copy_task_unseen_t5_buckets_keep_their_initial_bias(copy_models):
    bias = copy_models["t5"].t5_bias
    seen = np.unique(pe.t5_bucket(-np.arange(32), bidirectional=False))
    unseen = np.setdiff1d(np.arange(32), seen)
    assert len(unseen) == 10 and np.all(bias[unseen] == 0)
    target = pe.t5_bucket(-3, bidirectional=False)
    assert bias[target] > 0 > np.delete(bias, np.r_[target, unseen]).max()
    assert copy_models["rope"].t5_bias is None


@pytest.mark.torch
def test_copy_task_benchmark_plumbing():
    pytest.importorskip("torch")
    res = pe.copy_task_benchmark(schemes=("none", "learned"), n_test=(8, 16), n_train=8, steps=3)
    assert set(res) == {"none", "learned"} and set(res["none"]) == {8, 16}
    assert math.isnan(res["learned"][16]) and 0 <= res["none"][8] <= 1
    a = pe.train_copy_model("rope", steps=5, n_train=8)
    b = pe.train_copy_model("rope", steps=5, n_train=8)
    assert a.losses == b.losses and a.accuracy(8) == b.accuracy(8)


@pytest.mark.torch
def test_rope_torch_twin_matches_numpy():
    torch = pytest.importorskip("torch")

    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    theta = torch.tensor(pe.frequencies(8))
    out = pe._rope_torch(torch.tensor(x), theta).numpy()
    np.testing.assert_allclose(out, pe.rope(x, np.arange(5)), atol=1e-12)


# --- Bad inputs ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, name", [
    (lambda: pe.sinusoidal(0, 8), ValueError, "n_pos"),
    (lambda: pe.sinusoidal(4.0, 8), TypeError, "n_pos"),
    (lambda: pe.sinusoidal(4, 7), ValueError, "d"),
    (lambda: pe.sinusoidal(4, 8, base=-1.0), ValueError, "base"),
    (lambda: pe.sinusoidal(4, 8, base="10000"), TypeError, "base"),
    (lambda: pe.rotation_blocks("1", 8), TypeError, "m"),
    (lambda: pe.rotation_blocks(float("nan"), 8), ValueError, "m"),
    (lambda: pe.rotation_blocks(1, True), TypeError, "d"),
    (lambda: pe.rope(np.ones(7), 1), ValueError, "x"),
    (lambda: pe.rope("abc", 1), TypeError, "x"),
    (lambda: pe.rope(np.ones((3, 4)), np.arange(5)), ValueError, "pos"),
    (lambda: pe.rope(np.ones(4), "1"), TypeError, "pos"),
    (lambda: pe.rope_rotate_half(np.ones(7), 1), ValueError, "x"),
    (lambda: pe.rope_rotate_half(np.ones((3, 4)), np.arange(5)), ValueError, "pos"),
    (lambda: pe.rope_rotate_half(np.ones(4), "1"), TypeError, "pos"),
    (lambda: pe.half_layout(7), ValueError, "d"),
    (lambda: pe.plot_scheme_gallery(n=0), ValueError, "n"),
    (lambda: pe.t5_bucket(1.5), TypeError, "rel"),
    (lambda: pe.t5_bucket(1, bidirectional=1), TypeError, "bidirectional"),
    (lambda: pe.t5_bucket(1, num_buckets=2), ValueError, "num_buckets"),
    (lambda: pe.t5_bucket(1, max_distance=8), ValueError, "max_distance"),
    (lambda: pe.shaw_index(0, 1, 3, -3), ValueError, "p_min"),
    (lambda: pe.shaw_index(0.5, 1, -3, 3), TypeError, "i"),
    (lambda: pe.attention_terms(np.ones((3, 4)), np.ones((3, 5)), np.ones((4, 4)), np.ones((4, 4))), ValueError, "p"),
    (lambda: pe.attention_terms(np.ones((3, 4)), np.ones((3, 4)), np.ones((4, 4)), np.ones((4, 2))), ValueError, "Wk"),
    (lambda: pe.attention_terms(np.ones(4), np.ones(4), np.ones((4, 4)), np.ones((4, 4))), ValueError, "x"),
    (lambda: pe.hierarchical_extend(np.ones((3, 2)), 1.0), ValueError, "alpha"),
    (lambda: pe.hierarchical_extend(np.ones(3), 0.4), ValueError, "P"),
    (lambda: pe.complex_order(np.ones(3), np.ones(2), np.ones(3), 1), ValueError, "r, omega and theta"),
    (lambda: pe.complex_order(np.ones(3), np.ones(3), np.ones(3), "k"), TypeError, "k"),
    (lambda: pe.rope_decay_bound(1, d=3), ValueError, "d"),
    (lambda: pe.sinusoidal_dot([1, "a"]), TypeError, "m"),
    (lambda: pe.toeplitz_spread(np.ones((2, 3))), ValueError, "M"),
    (lambda: pe.attention(np.ones((3, 4)), np.ones((4, 4)), np.ones((4, 4)), np.ones((4, 4)), causal="yes"),
     TypeError, "causal"),
    (lambda: pe.attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((4, 4)), np.ones((4, 4))), ValueError, "Wq"),
    (lambda: pe.position_logits("alibi", 8), ValueError, "scheme"),
    (lambda: pe.position_logits("t5", 0), ValueError, "n"),
    (lambda: pe.score_terms("rope", np.ones((2, 8)), pe.random_scheme_params(8, np.random.default_rng(0))),
     ValueError, "scheme"),
    (lambda: pe.score_terms("t5", np.ones((2, 8)), None), TypeError, "params"),
    (lambda: pe.scores("t5", np.ones((2, 8)), pe.random_scheme_params(8, np.random.default_rng(0)), pos=[0, 1, 2]),
     ValueError, "pos"),
    (lambda: pe.random_scheme_params(8, 0), TypeError, "rng"),
    (lambda: pe.cnn_padding_experiment("reflect"), ValueError, "padding"),
    (lambda: pe.cnn_padding_experiment(dilations=(1, 64)), ValueError, "dilations"),
    (lambda: pe.copy_task_benchmark(schemes=("alibi",)), ValueError, "schemes"),
    (lambda: pe.copy_task_benchmark(lag=40), ValueError, "lag"),
    (lambda: pe.copy_task_benchmark(n_test=32), TypeError, "n_test"),
    (lambda: pe.train_copy_model("alibi"), ValueError, "scheme"),
    (lambda: pe.train_copy_model("rope", d=63), ValueError, "d"),
])
def test_bad_inputs_name_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_module_import_does_not_load_torch_or_matplotlib():
    code = "import sys, kexue.position_encoding; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"

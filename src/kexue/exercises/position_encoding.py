"""Checkers for the exercises of chapter 04 (position encodings in Transformers)."""
from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from kexue.exercises import call, grade, register
from kexue.position_encoding import (_softmax, rotation_blocks, sinusoidal, sinusoidal_at, t5_bucket,
                                     toeplitz_spread)


def _as_float_matrix(value: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """A float array of the given shape, or None if ``value`` is not one."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if array.shape == shape and np.all(np.isfinite(array)) else None


def _matrix_8x8(value: Any) -> np.ndarray:
    """A student's R(m) as a finite 8×8 float array, or a ValueError."""
    matrix = _as_float_matrix(value, (8, 8))
    if matrix is None:
        raise ValueError("not a finite 8×8 array")
    return matrix


@register("posenc-rotation",
          hint="Write sin((k+m)θ) and cos((k+m)θ) with the addition formulas and read off the 2×2 block that maps "
               "(sin kθ, cos kθ) to them; one block per frequency θ_i, zeros elsewhere.")
def rotation(answer: Any) -> tuple[bool, str]:
    """A student's R(m) for d = 8, base 10000, compared with rotation_blocks and with the shift property."""
    if not callable(answer):
        return False, "pass a function R(m) that returns an 8×8 array."
    d, ms = 8, (0, 1, 3, 17, -5, 2.5, 100)
    result = grade(answer, [(m,) for m in ms], lambda m: rotation_blocks(m, d),
                   compare=lambda R, ref: np.allclose(R, ref, atol=1e-9), convert=_matrix_8x8, names=("m",),
                   what="values of m")
    if result.passed:
        return True, f"right for all {len(ms)} values of m: R(m) @ p_k = p_(k+m), and R(m) is orthogonal."
    P = sinusoidal_at(np.arange(-10, 12), d)
    shifted = transposed = 0
    for m, R in zip(ms, result.values):
        if R is not None:
            shifted += bool(np.allclose(P @ R.T, sinusoidal_at(np.arange(-10, 12) + m, d), atol=1e-9))
            transposed += bool(m != 0 and np.allclose(R, rotation_blocks(m, d).T, atol=1e-9))
    message = result.message()
    if transposed:
        message += " Your matrix turns the pairs the other way: it maps p_k to p_(k-m) (try its transpose)."
    elif shifted == len(ms):
        message += " It shifts the table correctly but is not the block matrix (check the entries off the blocks)."
    return False, message


def _bucket_number(value: Any) -> int:
    """A student's bucket as an int, or a TypeError if it is not an integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"returned {type(value).__name__}, not an integer")
    return int(value)


@register("posenc-t5-bucket",
          hint="rel = j - i is key minus query. Bidirectional: halve num_buckets and add the half when rel > 0; "
               "small distances (below half of the remaining buckets) are exact; larger ones use the floor of a "
               "log ratio; never exceed the last bucket.")
def t5_buckets(answer: Any) -> tuple[bool, str]:
    """A student's bucket(rel, bidirectional) compared with t5_bucket for every rel in [-300, 300], both modes."""
    if not callable(answer):
        return False, "pass a function bucket(rel, bidirectional) returning an integer."
    rels = np.arange(-300, 301)
    report, total_wrong, mirrored, raised = [], 0, 0, []
    for bidirectional in (True, False):
        ref = t5_bucket(rels, bidirectional)
        result = grade(answer, [(int(r), bidirectional) for r in rels], [int(v) for v in ref],
                       compare=lambda v, e: v == e, convert=_bucket_number, names=("rel", "bidirectional"),
                       what="offsets")
        raised += result.raised
        failed = sorted({case[0] for case in result.wrong} | {case[0] for case, _ in result.raised})
        total_wrong += len(failed)
        mode = "bidirectional" if bidirectional else "unidirectional"
        if failed:
            report.append(f"{mode}: {len(failed)} of {len(rels)} offsets wrong, the smallest |j − i| among them "
                          f"is {min(abs(r) for r in failed)}")
            got = np.array([-1 if v is None else v for v in result.values])
            mirrored += bool(np.array_equal(got, t5_bucket(-rels, bidirectional)))
        else:
            report.append(f"{mode}: all right")
    if total_wrong == 0:
        return True, "right for every offset in [-300, 300] in both modes."
    message = "; ".join(report) + "."
    if mirrored:
        message += " Your buckets are mirror images of T5's: is your argument i − j instead of j − i?"
    if raised:
        message += f" Your function failed {len(raised)} time(s), e.g. {raised[0][1]} at rel = {raised[0][0][0]}."
    return False, message


@register("posenc-ode-generator",
          hint="Differentiate (sin kθ, cos kθ) with respect to k and write the result as a 2×2 matrix times "
               "(sin kθ, cos kθ); stack one such block per frequency.")
def ode_generator(answer: Any) -> tuple[bool, str]:
    """A student's 8×8 Omega: expm(k Omega) p_0 must reproduce the sinusoid for d = 8, base 10000."""
    from scipy.linalg import expm

    d = 8
    omega = _as_float_matrix(answer, (d, d))
    if omega is None:
        return False, "pass a finite 8×8 array Ω."
    p0 = np.tile([0.0, 1.0], d // 2)
    ks = (1, 5, 37)
    hits = sum(bool(np.allclose(expm(k * omega) @ p0, sinusoidal_at(k, d), atol=1e-9)) for k in ks)
    if hits == len(ks):
        skew = "it is skew-symmetric, so every e^(kΩ) is a rotation." if np.allclose(omega, -omega.T) else ""
        return True, f"right: e^(kΩ) p_0 = p_k for k = {list(ks)}; {skew}".rstrip("; ")
    if all(np.allclose(expm(k * -omega) @ p0, sinusoidal_at(k, d), atol=1e-9) for k in ks):
        return False, "your Ω runs the sinusoid backwards (e^(kΩ) p_0 = p_(-k)): check the signs."
    if not np.allclose(omega, -omega.T):
        return False, (f"e^(kΩ) p_0 matches p_k for {hits} of {len(ks)} test positions; note that a flow that "
                       "keeps |p_k| constant needs a skew-symmetric Ω.")
    return False, f"e^(kΩ) p_0 matches p_k for {hits} of {len(ks)} test positions; check the frequencies θ_i."


@register("posenc-commuting-w",
          hint="A matrix commutes with every rotation of the plane exactly when it is a·I + b·J with "
               "J = [[0, 1], [-1, 0]]; use one such 2×2 block per frequency, with different a, b per block.")
def commuting_w(answer: Any) -> tuple[bool, str]:
    """A 16×16 W whose sinusoidal position-position term P W P^T (64 positions) depends only on i - j."""
    d, n = 16, 64
    W = _as_float_matrix(answer, (d, d))
    if W is None:
        return False, "pass a finite 16×16 array W."
    scale = float(np.abs(W).max())
    if scale == 0 or np.allclose(W, np.trace(W) / d * np.eye(d), atol=1e-8 * max(scale, 1.0)):
        return False, "a multiple of the identity is relative but too easy: find a W that is not c·I."
    P = sinusoidal(n, d)
    spread = toeplitz_spread(P @ W @ P.T)
    if spread < 1e-10 * max(scale, 1.0):
        return True, f"right: P W Pᵀ is constant along every diagonal (spread {spread:.1e})."
    R = rotation_blocks(1, d)
    commutator = float(np.abs(W @ R - R @ W).max())
    return False, (f"P W Pᵀ still varies along its diagonals by up to {spread:.3g}; W R_1 − R_1 W has entries up "
                   f"to {commutator:.3g}, so W does not commute with the rotations.")


def _rope_checks(fn: Callable[[Any, Any], Any], rng: np.random.Generator) -> dict[str, Any]:
    """Measure a student's rope(x, pos) for d = 64: norm, relative identity, triviality, shift sensitivity."""
    d, n = 64, 12
    x = rng.standard_normal((n, d))
    pos = np.arange(n) + 5
    out = {}
    value, err = call(fn, x, pos)
    if err:
        return {"error": f"it raised {err}"}
    y = _as_float_matrix(value, (n, d))
    if y is None:
        return {"error": f"rope(x, pos) with x of shape {(n, d)} must return an array of that shape"}
    out["norm"] = float(np.abs(np.linalg.norm(y, axis=1) - np.linalg.norm(x, axis=1)).max())
    q, k = rng.standard_normal((1, d)), rng.standard_normal((1, d))
    worst = 0.0
    for m, m2 in ((3, 7), (40, 2), (0, 11), (123, 100)):
        parts = [call(fn, a, np.array([b])) for a, b in ((q, m), (k, m2), (q, m - m2))]
        if any(e for _, e in parts):
            return {"error": "it raised " + next(e for _, e in parts if e)}
        try:
            a, b, c = (np.asarray(v, dtype=np.float64).ravel() for v, _ in parts)
            worst = max(worst, abs(float(a @ b) - float(c @ k.ravel())))
        except (TypeError, ValueError):
            return {"error": "rope(q, [m]) for q of shape (1, 64) must return an array of that shape"}
    out["identity"] = worst
    one, err = call(fn, q, np.array([1]))
    out["trivial"] = err is None and np.allclose(np.asarray(one, dtype=np.float64).ravel(), q.ravel())
    Wq, Wk, Wv = (rng.standard_normal((d, d)) / 8 for _ in range(3))

    def attend(shift: int, on_values: bool) -> np.ndarray:
        p = pos + shift
        qq, kk, vv = (np.asarray(fn(x @ W, p), dtype=np.float64) for W in (Wq, Wk, Wv))
        return _softmax(qq @ kk.T) @ (vv if on_values else x @ Wv)

    shifts, err = call(lambda: [float(np.abs(attend(0, v) - attend(37, v)).max()) for v in (False, True)])
    if err:
        return {"error": f"it raised {err}"}
    out["qk_shift"], out["v_shift"] = shifts
    return out


@register("posenc-rope-values",
          hint="Rotate each pair (x[2i], x[2i+1]) by pos·θ_i with θ_i = 10000^(−2i/d); broadcast pos over the "
               "rows of x. Rotations keep lengths and compose by adding angles.")
def rope_values(answer: Any) -> tuple[bool, str]:
    """A student's rope(x, pos) for d = 64: relative identity, norms, and absolute information when applied to v."""
    if not callable(answer):
        return False, "pass a function rope(x, pos) taking x of shape (n, 64) and integer positions of shape (n,)."
    result = _rope_checks(answer, np.random.default_rng(2104))
    if "error" in result:
        return False, f"your function could not be used: {result['error']}"
    problems = []
    if result["norm"] > 1e-10:
        problems.append(f"it changes vector lengths (by up to {result['norm']:.2g}); a rotation must not")
    if result["identity"] > 1e-10:
        problems.append(f"<rope(q, m), rope(k, n)> differs from <rope(q, m − n), k> by up to "
                        f"{result['identity']:.2g}")
    if result["trivial"]:
        problems.append("rope(x, 1) returns x unchanged, so positions are ignored")
    if not problems and result["qk_shift"] > 1e-10:
        problems.append(f"attention with RoPE on q and k changes under a global shift ({result['qk_shift']:.2g})")
    if not problems and result["v_shift"] <= 1e-3:
        problems.append("rotating v as well should make outputs depend on absolute position, but they do not")
    if problems:
        return False, "; ".join(problems) + "."
    return True, (f"right: relative identity to {result['identity']:.1e}, norms kept; attention with RoPE on q, k "
                  f"ignores a global shift ({result['qk_shift']:.1e}) while rotating v too makes outputs move by "
                  f"up to {result['v_shift']:.2f}.")

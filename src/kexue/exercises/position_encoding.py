"""Checkers for the exercises of chapter 04 (position encodings in Transformers)."""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from kexue.exercises import as_int, call, grade, register
from kexue.position_encoding import (_softmax, half_layout, omega_generator, rope, rope_rotate_half,
                                     rotation_blocks, sinusoidal, sinusoidal_at, sinusoidal_dot, t5_bucket,
                                     toeplitz_spread)


def _as_float_matrix(value: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """A float array of the given shape, or None if ``value`` is not one."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if array.shape == shape and np.all(np.isfinite(array)) else None


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
          hint="Differentiate each coordinate of the concatenated table with respect to k: the derivative of "
               "sin(kθ_i) is θ_i cos(kθ_i), which lives d/2 places further on; write that as a matrix.")
def ode_generator(answer: Any) -> tuple[bool, str]:
    """A student's 8×8 Omega for the concatenated layout (all sines, then all cosines), d = 8, base 10000."""
    from scipy.linalg import expm

    d, layout = 8, half_layout(8)
    omega = _as_float_matrix(answer, (d, d))
    if omega is None:
        return False, "pass a finite 8×8 array Ω."
    p0 = sinusoidal_at(0, d)[layout]
    ks = (1, 5, 37)

    def reproduces(generator: np.ndarray, sign: int = 1) -> bool:
        return all(np.allclose(expm(k * generator) @ p0, sinusoidal_at(sign * k, d)[layout], atol=1e-9)
                   for k in ks)

    if reproduces(omega):
        return True, f"right: e^(kΩ) q_0 = q_k in the concatenated layout for k = {list(ks)}."
    if np.allclose(omega, omega_generator(d), atol=1e-9):
        return False, "this is the generator of the interleaved table; here the sines come first, then the cosines."
    if reproduces(omega, -1):
        return False, "your Ω runs the sinusoid backwards (e^(kΩ) q_0 = q_(-k)): check the signs."
    if not np.allclose(omega, -omega.T):
        return False, "e^(kΩ) q_0 does not follow the table; note that a flow that keeps |q_k| constant needs a " \
                      "skew-symmetric Ω."
    return False, "Ω is skew-symmetric but e^(kΩ) q_0 does not follow the table: check which coordinates it couples " \
                  "and the frequencies θ_i."


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


def _rope_convention(fn: Callable[[Any, Any], Any]) -> list[str]:
    """What a relative, length-keeping rope(x, pos) does differently from the chapter's (layout, direction, base)."""
    d = 64
    x = np.random.default_rng(8130).standard_normal((5, d))
    pos = np.array([1, 2, 7, 40, 300])
    value, err = call(fn, x, pos)
    if err or _as_float_matrix(value, x.shape) is None:
        return ["rope(x, pos) must return an array of x's shape"]
    y = np.asarray(value, dtype=np.float64)
    if np.allclose(y, rope(x, pos), atol=1e-9):
        return []
    if np.allclose(y, rope(x, -pos), atol=1e-9):
        return ["it turns the pairs clockwise; the chapter multiplies by e^(+i·pos·θ), counter-clockwise"]
    if np.allclose(y, rope_rotate_half(x, pos), atol=1e-9):
        return ["it pairs coordinate i with i + d/2 (the rotate-half layout); this exercise pairs (2i, 2i + 1)"]
    if np.allclose(y[:, :2], rope(x, pos)[:, :2], atol=1e-9):  # θ_0 = 1 for every base
        return ["the first pair is right but the later frequencies are not θ_i = 10000^(−2i/d): check the base"]
    return ["it is relative and keeps lengths, but it is not the rotation of the pairs (2i, 2i + 1) by pos·θ_i"]


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
    if not problems:
        problems += _rope_convention(answer)
    if not problems and result["v_shift"] <= 1e-3:
        problems.append("rotating v as well should make outputs depend on absolute position, but they do not")
    if problems:
        return False, "; ".join(problems) + "."
    return True, (f"right: relative identity to {result['identity']:.1e}, norms kept; attention with RoPE on q, k "
                  f"ignores a global shift ({result['qk_shift']:.1e}) while rotating v too makes outputs move by "
                  f"up to {result['v_shift']:.2f}.")


_FLOAT32_CASE = {"bidirectional": False, "num_buckets": 128, "max_distance": 169}


def _bucket_float32(n: int) -> int:
    """T5's unidirectional bucket of i - j = n >= 0 with the logarithm taken in float32, as its reference code does."""
    exact, scale = _FLOAT32_CASE["num_buckets"] // 2, _FLOAT32_CASE["num_buckets"] // 2
    if n < exact:
        return n
    ratio = np.log(np.float32(n) / np.float32(exact)) / np.float32(math.log(_FLOAT32_CASE["max_distance"] / exact))
    return min(exact + int(np.floor(ratio * np.float32(scale))), _FLOAT32_CASE["num_buckets"] - 1)


@register("posenc-t5-float32",
          hint="Scan i − j from 0 to max_distance, computing the bucket once in float64 (pe.t5_bucket) and once "
               "with every step of the logarithm in np.float32; then decide with exact integer arithmetic.")
def t5_float32(answer: Any) -> tuple[bool, str]:
    """The offset i - j at which float32 and float64 T5 buckets disagree for 128 buckets, max distance 169."""
    n = as_int(answer, "the offset i − j")
    if n < 0:
        return False, "give i − j ≥ 0: in a decoder every key is at or before its query."
    if n >= _FLOAT32_CASE["max_distance"]:
        return False, "beyond max_distance every offset lands in the last bucket in both precisions."
    ours = int(t5_bucket(-n, **_FLOAT32_CASE))
    if ours == _bucket_float32(n):
        return False, "at that offset float32 and float64 give the same bucket."
    return True, "right: the two precisions land in neighbouring buckets there, exactly on a log boundary."


@register("posenc-decay-base",
          hint="Compute Σ_i cos(m θ_i) for every integer m with pe.sinusoidal_dot(m, d=128, base=100.0), plot it "
               "beside base 10000, and look for the first sign change.")
def decay_base(answer: Any) -> tuple[bool, str]:
    """The smallest m >= 1 at which the d = 128 sinusoid dot product with base 100 becomes negative."""
    m = as_int(answer, "m")
    if m < 1:
        return False, "give a distance m ≥ 1; at m = 0 the dot product is d/2."
    if sinusoidal_dot(m, 128, 100.0) >= 0:
        if sinusoidal_dot(m, 128, 10000.0) < 0:
            return False, "the sum is negative there for base 10000, but this exercise asks about base 100."
        return False, "at that m the sum for base 100 is still non-negative."
    earlier = int(np.sum(sinusoidal_dot(np.arange(1, m), 128, 100.0) < 0))
    if earlier:
        return False, "the sum is negative there, but it already dipped below 0 at a smaller m."
    return True, "right: the first distance at which the base-100 sum turns negative."

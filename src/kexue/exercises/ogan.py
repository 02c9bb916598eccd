"""Checkers for the exercises of chapter 13 (O-GAN: the encoder as discriminator via a correlation).

``kexue.ogan`` (and with it torch) is imported inside the checkers, so that loading every checker stays cheap.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from kexue.exercises import call, grade, register

if TYPE_CHECKING:
    import torch
    from torch import nn


def _verdict_count(right: int, total: int, what: str) -> str:
    return f"{right} of {total} {what} right."


def _pearson_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """100 random correlated pairs (z, zh) of lengths 3 to 32, with offsets and scales."""
    rng = np.random.default_rng(6409)
    cases = []
    for _ in range(100):
        n = int(rng.integers(3, 33))
        z = rng.normal(size=n) * rng.uniform(0.5, 3) + rng.normal()
        cases.append((z, 0.6 * z + rng.normal(size=n) + rng.normal() * 3))
    return cases


@register("ogan-pearson",
          hint="Centre both vectors with their own mean, then divide the dot product by the product of the two "
               "norms; the 1/n (or 1/(n-1)) factors must cancel.")
def pearson_function(answer: Any) -> tuple[bool, str]:
    """A student's pearson(z, zh) for 1-D arrays, compared with np.corrcoef on 100 random pairs."""
    if not callable(answer):
        return False, "pass a function pearson(z, zh) that returns a number."
    cases = _pearson_cases()
    expected = [float(np.corrcoef(z, zh)[0, 1]) for z, zh in cases]
    result = grade(answer, cases, expected, compare=lambda v, e: math.isclose(v, e, rel_tol=1e-7, abs_tol=1e-9),
                   convert=float, names=("z", "zh"), what="random pairs")
    if result.passed:
        return True, "agrees with np.corrcoef on all 100 random pairs."
    message = f"agrees with np.corrcoef on {result.right} of 100 random pairs. " + result.message()
    ratios = [v / e for v, e in zip(result.values, expected)
              if v is not None and e != 0 and math.isfinite(v) and not math.isclose(v, e, rel_tol=1e-7, abs_tol=1e-9)]
    if ratios and np.allclose(ratios, -1):
        message += " The sign is flipped."
    elif ratios and np.std(ratios) > 1e-6 and min(ratios) > 0:
        message += " The error is a factor that changes with the length n: check the normalisations."
    return False, message


_TRANSFORMS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "3.2 * zh - 5": lambda zh, z: 3.2 * zh - 5,
    "-2 * zh": lambda zh, z: -2 * zh,
    "zh + 7": lambda zh, z: zh + 7,
    "0.01 * zh": lambda zh, z: 0.01 * zh,
    "zh ** 3": lambda zh, z: zh**3,
    "zh + z": lambda zh, z: zh + z,
    "np.exp(zh)": lambda zh, z: np.exp(zh),
    "zh[::-1]": lambda zh, z: zh[::-1],
    "zh - zh.mean()": lambda zh, z: zh - zh.mean(),
    "(zh - zh.mean()) / zh.std()": lambda zh, z: (zh - zh.mean()) / zh.std(),
}


def _invariance_truth() -> list[bool]:
    """Whether each transformation in INVARIANCE_CASES leaves rho unchanged, decided numerically."""
    from kexue.ogan import INVARIANCE_CASES, pearson

    assert tuple(_TRANSFORMS) == INVARIANCE_CASES, "the transformations must follow ogan.INVARIANCE_CASES"
    rng = np.random.default_rng(1903)
    truth = []
    for label in INVARIANCE_CASES:
        ok = True
        for _ in range(20):
            z, zh = rng.normal(size=8), rng.normal(size=8) + 0.1
            ok &= abs(float(pearson(z, _TRANSFORMS[label](zh, z))) - float(pearson(z, zh))) < 1e-9
        truth.append(bool(ok))
    return truth


@register("ogan-invariances",
          hint="rho compares the standardised vectors N(z) and N(zh). A map of zh is harmless exactly when it does "
               "not change N(zh).")
def invariances(answer: Any) -> tuple[bool, str]:
    """A list of booleans (or a dict label -> bool) for the transformations in INVARIANCE_CASES."""
    from kexue.ogan import INVARIANCE_CASES

    if isinstance(answer, dict):
        missing = [c for c in INVARIANCE_CASES if c not in answer]
        if missing:
            return False, (f"the dict lacks {len(missing)} of the {len(INVARIANCE_CASES)} cases "
                           "(use INVARIANCE_CASES as keys).")
        answer = [answer[c] for c in INVARIANCE_CASES]
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        return False, f"give a list of {len(INVARIANCE_CASES)} booleans, one per entry of INVARIANCE_CASES."
    answer = list(answer)
    if len(answer) != len(INVARIANCE_CASES) or not all(isinstance(a, (bool, np.bool_)) for a in answer):
        return False, f"give a list of {len(INVARIANCE_CASES)} booleans, one per entry of INVARIANCE_CASES."
    truth = _invariance_truth()
    right = sum(bool(a) == t for a, t in zip(answer, truth))
    if right == len(truth):
        return True, "all right: exactly the maps a * zh + b with a > 0 leave rho unchanged."
    return False, _verdict_count(right, len(truth), "answers are")


def _float_pair(value: Any) -> tuple[float, float]:
    """A returned pair of numbers as two floats (a TypeError or ValueError otherwise)."""
    first, second = value
    return float(first), float(second)


@register("ogan-typical-set",
          hint="avg(z) is a mean of n independent standard normals; for std^2 remember that the sample's own mean "
               "is subtracted, which removes one degree of freedom.")
def typical_set(answer: Any) -> tuple[bool, str]:
    """A function n -> (Var[avg z], E[std(z)^2]) for z ~ N(0, I_n), exact, checked for n = 3 .. 64."""
    if not callable(answer):
        return False, "pass a function f(n) returning the pair (Var[avg z], E[std(z)^2])."
    sizes = range(3, 65)
    result = grade(answer, [(n,) for n in sizes], lambda n: (1 / n, (n - 1) / n), rtol=1e-9, convert=_float_pair,
                   names=("n",), what="values of n")
    values = [(math.nan, math.nan) if v is None else v for v in result.values]
    ok_var = sum(math.isclose(v[0], 1 / n, rel_tol=1e-9) for v, n in zip(values, sizes))
    ok_std = sum(math.isclose(v[1], (n - 1) / n, rel_tol=1e-9) for v, n in zip(values, sizes))
    total = len(sizes)
    if ok_var == ok_std == total:
        return True, "both are exact for every n from 3 to 64."
    message = (f"Var[avg z] is exact for {ok_var} of {total} values of n and E[std(z)^2] for {ok_std} of {total} "
               "(a Monte Carlo estimate is not exact: derive the formulas).")
    if result.raised:
        case, error = result.raised[0]
        message += (f" Your function raised an exception or returned something other than two numbers for "
                    f"{len(result.raised)} value(s) of n, first {error} at n = {case[0]}.")
    return False, message


def _variant_reference(E: nn.Module, G: nn.Module, x: torch.Tensor, z: torch.Tensor) -> tuple[list, list]:
    """The gradients the variant asks for: E on t1 + lam1 qp - lam2 corr, G on avg E(G(z)) alone."""
    import torch

    from kexue.ogan import ogan_terms

    terms = ogan_terms(E, G, x, z)
    e_loss = terms["t1"].mean() + 0.25 * terms["qp"].mean() - 0.5 * terms["corr"].mean()
    e_grads = torch.autograd.grad(e_loss, list(E.parameters()), allow_unused=True, retain_graph=True)
    g_grads = torch.autograd.grad(terms["t2"].mean(), list(G.parameters()), allow_unused=True)
    return list(e_grads), list(g_grads)


def _same_gradients(got: Sequence[Any], expected: Sequence[Any]) -> bool:
    """Whether two lists of parameter gradients agree (None counts as zero)."""
    import torch

    for g, e in zip(got, expected):
        if g is None and e is None:
            continue
        g = torch.zeros_like(e) if g is None else g
        e = torch.zeros_like(g) if e is None else e
        if g.shape != e.shape or not torch.allclose(g, e, rtol=1e-4, atol=1e-7):
            return False
    return True


def _all_zero(grads: Sequence[Any]) -> bool:
    return all(g is None or float(g.abs().max()) == 0.0 for g in grads)


@register("ogan-routing",
          hint="Start from the official loss built from ogan.ogan_terms. Only one of its terms reaches a network it "
               "should not reach in the variant; recompute that term so that one of its inputs is detached.")
def routing(answer: Any) -> tuple[bool, str]:
    """A function variant_loss(E, G, x, z) -> one scalar whose gradient trains E on t1 + lam1 qp - lam2 corr and G
    on avg E(G(z)) alone (lam1 = 0.25, lam2 = 0.5), compared with autograd on a tiny model."""
    if not callable(answer):
        return False, "pass a function variant_loss(E, G, x, z) returning one scalar loss tensor."
    import torch

    from kexue.ogan import make_mlp_ogan

    torch.manual_seed(0)
    E, G = make_mlp_ogan(n_x=6, n_z=4, hidden=8)
    gen = torch.Generator().manual_seed(1)
    x, z = torch.rand(5, 6, generator=gen) * 2 - 1, torch.randn(5, 4, generator=gen)
    e_ref, g_ref = _variant_reference(E, G, x, z)
    loss, error = call(answer, E, G, x.clone(), z.clone())
    if error:
        return False, f"your function raised {error}."
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        return False, "return one scalar torch tensor (take the batch means inside your function)."
    if not loss.requires_grad:
        return False, "your loss has no gradient at all: something detaches everything."
    params = [*E.parameters(), *G.parameters()]
    grads = list(torch.autograd.grad(loss.reshape(()), params, allow_unused=True))
    n_e = len(list(E.parameters()))
    e_got, g_got = grads[:n_e], grads[n_e:]
    e_ok, g_ok = _same_gradients(e_got, e_ref), _same_gradients(g_got, g_ref)
    if e_ok and g_ok:
        return True, "one backward pass gives each network exactly its objective."
    parts = []
    for net, ok, got in (("encoder E", e_ok, e_got), ("generator G", g_ok, g_got)):
        if ok:
            parts.append(f"the gradient on the {net} is right")
        elif _all_zero(got):
            parts.append(f"your loss sends no gradient to the {net}")
        else:
            parts.append(f"the gradient on the {net} differs from its objective's")
    message = "; ".join(parts) + "."
    if e_ok and not g_ok:
        message += " The generator still learns from a term it should not see, or misses its own."
    return False, message[0].upper() + message[1:]


def _mse_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """40 batches of pairs (z, c) of lengths 3 to 32, with offsets and scales, some codes nearly collinear."""
    rng = np.random.default_rng(1903)
    cases = []
    for i in range(40):
        n, batch = int(rng.integers(3, 33)), int(rng.integers(1, 6))
        z = rng.normal(size=(batch, n))
        c = (0.8 * z + rng.normal(size=(batch, n)) * (0.1 if i % 4 == 0 else 1.0)) * rng.uniform(0.3, 3)
        cases.append((z, c + rng.normal(size=(batch, 1)) * 2))
    return cases


def _mse_truth(z: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from kexue.ogan import pearson

    sz, sc = z.std(-1), c.std(-1)
    return ((z.mean(-1) - c.mean(-1)) ** 2, (sz - sc) ** 2, 2 * sz * sc * (1 - pearson(z, c)))


def _three_arrays(value: Any, batch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A returned triple as three float arrays of shape (batch,), or None."""
    try:
        parts = tuple(np.broadcast_to(np.asarray(p, dtype=float).reshape(-1), (batch,)) for p in value)
    except (TypeError, ValueError):
        return None
    return parts if len(parts) == 3 else None


@register("ogan-mse-parts",
          hint="Write z - c as (avg z - avg c)·1 plus the difference of the two centred vectors, expand the squared "
               "norm, and use that the centred vectors are std times N(·) and that N(z)·N(c) = n rho.")
def mse_parts(answer: Any) -> tuple[bool, str]:
    """A function mse_parts(z, c) -> (mean part, spread part, direction part), each of shape (batch,), for batches of
    vectors z, c of shape (batch, n); the three must be the exact split of mean((z - c)**2, -1)."""
    if not callable(answer):
        return False, "pass a function mse_parts(z, c) returning three arrays: the mean, spread and direction parts."
    cases = _mse_cases()
    names = ("mean", "spread", "direction")
    right = dict.fromkeys(names, 0)
    sums, raised, malformed = 0, [], 0
    for z, c in cases:
        got, error = call(answer, z.copy(), c.copy())
        if error:
            raised.append(error)
            continue
        parts = _three_arrays(got, len(z))
        if parts is None or not all(np.isfinite(p).all() for p in parts):
            malformed += 1
            continue
        mse = ((z - c) ** 2).mean(-1)
        sums += bool(np.allclose(sum(parts), mse, rtol=1e-7, atol=1e-10))
        for name, p, t in zip(names, parts, _mse_truth(z, c)):
            right[name] += bool(np.allclose(p, t, rtol=1e-7, atol=1e-10))
    total = len(cases)
    if all(v == total for v in right.values()):
        return True, f"all three parts are exact on all {total} batches, and they add up to the squared error."
    message = (f"the parts add up to the mean squared error on {sums} of {total} batches; exact parts: mean on "
               f"{right['mean']}, spread on {right['spread']}, direction on {right['direction']}.")
    if sums == total:
        message += " The sum is right, so the split between the parts is what is wrong."
    if raised:
        message += f" Your function raised an exception on {len(raised)} batch(es), first {raised[0]}."
    if malformed:
        message += (f" On {malformed} batch(es) it did not return three finite arrays of one value per row "
                    "(shape (batch,)).")
    return False, message[0].upper() + message[1:]


@register("ogan-null-correlation",
          hint="For independent Gaussian vectors the direction N(zh) is uniform on a sphere in the hyperplane "
               "orthogonal to 1; rho is one coordinate of a uniform point on that sphere. How many dimensions?")
def null_correlation(answer: Any) -> tuple[bool, str]:
    """A function n -> standard deviation of rho(z, zh) for independent z, zh ~ N(0, I_n), exact for n = 3 .. 64."""
    if not callable(answer):
        return False, "pass a function f(n) returning the standard deviation of rho for independent vectors."
    sizes = range(3, 65)
    result = grade(answer, [(n,) for n in sizes], lambda n: 1 / math.sqrt(n - 1), rtol=1e-9, convert=float,
                   names=("n",), what="values of n")
    if result.passed:
        return True, "exact for every n from 3 to 64."
    message = (f"exact for {result.right} of {len(sizes)} values of n (a Monte Carlo estimate is not exact: "
               "derive the formula).")
    values = [v for v in result.values if v is not None]
    if len(values) == len(sizes) and all(math.isfinite(v) and v > 0 for v in values):
        large = math.isclose(values[-1] * math.sqrt(63), 1, rel_tol=0.02)
        if large:
            message += " It is close for large n but not for small n: count the dimensions again."
    return False, message


@lru_cache(maxsize=64)
def _reference_counts(img_dim: int, z_dim: int, kernel_size: int) -> tuple[int, int]:
    """Trainable parameters of the official (E, G) at these settings, counted on the meta device."""
    from kexue.ogan import count_parameters, official_architecture

    E, G = official_architecture(img_dim, z_dim, kernel_size=kernel_size)
    return count_parameters(E), count_parameters(G)


@register("ogan-param-count",
          hint="Each conv has k*k*c_in*c_out weights and c_out biases (transposed convs too); each BatchNorm has a "
               "scale and a shift per channel; the first conv has no BatchNorm, every generator layer but the last "
               "has one.")
def param_count(answer: Any) -> tuple[bool, str]:
    """A function (img_dim, z_dim, kernel_size) -> (E, G) trainable parameter counts of the official architecture."""
    if not callable(answer):
        return False, "pass a function f(img_dim, z_dim, kernel_size) returning the pair (params of E, params of G)."
    cases = [(d, z, k) for d in (32, 64, 128, 256) for z in (16, 128, 256) for k in (3, 4, 5)]
    result = grade(answer, cases, _reference_counts, compare=lambda v, e: tuple(v) == tuple(e), convert=_int_pair,
                   names=("img_dim", "z_dim", "kernel_size"), what="settings")
    if result.passed:
        return True, f"both counts are exact for all {len(cases)} settings."
    values = [(None, None) if v is None else v for v in result.values]
    expected = [_reference_counts(*c) for c in cases]
    ok_e = sum(v[0] == e[0] for v, e in zip(values, expected))
    ok_g = sum(v[1] == e[1] for v, e in zip(values, expected))
    message = (f"the encoder count is exact for {ok_e} of {len(cases)} settings and the generator count for "
               f"{ok_g} of {len(cases)}.")
    if result.raised:
        message += f" Your function failed for {len(result.raised)} setting(s): {result.raised[0][1]}."
    return False, message


def _int_pair(value: Any) -> tuple[int, int]:
    """A returned pair of counts as two ints (a TypeError or ValueError otherwise)."""
    first, second = value
    if float(first) != int(first) or float(second) != int(second):
        raise ValueError("counts must be whole numbers")
    return int(first), int(second)

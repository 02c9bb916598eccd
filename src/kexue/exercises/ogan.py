"""Checkers for the exercises of chapter 13 (O-GAN: the encoder as discriminator via a correlation).

``kexue.ogan`` (and with it torch) is imported inside the checkers, so that loading every checker stays cheap.
"""
from __future__ import annotations

import math
from collections.abc import Callable
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


def _reference_routing(E: nn.Module, G: nn.Module, x: torch.Tensor, z: torch.Tensor) -> dict[str, float]:
    """Gradient norms of the batch means of t1 and t2 with respect to E's and G's parameters."""
    import torch

    from kexue.ogan import ogan_terms

    norms = {}
    for term in ("t1", "t2"):
        terms = ogan_terms(E, G, x, z)
        grads = torch.autograd.grad(terms[term].mean(), [*E.parameters(), *G.parameters()], allow_unused=True)
        n_e = len(list(E.parameters()))
        for net, part in (("E", grads[:n_e]), ("G", grads[n_e:])):
            sq = sum(float((g**2).sum()) for g in part if g is not None)
            norms[f"{term}_{net}"] = math.sqrt(sq)
    return norms


@register("ogan-routing",
          hint="For each term, compute the batch mean, backpropagate it alone (gradients zeroed before), and take "
               "the norm of all of E's, then all of G's, parameter gradients.")
def routing(answer: Any) -> tuple[bool, str]:
    """A function routing(E, G, x, z) -> {'t1_E', 't1_G', 't2_E', 't2_G': gradient norms}, on a tiny model."""
    if not callable(answer):
        return False, "pass a function routing(E, G, x, z) returning a dict of the four gradient norms."
    import torch

    from kexue.ogan import ROUTING_KEYS, make_mlp_ogan

    torch.manual_seed(0)
    E, G = make_mlp_ogan(n_x=6, n_z=4, hidden=8)
    gen = torch.Generator().manual_seed(1)
    x, z = torch.rand(5, 6, generator=gen) * 2 - 1, torch.randn(5, 4, generator=gen)
    expected = _reference_routing(E, G, x, z)
    for p in [*E.parameters(), *G.parameters()]:
        p.grad = None
    got, error = call(answer, E, G, x.clone(), z.clone())
    if error:
        return False, f"your function raised {error}."
    if not isinstance(got, dict) or set(got) != set(ROUTING_KEYS):
        return False, f"return a dict with exactly the keys {ROUTING_KEYS}."
    try:
        values = {k: float(v) for k, v in got.items()}
    except (TypeError, ValueError):
        return False, "each value must be a number (a gradient norm)."
    zero_ok = sum((values[k] < 1e-6) == (expected[k] < 1e-6) for k in ROUTING_KEYS)
    close = sum(math.isclose(values[k], expected[k], rel_tol=1e-4, abs_tol=1e-6) for k in ROUTING_KEYS)
    if close == 4:
        return True, "all four norms agree with autograd; the zeros are where the stop-gradients put them."
    if zero_ok == 4:
        return False, ("which norms vanish is right, but the non-zero norms differ from autograd's "
                       "(did gradients accumulate between the two backward passes?).")
    return False, _verdict_count(zero_ok, 4, "zero/non-zero verdicts are")


@lru_cache(maxsize=1)
def _reference_digit_classifier() -> Any:
    """The digit classifier of the chapter (train split, pixels scaled to [-1, 1]), fitted once."""
    from kexue.data import digits_split
    from kexue.ogan import digit_classifier

    train, _ = digits_split()
    return digit_classifier(train.images.reshape(len(train), -1) / 8 - 1, train.labels)


@lru_cache(maxsize=1)
def _reference_train_images() -> np.ndarray:
    """The chapter's training digits as (n, 64) pixels in [-1, 1]."""
    from kexue.data import digits_split

    train, _ = digits_split()
    return train.images.reshape(len(train), -1) / 8 - 1


def _trained_generator(images: np.ndarray, name: str) -> str:
    """An empty string if 450 samples look like the work of a trained digit generator, else what is wrong."""
    from kexue.ogan import nearest_mse

    if not np.isfinite(images).all():
        return f"the {name} generator produces non-finite pixels."
    if float(images.std(axis=0).mean()) < 0.05:
        return f"the {name} generator gives (almost) the same image for every z: it is not a trained generator."
    if float(nearest_mse(images, _reference_train_images()).mean()) > NEAREST_DIGIT_MSE:
        return (f"the {name} generator's samples are far from every training digit: train it "
                "(as in the chapter) before comparing diversity.")
    return ""


# Mean per-pixel squared distance from a sample to its nearest training digit: trained generators in the chapter
# stay well below it, untrained or constant ones lie above it.
NEAREST_DIGIT_MSE = 0.25


@register("ogan-mse-collapse",
          hint="Train twice with lam2 = 8, once with recon='mse' and once with recon='corr', and pass the two "
               "generators as {'mse': G_mse, 'corr': G_corr}.")
def mse_collapse(answer: Any) -> tuple[bool, str]:
    """Two digit generators trained with a strong MSE and a strong correlation term; MSE must lose diversity."""
    if not isinstance(answer, dict) or set(answer) != {"mse", "corr"}:
        return False, "pass a dict {'mse': G_mse, 'corr': G_corr} of two trained generators."
    from torch import nn

    from kexue.ogan import class_entropy, sample

    if not all(isinstance(g, nn.Module) for g in answer.values()):
        return False, "both values must be torch generators (nn.Module) mapping z to 64-pixel digits."
    clf = _reference_digit_classifier()
    entropy = {}
    for name, G in answer.items():
        images, error = call(sample, G, 450, 2)
        if error:
            return False, f"sampling the {name} generator failed: {error}"
        if images.reshape(450, -1).shape[1] != 64:
            return False, f"the {name} generator must produce 64-pixel (8×8) digits."
        verdict = _trained_generator(images.reshape(450, 64), name)
        if verdict:
            return False, verdict
        entropy[name] = class_entropy(clf, images)
    text = (f"class-histogram entropy of 450 samples: MSE model {entropy['mse']:.2f}, correlation model "
            f"{entropy['corr']:.2f} nats (uniform over 10 digits: {math.log(10):.2f}).")
    if entropy["mse"] < 2.0 and entropy["corr"] > 2.1:
        return True, text + " The strong MSE term collapses diversity; the correlation term does not."
    if entropy["mse"] >= 2.0:
        return False, text + " The MSE model still produces diverse digits: make its weight stronger."
    return False, text + " The correlation model lost diversity too: check its training."


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

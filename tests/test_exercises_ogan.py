"""Tests for the exercise checkers of chapter 13 (kexue.exercises.ogan)."""
from __future__ import annotations

import math

import numpy as np
import pytest

# PyTorch comes with the [torch] extra; without it this module is skipped (`-m "not torch"` deselects it).
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from kexue import exercises, ogan  # noqa: E402

torch.set_num_threads(1)


def passes(exercise_id: str, answer) -> bool:
    return exercises.check(exercise_id, answer).passed


def test_exercise_pearson() -> None:
    assert passes("ogan-pearson", lambda z, zh: np.corrcoef(z, zh)[0, 1])
    assert passes("ogan-pearson", lambda z, zh: float(ogan.pearson(z, zh)))
    def mixed(z, zh):  # population covariance over sample standard deviations
        return np.mean((z - z.mean()) * (zh - zh.mean())) / (np.std(z, ddof=1) * np.std(zh, ddof=1))

    feedback = exercises.check("ogan-pearson", mixed)
    assert not feedback.passed and "length n" in feedback.message
    assert not passes("ogan-pearson", lambda z, zh: -np.corrcoef(z, zh)[0, 1])
    assert "raised" in exercises.check("ogan-pearson", lambda z, zh: 1 / 0).message
    assert not passes("ogan-pearson", 0.6)


TRUTH = [True, False, True, True, False, False, False, False, True, True]


def test_exercise_invariances() -> None:
    assert len(ogan.INVARIANCE_CASES) == len(TRUTH)
    assert passes("ogan-invariances", TRUTH)
    assert passes("ogan-invariances", dict(zip(ogan.INVARIANCE_CASES, TRUTH)))
    wrong = TRUTH.copy()
    wrong[1] = True
    feedback = exercises.check("ogan-invariances", wrong)
    assert not feedback.passed and "9 of 10" in feedback.message
    assert "-2" not in feedback.message  # does not say which one is wrong
    assert not passes("ogan-invariances", TRUTH[:-1])
    assert not passes("ogan-invariances", [1] * 10)


def test_exercise_typical_set() -> None:
    assert passes("ogan-typical-set", lambda n: (1 / n, (n - 1) / n))
    feedback = exercises.check("ogan-typical-set", lambda n: (1 / n, 1.0))
    assert not feedback.passed and "0 of 62" in feedback.message
    assert "15/16" not in feedback.message and "(n - 1)" not in feedback.message
    assert "raised" in exercises.check("ogan-typical-set", lambda n: None).message


def variant_loss(E, G, x, z):
    terms = ogan.ogan_terms(E, G, x, z)
    corr = ogan.pearson(z, E(G(z).detach()))
    return (terms["t1"] + terms["t2"] - 0.5 * corr).mean() + 0.25 * terms["qp"].mean()


def test_exercise_routing_variant() -> None:
    assert passes("ogan-routing", variant_loss)
    # the official loss: the correlation still trains the generator
    feedback = exercises.check("ogan-routing", lambda E, G, x, z: ogan.ogan_loss(E, G, x, z)[0])
    assert not feedback.passed and "encoder E is right" in feedback.message and "generator" in feedback.message
    assert "detach" not in feedback.message and "pearson" not in feedback.message  # no answer in the feedback

    def encoder_cut(E, G, x, z):  # the stop-gradient on the wrong side: the correlation trains G, not E
        terms = ogan.ogan_terms(E, G, x, z)
        with torch.no_grad():
            frozen = [p.detach().clone() for p in E.parameters()]
        corr = ogan.pearson(z, torch.func.functional_call(E, dict(zip([n for n, _ in E.named_parameters()], frozen)),
                                                          (G(z),)))
        return (terms["t1"] + terms["t2"] - 0.5 * corr).mean() + 0.25 * terms["qp"].mean()

    feedback = exercises.check("ogan-routing", encoder_cut)
    assert not feedback.passed and "encoder E differs" in feedback.message
    no_sg = lambda E, G, x, z: (E(x).mean() - E(G(z)).mean()) + 0.0 * z.sum()  # noqa: E731
    assert not passes("ogan-routing", no_sg)
    # do-nothing answers
    feedback = exercises.check("ogan-routing", lambda E, G, x, z: torch.tensor(0.0))
    assert not feedback.passed and "no gradient" in feedback.message
    feedback = exercises.check("ogan-routing", lambda E, G, x, z: variant_loss(E, G, x, z).detach())
    assert not feedback.passed and "no gradient" in feedback.message
    assert not passes("ogan-routing", lambda E, G, x, z: None)
    assert not passes("ogan-routing", lambda E, G, x, z: ogan.ogan_terms(E, G, x, z)["t1"])  # not a scalar
    assert "raised" in exercises.check("ogan-routing", lambda E, G, x, z: 1 / 0).message
    assert not passes("ogan-routing", 0.5)


def mse_parts(z, c):
    mean = (z.mean(-1) - c.mean(-1)) ** 2
    spread = (z.std(-1) - c.std(-1)) ** 2
    return mean, spread, 2 * z.std(-1) * c.std(-1) * (1 - ogan.pearson(z, c))


def test_exercise_mse_parts() -> None:
    assert passes("ogan-mse-parts", mse_parts)
    # the right total, split wrongly: all in the direction part
    everything = lambda z, c: (0 * z[:, 0], 0 * z[:, 0], ((z - c) ** 2).mean(-1))  # noqa: E731
    feedback = exercises.check("ogan-mse-parts", everything)
    assert not feedback.passed and "split" in feedback.message

    def sample_std(z, c):  # ddof = 1 in the spreads
        s_z, s_c = z.std(-1, ddof=1), c.std(-1, ddof=1)
        return (z.mean(-1) - c.mean(-1)) ** 2, (s_z - s_c) ** 2, 2 * s_z * s_c * (1 - ogan.pearson(z, c))

    assert not passes("ogan-mse-parts", sample_std)
    no_two = lambda z, c: (*mse_parts(z, c)[:2], mse_parts(z, c)[2] / 2)  # noqa: E731
    feedback = exercises.check("ogan-mse-parts", no_two)
    assert not feedback.passed and "direction on 0" in feedback.message
    # do-nothing answers
    assert not passes("ogan-mse-parts", lambda z, c: (0.0, 0.0, 0.0))
    assert not passes("ogan-mse-parts", lambda z, c: None)
    assert "three" in exercises.check("ogan-mse-parts", lambda z, c: (1.0, 2.0)).message
    assert "raised" in exercises.check("ogan-mse-parts", lambda z, c: 1 / 0).message
    assert not passes("ogan-mse-parts", 3)
    message = exercises.check("ogan-mse-parts", everything).message
    assert "std" not in message and "avg" not in message  # no formula in the feedback


def test_every_ogan_exercise_is_registered() -> None:
    ids = {"ogan-pearson", "ogan-invariances", "ogan-typical-set", "ogan-routing", "ogan-mse-parts",
           "ogan-null-correlation", "ogan-param-count"}
    assert ids <= set(exercises.registered())


def test_exercise_null_correlation() -> None:
    assert passes("ogan-null-correlation", lambda n: 1 / math.sqrt(n - 1))
    for wrong in (lambda n: 1 / math.sqrt(n), lambda n: 1 / math.sqrt(n - 2), lambda n: 1 / (n - 1),
                  lambda n: 0.0, lambda n: None):
        assert not passes("ogan-null-correlation", wrong)
    assert "large n" in exercises.check("ogan-null-correlation", lambda n: 1 / math.sqrt(n)).message
    assert not passes("ogan-null-correlation", 0.25)
    message = exercises.check("ogan-null-correlation", lambda n: 1 / math.sqrt(n)).message
    assert "0.13" not in message and "sqrt" not in message  # no answer in the feedback


def official_counts(d: int, z: int, k: int) -> tuple[int, int]:
    """The parameter counts of the official architecture, by hand."""
    layers = int(math.log2(d)) - 3
    top = 8 * d
    chans = [top // 2 ** (layers - i) for i in range(layers + 1)]
    f = d // 2 ** (layers + 1)
    e, c_in = 0, 3
    for i, c in enumerate(chans):
        e += k * k * c_in * c + c + (2 * c if i else 0)
        c_in = c
    e += f * f * top * z + z
    g = z * f * f * top + f * f * top + 2 * top
    c_in = top
    for i in range(layers):
        c = top // 2 ** (i + 1)
        g += k * k * c_in * c + c + 2 * c
        c_in = c
    g += k * k * c_in * 3 + 3
    return e, g


def test_exercise_param_count() -> None:
    assert official_counts(128, 128, 5) == (ogan.OFFICIAL_PARAMS["E"], ogan.OFFICIAL_PARAMS["G"])
    assert passes("ogan-param-count", official_counts)
    assert not passes("ogan-param-count", lambda d, z, k: official_counts(d, z, 5))  # ignores the kernel size
    assert not passes("ogan-param-count", lambda d, z, k: (ogan.OFFICIAL_PARAMS["E"], ogan.OFFICIAL_PARAMS["G"]))
    assert not passes("ogan-param-count", lambda d, z, k: (0, 0))
    no_bn = lambda d, z, k: (official_counts(d, z, k)[0] - 3840, official_counts(d, z, k)[1])  # noqa: E731
    assert not passes("ogan-param-count", no_bn)
    assert not passes("ogan-param-count", None)
    assert "encoder count is exact" in exercises.check("ogan-param-count", lambda d, z, k: (0, 0)).message

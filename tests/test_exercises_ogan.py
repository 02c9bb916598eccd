"""Tests for the exercise checkers of chapter 13 (kexue.exercises.ogan)."""
from __future__ import annotations

import math

import numpy as np
import pytest

# PyTorch comes with the [torch] extra; without it this module is skipped (`-m "not torch"` deselects it).
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from torch import nn  # noqa: E402

from kexue import exercises, ogan  # noqa: E402
from kexue.data import digits_split  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits():
    train, test = digits_split()
    return (train.images.reshape(len(train), -1) / 8 - 1, train.labels,
            test.images.reshape(len(test), -1) / 8 - 1, test.labels)


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


def reference_routing(E, G, x, z):
    out = {}
    for term in ("t1", "t2"):
        for p in [*E.parameters(), *G.parameters()]:
            p.grad = None
        ogan.ogan_terms(E, G, x, z)[term].mean().backward()
        for name, net in (("E", E), ("G", G)):
            out[f"{term}_{name}"] = math.sqrt(sum(float((p.grad**2).sum()) for p in net.parameters()
                                                  if p.grad is not None))
    return out


def test_exercise_routing() -> None:
    assert passes("ogan-routing", reference_routing)

    def accumulating(E, G, x, z):  # forgets to zero the gradients between the two terms
        out = {}
        for term in ("t1", "t2"):
            ogan.ogan_terms(E, G, x, z)[term].mean().backward()
            for name, net in (("E", E), ("G", G)):
                out[f"{term}_{name}"] = math.sqrt(sum(float((p.grad**2).sum()) for p in net.parameters()
                                                      if p.grad is not None))
        return out

    assert not passes("ogan-routing", accumulating)
    assert not passes("ogan-routing", lambda E, G, x, z: {k: 1.0 for k in ogan.ROUTING_KEYS})
    assert not passes("ogan-routing", lambda E, G, x, z: {"t1": 0.0})
    assert "raised" in exercises.check("ogan-routing", lambda E, G, x, z: 1 / 0).message


class DigitPicker(nn.Module):
    """A 'generator' that returns real training digits: a diverse one (chosen by z) or a collapsed one."""

    def __init__(self, images: np.ndarray, collapsed: bool) -> None:
        super().__init__()
        self.first = nn.Linear(16, 1)
        self.images = torch.as_tensor(images, dtype=torch.float32)
        self.collapsed = collapsed

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.collapsed:
            return self.images[:1].expand(len(z), -1)
        index = (z[:, :4].abs() * 1000).long().sum(1) % len(self.images)
        return self.images[index]


def test_exercise_mse_collapse(digits) -> None:
    Xtr, ytr = digits[0], digits[1]
    diverse, collapsed = DigitPicker(Xtr, False), DigitPicker(Xtr[ytr <= 1], False)  # only 0s and 1s
    assert passes("ogan-mse-collapse", {"mse": collapsed, "corr": diverse})
    # do-nothing answers: one constant image, or an untrained generator, in place of the MSE model
    constant = DigitPicker(Xtr, True)
    feedback = exercises.check("ogan-mse-collapse", {"mse": constant, "corr": diverse})
    assert not feedback.passed and "same image" in feedback.message
    torch.manual_seed(0)
    _, untrained = ogan.make_mlp_ogan()
    feedback = exercises.check("ogan-mse-collapse", {"mse": untrained, "corr": diverse})
    assert not feedback.passed and "train" in feedback.message
    feedback = exercises.check("ogan-mse-collapse", {"mse": diverse, "corr": diverse})
    assert not feedback.passed and "still" in feedback.message
    assert not passes("ogan-mse-collapse", {"mse": collapsed, "corr": collapsed})
    assert not passes("ogan-mse-collapse", (collapsed, diverse))
    assert not passes("ogan-mse-collapse", {"mse": 1, "corr": 2})


def test_every_ogan_exercise_is_registered() -> None:
    ids = {"ogan-pearson", "ogan-invariances", "ogan-typical-set", "ogan-routing", "ogan-mse-collapse",
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

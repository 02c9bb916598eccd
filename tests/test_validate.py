"""The shared argument checks name the argument and say what was expected."""
from __future__ import annotations

import numpy as np
import pytest

from kexue import validate


def test_integer() -> None:
    assert validate.integer(np.int64(3), "n") == 3
    with pytest.raises(TypeError, match="n must be an integer"):
        validate.integer(True, "n")
    with pytest.raises(ValueError, match="n must be at least 2"):
        validate.integer(1, "n", minimum=2)
    with pytest.raises(ValueError, match="N must be between 1 and 8"):
        validate.integer(9, "N", 1, 8)


def test_real() -> None:
    assert validate.real(2, "b") == 2.0
    with pytest.raises(TypeError, match="b must be a real number"):
        validate.real("2", "b")
    with pytest.raises(ValueError, match="b must be finite"):
        validate.real(float("nan"), "b")
    with pytest.raises(ValueError, match="b must be positive"):
        validate.real(0.0, "b", positive=True)
    assert validate.real(0.0, "b", positive=True, allow_zero=True) == 0.0
    with pytest.raises(ValueError, match="b must be at least 1"):
        validate.real(0.5, "b", minimum=1)


def test_choice() -> None:
    assert validate.choice("zoh", "method", ("zoh", "bilinear")) == "zoh"
    with pytest.raises(ValueError, match="method must be one of 'zoh', 'bilinear'"):
        validate.choice("euler", "method", ("zoh", "bilinear"))
    with pytest.raises(TypeError, match="method must be one of"):
        validate.choice(3, "method", ("zoh",))


def test_integer_maximum_alone_is_enforced() -> None:
    with pytest.raises(ValueError, match="k must be at most 3, got 5"):
        validate.integer(5, "k", maximum=3)
    assert validate.integer(3, "k", maximum=3) == 3


def test_real_maximum_and_boolean() -> None:
    with pytest.raises(ValueError, match="x must be at most 1"):
        validate.real(2.0, "x", maximum=1)
    assert validate.boolean(np.bool_(True), "flag") is True
    with pytest.raises(TypeError, match="flag must be True or False"):
        validate.boolean(1, "flag")


@pytest.mark.parametrize("bad, error", [
    (None, TypeError), ("12", TypeError), ([1, [2, 3]], TypeError), ([True, False], TypeError),
    ([1.0, np.nan], ValueError), ([np.inf], ValueError), ([], ValueError), ([[1.0]], ValueError),
    ([1 + 2j], TypeError),
])
def test_vector_refuses_with_the_name(bad, error) -> None:
    with pytest.raises(error, match="^x "):
        validate.vector(bad, "x")


def test_array_kinds_and_shapes() -> None:
    assert validate.vector([1, 2], "x").dtype == np.float64
    assert validate.vector(np.float32([1, 2]), "x", keep_float=True).dtype == np.float32
    assert validate.vector(np.float32([1, 2]), "x").dtype == np.float64
    assert validate.array([1j], "z", kind="complex").dtype == np.complex128
    assert validate.vector(3.0, "x", scalar=True).shape == (1,)
    assert validate.array([np.nan], "x", finite=False).shape == (1,)
    assert validate.integers([1.0, 2.0], "i").dtype == np.int64
    with pytest.raises(TypeError, match="i must be an array of integers"):
        validate.integers([1.5], "i")
    with pytest.raises(ValueError, match="i must be at least 0"):
        validate.integers([-1], "i", minimum=0)
    with pytest.raises(ValueError, match=r"A must be a square matrix"):
        validate.matrix(np.ones((2, 3)), "A", square=True)
    with pytest.raises(ValueError, match=r"W must have shape \(\*, 4\)"):
        validate.matrix(np.ones((2, 3)), "W", shape=(None, 4))


def test_probability_and_memory() -> None:
    np.testing.assert_allclose(validate.probability([0.25, 0.75]), [0.25, 0.75])
    with pytest.raises(ValueError, match="p must sum to 1"):
        validate.probability([0.5, 0.6])
    with pytest.raises(ValueError, match="p must be non-negative"):
        validate.probability([1.5, -0.5])
    with pytest.raises(ValueError, match="N is too large: it would need about 7.8 GiB"):
        validate.memory(7.8 * 2**30, "N", "the states")
    validate.memory(2**20, "N")
    assert validate.axis(-1, 3) == 2
    with pytest.raises(ValueError, match="axis must index one of the 2 dimensions"):
        validate.axis(2, 2)

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

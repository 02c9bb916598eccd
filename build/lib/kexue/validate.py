"""Argument checks shared by the topic modules: bad input raises a TypeError or ValueError naming the argument."""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any


def integer(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int (bools refused) within the optional bounds, or an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and maximum is not None:
        if not minimum <= value <= maximum:
            raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    elif minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def real(value: Any, name: str, minimum: float | None = None, positive: bool = False,
         allow_zero: bool = False) -> float:
    """``value`` as a finite float (bools refused), optionally > 0 (>= 0 with allow_zero) or >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not (value > 0 or (allow_zero and value == 0)):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, or an error naming ``name`` and listing them."""
    options = ", ".join(map(repr, choices))
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}; got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value

"""Argument and array checks shared by the topic modules.

Bad input raises a TypeError (wrong type) or a ValueError (wrong value) whose message starts with the argument's name
and says what was expected. Sizes that would exhaust memory are refused before anything is allocated (``memory``).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import torch

__all__ = [
    "MEMORY_LIMIT", "array", "axis", "boolean", "choice", "function", "integer", "integers", "matrix", "memory",
    "finite", "probability", "real", "string", "tensor", "vector",
]

MEMORY_LIMIT = 1 << 30  # bytes: one allocation above 1 GiB is not a classroom computation (Binder gives ~2 GB)


# ------------------------------------------------------------------------------------------------ own settings
# The checks' own settings (the argument's name, bounds, flags, sizes) come from the calling code, not the user;
# a wrong one is still refused clearly, so that a typo in a topic module does not turn into a confusing message.
def _label(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string (the argument's name), got {type(name).__name__}")
    return name


def _bound(value: object, key: str, integral: bool = False) -> float | int | None:
    if value is None:
        return None
    kind = numbers.Integral if integral else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or (not integral and math.isnan(value)):
        raise TypeError(f"{key} must be {'an integer' if integral else 'a number'} or None, got {value!r}")
    return value


def _flag(value: object, key: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{key} must be True or False, got {type(value).__name__}")
    return bool(value)


def _count(value: object, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise TypeError(f"{key} must be a non-negative integer or None, got {value!r}")
    return int(value)


# ------------------------------------------------------------------------------------------------ scalars
def integer(value: object, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int (bools refused) within the optional bounds, or an error naming ``name``."""
    name = _label(name)
    minimum, maximum = _bound(minimum, "minimum", True), _bound(maximum, "maximum", True)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and maximum is not None:
        if not minimum <= value <= maximum:
            raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    elif minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    elif maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def real(value: object, name: str, minimum: float | None = None, positive: bool = False,
         allow_zero: bool = False, maximum: float | None = None) -> float:
    """``value`` as a finite float (bools refused), optionally > 0 (>= 0 with allow_zero), >= minimum, <= maximum."""
    name = _label(name)
    minimum, maximum = _bound(minimum, "minimum"), _bound(maximum, "maximum")
    positive, allow_zero = _flag(positive, "positive"), _flag(allow_zero, "allow_zero")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not (value > 0 or (allow_zero and value == 0)):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def boolean(value: object, name: str) -> bool:
    """``value`` if it is a bool (or NumPy bool), or a TypeError naming ``name``."""
    name = _label(name)
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def string(value: object, name: str) -> str:
    """``value`` if it is a str, or a TypeError naming ``name``."""
    name = _label(name)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    return value


def choice(value: object, name: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, or an error naming ``name`` and listing them."""
    name = _label(name)
    if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence) \
            or not all(isinstance(c, str) for c in choices):
        raise TypeError(f"choices must be a sequence of strings, got {choices!r}")
    options = ", ".join(map(repr, choices))
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}; got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


def function(value: object, name: str) -> Callable[..., Any]:
    """``value`` if it is callable, or a TypeError naming ``name``."""
    name = _label(name)
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__}")
    return value


def axis(value: object, ndim: int, name: str = "axis") -> int:
    """A valid axis of an ``ndim``-dimensional array, normalised to be non-negative."""
    ndim = integer(ndim, "ndim", 1)
    value = integer(value, name)
    if not -ndim <= value < ndim:
        raise ValueError(f"{name} must index one of the {ndim} dimensions, got {value}")
    return value % ndim


def memory(nbytes: float, name: str, what: str = "", limit: int = MEMORY_LIMIT) -> None:
    """Refuse, naming ``name``, a computation whose estimated allocation ``nbytes`` exceeds ``limit`` bytes."""
    name = _label(name)
    nbytes, limit = real(nbytes, "nbytes", minimum=0), integer(limit, "limit", 1)
    if not isinstance(what, str):
        raise TypeError(f"what must be a string, got {type(what).__name__}")
    if nbytes > limit:
        detail = f" for {what}" if what else ""
        raise ValueError(f"{name} is too large: it would need about {nbytes / 2**30:.3g} GiB{detail}, more than the "
                         f"{limit / 2**30:.1f} GiB allowed; choose a smaller {name}")


def finite(result: Any, name: str, what: str = "the result") -> Any:
    """``result`` if every number in it is finite; else a ValueError blaming ``name`` (inputs so large it overflows)."""
    name, what = _label(name), string(what, "what")
    values = np.asarray(result)
    if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
        raise ValueError(f"{name} is too large in magnitude: {what} overflows to infinity or NaN")
    return result


# ------------------------------------------------------------------------------------------------ arrays
_KINDS = {"integer": "iu", "real": "iuf", "complex": "iufc"}


def array(value: ArrayLike, name: str, ndim: int | None = None, min_ndim: int = 0, finite: bool = True,
          kind: str = "real", empty: bool = False, dtype: Any = None, keep_float: bool = False,
          allow_inf: bool = False) -> NDArray[Any]:
    """``value`` as a NumPy array of numbers, or a TypeError/ValueError naming ``name``.

    ``kind`` is "real" (float64 result), "complex" (float64 or complex128) or "integer" (int64); bools, strings,
    objects and ragged lists are refused. ``ndim`` fixes the dimension (``min_ndim`` bounds it below); NaN and
    infinities are refused when ``finite`` (NaN only, with ``allow_inf``); an empty array only when ``empty``.
    ``dtype`` overrides the result type; ``keep_float`` keeps float16/float32 data as it is (for code that computes
    in the caller's precision).
    """
    name, kind = _label(name), choice(kind, "kind", tuple(_KINDS))
    ndim, min_ndim = _count(ndim, "ndim"), integer(min_ndim, "min_ndim", 0)
    finite, empty, keep_float, allow_inf = (_flag(v, k) for v, k in ((finite, "finite"), (empty, "empty"),
                                                                     (keep_float, "keep_float"),
                                                                     (allow_inf, "allow_inf")))
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be a NumPy dtype, got {dtype!r}") from None
    what = {"integer": "integers", "real": "real numbers", "complex": "numbers"}[kind]
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an array of {what}, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as err:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of {what}: {err}") from None
    if arr.dtype.kind not in _KINDS[kind]:
        raise TypeError(f"{name} must be an array of {what}, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if arr.size == 0 and not empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif kind == "integer":
        arr = arr.astype(np.int64, copy=False)
    elif arr.dtype.kind == "c":
        arr = arr.astype(np.complex128, copy=False)
    elif not (keep_float and arr.dtype.kind == "f"):
        arr = arr.astype(np.float64, copy=False)
    if finite and arr.dtype.kind in "fc":
        if allow_inf and np.isnan(arr).any():
            raise ValueError(f"{name} must not contain NaN")
        if not allow_inf and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must contain finite numbers only (no NaN or infinity)")
    return arr


def vector(value: ArrayLike, name: str, size: int | None = None, min_size: int = 1, finite: bool = True,
           kind: str = "real", scalar: bool = False, dtype: Any = None, keep_float: bool = False) -> NDArray[Any]:
    """A 1-D array of at least ``min_size`` (exactly ``size``) numbers; a scalar becomes length 1 if ``scalar``."""
    size, min_size, scalar = _count(size, "size"), integer(min_size, "min_size", 0), _flag(scalar, "scalar")
    arr = array(value, name, finite=finite, kind=kind, empty=min_size == 0, dtype=dtype, keep_float=keep_float)
    if scalar and arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} must have {size} entries, got {arr.size}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} entries, got {arr.size}")
    return arr


def matrix(value: ArrayLike, name: str, shape: tuple[int | None, int | None] = (None, None), finite: bool = True,
           kind: str = "real", square: bool = False) -> NDArray[Any]:
    """A 2-D array, optionally of a given shape (None = any size on that axis) or square."""
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise TypeError(f"shape must be a pair of sizes (or None), got {shape!r}")
    shape = (_count(shape[0], "shape"), _count(shape[1], "shape"))
    square = _flag(square, "square")
    arr = array(value, name, ndim=2, finite=finite, kind=kind)
    for ax, want in enumerate(shape):
        if want is not None and arr.shape[ax] != want:
            wanted = ", ".join("*" if s is None else str(s) for s in shape)
            raise ValueError(f"{name} must have shape ({wanted}), got {arr.shape}")
    if square and arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {arr.shape}")
    return arr


def integers(value: ArrayLike, name: str, minimum: int | None = None, maximum: int | None = None,
             ndim: int | None = None, empty: bool = False) -> NDArray[np.int64]:
    """An int64 array (from integers, or floats with no fractional part) within the optional bounds."""
    name = _label(name)
    minimum, maximum = _bound(minimum, "minimum", True), _bound(maximum, "maximum", True)
    if value is None or isinstance(value, (str, bytes, bool)):
        raise TypeError(f"{name} must be an integer or an array of integers, got {type(value).__name__}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise TypeError(f"{name} must be an array of integers: {err}") from None
    if raw.dtype.kind == "f" and raw.size and np.all(np.isfinite(raw)) and np.all(raw == np.round(raw)) \
            and np.all(np.abs(raw) < 2**62):
        raw = raw.astype(np.int64)
    arr = array(raw, name, ndim=ndim, kind="integer", empty=empty)
    if arr.size and minimum is not None and arr.min() < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {arr.min()}")
    if arr.size and maximum is not None and arr.max() > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {arr.max()}")
    return arr


def probability(value: ArrayLike, name: str = "p", size: int | None = None, tol: float = 1e-9) -> NDArray[np.float64]:
    """A probability vector: finite, non-negative, summing to 1 within ``tol``; returned renormalised."""
    tol = real(tol, "tol", minimum=0, maximum=1)
    arr = vector(value, name, size=size).astype(np.float64, copy=False)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative (a probability vector), got a minimum of {arr.min()}")
    total = float(arr.sum())
    if abs(total - 1.0) > tol:
        raise ValueError(f"{name} must sum to 1 (a probability vector), got sum {total!r}")
    return arr / total


def tensor(value: ArrayLike | torch.Tensor, name: str, min_ndim: int = 0, ndim: int | None = None,
           finite: bool = True, dtype: Any = None) -> torch.Tensor:
    """A floating torch tensor (float32 unless ``dtype``) from a tensor or array-like; a tensor keeps its graph."""
    import torch

    name, finite = _label(name), _flag(finite, "finite")
    ndim, min_ndim = _count(ndim, "ndim"), integer(min_ndim, "min_ndim", 0)
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch dtype, got {dtype!r}")
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool or value.is_complex():
            raise TypeError(f"{name} must hold real numbers, got a tensor of dtype {value.dtype}")
        out = value if value.is_floating_point() and dtype is None else value.to(dtype or torch.float32)
        if ndim is not None and out.dim() != ndim:
            raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(out.shape)}")
        if out.dim() < min_ndim:
            raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {tuple(out.shape)}")
        if out.numel() == 0:
            raise ValueError(f"{name} must not be empty, got shape {tuple(out.shape)}")
        if finite and not bool(torch.isfinite(out.detach()).all()):
            raise ValueError(f"{name} must contain finite numbers only (no NaN or infinity)")
        return out
    arr = array(value, name, ndim=ndim, min_ndim=min_ndim, finite=finite)
    out = torch.from_numpy(np.ascontiguousarray(arr)).to(dtype or torch.float32)
    if finite and not bool(torch.isfinite(out).all()):  # float32 overflows beyond 3.4e38
        raise ValueError(f"{name} must hold numbers that fit in {out.dtype} (no NaN or infinity after conversion)")
    return out

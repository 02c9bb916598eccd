"""The child process of tests/test_fuzz.py: call one module's public API with bad arguments, report each outcome.

Usage: ``python fuzz_child.py <module> <first call index>``. Writes one JSON line per event to stdout: ``start``
before a call (so that the parent can name a call that hangs or crashes the interpreter), ``end`` with the outcome
after it, ``done`` at the end.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import os
import re
import resource
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

MISSING = object()
OK = "ok"


# ------------------------------------------------------------------------------------------------ the API
def public_callables(module: Any) -> list[tuple[str, Callable[..., Any]]]:
    """(qualified name, object) for every public function and class defined in ``module``."""
    out = []
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj):
            out.append((f"{module.__name__}.{name}", obj))
    return out


def is_record(obj: Any) -> bool:
    """A plain record class (dataclass or NamedTuple without its own checks): its fields take any value."""
    if not inspect.isclass(obj):
        return False
    if dataclasses.is_dataclass(obj) and not hasattr(obj, "__post_init__"):
        return True
    return issubclass(obj, tuple) and hasattr(obj, "_fields")


# ------------------------------------------------------------------------------------------------ arguments
def kind_of(annotation: str, default: Any) -> str:
    """The kind of a parameter, from its annotation text and default value."""
    text = annotation.replace(" ", "")
    if default is not MISSING and default is not None:
        if isinstance(default, bool):
            return "bool"
        if isinstance(default, int) and not re.search(r"float|ArrayLike|Sequence", text):
            return "int"
        if isinstance(default, float):
            return "float"
        if isinstance(default, str):
            return "str"
        if callable(default) and not isinstance(default, type):
            return "callable"
    if re.search(r"ArrayLike|NDArray|ndarray|Tensor", text):
        return "array"
    for kind in ("bool", "int", "float", "str"):
        if re.fullmatch(rf"{kind}(\|None)?|None\|{kind}", text):
            return kind
    if re.search(r"Callable", text):
        return "callable"
    if re.search(r"Module", text):
        return "module"
    if re.search(r"Sequence|list|tuple", text):
        return "sequence"
    return "other"


GOOD = {"int": 3, "float": 0.5, "str": "a", "bool": True, "callable": (lambda *a, **k: 0.5),
        "array": np.linspace(-1.5, 2.0, 6), "sequence": (1, 2, 3), "module": None, "other": None}


def bad_values(kind: str, optional: bool) -> list[tuple[str, Any, bool]]:
    """(label, value, is_wrong_type) for one parameter."""
    wrong_type = [("None", None, True)] if not optional else []
    if kind == "int":
        return wrong_type + [("'3'", "3", True), ("2.5", 2.5, True), ("-1", -1, False), ("0", 0, False),
                             ("10**9", 10**9, False), ("2**70", 2**70, False)]
    if kind == "float":
        return wrong_type + [("'x'", "x", True), ("nan", math.nan, False), ("inf", math.inf, False),
                             ("-inf", -math.inf, False), ("-1.0", -1.0, False), ("0.0", 0.0, False),
                             ("1e308", 1e308, False)]
    if kind == "str":
        return wrong_type + [("3", 3, True), ("'no-such-option'", "no-such-option", False)]
    if kind == "bool":
        return wrong_type + [("'yes'", "yes", True)]
    if kind == "array":
        return wrong_type + [("'abc'", "abc", True), ("ragged", [[1.0], [2.0, 3.0]], True), ("[]", [], False),
                             ("[nan]", [math.nan, 1.0], False), ("[inf]", [math.inf, 1.0], False),
                             ("[1e308]", [1e308, -1e308, 1.0], False)]
    if kind == "callable":
        return wrong_type + [("3", 3, True)]
    if kind in ("module", "sequence"):
        return wrong_type + [("3", 3, True), ("object()", object(), True)]
    return [("object()", object(), False), ("nan", math.nan, False)]


def parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters a caller passes (self, *args and **kwargs excluded); [] if there is no signature."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [p for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"]


SMALL = 8  # integer defaults above this (steps, sizes, trials) are lowered to it when the function accepts that


def small(base: dict[str, Any], kinds: dict[str, tuple[str, bool]], fn: Callable[..., Any]) -> dict[str, Any]:
    """``base`` with its large integer defaults lowered to SMALL, if the function accepts that; else ``base``.

    A bad value for one parameter then costs a small computation, not the full default one (300 training steps...).
    """
    lowered = {k: SMALL if kinds[k][0] == "int" and isinstance(v, int) and v > SMALL else v for k, v in base.items()}
    if lowered == base:
        return base
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(**lowered)
    except Exception:
        return base
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")
    return lowered


def plan(name: str, fn: Callable[..., Any]) -> Iterator[tuple[str, dict[str, Any], str, bool]]:
    """(label, keyword arguments, parameter varied, wrong type) for every call to make; the valid call first."""
    params = parameters(fn)
    base: dict[str, Any] = {}
    kinds = {}
    for p in params:
        annotation = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
        default = MISSING if p.default is p.empty else p.default
        kinds[p.name] = (kind_of(annotation, default), default is None or "None" in annotation)
        base[p.name] = GOOD[kinds[p.name][0]] if default is MISSING else default
        if p.name == "name" and default is MISSING:  # an argument checker: its messages name this argument
            base[p.name] = "the_argument"
    base = small(base, kinds, fn)
    yield f"{name}(valid)", dict(base), "", False
    for p in params:
        kind, optional = kinds[p.name]
        for label, value, wrong in bad_values(kind, optional):
            yield f"{name}({p.name}={label})", {**base, p.name: value}, p.name, wrong


# ------------------------------------------------------------------------------------------------ outcomes
def non_finite(value: Any, depth: int = 0) -> str | None:
    """'nan' or 'inf' if ``value`` holds one (numbers, arrays, tensors, containers, dataclasses), else None."""
    if depth > 4:
        return None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (float, complex, np.floating, np.complexfloating)):
        return None if np.isfinite(value) else ("nan" if np.isnan(value) else "inf")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and value.size:
            if np.isnan(value).any():
                return "nan"
            if np.isinf(value).any():
                return "inf"
        return None
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_floating_point() and value.numel():
            v = value.detach()
            return "nan" if bool(torch.isnan(v).any()) else "inf" if bool(torch.isinf(v).any()) else None
        return None
    if isinstance(value, (list, tuple)):
        items = value[:50]
    elif isinstance(value, dict):
        items = list(value.values())[:50]
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        return None
    for item in items:
        found = non_finite(item, depth + 1)
        if found:
            return found
    return None


def judge(fn: Callable[..., Any], kwargs: dict[str, Any], param: str, wrong_type: bool, all_params: list[str],
          base_ok: bool, base_nonfinite: str | None, record: bool) -> tuple[str, str, bool, str | None]:
    """Call ``fn(**kwargs)``; (outcome, detail, whether it returned, NaN/inf in its answer)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = fn(**kwargs)
    except MemoryError as err:
        return "memory-error", str(err)[:200], False, None
    except (TypeError, ValueError) as err:
        message = str(err)
        names = [param] if (param and base_ok) else list(all_params)
        if isinstance(kwargs.get("name"), str):  # an argument checker names its caller's argument
            names.append(kwargs["name"])
        if not names or any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names):
            return OK, "", False, None
        return "unnamed-error", f"{type(err).__name__}: {message[:200]}", False, None
    except Exception as err:  # anything else is an obscure error for the caller
        return "other-exception", f"{type(err).__name__}: {str(err)[:200]}", False, None
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")
    found = non_finite(result)
    if not param or record:
        return OK, "", True, found
    if wrong_type:
        return "silent-acceptance", f"returned {type(result).__name__}", True, found
    bad_input = repr(kwargs[param])
    announced = any(issubclass(w.category, RuntimeWarning) for w in caught)  # e.g. NumPy's "overflow encountered"
    if found and not base_nonfinite and not announced and not (found == "inf" and "inf" in bad_input):
        return f"silent-{found}", f"returned a value holding {found}", True, found
    return OK, "", True, found


# Answers a student might give by mistake; a string that would run code if it were evaluated is among them.
BAD_ANSWERS: list[tuple[str, Any]] = [
    ("None", None), ("object()", object()), ("nan", math.nan), ("inf", math.inf), ("-1", -1), ("0", 0),
    ("1e308", 1e308), ("'abc'", "abc"), ("[]", []), ("[nan]", [math.nan]), ("identity", lambda *a: a[0] if a else 0),
    ("code string", "__import__('os').getpid()"), ("dict", {"a": 1}),
]


def checker_ids() -> dict[Any, str]:
    """Registered exercise checkers (function -> exercise id): their public contract is ``exercises.check``."""
    exercises = sys.modules.get("kexue.exercises")
    registry = getattr(exercises, "_REGISTRY", {}) if exercises else {}
    return {exercise.checker: exercise_id for exercise_id, exercise in registry.items()}


def judge_answer(exercise_id: str, answer: Any) -> tuple[str, str]:
    """``check(exercise_id, answer)`` for a wrong answer must return feedback that does not pass, and never raise."""
    from kexue.exercises import Feedback, check

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            feedback = check(exercise_id, answer)
    except MemoryError as err:
        return "memory-error", str(err)[:200]
    except Exception as err:  # check() must turn every wrong answer into feedback
        return "other-exception", f"check({exercise_id!r}) raised {type(err).__name__}: {str(err)[:200]}"
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")
    if not isinstance(feedback, Feedback):
        return "other-exception", f"check({exercise_id!r}) returned {type(feedback).__name__}"
    if feedback.passed:
        return "silent-acceptance", f"check({exercise_id!r}) passed a wrong answer"
    return OK, ""


def emit(**message: Any) -> None:
    print(json.dumps(message, default=str), flush=True)


def main() -> None:
    module_name, first = sys.argv[1], int(sys.argv[2])
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    module = importlib.import_module(module_name)
    # Allocations beyond what the imports took plus a margin fail with MemoryError instead of swapping the machine.
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    extra = int(os.environ.get("KEXUE_FUZZ_AS_EXTRA", 2 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (used + extra, used + extra))
    index = 0
    checkers = checker_ids()
    for name, fn in public_callables(module):
        if fn in checkers:  # an exercise checker: reached through exercises.check, like a student reaches it
            for label, answer in BAD_ANSWERS:
                if index >= first:
                    call = f"check({checkers[fn]!r}, {label})"
                    emit(event="start", index=index, module=module_name, call=call)
                    outcome, detail = judge_answer(checkers[fn], answer)
                    emit(event="end", index=index, module=module_name, call=call, outcome=outcome, detail=detail)
                index += 1
            continue
        record = is_record(fn)
        all_params = [p.name for p in parameters(fn)]
        base_ok, base_nonfinite = True, None
        for label, kwargs, param, wrong in plan(name, fn):
            if index >= first or not param:  # the valid call runs even when resuming: later verdicts depend on it
                if index >= first:
                    emit(event="start", index=index, module=module_name, call=label)
                outcome, detail, returned, found = judge(fn, kwargs, param, wrong, all_params, base_ok,
                                                         base_nonfinite, record)
                if index >= first:
                    emit(event="end", index=index, module=module_name, call=label, outcome=outcome, detail=detail)
                if not param:  # does the valid call work, and does its answer hold NaN by design?
                    base_ok, base_nonfinite = returned, found
            index += 1
    emit(event="done")


if __name__ == "__main__":
    main()

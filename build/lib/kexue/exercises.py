"""Automatic checks for the chapters' exercises.

A topic module registers one checker per exercise; a student calls ``check(exercise_id, answer)``
and gets graded feedback that says what is right or wrong without printing the expected answer.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: whether it passed, what to tell the student, and a hint."""

    exercise_id: str
    passed: bool
    message: str
    hint: str = ""

    def __str__(self) -> str:
        mark = "✓ Correct" if self.passed else "✗ Not yet"
        text = f"{mark} [{self.exercise_id}]: {self.message}"
        if not self.passed and self.hint:
            text += f"\n  Hint: {self.hint}"
        return text

    def _repr_html_(self) -> str:
        from html import escape

        colour = "#009E73" if self.passed else "#D55E00"
        body = escape(str(self)).replace("\n", "<br>")
        return f'<div style="border-left:4px solid {colour};padding:0.3em 0.8em">{body}</div>'

    __repr__ = __str__


# A checker returns (passed, message); the hint is stored with the registration.
Checker = Callable[[Any], tuple[bool, str]]


@dataclass(frozen=True)
class Exercise:
    """A registered exercise: its checker and the hint shown after a wrong answer."""

    exercise_id: str
    checker: Checker
    hint: str


_REGISTRY: dict[str, Exercise] = {}


def register(exercise_id: str, hint: str = "") -> Callable[[Checker], Checker]:
    """Decorator that registers ``checker`` under ``exercise_id``."""
    if not isinstance(exercise_id, str) or not exercise_id:
        raise ValueError(f"exercise_id must be a non-empty string, got {exercise_id!r}")

    def decorate(checker: Checker) -> Checker:
        # Re-registering replaces the entry, so reloading a module in a notebook works.
        _REGISTRY[exercise_id] = Exercise(exercise_id, checker, hint)
        return checker

    return decorate


def registered() -> list[str]:
    """The ids of all registered exercises, sorted."""
    return sorted(_REGISTRY)


def check(exercise_id: str, answer: Any) -> Feedback:
    """Grade ``answer`` to exercise ``exercise_id`` and return feedback."""
    if exercise_id not in _REGISTRY:
        known = ", ".join(registered()) or "none (import the chapter's module first)"
        raise ValueError(f"exercise_id {exercise_id!r} is not registered; known ids: {known}")
    exercise = _REGISTRY[exercise_id]
    try:
        passed, message = exercise.checker(answer)
    except (TypeError, ValueError) as err:
        passed, message = False, f"the answer could not be checked: {err}"
    return Feedback(exercise_id, bool(passed), message, exercise.hint)


def as_int(answer: Any, name: str = "answer") -> int:
    """Convert an integral answer (int, NumPy integer, or a float with no fractional part) to ``int``."""
    import numbers

    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {type(answer).__name__}")
    if isinstance(answer, numbers.Integral):
        return int(answer)
    if float(answer).is_integer():
        return int(answer)
    raise TypeError(f"{name} must be an integer, got {answer!r}")

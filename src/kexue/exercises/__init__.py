"""Automatic checks for the chapters' exercises, and the machinery every checker shares.

Each topic has its checkers in ``kexue.exercises.<topic>``, registered with ``@register("<id>", hint=...)``. A student
calls ``check(exercise_id, answer)`` and gets feedback that says what is right or wrong without printing the expected
answer or the distance to it; the checker modules are imported on first use, so nothing else needs importing.

Shared by the checkers: ``call`` (run a student's function, catching what it raises), ``grade`` (run it on a list of
cases against reference values and build a message), ``close`` (the tolerance test), ``as_int``/``as_float`` (numeric
answers) and ``parse_expression`` (a string answer turned into a SymPy expression without evaluating code).
"""
from __future__ import annotations

import ast
import importlib
import math
import numbers
import operator
import pkgutil
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from kexue import validate

if TYPE_CHECKING:
    import sympy


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
_LOADED = False


def register(exercise_id: str, hint: str = "") -> Callable[[Checker], Checker]:
    """Decorator that registers ``checker`` under ``exercise_id``."""
    if not validate.string(exercise_id, "exercise_id"):
        raise ValueError("exercise_id must be a non-empty string")
    hint = validate.string(hint, "hint")

    def decorate(checker: Checker) -> Checker:
        # Re-registering replaces the entry, so reloading a module in a notebook works.
        _REGISTRY[exercise_id] = Exercise(exercise_id, checker, hint)
        return checker

    return decorate


def _load_checkers() -> None:
    """Import every submodule of this package once, so that all checkers are registered."""
    global _LOADED
    if _LOADED:
        return
    for info in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        importlib.import_module(info.name)
    _LOADED = True


def registered() -> list[str]:
    """The ids of all registered exercises, sorted."""
    _load_checkers()
    return sorted(_REGISTRY)


def check(exercise_id: str, answer: Any) -> Feedback:
    """Grade ``answer`` to exercise ``exercise_id`` and return feedback."""
    _load_checkers()
    if exercise_id not in _REGISTRY:
        raise ValueError(f"exercise_id {exercise_id!r} is not registered; known ids: {', '.join(registered())}")
    exercise = _REGISTRY[exercise_id]
    try:
        passed, message = exercise.checker(answer)
    except (TypeError, ValueError) as err:
        passed, message = False, f"the answer could not be checked: {err}"
    return Feedback(exercise_id, bool(passed), message, exercise.hint)


# --- Numeric answers ---------------------------------------------------------------------------------------------
def as_int(answer: Any, name: str = "answer") -> int:
    """Convert an integral answer (int, NumPy integer, or a float with no fractional part) to ``int``."""
    name = validate.string(name, "name")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {type(answer).__name__}")
    if isinstance(answer, numbers.Integral):
        return int(answer)
    if float(answer).is_integer():
        return int(answer)
    raise TypeError(f"{name} must be an integer, got {answer!r}")


def as_float(answer: Any, name: str = "answer") -> float:
    """A finite real answer as a float (NumPy scalars and 0-d arrays or tensors accepted; bools and strings refused)."""
    name = validate.string(name, "name")
    if isinstance(answer, np.generic) or (hasattr(answer, "item") and getattr(answer, "ndim", None) == 0):
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(answer).__name__}")
    value = float(answer)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def close(value: ArrayLike, expected: ArrayLike, rtol: float = 1e-9, atol: float = 0.0) -> bool:
    """Whether ``value`` is finite, of ``expected``'s shape and within atol + rtol·|expected| of it, entry by entry.

    A value of the right size but another shape (a row for a column) is compared after reshaping; a value that is
    not numbers at all (None, a string, a ragged list) raises a TypeError naming it.
    """
    rtol, atol = validate.real(rtol, "rtol", minimum=0), validate.real(atol, "atol", minimum=0)
    want = validate.array(expected, "expected", finite=False, empty=True, kind="complex")
    if value is None or isinstance(value, (str, bytes)):  # NumPy would read None as NaN and "1" as a number
        raise TypeError(f"value must be a number or an array of numbers, got {type(value).__name__}")
    try:
        got = np.asarray(value, dtype=np.result_type(want, float))
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"value must be a number or an array of numbers, got {type(value).__name__}") from None
    if got.shape != want.shape and got.size == want.size:
        got = got.reshape(want.shape)
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return False
    return bool(np.all(np.abs(got - want) <= atol + rtol * np.abs(want)))


# --- The grading loop --------------------------------------------------------------------------------------------
def call(function: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """Call a student's function: ``(value, None)``, or ``(None, the exception's type name)`` if it raised.

    Its contract is to turn anything into a verdict: a ``function`` that is not callable gives ``(None, "TypeError")``.
    """
    try:
        # Overflow in a student's function shows in the verdict, so NumPy's warnings would only repeat it.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return function(*args), None
    except Exception as err:  # a broken student function is feedback, not a crash
        return None, type(err).__name__


def _copy(arg: Any) -> Any:
    """A copy of a mutable array argument, so that a student's function cannot spoil the reference."""
    return arg.copy() if isinstance(arg, np.ndarray) or hasattr(arg, "clone") and not callable(arg) else arg


def _show(value: Any) -> str:
    """A short description of one argument for a message (arrays by shape, numbers by value)."""
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"an array of shape {value.shape}"
    if isinstance(value, np.ndarray):
        return str(tuple(np.round(value, 6).tolist()))
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def describe_case(args: Sequence[Any], names: Sequence[str] | None = None) -> str:
    """A case's arguments as text, e.g. ``a = 1, b = 2`` (or ``(1, 2)`` without names)."""
    args = _arguments(args, "args")
    names = _names(names)
    if names:
        return ", ".join(f"{n} = {_show(a)}" for n, a in zip(names, args))
    return _show(args[0]) if len(args) == 1 else "(" + ", ".join(_show(a) for a in args) + ")"


def _arguments(case: Any, name: str) -> tuple[Any, ...]:
    """One case's arguments as a tuple, or a TypeError naming ``name`` (a string is not a list of arguments)."""
    if isinstance(case, (str, bytes)) or not isinstance(case, Iterable):
        raise TypeError(f"{name} must be a sequence of arguments, got {type(case).__name__}")
    return tuple(case)


def _names(names: Any) -> tuple[str, ...] | None:
    """Argument names for messages: None or a sequence of strings."""
    if names is None:
        return None
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise TypeError(f"names must be a sequence of argument names, got {type(names).__name__}")
    return tuple(validate.string(n, "names") for n in names)


def _optional_function(value: Any, name: str) -> Callable[..., Any] | None:
    """None or a callable, or a TypeError naming ``name``."""
    return None if value is None else validate.function(value, name)


@dataclass
class Grade:
    """The outcome of running a student's function on a list of cases."""

    total: int
    wrong: list[tuple[Any, ...]] = field(default_factory=list)  # cases whose value differs from the reference
    raised: list[tuple[tuple[Any, ...], str]] = field(default_factory=list)  # (case, exception type name)
    values: list[Any] = field(default_factory=list)  # the converted value per case (None where it raised)
    names: Sequence[str] | None = None
    what: str = "cases"

    @property
    def passed(self) -> bool:
        """True when every case agreed with its reference."""
        return not self.wrong and not self.raised

    @property
    def right(self) -> int:
        """The number of cases that agreed with their reference."""
        return self.total - len(self.wrong) - len(self.raised)

    def message(self, success: str = "") -> str:
        """A diagnosis naming how many cases failed and the first of them, never the expected values."""
        if self.passed:
            return success or f"right on all {self.total} {self.what}."
        parts = []
        if self.wrong:
            parts.append(f"{len(self.wrong)} of {self.total} {self.what} differ; the first is "
                         f"{describe_case(self.wrong[0], self.names)}.")
        if self.raised:
            case, error = self.raised[0]
            parts.append(f"Your function raised an exception or returned a non-number on {len(self.raised)} of "
                         f"{self.total} {self.what}; the first was {error} at {describe_case(case, self.names)}.")
        return " ".join(parts)


def _agrees(value: Any, expected: Any, compare: Callable[[Any, Any], bool] | None, rtol: float, atol: float) -> bool:
    """Whether a student's value agrees with the reference; a value the comparison cannot handle does not."""
    try:
        return close(value, expected, rtol, atol) if compare is None else bool(compare(value, expected))
    except (TypeError, ValueError):  # e.g. an array where a number belongs
        return False


def grade(function: Callable[..., Any], cases: Iterable[Sequence[Any]],
          reference: Callable[..., Any] | Sequence[Any], *, rtol: float = 1e-9,
          atol: float | Callable[..., float] = 0.0,
          compare: Callable[[Any, Any], bool] | None = None, convert: Callable[[Any], Any] | None = None,
          names: Sequence[str] | None = None, what: str = "cases") -> Grade:
    """Call ``function(*case)`` on each case and compare with the reference value (``reference(*case)`` or its entry).

    ``atol`` may be a function of the case's arguments (a tolerance that scales with them). ``convert`` turns a
    returned value into the compared form (an error there counts as a failure, like an
    exception); ``compare(value, expected)`` replaces the default ``close(value, expected, rtol, atol)``. Array
    arguments are copied before the call, so a function that modifies its input cannot spoil the reference.
    """
    function = validate.function(function, "function")
    if isinstance(cases, (str, bytes)) or not isinstance(cases, Iterable):
        raise TypeError(f"cases must be a sequence of argument tuples, got {type(cases).__name__}")
    cases = [_arguments(case, "cases") for case in cases]
    if not callable(reference):
        if isinstance(reference, (str, bytes)) or not isinstance(reference, Sequence):
            raise TypeError(f"reference must be a function or a sequence of values, got {type(reference).__name__}")
        if len(reference) != len(cases):
            raise ValueError(f"reference must hold one value per case: {len(reference)} values, {len(cases)} cases")
    rtol = validate.real(rtol, "rtol", minimum=0)
    if not callable(atol):
        atol = validate.real(atol, "atol", minimum=0)
    compare, convert = _optional_function(compare, "compare"), _optional_function(convert, "convert")
    names, what = _names(names), validate.string(what, "what")
    result = Grade(total=len(cases), names=names, what=what)
    for i, case in enumerate(cases):
        expected = reference(*case) if callable(reference) else reference[i]
        value, error = call(function, *(_copy(a) for a in case))
        if error is None and convert is not None:
            try:
                value = convert(value)
            except (TypeError, ValueError, AttributeError):
                error = f"a {type(value).__name__} return value"
                value = None
        result.values.append(value)
        if error is not None:
            result.raised.append((case, error))
        elif not _agrees(value, expected, compare, rtol, atol(*case) if callable(atol) else atol):
            result.wrong.append(case)
    return result


# --- Expressions given as strings ----------------------------------------------------------------------------------
FUNCTIONS: tuple[str, ...] = ("sqrt", "exp", "log", "sin", "cos", "tan", "Rational", "Abs")
"""Functions a string answer may call."""
CONSTANTS: tuple[str, ...] = ("pi", "E", "I")
"""Constants a string answer may name."""

_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.Pow: operator.pow}


def parse_expression(text: str, symbols: Mapping[str, sympy.Symbol] | Iterable[str] = (),
                     other_names: bool = False) -> sympy.Expr:
    """A SymPy expression from ``text``, built without evaluating code.

    Only numbers, the given symbol names, ``+ - * / **``, unary minus and plus, the constants in ``CONSTANTS`` and
    calls to the functions in ``FUNCTIONS`` are accepted; anything else (attributes, other names, subscripts,
    keywords...) raises a ValueError that says what was refused. ``symbols`` maps names to SymPy symbols (or lists
    names, which then become plain symbols); with ``other_names`` any other name becomes a plain symbol too (a
    symbol is data, never looked up), so that the caller can say which symbols an answer should use.
    """
    import sympy as sp

    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if len(text) > 2000:
        raise ValueError("text must be at most 2000 characters long")
    table = _symbol_table(symbols, sp)
    other_names = validate.boolean(other_names, "other_names")
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"could not read the text {text!r} as a formula: {err.msg}") from None
    try:
        return _build(tree.body, table, sp, other_names)
    except ValueError as err:
        raise ValueError(f"{err} (in the formula text {text!r})") from None


def _symbol_table(symbols: Any, sp: Any) -> dict[str, Any]:
    """``symbols`` as a dict name -> SymPy symbol: a mapping is taken as it is, a list of names makes plain symbols."""
    if isinstance(symbols, Mapping):
        table = dict(symbols)
    elif isinstance(symbols, (str, bytes)) or not isinstance(symbols, Iterable):
        raise TypeError(f"symbols must map names to SymPy symbols or list names, got {type(symbols).__name__}")
    else:
        table = {validate.string(name, "symbols"): sp.Symbol(name) for name in symbols}
    if not all(isinstance(name, str) and isinstance(value, sp.Basic) for name, value in table.items()):
        raise TypeError("symbols must map names (strings) to SymPy symbols")
    return table


def _build(node: ast.AST, table: dict[str, Any], sp: Any, other_names: bool) -> Any:
    """The SymPy object for one node of a parsed formula (recursive), or a ValueError for a refused construct."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        # Decimals become exact rationals so that "0.5*n" compares exactly with n/2.
        return sp.Integer(node.value) if isinstance(node.value, int) else sp.Rational(repr(node.value))
    if isinstance(node, ast.Name):
        if node.id in table:
            return table[node.id]
        if node.id in CONSTANTS:
            return getattr(sp, node.id)
        if other_names:
            return sp.Symbol(node.id)
        allowed = ", ".join([*table, *CONSTANTS])
        raise ValueError(f"the name {node.id!r} is not allowed in a formula; allowed names: {allowed}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, table, sp, other_names)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left = _build(node.left, table, sp, other_names)
        right = _build(node.right, table, sp, other_names)
        if isinstance(node.op, ast.Pow) and getattr(right, "is_number", False) and abs(right) > 1000:
            raise ValueError("exponents larger than 1000 are not allowed in a formula")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ValueError(f"only these functions may be called in a formula: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise ValueError("keyword arguments are not allowed in a formula")
        return getattr(sp, node.func.id)(*(_build(arg, table, sp, other_names) for arg in node.args))
    if isinstance(node, ast.Attribute):
        raise ValueError("attribute access (a.b) is not allowed in a formula")
    raise ValueError(f"{type(node).__name__} is not allowed in a formula; use numbers, names, + - * / ** and "
                     "function calls")


def as_expression(answer: Any, symbols: Mapping[str, sympy.Symbol]) -> sympy.Expr:
    """A SymPy expression answer in the given symbols: a string is parsed safely, a number or expression is taken.

    A student's own ``Symbol("n")`` (without assumptions) is replaced by the checker's symbol of the same name;
    any other free symbol raises a ValueError.
    """
    import sympy as sp

    if not isinstance(symbols, Mapping):
        raise TypeError(f"symbols must map names to SymPy symbols, got {type(symbols).__name__}")
    symbols = _symbol_table(symbols, sp)
    if isinstance(answer, str):
        expr = parse_expression(answer, symbols, other_names=True)
    elif isinstance(answer, (sp.Basic, numbers.Number)) and not isinstance(answer, bool):
        expr = sp.sympify(answer, strict=True)  # strict: numbers and SymPy objects only, never strings
    else:
        raise TypeError(f"give an expression as the answer (a SymPy expression or a string), "
                        f"got {type(answer).__name__}")
    if not isinstance(expr, sp.Expr):
        raise ValueError("give an expression, not an equation or a set")
    expr = expr.subs({s: symbols[s.name] for s in expr.free_symbols if s.name in symbols})
    extra = {s for s in expr.free_symbols if s not in set(symbols.values())}
    if extra:
        names = ", ".join(symbols)
        raise ValueError(f"give an expression in the single symbol {names}" if len(symbols) == 1
                         else f"give an expression in the symbols {names}")
    return expr

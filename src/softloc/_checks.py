"""Scalar argument checks shared by the package (private).

Every check names the argument in its message and raises ``TypeError`` for a value of the wrong
type (``bool`` and ``numpy.bool_`` are never numbers) and ``ValueError`` for a value of the right
type that is out of range. ``numpy=False`` restricts the accepted types to Python's own
(``int``; ``int`` or ``float``) for the call sites that always did so.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["check_choice", "check_int", "check_probability", "check_real"]


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def check_int(value: Any, name: str, minimum: int | None = None, *, maximum: int | None = None,
              optional: bool = False, numpy: bool = True, unit: str = "") -> int | None:
    """A whole number in ``[minimum, maximum]`` (either bound may be ``None``), as an ``int``.

    ``optional`` also accepts ``None`` (returned as is); ``unit`` (e.g. ``"frames"``) is only
    used in the messages.
    """
    if optional and value is None:
        return None
    kind = int if not numpy else numbers.Integral
    if _is_bool(value) or not isinstance(value, kind):
        what = "None or an int" if optional else "an int"
        hint = f" ({unit})" if unit else ""
        raise TypeError(f"{name} must be {what}{hint}, got {type(value).__name__}")
    value = int(value)
    suffix = f" {unit}" if unit else ""
    if maximum is not None and (value > maximum or (minimum is not None and value < minimum)):
        low = "-inf" if minimum is None else minimum
        raise ValueError(f"{name} must lie in [{low}, {maximum}]{suffix}, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}{suffix}, got {value}")
    return value


def check_real(value: Any, name: str, minimum: float = -math.inf, maximum: float = math.inf, *,
               low_open: bool = False, high_open: bool = False, numpy: bool = True) -> float:
    """A finite real number in the interval from ``minimum`` to ``maximum``, as a ``float``.

    The bounds are inclusive unless ``low_open`` / ``high_open``; NaN and infinities are always
    rejected.
    """
    kind = (int, float) if not numpy else numbers.Real
    if _is_bool(value) or not isinstance(value, kind):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    low_ok = value > minimum if low_open else value >= minimum
    high_ok = value < maximum if high_open else value <= maximum
    if not (low_ok and high_ok):
        if maximum == math.inf:
            bounds = f"{'>' if low_open else '>='} {minimum:g}"
        elif minimum == -math.inf:
            bounds = f"{'<' if high_open else '<='} {maximum:g}"
        else:
            bounds = (f"in {'(' if low_open else '['}{minimum:g}, "
                      f"{maximum:g}{')' if high_open else ']'}")
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return value


def check_probability(value: Any, name: str, *, open_low: bool = False,
                      numpy: bool = True) -> float:
    """A probability in ``[0, 1]`` (or ``(0, 1]`` when ``open_low``), as a ``float``."""
    return check_real(value, name, 0.0, 1.0, low_open=open_low, numpy=numpy)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """One of the names ``choices``.

    Anything else, a non-string included, is a ``ValueError`` (as every call site always had it:
    a wrong name and a wrong type are the same mistake of naming an option that does not exist).
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value

"""Checking what a pupil passes to the robot, with messages that say what to type."""

from __future__ import annotations

import math
import numbers

from .errors import RobotTypeError, RobotValueError
from .i18n import message


def describe(value) -> str:
    """How a wrong value is named in a message: text, None, True/False or its type."""
    if value is None:
        return message("got_none")
    if isinstance(value, bool):
        return message("got_bool", value=value)
    if isinstance(value, str):
        return message("got_text", value=repr(value))
    return message("got_other", value=repr(value)[:40], type=type(value).__name__)


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def number(value, *, call: str, param: str, example: str, unit: str,
           low: float | None = None, high: float | None = None,
           negative_reason: str | None = None, negative_example: str = "") -> float:
    """``value`` as a float within [low, high], or a friendly error.

    ``negative_reason`` names the message for a negative value where the pupil
    probably meant the opposite command (backward instead of forward).
    """
    if isinstance(value, str) and _looks_numeric(value.strip()):
        raise RobotTypeError("number_in_quotes", call=call, got=repr(value), example=example)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise RobotTypeError("not_a_number", call=call, param=param, got=describe(value),
                             example=example)
    value = float(value)
    if not math.isfinite(value):
        raise RobotValueError("not_finite", call=call, param=param, got=repr(value), example=example)
    if value < 0 and negative_reason:
        raise RobotValueError(negative_reason, call=call, example=negative_example)
    if low is not None and value < low:
        raise RobotValueError("too_small", call=call, param=param, got=_fmt(value), low=_fmt(low),
                              unit=unit, example=example)
    if high is not None and value > high:
        raise RobotValueError("too_large", call=call, param=param, got=_fmt(value), high=_fmt(high),
                              unit=unit, example=example)
    return value


def flag(value, *, call: str, param: str) -> bool:
    if not isinstance(value, bool):
        raise RobotTypeError("not_bool", call=call, param=param, got=describe(value))
    return value


def _fmt(value: float) -> str:
    return f"{value:g}"

"""Checking what a pupil passes to the robot, with messages that say what to type."""

from __future__ import annotations

import math
import numbers

from .errors import RobotTypeError, RobotValueError
from .i18n import Text

#: Units written straight after the number; others get a space ("20 cm").
_UNITS_WITHOUT_SPACE = ("°", "%")


def describe(value) -> Text:
    """How a wrong value is named in a message: text, None, True/False or its type."""
    if value is None:
        return Text("got_none")
    if isinstance(value, bool):
        return Text("got_bool", value=value)
    if isinstance(value, str):
        return Text("got_text", value=repr(value))
    return Text("got_other", value=repr(value)[:40], type=type(value).__name__)


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
    try:
        number_value = float(value)
    except OverflowError:          # an int too large for a float: finite, just absurd
        number_value = math.inf if value > 0 else -math.inf
    if math.isnan(number_value) or (math.isinf(number_value) and not isinstance(value, int)):
        raise RobotValueError("not_finite", call=call, param=param, got=repr(value), example=example)
    if number_value < 0 and negative_reason:
        raise RobotValueError(negative_reason, call=call, example=negative_example)
    spaced = unit if unit in _UNITS_WITHOUT_SPACE else f" {unit}"
    if low is not None and number_value < low:
        raise RobotValueError("too_small", call=call, param=param, got=fmt(value), low=fmt(low),
                              unit=spaced, example=example)
    if high is not None and number_value > high:
        raise RobotValueError("too_large", call=call, param=param, got=fmt(value), high=fmt(high),
                              unit=spaced, example=example)
    return number_value


def flag(value, *, call: str, param: str, example: str) -> bool:
    if not isinstance(value, bool):
        raise RobotTypeError("not_bool", call=call, param=param, got=describe(value),
                             example=example)
    return value


def fmt(value) -> str:
    """A number as a pupil would write it: 1000000 rather than 1e+06, 2.5, -3."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        return text if len(text) <= 15 else text[:6] + "…"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"

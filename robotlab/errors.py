"""RobotLab's exceptions, one module.

Each error subclasses both ``RobotLabError`` and the matching built-in, so
``except ValueError`` keeps working, and carries a machine-readable ``reason``
(the message key) and its ``params`` so the text can be re-rendered in another
language.
"""

from __future__ import annotations

from .i18n import message


class RobotLabError(Exception):
    """Base of every RobotLab error. ``reason`` is the message key."""

    def __init__(self, reason: str, **params):
        self.reason = reason
        self.params = params
        super().__init__(message(reason, **params))

    def text(self, lang: str) -> str:
        """The same message in another language."""
        return message(self.reason, lang=lang, **self.params)


class RobotValueError(RobotLabError, ValueError):
    """A value of the right type that the robot cannot use (negative, absurd, unknown name)."""


class RobotTypeError(RobotLabError, TypeError):
    """A value of the wrong type (text or None where a number belongs, wrong arguments)."""


class RobotAttributeError(RobotLabError, AttributeError):
    """A misspelled or unknown robot method or setting."""


class RobotConnectionError(RobotLabError, ConnectionError):
    """The robot cannot be reached or has been closed."""


class RobotStoppedError(RobotLabError, RuntimeError):
    """The pupil pressed Stop in the live view: the robot stopped and so did the program."""

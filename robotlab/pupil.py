"""Machinery behind the pupil API: checked calls, Danish aliases, measurements.

Kept apart from ``robot.py`` so that the Robot class reads like the manual.
"""

from __future__ import annotations

import functools
import inspect
from collections import namedtuple

from .errors import RobotLabError, RobotTypeError
from .i18n import message
from .spelling import suggest


def usage(display_name: str, signature: inspect.Signature) -> str:
    params = [p for p in signature.parameters.values() if p.name != "self"]
    return f"robot.{display_name}({', '.join(str(p) for p in params)})"


def _binding_problem(exc: TypeError, signature: inspect.Signature, kwargs: dict) -> str:
    """What was wrong with the arguments, in the pupil's words; unknown names first."""
    known = [name for name in signature.parameters if name != "self"]
    for name in kwargs:
        if name not in known:
            close = suggest(name, known)
            hint = message("did_you_mean", suggestion=f"{close}=") if close else ""
            return message("unknown_keyword", name=name) + hint
    if "too many" in str(exc):
        return message("too_many_arguments")
    return message("missing_argument")


def checked(method):
    """Wrap a pupil method: friendly argument errors, and stop the robot on any error.

    Errors raised for the pupil lose their trace into RobotLab's internals; an
    interrupt (the kernel's stop button) or any other exception stops the motors
    first and then propagates unchanged.
    """
    signature = inspect.signature(method)

    @functools.wraps(method)
    def call(self, *args, _display=None, _signature=None, **kwargs):
        __tracebackhide__ = True  # noqa: F841  (IPython and pytest hide this frame)
        name = _display or method.__name__
        try:
            (_signature or signature).bind(self, *args, **kwargs)
        except TypeError as exc:
            error = RobotTypeError("wrong_arguments", call=f"robot.{name}()",
                                   problem=_binding_problem(exc, _signature or signature, kwargs),
                                   usage=usage(name, _signature or signature))
            raise error from None
        previous = self._calling
        object.__setattr__(self, "_calling", name)
        try:
            return method(self, *args, **kwargs)
        except RobotLabError as error:
            self._backend.emergency_stop()
            raise error.with_traceback(None) from None
        except BaseException:
            self._backend.emergency_stop()
            raise
        finally:
            object.__setattr__(self, "_calling", previous)

    call.pupil_signature = signature
    return call


def danish(method, danish_name: str, renames: dict[str, str]):
    """A Danish alias of a checked method, with Danish parameter names."""
    english = method.pupil_signature
    params = [p.replace(name=renames.get(p.name, p.name)) for p in english.parameters.values()]
    signature = english.replace(parameters=params)
    back = {v: k for k, v in renames.items()}

    def alias(self, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise RobotTypeError("wrong_arguments", call=f"robot.{danish_name}()",
                                 problem=_binding_problem(exc, signature, kwargs),
                                 usage=usage(danish_name, signature)) from None
        kwargs = {back.get(k, k): v for k, v in kwargs.items()}
        return method(self, *args, _display=danish_name, **kwargs)

    alias.__name__ = alias.__qualname__ = danish_name
    alias.__doc__ = method.__doc__
    alias.__signature__ = signature
    return alias


class Measurement:
    """A sensor method that also catches a forgotten pair of parentheses.

    ``robot.distance < 10`` compares a method with a number; Python would
    answer with a confusing TypeError or, worse, ``if robot.bumped:`` would
    always be true. Here both give a message that shows the fix.
    """

    def __init__(self, robot, method, name: str):
        self._robot, self._method, self._name = robot, method, name
        self.__doc__ = method.__doc__
        self.__signature__ = getattr(method, "__signature__", None) or inspect.signature(method)
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841
        return self._method(self._robot, *args, **kwargs)

    def _forgot(self, op: str):
        error = RobotTypeError("missing_parentheses", name=self._name, op=op)
        raise error.with_traceback(None) from None

    def __lt__(self, other):
        self._forgot("<")

    def __le__(self, other):
        self._forgot("<=")

    def __gt__(self, other):
        self._forgot(">")

    def __ge__(self, other):
        self._forgot(">=")

    def __eq__(self, other):
        if isinstance(other, (int, float, str, tuple)):
            self._forgot("==")
        return other is self

    def __ne__(self, other):
        if isinstance(other, (int, float, str, tuple)):
            self._forgot("!=")
        return other is not self

    def __hash__(self):
        return id(self)

    def __bool__(self):
        raise RobotTypeError("missing_parentheses_bool", name=self._name).with_traceback(None)

    def __repr__(self):
        return f"<robot.{self._name}: {message('missing_parentheses_bool', name=self._name)}>"


class measurement:
    """Descriptor that hands out a ``Measurement`` for each robot instance."""

    def __init__(self, method, name: str | None = None):
        self.method = method
        self.name = name or method.__name__
        self.__doc__ = method.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, robot, owner=None):
        if robot is None:
            return self
        return Measurement(robot, self.method, self.name)


_Pair = namedtuple("Pair", ["left", "right"])


class Pair(_Pair):
    """A (left, right) reading; also readable as ``.venstre`` and ``.højre``."""

    __slots__ = ()

    @property
    def venstre(self):
        return self.left

    @property
    def højre(self):
        return self.right

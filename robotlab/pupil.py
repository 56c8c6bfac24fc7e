"""Machinery behind the pupil API: checked calls, Danish aliases, measurements.

Kept apart from ``robot.py`` so that the Robot class reads like the manual.
"""

from __future__ import annotations

import functools
import inspect
from collections import namedtuple

from .errors import RobotLabError, RobotTypeError
from .i18n import Text
from .spelling import suggest


def usage(display_name: str, signature: inspect.Signature) -> str:
    params = [p for p in signature.parameters.values() if p.name != "self"]
    return f"robot.{display_name}({', '.join(str(p) for p in params)})"


def _binding_problem(exc: TypeError, signature: inspect.Signature, kwargs: dict,
                     translations: dict[str, str]) -> Text:
    """What was wrong with the arguments, in the pupil's words; unknown names first.

    ``translations`` maps the other language's parameter names to this
    method's, so ``frem(10, wait=False)`` suggests ``vent=``.
    """
    known = [name for name in signature.parameters if name != "self"]
    for name in kwargs:
        if name not in known:
            close = translations.get(name) or suggest(name, known)
            hint = Text("keyword_did_you_mean", suggestion=f"{close}=") if close else ""
            return Text("unknown_keyword", name=name, hint=hint)
    if "too many" in str(exc):
        return Text("too_many_arguments")
    return Text("missing_argument")


def wrong_arguments(name: str, exc: TypeError, signature, kwargs, translations) -> RobotTypeError:
    return RobotTypeError("wrong_arguments", call=f"robot.{name}()",
                          problem=_binding_problem(exc, signature, kwargs, translations),
                          usage=usage(name, signature))


def checked(method):
    """Wrap a pupil method: friendly argument errors, and stop the robot on any error.

    Errors raised for the pupil lose their trace into RobotLab's internals; an
    interrupt (the kernel's stop button) or any other exception stops the motors
    first and then propagates unchanged.
    """
    signature = inspect.signature(method)
    params = list(signature.parameters.values())[1:]
    # Only positional arguments, as many as the method takes: binding cannot
    # fail, so skip inspect's bind (the slowest part of a pupil call).
    bindable = (range(sum(p.default is p.empty for p in params), len(params) + 1)
                if all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params) else range(0))

    @functools.wraps(method)
    def call(self, *args, _display=None, **kwargs):
        __tracebackhide__ = True  # noqa: F841  (IPython and pytest hide this frame)
        name = _display or method.__name__
        try:
            if kwargs or len(args) not in bindable:
                signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            self._backend.emergency_stop()
            raise wrong_arguments(name, exc, signature, kwargs, call.translations) from None
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
    # inspect.signature(call) gives the same, but Measurement (made on every
    # robot.line / robot.distance ... access) would recompute it each time.
    call.__signature__ = signature
    call.translations = {}
    return call


def danish(method, danish_name: str, renames: dict[str, str]):
    """A Danish alias of a checked method, with Danish parameter names."""
    english = method.pupil_signature
    params = [p.replace(name=renames.get(p.name, p.name)) for p in english.parameters.values()]
    signature = english.replace(parameters=params)
    back = {v: k for k, v in renames.items()}
    translations = {k: v for k, v in renames.items() if k != v}

    def alias(self, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            self._backend.emergency_stop()
            raise wrong_arguments(danish_name, exc, signature, kwargs, translations) from None
        kwargs = {back.get(k, k): v for k, v in kwargs.items()}
        return method(self, *args, _display=danish_name, **kwargs)

    method.translations = {v: k for k, v in translations.items()}
    alias.__name__ = alias.__qualname__ = danish_name
    alias.__doc__ = method.__doc__
    alias.__signature__ = signature
    alias.pupil_signature = signature
    return alias


#: Things a pupil compares a reading with; comparing the method itself is a slip.
_VALUES = (int, float, str, tuple, list, type(None))


def _comparison(op: str):
    """A comparison operator for ``Measurement``: comparing the method itself is a slip."""
    equality = op in ("==", "!=")

    def compare(self, other):
        __tracebackhide__ = True  # noqa: F841
        if equality and not isinstance(other, _VALUES):
            return (other is self) == (op == "==")
        raise self._forgot("missing_parentheses", op=op).with_traceback(None) from None

    return compare


class Measurement:
    """A sensor method that also catches a forgotten pair of parentheses.

    ``robot.distance < 10`` compares a method with a number; Python would
    answer with a confusing TypeError or, worse, ``if robot.bumped:`` would
    always be true. Here each such use stops the robot and gives a message
    that shows the fix.
    """

    def __init__(self, robot, method, name: str):
        self._robot, self._method, self._name = robot, method, name
        self.__doc__ = method.__doc__
        self.__signature__ = getattr(method, "__signature__", None) or inspect.signature(method)
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841
        return self._method(self._robot, *args, **kwargs)

    def _forgot(self, key: str, **params) -> RobotTypeError:
        self._robot._backend.emergency_stop()
        return RobotTypeError(key, name=self._name, **params)

    def _value(self, *_args):
        __tracebackhide__ = True  # noqa: F841
        raise self._forgot("missing_parentheses_value").with_traceback(None) from None

    __lt__ = _comparison("<")
    __le__ = _comparison("<=")
    __gt__ = _comparison(">")
    __ge__ = _comparison(">=")
    __eq__ = _comparison("==")
    __ne__ = _comparison("!=")

    def __hash__(self):
        return id(self)

    def __bool__(self):
        __tracebackhide__ = True  # noqa: F841
        raise self._forgot("missing_parentheses_bool").with_traceback(None) from None

    # Arithmetic, conversions, formatting and unpacking all need the value.
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _value
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __pow__ = _value
    __neg__ = __pos__ = __abs__ = __int__ = __float__ = __round__ = __index__ = _value
    __iter__ = __format__ = _value

    def __repr__(self):
        from .i18n import message
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


class Setting(float):
    """A setting's value (e.g. ``robot.speed``) that explains itself when called."""

    def __new__(cls, value: float, name: str, robot):
        obj = super().__new__(cls, value)
        obj._name, obj._robot = name, robot
        return obj

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841
        self._robot._backend.emergency_stop()
        raise RobotTypeError("setting_not_callable", name=self._name).with_traceback(None) from None


_Pair = namedtuple("Pair", ["left", "right"])


class Pair(_Pair):
    """A (left, right) reading; also readable as ``.venstre`` and ``.højre``."""

    __slots__ = ()

    def __repr__(self) -> str:
        from .i18n import language
        names = ("venstre", "højre") if language() == "da" else ("left", "right")
        return f"({names[0]}={self.left!r}, {names[1]}={self.right!r})"

    @property
    def venstre(self):
        return self.left

    @property
    def højre(self):
        return self.right

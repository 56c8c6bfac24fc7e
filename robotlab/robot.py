"""``Robot``: the one class pupils program, the same for the simulator and real robots.

Units: cm, degrees, seconds, percent. A positive turn goes the way the method
is named (``turn_left(90)`` turns a quarter to the left). Every method has a
Danish alias (``frem``, ``drej_venstre``, ...), listed in ``DANISH``.
"""

from __future__ import annotations

import inspect

from . import backends, checks, colours, loading, settings
from .errors import (RobotAttributeError, RobotConnectionError, RobotLabError, RobotTypeError,
                     RobotValueError)
from .i18n import Text
from .pupil import Pair, Setting, _binding_problem, checked, danish, measurement
from .spelling import suggest

MAX_DISTANCE_CM = 1000.0      # 10 m: anything more is a typo in a classroom
MAX_TURN_DEG = 3600.0         # ten full turns
MAX_WAIT_S = 3600.0           # an hour
MAX_BEEP_S = 10.0
MAX_IDENTIFY_S = 60.0
MAX_SEED = 2**63


def _speed_setting(name: str) -> property:
    """The ``speed`` setting under one of its names (``speed`` or ``fart``)."""

    def get(self) -> float:
        return Setting(self._speed, name, self)

    def set(self, percent) -> None:
        percent = checks.number(percent, call=f"robot.{name}", param=name, unit="%", low=1,
                                high=100, example=f"robot.{name} = 50")
        object.__setattr__(self, "_speed", percent)

    return property(get, set, doc="""Driving speed for forward, backward and turns, in percent of top speed (1-100).

        Example: ``robot.speed = 80`` (or ``robot.fart = 80``).
        """)


class Robot:
    """A robot: the simulator by default, or a real robot over Bluetooth.

    Units: cm, degrees, seconds, percent. Moves block until the robot is done
    (pass ``wait=False`` to carry on at once). Sensor reads give the newest
    value; in the simulator each read lets one telemetry period (0.05 s) pass.

    Examples::

        robot = Robot()                     # simulator, open floor
        robot = Robot(arena="labyrint")     # simulator, the maze
        robot = Robot("ble")                # the robot next to you, over Bluetooth
        robot = Robot("ble", name="RobotLab-07")   # ... when several are in range
        robot.forward(20)
        robot.turn_left(90)
        if robot.distance() < 10:
            robot.stop()

    Options: ``noise=False`` makes the simulated robot perfect; ``seed=7``
    makes its errors repeatable; ``world=other_robot`` puts it in the same
    arena as another simulated robot; ``name="RobotLab-07"`` picks a real
    robot by the name on its sticker. A LEGO hub (``Robot("lego")``) takes
    its own build: ``left="A", right="B"`` (motor ports), ``wheel_cm=5.6``
    and ``axle_cm=11.2`` (wheel diameter and wheel distance, cm).
    """

    _settable = ("speed", "fart")

    def __init__(self, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841
        object.__setattr__(self, "_calling", None)
        object.__setattr__(self, "_closed", False)
        object.__setattr__(self, "_backend", _Idle())
        try:
            options = _ROBOT_OPTIONS.bind(*args, **kwargs)
        except TypeError as exc:
            raise RobotTypeError("wrong_arguments", call="Robot()",
                                 problem=_binding_problem(exc, _ROBOT_OPTIONS, kwargs, {}),
                                 usage=f"Robot({_ROBOT_USAGE})").with_traceback(None) from None
        options.apply_defaults()
        try:
            self._start(**options.arguments)
        except RobotLabError as error:
            raise error.with_traceback(None) from None

    def _start(self, kind, arena, noise, seed, profile, world, bane, name, left, right, wheel_cm,
               axle_cm):
        arena_param = "bane" if bane is not None else "arena"
        arena = bane if bane is not None else arena
        noise = checks.flag(noise, call="Robot()", param="noise", example="Robot(noise=False)")
        if seed is None:
            seed = settings.seed()
        seed = int(checks.number(seed, call="Robot()", param="seed", unit="", low=-MAX_SEED,
                                 high=MAX_SEED, example="Robot(seed=7)"))
        arena_meant = loading.arena_meant_as_kind(kind)
        if arena_meant:
            raise RobotValueError("unknown_robot_kind", got=repr(kind),
                                  hint=Text("did_you_mean", suggestion=f'Robot(arena="{arena_meant}")'))
        if world is not None and not isinstance(world, Robot):
            raise RobotTypeError("world_expected", got=checks.describe(world))
        shared_world = world._backend.world if world is not None else None
        backend = backends.create_backend(
            kind, arena=loading.arena(arena, param=arena_param) if shared_world is None else None,
            profile=loading.profile(profile), noise=noise, seed=seed, world=shared_world,
            speedup=settings.pace(), name=name,
            **{key: value for key, value in (("left", left), ("right", right),
                                             ("wheel_cm", wheel_cm), ("axle_cm", axle_cm))
               if value is not None})
        object.__setattr__(self, "_backend", backend)
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "_speed", float(backend.profile.default_speed_percent))
        from . import notebook
        notebook.track(self)

    # -- helpers -----------------------------------------------------------
    def _call(self) -> str:
        return f"robot.{self._calling}()"

    def _name(self, english: str) -> str:
        """The method's name in the language of the current call (for examples)."""
        if self._calling in DANISH_NAMES:
            return DANISH[english][0]
        return english

    def _param(self, english: str) -> str:
        """A parameter's name as the current call spells it (``grader`` in ``drej_venstre``)."""
        method = ENGLISH_OF.get(self._calling)
        return DANISH[method][1].get(english, english) if method else english

    def _wait_flag(self, value, first_args: str) -> bool:
        """The ``wait=`` argument checked, with an example call using ``first_args``."""
        name = self._param("wait")
        return checks.flag(value, call=self._call(), param=name,
                           example=f"robot.{self._calling}({first_args}, {name}=False)")

    def _blocking(self, motion, wait, first_args: str = "20") -> None:
        if self._wait_flag(wait, first_args):
            self._backend.wait_for(motion)

    def _distance(self, cm, opposite: str) -> float:
        return checks.number(cm, call=self._call(), param=self._param("cm"), unit="cm",
                             example=f"robot.{self._calling}(20)", high=MAX_DISTANCE_CM,
                             negative_reason="negative_distance",
                             negative_example=f"robot.{self._name(opposite)}({_abs(cm)})")

    def _angle(self, degrees, opposite: str) -> float:
        return checks.number(degrees, call=self._call(), param=self._param("degrees"), unit="°",
                             example=f"robot.{self._calling}(90)", high=MAX_TURN_DEG,
                             negative_reason="negative_angle",
                             negative_example=f"robot.{self._name(opposite)}({_abs(degrees)})")

    # -- moving ------------------------------------------------------------
    @checked
    def forward(self, cm, wait=True):
        """Drive straight ahead ``cm`` centimetres, then stop.

        Example: ``robot.forward(20)``. With ``wait=False`` the next line runs
        while the robot is still driving.
        """
        cm = self._distance(cm, "backward")
        self._blocking(self._backend.straight(cm, self._speed), wait)

    @checked
    def backward(self, cm, wait=True):
        """Drive straight back ``cm`` centimetres, then stop. Example: ``robot.backward(10)``."""
        cm = self._distance(cm, "forward")
        self._blocking(self._backend.straight(-cm, self._speed), wait)

    @checked
    def turn_left(self, degrees, wait=True):
        """Turn on the spot to the left (counterclockwise) by ``degrees``.

        Example: ``robot.turn_left(90)`` turns a quarter turn.
        """
        degrees = self._angle(degrees, "turn_right")
        self._blocking(self._backend.turn(degrees, self._speed), wait, "90")

    @checked
    def turn_right(self, degrees, wait=True):
        """Turn on the spot to the right (clockwise) by ``degrees``. Example: ``robot.turn_right(90)``."""
        degrees = self._angle(degrees, "turn_left")
        self._blocking(self._backend.turn(-degrees, self._speed), wait, "90")

    @checked
    def drive(self, left, right):
        """Run the wheels at ``left`` and ``right`` percent of top speed until the next command.

        -100 to 100; negative runs the wheel backward. Returns at once.
        Example: ``robot.drive(left=50, right=30)`` drives a curve to the right.
        """
        call = self._call()
        values = []
        for param, value in (("left", left), ("right", right)):
            values.append(checks.number(value, call=call, param=self._param(param), unit="%", low=-100,
                                        high=100, example=f"robot.{self._calling}(50, 50)"))
        self._backend.drive(*values)

    @checked
    def stop(self):
        """Brake and stand still. Example: ``robot.stop()``."""
        self._backend.wait_for(self._backend.stop())

    @checked
    def wait(self, seconds):
        """Let ``seconds`` pass while the robot keeps doing what it does.

        Example: ``robot.drive(50, 50)`` then ``robot.wait(2)`` drives for 2 seconds.
        """
        seconds = checks.number(seconds, call=self._call(), param=self._param("seconds"), unit="s", low=0,
                                high=MAX_WAIT_S, example=f"robot.{self._calling}(1.5)")
        self._backend.wait(seconds)

    speed = _speed_setting("speed")

    # -- light and sound ---------------------------------------------------
    @checked
    def led(self, colour, g=None, b=None):
        """Light the LED: a colour name, or red, green, blue from 0 to 255.

        Examples: ``robot.led("rød")``, ``robot.led("blue")``, ``robot.led(255, 120, 0)``,
        ``robot.led("off")``.
        """
        call = self._call()
        if g is None and b is None:
            rgb = colours.RGB[colours.parse(colour, call)]
        elif g is None or b is None:
            raise RobotTypeError("colour_arguments", call=call, name=self._calling,
                                 example=f'robot.{self._calling}("{colours.name_of("red")}")')
        else:
            rgb = tuple(_channel(v, call) for v in (colour, g, b))
        self._backend.set_led(rgb)

    @checked
    def beep(self, hz=440, seconds=0.2, wait=True):
        """Play a tone of ``hz`` (pitch, 50-10000) for ``seconds``. Example: ``robot.beep(440, 0.5)``."""
        call = self._call()
        profile = self._backend.profile
        hz = checks.number(hz, call=call, param="hz", unit="Hz", low=profile.buzzer_min_hz,
                           high=profile.buzzer_max_hz, example=f"robot.{self._calling}(440, 0.5)")
        seconds = checks.number(seconds, call=call, param=self._param("seconds"), unit="s", low=0,
                                high=MAX_BEEP_S, example=f"robot.{self._calling}(440, 0.5)")
        self._backend.beep(hz, seconds)
        if self._wait_flag(wait, "440, 0.5"):
            self._backend.wait(seconds)

    @checked
    def identify(self, seconds=5):
        """Blink the robot's light for ``seconds`` so you can see which robot is yours.

        Example: ``robot.identify()``. A real robot also shows its name on its
        display; ``robot.identify(0)`` stops the blinking.
        """
        seconds = checks.number(seconds, call=self._call(), param=self._param("seconds"), unit="s",
                                low=0, high=MAX_IDENTIFY_S, example=f"robot.{self._calling}(5)")
        # The simulator has nobody to find the robot in a crowd: it only checks the value.
        identify = getattr(self._backend, "identify", None)
        if identify is not None:
            identify(seconds)

    # -- sensors -----------------------------------------------------------
    @measurement
    @checked
    def distance(self):
        """Distance in cm from the front sensor to the nearest wall or robot (2-200 cm).

        Example: ``while robot.distance() > 10: robot.forward(1)``.
        """
        return round(self._backend.read("distance"), 1)

    @measurement
    @checked
    def line(self):
        """Whether the left and right line sensors see a dark line: ``(left, right)``.

        Example: ``left, right = robot.line()``.
        """
        return Pair(*self._backend.read("line"))

    @measurement
    @checked
    def reflection(self):
        """Light reflected from the floor under the line sensors, 0-100 % each: ``(left, right)``.

        Dark lines give low numbers. Example: ``left, right = robot.reflection()``.
        """
        left, right = self._backend.read("reflection")
        return Pair(round(left, 1), round(right, 1))

    @measurement
    @checked
    def color(self):
        """The colour under the robot, as a name. Example: ``if robot.color() == "rød": ...``.

        The name is Danish or English; it equals both (``"rød" == "red"`` here).
        """
        return colours.ColourName(self._backend.read("colour"))

    @measurement
    @checked
    def bumped(self):
        """True while the front bumper touches something. Example: ``if robot.bumped(): ...``."""
        return bool(self._backend.read("bumped"))

    @measurement
    @checked
    def heading(self):
        """Direction in degrees since the start, counterclockwise (left) positive.

        Turning left 90° adds about 90. Example: ``print(robot.heading())``.
        """
        return round(self._backend.read("heading"), 1)

    @measurement
    @checked
    def odometer(self):
        """Distance driven in cm, counted by the wheels (backward counts down).

        Example: ``robot.forward(30); print(robot.odometer())``.
        """
        return round(self._backend.read("odometer"), 1)

    @measurement
    @checked
    def time(self):
        """Seconds on the robot's clock since it started or was reset. Example: ``robot.time()``.

        Like every reading, it lets one telemetry period pass, so
        ``while robot.time() < 3: pass`` ends after 3 seconds.
        """
        return round(self._backend.read("time"), 3)

    # -- the rest ----------------------------------------------------------
    @checked
    def reset(self):
        """Put the robot back at the start: trail, odometer, heading and clock start over.

        Example: ``robot.reset()``.
        """
        self._backend.reset()

    @checked
    def show(self):
        """Show the simulator here: the live view of the arena, the robot and its trail.

        Example: ``robot.show()`` (or ``robot.vis()``). Where nothing draws live
        views it shows a picture; outside a notebook it returns the PNG bytes.
        """
        from . import notebook
        return notebook.show(self)

    @checked
    def close(self):
        """Stop the robot and let it go (for a Bluetooth robot: disconnect).

        Example: ``robot.close()``; make a new one with ``robot = Robot()``.
        """
        if not self._closed:
            self._backend.close()
            object.__setattr__(self, "_closed", True)
            object.__setattr__(self, "_backend", _Idle())

    # -- notebook and typo guards --------------------------------------------
    def _repr_png_(self) -> bytes | None:
        from . import notebook
        return notebook.picture(self)

    def __repr__(self) -> str:
        backend = self._backend
        if self._closed:
            return "Robot(closed)"
        arena = getattr(getattr(backend, "world", None), "arena", None)
        where = f", arena={arena.name!r}" if arena is not None else ""
        name = getattr(backend, "name", None)
        called = f", name={name!r}" if name else ""
        return f"Robot({backend.kind!r}{where}{called})"

    def __dir__(self):
        return sorted(PUPIL_NAMES)

    def __getattr__(self, name: str):
        # Only reached when normal look-up fails. Private names (IPython's
        # probes for _repr_*_ and friends) get the plain error they expect.
        __tracebackhide__ = True  # noqa: F841
        if name.startswith("_"):
            raise AttributeError(name)
        self._backend.emergency_stop()
        close = suggest(name, PUPIL_NAMES)
        hint = Text("did_you_mean", suggestion=_spelled(close)) if close else Text("tab_hint")
        raise RobotAttributeError("unknown_attribute", got=f"robot.{name}",
                                  hint=hint).with_traceback(None) from None

    def __setattr__(self, name: str, value) -> None:
        __tracebackhide__ = True  # noqa: F841
        try:
            if name in self._settable:
                type(self).__dict__[name].fset(self, value)
                return
            raise _refusal(self, name, value)
        except RobotLabError as error:
            self._backend.emergency_stop()
            raise error.with_traceback(None) from None


def _refusal(robot, name: str, value) -> RobotAttributeError:
    """Why ``robot.<name> = value`` is refused, with the line the pupil probably meant."""
    if name == "seed":
        return RobotAttributeError("read_only", got="robot.seed", kind=Text("kind_setting"),
                                   example=f"robot = Robot(seed={value!r})")
    if name in PUPIL_NAMES:
        measuring = isinstance(getattr(type(robot), name, None), measurement)
        takes_values = len(getattr(robot, name).__signature__.parameters) > 1 if not measuring else False
        shown = f"{value!r}" if isinstance(value, (int, float, str)) and takes_values else ""
        return RobotAttributeError("read_only", got=f"robot.{name}",
                                   kind=Text("kind_measurement" if measuring else "kind_command"),
                                   example=f"robot.{name}({shown})")
    close = suggest(name, PUPIL_NAMES)
    hint = Text("did_you_mean", suggestion=_spelled(close, value)) if close else Text("tab_hint")
    return RobotAttributeError("new_attribute", got=f"robot.{name}", hint=hint)


def _spelled(name: str, value=None) -> str:
    if name in Robot._settable:
        return f"robot.{name} = {value!r}" if value is not None else f"robot.{name}"
    return f"robot.{name}()"


def _abs(value) -> str:
    """The size of a (possibly wrong) value, for an example; only used when negative."""
    try:
        return checks.fmt(abs(value))
    except TypeError:
        return "10"


def _channel(value, call: str) -> int:
    __tracebackhide__ = True  # noqa: F841
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value <= 255) \
            or (isinstance(value, float) and not value.is_integer()):
        raise RobotValueError("colour_value", call=call, example=f"{call[:-1]}255, 120, 0)")
    return int(value)


class _Idle:
    """Stands in for a backend before one exists and after ``close()``."""

    kind = "closed"
    world = None

    def emergency_stop(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name):
        raise RobotConnectionError("robot_closed")


#: English method -> (Danish name, English parameter -> Danish parameter).
DANISH: dict[str, tuple[str, dict[str, str]]] = {
    "forward": ("frem", {"wait": "vent"}),
    "backward": ("tilbage", {"wait": "vent"}),
    "turn_left": ("drej_venstre", {"degrees": "grader", "wait": "vent"}),
    "turn_right": ("drej_højre", {"degrees": "grader", "wait": "vent"}),
    "drive": ("kør", {"left": "venstre", "right": "højre"}),
    "wait": ("vent", {"seconds": "sekunder"}),
    "led": ("lys", {"colour": "farve"}),
    "beep": ("bip", {"seconds": "sekunder", "wait": "vent"}),
    "identify": ("vink", {"seconds": "sekunder"}),
    "distance": ("afstand", {}),
    "line": ("linje", {}),
    "reflection": ("refleksion", {}),
    "color": ("farve", {}),
    "bumped": ("stødt", {}),
    "heading": ("retning", {}),
    "odometer": ("kørt", {}),
    "time": ("tid", {}),
    "reset": ("nulstil", {}),
    "show": ("vis", {}),
    "speed": ("fart", {}),
    "close": ("luk", {}),
}
DANISH_NAMES = {danish_name for danish_name, _ in DANISH.values()}
ENGLISH_OF = {danish_name: english for english, (danish_name, _) in DANISH.items()}


def _robot_options(kind=None, *, arena="tom", noise=True, seed=None, profile="classroom",
                   world=None, bane=None, name=None, left=None, right=None, wheel_cm=None,
                   axle_cm=None):
    """The options of ``Robot(...)``, as a signature to check calls against."""


_ROBOT_OPTIONS = inspect.signature(_robot_options)
_ROBOT_USAGE = 'arena="labyrint", noise=False, seed=7'
Robot.__init__.__signature__ = _ROBOT_OPTIONS.replace(parameters=[
    inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
    *_ROBOT_OPTIONS.parameters.values()])


def _add_danish_aliases() -> None:
    for english, (danish_name, renames) in DANISH.items():
        attribute = Robot.__dict__[english]
        if isinstance(attribute, property):
            setattr(Robot, danish_name, _speed_setting(danish_name))
        elif isinstance(attribute, measurement):
            alias = danish(attribute.method, danish_name, renames)
            setattr(Robot, danish_name, measurement(alias, danish_name))
        else:
            setattr(Robot, danish_name, danish(attribute, danish_name, renames))


_add_danish_aliases()
# "stop" is the same word in Danish and English.
PUPIL_NAMES = sorted(set(DANISH) | DANISH_NAMES | {"stop"})

"""A real robot over Bluetooth LE: ``Robot("ble")`` or ``Robot("ble", name="RobotLab-07")``.

The robot speaks the open RobotLab protocol (docs/protocol.md) and is reached
with bleak through ``ble_bridge.transport.RobotLink``, whose background thread
keeps the link alive. This backend turns the pupil API's units into the wire's
(cm -> mm, degrees -> centidegrees, seconds -> ms, percent as it is) and the
link's errors into friendly messages.

- A move or turn returns a ``Motion`` that is done when the robot's DONE arrives.
- A reading waits for the next telemetry frame the robot streams (no round
  trip), so, as in the simulator, each reading lets one telemetry period pass
  and ``while robot.distance() > 15: pass`` runs at the telemetry rate.
- ``wait(seconds)`` sleeps in real time.
- A lost link stops the robot (the robot does that itself). If the link comes
  back while the robot was meant to move, the pupil's next call says so. A
  command whose answer the lost link swallowed is sent again once the link is
  back and the robot resumed the session (protocol 1.1), and the pupil's call
  returns normally: the robot de-duplicates it, so it runs once. Only if the
  robot cannot resume (a 1.0 robot, a restart) is a move or turn not sent
  again and the pupil told to run the cell again (``ble_link_interrupted``).
- A robot takes one connection at a time, so a new ``Robot("ble")`` takes the
  robot over from an earlier one in the same kernel (a re-run cell): the
  earlier link to that name, or with no name every earlier link, is closed.

Tests and demos point every later ``Robot("ble")`` at virtual robots, the
pupil's code unchanged::

    from ble_bridge.virtual import VirtualRadio, backends
    from robotlab.backends import bluetooth
    radio = VirtualRadio()
    bluetooth.use_bleak_backends(*backends(radio))   # (None, None): bleak's own again

or, without code, ``ROBOTLAB_VIRTUAL_ROBOTS=3`` in the kernel's environment: the first
``Robot("ble")`` then starts RobotLab-01 ... RobotLab-03 on a virtual radio (each robot
drives its own simulated world on the open floor, with noise, in real time).
"""

from __future__ import annotations

import time
import weakref

from ble_bridge import (PROTOCOL_VERSION, Beep, Colour, Drive, Identify, MoveStraight, SetLed,
                        Stop, Subscribe, Turn, transport)
from ble_bridge.session import LinkError
from ble_bridge.transport import READY, RobotLink, robot_name

from .. import settings
from ..checks import describe
from ..errors import RobotConnectionError, RobotLabError, RobotTypeError
from ..i18n import Text
from ..spelling import suggest
from .base import Backend, Motion

#: bleak backend classes for the scanner and the client; None means bleak's own for this computer.
_bleak_backends: tuple[type | None, type | None] = (None, None)
#: The Bluetooth robots this kernel holds open.
_open: weakref.WeakSet[BluetoothBackend] = weakref.WeakSet()
#: The virtual radio and robots of ``ROBOTLAB_VIRTUAL_ROBOTS``, once started.
_virtual_classroom: tuple | None = None

#: Seconds to listen for robots when no name is given, and to look for a named one.
SCAN_S = transport.SCAN_S
FIND_S = transport.FIND_S
#: Seconds during which a lost link is tried again before the pupil is told it is gone.
RECONNECT_WITHIN_S = transport.RECONNECT_WITHIN_S
#: Seconds a reading waits for the next telemetry frame before the robot counts as silent.
TELEMETRY_WAIT_S = 1.5
#: Robot names listed in a message; thirty would not fit on a line.
MAX_NAMES_SHOWN = 8
#: Longest slice of ``wait``, so a lost link is noticed while waiting.
WAIT_SLICE_S = 0.1
#: How to call a pupil method, for the message about a refused command.
_CALLS = {MoveStraight: "robot.forward()", Turn: "robot.turn_left()", Drive: "robot.drive()",
          Stop: "robot.stop()", SetLed: "robot.led()", Beep: "robot.beep()",
          Identify: "robot.identify()"}
#: The protocol's colour ids as robotlab.colours' ids; "none recognised" reads as "off".
_COLOURS = {colour: "off" if colour is Colour.NONE else colour.name.lower() for colour in Colour}


def use_bleak_backends(scanner_backend: type | None, client_backend: type | None) -> None:
    """Make every later ``Robot("ble")`` scan and connect with these bleak backend classes.

    For tests and demos with virtual robots: ``use_bleak_backends(*backends(radio))``
    (``ble_bridge.virtual.backends``). ``use_bleak_backends(None, None)`` goes back
    to bleak's backend for this computer.
    """
    global _bleak_backends
    _bleak_backends = (scanner_backend, client_backend)


def _start_virtual_classroom() -> None:
    """Start the virtual robots ``ROBOTLAB_VIRTUAL_ROBOTS`` asks for, once per kernel.

    Backends a test or demo chose with ``use_bleak_backends`` win over the setting.
    """
    global _virtual_classroom
    count = settings.virtual_robots()
    if not count or _virtual_classroom is not None or _bleak_backends != (None, None):
        return
    from ble_bridge.virtual import VirtualRadio, backends

    from ..emulate import start_virtual_robots
    radio = VirtualRadio()
    robots = start_virtual_robots(radio, count, first_id=1, seed=settings.seed())
    _virtual_classroom = (radio, robots)
    use_bleak_backends(*backends(radio))


def pupil_name(name) -> str | None:
    """A robot name as a pupil writes it ("RobotLab-07", "07", "3F" or 7), as text for the link.

    A number is read as the digits on the sticker (10 means "RobotLab-10").
    Names the link cannot parse are kept, to be reported as unknown with a
    suggestion. Anything else is a friendly TypeError.
    """
    if name is None or isinstance(name, str):
        return name
    if isinstance(name, int) and not isinstance(name, bool) and 0 <= name <= 99:
        return f"{name:02d}"
    raise RobotTypeError("name_expected", call="Robot()", param="name", got=describe(name),
                         example='Robot("ble", name="RobotLab-07")')


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES_SHOWN])
    return shown + ", …" if len(names) > MAX_NAMES_SHOWN else shown


def _display_name(wanted: str) -> str:
    try:
        return robot_name(wanted)
    except ValueError:
        return wanted


class BleMotion(Motion):
    """A move, turn or stop the robot accepted; done when its DONE (or a lost link) ends it."""

    def __init__(self, link: RobotLink, seq: int):
        self.link, self.seq = link, seq

    @property
    def done(self) -> bool:
        return self.link.motion_done(self.seq)


class BluetoothBackend(Backend):
    kind = "ble"
    #: No simulated world: nothing to draw.
    world = None

    def __init__(self, *, name=None, profile):
        self.profile = profile
        wanted = pupil_name(name)
        period_ms = round(profile.telemetry_period_s * 1000)
        _start_virtual_classroom()
        scanner_backend, client_backend = _bleak_backends
        self._link = RobotLink(scanner_backend=scanner_backend, client_backend=client_backend,
                               subscription=Subscribe(period_ms, period_ms, 0, True),
                               reconnect_within_s=RECONNECT_WITHIN_S)
        self.name = None if wanted is None else _display_name(wanted)
        for earlier in list(_open):
            if self.name is None or earlier.name == self.name:
                earlier.close()     # it holds the robot, which then would not advertise
        try:
            self.info = self._link.connect(wanted, scan_s=SCAN_S, find_s=FIND_S)
        except LinkError as error:
            self._link.close()
            raise self._friendly(error) from None
        except BaseException:
            self._link.close()
            raise
        self.name = self._link.name
        _open.add(self)
        self._losses_seen = 0
        self._driving = False
        self._motion: BleMotion | None = None
        self._offsets = (0, 0, 0)    # time_ms, heading_cdeg, odometer_mm at the last reset

    def __repr__(self) -> str:
        return f"<BluetoothBackend {self.name} {self._link.state}>"

    # -- the link ------------------------------------------------------------------------

    def _send(self, message):
        self._check_link()
        try:
            return self._link.command(message)
        except LinkError as error:
            raise self._friendly(error, call=_CALLS.get(type(message), "")) from None

    def _check_link(self) -> None:
        """Raise if the link is gone, or went down while the robot was meant to move."""
        losses = self._link.losses
        if losses == self._losses_seen and self._link.state == READY:
            return
        self._losses_seen = losses
        state = self._link.wait_settled()
        moving = self._driving or (self._motion is not None and self._link.ended_by_lost_link(self._motion.seq))
        self._driving, self._motion = False, None
        if state != READY:
            raise self._friendly(LinkError("closed" if state == "closed" else "link_lost"))
        if moving:
            raise self._friendly(LinkError("link_interrupted"))

    def _friendly(self, error: LinkError, *, call: str = "") -> RobotLabError:
        """The pupil's message for a link error."""
        reason, details = error.reason, error.details
        name = self._link.name or self.name or "RobotLab"
        if reason == "no_bluetooth":
            return RobotConnectionError("ble_no_bluetooth")
        if reason == "no_robot" or (reason == "unknown_name" and not details["names"]):
            retry = f'Robot("ble", name="{details["wanted"]}")' if reason == "unknown_name" \
                else 'Robot("ble")'
            return RobotConnectionError("ble_no_robot", retry=retry)
        if reason == "several_robots":
            names = details["names"]
            return RobotConnectionError("ble_several_robots", count=len(names),
                                        names=_listed(names), example=names[0])
        if reason == "unknown_name":
            names = details["names"]
            close = suggest(details["wanted"], names)
            hint = Text("did_you_mean", suggestion=f'Robot("ble", name="{close}")') if close else ""
            return RobotConnectionError("ble_unknown_name", got=f'"{details["wanted"]}"', hint=hint,
                                        names=_listed(names))
        if reason == "version":
            ours = ".".join(map(str, PROTOCOL_VERSION))
            robot_major = details["robot_major"]
            key = "ble_update_robotlab" if robot_major > PROTOCOL_VERSION[0] else "ble_update_firmware"
            return RobotConnectionError(key, name=name, robot_version=f"{robot_major}.x",
                                        our_version=ours)
        if reason == "refused":
            return RobotConnectionError("ble_refused", name=name, call=call or "robot",
                                        code=details["nack"].code.name)
        if reason == "link_lost":
            return RobotConnectionError("ble_link_lost", name=name)
        if reason == "link_interrupted":
            return RobotConnectionError("ble_link_interrupted", name=name)
        if reason == "closed":
            return RobotConnectionError("robot_closed")
        return RobotConnectionError("ble_no_answer", name=name)   # no_answer, connect_failed

    # -- motion ----------------------------------------------------------------------------

    def _speed(self, percent: float) -> int:
        return min(100, max(1, round(percent)))

    def _motion_started(self, message) -> BleMotion:
        accepted = self._send(message)
        self._driving = False
        self._motion = BleMotion(self._link, accepted.seq)
        return self._motion

    def straight(self, distance_cm, speed_percent):
        return self._motion_started(MoveStraight(round(distance_cm * 10), self._speed(speed_percent)))

    def turn(self, degrees, speed_percent):
        return self._motion_started(Turn(round(degrees * 100), self._speed(speed_percent)))

    def drive(self, left_percent, right_percent):
        left, right = round(left_percent), round(right_percent)
        self._send(Drive(left, right))
        self._driving, self._motion = bool(left or right), None

    def stop(self):
        return self._motion_started(Stop())

    def emergency_stop(self):
        self._driving = False
        self._link.stop_all()

    def wait_for(self, motion):
        try:
            self._link.wait_done(motion.seq)
        except LinkError as error:
            self._losses_seen = self._link.losses
            self._driving, self._motion = False, None
            raise self._friendly(error) from None
        if motion is self._motion:
            self._motion = None

    def wait(self, seconds):
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._check_link()
            time.sleep(min(left, WAIT_SLICE_S))
        self._check_link()

    # -- output ------------------------------------------------------------------------------

    def set_led(self, rgb):
        self._send(SetLed(*rgb))

    def beep(self, hz, seconds):
        duration_ms = round(seconds * 1000)
        if duration_ms > 0:
            self._send(Beep(round(hz), duration_ms))

    def identify(self, seconds: float) -> None:
        """Blink the robot's LED (and show its id) for ``seconds``; 0 stops it."""
        self._send(Identify(round(seconds * 1000)))

    # -- sensors -------------------------------------------------------------------------------

    def _telemetry(self):
        """The next telemetry frame after this call (each reading lets one period pass)."""
        self._check_link()
        latest = self._link.latest_telemetry()
        try:
            return self._link.next_telemetry(latest.number if latest else 0, TELEMETRY_WAIT_S)
        except LinkError as error:
            if self._link.losses != self._losses_seen:
                self._check_link()
            raise self._friendly(error) from None

    def read(self, sensor):
        state = self._telemetry()
        time_ms, heading_cdeg, odometer_mm = self._offsets
        if sensor == "distance":
            if state.distance_mm is None:
                return self.profile.distance_max_cm
            return min(self.profile.distance_max_cm, state.distance_mm / 10)
        if sensor == "reflection":
            return float(state.reflection_left_percent), float(state.reflection_right_percent)
        if sensor == "line":
            return state.line_left, state.line_right
        if sensor == "colour":
            return _COLOURS[state.colour]
        if sensor == "bumped":
            return state.bumped
        if sensor == "heading":
            return (state.heading_cdeg - heading_cdeg) / 100
        if sensor == "odometer":
            return (state.odometer_mm - odometer_mm) / 10
        if sensor == "time":
            return (state.time_ms - time_ms) / 1000
        raise KeyError(sensor)

    def time(self):
        return self.read("time")

    def reset(self):
        """Stop, and start the clock, heading and odometer over (the robot stays where it is)."""
        self.emergency_stop()
        state = self._telemetry()
        self._offsets = (state.time_ms, state.heading_cdeg, state.odometer_mm)

    def close(self):
        self._driving = False
        _open.discard(self)
        self._link.close()

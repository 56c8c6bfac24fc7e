"""A real robot over Bluetooth LE: ``Robot("ble")`` or ``Robot("ble", name="RobotLab-07")``.

A micro:bit robot car (MakeCode firmware, docs/firmware.md) advertises
"BBC micro:bit [zatug]": ``Robot("ble", name="07")`` finds it by the id its INFO
reports (the number on its display), ``Robot("ble", name="zatug")`` by its name.

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

When Python runs in a notebook kernel on a server (JupyterHub) without Bluetooth, or
with ``ROBOTLAB_BLE=browser``, the robot is reached through the pupil's browser tab
(docs/relay.md): ``Robot("ble")`` shows the Connect panel, waits until the pupil has
connected a robot there, and goes on as with a local radio; only the bleak backend
differs (``ble_bridge.relay``).

or, without code, ``ROBOTLAB_VIRTUAL_ROBOTS=3`` in the kernel's environment: the first
``Robot("ble")`` then starts RobotLab-01 ... RobotLab-03 on a virtual radio (each robot
drives its own simulated world on the open floor, with noise, in real time).
"""

from __future__ import annotations

import threading
import time
import weakref

from ble_bridge import (PROTOCOL_VERSION, Beep, Colour, Drive, Identify, MotionState,
                        MoveStraight, SetLed, Stop, StopAll, Subscribe, Turn, encode, transport)
from ble_bridge.gatt import (advertised_name, is_microbit_name, microbit_letters,
                             robot_id_from_name)
from ble_bridge.session import LinkError
from ble_bridge.transport import READY, RobotLink, robot_name

from .. import settings
from ..checks import describe
from ..errors import RobotConnectionError, RobotLabError, RobotStoppedError, RobotTypeError
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
#: Seconds ``Robot("ble")`` waits for the pupil to connect a robot in the Connect panel.
PAIR_WAIT_S = 120.0
#: Seconds a move stopped by the robot waits for the panel's word that its Stop button did it
#: (the robot's DONE and the panel's message travel separately).
STOP_NOTICE_S = 0.5
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


def show_connect_panel(*, kernel_id: str, token: str, wanted: str | None,
                       stop_frame: bytes, kinds=("robotlab",)) -> None:
    """Show the Connect panel (``robotlab.connect.ConnectPanel``) under the running cell.

    The one place the relay path shows the panel; a test may replace it. Example::

        show_connect_panel(kernel_id="4f1c...", token=listener.mint_token(),
                           wanted="RobotLab-07", stop_frame=STOP_ALL_FRAME,
                           kinds=("robotlab", "lego"))
    """
    from IPython.display import display

    from ..connect import ConnectPanel
    display(ConnectPanel(kernel_id=kernel_id, token=token, wanted=wanted, stop_frame=stop_frame,
                         kinds=kinds))


#: What the panel's Stop button writes to the robot: STOP_ALL, valid in any state.
STOP_ALL_FRAME = encode(StopAll(), seq=0)


class _Relay:
    """The relay of this kernel: its listener, its bleak backends and the panel's Stop."""

    def __init__(self, connection_file: str):
        from ble_bridge.relay import RelayListener, backends, kernel_id_of
        self.kernel_id = kernel_id_of(connection_file)
        self.listener = RelayListener.for_kernel(connection_file)
        self.backends = backends(self.listener)
        #: Set by the panel's Stop button (listener thread), cleared when a cell starts.
        self.stop_requested = threading.Event()
        self.listener.on_stopped(self.stop_requested.set)
        _forget_stop_before_each_cell(self.stop_requested)

    def pair(self, wanted: str | None, kinds=("robotlab", "lego")) -> tuple[str, str]:
        """The name of a robot of one of ``kinds`` ("robotlab", "lego") a tab holds for us,
        and whether it is a "robotlab" robot or a "lego" hub: one already connected (a re-run
        cell), or the one the pupil connects in a new Connect panel."""
        from ble_bridge.relay.kernel import LWP3_SERVICE, NUS_SERVICE
        by_kind = {"robotlab": NUS_SERVICE, "lego": LWP3_SERVICE}
        services = tuple(by_kind[kind] for kind in kinds)
        name = self.listener.wait_paired(wanted, 0, services=services)
        if name is None:
            show_connect_panel(kernel_id=self.kernel_id, token=self.listener.mint_token(),
                               wanted=wanted, stop_frame=STOP_ALL_FRAME, kinds=kinds)
            name = self.listener.wait_paired(None, PAIR_WAIT_S, services=services)
            if name is None:
                raise RobotConnectionError("relay_not_paired", seconds=round(PAIR_WAIT_S))
        return name, "lego" if self.listener.service_of(name) == LWP3_SERVICE else "robotlab"


#: This kernel's relay, once ``Robot("ble")`` took the browser path.
_relay: _Relay | None = None


def _kernel_connection_file() -> str | None:
    """The connection file of the Jupyter kernel this code runs in, or None outside one."""
    try:
        from ipykernel.connect import get_connection_file
        return get_connection_file()
    except (ImportError, RuntimeError, AttributeError):
        return None


def the_relay() -> _Relay:
    """This kernel's relay (made on first use); RobotConnectionError outside a notebook kernel."""
    global _relay
    if _relay is None:
        connection_file = _kernel_connection_file()
        if connection_file is None:
            raise RobotConnectionError("relay_no_notebook")
        _relay = _Relay(connection_file)
    return _relay


def _forget_stop_before_each_cell(stop_requested: threading.Event) -> None:
    """A Stop pressed between cells must not stop the next cell."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.events.register("pre_run_cell", lambda *info: stop_requested.clear())


def connect_by_setting(backends: tuple, connect_here, connect_through_browser) -> None:
    """Reach a robot the way ``ROBOTLAB_BLE`` says (docs/relay.md): ``connect_here(scanner,
    client)`` with ``backends`` (this computer's radio when they are (None, None)), or
    ``connect_through_browser()``. Backends a test chose always connect here; in "auto" a
    notebook kernel without Bluetooth takes the browser. Used by ``Robot("ble")`` and
    ``Robot("lego")``."""
    chosen = backends != (None, None)
    setting = settings.ble_transport()
    if not chosen and setting == "browser":
        connect_through_browser()
        return
    try:
        connect_here(*backends)
    except RobotConnectionError as error:
        if (chosen or setting != "auto" or error.reason != "ble_no_bluetooth"
                or _kernel_connection_file() is None):
            raise
        connect_through_browser()


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


def _name_choices(names: list[str], robot_ids: dict[str, int]) -> dict[str, str]:
    """What a mistyped name may have meant -> the name to suggest: a RobotLab name as it is,
    a micro:bit by its id if its INFO was read, else by its whole name or its five letters."""
    choices = {}
    for name in names:
        if name in robot_ids:
            choices[advertised_name(robot_ids[name])] = advertised_name(robot_ids[name])
        elif is_microbit_name(name) and microbit_letters(name):
            choices[name] = choices[microbit_letters(name)] = microbit_letters(name)
        else:
            choices[name] = name
    return choices


def _display_name(wanted: str) -> str:
    try:
        return robot_name(wanted)
    except ValueError:
        return wanted


class FoundLegoHub(Exception):
    """``Robot("ble")`` found a LEGO hub, not a RobotLab robot: ``open_ble`` opens it with
    ``LegoBackend``. ``relay`` is the relay whose tab holds it, or None (this computer's radio)."""

    def __init__(self, name: str | None, relay: _Relay | None = None):
        super().__init__(name)
        self.name, self.relay = name, relay


def open_ble(*, name=None, profile) -> Backend:
    """``Robot("ble")``: the RobotLab robot (or micro:bit) called ``name`` or the only one in
    range; when there is none, the LEGO hub found instead (``robotlab.backends.lego``).

    Example: ``open_ble(name="Technic Hub", profile=load_profile("classroom"))`` is a
    ``LegoBackend`` when a hub of that name is in range.
    """
    from . import lego
    try:
        return BluetoothBackend(name=name, profile=profile)
    except FoundLegoHub as found:
        return lego.LegoBackend(name=found.name, profile=profile, relay=found.relay,
                                bleak_backends=None if found.relay else _bleak_backends)


def _lego_hubs(scanner_backend, client_backend) -> list[str]:
    """The names of the LEGO hubs in range (none without Bluetooth)."""
    from ble_bridge.lwp3.link import HubLink, HubLinkError
    link = HubLink(scanner_backend=scanner_backend, client_backend=client_backend)
    try:
        return [hub.name for hub in link.scan(SCAN_S)]
    except HubLinkError:
        return []
    finally:
        link.close()


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
        self._period_ms = round(profile.telemetry_period_s * 1000)
        _start_virtual_classroom()
        self.name = None if wanted is None else _display_name(wanted)
        for earlier in list(_open):
            if earlier._holds(self.name):
                earlier._release()     # it holds the robot, which then would not advertise
        from . import lego
        lego.release_earlier(self.name)   # a LEGO hub an earlier Robot("ble") found
        self._relay: _Relay | None = None
        connect_by_setting(_bleak_backends, lambda *backends: self._connect(wanted, *backends),
                           lambda: self._connect_through_browser(wanted))
        self.name = self._link.name
        _open.add(self)
        self._losses_seen = 0
        self._driving = False
        self._motion: BleMotion | None = None
        self._offsets = (0, 0, 0)    # time_ms, heading_cdeg, odometer_mm at the last reset

    def __repr__(self) -> str:
        return f"<BluetoothBackend {self.name} {self._link.state}>"

    def _holds(self, name: str | None) -> bool:
        """Whether this backend holds the robot called ``name`` (None: any robot): by its
        advertised name, or a micro:bit by the id its INFO gave."""
        wanted_id = robot_id_from_name(name)
        return (name is None or self.name == name
                or (wanted_id is not None and is_microbit_name(self.name)
                    and self.info.robot_id == wanted_id))

    def _connect(self, wanted: str | None, scanner_backend, client_backend) -> None:
        self._link = RobotLink(scanner_backend=scanner_backend, client_backend=client_backend,
                               subscription=Subscribe(self._period_ms, self._period_ms, 0, True),
                               reconnect_within_s=RECONNECT_WITHIN_S)
        try:
            self.info = self._link.connect(wanted, scan_s=SCAN_S, find_s=FIND_S)
        except LinkError as error:
            self._link.close()
            if error.reason in ("no_robot", "unknown_name"):
                # No such RobotLab robot: a LEGO hub in range is the robot (LegoBackend says
                # which hubs there are if several, or the name matches none of them).
                hubs = _lego_hubs(scanner_backend, client_backend)
                robots = error.details.get("names") if error.reason == "unknown_name" else None
                if hubs and (wanted in hubs or not robots):
                    raise FoundLegoHub(wanted) from None
            raise self._friendly(error) from None
        except BaseException:
            self._link.close()
            raise

    def _connect_through_browser(self, wanted: str | None) -> None:
        """The relay path (docs/relay.md): the Connect panel, the pairing, then as usual."""
        relay = the_relay()
        name, kind = relay.pair(None if wanted is None else self.name)
        if kind == "lego":
            raise FoundLegoHub(name, relay)
        self._relay = relay
        relay.stop_requested.clear()
        # The tab holds one robot: connect to it (a wrong one is reported with its name).
        self._connect(wanted or name, *relay.backends)

    # -- the link ------------------------------------------------------------------------

    def _send(self, message):
        self._check_stop()
        self._check_link()
        try:
            return self._link.command(message)
        except LinkError as error:
            raise self._friendly(error, call=_CALLS.get(type(message), "")) from None

    def _check_stop(self) -> None:
        """Raise the live view's Stop message if the Connect panel's Stop was pressed."""
        if self._relay is not None and self._relay.stop_requested.is_set():
            self._relay.stop_requested.clear()
            self._driving, self._motion = False, None
            raise RobotStoppedError("stopped_by_button")

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
            letters = [microbit_letters(name) for name in names if is_microbit_name(name)]
            if letters:
                ours = [name for name in names if not is_microbit_name(name)]
                return RobotConnectionError("microbit_several_robots", count=len(names),
                                            names=_listed(names), letters=letters[0] or "zatug",
                                            example=ours[0] if ours else "07")
            return RobotConnectionError("ble_several_robots", count=len(names),
                                        names=_listed(names), example=names[0])
        if reason == "unknown_name":
            # A micro:bit whose INFO was read is listed with its id: "RobotLab-05 (BBC micro:bit [zatug])".
            robot_ids = details.get("robot_ids", {})
            names = [f"{advertised_name(robot_ids[name])} ({name})" if name in robot_ids
                     else name for name in details["names"]]
            choices = _name_choices(details["names"], robot_ids)
            close = suggest(details["wanted"], list(choices))
            hint = Text("did_you_mean", suggestion=f'Robot("ble", name="{choices[close]}")') \
                if close else ""
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
            if self._relay is not None:
                return RobotConnectionError("relay_link_lost", name=name)
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
            status = self._link.wait_done(motion.seq)
        except LinkError as error:
            self._losses_seen = self._link.losses
            self._driving, self._motion = False, None
            raise self._friendly(error) from None
        if motion is self._motion:
            self._motion = None
        if status is MotionState.INTERRUPTED and self._relay is not None:
            # Was it the panel's Stop? Its message may come just after the robot's DONE.
            self._relay.stop_requested.wait(STOP_NOTICE_S)
            self._check_stop()

    def wait(self, seconds):
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._check_stop()
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
        self._check_stop()
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

    def _release(self) -> None:
        """Let go of the robot (a new ``Robot("ble")`` takes it over); a tab keeps holding it."""
        self._driving = False
        _open.discard(self)
        self._link.close()

    def close(self):
        self._release()
        if self._relay is not None and self.name is not None:
            self._relay.listener.tell(self.name, {"type": "disconnect"})

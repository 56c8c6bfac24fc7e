"""A LEGO hub as the robot: ``Robot("lego")`` or ``Robot("lego", name="Technic Hub")``.

The hub keeps LEGO's own firmware and speaks LEGO Wireless Protocol 3.0
(docs/lego.md); ``ble_bridge.lwp3.link.HubLink`` reaches it with bleak. The
robot is a drive base built on the hub: two motors with rotation counters and,
where attached, colour and distance sensors. Its build (which port holds which
wheel, which way a motor turns for forward, wheel size, axle track) is a
profile per hub kind, ``simulator/profiles/lego-*.toml``, chosen by the kind
the hub advertises; the pupil can say other ports and sizes.

- ``forward(cm)`` and ``turn_left(degrees)`` become StartSpeedForDegrees on
  both motors (cm -> motor degrees through the wheel's circumference, a turn's
  degrees through the axle track); done when the hub reports both completed.
- ``drive(left, right)`` runs on a **lease**: the hub has no watchdog, so
  instead of an endless StartSpeed it gets StartSpeedForTime of ``LEASE_S``,
  renewed every ``LEASE_RENEW_S`` by a thread while the pupil drives. A lost
  link (or a dead kernel) stops an endless drive within ``LEASE_S``.
- Heading and odometer come from the motors' counters (subscribed with a
  delta, so no round trip); distance, colour and reflection from sensors
  where attached, subscribed on first use. Like every RobotLab robot, a
  reading lets one telemetry period pass, so ``while robot.time() < 3: ...``
  runs at the profile's telemetry rate.
- ``led`` sets the hub's light and ``identify`` blinks it (a thread, so the
  cell goes on); a hub has no buzzer, so ``beep`` only waits, and no bumper,
  so ``bumped()`` says to use the distance sensor.
- On a server without Bluetooth (JupyterHub), or with ``ROBOTLAB_BLE=browser``,
  the hub is reached through the pupil's browser tab as a RobotLab robot is
  (docs/relay.md): the Connect panel lists LEGO hubs, and its Stop button
  brakes every motor of the hub. ``Robot("ble")`` opens a LEGO hub too when it
  finds one and no RobotLab robot (``bluetooth.open_ble``).

Tests and demos point ``Robot("lego")`` at virtual hubs (``robotlab.emulate.start_virtual_hubs``)::

    from ble_bridge.virtual import VirtualRadio, backends
    from robotlab.backends import lego
    radio = VirtualRadio()
    lego.use_bleak_backends(*backends(radio))    # (None, None): bleak's own again
"""

from __future__ import annotations

import dataclasses
import math
import struct
import threading
import time
import weakref

from ble_bridge.lwp3 import (EndState, HubKind, IoType, PortInputFormatSetupSingle,
                             StartSpeedForDegrees, StartSpeedForTime, set_rgb, start_power)
from ble_bridge.lwp3.devices import (LEGO_COLOURS, MOTOR_POSITION, SENSOR_MODES, TACHO_MOTORS,
                                     SensorMode)
from ble_bridge.lwp3.link import DISCARDED, LOST, HubLink, HubLinkError

from .. import settings
from ..checks import describe, number
from ..errors import (RobotAttributeError, RobotConnectionError, RobotLabError, RobotStoppedError,
                      RobotTypeError, RobotValueError)
from ..i18n import Text
from ..spelling import suggest
from .base import Backend, Motion

#: bleak backend classes for the scanner and the client; None means bleak's own.
_bleak_backends: tuple[type | None, type | None] = (None, None)
#: The hubs this kernel holds open (a hub takes one connection at a time).
_open: weakref.WeakSet[LegoBackend] = weakref.WeakSet()
#: The virtual radio and hubs of ``ROBOTLAB_VIRTUAL_HUBS``, once started.
_virtual_hubs: tuple | None = None
#: The browser relays whose Connect panels' Stop this module listens to.
_relays_heard: weakref.WeakSet = weakref.WeakSet()

#: Seconds to listen for hubs when no name is given, and to look for a named one.
SCAN_S = 2.0
FIND_S = 5.0
#: Seconds one drive() command lasts on the hub unless renewed: the most a lost link lets
#: an endless drive go on.
LEASE_S = 1.0
#: Seconds between renewals of a drive's lease (four renewals per lease: a late one or two
#: do not make the robot stutter).
LEASE_RENEW_S = 0.25
#: Seconds a lost link is sought again (the Connect panel tries GATT for 10 s too); the
#: first thing sent to a hub found again is a brake for every motor.
RECONNECT_WITHIN_S = 10.0
#: Seconds a move may take beyond its planned time before the hub counts as silent.
MOVE_MARGIN_S = 5.0
#: Longest slice of a wait, so a lost link is noticed while waiting.
WAIT_SLICE_S = 0.1
#: Seconds a move the hub ended early waits for the Connect panel's word that its Stop
#: button did it (the hub's feedback and the panel's message travel separately).
STOP_NOTICE_S = 0.5
#: Seconds the light is on, then off, while ``identify`` blinks it; its colour then.
BLINK_S = 0.25
BLINK_RGB = (255, 255, 255)
#: Hub names listed in a message.
MAX_NAMES_SHOWN = 8
#: The hub letters as LWP3 port numbers (the same on every hub driven here).
PORTS = {"A": 0, "B": 1, "C": 2, "D": 3}
LETTERS = {number: letter for letter, number in PORTS.items()}
#: The ports each hub kind has for motors and sensors.
HUB_LETTERS = {HubKind.TECHNIC_HUB: "ABCD", HubKind.BOOST_MOVE_HUB: "ABCD",
               HubKind.CITY_HUB: "AB", HubKind.SPIKE_ESSENTIAL: "AB"}
#: LEGO's colour names as robotlab.colours' ids.
_COLOURS = {**{name: name for name in LEGO_COLOURS.values()}, "light_blue": "blue"}
#: The messages for a reading whose sensor is missing, and the names of the wheels.
MISSING_KEYS = {"colour": "lego_missing_colour", "line": "lego_missing_line",
                "distance": "lego_missing_distance"}
WHEEL_KEYS = {"left": "lego_wheel_left", "right": "lego_wheel_right"}
#: The devices that see colour and reflection.
_COLOUR_SENSORS = (IoType.TECHNIC_COLOR_SENSOR, IoType.VISION_SENSOR)


def use_bleak_backends(scanner_backend: type | None, client_backend: type | None) -> None:
    """Make every later ``Robot("lego")`` scan and connect with these bleak backend classes.

    For tests and demos with virtual hubs: ``use_bleak_backends(*backends(radio))``
    (``ble_bridge.virtual.backends``); ``use_bleak_backends(None, None)`` goes back to
    bleak's own backend for this computer.
    """
    global _bleak_backends
    _bleak_backends = (scanner_backend, client_backend)


def _start_virtual_hubs() -> None:
    """Start the virtual LEGO hubs ``ROBOTLAB_VIRTUAL_HUBS`` asks for, once per kernel.

    Backends a test or demo chose with ``use_bleak_backends`` win over the setting.
    """
    global _virtual_hubs
    count = settings.virtual_hubs()
    if not count or _virtual_hubs is not None or _bleak_backends != (None, None):
        return
    from ble_bridge.virtual import VirtualRadio, backends

    from ..emulate import start_virtual_hubs
    radio = VirtualRadio()
    hubs = start_virtual_hubs(radio, count, seed=settings.seed())
    _virtual_hubs = (radio, hubs)
    use_bleak_backends(*backends(radio))


def hub_profile(hub_kind: int):
    """The built-in drive-base profile for a hub kind (``HubKind``), or None.

    Example: ``hub_profile(HubKind.TECHNIC_HUB).id == "lego-technic"``.
    """
    from simulator.profile import available_profiles, load_profile
    for name in available_profiles():
        if name.startswith("lego-"):
            profile = load_profile(name)
            if profile.hub is not None and profile.hub.hub_kind == HubKind(hub_kind).name.lower():
                return profile
    return None


def _panel_stopped() -> None:
    """A Connect panel's Stop was pressed (the relay listener's thread): every hub reached
    through a browser stops its drive and is braked again by the kernel."""
    for backend in list(_open):
        if backend._relay is not None:
            threading.Thread(target=backend._stopped_in_panel, name="lego stop",
                             daemon=True).start()


def release_earlier(name: str | None) -> None:
    """Let go of the hub called ``name`` (None: every hub) that an earlier robot of this
    kernel holds, without asking a browser tab to let go of it (a re-run cell takes it over)."""
    for earlier in list(_open):
        if name is None or earlier.name == name:
            earlier._release()


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES_SHOWN])
    return shown + ", …" if len(names) > MAX_NAMES_SHOWN else shown


def _port_letter(value, param: str) -> str:
    """A port as the pupil writes it ("A", "b") checked against the hub letters."""
    letter = value.strip().upper() if isinstance(value, str) else None
    if letter not in PORTS:
        raise RobotValueError("lego_bad_port", got=repr(value) if isinstance(value, str)
                              else describe(value), param=param, ports=", ".join(PORTS))
    return letter


def check_build(*, left=None, right=None, wheel_cm=None, axle_cm=None) -> dict:
    """The pupil's ports and sizes checked, as ``build_profile`` takes them (before connecting).

    ``left``/``right`` are hub letters, ``wheel_cm`` the wheel's diameter and
    ``axle_cm`` the distance between the wheels' middles (cm).
    Example: ``check_build(left="a", wheel_cm=8.8) == {"left": "A", "wheel_cm": 8.8}``.
    """
    checked = {}
    if left is not None:
        checked["left"] = _port_letter(left, "left")
    if right is not None:
        checked["right"] = _port_letter(right, "right")
    if left is not None and right is not None and checked["left"] == checked["right"]:
        raise RobotValueError("lego_same_port", port=checked["left"])
    if wheel_cm is not None:
        checked["wheel_cm"] = number(wheel_cm, call="Robot()", param="wheel_cm", unit="cm", low=1,
                                     high=30, example='Robot("lego", wheel_cm=5.6)')
    if axle_cm is not None:
        checked["axle_cm"] = number(axle_cm, call="Robot()", param="axle_cm", unit="cm", low=2,
                                    high=60, example='Robot("lego", axle_cm=11.2)')
    return checked


def build_profile(profile, *, left=None, right=None, wheel_cm=None, axle_cm=None):
    """``profile`` (a LEGO one) with the pupil's checked ports and sizes (``check_build``).

    Example: ``build_profile(hub_profile(HubKind.TECHNIC_HUB), left="C", wheel_cm=8.8)``.
    """
    changes, hub_changes = {}, {}
    if left is not None:
        hub_changes["left_motor"] = left
    if right is not None:
        hub_changes["right_motor"] = right
    if hub_changes:
        changes["hub"] = dataclasses.replace(profile.hub, **hub_changes)
        if changes["hub"].left_motor == changes["hub"].right_motor:
            raise RobotValueError("lego_same_port", port=changes["hub"].left_motor)
    if axle_cm is not None:
        changes["axle_track_cm"] = axle_cm
    if wheel_cm is not None:
        changes["wheel_diameter_cm"] = wheel_cm
        # The top speed is the motor's turning speed: on a bigger wheel it goes further.
        changes["top_speed_cm_s"] = profile.top_speed_cm_s * wheel_cm / profile.wheel_diameter_cm
    return dataclasses.replace(profile, **changes) if changes else profile


class LegoMotion(Motion):
    """A move, turn or stop the hub took; done when every motor's command ended."""

    def __init__(self, link: HubLink, tokens: list[int], planned_s: float):
        self.link, self.tokens, self.planned_s = link, tokens, planned_s

    @property
    def done(self) -> bool:
        return all(self.link.outcome(token) is not None for token in self.tokens)


class LegoBackend(Backend):
    kind = "lego"
    #: No simulated world: nothing to draw.
    world = None

    def __init__(self, *, name=None, profile=None, left=None, right=None, wheel_cm=None,
                 axle_cm=None, relay=None, bleak_backends=None):
        """``relay`` (a tab already holds the hub) and ``bleak_backends`` (scanner, client) are
        for ``bluetooth.open_ble``; by default the module's backends, or the browser relay."""
        if name is not None and not isinstance(name, str):
            raise RobotTypeError("name_expected", call="Robot()", param="name", got=describe(name),
                                 example='Robot("lego", name="Technic Hub")')
        build = check_build(left=left, right=right, wheel_cm=wheel_cm, axle_cm=axle_cm)
        self.name = name
        release_earlier(name)       # it holds the hub, which then would not advertise
        if relay is None and bleak_backends is None:
            _start_virtual_hubs()
        self._relay = relay
        if relay is not None:
            relay.stop_requested.clear()
            self._connect(name, *relay.backends)
        else:
            from .bluetooth import connect_by_setting
            connect_by_setting(bleak_backends or _bleak_backends,
                               lambda *backends: self._connect(name, *backends),
                               lambda: self._connect_through_browser(name))
        def set_up():
            self.profile = build_profile(self._choose_profile(profile), **build)
            self._set_up()
        self._closing_link_on_failure(set_up)
        _open.add(self)
        self._lock = threading.RLock()
        self._drive_speeds: tuple[int, int] | None = None
        self._drive_losses = 0            # the link's losses when the drive began
        self._losses_seen = self._link.losses
        self._closing = threading.Event()
        self._lease = threading.Thread(target=self._renew_leases, name=f"lego lease {self.name}",
                                       daemon=True)
        self._lease.start()
        self._rgb = BLINK_RGB           # a connected hub's light is white until the pupil sets it
        self._blink_until = 0.0
        self._blinking = False
        if self._relay is not None and self._relay not in _relays_heard:
            _relays_heard.add(self._relay)
            self._relay.listener.on_stopped(_panel_stopped)

    def __repr__(self) -> str:
        return f"<LegoBackend {self.name} {self._link.state}>"

    # -- connecting -----------------------------------------------------------------------------

    def _connect(self, name: str | None, scanner_backend, client_backend) -> None:
        self._link = HubLink(scanner_backend=scanner_backend, client_backend=client_backend,
                             reconnect_within_s=RECONNECT_WITHIN_S)
        self.info = self._closing_link_on_failure(
            lambda: self._link.connect(name, scan_s=SCAN_S, find_s=FIND_S))
        self.name = self.info.name

    def _closing_link_on_failure(self, step):
        """``step()``'s result; if it fails, the link is closed and its error made friendly."""
        try:
            return step()
        except HubLinkError as error:
            self._link.close()
            raise self._friendly(error) from None
        except BaseException:
            self._link.close()
            raise

    def _connect_through_browser(self, name: str | None) -> None:
        """The relay path (docs/relay.md): the Connect panel lists LEGO hubs; the one the
        pupil connects there is driven through the tab."""
        from .bluetooth import the_relay
        relay = the_relay()
        paired, _ = relay.pair(name, kinds=("lego",))
        self._relay = relay
        relay.stop_requested.clear()
        self._connect(name or paired, *relay.backends)

    # -- setting up ----------------------------------------------------------------------------

    def _choose_profile(self, given):
        """The pupil's LEGO profile, else the one for the hub's kind."""
        if given is not None and given.hub is not None:
            return given
        profile = hub_profile(self.info.kind) if self.info.kind in HubKind._value2member_map_ \
            else None
        if profile is None:
            raise RobotConnectionError("lego_hub_unsupported", name=self.name,
                                       kind=f"0x{self.info.kind:02X}")
        return profile

    def _set_up(self) -> None:
        hub = self.profile.hub
        self._letters = HUB_LETTERS.get(self.info.kind, "ABCD")
        self.left_port, self.right_port = PORTS[hub.left_motor], PORTS[hub.right_motor]
        self._forward = {self.left_port: hub.left_forward, self.right_port: hub.right_forward}
        attached = self._link.attached
        for port, side in ((self.left_port, "left"), (self.right_port, "right")):
            if attached.get(port) not in TACHO_MOTORS:
                motors = [LETTERS[p] for p in sorted(attached) if attached[p] in TACHO_MOTORS
                          and p in LETTERS]
                example = 'Robot("lego", left="{}", right="{}")'.format(
                    *(motors if len(motors) == 2 else (hub.left_motor, hub.right_motor)))
                key = "lego_missing_motor" if attached.get(port) is None else "lego_not_a_motor"
                raise RobotConnectionError(key, name=self.name, port=LETTERS[port],
                                           wheel=Text(WHEEL_KEYS[side]), example=example)
        self._light = next((port for port, io_type in attached.items()
                            if io_type == IoType.RGB_LIGHT), None)
        if self._light is not None:
            # Real hubs take RGB values only once the light is in mode 1 (RGB).
            self._link.write(PortInputFormatSetupSingle(self._light, 1, 1, False))
        self._modes: dict[int, SensorMode] = {}
        for port in (self.left_port, self.right_port):
            self._subscribe(port, MOTOR_POSITION)
        self._last_read = 0.0
        self._offsets = (time.monotonic(), 0.0, 0.0)     # clock, heading, odometer at reset
        self._offsets = (time.monotonic(), self._heading_deg(), self._odometer_cm())

    def _subscribe(self, port: int, mode: SensorMode) -> None:
        if self._modes.get(port) != mode:
            self._link.subscribe(port, mode)
            self._modes[port] = mode

    # -- the link -------------------------------------------------------------------------------

    def _friendly(self, error: HubLinkError) -> RobotLabError:
        reason, details = error.reason, error.details
        name = self._link.name or self.name or "LEGO"
        if reason == "no_bluetooth":
            return RobotConnectionError("ble_no_bluetooth")
        if reason == "no_hub" or (reason == "unknown_name" and not details["names"]):
            retry = f'Robot("lego", name="{details["wanted"]}")' if reason == "unknown_name" \
                else 'Robot("lego")'
            return RobotConnectionError("lego_no_hub", retry=retry)
        if reason == "several_hubs":
            names = details["names"]
            return RobotConnectionError("lego_several_hubs", count=len(names),
                                        names=_listed(names), example=names[0])
        if reason == "unknown_name":
            names = details["names"]
            close = suggest(details["wanted"], names)
            hint = Text("did_you_mean", suggestion=f'Robot("lego", name="{close}")') if close else ""
            return RobotConnectionError("lego_unknown_name", got=f'"{details["wanted"]}"',
                                        hint=hint, names=_listed(names))
        if reason in ("link_lost", "closed") and self._link.state == "closed":
            return RobotConnectionError("robot_closed")
        if reason == "link_interrupted":
            return RobotConnectionError("lego_link_interrupted", name=name)
        if reason == "link_lost":
            key = "lego_relay_link_lost" if self._relay is not None else "lego_link_lost"
            return RobotConnectionError(key, name=name, lease=round(LEASE_S))
        return RobotConnectionError("lego_no_answer", name=name)  # no_answer, connect_failed

    def _check_stop(self) -> None:
        """Raise the live view's Stop message if the Connect panel's Stop was pressed (the
        panel braked the motors itself)."""
        if self._relay is not None and self._relay.stop_requested.is_set():
            self._relay.stop_requested.clear()
            self._drive_speeds = None
            raise RobotStoppedError("stopped_by_button")

    def _check_link(self) -> None:
        """Raise if the link is gone, or went and came back while the robot was meant to move
        (the hub's motors were braked when it came back)."""
        self._check_stop()
        link = self._link
        if link.state == "ready" and link.losses == self._losses_seen:
            return
        driving = self._drive_speeds is not None
        self._drive_speeds = None
        self._settle_lost_link(moving=driving)

    def _settle_lost_link(self, *, moving: bool) -> None:
        """Wait while the link looks for the hub; raise the pupil's message unless it came back
        while nothing was meant to move."""
        state = self._link.wait_settled(RECONNECT_WITHIN_S + MOVE_MARGIN_S)
        self._losses_seen = self._link.losses
        if state != "ready":
            raise self._friendly(HubLinkError("link_lost"))
        if moving:
            raise self._friendly(HubLinkError("link_interrupted"))

    def _sending(self, send):
        """``send()`` under the lock, with the link checked and its errors made friendly."""
        self._check_link()
        try:
            with self._lock:
                return send()
        except HubLinkError as error:
            driving = self._drive_speeds is not None
            self._drive_speeds = None
            if error.reason == "link_lost":
                self._settle_lost_link(moving=driving)
            raise self._friendly(error) from None

    # -- motion ---------------------------------------------------------------------------------

    def _motor_speed(self, port: int, percent: float) -> int:
        return max(-100, min(100, round(percent))) * self._forward[port]

    def _both(self, degrees: float, left_percent: float, right_percent: float) -> LegoMotion:
        """Both motors turn ``degrees`` (motor degrees) at these wheel speeds."""
        motor_degrees = round(abs(degrees))
        speed_cm_s = max(abs(left_percent), 1) / 100 * self.top_speed_cm_s
        planned_s = motor_degrees / self.profile.counts_per_cm / speed_cm_s

        def send():
            self._drive_speeds = None
            if motor_degrees < 1:
                return self._link.commands([(port, start_power(0)) for port in
                                            (self.left_port, self.right_port)])
            return self._link.commands([
                (self.left_port, StartSpeedForDegrees(
                    motor_degrees, self._motor_speed(self.left_port, left_percent),
                    end_state=EndState.BRAKE)),
                (self.right_port, StartSpeedForDegrees(
                    motor_degrees, self._motor_speed(self.right_port, right_percent),
                    end_state=EndState.BRAKE))])
        return LegoMotion(self._link, self._sending(send), planned_s)

    def straight(self, distance_cm, speed_percent):
        speed = math.copysign(max(1, min(100, round(speed_percent))), distance_cm)
        return self._both(abs(distance_cm) * self.profile.counts_per_cm, speed, speed)

    def turn(self, degrees, speed_percent):
        arc_cm = math.radians(abs(degrees)) * self.profile.axle_track_cm / 2
        speed = math.copysign(max(1, min(100, round(speed_percent))), degrees)
        return self._both(arc_cm * self.profile.counts_per_cm, -speed, speed)

    def _send_lease(self) -> None:
        left, right = self._drive_speeds
        lease_ms = round(LEASE_S * 1000)
        for port, percent in ((self.left_port, left), (self.right_port, right)):
            self._link.command(port, StartSpeedForTime(lease_ms, self._motor_speed(port, percent),
                                                       end_state=EndState.BRAKE), feedback=False)

    def drive(self, left_percent, right_percent):
        left, right = round(left_percent), round(right_percent)
        if left == right == 0:
            self.wait_for(self.stop())
            return

        def send():
            self._drive_speeds = (left, right)
            self._drive_losses = self._link.losses
            self._send_lease()
        self._sending(send)

    def _renew_leases(self) -> None:
        """The lease thread: while the pupil drives, renew the drive before it runs out."""
        while not self._closing.wait(LEASE_RENEW_S):
            with self._lock:
                # A link that went and came back is not renewed: the pupil hears of it first.
                if (self._drive_speeds is None or self._link.state != "ready"
                        or self._link.losses != self._drive_losses
                        or (self._relay is not None and self._relay.stop_requested.is_set())):
                    continue
                try:
                    self._send_lease()
                except HubLinkError:
                    pass                          # the pupil's next call reports the link

    def stop(self):
        def send():
            self._drive_speeds = None
            return self._link.commands([(port, start_power(0)) for port in
                                        (self.left_port, self.right_port)])
        return LegoMotion(self._link, self._sending(send), 0.0)

    def emergency_stop(self):
        with self._lock:            # after a lease renewal under way, never before it
            self._drive_speeds = None
            if self._link.state == "ready":
                self._link.stop_motors((self.left_port, self.right_port))

    def _stopped_in_panel(self) -> None:
        """The Connect panel's Stop braked the hub. End a drive's lease at once (the pupil's
        cell may have ended) and brake again: the kernel's writes reach the hub in order, so
        this brake comes after any renewal that was already on its way."""
        self.emergency_stop()

    def wait_for(self, motion):
        deadline = time.monotonic() + motion.planned_s + MOVE_MARGIN_S
        for token in motion.tokens:
            while True:
                self._check_link()
                try:
                    outcome = self._link.wait_done(token, WAIT_SLICE_S)
                    break
                except HubLinkError:
                    if time.monotonic() > deadline:
                        raise self._friendly(HubLinkError("no_answer")) from None
            if outcome == LOST:
                self._drive_speeds = None
                self._settle_lost_link(moving=True)
            if outcome == DISCARDED and self._relay is not None:
                # Ended early: by the panel's Stop button, if its word comes.
                self._relay.stop_requested.wait(STOP_NOTICE_S)
                self._check_stop()
        if motion.planned_s > 0:
            # Subscribed positions lag by up to their delta (5 degrees, ~2.5 degrees of heading);
            # at rest after a move, one round trip per motor makes heading and odometer exact.
            try:
                for port in (self.left_port, self.right_port):
                    self._link.fresh_value(port)
            except HubLinkError as error:
                raise self._friendly(error) from None

    def wait(self, seconds):
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._check_link()
            time.sleep(min(left, WAIT_SLICE_S))
        self._check_link()

    # -- output ---------------------------------------------------------------------------------

    def set_led(self, rgb):
        if self._light is None:
            return
        def send():
            self._rgb, self._blink_until = tuple(rgb), 0.0      # a blink ends with this colour
            return self._link.command(self._light, set_rgb(*rgb))
        token = self._sending(send)
        self.wait_for(LegoMotion(self._link, [token], 0.0))

    def identify(self, seconds: float) -> None:
        """Blink the hub's light white for ``seconds`` while the pupil's code goes on;
        ``identify(0)`` stops; then the light has its colour again."""
        if self._light is None:
            return
        self._check_link()
        with self._lock:
            self._blink_until = time.monotonic() + seconds
            if seconds > 0 and not self._blinking:
                self._blinking = True
                threading.Thread(target=self._blink, name=f"lego blink {self.name}",
                                 daemon=True).start()

    def _blink(self) -> None:
        on = True
        try:
            while True:
                with self._lock:        # set_led ends the blink under the same lock
                    if not (time.monotonic() < self._blink_until and not self._closing.is_set()
                            and self._link.state == "ready"):
                        self._blinking = False      # a new identify() starts a new blink
                        break
                    self._link.command(self._light, set_rgb(*(BLINK_RGB if on else (0, 0, 0))),
                                       feedback=False)
                on = not on
                self._closing.wait(BLINK_S)
            if self._link.state == "ready" and not self._closing.is_set():
                with self._lock:
                    self._link.command(self._light, set_rgb(*self._rgb), feedback=False)
        except HubLinkError:
            self._blinking = False        # the pupil's next call reports the link

    def beep(self, hz, seconds):
        """A LEGO hub has no buzzer: the tone is not played (the caller still waits)."""

    # -- sensors --------------------------------------------------------------------------------

    def _position_cm(self, port: int) -> float:
        degrees = struct.unpack("<i", self._link.value(port))[0]
        return degrees * self._forward[port] / self.profile.counts_per_cm

    def _odometer_cm(self) -> float:
        return (self._position_cm(self.left_port) + self._position_cm(self.right_port)) / 2

    def _heading_deg(self) -> float:
        difference = self._position_cm(self.right_port) - self._position_cm(self.left_port)
        return math.degrees(difference / self.profile.axle_track_cm)

    def _pace(self) -> None:
        """Each reading lets one telemetry period pass, as on every RobotLab robot."""
        self._check_link()
        now = time.monotonic()
        wait_s = self._last_read + self.telemetry_period_s - now
        if wait_s > 0:
            time.sleep(wait_s)
        self._last_read = max(now, self._last_read + self.telemetry_period_s)

    def _sensor(self, io_types, reading: str, missing: str) -> int:
        """The value of the first attached sensor of ``io_types`` in ``reading``'s mode."""
        for port in sorted(self._link.attached):
            io_type = self._link.attached[port]
            if io_type in io_types:
                return self._sensor_value(port, SENSOR_MODES[io_type][reading])
        raise self._missing(missing)

    def _sensor_value(self, port: int, mode: SensorMode) -> int:
        try:
            with self._lock:
                self._subscribe(port, mode)
        except HubLinkError as error:
            raise self._friendly(error) from None
        size = mode.dataset.size
        return int.from_bytes(self._link.value(port)[:size], "little", signed=True)

    def _line_ports(self) -> tuple[int, int]:
        hub = self.profile.hub
        colour = [port for port in sorted(self._link.attached)
                  if self._link.attached[port] in _COLOUR_SENSORS]
        if hub.line_left and hub.line_right:
            wanted = (PORTS[hub.line_left], PORTS[hub.line_right])
            if all(port in colour for port in wanted):
                return wanted
        elif len(colour) >= 2:
            return colour[0], colour[1]
        raise self._missing("line")

    def _free_port(self, kind: str) -> str:
        """Where to attach a missing sensor: the profile's port for it, else a free one."""
        hub = self.profile.hub
        if kind == "line":
            if hub.line_left and hub.line_right:
                return f"{hub.line_left} + {hub.line_right}"
            kind = "colour"
        for port, built in hub.sensors:
            if built == kind:
                return port
        motors = {hub.left_motor, hub.right_motor}
        free = [letter for letter in self._letters if letter not in motors]
        return free[0] if free else self._letters[-1]

    def _missing(self, kind: str) -> RobotLabError:
        return RobotAttributeError(MISSING_KEYS[kind], name=self.name,
                                   port=self._free_port(kind))

    def read(self, sensor):
        self._pace()
        if sensor in ("reflection", "line"):
            left, right = self._line_ports()
            values = []
            for port in (left, right):
                mode = SENSOR_MODES[self._link.attached[port]]["reflection"]
                values.append(float(self._sensor_value(port, mode)))
            if sensor == "line":
                threshold = self.profile.line_threshold_percent
                return values[0] < threshold, values[1] < threshold
            return tuple(values)
        if sensor == "colour":
            number_ = self._sensor(_COLOUR_SENSORS, "colour", "colour")
            return _COLOURS.get(LEGO_COLOURS.get(number_), "off")
        if sensor == "distance":
            mm = self._sensor((IoType.TECHNIC_DISTANCE_SENSOR,), "distance", "distance")
            if mm < 0:
                return self.profile.distance_max_cm
            return min(self.profile.distance_max_cm, max(self.profile.distance_min_cm, mm / 10))
        if sensor == "bumped":
            raise RobotAttributeError("lego_no_bumper", name=self.name)
        clock, heading, odometer = self._offsets
        if sensor == "heading":
            return self._heading_deg() - heading
        if sensor == "odometer":
            return self._odometer_cm() - odometer
        if sensor == "time":
            return time.monotonic() - clock
        raise KeyError(sensor)

    def time(self):
        return self.read("time")

    # -- life cycle -----------------------------------------------------------------------------

    def reset(self):
        """Stop, and start the clock, heading and odometer over (the robot stays where it is)."""
        self.wait_for(self.stop())
        self._offsets = (time.monotonic(), self._heading_deg(), self._odometer_cm())

    def _release(self) -> None:
        """Stop the motors (the hub has no watchdog) and let go of the hub; a browser tab
        keeps holding it (a new ``Robot("lego")`` takes it over)."""
        _open.discard(self)
        with self._lock:            # no lease renewal after the brake
            self._drive_speeds = None
            self._closing.set()
        self._link.close(stop_ports=(self.left_port, self.right_port))

    def close(self):
        """Stop the motors (the hub has no watchdog), then disconnect."""
        self._release()
        if self._relay is not None and self.name is not None:
            self._relay.listener.tell(self.name, {"type": "disconnect"})


__all__ = ["LegoBackend", "LegoMotion", "use_bleak_backends", "hub_profile", "build_profile",
           "LEASE_S", "LEASE_RENEW_S"]

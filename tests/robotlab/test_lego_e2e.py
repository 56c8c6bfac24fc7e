"""LEGO hubs end to end: bleak -> Bumble's LocalLink -> a virtual LWP3 hub driving the simulator.

Nothing of ours is mocked: ``ble_bridge.lwp3.link.HubLink`` talks through
bleak's public API to the virtual radio's bleak backends, Bumble carries the
packets to ``ble_bridge.virtual.lwp3_hub.VirtualHub``, and the hub's ports
drive a simulated two-motor drive base (``SimulatedDriveBase`` below: the
adapter between ``ble_bridge`` and ``simulator``, which never import each
other). The hub's clock is paced to real time, so keep moves short.
"""

from __future__ import annotations

import math
import struct
import time

import pytest

from ble_bridge.lwp3 import (EndState, ErrorCode, GotoAbsolutePosition, HubAction, HubActionType,
                             HubKind, IoType, MessageType, PortInputFormatSetupSingle, StartSpeed,
                             StartSpeedForDegrees, StartSpeedForTime, preset_encoder, set_rgb)
from ble_bridge.lwp3.devices import LEGO_COLOURS, MOTOR_POSITION, NO_COLOUR, SENSOR_MODES
from ble_bridge.lwp3.link import COMPLETED, DISCARDED, LOST, HubLink, HubLinkError
from ble_bridge.virtual import VirtualRadio, backends
from ble_bridge.virtual.lwp3_hub import VirtualHub
from simulator import World, load_arena, load_profile, sensors

LEFT, RIGHT, COLOUR, DISTANCE, LIGHT = 0, 1, 2, 3, 50
MOTOR = IoType.TECHNIC_LARGE_ANGULAR_MOTOR
#: A pair of motor commands arriving within this long is one drive-base move (s).
PAIR_WINDOW_S = 0.03
COLOUR_NUMBERS = {name: number for number, name in LEGO_COLOURS.items()}


class SimulatedDriveBase:
    """A ``HubBody``: two motors (LEFT mirrored), a colour sensor, a distance sensor and the
    hub's light, on a SimRobot in its own World.

    Motor commands for both wheels that arrive together become one closed-form
    simulator move (straight, turn or arc), as a drive base's would; a single
    wheel's command runs that wheel alone. ``missing`` leaves ports empty.
    """

    def __init__(self, arena="tom", profile="classroom", *, missing=()):
        self.world = World(load_arena(arena))
        self.profile = load_profile(profile)
        self.robot = self.world.add_robot(self.profile, self.world.arena.start, noise=False)
        self.forward = {LEFT: -1, RIGHT: 1}            # the left motor is mirrored
        self.light = (0, 0, 0)
        self._ports = {LEFT: MOTOR, RIGHT: MOTOR, COLOUR: IoType.TECHNIC_COLOR_SENSOR,
                       DISTANCE: IoType.TECHNIC_DISTANCE_SENSOR, LIGHT: IoType.RGB_LIGHT}
        for port in missing:
            del self._ports[port]
        self._offsets = {LEFT: 0.0, RIGHT: 0.0}        # encoder presets, degrees
        self._pending: dict[int, tuple] = {}           # port -> (degrees, speed, since_s)
        self._speeds = {LEFT: 0.0, RIGHT: 0.0}         # wheel speeds of a running drive, cm/s
        self._until = {LEFT: math.inf, RIGHT: math.inf}  # timed commands end (world time)
        self._moving_ports: set[int] = set()

    # -- HubBody ----------------------------------------------------------------------------
    def devices(self):
        return dict(self._ports)

    def modes(self, port):
        if self._ports.get(port) == MOTOR:
            return {MOTOR_POSITION.mode}
        return {mode.mode for mode in SENSOR_MODES.get(self._ports.get(port), {}).values()}

    def _cm_s(self, port, speed):
        return speed / 100 * self.profile.top_speed_cm_s * self.forward[port]

    def start_speed(self, port, speed):
        self._pending.pop(port, None)
        self._moving_ports.discard(port)
        self._until[port] = math.inf
        self._speeds[port] = self._cm_s(port, speed)
        self.robot.set_wheel_speeds(self._speeds[LEFT], self._speeds[RIGHT])

    def start_speed_for_time(self, port, time_ms, speed, end_state):
        self.start_speed(port, speed)
        self._until[port] = self.world.time_s + time_ms / 1000

    def start_speed_for_degrees(self, port, degrees, speed, end_state):
        self._pending[port] = (degrees, speed, self.world.time_s)
        self._moving_ports.add(port)

    def goto_position(self, port, position, speed, end_state):
        delta = position - self._position(port)
        if delta:
            self.start_speed_for_degrees(port, abs(delta), speed if delta > 0 else -speed, end_state)

    def stop(self, port, end_state):
        self._pending.pop(port, None)
        self._moving_ports.discard(port)
        self._speeds[port] = 0.0
        if self._speeds[LEFT] == self._speeds[RIGHT] == 0.0:
            self.robot.brake() if end_state is not EndState.FLOAT else self.robot.halt()
        else:
            self.robot.set_wheel_speeds(self._speeds[LEFT], self._speeds[RIGHT])

    def busy(self, port):
        if port in self._pending:
            return True
        if port in self._moving_ports:
            return self.robot.move_remaining_s > 0
        return self.world.time_s < self._until.get(port, math.inf)

    def preset(self, port, position):
        self._offsets[port] += self._position(port) - position

    def set_light(self, port, rgb):
        self.light = rgb
        self.robot.led_rgb = rgb

    def value(self, port, mode):
        io_type = self._ports[port]
        if io_type == MOTOR:
            return struct.pack("<i", self._position(port))
        if io_type == IoType.TECHNIC_DISTANCE_SENSOR:
            distance_cm = sensors.distance_cm(self.world, self.robot)
            mm = -1 if distance_cm >= self.profile.distance_max_cm else round(distance_cm * 10)
            return struct.pack("<h", mm)
        if mode == SENSOR_MODES[io_type]["colour"].mode:
            name = sensors.colour(self.world, self.robot)
            return struct.pack("<b", COLOUR_NUMBERS.get(name, NO_COLOUR))
        return struct.pack("<b", round(sensors.reflection(self.world, self.robot)[0]))

    def advance(self, dt_s):
        self._start_pending()
        for port in (LEFT, RIGHT):
            if self.world.time_s >= self._until[port]:
                self._until[port] = math.inf
                self.stop(port, EndState.BRAKE)
        self.world.advance(dt_s)

    # -- the drive base -----------------------------------------------------------------------
    def _position(self, port):
        degrees_per_cm = 360 / (math.pi * self.profile.wheel_diameter_cm)
        side = 0 if port == LEFT else 1
        return round(self.robot.encoders_cm[side] * degrees_per_cm * self.forward[port]
                     - self._offsets[port])

    def _start_pending(self):
        if not self._pending:
            return
        waited = self.world.time_s - min(since for _, _, since in self._pending.values())
        if len(self._pending) < 2 and waited < PAIR_WINDOW_S:
            return
        cm_per_degree = math.pi * self.profile.wheel_diameter_cm / 360
        signs, distance_cm, speed = [0.0, 0.0], 0.0, 0
        for port, (degrees, port_speed, _) in self._pending.items():
            side = 0 if port == LEFT else 1
            signs[side] = math.copysign(1, port_speed) * self.forward[port]
            distance_cm, speed = max(distance_cm, degrees * cm_per_degree), max(speed, abs(port_speed))
        self._pending.clear()
        self._speeds = {LEFT: 0.0, RIGHT: 0.0}
        self.robot.move_distance(signs[0], signs[1], distance_cm,
                                 speed / 100 * self.profile.top_speed_cm_s)


class Bench:
    """A virtual radio, hubs on it and links to them, closed in order."""

    def __init__(self):
        self.radio = VirtualRadio()
        self.hubs, self.links = [], []

    def hub(self, name="Technic Hub", **options) -> VirtualHub:
        body = SimulatedDriveBase(missing=options.pop("missing", ()))
        hub = VirtualHub(self.radio, body, name=name, **options)
        hub.start()
        self.hubs.append(hub)
        return hub

    def link(self) -> HubLink:
        link = HubLink(**dict(zip(("scanner_backend", "client_backend"), backends(self.radio))))
        self.links.append(link)
        return link

    def close(self):
        for link in self.links:
            link.close()
        for hub in self.hubs:
            hub.stop()
        self.radio.close()


@pytest.fixture
def bench():
    bench = Bench()
    yield bench
    bench.close()


def wait_until(condition, timeout=2.0):
    """Poll ``condition`` (state on the radio loop has no event to await) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def position(link, port):
    return struct.unpack("<i", link.value(port))[0]


# -- discovery and identification ---------------------------------------------------------------

def test_hubs_are_found_by_legos_manufacturer_data_with_name_and_kind(bench):
    technic = bench.hub("Technic Hub")
    bench.hub("BOOST", hub_kind=HubKind.BOOST_MOVE_HUB)
    link = bench.link()
    found = link.scan(0.5)
    assert [(hub.name, hub.kind) for hub in found] == [("BOOST", HubKind.BOOST_MOVE_HUB),
                                                       ("Technic Hub", HubKind.TECHNIC_HUB)]
    info = link.connect("Technic Hub", find_s=1.0)
    assert info == ("Technic Hub", HubKind.TECHNIC_HUB, 87)
    assert technic.is_connected
    # Every attached device was reported when the link subscribed.
    assert link.attached == {LEFT: MOTOR, RIGHT: MOTOR, COLOUR: IoType.TECHNIC_COLOR_SENSOR,
                             DISTANCE: IoType.TECHNIC_DISTANCE_SENSOR, LIGHT: IoType.RGB_LIGHT}
    technic.set_battery(55)
    link._wait(lambda: link.battery_percent() == 55)


def test_no_hub_several_hubs_and_an_unknown_name(bench):
    link = bench.link()
    with pytest.raises(HubLinkError) as none:
        link.connect(scan_s=0.3)
    bench.hub("Hub A")
    bench.hub("Hub B")
    with pytest.raises(HubLinkError) as several:
        link.connect(scan_s=0.5)
    with pytest.raises(HubLinkError) as unknown:
        link.connect("Hub C", find_s=0.5)
    assert none.value.reason == "no_hub"
    assert (several.value.reason, several.value.details["names"]) == ("several_hubs", ["Hub A", "Hub B"])
    assert unknown.value.reason == "unknown_name" and unknown.value.details["names"] == ["Hub A", "Hub B"]


# -- motor commands with completion feedback -------------------------------------------------------

def test_a_pair_of_degree_commands_drives_the_base_straight_and_completes(bench):
    hub = bench.hub()
    link = bench.link()
    link.connect(find_s=1.0, scan_s=0.5)
    link.subscribe(LEFT, MOTOR_POSITION)
    link.subscribe(RIGHT, MOTOR_POSITION)
    body = hub.body
    degrees = round(10 / (math.pi * body.profile.wheel_diameter_cm) * 360)   # 10 cm
    tokens = link.commands([(LEFT, StartSpeedForDegrees(degrees, -100)),
                            (RIGHT, StartSpeedForDegrees(degrees, 100))])
    assert [link.wait_done(token, 3.0) for token in tokens] == [COMPLETED, COMPLETED]
    x0 = body.world.arena.start.x_cm
    assert hub.on_radio(lambda: body.robot.x) == pytest.approx(x0 + 10, abs=0.05)
    # The subscribed positions follow within their delta; a fresh value is exact.
    assert position(link, RIGHT) == pytest.approx(degrees, abs=MOTOR_POSITION.delta)
    assert struct.unpack("<i", link.fresh_value(LEFT))[0] == pytest.approx(-degrees, abs=1)


def test_a_new_command_discards_the_running_one_and_each_end_state_is_accepted(bench):
    hub = bench.hub()
    link = bench.link()
    link.connect(find_s=1.0, scan_s=0.5)
    first = link.command(RIGHT, StartSpeedForDegrees(100_000, 50, end_state=EndState.FLOAT))
    second = link.command(RIGHT, StartSpeedForDegrees(30, 50, end_state=EndState.HOLD))
    assert link.wait_done(first, 2.0) == DISCARDED
    assert link.wait_done(second, 3.0) == COMPLETED
    goto = link.command(RIGHT, GotoAbsolutePosition(0, 50, end_state=EndState.BRAKE))
    assert link.wait_done(goto, 3.0) == COMPLETED
    timed = link.command(LEFT, StartSpeedForTime(100, 40))
    assert link.wait_done(timed, 3.0) == COMPLETED
    run = link.command(LEFT, StartSpeed(30))
    assert link.wait_done(run, 2.0) == COMPLETED            # instantaneous: completes at once
    assert hub.on_radio(lambda: hub.body.robot.moving)
    link.stop_motors([LEFT, RIGHT])
    preset = link.command(RIGHT, preset_encoder(0))
    assert link.wait_done(preset, 2.0) == COMPLETED
    assert [type(m.command).__name__ for m in hub.received if m.TYPE == MessageType.PORT_OUTPUT_COMMAND] == [
        "StartSpeedForDegrees", "StartSpeedForDegrees", "GotoAbsolutePosition", "StartSpeedForTime",
        "StartSpeed", "WriteDirectModeData", "WriteDirectModeData", "WriteDirectModeData"]


def test_the_hub_light_takes_an_rgb_colour(bench):
    hub = bench.hub()
    link = bench.link()
    link.connect(find_s=1.0, scan_s=0.5)
    assert link.wait_done(link.command(LIGHT, set_rgb(0, 200, 40)), 2.0) == COMPLETED
    assert hub.body.light == (0, 200, 40)


# -- sensor subscriptions ------------------------------------------------------------------------------

def test_sensor_values_arrive_per_the_subscription_delta(bench):
    hub = bench.hub()
    link = bench.link()
    link.connect(find_s=1.0, scan_s=0.5)
    distance = SENSOR_MODES[IoType.TECHNIC_DISTANCE_SENSOR]["distance"]
    link.subscribe(DISTANCE, distance)
    expected_mm = hub.on_radio(lambda: sensors.distance_cm(hub.body.world, hub.body.robot)) * 10
    assert struct.unpack("<h", link.value(DISTANCE))[0] == pytest.approx(expected_mm, abs=distance.delta)
    reflection = SENSOR_MODES[IoType.TECHNIC_COLOR_SENSOR]["reflection"]
    link.subscribe(COLOUR, reflection)
    assert 0 <= struct.unpack("<b", link.value(COLOUR))[0] <= 100
    colour = SENSOR_MODES[IoType.TECHNIC_COLOR_SENSOR]["colour"]
    link.subscribe(COLOUR, colour)
    assert LEGO_COLOURS[struct.unpack("<b", link.value(COLOUR))[0]] == "white"
    # A subscription with delta 0 would flood the link: refused before sending.
    with pytest.raises(ValueError):
        link.subscribe(COLOUR, colour._replace(delta=0))
    setups = [m for m in hub.received if isinstance(m, PortInputFormatSetupSingle)]
    assert all(setup.delta >= 1 for setup in setups)


# -- a hub with a motor missing, errors, disconnects ----------------------------------------------------

def test_a_hub_with_a_motor_missing_reports_only_what_is_there_and_refuses_the_empty_port(bench):
    hub = bench.hub(missing=(RIGHT,))
    link = bench.link()
    link.connect(find_s=1.0, scan_s=0.5)
    assert RIGHT not in link.attached and link.attached[LEFT] == MOTOR
    token = link.command(RIGHT, StartSpeedForDegrees(90, 50))
    assert link.wait_done(token, 2.0) == DISCARDED
    assert (link.errors[-1].command_type, link.errors[-1].code) == (0x81, ErrorCode.INVALID_USE)
    assert not hub.on_radio(lambda: hub.body.robot.moving)


def test_the_hub_has_no_watchdog_so_closing_the_link_stops_the_motors_first(bench):
    hub = bench.hub()
    link = bench.link()
    link.connect(find_s=1.0, scan_s=0.5)
    link.commands([(LEFT, StartSpeed(-50)), (RIGHT, StartSpeed(50))])
    wait_until(lambda: hub.on_radio(lambda: hub.body.robot.moving))
    link.close(stop_ports=(LEFT, RIGHT))
    # The last two messages before the disconnection: StartPower(0), a brake, on each motor.
    last = hub.received[-2:]
    assert [(m.port, m.command.mode, m.command.data) for m in last] == [(LEFT, 0, b"\0"),
                                                                       (RIGHT, 0, b"\0")]
    wait_until(lambda: not hub.on_radio(lambda: hub.body.robot.moving))


def test_a_link_lost_mid_move_ends_the_move_as_lost_and_the_hub_keeps_driving(bench):
    hub = bench.hub()
    link = bench.link()
    link.connect(find_s=1.0, scan_s=0.5)
    tokens = link.commands([(LEFT, StartSpeedForDegrees(2000, -60)),
                            (RIGHT, StartSpeedForDegrees(2000, 60))])
    wait_until(lambda: hub.on_radio(lambda: hub.body.robot.moving))
    hub.drop_link().result(2.0)
    assert [link.wait_done(token, 2.0) for token in tokens] == [LOST, LOST]
    assert link.state == "lost" and link.losses == 1
    with pytest.raises(HubLinkError) as info:
        link.command(LEFT, StartSpeed(0))
    assert info.value.reason == "link_lost"
    # No watchdog in a LEGO hub: the move goes on without the link (docs/lego.md).
    assert hub.on_radio(lambda: hub.body.robot.moving)


def test_switching_the_hub_off_announces_it_and_ends_the_link(bench):
    hub = bench.hub()
    link = bench.link()
    link.connect(find_s=1.0, scan_s=0.5)
    link.write(HubAction(HubActionType.SWITCH_OFF))
    wait_until(lambda: link.state == "lost")
    assert hub.switched_off
    assert any(m == HubAction(HubActionType.SWITCH_OFF) for m in hub.received)

"""LEGO hubs end to end: bleak -> Bumble's LocalLink -> a virtual LWP3 hub driving the simulator.

Nothing of ours is mocked: ``ble_bridge.lwp3.link.HubLink`` talks through
bleak's public API to the virtual radio's bleak backends, Bumble carries the
packets to ``ble_bridge.virtual.lwp3_hub.VirtualHub``, and the hub's ports
drive a simulated two-motor drive base (``robotlab.emulate.SimulatedDriveBase``:
the adapter between ``ble_bridge`` and ``simulator``, which never import each
other), built as ``simulator/profiles/lego-technic.toml`` says. The hub's clock is paced to real time, so keep moves short.
"""

from __future__ import annotations

import math
import struct
import time

import pytest

from ble_bridge.lwp3 import (EndState, ErrorCode, GotoAbsolutePosition, HubAction, HubActionType,
                             HubKind, IoType, MessageType, PortInputFormatSetupSingle, StartSpeed,
                             StartSpeedForDegrees, StartSpeedForTime, preset_encoder, set_rgb,
                             start_power)
from ble_bridge.lwp3.devices import LEGO_COLOURS, MOTOR_POSITION, SENSOR_MODES
from ble_bridge.lwp3.link import COMPLETED, DISCARDED, LOST, HubLink, HubLinkError
from ble_bridge.virtual import VirtualRadio, backends
from ble_bridge.virtual.lwp3_hub import VirtualHub
from robotlab.emulate import SimulatedDriveBase
from simulator import sensors

LEFT, RIGHT, COLOUR, DISTANCE, LIGHT = 0, 1, 2, 3, 50
MOTOR = IoType.TECHNIC_LARGE_ANGULAR_MOTOR


class Bench:
    """A virtual radio, hubs on it and links to them, closed in order."""

    def __init__(self):
        self.radio = VirtualRadio()
        self.hubs, self.links = [], []

    def hub(self, name="Technic Hub", **options) -> VirtualHub:
        body = SimulatedDriveBase(profile="lego-technic", missing=options.pop("missing", ()))
        hub = VirtualHub(self.radio, body, name=name, **options)
        hub.start()
        self.hubs.append(hub)
        return hub

    def link(self, **options) -> HubLink:
        link = HubLink(**dict(zip(("scanner_backend", "client_backend"), backends(self.radio))),
                       **options)
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


def test_a_link_found_again_brakes_first_and_sets_its_ports_up_again(bench):
    hub = bench.hub()
    link = bench.link(reconnect_within_s=5.0)
    link.connect(find_s=1.0, scan_s=0.5)
    link.subscribe(LEFT, MOTOR_POSITION)
    link.write(PortInputFormatSetupSingle(LIGHT, 1, 1, False))       # the light's RGB mode
    tokens = link.commands([(LEFT, StartSpeedForDegrees(2000, -60)),
                            (RIGHT, StartSpeedForDegrees(2000, 60))])
    wait_until(lambda: hub.on_radio(lambda: hub.body.robot.moving))
    before = len(hub.received)
    hub.drop_link().result(2.0)
    assert [link.wait_done(token, 2.0) for token in tokens] == [LOST, LOST]
    assert link.wait_settled(5.0) == "ready" and (link.losses, link.reconnections) == (1, 1)
    again = hub.received[before:]
    # The first two messages on the new link brake both motors; then the ports are set up again.
    assert [(m.port, m.command) for m in again[:2]] == [(LEFT, start_power(0)),
                                                          (RIGHT, start_power(0))]
    setups = [m for m in again if isinstance(m, PortInputFormatSetupSingle)]
    assert {(m.port, m.mode, m.notify) for m in setups} == {(LEFT, MOTOR_POSITION.mode, True),
                                                            (LIGHT, 1, False)}
    wait_until(lambda: not hub.on_radio(lambda: hub.body.robot.moving))
    assert link.wait_done(link.command(RIGHT, StartSpeedForDegrees(90, 50)), 3.0) == COMPLETED


def test_closing_while_the_link_looks_for_the_hub_leaves_nothing_connected(bench):
    hub = bench.hub()
    link = bench.link(reconnect_within_s=30.0)
    link.connect(find_s=1.0, scan_s=0.5)
    hub.stop()                                      # switched off: nothing to find
    wait_until(lambda: link.state == "reconnecting")
    link.close()
    assert link.state == "closed" and not link._thread.is_alive()
    hub.start()                                     # back on: nobody holds it
    other = bench.link()
    assert other.connect("Technic Hub", find_s=2.0).name == "Technic Hub"

"""``Robot("lego")`` end to end: the pupil's API -> HubLink -> bleak -> Bumble -> a virtual LWP3 hub.

The hubs are ``robotlab.emulate.start_virtual_hubs``: ``VirtualHub`` (Bumble GATT server)
driving ``SimulatedDriveBase`` (a SimRobot in its own World), built as the profile's
``[hub]`` table says. Nothing of ours is mocked. The pupil scripts are run unchanged on
the simulator (``Robot()``, unpaced) and on a hub (paced to real time), and their outcomes
compared. Every ``lego_`` message is shown here in Danish and English.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from ble_bridge.lwp3 import HubKind, StartSpeedForTime
from ble_bridge.virtual import VirtualRadio, backends
from ble_bridge.virtual.lwp3_hub import VirtualHub
from robotlab import Robot
from robotlab.colours import RGB
from robotlab.backends import create_backend, lego
from robotlab.emulate import SimulatedDriveBase, start_virtual_hubs, stop_virtual_hubs
from robotlab.errors import RobotAttributeError, RobotConnectionError, RobotLabError, RobotValueError
from robotlab.i18n import table
from simulator.profile import load_profile

TABLE = table()
#: Seconds a scan without a name listens: short, the virtual hubs advertise every 0.1 s.
SCAN_S = 0.4


def fragments(text: str) -> list[str]:
    parts = (part.strip() for part in re.split(r"\{[^}]*\}", text))
    return [part for part in parts if len(part) >= 4 and re.search(r"[^\W\d_]", part)]


def assert_friendly(error, reason: str, *snippets: str) -> None:
    """The message ``reason`` in Danish and in English: its own words, none of the other
    language's, one short line, and the snippets (the line to type)."""
    assert isinstance(error, RobotLabError) and error.reason == reason, error
    for lang, other in (("da", "en"), ("en", "da")):
        text = error.text(lang)
        assert all(part in text for part in fragments(TABLE[reason][lang])), text
        assert not any(part in text for part in fragments(TABLE[reason][other])), text
        assert "\n" not in text and len(text) < 300, text
        for snippet in snippets:
            assert snippet in text, (snippet, text)


class Classroom:
    """A virtual radio with LEGO hubs on it; ``Robot("lego")`` scans it; all closed in order."""

    def __init__(self):
        self.radio = VirtualRadio()
        self.hubs: list[VirtualHub] = []
        self.robots: list[Robot] = []

    def start(self, count=1, **options) -> list[VirtualHub]:
        options.setdefault("noise", False)
        hubs = start_virtual_hubs(self.radio, count, **options)
        self.hubs.extend(hubs)
        return hubs

    def robot(self, *args, **kwargs) -> Robot:
        robot = Robot("lego", *args, **kwargs)
        self.robots.append(robot)
        return robot

    def close(self):
        for robot in self.robots:
            robot.close()
        stop_virtual_hubs(self.hubs)
        self.radio.close()


@pytest.fixture
def room(monkeypatch):
    monkeypatch.setattr(lego, "SCAN_S", SCAN_S)
    monkeypatch.setattr(lego, "FIND_S", 2.0)
    room = Classroom()
    lego.use_bleak_backends(*backends(room.radio))
    yield room
    lego.use_bleak_backends(None, None)
    room.close()


def on_hub(hub, read):
    """``read(body)`` on the radio loop, where the hub's drive base lives."""
    return hub.on_radio(lambda: read(hub.body))


def pose(robot_body):
    return robot_body.x, robot_body.y, robot_body.heading_deg


def wait_until(condition, timeout):
    """Poll ``condition`` (the hub's state lives on the radio loop, with no event to await)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# -- the pupil's scripts, the same for the simulator and the hub -------------------------------

def square(robot):
    robot.speed = 80
    for side in range(4):
        robot.forward(10)
        robot.turn_left(90)
    return robot.heading(), robot.odometer()


def follow_line(robot):
    robot.turn_right(15)             # start askew: the robot has to find its way back
    while robot.time() < 2.5:
        left, right = robot.line()
        if left:
            robot.drive(15, 30)
        elif right:
            robot.drive(30, 15)
        else:
            robot.drive(30, 30)
    robot.stop()


def test_the_square_script_draws_the_same_square_on_a_lego_hub_as_in_the_simulator(room):
    (hub,) = room.start()
    sim = Robot(profile="lego-technic", noise=False)
    sim_heading, sim_odometer = square(sim)
    robot = room.robot()
    assert robot._backend.profile.id == "lego-technic"      # chosen by the advertised hub kind
    heading, odometer = square(robot)
    assert heading == pytest.approx(sim_heading, abs=2.0)
    assert odometer == pytest.approx(sim_odometer, abs=0.5) and odometer == pytest.approx(40, abs=0.5)
    x, y, theta = on_hub(hub, lambda body: pose(body.robot))
    sim_x, sim_y, sim_theta = pose(sim._backend.body)
    assert (x, y) == (pytest.approx(sim_x, abs=0.5), pytest.approx(sim_y, abs=0.5))
    assert theta == pytest.approx(sim_theta, abs=2.0)


def test_the_line_following_script_follows_the_line_on_a_lego_hub_as_in_the_simulator(room):
    two_colour_sensors = {"C": "colour", "D": "colour"}
    (hub,) = room.start(arena="linje", sensors=two_colour_sensors)
    sim = Robot(arena="linje", profile="lego-technic", noise=False)
    follow_line(sim)
    robot = room.robot()
    follow_line(robot)
    x, y, theta = on_hub(hub, lambda body: pose(body.robot))
    sim_x, sim_y, sim_theta = pose(sim._backend.body)
    start = sim._backend.world.arena.start
    # Both found the line again after starting askew and followed it well past the start.
    assert sim_x > start.x_cm + 20 and abs(sim_y - start.y_cm) < 2.5
    assert x == pytest.approx(sim_x, abs=5.0)
    assert y == pytest.approx(sim_y, abs=1.5)
    assert abs(theta - sim_theta) < 15
    # One colour sensor, two modes: reflection and colour switch it back and forth.
    assert robot.reflection() == pytest.approx(sim.reflection(), abs=3)
    assert robot.color() == sim.color()
    assert robot.line() == sim.line()


def test_each_command_and_reading_on_a_lego_hub(room):
    (hub,) = room.start()
    robot = room.robot()
    robot.led("grøn")
    assert on_hub(hub, lambda body: body.light) == (0, 200, 0)
    robot.beep(440, 0.1)                                    # no buzzer on a hub: it only waits
    sim = Robot(profile="lego-technic", noise=False)
    assert robot.distance() == pytest.approx(sim.distance(), abs=0.6)
    assert robot.color() == "hvid" == sim.color()
    robot.backward(5)
    assert robot.odometer() == pytest.approx(-5, abs=0.3)
    robot.turn_right(45)
    assert robot.heading() == pytest.approx(-45, abs=1.5)
    robot.reset()
    assert (robot.heading(), robot.odometer()) == (0, 0) and robot.time() < 0.5
    robot.forward(20, wait=False)
    robot.stop()
    wait_until(lambda: not on_hub(hub, lambda body: body.robot.moving), 1.0)
    assert robot.odometer() < 10


def test_a_drive_is_leased_renewed_while_linked_and_stops_within_the_lease_when_the_link_is_lost(
        room, monkeypatch):
    # The hub does not come back (no reconnection here): only the lease stops it.
    monkeypatch.setattr(lego, "RECONNECT_WITHIN_S", 0)
    (hub,) = room.start()
    robot = room.robot()
    robot.drive(40, 40)
    robot.wait(2 * lego.LEASE_S)                             # longer than one lease: renewed
    assert on_hub(hub, lambda body: body.robot.moving)
    leases = [m for m in hub.received if isinstance(getattr(m, "command", None), StartSpeedForTime)]
    assert len(leases) >= 2 * (2 * lego.LEASE_S / lego.LEASE_RENEW_S - 2)
    assert {m.command.time_ms for m in leases} == {round(lego.LEASE_S * 1000)}
    hub.drop_link().result(2.0)
    dropped = time.monotonic()
    wait_until(lambda: not on_hub(hub, lambda body: body.robot.moving), lego.LEASE_S + 1.0)
    assert time.monotonic() - dropped <= lego.LEASE_S + 0.5   # the lease ran out, plus braking
    with pytest.raises(RobotConnectionError) as info:
        robot.forward(5)
    assert_friendly(info.value, "lego_link_lost", 'Robot("lego", name="Technic Hub")', "1")


def test_a_hub_with_a_motor_missing_or_a_sensor_in_its_place(room):
    room.start(names=["Hub Uden B"], missing=("B",))
    with pytest.raises(RobotConnectionError) as info:
        room.robot()
    assert_friendly(info.value, "lego_missing_motor", "port B", 'Robot("lego", left="A", right="B")')
    assert "højre hjul" in info.value.text("da") and "the right wheel" in info.value.text("en")
    room.start(names=["Sensor i A"], sensors={"A": "colour"})
    with pytest.raises(RobotConnectionError) as info:
        room.robot(name="Sensor i A")
    assert_friendly(info.value, "lego_not_a_motor", "port A")
    assert "venstre hjul" in info.value.text("da") and "the left wheel" in info.value.text("en")


def test_readings_without_their_sensor_say_what_to_attach_where(room):
    room.start(sensors={})
    robot = room.robot()
    for reading, reason, port in ((robot.distance, "lego_missing_distance", "port D"),
                                  (robot.color, "lego_missing_colour", "port C"),
                                  (robot.line, "lego_missing_line", "port C + D"),
                                  (robot.reflection, "lego_missing_line", "port C + D")):
        with pytest.raises(RobotAttributeError) as info:
            reading()
        assert_friendly(info.value, reason, port)
    with pytest.raises(RobotAttributeError) as info:
        robot.bumped()
    assert_friendly(info.value, "lego_no_bumper")
    assert "robot.afstand()" in info.value.text("da") and "robot.distance()" in info.value.text("en")


def test_no_hub_several_hubs_an_unknown_name_and_a_hub_that_cannot_drive(room):
    with pytest.raises(RobotConnectionError) as info:
        room.robot()
    assert_friendly(info.value, "lego_no_hub", 'Robot("lego")')
    room.start(2)
    with pytest.raises(RobotConnectionError) as info:
        room.robot()
    assert_friendly(info.value, "lego_several_hubs", "Technic Hub 1, Technic Hub 2",
                    'Robot("lego", name="Technic Hub 1")')
    with pytest.raises(RobotConnectionError) as info:
        room.robot(name="Technic Hub3")
    assert_friendly(info.value, "lego_unknown_name", '"Technic Hub3"', 'Robot("lego", name="Technic Hub ',
                    "Technic Hub 1, Technic Hub 2")
    mario = VirtualHub(room.radio, SimulatedDriveBase(), name="Mario", hub_kind=HubKind.MARIO)
    mario.start()
    room.hubs.append(mario)
    with pytest.raises(RobotConnectionError) as info:
        room.robot(name="Mario")
    assert_friendly(info.value, "lego_hub_unsupported", "Mario", "0x43")


def test_a_hub_that_stops_answering(room, monkeypatch):
    monkeypatch.setattr(lego, "MOVE_MARGIN_S", 0.3)
    (hub,) = room.start()
    robot = room.robot()
    # The hub keeps the link but ignores every write, as a hub whose firmware hangs.
    hub.on_radio(lambda: setattr(hub._characteristic.value, "write", lambda connection, value: None))
    with pytest.raises(RobotConnectionError) as info:
        robot.led("red")
    assert_friendly(info.value, "lego_no_answer", 'Robot("lego", name="Technic Hub")')


# -- the pupil's own build: ports and sizes ---------------------------------------------------

def test_own_ports_and_wheels_are_checked_before_connecting_and_used(room):
    with pytest.raises(RobotValueError) as info:
        create_backend("lego", left="E")
    assert_friendly(info.value, "lego_bad_port", "'E'", "A, B, C, D", 'left="A"')
    with pytest.raises(RobotValueError) as info:
        create_backend("lego", left="a", right="A")
    assert_friendly(info.value, "lego_same_port", "port A")
    with pytest.raises(ValueError):
        create_backend("lego", wheel_cm=0)
    (hub,) = room.start()
    # Wheels twice the profile's: 10 cm asked for is twice the motor degrees of 5 cm.
    backend = create_backend("lego", wheel_cm=2 * load_profile("lego-technic").wheel_diameter_cm,
                             left="A", right="b")
    try:
        backend.wait_for(backend.straight(10, 80))
    finally:
        backend.close()
    x, _, _ = on_hub(hub, lambda body: pose(body.robot))
    assert x == pytest.approx(on_hub(hub, lambda body: body.world.arena.start.x_cm) + 5, abs=0.3)


def test_own_ports_through_robot_and_not_for_other_robots(room):
    from robotlab import Robot
    with pytest.raises(RobotValueError) as info:
        Robot(wheel_cm=5.6)
    assert_friendly(info.value, "lego_options_need_lego", "wheel_cm", 'Robot("lego", wheel_cm=...)')
    with pytest.raises(RobotValueError) as info:
        Robot("ble", left="A", right="B")
    assert_friendly(info.value, "lego_options_need_lego", "left, right")
    (hub,) = room.start()
    robot = Robot("lego", left="A", right="B",
                  wheel_cm=2 * load_profile("lego-technic").wheel_diameter_cm)
    try:
        robot.forward(10)
    finally:
        robot.close()
    x, _, _ = on_hub(hub, lambda body: pose(body.robot))
    assert x == pytest.approx(on_hub(hub, lambda body: body.world.arena.start.x_cm) + 5, abs=0.3)


def test_robot_ble_opens_the_lego_hub_it_finds_when_no_robotlab_robot_is_in_range(room, monkeypatch):
    from robotlab.backends import bluetooth
    monkeypatch.setattr(bluetooth, "SCAN_S", SCAN_S)
    monkeypatch.setattr(bluetooth, "FIND_S", 1.0)
    bluetooth.use_bleak_backends(*backends(room.radio))
    try:
        with pytest.raises(RobotConnectionError) as info:
            Robot("ble")
        assert info.value.reason == "ble_no_robot"        # nothing at all: the usual message
        (hub,) = room.start()
        robot = Robot("ble")
        room.robots.append(robot)
        assert robot._backend.kind == "lego" and robot._backend.profile.id == "lego-technic"
        before = on_hub(hub, lambda body: pose(body.robot))
        robot.forward(5)
        after = on_hub(hub, lambda body: pose(body.robot))
        assert after[0] - before[0] == pytest.approx(5, abs=0.3)
        # By its name too; the new robot takes the hub over from the earlier one.
        named = Robot("ble", name="Technic Hub")
        room.robots.append(named)
        assert named._backend.kind == "lego" and robot._backend._link.state == "closed"
        # A mistyped hub name: the LEGO message, which suggests the hub (free again).
        named.close()
        with pytest.raises(RobotConnectionError) as info:
            Robot("ble", name="Technic Hubb")
        assert_friendly(info.value, "lego_unknown_name", 'Robot("lego", name="Technic Hub")')
    finally:
        bluetooth.use_bleak_backends(None, None)


def test_a_link_lost_mid_move_comes_back_brakes_the_hub_and_the_next_call_works(room):
    """A hub has no watchdog: told to drive 100 cm, it drives on when the link drops. The link
    finds it again, brakes both motors first thing, and the pupil's call says to run the cell
    again; the next call works. A drive interrupted the same way is not renewed."""
    (hub,) = room.start()
    robot = room.robot()
    robot.speed = 50
    start = on_hub(hub, lambda body: pose(body.robot))

    def drop_soon():
        wait_until(lambda: on_hub(hub, lambda body: body.robot.moving), 2.0)
        hub.drop_link()
    dropper = threading.Thread(target=drop_soon)
    dropper.start()
    with pytest.raises(RobotConnectionError) as info:
        robot.forward(100)
    dropper.join()
    assert_friendly(info.value, "lego_link_interrupted", "Technic Hub")
    link = robot._backend._link
    assert (link.state, link.losses, link.reconnections) == ("ready", 1, 1)
    wait_until(lambda: not on_hub(hub, lambda body: body.robot.moving), 1.0)
    stopped = on_hub(hub, lambda body: pose(body.robot))
    assert stopped[0] - start[0] < 50, stopped        # braked long before the move's end
    robot.forward(5)
    moved = on_hub(hub, lambda body: pose(body.robot))
    assert moved[0] - stopped[0] == pytest.approx(5, abs=0.5)

    # A drive, then the cell ends (nobody calls the robot): the link goes and comes back.
    robot.drive(40, 40)
    hub.drop_link().result(2.0)
    wait_until(lambda: link.reconnections == 2, lego.RECONNECT_WITHIN_S)
    wait_until(lambda: not on_hub(hub, lambda body: body.robot.moving), lego.LEASE_S + 0.5)
    time.sleep(4 * lego.LEASE_RENEW_S)
    assert not on_hub(hub, lambda body: body.robot.moving)    # not driven again by a renewal
    with pytest.raises(RobotConnectionError) as info:
        robot.wait(0.5)                                       # the next cell hears of it
    assert info.value.reason == "lego_link_interrupted"
    robot.wait(0.1)                                           # once


def test_robotlab_virtual_hubs_puts_hubs_in_range_for_rehearsing(monkeypatch):
    """``ROBOTLAB_VIRTUAL_HUBS=2``: the first ``Robot("lego")`` starts two virtual hubs on a
    virtual radio (the real protocol over Bumble), as a teacher rehearses without hubs."""
    monkeypatch.setenv("ROBOTLAB_VIRTUAL_HUBS", "2")
    monkeypatch.setattr(lego, "SCAN_S", SCAN_S)
    assert lego._bleak_backends == (None, None) and lego._virtual_hubs is None
    robots = []
    try:
        with pytest.raises(RobotConnectionError) as info:
            Robot("lego")
        assert_friendly(info.value, "lego_several_hubs", "Technic Hub 1, Technic Hub 2")
        radio, hubs = lego._virtual_hubs
        robots.append(Robot("lego", name="Technic Hub 2"))
        robots[0].forward(5)
        def odometer(hub):
            return hub.on_radio(lambda: sum(hub.body.robot.encoders_cm) / 2)
        assert odometer(hubs[1]) == pytest.approx(5, abs=0.5)
        assert odometer(hubs[0]) == 0
        assert lego._virtual_hubs == (radio, hubs)          # started once per kernel
    finally:
        for robot in robots:
            robot.close()
        if lego._virtual_hubs is not None:
            stop_virtual_hubs(lego._virtual_hubs[1])
            lego._virtual_hubs[0].close()
        lego._virtual_hubs = None
        lego.use_bleak_backends(None, None)


def test_identify_blinks_the_hubs_light_while_the_code_goes_on(room):
    (hub,) = room.start()
    robot = room.robot()
    robot.led("rød")
    seen = set()
    began = time.monotonic()
    robot.identify(1)
    assert time.monotonic() - began < 0.5              # the cell goes on while it blinks
    while time.monotonic() - began < 0.9:
        seen.add(on_hub(hub, lambda body: body.light))
        time.sleep(0.02)
    assert {(255, 255, 255), (0, 0, 0)} <= seen
    wait_until(lambda: on_hub(hub, lambda body: body.light) == RGB["red"], 1.0)
    robot.identify(5)
    wait_until(lambda: on_hub(hub, lambda body: body.light) != RGB["red"], 1.0)   # blinking
    robot.identify(0)                                   # stops, with the colour again
    wait_until(lambda: on_hub(hub, lambda body: body.light) == RGB["red"], 1.0)
    time.sleep(2 * lego.BLINK_S)
    assert on_hub(hub, lambda body: body.light) == RGB["red"]
    robot.led("blå")
    assert on_hub(hub, lambda body: body.light) == RGB["blue"]

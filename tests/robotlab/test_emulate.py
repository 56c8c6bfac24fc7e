"""Virtual robots (robotlab.emulate) over a real VirtualRadio, spoken to with bleak and raw frames."""

import asyncio
import contextlib
import math
import sys
import time

import pytest
from bleak import BleakClient, BleakScanner

from ble_bridge import (NO_ECHO, NUS_SERVICE_UUID, Ack, Capability, Colour, Done, FrameReader,
                        Heartbeat, HeartbeatAck, Hello, Info, MotionState, MoveStraight,
                        ProtocolError, SensorBits, Subscribe, Telemetry, decode, encode, uart_roles)
from ble_bridge.robot_side import RobotProtocol
from ble_bridge.virtual import VirtualRadio, backends
from robotlab.cli import main
from robotlab.emulate import (COLOURS, TICK_S, SimulatedBody, start_virtual_robots,
                              stop_virtual_robots)
from robotlab.i18n import message
from simulator import Pose, World
from simulator.colours import COLOUR_IDS

WAIT_S = 3.0
HEARTBEAT_S = 0.15          # under a third of the 500 ms watchdog, as the spec asks
WATCHDOG_S = 0.5


@pytest.fixture
def radio():
    radio = VirtualRadio()
    yield radio
    radio.close()


@pytest.fixture
def robots(radio):
    robots = start_virtual_robots(radio, 2)
    yield robots
    stop_virtual_robots(robots)


class RawClient:
    """A pupil's side reduced to bytes: bleak, the NUS characteristics, frames in and out."""

    def __init__(self, client: BleakClient):
        self.client = client
        service = client.services.get_service(NUS_SERVICE_UUID)
        self.roles = uart_roles((c.uuid, c.properties) for c in service.characteristics)
        self.reader = FrameReader()
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.seq = 0
        self._writing = asyncio.Lock()

    async def start(self):
        await self.client.start_notify(self.roles.from_robot, self._on_notify)

    def _on_notify(self, _characteristic, data):
        # The robot's frames are a byte stream (a micro:bit may split them); never flush here.
        for item in self.reader.feed(bytes(data)):
            assert not isinstance(item, ProtocolError), item
            self.inbox.put_nowait((time.monotonic(), item))

    async def send(self, message) -> int:
        async with self._writing:
            self.seq = (self.seq + 1) % 256
            await self.client.write_gatt_char(self.roles.to_robot, encode(message, self.seq),
                                              response=self.roles.write_with_response)
            return self.seq

    async def next(self, kind=object, timeout=WAIT_S):
        """The next Decoded frame whose message is a ``kind``, skipping others."""
        async with asyncio.timeout(timeout):
            while True:
                _, decoded = await self.inbox.get()
                if isinstance(decoded.message, kind):
                    return decoded

    async def hello(self) -> Info:
        seq = await self.send(Hello())
        answer_seq, info = await self.next(Info)
        assert answer_seq == seq
        return info

    @contextlib.asynccontextmanager
    async def heartbeats(self):
        """Keep the robot's watchdog fed while the block runs."""
        async def beat():
            while True:
                await asyncio.sleep(HEARTBEAT_S)
                await self.send(Heartbeat())
        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def connected(radio, name="RobotLab-07", **client_options):
    scanner_backend, client_backend = backends(radio)
    device = await BleakScanner.find_device_by_name(name, timeout=WAIT_S, backend=scanner_backend)
    assert device is not None, f"{name} does not advertise"
    async with BleakClient(device, backend=client_backend, **client_options) as client:
        raw = RawClient(client)
        await raw.start()
        yield raw


async def snapshot(robot):
    """(robot clock s, x cm, y cm, wheels turning), read on the radio loop in one go."""
    async def read():
        return robot.world.time_s, robot.body.x, robot.body.y, robot.body.moving
    return await asyncio.wrap_future(robot.radio.submit(read()))


async def wait_until_standing(robot, timeout=WAIT_S):
    """The robot clock (s) at which the wheels were first seen standing still."""
    async with asyncio.timeout(timeout):
        while True:
            clock_s, _, _, moving = await snapshot(robot)
            if not moving:
                return clock_s
            await asyncio.sleep(TICK_S / 2)


# -- the simulated body, without a radio ------------------------------------------------------

def simulated(pose=None):
    world = World("tom")
    robot = world.add_robot("classroom", pose, noise=False)
    return world, robot, SimulatedBody(world, robot)


def run(world, hardware, seconds, then=lambda: None):
    for _ in range(round(seconds / TICK_S)):
        world.advance(TICK_S)
        hardware.update()
        then()


def test_the_body_converts_wire_units_to_the_simulators():
    world, robot, hardware = simulated()
    hardware.straight(200, 50)                          # mm, % of 30 cm/s
    assert not hardware.move_finished() and hardware.moving()
    run(world, hardware, 2.0)
    assert hardware.move_finished() and not hardware.moving()
    assert robot.x - robot.start_pose.x_cm == pytest.approx(20.0)
    hardware.turn(-9000, 50)                            # centidegrees, right
    run(world, hardware, 2.0)
    hardware.drive(100, 100)
    run(world, hardware, 1.0)
    assert robot.wheel_speeds == pytest.approx((30.0, 30.0))
    hardware.halt()
    assert robot.wheel_speeds == (0.0, 0.0)
    reading = hardware.telemetry()
    assert reading.heading_cdeg == -9000
    assert reading.odometer_mm == pytest.approx(200 + 225, abs=1)   # 20 cm, then 30 cm/s after 0.5 s ramp
    assert reading.time_ms == 5000
    assert reading.colour is Colour.WHITE and reading.sensor_bits == SensorBits(0)
    assert reading.reflection_left_percent > 90 and reading.distance_mm != NO_ECHO


def test_every_simulator_colour_has_its_protocol_colour_id():
    assert {name: COLOURS[name].name.lower() for name in COLOUR_IDS} == {n: n for n in COLOUR_IDS}
    assert set(COLOURS.values()) <= set(Colour)


def test_identify_blinks_white_then_shows_the_led_colour_again():
    world, robot, hardware = simulated()
    hardware.set_led(0, 0, 255)
    hardware.identify(1000)
    assert robot.led_rgb == (255, 255, 255)
    run(world, hardware, 0.3)
    assert robot.led_rgb == (0, 0, 0)
    hardware.set_led(255, 0, 0)                         # remembered for after the blinking
    run(world, hardware, 0.3)
    assert robot.led_rgb == (255, 255, 255)
    run(world, hardware, 0.5)
    assert robot.led_rgb == (255, 0, 0)


def test_a_tone_stopped_early_is_recorded_as_played_so_far():
    world, robot, hardware = simulated()
    hardware.beep(440, 1000)
    run(world, hardware, 0.2)
    hardware.stop_tone()
    assert robot.beeps == [(0.0, 440, pytest.approx(0.2))]
    assert hardware.buzzer_range_hz == (50, 10000)


def test_driving_into_a_wall_ends_the_move_blocked():
    world, robot, hardware = simulated(Pose(170, 75, 0))     # the wall is at x = 200
    sent = []
    protocol = RobotProtocol(hardware, short_id=7, send=sent.append, now=lambda: world.time_s)
    protocol.receive(encode(Hello(), 1))
    protocol.receive(encode(MoveStraight(500, 100), 2))
    seqs = iter(range(3, 256))

    def tick():
        protocol.tick()
        if round(world.time_s / TICK_S) % 15 == 0:
            protocol.receive(encode(Heartbeat(), next(seqs)))

    run(world, hardware, 2.0, then=tick)
    done = [decode(frame) for frame in sent if decode(frame).message.TYPE == Done.TYPE]
    assert done == [(2, Done(MoveStraight.TYPE, MotionState.BLOCKED))]
    assert not robot.moving and robot.x == pytest.approx(200 - robot.profile.radius_cm, abs=0.5)
    assert hardware.telemetry().sensor_bits & SensorBits.BUMPED


# -- over the virtual radio ---------------------------------------------------------------------

@pytest.mark.parametrize("swap_roles", [False, True], ids=["nordic", "micro:bit roles"])
def test_a_bleak_client_finds_the_robot_by_name_and_gets_info(radio, swap_roles):
    robots = start_virtual_robots(radio, 1, first_id=0x3F, swap_roles=swap_roles)

    async def session():
        async with connected(radio, "RobotLab-3F") as raw:
            return await raw.hello()

    try:
        info = asyncio.run(session())
    finally:
        stop_virtual_robots(robots)
    assert (info.protocol_major, info.robot_id, info.profile_id) == (1, 0x3F, 1)
    assert info.capabilities == Capability(0x07FF)
    assert (info.watchdog_ms, info.telemetry_min_interval_ms, info.max_frame_size) == (500, 50, 20)
    assert [robot.name for robot in robots] == ["RobotLab-3F"]


def test_move_straight_200_mm_moves_the_simulated_robot_20_cm_with_ack_then_done(radio, robots):
    robot = robots[0]

    async def session():
        async with connected(radio) as raw:
            await raw.hello()
            _, x0, y0, _ = await snapshot(robot)
            async with raw.heartbeats():
                seq = await raw.send(MoveStraight(200, 100))
                first = await raw.next((Ack, Done))
                done = await raw.next(Done)
            _, x1, y1, moving = await snapshot(robot)
            return seq, first, done, math.hypot(x1 - x0, y1 - y0), moving

    seq, first, done, moved_cm, moving = asyncio.run(session())
    assert first == (seq, Ack(MoveStraight.TYPE))
    assert done == (seq, Done(MoveStraight.TYPE, MotionState.COMPLETED))
    assert moved_cm == pytest.approx(20, abs=1.0) and not moving
    assert robot.protocol.executed.count((seq, MoveStraight.TYPE)) == 1
    assert robot.protocol.watchdog_trips == 0
    assert robots[1].body.x == robots[1].body.start_pose.x_cm     # the other robot stayed put


def test_telemetry_arrives_at_the_subscribed_rate(radio, robots):
    async def session():
        async with connected(radio) as raw:
            await raw.hello()
            async with raw.heartbeats():
                await raw.send(Subscribe(100, 0, 0, False))
                await raw.next(Ack)
                frames = [await raw.next(Telemetry) for _ in range(11)]
            return frames

    frames = asyncio.run(session())
    seqs = [seq for seq, _ in frames]
    assert seqs == list(range(seqs[0], seqs[0] + 11))
    robot_ms = [telemetry.time_ms for _, telemetry in frames]
    gaps = [later - earlier for earlier, later in zip(robot_ms, robot_ms[1:])]
    assert sum(gaps) / len(gaps) == pytest.approx(100, abs=5)
    assert all(90 <= gap <= 100 + 2 * TICK_S * 1000 for gap in gaps), gaps
    # The open arena's wall is 200 cm from the origin; the robot starts at x = 50 cm facing it.
    assert frames[0][1].distance_mm == pytest.approx(1445, abs=60)


def test_a_link_dropped_mid_move_stops_the_robot_within_the_watchdog_period(radio, robots):
    robot = robots[0]

    async def session():
        async with connected(radio) as raw:
            await raw.hello()
            async with raw.heartbeats():
                await raw.send(MoveStraight(1000, 50))
                await raw.next(Ack)
                await asyncio.sleep(0.4)
                dropped_at_s, _, _, moving = await snapshot(robot)
                assert moving
                await asyncio.wrap_future(robot.drop_link())
                stopped_at_s = await wait_until_standing(robot)
            return dropped_at_s, stopped_at_s, raw.client.is_connected

    dropped_at_s, stopped_at_s, still_connected = asyncio.run(session())
    assert stopped_at_s - dropped_at_s <= WATCHDOG_S
    assert not still_connected and not robot.protocol.in_session


def test_lost_heartbeats_stop_the_robot_within_the_watchdog_period(radio, robots):
    robot = robots[0]

    async def session():
        async with connected(radio) as raw:
            await raw.hello()
            async with raw.heartbeats():
                await raw.send(MoveStraight(1000, 50))
                await raw.next(Ack)
                await asyncio.sleep(0.4)
                robot.set_silent(True)          # the link stays, the robot hears nothing
                silent_from_s, _, _, moving = await snapshot(robot)
                assert moving
                stopped_at_s = await wait_until_standing(robot)
                robot.set_silent(False)
                done = await raw.next(Done)
                heartbeat_seq = await raw.send(Heartbeat())
                answer = await raw.next(HeartbeatAck)
                while answer.seq != heartbeat_seq:
                    answer = await raw.next(HeartbeatAck)
                assert raw.client.is_connected and robot.protocol.watchdog_trips == 1
            return silent_from_s, stopped_at_s, done, answer

    silent_from_s, stopped_at_s, done, answer = asyncio.run(session())
    assert stopped_at_s - silent_from_s <= WATCHDOG_S + TICK_S
    assert done.message == Done(MoveStraight.TYPE, MotionState.INTERRUPTED)
    assert answer.message.motion_state is MotionState.INTERRUPTED
    assert answer.message.watchdog_trips == 1


def test_robots_in_a_shared_world_start_side_by_side(radio):
    robots = start_virtual_robots(radio, 3, shared_world=True, first_id=1)
    try:
        assert [robot.name for robot in robots] == ["RobotLab-01", "RobotLab-02", "RobotLab-03"]
        world = robots[0].world
        assert all(robot.world is world for robot in robots) and len(world.robots) == 3
        assert all(not world.overlaps(robot.body, robot.body.x, robot.body.y) for robot in robots)
    finally:
        stop_virtual_robots(robots)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_emulate_command_says_which_robots_run(monkeypatch, capsys, lang):
    monkeypatch.setenv("ROBOTLAB_LANG", lang)
    assert main(["emulate", "--count", "3", "--seconds", "0.2"]) == 0
    names = "RobotLab-07, RobotLab-08, RobotLab-09"
    expected = message("emulate_running", lang=lang, count=3, names=names)
    assert capsys.readouterr().out.strip() == expected
    assert ("virtuelle robotter kører" in expected) == (lang == "da")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_emulate_without_bumble_says_how_to_install_it(monkeypatch, lang):
    monkeypatch.setenv("ROBOTLAB_LANG", lang)
    monkeypatch.setitem(sys.modules, "ble_bridge.virtual", None)   # as if bumble were missing
    with pytest.raises(SystemExit) as info:
        main(["emulate", "--seconds", "0.1"])
    assert str(info.value.code) == message("emulate_needs_bumble", lang=lang)
    assert 'pip install "robotlab[emulate]"' in str(info.value.code)

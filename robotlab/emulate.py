"""Virtual RobotLab robots: the protocol's robot side driving simulated robots over a virtual radio.

This is the explicit adapter between ``ble_bridge`` and ``simulator``, which
never import each other. A virtual robot advertises ``RobotLab-XX`` on a
``ble_bridge.virtual.VirtualRadio``, answers the open RobotLab protocol
(``ble_bridge.robot_side.RobotProtocol``) and moves a ``simulator.SimRobot``
in its own ``World``, paced to real time. Anything in the same process reaches
it through bleak with the radio's virtual backends, e.g. ``Robot("ble")`` in
tests and demos.

    radio = VirtualRadio()
    robots = start_virtual_robots(radio, count=3)     # RobotLab-07, -08, -09
    ...
    stop_virtual_robots(robots)
    radio.close()

Needs the ``emulate`` extra (bumble).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import time
from types import SimpleNamespace

from ble_bridge import NO_ECHO, Colour, SensorBits, Telemetry, advertised_name, wrap
from ble_bridge.robot_side import RobotProtocol
from ble_bridge.virtual import NusPeripheral, VirtualRadio
from simulator import Pose, RobotProfile, SimRobot, World, load_arena, load_profile, sensors
from simulator.arena import Arena
from simulator.colours import COLOUR_IDS

logger = logging.getLogger(__name__)

#: Seconds between two ticks of the robots' protocols, and the longest world step.
TICK_S = 0.01
#: At most this much robot time (s) is caught up after the radio loop stalled; beyond it the
#: robots' clocks fall behind the wall clock instead of racing ahead of frames still queued.
MAX_CATCH_UP_S = 0.1
#: Profile ids of the protocol's registry (docs/protocol.md, "Robot profiles"); others are 0.
PROFILE_IDS = {"classroom": 1}
#: The simulator's colour names as the protocol's colour ids.
COLOURS = {name: Colour[name.upper()] for name in COLOUR_IDS}
#: IDENTIFY blinks the LED white at 2 Hz: on for this long, off for as long (s).
BLINK_HALF_PERIOD_S = 0.25
WHITE = (255, 255, 255)
#: Side-by-side spacing of robots sharing a world, in robot radii.
SPACING_RADII = 3.0


class SimulatedBody:
    """The hardware of a virtual robot (a ``ble_bridge.robot_side.RobotBody``) on a SimRobot.

    Converts wire units to the simulator's: mm -> cm, centidegrees -> degrees,
    percent -> cm/s of the profile's top speed, ms -> s. A straight move
    forward stops by itself when the bumper is pressed (``blocked``). The
    owner advances the world and then calls ``update`` (for the IDENTIFY blink).
    """

    def __init__(self, world: World, robot: SimRobot):
        self.world, self.robot = world, robot
        profile = robot.profile
        self.buzzer_range_hz = (math.ceil(profile.buzzer_min_hz), math.floor(profile.buzzer_max_hz))
        self._driving_forward = False
        self._led = robot.led_rgb
        self._identify_from_s = self._identify_until_s = -math.inf

    def _speed_cm_s(self, percent: int) -> float:
        return self.robot.profile.top_speed_cm_s * percent / 100

    # -- motors ---------------------------------------------------------------------------

    def straight(self, distance_mm: int, speed_percent: int) -> None:
        self._driving_forward = distance_mm > 0
        self.robot.straight(distance_mm / 10, self._speed_cm_s(speed_percent))

    def turn(self, angle_cdeg: int, speed_percent: int) -> None:
        self._driving_forward = False
        self.robot.turn(angle_cdeg / 100, self._speed_cm_s(speed_percent))

    def drive(self, left_percent: int, right_percent: int) -> None:
        self._driving_forward = False
        self.robot.set_wheel_speeds(self._speed_cm_s(left_percent), self._speed_cm_s(right_percent))

    def brake(self) -> None:
        self._driving_forward = False
        self.robot.brake()

    def halt(self) -> None:
        self._driving_forward = False
        self.robot.halt()

    def move_finished(self) -> bool:
        return self.robot.move_remaining_s <= 0.0

    def blocked(self) -> bool:
        return self._driving_forward and sensors.bumped(self.robot)

    def moving(self) -> bool:
        return self.robot.moving

    # -- LED and buzzer -------------------------------------------------------------------

    def set_led(self, red: int, green: int, blue: int) -> None:
        self._led = (red, green, blue)
        self.update()

    def identify(self, duration_ms: int) -> None:
        self._identify_from_s = self.world.time_s
        self._identify_until_s = self.world.time_s + duration_ms / 1000
        self.update()

    def update(self) -> None:
        """Show the LED as it is now: blinking while identifying, else the colour set last."""
        now = self.world.time_s
        colour = self._led
        if now < self._identify_until_s:
            half_periods = int((now - self._identify_from_s) / BLINK_HALF_PERIOD_S)
            colour = WHITE if half_periods % 2 == 0 else (0, 0, 0)
        if colour != self.robot.led_rgb:
            self.robot.led_rgb = colour
            self.world.version += 1

    def beep(self, frequency_hz: int, duration_ms: int) -> None:
        self.stop_tone()
        self.robot.beeps.append((self.world.time_s, frequency_hz, duration_ms / 1000))

    def stop_tone(self) -> None:
        if self.robot.beeps:
            start_s, frequency_hz, duration_s = self.robot.beeps[-1]
            played_s = self.world.time_s - start_s
            if played_s < duration_s:
                self.robot.beeps[-1] = (start_s, frequency_hz, played_s)

    # -- sensors --------------------------------------------------------------------------

    def telemetry(self) -> Telemetry:
        world, robot, profile = self.world, self.robot, self.robot.profile
        distance_cm = sensors.distance_cm(world, robot)
        left, right = sensors.reflection(world, robot)
        bits = SensorBits(0)
        if left < profile.line_threshold_percent:
            bits |= SensorBits.LINE_LEFT
        if right < profile.line_threshold_percent:
            bits |= SensorBits.LINE_RIGHT
        if sensors.bumped(robot):
            bits |= SensorBits.BUMPED
        return Telemetry(
            time_ms=round(robot.clock_s * 1000) % (1 << 32),
            distance_mm=(NO_ECHO if distance_cm >= profile.distance_max_cm
                         else min(NO_ECHO - 1, round(distance_cm * 10))),
            reflection_left_percent=round(left),
            reflection_right_percent=round(right),
            sensor_bits=bits,
            colour=COLOURS.get(sensors.colour(world, robot), Colour.NONE),
            heading_cdeg=wrap(round(sensors.heading_deg(robot) * 100), 24),
            odometer_mm=wrap(round(sensors.odometer_cm(robot) * 10), 24),
        )


class VirtualRobot:
    """One virtual robot: a NUS peripheral whose writes drive a RobotProtocol on a SimulatedBody.

    Made by ``start_virtual_robots``. ``name`` is the advertised "RobotLab-07",
    ``world`` its World, ``body`` its SimRobot, ``protocol`` its RobotProtocol
    (counters ``executed`` and ``watchdog_trips``). The world, the body and the
    protocol belong to the radio's loop: read them there (``radio.call``) for a
    consistent picture.
    """

    def __init__(self, radio: VirtualRadio, world: World, body: SimRobot, short_id: int, *,
                 ticker: _Ticker, swap_roles: bool = False):
        self.radio, self.world, self.body = radio, world, body
        self.short_id = short_id
        self.name = advertised_name(short_id)
        self.simulated_body = SimulatedBody(world, body)
        profile = body.profile
        self.protocol = RobotProtocol(
            self.simulated_body, short_id=short_id, send=self._send, now=lambda: world.time_s,
            profile_id=PROFILE_IDS.get(profile.id, 0),
            min_telemetry_ms=max(1, round(profile.telemetry_period_s * 1000)))
        self.peripheral = NusPeripheral(radio, self.name, self._on_receive,
                                        on_disconnect=self.protocol.link_lost, swap_roles=swap_roles)
        self._ticker = ticker
        self._silent = False

    def __repr__(self) -> str:
        return f"<VirtualRobot {self.name}>"

    def start(self) -> None:
        """Advertise and start the robot's clock; blocks (not from the radio thread)."""
        self.peripheral.start()
        self.radio.call(self._ticker.add(self))

    def stop(self) -> None:
        """Drop any link, stop advertising and stop the robot's clock. Idempotent."""
        if self.radio.closed:
            return
        self.peripheral.stop()
        self.radio.call(self._detach())

    def drop_link(self) -> concurrent.futures.Future[None]:
        """End the link from the robot's side, as when it loses the radio; the robot stops.

        Does not block: the returned future is done once the link is down.
        """
        return self.peripheral.drop_link()

    def set_silent(self, silent: bool) -> None:
        """Keep the link but ignore every write (True), as a robot that never answers; or not."""
        self._silent = silent

    def tick(self) -> None:
        """One protocol tick after a world step (radio loop)."""
        self.simulated_body.update()
        self.protocol.tick()

    async def _detach(self) -> None:
        await self._ticker.remove(self)
        self.protocol.link_lost()

    def _on_receive(self, data: bytes) -> None:
        if not self._silent:
            self.protocol.receive(data)

    def _send(self, frame: bytes) -> None:
        self.peripheral.notify(frame)


class _Ticker:
    """Advances the worlds of some virtual robots on the radio loop, paced to real time.

    Each wake-up advances every world by the wall time since the last one (at
    most MAX_CATCH_UP_S) in steps of at most TICK_S, ticking every robot's
    protocol after each step, so a watchdog deadline is never overshot by
    more than one tick of robot time.
    """

    def __init__(self) -> None:
        self._robots: list[VirtualRobot] = []
        self._task: asyncio.Task[None] | None = None

    async def add(self, robot: VirtualRobot) -> None:
        self._robots.append(robot)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="virtual robots' clock")
            self._task.add_done_callback(_log_failure)

    async def remove(self, robot: VirtualRobot) -> None:
        if robot in self._robots:
            self._robots.remove(robot)
        if not self._robots and self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            behind_s, last = min(now - last, MAX_CATCH_UP_S), now
            while behind_s > 1e-9:
                step_s = min(TICK_S, behind_s)
                behind_s -= step_s
                for world in dict.fromkeys(robot.world for robot in self._robots):
                    world.advance(step_s)
                for robot in list(self._robots):
                    robot.tick()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the virtual robots' clock stopped", exc_info=task.exception())


def start_virtual_robots(radio: VirtualRadio, count: int = 1, *, arena: Arena | str = "tom",
                         profile: RobotProfile | str = "classroom", noise: bool = True,
                         seed: int = 1, first_id: int = 7, shared_world: bool = False,
                         swap_roles: bool = False) -> list[VirtualRobot]:
    """Start ``count`` virtual robots with ids ``first_id``, ``first_id + 1``, ... on ``radio``.

    Each robot lives in its own World on ``arena`` at the arena's start,
    unless ``shared_world``: then all share one World, side by side at the
    start. Robot ``i`` has noise seed ``seed + i``. ``swap_roles`` makes the
    UART characteristics swap UUIDs as on a micro:bit. Blocks until every
    robot advertises; not from the radio thread.
    """
    arena = load_arena(arena) if isinstance(arena, str) else arena
    profile = load_profile(profile) if isinstance(profile, str) else profile
    ticker = _Ticker()
    shared = World(arena) if shared_world else None
    poses = _start_poses(arena, profile, count) if shared_world else [arena.start] * count
    robots = []
    try:
        for index, pose in enumerate(poses):
            world = shared if shared is not None else World(arena)
            short_id = first_id + index
            body = world.add_robot(profile, pose, noise=noise, seed=seed + index,
                                   name=advertised_name(short_id))
            robot = VirtualRobot(radio, world, body, short_id, ticker=ticker, swap_roles=swap_roles)
            robot.start()
            robots.append(robot)
    except BaseException:
        stop_virtual_robots(robots)
        raise
    return robots


def stop_virtual_robots(robots: list[VirtualRobot]) -> None:
    """Stop every robot: links dropped, advertising ended, clocks stopped."""
    for robot in robots:
        robot.stop()


def _start_poses(arena: Arena, profile: RobotProfile, count: int) -> list[Pose]:
    """``count`` free poses at the arena's start: a row across the heading, then rows behind."""
    start = arena.start
    forward = (math.cos(math.radians(start.heading_deg)), math.sin(math.radians(start.heading_deg)))
    left = (-forward[1], forward[0])
    spacing = SPACING_RADII * profile.radius_cm
    reach = math.ceil(max(arena.width_cm, arena.height_cm) / spacing)
    sideways = [0] + [side * n for n in range(1, reach + 1) for side in (1, -1)]
    probe_world = World(arena)
    # World.overlaps only needs the robot's profile (its radius) for a robot not yet placed.
    probe = SimpleNamespace(profile=profile)
    poses = []
    for back in range(reach + 1):
        for side in sideways:
            x = start.x_cm + spacing * (side * left[0] - back * forward[0])
            y = start.y_cm + spacing * (side * left[1] - back * forward[1])
            inside = (profile.radius_cm <= x <= arena.width_cm - profile.radius_cm
                      and profile.radius_cm <= y <= arena.height_cm - profile.radius_cm)
            if inside and not probe_world.overlaps(probe, x, y):
                poses.append(Pose(x, y, start.heading_deg))
                probe_world.add_robot(profile, poses[-1], noise=False)
                if len(poses) == count:
                    return poses
    raise ValueError(f"{count} robots do not fit side by side in the arena {arena.name!r}")

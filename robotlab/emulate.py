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
import struct
from types import SimpleNamespace

from ble_bridge import NO_ECHO, Colour, SensorBits, Telemetry, advertised_name, wrap
from ble_bridge.robot_side import RobotProtocol
from ble_bridge.virtual import NusPeripheral, VirtualRadio
from ble_bridge.virtual.pacing import TICK_S, real_time_steps  # TICK_S: the robots' tick
from simulator import Pose, RobotProfile, SimRobot, World, load_arena, load_profile, sensors
from simulator.arena import Arena
from simulator.colours import COLOUR_IDS, classify

logger = logging.getLogger(__name__)

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
                 ticker: _Ticker, swap_roles: bool = False, name: str | None = None):
        self.radio, self.world, self.body = radio, world, body
        self.short_id = short_id
        # name="BBC micro:bit [zatug]" advertises as MakeCode firmware does (docs/protocol.md).
        self.name = name or advertised_name(short_id)
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

    Each step of ``ble_bridge.virtual.pacing.real_time_steps`` advances every
    world and then ticks every robot's protocol, so a watchdog deadline is
    never overshot by more than one tick of robot time.
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
        async for step_s in real_time_steps():
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


# -- Virtual LEGO hubs (LEGO Wireless Protocol 3.0, docs/lego.md) ------------------------------

#: The hub letters (A-D) as LWP3 port numbers; the same on every hub RobotLab drives.
HUB_PORTS = {"A": 0, "B": 1, "C": 2, "D": 3}
#: A pair of motor commands arriving within this long is one drive-base move (s).
PAIR_WINDOW_S = 0.03
#: The names hubs advertise out of the box, per hub kind (the profile's ``hub_kind``).
DEFAULT_HUB_NAMES = {"technic_hub": "Technic Hub", "boost_move_hub": "LEGO Move Hub",
                     "city_hub": "Smart Hub", "spike_essential": "SPIKE Hub"}


class SimulatedDriveBase:
    """The devices on a virtual LEGO hub's ports (a ``ble_bridge.virtual.lwp3_hub.HubBody``):
    a two-motor drive base, colour and distance sensors and the hub's light, on a SimRobot
    in its own World.

    The build is the profile's ``[hub]`` table (a ``simulator/profiles/lego-*.toml``):
    which ports hold the left and right motors and which way they turn for forward, and
    the sensors, {"C": "colour", "D": "distance"} unless ``sensors`` says otherwise.
    ``missing`` leaves ports empty ("B": a motor forgotten). Motor commands for both
    wheels that arrive together become one closed-form simulator move (straight, turn
    or arc), as a drive base's would; a single wheel's command runs that wheel alone.
    A colour sensor on the profile's ``line_left``/``line_right`` port sees the floor
    at the profile's left/right line point, any other at its colour point.

        body = SimulatedDriveBase("linje", "lego-technic", sensors={"C": "colour", "D": "colour"})
    """

    def __init__(self, arena: Arena | str = "tom", profile: RobotProfile | str = "lego-technic", *,
                 sensors: dict[str, str] | None = None, missing=(), noise: bool = False,
                 seed: int = 1):
        from ble_bridge.lwp3 import IoType
        self.world = World(load_arena(arena) if isinstance(arena, str) else arena)
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        hub = self.profile.hub
        if hub is None:
            raise ValueError(f"the profile {self.profile.id!r} has no [hub] table")
        self.robot = self.world.add_robot(self.profile, self.world.arena.start, noise=noise,
                                          seed=seed)
        self.left, self.right = HUB_PORTS[hub.left_motor], HUB_PORTS[hub.right_motor]
        self.light_port = hub.light_port
        self.forward = {self.left: hub.left_forward, self.right: hub.right_forward}
        self.motor_type = IoType[hub.motor.upper()]
        colour_type = (IoType.VISION_SENSOR if hub.hub_kind == "boost_move_hub"
                       else IoType.TECHNIC_COLOR_SENSOR)
        kinds = {"colour": colour_type, "distance": IoType.TECHNIC_DISTANCE_SENSOR}
        built = dict(hub.sensors) if sensors is None else sensors
        self._ports = {self.left: self.motor_type, self.right: self.motor_type,
                       hub.light_port: IoType.RGB_LIGHT}
        self._ports.update({HUB_PORTS[port.upper()]: kinds[kind] for port, kind in built.items()})
        for port in missing:
            self._ports.pop(HUB_PORTS.get(str(port).upper(), port), None)
        self._points = {HUB_PORTS[port]: point for port, point in
                        ((hub.line_left, self.profile.line_left),
                         (hub.line_right, self.profile.line_right)) if port}
        self.light = (0, 0, 0)
        self._offsets = {self.left: 0.0, self.right: 0.0}        # encoder presets, degrees
        self._pending: dict[int, tuple] = {}                     # port -> (degrees, speed, since_s)
        self._speeds = {self.left: 0.0, self.right: 0.0}         # wheel speeds of a drive, cm/s
        self._until = {self.left: math.inf, self.right: math.inf}  # timed commands end (world s)
        self._moving_ports: set[int] = set()

    # -- HubBody --------------------------------------------------------------------------------
    def devices(self) -> dict[int, int]:
        return dict(self._ports)

    def modes(self, port: int) -> set[int]:
        from ble_bridge.lwp3.devices import MOTOR_POSITION, SENSOR_MODES
        if self._ports.get(port) == self.motor_type:
            return {MOTOR_POSITION.mode}
        if port == self.light_port:
            return {0, 1}                # colour number, RGB
        return {mode.mode for mode in SENSOR_MODES.get(self._ports.get(port), {}).values()}

    def start_speed(self, port: int, speed: int) -> None:
        self._pending.pop(port, None)
        self._moving_ports.discard(port)
        self._until[port] = math.inf
        self._speeds[port] = speed / 100 * self.profile.top_speed_cm_s * self.forward[port]
        self.robot.set_wheel_speeds(self._speeds[self.left], self._speeds[self.right])

    def start_speed_for_time(self, port: int, time_ms: int, speed: int, end_state) -> None:
        self.start_speed(port, speed)
        self._until[port] = self.world.time_s + time_ms / 1000

    def start_speed_for_degrees(self, port: int, degrees: int, speed: int, end_state) -> None:
        self._until[port] = math.inf
        self._pending[port] = (degrees, speed, self.world.time_s)
        self._moving_ports.add(port)

    def goto_position(self, port: int, position: int, speed: int, end_state) -> None:
        delta = position - self._position(port)
        if delta:
            self.start_speed_for_degrees(port, abs(delta), speed if delta > 0 else -speed, end_state)

    def stop(self, port: int, end_state) -> None:
        from ble_bridge.lwp3 import EndState
        self._pending.pop(port, None)
        self._moving_ports.discard(port)
        self._until[port] = math.inf
        self._speeds[port] = 0.0
        if self._speeds[self.left] == self._speeds[self.right] == 0.0:
            self.robot.brake() if end_state is not EndState.FLOAT else self.robot.halt()
        else:
            self.robot.set_wheel_speeds(self._speeds[self.left], self._speeds[self.right])

    def busy(self, port: int) -> bool:
        if port in self._pending:
            return True
        if port in self._moving_ports:
            return self.robot.move_remaining_s > 0
        return self.world.time_s < self._until.get(port, math.inf)

    def preset(self, port: int, position: int) -> None:
        self._offsets[port] += self._position(port) - position

    def set_light(self, port: int, rgb: tuple[int, int, int]) -> None:
        self.light = rgb
        self.robot.led_rgb = rgb

    def value(self, port: int, mode: int) -> bytes:
        from ble_bridge.lwp3 import IoType
        from ble_bridge.lwp3.devices import LEGO_COLOURS, NO_COLOUR, SENSOR_MODES
        io_type = self._ports[port]
        if io_type == self.motor_type:
            return struct.pack("<i", self._position(port))
        if port == self.light_port:
            return b"\x00"
        if io_type == IoType.TECHNIC_DISTANCE_SENSOR:
            distance_cm = sensors.distance_cm(self.world, self.robot)
            mm = -1 if distance_cm >= self.profile.distance_max_cm else round(distance_cm * 10)
            return struct.pack("<h", mm)
        point = self._points.get(port, self.profile.colour_sensor)
        x, y = self.robot.to_world(point.x_cm, point.y_cm)
        if mode == SENSOR_MODES[io_type]["colour"].mode:
            name = classify(self.world.arena.rgb_at(x, y))
            numbers = {colour: number for number, colour in LEGO_COLOURS.items()}
            return struct.pack("<b", numbers.get(name, NO_COLOUR))
        noise_sd = self.profile.noise.reflection_sd_percent if self.robot.noise_on else 0.0
        reflection = self.world.arena.reflection_at(x, y) + self.robot.gauss(noise_sd)
        return struct.pack("<b", round(min(100.0, max(0.0, reflection))))

    def advance(self, dt_s: float) -> None:
        from ble_bridge.lwp3 import EndState
        self._start_pending()
        for port in (self.left, self.right):
            if self.world.time_s >= self._until[port]:
                self.stop(port, EndState.BRAKE)
        self.world.advance(dt_s)

    # -- the drive base -------------------------------------------------------------------------
    def _position(self, port: int) -> int:
        side = 0 if port == self.left else 1
        return round(self.robot.encoders_cm[side] * self.profile.counts_per_cm * self.forward[port]
                     - self._offsets[port])

    def _start_pending(self) -> None:
        if not self._pending:
            return
        waited = self.world.time_s - min(since for _, _, since in self._pending.values())
        if len(self._pending) < 2 and waited < PAIR_WINDOW_S:
            return
        cm_per_degree = 1 / self.profile.counts_per_cm
        signs, distance_cm, speed = [0.0, 0.0], 0.0, 0
        for port, (degrees, port_speed, _) in self._pending.items():
            side = 0 if port == self.left else 1
            signs[side] = math.copysign(1, port_speed) * self.forward[port]
            distance_cm, speed = max(distance_cm, degrees * cm_per_degree), max(speed, abs(port_speed))
        self._pending.clear()
        self._speeds = {self.left: 0.0, self.right: 0.0}
        self.robot.move_distance(signs[0], signs[1], distance_cm,
                                 speed / 100 * self.profile.top_speed_cm_s)


def start_virtual_hubs(radio: VirtualRadio, count: int = 1, *, arena: Arena | str = "tom",
                       profile: RobotProfile | str = "lego-technic", noise: bool = True,
                       seed: int = 1, names: list[str] | None = None,
                       sensors: dict[str, str] | None = None, missing=()) -> list:
    """Start ``count`` virtual LEGO hubs on ``radio``, each driving its own simulated drive base.

    The hubs answer LEGO Wireless Protocol 3.0 (``ble_bridge.virtual.lwp3_hub.VirtualHub``);
    their build is the profile's ``[hub]`` table (``SimulatedDriveBase``). One hub is
    called as LEGO names it ("Technic Hub"); several get a number ("Technic Hub 1", ...)
    unless ``names`` are given. Blocks until every hub advertises; not from the radio
    thread. Then ``Robot("lego")`` in the same process finds them once it scans this radio::

        from ble_bridge.virtual import VirtualRadio, backends
        from robotlab.backends import lego
        radio = VirtualRadio()
        hubs = start_virtual_hubs(radio, 2, arena="linje")
        lego.use_bleak_backends(*backends(radio))
        robot = Robot("lego", name="Technic Hub 1")
    """
    from ble_bridge.lwp3 import HubKind
    from ble_bridge.virtual.lwp3_hub import VirtualHub
    profile = load_profile(profile) if isinstance(profile, str) else profile
    if names is None:
        base = DEFAULT_HUB_NAMES.get(profile.hub.hub_kind, "LEGO Hub") if profile.hub else "LEGO Hub"
        names = [base] if count == 1 else [f"{base} {number}" for number in range(1, count + 1)]
    hubs = []
    try:
        for index, name in enumerate(names[:count]):
            body = SimulatedDriveBase(arena, profile, sensors=sensors, missing=missing, noise=noise,
                                      seed=seed + index)
            hub = VirtualHub(radio, body, name=name, hub_kind=HubKind[profile.hub.hub_kind.upper()])
            hub.start()
            hubs.append(hub)
    except BaseException:
        stop_virtual_hubs(hubs)
        raise
    return hubs


def stop_virtual_hubs(hubs: list) -> None:
    """Switch every virtual hub off: links dropped, advertising and clocks stopped."""
    for hub in hubs:
        hub.stop()

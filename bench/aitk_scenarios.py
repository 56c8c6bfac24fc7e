"""Baseline half of the simulator benchmark: the same two scenarios in aitk.robots.

Runs headless in its own virtual environment with aitk.robots 2.0.0 (and the
Pillow it depends on); it imports nothing from RobotLab so it cannot pick up
our code by accident:

    .venv-bench/bin/python bench/aitk_scenarios.py --scenario line --sim-seconds 60
    .venv-bench/bin/python bench/aitk_scenarios.py --scenario crowd --sim-seconds 60

(.venv-bench is made by bench/run.sh, i.e. ./dev.sh bench: python3 -m venv
.venv-bench && .venv-bench/bin/pip install aitk.robots==2.0.0 aitk==3.1.0;
bench/sim_speed.py runs this script and prints the ratios.)

Prints exactly one line of JSON on stdout:
    {"scenario", "sim_seconds", "wall_seconds", "sim_per_wall", "notes"}
sim_seconds is the simulated time actually stepped (round(N / 0.05) steps);
wall_seconds covers only the stepping loop, not building the world. Anything
aitk itself prints is sent to stderr so the JSON line stays parseable.

The line scenario reads the floor through aitk's GroundCamera device by
default, which is what an aitk user would reach for (it is aitk's only
floor-sensing device); --ground-sensor point reads single floor pixels
through the world instead, which samples exactly like RobotLab and is much
cheaper (see camera_line_sensors / point_line_sensors). bench/sim_speed.py
runs both and takes its headline ratio against the default.

Scenarios (sizes in cm, RobotLab frame: origin bottom-left, y up, headings in
degrees counterclockwise from +x; the RobotLab side must build the same):

line   200 x 150 arena, RobotLab's built-in "linje" (simulator/arenas/linje.toml,
       floor drawn by scripts/draw_arenas.py). Floor (245, 245, 240) with a
       near-black (25, 25, 30) line 2 cm wide whose centreline is a rounded
       rectangle from (30, 30) to (170, 120) with 30 cm corner radius (track
       length 408.5 cm). One robot starts at (100, 30) heading 0, on the line
       with the line between its sensors (counterclockwise laps). Every 0.05 s
       it reads two reflectance sensors 4 cm ahead of the axle and 1.2 cm to
       each side (reflection = luminance 0-100 %, "dark" below 50 %) and sets
       wheel speeds, bang-bang:
           neither dark -> both wheels 15 cm/s      (straddling the line)
           left dark    -> left 0, right 15 cm/s    (steer left)
           right dark   -> left 15, right 0 cm/s    (steer right)
           both dark    -> both wheels 15 cm/s      (crossing it)
crowd  300 x 300 arena, 30 robots on a 6 x 5 grid of 50 x 60 cm cells, each
       driving its own 30 cm square counterclockwise (forward 30 cm at 15 cm/s,
       turn 90 degrees left in place at 15 cm/s wheel speed, repeat), squares
       centred in their cells (square i: column i % 6, row i // 6, lower-left
       corner at (50 col + 10, 60 row + 15); the robot starts there heading 0),
       so robots that keep to their squares never meet.

Robot (RobotLab "classroom" profile): round body of radius 6 cm, axle track
9 cm, top speed 30 cm/s, wheel acceleration 60 cm/s^2. Time advances in steps
of 0.05 s, the profile's telemetry period, with one control iteration per step.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import time

from aitk.robots import GroundCamera, Robot, World

# --- shared physical setup (RobotLab classroom profile) -------------------------
TIME_STEP_S = 0.05          # one control iteration = one aitk step
TOP_SPEED_CM_S = 30.0
ACCEL_CM_S2 = 60.0
AXLE_TRACK_CM = 9.0
ROBOT_RADIUS_CM = 6.0
CRUISE_CM_S = 15.0          # RobotLab's default speed, 50 %

# aitk units are "pixels"; we use 1 aitk unit = 1 cm and let the world's
# `scale` set only the ground image resolution (px per cm).
WORLD_PX_PER_CM = 2.0     # worlds without a floor picture (RobotLab's blank floor)
POINT_PX_PER_CM = 4.0     # RobotLab's "linje" floor picture is 800 x 600 px for 200 x 150 cm
# A GroundCamera cannot sample between pixels, so its floor uses 2.5 px/cm,
# where the sensor offsets (4 cm, 1.2 cm) are whole pixels (10, 3). At 2 px/cm
# the side sensors would land 1.0 cm out, on the edge of the 2 cm line.
CAMERA_PX_PER_CM = 2.5

# --- line scenario settings ------------------------------------------------------
LINE_ARENA_CM = (200.0, 150.0)
TRACK_BOX_CM = (30.0, 30.0, 170.0, 120.0)   # centreline x0, y0, x1, y1
TRACK_CORNER_RADIUS_CM = 30.0
LINE_WIDTH_CM = 2.0
FLOOR_RGB = (245, 245, 240)
LINE_RGB = (25, 25, 30)                     # RobotLab's INK
LINE_START = (100.0, 30.0, 0.0)             # x, y, heading (deg)
SENSOR_FORWARD_CM = 4.0
SENSOR_SIDE_CM = 1.2
DARK_BELOW_PERCENT = 50.0

# --- crowd scenario settings -----------------------------------------------------
CROWD_ARENA_CM = (300.0, 300.0)
CROWD_COLUMNS, CROWD_ROWS = 6, 5
SQUARE_SIDE_CM = 30.0
TURN_WHEEL_CM_S = 15.0
# Waypoint tolerances of the square driver (goals are absolute, so errors
# within them do not accumulate from one side to the next).
ARRIVED_CM = 0.3
ALIGNED_RAD = math.radians(0.5)


# --- coordinate and motor helpers ----------------------------------------------
def to_aitk(x_cm: float, y_cm: float, arena_height_cm: float) -> tuple[float, float]:
    """RobotLab (y up) -> aitk (y down, image rows).

    aitk headings are degrees counterclockwise *as drawn* (0 = +x, 90 = up the
    screen), so mirroring y keeps headings and left/right identical.
    """
    return x_cm, arena_height_cm - y_cm


def make_robot(x_cm: float, y_cm: float, heading_deg: float, name: str) -> Robot:
    """A robot shaped and limited like the RobotLab classroom robot."""
    # aitk collides with the bounding box of the body's first polygon, so a
    # 16-gon of radius 6 gives a 12 x 12 cm box: the closest aitk gets to a disc.
    disc = [[ROBOT_RADIUS_CM * math.cos(2 * math.pi * i / 16),
             ROBOT_RADIUS_CM * math.sin(2 * math.pi * i / 16)] for i in range(16)]
    top_turn_rad_s = 2.0 * TOP_SPEED_CM_S / AXLE_TRACK_CM
    return Robot(
        x=x_cm, y=y_cm, a=heading_deg, name=name, color="blue",
        body=[["polygon", None, disc]],
        # Nothing is drawn, so a trace would only grow without bound.
        do_trace=False,
        # aitk moves a robot by vx *per step* (Robot._step never multiplies vx
        # by the time step), while va is in rad/s. So the forward limit is in
        # cm per 0.05 s step; the rotation limit is what two wheels at full
        # speed in opposite directions give.
        vx_max=TOP_SPEED_CM_S * TIME_STEP_S,
        va_max=top_turn_rad_s,
        # *_ramp is the time from 0 to the max velocity (this one is in real
        # seconds), i.e. 30 cm/s / 60 cm/s^2 for wheels and for turning alike.
        vx_ramp=TOP_SPEED_CM_S / ACCEL_CM_S2,
        va_ramp=TOP_SPEED_CM_S / ACCEL_CM_S2,
    )


def set_wheel_speeds(robot: Robot, left_cm_s: float, right_cm_s: float) -> None:
    """Differential drive -> aitk target velocities.

    Robot.motors()/move() would do the same but round the targets to 0.1 aitk
    units, which at 0.05 s steps is a 2 cm/s (7 %) error at our speeds, so we
    set the documented target-velocity attributes directly.
    """
    robot.tvx = 0.5 * (left_cm_s + right_cm_s) * TIME_STEP_S   # cm per step
    robot.tva = (right_cm_s - left_cm_s) / AXLE_TRACK_CM        # rad/s, + = left


def new_world(width_cm: float, height_cm: float, scale: float = WORLD_PX_PER_CM,
              ground_image: str | None = None) -> World:
    # World sizes must be ints: aitk builds its smell grid with range(width).
    world = World(width=round(width_cm), height=round(height_cm), scale=scale,
                  ground_image_filename=ground_image, quiet=True)
    # aitk rounds world.time to one decimal after every step, which would jam
    # the clock at 0.1 s with 0.05 s steps (its cart-pole world sets 2, too).
    world._time_decimal_places = 2
    world.time_step = TIME_STEP_S
    return world


def run_timed(world: World, sim_seconds: float, controllers: list) -> tuple[float, float]:
    """Run without pacing or drawing; returns (simulated s, wall s).

    world.seconds() calls every controller once, then advances every robot by
    one step and updates all devices, round(sim_seconds / time_step) times.
    """
    t0_sim = world.time
    t0 = time.perf_counter()
    world.seconds(sim_seconds, controllers, time_step=TIME_STEP_S, show=False,
                  real_time=False, show_progress=False, quiet=True)
    wall = time.perf_counter() - t0
    return world.time - t0_sim, wall


# --- line scenario ---------------------------------------------------------------
def distance_to_track(x_cm: float, y_cm: float) -> float:
    """Distance from a point to the track centreline (a rounded rectangle)."""
    x0, y0, x1, y1 = TRACK_BOX_CM
    r = TRACK_CORNER_RADIUS_CM
    qx = abs(x_cm - 0.5 * (x0 + x1)) - (0.5 * (x1 - x0) - r)
    qy = abs(y_cm - 0.5 * (y0 + y1)) - (0.5 * (y1 - y0) - r)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    signed = outside + min(max(qx, qy), 0.0) - r
    return abs(signed)


def write_track_image(path: str, px_per_cm: float) -> None:
    """Paint the floor pixel by pixel from the same geometry RobotLab uses.

    Painting from distance_to_track (rather than PIL's rounded_rectangle)
    keeps the line exactly 2 cm wide and centred where the verification
    below measures it. RobotLab's linje.png is the same track rasterised by
    pygame at 4 px/cm; at that resolution the two pictures differ in 284 of
    RobotLab's 13076 line pixels, all of them pixels whose centres lie within
    0.08 cm of the line's edge (rounding in the rasterisation).
    """
    from PIL import Image  # aitk.robots depends on Pillow

    width_cm, height_cm = LINE_ARENA_CM
    w_px, h_px = round(width_cm * px_per_cm), round(height_cm * px_per_cm)
    half = LINE_WIDTH_CM / 2.0
    pixels = []
    for row in range(h_px):
        y_cm = height_cm - (row + 0.5) / px_per_cm   # image rows run downward
        for col in range(w_px):
            x_cm = (col + 0.5) / px_per_cm
            pixels.append(LINE_RGB if distance_to_track(x_cm, y_cm) <= half else FLOOR_RGB)
    image = Image.new("RGB", (w_px, h_px))
    image.putdata(pixels)
    image.save(path)


def reflection_percent(rgb) -> float:
    """Same reflectance model as RobotLab: relative luminance, 0-100 %."""
    r, g, b = rgb[:3]
    return (0.299 * r + 0.587 * g + 0.114 * b) * (100.0 / 255.0)


def camera_line_sensors(robot: Robot):
    """Two reflectance sensors read from one aitk GroundCamera.

    GroundCamera is aitk's only floor-sensing device: a square patch of the
    ground image centred on the robot and rotated so the robot's forward is up
    (row 0) and its left is column 0 (checked empirically). It is lazy, i.e.
    computed only on get_image(), and get_image() rotates the whole ground
    image each call, so we call it once per iteration for both sensors.
    Needs a scale at which the sensor offsets are whole pixels
    (CAMERA_PX_PER_CM); the patch has no sub-pixel placement.
    """
    reach = math.ceil(SENSOR_FORWARD_CM * CAMERA_PX_PER_CM) + 2
    camera = GroundCamera(width=2 * reach, height=2 * reach)
    robot.add_device(camera)
    row = reach - round(SENSOR_FORWARD_CM * CAMERA_PX_PER_CM)
    left = (reach - round(SENSOR_SIDE_CM * CAMERA_PX_PER_CM), row)
    right = (reach + round(SENSOR_SIDE_CM * CAMERA_PX_PER_CM), row)

    def read(_bot: Robot) -> tuple[float, float]:
        image = camera.get_image()
        return reflection_percent(image.getpixel(left)), reflection_percent(image.getpixel(right))

    return read, f"one GroundCamera {2 * reach}x{2 * reach} px, floor {CAMERA_PX_PER_CM} px/cm"


def point_line_sensors(robot: Robot):
    """Two reflectance sensors read as single floor pixels at their exact spots.

    world.get_ground_color_at(x, y, radius=0) returns the ground-image pixel
    under an aitk point (truncating to the pixel, like RobotLab's floor
    lookup), so at 4 px/cm (POINT_PX_PER_CM, the resolution of RobotLab's
    linje.png) this samples the floor exactly as RobotLab's sensors do.
    It is a world query, not a robot device.
    """
    world = robot.world

    def pixel(bot: Robot, forward: float, left: float) -> float:
        heading = -bot.a                      # aitk stores a = -heading
        c, s = math.cos(heading), math.sin(heading)
        x = bot.x + forward * c - left * s
        y = bot.y - (forward * s + left * c)  # aitk y runs down
        return reflection_percent(world.get_ground_color_at(x, y, 0)[0])

    def read(bot: Robot) -> tuple[float, float]:
        return (pixel(bot, SENSOR_FORWARD_CM, SENSOR_SIDE_CM),
                pixel(bot, SENSOR_FORWARD_CM, -SENSOR_SIDE_CM))

    return read, f"world.get_ground_color_at, floor {POINT_PX_PER_CM} px/cm"


def run_line(sim_seconds: float, ground_sensor: str = "camera") -> dict:
    width_cm, height_cm = LINE_ARENA_CM
    px_per_cm = CAMERA_PX_PER_CM if ground_sensor == "camera" else POINT_PX_PER_CM
    with tempfile.TemporaryDirectory() as tmp:
        floor_png = os.path.join(tmp, "track.png")
        write_track_image(floor_png, px_per_cm)
        # The image is loaded (and resized to width*scale) here, so the
        # temporary file is not needed afterwards.
        world = new_world(width_cm, height_cm, scale=px_per_cm, ground_image=floor_png)

    x, y, heading = LINE_START
    robot = make_robot(*to_aitk(x, y, height_cm), heading, "follower")
    world.add_robot(robot)
    sensors = camera_line_sensors if ground_sensor == "camera" else point_line_sensors
    read_sensors, sensor_note = sensors(robot)

    stats = {"iterations": 0, "sees_line": 0}
    trail = []   # (x, y) per iteration, checked after the timed run

    def follower(bot: Robot) -> None:
        # Called by world.seconds() before every step, so the sensors are read
        # from the pose the previous step produced: one read per 0.05 s.
        left, right = read_sensors(bot)
        left_dark, right_dark = left < DARK_BELOW_PERCENT, right < DARK_BELOW_PERCENT
        stats["iterations"] += 1
        stats["sees_line"] += left_dark or right_dark
        trail.append((bot.x, bot.y))
        if left_dark and not right_dark:
            set_wheel_speeds(bot, 0.0, CRUISE_CM_S)
        elif right_dark and not left_dark:
            set_wheel_speeds(bot, CRUISE_CM_S, 0.0)
        else:
            set_wheel_speeds(bot, CRUISE_CM_S, CRUISE_CM_S)

    sim, wall = run_timed(world, sim_seconds, [follower])

    # Behaviour check: how far the robot strays from the line and how many laps
    # it makes (unwrapped angle of its position around the track centre).
    cx = 0.5 * (TRACK_BOX_CM[0] + TRACK_BOX_CM[2])
    cy = 0.5 * (TRACK_BOX_CM[1] + TRACK_BOX_CM[3])
    trail.append((robot.x, robot.y))
    deviations, swept, prev = [], 0.0, None
    for ax, ay in trail:
        x_cm, y_cm = ax, height_cm - ay
        deviations.append(distance_to_track(x_cm, y_cm))
        angle = math.atan2(y_cm - cy, x_cm - cx)
        if prev is not None:
            swept += (angle - prev + math.pi) % (2 * math.pi) - math.pi
        prev = angle
    path_cm = sum(math.dist(a, b) for a, b in zip(trail, trail[1:]))
    notes = (
        "aitk.robots 2.0.0; 1 aitk unit = 1 cm (y mirrored, headings unchanged), "
        f"world 200x150; step {TIME_STEP_S} s; {stats['iterations']} control iterations, "
        f"each reading both sensors ({sensor_note}); at least one sensor on the line in "
        f"{stats['sees_line'] / max(1, stats['iterations']):.1%} of iterations; "
        f"laps {abs(swept) / (2 * math.pi):.2f} (counterclockwise={swept > 0}); "
        f"path {path_cm:.0f} cm; mean/max distance of robot centre from the line's "
        f"centreline {sum(deviations) / len(deviations):.2f}/{max(deviations):.2f} cm; "
        "collision box 12x12 cm (aitk has no round bodies); no range sensor attached"
    )
    return {"sim": sim, "wall": wall, "notes": notes}


# --- crowd scenario --------------------------------------------------------------
def square_corners(index: int) -> list[tuple[float, float]]:
    """Corners of robot `index`'s square in RobotLab cm, counterclockwise."""
    width_cm, height_cm = CROWD_ARENA_CM
    cell_w, cell_h = width_cm / CROWD_COLUMNS, height_cm / CROWD_ROWS
    col, row = index % CROWD_COLUMNS, index // CROWD_COLUMNS
    x0 = col * cell_w + 0.5 * (cell_w - SQUARE_SIDE_CM)
    y0 = row * cell_h + 0.5 * (cell_h - SQUARE_SIDE_CM)
    s = SQUARE_SIDE_CM
    return [(x0, y0), (x0 + s, y0), (x0 + s, y0 + s), (x0, y0 + s)]


def make_square_driver(corners_aitk: list[tuple[float, float]], stats: dict):
    """Controller driving the square corner to corner: drive, turn left, repeat.

    aitk has only velocity commands (no "forward 30 cm" / "turn 90"), so each
    leg is a short state machine on the true pose that reproduces RobotLab's
    encoder moves: cruise, then brake at the acceleration limit so the robot
    stops on the corner, then turn in place to the next side's heading. Goals
    are absolute corners and headings so small errors never accumulate.
    """
    state = {"leg": 0, "turning": False, "last": None}
    max_turn = 2.0 * TURN_WHEEL_CM_S / AXLE_TRACK_CM          # rad/s
    turn_accel = 2.0 * ACCEL_CM_S2 / AXLE_TRACK_CM             # rad/s^2

    def drive(bot: Robot) -> None:
        here = (bot.x, bot.y)
        if state["last"] is not None:
            stats["distance_cm"] += math.dist(state["last"], here)
        state["last"] = here
        stats["stalled_steps"] += bot.stalled
        heading = -bot.a          # aitk stores a = -heading (radians, mod 2 pi)
        leg = state["leg"]
        goal = corners_aitk[(leg + 1) % 4]
        if state["turning"]:
            # Side k of a counterclockwise square points at heading k * 90 deg.
            target = (leg % 4) * (math.pi / 2)
            err = (target - heading + math.pi) % (2 * math.pi) - math.pi
            if abs(err) < ALIGNED_RAD:
                state["turning"] = False
                set_wheel_speeds(bot, 0.0, 0.0)
                return
            omega = math.copysign(min(max_turn, math.sqrt(2 * turn_accel * abs(err))), err)
            wheel = omega * AXLE_TRACK_CM / 2.0
            set_wheel_speeds(bot, -wheel, wheel)
            return
        dx, dy = goal[0] - bot.x, -(goal[1] - bot.y)   # y up for the maths
        remaining = dx * math.cos(heading) + dy * math.sin(heading)
        if remaining < ARRIVED_CM:
            state["leg"] = leg + 1
            state["turning"] = True
            stats["legs"] += 1
            set_wheel_speeds(bot, 0.0, 0.0)
            return
        speed = min(CRUISE_CM_S, math.sqrt(2 * ACCEL_CM_S2 * remaining))
        # Small heading correction towards the corner keeps the sides straight.
        bearing = math.atan2(dy, dx)
        steer = (bearing - heading + math.pi) % (2 * math.pi) - math.pi
        diff = max(-2.0, min(2.0, 20.0 * steer))                # cm/s wheel difference
        set_wheel_speeds(bot, speed - diff, speed + diff)

    return drive


def run_crowd(sim_seconds: float) -> dict:
    width_cm, height_cm = CROWD_ARENA_CM
    world = new_world(width_cm, height_cm)
    stats = {"distance_cm": 0.0, "stalled_steps": 0, "legs": 0}
    controllers, corner_sets = [], []
    for i in range(CROWD_COLUMNS * CROWD_ROWS):
        corners = [to_aitk(x, y, height_cm) for x, y in square_corners(i)]
        corner_sets.append(corners)
        robot = make_robot(corners[0][0], corners[0][1], 0.0, f"robot-{i}")
        world.add_robot(robot)
        controllers.append(make_square_driver(corners, stats))

    sim, wall = run_timed(world, sim_seconds, controllers)

    # Behaviour check: every robot should still be on its own square.
    off_square = 0.0
    for robot, corners in zip(world.robots, corner_sets):
        xs = [c[0] for c in corners]
        ys = [c[1] for c in corners]
        dx = max(min(xs) - robot.x, 0.0, robot.x - max(xs))
        dy = max(min(ys) - robot.y, 0.0, robot.y - max(ys))
        inside = min(robot.x - min(xs), max(xs) - robot.x, robot.y - min(ys), max(ys) - robot.y)
        off_square = max(off_square, math.hypot(dx, dy) if dx or dy else inside)
    notes = (
        f"aitk.robots 2.0.0; 1 aitk unit = 1 cm, world 300x300, no ground image; step "
        f"{TIME_STEP_S} s; {len(controllers)} robots, one controller call each per step "
        "(velocity state machine on the true pose, since aitk has no distance/angle moves); "
        f"total distance {stats['distance_cm']:.0f} cm "
        f"({stats['distance_cm'] / len(controllers):.0f} cm per robot); "
        f"square sides completed {stats['legs']}; stalled robot-steps {stats['stalled_steps']}; "
        f"max distance of a robot from its square path {off_square:.2f} cm; "
        "no sensors attached; collision box 12x12 cm against every wall and robot box (O(n^2))"
    )
    return {"sim": sim, "wall": wall, "notes": notes}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("line", "crowd"), required=True)
    parser.add_argument("--sim-seconds", type=float, default=60.0)
    parser.add_argument("--ground-sensor", choices=("camera", "point"), default="camera",
                        help="line scenario: read the floor through aitk's GroundCamera "
                             "device (default) or as single pixels via the world")
    args = parser.parse_args(argv)

    # aitk prints status messages of its own; keep stdout for the JSON line.
    with contextlib.redirect_stdout(sys.stderr):
        if args.scenario == "line":
            result = run_line(args.sim_seconds, args.ground_sensor)
        else:
            result = run_crowd(args.sim_seconds)
    wall = result["wall"]
    print(json.dumps({
        "scenario": args.scenario,
        "sim_seconds": round(result["sim"], 6),
        "wall_seconds": round(wall, 6),
        "sim_per_wall": round(result["sim"] / wall, 3) if wall > 0 else None,
        "notes": result["notes"],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

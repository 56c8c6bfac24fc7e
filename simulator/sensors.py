"""Sensor readings computed from the world, with the profile's noise.

Each function reads one sensor of one robot at the world's current time.
"""

from __future__ import annotations

import math

from .body import SimRobot
from .colours import classify
from .geometry import ray_circle, ray_segment


def distance_cm(world, robot: SimRobot, noisy: bool = True) -> float:
    """Front distance sensor: range to the nearest wall or robot, clamped to its range.

    ``noisy=False`` gives the true range without drawing noise (for views, which
    must not change the robot's random sequence).
    """
    p = robot.profile
    ox, oy = robot.to_world(p.distance_sensor.x_cm, p.distance_sensor.y_cm)
    ux, uy = math.cos(robot.theta), math.sin(robot.theta)
    nearest = p.distance_max_cm
    for wall in world.arena.walls:
        t = ray_segment(ox, oy, ux, uy, wall)
        if t is not None and t < nearest:
            nearest = t
    for other in world.robots:
        if other is not robot:
            t = ray_circle(ox, oy, ux, uy, other.x, other.y, other.profile.radius_cm)
            if t is not None and t < nearest:
                nearest = t
    if nearest >= p.distance_max_cm:
        return p.distance_max_cm
    if not noisy:
        return max(p.distance_min_cm, nearest)
    n = p.noise
    nearest += robot.gauss(n.distance_sd_cm + n.distance_sd_fraction * nearest)
    return min(p.distance_max_cm, max(p.distance_min_cm, nearest))


def reflection(world, robot: SimRobot, noisy: bool = True) -> tuple[float, float]:
    """Reflected light under the left and right line sensors, 0-100 %."""
    p = robot.profile
    sd = p.noise.reflection_sd_percent if noisy else 0.0
    values = []
    for point in (p.line_left, p.line_right):
        x, y = robot.to_world(point.x_cm, point.y_cm)
        value = world.arena.reflection_at(x, y) + robot.gauss(sd)
        values.append(min(100.0, max(0.0, value)))
    return values[0], values[1]


def line(world, robot: SimRobot) -> tuple[bool, bool]:
    """Whether each line sensor sees a dark line (reflection below the threshold)."""
    left, right = reflection(world, robot)
    threshold = robot.profile.line_threshold_percent
    return left < threshold, right < threshold


def colour(world, robot: SimRobot) -> str:
    x, y = robot.to_world(robot.profile.colour_sensor.x_cm, robot.profile.colour_sensor.y_cm)
    return classify(world.arena.rgb_at(x, y))


def bumped(robot: SimRobot) -> bool:
    """The front bumper is pressed (touching something ahead)."""
    angle = robot.touching
    return angle is not None and abs(angle) <= robot.profile.bumper_half_angle_deg


def heading_deg(robot: SimRobot, noisy: bool = True) -> float:
    """Gyro heading since start: counterclockwise positive, with drift and noise."""
    n = robot.profile.noise
    drifted = robot.heading_deg + robot.gyro_drift_deg_s * robot.clock_s
    return drifted + robot.gauss(n.heading_sd_deg) if noisy else drifted


def odometer_cm(robot: SimRobot) -> float:
    """Forward distance counted by the wheel encoders (backward counts negative)."""
    return 0.5 * (robot.encoders_cm[0] + robot.encoders_cm[1])

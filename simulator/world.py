"""The simulated world: an arena, robots in it, and a virtual clock.

Time only moves when ``advance`` is called. Whoever drives the world decides
how virtual time relates to wall time (see ``simulator.clock``).
"""

from __future__ import annotations

import math

from .arena import Arena, Pose, load_arena
from .body import SimRobot
from .geometry import closest_point_segment, distance_point_segment
from .profile import RobotProfile, load_profile

#: Robots are advanced together in slices of at most this length, so that they
#: see each other move (one telemetry period of the default robot).
LOCKSTEP_S = 0.05
#: A robot this close to an obstacle (cm) counts as touching it.
CONTACT_MARGIN_CM = 0.2

ROBOT_COLOURS = [(40, 90, 200), (210, 60, 50), (30, 150, 70), (230, 150, 20),
                 (140, 60, 180), (20, 160, 170), (120, 120, 120), (200, 80, 150)]


class World:
    """An arena with robots and a virtual clock (seconds)."""

    def __init__(self, arena: Arena | str = "tom"):
        self.arena = load_arena(arena) if isinstance(arena, str) else arena
        self.robots: list[SimRobot] = []
        self.time_s = 0.0
        self.version = 0          # bumped on every change, for views that redraw

    def add_robot(self, profile: RobotProfile | str = "classroom", pose: Pose | None = None, *,
                  noise: bool = True, seed: int = 0, name: str | None = None) -> SimRobot:
        if isinstance(profile, str):
            profile = load_profile(profile)
        index = len(self.robots)
        if pose is None:
            pose = self.free_start(profile.radius_cm)
        robot = SimRobot(profile, pose, noise=noise, seed=seed,
                         name=name or f"robot{index + 1}",
                         colour=ROBOT_COLOURS[index % len(ROBOT_COLOURS)])
        self.robots.append(robot)
        self.version += 1
        return robot

    def free_start(self, radius_cm: float) -> Pose:
        """The arena's start pose, or the nearest free spot beside it (same heading).

        Robots that join a world stand side by side, 1.25 robot widths apart,
        first to the right of the start, then to the left, and so on.
        """
        start = self.arena.start
        heading = math.radians(start.heading_deg)
        # Perpendicular to the heading: to the robot's right.
        rx, ry = math.sin(heading), -math.cos(heading)
        step = 2.5 * radius_cm
        for k in range(0, 41):
            offset = step * ((k + 1) // 2) * (1 if k % 2 else -1) if k else 0.0
            x, y = start.x_cm + rx * offset, start.y_cm + ry * offset
            if self._free(x, y, radius_cm):
                return Pose(x, y, start.heading_deg)
        return start

    def _free(self, x: float, y: float, radius_cm: float) -> bool:
        if not (radius_cm <= x <= self.arena.width_cm - radius_cm and
                radius_cm <= y <= self.arena.height_cm - radius_cm):
            return False
        if any(distance_point_segment(x, y, wall) < radius_cm for wall in self.arena.walls):
            return False
        return all(math.hypot(x - other.x, y - other.y) >= radius_cm + other.profile.radius_cm
                   for other in self.robots)

    def advance(self, dt: float) -> None:
        """Run the world for dt seconds of virtual time."""
        if dt <= 0:
            return
        if len(self.robots) == 1:
            self.robots[0].advance(dt, self)
        else:
            remaining = dt
            while remaining > 1e-12:
                h = min(remaining, LOCKSTEP_S)
                for robot in self.robots:
                    robot.advance(h, self)
                remaining -= h
        self.time_s += dt
        self.version += 1

    def reset(self) -> None:
        for robot in self.robots:
            robot.reset()
        self.time_s = 0.0
        self.version += 1

    # -- contacts ----------------------------------------------------------
    def overlaps(self, robot: SimRobot, x: float, y: float) -> bool:
        r = robot.profile.radius_cm
        for wall in self.arena.walls:
            if distance_point_segment(x, y, wall) < r:
                return True
        for other in self.robots:
            # The cheap distance test first; the robot itself (distance 0) fails the identity test.
            dx, dy = x - other.x, y - other.y
            rr = r + other.profile.radius_cm
            if dx * dx + dy * dy < rr * rr and other is not robot:
                return True
        return False

    def touches(self, robot: SimRobot, x: float, y: float) -> bool:
        return self._nearest_contact(robot, x, y) is not None

    def _nearest_contact(self, robot: SimRobot, x: float, y: float):
        """The closest obstacle point within the contact margin, or None."""
        reach = robot.profile.radius_cm + CONTACT_MARGIN_CM
        best, best_d = None, reach
        for wall in self.arena.walls:
            d = distance_point_segment(x, y, wall)
            if d <= best_d:
                best, best_d = closest_point_segment(x, y, wall), d
        for other in self.robots:
            if other is not robot:
                d = math.hypot(x - other.x, y - other.y) - other.profile.radius_cm
                if d <= best_d:
                    best, best_d = (other.x, other.y), d
        return best

    def contact_angle(self, robot: SimRobot, x: float, y: float) -> float | None:
        """Direction of the contact relative to the robot's heading (degrees)."""
        point = self._nearest_contact(robot, x, y)
        if point is None:
            return None
        angle = math.degrees(math.atan2(point[1] - y, point[0] - x) - robot.theta)
        return (angle + 180.0) % 360.0 - 180.0

"""One simulated robot: its pose, wheels, motion plan, noise and sensors.

The robot's own controller is open-loop on its wheel encoders, like a cheap
real robot: ``forward(20)`` turns the wheels for 20 cm of *nominal* wheel
surface. With noise on, the true wheels differ slightly from the nominal ones
and slip a little, so the robot drifts the way real ones do.
"""

from __future__ import annotations

import math
import random
from collections import deque

from . import motion
from .arena import Pose
from .geometry import arc_pose as _arc
from .profile import RobotProfile

#: Largest distance a robot moves between two collision checks, as a fraction
#: of its radius; below 1 a thin wall can never be jumped over.
COLLISION_STEP_FRACTION = 0.5
#: Longest step while the wheels change their speed ratio (the path is then not an arc).
INEXACT_STEP_S = 0.025
TRAIL_MIN_STEP_CM = 0.5
TRAIL_MAX_POINTS = 20000


class SimRobot:
    """The physical robot in the world. Units: cm, degrees, seconds."""

    def __init__(self, profile: RobotProfile, pose: Pose, *, noise: bool = True,
                 seed: int = 0, name: str = "robot", colour: tuple = (40, 90, 200)):
        self.profile = profile
        self.name = name
        self.colour = colour
        self.noise_on = noise
        self.seed = seed
        self.start_pose = pose
        # The robot's own build errors are drawn once: the same robot keeps them.
        self.rng = random.Random(seed)
        p, n = profile, profile.noise
        if noise:
            self.wheel_scale = (self.rng.gauss(1.0, n.wheel_mismatch_sd),
                                self.rng.gauss(1.0, n.wheel_mismatch_sd))
            self.track_cm = p.axle_track_cm * self.rng.gauss(1.0, n.track_mismatch_sd)
            self.gyro_drift_deg_s = self.rng.gauss(0.0, n.heading_drift_deg_per_min / 60.0)
        else:
            self.wheel_scale = (1.0, 1.0)
            self.track_cm = p.axle_track_cm
            self.gyro_drift_deg_s = 0.0
        self.reset(pose)

    # -- state -------------------------------------------------------------
    def reset(self, pose: Pose | None = None) -> None:
        """Back to the start pose with counters cleared; the noise stream goes on,
        so repeated trials differ the way they do on a real robot."""
        pose = pose or self.start_pose
        self.x, self.y = pose.x_cm, pose.y_cm
        self.theta = math.radians(pose.heading_deg)
        self.theta0 = self.theta
        self.slip = (1.0, 1.0)
        self.plan: deque[motion.Phase] = deque([motion.hold(0.0, 0.0)])
        self.phase_time = 0.0
        self.move_remaining_s = 0.0
        self.encoders_cm = [0.0, 0.0]
        self.clock_s = 0.0
        self.touching = None          # (angle of contact relative to heading) or None
        self.collisions = 0
        self.led_rgb = (0, 0, 0)
        self.beeps: list[tuple[float, float, float]] = []
        self.trail: list[tuple[float, float]] = [(self.x, self.y)]

    @property
    def heading_deg(self) -> float:
        """True heading in degrees since the start, counterclockwise positive."""
        return math.degrees(self.theta - self.theta0)

    @property
    def wheel_speeds(self) -> tuple[float, float]:
        return self.plan[0].speeds_at(self.phase_time)

    @property
    def moving(self) -> bool:
        vl, vr = self.wheel_speeds
        return abs(vl) > 1e-9 or abs(vr) > 1e-9 or len(self.plan) > 1

    # -- commands ----------------------------------------------------------
    def _set_plan(self, plan: list[motion.Phase], finite_move: bool) -> None:
        self.plan = deque(plan)
        self.phase_time = 0.0
        self.move_remaining_s = sum(ph.duration_s for ph in plan[:-1]) if finite_move else 0.0
        if self.noise_on:
            sd = self.profile.noise.slip_sd
            self.slip = (self.rng.gauss(1.0, sd), self.rng.gauss(1.0, sd))

    def move_distance(self, left_sign: float, right_sign: float, distance_cm: float,
                      speed_cm_s: float) -> float:
        """Start a move where each wheel travels distance_cm; returns its duration (s)."""
        plan = motion.distance_plan(left_sign, right_sign, distance_cm, self.wheel_speeds,
                                    speed_cm_s, self.profile.acceleration_cm_s2)
        self._set_plan(plan, finite_move=True)
        return self.move_remaining_s

    def straight(self, distance_cm: float, speed_cm_s: float) -> float:
        sign = 1.0 if distance_cm >= 0 else -1.0
        return self.move_distance(sign, sign, abs(distance_cm), speed_cm_s)

    def turn(self, degrees: float, speed_cm_s: float) -> float:
        """Turn in place, counterclockwise for positive degrees (by the encoders)."""
        arc = math.radians(abs(degrees)) * self.profile.axle_track_cm / 2.0
        sign = 1.0 if degrees >= 0 else -1.0
        return self.move_distance(-sign, sign, arc, speed_cm_s)

    def set_wheel_speeds(self, left_cm_s: float, right_cm_s: float) -> None:
        plan = motion.speed_plan((left_cm_s, right_cm_s), self.wheel_speeds,
                                 self.profile.acceleration_cm_s2)
        self._set_plan(plan, finite_move=False)

    def brake(self) -> float:
        """Brake both wheels to rest at the normal deceleration; returns the time (s)."""
        plan = motion.speed_plan((0.0, 0.0), self.wheel_speeds, self.profile.acceleration_cm_s2)
        self._set_plan(plan, finite_move=True)
        return self.move_remaining_s

    def halt(self) -> None:
        """Motors off at once (emergency stop: interrupt, error, lost link)."""
        self._set_plan([motion.hold(0.0, 0.0)], finite_move=False)

    # -- physics -----------------------------------------------------------
    def advance(self, dt: float, world) -> None:
        """Move along the plan for dt seconds, stopping at obstacles."""
        remaining = dt
        while remaining > 1e-12:
            phase = self.plan[0]
            h = min(remaining, phase.duration_s - self.phase_time)
            if not phase.exact:
                h = min(h, INEXACT_STEP_S)
            enc_l, enc_r = phase.travel(self.phase_time, self.phase_time + h)
            self._roll(enc_l, enc_r, world)
            self.phase_time += h
            remaining -= h
            self.clock_s += h
            if self.move_remaining_s > 0:
                self.move_remaining_s = max(0.0, self.move_remaining_s - h)
            if self.phase_time >= phase.duration_s - 1e-12 and len(self.plan) > 1:
                self.plan.popleft()
                self.phase_time = 0.0
                if len(self.plan) == 1:
                    self.move_remaining_s = 0.0
        self._record_trail()

    def _roll(self, enc_l: float, enc_r: float, world) -> None:
        self.encoders_cm[0] += enc_l
        self.encoders_cm[1] += enc_r
        true_l = enc_l * self.wheel_scale[0] * self.slip[0]
        true_r = enc_r * self.wheel_scale[1] * self.slip[1]
        if true_l == 0.0 and true_r == 0.0:
            return
        limit = COLLISION_STEP_FRACTION * self.profile.radius_cm
        pieces = max(1, math.ceil(max(abs(true_l), abs(true_r)) / limit))
        step_l, step_r = true_l / pieces, true_r / pieces
        for _ in range(pieces):
            if not self._try_arc(step_l, step_r, world):
                break

    def _try_arc(self, left: float, right: float, world) -> bool:
        """Move along one short arc; on contact stop at the obstacle. True if free."""
        x, y, theta = _arc(self.x, self.y, self.theta, left, right, self.track_cm)
        if not world.overlaps(self, x, y):
            self.x, self.y, self.theta = x, y, theta
            if self.touching is not None and not world.touches(self, x, y):
                self.touching = None
            return True
        # Bisect for the last free point along the arc; the wheels slip beyond it.
        lo, hi = 0.0, 1.0
        for _ in range(12):
            mid = 0.5 * (lo + hi)
            mx, my, _t = _arc(self.x, self.y, self.theta, left * mid, right * mid, self.track_cm)
            if world.overlaps(self, mx, my):
                hi = mid
            else:
                lo = mid
        self.x, self.y, self.theta = _arc(self.x, self.y, self.theta, left * lo, right * lo,
                                          self.track_cm)
        # Rotation is free for a round robot, so the heading still turns fully.
        self.theta = theta
        if self.touching is None:
            self.collisions += 1
        self.touching = world.contact_angle(self, self.x, self.y)
        return False

    def _record_trail(self) -> None:
        lx, ly = self.trail[-1]
        if (self.x - lx) ** 2 + (self.y - ly) ** 2 >= TRAIL_MIN_STEP_CM ** 2:
            self.trail.append((self.x, self.y))
            if len(self.trail) > TRAIL_MAX_POINTS:
                # Keep the shape of a long drive while bounding memory.
                self.trail = self.trail[::2]

    # -- helpers for sensors -----------------------------------------------
    def to_world(self, forward_cm: float, left_cm: float) -> tuple[float, float]:
        c, s = math.cos(self.theta), math.sin(self.theta)
        return self.x + forward_cm * c - left_cm * s, self.y + forward_cm * s + left_cm * c

    def gauss(self, sd: float) -> float:
        return self.rng.gauss(0.0, sd) if self.noise_on and sd > 0 else 0.0

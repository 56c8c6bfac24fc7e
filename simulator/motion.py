"""Wheel motion plans: piecewise constant acceleration, solved in closed form.

A plan is a list of phases. In each phase both wheels start at a known speed
and accelerate at a constant rate, so the distance each wheel travels is a
quadratic in time. When the two wheels keep a constant speed ratio (straight
moves, turns in place, any move that starts from rest) the robot follows an
exact circular arc and the simulator may take one large step; otherwise it
takes short steps (see ``Phase.exact``).

Speeds are encoder speeds in cm/s of nominal wheel surface; positive is forward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FOREVER = math.inf


@dataclass(frozen=True)
class Phase:
    duration_s: float
    left_speed_cm_s: float
    right_speed_cm_s: float
    left_accel_cm_s2: float = 0.0
    right_accel_cm_s2: float = 0.0

    @property
    def exact(self) -> bool:
        """True when the wheels keep one speed ratio, so the path is one arc."""
        cross = (self.left_speed_cm_s * self.right_accel_cm_s2
                 - self.right_speed_cm_s * self.left_accel_cm_s2)
        return abs(cross) < 1e-9

    def travel(self, start_s: float, end_s: float) -> tuple[float, float]:
        """Encoder distance (left, right) in cm between two times inside the phase."""
        def s(v0: float, a: float, t: float) -> float:
            return v0 * t + 0.5 * a * t * t
        return (s(self.left_speed_cm_s, self.left_accel_cm_s2, end_s)
                - s(self.left_speed_cm_s, self.left_accel_cm_s2, start_s),
                s(self.right_speed_cm_s, self.right_accel_cm_s2, end_s)
                - s(self.right_speed_cm_s, self.right_accel_cm_s2, start_s))

    def speeds_at(self, t: float) -> tuple[float, float]:
        return (self.left_speed_cm_s + self.left_accel_cm_s2 * t,
                self.right_speed_cm_s + self.right_accel_cm_s2 * t)


def hold(left_cm_s: float, right_cm_s: float) -> Phase:
    return Phase(FOREVER, left_cm_s, right_cm_s)


def scalar_profile(distance_cm: float, start_speed_cm_s: float, max_speed_cm_s: float,
                   accel_cm_s2: float) -> list[tuple[float, float, float]]:
    """Trapezoid (or triangle) speed profile covering exactly distance_cm.

    Returns (duration_s, start_speed, acceleration) triples that end at rest.
    """
    d, v0, vmax, a = distance_cm, max(0.0, start_speed_cm_s), max_speed_cm_s, accel_cm_s2
    if d <= 1e-12:
        return [(v0 / a, v0, -a)] if v0 > 0 else []
    if v0 * v0 / (2 * a) >= d:
        # Already too fast to stop with normal braking: brake harder, land exactly.
        brake = v0 * v0 / (2 * d)
        return [(v0 / brake, v0, -brake)]
    peak = min(vmax, math.sqrt(a * d + 0.5 * v0 * v0))
    peak = max(peak, v0) if v0 <= vmax else vmax
    phases = []
    if peak > v0:
        phases.append(((peak - v0) / a, v0, a))
        accel_dist = (peak * peak - v0 * v0) / (2 * a)
    elif peak < v0:
        phases.append(((v0 - peak) / a, v0, -a))
        accel_dist = (v0 * v0 - peak * peak) / (2 * a)
    else:
        accel_dist = 0.0
    brake_dist = peak * peak / (2 * a)
    cruise = d - accel_dist - brake_dist
    if cruise < -1e-9:
        # Started above the new top speed and too close: one harder brake.
        brake = v0 * v0 / (2 * d)
        return [(v0 / brake, v0, -brake)]
    if cruise > 1e-12:
        phases.append((cruise / peak, peak, 0.0))
    phases.append((peak / a, peak, -a))
    return phases


def distance_plan(left_sign: float, right_sign: float, distance_cm: float,
                  current: tuple[float, float], max_speed_cm_s: float,
                  accel_cm_s2: float) -> list[Phase]:
    """Both wheels travel distance_cm (each with its sign) and stop: moves and turns."""
    vl, vr = current
    # Carry on from the current speed only when it already points the same way.
    along = 0.5 * (vl * left_sign + vr * right_sign)
    start = along if along > 0 and vl * left_sign >= 0 and vr * right_sign >= 0 else 0.0
    plan = [Phase(t, v * left_sign, v * right_sign, a * left_sign, a * right_sign)
            for t, v, a in scalar_profile(distance_cm, start, max_speed_cm_s, accel_cm_s2)]
    plan.append(hold(0.0, 0.0))
    return plan


def speed_plan(target: tuple[float, float], current: tuple[float, float],
               accel_cm_s2: float) -> list[Phase]:
    """Ramp both wheels to target speeds, arriving together, then hold them."""
    (tl, tr), (vl, vr) = target, current
    ramp = max(abs(tl - vl), abs(tr - vr)) / accel_cm_s2
    plan = []
    if ramp > 1e-12:
        plan.append(Phase(ramp, vl, vr, (tl - vl) / ramp, (tr - vr) / ramp))
    plan.append(hold(tl, tr))
    return plan

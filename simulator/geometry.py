"""Plane geometry for the simulator, in arena cm (x right, y up).

Plain floats rather than NumPy: the simulator works on a handful of scalars
per step, where Python floats are several times faster than array calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float


def distance_point_segment(px: float, py: float, s: Segment) -> float:
    dx, dy = s.x2 - s.x1, s.y2 - s.y1
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return math.hypot(px - s.x1, py - s.y1)
    t = ((px - s.x1) * dx + (py - s.y1) * dy) / length2
    t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
    return math.hypot(px - (s.x1 + t * dx), py - (s.y1 + t * dy))


def closest_point_segment(px: float, py: float, s: Segment) -> tuple[float, float]:
    dx, dy = s.x2 - s.x1, s.y2 - s.y1
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return s.x1, s.y1
    t = ((px - s.x1) * dx + (py - s.y1) * dy) / length2
    t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
    return s.x1 + t * dx, s.y1 + t * dy


def ray_segment(ox: float, oy: float, ux: float, uy: float, s: Segment) -> float | None:
    """Distance along the unit ray (ox, oy) + t (ux, uy) to segment s, or None."""
    ex, ey = s.x2 - s.x1, s.y2 - s.y1
    denom = ux * ey - uy * ex
    if abs(denom) < 1e-12:
        return None
    wx, wy = s.x1 - ox, s.y1 - oy
    t = (wx * ey - wy * ex) / denom
    u = (wx * uy - wy * ux) / denom
    if t >= 0.0 and 0.0 <= u <= 1.0:
        return t
    return None


def ray_circle(ox: float, oy: float, ux: float, uy: float,
               cx: float, cy: float, r: float) -> float | None:
    """Distance along the unit ray to the first crossing of a circle, or None."""
    wx, wy = ox - cx, oy - cy
    b = wx * ux + wy * uy
    c = wx * wx + wy * wy - r * r
    disc = b * b - c
    if disc < 0.0:
        return None
    root = math.sqrt(disc)
    t = -b - root
    if t < 0.0:
        t = -b + root
    return t if t >= 0.0 else None


def arc_pose(x: float, y: float, theta: float, left_cm: float, right_cm: float,
             track_cm: float) -> tuple[float, float, float]:
    """Exact pose after the wheels travel left_cm and right_cm along a circular arc.

    theta is in radians, counterclockwise from the +x axis.
    """
    forward = 0.5 * (left_cm + right_cm)
    dtheta = (right_cm - left_cm) / track_cm
    if abs(dtheta) < 1e-9:
        return x + forward * math.cos(theta), y + forward * math.sin(theta), theta
    radius = forward / dtheta
    new_theta = theta + dtheta
    return (x + radius * (math.sin(new_theta) - math.sin(theta)),
            y - radius * (math.cos(new_theta) - math.cos(theta)),
            new_theta)

"""Robots stop at walls and never pass through them, at any speed."""

import math

from hypothesis import given, settings, strategies as st
import pytest

from simulator import Pose, World
from simulator.geometry import distance_point_segment


def crosses(ax, ay, bx, by, wall):
    """Whether the segment a-b properly crosses the wall segment."""
    def side(px, py, qx, qy, rx, ry):
        return (qx - px) * (ry - py) - (qy - py) * (rx - px)
    d1 = side(wall.x1, wall.y1, wall.x2, wall.y2, ax, ay)
    d2 = side(wall.x1, wall.y1, wall.x2, wall.y2, bx, by)
    d3 = side(ax, ay, bx, by, wall.x1, wall.y1)
    d4 = side(ax, ay, bx, by, wall.x2, wall.y2)
    return d1 * d2 < 0 and d3 * d4 < 0


@pytest.mark.parametrize("speed_cm_s", [0.5, 5, 15, 30, 300, 3000, 1e5])
def test_driving_into_the_wall_stops_at_the_wall(speed_cm_s):
    world = World("mur")
    robot = world.add_robot(noise=False)
    robot.set_wheel_speeds(speed_cm_s, speed_cm_s)
    ramp_s = speed_cm_s / robot.profile.acceleration_cm_s2
    world.advance(ramp_s + 400 / speed_cm_s + 1.0)
    radius = robot.profile.radius_cm
    assert 200 - radius - 0.01 <= robot.x <= 200 - radius
    assert robot.touching is not None and abs(robot.touching) < 1
    assert robot.collisions == 1


@pytest.mark.parametrize("heading", [10, 35, 60, 80, 135, -100])
def test_oblique_approach_stops_at_the_wall(heading):
    world = World("mur")
    robot = world.add_robot(pose=Pose(100, 50, heading), noise=False)
    robot.set_wheel_speeds(30, 30)
    world.advance(10)
    nearest = min(distance_point_segment(robot.x, robot.y, w) for w in world.arena.walls)
    assert nearest == pytest.approx(robot.profile.radius_cm, abs=0.01)
    assert robot.touching is not None


def test_backing_away_from_a_wall_is_free():
    world = World("mur")
    robot = world.add_robot(noise=False)
    robot.set_wheel_speeds(30, 30)
    world.advance(10)
    x_at_wall = robot.x
    world.advance(robot.straight(-20, 15))
    assert robot.x == pytest.approx(x_at_wall - 20, abs=1e-6)
    assert robot.touching is None


def test_robots_do_not_drive_through_each_other():
    world = World("tom")
    a = world.add_robot(pose=Pose(40, 75, 0), noise=False)
    b = world.add_robot(pose=Pose(160, 75, 180), noise=False)
    a.set_wheel_speeds(30, 30)
    b.set_wheel_speeds(30, 30)
    world.advance(10)
    assert math.hypot(a.x - b.x, a.y - b.y) >= a.profile.radius_cm + b.profile.radius_cm - 1e-6
    assert a.x < b.x


@settings(max_examples=60, deadline=None)
@given(x=st.floats(10, 190), y=st.floats(10, 140), heading=st.floats(-180, 180),
       left=st.floats(-2000, 2000), right=st.floats(-2000, 2000), step=st.floats(0.001, 0.5))
def test_no_tunnelling_through_maze_walls_at_any_speed(x, y, heading, left, right, step):
    world = World("labyrint")
    robot = world.add_robot(pose=Pose(x, y, heading), noise=False)
    radius = robot.profile.radius_cm
    if world.overlaps(robot, x, y):
        return  # an impossible start pose, inside a wall
    # Record the centre after every collision-checked piece of motion. Pieces
    # are at most half a radius long, so a chord between two of them can only
    # cross a wall if the robot really went through it (going around a wall's
    # end keeps the centre a radius away from it).
    path = [(robot.x, robot.y)]
    try_arc = robot._try_arc

    def recording(*args):
        free = try_arc(*args)
        path.append((robot.x, robot.y))
        return free

    robot._try_arc = recording
    robot.set_wheel_speeds(left, right)
    for _ in range(40):
        world.advance(step)
        for wall in world.arena.walls:
            assert distance_point_segment(robot.x, robot.y, wall) >= radius - 1e-6
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        assert math.hypot(bx - ax, by - ay) <= radius / 2 + 1e-9
        for wall in world.arena.walls:
            assert not crosses(ax, ay, bx, by, wall)

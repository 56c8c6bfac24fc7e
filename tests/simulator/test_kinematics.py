"""Differential-drive motion against closed form, with noise off."""

import math

import pytest

from simulator import Pose, World

START = Pose(50.0, 75.0, 0.0)


def perfect_robot(arena="tom", pose=START):
    world = World(arena)
    return world, world.add_robot(pose=pose, noise=False)


@pytest.mark.parametrize("speed_cm_s", [3.0, 15.0, 30.0])
def test_four_sides_and_four_quarter_turns_close_the_square(speed_cm_s):
    world, robot = perfect_robot()
    for _ in range(4):
        world.advance(robot.straight(20, speed_cm_s))
        world.advance(robot.turn(90, speed_cm_s))
    assert math.hypot(robot.x - START.x_cm, robot.y - START.y_cm) < 1.0
    assert robot.heading_deg == pytest.approx(360.0, abs=0.01)


def test_square_corners_are_where_geometry_puts_them():
    world, robot = perfect_robot()
    corners = []
    for _ in range(4):
        world.advance(robot.straight(20, 15))
        corners.append((robot.x, robot.y))
        world.advance(robot.turn(90, 15))
    expected = [(70, 75), (70, 95), (50, 95), (50, 75)]
    for (x, y), (ex, ey) in zip(corners, expected):
        assert x == pytest.approx(ex, abs=1e-6) and y == pytest.approx(ey, abs=1e-6)


def test_straight_move_duration_follows_the_trapezoid_profile():
    world, robot = perfect_robot()
    a = robot.profile.acceleration_cm_s2
    duration = robot.straight(20, 15)
    assert duration == pytest.approx(20 / 15 + 15 / a)
    world.advance(duration)
    assert not robot.moving
    assert robot.x == pytest.approx(70.0, abs=1e-9)


def test_acceleration_is_limited():
    world, robot = perfect_robot()
    a = robot.profile.acceleration_cm_s2
    robot.straight(100, 30)
    world.advance(0.1)
    assert robot.x - START.x_cm == pytest.approx(0.5 * a * 0.1 ** 2, rel=1e-9)
    assert robot.wheel_speeds[0] == pytest.approx(a * 0.1)


def test_short_move_never_reaches_top_speed_but_lands_exactly():
    world, robot = perfect_robot()
    world.advance(robot.straight(1.0, 30))
    assert robot.x == pytest.approx(51.0, abs=1e-9)


@pytest.mark.parametrize("left,right", [(9.0, 18.0), (20.0, 5.0), (-10.0, 15.0)])
def test_arc_matches_its_analytic_radius(left, right):
    world, robot = perfect_robot()
    track = robot.profile.axle_track_cm
    radius = track / 2 * (right + left) / (right - left)
    # The centre of the circle lies to the robot's left at the signed radius.
    cx, cy = START.x_cm, START.y_cm + radius
    robot.set_wheel_speeds(left, right)
    for _ in range(60):
        world.advance(0.05)
        assert math.hypot(robot.x - cx, robot.y - cy) == pytest.approx(abs(radius), abs=1e-6)
    rate = (right - left) / track
    world2, robot2 = perfect_robot()
    robot2.set_wheel_speeds(left, right)
    world2.advance(10.0)
    ramp = max(abs(left), abs(right)) / robot.profile.acceleration_cm_s2
    expected = math.degrees(rate * (10.0 - ramp / 2))
    assert robot2.heading_deg == pytest.approx(expected, rel=1e-6)


def test_turning_in_place_does_not_move_the_centre():
    world, robot = perfect_robot()
    world.advance(robot.turn(-270, 20))
    assert (robot.x, robot.y) == pytest.approx((START.x_cm, START.y_cm), abs=1e-9)
    assert robot.heading_deg == pytest.approx(-270.0, abs=1e-6)


def test_one_big_step_equals_many_small_ones():
    world_a, a = perfect_robot()
    world_b, b = perfect_robot()
    for robot in (a, b):
        robot.set_wheel_speeds(10, 14)
    world_a.advance(4.0)
    for _ in range(400):
        world_b.advance(0.01)
    assert (a.x, a.y, a.theta) == pytest.approx((b.x, b.y, b.theta), abs=1e-6)


def test_noise_makes_the_square_drift_but_only_a_little():
    world = World("tom")
    robot = world.add_robot(pose=START, noise=True, seed=5)
    for _ in range(4):
        world.advance(robot.straight(20, 15))
        world.advance(robot.turn(90, 15))
    gap = math.hypot(robot.x - START.x_cm, robot.y - START.y_cm)
    assert 0.05 < gap < 15
    assert robot.heading_deg != pytest.approx(360.0, abs=0.05)

"""Every sensor computed from the world, checked against geometry and the floor."""

import math

import pytest

from simulator import Arena, Pose, World, sensors
from simulator.geometry import Segment


def place(arena, pose, noise=False, seed=0):
    world = World(arena)
    return world, world.add_robot(pose=pose, noise=noise, seed=seed)


@pytest.mark.parametrize("pose,expected", [
    (Pose(30, 50, 0), 200 - 35.5),      # facing the far wall
    (Pose(30, 50, 90), 100 - 55.5),     # facing the top wall
    (Pose(30, 50, 180), 30 - 5.5),      # facing the near wall
    (Pose(100, 50, -90), 50 - 5.5),     # facing the bottom wall
])
def test_distance_is_the_ray_to_the_wall(pose, expected):
    world, robot = place("mur", pose)
    assert sensors.distance_cm(world, robot) == pytest.approx(expected, abs=1e-9)


def test_distance_at_an_angle_follows_the_cosine():
    world, robot = place("mur", Pose(100, 50, 30))
    sx, sy = robot.to_world(robot.profile.distance_sensor.x_cm, 0)
    expected = (100 - sy) / math.sin(math.radians(30))
    assert sensors.distance_cm(world, robot) == pytest.approx(expected, abs=1e-9)


def test_distance_sees_other_robots():
    world = World("tom")
    a = world.add_robot(pose=Pose(50, 75, 0), noise=False)
    world.add_robot(pose=Pose(100, 75, 0), noise=False)
    assert sensors.distance_cm(world, a) == pytest.approx(100 - 6 - 55.5, abs=1e-9)


def test_distance_beyond_range_reports_the_maximum_and_close_reports_the_minimum():
    arena = Arena("far", 600, 100, walls=[Segment(0, 0, 600, 0), Segment(600, 0, 600, 100),
                                          Segment(600, 100, 0, 100), Segment(0, 100, 0, 0)],
                  start=Pose(20, 50, 0))
    world = World(arena)
    robot = world.add_robot(noise=False)
    assert sensors.distance_cm(world, robot) == robot.profile.distance_max_cm
    world2, robot2 = place("mur", Pose(200 - 6.0, 50, 0))
    assert sensors.distance_cm(world2, robot2) == robot2.profile.distance_min_cm


def test_distance_noise_is_small_and_centred():
    world, robot = place("mur", Pose(30, 50, 0), noise=True, seed=3)
    readings = [sensors.distance_cm(world, robot) for _ in range(400)]
    mean = sum(readings) / len(readings)
    spread = math.sqrt(sum((r - mean) ** 2 for r in readings) / len(readings))
    assert mean == pytest.approx(164.5, abs=0.5)
    assert 0.5 < spread < 5


def test_line_sensors_straddle_the_line_at_the_start():
    world, robot = place("linje", Pose(100, 30, 0))
    assert sensors.line(world, robot) == (False, False)
    left, right = sensors.reflection(world, robot)
    assert left == pytest.approx(right) and left > 90


@pytest.mark.parametrize("offset,expected", [(-1.2, (True, False)), (1.2, (False, True)),
                                             (0.0, (False, False)), (10.0, (False, False))])
def test_line_sensors_see_the_line_under_them(offset, expected):
    # Moving the robot up by 1.2 cm puts its right sensor over the line's centre.
    world, robot = place("linje", Pose(100, 30 + offset, 0))
    assert sensors.line(world, robot) == expected
    left, right = sensors.reflection(world, robot)
    dark = [value < 20 for value in (left, right)]
    assert tuple(dark) == expected


@pytest.mark.parametrize("x,colour", [(20, "white"), (55, "red"), (85, "green"), (115, "blue"),
                                      (145, "yellow"), (175, "black")])
def test_colour_under_the_sensor(x, colour):
    world, robot = place("farver", Pose(x - 2.0, 50, 0))
    assert sensors.colour(world, robot) == colour


def test_bumper_presses_on_the_wall_ahead_only():
    world, robot = place("mur", Pose(100, 50, 0))
    assert not sensors.bumped(robot)
    robot.set_wheel_speeds(30, 30)
    world.advance(10)
    assert sensors.bumped(robot)
    world.advance(robot.straight(-5, 10))
    assert not sensors.bumped(robot)
    world.advance(robot.turn(180, 10))
    robot.set_wheel_speeds(-20, -20)          # reverse into the wall: no bump in front
    world.advance(10)
    assert robot.touching is not None and not sensors.bumped(robot)


def test_heading_counts_left_turns_positive_and_right_turns_negative():
    world, robot = place("tom", Pose(100, 75, 0))
    world.advance(robot.turn(90, 15))
    assert sensors.heading_deg(robot) == pytest.approx(90, abs=1e-6)
    world.advance(robot.turn(-200, 15))
    assert sensors.heading_deg(robot) == pytest.approx(-110, abs=1e-6)


def test_gyro_drifts_slowly_with_noise_on():
    world, robot = place("tom", Pose(100, 75, 0), noise=True, seed=11)
    world.advance(600)
    assert robot.heading_deg == 0
    drift = sensors.heading_deg(robot)
    assert 0.001 < abs(drift) < 30


def test_odometer_counts_forward_and_back():
    world, robot = place("tom", Pose(50, 75, 0))
    world.advance(robot.straight(30, 15))
    world.advance(robot.straight(-10, 15))
    assert sensors.odometer_cm(robot) == pytest.approx(20, abs=1e-9)
    world.advance(robot.turn(90, 15))
    assert sensors.odometer_cm(robot) == pytest.approx(20, abs=1e-9)


def test_odometer_trusts_the_wheels_even_when_the_robot_is_stuck():
    world, robot = place("mur", Pose(150, 50, 0))
    world.advance(robot.straight(100, 15))
    assert sensors.odometer_cm(robot) == pytest.approx(100, abs=1e-9)
    assert robot.x == pytest.approx(194, abs=0.01)

"""Same seed, same trace; another seed, another robot."""

from simulator import World, sensors


def trace(seed: int, noise: bool = True):
    world = World("linje")
    robot = world.add_robot(noise=noise, seed=seed)
    rows = []
    for step in range(300):
        world.advance(0.05)
        left, right = sensors.line(world, robot)
        if left and not right:
            robot.set_wheel_speeds(5, 15)
        elif right and not left:
            robot.set_wheel_speeds(15, 5)
        else:
            robot.set_wheel_speeds(15, 15)
        rows.append((robot.x, robot.y, robot.theta, sensors.distance_cm(world, robot),
                     sensors.reflection(world, robot), sensors.heading_deg(robot)))
    world.advance(robot.straight(10, 20))
    world.advance(robot.turn(45, 20))
    rows.append((robot.x, robot.y, robot.theta))
    return rows


def test_same_seed_gives_the_same_trace():
    assert trace(42) == trace(42)


def test_another_seed_gives_another_trace():
    assert trace(42) != trace(43)


def test_noise_off_ignores_the_seed():
    assert trace(1, noise=False) == trace(2, noise=False)


def test_reset_keeps_the_robot_but_not_its_luck():
    world = World("tom")
    robot = world.add_robot(seed=9)
    ends = []
    for _ in range(3):
        robot.reset()
        world.advance(robot.straight(50, 20))
        ends.append((robot.x, robot.y))
    # Repeated trials spread a little, as on a real robot...
    assert len(set(ends)) == 3
    assert max(abs(a[0] - b[0]) for a in ends for b in ends) < 3
    # ...while the robot's build errors (its wheel sizes) stay the same.
    assert robot.wheel_scale == World("tom").add_robot(seed=9).wheel_scale

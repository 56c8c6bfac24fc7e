"""Robots joining a world stand beside each other, not on top of each other."""

import math

import pytest

from simulator import World


@pytest.mark.parametrize("arena", ["tom", "labyrint", "linje", "mur"])
def test_robots_that_join_a_world_get_free_places_beside_the_start(arena):
    world = World(arena)
    robots = [world.add_robot(noise=False) for _ in range(4)]
    start = world.arena.start
    assert (robots[0].x, robots[0].y) == (start.x_cm, start.y_cm)
    for i, a in enumerate(robots):
        assert math.degrees(a.theta) == pytest.approx(start.heading_deg)
        assert not world.overlaps(a, a.x, a.y)
        for b in robots[i + 1:]:
            assert math.hypot(a.x - b.x, a.y - b.y) >= a.profile.radius_cm * 2


def test_a_second_robot_can_drive_away_and_reset_returns_it_to_its_own_place():
    world = World("tom")
    first, second = world.add_robot(noise=False), world.add_robot(noise=False)
    place = (second.x, second.y)
    second.straight(30, 15)
    world.advance(5)
    assert math.hypot(second.x - place[0], second.y - place[1]) == pytest.approx(30, abs=1e-6)
    second.reset()
    assert (second.x, second.y) == place and (first.x, first.y) != place

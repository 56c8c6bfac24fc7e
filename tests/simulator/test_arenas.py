"""Arenas from files: the built-ins and a teacher's own PNG."""

import pytest

from simulator import ArenaFileError, World, builtin_arena_names, load_arena, sensors
from simulator.pg import pygame

BUILTIN = ["tom", "firkant", "linje", "labyrint", "mur", "farver"]


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_arena_loads_with_a_free_start(name):
    arena = load_arena(name)
    world = World(arena)
    robot = world.add_robot(noise=False)
    assert arena.width_cm > 0 and arena.height_cm > 0
    assert len(arena.walls) >= 4
    assert not world.overlaps(robot, robot.x, robot.y)


def test_english_names_are_aliases():
    names = builtin_arena_names()
    assert names["maze"] == "labyrint" and names["line"] == "linje" and names["wall"] == "mur"
    assert names["open"] == "tom" and names["square"] == "firkant"
    assert load_arena("maze").name == "labyrint"


def test_maze_has_a_goal_zone():
    zone = load_arena("labyrint").goal("mål")
    assert zone is not None and zone.contains(180, 130) and not zone.contains(20, 20)


def write_teacher_arena(folder, toml_extra=""):
    picture = pygame.Surface((300, 200))
    picture.fill((255, 255, 255))
    # A thick dark stripe from 40 % to 50 % of the width, drawn "by the teacher".
    pygame.draw.rect(picture, (10, 10, 10), pygame.Rect(120, 0, 30, 200))
    pygame.image.save(picture, str(folder / "min_bane.png"))
    (folder / "min_bane.toml").write_text(
        'size_cm = [150, 100]\nfloor = "min_bane.png"\n'
        'start = { x_cm = 20, y_cm = 50, heading_deg = 0 }\n'
        '[[walls]]\nfrom = [100, 0]\nto = [100, 60]\n' + toml_extra, encoding="utf-8")
    return folder / "min_bane.toml"


def test_a_teachers_own_png_is_scaled_to_the_arena(tmp_path):
    arena = load_arena(write_teacher_arena(tmp_path))
    assert arena.name == "min_bane"
    assert arena.reflection_at(65, 50) < 10       # the stripe spans 60-75 cm
    assert arena.reflection_at(50, 50) > 90
    world = World(arena)
    robot = world.add_robot(noise=False)
    world.advance(robot.straight(41, 15))          # line sensors at x = 61 + 4 = 65
    assert sensors.line(world, robot) == (True, True)
    robot.set_wheel_speeds(30, 30)
    world.advance(10)
    assert robot.x == pytest.approx(100 - robot.profile.radius_cm, abs=0.01)


def test_arena_without_a_floor_is_plain_paper(tmp_path):
    path = tmp_path / "blank.toml"
    path.write_text("size_cm = [80, 60]\n", encoding="utf-8")
    arena = load_arena(path)
    assert arena.start.x_cm == 40 and arena.reflection_at(10, 10) > 90


@pytest.mark.parametrize("text,reason", [
    ("floor = 'x.png'\n", "missing_field"),
    ("size_cm = [80, 60]\nfloor = 'missing.png'\n", "floor_unreadable"),
    ("size_cm = [80, 60\n", "bad_toml"),
    ("size_cm = [-5, 60]\n", "bad_number"),
    ("size_cm = [80, 60]\n[[walls]]\nfrom = [1]\n", "missing_field"),
])
def test_broken_arena_files_give_a_reason(tmp_path, text, reason):
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ArenaFileError) as info:
        load_arena(path)
    assert info.value.reason == reason


def test_unknown_arena_name():
    with pytest.raises(ArenaFileError) as info:
        load_arena("månen")
    assert info.value.reason == "unknown_arena"


@pytest.mark.parametrize("name", BUILTIN)
def test_every_goal_can_be_reached_from_the_start(name):
    """A path for the classroom robot (its body, not a point) from the start into each goal zone.

    Breadth-first search over robot centres on a 2 cm grid; a centre is free when the
    body touches no wall. (The maze once sealed its start in, and no test noticed.)
    """
    from collections import deque

    from simulator.geometry import distance_point_segment
    world = World(name)
    robot = world.add_robot(noise=False)
    arena, step = world.arena, 2.0
    start = (round(arena.start.x_cm / step), round(arena.start.y_cm / step))
    columns, rows = int(arena.width_cm / step), int(arena.height_cm / step)

    def free(cell):
        x, y = cell[0] * step, cell[1] * step
        return 0 <= cell[0] <= columns and 0 <= cell[1] <= rows and not any(
            distance_point_segment(x, y, wall) < robot.profile.radius_cm
            for wall in arena.walls)

    seen, queue = {start}, deque([start])
    while queue:
        x, y = queue.popleft()
        for cell in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if cell not in seen and free(cell):
                seen.add(cell)
                queue.append(cell)
    for goal in arena.goals:
        inside = [c for c in seen if goal.x_cm < c[0] * step < goal.x_cm + goal.width_cm
                  and goal.y_cm < c[1] * step < goal.y_cm + goal.height_cm]
        assert inside, f"{name}: the goal {goal.name} cannot be reached from the start"

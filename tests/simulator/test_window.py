"""The pedagogues' desktop window, driven with synthetic key presses (SDL dummy video)."""

import pytest

from simulator import World
from simulator.pg import pygame
from simulator.window import SimWindow


def press(key):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))


def release(key):
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0, unicode="", scancode=0))


@pytest.fixture
def window():
    win = SimWindow(World("tom"), title="test", width_px=400)
    yield win
    pygame.display.quit()


def test_up_arrow_drives_forward_and_r_resets(window):
    robot = window.robot
    start = (robot.x, robot.y)
    press(pygame.K_UP)
    for _ in range(30):
        window.step()
    assert robot.x > start[0] + 5 and abs(robot.y - start[1]) < 2
    release(pygame.K_UP)
    press(pygame.K_r)
    window.step()
    assert (robot.x, robot.y) == pytest.approx(start, abs=1e-9) and not robot.moving


def test_left_arrow_turns_in_place(window):
    robot = window.robot
    press(pygame.K_LEFT)
    for _ in range(30):
        window.step()
    assert robot.heading_deg > 20
    assert abs(robot.x - 50) < 1


def test_the_window_shows_the_arena(window):
    press(pygame.K_UP)
    window.step()
    surface = pygame.display.get_surface()
    assert surface.get_size() == (400, 300)
    # The robot's body colour appears near its position.
    x = round(window.robot.x * 400 / 200)
    y = round(300 - window.robot.y * 300 / 150)
    assert tuple(surface.get_at((x + 3, y + 3)))[:3] == window.robot.colour


def test_escape_closes(window):
    press(pygame.K_ESCAPE)
    window.run(max_frames=5)
    assert not window.running

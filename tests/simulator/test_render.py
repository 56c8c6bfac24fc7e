"""Offscreen rendering compared with saved reference images.

Regenerate the references after a deliberate change of the drawing with
ROBOTLAB_UPDATE_REFERENCE=1 and look at them before committing.
"""

import io
import os
from pathlib import Path

import numpy as np
import pytest

from simulator import Pose, World
from simulator.pg import pygame
from simulator.render import render, render_png

REFERENCE = Path(__file__).with_name("reference_images")
BUILTIN = ["tom", "firkant", "linje", "labyrint", "mur", "farver"]


def scripted_world(arena: str) -> World:
    """A fixed little drive with a trail and a lit LED; noise off."""
    world = World(arena)
    robot = world.add_robot(noise=False)
    for _ in range(3):
        world.advance(robot.straight(15, 20))
        world.advance(robot.turn(60, 20))
    robot.led_rgb = (255, 0, 0)
    if arena == "tom":
        other = world.add_robot(pose=Pose(150, 40, 135), noise=False)
        world.advance(other.straight(20, 20))
    return world


def pixels(surface) -> np.ndarray:
    width, height = surface.get_size()
    return np.frombuffer(pygame.image.tobytes(surface, "RGB"), np.uint8).reshape(height, width, 3)


def difference(a, b) -> tuple[float, float]:
    """(mean absolute difference 0-255, share of pixels differing by more than 40)."""
    if a.shape != b.shape:
        return 255.0, 1.0
    delta = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(delta.mean()), float((delta.max(axis=2) > 40).mean())


def similar(a, b) -> bool:
    mean, share = difference(a, b)
    return mean < 1.5 and share < 0.003


@pytest.mark.parametrize("arena", BUILTIN)
def test_rendering_matches_the_reference_image(arena):
    picture = pixels(render(scripted_world(arena), 600))
    path = REFERENCE / f"{arena}.png"
    if os.environ.get("ROBOTLAB_UPDATE_REFERENCE") == "1":
        REFERENCE.mkdir(exist_ok=True)
        pygame.image.save(render(scripted_world(arena), 600), str(path))
    reference = pixels(pygame.image.load(str(path)))
    assert similar(picture, reference), difference(picture, reference)


def test_the_comparison_notices_a_robot_in_another_place():
    world = scripted_world("tom")
    reference = pixels(pygame.image.load(str(REFERENCE / "tom.png")))
    world.robots[0].x += 10
    assert not similar(pixels(render(world, 600)), reference)


def test_trail_can_be_left_out():
    world = scripted_world("tom")
    with_trail, without = pixels(render(world, 600)), pixels(render(world, 600, trail=False))
    _, share = difference(with_trail, without)
    # 3 x 15 cm of 2-px trail on a 600 x 450 picture is about 0.1 % of the pixels.
    assert share > 0.0005


def test_png_bytes_are_a_real_png_of_the_requested_width():
    data = render_png(scripted_world("linje"), 300)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert pygame.image.load(io.BytesIO(data)).get_size() == (300, 225)

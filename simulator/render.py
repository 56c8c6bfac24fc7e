"""Offscreen drawing of a world with pygame-ce: arena, goals, trails and robots."""

from __future__ import annotations

import io
import math

from .pg import pygame

WALL_COLOUR = (60, 60, 70)
GOAL_COLOUR = (60, 190, 90)
LED_OFF = (70, 70, 70)

_floor_cache: dict = {}


def _scaled_floor(arena, size: tuple[int, int]) -> "pygame.Surface":
    key = (id(arena.floor), size)
    if key not in _floor_cache:
        if len(_floor_cache) > 16:
            _floor_cache.clear()
        _floor_cache[key] = pygame.transform.smoothscale(arena.floor.convert(24)
                                                        if arena.floor.get_bitsize() not in (24, 32)
                                                        else arena.floor, size)
    return _floor_cache[key]


def render(world, width_px: int = 600, trail: bool = True) -> "pygame.Surface":
    """Draw the world to a new surface ``width_px`` wide (height keeps the arena's shape)."""
    arena = world.arena
    scale = width_px / arena.width_cm
    height_px = max(1, round(arena.height_cm * scale))
    surface = pygame.Surface((width_px, height_px))
    surface.blit(_scaled_floor(arena, (width_px, height_px)), (0, 0))

    def to_px(x: float, y: float) -> tuple[float, float]:
        return x * scale, (arena.height_cm - y) * scale

    for zone in arena.goals:
        left, top = to_px(zone.x_cm, zone.y_cm + zone.height_cm)
        rect = pygame.Rect(round(left), round(top), round(zone.width_cm * scale),
                           round(zone.height_cm * scale))
        tint = pygame.Surface(rect.size, pygame.SRCALPHA)
        tint.fill((*GOAL_COLOUR, 70))
        surface.blit(tint, rect.topleft)
        pygame.draw.rect(surface, GOAL_COLOUR, rect, 2)

    wall_px = max(2, round(1.0 * scale))
    for wall in arena.walls:
        pygame.draw.line(surface, WALL_COLOUR, to_px(wall.x1, wall.y1), to_px(wall.x2, wall.y2),
                         wall_px)

    for robot in world.robots:
        if trail and len(robot.trail) > 1:
            points = [to_px(x, y) for x, y in robot.trail] + [to_px(robot.x, robot.y)]
            pygame.draw.lines(surface, robot.colour, False, points, max(2, round(0.4 * scale)))
    for robot in world.robots:
        cx, cy = to_px(robot.x, robot.y)
        radius = max(3, round(robot.profile.radius_cm * scale))
        pygame.draw.circle(surface, robot.colour, (cx, cy), radius)
        pygame.draw.circle(surface, (20, 20, 30), (cx, cy), radius, max(1, radius // 6))
        nose = (cx + math.cos(robot.theta) * radius, cy - math.sin(robot.theta) * radius)
        pygame.draw.line(surface, (255, 255, 255), (cx, cy), nose, max(2, radius // 4))
        led = robot.led_rgb if any(robot.led_rgb) else LED_OFF
        pygame.draw.circle(surface, led, (cx, cy), max(2, radius // 3))
    return surface


def png_bytes(surface: "pygame.Surface") -> bytes:
    buffer = io.BytesIO()
    pygame.image.save(surface, buffer, "world.png")
    return buffer.getvalue()


def render_png(world, width_px: int = 600, trail: bool = True) -> bytes:
    """The world as PNG bytes (for notebooks, grading feedback and exported HTML)."""
    return png_bytes(render(world, width_px, trail))

"""Draw the floor pictures of the built-in arenas (run once; the PNGs are committed).

A teacher's own arena needs none of this: any PNG drawn in a paint program works.
Usage: python scripts/draw_arenas.py
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

PX_PER_CM = 4
PAPER = (245, 245, 240)
INK = (25, 25, 30)
OUT = Path(__file__).resolve().parent.parent / "simulator" / "arenas"


def canvas(width_cm: int, height_cm: int) -> pygame.Surface:
    surface = pygame.Surface((width_cm * PX_PER_CM, height_cm * PX_PER_CM))
    surface.fill(PAPER)
    return surface


def px(surface: pygame.Surface, x_cm: float, y_cm: float) -> tuple[int, int]:
    return round(x_cm * PX_PER_CM), round(surface.get_height() - y_cm * PX_PER_CM)


def rounded_loop(surface, x0, y0, x1, y1, radius, width_cm, colour=INK):
    """A closed rounded-rectangle line through the given centre-line box (cm)."""
    rect = pygame.Rect(0, 0, round((x1 - x0) * PX_PER_CM), round((y1 - y0) * PX_PER_CM))
    rect.bottomleft = px(surface, x0, y0)
    pygame.draw.rect(surface, colour, rect.inflate(width_cm * PX_PER_CM, width_cm * PX_PER_CM),
                     round(width_cm * PX_PER_CM), border_radius=round((radius + width_cm / 2) * PX_PER_CM))


def main() -> None:
    pygame.init()
    pygame.image.save(canvas(200, 150), str(OUT / "tom.png"))

    square = canvas(150, 150)
    rounded_loop(square, 45, 45, 105, 105, 0, 2)
    pygame.image.save(square, str(OUT / "firkant.png"))

    track = canvas(200, 150)
    rounded_loop(track, 30, 30, 170, 120, 30, 2)
    pygame.image.save(track, str(OUT / "linje.png"))

    maze = canvas(200, 150)
    goal = pygame.Rect(0, 0, 40 * PX_PER_CM, 40 * PX_PER_CM)
    goal.bottomleft = px(maze, 160, 110)
    pygame.draw.rect(maze, (190, 235, 195), goal)
    pygame.image.save(maze, str(OUT / "labyrint.png"))

    wall = canvas(200, 100)
    stripe = pygame.Rect(0, 0, 10 * PX_PER_CM, 100 * PX_PER_CM)
    stripe.bottomleft = px(wall, 180, 0)
    pygame.draw.rect(wall, (235, 200, 200), stripe)
    pygame.image.save(wall, str(OUT / "mur.png"))

    colours = canvas(200, 100)
    for i, rgb in enumerate([(220, 30, 30), (40, 170, 60), (30, 80, 220), (245, 215, 30), INK]):
        patch = pygame.Rect(0, 0, 30 * PX_PER_CM, 100 * PX_PER_CM)
        patch.bottomleft = px(colours, 40 + i * 30, 0)
        pygame.draw.rect(colours, rgb, patch)
    pygame.image.save(colours, str(OUT / "farver.png"))


if __name__ == "__main__":
    main()

"""Naming the floor colour under the colour sensor.

Returns language-neutral ids; the pupil API translates them to Danish or
English names.
"""

from __future__ import annotations

import colorsys

COLOUR_IDS = ("black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple")

# Display values, used for LEDs and drawings.
COLOUR_RGB = {
    "black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128),
    "red": (220, 30, 30), "orange": (245, 140, 20), "yellow": (245, 215, 30),
    "green": (40, 170, 60), "blue": (30, 80, 220), "purple": (140, 50, 180),
}

# Upper hue bounds in degrees for saturated colours.
_HUES = ((15, "red"), (40, "orange"), (70, "yellow"), (170, "green"), (260, "blue"),
         (330, "purple"), (360, "red"))


def classify(rgb: tuple[int, int, int]) -> str:
    """The colour id a simple colour sensor would report for an RGB reading."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255.0 for c in rgb))
    if v < 0.25:
        return "black"
    if s < 0.25:
        return "white" if v > 0.7 else "grey" if v > 0.35 else "black"
    hue = h * 360.0
    for bound, name in _HUES:
        if hue < bound:
            return name
    return "red"

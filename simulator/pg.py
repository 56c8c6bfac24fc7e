"""Import pygame-ce quietly and headless-safe.

Every simulator module imports pygame from here so that the support prompt is
hidden and, where no display exists (servers, tests, grading), SDL uses its
dummy drivers instead of failing.
"""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402

__all__ = ["pygame"]

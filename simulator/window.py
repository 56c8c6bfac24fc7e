"""A desktop window for pedagogues: the arena on a projector, driven with the keyboard.

Arrow keys drive (up/down: forward/back, left/right: turn; together they
curve), R puts the robot back at the start, Esc or closing the window quits.
The world runs in real time at ``FPS`` frames per second.
"""

from __future__ import annotations

from .pg import pygame
from .render import render
from .world import World

FPS = 30
DRIVE_PERCENT = 60
TURN_PERCENT = 35


class SimWindow:
    """A window showing ``world``; the keyboard drives its first robot."""

    def __init__(self, world: World, title: str = "RobotLab", width_px: int = 900):
        if not world.robots:
            world.add_robot()
        self.world = world
        self.robot = world.robots[0]
        self.width_px = width_px
        pygame.display.init()
        height_px = round(world.arena.height_cm * width_px / world.arena.width_cm)
        self.screen = pygame.display.set_mode((width_px, height_px))
        pygame.display.set_caption(title)
        self.clock = pygame.time.Clock()
        self.running = True
        self._keys: set[int] = set()

    def wheel_percent(self) -> tuple[float, float]:
        """Wheel speeds (percent) for the arrow keys held down now."""
        forward = (pygame.K_UP in self._keys) - (pygame.K_DOWN in self._keys)
        turn = (pygame.K_LEFT in self._keys) - (pygame.K_RIGHT in self._keys)
        if forward:
            # Curve while driving: slow the inner wheel.
            left = DRIVE_PERCENT * forward * (1 - 0.6 * max(turn, 0))
            right = DRIVE_PERCENT * forward * (1 - 0.6 * max(-turn, 0))
            return left, right
        return -TURN_PERCENT * turn, TURN_PERCENT * turn

    def handle(self, event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_ESCAPE:
                self.running = False
            elif event.key == pygame.K_r:
                self._keys.clear()
                self.world.reset()
            else:
                self._keys.add(event.key)
        elif event.type == pygame.KEYUP:
            self._keys.discard(event.key)

    def step(self, dt: float = 1 / FPS) -> None:
        """Handle pending input, advance the world by dt seconds and redraw."""
        for event in pygame.event.get():
            self.handle(event)
        top = self.robot.profile.top_speed_cm_s / 100.0
        left, right = self.wheel_percent()
        target = (left * top, right * top)
        if self.robot.plan[-1].left_speed_cm_s != target[0] or \
                self.robot.plan[-1].right_speed_cm_s != target[1]:
            self.robot.set_wheel_speeds(*target)
        self.world.advance(dt)
        picture = render(self.world, self.width_px)
        self.screen.blit(picture, (0, 0))
        pygame.display.flip()

    def run(self, max_frames: int | None = None) -> None:
        """Run until the window is closed (or for max_frames frames)."""
        frames = 0
        while self.running and (max_frames is None or frames < max_frames):
            self.step()
            self.clock.tick(FPS)
            frames += 1
        pygame.display.quit()

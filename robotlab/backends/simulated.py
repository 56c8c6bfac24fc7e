"""The simulator backend: a robot in a ``simulator.World`` on virtual time."""

from __future__ import annotations

import math

from simulator import Pacer, World, load_profile, sensors

from .base import Backend, Motion

#: In a paced (real-time) world, time advances in frames of this length so a
#: live view sees smooth motion and an interrupt is noticed quickly.
FRAME_S = 1 / 30


class SimMotion(Motion):
    def __init__(self, body, generation: int):
        self._body, self._generation = body, generation

    @property
    def done(self) -> bool:
        body = self._body
        return body.command_generation != self._generation or body.move_remaining_s <= 0.0


class SimulatorBackend(Backend):
    kind = "simulator"

    def __init__(self, *, arena="tom", profile="classroom", noise: bool = True, seed: int = 0,
                 world: World | None = None, speedup: float = 1.0):
        self.world = world if world is not None else World(arena)
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.body = self.world.add_robot(self.profile, noise=noise, seed=seed)
        self.body.command_generation = 0
        self.pacer = Pacer(speedup)

    # -- time --------------------------------------------------------------
    def _run(self, seconds: float) -> None:
        if not self.pacer.paced:
            self.world.advance(seconds)
            return
        remaining = seconds
        while remaining > 1e-12:
            step = min(FRAME_S, remaining)
            self.world.advance(step)
            remaining -= step
            self.pacer.sync(self.world.time_s)

    def _command(self) -> int:
        self.body.command_generation += 1
        return self.body.command_generation

    def _speed(self, percent: float) -> float:
        return self.profile.top_speed_cm_s * percent / 100.0

    # -- motion ------------------------------------------------------------
    def straight(self, distance_cm, speed_percent):
        generation = self._command()
        self.body.straight(distance_cm, self._speed(speed_percent))
        return SimMotion(self.body, generation)

    def turn(self, degrees, speed_percent):
        generation = self._command()
        self.body.turn(degrees, self._speed(speed_percent))
        return SimMotion(self.body, generation)

    def drive(self, left_percent, right_percent):
        self._command()
        self.body.set_wheel_speeds(self._speed(left_percent), self._speed(right_percent))

    def stop(self):
        generation = self._command()
        self.body.brake()
        return SimMotion(self.body, generation)

    def emergency_stop(self):
        self._command()
        self.body.halt()
        self.world.version += 1

    def wait_for(self, motion):
        # The remaining time is known exactly, so jump there (in frames when paced).
        while not motion.done:
            self._run(max(self.body.move_remaining_s, 1e-9))

    def wait(self, seconds):
        self._run(seconds)

    # -- output ------------------------------------------------------------
    def set_led(self, rgb):
        self.body.led_rgb = tuple(rgb)
        self.world.version += 1

    def beep(self, hz, seconds):
        self.body.beeps.append((self.world.time_s, hz, seconds))

    # -- sensors -----------------------------------------------------------
    def read(self, sensor):
        # A real robot delivers fresh values once per telemetry period.
        self._run(self.profile.telemetry_period_s)
        world, body = self.world, self.body
        if sensor == "distance":
            return sensors.distance_cm(world, body)
        if sensor == "reflection":
            return sensors.reflection(world, body)
        if sensor == "line":
            return sensors.line(world, body)
        if sensor == "colour":
            return sensors.colour(world, body)
        if sensor == "bumped":
            return sensors.bumped(body)
        if sensor == "heading":
            return sensors.heading_deg(body)
        if sensor == "odometer":
            return sensors.odometer_cm(body)
        if sensor == "time":
            return body.clock_s
        raise KeyError(sensor)

    def time(self):
        return self.body.clock_s

    def reset(self):
        self._command()
        self.body.reset()
        self.world.version += 1

    @property
    def paced(self) -> bool:
        return math.isfinite(self.pacer.speedup)

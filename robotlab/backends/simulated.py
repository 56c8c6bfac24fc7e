"""The simulator backend: a robot in a ``simulator.World`` on virtual time."""

from __future__ import annotations

import math
import threading
import time
import weakref

from simulator import Pacer, World, load_profile, sensors

from ..errors import RobotStoppedError
from .base import Backend, Motion

#: In a paced world, time advances in frames of this many wall-clock seconds, so a
#: live view sees smooth motion and an interrupt or the Stop button acts at once.
FRAME_S = 1 / 30
#: While paused, how often (s) the blocked call looks for resume or stop.
PAUSE_POLL_S = 0.02


class WorldControls:
    """What every robot in one world shares: pace, pause and stop, a lock, watchers.

    The pupil's calls run the world on the kernel's main thread. The live view
    and its buttons act from other threads (the view's sender, the control
    listener that the Stop button reaches while a cell runs), so they take
    ``lock`` around anything that reads or changes the world, and ask the main
    thread to stop or pause through ``request_stop`` and ``paused``.
    """

    def __init__(self, world: World, speedup: float):
        self.world = world
        self.lock = threading.RLock()
        self.pacer = Pacer(speedup)
        self.paused = False
        self._stop_requested = threading.Event()
        #: Called with the world after every step of virtual time (lock held).
        self.watchers: list = []
        self.backends: "weakref.WeakSet[SimulatorBackend]" = weakref.WeakSet()
        #: The world's live view in a notebook (``robotlab.view.LiveView``), if any.
        self.view = None

    # -- requests from other threads -------------------------------------------
    def request_stop(self) -> None:
        """Stop every robot now; the pupil's running call ends with a message."""
        self._stop_requested.set()
        self.halt_all()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def clear_requests(self) -> None:
        """A new cell starts: forget a stop nobody saw, and run again if paused."""
        self._stop_requested.clear()
        self.paused = False

    def set_speedup(self, speedup: float) -> None:
        self.pacer.speedup = speedup
        self.pacer.reanchor()

    def halt_all(self) -> None:
        with self.lock:
            for backend in list(self.backends):
                backend.emergency_stop()

    def reset_world(self) -> None:
        with self.lock:
            for backend in list(self.backends):
                backend._command()
            self.world.reset()
            self._notify()

    # -- the main thread ----------------------------------------------------------
    def checkpoint(self) -> None:
        """Raise if Stop was pressed; wait here while paused (virtual time stands still)."""
        while self.paused and not self._stop_requested.is_set():
            time.sleep(PAUSE_POLL_S)
            self.pacer.reanchor()
        if self._stop_requested.is_set():
            self._stop_requested.clear()
            self.halt_all()
            raise RobotStoppedError("stopped_by_button")

    def step(self, seconds: float) -> None:
        with self.lock:
            self.world.advance(seconds)
            self._notify()

    def _notify(self) -> None:
        for watcher in list(self.watchers):
            watcher(self.world)


def controls_of(world: World, speedup: float = 1.0) -> WorldControls:
    """The one ``WorldControls`` of a world (made on first use, kept on the world)."""
    controls = getattr(world, "_robotlab_controls", None)
    if controls is None:
        controls = WorldControls(world, speedup)
        world._robotlab_controls = controls
    return controls


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
        self.controls = controls_of(self.world, speedup)
        with self.controls.lock:
            self.body = self.world.add_robot(self.profile, noise=noise, seed=seed)
            self.body.command_generation = 0
        self.controls.backends.add(self)

    @property
    def pacer(self) -> Pacer:
        return self.controls.pacer

    # -- time --------------------------------------------------------------
    def _run(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass: in wall-clock frames when paced, else at once."""
        controls, pacer = self.controls, self.controls.pacer
        remaining = seconds
        while remaining > 1e-12:
            controls.checkpoint()
            step = min(FRAME_S * pacer.speedup, remaining) if pacer.paced else remaining
            controls.step(step)
            remaining -= step
            pacer.sync(self.world.time_s)

    def _command(self) -> int:
        self.body.command_generation += 1
        return self.body.command_generation

    def _speed(self, percent: float) -> float:
        return self.profile.top_speed_cm_s * percent / 100.0

    # -- motion ------------------------------------------------------------
    def straight(self, distance_cm, speed_percent):
        with self.controls.lock:
            generation = self._command()
            self.body.straight(distance_cm, self._speed(speed_percent))
        return SimMotion(self.body, generation)

    def turn(self, degrees, speed_percent):
        with self.controls.lock:
            generation = self._command()
            self.body.turn(degrees, self._speed(speed_percent))
        return SimMotion(self.body, generation)

    def drive(self, left_percent, right_percent):
        with self.controls.lock:
            self._command()
            self.body.set_wheel_speeds(self._speed(left_percent), self._speed(right_percent))

    def stop(self):
        with self.controls.lock:
            generation = self._command()
            self.body.brake()
        return SimMotion(self.body, generation)

    def emergency_stop(self):
        with self.controls.lock:
            self._command()
            self.body.halt()
            self.world.version += 1

    def wait_for(self, motion):
        # The remaining time is known exactly, so jump there (in frames when paced).
        while not motion.done:
            self._run(max(self.body.move_remaining_s, 1e-9))
        # A move ended by the Stop button ends the pupil's program too.
        self.controls.checkpoint()

    def wait(self, seconds):
        self._run(seconds)

    # -- output ------------------------------------------------------------
    def set_led(self, rgb):
        with self.controls.lock:
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
        with self.controls.lock:
            self._command()
            self.body.reset()
            self.world.version += 1
            self.controls._notify()

    @property
    def paced(self) -> bool:
        return math.isfinite(self.pacer.speedup)

"""The interface every robot backend implements (simulator, Bluetooth robots).

It is shaped for the slowest case, a robot over Bluetooth: commands return at
once with a ``Motion`` that completes later (a completion event), and sensor
reads return the latest streamed telemetry rather than asking the robot. The
simulator fits the same shape: a read advances virtual time by one telemetry
period. Units: cm, degrees, seconds, percent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Motion(ABC):
    """A started move; ``done`` turns True when the robot reports completion."""

    @property
    @abstractmethod
    def done(self) -> bool: ...


class Backend(ABC):
    #: A short human name for messages and repr, e.g. "simulator".
    kind: str = ""

    #: The robot profile (``simulator.RobotProfile``) every backend sets.
    profile = None

    @property
    def telemetry_period_s(self) -> float:
        return self.profile.telemetry_period_s

    @property
    def top_speed_cm_s(self) -> float:
        return self.profile.top_speed_cm_s

    # -- motion ------------------------------------------------------------
    @abstractmethod
    def straight(self, distance_cm: float, speed_percent: float) -> Motion:
        """Drive straight (negative = backward) and stop."""

    @abstractmethod
    def turn(self, degrees: float, speed_percent: float) -> Motion:
        """Turn in place, counterclockwise (left) for positive degrees."""

    @abstractmethod
    def drive(self, left_percent: float, right_percent: float) -> None:
        """Run the wheels at these speeds until the next command."""

    @abstractmethod
    def stop(self) -> Motion:
        """Brake to a standstill."""

    @abstractmethod
    def emergency_stop(self) -> None:
        """Motors off now; used on interrupts, errors and lost links. Never raises."""

    @abstractmethod
    def wait_for(self, motion: Motion) -> None:
        """Block until the motion is done (or replaced by a newer command)."""

    @abstractmethod
    def wait(self, seconds: float) -> None:
        """Let seconds pass on the robot's clock while it keeps doing what it does."""

    # -- output ------------------------------------------------------------
    @abstractmethod
    def set_led(self, rgb: tuple[int, int, int]) -> None: ...

    @abstractmethod
    def beep(self, hz: float, seconds: float) -> None:
        """Start a tone; the caller waits for it if it wants."""

    # -- sensors -----------------------------------------------------------
    @abstractmethod
    def read(self, sensor: str):
        """The latest value of a sensor: "distance", "reflection", "line",
        "colour", "bumped", "heading", "odometer", "time" (the robot's clock)."""

    @abstractmethod
    def time(self) -> float:
        """Seconds on the robot's clock since it started or was reset."""

    # -- life cycle --------------------------------------------------------
    @abstractmethod
    def reset(self) -> None: ...

    def close(self) -> None:
        self.emergency_stop()

"""Settings read from the environment, so a teacher, a test or the grader sets them once.

- ``ROBOTLAB_ROBOT``: which robot ``Robot()`` makes when none is named ("sim").
- ``ROBOTLAB_PACE``: how virtual time relates to the wall clock in the simulator:
  "realtime" (the default, what pupils should see), a speed-up such as "5",
  or "max" (as fast as the CPU allows: tests and grading).
- ``ROBOTLAB_SEED``: the simulator's noise seed (grading fixes it); unset means
  a new robot each time, as in a real classroom.
- ``ROBOTLAB_LANG``: "da" (default) or "en"; see ``robotlab.i18n``.
- ``ROBOTLAB_TIME_LIMIT``: seconds a notebook cell may run before it is stopped
  with a friendly message (set for autograding; unset means no limit).
- ``ROBOTLAB_VIEW``: "live" (default: the live view in notebooks) or "picture"
  (a still picture after each cell, for slow networks or old front ends).
- ``ROBOTLAB_VIRTUAL_ROBOTS``: a number N from 1 to 30 puts N virtual Bluetooth
  robots, RobotLab-01 ... RobotLab-N, in range of this kernel instead of the
  computer's radio: ``Robot("ble", name="01")`` then connects to a simulated robot
  over the real protocol. For rehearsing a lesson without robots, and for tests.
- ``ROBOTLAB_VIRTUAL_HUBS``: a number N from 1 to 30 puts N virtual LEGO hubs
  ("Technic Hub", or "Technic Hub 1" ... "Technic Hub N") in range of this kernel's
  ``Robot("lego")`` instead of the computer's radio: each speaks LEGO Wireless
  Protocol 3.0 and drives a simulated Technic drive base (docs/lego.md).
- ``ROBOTLAB_BLE``: how ``Robot("ble")`` reaches a robot: "auto" (default: this
  computer's Bluetooth, or the pupil's browser when Python runs in a notebook kernel
  on a server without Bluetooth), "local" (this computer's Bluetooth only) or
  "browser" (always through the browser tab's Connect panel; docs/relay.md).
- ``ROBOTLAB_PRIVACY_URL``: the school's own page about pupils' data (set by the
  deployment); ``what_is_stored()`` links to it.
"""

from __future__ import annotations

import math
import os
import random


def default_robot_kind() -> str:
    return os.environ.get("ROBOTLAB_ROBOT", "sim").strip() or "sim"


def pace() -> float:
    """The speed-up of virtual time over wall time; ``math.inf`` means unpaced."""
    text = os.environ.get("ROBOTLAB_PACE", "realtime").strip().lower()
    if text in ("max", "fast", "hurtigst"):
        return math.inf
    if text in ("", "realtime", "1"):
        return 1.0
    try:
        value = float(text)
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


def seed() -> int:
    text = os.environ.get("ROBOTLAB_SEED", "").strip()
    if text.lstrip("-").isdigit():
        return int(text)
    return random.SystemRandom().randrange(2**31)


def view() -> str:
    """How a notebook shows the simulator: "live" or "picture"."""
    text = os.environ.get("ROBOTLAB_VIEW", "live").strip().lower()
    return "picture" if text in ("picture", "png", "billede", "off") else "live"


def time_limit() -> float | None:
    """Seconds a cell may run (``ROBOTLAB_TIME_LIMIT``), or None for no limit."""
    try:
        value = float(os.environ.get("ROBOTLAB_TIME_LIMIT", ""))
    except ValueError:
        return None
    return value if value > 0 else None


#: Most virtual Bluetooth robots one kernel may start: a class set.
MAX_VIRTUAL_ROBOTS = 30


def _count(variable: str) -> int:
    text = os.environ.get(variable, "").strip()
    if not text.isdigit():
        return 0
    return min(int(text), MAX_VIRTUAL_ROBOTS)


def virtual_robots() -> int:
    """How many virtual Bluetooth robots ``ROBOTLAB_VIRTUAL_ROBOTS`` asks for (0: none)."""
    return _count("ROBOTLAB_VIRTUAL_ROBOTS")


def virtual_hubs() -> int:
    """How many virtual LEGO hubs ``ROBOTLAB_VIRTUAL_HUBS`` asks for (0: none, at most 30)."""
    return _count("ROBOTLAB_VIRTUAL_HUBS")


#: The values ``ROBOTLAB_BLE`` may take.
BLE_TRANSPORTS = ("auto", "local", "browser")


def ble_transport() -> str:
    """How ``Robot("ble")`` reaches a robot (``ROBOTLAB_BLE``): "auto", "local" or "browser"."""
    text = os.environ.get("ROBOTLAB_BLE", "auto").strip().lower()
    return text if text in BLE_TRANSPORTS else "auto"


def privacy_url() -> str | None:
    """The school's page about pupils' data (``ROBOTLAB_PRIVACY_URL``), or None."""
    return os.environ.get("ROBOTLAB_PRIVACY_URL", "").strip() or None

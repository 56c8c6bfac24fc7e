"""The one place that picks a robot backend.

``Robot(kind)`` calls ``create_backend``; nothing else names a concrete
backend class. Backends are imported lazily so ``import robotlab`` stays fast
and a Bluetooth backend never loads pygame.
"""

from __future__ import annotations

from .. import settings
from ..errors import RobotValueError
from ..i18n import Text
from ..spelling import suggest
from .base import Backend, Motion

ALIASES = {"sim": "sim", "simulator": "sim", "simulatoren": "sim", "simulation": "sim",
           "ble": "ble", "bluetooth": "ble", "lego": "lego"}
#: What a LEGO hub takes besides its name: the pupil's ports and sizes (robotlab/backends/lego.py).
LEGO_OPTIONS = ("left", "right", "wheel_cm", "axle_cm")


KIND_NAMES = list(ALIASES)


def known_kind(kind: str) -> bool:
    """Whether ``kind`` names a backend."""
    return str(kind).strip().lower() in ALIASES


def create_backend(kind: str | None, *, name=None, **options) -> Backend:
    """Make the backend for ``kind``: "sim", "ble" or "lego".

    None means "ble" when a robot ``name`` is given, else ``ROBOTLAB_ROBOT`` or
    "sim". ``options`` are the simulator's (arena, profile, noise, seed, world,
    speedup); a Bluetooth robot takes its ``name`` and the ``profile`` ("ble" opens a
    LEGO hub when it finds one and no RobotLab robot); a LEGO hub
    its ``name``, a LEGO ``profile`` (any other means "the one for the hub's
    kind") and ``LEGO_OPTIONS``.
    """
    if kind is None:
        kind = "ble" if name is not None else settings.default_robot_kind()
    kind_name = str(kind).strip().lower()
    lego_only = [key for key in LEGO_OPTIONS if key in options]
    if lego_only and ALIASES.get(kind_name) in ("sim", "ble"):
        raise RobotValueError("lego_options_need_lego", options=", ".join(lego_only),
                              example=f'Robot("lego", {lego_only[0]}=...)')
    if ALIASES.get(kind_name) == "sim":
        if name is not None:
            raise RobotValueError("name_needs_ble", name=repr(name))
        from .simulated import SimulatorBackend
        return SimulatorBackend(**options)
    if ALIASES.get(kind_name) == "ble":
        from .bluetooth import open_ble
        return open_ble(name=name, profile=options["profile"])
    if ALIASES.get(kind_name) == "lego":
        from .lego import LegoBackend
        return LegoBackend(name=name, profile=options.get("profile"),
                           **{key: options[key] for key in LEGO_OPTIONS if key in options})
    close = suggest(kind_name, KIND_NAMES)
    hint = Text("did_you_mean", suggestion=f'Robot("{close}")') if close else ""
    raise RobotValueError("unknown_robot_kind", got=repr(kind), hint=hint)


__all__ = ["Backend", "Motion", "create_backend"]

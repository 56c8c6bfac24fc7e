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

PLANNED_KINDS = ("lego",)
ALIASES = {"sim": "sim", "simulator": "sim", "simulatoren": "sim", "simulation": "sim",
           "ble": "ble", "bluetooth": "ble"}


KIND_NAMES = [*ALIASES, *PLANNED_KINDS]


def known_kind(kind: str) -> bool:
    """Whether ``kind`` names a backend, available now or planned."""
    name = str(kind).strip().lower()
    return name in ALIASES or name in PLANNED_KINDS


def create_backend(kind: str | None, *, name=None, **options) -> Backend:
    """Make the backend for ``kind``: "sim" or "ble".

    None means "ble" when a robot ``name`` is given, else ``ROBOTLAB_ROBOT`` or
    "sim". ``options`` are the simulator's (arena, profile, noise, seed, world,
    speedup); a Bluetooth robot takes its ``name`` and the ``profile``.
    """
    if kind is None:
        kind = "ble" if name is not None else settings.default_robot_kind()
    kind_name = str(kind).strip().lower()
    if ALIASES.get(kind_name) == "sim":
        if name is not None:
            raise RobotValueError("name_needs_ble", name=repr(name))
        from .simulated import SimulatorBackend
        return SimulatorBackend(**options)
    if ALIASES.get(kind_name) == "ble":
        from .bluetooth import BluetoothBackend
        return BluetoothBackend(name=name, profile=options["profile"])
    if kind_name in PLANNED_KINDS:
        raise RobotValueError("robot_kind_later", got=repr(kind))
    close = suggest(kind_name, KIND_NAMES)
    hint = Text("did_you_mean", suggestion=f'Robot("{close}")') if close else ""
    raise RobotValueError("unknown_robot_kind", got=repr(kind), hint=hint)


__all__ = ["Backend", "Motion", "create_backend"]

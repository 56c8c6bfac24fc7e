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

PLANNED_KINDS = ("ble", "lego")
ALIASES = {"sim": "sim", "simulator": "sim", "simulatoren": "sim", "simulation": "sim"}


KIND_NAMES = [*ALIASES, *PLANNED_KINDS]


def known_kind(kind: str) -> bool:
    """Whether ``kind`` names a backend, available now or planned."""
    name = str(kind).strip().lower()
    return name in ALIASES or name in PLANNED_KINDS


def create_backend(kind: str | None, **options) -> Backend:
    """Make the backend for ``kind`` ("sim"; None means ``ROBOTLAB_ROBOT`` or "sim")."""
    kind = settings.default_robot_kind() if kind is None else kind
    name = str(kind).strip().lower()
    if ALIASES.get(name) == "sim":
        from .simulated import SimulatorBackend
        return SimulatorBackend(**options)
    if name in PLANNED_KINDS:
        raise RobotValueError("robot_kind_later", got=repr(kind))
    close = suggest(name, KIND_NAMES)
    hint = Text("did_you_mean", suggestion=f'Robot("{close}")') if close else ""
    raise RobotValueError("unknown_robot_kind", got=repr(kind), hint=hint)


__all__ = ["Backend", "Motion", "create_backend"]

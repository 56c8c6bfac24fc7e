"""Arenas: a floor picture (PNG) plus a small TOML file with sizes and walls.

A teacher can draw a track in any paint program (dark lines on light paper),
save it as PNG next to a TOML file that gives the arena's size in cm, and load
it with ``load_arena("my_track.toml")``. Coordinates are arena cm with the
origin in the bottom-left corner, x to the right, y up; headings are degrees
counterclockwise from the +x axis.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .geometry import Segment
from .pg import pygame

ARENA_DIR = Path(__file__).with_name("arenas")


class ArenaFileError(ValueError):
    """An arena file is missing, unreadable or lacks a required field."""

    def __init__(self, reason: str, path: str, detail: str = ""):
        self.reason, self.path, self.detail = reason, path, detail
        super().__init__(f"{reason}: {path} {detail}".strip())


@dataclass(frozen=True)
class Pose:
    x_cm: float
    y_cm: float
    heading_deg: float


@dataclass(frozen=True)
class Zone:
    """A rectangular goal zone, e.g. the exit of a maze."""
    name: str
    x_cm: float
    y_cm: float
    width_cm: float
    height_cm: float

    def contains(self, x: float, y: float) -> bool:
        return (self.x_cm <= x <= self.x_cm + self.width_cm
                and self.y_cm <= y <= self.y_cm + self.height_cm)


@dataclass
class Arena:
    name: str
    width_cm: float
    height_cm: float
    walls: list[Segment]
    start: Pose
    goals: list[Zone] = field(default_factory=list)
    titles: dict = field(default_factory=dict)
    aliases: tuple = ()
    floor: "pygame.Surface | None" = None
    source: Path | None = None

    def __post_init__(self) -> None:
        if self.floor is None:
            self.floor = pygame.Surface((int(self.width_cm * 2), int(self.height_cm * 2)))
            self.floor.fill((245, 245, 240))
        self._floor_w, self._floor_h = self.floor.get_size()
        self._rgb = pygame.image.tobytes(self.floor, "RGB")
        self._sx = self._floor_w / self.width_cm
        self._sy = self._floor_h / self.height_cm

    def rgb_at(self, x_cm: float, y_cm: float) -> tuple[int, int, int]:
        """Floor colour under a point; outside the arena the floor is white."""
        px = int(x_cm * self._sx)
        py = int((self.height_cm - y_cm) * self._sy)
        if px < 0 or py < 0 or px >= self._floor_w or py >= self._floor_h:
            return (255, 255, 255)
        i = (py * self._floor_w + px) * 3
        rgb = self._rgb
        return rgb[i], rgb[i + 1], rgb[i + 2]

    def reflection_at(self, x_cm: float, y_cm: float) -> float:
        """Reflected light 0-100 % (relative luminance of the floor)."""
        r, g, b = self.rgb_at(x_cm, y_cm)
        return (0.299 * r + 0.587 * g + 0.114 * b) * (100.0 / 255.0)

    def goal(self, name: str | None = None) -> Zone | None:
        for zone in self.goals:
            if name is None or zone.name == name:
                return zone
        return None


def _border(width: float, height: float) -> list[Segment]:
    return [Segment(0, 0, width, 0), Segment(width, 0, width, height),
            Segment(width, height, 0, height), Segment(0, height, 0, 0)]


def _rectangle(x: float, y: float, w: float, h: float) -> list[Segment]:
    return [Segment(x, y, x + w, y), Segment(x + w, y, x + w, y + h),
            Segment(x + w, y + h, x, y + h), Segment(x, y + h, x, y)]


def _number(table: dict, key: str, path: Path) -> float:
    try:
        value = float(table[key])
    except KeyError:
        raise ArenaFileError("missing_field", str(path), key) from None
    except (TypeError, ValueError):
        raise ArenaFileError("bad_number", str(path), key) from None
    if not math.isfinite(value):
        raise ArenaFileError("bad_number", str(path), key)
    return value


def arena_from_dict(data: dict, path: Path) -> Arena:
    size = data.get("size_cm")
    if not isinstance(size, list) or len(size) != 2:
        raise ArenaFileError("missing_field", str(path), "size_cm")
    width, height = (_number({"size_cm": v}, "size_cm", path) for v in size)
    if not (width > 0 and height > 0):
        raise ArenaFileError("bad_number", str(path), "size_cm")
    walls = _border(width, height) if data.get("border", True) else []
    for wall in data.get("walls", []):
        try:
            (x1, y1), (x2, y2) = wall["from"], wall["to"]
        except (KeyError, TypeError, ValueError):
            raise ArenaFileError("missing_field", str(path), "walls.from / walls.to") from None
        walls.append(Segment(*(_number({"walls.from / walls.to": v}, "walls.from / walls.to", path)
                               for v in (x1, y1, x2, y2))))
    for box in data.get("obstacles", []):
        walls.extend(_rectangle(_number(box, "x_cm", path), _number(box, "y_cm", path),
                                _number(box, "width_cm", path), _number(box, "height_cm", path)))
    start_table = data.get("start", {"x_cm": width / 2, "y_cm": height / 2, "heading_deg": 0})
    start = Pose(_number(start_table, "x_cm", path), _number(start_table, "y_cm", path),
                 float(start_table.get("heading_deg", 0.0)))
    goals = [Zone(str(g.get("name", "goal")), _number(g, "x_cm", path), _number(g, "y_cm", path),
                  _number(g, "width_cm", path), _number(g, "height_cm", path))
             for g in data.get("goals", [])]
    floor = None
    if "floor" in data:
        floor_path = path.parent / data["floor"]
        try:
            floor = pygame.image.load(str(floor_path))
        except (FileNotFoundError, pygame.error):
            raise ArenaFileError("floor_unreadable", str(floor_path)) from None
    return Arena(name=str(data.get("name", path.stem)), width_cm=width, height_cm=height,
                 walls=walls, start=start, goals=goals, titles=dict(data.get("title", {})),
                 aliases=tuple(data.get("aliases", ())), floor=floor, source=path)


def load_arena_file(path: str | Path) -> Arena:
    """Load an arena from its TOML file (the floor PNG is named inside it)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ArenaFileError("file_not_found", str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ArenaFileError("bad_toml", str(path), str(exc)) from None
    return arena_from_dict(data, path)


def builtin_arena_names() -> dict[str, str]:
    """Every accepted built-in name (Danish and English) -> its file stem."""
    names = {}
    for toml_path in sorted(ARENA_DIR.glob("*.toml")):
        with open(toml_path, "rb") as f:
            data = tomllib.load(f)
        names[toml_path.stem] = toml_path.stem
        for alias in data.get("aliases", ()):
            names[alias] = toml_path.stem
    return names


def load_arena(name_or_path: str | Path) -> Arena:
    """A built-in arena by name (``"labyrint"`` or ``"maze"``) or an arena file by path."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        return load_arena_file(text)
    stem = builtin_arena_names().get(text)
    if stem is None:
        raise ArenaFileError("unknown_arena", text)
    return load_arena_file(ARENA_DIR / f"{stem}.toml")

"""Colour names in Danish and English, for LEDs and the colour sensor."""

from __future__ import annotations

from .errors import RobotTypeError, RobotValueError
from .i18n import PerLanguage, Text, language
from .spelling import suggest

# Colour id -> (Danish name, English name, other accepted names).
NAMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "black": ("sort", "black", ()),
    "white": ("hvid", "white", ()),
    "grey": ("grå", "grey", ("gray",)),
    "red": ("rød", "red", ()),
    "orange": ("orange", "orange", ()),
    "yellow": ("gul", "yellow", ()),
    "green": ("grøn", "green", ()),
    "blue": ("blå", "blue", ()),
    "purple": ("lilla", "purple", ("violet", "violet")),
    "pink": ("lyserød", "pink", ("pink",)),
    "cyan": ("turkis", "cyan", ("turquoise",)),
    "off": ("slukket", "off", ("sluk", "none")),
}

RGB: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128),
    "red": (255, 0, 0), "orange": (255, 140, 0), "yellow": (255, 220, 0),
    "green": (0, 200, 0), "blue": (0, 60, 255), "purple": (150, 0, 200),
    "pink": (255, 120, 180), "cyan": (0, 220, 220), "off": (0, 0, 0),
}

_BY_NAME = {}
for _id, (_da, _en, _more) in NAMES.items():
    for _name in (_da, _en, *_more):
        _BY_NAME[_name] = _id


def name_of(colour_id: str, lang: str | None = None) -> str:
    da, en, _ = NAMES[colour_id]
    return da if (lang or language()) == "da" else en


class ColourName(str):
    """A colour name in the pupil's language that also equals its other names.

    ``robot.color() == "rød"`` and ``robot.color() == "red"`` are both True.
    """

    def __new__(cls, colour_id: str):
        obj = super().__new__(cls, name_of(colour_id))
        obj.id = colour_id
        return obj

    def __eq__(self, other):
        if isinstance(other, str):
            return _BY_NAME.get(other.strip().lower()) == self.id or str.__eq__(self, other)
        return NotImplemented

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = str.__hash__


def choices() -> PerLanguage:
    return PerLanguage({lang: ", ".join(name_of(c, lang) for c in NAMES) for lang in ("da", "en")})


def parse(value, call: str) -> str:
    """A colour id from a pupil's colour name (Danish or English)."""
    if not isinstance(value, str):
        raise RobotTypeError("colour_arguments", call=call, name=call.split(".")[-1].rstrip("()"),
                             example=f'{call[:-1]}"{name_of("red")}")')
    key = value.strip().lower()
    if key in _BY_NAME:
        return _BY_NAME[key]
    close = suggest(key, list(_BY_NAME))
    hint = Text("did_you_mean", suggestion=f'"{name_of(_BY_NAME[close])}"') if close else ""
    raise RobotValueError("unknown_colour", got=f'"{value}"', hint=hint, choices=choices())

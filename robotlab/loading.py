"""Finding arenas and robot profiles by the names pupils and teachers type."""

from __future__ import annotations

import os

from .checks import describe
from .errors import RobotTypeError, RobotValueError
from .i18n import Text
from .spelling import suggest


#: What to write for a missing or wrong field of an arena file.
FIELD_EXAMPLES = {
    "size_cm": "size_cm = [150, 100]",
    "x_cm": "x_cm = 20", "y_cm": "y_cm = 20",
    "width_cm": "width_cm = 30", "height_cm": "height_cm = 30",
    "walls.from / walls.to": "from = [100, 0] og/and to = [100, 60]",
}


def arena_choices() -> str:
    """Built-in arenas with their English alias: "tom (open), labyrint (maze), ..."."""
    from simulator import builtin_arena_names
    names = builtin_arena_names()
    stems = sorted(set(names.values()))
    return ", ".join(f"{stem} ({next((a for a, s in names.items() if s == stem and a != stem), stem)})"
                     for stem in stems)


def arena_meant_as_kind(kind) -> str | None:
    """The arena a pupil probably meant by ``Robot("labyrint")`` (or ``Robot("labyrinth")``)."""
    from simulator import builtin_arena_names

    from .backends import KIND_NAMES, known_kind
    if not isinstance(kind, str) or known_kind(kind) or suggest(kind, KIND_NAMES):
        return None
    names = builtin_arena_names()
    return kind if kind in names else suggest(kind, list(names))


def arena(value, call: str = "Robot()", param: str = "arena"):
    """A loaded arena from a built-in name or a .toml path, or a friendly error."""
    from simulator import Arena, ArenaFileError, builtin_arena_names, load_arena
    if isinstance(value, Arena):
        return value
    if not isinstance(value, (str, os.PathLike)):
        raise RobotTypeError("name_expected", call=call, param=param, got=describe(value),
                             example=f'Robot({param}="labyrint")')
    try:
        return load_arena(value)
    except ArenaFileError as exc:
        if exc.reason == "unknown_arena":
            close = suggest(str(value), list(builtin_arena_names()))
            hint = Text("did_you_mean", suggestion=f'{param}="{close}"') if close else ""
            raise RobotValueError("unknown_arena", got=repr(str(value)), hint=hint,
                                  choices=arena_choices()) from None
        if exc.reason == "file_not_found":
            raise RobotValueError("arena_file_not_found", path=exc.path,
                                  choices=arena_choices()) from None
        raise RobotValueError(f"arena_{exc.reason}", path=exc.path, detail=exc.detail,
                              example=FIELD_EXAMPLES.get(exc.detail, "size_cm = [150, 100]")) from None


def profile(value, call: str = "Robot()"):
    """A robot profile from a built-in name or a .toml path, or a friendly error."""
    from simulator.profile import RobotProfile, available_profiles, load_profile
    if isinstance(value, RobotProfile):
        return value
    if not isinstance(value, str):
        raise RobotTypeError("name_expected", call=call, param="profile", got=describe(value),
                             example='Robot(profile="classroom")')
    names = available_profiles()
    if value.endswith(".toml") or value in names:
        try:
            return load_profile(value)
        except FileNotFoundError:
            raise RobotValueError("unknown_profile", got=repr(value), hint="",
                                  choices=", ".join(names)) from None
        except (KeyError, TypeError, ValueError) as exc:   # TOMLDecodeError is a ValueError
            raise RobotValueError("profile_file_broken", path=value, detail=str(exc)) from None
    close = suggest(value, names)
    hint = Text("did_you_mean", suggestion=f'profile="{close}"') if close else ""
    raise RobotValueError("unknown_profile", got=repr(value), hint=hint, choices=", ".join(names))

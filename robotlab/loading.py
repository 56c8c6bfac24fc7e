"""Finding arenas and robot profiles by the names pupils and teachers type."""

from __future__ import annotations

import os

from .checks import describe
from .errors import RobotTypeError, RobotValueError
from .i18n import Text
from .spelling import suggest


def arena_choices() -> str:
    """Built-in arenas with their English alias: "tom (open), labyrint (maze), ..."."""
    from simulator import builtin_arena_names
    names = builtin_arena_names()
    stems = sorted(set(names.values()))
    return ", ".join(f"{stem} ({next((a for a, s in names.items() if s == stem and a != stem), stem)})"
                     for stem in stems)


def is_arena_name(name: str) -> bool:
    from simulator import builtin_arena_names
    return name in builtin_arena_names()


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
        raise RobotValueError(f"arena_{exc.reason}", path=exc.path, detail=exc.detail) from None


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
        return load_profile(value)
    close = suggest(value, names)
    hint = Text("did_you_mean", suggestion=f'profile="{close}"') if close else ""
    raise RobotValueError("unknown_profile", got=repr(value), hint=hint, choices=", ".join(names))

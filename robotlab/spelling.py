"""Did-you-mean suggestions for misspelled names, Danish letters included.

Names are compared case-insensitively and with æ, ø, å folded to ASCII, so
``drej_hojre`` finds ``drej_højre`` and ``Roed`` finds ``rød``.
"""

from __future__ import annotations

import difflib

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e"})


def fold(name: str) -> str:
    return name.lower().translate(_FOLD).replace("-", "_").replace(" ", "_")


def _loose(name: str) -> str:
    # "oe"/"o" and "aa"/"a" are both common ways to type ø and å without them.
    return fold(name).replace("oe", "o").replace("aa", "a").replace("ae", "a")


def suggest(name: str, choices, cutoff: float = 0.6) -> str | None:
    """The closest known name to ``name``, or None if nothing is close."""
    if not name.strip():
        return None
    choices = list(choices)
    if len(name) <= 3:
        cutoff = min(cutoff, 0.5)       # "cn" for "cm": one wrong letter of two
    for candidate in choices:
        if _loose(candidate) == _loose(name):
            return candidate
    by_fold = {}
    for candidate in choices:
        by_fold.setdefault(_loose(candidate), candidate)
    match = difflib.get_close_matches(_loose(name), list(by_fold), n=1, cutoff=cutoff)
    if match:
        return by_fold[match[0]]
    # A prefix such as "fremad" for "frem" or "forwards" for "forward".
    for candidate in sorted(choices, key=len, reverse=True):
        folded = _loose(candidate)
        if len(folded) >= 3 and (_loose(name).startswith(folded) or folded.startswith(_loose(name))):
            return candidate
    return None

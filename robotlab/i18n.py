"""Pupil-facing text from translatable message tables (locale/messages.toml).

The language comes from ``ROBOTLAB_LANG`` ("da", the default, or "en"), read
each time a message is made so a teacher can switch it in a running notebook.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

DEFAULT_LANGUAGE = "da"
LANGUAGES = ("da", "en")


def language() -> str:
    """The pupil's language code: ``ROBOTLAB_LANG`` if it names a known language, else Danish."""
    lang = os.environ.get("ROBOTLAB_LANG", DEFAULT_LANGUAGE).strip().lower()[:2]
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    with open(Path(__file__).with_name("locale") / "messages.toml", "rb") as f:
        return tomllib.load(f)


def message(key: str, lang: str | None = None, **params) -> str:
    """The message ``key`` in the pupil's language, with its placeholders filled in."""
    entry = table()[key]
    text = entry.get(lang or language()) or entry[DEFAULT_LANGUAGE]
    return text.format(**params)

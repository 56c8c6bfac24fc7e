"""Pupil-facing text from translatable message tables (locale/messages.toml).

The language comes from ``ROBOTLAB_LANG`` ("da", the default, or "en"), read
each time a message is made so a teacher can switch it in a running notebook.
Parts of a message that are messages themselves (a did-you-mean hint, "the
text 'ti'") are passed as ``Text`` and rendered in the same language as the
message around them, so an error can be re-rendered in another language.
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


def set_language(code: str) -> None:
    """Messages, labels and measurement names from now on in this language: "da" or "en".

    Sets ``ROBOTLAB_LANG`` for this notebook's kernel, so a lesson written in one
    language speaks it whatever the server's default is. Danish: ``sæt_sprog("da")``.

    Example: ``set_language("en")``.
    """
    from .errors import RobotValueError
    text = code.strip().lower() if isinstance(code, str) else code
    if text not in LANGUAGES:
        raise RobotValueError("language_unknown", got=repr(code),
                              languages=", ".join(f'"{lang}"' for lang in LANGUAGES))
    os.environ["ROBOTLAB_LANG"] = text


def sæt_sprog(kode: str) -> None:
    """Beskeder, knapper og målingernes navne på dette sprog fra nu af: "da" eller "en".

    Eksempel: ``sæt_sprog("da")``.
    """
    set_language(kode)


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    with open(Path(__file__).with_name("locale") / "messages.toml", "rb") as f:
        return tomllib.load(f)


class Text:
    """A message key with its parameters, rendered when the language is known."""

    def __init__(self, key: str, **params):
        self.key, self.params = key, params

    def render(self, lang: str) -> str:
        return message(self.key, lang=lang, **self.params)


class PerLanguage:
    """A ready-made text per language code (e.g. a list of names)."""

    def __init__(self, texts: dict[str, str]):
        self.texts = texts

    def render(self, lang: str) -> str:
        return self.texts.get(lang) or self.texts[DEFAULT_LANGUAGE]


def message(key: str, lang: str | None = None, **params) -> str:
    """The message ``key`` in the pupil's language, with its placeholders filled in."""
    lang = lang or language()
    entry = table()[key]
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**{name: value.render(lang) if hasattr(value, "render") else value
                          for name, value in params.items()})

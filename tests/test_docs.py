"""The docs list exactly what the code offers."""

from pathlib import Path

from robotlab.colours import NAMES
from robotlab.robot import DANISH

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_pupil_api_table_lists_every_method_and_its_danish_name():
    text = (DOCS / "pupil-api.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    for english, (danish, _) in DANISH.items():
        assert any(f"`{english}" in row and f"`{danish}" in row for row in rows), english


def test_colour_table_lists_every_colour_in_both_languages():
    text = (DOCS / "pupil-api.md").read_text(encoding="utf-8")
    for danish, english, _ in NAMES.values():
        assert f"| {danish}" in text and english in text, english

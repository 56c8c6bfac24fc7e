"""Friendly errors: every wrong call a pupil can make, in Danish and in English.

Each case checks the exception class (RobotLab's and the built-in one), its
``reason`` (the message key), that the message is in the pupil's language,
that it contains the line to type, and that it is short (one line, < 300
characters). Further down: that the line a message tells the pupil to type
works, the message table itself, arena-file and command-line messages,
traceback shortness, stopping the robot on errors and on interrupts.

Tests marked ``xfail(strict=True)`` document a bug found while writing them;
the reason says what should happen instead.
"""

from __future__ import annotations

import re
import string
import traceback
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

import robotlab
from robotlab import Robot, RobotLabError
from robotlab.errors import (RobotAttributeError, RobotConnectionError, RobotTypeError,
                             RobotValueError)
from robotlab.i18n import table

ROOT = Path(robotlab.__file__).resolve().parent.parent
TABLE = table()
LANGS = ("da", "en")
OTHER = {"da": "en", "en": "da"}
MAX_MESSAGE_CHARS = 300

BUILTIN = {
    RobotTypeError: TypeError,
    RobotValueError: ValueError,
    RobotAttributeError: AttributeError,
    RobotConnectionError: ConnectionError,
}

#: Words that only one of the two languages uses in the messages.
KEYWORDS = {
    "da": re.compile(r"\b(skal|Skriv|skriv|Mente du|Brug|Sådan ser|findes|kender ikke|er ingen|"
                     r"har ingen|har ikke|kan ikke|glemt|blev kaldt|Lav en ny|Tjek|Der er ingen|"
                     r"Du kan|fx)\b"),
    "en": re.compile(r"\b(must|Type|type|Did you mean|Use|This is how|does not|is not|cannot|"
                     r"There is no|has no|has nothing|forgot|was called|Make a new|Check|"
                     r"You can|for example)\b"),
}


#: A did-you-mean hint (" Mente du ...?") or a keyword one ("..., mente du ...?").
NO_SUGGESTION = ("Mente du", "Did you mean", "mente du", "did you mean")


def xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# ---------------------------------------------------------------------------
# Helpers: language and shape of a message
# ---------------------------------------------------------------------------

def fragments(text: str) -> list[str]:
    """The literal parts of a message template (between placeholders) with a letter in them."""
    parts = (p.strip() for p in re.split(r"\{[^}]*\}", text))
    return [p for p in parts if len(p) >= 3 and re.search(r"[^\W\d_]", p)]


def _foreign_markers(lang: str) -> list[str]:
    """Template fragments of the other language that no template of ``lang`` contains."""
    own = [entry[lang] for entry in TABLE.values()]
    markers = set()
    for entry in TABLE.values():
        for part in fragments(entry[OTHER[lang]]):
            if len(part) >= 4 and not any(part in text for text in own):
                markers.add(part)
    return sorted(markers)


FOREIGN = {lang: _foreign_markers(lang) for lang in LANGS}


def assert_language(msg: str, reason: str | None, lang: str) -> None:
    if reason is not None:
        for part in fragments(TABLE[reason][lang]):
            assert part in msg, f"{part!r} ({lang} text of {reason}) missing from: {msg}"
    foreign = [m for m in FOREIGN[lang] if m in msg]
    assert not foreign, f"{OTHER[lang]} text {foreign} in a {lang} message: {msg}"
    assert KEYWORDS[lang].search(msg), f"no {lang} key word in: {msg}"
    assert not KEYWORDS[OTHER[lang]].search(msg), f"{OTHER[lang]} key word in a {lang} message: {msg}"


def assert_shows(msg: str, key: str, lang: str) -> None:
    parts = fragments(TABLE[key][lang])
    for part in parts:
        assert part in msg, f"{key} ({lang}: {part!r}) not shown in: {msg}"


def assert_short(msg: str) -> None:
    assert "\n" not in msg, f"more than one line: {msg!r}"
    assert len(msg) < MAX_MESSAGE_CHARS, f"{len(msg)} characters: {msg}"
    assert "Traceback" not in msg and "object has no attribute" not in msg, msg


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
def robot():
    r = Robot(noise=False)
    yield r
    r.close()


# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    call: Callable                  # robot -> anything; must raise
    error: type                     # RobotLab's class (RobotLabError: any subclass)
    reason: str | None              # the message key (None: any key, a new one is needed)
    expect: tuple | dict = ()       # snippets the message must contain (per language: a dict)
    shows: tuple = ()               # sub-messages (did_you_mean, got_text, ...) that must show
    absent: tuple = ()              # snippets the message must not contain
    bug: str | None = None          # a known bug: the case is a strict xfail

    def expected(self, lang: str) -> tuple:
        return self.expect.get(lang, ()) if isinstance(self.expect, dict) else self.expect

    def param(self):
        marks = [xfail(self.bug)] if self.bug else []
        return pytest.param(self, id=self.id, marks=marks)


def call(method: str, *args, **kwargs):
    def run(r):
        return getattr(r, method)(*args, **kwargs)
    return run


def assign(name: str, value):
    def run(r):
        setattr(r, name, value)
    return run


def new_robot(*args, **kwargs):
    def run(_r):
        return Robot(*args, **kwargs)
    return run


NAN, INF = float("nan"), float("inf")

#: name, value, error, reason, sub-messages shown
BAD_TYPES = [
    ("text", "x", RobotTypeError, "not_a_number", ("got_text",)),
    ("numeric-text", "20", RobotTypeError, "number_in_quotes", ()),
    ("comma-text", "1,5", RobotTypeError, "number_in_quotes", ()),
    ("None", None, RobotTypeError, "not_a_number", ("got_none",)),
    ("True", True, RobotTypeError, "not_a_number", ("got_bool",)),
    ("nan", NAN, RobotValueError, "not_finite", ()),
    ("inf", INF, RobotValueError, "not_finite", ()),
    ("-inf", -INF, RobotValueError, "not_finite", ()),
    ("list", [10], RobotTypeError, "not_a_number", ("got_other",)),
]

#: english, danish, example argument, opposite (en, da), negative reason, parameter (en, da)
MOVES = [
    ("forward", "frem", "20", ("backward", "tilbage"), "negative_distance", ("cm", "cm")),
    ("backward", "tilbage", "20", ("forward", "frem"), "negative_distance", ("cm", "cm")),
    ("turn_left", "drej_venstre", "90", ("turn_right", "drej_højre"), "negative_angle",
     ("degrees", "grader")),
    ("turn_right", "drej_højre", "90", ("turn_left", "drej_venstre"), "negative_angle",
     ("degrees", "grader")),
]


def number_cases() -> list[Case]:
    cases = []
    # (id prefix, method, argument builder, example line, parameter name as the method spells it)
    targets = []
    for en, da, example, _opp, _neg, params in MOVES:
        for name, param in zip((en, da), params):
            targets.append((name, name, lambda v: ((v,), {}), f"robot.{name}({example})", param))
    for name, (left, right) in (("drive", ("left", "right")), ("kør", ("venstre", "højre"))):
        targets.append((f"{name}-left", name, lambda v: ((v, 50), {}), f"robot.{name}(50, 50)", left))
        targets.append((f"{name}-right", name, lambda v: ((50, v), {}), f"robot.{name}(50, 50)",
                        right))
    for name, seconds in (("wait", "seconds"), ("vent", "sekunder")):
        targets.append((name, name, lambda v: ((v,), {}), f"robot.{name}(1.5)", seconds))
    for name, seconds in (("beep", "seconds"), ("bip", "sekunder")):
        targets.append((f"{name}-hz", name, lambda v: ((v,), {}), f"robot.{name}(440, 0.5)", "hz"))
        targets.append((f"{name}-seconds", name, lambda v: ((440, v), {}),
                        f"robot.{name}(440, 0.5)", seconds))

    for prefix, method, build, example, param in targets:
        for label, value, error, reason, shows in BAD_TYPES:
            args, kwargs = build(value)
            expect = (example,) if reason == "number_in_quotes" else (example, f"{param} ")
            if reason == "number_in_quotes":
                expect = expect + (repr(value),)
            cases.append(Case(f"{prefix}-{label}", call(method, *args, **kwargs), error, reason,
                              expect, shows))

    # Negative and absurd values. Numbers are shown as a pupil writes them (1000000000, not
    # 1e+09); "°" and "%" follow the number directly, other units after a space.
    for en, da, example, (opp_en, opp_da), negative, _param in MOVES:
        high = "1000 cm" if negative == "negative_distance" else "3600°"
        limit = high.split()[0].rstrip("°")
        for name, opposite in ((en, opp_en), (da, opp_da)):
            cases += [
                Case(f"{name}-negative", call(name, -10), RobotValueError, negative,
                     (f"robot.{opposite}(10)",)),
                Case(f"{name}-negative-fraction", call(name, -2.5), RobotValueError, negative,
                     (f"robot.{opposite}(2.5)",)),
                Case(f"{name}-absurd", call(name, 1e9), RobotValueError, "too_large",
                     (f"robot.{name}({example})", high, "= 1000000000 "), absent=("e+",)),
                Case(f"{name}-just-too-much", call(name, float(limit) + 1), RobotValueError,
                     "too_large", (f"robot.{name}({example})", high, f"= {int(limit) + 1} ")),
            ]
    for name in ("drive", "kør"):
        line = f"robot.{name}(50, 50)"
        cases += [
            Case(f"{name}-left-101", call(name, 101, 0), RobotValueError, "too_large",
                 (line, "= 101 ", "100%")),
            Case(f"{name}-right-101", call(name, 0, 101), RobotValueError, "too_large", (line, "100%")),
            Case(f"{name}-left--101", call(name, -101, 0), RobotValueError, "too_small",
                 (line, "= -101 ", "-100%")),
            Case(f"{name}-right--150", call(name, 0, -150), RobotValueError, "too_small",
                 (line, "-100%")),
            Case(f"{name}-absurd", call(name, 1e9, 1e9), RobotValueError, "too_large",
                 (line, "= 1000000000 ", "100%")),
        ]
    for name in ("wait", "vent"):
        line = f"robot.{name}(1.5)"
        cases += [
            Case(f"{name}-negative", call(name, -1), RobotValueError, "too_small",
                 (line, "= -1 ", "0 s")),
            Case(f"{name}-absurd", call(name, 1e9), RobotValueError, "too_large",
                 (line, "= 1000000000 ", "3600 s")),
            Case(f"{name}-over-an-hour", call(name, 3601), RobotValueError, "too_large",
                 (line, "= 3601 ", "3600 s")),
        ]
    for name in ("beep", "bip"):
        line = f"robot.{name}(440, 0.5)"
        cases += [
            Case(f"{name}-hz-too-low", call(name, 10), RobotValueError, "too_small", (line, "50 Hz")),
            Case(f"{name}-hz-negative", call(name, -440), RobotValueError, "too_small",
                 (line, "= -440 ", "50 Hz")),
            Case(f"{name}-hz-too-high", call(name, 20000), RobotValueError, "too_large",
                 (line, "10000 Hz")),
            Case(f"{name}-seconds-negative", call(name, 440, -1), RobotValueError, "too_small",
                 (line, "0 s")),
            Case(f"{name}-seconds-too-long", call(name, 440, 100), RobotValueError, "too_large",
                 (line, "10 s")),
        ]
    cases += [
        # An int too big for a float is cut, not written out with its 401 digits.
        Case("forward-10**400", call("forward", 10**400), RobotValueError, "too_large",
             ("robot.forward(20)", "= 100000… ", "1000 cm")),
        Case("kør-minus-10**400", call("kør", -10**400, 0), RobotValueError, "too_small",
             ("robot.kør(50, 50)", "venstre = -10000… ", "-100%")),
        Case("fraction-too-large", call("forward", 1000.5), RobotValueError, "too_large",
             ("= 1000.5 ",)),
        Case("frem-negative-absurd", call("frem", -1e9), RobotValueError, "negative_distance",
             ("robot.tilbage(",), absent=("e+",)),
    ]
    return cases


def speed_cases() -> list[Case]:
    values = [
        ("0", 0, RobotValueError, "too_small", ("1",), ()),
        ("negative", -5, RobotValueError, "too_small", ("1",), ()),
        ("101", 101, RobotValueError, "too_large", ("100",), ()),
        ("absurd", 1e9, RobotValueError, "too_large", ("100",), ()),
        ("text", "fast", RobotTypeError, "not_a_number", (), ("got_text",)),
        ("numeric-text", "50", RobotTypeError, "number_in_quotes", ("'50'",), ()),
        ("None", None, RobotTypeError, "not_a_number", (), ("got_none",)),
        ("True", True, RobotTypeError, "not_a_number", (), ("got_bool",)),
        ("nan", NAN, RobotValueError, "not_finite", (), ()),
        ("inf", INF, RobotValueError, "not_finite", (), ()),
    ]
    cases = []
    for label, value, error, reason, extra, shows in values:
        cases.append(Case(f"speed-{label}", assign("speed", value), error, reason,
                          ("robot.speed = 50",) + extra, shows))
    for label, value, error, reason, extra, shows in values[:1] + values[4:5]:
        cases.append(Case(f"fart-{label}", assign("fart", value), error, reason,
                          ("robot.fart = 50", "fart ") + extra, shows, absent=("speed",)))
    cases += [
        Case("speed-1000", assign("speed", 1000), RobotValueError, "too_large",
             ("= 1000 ", "100%")),
        Case("speed()", call("speed"), RobotTypeError, "setting_not_callable",
             ("robot.speed = 50", "print(robot.speed)")),
        Case("fart()", call("fart"), RobotTypeError, "setting_not_callable",
             ("robot.fart = 50", "print(robot.fart)"), absent=("speed",)),
        Case("speed(80)", call("speed", 80), RobotTypeError, "setting_not_callable",
             ("robot.speed = 50",)),
    ]
    return cases


def led_cases() -> list[Case]:
    cases = []
    for name in ("led", "lys"):
        for got, da, en in (("roed", "rød", "red"), ("Roed", "rød", "red"), ("bleu", "blå", "blue"),
                            ("blaa", "blå", "blue"), ("gren", "grøn", "green"),
                            ("purpel", "lilla", "purple"), ("hvidd", "hvid", "white"),
                            ("yelow", "gul", "yellow")):
            cases.append(Case(f"{name}-{got}", call(name, got), RobotValueError, "unknown_colour",
                              {"da": (f'"{da}"', f'"{got}"'), "en": (f'"{en}"', f'"{got}"')},
                              ("did_you_mean",)))
        cases.append(Case(f"{name}-unknown", call(name, "xyz"), RobotValueError, "unknown_colour",
                          {"da": ("rød", "blå", "slukket"), "en": ("red", "blue", "off")},
                          absent=NO_SUGGESTION))
        for label, value in (("number", 5), ("None", None), ("list", ["red"])):
            cases.append(Case(f"{name}-{label}", call(name, value), RobotTypeError,
                              "colour_arguments",
                              {"da": (f'robot.{name}("rød")', f"robot.{name}(255, 0, 0)"),
                               "en": (f'robot.{name}("red")', f"robot.{name}(255, 0, 0)")}))
        for label, rgb in (("r-256", (256, 0, 0)), ("g-negative", (0, -1, 0)), ("b-300", (0, 0, 300)),
                           ("fraction", (1.5, 0, 0)), ("text", ("a", 0, 0)), ("nan", (NAN, 0, 0)),
                           ("True", (True, 0, 0)), ("name-and-numbers", ("rød", 0, 0))):
            cases.append(Case(f"{name}-rgb-{label}", call(name, *rgb), RobotValueError,
                              "colour_value", (f"robot.{name}(255, 120, 0)", "255")))
        cases.append(Case(
            f"{name}-two-numbers", call(name, 255, 0), RobotTypeError, "colour_arguments",
            {"da": (f'robot.{name}("rød")', f"robot.{name}(255, 0, 0)"),
             "en": (f'robot.{name}("red")', f"robot.{name}(255, 0, 0)")}))
    cases.append(Case(
        "led-empty", call("led", ""), RobotValueError, "unknown_colour",
        {"da": ('""', "rød"), "en": ('""', "red")}, absent=NO_SUGGESTION))
    return cases


def robot_cases() -> list[Case]:
    maze = "labyrint (maze)"   # the arena list pairs each name with its English alias
    return [
        # Arenas.
        Case("arena-labyrinth", new_robot(arena="labyrinth"), RobotValueError, "unknown_arena",
             ('arena="labyrint"', "'labyrinth'", maze), ("did_you_mean",)),
        Case("arena-mase", new_robot(arena="mase"), RobotValueError, "unknown_arena",
             ('arena="maze"',), ("did_you_mean",)),
        Case("arena-Tom-typo", new_robot(arena="tomm"), RobotValueError, "unknown_arena",
             ('arena="tom"',), ("did_you_mean",)),
        Case("arena-unknown", new_robot(arena="xyz"), RobotValueError, "unknown_arena",
             (maze, "tom (open)", "mur (wall)"), absent=NO_SUGGESTION),
        Case("bane-labyrinth", new_robot(bane="labyrinth"), RobotValueError, "unknown_arena",
             ('bane="labyrint"', maze), ("did_you_mean",), absent=("arena=",)),
        Case("arena-number", new_robot(arena=5), RobotTypeError, "name_expected",
             ("arena", 'Robot(arena="labyrint")'), ("got_other",)),
        Case("arena-None", new_robot(arena=None), RobotTypeError, "name_expected",
             ("arena", 'Robot(arena="labyrint")'), ("got_none",)),
        Case("arena-toml-not-found", new_robot(arena="labyrint.toml"), RobotValueError,
             "arena_file_not_found", ("labyrint.toml", maze), absent=("file_not_found",)),
        # Robot kinds and profiles.
        Case("kind-simm", new_robot("simm"), RobotValueError, "unknown_robot_kind",
             ('Robot("sim', "Robot()", "'simm'"), ("did_you_mean",)),
        Case("kind-simulater", new_robot("simulater"), RobotValueError, "unknown_robot_kind",
             ('Robot("sim',), ("did_you_mean",)),
        Case("kind-number", new_robot(5), RobotValueError, "unknown_robot_kind", ("Robot()",)),
        Case("kind-lego", new_robot("lego"), RobotConnectionError, "ble_no_bluetooth", ("Robot()",)),
        Case("kind-is-an-arena", new_robot("labyrint"), RobotValueError, "unknown_robot_kind",
             ('Robot(arena="labyrint")',), ("did_you_mean",)),
        Case("kind-is-an-english-arena", new_robot("maze"), RobotValueError, "unknown_robot_kind",
             ('Robot(arena="maze")',), ("did_you_mean",)),
        Case("profile-classrom", new_robot(profile="classrom"), RobotValueError, "unknown_profile",
             ('profile="classroom"',), ("did_you_mean",)),
        Case("profile-unknown", new_robot(profile="xyz"), RobotValueError, "unknown_profile",
             ("classroom",), absent=NO_SUGGESTION),
        Case("profile-number", new_robot(profile=5), RobotTypeError, "name_expected",
             ("profile", 'Robot(profile="classroom")'), ("got_other",)),
        Case("profile-toml-not-found", new_robot(profile="min_robot.toml"), RobotLabError, None,
             ("min_robot.toml",)),
        Case("noise-text", new_robot(noise="nej"), RobotTypeError, "not_bool",
             ("noise", "True", "False", "Robot(noise=False)"), ("got_text",)),
        Case("noise-number", new_robot(noise=0), RobotTypeError, "not_bool",
             ("noise", "Robot(noise=False)"), ("got_other",)),
        Case("seed-text", new_robot(seed="x"), RobotTypeError, "not_a_number",
             ("seed", "Robot(seed=7)"), ("got_text",)),
        Case("seed-huge", new_robot(seed=10**400), RobotLabError, None, ("seed",)),
        Case("world-number", new_robot(world=5), RobotTypeError, "world_expected",
             ("Robot(world=robot)",), ("got_other",)),
        Case("world-text", new_robot(world="robot"), RobotTypeError, "world_expected",
             ("Robot(world=robot)",), ("got_text",)),
        Case("robot-unknown-keyword", new_robot(arean="tom"), RobotTypeError, "wrong_arguments",
             ("Robot()", "arean=", "arena="), ("unknown_keyword", "keyword_did_you_mean")),
        Case("robot-unknown-keyword-bane", new_robot(baen="tom"), RobotTypeError,
             "wrong_arguments", ("baen=", "bane="), ("unknown_keyword", "keyword_did_you_mean")),
        Case("robot-too-many", new_robot("sim", "tom"), RobotTypeError, "wrong_arguments",
             ("Robot()", "arena="), ("too_many_arguments",)),
    ]


def attribute_cases() -> list[Case]:
    misspelled = [
        ("forwad", 10, "robot.forward()"), ("fremad", 10, "robot.frem()"),
        ("Forward", 10, "robot.forward()"), ("drej_hojre", 90, "robot.drej_højre()"),
        ("drej_hoejre", 90, "robot.drej_højre()"), ("drej_venstr", 90, "robot.drej_venstre()"),
        ("trun_left", 90, "robot.turn_left()"), ("turnleft", 90, "robot.turn_left()"),
        ("tilbag", 5, "robot.tilbage()"), ("bakward", 5, "robot.backward()"),
        ("kor", 50, "robot.kør()"), ("bipp", 440, "robot.bip()"),
    ]
    cases = [Case(f"misspelled-{name}", call(name, arg), RobotAttributeError, "unknown_attribute",
                  (line, f"robot.{name}"), ("did_you_mean",))
             for name, arg, line in misspelled]
    measurements = [("distanse", "robot.distance()"), ("afstnad", "robot.afstand()"),
                    ("stodt", "robot.stødt()"), ("korte", "robot.kørt()")]
    cases += [Case(f"misspelled-{name}()", call(name), RobotAttributeError, "unknown_attribute",
                   (line,), ("did_you_mean",)) for name, line in measurements]
    cases.append(Case("nonsense-method", call("xyzzy"), RobotAttributeError, "unknown_attribute",
                      ("robot.xyzzy",), ("tab_hint",), absent=NO_SUGGESTION))
    cases.append(Case("read-misspelled-setting", lambda r: r.sped, RobotAttributeError,
                      "unknown_attribute", ("robot.speed",), ("did_you_mean",)))
    # New attributes.
    cases += [
        Case("new-sped", assign("sped", 50), RobotAttributeError, "new_attribute",
             ("robot.speed = 50", "robot.sped"), ("did_you_mean",)),
        Case("new-Speed", assign("Speed", 80), RobotAttributeError, "new_attribute",
             ("robot.speed = 80",), ("did_you_mean",)),
        Case("new-speeed", assign("speeed", 30), RobotAttributeError, "new_attribute",
             ("robot.speed = 30",), ("did_you_mean",)),
        Case("new-fartt", assign("fartt", 50), RobotAttributeError, "new_attribute",
             ("robot.fart = 50",), ("did_you_mean",)),
        Case("new-farten", assign("farten", 50), RobotAttributeError, "new_attribute",
             ("robot.fart = 50",), ("did_you_mean",)),
        Case("new-nonsense", assign("xyzzy", 1), RobotAttributeError, "new_attribute",
             ("robot.xyzzy",), ("tab_hint",), absent=NO_SUGGESTION),
    ]
    # Assigning to a measurement or a command.
    for name in ("distance", "afstand", "bumped", "stødt", "color", "farve", "time", "tid"):
        cases.append(Case(f"assign-measurement-{name}", assign(name, 5), RobotAttributeError,
                          "read_only", (f"robot.{name}()",), ("kind_measurement",)))
    # A command with a parameter: the assigned value goes between the parentheses.
    for name in ("forward", "frem", "turn_left", "drej_højre", "wait", "vent"):
        cases.append(Case(f"assign-command-{name}", assign(name, 10), RobotAttributeError,
                          "read_only", (f"robot.{name}(10)",), ("kind_command",)))
    cases.append(Case("assign-command-led", assign("led", "rød"), RobotAttributeError, "read_only",
                      ("robot.led('rød')",), ("kind_command",)))
    # A command without parameters: the value cannot go between the parentheses.
    for name in ("stop", "reset", "nulstil", "show"):
        cases.append(Case(f"assign-command-{name}", assign(name, True), RobotAttributeError,
                          "read_only", (f"robot.{name}()",), ("kind_command",)))
    # The seed is chosen when the robot is made.
    cases.append(Case("assign-seed", assign("seed", 3), RobotAttributeError, "read_only",
                      ("robot.seed", "robot = Robot(seed=3)"), ("kind_setting",)))
    return cases


MEASUREMENTS = ["distance", "line", "reflection", "color", "bumped", "heading", "odometer", "time",
                "afstand", "linje", "refleksion", "farve", "stødt", "retning", "kørt", "tid"]
OPERATORS = {
    "<": lambda m: m < 10, "<=": lambda m: m <= 10, ">": lambda m: m > 10,
    ">=": lambda m: m >= 10, "==": lambda m: m == 10, "!=": lambda m: m != 10,
}


def parentheses_cases() -> list[Case]:
    cases = []
    for name in MEASUREMENTS:
        for op, compare in OPERATORS.items():
            cases.append(Case(f"{name}{op}10", lambda r, n=name, c=compare: c(getattr(r, n)),
                              RobotTypeError, "missing_parentheses", (f"robot.{name}() {op}",)))
        cases.append(Case(f"bool({name})", lambda r, n=name: bool(getattr(r, n)), RobotTypeError,
                          "missing_parentheses_bool", (f"if robot.{name}():",)))
        cases.append(Case(f"not-{name}", lambda r, n=name: not getattr(r, n), RobotTypeError,
                          "missing_parentheses_bool", (f"robot.{name}()",)))
    cases += [
        Case("10>distance", lambda r: 10 > r.distance, RobotTypeError, "missing_parentheses",
             ("robot.distance() <",)),
        Case("color=='rød'", lambda r: r.color == "rød", RobotTypeError, "missing_parentheses",
             ("robot.color() ==",)),
        Case("farve!='red'", lambda r: r.farve != "red", RobotTypeError, "missing_parentheses",
             ("robot.farve() !=",)),
        Case("line==(True,True)", lambda r: r.line == (True, True), RobotTypeError,
             "missing_parentheses", ("robot.line() ==",)),
        Case("bumped==True", lambda r: r.bumped == True, RobotTypeError,  # noqa: E712
             "missing_parentheses", ("robot.bumped() ==",)),
        Case("if-stødt", lambda r: 1 if r.stødt else 0, RobotTypeError, "missing_parentheses_bool",
             ("if robot.stødt():",)),
        # Comparing with a list or None is a forgotten pair of parentheses too.
        Case("line==[True,True]", lambda r: r.line == [True, True], RobotTypeError,
             "missing_parentheses", ("robot.line() ==",)),
        Case("distance==None", lambda r: r.distance == None, RobotTypeError,  # noqa: E711
             "missing_parentheses", ("robot.distance() ==",)),
        Case("farve!=None", lambda r: r.farve != None, RobotTypeError,  # noqa: E711
             "missing_parentheses", ("robot.farve() !=",)),
    ]
    # Arithmetic, conversions, formatting and unpacking need the value as well.
    for label, use, name in (
            ("distance+1", lambda r: r.distance + 1, "distance"),
            ("1+distance", lambda r: 1 + r.distance, "distance"),
            ("afstand-5", lambda r: r.afstand - 5, "afstand"),
            ("100-afstand", lambda r: 100 - r.afstand, "afstand"),
            ("2*odometer", lambda r: 2 * r.odometer, "odometer"),
            ("heading/2", lambda r: r.heading / 2, "heading"),
            ("heading//2", lambda r: r.heading // 2, "heading"),
            ("tid%2", lambda r: r.tid % 2, "tid"),
            ("-retning", lambda r: -r.retning, "retning"),
            ("abs(heading)", lambda r: abs(r.heading), "heading"),
            ("int(distance)", lambda r: int(r.distance), "distance"),
            ("float(kørt)", lambda r: float(r.kørt), "kørt"),
            ("round(distance)", lambda r: round(r.distance), "distance"),
            ("f'{distance:.1f}'", lambda r: f"{r.distance:.1f}", "distance"),
            ("left,right=line", lambda r: tuple(r.line), "line"),
            ("venstre,højre=linje", lambda r: tuple(r.linje), "linje")):
        cases.append(Case(f"arithmetic-{label}", use, RobotTypeError, "missing_parentheses_value",
                          (f"robot.{name}()",), absent=("Measurement",)))
    return cases


def argument_cases() -> list[Case]:
    usage = {
        "forward": "robot.forward(cm, wait=True)", "frem": "robot.frem(cm, vent=True)",
        "backward": "robot.backward(cm, wait=True)", "tilbage": "robot.tilbage(cm, vent=True)",
        "turn_left": "robot.turn_left(degrees, wait=True)",
        "drej_venstre": "robot.drej_venstre(grader, vent=True)",
        "turn_right": "robot.turn_right(degrees, wait=True)",
        "drej_højre": "robot.drej_højre(grader, vent=True)",
        "drive": "robot.drive(left, right)", "kør": "robot.kør(venstre, højre)",
        "wait": "robot.wait(seconds)", "vent": "robot.vent(sekunder)",
        "led": "robot.led(colour, g=None, b=None)", "lys": "robot.lys(farve, g=None, b=None)",
    }
    cases = []
    for name, line in usage.items():
        cases.append(Case(f"{name}()-missing", call(name), RobotTypeError, "wrong_arguments",
                          (line, f"robot.{name}()"), ("missing_argument",)))
        cases.append(Case(f"{name}-too-many", call(name, 1, 2, 3, 4), RobotTypeError,
                          "wrong_arguments", (line,), ("too_many_arguments",)))
    for name, line in (("beep", "robot.beep(hz=440, seconds=0.2, wait=True)"),
                       ("bip", "robot.bip(hz=440, sekunder=0.2, vent=True)")):
        cases.append(Case(f"{name}-too-many", call(name, 440, 1, True, 4), RobotTypeError,
                          "wrong_arguments", (line,), ("too_many_arguments",)))
    for name in ("distance", "afstand", "line", "linje", "bumped", "stødt", "stop", "reset",
                 "nulstil", "show", "vis", "time", "tid", "close", "luk"):
        cases.append(Case(f"{name}(5)", call(name, 5), RobotTypeError, "wrong_arguments",
                          (f"robot.{name}()",), ("too_many_arguments",)))
    keywords = [
        ("forward", {"wiat": False}, "wait="), ("frem", {"vnet": False}, "vent="),
        ("turn_left", {"degree": 90}, "degrees="), ("drej_venstre", {"grder": 90}, "grader="),
        ("drej_højre", {"gradder": 90}, "grader="),
        ("drive", {"left": 50, "rigth": 50}, "right="), ("kør", {"venstre": 50, "hojre": 50}, "højre="),
        ("wait", {"second": 1}, "seconds="), ("vent", {"sekunde": 1}, "sekunder="),
        ("beep", {"hz": 440, "secs": 0.1}, "seconds="), ("bip", {"hz": 440, "sekundr": 0.1}, "sekunder="),
        ("led", {"color": "red"}, "colour="), ("lys", {"farv": "rød"}, "farve="),
    ]
    for name, kwargs, hint in keywords:
        bad = next(k for k in kwargs if f"{k}=" != hint and k not in ("hz", "left", "venstre"))
        cases.append(Case(f"{name}-keyword-{bad}", call(name, *([10] if name in (
            "forward", "frem") else []), **kwargs), RobotTypeError, "wrong_arguments",
            {"da": (f"({bad}= kendes ikke, mente du {hint}?)", usage.get(name, f"robot.{name}(")),
             "en": (f"({bad}= is not known, did you mean {hint}?)",
                    usage.get(name, f"robot.{name}("))},
            ("unknown_keyword", "keyword_did_you_mean")))
    cases.append(Case("forward-keyword-nonsense", call("forward", 10, xyz=1), RobotTypeError,
                      "wrong_arguments", ("(xyz= ", "robot.forward(cm, wait=True)"),
                      ("unknown_keyword",), absent=NO_SUGGESTION))
    # A keyword from the other language is translated; a two-letter typo is still caught.
    for label, use, hint in (
            ("frem-keyword-wait", call("frem", 10, wait=False), "vent="),
            ("drej_venstre-keyword-degrees", call("drej_venstre", degrees=90), "grader="),
            ("forward-keyword-vent", call("forward", 10, vent=False), "wait="),
            ("turn_left-keyword-grader", call("turn_left", grader=90), "degrees="),
            ("drive-keyword-venstre", call("drive", venstre=50, højre=50), "left="),
            ("vent-keyword-seconds", call("vent", seconds=1), "sekunder="),
            ("forward-keyword-cn", call("forward", cn=10), "cm=")):
        cases.append(Case(label, use, RobotTypeError, "wrong_arguments", (hint,),
                          ("unknown_keyword", "keyword_did_you_mean")))
    # wait= / vent= must be True or False; the message shows how to write it (that the line
    # works is checked by test_the_line_to_type_works).
    for name, args, param in (("forward", (10,), "wait"), ("turn_right", (90,), "wait"),
                              ("frem", (10,), "vent"), ("drej_højre", (90,), "vent"),
                              ("beep", (440, 0.1), "wait"), ("bip", (440, 0.1), "vent")):
        cases.append(Case(f"{name}-{param}-text", call(name, *args, **{param: "no"}),
                          RobotTypeError, "not_bool", (param, "True", "False", f"{param}=False)"),
                          ("got_text",)))
    return cases


def closed_cases() -> list[Case]:
    def closed(method, *args):
        def run(r):
            r.close()
            return getattr(r, method)(*args)
        return run
    return [Case(f"closed-{name}", closed(name, *args), RobotConnectionError, "robot_closed",
                 ("robot = Robot()",))
            for name, args in (("forward", (10,)), ("frem", (10,)), ("distance", ()),
                               ("afstand", ()), ("led", ("red",)), ("stop", ()))]


CASES = (number_cases() + speed_cases() + led_cases() + robot_cases() + attribute_cases()
         + parentheses_cases() + argument_cases() + closed_cases())


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def run_case(case: Case, r) -> BaseException:
    with pytest.raises(case.error) as info:
        case.call(r)
    return info.value


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_friendly_message(case: Case, lang, robot):
    error = run_case(case, robot)
    msg = str(error)
    if case.error is not RobotLabError:
        assert type(error) is case.error, f"{type(error).__name__}: {msg}"
        assert isinstance(error, BUILTIN[case.error])
    assert isinstance(error, RobotLabError)
    if case.reason is not None:
        assert error.reason == case.reason, msg
    assert_short(msg)
    assert_language(msg, error.reason if case.reason is None else case.reason, lang)
    for snippet in case.expected(lang):
        assert snippet in msg, f"{snippet!r} not in: {msg}"
    for snippet in case.absent:
        assert snippet not in msg, f"{snippet!r} in: {msg}"
    for key in case.shows:
        assert_shows(msg, key, lang)
    # The message can be caught as the built-in error a pupil may know.
    assert error.args == (msg,)


# ---------------------------------------------------------------------------
# The line a message tells the pupil to type works
# ---------------------------------------------------------------------------

#: Where the suggestion starts: "Skriv fx", "type robot.backward(10)", "Mente du ...".
SUGGESTION_START = re.compile(r"\b(Skriv|skriv|Type|type|fx|for example|Mente du|Did you mean)\b")
#: A call or an assignment the pupil could type: robot.frem(20, vent=False), robot.fart = 50.
LINE_TO_TYPE = re.compile(r"""\b(?:robot\.\w+\([^()]*\)|Robot\([^()]*\)|robot\.\w+ = [\w.]+)""")

def lines_to_type(msg: str) -> list[str]:
    start = SUGGESTION_START.search(msg)
    assert start, f"no line to type in: {msg}"
    return LINE_TO_TYPE.findall(msg[start.end():])


@pytest.mark.parametrize("mistake", [
    pytest.param(call("forward", 10, wait="no"), id="forward-wait"),
    pytest.param(call("turn_right", 90, wait="no"), id="turn_right-wait"),
    pytest.param(call("frem", 10, vent="ja"), id="frem-vent"),
    pytest.param(call("drej_venstre", 90, vent="ja"), id="drej_venstre-vent"),
    pytest.param(call("beep", 440, 0.1, wait="no"), id="beep-wait"),
    pytest.param(call("bip", 440, 0.1, vent="ja"), id="bip-vent"),
    pytest.param(call("frem", -10), id="frem-negative"),
    pytest.param(call("drej_højre", -90), id="drej_højre-negative"),
    pytest.param(call("forward", 1e9), id="forward-too-far"),
    pytest.param(call("kør", 150, 0), id="kør-too-fast"),
    pytest.param(call("vent", "2"), id="vent-quoted"),
    pytest.param(call("bip", 10), id="bip-too-low"),
    pytest.param(call("led", 255, 0), id="led-two-numbers"),
    pytest.param(call("lys", 300, 0, 0), id="lys-rgb"),
    pytest.param(assign("fart", 0), id="fart-0"),
    pytest.param(call("speed"), id="speed()"),
    pytest.param(lambda r: r.distance < 10, id="distance<10"),
    pytest.param(lambda r: r.afstand + 1, id="afstand+1"),
    pytest.param(lambda r: bool(r.stødt), id="bool(stødt)"),
    pytest.param(assign("distance", 5), id="assign-measurement"),
    pytest.param(assign("forward", 10), id="assign-forward"),
    pytest.param(assign("drej_højre", 90), id="assign-drej_højre"),
    pytest.param(assign("lys", "rød"), id="assign-lys"),
    pytest.param(assign("stop", True), id="assign-stop"),
    pytest.param(assign("nulstil", True), id="assign-nulstil"),
    pytest.param(new_robot(noise="nej"), id="Robot-noise"),
    pytest.param(new_robot(arena=5), id="Robot-arena-number"),
    pytest.param(new_robot("labyrint"), id="Robot-kind-is-an-arena"),
    pytest.param(new_robot(seed="x"), id="Robot-seed"),
    pytest.param(new_robot(world=5), id="Robot-world"),
])
def test_the_line_to_type_works(lang, robot, mistake):
    with pytest.raises(RobotLabError) as info:
        mistake(robot)
    lines = lines_to_type(str(info.value))
    assert lines, f"no line to type in: {info.value}"
    for line in lines:
        scope = {"robot": robot, "Robot": Robot}
        if " = " in line:
            exec(line, scope)
        else:
            made = eval(line, scope)
            if isinstance(made, Robot):
                made.close()


# ---------------------------------------------------------------------------
# Things that should work (so the errors above are not over-eager)
# ---------------------------------------------------------------------------

def test_arena_aliases_load_the_same_arena():
    from simulator import builtin_arena_names
    for name, stem in builtin_arena_names().items():
        r = Robot(arena=name, noise=False)
        assert r._backend.world.arena.name == stem, name
        r.close()
    maze = Robot(bane="maze", noise=False)
    assert maze._backend.world.arena.name == "labyrint"
    maze.close()


@pytest.mark.parametrize("colour", ["rød", "red", "Rød", " blå ", "BLUE", "grå", "gray", "grey",
                                    "lyserød", "pink", "slukket", "off", "sluk", "turkis", "cyan"])
def test_colour_names_in_both_languages_work(robot, colour):
    robot.led(colour)
    robot.lys(colour)


def test_good_calls_work(robot):
    robot.forward(0)
    robot.frem(2.5)
    robot.tilbage(1)
    robot.drej_venstre(grader=10)
    robot.drej_højre(10, vent=True)
    robot.turn_left(degrees=5, wait=True)
    robot.kør(venstre=-100, højre=100)
    robot.drive(left=0, right=0)
    robot.vent(sekunder=0)
    robot.bip(hz=440, sekunder=0.1, vent=False)
    robot.led(255, 120, 0)
    robot.lys(0, 0, 0)
    robot.speed = 1
    robot.fart = 100
    assert robot.speed == 100
    robot.speed = 37.5
    assert robot.fart == 37.5
    assert robot.afstand() == robot.afstand()  # a read with parentheses is a number
    assert robot.color() == "hvid" and robot.color() == "white"


@pytest.mark.parametrize("setting, expected", [("en", "en"), ("EN", "en"), ("en_GB.UTF-8", "en"),
                                                ("da", "da"), ("", "da"), ("de", "da")])
def test_language_setting(monkeypatch, robot, setting, expected):
    monkeypatch.setenv("ROBOTLAB_LANG", setting)
    with pytest.raises(RobotTypeError) as info:
        robot.forward("x")
    assert_language(str(info.value), "not_a_number", expected)


def test_language_can_change_in_a_running_notebook(monkeypatch, robot):
    with pytest.raises(RobotValueError) as da:
        robot.frem(-5)
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    with pytest.raises(RobotValueError) as en:
        robot.frem(-5)
    assert_language(str(da.value), "negative_distance", "da")
    assert_language(str(en.value), "negative_distance", "en")
    assert "robot.tilbage(5)" in str(da.value) and "robot.tilbage(5)" in str(en.value)


# ---------------------------------------------------------------------------
# Danish aliases name their Danish parameters
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("use, param", [
    pytest.param(call("frem", "x"), "cm", id="frem-cm"),
    pytest.param(call("bip", "x"), "hz", id="bip-hz"),
    pytest.param(call("drej_venstre", "x"), "grader", id="drej_venstre-grader"),
    pytest.param(call("drej_højre", 1e6), "grader", id="drej_højre-grader-too-large"),
    pytest.param(call("kør", "a", 0), "venstre", id="kør-venstre"),
    pytest.param(call("kør", 0, 150), "højre", id="kør-højre"),
    pytest.param(call("vent", -1), "sekunder", id="vent-sekunder"),
    pytest.param(call("bip", 440, 100), "sekunder", id="bip-sekunder"),
    pytest.param(call("frem", 10, vent="ja"), "vent", id="frem-vent"),
    pytest.param(call("bip", 440, 0.1, vent="ja"), "vent", id="bip-vent"),
    pytest.param(assign("fart", "hurtig"), "fart", id="fart"),
])
def test_danish_alias_names_its_danish_parameter(lang, robot, use, param):
    with pytest.raises(RobotLabError) as info:
        use(robot)
    msg = str(info.value)
    assert re.search(rf"(^|\W){param}(\W|$)", msg), msg
    english = {"grader": "degrees", "venstre": "left", "højre": "right", "sekunder": "seconds",
               "vent": "wait", "fart": "speed"}.get(param)
    if english:
        assert not re.search(rf"(^|\W){english}(\W|$)", msg), msg


# ---------------------------------------------------------------------------
# Re-rendering an error in the other language
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("use, reason", [
    pytest.param(call("frem", -5), "negative_distance", id="negative_distance"),
    pytest.param(call("wait", 1e9), "too_large", id="too_large"),
    pytest.param(lambda r: r.distance < 10, "missing_parentheses", id="missing_parentheses"),
    pytest.param(lambda r: r.distance + 1, "missing_parentheses_value",
                 id="missing_parentheses_value"),
    pytest.param(call("speed"), "setting_not_callable", id="setting_not_callable"),
    pytest.param(call("led", "roed"), "unknown_colour", id="unknown_colour"),
    pytest.param(call("led", "xyz"), "unknown_colour", id="unknown_colour-list"),
    pytest.param(call("forward", "x"), "not_a_number", id="not_a_number"),
    pytest.param(call("frem", 10, vent="ja"), "not_bool", id="not_bool"),
    pytest.param(assign("distance", 5), "read_only", id="read_only"),
    pytest.param(assign("seed", 5), "read_only", id="read_only-setting"),
    pytest.param(assign("sped", 5), "new_attribute", id="new_attribute"),
    pytest.param(call("forward"), "wrong_arguments", id="wrong_arguments"),
    pytest.param(call("frem", 10, wait=False), "wrong_arguments", id="wrong_arguments-keyword"),
    pytest.param(call("forwad", 1), "unknown_attribute", id="unknown_attribute"),
    pytest.param(call("xyzzy", 1), "unknown_attribute", id="unknown_attribute-tab"),
    pytest.param(new_robot(arena="labyrinth"), "unknown_arena", id="unknown_arena"),
    pytest.param(new_robot("labyrint"), "unknown_robot_kind", id="unknown_robot_kind"),
    pytest.param(new_robot(arena=5), "name_expected", id="name_expected"),
    pytest.param(new_robot(world=None, arena=None), "name_expected", id="name_expected-None"),
    pytest.param(new_robot(world=5), "world_expected", id="world_expected"),
])
def test_text_in_the_other_language(lang, robot, use, reason):
    with pytest.raises(RobotLabError) as info:
        use(robot)
    error = info.value
    assert error.reason == reason
    assert error.text(lang) == str(error)
    assert_language(error.text(OTHER[lang]), reason, OTHER[lang])


# ---------------------------------------------------------------------------
# The message table
# ---------------------------------------------------------------------------

def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


#: Words that Danish borrowed unchanged (button labels in the live view).
SAME_IN_BOTH = {"got_other", "view_stop", "view_pause", "plot_robot_sim"}


@pytest.mark.parametrize("key", sorted(TABLE))
def test_message_has_both_languages_with_the_same_placeholders(key):
    entry = TABLE[key]
    for lang in LANGS:
        assert isinstance(entry.get(lang), str) and entry[lang].strip(), f"{key}: no {lang} text"
        assert "\n" not in entry[lang], f"{key}.{lang} is more than one line"
    assert placeholders(entry["da"]) == placeholders(entry["en"]), key
    assert entry["da"] != entry["en"] or key in SAME_IN_BOTH, f"{key}: Danish = English"


def _source_text() -> str:
    files = [p for d in ("robotlab", "simulator", "grading", "ble_bridge", "deploy")
             for p in (ROOT / d).rglob("*.py")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


#: Keys that are in the table but need not appear as a quoted string in the source.
UNUSED_ON_PURPOSE: dict[str, str] = {}


def test_arena_file_keys_follow_the_simulators_reasons():
    """loading.arena turns ArenaFileError(reason) into the key f"arena_{reason}", so those
    keys are never quoted in the source: check the reasons the simulator raises instead."""
    source = _source_text()
    assert 'f"arena_{exc.reason}"' in source
    reasons = set(re.findall(r'ArenaFileError\("(\w+)"', source))
    handled = {"unknown_arena": "unknown_arena", "file_not_found": "arena_file_not_found"}
    for reason in reasons:
        assert handled.get(reason, f"arena_{reason}") in TABLE, reason
    assert {k for k in TABLE if k.startswith("arena_")} == {
        handled.get(r, f"arena_{r}") for r in reasons if r != "unknown_arena"}


@pytest.mark.parametrize("key", [k for k in sorted(TABLE) if k not in UNUSED_ON_PURPOSE])
def test_message_key_is_used_in_the_source(key):
    source = _source_text()
    if key.startswith("view_"):
        from robotlab.view import LABEL_KEYS
        assert key[len("view_"):] in LABEL_KEYS, f"{key} is never shown by the live view"
        return
    if key.startswith("arena_") and key != "arena_file_not_found":
        assert f'ArenaFileError("{key[len("arena_"):]}"' in source, f"{key} is never raised"
        return
    assert re.search(rf"""["']{re.escape(key)}["']""", source), f"{key} is never used"


#: Keys shown by dedicated tests below rather than by CASES.
SHOWN_ELSEWHERE = {
    # Grading checks: each message is matched by a failing case in tests/grading/test_checks.py
    # (with the class's e2e test showing them in nbgrader feedback).
    **{key: "tests/grading/test_checks.py" for key in TABLE if key.startswith("check_")},
    "time_limit_reached": "test_checks.py::test_a_program_that_never_ends_is_stopped_with_a_friendly_message",
    "lessons_built": "tests/lessons/test_lessons.py::test_robotlab_lessons_build_makes_release_versions_without_solutions",
    "language_unknown": "tests/robotlab/test_language.py::test_a_language_robotlab_does_not_speak",
    # robotlab lessons build's failures and the teachers' overview: tests/lessons/test_lessons.py.
    **{key: "tests/lessons/test_lessons.py" for key in TABLE if key.startswith("lessons_")},
    # The experiment logbook: each message is matched by a test in test_experiment.py.
    **{key: "tests/robotlab/test_experiment.py" for key in TABLE if key.startswith("exp_")},
    **{key: "tests/robotlab/test_experiment_plot.py" for key in TABLE if key.startswith("plot_")},
    **{key: "tests/grading/test_course.py" for key in TABLE if key.startswith("course_")},
    **{key: "tests/robotlab/test_privacy.py" for key in TABLE if key.startswith("privacy_")},
    **{key: "tests/deploy/test_hub.py (the roster script)" for key in TABLE if key.startswith("hub_")},
    **{key: "tests/robotlab/test_experiment_form.py and tests/browser/test_hypothesis_card.py"
       for key in TABLE if key.startswith("form_")},
    "stopped_by_button": "test_live_view.py::test_the_stop_button_ends_a_long_move_while_the_cell_runs",
    **{key: "test_live_view.py::test_the_view_labels_come_from_the_message_table"
       for key in TABLE if key.startswith("view_")},
    "arena_bad_toml": "test_arena_file_message",
    "arena_missing_field": "test_arena_file_message",
    "arena_bad_number": "test_arena_file_message",
    "arena_floor_unreadable": "test_arena_file_message",
    "sim_window_title": "the window title; not an error (needs a display)",
    "stopped_by_interrupt": "test_notebook_says_why_the_robot_stopped",
    "profile_file_broken": "test_broken_profile_file_message",
    "emulate_running": "test_emulate_command_says_which_robots_run",
    "emulate_needs_bumble": "test_emulate_without_bumble_says_how_to_install_it",
    # Bluetooth robots: shown end to end against virtual robots, in both languages.
    "name_needs_ble": "test_bluetooth_e2e.py::test_a_robot_name_with_the_simulator_says_to_choose_bluetooth",
    "ble_no_bluetooth": "test_bluetooth_e2e.py::test_no_bluetooth_on_the_computer_suggests_the_simulator",
    **{key: "tests/ble_bridge/test_relay.py" for key in TABLE if key.startswith("relay_")},
    **{key: "tests/robotlab/test_lego_robot.py" for key in TABLE if key.startswith("lego_")},
    "ble_no_robot": "test_bluetooth_e2e.py::test_no_robot_in_range",
    "ble_several_robots": "test_bluetooth_e2e.py::test_several_robots_in_range_and_no_name_lists_them",
    "ble_unknown_name": "test_bluetooth_e2e.py::test_an_unknown_name_suggests_the_closest_robot_in_range",
    "ble_no_answer": "test_bluetooth_e2e.py::test_a_robot_that_never_answers_gives_a_time_out_not_a_hang",
    "ble_update_robotlab": "test_bluetooth_e2e.py::test_a_robot_of_another_major_version_says_which_side_to_update",
    "ble_update_firmware": "test_bluetooth_e2e.py::test_a_robot_of_another_major_version_says_which_side_to_update",
    "ble_link_lost": "test_bluetooth_e2e.py::test_a_link_that_does_not_come_back_is_reported_as_lost",
    "ble_link_interrupted": "test_bluetooth_e2e.py::test_a_link_dropped_mid_move_stops_the_robot_and_the_move_never_runs_twice",
    "ble_refused": "test_bluetooth_e2e.py::test_a_command_the_robot_refuses_is_named_with_the_reason",
    **{key: "tests/robotlab/test_microbit_discovery.py" for key in TABLE if key.startswith("microbit_")},
    **{key: "tests/browser/test_connect_panel.py" for key in TABLE if key.startswith("connect_")},
}


def test_broken_profile_file_message(lang, tmp_path):
    broken = tmp_path / "min_robot.toml"
    broken.write_text('id = "min_robot"\nradius_cm = 6\n', encoding="utf-8")
    with pytest.raises(RobotValueError) as info:
        Robot(profile=str(broken))
    msg = str(info.value)
    assert info.value.reason == "profile_file_broken"
    assert_language(msg.replace(info.value.params["detail"], ""), "profile_file_broken", lang)
    assert str(broken) in msg and "classroom.toml" in msg
    assert_short(msg)


def test_every_message_is_shown_by_a_passing_case():
    """'Must show every friendly message in both languages': each key is a reason or a
    sub-message of at least one case that is expected to pass (in both languages)."""
    shown = set(SHOWN_ELSEWHERE)
    for case in CASES:
        if case.bug is None:
            shown.add(case.reason)
            shown.update(case.shows)
    assert set(TABLE) - shown == set()


ARENA_FILES = [
    pytest.param('name = "min bane"\n', "arena_missing_field", "size_cm", id="missing-size"),
    pytest.param('size_cm = [0, 100]\n', "arena_bad_number", "size_cm", id="zero-size"),
    pytest.param('size_cm = [150, 100]\n[[obstacles]]\nx_cm = "a"\ny_cm = 1\nwidth_cm = 1\n'
                 'height_cm = 1\n', "arena_bad_number", "x_cm", id="text-as-number"),
    pytest.param('size_cm = [150, 100\n', "arena_bad_toml", None, id="bad-toml"),
    pytest.param('size_cm = [150, 100]\nfloor = "gulv.png"\n', "arena_floor_unreadable", None,
                 id="floor-missing"),
    pytest.param('size_cm = ["a", 100]\n', "arena_bad_number", "size_cm", id="text-in-size"),
]


@pytest.mark.parametrize("content, reason, detail", ARENA_FILES)
def test_arena_file_message(lang, tmp_path, content, reason, detail):
    bad = tmp_path / "min_bane.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(RobotValueError) as info:
        Robot(arena=str(bad))
    error = info.value
    msg = str(error)
    assert isinstance(error, ValueError) and error.reason == reason, msg
    if detail is not None:
        assert error.params["detail"] == detail, msg
    # tomllib's own description of a syntax error is English; judge the language without it.
    judged = msg.replace(error.params["detail"], "") if reason == "arena_bad_toml" else msg
    assert_language(judged, reason, lang)
    shown_path = "gulv.png" if reason == "arena_floor_unreadable" else "min_bane.toml"
    assert shown_path in msg
    assert not re.search(r"\(?(bad_number|missing_field|bad_toml|floor_unreadable)\)?", msg), msg
    assert "\n" not in msg and len(msg) < MAX_MESSAGE_CHARS + len(str(bad))


def test_arena_missing_field_example_fits_the_field(lang, tmp_path):
    bad = tmp_path / "min_bane.toml"
    bad.write_text("size_cm = [150, 100]\n[start]\nx_cm = 10\n", encoding="utf-8")
    with pytest.raises(RobotValueError) as info:
        Robot(arena=str(bad))
    assert info.value.reason == "arena_missing_field" and info.value.params["detail"] == "y_cm"
    assert "size_cm" not in str(info.value).replace(str(bad), "")


def run_cli(*argv) -> str:
    """What ``robotlab ...`` prints when it stops with an error."""
    from robotlab import cli
    with pytest.raises(SystemExit) as info:
        cli.main(list(argv))
    assert isinstance(info.value.code, str), info.value.code
    return info.value.code


def test_cli_unknown_arena_says_what_robot_says(lang):
    msg = run_cli("sim", "--arena", "labyrinth")
    assert_language(msg, "unknown_arena", lang)
    assert_shows(msg, "did_you_mean", lang)
    assert '--arena="labyrint"' in msg and "labyrint (maze)" in msg, msg
    assert_short(msg)
    with pytest.raises(RobotValueError) as robot_error:
        Robot(arena="labyrinth")
    assert msg == str(robot_error.value).replace('arena="labyrint"', '--arena="labyrint"')


def test_cli_missing_arena_file(lang, tmp_path):
    path = tmp_path / "ingen.toml"
    msg = run_cli("sim", "--bane", str(path))
    assert_language(msg, "arena_file_not_found", lang)
    assert str(path) in msg and "labyrint (maze)" in msg and "file_not_found" not in msg
    with pytest.raises(RobotValueError) as robot_error:
        Robot(arena=str(path))
    assert msg == str(robot_error.value)


def test_cli_broken_arena_file(lang, tmp_path):
    path = tmp_path / "min_bane.toml"
    path.write_text('name = "min bane"\n', encoding="utf-8")
    msg = run_cli("sim", "--arena", str(path))
    assert_language(msg, "arena_missing_field", lang)
    assert str(path) in msg and "size_cm" in msg


# ---------------------------------------------------------------------------
# Tracebacks stay out of RobotLab's internals
# ---------------------------------------------------------------------------

INTERNAL = ("robotlab/checks.py", "robotlab/colours.py", "robotlab/backends/",
            "robotlab/spelling.py", "robotlab/i18n.py", "robotlab/errors.py", "simulator/")


def library_frames(error: BaseException):
    """(relative path, function, hides itself) for each RobotLab frame of the traceback."""
    frames = []
    tb = error.__traceback__
    summaries = traceback.extract_tb(tb)
    for summary in summaries:
        assert tb is not None
        path = Path(summary.filename).resolve()
        rel = path.relative_to(ROOT).as_posix() if ROOT in path.parents else ""
        if rel.startswith(("robotlab/", "simulator/")):
            frames.append((rel, summary.name, bool(tb.tb_frame.f_locals.get("__tracebackhide__"))))
        tb = tb.tb_next
    return frames


TRACEBACK_CASES = [
    pytest.param(call("forward", "x"), True, id="forward-text"),
    pytest.param(call("frem", -5), True, id="frem-negative"),
    pytest.param(call("drej_højre", None), True, id="drej_højre-None"),
    pytest.param(call("wait", NAN), True, id="wait-nan"),
    pytest.param(call("kør", 200, 0), True, id="kør-too-fast"),
    pytest.param(call("beep", 5), True, id="beep-too-low"),
    pytest.param(call("led", "roed"), True, id="led-unknown-colour"),
    pytest.param(call("lys", 5), True, id="lys-number"),
    pytest.param(call("led", 300, 0, 0), True, id="led-rgb"),
    pytest.param(call("led", 255, 0), True, id="led-two-numbers"),
    pytest.param(call("forward"), True, id="forward-missing-argument"),
    pytest.param(call("frem", 10, vnet=True), True, id="frem-unknown-keyword"),
    pytest.param(call("forward", 10, wait="no"), True, id="forward-wait-text"),
    pytest.param(lambda r: (r.close(), r.forward(1)), True, id="closed"),
    pytest.param(assign("sped", 50), False, id="new-attribute"),
    pytest.param(assign("distance", 5), False, id="assign-measurement"),
    pytest.param(assign("forward", 10), False, id="assign-command"),
    pytest.param(assign("seed", 3), False, id="assign-seed"),
    pytest.param(assign("speed", "fast"), False, id="speed-text"),
    pytest.param(assign("fart", 0), False, id="fart-0"),
    pytest.param(call("speed"), False, id="speed()"),
    pytest.param(call("forwad", 10), False, id="misspelled-method"),
    pytest.param(lambda r: r.distance < 10, False, id="distance<10"),
    pytest.param(lambda r: r.farve == "rød", False, id="farve=='rød'"),
    pytest.param(lambda r: bool(r.bumped), False, id="bool(bumped)"),
    pytest.param(lambda r: r.distance + 1, False, id="distance+1"),
    pytest.param(lambda r: int(r.afstand), False, id="int(afstand)"),
    pytest.param(new_robot(arena="labyrinth"), False, id="Robot-arena"),
    pytest.param(new_robot(arena=5), False, id="Robot-arena-number"),
    pytest.param(new_robot(arena="ingen.toml"), False, id="Robot-arena-file"),
    pytest.param(new_robot("simm"), False, id="Robot-kind"),
    pytest.param(new_robot("labyrint"), False, id="Robot-kind-is-an-arena"),
    pytest.param(new_robot(noise="x"), False, id="Robot-noise"),
    pytest.param(new_robot(profile="x"), False, id="Robot-profile"),
    pytest.param(new_robot(seed="x"), False, id="Robot-seed"),
    pytest.param(new_robot(world=5), False, id="Robot-world"),
    pytest.param(new_robot(arean="tom"), False, id="Robot-keyword"),
]


@pytest.mark.parametrize("use, is_method", TRACEBACK_CASES)
def test_traceback_stays_out_of_the_library(robot, use, is_method):
    with pytest.raises(RobotLabError) as info:
        use(robot)
    frames = library_frames(info.value)
    internal = [f for f in frames if f[0].startswith(INTERNAL)]
    assert not internal, f"frames in RobotLab's internals: {frames}"
    shown = [f for f in frames if not f[2]]
    assert not shown, f"RobotLab frames without __tracebackhide__: {frames}"
    if is_method:
        assert all(path == "robotlab/pupil.py" for path, _, _ in frames), frames
    error = info.value
    assert error.__suppress_context__ or error.__context__ is None, \
        "a chained exception would print a second traceback"


# ---------------------------------------------------------------------------
# The robot stops on an error
# ---------------------------------------------------------------------------

STOP_CASES = [
    pytest.param(call("forward", "x"), id="forward-text"),
    pytest.param(call("frem", -10), id="frem-negative"),
    pytest.param(call("turn_left", NAN), id="turn_left-nan"),
    pytest.param(call("drive", 150, 50), id="drive-too-fast"),
    pytest.param(call("vent", -1), id="vent-negative"),
    pytest.param(call("beep", "høj"), id="beep-text"),
    pytest.param(call("led", "roed"), id="led-unknown-colour"),
    pytest.param(call("led", 255, 0), id="led-two-numbers"),
    pytest.param(call("lys", 1, 2, 300), id="lys-rgb"),
    pytest.param(call("forward", 10, wait="no"), id="forward-wait-text"),
    pytest.param(call("forward"), id="forward-missing-argument"),
    pytest.param(call("frem", 10, vnet=False), id="frem-unknown-keyword"),
    pytest.param(call("frem", 10, wait=False), id="frem-english-keyword"),
    pytest.param(call("afstand", 5), id="afstand-argument"),
    pytest.param(call("forwad", 10), id="misspelled-method"),
    pytest.param(lambda r: r.sped, id="read-misspelled-setting"),
    pytest.param(assign("sped", 50), id="new-attribute"),
    pytest.param(assign("speed", "fast"), id="speed-text"),
    pytest.param(assign("fart", 0), id="fart-0"),
    pytest.param(assign("distance", 5), id="assign-measurement"),
    pytest.param(assign("forward", 10), id="assign-command"),
    pytest.param(assign("seed", 3), id="assign-seed"),
    pytest.param(lambda r: r.distance < 10, id="distance<10"),
    pytest.param(lambda r: r.line == [True, True], id="line==list"),
    pytest.param(lambda r: bool(r.stødt), id="bool(stødt)"),
    pytest.param(lambda r: r.distance + 1, id="distance+1"),
    pytest.param(lambda r: f"{r.kørt:.1f}", id="format(kørt)"),
    pytest.param(call("speed"), id="speed()"),
]


def odometer_change(r, seconds: float = 1.0) -> float:
    before = r.odometer()
    r.wait(seconds)
    return r.odometer() - before


def test_driving_robot_moves(robot):
    """The control for the stop tests: without an error the robot keeps going."""
    robot.drive(50, 50)
    robot.wait(0.5)
    assert robot._backend.body.moving
    assert odometer_change(robot) > 5


@pytest.mark.parametrize("mistake", STOP_CASES)
def test_robot_stops_on_error(robot, mistake):
    robot.drive(50, 50)
    robot.wait(0.5)
    assert robot._backend.body.moving
    with pytest.raises(RobotLabError):
        mistake(robot)
    assert not robot._backend.body.moving
    assert odometer_change(robot) == 0
    robot.forward(5)  # and it can carry on afterwards
    assert not robot._backend.body.moving


# ---------------------------------------------------------------------------
# Interrupting the kernel stops the robot
# ---------------------------------------------------------------------------

def interrupt_on(monkeypatch, r, n: int) -> dict:
    """Make the n-th world.advance run half its time and then raise KeyboardInterrupt,
    the way Python raises it in whatever code runs when the stop button is pressed."""
    world, body = r._backend.world, r._backend.body
    original = world.advance
    state = {"calls": 0, "moving": None, "raised": False}

    def advance(dt):
        state["calls"] += 1
        if state["calls"] == n:
            original(dt / 2)
            state["moving"] = body.moving
            state["raised"] = True
            raise KeyboardInterrupt
        original(dt)

    monkeypatch.setattr(world, "advance", advance)
    return state


INTERRUPTED = [
    pytest.param(lambda r: r.forward(50), 1, id="forward"),
    pytest.param(lambda r: r.frem(50), 1, id="frem"),
    pytest.param(lambda r: r.backward(50), 1, id="backward"),
    pytest.param(lambda r: r.turn_left(720), 1, id="turn_left"),
    pytest.param(lambda r: r.drej_højre(720), 1, id="drej_højre"),
    pytest.param(lambda r: (r.drive(50, 50), r.wait(5)), 1, id="drive+wait"),
    pytest.param(lambda r: (r.kør(50, -50), r.vent(5)), 1, id="kør+vent"),
    pytest.param(lambda r: (r.drive(40, 60), r.beep(440, 2)), 1, id="drive+beep"),
    pytest.param(lambda r: (r.drive(50, 50), [r.distance() for _ in range(10)]), 3,
                 id="drive+distance"),
    pytest.param(lambda r: (r.kør(50, 50), [r.afstand() for _ in range(10)]), 3,
                 id="kør+afstand"),
    pytest.param(lambda r: (r.drive(50, 50), [r.color() for _ in range(10)]), 2, id="drive+color"),
]


@pytest.mark.parametrize("program, n", INTERRUPTED)
def test_interrupt_stops_the_robot(monkeypatch, robot, program, n):
    state = interrupt_on(monkeypatch, robot, n)
    with pytest.raises(KeyboardInterrupt):
        program(robot)
    assert state["raised"] and state["moving"], "the interrupt should come while the robot moves"
    body = robot._backend.body
    assert not body.moving
    assert body.wheel_speeds == (0.0, 0.0)
    monkeypatch.undo()
    assert odometer_change(robot) == 0
    robot.forward(5)  # still usable after the interrupt
    assert not body.moving


def test_interrupt_stops_a_paced_robot(monkeypatch):
    """With pacing on (as in a notebook) a move runs in frames; interrupt on the third."""
    monkeypatch.setenv("ROBOTLAB_PACE", "20")     # frames of 2/3 s of virtual time
    r = Robot(noise=False)
    assert r._backend.paced
    state = interrupt_on(monkeypatch, r, 3)
    with pytest.raises(KeyboardInterrupt):
        r.frem(50)
    assert state["moving"] and not r._backend.body.moving
    assert 0 < r._backend.body.encoders_cm[0] < 50
    r.close()


def cell_result(error: BaseException | None):
    """What IPython passes to a post_run_cell hook (ExecutionResult's fields used here)."""
    from types import SimpleNamespace
    return SimpleNamespace(success=error is None, error_in_exec=error, error_before_exec=None)


@pytest.fixture
def notebook_with(monkeypatch):
    """The notebook module tracking the given robots, with IPython's display switched off."""
    import IPython.display

    from robotlab import notebook
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: None)

    def track(*robots):
        monkeypatch.setattr(notebook, "_robots", weakref.WeakSet(robots))
        return notebook
    return track


def test_interrupt_between_robot_calls_is_stopped_by_the_notebook(notebook_with, robot):
    """`robot.drive(50, 50)` then `while True: pass`: the interrupt arrives in the pupil's own
    code, so the cell's failure hook has to stop the robot."""
    notebook = notebook_with(robot)
    robot.drive(50, 50)
    robot.wait(0.2)
    notebook._after_cell(cell_result(KeyboardInterrupt()))
    assert not robot._backend.body.moving
    assert odometer_change(robot) == 0


def test_notebook_says_why_the_robot_stopped(lang, notebook_with, robot, capsys):
    notebook = notebook_with(robot)
    robot.drive(50, 50)
    notebook._after_cell(cell_result(KeyboardInterrupt()))
    assert capsys.readouterr().out == TABLE["stopped_by_interrupt"][lang] + "\n"


@pytest.mark.parametrize("result", [
    pytest.param(cell_result(None), id="success"),
    pytest.param(cell_result(RobotValueError("negative_distance", call="robot.frem()",
                                             example="robot.tilbage(5)")), id="pupil-error"),
    pytest.param(cell_result(ZeroDivisionError()), id="other-error"),
])
def test_notebook_is_quiet_without_an_interrupt(notebook_with, robot, capsys, result):
    notebook_with(robot)._after_cell(result)
    assert capsys.readouterr().out == ""


def test_notebook_interrupt_without_robots_says_nothing(notebook_with, capsys):
    notebook_with()._after_cell(cell_result(KeyboardInterrupt()))
    assert capsys.readouterr().out == ""


def test_closed_robot_can_be_displayed(robot):
    robot.close()
    assert robot._backend.world is None
    assert robot._repr_png_() is None
    assert repr(robot) == "Robot(closed)"


@pytest.mark.parametrize("error", [None, ZeroDivisionError(), KeyboardInterrupt()],
                         ids=["success", "error", "interrupt"])
def test_notebook_hook_survives_a_closed_robot(notebook_with, error):
    closed, running = Robot(noise=False), Robot(noise=False)
    closed.close()
    running.drive(50, 50)
    notebook_with(closed, running)._after_cell(cell_result(error))
    assert running._backend.body.moving == (error is None)
    running.close()

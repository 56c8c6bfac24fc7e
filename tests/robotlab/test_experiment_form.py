"""The hypothesis card (robotlab.experiment_form) driven in-process, without a browser.

The test plays the pupil: it sets the widgets' values and clicks their buttons,
then checks that the experiment's file holds exactly the events that the same
steps typed with the API write (times aside), that errors are shown in the
card's message area instead of being raised, and that nothing is lost by them.
The card in a real browser is tested in tests/browser/test_hypothesis_card.py.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import pytest

from robotlab import Experiment
from robotlab.experiment import Logbook
from robotlab.experiment_form import HypothesisCard, parse_number
from robotlab.i18n import message

QUESTION = "Hvor langt kører robotten på 2 sekunder?"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return tmp_path


def events(path) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "time"} for e in Logbook.read(Path(path))]


def shown(card: HypothesisCard) -> str:
    return card.message.value


def by_class(widget, name: str):
    """The one widget in ``widget``'s tree with CSS class ``robotlab-card-<name>``."""
    found = []

    def walk(w):
        if f"robotlab-card-{name}" in getattr(w, "_dom_classes", ()):
            found.append(w)
        for child in getattr(w, "children", ()):
            walk(child)
    walk(widget)
    assert len(found) == 1, (name, found)
    return found[0]


def save_hypothesis(card, text, prediction="", name=""):
    card.hypothesis.value = text
    card.prediction.value = prediction
    card.measurement_name.value = name
    card.save_hypothesis.click()


def add(card, value):
    card.value.value = value if isinstance(value, str) else str(value)
    card.add.click()


def conclude(card, text, supported):
    card.conclusion.value = text
    card.supported.value = supported
    card.save_conclusion.click()


def test_the_card_writes_the_same_file_as_the_api(tmp_path):
    exp = Experiment(QUESTION, folder=tmp_path / "form")
    card = HypothesisCard(exp)
    save_hypothesis(card, "Den kører 30 cm", "30", "afstand")
    add(card, 28)
    add(card, 29.5)
    conclude(card, "Den kørte kortere", False)
    card.new_cycle.click()
    save_hypothesis(card, "Den kører 25 cm, fordi den skal sætte farten op", "25,5", "afstand")
    add(card, 24)
    conclude(card, "Ja, næsten", True)
    card.new_cycle.click()
    save_hypothesis(card, "Uden forudsigelse", "", "tid")     # no prediction this time
    add(card, 2.25)
    conclude(card, "Tiden passer", True)
    assert shown(card) == ""

    api = Experiment(QUESTION, folder=tmp_path / "api")
    api.hypothesis("Den kører 30 cm", prediction=30, measurement="afstand")
    api.trial()
    api.record(afstand=28)
    api.record(afstand=29.5)
    api.conclude("Den kørte kortere", supported=False)
    api.revise("Den kører 25 cm, fordi den skal sætte farten op", prediction=25.5,
               measurement="afstand")
    api.trial()
    api.record(afstand=24)
    api.conclude("Ja, næsten", supported=True)
    api.revise("Uden forudsigelse", measurement="tid")
    api.trial()
    api.record(tid=2.25)
    api.conclude("Tiden passer", supported=True)

    assert events(exp.path) == events(api.path)
    # Byte for byte too, times aside: 28 is written as 28, as the API writes it, not 28.0.
    strip = lambda path: [line.rsplit(', "time"', 1)[0] for line in  # noqa: E731
                          Path(path).read_text(encoding="utf-8").splitlines()]
    assert strip(exp.path) == strip(api.path)
    assert [c.text for c in exp.cycles] == [c.text for c in api.cycles]


def test_the_widget_tree_has_every_control_with_its_class():
    exp = Experiment(QUESTION)
    widget = exp.form()
    assert isinstance(widget, widgets.VBox)
    assert "robotlab-card" in widget._dom_classes
    kinds = {
        "title": widgets.HTML, "question": widgets.HTML, "hypothesis": widgets.Textarea,
        "prediction": widgets.Text, "measurement-name": widgets.Text,
        "save-hypothesis": widgets.Button, "new-cycle": widgets.Button,
        "value": widgets.Text, "add": widgets.Button, "values": widgets.HTML,
        "conclusion": widgets.Textarea, "supported": widgets.ToggleButtons,
        "save-conclusion": widgets.Button, "message": widgets.HTML,
    }
    for name, kind in kinds.items():
        assert isinstance(by_class(widget, name), kind), name
    assert QUESTION in by_class(widget, "question").value
    assert message("form_title") in by_class(widget, "title").value


def test_sections_open_in_order():
    exp = Experiment(QUESTION)
    card = HypothesisCard(exp)
    # Before a hypothesis: only the hypothesis can be written.
    assert not card.save_hypothesis.disabled and not card.hypothesis.disabled
    assert card.add.disabled and card.value.disabled
    assert card.save_conclusion.disabled and card.conclusion.disabled
    assert card.new_cycle.disabled
    save_hypothesis(card, "30 cm", "30", "afstand")
    assert card.hypothesis.disabled and card.save_hypothesis.disabled
    assert card.measurement_name.disabled                  # named with the hypothesis
    assert not card.add.disabled and not card.conclusion.disabled
    assert card.save_conclusion.disabled                   # yes or no first
    card.supported.value = False
    assert not card.save_conclusion.disabled
    add(card, 28)
    assert "Cyklus 1" in card.title.value
    conclude(card, "Kortere", False)
    assert card.add.disabled and card.conclusion.disabled and card.save_conclusion.disabled
    assert not card.new_cycle.disabled
    card.new_cycle.click()
    assert "Cyklus 2" in card.title.value
    assert card.hypothesis.value == "" and card.conclusion.value == ""
    assert card.supported.value is None and card.values.value == ""
    assert card.measurement_name.value == "afstand"        # kept for the next cycle
    assert not card.save_hypothesis.disabled and card.add.disabled and card.new_cycle.disabled


def test_the_values_so_far_are_listed():
    exp = Experiment(QUESTION)
    card = HypothesisCard(exp)
    save_hypothesis(card, "30 cm", "30", "afstand")
    assert "<td" not in card.values.value
    add(card, 28)
    add(card, 29.5)
    values = card.values.value
    assert "afstand" in values
    assert values.index(">28<") < values.index(">29.5<")
    assert [r["repeat"] for r in exp.rows()] == [1, 2]
    assert {r["trial"] for r in exp.rows()} == {1}          # one trial, repeats in it


def test_a_name_can_still_be_given_before_the_first_measurement():
    exp = Experiment(QUESTION)
    card = HypothesisCard(exp)
    save_hypothesis(card, "30 cm", "30", "")
    assert exp.cycles[0].measurement is None
    assert not card.measurement_name.disabled
    add(card, 28)                                           # no name yet: the experiment says
    assert message("form_fill_name") in \
        card.message.value.replace("&quot;", '"')
    assert [e["event"] for e in events(exp.path)] == ["experiment", "hypothesis"]
    card.measurement_name.value = "kørt"
    add(card, 28)
    assert card.message.value == ""
    assert card.measurement_name.disabled                  # fixed by the first measurement
    assert exp.rows()[0]["kørt"] == 28


ERRORS = [
    pytest.param(lambda card: save_hypothesis(card, "   ", "30", "afstand"),
                 "Skriv din hypotese i feltet", ["experiment"], id="empty-hypothesis"),
    pytest.param(lambda card: save_hypothesis(card, "30 cm", "tredive", "afstand"),
                 "en forudsigelse skal være et tal", ["experiment"], id="prediction-not-a-number"),
]


@pytest.mark.parametrize("step, text, kinds", ERRORS)
def test_a_wrong_first_step_is_shown_not_raised(step, text, kinds):
    exp = Experiment(QUESTION)
    card = HypothesisCard(exp)
    step(card)
    assert text in card.message.value
    assert "robotlab-card-error" in card.message.value
    assert [e["event"] for e in events(exp.path)] == kinds
    # The boxes keep what was written; fixing it and saving again works.
    assert card.measurement_name.value == "afstand"
    save_hypothesis(card, "30 cm", "30", "afstand")
    assert card.message.value == ""
    assert [e["event"] for e in events(exp.path)] == ["experiment", "hypothesis"]


def test_later_errors_are_shown_and_lose_nothing():
    exp = Experiment(QUESTION)
    card = HypothesisCard(exp)
    save_hypothesis(card, "Den kører 30 cm", "30", "afstand")
    # A conclusion before any measurement.
    conclude(card, "Den kørte kortere", False)
    assert "Tilføj først en måling" in card.message.value
    assert card.conclusion.value == "Den kørte kortere"     # kept, to save later
    before = events(exp.path)
    assert [e["event"] for e in before] == ["experiment", "hypothesis"]
    add(card, 28)
    add(card, 29.5)
    assert card.message.value == ""                         # the message goes with a good step
    before = events(exp.path)
    # An empty conclusion.
    conclude(card, "  ", False)
    assert "Skriv din konklusion i feltet" in card.message.value
    assert events(exp.path) == before
    # Not a finite number (a FloatText can hold inf when set from Python).
    add(card, float("inf"))
    assert "robotlab-card-error" in card.message.value
    assert events(exp.path) == before
    conclude(card, "Den kørte kortere", False)
    assert card.message.value == ""
    kinds = [e["event"] for e in events(exp.path)]
    assert kinds == ["experiment", "hypothesis", "trial", "record", "record", "conclusion"]
    assert [r["afstand"] for r in exp.rows()] == [28, 29.5]


def test_clicks_on_disabled_buttons_do_nothing():
    """A click sent by the browser just before the kernel disabled the button is ignored."""
    exp = Experiment(QUESTION)
    card = HypothesisCard(exp)
    card.add.click()
    card.save_conclusion.click()
    card.new_cycle.click()
    save_hypothesis(card, "30 cm", "30", "afstand")
    card.save_hypothesis.click()                            # a double click
    assert card.message.value == ""
    assert [e["event"] for e in events(exp.path)] == ["experiment", "hypothesis"]


def test_the_experiment_can_also_be_filled_by_code_in_between():
    exp = Experiment(QUESTION)
    card = HypothesisCard(exp)
    save_hypothesis(card, "30 cm", "30", "afstand")
    exp.trial(fart=50)                                      # the pupil's own trial, in a cell
    add(card, 28)                                           # recorded in that trial
    assert exp.rows()[0] == {"cycle": 1, "trial": 1, "repeat": 1, "fart": 50, "afstand": 28,
                             "predicted": 30}
    exp.record(afstand=27)
    add(card, 29)
    assert [r["repeat"] for r in exp.rows()] == [1, 2, 3]
    assert ">27<" in card.values.value


def test_a_card_for_an_experiment_with_cycles_starts_where_it_is():
    exp = Experiment(QUESTION)
    exp.hypothesis("Den kører 30 cm", prediction=30, measurement="afstand")
    exp.record(afstand=28)
    card = HypothesisCard(exp)
    assert card.hypothesis.value == "Den kører 30 cm" and card.prediction.value == "30"
    assert card.measurement_name.value == "afstand" and card.hypothesis.disabled
    assert not card.add.disabled and ">28<" in card.values.value
    conclude(card, "Kortere", False)
    again = HypothesisCard(exp)
    assert again.conclusion.value == "Kortere" and again.supported.value is False
    assert not again.new_cycle.disabled and again.save_conclusion.disabled
    again.new_cycle.click()
    save_hypothesis(again, "25 cm", "25", "afstand")       # revise, as cycle 2
    assert [c.number for c in exp.cycles] == [1, 2]
    assert [e["event"] for e in events(exp.path)][-1] == "hypothesis"


def test_what_the_experiment_prints_is_shown_in_the_card(capsys):
    exp = Experiment(QUESTION)
    exp.hypothesis("Halvt så langt som farten", prediction={20: 10, 50: 25})
    exp.trial(fart=70)                                      # not in the table
    card = HypothesisCard(exp)
    capsys.readouterr()
    card.measurement_name.value = "afstand"
    add(card, 33)
    assert "Målingen er gemt" in card.message.value
    assert "robotlab-card-error" not in card.message.value
    assert capsys.readouterr().out == ""                    # shown in the card, not lost
    assert exp.rows()[0]["afstand"] == 33


def test_english_labels(monkeypatch):
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    exp = Experiment("How far does the robot drive in 2 seconds?")
    card = HypothesisCard(exp)
    texts = " ".join(w.value for w in _all(card.widget) if isinstance(w, widgets.HTML))
    for label in ("Hypothesis card", "Question", "Hypothesis: what do you think will happen?",
                  "Prediction (a number)", "What do you measure?", "Measurement (a number)",
                  "Conclusion: what did you find out?", "Was the hypothesis supported?",
                  "Cycle 1"):
        assert label in texts, label
    buttons = [b.description for b in (card.save_hypothesis, card.new_cycle, card.add,
                                       card.save_conclusion)]
    assert buttons == ["Save hypothesis", "New hypothesis", "Add measurement", "Save conclusion"]
    assert [label for label, _ in card.supported.options] == ["Yes", "No"]
    save_hypothesis(card, "", "30", "distance")
    assert "Write your hypothesis in the box" in card.message.value


def test_danish_labels_by_default():
    card = HypothesisCard(Experiment(QUESTION))
    assert [b.description for b in (card.save_hypothesis, card.new_cycle, card.add,
                                    card.save_conclusion)] == \
        ["Gem hypotese", "Ny hypotese", "Tilføj måling", "Gem konklusion"]
    assert [label for label, _ in card.supported.options] == ["Ja", "Nej"]


def _all(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _all(child)


@pytest.mark.parametrize("text, number", [
    ("30", 30), (" 30 ", 30), ("29.5", 29.5), ("29,5", 29.5), ("-3", -3), ("1e3", 1000.0),
    ("", None), ("tredive", None), ("30 cm", None), ("inf", None), ("nan", None), ("1,2.3", None),
])
def test_parse_number(text, number):
    assert parse_number(text) == number
    if number is not None:
        assert type(parse_number(text)) is type(number)


@pytest.mark.parametrize("typed", ["", "  ", "tyve", "28 cm"])
def test_a_value_that_is_not_a_number_records_nothing_and_says_so(typed, tmp_path):
    exp = Experiment("Hvor langt?", folder=tmp_path)
    card = HypothesisCard(exp)
    card.hypothesis.value = "30 cm"
    card.measurement_name.value = "afstand"
    card.save_hypothesis.click()
    before = events(exp.path)
    add(card, typed)
    assert "Målingen skal være et tal" in card.message.value
    assert [e["event"] for e in events(exp.path)] == [e["event"] for e in before]
    add(card, "29,5")                      # a Danish decimal comma
    assert exp.rows()[0]["afstand"] == 29.5 and card.value.value == ""

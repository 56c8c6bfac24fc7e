"""The hypothesis card (hypotesekort): an experiment filled in with boxes and buttons.

For the youngest pupils: ``exp.form()`` shows a small form that fills the *same*
``Experiment`` through its public methods, so the file it writes is exactly what
the API would write:

* "Gem hypotese" -> ``exp.hypothesis(text, prediction=..., measurement=name)``
  in the first cycle, ``exp.revise(...)`` in later ones ("Ny hypotese" starts
  one after a conclusion);
* "Tilføj måling" -> ``exp.trial()`` once per cycle, then
  ``exp.record(**{name: value})`` per click (repeats);
* "Gem konklusion" -> ``exp.conclude(text, supported=...)``.

The experiment checks every step; its friendly messages (an empty hypothesis, a
conclusion before any measurement, ...) are shown in the card's message area
instead of being raised, and whatever the experiment printed (a prediction that
does not fit) is shown there too. Nothing already recorded is touched by an
error, and the boxes keep what the pupil wrote so it can be fixed.

What the card shows and allows is worked out from the experiment each time, so
a card made for an experiment that already has cycles (``resume=True``, or a
second ``exp.form()``) starts where the experiment is. Every control has a CSS
class ``robotlab-card-<name>`` (tests and teachers' style sheets find it by it).

Browser -> kernel widget messages are handled between cells, which suits a
form: the pupil fills it in while no cell runs.
"""

from __future__ import annotations

import contextlib
import html
import io
import math

import ipywidgets as widgets

from . import checks
from .errors import RobotLabError
from .experiment import ExperimentError
from .i18n import message

WIDTH = "640px"
ERROR_STYLE = ("color:#8a1c1c;background:#fdecea;border:1px solid #f5c2c0;"
               "border-radius:4px;padding:4px 8px;margin:2px 0")
INFO_STYLE = ("color:#1f3b5a;background:#eaf2fb;border:1px solid #c4d9f0;"
              "border-radius:4px;padding:4px 8px;margin:2px 0")


#: API messages (which show code) replaced by plain words in the card.
FORM_MESSAGES = {
    "exp_hypothesis_empty": "form_fill_hypothesis",
    "exp_conclusion_empty": "form_fill_conclusion",
    "exp_nothing_recorded": "form_fill_name",
    "exp_conclude_before_trial": "form_measure_first",
}


def parse_number(text: str):
    """A number as a pupil writes it ("30", "29.5", "29,5"), or None if it is not one.

    Whole numbers come back as ``int`` (``exp.hypothesis(..., prediction=30)``
    writes 30, not 30.0).
    """
    text = text.strip().replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _label(key: str, name: str) -> widgets.HTML:
    label = widgets.HTML(f"<b>{html.escape(message(key))}</b>")
    label.add_class(f"robotlab-card-{name}-label")
    return label


class HypothesisCard:
    """A form that fills ``experiment`` (an ``Experiment``) one cycle at a time.

    ``widget`` is the ipywidgets ``VBox`` to show. Example: ``exp.form()``.
    """

    def __init__(self, experiment):
        from .experiment import Experiment
        if not isinstance(experiment, Experiment):
            raise TypeError(f"HypothesisCard needs an Experiment, not {type(experiment).__name__}")
        self.experiment = experiment
        self._drafting = False      # "Ny hypotese" was clicked: the next cycle is being written
        full = widgets.Layout(width="100%")

        self.title = widgets.HTML()
        self.title.add_class("robotlab-card-title")
        self.question = widgets.HTML(
            f"<b>{html.escape(message('form_question'))}:</b> "
            f"{html.escape(experiment.question)}")
        self.question.add_class("robotlab-card-question")

        # -- the hypothesis -----------------------------------------------------------
        self.hypothesis = widgets.Textarea(rows=2, layout=full)
        self.hypothesis.add_class("robotlab-card-hypothesis")
        self.prediction = widgets.Text(layout=widgets.Layout(width="12em"))
        self.prediction.add_class("robotlab-card-prediction")
        self.measurement_name = widgets.Text(placeholder=message("form_measurement_placeholder"),
                                             layout=widgets.Layout(width="12em"))
        self.measurement_name.add_class("robotlab-card-measurement-name")
        self.save_hypothesis = widgets.Button(description=message("form_save_hypothesis"),
                                              button_style="primary",
                                              layout=widgets.Layout(width="auto"))
        self.save_hypothesis.add_class("robotlab-card-save-hypothesis")
        self.new_cycle = widgets.Button(description=message("form_new_cycle"),
                                        layout=widgets.Layout(width="auto"))
        self.new_cycle.add_class("robotlab-card-new-cycle")
        hypothesis_box = widgets.VBox([
            _label("form_hypothesis", "hypothesis"), self.hypothesis,
            widgets.HBox([
                widgets.VBox([_label("form_prediction", "prediction"), self.prediction],
                             layout=widgets.Layout(margin="0 1.5em 0 0")),
                widgets.VBox([_label("form_measurement_name", "measurement-name"),
                              self.measurement_name]),
            ]),
            widgets.HBox([self.save_hypothesis, self.new_cycle],
                         layout=widgets.Layout(margin="4px 0 0 0")),
        ])
        hypothesis_box.add_class("robotlab-card-hypothesis-section")

        # -- the measurements ---------------------------------------------------------
        # A text box, not FloatText: it can be empty (FloatText shows 0 and would record 0)
        # and takes a Danish decimal comma.
        self.value = widgets.Text(value="", placeholder=message("form_value_placeholder"),
                                  layout=widgets.Layout(width="12em"))
        self.value.add_class("robotlab-card-value")
        self.add = widgets.Button(description=message("form_add"), button_style="primary",
                                  layout=widgets.Layout(width="auto"))
        self.add.add_class("robotlab-card-add")
        self.values = widgets.HTML()
        self.values.add_class("robotlab-card-values")
        measure_box = widgets.VBox([
            _label("form_value", "value"),
            widgets.HBox([self.value, self.add]),
            self.values,
        ])
        measure_box.add_class("robotlab-card-measure-section")

        # -- the conclusion -----------------------------------------------------------
        self.conclusion = widgets.Textarea(rows=2, layout=full)
        self.conclusion.add_class("robotlab-card-conclusion")
        self.supported = widgets.ToggleButtons(
            options=[(message("form_yes"), True), (message("form_no"), False)], value=None,
            style={"button_width": "5em"})
        self.supported.add_class("robotlab-card-supported")
        self.save_conclusion = widgets.Button(description=message("form_save_conclusion"),
                                              button_style="primary",
                                              layout=widgets.Layout(width="auto"))
        self.save_conclusion.add_class("robotlab-card-save-conclusion")
        conclusion_box = widgets.VBox([
            _label("form_conclusion", "conclusion"), self.conclusion,
            _label("form_supported", "supported"), self.supported,
            widgets.HBox([self.save_conclusion], layout=widgets.Layout(margin="4px 0 0 0")),
        ])
        conclusion_box.add_class("robotlab-card-conclusion-section")

        self.message = widgets.HTML()
        self.message.add_class("robotlab-card-message")

        section = widgets.Layout(border="1px solid #d0d7de", padding="4px 10px 8px 10px",
                                 margin="4px 0")
        for box in (hypothesis_box, measure_box, conclusion_box):
            box.layout = section
        self.widget = widgets.VBox(
            [self.title, self.question, hypothesis_box, measure_box, conclusion_box,
             self.message],
            layout=widgets.Layout(max_width=WIDTH, padding="4px"))
        self.widget.add_class("robotlab-card")

        self.save_hypothesis.on_click(self._guarded(self._save_hypothesis))
        self.new_cycle.on_click(self._guarded(self._start_new_cycle))
        self.add.on_click(self._guarded(self._add))
        self.save_conclusion.on_click(self._guarded(self._save_conclusion))
        self.supported.observe(lambda change: self._refresh(), names="value")

        self._fill_from_experiment()
        self._refresh()

    # -- where the experiment is ------------------------------------------------------
    def _cycle(self):
        """The experiment's current cycle, or None before the first hypothesis."""
        cycles = self.experiment.cycles
        return cycles[-1] if cycles else None

    def phase(self) -> str:
        """"hypothesis" (write one), "measure" (measure and conclude) or "done" (concluded)."""
        cycle = self._cycle()
        if cycle is None or (cycle.conclusion is not None and self._drafting):
            return "hypothesis"
        return "measure" if cycle.conclusion is None else "done"

    def _fill_from_experiment(self) -> None:
        """Show the current cycle's hypothesis (and conclusion) in the boxes."""
        cycle = self._cycle()
        if cycle is None:
            return
        self.hypothesis.value = cycle.text
        prediction = cycle.prediction
        self.prediction.value = checks.fmt(prediction["value"]) \
            if prediction and prediction["kind"] == "number" else ""
        self.measurement_name.value = cycle.measured or ""
        if cycle.conclusion is not None:
            self.conclusion.value = cycle.conclusion
            self.supported.value = cycle.supported

    def _refresh(self) -> None:
        """Title, what can be clicked, and the cycle's measurements, from the experiment."""
        phase, cycle = self.phase(), self._cycle()
        number = self.experiment.cycle + (1 if phase == "hypothesis" else 0)
        self.title.value = (f"<h3 style='margin:4px 0'>{html.escape(message('form_title'))}"
                            f" &middot; {html.escape(message('exp_html_cycle', cycle=number))}</h3>")
        writing = phase == "hypothesis"
        measuring = phase == "measure"
        for control in (self.hypothesis, self.prediction, self.save_hypothesis):
            control.disabled = not writing
        # The name may still be given before the first measurement if the hypothesis had none.
        self.measurement_name.disabled = not (
            writing or (measuring and cycle.measured is None))
        self.value.disabled = self.add.disabled = not measuring
        self.conclusion.disabled = self.supported.disabled = not measuring
        self.save_conclusion.disabled = not measuring or self.supported.value is None
        self.new_cycle.disabled = phase != "done"
        self.values.value = "" if writing or cycle is None else self._values_html(cycle)

    @staticmethod
    def _values_html(cycle) -> str:
        names = []
        for row in cycle.rows:
            names += [n for n in row["measurements"] if n not in names]
        if not names:
            return ""
        cell = lambda v: html.escape(checks.fmt(v) if isinstance(v, (int, float)) else str(v))  # noqa: E731
        head = "".join(f"<th style='padding:0 8px'>{html.escape(n)}</th>" for n in names)
        body = "".join(
            f"<tr><td style='padding:0 8px'>{i}.</td>"
            + "".join(f"<td style='padding:0 8px;text-align:right'>"
                      f"{cell(row['measurements'][n]) if n in row['measurements'] else ''}</td>"
                      for n in names) + "</tr>"
            for i, row in enumerate(cycle.rows, 1))
        return f"<table class='robotlab-table'><tr><th></th>{head}</tr>{body}</table>"

    # -- the buttons --------------------------------------------------------------------
    def _guarded(self, action):
        """A click handler: ignores a click on a disabled button (a click that was on its way
        before the button was disabled), shows the experiment's messages and what it printed."""
        def handler(button):
            if button.disabled:
                return
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    action()
            except RobotLabError as error:
                # The card's own words where the API's would show code to an 11-year-old.
                key = FORM_MESSAGES.get(error.reason)
                shown = message(key) if key else str(error)
                self._show(shown, error=True, printed=printed.getvalue())
            else:
                self._show("", printed=printed.getvalue())
            finally:
                self._refresh()
        return handler

    def _show(self, text: str, *, error: bool = False, printed: str = "") -> None:
        parts = []
        if printed.strip():
            parts.append(f"<div style='{INFO_STYLE}'>{html.escape(printed.strip())}</div>")
        if text:
            parts.append(f"<div class='robotlab-card-error' style='{ERROR_STYLE}'>&#9888; "
                         f"{html.escape(text)}</div>")
        self.message.value = "".join(parts)

    def _save_hypothesis(self) -> None:
        exp = self.experiment
        typed = self.prediction.value.strip()
        prediction = parse_number(typed) if typed else None
        if typed and prediction is None:
            prediction = typed                   # the experiment explains what a prediction is
        name = self.measurement_name.value.strip() or None
        start = exp.revise if exp.cycles else exp.hypothesis
        start(self.hypothesis.value, prediction=prediction, measurement=name)
        self._drafting = False
        self.measurement_name.value = name or ""

    def _start_new_cycle(self) -> None:
        self._drafting = True
        self.hypothesis.value = self.prediction.value = self.conclusion.value = ""
        self.supported.value = None
        # The measurement name stays: the next cycle usually measures the same thing.

    def _add(self) -> None:
        exp = self.experiment
        name = self.measurement_name.value.strip()
        if not name:
            exp.record()                         # the experiment's "say what you measured"
            return
        value = parse_number(str(self.value.value))
        if value is None:
            raise ExperimentError("form_not_a_number", got=str(self.value.value).strip() or "…")
        if exp._conditions is None:              # no trial in this cycle yet: one plain trial
            exp.trial()
        exp.record(**{name: value})
        self.value.value = ""

    def _save_conclusion(self) -> None:
        self.experiment.conclude(self.conclusion.value, supported=self.supported.value)

"""The experiment logbook: hypothesis -> test -> conclusion -> new hypothesis, saved as it goes.

An ``Experiment`` holds a question and numbered **cycles**. Each cycle has a
hypothesis (a text and a prediction), trials (conditions such as ``speed=50``)
with measurements (one or more ``record`` calls per trial: repeats), and a
conclusion. ``revise`` starts the next cycle; nothing is ever overwritten.

Every step is appended to a JSON Lines file next to the notebook
(``eksperimenter/<notebook>--<question>--<run>.jsonl``) and flushed to disk
before the call returns, so a crash or a killed kernel loses nothing already
recorded. A new ``Experiment`` starts a new run file (the safe default: an
earlier run is never touched); ``resume=True`` continues the newest run.

Units are whatever the pupil measures in (cm, s, %); the logbook keeps numbers
and short texts. Danish aliases: ``Eksperiment``, ``hypotese``, ``forsøg``,
``mål``, ``konkluder``, ``ny_hypotese``, ``tabel``, ``graf``, ``sammenlign``,
``gem_csv``, ``gem_html``, ``hypotesekort``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import inspect
import json
import math
import numbers
import os
import re
from pathlib import Path

from . import checks
from .errors import RobotLabError, RobotTypeError, RobotValueError
from .i18n import Text, language, message

FILE_VERSION = 1
FOLDER = "eksperimenter"
MAX_TEXT = 2000
MAX_VALUE_TEXT = 100


class ExperimentError(RobotValueError):
    """A step of the experiment that cannot be taken now (e.g. a conclusion before any trial)."""


def _slug(text: str, limit: int = 40) -> str:
    text = text.lower()
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
        text = text.replace(a, b)
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:limit].strip("-") or "eksperiment"


def notebook_name() -> str:
    """The running notebook's name without folder and suffix ("" outside Jupyter)."""
    path = os.environ.get("JPY_SESSION_NAME", "")
    return Path(path).stem if path else ""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Logbook:
    """An append-only JSON Lines file; each event is flushed and synced before returning."""

    def __init__(self, path: Path, *, new: bool):
        self.path = path
        # "x" refuses to open a file that exists: two runs can never share a file.
        self._file = open(path, "x" if new else "a", encoding="utf-8")

    def append(self, event: dict) -> None:
        self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    @staticmethod
    def read(path: Path) -> list[dict]:
        """Every complete event in a file (a line cut off by a crash is skipped)."""
        events = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n"):
                    try:
                        events.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue
        return events

    def close(self) -> None:
        self._file.close()


def _runs(folder: Path, stem: str, slug: str) -> list[Path]:
    return sorted(folder.glob(f"{stem}--{slug}--[0-9][0-9][0-9].jsonl"))


def _new_run(folder: Path, stem: str, slug: str) -> Logbook:
    folder.mkdir(exist_ok=True)
    number = len(_runs(folder, stem, slug)) + 1
    while True:
        try:
            return Logbook(folder / f"{stem}--{slug}--{number:03d}.jsonl", new=True)
        except FileExistsError:
            number += 1


def _check_text(value, *, call: str, param: str, example: str, empty_reason: str) -> str:
    if not isinstance(value, str):
        raise RobotTypeError("exp_text_expected", call=call, param=param,
                             got=checks.describe(value), example=example)
    text = value.strip()
    if not text:
        raise ExperimentError(empty_reason, call=call, example=example)
    return text[:MAX_TEXT]


def _check_value(name: str, value, *, call: str, example: str):
    """A measurement or condition value: a finite number or a short text."""
    if isinstance(value, bool) or value is None or \
            not isinstance(value, (numbers.Real, str)):
        raise RobotTypeError("exp_value_type", call=call, name=name, got=checks.describe(value),
                             example=example)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise RobotTypeError("exp_value_type", call=call, name=name,
                                 got=checks.describe(value), example=example)
        return text[:MAX_VALUE_TEXT]
    number = float(value)
    if not math.isfinite(number):
        raise RobotValueError("not_finite", call=call, param=name, got=repr(value),
                              example=example)
    if isinstance(value, numbers.Integral):
        return int(value)
    # 12 significant digits: 18.4 - 15.7 is stored as 2.7, not 2.6999999999999886.
    return float(f"{number:.12g}")


def _prediction_event(prediction, *, call: str) -> dict | None:
    """How a prediction is logged: a number, a table, or a function (its source, for reading)."""
    example = 'hypothesis("...", prediction=30)'
    if prediction is None:
        return None
    if isinstance(prediction, bool) or isinstance(prediction, str):
        raise RobotTypeError("exp_prediction_type", call=call, got=checks.describe(prediction),
                             example=example)
    if isinstance(prediction, numbers.Real):
        return {"kind": "number", "value": _check_value("prediction", prediction, call=call,
                                                         example=example)}
    if isinstance(prediction, dict):
        if not prediction:
            raise RobotTypeError("exp_prediction_type", call=call,
                                 got=checks.describe(prediction), example=example)
        table = []
        for key, value in prediction.items():
            table.append([_check_value("prediction", key, call=call, example=example),
                          _check_value("prediction", value, call=call, example=example)])
        return {"kind": "table", "table": table}
    if callable(prediction):
        try:
            source = inspect.getsource(prediction).strip()
        except (OSError, TypeError):
            source = getattr(prediction, "__name__", "function")
        return {"kind": "function", "source": source[:MAX_TEXT]}
    raise RobotTypeError("exp_prediction_type", call=call, got=checks.describe(prediction),
                         example=example)


class Cycle:
    """One hypothesis and what was done to test it."""

    def __init__(self, number: int, text: str, prediction: dict | None, measurement: str | None):
        self.number, self.text = number, text
        self.prediction, self.measurement = prediction, measurement
        self.function = None                 # the live prediction function, if any
        self.rows: list[dict] = []           # one per record: trial, repeat, conditions, values
        self.conclusion: str | None = None
        self.supported: bool | None = None

    @property
    def measured(self) -> str | None:
        """The name of the measurement the prediction is about."""
        if self.measurement:
            return self.measurement
        for row in self.rows:
            for name in row["measurements"]:
                return name
        return None


class Experiment:
    """A question investigated in numbered hypothesis -> test cycles, saved as it goes.

    Example::

        exp = Experiment("Hvor langt kører robotten på 2 sekunder?")
        exp.hypothesis("Den kører 30 cm", prediction=30)     # cm
        exp.trial(speed=50)                                    # conditions of the next records
        robot.drive(50, 50); robot.wait(2); robot.stop()
        exp.record(distance=robot.odometer())                  # cm; call again for repeats
        exp.conclude("Den kørte kortere end vi troede", supported=False)
        exp.revise("Den kører 25 cm", prediction=25)           # cycle 2

    ``prediction`` may be a number, a table (``{20: 10, 50: 25}``: condition
    value -> predicted measurement) or a function of the conditions
    (``lambda speed: speed / 2``). ``resume=True`` continues the newest run of
    the same question in this notebook instead of starting a new run.
    """

    def __init__(self, question, *, resume=False, folder=None, _events=None, _path=None):
        call = "Experiment()"
        self.question = _check_text(question, call=call, param="question",
                                    example='Experiment("Hvor langt kører robotten?")',
                                    empty_reason="exp_question_empty")
        checks.flag(resume, call=call, param="resume", example="Experiment(\"...\", resume=True)")
        self.cycles: list[Cycle] = []
        self._conditions: dict | None = None
        self._trial = 0
        self._types: dict[str, type] = {}
        self._log: Logbook | None = None
        self.path: Path | None = _path
        if _events is not None:                  # Experiment.load: read only
            self._replay(_events)
            return
        folder = Path(folder) if folder is not None else Path.cwd() / FOLDER
        stem = _slug(notebook_name() or "notesbog")
        slug = _slug(self.question)
        earlier = _runs(folder, stem, slug) if resume else []
        if earlier:
            self.path = earlier[-1]
            self._replay(Logbook.read(self.path))
            self._log = Logbook(self.path, new=False)
            print(message("exp_resumed", path=self._shown_path(), cycle=self.cycle,
                          records=sum(len(c.rows) for c in self.cycles)))
        else:
            self._log = _new_run(folder, stem, slug)
            self.path = self._log.path
            self._log.append({"event": "experiment", "version": FILE_VERSION,
                              "question": self.question, "notebook": notebook_name(),
                              "language": language(), "time": _now()})
            print(message("exp_saved_where", path=self._shown_path()))

    # -- reading back ---------------------------------------------------------------
    @classmethod
    def load(cls, path) -> "Experiment":
        """An experiment read from its file (to look at, plot or compare; it cannot grow).

        Example: ``old = Experiment.load("eksperimenter/forsoeg--hvor-langt--001.jsonl")``.
        """
        path = Path(path)
        events = Logbook.read(path)
        if not events or events[0].get("event") != "experiment":
            raise RobotValueError("exp_not_a_logbook", path=str(path))
        return cls(events[0]["question"], _events=events[1:], _path=path)

    def _replay(self, events: list[dict]) -> None:
        for event in events:
            kind = event.get("event")
            if kind == "hypothesis":
                self.cycles.append(Cycle(event["cycle"], event["text"], event.get("prediction"),
                                         event.get("measurement")))
                self._conditions, self._trial = None, 0
            elif kind == "trial" and self.cycles:
                self._conditions, self._trial = event["conditions"], event["trial"]
            elif kind == "record" and self.cycles:
                self.cycles[-1].rows.append({k: event[k] for k in
                                             ("trial", "repeat", "conditions", "measurements",
                                              "predicted")} | {"source": event.get("source")})
                for name, value in event["measurements"].items():
                    self._types.setdefault(name, str if isinstance(value, str) else float)
            elif kind == "conclusion" and self.cycles:
                self.cycles[-1].conclusion = event["text"]
                self.cycles[-1].supported = event["supported"]

    def _shown_path(self) -> str:
        try:
            return str(self.path.relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)

    def _write(self, event: dict) -> None:
        if self._log is None:
            raise ExperimentError("exp_read_only", path=self._shown_path())
        self._log.append({**event, "time": _now()})

    @property
    def cycle(self) -> int:
        """The number of the current cycle (0 before the first hypothesis)."""
        return self.cycles[-1].number if self.cycles else 0

    # -- the cycle --------------------------------------------------------------------
    def hypothesis(self, text, prediction=None, measurement=None):
        """State the hypothesis of the first cycle, with what you predict (optional).

        ``prediction``: a number (``30``, in the unit you measure), a table of
        condition value -> prediction (``{20: 10, 50: 25}``) or a function of
        the conditions (``lambda speed: speed / 2``). ``measurement`` names the
        measurement it predicts (default: the first one you record).

        Example: ``exp.hypothesis("Robotten kører 30 cm på 2 sekunder", prediction=30)``.
        """
        if self.cycles:
            raise ExperimentError("exp_hypothesis_twice", example='exp.revise("...", prediction=25)')
        self._start_cycle(text, prediction, measurement, call="exp.hypothesis()")

    def revise(self, text, prediction=None, measurement=None):
        """Start the next cycle with a new hypothesis, after the last one's conclusion.

        Example: ``exp.revise("Den kører 25 cm, fordi den skal sætte farten op", prediction=25)``.
        """
        if not self.cycles:
            raise ExperimentError("exp_no_hypothesis", example='exp.hypothesis("...", prediction=30)')
        if self.cycles[-1].conclusion is None:
            raise ExperimentError("exp_revise_before_conclusion", cycle=self.cycle,
                                  example='exp.conclude("...", supported=False)')
        self._start_cycle(text, prediction, measurement, call="exp.revise()")

    def _start_cycle(self, text, prediction, measurement, *, call: str) -> None:
        text = _check_text(text, call=call, param="text", example=f'{call[:-1]}"Robotten kører 30 cm", prediction=30)',
                           empty_reason="exp_hypothesis_empty")
        event = _prediction_event(prediction, call=call)
        if measurement is not None:
            measurement = _check_text(measurement, call=call, param="measurement",
                                      example=f'{call[:-1]}"...", measurement="distance")',
                                      empty_reason="exp_hypothesis_empty")
        number = self.cycle + 1
        self._write({"event": "hypothesis", "cycle": number, "text": text, "prediction": event,
                     "measurement": measurement})
        cycle = Cycle(number, text, event, measurement)
        if event is not None and event["kind"] == "function":
            cycle.function = prediction
        self.cycles.append(cycle)
        self._conditions, self._trial = None, 0

    def trial(self, **conditions):
        """Start a trial: what you set up this time (``speed=50``). Then ``record`` once per repeat.

        Example: ``exp.trial(speed=50)``; a trial with no conditions is fine too: ``exp.trial()``.
        """
        self._need_hypothesis()
        clean = {name: _check_value(name, value, call="exp.trial()", example="exp.trial(speed=50)")
                 for name, value in conditions.items()}
        self._trial += 1
        self._conditions = clean
        self._write({"event": "trial", "cycle": self.cycle, "trial": self._trial,
                     "conditions": clean})

    def record(self, robot=None, **measurements):
        """Write down what you measured in the current trial (call again for each repeat).

        Numbers in your own units (cm, s, %), or short texts (a colour).
        ``robot=robot`` also records the robot's distance to what is in front
        (cm), how far it drove (cm) and its clock (s); the same for the
        simulator and a real robot.

        Example: ``exp.record(distance=32.5)`` or ``exp.record(robot=robot)``.
        """
        self._need_hypothesis()
        call, example = "exp.record()", "exp.record(distance=32)"
        values, source = {}, None
        if robot is not None:
            values.update(_robot_measurements(robot))
            source = robot._backend.kind
        for name, value in measurements.items():
            values[name] = _check_value(name, value, call=call, example=example)
        if not values:
            raise ExperimentError("exp_nothing_recorded", example=example)
        for name, value in values.items():
            kind = str if isinstance(value, str) else float
            if self._types.get(name, kind) is not kind:
                raise RobotTypeError("exp_value_changed_type", call=call, name=name,
                                     got=checks.describe(value), example=example)
        if self._conditions is None:             # recording without trial(): one plain trial
            self.trial()
        cycle = self.cycles[-1]
        repeat = 1 + sum(1 for row in cycle.rows if row["trial"] == self._trial)
        predicted, misfit = self._predict(cycle, self._conditions, values)
        row = {"trial": self._trial, "repeat": repeat, "conditions": dict(self._conditions),
               "measurements": values, "predicted": predicted, "source": source}
        self._write({"event": "record", "cycle": cycle.number, **row})
        for name, value in values.items():
            self._types.setdefault(name, str if isinstance(value, str) else float)
        cycle.rows.append(row)
        if misfit is not None:
            # Saved first: a prediction that does not fit never costs a measurement.
            print(message("exp_prediction_misfit", problem=misfit))

    def _predict(self, cycle: Cycle, conditions: dict, values: dict):
        """The predicted value for these conditions, and why not if it cannot be had."""
        prediction = cycle.prediction
        if prediction is None:
            return None, None
        name = cycle.measured or next(iter(values))
        if name in values and isinstance(values[name], str):
            return None, Text("exp_misfit_text", name=name)
        if prediction["kind"] == "number":
            return prediction["value"], None
        if prediction["kind"] == "table":
            varying = [v for v in conditions.values()]
            for key, value in prediction["table"]:
                if any(key == v for v in varying):
                    return value, None
            return None, Text("exp_misfit_table", conditions=_conditions_text(conditions),
                              keys=", ".join(checks.fmt(k) if not isinstance(k, str) else k
                                             for k, _ in prediction["table"]))
        function = cycle.function
        if function is None:                     # read back from a file: no function to call
            return None, None
        try:
            accepted = inspect.signature(function).parameters
            takes_all = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
            arguments = {k: v for k, v in conditions.items() if takes_all or k in accepted}
            value = function(**arguments)
        except Exception as error:               # the pupil's function: say why, keep going
            return None, Text("exp_misfit_function", error=f"{type(error).__name__}: {error}"[:200])
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                not math.isfinite(float(value)):
            return None, Text("exp_misfit_function", error=repr(value)[:60])
        return float(value), None

    def conclude(self, text, supported=None):
        """Write the cycle's conclusion: what you found, and whether it supported the hypothesis.

        Example: ``exp.conclude("Den kørte kun 24 cm", supported=False)``.
        """
        call = "exp.conclude()"
        self._need_hypothesis()
        cycle = self.cycles[-1]
        if not cycle.rows:
            raise ExperimentError("exp_conclude_before_trial", cycle=cycle.number,
                                  example="exp.record(distance=32)")
        if cycle.conclusion is not None:
            raise ExperimentError("exp_concluded_already", cycle=cycle.number,
                                  example='exp.revise("...", prediction=25)')
        text = _check_text(text, call=call, param="text",
                           example='exp.conclude("Den kørte kortere", supported=False)',
                           empty_reason="exp_conclusion_empty")
        supported = checks.flag(supported, call=call, param="supported",
                                example='exp.conclude("...", supported=True)')
        self._write({"event": "conclusion", "cycle": cycle.number, "text": text,
                     "supported": supported})
        cycle.conclusion, cycle.supported = text, supported

    def _need_hypothesis(self) -> None:
        if not self.cycles:
            raise ExperimentError("exp_no_hypothesis", example='exp.hypothesis("...", prediction=30)')

    # -- looking at it ------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """Every measurement as a flat row: cycle, trial, repeat, conditions, measurements, prediction."""
        out = []
        for cycle in self.cycles:
            for row in cycle.rows:
                flat = {"cycle": cycle.number, "trial": row["trial"], "repeat": row["repeat"]}
                flat.update(row["conditions"])
                flat.update(row["measurements"])
                flat["predicted"] = row["predicted"]
                out.append(flat)
        return out

    def table(self):
        """The measurements as a table (a pandas DataFrame when pandas is installed).

        Example: ``exp.table()``.
        """
        rows = self.rows()
        try:
            import pandas
        except ImportError:
            return Table(rows)
        return pandas.DataFrame(rows)

    def to_csv(self, path=None) -> Path:
        """Save the measurements as a CSV file (for a spreadsheet); returns where.

        Example: ``exp.to_csv()`` writes next to the logbook, with ``.csv`` at the end.
        """
        rows = self.rows()
        path = Path(path) if path is not None else self.path.with_suffix(".csv")
        columns = []
        for row in rows:
            columns += [k for k in row if k not in columns]
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return path

    def to_html(self, path=None) -> Path:
        """Save the whole experiment as a web page (summary and graph) to hand in or print.

        Example: ``exp.to_html()`` writes next to the logbook, with ``.html`` at the end.
        """
        import base64
        import io
        path = Path(path) if path is not None else self.path.with_suffix(".html")
        graph = ""
        if any(cycle.rows for cycle in self.cycles):
            from .experiment_plot import plot
            buffer = io.BytesIO()
            plot([self]).savefig(buffer, format="png")
            graph = ('<p><img alt="" style="max-width:100%" src="data:image/png;base64,'
                     + base64.b64encode(buffer.getvalue()).decode("ascii") + '"></p>')
        page = (f'<!DOCTYPE html>\n<html lang="{language()}"><head><meta charset="utf-8">'
                f"<title>{html.escape(self.question)}</title></head><body>"
                f"{self.summary_html()}{graph}</body></html>\n")
        path.write_text(page, encoding="utf-8")
        return path

    def summary_html(self) -> str:
        """The whole experiment as HTML: question, and per cycle hypothesis, measurements, conclusion."""
        lang = language()
        t = lambda key, **p: html.escape(message(key, lang=lang, **p))  # noqa: E731
        parts = [f'<div class="robotlab-experiment"><h3>{html.escape(self.question)}</h3>']
        for cycle in self.cycles:
            parts.append(f"<h4>{t('exp_html_cycle', cycle=cycle.number)}</h4>")
            parts.append(f"<p><b>{t('exp_html_hypothesis')}</b> {html.escape(cycle.text)}"
                         f"{_prediction_html(cycle.prediction)}</p>")
            if cycle.rows:
                parts.append(Table([{"trial": r["trial"], "repeat": r["repeat"],
                                     **r["conditions"], **r["measurements"],
                                     "predicted": r["predicted"]} for r in cycle.rows])
                             ._repr_html_())
            if cycle.conclusion is not None:
                verdict = t("exp_html_supported" if cycle.supported else "exp_html_not_supported")
                parts.append(f"<p><b>{t('exp_html_conclusion')}</b> "
                             f"{html.escape(cycle.conclusion)} <i>({verdict})</i></p>")
        parts.append(f"<p><small>{t('exp_html_saved', path=self._shown_path())}</small></p></div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.summary_html()

    def __repr__(self) -> str:
        return f"Experiment({self.question!r}, cycles={len(self.cycles)}, file={self._shown_path()!r})"

    def plot(self):
        """A graph per cycle: the measured values (mean and spread over repeats) and the prediction.

        In a notebook the graph appears under the cell at once, wherever the line is in
        the cell; elsewhere (a script, a test) the matplotlib Figure is returned.
        Example: ``exp.plot()``.
        """
        from .experiment_plot import plot, show_in_notebook
        return show_in_notebook(plot([self]))

    def compare(self, other):
        """This experiment beside another run of it (say, the simulator beside the real robot).

        Example: ``sim.compare(real)``.
        """
        if not isinstance(other, Experiment):
            raise RobotTypeError("exp_compare_expected", got=checks.describe(other))
        from .experiment_plot import plot, show_in_notebook
        return show_in_notebook(plot([self, other]))

    def form(self):
        """The hypothesis card (hypotesekort): fill in the experiment with boxes and buttons.

        Example: ``exp.form()``.
        """
        from .experiment_form import HypothesisCard
        return HypothesisCard(self).widget


def _robot_measurements(robot) -> dict:
    from .robot import Robot
    if not isinstance(robot, Robot):
        raise RobotTypeError("exp_robot_expected", got=checks.describe(robot))
    return {message("exp_name_odometer"): round(float(robot.odometer()), 2),
            message("exp_name_time"): round(float(robot.time()), 3),
            message("exp_name_distance"): round(float(robot.distance()), 2)}


def _conditions_text(conditions: dict) -> str:
    return ", ".join(f"{k}={checks.fmt(v) if not isinstance(v, str) else repr(v)}"
                     for k, v in conditions.items()) or "–"


def _prediction_html(prediction: dict | None) -> str:
    if prediction is None:
        return ""
    if prediction["kind"] == "number":
        text = checks.fmt(prediction["value"])
    elif prediction["kind"] == "table":
        text = ", ".join(f"{k} → {v}" for k, v in prediction["table"])
    else:
        text = prediction["source"]
    return f" <code>{html.escape(text)}</code>"


class Table:
    """Rows shown as an HTML table in a notebook and as text elsewhere (when pandas is missing)."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        self.columns = []
        for row in rows:
            self.columns += [k for k in row if k not in self.columns]

    def __len__(self) -> int:
        return len(self.rows)

    @staticmethod
    def _cell(value) -> str:
        if value is None:
            return ""
        return checks.fmt(value) if isinstance(value, (int, float)) else str(value)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(self._cell(r.get(c)))}</td>"
                                        for c in self.columns) + "</tr>" for r in self.rows)
        return f'<table class="robotlab-table"><tr>{head}</tr>{body}</table>'

    def __str__(self) -> str:
        cells = [[str(c) for c in self.columns]] + \
            [[self._cell(r.get(c)) for c in self.columns] for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        return "\n".join("  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells)

    __repr__ = __str__


#: English method -> (Danish name, English parameter -> Danish parameter).
DANISH = {
    "hypothesis": ("hypotese", {"text": "tekst", "prediction": "forudsigelse",
                                "measurement": "måling"}),
    "revise": ("ny_hypotese", {"text": "tekst", "prediction": "forudsigelse",
                               "measurement": "måling"}),
    "trial": ("forsøg", {}),
    "record": ("mål", {}),
    "conclude": ("konkluder", {"text": "tekst", "supported": "bekræftet"}),
    "table": ("tabel", {}),
    "plot": ("graf", {}),
    "compare": ("sammenlign", {"other": "andet"}),
    "to_csv": ("gem_csv", {"path": "sti"}),
    "to_html": ("gem_html", {"path": "sti"}),
    "form": ("hypotesekort", {}),
}


def _checked(method, shown: str, renames: dict[str, str]):
    """A method with friendly argument errors, under the name the pupil typed."""
    signature = inspect.signature(method)
    back = {v: k for k, v in renames.items()}
    params = [p.replace(name=renames.get(p.name, p.name)) for p in signature.parameters.values()]
    shown_signature = signature.replace(parameters=params)

    def call(self, *args, **kwargs):
        __tracebackhide__ = True  # noqa: F841
        try:
            shown_signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            from .pupil import _binding_problem
            usage = f"exp.{shown}({', '.join(str(p) for p in params[1:])})"
            raise RobotTypeError("wrong_arguments", call=f"exp.{shown}()",
                                 problem=_binding_problem(exc, shown_signature, kwargs,
                                                          {v: k for k, v in back.items()}),
                                 usage=usage) from None
        kwargs = {back.get(k, k): v for k, v in kwargs.items()}
        try:
            return method(self, *args, **kwargs)
        except RobotLabError as error:
            if shown != method.__name__:          # called by its Danish name: examples in Danish
                error = type(error)(error.reason, **{k: _in_danish(v) for k, v in
                                                     error.params.items()})
            raise error.with_traceback(None) from None

    call.__name__ = call.__qualname__ = shown
    call.__doc__ = method.__doc__
    call.__signature__ = shown_signature
    return call


def _in_danish(value):
    """An example or call written with the English names, rewritten with the Danish ones."""
    if not isinstance(value, str):
        return value
    for english, (danish_name, renames) in DANISH.items():
        value = value.replace(f"exp.{english}(", f"eks.{danish_name}(")
        for param, danish_param in renames.items():
            value = value.replace(f"{param}=", f"{danish_param}=")
    return value.replace("Experiment(", "Eksperiment(").replace("exp.", "eks.")


def _add_aliases() -> None:
    for english, (danish_name, renames) in DANISH.items():
        method = Experiment.__dict__[english]
        setattr(Experiment, english, _checked(method, english, {}))
        setattr(Experiment, danish_name, _checked(method, danish_name, renames))


_add_aliases()


def Eksperiment(spørgsmål, *, fortsæt=False, mappe=None) -> Experiment:  # noqa: N802
    """Et eksperiment: et spørgsmål, der undersøges i cyklusser (hypotese -> forsøg -> konklusion).

    Eksempel: ``eks = Eksperiment("Hvor langt kører robotten på 2 sekunder?")``.
    """
    __tracebackhide__ = True  # noqa: F841
    try:
        return Experiment(spørgsmål, resume=fortsæt, folder=mappe)
    except RobotLabError as error:
        raise error.with_traceback(None) from None

"""Graphs of experiments: per cycle, the measured values beside the prediction.

``plot([exp])`` (what ``exp.plot()`` calls) draws one panel per cycle number,
at most three side by side. In each panel:

* the x axis is the trial's condition when every trial set exactly one
  condition to a number (``exp.trial(speed=50)``), else the trial number;
* every group of repeats (same condition value, or same trial) is drawn as its
  mean with an error bar from the smallest to the largest value, and the
  repeats themselves as small faint dots;
* the prediction is a dashed line: flat for a number, through the table's
  points for a table, through the values logged at record time for a function
  (a function read back from a file cannot be called).

``plot([a, b])`` (``a.compare(b)``) draws each experiment in its own colour on
the same panels, shifted a little sideways so the error bars do not hide each
other, labelled "simulator" / "real robot" when all its measurements came from
one kind of robot. Text measurements are skipped.

matplotlib is imported only when a graph is drawn. The figure is built with
matplotlib's object API (no pyplot state), so it works without a display and
shows itself as a PNG in a notebook (``_repr_png_``) even when matplotlib's
inline backend is not active.
"""

from __future__ import annotations

import io
import math
import numbers
import statistics
import textwrap

from .i18n import language, message

MAX_COLUMNS = 3
TITLE_CHARS = 40
LABEL_CHARS = 32
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
SHARED_PREDICTION_COLOUR = "#333333"
SHIFT = 0.08        # sideways shift between compared experiments, as a share of the x spacing
DOTS_ASIDE = 0.025  # the repeats sit just beside their error bar, not hidden behind it

# Sizes for pupils reading a projector or a laptop screen (points).
TITLE_SIZE, LABEL_SIZE, TICK_SIZE, LEGEND_SIZE, NOTE_SIZE = 13, 12, 11, 10, 14


# -- the figure class (made when first needed: importing this module loads no matplotlib) ---------
_figure_class_cache = None


def show_in_notebook(fig):
    """In a notebook's kernel: show ``fig`` under the running cell now and return None.

    A returned figure would only appear when its line is the cell's last, so
    ``eks.graf()`` followed by ``eks.konkluder(...)`` would show nothing. Outside a
    kernel the figure is returned as it is.
    """
    import sys
    if "IPython" not in sys.modules:
        return fig
    from IPython import get_ipython
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return fig
    from IPython.display import display
    display(fig)
    return None


def _figure_class():
    global _figure_class_cache
    if _figure_class_cache is None:
        from matplotlib.figure import Figure

        class ExperimentFigure(Figure):
            """A matplotlib Figure that shows itself as a picture in a notebook."""

            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format="png")
                return buffer.getvalue()

        ExperimentFigure.__module__ = __name__
        ExperimentFigure.__qualname__ = "ExperimentFigure"
        _figure_class_cache = ExperimentFigure
    return _figure_class_cache


def __getattr__(name):
    # ``robotlab.experiment_plot.ExperimentFigure`` (e.g. for pickle) without importing
    # matplotlib at module import.
    if name == "ExperimentFigure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- small helpers --------------------------------------------------------------------------------
def _number(value) -> float | None:
    """A finite number as float; None for texts, booleans, None and non-finite values."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _plain(text) -> str:
    """A pupil's text as matplotlib should show it: one line, no mathtext ($ stays a $)."""
    return " ".join(str(text).split()).replace("$", r"\$")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    if space > limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def _shorten_left(text: str, limit: int) -> str:
    """Keep the end (a run number) of a long file name."""
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def _example(english: str, danish: str) -> str:
    return danish if language() == "da" else english


# -- what a cycle holds ---------------------------------------------------------------------------
def _measured_name(cycle) -> str | None:
    """The measurement to draw: the predicted one, or the first numeric one when that is a text."""
    name = cycle.measured
    if name is not None and any(_number(row["measurements"].get(name)) is not None
                                for row in cycle.rows):
        return name
    if cycle.measurement is not None:        # the pupil named it: do not draw something else
        return None
    for row in cycle.rows:
        for other, value in row["measurements"].items():
            if _number(value) is not None:
                return other
    return None


def _numeric_rows(cycle, name) -> list[dict]:
    if name is None:
        return []
    return [row for row in cycle.rows if _number(row["measurements"].get(name)) is not None]


def _single_condition(rows) -> str | None:
    """The condition's name when every row has exactly one condition with a number as value."""
    names = set()
    for row in rows:
        conditions = row["conditions"]
        if len(conditions) != 1:
            return None
        (name, value), = conditions.items()
        if _number(value) is None:
            return None
        names.add(name)
    return names.pop() if len(names) == 1 else None


class _Series:
    """One experiment's measurements in one cycle, grouped by x."""

    def __init__(self, cycle, name, rows, condition):
        self.cycle, self.name, self.rows, self.condition = cycle, name, rows, condition
        groups: dict[float, list[dict]] = {}
        for row in rows:
            groups.setdefault(self.x_of(row), []).append(row)
        self.xs = sorted(groups)
        self.groups = [groups[x] for x in self.xs]

    def x_of(self, row) -> float:
        if self.condition is not None:
            return _number(row["conditions"][self.condition])
        return float(row["trial"])

    def values(self, group) -> list[float]:
        return [_number(row["measurements"][self.name]) for row in group]

    def prediction(self):
        """How to draw the prediction: ("flat", y) or ("line", xs, ys, with_markers), or None."""
        prediction = self.cycle.prediction
        if not prediction:
            return None
        if prediction.get("kind") == "number":
            value = _number(prediction.get("value"))
            return ("flat", value) if value is not None else None
        if prediction.get("kind") == "table" and self.condition is not None:
            points = sorted((_number(k), _number(v)) for k, v in prediction.get("table", [])
                            if _number(k) is not None and _number(v) is not None)
            if points:
                return ("line", tuple(p[0] for p in points), tuple(p[1] for p in points), True)
        # A function (or a table against trial numbers): the values logged at record time.
        xs, ys = [], []
        for x, group in zip(self.xs, self.groups):
            logged = [_number(row.get("predicted")) for row in group]
            logged = [value for value in logged if value is not None]
            if logged:
                xs.append(x)
                ys.append(statistics.fmean(logged))
        if not xs:
            return None
        return ("line", tuple(xs), tuple(ys), prediction.get("kind") == "table")


def _source_label(experiment, position: int) -> str:
    sources = {row.get("source") for cycle in experiment.cycles for row in cycle.rows}
    if sources == {"simulator"}:
        return message("plot_robot_sim")
    if sources == {"ble"}:
        return message("plot_robot_real")
    path = getattr(experiment, "path", None)
    stem = getattr(path, "stem", "") if path is not None else ""
    label = _shorten_left(str(stem).lstrip("_"), LABEL_CHARS)
    return label or str(position + 1)


def _labels(experiments) -> list[str]:
    labels = [_source_label(exp, i) for i, exp in enumerate(experiments)]
    return [f"{label} ({i + 1})" if labels.count(label) > 1 else label
            for i, label in enumerate(labels)]


def _empty_text(cycles) -> str:
    """Why a panel has nothing to draw, in words a pupil can act on."""
    if not cycles:
        return message("exp_no_hypothesis",
                       example=_example('exp.hypothesis("...", prediction=30)',
                                        'eks.hypotese("...", forudsigelse=30)'))
    for cycle in cycles:
        if cycle.rows:
            return message("exp_misfit_text", name=cycle.measured)
    return message("exp_conclude_before_trial", cycle=cycles[-1].number,
                   example=_example("exp.record(distance=32)", "eks.mål(afstand=32)"))


def _note(ax, text: str) -> None:
    ax.text(0.5, 0.5, _plain_wrapped(text), ha="center", va="center", fontsize=NOTE_SIZE,
            transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _plain_wrapped(text: str) -> str:
    return "\n".join(textwrap.wrap(str(text).replace("$", r"\$"), 38)) or " "


# -- drawing --------------------------------------------------------------------------------------
def plot(experiments: list):
    """A figure with a panel per cycle: measured values (mean, smallest–largest) and prediction.

    ``experiments``: one experiment, or several to compare on the same panels.
    Returns a matplotlib Figure (it shows itself in a notebook).
    """
    if not isinstance(experiments, (list, tuple)):
        experiments = [experiments]
    experiments = list(experiments)
    labels = _labels(experiments)
    compare = len(experiments) > 1

    cycle_numbers = sorted({cycle.number for exp in experiments for cycle in exp.cycles})
    # Per cycle number: (experiment index, cycle, measured name, numeric rows).
    panels = []
    for number in cycle_numbers:
        entries = []
        for i, exp in enumerate(experiments):
            for cycle in exp.cycles:
                if cycle.number == number:
                    name = _measured_name(cycle)
                    entries.append((i, cycle, name, _numeric_rows(cycle, name)))
        panels.append((number, entries))

    Figure = _figure_class()
    drawable = [p for p in panels if any(rows for _, _, _, rows in p[1])]
    if not drawable:
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.add_subplot()
        _note(ax, _empty_text([cycle for _, entries in panels for _, cycle, _, _ in entries]))
        ax.set_frame_on(False)
        return fig

    count = len(panels)
    columns = min(MAX_COLUMNS, count)
    rows_ = math.ceil(count / columns)
    width, height = (6.4, 4.6) if count == 1 else (5.2, 4.2)
    fig = Figure(figsize=(width * columns, height * rows_), layout="constrained")
    grid = fig.subplots(rows_, columns, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[count:]:
        fig.delaxes(ax)

    for ax, (number, entries) in zip(axes, panels):
        _draw_panel(ax, number, entries, labels, compare)
    return fig


def _draw_panel(ax, number, entries, labels, compare) -> None:
    from matplotlib.ticker import MaxNLocator

    first = entries[0][1]
    ax.set_title(message("plot_cycle", cycle=number,
                         text=_plain(_shorten(first.text, TITLE_CHARS))),
                 fontsize=TITLE_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)

    if not any(rows for _, _, _, rows in entries):
        _note(ax, _empty_text([cycle for _, cycle, _, _ in entries]))
        return

    # One x axis for every experiment in the panel: the condition only if all agree on it.
    all_rows = [row for _, _, _, rows in entries for row in rows]
    condition = _single_condition(all_rows)
    series = [(i, _Series(cycle, name, rows, condition))
              for i, cycle, name, rows in entries if rows]

    xs = sorted({x for _, s in series for x in s.xs})
    gaps = [b - a for a, b in zip(xs, xs[1:])]
    spacing = min(gaps) if gaps else (abs(xs[0]) * 0.5 or 1.0)
    shown = len(series)

    predictions = []
    for k, (i, s) in enumerate(series):
        colour, marker = COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]
        shift = (k - (shown - 1) / 2) * SHIFT * spacing if shown > 1 else 0.0
        means, below, above, dots_x, dots_y = [], [], [], [], []
        for x, group in zip(s.xs, s.groups):
            values = s.values(group)
            low, high = min(values), max(values)
            mean = min(max(statistics.fmean(values), low), high)
            means.append(mean)
            below.append(mean - low)
            above.append(high - mean)
            dots_x += [x + shift + DOTS_ASIDE * spacing] * len(values)
            dots_y += values
        measured = message("plot_measured")
        ax.plot(dots_x, dots_y, linestyle="none", marker="o", markersize=4, alpha=0.35,
                color=colour, zorder=2, label="_repeats")
        ax.errorbar([x + shift for x in s.xs], means, yerr=[below, above], fmt=marker,
                    markersize=8, capsize=6, elinewidth=2, capthick=2, color=colour, zorder=3,
                    label=f"{_plain(labels[i])}: {measured}" if compare else measured)
        predictions.append((i, s.prediction()))

    drawn = [p for _, p in predictions if p is not None]
    shared = (len(drawn) == len(predictions) and len(set(drawn)) == 1)
    predicted = message("plot_predicted")
    if shared:
        _draw_prediction(ax, drawn[0], SHARED_PREDICTION_COLOUR, predicted)
    else:
        for i, prediction in predictions:
            if prediction is not None:
                label = f"{_plain(labels[i])}: {predicted}" if compare else predicted
                colour = COLOURS[i % len(COLOURS)] if compare else SHARED_PREDICTION_COLOUR
                _draw_prediction(ax, prediction, colour, label)

    names = []
    for _, s in series:
        if s.name not in names:
            names.append(s.name)
    ax.set_ylabel(" / ".join(_plain(n) for n in names), fontsize=LABEL_SIZE)
    if condition is not None:
        ax.set_xlabel(_plain(condition), fontsize=LABEL_SIZE)
    else:
        ax.set_xlabel(message("plot_trial"), fontsize=LABEL_SIZE)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(xs) == 1:      # one x: a range around it, not matplotlib's tiny one (1.0005, ...)
        ax.set_xlim(xs[0] - 2 * spacing, xs[0] + 2 * spacing)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=LEGEND_SIZE, loc="best")


def _draw_prediction(ax, prediction, colour, label) -> None:
    if prediction[0] == "flat":
        ax.axhline(prediction[1], linestyle="--", linewidth=2, color=colour, zorder=1,
                   label=label)
        return
    _, xs, ys, with_markers = prediction
    ax.plot(xs, ys, linestyle="--", linewidth=2, color=colour, zorder=1, label=label,
            marker="x" if with_markers else None, markersize=8, markeredgewidth=2)

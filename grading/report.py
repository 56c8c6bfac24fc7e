"""The class report: ``robotlab course report`` on top of nbgrader's gradebook.

For every lesson (nbgrader assignment) and pupil: the score and max score from
the gradebook, the percent, when it was handed in, and how many finished
hypothesis cycles (with measurements and a conclusion) the pupil's experiment
logbooks in the handed-in folder hold. Written as ``report.csv`` and as a
self-contained ``report.html`` (tables and plots embedded as PNG data URLs: no
network, no CDN).
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import io
from pathlib import Path

from .course import course_id_of, gradebook

#: Columns of report.csv, in order.
CSV_COLUMNS = ("lesson", "pupil", "score", "max_score", "percent", "cycles", "submitted_at")
#: Where ``robotlab course report`` writes when no ``--out`` is given (inside the course).
DEFAULT_OUT = "rapport"


def count_cycles(folder) -> int | None:
    """Finished hypothesis cycles in the experiment logbooks of a handed-in lesson folder.

    Reads ``<folder>/eksperimenter/*.jsonl`` with ``Experiment.load``; a cycle counts when
    it has measurements and a conclusion. Per question the run with the most finished
    cycles counts (a pupil who started the same experiment again is not counted twice);
    the questions are added up. ``None`` when the folder has no logbooks.

    Example: ``count_cycles("submitted/elev07/uge3")`` -> ``2``.
    """
    from robotlab.errors import RobotLabError
    from robotlab.experiment import FOLDER, Experiment
    files = sorted((Path(folder) / FOLDER).glob("*.jsonl"))
    if not files:
        return None
    best: dict[str, int] = {}
    for file in files:
        try:
            exp = Experiment.load(file)
        except (RobotLabError, OSError, KeyError, ValueError, TypeError):
            continue                        # not a logbook, or unreadable: skip it
        done = sum(1 for cycle in exp.cycles if cycle.rows and cycle.conclusion is not None)
        best[exp.question] = max(best.get(exp.question, 0), done)
    return sum(best.values())


def _handed_in_cycles(course: Path, student: str, lesson: str) -> int | None:
    """Cycles from the pupil's own submitted folder, else from the autograded copy."""
    for step in ("submitted", "autograded"):
        cycles = count_cycles(course / step / student / lesson)
        if cycles is not None:
            return cycles
    return None


def _number(value: float) -> float | int:
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


def collect_rows(course) -> list[dict]:
    """One row per lesson and pupil in the gradebook (pupils who did not hand in have
    ``None`` for score, percent, cycles and submitted_at).

    Example::

        for row in collect_rows("fysik-2b"):
            print(row["lesson"], row["pupil"], row["percent"])   # uge3 elev07 75.0
    """
    course = Path(course).resolve()
    course_id_of(course)
    rows = []
    with gradebook(course) as gb:
        students = sorted(student.id for student in gb.students)
        for assignment in gb.assignments:
            max_score = _number(assignment.max_score or 0)
            handed_in = {sub.student_id: sub for sub in assignment.submissions}
            for student in sorted(set(students) | set(handed_in)):
                sub = handed_in.get(student)
                row = {"lesson": assignment.name, "pupil": student, "score": None,
                       "max_score": max_score, "percent": None, "cycles": None,
                       "submitted_at": None}
                if sub is not None:
                    row["score"] = _number(sub.score or 0)
                    if max_score:
                        row["percent"] = round(100 * float(sub.score or 0) / max_score, 1)
                    row["cycles"] = _handed_in_cycles(course, student, assignment.name) or 0
                    if sub.timestamp is not None:
                        row["submitted_at"] = sub.timestamp.replace(microsecond=0).isoformat(" ")
                rows.append(row)
    return rows


def write_csv(rows: list[dict], path) -> Path:
    """Write report rows as CSV (empty cells for pupils who did not hand in).

    Example: ``write_csv(collect_rows("fysik-2b"), "rapport/report.csv")``.
    """
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row[k] is None else row[k] for k in CSV_COLUMNS})
    return path


def _by_lesson(rows: list[dict]) -> dict[str, list[dict]]:
    lessons: dict[str, list[dict]] = {}
    for row in rows:
        lessons.setdefault(row["lesson"], []).append(row)
    return lessons


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plots(rows: list[dict]) -> list[str]:
    """The report's plots as PNG data URLs: the spread of percents per lesson, and the mean
    percent per lesson. Uses matplotlib without pyplot (no window, no global state).

    Example: ``'<img src="%s">' % plots(collect_rows("fysik-2b"))[0]``.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from robotlab.i18n import message
    lessons = _by_lesson(rows)
    names = list(lessons)
    percents = [[r["percent"] for r in lessons[n] if r["percent"] is not None] for n in names]
    width = max(5.0, 1.2 * len(names) + 2)

    spread = Figure(figsize=(width, 3.5))
    ax = spread.add_subplot()
    bins = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100.0001]
    ax.hist(percents, bins=bins, label=names)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(message("course_plot_distribution"))
    ax.set_xlabel(message("course_plot_percent"))
    ax.set_ylabel(message("course_plot_pupils"))
    ax.set_xlim(0, 100)
    if names:
        ax.legend(fontsize="small")

    means = Figure(figsize=(width, 3.5))
    ax = means.add_subplot()
    values = [sum(p) / len(p) if p else 0.0 for p in percents]
    ax.bar(range(len(names)), values, color="#4477aa")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, 100)
    ax.set_title(message("course_plot_mean"))
    ax.set_xlabel(message("course_plot_lesson"))
    ax.set_ylabel(message("course_plot_percent"))
    for x, value in enumerate(values):
        ax.annotate(f"{value:.0f} %", (x, value), ha="center", va="bottom", fontsize="small")
    return [_png(spread), _png(means)]


def _cell(value) -> str:
    return "" if value is None else html.escape(str(value))


def report_html(rows: list[dict], course_id: str) -> str:
    """The class report as one self-contained HTML page (headings in the teacher's language).

    Example: ``Path("rapport.html").write_text(report_html(collect_rows("fysik-2b"), "fysik-2b"))``.
    """
    from robotlab.i18n import language, message
    made = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    title = message("course_report_title", course=course_id)
    parts = [f'<!DOCTYPE html>\n<html lang="{language()}"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
             "table{border-collapse:collapse;margin-bottom:1em}"
             "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}"
             "th:first-child,td:first-child{text-align:left}"
             "td.missing{color:#999;font-style:italic}img{max-width:100%}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(message('course_report_made', time=made))}</p>"]
    lessons = _by_lesson(rows)
    if not lessons:
        parts.append(f"<p>{html.escape(message('course_report_empty'))}</p>")
    else:
        parts.append(f"<h2>{html.escape(message('course_report_overview'))}</h2>")
        parts += [f'<p><img alt="" src="{url}"></p>' for url in plots(rows)]
    heads = ["course_col_pupil", "course_col_score", "course_col_max", "course_col_percent",
             "course_col_cycles", "course_col_submitted"]
    for name, lesson_rows in lessons.items():
        done = [r["percent"] for r in lesson_rows if r["score"] is not None]
        known = [p for p in done if p is not None]
        mean = f"{sum(known) / len(known):.0f}" if known else "-"
        parts.append(f"<h2>{html.escape(message('course_report_lesson', name=name))}</h2>")
        parts.append(f"<p>{html.escape(message('course_report_summary', submitted=len(done), pupils=len(lesson_rows), mean=mean))}</p>")
        parts.append('<table class="lesson"><thead><tr>'
                     + "".join(f"<th>{html.escape(message(k))}</th>" for k in heads)
                     + "</tr></thead><tbody>")
        for r in lesson_rows:
            if r["score"] is None:
                parts.append(f"<tr><td>{_cell(r['pupil'])}</td><td class=\"missing\" colspan=\"5\">"
                             f"{html.escape(message('course_not_submitted'))}</td></tr>")
            else:
                parts.append("<tr>" + "".join(f"<td>{_cell(r[k])}</td>" for k in
                                               ("pupil", "score", "max_score", "percent",
                                                "cycles", "submitted_at")) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(course, out=None) -> tuple[Path, Path]:
    """Write ``report.csv`` and ``report.html`` for a course into ``out``
    (default ``<course>/rapport``); returns their paths.

    Example: ``write_report("fysik-2b")`` -> ``(Path(".../rapport/report.csv"), Path(".../rapport/report.html"))``.
    """
    course = Path(course).resolve()
    course_id = course_id_of(course)
    rows = collect_rows(course)
    out = Path(out) if out is not None else course / DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(rows, out / "report.csv")
    html_path = out / "report.html"
    html_path.write_text(report_html(rows, course_id), encoding="utf-8")
    return csv_path, html_path

"""`robotlab course ...`: teacher commands on top of nbgrader, tried against the real nbgrader.

init makes a folder nbgrader accepts (its own commands run in it), add-pupils fills
nbgrader's gradebook from a CSV (English or Danish headers, pseudonyms) or refuses a bad
list with a short message, exit code 2 and nobody added, add-lesson copies a lesson that
``nbgrader generate_assignment`` then releases, and report reads a gradebook made by a
real ``nbgrader autograde`` plus the pupils' experiment logbooks.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grading.course import course_id_of, db_url
from robotlab.cli import main
from robotlab.i18n import message

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def alembic_head() -> str:
    from nbgrader.api import get_alembic_version
    from grading.course import _alembic_on_path
    _alembic_on_path()
    return get_alembic_version()


@pytest.fixture(autouse=True)
def one_alembic_call(monkeypatch, alembic_head):
    """nbgrader asks the ``alembic`` command (about 3 s) for its schema version each time it
    makes a gradebook; in this process ask once (nbgrader's own commands still ask)."""
    monkeypatch.setattr("nbgrader.api.get_alembic_version", lambda: alembic_head)


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the real ``nbgrader`` command in a course folder (its alembic on PATH)."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def course_cmd(*args: str) -> int:
    return main(["course", *[str(a) for a in args]])


def students(course: Path) -> dict[str, tuple]:
    from nbgrader.api import Gradebook
    with Gradebook(db_url(course), course_id=course_id_of(course)) as gb:
        return {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}


@pytest.fixture
def course(tmp_path) -> Path:
    assert course_cmd("init", "fysik-2b", "--folder", tmp_path / "fysik") == 0
    return tmp_path / "fysik"


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


# -- init ---------------------------------------------------------------------------------

def test_init_makes_a_course_nbgrader_accepts(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert course_cmd("init", "fysik-2b", "--time-limit", "30") == 0
    out = capsys.readouterr().out
    folder = tmp_path / "fysik-2b"
    assert message("course_init_done", course="fysik-2b", folder=str(folder)) in out
    assert "Sådan kommer du videre" in out
    for command in ("generate_assignment", "release_assignment", "collect", "autograde",
                    "generate_feedback", "robotlab course add-pupils"):
        assert command in out
    config = (folder / "nbgrader_config.py").read_text(encoding="utf-8")
    assert 'os.environ["ROBOTLAB_TIME_LIMIT"] = "30"' in config
    assert repr(str(folder / "exchange")) in config
    assert (folder / "source").is_dir() and (folder / "exchange").is_dir()
    listed = nbgrader(folder, "db", "student", "list")
    assert "There are 0 students" in listed.stdout
    assert (folder / "gradebook.db").exists()     # where grading.course looks for it


def test_init_with_an_exchange_elsewhere_and_not_twice(tmp_path, capsys):
    exchange = tmp_path / "faelles" / "exchange"
    assert course_cmd("init", "fysik", "--folder", tmp_path / "k", "--exchange", exchange) == 0
    assert repr(str(exchange)) in (tmp_path / "k" / "nbgrader_config.py").read_text()
    assert not (tmp_path / "k" / "exchange").exists()
    capsys.readouterr()
    assert course_cmd("init", "fysik", "--folder", tmp_path / "k") == 2
    assert capsys.readouterr().err.strip() == message("course_exists",
                                                      folder=str(tmp_path / "k"))


# -- add-pupils ---------------------------------------------------------------------------

ROSTERS = {
    "english": ("id,first_name,last_name,email\nada,Ada,Jensen,ada@skole.dk\nbo,Bo,Hansen,\n",
                {"ada": ("Ada", "Jensen", "ada@skole.dk"), "bo": ("Bo", "Hansen", None)}),
    "danish-excel": ("\ufeffElev;Fornavn;Efternavn\nelev01;Åse;Ørsted\nelev02;Bo;Hansen\n",
                     {"elev01": ("Åse", "Ørsted", None), "elev02": ("Bo", "Hansen", None)}),
    "pseudonyms": ("id\nrobot-ræv\n\nrobot-ugle\n",
                   {"robot-ræv": (None, None, None), "robot-ugle": (None, None, None)}),
}


@pytest.mark.parametrize("text, expected", ROSTERS.values(), ids=ROSTERS)
def test_add_pupils_fills_nbgraders_gradebook(course, monkeypatch, capsys, text, expected):
    monkeypatch.chdir(course)
    write(course / "elever.csv", text)
    assert course_cmd("add-pupils", "elever.csv") == 0
    assert capsys.readouterr().out.strip() == message(
        "course_pupils_added", count=2, new=2, updated=0, course="fysik-2b")
    assert students(course) == expected


def test_add_pupils_again_updates_and_nbgrader_lists_them(course, capsys):
    roster = write(course / "elever.csv", "id,first_name\nada,A\n")
    assert course_cmd("add-pupils", roster, "--course", course) == 0
    write(roster, "fornavn,elev\nAda,ada\nBo,bo\n")
    assert course_cmd("add-pupils", roster, "--course", course) == 0
    assert capsys.readouterr().out.splitlines()[-1] == message(
        "course_pupils_added", count=2, new=1, updated=1, course="fysik-2b")
    listed = nbgrader(course, "db", "student", "list").stdout
    assert "There are 2 students" in listed and "ada (None, Ada)" in listed


BAD_ROSTERS = {
    "missing": (None, "course_roster_missing", {}),
    "no-id-column": ("navn,klasse\nAda,2b\n", "course_roster_no_id", {"columns": "navn, klasse"}),
    "duplicate": ("id\nada\nbo\nada\nbo\ncy\n", "course_roster_duplicate", {"ids": "ada, bo"}),
    "empty-id": ("id,fornavn\nada,Ada\n,Bo\n", "course_roster_empty_id", {"line": 3}),
    "no-pupils": ("id,fornavn\n", "course_roster_empty", {}),
    "empty-file": ("", "course_roster_empty", {}),
    "not-text": (b"\x81\x8d\x8f\x90", "course_roster_unreadable", None),
}


@pytest.mark.parametrize("content, key, params", BAD_ROSTERS.values(), ids=BAD_ROSTERS)
def test_a_bad_roster_says_what_is_wrong_and_adds_nobody(course, lang, capsys, content, key,
                                                          params):
    write(course / "old.csv", "id\nada\n")
    assert course_cmd("add-pupils", course / "old.csv", "--course", course) == 0
    roster = course / "elever.csv"
    if isinstance(content, bytes):
        roster.write_bytes(content)
    elif content is not None:
        write(roster, content)
    capsys.readouterr()
    assert course_cmd("add-pupils", roster, "--course", course) == 2
    out, err = capsys.readouterr()
    assert out == ""
    if params is None:                               # the detail is Python's own text
        head = message(key, path=str(roster), detail="\0").split("\0")[0]
        assert err.startswith(head), err
    else:
        assert err.strip() == message(key, path=str(roster), **params)
    assert "\n" not in err.strip() and len(err) < 300
    assert "Traceback" not in err
    assert set(students(course)) == {"ada"}          # nothing half-imported


def test_add_pupils_outside_a_course(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "elever.csv", "id\nada\n")
    assert course_cmd("add-pupils", "elever.csv") == 2
    assert capsys.readouterr().err.strip() == message("course_not_a_course", folder=".")
    assert "--course" in message("course_not_a_course", folder=".")
    assert not (tmp_path / "gradebook.db").exists()


# -- add-lesson ---------------------------------------------------------------------------

def nbgrader_cell(cell, grade_id: str, *, solution=False, points=None):
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution,
                                 "grade": points is not None, "locked": not solution,
                                 "schema_version": 3, "task": False,
                                 **({"points": points} if points is not None else {})}
    return cell


def lesson_notebook(path: Path) -> Path:
    """A tiny nbgrader source notebook: one answer cell, one hidden test worth 2 points."""
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("Hvor mange hjul har robotten?"),
        nbgrader_cell(v4.new_code_cell("### BEGIN SOLUTION\nhjul = 2\n### END SOLUTION"),
                      "svar", solution=True),
        nbgrader_cell(v4.new_code_cell("assert hjul == 2\n### BEGIN HIDDEN TESTS\n"
                                       "assert isinstance(hjul, int)\n### END HIDDEN TESTS"),
                      "test_hjul", points=2),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_add_lesson_copies_the_notebook_and_its_files_and_nbgrader_releases_it(
        course, tmp_path, capsys):
    lessons = tmp_path / "lektioner"
    lessons.mkdir()
    lesson_notebook(lessons / "hjul.ipynb")
    write(lessons / "bane.toml", 'size_cm = [150, 100]\nfloor = "gulv.png"\n')
    (lessons / "gulv.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    lesson_notebook(lessons / "en_anden.ipynb")
    (lessons / ".ipynb_checkpoints").mkdir()
    assert course_cmd("add-lesson", lessons / "hjul.ipynb", "--name", "uge1",
                      "--course", course) == 0
    target = course / "source" / "uge1"
    assert capsys.readouterr().out.strip() == message(
        "course_lesson_added", name="uge1", folder=str(target), files=3)
    assert sorted(p.name for p in target.iterdir()) == ["bane.toml", "gulv.png", "hjul.ipynb"]
    nbgrader(course, "generate_assignment", "uge1")
    assert (course / "release" / "uge1" / "hjul.ipynb").exists()
    assert (course / "release" / "uge1" / "bane.toml").exists()
    released = (course / "release" / "uge1" / "hjul.ipynb").read_text(encoding="utf-8")
    assert "hjul = 2" not in released and "isinstance" not in released
    listed = nbgrader(course, "db", "assignment", "list").stdout
    assert "uge1" in listed


def test_add_lesson_from_a_folder_takes_its_name(course, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "firkant"
    (folder / "eksperimenter").mkdir(parents=True)
    lesson_notebook(folder / "firkant.ipynb")
    write(folder / "eksperimenter" / "laererens-proeve.jsonl", "{}\n")
    monkeypatch.chdir(course)
    assert course_cmd("add-lesson", folder) == 0
    assert sorted(p.name for p in (course / "source" / "firkant").iterdir()) == ["firkant.ipynb"]
    from nbgrader.api import Gradebook
    with Gradebook(db_url(course), course_id="fysik-2b") as gb:
        assert [a.name for a in gb.assignments] == ["firkant"]


def test_add_lesson_mistakes(course, tmp_path, lang, capsys):
    lesson_notebook(tmp_path / "hjul.ipynb")
    (tmp_path / "tom").mkdir()
    assert course_cmd("add-lesson", tmp_path / "hjul.ipynb", "--course", course) == 0
    cases = [
        ((tmp_path / "hjul.ipynb",), message("course_lesson_exists", name="hjul")),
        ((tmp_path / "hjul.ipynb", "--name", "uge 1"),
         message("course_lesson_bad_name", name="uge 1")),
        ((tmp_path / "nej.ipynb",), message("course_lesson_missing",
                                            path=str(tmp_path / "nej.ipynb"))),
        ((tmp_path / "tom",), message("course_lesson_no_notebook", path=str(tmp_path / "tom"))),
    ]
    capsys.readouterr()
    for args, expected in cases:
        assert course_cmd("add-lesson", *args, "--course", course) == 2
        assert capsys.readouterr().err.strip() == expected
    assert sorted(p.name for p in (course / "source").iterdir()) == ["hjul"]


@pytest.mark.parametrize("asked, language, name", [
    (("2",), "da", "02-tegn-en-firkant-da"),
    (("02-tegn-en-firkant", "--language", "en"), "en", "02-tegn-en-firkant-en"),
    ((str(ROOT / "lessons" / "01-hej-robot"), "--sprog", "en"), "en", "01-hej-robot-en"),
])
def test_add_lesson_takes_robotlabs_lessons_in_one_language_without_the_teacher_guide(
        course, monkeypatch, capsys, asked, language, name):
    monkeypatch.delenv("ROBOTLAB_LANG", raising=False)
    assert course_cmd("add-lesson", *asked, "--course", course) == 0
    target = course / "source" / name
    names = sorted(p.name for p in target.iterdir())
    assert f"{name}.ipynb" in names
    assert [n for n in names if n.endswith(".ipynb")] == [f"{name}.ipynb"]
    assert not {"laererguide.md", "teacher-guide.md", "da.ipynb", "en.ipynb"} & set(names)
    folder = name.rsplit("-", 1)[0]
    original = (ROOT / "lessons" / folder / f"{language}.ipynb").read_text(encoding="utf-8")
    assert (target / f"{name}.ipynb").read_text(encoding="utf-8") == original
    nbgrader(course, "generate_assignment", name)
    assert (course / "release" / name / f"{name}.ipynb").exists()


def test_add_lesson_of_a_language_that_does_not_exist(course, lang, capsys):
    assert course_cmd("add-lesson", "1", "--course", course) == 0
    capsys.readouterr()
    # From the command line: the same short message, not argparse's English one.
    assert course_cmd("add-lesson", "2", "--sprog", "de", "--course", course) == 2
    assert capsys.readouterr().err.strip() == message(
        "course_lesson_bad_language", language="de", languages="da, en")
    from grading.course import CourseError, add_lesson
    with pytest.raises(CourseError) as raised:
        add_lesson(course, 1, language="de")
    assert str(raised.value) == message("course_lesson_bad_language", language="de",
                                        languages="da, en")
    # The lesson added first is still there, in the teacher's language.
    assert [p.name for p in (course / "source").iterdir()] == [f"01-hej-robot-{lang}"]


# -- report ---------------------------------------------------------------------------------

def logbook(folder: Path, finished: int, *, unfinished: bool = False, question="Hvor langt?"):
    """An experiment logbook with ``finished`` cycles that have rows and a conclusion."""
    from robotlab import Experiment
    exp = Experiment(question, folder=folder / "eksperimenter")
    for n in range(finished):
        (exp.hypothesis if n == 0 else exp.revise)(f"Den kører {30 + n} cm", prediction=30 + n)
        exp.trial(speed=50)
        exp.record(distance=28 + n)
        exp.conclude("Kortere end forudsagt", supported=False)
    if unfinished:
        (exp.hypothesis if finished == 0 else exp.revise)("Måske 25 cm", prediction=25)
        exp.trial(speed=50)
        exp.record(distance=25)
    return exp.path


def hand_in(course: Path, pupil: str, lesson: str, answer: str, when: str) -> Path:
    folder = course / "submitted" / pupil / lesson
    folder.mkdir(parents=True)
    nb = nbformat.read(course / "release" / lesson / "hjul.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answer
    nbformat.write(nb, folder / "hjul.ipynb")
    write(folder / "timestamp.txt", when)
    return folder


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory) -> Path:
    """A course graded by the real nbgrader: ada right, bo wrong, cy did not hand in."""
    course = tmp_path_factory.mktemp("klasse") / "fysik"
    assert main(["course", "init", "fysik-2b", "--folder", str(course)]) == 0
    write(course / "elever.csv", "elev\nada\nbo\ncy\n")
    assert main(["course", "add-pupils", str(course / "elever.csv"), "--course", str(course)]) == 0
    lesson_notebook(course / "hjul.ipynb")
    assert main(["course", "add-lesson", str(course / "hjul.ipynb"), "--name", "uge1",
                 "--course", str(course)]) == 0
    nbgrader(course, "generate_assignment", "uge1")
    ada = hand_in(course, "ada", "uge1", "hjul = 2", "2025-03-03 10:15:00.000000 UTC")
    hand_in(course, "bo", "uge1", "hjul = 3", "2025-03-03 10:20:00.000000 UTC")
    logbook(ada, 2, unfinished=True)                  # 2 finished cycles, 1 open
    logbook(ada, 1)                                   # the same question again: not added
    logbook(ada, 1, question="Drejer den 90 grader?")  # another question: added -> 3
    write(ada / "eksperimenter" / "noter.jsonl", '{"not": "a logbook"}\n')
    nbgrader(course, "autograde", "uge1")
    return course


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_report_numbers_from_a_real_autograde(graded_course, tmp_path, capsys):
    out = tmp_path / "rapport"
    assert main(["course", "report", "--course", str(graded_course), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == message(
        "course_report_written", csv=str(out / "report.csv"), html=str(out / "report.html"))
    rows = read_csv(out / "report.csv")
    assert list(rows[0]) == ["lesson", "pupil", "score", "max_score", "percent", "cycles",
                             "submitted_at"]
    assert rows == [
        {"lesson": "uge1", "pupil": "ada", "score": "2", "max_score": "2", "percent": "100.0",
         "cycles": "3", "submitted_at": "2025-03-03 10:15:00"},
        {"lesson": "uge1", "pupil": "bo", "score": "0", "max_score": "2", "percent": "0.0",
         "cycles": "0", "submitted_at": "2025-03-03 10:20:00"},
        {"lesson": "uge1", "pupil": "cy", "score": "", "max_score": "2", "percent": "",
         "cycles": "", "submitted_at": ""},
    ]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert message("course_report_title", course="fysik-2b") in page
    assert f"<h2>{message('course_report_lesson', name='uge1')}</h2>" in page
    assert '<table class="lesson">' in page and "<th>Elev</th>" in page and "<th>Cyklusser</th>" in page
    assert message("course_report_summary", submitted=2, pupils=3, mean="50") in page
    assert message("course_not_submitted") in page
    assert page.count('src="data:image/png;base64,') == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_report_in_english_with_the_default_folder(graded_course, monkeypatch, capsys):
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    monkeypatch.chdir(graded_course)
    assert main(["course", "report"]) == 0
    page = (graded_course / "rapport" / "report.html").read_text(encoding="utf-8")
    assert "Class report for fysik-2b" in page and "<th>Pupil</th>" in page
    assert "not handed in" in page and "Klasserapport" not in page
    assert "The class report was saved" in capsys.readouterr().out


def test_report_of_a_course_without_lessons(course, capsys):
    assert course_cmd("report", "--course", course) == 0
    page = (course / "rapport" / "report.html").read_text(encoding="utf-8")
    assert message("course_report_empty") in page and "<img" not in page
    assert read_csv(course / "rapport" / "report.csv") == []


def test_report_outside_a_course(tmp_path, capsys):
    assert course_cmd("report", "--course", tmp_path) == 2
    assert capsys.readouterr().err.strip() == message("course_not_a_course", folder=str(tmp_path))


def test_every_course_message_is_used_by_the_commands():
    """The message table's course_ keys are all used by grading/course.py or grading/report.py."""
    from robotlab.i18n import table
    source = "\n".join((ROOT / "grading" / name).read_text(encoding="utf-8")
                       for name in ("course.py", "report.py"))
    unused = [key for key in table() if key.startswith("course_") and f'"{key}"' not in source
              and f"'{key}'" not in source]
    assert unused == []


def test_import_robotlab_does_not_import_nbgrader():
    code = "import robotlab, robotlab.cli, sys; print('nbgrader' in sys.modules, 'grading' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_collect_rows_gives_plain_values(graded_course):
    """The rows behind the report are plain numbers and texts (for pandas or JSON)."""
    from grading.report import collect_rows
    rows = collect_rows(graded_course)
    assert [(row["pupil"], row["percent"], row["cycles"]) for row in rows] == [
        ("ada", 100.0, 3), ("bo", 0.0, 0), ("cy", None, None)]
    assert json.loads(json.dumps(rows)) == rows

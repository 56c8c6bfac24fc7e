"""Every written lesson, in both languages: valid with the real nbgrader, graded both ways, in its language.

The solution version (the source notebook) must autograde to full marks on its
autograded cells, and the released version (what pupils get) to zero, without
errors in the grading machinery: a check that cannot fail is a defect.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grading.course import write_config
from grading.lessons import (AREAS, LANGUAGES, LESSONS, assignment_name, copy_into_course,
                             curriculum, nbgrader_env, written)

WRITTEN = written()


def test_the_curriculum_has_eight_lessons_with_grades_time_and_subject_areas():
    lessons = curriculum()
    assert [lesson["number"] for lesson in lessons] == list(range(1, 9))
    for lesson in lessons:
        assert set(lesson["title"]) == set(LANGUAGES)
        low, high = lesson["grades"]
        assert 5 <= low <= high <= 9
        assert 30 <= lesson["minutes"] <= 300
        assert lesson["areas"] and set(lesson["areas"]) <= set(AREAS)
    assert {area for lesson in lessons for area in lesson["areas"]} == set(AREAS)
    assert len(WRITTEN) >= 2


@pytest.mark.parametrize("lesson", WRITTEN, ids=lambda lesson: lesson["folder"])
def test_a_written_lesson_has_both_notebooks_and_both_teacher_guides(lesson):
    folder = LESSONS / lesson["folder"]
    for name in ("da.ipynb", "en.ipynb", "laererguide.md", "teacher-guide.md"):
        assert (folder / name).is_file(), name
    da, en = (nbformat.read(folder / f"{lang}.ipynb", as_version=4) for lang in LANGUAGES)
    # Cell for cell the same lesson: the same graded cells with the same points.
    def graded(notebook):
        return [(c.metadata["nbgrader"]["grade_id"], c.metadata["nbgrader"].get("points"))
                for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded(da) == graded(en) and graded(da)
    sources = "\n".join(c.source for c in da.cells if c.cell_type == "code")
    assert "Eksperiment(" in sources          # the hypothesis cells use the experiment logbook
    english = "\n".join(c.source for c in en.cells if c.cell_type == "code")
    assert "Experiment(" in english
    # Each version sets its language itself, in the locked import cell.
    for notebook, call in ((da, 'sæt_sprog("da")'), (en, 'set_language("en")')):
        first = next(c for c in notebook.cells if c.cell_type == "code")
        assert first.metadata["nbgrader"]["locked"] and call in first.source
    for guide in ("laererguide.md", "teacher-guide.md"):
        text = (folder / guide).read_text(encoding="utf-8")
        assert len(text) > 400


DANISH_WORDS = {"og", "er", "du", "det", "på", "med", "hvad", "til", "ikke", "kan", "skal",
                "hvor", "din", "dit", "robotten", "når", "der", "som"}
ENGLISH_WORDS = {"the", "and", "you", "your", "is", "are", "of", "with", "what", "this", "that",
                 "how", "does", "will", "when", "there"}


def prose_words(notebook) -> list[str]:
    words = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"```.*?```", " ", cell.source, flags=re.S)
        text = re.sub(r"`[^`]*`", " ", text)
        words += re.findall(r"[a-zæøå']+", text.lower())
    return words


@pytest.mark.parametrize("lesson", WRITTEN, ids=lambda lesson: lesson["folder"])
def test_each_version_is_written_in_its_language(lesson):
    folder = LESSONS / lesson["folder"]
    da = prose_words(nbformat.read(folder / "da.ipynb", as_version=4))
    en = prose_words(nbformat.read(folder / "en.ipynb", as_version=4))
    assert len(da) > 50 and len(en) > 50
    assert sorted(set(da) & ENGLISH_WORDS) == []
    assert sorted(set(en) & DANISH_WORDS) == []
    assert len(set(da) & DANISH_WORDS) >= 5 and len(set(en) & ENGLISH_WORDS) >= 5


def nbgrader(course: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = nbgrader_env()
    env["PYTHONPATH"] = str(LESSONS.parent)
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=timeout)


def grade(lesson: dict, language: str, course: Path) -> subprocess.CompletedProcess:
    """A course with one lesson in one language; its solution and its release autograded.

    The course is set to the *other* language: each notebook sets its own in its import
    cell, so it must grade the same in a Danish course and an English one.
    """
    other = next(lang for lang in LANGUAGES if lang != language)
    write_config(course, f"lessons-{language}", time_limit_s=30, language=other)
    name = copy_into_course(lesson, language, course)
    made = nbgrader(course, "generate_assignment", name, "--force", "--create")
    assert made.returncode == 0, made.stdout + made.stderr
    for student, notebook in (("losning", course / "source" / name),
                              ("blank", course / "release" / name)):
        target = course / "submitted" / student / name
        shutil.copytree(notebook, target)
        (target / "timestamp.txt").write_text("2026-11-27 10:00:00.000000 UTC")
    return nbgrader(course, "autograde", name, "--force", "--create")


def autograded_scores(course: Path, name: str, student: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gradebook:
        submission = gradebook.find_submission(name, student)
        grades = [g for nb in submission.notebooks for g in nb.grades if g.auto_score is not None
                  and g.cell_type == "code"]
        return sum(g.auto_score for g in grades), sum(g.max_score for g in grades)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("lesson", WRITTEN, ids=lambda lesson: lesson["folder"])
def test_the_solution_gets_full_marks_and_the_release_gets_zero(lesson, language, tmp_path):
    run = grade(lesson, language, tmp_path)
    name = assignment_name(lesson, language)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    score, possible = autograded_scores(tmp_path, name, "losning")
    assert possible > 0 and score == possible, (score, possible)
    score, possible = autograded_scores(tmp_path, name, "blank")
    assert score == 0, score
    # The grading machinery itself raised nothing: no traceback from nbgrader in its log.
    assert "Traceback" not in run.stderr, run.stderr[-3000:]


def test_robotlab_lessons_build_makes_release_versions_without_solutions(tmp_path, capsys):
    from robotlab.cli import main
    assert main(["lessons", "build", "--out", str(tmp_path)]) == 0
    assert f"{2 * len(WRITTEN)} lektionsnotesbøger til eleverne" in capsys.readouterr().out
    made = sorted(tmp_path.rglob("*.ipynb"))
    assert [p.relative_to(tmp_path).parts[0] for p in made].count("da") == len(WRITTEN)
    assert len(made) == 2 * len(WRITTEN)
    for path in made:
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
        assert "grading.checks" not in text                 # hidden tests are stripped


def test_lessons_build_into_a_file_says_so_and_keeps_the_file(tmp_path, lang, capsys):
    from robotlab.cli import main
    from robotlab.i18n import message
    target = tmp_path / "udgivet"
    target.write_text("mine noter")
    assert main(["lessons", "build", "--out", str(target)]) == 2
    assert capsys.readouterr().err.strip() == message("lessons_out_is_file", out=str(target))
    assert target.read_text() == "mine noter"


def test_a_lesson_nbgrader_cannot_release_is_named_and_nothing_is_changed(tmp_path, lang, capsys):
    from robotlab.cli import main
    lessons = tmp_path / "lektioner"
    shutil.copytree(LESSONS / "01-hej-robot", lessons / "01-hej-robot")
    broken = lessons / "99-i-stykker"
    shutil.copytree(LESSONS / "01-hej-robot", broken)
    (lessons / "curriculum.toml").write_text(
        '[[lesson]]\nnumber = 1\nfolder = "01-hej-robot"\n'
        '[[lesson]]\nnumber = 2\nfolder = "99-i-stykker"\n', encoding="utf-8")
    notebook = nbformat.read(broken / "en.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if "### END SOLUTION" in c.source)
    cell.source = cell.source.replace("### END SOLUTION", "")      # a solution that never ends
    nbformat.write(notebook, broken / "en.ipynb")
    out = tmp_path / "udgivet"
    (out / "da" / "01-hej-robot").mkdir(parents=True)
    (out / "da" / "01-hej-robot" / "gammel.ipynb").write_text("{}")
    assert main(["lessons", "build", "--out", str(out), "--lessons", str(lessons)]) == 2
    error = capsys.readouterr().err
    assert "99-i-stykker-en" in error and str(broken / "en.ipynb") in error
    assert "Traceback" not in error
    assert [p.name for p in out.rglob("*") if p.is_file()] == ["gammel.ipynb"]


def test_a_folder_without_lessons(tmp_path, lang, capsys):
    from robotlab.cli import main
    from robotlab.i18n import message
    (tmp_path / "curriculum.toml").write_text('[[lesson]]\nnumber = 1\n', encoding="utf-8")
    assert main(["lessons", "build", "--out", str(tmp_path / "ud"), "--lessons",
                 str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == message("lessons_none", folder=str(tmp_path))


def test_the_overview_lists_all_eight_lessons_in_the_teachers_language(lang):
    from grading.lessons import AREA_NAMES, overview
    from robotlab.i18n import message
    table = overview()
    rows = table.splitlines()
    assert len(rows) == 2 + 8
    for lesson, row in zip(curriculum(), rows[2:]):
        assert lesson["title"][lang] in row
        assert all(AREA_NAMES[area][lang] in row for area in lesson["areas"])
        if lesson.get("folder"):
            assert f"`{lesson['folder']}`" in row
        else:
            assert message("lessons_overview_planned") in row

"""RobotLab's lessons: the curriculum data and building nbgrader release versions.

A lesson is a folder in ``lessons/`` with an nbgrader source notebook per
language (``da.ipynb``, ``en.ipynb``), its teacher guides and any arena files.
``robotlab lessons build`` runs nbgrader's own ``generate_assignment`` on each
to produce the release versions (solutions removed, hidden tests stripped).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
LANGUAGES = ("da", "en")
AREAS = ("digital_myndiggoerelse", "digital_design", "computationel_tankegang",
         "teknologisk_handleevne")
#: The competence areas of Teknologiforståelse as a teacher reads them.
AREA_NAMES = {
    "digital_myndiggoerelse": {"da": "digital myndiggørelse", "en": "digital empowerment"},
    "digital_design": {"da": "digital design og designprocesser",
                       "en": "digital design and design processes"},
    "computationel_tankegang": {"da": "computationel tankegang", "en": "computational thinking"},
    "teknologisk_handleevne": {"da": "teknologisk handleevne", "en": "technological capability"},
}
#: Files in a lesson folder that are for the teacher only: never copied to the pupils.
TEACHER_ONLY = ("laererguide.md", "teacher-guide.md")


def curriculum(folder: Path = LESSONS) -> list[dict]:
    """The lessons in ``curriculum.toml``, in order.

    Example: ``[lesson["title"]["da"] for lesson in curriculum()]``.
    """
    with open(folder / "curriculum.toml", "rb") as f:
        return sorted(tomllib.load(f)["lesson"], key=lambda lesson: lesson["number"])


def written(folder: Path = LESSONS) -> list[dict]:
    """The lessons that have notebooks (not only planned)."""
    return [lesson for lesson in curriculum(folder) if lesson.get("folder")]


def is_bilingual(folder: Path) -> bool:
    """Whether ``folder`` is a RobotLab lesson with a notebook per language."""
    return all((Path(folder) / f"{language}.ipynb").is_file() for language in LANGUAGES)


def find(lesson: str | int, folder: Path = LESSONS) -> dict | None:
    """A written lesson by its number (``2``, ``"2"``, ``"02"``) or folder name, else None.

    Example: ``find(2)["folder"]`` -> ``"02-tegn-en-firkant"``.
    """
    text = str(lesson).strip().strip("/")
    for entry in written(folder):
        if text == entry["folder"] or (text.isdigit() and int(text) == entry["number"]):
            return entry
    return None


def overview(language: str | None = None, folder: Path = LESSONS) -> str:
    """All eight lessons as a Markdown table for teachers (number, title, grades, time, areas).

    Example: ``IPython.display.Markdown(overview("da"))``.
    """
    from robotlab.i18n import language as current, message
    language = language or current()
    rows = [message("lessons_overview_header", language), "|---|---|---|---|---|---|"]
    for lesson in curriculum(folder):
        low, high = lesson["grades"]
        areas = ", ".join(AREA_NAMES[area][language] for area in lesson["areas"])
        ready = (f"`{lesson['folder']}`" if lesson.get("folder")
                 else message("lessons_overview_planned", language))
        rows.append(f"| {lesson['number']} | {lesson['title'][language]} | {low}.–{high}. | "
                    f"{lesson['minutes']} | {areas} | {ready} |")
    return "\n".join(rows)


def assignment_name(lesson: dict, language: str) -> str:
    """The nbgrader assignment name of a lesson in a language, e.g. ``02-tegn-en-firkant-da``."""
    return f"{lesson['folder']}-{language}"


def copy_into_course(lesson: dict, language: str, course: Path, folder: Path = LESSONS,
                     name: str | None = None) -> str:
    """Put one language of a lesson into ``course/source/<name>/`` as nbgrader wants it.

    The lesson's other files (arenas) come along, but not the teacher guides; the
    notebook is renamed to the assignment's name (``name`` defaults to
    ``assignment_name``). Returns that name.
    Example: ``copy_into_course(lesson, "da", course)`` -> ``"01-hej-robot-da"``.
    """
    name = name or assignment_name(lesson, language)
    target = Path(course) / "source" / name
    shutil.copytree(folder / lesson["folder"], target,
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "eksperimenter",
                                                  "__pycache__", ".*", *TEACHER_ONLY))
    shutil.copy(folder / lesson["folder"] / f"{language}.ipynb", target / f"{name}.ipynb")
    return name


def nbgrader_env() -> dict:
    """Environment for nbgrader: the venv's bin on PATH (nbgrader calls alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


class BuildError(Exception):
    """``robotlab lessons build`` could not finish; the message says what to do."""

    def __init__(self, key: str, **params):
        from robotlab.i18n import message
        super().__init__(message(key, **params))
        self.key = key


def _nbgrader_complaint(output: str) -> str:
    """The line of nbgrader's output that says what is wrong (its last error line)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()] or lines or ["?"]
    return errors[-1][:300]


def build(out: Path, folder: Path = LESSONS, timeout_s: float = 300) -> list[Path]:
    """Release versions of every written lesson in both languages, under ``out/<lang>/``.

    A lesson nbgrader cannot release raises ``BuildError`` naming it, and nothing in
    ``out`` is changed (every version is made before any is copied there).
    Example: ``build(Path("udgivet"))`` -> ``udgivet/da/01-hej-robot/01-hej-robot-da.ipynb``, ...
    """
    from .course import write_config
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BuildError("lessons_out_is_file", out=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError("lessons_out_unusable", out=str(out),
                         reason=error.strerror or type(error).__name__) from None
    lessons = written(folder)
    if not lessons:
        raise BuildError("lessons_none", folder=str(folder))
    made = []
    with tempfile.TemporaryDirectory(prefix="robotlab-lessons-") as tmp:
        course = Path(tmp) / "course"
        write_config(course, "robotlab-lessons")
        names = [(lesson, language, copy_into_course(lesson, language, course, folder))
                 for lesson in lessons for language in LANGUAGES]
        for lesson, language, name in names:
            try:
                run = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name,
                                      "--force", "--create"], cwd=course, env=nbgrader_env(),
                                     timeout=timeout_s, capture_output=True, text=True)
                failed = run.returncode != 0
                complaint = _nbgrader_complaint(run.stdout + run.stderr) if failed else ""
            except subprocess.TimeoutExpired:
                failed, complaint = True, f"timeout {timeout_s:g} s"
            if failed:
                raise BuildError("lessons_build_failed", name=name, detail=complaint, out=str(out),
                                 notebook=str(folder / lesson["folder"] / f"{language}.ipynb"))
        for lesson, language, name in names:          # all made: only now is ``out`` changed
            release = course / "release" / name
            target = out / language / lesson["folder"]
            try:
                if target.exists():
                    shutil.rmtree(target)
                shutil.copytree(release, target)
            except OSError as error:
                raise BuildError("lessons_out_unusable", out=str(out),
                                 reason=error.strerror or type(error).__name__) from None
            made.append(target / f"{name}.ipynb")
    return made


def command(args) -> int:
    """``robotlab lessons build [--out DIR] [--lessons DIR]``; 2 with a message on failure."""
    from robotlab.i18n import message
    try:
        made = build(Path(args.out), Path(getattr(args, "lessons", None) or LESSONS))
    except BuildError as error:
        print(error, file=sys.stderr)
        return 2
    print(message("lessons_built", count=len(made), out=args.out))
    return 0

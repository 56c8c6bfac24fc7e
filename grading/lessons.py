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


def curriculum(folder: Path = LESSONS) -> list[dict]:
    """The lessons in ``curriculum.toml``, in order.

    Example: ``[lesson["title"]["da"] for lesson in curriculum()]``.
    """
    with open(folder / "curriculum.toml", "rb") as f:
        return sorted(tomllib.load(f)["lesson"], key=lambda lesson: lesson["number"])


def written(folder: Path = LESSONS) -> list[dict]:
    """The lessons that have notebooks (not only planned)."""
    return [lesson for lesson in curriculum(folder) if lesson.get("folder")]


def assignment_name(lesson: dict, language: str) -> str:
    """The nbgrader assignment name of a lesson in a language, e.g. ``02-tegn-en-firkant-da``."""
    return f"{lesson['folder']}-{language}"


def copy_into_course(lesson: dict, language: str, course: Path, folder: Path = LESSONS) -> str:
    """Put one language of a lesson into ``course/source/<name>/`` as nbgrader wants it.

    The lesson's other files (arenas) come along; the notebook is renamed to the
    assignment's name. Returns that name. Example: ``copy_into_course(lesson, "da", course)``.
    """
    name = assignment_name(lesson, language)
    target = Path(course) / "source" / name
    shutil.copytree(folder / lesson["folder"], target,
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    shutil.copy(folder / lesson["folder"] / f"{language}.ipynb", target / f"{name}.ipynb")
    return name


def nbgrader_env() -> dict:
    """Environment for nbgrader: the venv's bin on PATH (nbgrader calls alembic)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def build(out: Path, folder: Path = LESSONS, timeout_s: float = 300) -> list[Path]:
    """Release versions of every written lesson in both languages, under ``out/<lang>/``.

    Example: ``build(Path("udgivet"))`` -> ``udgivet/da/01-hej-robot/01-hej-robot-da.ipynb``, ...
    """
    from .course import write_config
    out = Path(out)
    made = []
    with tempfile.TemporaryDirectory(prefix="robotlab-lessons-") as tmp:
        course = Path(tmp) / "course"
        write_config(course, "robotlab-lessons")
        names = [(lesson, language, copy_into_course(lesson, language, course, folder))
                 for lesson in written(folder) for language in LANGUAGES]
        for lesson, language, name in names:
            subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name,
                            "--force", "--create"], cwd=course, env=nbgrader_env(), check=True,
                           timeout=timeout_s, capture_output=True)
            release = course / "release" / name
            target = out / language / lesson["folder"]
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(release, target)
            made.append(target / f"{name}.ipynb")
    return made


def command(args) -> int:
    """``robotlab lessons build [--out DIR]``."""
    from robotlab.i18n import message
    made = build(Path(args.out))
    print(message("lessons_built", count=len(made), out=args.out))
    return 0

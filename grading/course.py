"""A teacher's course folder on top of nbgrader: configuration, pupils, lessons, class report.

``robotlab course init NAME`` makes the folder and its ``nbgrader_config.py``;
nbgrader's own commands (generate_assignment, release_assignment, collect,
autograde, generate_feedback, export) then work in it as usual.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

#: Seconds a pupil's cell may run while autograding before it is stopped.
DEFAULT_TIME_LIMIT_S = 20
#: The simulator's noise seed while autograding: every pupil gets the same robot.
DEFAULT_SEED = 1

CONFIG_TEMPLATE = '''\
# nbgrader configuration for the RobotLab course {course_id!r}, made by `robotlab course init`.
# Pupils' robot code is graded in the simulator, as fast as the computer allows, with the
# same robot for everybody (a fixed seed) and a time limit per cell.
import os

os.environ["ROBOTLAB_PACE"] = "max"
os.environ["ROBOTLAB_SEED"] = "{seed}"
os.environ["ROBOTLAB_VIEW"] = "picture"
os.environ["ROBOTLAB_TIME_LIMIT"] = "{time_limit}"
os.environ.setdefault("ROBOTLAB_LANG", {language!r})

c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.Exchange.root = {exchange!r}
# A backstop behind RobotLab's own time limit (which gives the friendly message).
c.ExecutePreprocessor.timeout = {backstop}
c.ExecutePreprocessor.interrupt_on_timeout = True
'''


def write_config(folder, course_id: str, *, exchange_root=None, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
                 seed: int = DEFAULT_SEED, language: str = "da") -> Path:
    """Write ``nbgrader_config.py`` for a course in ``folder``; returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    exchange = str(Path(exchange_root) if exchange_root else folder / "exchange")
    Path(exchange).mkdir(parents=True, exist_ok=True)
    path = folder / "nbgrader_config.py"
    path.write_text(CONFIG_TEMPLATE.format(course_id=course_id, seed=int(seed),
                                           time_limit=f"{time_limit_s:g}", language=language,
                                           exchange=exchange,
                                           backstop=int(time_limit_s * 3 + 30)),
                    encoding="utf-8")
    (folder / "source").mkdir(exist_ok=True)
    return path


# -- Teacher commands: robotlab course init / add-pupils / add-lesson -----------------------

#: Header names accepted for each column of a pupil list (after lower-casing; spaces and
#: hyphens count as "_"). nbgrader's own ``nbgrader db student import`` uses the first ones.
ROSTER_COLUMNS = {
    "id": ("id", "elev", "elev_id", "elevid", "student", "student_id", "pupil", "pupil_id",
           "unilogin"),
    "first_name": ("first_name", "firstname", "fornavn"),
    "last_name": ("last_name", "lastname", "efternavn"),
    "email": ("email", "e_mail", "mail"),
}
#: Files and folders never copied into a lesson.
LESSON_IGNORE = (".ipynb_checkpoints", "__pycache__", ".DS_Store", "eksperimenter", ".*")
LESSON_NAME = re.compile(r"^[A-Za-z0-9æøåÆØÅ][\w-]*$")


class CourseError(Exception):
    """A teacher's command that cannot be done; ``str()`` is the short friendly message.

    Example::

        try:
            add_pupils("kursus", "elever.csv")
        except CourseError as error:
            print(error)            # "Elevlisten elever.csv findes ikke. ..."
    """

    def __init__(self, key: str, **params):
        from robotlab.i18n import message
        self.key, self.params = key, params
        super().__init__(message(key, **params))


def course_id_of(folder) -> str:
    """The course id written in a course folder's ``nbgrader_config.py``.

    Raises ``CourseError("course_not_a_course")`` when the folder has no config.

    Example: ``course_id_of("fysik-2b")`` -> ``"fysik-2b"``.
    """
    config = Path(folder) / "nbgrader_config.py"
    if not config.is_file():
        raise CourseError("course_not_a_course", folder=str(folder))
    found = re.search(r"^c\.CourseDirectory\.course_id\s*=\s*(['\"])(.*?)\1\s*$",
                      config.read_text(encoding="utf-8"), re.MULTILINE)
    return found.group(2) if found else "default_course"


def db_url(folder) -> str:
    """The gradebook nbgrader uses for a course folder (CourseDirectory.db_url's default).

    Example: ``db_url("fysik-2b")`` -> ``"sqlite:////home/laerer/fysik-2b/gradebook.db"``.
    """
    return "sqlite:///" + str((Path(folder) / "gradebook.db").resolve())


def gradebook(folder):
    """nbgrader's ``Gradebook`` for a course folder (use it in a ``with`` block).

    Example::

        with gradebook("fysik-2b") as gb:
            print([student.id for student in gb.students])
    """
    from nbgrader.api import Gradebook
    course_id = course_id_of(folder)
    _alembic_on_path()
    return Gradebook(db_url(folder), course_id=course_id)


def _alembic_on_path() -> None:
    """nbgrader runs the ``alembic`` command when it makes a new gradebook; a venv that is
    used without being activated has it beside Python, but not on PATH."""
    import os
    import sys
    beside = Path(sys.executable).parent
    if shutil.which("alembic") is None and shutil.which("alembic", path=str(beside)):
        os.environ["PATH"] = str(beside) + os.pathsep + os.environ.get("PATH", "")


def init_course(name: str, folder=None, *, exchange_root=None,
                time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> Path:
    """Make a course folder (default ``./NAME``) with ``nbgrader_config.py`` and ``source/``.

    The exchange folder is ``<folder>/exchange`` unless ``exchange_root`` is given.
    Refuses (``CourseError("course_exists")``) to overwrite an existing course.

    Example: ``init_course("fysik-2b", time_limit_s=30)`` -> ``Path(".../fysik-2b")``.
    """
    folder = Path(folder if folder is not None else name).expanduser().resolve()
    if (folder / "nbgrader_config.py").exists():
        raise CourseError("course_exists", folder=str(folder))
    exchange = Path(exchange_root).expanduser().resolve() if exchange_root else None
    write_config(folder, name, exchange_root=exchange, time_limit_s=time_limit_s)
    return folder


def next_steps(folder) -> list[str]:
    """What a teacher does after ``robotlab course init``, one line per step, in their language.

    Example: ``print("\\n".join(next_steps("fysik-2b")))``.
    """
    from robotlab.i18n import message
    steps = ["course_step_pupils", "course_step_lesson", "course_step_generate",
             "course_step_release", "course_step_collect", "course_step_autograde",
             "course_step_feedback", "course_step_report"]
    return [message("course_next_steps"), "  1. " + message("course_step_cd", folder=str(folder))] \
        + [f"  {n}. {message(key)}" for n, key in enumerate(steps, start=2)]


def _header_key(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lstrip("\ufeff").lower())


def read_roster(path) -> list[dict]:
    """Pupils from a CSV file: one dict per pupil with ``id`` and, if given, ``first_name``,
    ``last_name`` and ``email``. Danish headers (elev/id, fornavn, efternavn) work, and so do
    ``;`` (Danish Excel) and tab separators. Only ``id`` is needed, so pseudonyms work.

    Raises ``CourseError`` (nothing is read half) when the file is missing, has no id
    column, a row without an id, the same id twice, or no pupils.

    Example::

        # elever.csv:  elev;fornavn;efternavn
        #              elev01;Ada;Jensen
        read_roster("elever.csv")  # -> [{"id": "elev01", "first_name": "Ada", "last_name": "Jensen"}]
    """
    path = Path(path)
    if not path.is_file():
        raise CourseError("course_roster_missing", path=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = path.read_text(encoding="cp1252")     # an older Danish Excel
        except UnicodeDecodeError as error:
            raise CourseError("course_roster_unreadable", path=str(path), detail=str(error)[:80])
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error as error:
        raise CourseError("course_roster_unreadable", path=str(path), detail=str(error)[:80])
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise CourseError("course_roster_empty", path=str(path))
    (_, header), body = numbered[0], numbered[1:]
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        for field, names in ROSTER_COLUMNS.items():
            if _header_key(name) in names and field not in columns:
                columns[field] = index
    if "id" not in columns:
        raise CourseError("course_roster_no_id", path=str(path),
                          columns=", ".join(c.strip() for c in header if c.strip()) or "-")
    pupils, seen, twice = [], set(), []
    for line, row in body:
        pupil = {}
        for field, index in columns.items():
            value = row[index].strip() if index < len(row) else ""
            if value:
                pupil[field] = value
        if "id" not in pupil:
            raise CourseError("course_roster_empty_id", line=line, path=str(path))
        if pupil["id"] in seen and pupil["id"] not in twice:
            twice.append(pupil["id"])
        seen.add(pupil["id"])
        pupils.append(pupil)
    if twice:
        raise CourseError("course_roster_duplicate", ids=", ".join(twice), path=str(path))
    if not pupils:
        raise CourseError("course_roster_empty", path=str(path))
    return pupils


def add_pupils(folder, roster) -> tuple[int, int]:
    """Add (or update) the pupils of a CSV roster in the course's nbgrader gradebook.

    The whole list is checked first, so a bad list adds nobody. Returns (new, updated).

    Example: ``add_pupils("fysik-2b", "elever.csv")`` -> ``(24, 0)``.
    """
    course_id_of(folder)                   # a course folder, or a friendly error
    pupils = read_roster(roster)
    from nbgrader.api import MissingEntry, Student
    new = updated = 0
    with gradebook(folder) as gb:
        try:
            for pupil in pupils:
                fields = {k: v for k, v in pupil.items() if k != "id"}
                try:
                    student = gb.find_student(pupil["id"])
                except MissingEntry:
                    gb.db.add(Student(id=pupil["id"], **fields))
                    new += 1
                else:
                    for key, value in fields.items():
                        setattr(student, key, value)
                    updated += 1
            gb.db.commit()                 # one transaction: all pupils or none
        except Exception:
            gb.db.rollback()
            raise
    return new, updated


def _lesson_files(source: Path) -> tuple[Path, list[Path]]:
    """The folder a lesson comes from and the files to copy from it."""
    if not source.exists():
        raise CourseError("course_lesson_missing", path=str(source))
    if source.is_file():
        if source.suffix != ".ipynb":
            raise CourseError("course_lesson_missing", path=str(source))
        folder = source.parent
        beside = [p for p in folder.iterdir()
                  if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")]
        return folder, [source, *sorted(beside)]
    if not any(p.suffix == ".ipynb" for p in source.iterdir()):
        raise CourseError("course_lesson_no_notebook", path=str(source))
    return source, []


def add_lesson(folder, source, name: str | None = None, language: str | None = None) -> Path:
    """Copy a lesson into ``source/NAME/`` of the course and add it to the gradebook.

    ``source`` is an nbgrader source notebook (copied with the files beside it, e.g. an
    arena TOML or PNG, but not other notebooks), a folder (copied whole, without
    checkpoints and experiment logbooks), or one of RobotLab's lessons by number or folder
    name (``2`` or ``"02-tegn-en-firkant"``). From a lesson folder with a notebook per
    language (``da.ipynb``, ``en.ipynb``) only ``language``'s notebook is copied (default:
    the teacher's language, ``ROBOTLAB_LANG``), without the teacher guides, and ``name``
    defaults to e.g. ``02-tegn-en-firkant-da``; otherwise to the notebook's or folder's
    name. Returns the lesson's folder.

    Example: ``add_lesson("fysik-2b", "lektioner/firkant.ipynb", name="uge3")``
    -> ``Path(".../fysik-2b/source/uge3")``; ``add_lesson("7a", 2)`` ->
    ``Path(".../7a/source/02-tegn-en-firkant-da")``.
    """
    from robotlab.i18n import language as current_language

    from .lessons import LANGUAGES, LESSONS, copy_into_course, find, is_bilingual
    folder = Path(folder).resolve()
    course_id_of(folder)
    builtin = None if Path(str(source)).expanduser().exists() else find(source)
    source = LESSONS / builtin["folder"] if builtin else Path(str(source)).expanduser()
    bilingual = source.is_dir() and is_bilingual(source)
    if language is not None and language not in LANGUAGES:
        raise CourseError("course_lesson_bad_language", language=language,
                          languages=", ".join(LANGUAGES))
    if bilingual:
        language = language or current_language()
        name = name or f"{source.resolve().name}-{language}"
    else:
        origin, files = _lesson_files(source)
        name = name or (source.stem if source.is_file() else source.resolve().name)
    if not LESSON_NAME.match(name):
        raise CourseError("course_lesson_bad_name", name=name)
    target = folder / "source" / name
    if target.exists():
        raise CourseError("course_lesson_exists", name=name)
    if bilingual:
        copy_into_course({"folder": source.resolve().name}, language, folder,
                         source.resolve().parent, name=name)
    elif files:
        target.mkdir(parents=True)
        for file in files:
            shutil.copy2(file, target / file.name)
    else:
        shutil.copytree(origin, target, ignore=shutil.ignore_patterns(*LESSON_IGNORE))
    with gradebook(folder) as gb:
        gb.update_or_create_assignment(name)
    return target


def command(args) -> int:
    """Run ``robotlab course ...`` (parsed by ``robotlab.cli``); 2 with a message on bad input.

    Example: ``command(argparse.Namespace(action="init", name="fysik-2b", folder=None,
    exchange=None, time_limit=20))`` -> ``0``.
    """
    import sys

    from robotlab.i18n import message
    try:
        if args.action == "init":
            folder = init_course(args.name, args.folder, exchange_root=args.exchange,
                                 time_limit_s=DEFAULT_TIME_LIMIT_S if args.time_limit is None
                                 else args.time_limit)
            print(message("course_init_done", course=args.name, folder=str(folder)))
            print("\n".join(next_steps(folder)))
        elif args.action == "add-pupils":
            new, updated = add_pupils(args.course, args.roster)
            print(message("course_pupils_added", count=new + updated, new=new, updated=updated,
                          course=course_id_of(args.course)))
        elif args.action == "add-lesson":
            target = add_lesson(args.course, args.lesson, args.name,
                                getattr(args, "language", None))
            print(message("course_lesson_added", name=target.name, folder=str(target),
                          files=sum(1 for p in target.rglob("*") if p.is_file())))
        elif args.action == "report":
            from .report import write_report
            csv_path, html_path = write_report(args.course, args.out)
            print(message("course_report_written", csv=str(csv_path), html=str(html_path)))
    except CourseError as error:
        print(error, file=sys.stderr)
        return 2
    return 0

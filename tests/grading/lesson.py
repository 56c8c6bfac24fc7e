"""A small simulator lesson run through the real nbgrader CLI: "drive a 30 cm square".

Used by ``tests/grading/test_class_e2e.py`` (a class of pupils, end to end) and by
``bench/grading_speed.py`` (how long autograding takes). Everything goes through nbgrader's
own command line in subprocesses, each with a timeout, in a course folder made by
``grading.course.write_config``:

- ``source_notebook()`` is the teacher's source notebook (nbgrader cell metadata, a solution
  cell, two autograded test cells whose hidden part calls ``grading.checks``); with
  ``trivial=True`` the hidden tests are ``assert True`` (nbgrader's own overhead);
- ``PUPILS`` are the pupils' answers, by kind, with the points each should get;
- ``Course`` runs nbgrader for the teacher (cwd = the course folder) and for each pupil
  (cwd = the pupil's own folder, ``--student=sNN``, with the course id and exchange given on
  the command line, as a pupil's machine would have them in its own configuration).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
COURSE_ID = "robot-test"
ASSIGNMENT = "firkant"
SIDE_CM = 30
SOLUTION_ID = "firkant_kode"

# -- the lesson ------------------------------------------------------------------------------

TASK = f"""\
# Kør en firkant

Skriv et program, der laver robotten med `robot = Robot(noise=False)` og får den til at køre en
firkant, hvor hver side er {SIDE_CM} cm. Robotten skal ende, hvor den startede, og må ikke støde
ind i noget.
"""

SOLUTION = f"""\
### BEGIN SOLUTION
robot = Robot(noise=False)
for _ in range(4):
    robot.frem({SIDE_CM})
    robot.drej_venstre(90)
### END SOLUTION
"""


def _test_source(comment: str, check: str, trivial: bool) -> str:
    hidden = "assert True" if trivial else (
        "from grading.checks import drove_square, never_collided\n" + check)
    return f"# {comment}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS\n"


def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked,
            "schema_version": 3, "grade_id": grade_id}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook(trivial: bool = False) -> nbformat.NotebookNode:
    """The teacher's source notebook: task, import, solution, two autograded test cells (1 point each).

    The import is a cell of its own, before the pupil's: RobotLab's time limit starts with the
    cell after the one that first imports robotlab (a loop in that same cell runs on until
    nbgrader's backstop timeout).
    """
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        v4.new_markdown_cell(TASK, metadata=_meta("opgave", locked=True)),
        v4.new_code_cell("from robotlab import Robot", metadata=_meta("import", locked=True)),
        v4.new_code_cell(SOLUTION, metadata=_meta(SOLUTION_ID, solution=True)),
        v4.new_code_cell(_test_source(f"Læreren tjekker: kører robotten en firkant på {SIDE_CM} cm?",
                                      f"drove_square(robot, {SIDE_CM})", trivial),
                         metadata=_meta("test_firkant", grade=True, locked=True, points=1)),
        v4.new_code_cell(_test_source("Læreren tjekker: støder robotten ind i noget?",
                                      "never_collided(robot)", trivial),
                         metadata=_meta("test_ingen_stod", grade=True, locked=True, points=1)),
    ]
    return nb


MAX_POINTS = 2.0

# -- the pupils' answers ---------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    name: str
    code: str
    points: float        # with the robot checks
    what: str


KINDS = {k.name: k for k in [
    Kind("correct", f"""\
robot = Robot(noise=False)
for _ in range(4):
    robot.frem({SIDE_CM})
    robot.drej_venstre(90)
""", 2, "a closed 30 cm square"),
    Kind("partly", """\
robot = Robot(noise=False)
for _ in range(4):
    robot.frem(20)
    robot.drej_venstre(90)
""", 1, "a 20 cm square: drove_square fails, never_collided passes"),
    Kind("wrong", """\
robot = Robot(noise=False)
robot.frem(300)
""", 0, "straight ahead into the wall: both checks fail"),
    Kind("crashing", """\
robot = Robot(noise=False)
robt.frem(30)
""", 1, "NameError after making the robot: it drove nothing and hit nothing"),
    Kind("never_ending", f"""\
robot = Robot(noise=False)
robot.frem({SIDE_CM})
while True:
    pass
""", 1, "one side, then a loop that never ends (stopped by ROBOTLAB_TIME_LIMIT)"),
]}

#: How many pupils of each kind a class of 30 has.
CLASS_MIX = {"correct": 12, "partly": 6, "wrong": 6, "crashing": 3, "never_ending": 3}


def class_list(mix: dict[str, int] = CLASS_MIX) -> dict[str, str]:
    """Student id -> kind, s01..sNN, the kinds spread over the class."""
    kinds = [name for name, n in mix.items() for _ in range(n)]
    # Interleave, so that slow pupils are not all at the end of the list.
    order = sorted(range(len(kinds)), key=lambda i: (i * 7) % len(kinds))
    return {f"s{i + 1:02d}": kinds[j] for i, j in enumerate(order)}


def answer(nb: nbformat.NotebookNode, kind: str) -> nbformat.NotebookNode:
    """The fetched notebook with the pupil's code in the solution cell."""
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == SOLUTION_ID]
    assert len(cells) == 1, "the released notebook has no solution cell"
    cells[0].source = KINDS[kind].code
    return nb


# -- nbgrader, through its command line ------------------------------------------------------

class NbgraderFailed(RuntimeError):
    pass


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader and its kernels: the venv's scripts on PATH, the
    repository importable (``grading`` too, even when the editable install predates it),
    Danish messages, no display."""
    from grading.lessons import nbgrader_env as with_venv_on_path
    env = with_venv_on_path()   # nbgrader's gradebook runs `alembic` from PATH
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("ROBOTLAB_LANG", None)
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    env.setdefault("SDL_AUDIODRIVER", "dummy")
    env.pop("JUPYTER_CONFIG_DIR", None)
    return env


def nbgrader(args, cwd, timeout: float = 120, env=None) -> subprocess.CompletedProcess:
    """``python -m nbgrader ARGS`` in ``cwd``; raises NbgraderFailed with its output on failure."""
    cmd = [sys.executable, "-m", "nbgrader", *map(str, args)]
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env or nbgrader_env(), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise NbgraderFailed(f"{' '.join(cmd[2:])} took over {timeout} s in {cwd}:\n"
                             f"{exc.stdout}\n{exc.stderr}") from None
    if done.returncode != 0:
        raise NbgraderFailed(f"{' '.join(cmd[2:])} failed ({done.returncode}) in {cwd}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


class Course:
    """A course folder, its exchange and its pupils' folders, all under ``root``."""

    def __init__(self, root, *, time_limit_s: float = 5, trivial: bool = False,
                 pupils: dict[str, str] | None = None):
        from grading.course import write_config
        self.root = Path(root)
        self.dir = self.root / "course"
        self.exchange = self.root / "exchange"
        self.cache = self.root / "nbgrader_cache"
        self.pupils_dir = self.root / "pupils"
        self.pupils = dict(pupils if pupils is not None else class_list())
        self.trivial = trivial
        write_config(self.dir, COURSE_ID, exchange_root=self.exchange, time_limit_s=time_limit_s)
        self.env = nbgrader_env()

    def run(self, *args, timeout: float = 120) -> subprocess.CompletedProcess:
        """nbgrader as the teacher, in the course folder (its nbgrader_config.py applies)."""
        return nbgrader(args, self.dir, timeout=timeout, env=self.env)

    def pupil_run(self, student: str, *args, timeout: float = 60) -> subprocess.CompletedProcess:
        """nbgrader as pupil ``student``, in the pupil's own folder."""
        folder = self.pupils_dir / student
        folder.mkdir(parents=True, exist_ok=True)
        return nbgrader([*args, f"--student={student}", f"--course={COURSE_ID}",
                         f"--Exchange.root={self.exchange}", f"--Exchange.cache={self.cache}"],
                        folder, timeout=timeout, env=self.env)

    # -- the teacher's side

    def add_students(self) -> None:
        roster = self.dir / "roster.csv"
        with open(roster, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "first_name", "last_name"])
            for sid in self.pupils:
                writer.writerow([sid, "Elev", sid.upper()])
        self.run("db", "student", "import", roster)

    def write_source(self) -> Path:
        path = self.dir / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(self.trivial), path)
        return path

    def release(self) -> None:
        self.run("generate_assignment", ASSIGNMENT, "--force")
        self.run("release_assignment", ASSIGNMENT, "--force")

    # -- the pupils' side

    def fetch_answer_submit(self, student: str) -> None:
        self.pupil_run(student, "fetch_assignment", ASSIGNMENT)
        path = self.pupils_dir / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        nbformat.write(answer(nbformat.read(path, as_version=4), self.pupils[student]), path)
        self.pupil_run(student, "submit", ASSIGNMENT)

    def all_pupils_submit(self, workers: int | None = None) -> None:
        """Every pupil fetches, answers and submits (a few at a time: each nbgrader call
        spends about 2 s of CPU importing)."""
        workers = workers or (os.cpu_count() or 2) + 1
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(self.fetch_answer_submit, self.pupils))

    def place_submissions(self) -> None:
        """What ``collect`` leaves, without the exchange: each pupil's answer to the released
        notebook in ``submitted/sNN/firkant/`` (for the benchmark, which times autograde only)."""
        released = self.dir / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        for sid, kind in self.pupils.items():
            dest = self.dir / "submitted" / sid / ASSIGNMENT
            dest.mkdir(parents=True, exist_ok=True)
            nbformat.write(answer(nbformat.read(released, as_version=4), kind),
                           dest / f"{ASSIGNMENT}.ipynb")
            (dest / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")

    def collect(self) -> None:
        self.run("collect", ASSIGNMENT, "--ExchangeCollect.check_owner=False")

    def autograde(self, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.run("autograde", ASSIGNMENT, "--force", timeout=timeout)

    def feedback(self) -> None:
        self.run("generate_feedback", ASSIGNMENT, "--force")

    def export(self) -> dict[str, dict[str, str]]:
        """``nbgrader export`` to grades.csv; rows by student id."""
        out = self.dir / "grades.csv"
        self.run("export", f"--to={out}")
        with open(out, newline="", encoding="utf-8") as fh:
            return {row["student_id"]: row for row in csv.DictReader(fh)}

    def feedback_html(self, student: str) -> str:
        path = self.dir / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        return path.read_text(encoding="utf-8")

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

"""The pupil-work exchange keeps pupils apart, shown with real Unix users and nbgrader's CLI.

A teacher releases a lesson, two pupils fetch and submit it, the teacher collects,
autogrades and releases feedback, the pupils fetch it: each step is nbgrader's own
command run as that person's Unix user, with the hub's nbgrader configuration
(deploy/singleuser/common/nbgrader_config.py). In between, pupil B tries every way to
read or change pupil A's submission and feedback, and fails.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest


from grading.course import init_course  # noqa: E402
from tests.deploy.hub_harness import DEPLOY, SchoolHub, deploy_env, pupil_python  # noqa: E402

COURSE = "rlxkursus"
ASSIGNMENT = "ps1"


def lesson_notebook() -> nbformat.NotebookNode:
    def meta(**fields):
        return {"nbgrader": {"schema_version": 3, "locked": False, "solution": False,
                             "grade": False, **fields}}
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nsvar = 42\n### END SOLUTION",
                                  metadata=meta(grade_id="svar", solution=True)),
        nbformat.v4.new_code_cell("assert svar == 42", metadata=meta(
            grade_id="test_svar", grade=True, points=1, locked=True)),
    ]
    return nb


class Person:
    """Someone at the school, running nbgrader as their own Unix user."""

    def __init__(self, name: str, exchange: Path):
        self.name, self.exchange = name, exchange
        self.home = Path(pwd.getpwnam(name).pw_dir)

    def run(self, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        env = deploy_env(HOME=str(self.home), USER=self.name, LOGNAME=self.name,
                         JUPYTER_CONFIG_PATH=str(DEPLOY / "singleuser" / "common"),
                         ROBOTLAB_EXCHANGE_ROOT=str(self.exchange), ROBOTLAB_PACE="max")
        env.pop("PYTHONPATH")       # pupils get deploy/ from the nbgrader config, not from us
        env.pop("JUPYTER_PLATFORM_DIRS", None)
        return subprocess.run(["runuser", "-u", self.name, "--", *command], cwd=cwd or self.home,
                              env=env, capture_output=True, text=True)

    def nbgrader(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return self.run(pupil_python(), "-m", "nbgrader", *args, cwd=cwd)

    def ok(self, *args: str, cwd: Path | None = None) -> str:
        done = self.nbgrader(*args, cwd=cwd)
        assert done.returncode == 0, f"nbgrader {' '.join(args)} as {self.name}:\n{done.stderr}"
        return done.stderr

    def can(self, *command: str) -> bool:
        return self.run(*command).returncode == 0


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    hub = SchoolHub(tmp_path_factory.mktemp("exchange"), pupils=2)
    exchange = Path("/tmp") / f"{hub.tag}-exchange"
    try:
        hub.make_accounts()
        prepared = subprocess.run(
            [sys.executable, "-m", "robotlab_hub.courses", "prepare", COURSE, "--teacher",
             hub.teacher, "--pupils", hub.group, "--root", str(exchange)],
            env=deploy_env(), cwd=DEPLOY, capture_output=True, text=True)
        assert prepared.returncode == 0, prepared.stderr
        yield hub, exchange
    finally:
        hub.close()
        subprocess.run(["groupdel", f"formgrade-{COURSE}"], capture_output=True)
        shutil.rmtree(exchange, ignore_errors=True)


@pytest.fixture(scope="module")
def flow(school):
    """The whole nbgrader flow, up to pupils having submitted; returns the people."""
    hub, exchange = school
    teacher = Person(hub.teacher, exchange)
    a, b = (Person(name, exchange) for name in hub.pupils)
    course = init_course(COURSE, teacher.home / "kursus", exchange_root=exchange)
    (course / "source" / ASSIGNMENT).mkdir()
    nbformat.write(lesson_notebook(), course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    subprocess.run(["chown", "-R", f"{teacher.name}:", str(course)], check=True)
    teacher.ok("generate_assignment", ASSIGNMENT, cwd=course)
    teacher.ok("release_assignment", ASSIGNMENT, cwd=course)
    for pupil in (a, b):
        pupil.ok("fetch_assignment", ASSIGNMENT, "--course", COURSE)
    answer = a.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(answer, as_version=4)
    nb.cells[0].source = "svar = 42"    # A answers (written as root, then given to A)
    nbformat.write(nb, answer)
    os.chown(answer, pwd.getpwnam(a.name).pw_uid, -1)
    for pupil in (a, b):
        pupil.ok("submit", ASSIGNMENT, "--course", COURSE)
    return {"teacher": teacher, "a": a, "b": b, "course": course, "exchange": exchange}


def submission_of(flow, pupil: Person) -> Path:
    folder = flow["exchange"] / COURSE / "inbound" / pupil.name
    (found,) = [p for p in folder.iterdir() if p.name.startswith(f"{pupil.name}+{ASSIGNMENT}+")]
    return found


def test_a_pupil_cannot_read_or_change_another_pupils_submission(flow):
    a, b = flow["a"], flow["b"]
    inbound = flow["exchange"] / COURSE / "inbound"
    theirs = submission_of(flow, a)
    assert not b.can("ls", str(inbound)), "B must not see who submitted"
    assert not b.can("ls", str(inbound / a.name))
    assert not b.can("cat", str(theirs / f"{ASSIGNMENT}.ipynb"))
    assert not b.can("cat", str(theirs / "submission_secret.txt"))
    assert not b.can("touch", str(theirs / f"{ASSIGNMENT}.ipynb"))
    assert not b.can("rm", "-rf", str(theirs))
    assert not b.can("mkdir", str(inbound / a.name / f"{a.name}+{ASSIGNMENT}+2030-01-01 00:00:00"))
    # nbgrader's own way to submit as someone else is refused ...
    forged = b.nbgrader("submit", ASSIGNMENT, "--course", COURSE, "--student", a.name)
    assert forged.returncode != 0 and "only submit as yourself" in forged.stderr
    assert [p.name for p in (inbound / a.name).iterdir()] == [theirs.name]
    # ... and the control: A reads A's own submission.
    assert a.can("cat", str(theirs / f"{ASSIGNMENT}.ipynb"))


def test_collect_takes_only_what_each_pupil_submitted_themselves(flow):
    a, b, teacher, course = flow["a"], flow["b"], flow["teacher"], flow["course"]
    # B plants a submission named for A in B's own folder, newer than A's.
    planted = (flow["exchange"] / COURSE / "inbound" / b.name
               / f"{a.name}+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+planted")
    assert b.can("cp", "-r", str(submission_of(flow, b)), str(planted))
    log = teacher.ok("collect", ASSIGNMENT, cwd=course)
    assert "not submitted by" in log
    collected = course / "submitted"
    assert sorted(p.name for p in collected.iterdir()) == sorted([a.name, b.name])
    mine = nbformat.read(collected / a.name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert mine.cells[0].source == "svar = 42", "A's own answer, not B's planted copy"


def test_feedback_reaches_only_its_pupil(flow):
    a, b, teacher, course = flow["a"], flow["b"], flow["teacher"], flow["course"]
    if not (course / "submitted").exists():
        teacher.ok("collect", ASSIGNMENT, cwd=course)
    teacher.ok("autograde", ASSIGNMENT, cwd=course)
    teacher.ok("generate_feedback", ASSIGNMENT, cwd=course)
    teacher.ok("release_feedback", ASSIGNMENT, cwd=course)
    feedback = flow["exchange"] / COURSE / "feedback"
    (a_feedback,) = list((feedback / a.name).iterdir())
    assert not list(feedback.glob("*.html")), "nothing in the shared folder"
    assert not b.can("ls", str(feedback))
    assert not b.can("ls", str(feedback / a.name))
    assert not b.can("cat", str(a_feedback))
    assert not b.can("cp", "/etc/hostname", str(a_feedback))
    assert not b.can("rm", "-f", str(a_feedback))
    for pupil, points in ((a, "1"), (b, "0")):
        # The pupil's assignment list (JupyterLab's panel asks the same) finds it waiting.
        assert "(feedback ready to be fetched)" in pupil.ok("list", "--cached", "--course", COURSE)
        pupil.ok("fetch_feedback", ASSIGNMENT, "--course", COURSE)
        (html,) = list((pupil.home / ASSIGNMENT / "feedback").glob("*/*.html"))
        assert f"Score: {points}" in html.read_text(encoding="utf-8")
        assert "(feedback already fetched)" in pupil.ok("list", "--cached", "--course", COURSE)

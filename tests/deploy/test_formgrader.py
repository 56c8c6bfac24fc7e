"""nbgrader's formgrader as a hub service: the course's teacher reaches it through the hub,
a pupil of the class does not. A real hub, real Unix users, nbgrader's own formgrader."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest
import requests


from tests.deploy.hub_harness import SchoolHub  # noqa: E402

COURSE = "rlx7a"


@pytest.fixture(scope="module")
def school():
    base = Path(tempfile.mkdtemp(prefix="rlx-formgrader-", dir="/tmp"))
    base.chmod(0o755)
    hub = SchoolHub(base, pupils=1)
    course_dir = base / "kursus"
    hub.extra_settings = (f'\n[courses.{COURSE}]\nteacher = "{hub.teacher}"\n'
                          f'directory = "{course_dir}"\npupils = "{hub.group}"\n'
                          f'formgrader_port = {_free_port()}\n')
    make_accounts = hub.make_accounts

    def accounts_and_course() -> None:
        make_accounts()
        course_dir.mkdir()
        (course_dir / "nbgrader_config.py").write_text(
            f'c = get_config()\nc.CourseDirectory.course_id = "{COURSE}"\n')
        teacher = pwd.getpwnam(hub.teacher)
        for path in (course_dir, course_dir / "nbgrader_config.py"):
            os.chown(path, teacher.pw_uid, teacher.pw_gid)
    hub.make_accounts = accounts_and_course
    hub.course_dir = course_dir
    try:
        yield hub.start()
    finally:
        hub.close()
        shutil.rmtree(base, ignore_errors=True)


def _free_port() -> int:
    from tests.deploy.hub_harness import free_port
    return free_port()


def formgrader(browser) -> requests.Response:
    """Open the course's formgrader through the hub (the OAuth dance included)."""
    return browser.session.get(f"{browser.hub.url}/services/{COURSE}/formgrader")


def test_the_teacher_reaches_the_formgrader_through_the_hub(school):
    teacher = school.browser(school.teacher)
    assert teacher.log_in().status_code == 302
    page = formgrader(teacher)
    assert page.status_code == 200, (page.status_code, page.url, school.log_text())
    assert page.url.endswith(f"/services/{COURSE}/formgrader/manage_assignments")
    assert "nbgrader" in page.text.lower() and "Manage Assignments" in page.text
    # Framed only by the hub's own pages (JupyterLab), by no other site.
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    # nbgrader's API answers the teacher: the course has no assignments yet.
    api = teacher.session.get(f"{school.url}/services/{COURSE}/formgrader/api/assignments")
    assert api.status_code == 200 and api.json() == []
    # It runs as the teacher in the course's folder: a lesson the teacher adds goes into a
    # gradebook there that belongs to the teacher.
    added = teacher.session.put(
        f"{school.url}/services/{COURSE}/formgrader/api/assignment/lektion1", json={},
        headers=teacher.xsrf(f"/services/{COURSE}/"))
    assert added.status_code == 200, added.text
    assert (school.course_dir / "gradebook.db").stat().st_uid == pwd.getpwnam(school.teacher).pw_uid


def test_a_pupil_cannot_reach_the_formgrader(school):
    pupil = school.browser(school.pupils[0])
    assert pupil.log_in().status_code == 302
    page = formgrader(pupil)
    assert page.status_code == 403, (page.status_code, page.url)
    api = pupil.session.get(f"{school.url}/services/{COURSE}/formgrader/api/assignments")
    assert api.status_code == 403 or "Manage Assignments" not in api.text
    assert api.status_code != 200
    nobody = requests.get(f"{school.url}/services/{COURSE}/formgrader/api/assignments",
                          allow_redirects=False)
    assert nobody.status_code in (302, 401, 403)


def test_the_hub_groups_nbgrader_needs(school):
    teacher = school.browser(school.teacher)
    assert teacher.log_in().status_code == 302
    groups = {g["name"]: g["users"] for g in teacher.hub_api("GET", "/groups").json()} \
        if teacher.hub_api("GET", "/groups").status_code == 200 else None
    # Teachers may not list groups; read the users' records instead.
    users = {u["name"]: u["groups"] for u in teacher.hub_api("GET", "/users").json()}
    assert f"formgrade-{COURSE}" in users[school.teacher]
    assert f"nbgrader-{COURSE}" in users[school.pupils[0]]
    assert f"formgrade-{COURSE}" not in users[school.pupils[0]]
    if groups is not None:
        assert groups[f"formgrade-{COURSE}"] == [school.teacher]

"""The privacy page and a pupil leaving, on a real hub with real Unix users and a real
nbgrader gradebook and exchange.

Pupil A records an experiment in their own server, has a submission in the exchange and a
grade in the course's gradebook. A's page at /services/privacy/ shows all of it; B's page
shows B's (nothing of A's), and without a login there is no page. Then
``python -m robotlab_hub.privacy forget A --export DIR`` exports A's data and deletes
every part of it, while B's data stays.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
import requests


from robotlab.i18n import message  # noqa: E402
from tests.deploy.hub_harness import DEPLOY, SchoolHub, deploy_env, free_port  # noqa: E402

from robotlab_hub.courses import prepare_exchange  # noqa: E402

EXPERIMENT_CELL = ('from robotlab import Robot, Experiment, set_language\nset_language("en")\n'
                   'robot = Robot(noise=False)\n'
                   'exp = Experiment("How far with forward(10)?")\n'
                   'exp.hypothesis("About 10 cm", prediction=10)\nrobot.forward(10)\n'
                   'exp.record(driven=robot.odometer())\nprint("ok")')


def run_as(user: str, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True, text=True)


@pytest.fixture(scope="module")
def school():
    # Open to all (the pupils pass through to the exchange), unlike pytest's tmp_path.
    base = Path(tempfile.mkdtemp(prefix="rlx-privacy-", dir="/tmp"))
    base.chmod(0o755)
    (base / "hub").mkdir()
    hub = SchoolHub(base / "hub", pupils=2)
    course_dir = base / "kursus"
    hub.course_dir = course_dir
    hub.exchange = base / "exchange"
    original = hub.settings_text

    def settings_text() -> str:
        text = original().replace('[pupils]', f'exchange_root = "{hub.exchange}"\n\n[pupils]')
        return text + (f'\n[courses.rlx7a]\nteacher = "{hub.teacher}"\n'
                       f'directory = "{course_dir}"\nformgrader_port = {free_port()}\n')
    hub.settings_text = settings_text
    make_accounts = hub.make_accounts

    def accounts_and_course_folder() -> None:
        make_accounts()
        course_dir.mkdir()      # the course's formgrader (a hub service) runs in it
        teacher = pwd.getpwnam(hub.teacher)
        os.chown(course_dir, teacher.pw_uid, teacher.pw_gid)
    hub.make_accounts = accounts_and_course_folder
    try:
        hub.start()
        _course(hub)
        yield hub
    finally:
        hub.close()
        shutil.rmtree(base, ignore_errors=True)


def _course(hub: SchoolHub) -> None:
    """A course with an exchange, a submission and feedback from A, and a grade for A."""
    from nbgrader.api import Gradebook
    os.environ["PATH"] = deploy_env()["PATH"]       # nbgrader runs alembic from PATH
    a, b = hub.pupils
    prepare_exchange("rlx7a", teacher=hub.teacher, pupils=[a, b], root=hub.exchange)
    submission = hub.exchange / "rlx7a" / "inbound" / a / f"{a}+lektion1+2026-11-27 10:00:00+x"
    assert run_as(a, "mkdir", str(submission)).returncode == 0
    assert run_as(a, "cp", "/etc/hostname", str(submission / "da.ipynb")).returncode == 0
    for part in ("submitted", "autograded", "feedback"):
        (hub.course_dir / part / a / "lektion1").mkdir(parents=True)
        (hub.course_dir / part / a / "lektion1" / "da.ipynb").write_text("{}")
    (hub.course_dir / "submitted" / b / "lektion1").mkdir(parents=True)
    with Gradebook(f"sqlite:///{hub.course_dir / 'gradebook.db'}", "rlx7a") as gradebook:
        gradebook.add_assignment("lektion1")
        gradebook.add_notebook("da", "lektion1")
        gradebook.add_grade_cell("opgave", "da", "lektion1", max_score=10, cell_type="code")
        for pupil in (a, b):
            gradebook.add_student(pupil)
            gradebook.add_submission("lektion1", pupil)
        grade = gradebook.find_grade("opgave", "da", "lektion1", a)
        grade.manual_score = 7
        gradebook.db.commit()


@pytest.fixture(scope="module")
def pupils(school):
    a, b = (school.browser(name) for name in school.pupils)
    for pupil in (a, b):
        assert pupil.log_in().status_code == 302
    a.start_server()
    done = a.run_cell(a.start_kernel(), EXPERIMENT_CELL)
    assert done["status"] == "ok" and done["output"].endswith("ok\n"), done
    return a, b


def privacy_page(browser, **params) -> requests.Response:
    """Open /services/privacy/ in the browser (the OAuth dance included)."""
    return browser.session.get(browser.hub.url + "/services/privacy/", params=params)


def test_a_pupil_sees_everything_stored_about_them_and_only_that(school, pupils):
    a, b = pupils
    record = privacy_page(a, format="json").json()
    assert record["name"] == a.name
    assert record["hub"]["name"] == a.name and school.group not in record["hub"]["groups"]
    assert record["hub"]["last_activity"] and "default" in record["hub"]["servers"]
    [stored] = record["files"]
    assert stored["folder"] == "." and stored["kind"] == "logbook"
    assert stored["path"].startswith("eksperimenter/") and "driven" in stored["fields"]
    folders = {entry["folder"]: entry["files"] for entry in record["nbgrader"]}
    inbound = str(school.exchange / "rlx7a" / "inbound" / a.name)
    assert folders[inbound] == [f"{a.name}+lektion1+2026-11-27 10:00:00+x/da.ipynb"]
    assert str(school.course_dir / "autograded" / a.name) in folders
    assert [(g["course"], g["assignment"], g["score"], g["max_score"]) for g in record["grades"]] \
        == [("rlx7a", "lektion1", 7.0, 10.0)]
    # The page itself, in Danish.
    page = privacy_page(a).text
    assert message("hub_privacy_title", lang="da", name=a.name) in page
    assert message("hub_privacy_intro", lang="da") in page
    assert "driven" in page and "lektion1" in page
    # B's page is B's: none of A's files, folders or grades.
    other = privacy_page(b, format="json").json()
    assert other["name"] == b.name and other["files"] == []
    assert all(a.name not in entry["folder"] for entry in other["nbgrader"])
    assert [g["score"] for g in other["grades"]] == [0.0]
    assert a.name not in privacy_page(b).text
    # There is no way to ask for someone else's page.
    assert a.name not in privacy_page(b, name=a.name, user=a.name).text


def test_no_login_no_privacy_page(school):
    reply = requests.get(school.url + "/services/privacy/?format=json", allow_redirects=False)
    assert reply.status_code in (302, 401, 403)
    assert "hub/" in reply.headers.get("Location", "/hub/")


def test_a_pupils_kernel_links_to_the_privacy_page(pupils):
    a, _ = pupils
    shown = a.run_cell(a.start_kernel(), "from robotlab import what_is_stored\n"
                                         "print(what_is_stored().privacy_url)")
    assert shown["output"] == "/services/privacy/\n"


def test_a_pupil_who_leaves_is_exported_then_deleted(school, pupils, tmp_path):
    a, b = pupils
    out = tmp_path / "udmeldte"
    done = subprocess.run([sys.executable, "-m", "robotlab_hub.privacy", "forget", a.name,
                           "--export", str(out)], capture_output=True, text=True,
                          cwd=DEPLOY, env=deploy_env(
                              ROBOTLAB_HUB_SETTINGS=str(school.workdir / "hub.toml")),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    exported = out / a.name
    assert done.stdout.strip() == message("hub_forgotten", lang="da", name=a.name, path=exported)
    assert stat.S_IMODE(exported.stat().st_mode) == 0o700
    record = json.loads((exported / "record.json").read_text())
    assert record["hub"]["name"] == a.name and record["grades"][0]["score"] == 7.0
    with tarfile.open(exported / "home.tar.gz") as tar:
        assert any("eksperimenter/" in name for name in tar.getnames())
    inbound = school.exchange / "rlx7a" / "inbound" / a.name
    assert (exported / "nbgrader" / inbound.relative_to("/")).is_dir()
    # Deleted: the account and home, the hub record, the folders, the gradebook rows.
    with pytest.raises(KeyError):
        pwd.getpwnam(a.name)
    assert not Path("/home", a.name).exists()
    assert b.hub_api("GET", f"/users/{a.name}").status_code in (403, 404)
    admin_token = (school.workdir / "state" / "admin-api-token").read_text().strip()
    assert requests.get(f"{school.url}/hub/api/users/{a.name}",
                        headers={"Authorization": f"token {admin_token}"}).status_code == 404
    assert not (school.exchange / "rlx7a" / "inbound" / a.name).exists()
    assert not (school.exchange / "rlx7a" / "feedback" / a.name).exists()
    assert not any((school.course_dir / part / a.name).exists()
                   for part in ("submitted", "autograded", "feedback"))
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{school.course_dir / 'gradebook.db'}", "rlx7a") as gradebook:
        assert [s.id for s in gradebook.students] == [b.name]
    # B is untouched.
    assert (school.exchange / "rlx7a" / "inbound" / b.name).is_dir()
    assert (school.course_dir / "submitted" / b.name).is_dir()
    assert privacy_page(b, format="json").json()["hub"]["name"] == b.name
    assert os.path.isdir(pwd.getpwnam(b.name).pw_dir)

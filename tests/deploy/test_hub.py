"""The school's JupyterHub, for real: PAM logins of real Unix users, configurable-http-proxy,
pupils' servers as their own users in a memory cgroup, RobotLab running in them.

Needs root (the tests make Unix users and the hub switches to them) and Node.js with
configurable-http-proxy (``npm install --prefix deploy/node``). Everything listens on
127.0.0.1 only.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests
import websocket


from robotlab.i18n import message  # noqa: E402
from tests.deploy.hub_harness import (DEPLOY, Browser, SchoolHub, pupil_python,  # noqa: E402
                                      users_script)

#: The first cells of lesson 1 (lessons/01-hej-robot/da.ipynb), as a pupil runs them.
LESSON_CELL = ('from robotlab import Robot, Eksperiment, sæt_sprog\nsæt_sprog("da")\n'
               'robot = Robot(noise=False)\nrobot.frem(10)\nprint("kørt", robot.kørt())')


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    hub = SchoolHub(tmp_path_factory.mktemp("hub"), pupils=2)
    try:
        yield hub.start()
    finally:
        hub.close()


@pytest.fixture(scope="module")
def pupil_a(school):
    browser = school.browser(school.pupils[0])
    assert browser.log_in().status_code == 302
    browser.start_server()
    return browser


@pytest.fixture(scope="module")
def pupil_b(school):
    browser = school.browser(school.pupils[1])
    assert browser.log_in().status_code == 302
    return browser


def run_as(user: str, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True, text=True)


# -- accounts from the roster -------------------------------------------------------------

def test_the_roster_script_makes_private_accounts_in_the_hub_group(school):
    members = grp.getgrnam(school.group).gr_mem
    for name in [school.teacher, *school.pupils]:
        assert name in members
        home = Path(pwd.getpwnam(name).pw_dir)
        assert stat.S_IMODE(home.stat().st_mode) == 0o700, "a pupil's home is the pupil's only"
    secret = school.workdir / "adgangskoder.csv"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert school.users_output.splitlines() == [
        message("hub_users_done", lang="da", new=3, existing=0, group=school.group),
        message("hub_passwords_written", lang="da", path=secret)]
    # Run again (a pupil joined the class later): nobody's password changes.
    again = users_script("add", str(school.workdir / "elever.csv"), "--group", school.group,
                         "--prefix", school.tag, ROBOTLAB_LANG="en")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == message("hub_users_done", lang="en", new=0, existing=3,
                                           group=school.group)


def test_the_roster_script_refuses_names_a_server_cannot_have_and_foreign_users(school, tmp_path):
    roster = tmp_path / "elever.csv"
    roster.write_text("elev\nelev01\nÆble 7\n", encoding="utf-8")
    bad = users_script("add", str(roster), "--group", school.group)
    assert bad.returncode == 1
    assert bad.stderr.strip() == message("hub_bad_username", lang="da", id="Æble 7")
    roster.write_text("id\nroot\n", encoding="utf-8")
    foreign = users_script("add", str(roster), "--group", school.group, ROBOTLAB_LANG="en")
    assert foreign.stderr.strip() == message("hub_user_not_ours", lang="en", name="root",
                                             group=school.group)
    assert not os.path.exists("/home/elev01"), "a bad list makes nobody"


def test_only_root_may_make_accounts(school):
    done = run_as(school.pupils[0], pupil_python(), "-c",
                  "import sys; sys.path[:0] = sys.argv[1:3]; "
                  "from robotlab_hub.users import main; sys.exit(main(['add', 'x.csv']))",
                  str(DEPLOY), str(DEPLOY.parent))
    assert done.returncode == 1
    assert done.stderr.strip() == message("hub_needs_root", lang="da",
                                          command="python -m robotlab_hub.users add x.csv")


# -- logging in -----------------------------------------------------------------------------

def test_teacher_and_pupils_log_in_with_their_unix_passwords(school):
    for name in [school.teacher, *school.pupils]:
        reply = school.browser(name).log_in()
        assert reply.status_code == 302, name
        assert reply.headers["Location"].startswith("/hub/")
    wrong = school.browser(school.pupils[0]).log_in(password="forkert-0000")
    assert wrong.status_code == 403


def test_a_unix_user_outside_the_hub_group_cannot_log_in(school):
    outsider = school.tag + "x"
    subprocess.run(["useradd", outsider], check=True)
    try:
        subprocess.run(["chpasswd"], input=f"{outsider}:Hemmelig-2468\n", text=True, check=True)
        assert Browser(school, outsider, "Hemmelig-2468").log_in().status_code == 403
    finally:
        subprocess.run(["userdel", outsider], check=True)


# -- a pupil's server ---------------------------------------------------------------------

def test_a_pupil_runs_a_lesson_cell_with_the_simulator_in_their_own_server(pupil_a):
    kernel = pupil_a.start_kernel()
    result = pupil_a.run_cell(kernel, LESSON_CELL)
    assert result == {"status": "ok", "output": "kørt 10.0\n"}
    who = pupil_a.run_cell(kernel, "import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name, "
                                   "os.getcwd(), os.environ['ROBOTLAB_LANG'])")
    home = pwd.getpwnam(pupil_a.name).pw_dir
    assert who["output"].split() == [pupil_a.name, home, "da"]


def test_a_pupil_server_and_its_kernels_share_one_memory_limit(school, pupil_a):
    kernel = pupil_a.start_kernel()
    where = pupil_a.run_cell(kernel, "print(open('/proc/self/cgroup').read())")["output"]
    line = next(entry for entry in where.splitlines()
                if "memory" in entry.split(":")[1].split(",") or entry.startswith("0::"))
    path = Path("/sys/fs/cgroup") / ("memory" if not line.startswith("0::") else "") \
        / line.split(":", 2)[2].lstrip("/")
    assert path.name == pupil_a.name
    limit_file = path / ("memory.max" if line.startswith("0::") else "memory.limit_in_bytes")
    assert int(limit_file.read_text()) == school.memory_limit_mb * 2**20
    # A program that takes more is stopped; the pupil's server lives on.
    greedy = pupil_a.run_cell(kernel, f"block = bytearray({school.memory_limit_mb + 256} * 2**20)"
                                      "\nblock[::4096] = b'x' * len(block[::4096])")
    assert greedy["status"] in ("restarting", "dead")
    assert pupil_a.server_api("GET", "/status").status_code == 200


def test_an_unauthenticated_request_to_the_relay_fails(school, pupil_a):
    kernel = pupil_a.start_kernel()
    path = f"/user/{pupil_a.name}/robotlab/relay/{kernel}"
    ws_url = school.url.replace("http://", "ws://") + path
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url, origin=school.url, timeout=30)
    assert refused.value.status_code in (302, 401, 403)
    # The pupil's own browser gets through to the relay (which closes: no robot here yet),
    # so the refusal above was the login check, not a missing route.
    ws = websocket.create_connection(ws_url, origin=school.url, timeout=30,
                                     header=[f"Cookie: {pupil_a.cookie_header()}"])
    try:
        opcode, data = ws.recv_data()
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(data[:2], "big") == 4404
    finally:
        ws.close()


def test_a_pupil_cannot_reach_another_pupils_server_or_files(school, pupil_a, pupil_b):
    kernel = pupil_a.start_kernel()
    owner = pupil_a.name
    for method, path in (("GET", "/status"), ("GET", "/contents"), ("GET", "/kernels"),
                         ("DELETE", f"/kernels/{kernel}")):
        reply = pupil_b.server_api(method, path, owner=owner, allow_redirects=True)
        assert reply.status_code in (403, 404) or "/hub/login" in reply.url, (method, path,
                                                                              reply.status_code)
    ws_url = (school.url.replace("http://", "ws://")
              + f"/user/{owner}/api/kernels/{kernel}/channels")
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(ws_url, origin=school.url, timeout=30,
                                    header=[f"Cookie: {pupil_b.cookie_header()}"])
    relay_url = school.url.replace("http://", "ws://") + f"/user/{owner}/robotlab/relay/{kernel}"
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(relay_url, origin=school.url, timeout=30,
                                    header=[f"Cookie: {pupil_b.cookie_header()}"])
    assert pupil_b.hub_api("DELETE", f"/users/{owner}/server").status_code in (403, 404)
    assert pupil_b.hub_api("GET", f"/users/{owner}").status_code in (403, 404)
    # As Unix users: B's programs cannot open A's home.
    home = pwd.getpwnam(owner).pw_dir
    assert run_as(pupil_b.name, "ls", home).returncode != 0
    # ... and A's server still works.
    assert pupil_a.run_cell(kernel, "print(1 + 1)")["output"] == "2\n"


def test_a_teacher_sees_who_is_logged_in_but_cannot_open_a_pupils_server(school, pupil_a):
    teacher = school.browser(school.teacher)
    assert teacher.log_in().status_code == 302
    users = teacher.hub_api("GET", "/users")
    assert users.status_code == 200
    assert pupil_a.name in {user["name"] for user in users.json()}
    reply = teacher.server_api("GET", "/contents", owner=pupil_a.name)
    assert reply.status_code in (403, 404) or "/hub/login" in reply.url


def test_jupyterlab_is_danish_and_calls_nobody(pupil_a):
    lab = pupil_a.server_url() + "/lab/api"
    locale = pupil_a.session.get(lab + "/settings/@jupyterlab/translation-extension:plugin")
    assert locale.json()["schema"]["properties"]["locale"]["default"] == "da_DK"
    packs = pupil_a.session.get(lab + "/translations/").json()["data"]
    assert "da_DK" in packs
    news = pupil_a.session.get(lab + "/news")
    assert news.json() == {"news": []}
    update = pupil_a.session.get(lab + "/update")
    assert update.json().get("notification") is None
    notify = pupil_a.session.get(lab + "/settings/@jupyterlab/apputils-extension:notification")
    props = notify.json()["schema"]["properties"]
    assert props["fetchNews"]["default"] == "false" and props["checkForUpdates"]["default"] is False


# -- idle culling ---------------------------------------------------------------------------

def test_a_server_nobody_uses_is_stopped(tmp_path):
    hub = SchoolHub(tmp_path, pupils=1, idle_timeout_minutes=0.1)   # 6 s, checked every 3 s
    try:
        hub.start()
        pupil = hub.browser(hub.pupils[0])
        assert pupil.log_in().status_code == 302
        pupil.start_server()
        deadline = time.monotonic() + 90
        while pupil.hub_api("GET", f"/users/{pupil.name}").json()["servers"]:
            assert time.monotonic() < deadline, hub.log_text()
            time.sleep(0.5)     # the culler has no event to wait on; poll the hub's record
        assert "idle-culler" in hub.log_text()
        assert requests.get(pupil.server_url() + "/api/status", allow_redirects=False,
                            cookies=pupil.session.cookies).status_code != 200
    finally:
        hub.close()

"""A real JupyterHub for tests and the load benchmark: real Unix users, PAM, CHP, real servers.

``SchoolHub`` makes a Unix group and accounts with the roster script
(``python -m robotlab_hub.users add``), writes a settings file with free loopback ports,
starts ``jupyterhub -f deploy/jupyterhub_config.py`` (which starts
configurable-http-proxy), and on ``close()`` stops it and deletes the accounts again.
Names start with ``rlx`` and six random hex digits, so they never meet real users.

``Browser`` is one person's browser: cookies, the hub's login form, the OAuth dance to
the pupil's server, ``_xsrf`` headers, and kernels driven over their WebSocket.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
#: Seconds for the hub to come up and for a pupil's server to start (two busy cores).
START_TIMEOUT_S = 120
CELL_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deploy_env(**extra) -> dict:
    """The environment the deploy scripts run in: deploy/ importable, RobotLab's venv first."""
    pupils_python = pupil_python()        # first: it may set LD_LIBRARY_PATH
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(DEPLOY), str(ROOT)])
    # Pupils' tools first (the same venv, or the runtime pupils can run), then RobotLab's.
    env["PATH"] = os.pathsep.join([str(Path(pupils_python).parent), str(VENV_BIN),
                                   env.get("PATH", "")])
    return env


def users_script(*args: str, **env) -> subprocess.CompletedProcess:
    """Run ``python -m robotlab_hub.users ARGS`` as the school admin would."""
    return subprocess.run([sys.executable, "-m", "robotlab_hub.users", *args], text=True,
                          capture_output=True, env=deploy_env(**env), cwd=DEPLOY)


def _open_to_all(path: Path) -> bool:
    """Whether a user with no special rights can reach and run ``path``."""
    path = path.resolve()
    if not path.stat().st_mode & 0o001:
        return False
    return all(parent.stat().st_mode & 0o001 for parent in path.parents)


def _interpreter_for_all(version: str) -> Path:
    """This very interpreter (same patch release: packages such as soupsieve depend on
    it), copied where everybody can run it; its shared library is found through
    LD_LIBRARY_PATH, which JupyterHub passes on to pupils' servers."""
    base = Path(sys.base_prefix)
    copy = Path("/tmp") / f"rlx-python-{sys.version.split()[0]}"
    python = copy / "bin" / version
    if not python.exists():
        partial = copy.with_name(copy.name + f".partial-{os.getpid()}")
        (partial / "bin").mkdir(parents=True)
        (partial / "lib").mkdir()
        shutil.copy2(base / "bin" / version, partial / "bin" / version)
        for library in (base / "lib").glob("libpython*"):
            shutil.copy2(library, partial / "lib" / library.name, follow_symlinks=False)
        shutil.copytree(base / "lib" / version, partial / "lib" / version, symlinks=True,
                        ignore=shutil.ignore_patterns("site-packages", "test", "idlelib"))
        for path in [partial, *partial.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        partial.rename(copy)
    return python


def pupil_python() -> str:
    """A Python with RobotLab that pupils' accounts can run.

    On a school server RobotLab's venv is under /opt and open to all (deploy/setup.sh).
    A developer's or CI's venv may sit on an interpreter in /root (pyenv), which pupils
    cannot run: then that interpreter is copied to /tmp, and a venv of it, open to all,
    loads the RobotLab venv's packages and shares its Jupyter data.
    """
    if _open_to_all(Path(sys.executable)):
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    interpreter = _interpreter_for_all(version)
    os.environ["LD_LIBRARY_PATH"] = str(interpreter.parent.parent / "lib")
    runtime = Path("/tmp") / f"rlx-runtime-{sys.version.split()[0]}-{zlib.crc32(sys.prefix.encode()):08x}"
    python = runtime / "bin" / "python"
    if not python.exists():
        subprocess.run([str(interpreter), "-m", "venv", "--without-pip", str(runtime)],
                       check=True)
        site = Path(sys.prefix) / "lib" / version / "site-packages"
        (runtime / "lib" / version / "site-packages" / "robotlab-venv.pth").write_text(
            f"import site; site.addsitedir({str(site)!r})\n")
        for tool, module in (("alembic", "alembic"), ("jupyter", "jupyter_core.command")):
            script = runtime / "bin" / tool     # nbgrader runs `alembic` from PATH
            script.write_text(f"#!{python}\nimport runpy\nrunpy.run_module({module!r}, "
                              f"run_name='__main__')\n")
            script.chmod(0o755)
        for shared in ("etc", "share"):     # Jupyter's config and JupyterLab's files
            link = runtime / shared
            if not link.exists():
                link.symlink_to(Path(sys.prefix) / shared)
        runtime.chmod(0o755)
    return str(python)


def kill_user_processes(name: str) -> None:
    """End every process still running as the test user ``name`` (by pid, found in /proc)."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


class SchoolHub:
    """A running hub with a teacher and pupils made from a roster."""

    def __init__(self, workdir: Path, pupils: int = 2, *, memory_limit_mb: int = 768,
                 idle_timeout_minutes: float = 60, extra_settings: str = ""):
        self.workdir = Path(workdir)
        self.tag = "rlx" + secrets.token_hex(3)
        self.group = self.tag
        self.teacher = f"{self.tag}t"
        self.pupils = [f"{self.tag}p{n:02d}" for n in range(1, pupils + 1)]
        self.passwords: dict[str, str] = {}
        self.process: subprocess.Popen | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.memory_limit_mb = memory_limit_mb
        self.idle_timeout_minutes = idle_timeout_minutes
        self.extra_settings = extra_settings
        self.log_path = self.workdir / "jupyterhub.log"

    # -- set-up -------------------------------------------------------------------------
    def write_roster(self) -> Path:
        """The class list: the teacher and the pupils, ids without the tag."""
        roster = self.workdir / "elever.csv"
        ids = ["t"] + [name[len(self.tag):] for name in self.pupils]
        roster.write_text("elev;fornavn\n" + "".join(f"{i};Test\n" for i in ids),
                          encoding="utf-8")
        return roster

    def read_passwords(self, path: Path) -> None:
        with open(path, encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter=";"))[1:]
        self.passwords = dict(rows)

    def make_accounts(self) -> None:
        roster = self.write_roster()
        secret = self.workdir / "adgangskoder.csv"
        done = users_script("add", str(roster), "--group", self.group, "--prefix", self.tag,
                            "--passwords", str(secret))
        assert done.returncode == 0, done.stderr
        self.users_output = done.stdout
        self.read_passwords(secret)

    def settings_text(self) -> str:
        return f"""\
[hub]
ip = "127.0.0.1"
port = {self.port}
hub_port = {free_port()}
proxy_api_port = {free_port()}
privacy_port = {free_port()}
state_dir = "{self.workdir / 'state'}"
pupil_python = "{pupil_python()}"
login = "local"
unix_group = "{self.group}"
teachers = ["{self.teacher}"]

[pupils]
memory_limit_mb = {self.memory_limit_mb}
idle_timeout_minutes = {self.idle_timeout_minutes}
{self.extra_settings}
"""

    def start(self) -> SchoolHub:
        self.make_accounts()
        settings = self.workdir / "hub.toml"
        settings.write_text(self.settings_text(), encoding="utf-8")
        self.launch([str(VENV_BIN / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")],
                    deploy_env(ROBOTLAB_HUB_SETTINGS=str(settings)))
        return self.wait_until_up()

    def launch(self, command: list[str], env: dict) -> None:
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=self.workdir, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_up(self) -> SchoolHub:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_text()
            try:
                if requests.get(self.url + "/hub/health", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)     # the hub has no readiness event to wait on; poll its health
        raise TimeoutError("the hub did not start:\n" + self.log_text())

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def browser(self, name: str) -> Browser:
        return Browser(self, name, self.passwords[name])

    # -- tear-down ------------------------------------------------------------------------
    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)   # the hub stops the servers and CHP
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for name in [self.teacher, *self.pupils]:
            kill_user_processes(name)
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        subprocess.run(["groupdel", self.group], capture_output=True)
        self._remove_cgroups()
        if self.process is not None:
            self.log.close()


    def _remove_cgroups(self) -> None:
        """The pupils' memory cgroups (the spawner leaves the parent for the next start)."""
        sys.path.insert(0, str(DEPLOY))
        try:
            from robotlab_hub.spawner import default_parent
        finally:
            sys.path.remove(str(DEPLOY))
        parent = default_parent()
        if parent is None or not parent.is_dir():
            return
        for name in [self.teacher, *self.pupils]:
            if (parent / name).is_dir():
                (parent / name).rmdir()
        if not any(p.is_dir() for p in parent.iterdir()):
            parent.rmdir()


class Browser:
    """One person's browser on the hub."""

    def __init__(self, hub: SchoolHub, name: str, password: str):
        self.hub, self.name, self.password = hub, name, password
        self.session = requests.Session()

    def xsrf(self, path: str = "/hub/") -> dict:
        """The ``X-XSRFToken`` header for cookie-authenticated API calls below ``path``."""
        matching = [c for c in self.session.cookies
                    if c.name == "_xsrf" and path.startswith(c.path.rstrip("/") + "/")]
        if not matching:
            return {}
        return {"X-XSRFToken": max(matching, key=lambda c: len(c.path)).value}

    def log_in(self, password: str | None = None) -> requests.Response:
        self.session.get(self.hub.url + "/hub/login")
        form = {"username": self.name, "password": password or self.password,
                "_xsrf": self.session.cookies.get("_xsrf", path="/hub/")}
        return self.session.post(self.hub.url + "/hub/login", data=form, allow_redirects=False)

    def hub_api(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.hub.url + "/hub/api" + path,
                                    headers=self.xsrf("/hub/"), **kwargs)

    def start_server(self) -> None:
        """Start my server through the hub's API, wait until it runs, open it (OAuth)."""
        reply = self.hub_api("POST", f"/users/{self.name}/server")
        assert reply.status_code in (201, 202), (reply.status_code, reply.text)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            model = self.hub_api("GET", f"/users/{self.name}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                break
            assert time.monotonic() < deadline, self.hub.log_text()
            time.sleep(0.2)     # the hub's progress stream would do; polling keeps it simple
        page = self.session.get(self.hub.url + f"/user/{self.name}/lab")
        assert page.status_code == 200, (page.status_code, page.url)

    def server_url(self, owner: str | None = None) -> str:
        return f"{self.hub.url}/user/{owner or self.name}"

    def server_api(self, method: str, path: str, owner: str | None = None,
                   **kwargs) -> requests.Response:
        prefix = f"/user/{owner or self.name}/"
        return self.session.request(method, self.server_url(owner) + "/api" + path,
                                    headers=self.xsrf(prefix), **kwargs)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)

    def start_kernel(self) -> str:
        reply = self.server_api("POST", "/kernels", json={"name": "python3"})
        assert reply.status_code == 201, (reply.status_code, reply.text)
        return reply.json()["id"]

    def run_cell(self, kernel_id: str, code: str) -> dict:
        """Run ``code`` in the kernel over its WebSocket; returns the output text and status
        ("ok", "error", or "restarting" when the kernel died, e.g. killed for its memory)."""
        url = self.server_url().replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        ws = websocket.create_connection(url, header=[f"Cookie: {self.cookie_header()}"],
                                         origin=self.hub.url, timeout=CELL_TIMEOUT_S)
        try:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.name,
                           "session": uuid.uuid4().hex, "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False}}))
            out, status, idle = [], None, False
            while status is None or not idle:
                opcode, data = ws.recv_data()
                if opcode != websocket.ABNF.OPCODE_TEXT:
                    continue        # messages with binary buffers: the live view's frames
                message = json.loads(data)
                kind, content = message["msg_type"], message["content"]
                if kind == "status" and content["execution_state"] in ("restarting", "dead"):
                    return {"status": content["execution_state"], "output": "".join(out)}
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if kind == "stream":
                    out.append(content["text"])
                elif kind == "error":
                    out.append("\n".join(content["traceback"]))
                elif kind == "execute_reply":
                    status = content["status"]
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
            return {"status": status, "output": "".join(out)}
        finally:
            ws.close()

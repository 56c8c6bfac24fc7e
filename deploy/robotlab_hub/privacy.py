"""Everything the school's hub stores about one pupil: to show it, export it, and delete it.

    python -m robotlab_hub.privacy show elev07                  # as root: the whole record
    python -m robotlab_hub.privacy forget elev07 --export /root/udmeldte

``collect(name)`` gathers, for one person:

* the files RobotLab stored in their home (``robotlab.privacy.what_is_stored`` on every
  ``eksperimenter`` folder there), looked up *as the pupil* (``runuser``), so a symlink a
  pupil planted shows nothing the pupil could not read anyway;
* their hub user record (name, groups, roles, created, last activity, servers), from the
  hub's REST API;
* their nbgrader data: submissions and feedback in the exchange, the copies in each
  course's folder (``submitted``, ``autograded``, ``feedback``) and their rows in the
  course's gradebook (scores per assignment).

The privacy page (``privacy_service.py``) shows this to the pupil; ``forget`` writes it,
with a copy of the home folder, to an export folder (root only) and then deletes every
part of it: the Unix account and home, the hub record, the exchange folders, the course
folders and the gradebook rows.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import requests

from robotlab.i18n import message

from .settings import HubSettings, load
from .users import HubError, _needs_root, remove_account

#: Token file of the hub's admin client (made by config.configure), root only.
ADMIN_TOKEN_FILE = "admin-api-token"
#: Course folders nbgrader keeps per pupil.
COURSE_PARTS = ("submitted", "autograded", "feedback")
#: How long ``forget`` waits for the pupil's server to stop, in seconds.
STOP_TIMEOUT_S = 60


# -- the pupil's files (run as the pupil) ---------------------------------------------

def scan_home(home) -> list[dict]:
    """The files RobotLab stored below ``home``, as JSON-ready dicts (run as the pupil).

    Hidden folders and symlinks are not followed. Example:
    ``scan_home("/home/elev01")`` -> ``[{"folder": "7a/lektion1", "path": "eksperimenter/...",
    "kind": "logbook", "records": 12, ...}]``.
    """
    from robotlab.experiment import FOLDER
    from robotlab.privacy import what_is_stored
    home = Path(home)
    found = []
    for where, folders, _files in os.walk(home):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        if FOLDER in folders:
            stored = what_is_stored(where)
            for item in stored.files:
                found.append({
                    "folder": os.path.relpath(where, home),
                    "path": item.path.as_posix(), "kind": item.kind,
                    "size_bytes": item.size_bytes, "records": item.records,
                    "fields": list(item.fields), "readable": item.readable,
                    "first_time": item.first_time.isoformat() if item.first_time else None,
                    "last_time": item.last_time.isoformat() if item.last_time else None,
                })
    return found


def files_of(name: str, settings: HubSettings) -> list[dict]:
    """``scan_home`` of ``name``'s home, run as ``name`` (root calls this)."""
    home = pwd.getpwnam(name).pw_dir
    python = settings.pupil_python or sys.executable
    deploy = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        ["runuser", "-u", name, "--", python, "-m", "robotlab_hub.privacy", "scan", home],
        capture_output=True, text=True, cwd="/", timeout=120,
        env={**os.environ, "PYTHONPATH": deploy, "HOME": home})
    if done.returncode != 0:
        raise RuntimeError(f"scanning {home} as {name} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


# -- the hub's record -----------------------------------------------------------------

class HubAPI:
    """The hub's REST API with a token (the privacy service's, or the admin client's)."""

    def __init__(self, settings: HubSettings, token: str | None = None):
        self.base = f"http://127.0.0.1:{settings.hub_port}/hub/api"
        self.token = token or (Path(settings.state_dir) / ADMIN_TOKEN_FILE).read_text().strip()

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.base + path, timeout=30,
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def user(self, name: str) -> dict | None:
        reply = self("GET", f"/users/{name}")
        if reply.status_code == 404:
            return None
        reply.raise_for_status()
        return reply.json()


def hub_record(api: HubAPI, name: str) -> dict | None:
    """What the hub keeps about ``name``: name, groups, roles, created, last activity, servers."""
    user = api.user(name)
    if user is None:
        return None
    keep = ("name", "admin", "groups", "roles", "created", "last_activity")
    record = {key: user.get(key) for key in keep}
    record["servers"] = {server or "default": {k: v for k, v in info.items()
                                              if k in ("started", "last_activity", "ready")}
                         for server, info in (user.get("servers") or {}).items()}
    return record


# -- nbgrader ---------------------------------------------------------------------------

def _listing(folder: Path, base: Path) -> list[str]:
    """Files below ``folder`` (symlinks listed, not followed), relative to ``base``."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    found = []
    for where, folders, files in os.walk(folder):
        for entry in sorted(files + [f for f in folders if os.path.islink(os.path.join(where, f))]):
            found.append(os.path.relpath(os.path.join(where, entry), base))
    return sorted(found)


def exchange_folders(name: str, settings: HubSettings) -> list[Path]:
    """The pupil's own folders in the exchange: ``<course>/inbound|feedback/<name>``."""
    root = Path(settings.exchange_root)
    if not root.is_dir():
        return []
    return [course / part / name for course in sorted(root.iterdir()) if course.is_dir()
            for part in ("inbound", "feedback") if (course / part / name).is_dir()]


def course_folders(name: str, settings: HubSettings) -> list[Path]:
    """The pupil's folders in each course's folder: ``submitted|autograded|feedback/<name>``."""
    return [Path(course.directory) / part / name for course in settings.courses
            for part in COURSE_PARTS if (Path(course.directory) / part / name).is_dir()]


def grades(name: str, settings: HubSettings) -> list[dict]:
    """The pupil's rows in each course's gradebook: one per submitted assignment.

    Example: ``[{"course": "7a", "assignment": "01-hej-robot", "score": 7.0,
    "max_score": 10.0, "timestamp": "2026-11-27T10:02:03"}]``.
    """
    from nbgrader.api import Gradebook, MissingEntry
    rows = []
    for course in settings.courses:
        if not course.gradebook.is_file():
            continue
        with Gradebook(f"sqlite:///{course.gradebook}", course.id) as gradebook:
            try:
                student = gradebook.find_student(name)
            except MissingEntry:
                continue
            for submission in student.submissions:
                rows.append({"course": course.id, "assignment": submission.assignment.name,
                             "score": submission.score, "max_score": submission.max_score,
                             "timestamp": submission.timestamp.isoformat()
                             if submission.timestamp else None})
    return rows


def collect(name: str, settings: HubSettings, api: HubAPI) -> dict:
    """Everything stored about ``name`` on this server (see the module's docstring).

    Example: ``collect("elev07", load(), HubAPI(load()))["grades"]``.
    """
    nbgrader = [{"folder": str(folder), "files": _listing(folder, folder)}
                for folder in exchange_folders(name, settings) + course_folders(name, settings)]
    try:
        home_files = files_of(name, settings)
    except KeyError:                # no Unix account (any more)
        home_files = []
    return {"name": name, "hub": hub_record(api, name), "files": home_files,
            "nbgrader": nbgrader, "grades": grades(name, settings)}


# -- a pupil leaves: export, then delete -------------------------------------------------

def export(name: str, settings: HubSettings, api: HubAPI, target) -> Path:
    """Write everything stored about ``name`` to ``target/<name>/`` (root only, 0700):
    ``record.json`` (``collect``), ``home.tar.gz``, and copies of the nbgrader folders."""
    out = Path(target) / name
    out.mkdir(parents=True, exist_ok=False, mode=0o700)
    os.chmod(out, 0o700)
    (out / "record.json").write_text(json.dumps(collect(name, settings, api), indent=2,
                                                ensure_ascii=False), encoding="utf-8")
    try:
        home = pwd.getpwnam(name).pw_dir
    except KeyError:
        home = None
    if home and os.path.isdir(home):
        with tarfile.open(out / "home.tar.gz", "w:gz", dereference=False) as tar:
            tar.add(home, arcname=name)
    for folder in exchange_folders(name, settings) + course_folders(name, settings):
        copy = out / "nbgrader" / folder.relative_to("/")
        shutil.copytree(folder, copy, symlinks=True)
    return out


def forget(name: str, settings: HubSettings, api: HubAPI, *, export_to=None) -> Path | None:
    """Delete everything stored about ``name``, after exporting it when ``export_to`` is given.

    In order: export; stop the server and delete the hub record; the gradebook rows; the
    course and exchange folders; the Unix account and home. Example:
    ``forget("elev07", load(), HubAPI(load()), export_to="/root/udmeldte")``.
    """
    _needs_root(f"python -m robotlab_hub.privacy forget {name}")
    try:
        if pwd.getpwnam(name).pw_uid < 1000:
            raise HubError("hub_user_not_ours", name=name, group=settings.unix_group)
    except KeyError:
        pass
    exported = export(name, settings, api, export_to) if export_to else None
    if api.user(name) is not None:
        api("DELETE", f"/users/{name}/server")
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while (api.user(name) or {}).get("servers"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server of {name} did not stop")
            time.sleep(0.2)     # the hub's REST API has no event to wait for
        api("DELETE", f"/users/{name}").raise_for_status()
    from nbgrader.api import Gradebook, MissingEntry
    for course in settings.courses:
        if course.gradebook.is_file():
            with Gradebook(f"sqlite:///{course.gradebook}", course.id) as gradebook:
                try:
                    gradebook.remove_student(name)
                except MissingEntry:
                    pass
    for folder in course_folders(name, settings) + exchange_folders(name, settings):
        shutil.rmtree(folder)
    _end_processes(name)
    remove_account(name, group=settings.unix_group)
    return exported


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def _end_processes(name: str) -> None:
    """End what still runs as the departing pupil (a kernel that outlived its server), so
    that ``userdel`` may remove the account: SIGTERM, then SIGKILL after 5 s."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        for pid in _processes_of(uid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while _processes_of(uid) and time.monotonic() < deadline:
            time.sleep(0.1)     # no event tells when another user's process has gone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robotlab_hub.privacy",
                                     description="What the hub stores about a pupil.")
    commands = parser.add_subparsers(dest="command", required=True)
    scan = commands.add_parser("scan", help="(internal) RobotLab's files in a home, as JSON")
    scan.add_argument("home")
    show = commands.add_parser("show", help="everything stored about a pupil, as JSON")
    show.add_argument("name")
    leave = commands.add_parser("forget", help="export, then delete, a pupil's data")
    leave.add_argument("name")
    leave.add_argument("--export", required=True,
                       help="folder for the export (a subfolder per pupil is made)")
    args = parser.parse_args(argv)
    if args.command == "scan":
        json.dump(scan_home(args.home), sys.stdout)
        return 0
    settings = load()
    try:
        _needs_root(f"python -m robotlab_hub.privacy {args.command} {args.name}")
        api = HubAPI(settings)
        if args.command == "show":
            print(json.dumps(collect(args.name, settings, api), indent=2, ensure_ascii=False))
        else:
            out = forget(args.name, settings, api, export_to=args.export)
            print(message("hub_forgotten", name=args.name, path=out))
    except HubError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

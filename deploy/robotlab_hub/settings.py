"""The school's hub settings: one TOML file (``hub.example.toml`` documents every key).

The file is found through ``ROBOTLAB_HUB_SETTINGS`` (default ``/etc/robotlab/hub.toml``);
keys it leaves out keep the defaults below, so a school writes only what differs.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

DEFAULT_PATH = "/etc/robotlab/hub.toml"

#: Login kinds: local Unix accounts (PAM), UNI-Login or Google Workspace (auth.py).
LOGINS = ("local", "unilogin", "google")


@dataclass(frozen=True)
class Course:
    """An nbgrader course on the hub (``[courses.7a]`` in the settings file).

    ``directory`` is the teacher's course folder (where ``gradebook.db`` is); the
    teacher's formgrader runs there as a hub service named after the course.
    """

    id: str
    teacher: str
    directory: str
    #: The Unix group of the class's pupils (the hub group nbgrader-<id>); "": none.
    pupils: str = ""
    #: Where the course's formgrader (a hub service) listens, on loopback; 0: chosen
    #: from the course's place in the settings (9000, 9001, ...).
    formgrader_port: int = 0

    @property
    def gradebook(self) -> Path:
        return Path(self.directory) / "gradebook.db"


@dataclass(frozen=True)
class HubSettings:
    """Everything a school sets; the TOML keys have the same names (sections are flattened)."""

    #: Where pupils' browsers reach the hub (through configurable-http-proxy).
    ip: str = "0.0.0.0"
    port: int = 8000
    #: The hub's own API and the proxy's API: loopback only.
    hub_port: int = 8081
    proxy_api_port: int = 8001
    #: The privacy page (a hub service, /services/privacy/): loopback only.
    privacy_port: int = 8082
    #: The hub's database, cookie secret and proxy token.
    state_dir: str = "/var/lib/robotlab-hub"
    login: str = "local"
    #: The Unix group whose members may log in with a local account (the roster script
    #: puts every pupil and teacher in it), so system accounts cannot log in.
    unix_group: str = "robotlab"
    #: The address pupils open (https://hub.skole.dk); OpenID Connect returns there.
    public_url: str = ""
    #: OpenID Connect (login = "unilogin" or "google"): the client the school registered,
    #: and a root-only file with its secret.
    oidc_client_id: str = ""
    oidc_client_secret_file: str = "/etc/robotlab/oidc-client-secret"
    #: UNI-Login's broker: "production" or "test" (STIL's test environment).
    unilogin_environment: str = "production"
    #: Google Workspace: the school's domain; the Workspace group of teachers (needs the
    #: service account's key file and an administrator's address), else ``teachers``.
    google_domain: str = ""
    google_teachers_group: str = ""
    google_service_account_file: str = ""
    google_admin_email: str = ""
    admins: tuple[str, ...] = ()
    teachers: tuple[str, ...] = ()
    #: Memory for one pupil's server and all its kernels, in MiB.
    memory_limit_mb: int = 1024
    #: A pupil server nobody used for this long is stopped (idle culling).
    idle_timeout_minutes: int = 60
    #: "lab" (JupyterLab) or "tree" (Notebook 7, for the youngest).
    default_ui: str = "lab"
    #: The interface language of JupyterLab and RobotLab: "da" or "en".
    language: str = "da"
    #: The school's own page about pupils' data, linked from the hub's privacy page
    #: (/services/privacy/, which pupils' kernels get as ROBOTLAB_PRIVACY_URL).
    privacy_url: str = ""
    #: The Python that runs pupils' servers and kernels (RobotLab installed); every pupil
    #: must be able to run it. Empty: the hub's own Python.
    pupil_python: str = ""
    #: Where configurable-http-proxy is; empty: deploy/node/node_modules/.bin.
    proxy_command: str = ""
    #: nbgrader's exchange (python -m robotlab_hub.courses prepare makes each course's part).
    exchange_root: str = "/srv/nbgrader/exchange"
    #: The nbgrader courses: ``[courses.7a]`` with ``teacher`` and ``directory``.
    courses: tuple[Course, ...] = ()

    @property
    def ui_path(self) -> str:
        return "/lab" if self.default_ui == "lab" else "/tree"


def load(path: str | os.PathLike | None = None) -> HubSettings:
    """Read the settings file (``path``, else ``ROBOTLAB_HUB_SETTINGS``, else the default).

    A missing default file gives the defaults; a missing named file is an error.

    Example: ``load("/etc/robotlab/hub.toml").memory_limit_mb`` -> ``1024``.
    """
    named = path or os.environ.get("ROBOTLAB_HUB_SETTINGS")
    where = Path(named or DEFAULT_PATH)
    if not where.is_file():
        if named:
            raise FileNotFoundError(f"no hub settings file {where}")
        return HubSettings()
    raw = tomllib.loads(where.read_text(encoding="utf-8"))
    courses = []
    for number, (course_id, course) in enumerate(raw.pop("courses", {}).items()):
        if not {"teacher", "directory"} <= set(course) <= \
                {"teacher", "directory", "pupils", "formgrader_port"}:
            raise ValueError(f"{where}: [courses.{course_id}] needs teacher and directory "
                             "(and may have pupils and formgrader_port)")
        courses.append(Course(course_id, **{"formgrader_port": 9000 + number, **course}))
    flat: dict = {"courses": tuple(courses)} if courses else {}
    for key, value in raw.items():
        # [hub] and [pupils] sections are only for reading.
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    known = {f.name for f in fields(HubSettings)}
    unknown = sorted(set(flat) - known)
    if unknown:
        raise ValueError(f"{where}: unknown settings {', '.join(unknown)}")
    for key in ("admins", "teachers"):
        if key in flat:
            flat[key] = tuple(flat[key])
    settings = HubSettings(**flat)
    if settings.login not in LOGINS:
        raise ValueError(f"{where}: login must be one of {', '.join(LOGINS)}")
    if settings.login != "local" and not (settings.public_url and settings.oidc_client_id):
        raise ValueError(f"{where}: login = {settings.login!r} needs public_url and oidc_client_id")
    if settings.login == "google" and not settings.google_domain:
        raise ValueError(f"{where}: login = 'google' needs google_domain")
    if settings.unilogin_environment not in ("production", "test"):
        raise ValueError(f"{where}: unilogin_environment must be production or test")
    if settings.default_ui not in ("lab", "tree"):
        raise ValueError(f"{where}: default_ui must be lab or tree")
    return settings

"""JupyterHub's configuration for one school server, built from the school's settings.

``deploy/jupyterhub_config.py`` calls ``configure(c, load())``. Kept here, as a function,
so that the tests build exactly the configuration a school runs.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from .auth import configure_login
from .settings import HubSettings
from .spawner import RobotLabSpawner, proxy_command

DEPLOY_DIR = Path(__file__).resolve().parent.parent
#: JupyterLab and Jupyter Server settings for every pupil's server (JUPYTER_CONFIG_PATH).
SINGLEUSER_CONFIG = DEPLOY_DIR / "singleuser"

#: What a teacher may do on the hub: see who is logged in and start or stop a pupil's
#: server (a stuck kernel in class), but not open a pupil's server: pupils' work reaches
#: teachers through nbgrader's exchange only.
TEACHER_SCOPES = ["admin-ui", "list:users", "read:users", "read:servers", "servers"]
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
#: The privacy page reads the record of whoever is logged in, nothing else.
PRIVACY_SCOPES = ["list:users", "read:users", "read:servers"]
#: The school admin's scripts on the server (root only: python -m robotlab_hub.privacy
#: forget deletes a pupil's hub record).
ADMIN_CLIENT_SCOPES = ["list:users", "admin:users", "admin:servers"]


def admin_token(state: Path) -> str:
    """The admin client's API token, made once and kept in the state folder (root only)."""
    from .privacy import ADMIN_TOKEN_FILE
    path = state / ADMIN_TOKEN_FILE
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()

#: Command-line settings of every pupil's server, so a pupil's own config cannot undo
#: them: no news feed, no update check against pypi.org, no extension installs.
NO_CALLS_HOME = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
]


def cull_every_s(timeout_s: float) -> int:
    """How often the idle culler looks: half the timeout, between 1 s and 5 minutes."""
    return int(max(1, min(300, timeout_s / 2)))


def configure(c, settings: HubSettings) -> None:
    """Fill JupyterHub's config object ``c`` for one school server.

    Example (``jupyterhub_config.py``)::

        from robotlab_hub.config import configure
        from robotlab_hub.settings import load
        configure(get_config(), load())
    """
    state = Path(settings.state_dir)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)

    # -- network: pupils reach only the proxy; the hub and proxy APIs stay on loopback ----
    c.JupyterHub.bind_url = f"http://{settings.ip}:{settings.port}"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings.hub_port}"
    c.JupyterHub.proxy_class = "configurable-http-proxy"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.command = [settings.proxy_command or proxy_command(DEPLOY_DIR)]
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    # Chromebooks in a classroom: a pupil stays logged in for a school day, not two weeks.
    c.JupyterHub.cookie_max_age_days = 1

    # -- who logs in ----------------------------------------------------------------------
    configure_login(c, settings)
    c.Authenticator.admin_users = set(settings.admins)

    # With OpenID Connect the identity provider says who is a teacher (auth.py).
    groups = {"teachers": {"users": sorted(settings.teachers) if settings.login == "local"
                           else []}}
    roles = [
        {"name": "teacher", "description": "RobotLab teachers", "scopes": TEACHER_SCOPES,
         "groups": ["teachers"]},
        {"name": "idle-culler", "description": "Stops pupils' servers nobody uses",
         "scopes": CULLER_SCOPES, "services": ["idle-culler"]},
        {"name": "privacy", "description": "Shows each person what is stored about them",
         "scopes": PRIVACY_SCOPES, "services": ["privacy"]},
        {"name": "robotlab-admin", "description": "The school admin's scripts (root)",
         "scopes": ADMIN_CLIENT_SCOPES, "services": ["robotlab-admin"]},
        # Everyone may open the privacy page (which shows only their own data).
        {"name": "user", "description": "Standard user privileges",
         "scopes": ["self", "access:services!service=privacy"]},
    ]
    timeout_s = settings.idle_timeout_minutes * 60
    services = [{"name": "idle-culler",
                 "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                             f"--timeout={int(timeout_s)}",
                             f"--cull-every={cull_every_s(timeout_s)}"]},
                {"name": "privacy", "url": f"http://127.0.0.1:{settings.privacy_port}",
                 "command": [sys.executable, "-m", "robotlab_hub.privacy_service"],
                 "oauth_no_confirm": True,
                 "environment": _service_environment()},
                {"name": "robotlab-admin", "api_token": admin_token(state)}]

    # -- each pupil's server ----------------------------------------------------------------
    c.JupyterHub.spawner_class = RobotLabSpawner
    c.Spawner.cmd = [settings.pupil_python or sys.executable, "-m", "jupyterhub.singleuser"]
    c.Spawner.args = list(NO_CALLS_HOME)
    c.Spawner.default_url = settings.ui_path
    c.Spawner.mem_limit = f"{settings.memory_limit_mb}M"
    c.Spawner.start_timeout = 120       # 30 pupils logging in at once on two cores
    c.Spawner.http_timeout = 120
    c.Spawner.environment = {
        "ROBOTLAB_LANG": settings.language,
        # JupyterLab's language and no news feed; nbgrader's exchange that keeps pupils apart.
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(SINGLEUSER_CONFIG / settings.language),
                                                str(SINGLEUSER_CONFIG / "common")]),
        "ROBOTLAB_EXCHANGE_ROOT": settings.exchange_root,
        # The hub's privacy page; hvad_er_gemt() links to it.
        "ROBOTLAB_PRIVACY_URL": "/services/privacy/",
    }

    for course in settings.courses:
        add_formgrader(course, settings, groups, roles, services)

    c.JupyterHub.load_groups = groups
    c.JupyterHub.load_roles = roles
    c.JupyterHub.services = services


def add_formgrader(course, settings: HubSettings, groups: dict, roles: list,
                   services: list) -> None:
    """nbgrader's formgrader for ``course`` as a hub service, ``/services/<course>/formgrader``.

    It is a Jupyter server run by the hub as the course's teacher, in the course's folder.
    The hub group ``formgrade-<course>`` (the teacher) may open it; ``nbgrader-<course>``
    holds the class's pupils (the Unix group ``course.pupils``), who may not. Framing is
    allowed from the hub's own pages only (``frame-ancestors 'self'``: the hub, the
    formgrader and the teacher's JupyterLab share one origin through the proxy), so
    nbgrader's pages work inside JupyterLab while other sites still cannot frame them.
    """
    from .courses import graders_group, members
    graders = graders_group(course.id)
    groups[graders] = {"users": [course.teacher]}
    pupils = []
    if course.pupils:
        try:
            pupils = [name for name in members(course.pupils) if name != course.teacher]
        except KeyError:
            pupils = []
    groups[f"nbgrader-{course.id}"] = {"users": pupils}
    roles.append({"name": graders, "description": f"Graders of {course.id}",
                  "groups": [graders], "scopes": [f"access:services!service={course.id}"]})
    roles.append({"name": f"nbgrader-{course.id}", "description": f"Pupils of {course.id}",
                  "groups": [f"nbgrader-{course.id}"], "scopes": []})
    python = settings.pupil_python or sys.executable
    env = _service_environment()
    env.update({
        "JUPYTERHUB_DEFAULT_URL": "/formgrader",
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(SINGLEUSER_CONFIG / settings.language),
                                                str(SINGLEUSER_CONFIG / "common")]),
        "ROBOTLAB_EXCHANGE_ROOT": settings.exchange_root,
        "ROBOTLAB_LANG": settings.language,
        # nbgrader runs alembic from PATH when it makes the gradebook.
        "PATH": os.pathsep.join([str(Path(python).parent), "/usr/local/bin", "/usr/bin",
                                 "/bin"]),
    })
    services.append({
        "name": course.id,
        "url": f"http://127.0.0.1:{course.formgrader_port}",
        "user": course.teacher,
        "cwd": course.directory,
        "oauth_no_confirm": True,
        "command": [python, "-m", "jupyterhub.singleuser", *NO_CALLS_HOME,
                    f"--ServerApp.root_dir={course.directory}",
                    "--ServerApp.tornado_settings={'headers': {'Content-Security-Policy': "
                    "\"frame-ancestors 'self'\"}}"],
        "environment": env,
    })


def _service_environment() -> dict:
    """What the hub's own Python services need: deploy/ importable, the same settings file,
    and the library path of an interpreter that needs one."""
    env = {"PYTHONPATH": os.pathsep.join([str(DEPLOY_DIR), os.environ.get("PYTHONPATH", "")])}
    for key in ("ROBOTLAB_HUB_SETTINGS", "LD_LIBRARY_PATH", "ROBOTLAB_LANG"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env

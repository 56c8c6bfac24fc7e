"""JupyterHub's configuration for one school server, built from the school's settings.

``deploy/jupyterhub_config.py`` calls ``configure(c, load())``. Kept here, as a function,
so that the tests build exactly the configuration a school runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
    c.JupyterHub.authenticator_class = "pam"
    # Only accounts made by the roster script (robotlab_hub.users), never root or system
    # accounts.
    c.PAMAuthenticator.allowed_groups = {settings.unix_group}
    c.PAMAuthenticator.open_sessions = False
    c.Authenticator.admin_users = set(settings.admins)

    groups = {"teachers": {"users": sorted(settings.teachers)}}
    roles = [
        {"name": "teacher", "description": "RobotLab teachers", "scopes": TEACHER_SCOPES,
         "groups": ["teachers"]},
        {"name": "idle-culler", "description": "Stops pupils' servers nobody uses",
         "scopes": CULLER_SCOPES, "services": ["idle-culler"]},
    ]
    timeout_s = settings.idle_timeout_minutes * 60
    services = [{"name": "idle-culler",
                 "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                             f"--timeout={int(timeout_s)}",
                             f"--cull-every={cull_every_s(timeout_s)}"]}]

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
    }
    if settings.privacy_url:
        c.Spawner.environment["ROBOTLAB_PRIVACY_URL"] = settings.privacy_url

    c.JupyterHub.load_groups = groups
    c.JupyterHub.load_roles = roles
    c.JupyterHub.services = services

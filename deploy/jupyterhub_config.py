# JupyterHub for one school server running RobotLab.
#
#   jupyterhub -f deploy/jupyterhub_config.py
#
# Everything a school chooses is in one TOML file (deploy/hub.example.toml documents it),
# found through ROBOTLAB_HUB_SETTINGS (default /etc/robotlab/hub.toml). docs/deploy.md
# explains the whole set-up; deploy/setup.sh does it on a fresh Debian or Ubuntu server.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from robotlab_hub.config import configure  # noqa: E402
from robotlab_hub.settings import load  # noqa: E402

configure(get_config(), load())  # noqa: F821 (get_config is provided by JupyterHub)

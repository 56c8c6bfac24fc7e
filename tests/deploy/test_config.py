"""The hub's configuration as built from settings (the running hub is in test_hub.py)."""

from pathlib import Path

from traitlets.config import Config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

from robotlab_hub.config import configure  # noqa: E402
from robotlab_hub.settings import HubSettings  # noqa: E402


def built(tmp_path, **settings) -> Config:
    c = Config()
    configure(c, HubSettings(state_dir=str(tmp_path / "state"), **settings))
    return c


def test_notebook_7_for_the_youngest(tmp_path):
    assert built(tmp_path).Spawner.default_url == "/lab"
    assert built(tmp_path, default_ui="tree").Spawner.default_url == "/tree"


def test_english_pupils_get_english_jupyterlab_and_robotlab(tmp_path):
    env = built(tmp_path, language="en").Spawner.environment
    assert env["ROBOTLAB_LANG"] == "en"
    assert env["JUPYTER_CONFIG_PATH"].split(":")[0].endswith("singleuser/en")
    # Kernels link to the hub's privacy page (which links to the school's own page).
    assert env["ROBOTLAB_PRIVACY_URL"] == "/services/privacy/"
    env = built(tmp_path, privacy_url="https://skole.dk/data").Spawner.environment
    assert env["ROBOTLAB_PRIVACY_URL"] == "/services/privacy/"


def test_a_school_day_login_and_apis_on_loopback_only(tmp_path):
    c = built(tmp_path)
    assert c.JupyterHub.cookie_max_age_days == 1
    assert c.JupyterHub.hub_bind_url.startswith("http://127.0.0.1:")
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert (tmp_path / "state").stat().st_mode & 0o077 == 0

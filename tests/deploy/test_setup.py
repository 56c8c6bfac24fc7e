"""deploy/setup.sh: one command from settings and a class list to a running hub.

The test runs the real script as root into a prefix under /tmp, with everything except
the downloads: the Python environment and configurable-http-proxy are the ones already
installed (``--python-env``, ``--proxy``; tests use no network), apt-get is skipped, and
the systemd unit is written to the prefix. Then the hub the script started (in the
foreground) logs a pupil in, who runs lesson 1's first cell.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest


from tests.deploy.hub_harness import DEPLOY, SchoolHub, deploy_env, pupil_python  # noqa: E402
from tests.deploy.test_hub import LESSON_CELL  # noqa: E402

from robotlab_hub.settings import load  # noqa: E402
from robotlab_hub.spawner import proxy_command  # noqa: E402

SETUP = DEPLOY / "setup.sh"


@pytest.fixture(scope="module")
def made():
    # Pupils' servers read the hub's files in the prefix: it must be open to all, which a
    # pytest tmp_path (0700) is not.
    prefix = Path(tempfile.mkdtemp(prefix="rlx-setup-", dir="/tmp"))
    prefix.chmod(0o755)
    hub = SchoolHub(prefix / "work", pupils=1)
    hub.workdir.mkdir()
    settings = prefix / "skole.toml"
    # The school's file leaves pupil_python and proxy_command out: setup.sh fills them in.
    settings.write_text("\n".join(line for line in hub.settings_text().splitlines()
                                  if not line.startswith("pupil_python")), encoding="utf-8")
    roster = prefix / "7a.csv"
    roster.write_text("elev\n" + "".join(f"{name}\n" for name in [hub.teacher, *hub.pupils]),
                      encoding="utf-8")
    runtime = Path(pupil_python()).parent.parent
    command = ["bash", str(SETUP), "--prefix", str(prefix / "opt"), "--etc",
               str(prefix / "etc"), "--settings", str(settings), "--roster", str(roster),
               "--python-env", str(runtime), "--proxy", proxy_command(DEPLOY), "--no-apt",
               "--unit-dir", str(prefix / "systemd"), "--foreground"]
    env = deploy_env()
    env.pop("PYTHONPATH")       # the script finds its own files
    hub.launch(command, env)
    try:
        hub.wait_until_up()
        hub.read_passwords(prefix / "etc" / "7a-adgangskoder.csv")
        hub.prefix = prefix
        yield hub
    finally:
        hub.close()
        shutil.rmtree(prefix, ignore_errors=True)


def test_setup_makes_accounts_settings_and_a_unit_and_starts_a_working_hub(made):
    prefix = made.prefix
    # The accounts from the class list, passwords for root only.
    secret = prefix / "etc" / "7a-adgangskoder.csv"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert set(made.passwords) == {made.teacher, *made.pupils}
    # The settings it wrote: the school's, with the Python and the proxy filled in.
    written = load(prefix / "etc" / "hub.toml")
    assert written.pupil_python == pupil_python()
    assert written.proxy_command == proxy_command(DEPLOY)
    assert written.unix_group == made.group and written.port == made.port
    # The systemd unit runs that Python with the copied config and the written settings.
    unit = (prefix / "systemd" / "robotlab-hub.service").read_text()
    assert f"ExecStart={pupil_python()} -m jupyterhub -f {prefix}/opt/deploy/jupyterhub_config.py" \
        in unit
    assert f"Environment=ROBOTLAB_HUB_SETTINGS={prefix}/etc/hub.toml" in unit
    # The hub it started works: a pupil logs in and runs lesson 1's first cell.
    pupil = made.browser(made.pupils[0])
    assert pupil.log_in().status_code == 302
    pupil.start_server()
    assert pupil.run_cell(pupil.start_kernel(), LESSON_CELL) == {"status": "ok",
                                                                 "output": "kørt 10.0\n"}
    # ... with the hub's files from the prefix, not from the checkout.
    assert str(prefix / "opt" / "deploy" / "singleuser") in pupil.run_cell(
        pupil.start_kernel(), "import os; print(os.environ['JUPYTER_CONFIG_PATH'])")["output"]


def test_setup_refuses_a_mistyped_settings_file_before_starting_anything(tmp_path):
    settings = tmp_path / "skole.toml"
    settings.write_text("[pupils]\nmemory_limt_mb = 512\n", encoding="utf-8")
    env = deploy_env()
    env.pop("PYTHONPATH")
    done = subprocess.run(
        ["bash", str(SETUP), "--prefix", str(tmp_path / "opt"), "--etc", str(tmp_path / "etc"),
         "--settings", str(settings), "--python-env", str(Path(pupil_python()).parent.parent),
         "--proxy", proxy_command(DEPLOY), "--no-apt", "--no-systemd", "--foreground"],
        capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0
    assert "unknown settings memory_limt_mb" in done.stderr
    assert not (tmp_path / "systemd").exists()
    assert "starting the hub" not in done.stdout
    assert os.path.exists(tmp_path / "etc" / "hub.toml")

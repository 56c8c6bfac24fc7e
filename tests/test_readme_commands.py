"""The README's two commands: the lab command really serves the welcome notebook."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_readme_starts_with_exactly_two_commands_and_ci_runs_the_second():
    assert (ROOT / "README.md").read_text(encoding="utf-8").startswith("```sh\n")
    lab, test = readme_commands()
    assert lab == "./dev.sh lab" and test == "./dev.sh test"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "exec ./dev.sh test" in ci


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lab_command_serves_the_welcome_notebook_with_the_simulator():
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    env.pop("DISPLAY", None)
    process = subprocess.Popen(readme_commands()[0].split(), cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        token, deadline = None, time.monotonic() + 240
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            match = re.search(rf"http://127\.0\.0\.1:{port}/lab[^\s]*token=(\w+)", line)
            if match:
                token = match.group(1)
        assert token, "JupyterLab did not start"
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"token {token}"}
        request = urllib.request.Request(f"{base}/api/contents/velkommen.ipynb", headers=headers)
        for _ in range(100):
            try:
                notebook = json.load(urllib.request.urlopen(request, timeout=30))
                break
            except OSError:
                time.sleep(0.2)   # the address is printed just before the server listens
        sources = [c["source"] for c in notebook["content"]["cells"]]
        assert any("Robot()" in s for s in sources)
        page = urllib.request.urlopen(urllib.request.Request(f"{base}/lab", headers=headers),
                                      timeout=30).read().decode()
        assert "JupyterLab" in page
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)

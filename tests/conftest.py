"""Shared test set-up: unpaced virtual time, a fixed seed, Danish by default, no display."""

import os
import sys
from pathlib import Path

import pytest

# Test helpers import each other as ``tests.<folder>.<module>``, and the hub tests import the
# deployment's own package (deploy/robotlab_hub): both roots on the path, once, for every test.
_ROOT = Path(__file__).resolve().parents[1]
for _path in (str(_ROOT), str(_ROOT / "deploy")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ["ROBOTLAB_PACE"] = "max"


@pytest.fixture(autouse=True)
def robotlab_env(monkeypatch):
    monkeypatch.setenv("ROBOTLAB_PACE", "max")
    monkeypatch.setenv("ROBOTLAB_SEED", "1")
    monkeypatch.delenv("ROBOTLAB_LANG", raising=False)
    monkeypatch.delenv("ROBOTLAB_ROBOT", raising=False)


@pytest.fixture(params=["da", "en"])
def lang(request, monkeypatch):
    """Run the test in Danish (ROBOTLAB_LANG unset, the default) and in English."""
    if request.param == "en":
        monkeypatch.setenv("ROBOTLAB_LANG", "en")
    return request.param

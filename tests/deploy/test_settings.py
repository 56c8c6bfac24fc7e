"""The school's settings file: the documented example is the defaults; typos are refused."""

from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

from robotlab_hub.settings import Course, HubSettings, load  # noqa: E402


def test_the_example_file_documents_exactly_the_defaults():
    assert load(DEPLOY / "hub.example.toml") == HubSettings()


@pytest.mark.parametrize("text, complaint", [
    ("[pupils]\nmemory_limt_mb = 512\n", "unknown settings memory_limt_mb"),
    ("[pupils]\ndefault_ui = \"notebook\"\n", "default_ui must be lab or tree"),
    ("[hub]\nlogin = \"facebook\"\n", "login must be one of local"),
])
def test_a_mistyped_setting_is_refused(tmp_path, text, complaint):
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=complaint):
        load(path)


def test_a_named_settings_file_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTLAB_HUB_SETTINGS", str(tmp_path / "mangler.toml"))
    with pytest.raises(FileNotFoundError):
        load()


def test_courses_are_read_from_their_own_tables(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text('[hub]\nport = 9000\n[courses.7a]\nteacher = "laerer01"\n'
                    'directory = "/home/laerer01/7a"\n', encoding="utf-8")
    settings = load(path)
    assert settings.port == 9000
    assert settings.courses == (Course("7a", "laerer01", "/home/laerer01/7a",
                                       formgrader_port=9000),)
    assert settings.courses[0].gradebook == Path("/home/laerer01/7a/gradebook.db")
    path.write_text('[courses.7a]\nteacher = "laerer01"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[courses.7a\] needs teacher and directory"):
        load(path)

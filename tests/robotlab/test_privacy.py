"""What RobotLab knows about the pupil: sensors, real experiment files, broken files; da and en."""

import datetime as dt
import html
import re
import tomllib

import pytest

from robotlab import Eksperiment, Experiment, Robot, hvad_er_gemt, what_is_stored
from robotlab.errors import RobotTypeError, RobotValueError
from robotlab.i18n import table
from robotlab.privacy import Sensor
from simulator.profile import PROFILE_DIR

TABLE = table()
PRIVACY_KEYS = sorted(key for key in TABLE if key.startswith("privacy_"))


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("ROBOTLAB_PRIVACY_URL", raising=False)
    return tmp_path


def literal_parts(key: str, lang: str) -> list[str]:
    """The fixed text of a message (between its placeholders)."""
    return [p.strip() for p in re.split(r"\{[^}]*\}", TABLE[key][lang]) if p.strip()]


def shows(text: str, key: str, lang: str) -> bool:
    text = html.unescape(text)              # the page escapes "school's"
    return all(part in text for part in literal_parts(key, lang))


def measure_three_times(exp, robot):
    exp.hypothesis("Hver måling bliver til en linje", prediction=3, measurement="records")
    for _ in range(3):
        robot.reset()
        robot.forward(10)
        exp.record(robot=robot)


def test_an_empty_folder_lists_the_robots_sensors_and_no_files(lang, in_tmp):
    stored = what_is_stored()
    with open(PROFILE_DIR / "classroom.toml", "rb") as f:
        sensors = tomllib.load(f)["sensors"]
    assert [s.name for s in stored.sensors] == list(sensors)
    assert stored.sensors[0].kind == "ultrasonic"
    assert stored.files == () and stored.folder == in_tmp
    text, page = repr(stored), stored._repr_html_()
    for shown in (text, page):
        for key in ("privacy_title", "privacy_sensors_memory", "privacy_no_files",
                    "privacy_no_page", "privacy_server_note", "privacy_delete_heading",
                    "privacy_who_heading"):
            assert shows(shown, key, lang), key
        for name in sensors:
            assert shows(shown, f"privacy_sensor_{name}", lang), name
    # Each sensor is named by the call that reads it, in the pupil's language.
    assert ("robot.afstand()" in text) == (lang == "da")
    assert ("robot.distance()" in text) == (lang == "en")
    assert not (in_tmp / "eksperimenter").exists()      # looking changes nothing


def test_a_real_experiment_is_listed_with_its_records_fields_and_times(lang, in_tmp):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    exp = Experiment("Hvor meget gemmer RobotLab?")
    measure_three_times(exp, Robot(noise=False))
    exp.to_csv()
    exp.to_html()
    after = dt.datetime.now(dt.timezone.utc)
    stored = what_is_stored()
    logbook = stored.file(exp)
    # The start, the hypothesis, the trial and 3 records.
    assert logbook.records == 6 and logbook.kind == "logbook" and logbook.readable
    assert logbook.path.as_posix() == f"eksperimenter/{exp.path.name}"
    assert logbook.size_bytes == exp.path.stat().st_size
    measured = [TABLE[f"exp_name_{name}"][lang] for name in ("odometer", "time", "distance")]
    assert {"time", "question", "notebook", "text", *measured} <= set(logbook.fields)
    assert "measurements" not in logbook.fields          # the names inside are listed instead
    assert before <= logbook.first_time <= logbook.last_time <= after
    kinds = {f.path.suffix: f for f in stored.files}
    assert set(kinds) == {".jsonl", ".csv", ".html"}
    assert kinds[".csv"].kind == "spreadsheet" and kinds[".csv"].records == 3
    assert measured[0] in kinds[".csv"].fields
    assert kinds[".html"].kind == "webpage" and kinds[".html"].records is None
    # The same file by its path, as a text or relative to the folder.
    assert stored.file(str(exp.path)) == logbook == stored.file(logbook.path)
    page = stored._repr_html_()
    for key in ("privacy_files_heading", "privacy_col_file", "privacy_col_kind",
                "privacy_col_size", "privacy_col_records", "privacy_col_fields",
                "privacy_col_first", "privacy_col_last", "privacy_kind_logbook",
                "privacy_kind_spreadsheet", "privacy_kind_webpage", "privacy_delete"):
        assert shows(page, key, lang), key
    assert exp.path.name in page and exp.path.name in repr(stored)
    assert f'os.remove(&quot;eksperimenter/' in page


def test_the_danish_names_give_the_same_answer(in_tmp):
    eks = Eksperiment("Hvor meget gemmer RobotLab?")
    measure_three_times(eks, Robot(noise=False))
    gemt = hvad_er_gemt(mappe=".")
    assert gemt == what_is_stored(".")
    fil = gemt.fil(eks)
    assert (fil.poster, fil.felter, fil.sti, fil.slags) == (6, fil.fields, fil.path, "logbook")
    assert (fil.størrelse_bytes, fil.første_tid, fil.sidste_tid) == \
        (fil.size_bytes, fil.first_time, fil.last_time)
    assert fil.læsbar and fil.ødelagte_linjer == 0
    assert gemt.filer == gemt.files and gemt.mappe == in_tmp and gemt.persondataside is None
    afstand = gemt.sensorer[0]
    assert (afstand.navn, afstand.slags) == ("distance", "ultrasonic")
    assert afstand.hvad == TABLE["privacy_sensor_distance"]["da"]


def test_the_experiments_folder_itself_can_be_named(in_tmp):
    exp = Experiment("Hvor meget gemmer RobotLab?")
    measure_three_times(exp, Robot(noise=False))
    stored = what_is_stored("eksperimenter")
    assert [f.path.as_posix() for f in stored.files] == [exp.path.name]
    assert stored.file(exp).records == 6


def test_broken_and_half_written_files_are_listed_never_raised(lang, in_tmp):
    exp = Experiment("Hvor meget gemmer RobotLab?")
    measure_three_times(exp, Robot(noise=False))
    folder = in_tmp / "eksperimenter"
    # A kernel killed in the middle of a line: the complete records still count.
    cut = folder / "afbrudt.jsonl"
    cut.write_text(exp.path.read_text(encoding="utf-8") + '{"event": "rec', encoding="utf-8")
    (folder / "rod.jsonl").write_text("ikke json\n{\n", encoding="utf-8")
    (folder / "binaer.jsonl").write_bytes(b"\xff\xfe\x00 noise \x80\n")
    (folder / "binaer.csv").write_bytes(b"\xff\xfe\x00\x80")
    (folder / "tom.jsonl").write_text("", encoding="utf-8")
    (folder / "liste.jsonl").write_text("[1, 2]\n", encoding="utf-8")
    (folder / "noter.txt").write_text("mine noter", encoding="utf-8")
    (folder / "en-mappe.jsonl").mkdir()
    stored = what_is_stored()
    files = {f.path.name: f for f in stored.files}
    assert "en-mappe.jsonl" not in files
    assert (files["afbrudt.jsonl"].records, files["afbrudt.jsonl"].damaged_lines) == (6, 1)
    assert files["afbrudt.jsonl"].readable
    for name in ("rod.jsonl", "binaer.jsonl", "binaer.csv", "liste.jsonl"):
        assert not files[name].readable and files[name].records is None, name
    assert files["tom.jsonl"].readable and files["tom.jsonl"].records == 0
    assert files["noter.txt"].kind == "other" and files["noter.txt"].size_bytes == 10
    page, text = stored._repr_html_(), repr(stored)
    for shown in (page, text):
        for key in ("privacy_unreadable", "privacy_damaged_lines", "privacy_kind_other"):
            assert shows(shown, key, lang), key


def test_the_schools_privacy_page_is_linked_when_set(lang, monkeypatch):
    url = "https://skole.example.dk/persondata?a=1&b=2"
    monkeypatch.setenv("ROBOTLAB_PRIVACY_URL", url)
    stored = what_is_stored()
    assert stored.privacy_url == url
    page = stored._repr_html_()
    assert 'href="https://skole.example.dk/persondata?a=1&amp;b=2"' in page
    assert shows(page, "privacy_page", lang) and not shows(page, "privacy_no_page", lang)
    assert url in repr(stored) and shows(repr(stored), "privacy_page", lang)


def test_a_sensor_the_texts_do_not_know_is_named_by_its_kind(lang):
    sensor = Sensor("camera", "camera", ())
    assert sensor.what() == TABLE["privacy_sensor_other"][lang].format(kind="camera")
    assert sensor.shown_calls() == []


@pytest.mark.parametrize("which", [5, None, 2.5])
def test_asking_for_a_file_with_something_else_says_what_to_give(lang, which):
    stored = what_is_stored()
    ask = stored.fil if lang == "da" else stored.file
    with pytest.raises(RobotTypeError) as info:
        ask(which)
    assert isinstance(info.value, TypeError) and info.value.reason == "privacy_which_file"
    msg = str(info.value)
    assert shows(msg, "privacy_which_file", lang)
    assert ("gemt.fil(eks)" if lang == "da" else "stored.file(exp)") in msg
    assert "\n" not in msg and len(msg) < 300


def test_asking_for_a_file_that_is_not_there_names_it(lang, in_tmp):
    stored = what_is_stored()
    with pytest.raises(RobotValueError) as info:
        stored.file("eksperimenter/findes-ikke.jsonl")
    assert isinstance(info.value, ValueError) and info.value.reason == "privacy_not_listed"
    msg = str(info.value)
    assert shows(msg, "privacy_not_listed", lang) and "findes-ikke.jsonl" in msg
    # An experiment made after looking is not in the (older) list either.
    exp = Experiment("Hvor meget gemmer RobotLab?")
    with pytest.raises(RobotValueError):
        stored.file(exp)
    assert what_is_stored().file(exp).records == 1


@pytest.mark.parametrize("call", [lambda: what_is_stored(5), lambda: hvad_er_gemt(mappe=None)])
def test_a_folder_that_is_not_a_name_says_what_to_type(lang, call):
    with pytest.raises(RobotTypeError) as info:
        call()
    assert info.value.reason == "name_expected" and isinstance(info.value, TypeError)


def test_a_folder_that_does_not_exist_has_no_files():
    assert what_is_stored("findes-ikke").files == ()


def test_every_privacy_message_differs_between_languages_and_is_shown_above():
    """The message table's privacy_ texts: both languages, different, one line each."""
    for key in PRIVACY_KEYS:
        assert TABLE[key]["da"] != TABLE[key]["en"], key
    assert len(PRIVACY_KEYS) >= 30

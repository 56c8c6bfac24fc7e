"""The experiment logbook: whole cycles with the simulator, the file, kill -9, friendly errors."""

import csv
import json
import os
import signal
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient

from robotlab import Eksperiment, Experiment, Robot
from robotlab.errors import RobotLabError, RobotTypeError, RobotValueError
from robotlab.experiment import Logbook

QUESTION = "Hvor langt kører robotten på 2 sekunder?"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return tmp_path


def events(path):
    return [{k: v for k, v in e.items() if k != "time"} for e in Logbook.read(Path(path))]


def drive_two_seconds(robot, speed):
    robot.reset()
    robot.drive(speed, speed)
    robot.wait(2)
    robot.stop()


def test_whole_cycles_with_the_simulator(capsys):
    robot = Robot(seed=3)
    exp = Experiment(QUESTION)
    assert "eksperimenter/notesbog--hvor-langt" in capsys.readouterr().out
    exp.hypothesis("Robotten kører 30 cm", prediction=30, measurement="kørt_cm")
    exp.trial(fart=50)
    for _ in range(3):
        drive_two_seconds(robot, 50)
        exp.record(robot=robot)
    exp.conclude("Den kørte kortere end 30 cm", supported=False)
    exp.revise("Jo større fart, jo længere", prediction=lambda fart: fart * 0.4)
    for speed in (30, 60, 90):
        exp.trial(fart=speed)
        for _ in range(2):
            drive_two_seconds(robot, speed)
            exp.record(robot=robot)
    exp.conclude("Længere med større fart", supported=True)

    rows = exp.rows()
    assert len(rows) == 3 + 6
    assert {r["cycle"] for r in rows} == {1, 2}
    assert [r["repeat"] for r in rows[:3]] == [1, 2, 3]
    assert set(rows[0]) >= {"fart", "kørt_cm", "tid_s", "afstand_cm", "predicted"}
    # Noise is on: repeats spread, as on a real robot.
    assert len({r["afstand_cm"] for r in rows[:3]}) == 3
    assert all(r["predicted"] == 30 for r in rows[:3])
    assert [r["predicted"] for r in rows[3:]] == pytest.approx([12, 12, 24, 24, 36, 36])
    # The file holds every step, in order, and reading it back gives the same experiment.
    kinds = [e["event"] for e in events(exp.path)]
    assert kinds == ["experiment", "hypothesis", "trial", "record", "record", "record",
                     "conclusion", "hypothesis"] + ["trial", "record", "record"] * 3 + \
        ["conclusion"]
    again = Experiment.load(exp.path)
    assert again.rows() == rows
    assert [(c.text, c.conclusion, c.supported) for c in again.cycles] == \
        [(c.text, c.conclusion, c.supported) for c in exp.cycles]
    records = [e for e in events(exp.path) if e["event"] == "record"]
    assert {e["source"] for e in records} == {"simulator"}


def test_danish_names_write_the_same_file():
    english = Experiment("Hvor hurtig er robotten?", folder="en")
    english.hypothesis("15 cm/s", prediction=15)
    english.trial(fart=50)
    english.record(hastighed=14.5)
    english.conclude("Lidt langsommere", supported=False)
    danish = Eksperiment("Hvor hurtig er robotten?", mappe="da")
    danish.hypotese("15 cm/s", forudsigelse=15)
    danish.forsøg(fart=50)
    danish.mål(hastighed=14.5)
    danish.konkluder("Lidt langsommere", bekræftet=False)
    assert events(english.path) == events(danish.path)


def test_a_new_experiment_never_touches_an_earlier_run_and_resume_continues_the_newest():
    first = Experiment(QUESTION)
    first.hypothesis("30 cm", prediction=30)
    first.record(afstand=28)
    before = Path(first.path).read_bytes()
    second = Experiment(QUESTION)                 # the default: a new run
    assert second.path != first.path and second.path.name.endswith("--002.jsonl")
    second.hypothesis("40 cm", prediction=40)
    assert Path(first.path).read_bytes() == before
    third = Experiment(QUESTION, resume=True)     # continues run 2
    assert third.path == second.path and third.cycle == 1
    third.record(afstand=41)
    assert [r["afstand"] for r in Experiment.load(second.path).rows()] == [41]
    assert Path(first.path).read_bytes() == before


def test_two_notebooks_in_one_folder_never_clobber_each_others_files(tmp_path):
    """Two kernels, two notebooks, the same question, one folder: each keeps its own file."""
    for name in ("a.ipynb", "b.ipynb"):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(
            f"from robotlab import Experiment\nexp = Experiment({QUESTION!r})\n"
            f"exp.hypothesis('{name}', prediction=1)\nexp.record(x=1)\nexp.record(x=2)")]
        os.environ["JPY_SESSION_NAME"] = str(tmp_path / name)
        try:
            NotebookClient(notebook, timeout=60, kernel_name="python3",
                           resources={"metadata": {"path": str(tmp_path)}}).execute()
        finally:
            del os.environ["JPY_SESSION_NAME"]
    files = sorted(p.name for p in (tmp_path / "eksperimenter").iterdir())
    assert files == [f"{n}--hvor-langt-koerer-robotten-paa-2-sekunde--001.jsonl" for n in "ab"]
    for name in "ab":
        loaded = Experiment.load(tmp_path / "eksperimenter" / files["ab".index(name)])
        assert loaded.cycles[0].text == f"{name}.ipynb"
        assert [r["x"] for r in loaded.rows()] == [1, 2]


def test_a_killed_kernel_loses_nothing_already_recorded(tmp_path):
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path), env={**os.environ, "ROBOTLAB_PACE": "max"})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        msg_id = client.execute(
            "import time\nfrom robotlab import Experiment, Robot\n"
            f"exp = Experiment({QUESTION!r})\nexp.hypothesis('it goes on', prediction=1)\n"
            "robot = Robot()\nexp.trial(fart=50)\n"
            "for i in range(100000):\n"
            "    robot.forward(1)\n"
            "    exp.record(n=i, robot=robot)\n"
            "    print(i, flush=True)\n"
            "    time.sleep(0.005)\n")
        printed = []
        deadline = time.monotonic() + 60
        while len(printed) < 60 and time.monotonic() < deadline:
            message = client.get_iopub_msg(timeout=10)
            if message["parent_header"].get("msg_id") == msg_id and \
                    message["msg_type"] == "stream":
                printed += [int(x) for x in message["content"]["text"].split()
                            if x.isdigit()]
        os.kill(manager.provisioner.process.pid, signal.SIGKILL)   # kill -9, mid-record
        manager.provisioner.process.wait()
    finally:
        client.stop_channels()
        manager.cleanup_resources()
    assert len(printed) >= 60
    [path] = (tmp_path / "eksperimenter").iterdir()
    recorded = [r["n"] for r in Experiment.load(path).rows()]
    # Every record whose call returned (it printed after) is in the file, in order.
    assert recorded[:len(printed)] == printed
    assert recorded == list(range(len(recorded)))


def test_a_half_written_last_line_is_skipped_when_reading(tmp_path):
    exp = Experiment(QUESTION)
    exp.hypothesis("30 cm", prediction=30)
    exp.record(afstand=28)
    with open(exp.path, "a", encoding="utf-8") as f:
        f.write('{"event": "record", "cycle": 1, "tri')     # what a crash mid-write leaves
    assert [r["afstand"] for r in Experiment.load(exp.path).rows()] == [28]


def test_table_csv_and_html_summary(tmp_path):
    exp = Experiment(QUESTION)
    exp.hypothesis("Fart gør det", prediction={30: 12, 60: 24})
    for speed, value in ((30, 11.5), (30, 12.5), (60, 23)):
        exp.trial(fart=speed)
        exp.record(afstand=value)
    exp.conclude("Passer nogenlunde", supported=True)
    table = exp.table()
    assert len(table) == 3
    text = str(table)
    assert "afstand" in text and "11.5" in text
    path = exp.to_csv()
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["afstand"] for r in rows] == ["11.5", "12.5", "23"]
    assert [r["predicted"] for r in rows] == ["12", "12", "24"]
    summary = exp._repr_html_()
    for part in (QUESTION, "Cyklus 1", "Fart gør det", "Passer nogenlunde", "hypotesen holdt",
                 "30 → 12", "<table"):
        assert part in summary


def test_english_messages_and_names(monkeypatch):
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    exp = Experiment("How far?")
    exp.hypothesis("30 cm", prediction=30)
    exp.record(robot=Robot(noise=False))
    assert set(exp.rows()[0]) >= {"driven_cm", "time_s", "distance_cm"}
    with pytest.raises(RobotLabError, match="First write what you found out"):
        exp.revise("40 cm")


BAD = [
    pytest.param(lambda e: e.hypothesis(""), RobotValueError, "hypotesen er tom",
                 id="empty-hypothesis"),
    pytest.param(lambda e: e.hypothesis(30), RobotTypeError, "tekst i anførselstegn",
                 id="hypothesis-not-text"),
    pytest.param(lambda e: e.hypothesis("x", prediction="tredive"), RobotTypeError,
                 "et tal, en tabel eller en funktion", id="prediction-text"),
    pytest.param(lambda e: e.record(afstand=1), RobotValueError, "Skriv først din hypotese",
                 id="record-before-hypothesis"),
]


@pytest.mark.parametrize("step, error, text", BAD)
def test_bad_first_steps_get_friendly_messages(step, error, text):
    exp = Experiment(QUESTION)
    with pytest.raises(error, match=text):
        step(exp)
    assert [e["event"] for e in events(exp.path)] == ["experiment"]


LATER = [
    pytest.param(lambda e: e.record(afstand="tyve"), RobotTypeError,
                 "afstand var et tal i de andre målinger", id="changed-type"),
    pytest.param(lambda e: e.record(afstand=None), RobotTypeError, "et tal eller en kort tekst",
                 id="none"),
    pytest.param(lambda e: e.record(afstand=float("nan")), RobotValueError, "ikke et tal",
                 id="nan"),
    pytest.param(lambda e: e.record(), RobotValueError, "ingen målinger", id="nothing"),
    pytest.param(lambda e: e.record(robot="robot"), RobotTypeError, "skal være din robot",
                 id="not-a-robot"),
    pytest.param(lambda e: e.conclude("ok", supported="ja"), RobotTypeError, "supported",
                 id="supported-text"),
    pytest.param(lambda e: e.conclude("   ", supported=True), RobotValueError,
                 "konklusionen er tom", id="empty-conclusion"),
    pytest.param(lambda e: e.revise("ny"), RobotValueError, "mangler en konklusion",
                 id="revise-before-conclusion"),
    pytest.param(lambda e: e.hypothesis("igen"), RobotValueError, "starter en ny cyklus",
                 id="second-hypothesis"),
    pytest.param(lambda e: e.mål(afstand=[1]), RobotTypeError,
                 "et tal eller en kort tekst", id="list"),
    pytest.param(lambda e: e.konkluder("ok", holdt=True), RobotTypeError, "holdt= kendes ikke",
                 id="unknown-keyword"),
    pytest.param(lambda e: e.compare(3), RobotTypeError, "andet eksperiment", id="compare"),
    # Called by its Danish name, the message shows the Danish names.
    pytest.param(lambda e: e.konkluder(" ", bekræftet=True), RobotValueError,
                 r'eks\.konkluder\(\): konklusionen er tom.*eks\.konkluder\("Den kørte kortere", '
                 r'bekræftet=False\)', id="danish-example"),
    pytest.param(lambda e: e.ny_hypotese("ny"), RobotValueError,
                 r'eks\.konkluder\("\.\.\.", bekræftet=False\)', id="danish-revise"),
]


@pytest.mark.parametrize("step, error, text", LATER)
def test_bad_steps_later_get_friendly_messages_and_lose_nothing(step, error, text):
    exp = Experiment(QUESTION)
    exp.hypothesis("30 cm", prediction=30)
    exp.record(afstand=28)
    before = events(exp.path)
    with pytest.raises(error, match=text):
        step(exp)
    assert events(exp.path) == before
    exp.record(afstand=29)                      # and the experiment goes on
    assert [r["afstand"] for r in exp.rows()] == [28, 29]


def test_a_conclusion_before_any_measurement_in_the_cycle():
    exp = Experiment(QUESTION)
    exp.hypothesis("30 cm", prediction=30)
    with pytest.raises(RobotValueError, match="ikke målt noget i cyklus 1"):
        exp.conclude("Den kørte 30 cm", supported=True)
    exp.record(afstand=30)
    exp.conclude("Den kørte 30 cm", supported=True)
    exp.revise("Den kører 60 cm på 4 s", prediction=60)
    with pytest.raises(RobotValueError, match="ikke målt noget i cyklus 2"):
        exp.conclude("Ja", supported=True)
    exp.record(afstand=58)
    exp.conclude("Næsten", supported=True)
    with pytest.raises(RobotValueError, match="bliver ikke skrevet over"):
        exp.conclude("Alligevel ikke", supported=False)
    assert [c.conclusion for c in Experiment.load(exp.path).cycles] == ["Den kørte 30 cm", "Næsten"]


def test_a_prediction_that_does_not_fit_is_said_after_the_measurement_is_saved(capsys):
    exp = Experiment(QUESTION)
    exp.hypothesis("Fart gør det", prediction={30: 12, 60: 24})
    exp.trial(fart=45)
    exp.record(afstand=18)
    out = capsys.readouterr().out
    assert "Målingen er gemt" in out and "fart=45" in out and "30, 60" in out
    exp.conclude("?", supported=False)
    exp.revise("En funktion", prediction=lambda speed: speed * 0.4)
    exp.trial(fart=45)
    exp.record(afstand=18)
    assert "din funktion gav ikke et tal" in capsys.readouterr().out
    assert [r["afstand"] for r in exp.rows()] == [18, 18]
    assert [r["predicted"] for r in exp.rows()] == [None, None]


def test_a_loaded_experiment_is_read_only_and_says_how_to_continue(capsys):
    exp = Experiment(QUESTION)
    exp.hypothesis("30 cm", prediction=30)
    loaded = Experiment.load(exp.path)
    with pytest.raises(RobotValueError, match="fortsæt=True"):
        loaded.record(afstand=1)
    not_a_log = Path("noter.txt")
    not_a_log.write_text("hej\n")
    with pytest.raises(RobotValueError, match="ikke en RobotLab-eksperimentfil"):
        Experiment.load(not_a_log)


def test_the_remaining_messages(capsys, monkeypatch):
    with pytest.raises(RobotValueError, match="skriv det spørgsmål"):
        Experiment("  ")
    with pytest.raises(RobotTypeError, match="tekst i anførselstegn"):
        Eksperiment(None)
    exp = Experiment(QUESTION)
    assert "gemmes hele tiden i filen" in capsys.readouterr().out
    exp.hypothesis("Den bliver rød", prediction=1, measurement="farve")
    exp.record(farve="rød")
    assert "farve er en tekst" in capsys.readouterr().out
    Experiment(QUESTION, resume=True)
    assert "Fortsætter eksperimentet fra" in capsys.readouterr().out
    html = exp._repr_html_()
    assert "Hypotese:" in html and "Gemt i eksperimenter" in html
    exp.conclude("Nej", supported=False)
    assert "Konklusion:" in exp._repr_html_() and "hypotesen holdt ikke" in exp._repr_html_()
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    english = exp._repr_html_()
    assert "Cycle 1" in english and "Hypothesis:" in english and "Saved in" in english


def test_the_example_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    source = Path(__file__).resolve().parents[2] / "notebooks" / "eksperiment.ipynb"
    notebook = nbformat.read(source, as_version=4)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "eksperiment.ipynb"))
    monkeypatch.setenv("ROBOTLAB_PACE", "max")
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]
    [path] = (tmp_path / "eksperimenter").glob("eksperiment--*.jsonl")
    exp = Experiment.load(path)
    assert [len(c.rows) for c in exp.cycles] == [3, 6]
    assert [c.supported for c in exp.cycles] == [False, True]
    [graph] = [c for c in code if "eks.graf()" in c.source]
    assert any("image/png" in o.get("data", {}) for o in graph.outputs)
    outputs = [o for c in code for o in c.outputs]
    assert any("Cyklus 2" in o.get("data", {}).get("text/html", "") for o in outputs)
    assert (tmp_path / "eksperimenter" / (path.stem + ".csv")).exists()


def test_the_html_page_to_hand_in_has_the_summary_and_the_graph():
    exp = Eksperiment(QUESTION)
    exp.hypotese("30 cm", forudsigelse=30)
    exp.mål(afstand=28)
    exp.mål(afstand=29)
    exp.konkluder("Lidt kortere", bekræftet=False)
    path = exp.gem_html()
    page = path.read_text(encoding="utf-8")
    assert path.suffix == ".html" and page.startswith("<!DOCTYPE html>")
    assert QUESTION in page and "Lidt kortere" in page and "hypotesen holdt ikke" in page
    assert page.count('src="data:image/png;base64,') == 1


def test_a_difference_of_two_readings_is_stored_without_float_noise(tmp_path):
    exp = Experiment("Hvor langt bremser den?", folder=tmp_path)
    exp.hypothesis("3 cm", prediction=3, measurement="bremse_cm")
    exp.record(bremse_cm=18.4 - 15.7, tiny=1.5e-13)
    row = Experiment.load(exp.path).rows()[0]
    assert row["bremse_cm"] == 2.7 and row["tiny"] == 1.5e-13
    assert "2.6999" not in exp.path.read_text(encoding="utf-8")

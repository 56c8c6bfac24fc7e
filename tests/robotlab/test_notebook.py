"""RobotLab in real Jupyter kernels: the welcome notebooks, pictures, safety stops, memory."""

import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run_notebook(notebook, timeout=120):
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    return notebook


def code_notebook(*sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return notebook


def outputs(cell, kind):
    return [o for o in cell.outputs if kind in o.get("data", {})] if kind != "stream" else \
        [o for o in cell.outputs if o["output_type"] == "stream"]


@pytest.mark.parametrize("name", ["velkommen.ipynb", "welcome.ipynb"])
def test_welcome_notebook_runs_and_shows_the_arena_after_robot_cells(name):
    notebook = run_notebook(nbformat.read(NOTEBOOKS / name, as_version=4))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]
    # Every cell that uses the robot ends with a picture of the world.
    for cell in code:
        assert outputs(cell, "image/png"), cell.source
    printed = "".join(o["text"] for c in code for o in outputs(c, "stream"))
    assert ("Afstand til muren" in printed) or ("Distance to the wall" in printed)


def test_a_cell_that_fails_stops_the_robot_and_the_message_is_short():
    notebook = code_notebook(
        "from robotlab import Robot\nrobot = Robot(noise=False)\nrobot.drive(50, 50)",
        "robot.forwad(10)",
        "before = robot.odometer()\nrobot.wait(2)\nprint(robot.odometer() - before)",
    )
    client = NotebookClient(notebook, timeout=60, kernel_name="python3", allow_errors=True)
    client.execute()
    error = [o for o in notebook.cells[1].outputs if o["output_type"] == "error"][0]
    assert error["ename"] == "RobotAttributeError"
    assert "Mente du robot.forward()" in error["evalue"]
    # IPython hides RobotLab's own frames: the trace is the pupil's line and the message.
    assert not [line for line in error["traceback"] if "robotlab/pupil.py" in line]
    moved = float(outputs(notebook.cells[2], "stream")[0]["text"])
    assert moved == 0.0


def test_interrupting_the_kernel_stops_a_long_move():
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env={**os.environ, "ROBOTLAB_PACE": "realtime"})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute_interactive("from robotlab import Robot\nrobot = Robot(noise=False)",
                                   timeout=60)
        msg_id = client.execute("robot.forward(500)")   # 500 cm at 15 cm/s: half a minute
        time.sleep(2.0)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=30)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = client.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        lines = []
        client.execute_interactive(
            "print(robot._backend.body.moving, robot.odometer())", timeout=30,
            output_hook=lambda m: lines.append(m["content"].get("text", "")))
        moving, driven = "".join(lines).split()
        assert moving == "False"
        assert 5 < float(driven) < 100
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_pupil_kernel_after_robot_stays_small():
    notebook = run_notebook(code_notebook(
        "from robotlab import Robot\nrobot = Robot()\nrobot.forward(20)",
        "import re\nrss = int(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read())[1])"
        "\nprint(rss // 1024)",
    ))
    rss_mb = int(notebook.cells[1].outputs[0]["text"])
    assert rss_mb < 150


def test_robot_errors_show_the_pupils_line_and_the_message_without_robotlab_frames():
    notebook = code_notebook(
        'from robotlab import Robot\nRobot(arena="xyz")',
        "robot = Robot()\nrobot.forward(-5)",
    )
    NotebookClient(notebook, timeout=60, kernel_name="python3", allow_errors=True).execute()
    for cell, line in ((notebook.cells[0], 'Robot(arena="xyz")'),
                       (notebook.cells[1], "robot.forward(-5)")):
        error = [o for o in cell.outputs if o["output_type"] == "error"][0]
        assert error["ename"] == "RobotValueError"
        text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))   # no colours
        assert line in text
        assert "robotlab/" not in text and "robotlab\\" not in text


def test_the_playground_notebook_runs_and_reports_its_sensors():
    notebook = run_notebook(nbformat.read(NOTEBOOKS / "legeplads.ipynb", as_version=4))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]
    printed = "".join(o["text"] for c in code for o in outputs(c, "stream"))
    assert "Afstand:" in printed and "Farve under robotten:" in printed


@pytest.mark.parametrize("name, moved", [("forbind-robot.ipynb", "Kørt frem"),
                                         ("connect-robot.ipynb", "Driven forward")])
def test_connect_your_robot_runs_against_a_virtual_classroom(name, moved, monkeypatch):
    """ROBOTLAB_VIRTUAL_ROBOTS puts virtual robots on a virtual radio in the kernel:
    the notebook's Robot("ble", name="01") goes through bleak and the real protocol."""
    monkeypatch.setenv("ROBOTLAB_VIRTUAL_ROBOTS", "3")
    monkeypatch.setenv("ROBOTLAB_SEED", "1")
    notebook = run_notebook(nbformat.read(NOTEBOOKS / name, as_version=4))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]
    shown = "".join(o["data"]["text/plain"] for o in code[1].outputs if "data" in o)
    assert shown == "Robot('ble', name='RobotLab-01')"
    printed = "".join(o["text"] for c in code for o in outputs(c, "stream"))
    driven = float(re.search(rf"{moved}: ([\d.]+) cm", printed).group(1))
    assert 8 <= driven <= 12           # 10 cm forward, with a noisy robot


def test_without_virtual_robots_robot_ble_uses_the_computers_radio(monkeypatch):
    """The setting is read by Robot("ble") only: unset, the virtual classroom never starts."""
    from robotlab.backends import bluetooth
    monkeypatch.delenv("ROBOTLAB_VIRTUAL_ROBOTS", raising=False)
    bluetooth._start_virtual_classroom()
    assert bluetooth._virtual_classroom is None and bluetooth._bleak_backends == (None, None)
    monkeypatch.setenv("ROBOTLAB_VIRTUAL_ROBOTS", "tre")
    bluetooth._start_virtual_classroom()
    assert bluetooth._virtual_classroom is None


@pytest.mark.parametrize("name, language", [("laerer-hurtigstart.ipynb", "da"),
                                            ("teacher-quick-start.ipynb", "en")])
def test_teacher_quick_start_runs_and_makes_a_trial_class(name, language):
    from grading.lessons import curriculum
    notebook = run_notebook(nbformat.read(NOTEBOOKS / name, as_version=4), timeout=180)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]
    table = "".join(o["data"]["text/markdown"] for o in code[0].outputs if "data" in o)
    assert all(lesson["title"][language] in table for lesson in curriculum())
    assert outputs(code[1], "image/png")                 # the simulator's picture
    printed = "".join(o["text"] for o in outputs(code[2], "stream"))
    assert "(2, 0)" in printed                           # two new pupils
    assert f"02-tegn-en-firkant-{language}.ipynb" in printed
    assert "laererguide.md" not in printed and "teacher-guide.md" not in printed


@pytest.mark.parametrize("name", ["velkommen.ipynb", "welcome.ipynb"])
def test_the_welcome_notebook_points_to_notebooks_that_exist(name):
    text = "".join(c.source for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells)
    named = set(re.findall(r"`([\w-]+\.ipynb)`", text))
    assert len(named) >= 4
    assert sorted(n for n in named if not (NOTEBOOKS / n).is_file()) == []


@pytest.mark.parametrize("name, moved", [("forbind-lego.ipynb", "Kørt frem"),
                                         ("connect-lego.ipynb", "Driven forward")])
def test_connect_a_lego_robot_runs_against_a_virtual_hub(name, moved, monkeypatch):
    """ROBOTLAB_VIRTUAL_HUBS puts a virtual LEGO hub on a virtual radio in the kernel: the
    notebook's Robot("lego") goes through bleak and LEGO Wireless Protocol 3.0."""
    monkeypatch.setenv("ROBOTLAB_VIRTUAL_HUBS", "1")
    monkeypatch.setenv("ROBOTLAB_SEED", "1")
    notebook = run_notebook(nbformat.read(NOTEBOOKS / name, as_version=4))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]
    shown = "".join(o["data"]["text/plain"] for o in code[1].outputs if "data" in o)
    assert "lego" in shown and "Technic Hub" in shown, shown
    printed = "".join(o["text"] for c in code for o in outputs(c, "stream"))
    driven = float(re.search(rf"{moved}: ([\d.]+) cm", printed).group(1))
    assert 9 <= driven <= 11

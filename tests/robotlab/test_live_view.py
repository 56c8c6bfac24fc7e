"""The live view, kernel side, in real Jupyter kernels: frames, buttons, pictures.

The browser side is tested in tests/browser/. Here the test plays the browser's
part on the kernel's own channels: it decodes the frames the kernel streams and
presses buttons through the kernel's control socket, as the server extension does.
"""

import base64
import io
import os
import re
import shutil
import struct
import tempfile
import time
import uuid

import nbformat
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient

from robotlab import control

def decode(buffer: bytes):
    """Frames from one batch, following the layout in docs/architecture.md."""
    assert buffer[0] == 2, "format version"
    frames, o = [], 2

    def take(fmt):
        nonlocal o
        values = struct.unpack_from("<" + fmt, buffer, o)
        o += struct.calcsize("<" + fmt)
        return values

    for _ in range(buffer[1]):
        wall, t, count = take("IfB")
        robots = []
        for _ in range(count):
            (x, y, theta, distance, left, right, odometer, heading, r, g, b, colour, flags,
             points) = take("hhhHBBffBBBbBH")
            trail = [v / 10 for v in take("hh" * points)]
            if flags & 8:                      # the robot's pose is the new trail point
                trail += [x / 10, y / 10]
            (beeps,) = take("B")
            tones = [(hz, ms / 1000) for hz, ms in zip(*[iter(take("HH" * beeps))] * 2)]
            robots.append({"x": x / 10, "y": y / 10, "theta": theta / 10000,
                           "distance": distance / 10, "odometer": odometer,
                           "led": (r << 16) | (g << 8) | b, "mode": 1 if flags & 4 else 0,
                           "trail": trail, "beeps": tones})
        frames.append({"wall": wall, "t": t, "robots": robots})
    assert o == len(buffer), "nothing left over"
    return frames


class Kernel:
    """A real kernel and a client that keeps every iopub message."""

    def __init__(self, **env):
        # Named the way a Jupyter server names connection files, so the kernel knows its id.
        self.id = uuid.uuid4().hex
        self.folder = tempfile.mkdtemp(prefix="rl-k-")
        self.manager = KernelManager(kernel_name="python3",
                                     connection_file=f"{self.folder}/kernel-{self.id}.json")
        self.manager.start_kernel(env={**os.environ, "ROBOTLAB_PACE": "1", "ROBOTLAB_LANG": "da",
                                       **env})
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.messages = []

    @property
    def socket(self) -> str:
        return control.socket_path(self.manager.connection_file)

    def start(self, code: str) -> str:
        return self.client.execute(code)

    def collect(self, msg_id: str, until=None, timeout=60.0):
        """iopub messages of one request until it is idle (or ``until(messages)``)."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.client.get_iopub_msg(timeout=0.5)
            except Exception:
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            got.append(message)
            if until is not None and until(got):
                return got
            if message["msg_type"] == "status" and \
                    message["content"]["execution_state"] == "idle":
                return got
        raise AssertionError(f"kernel did not finish within {timeout} s")

    def hello(self):
        """Say what a browser says when it draws a view."""
        assert control.send(self.socket, {"action": "hello"})["ok"]

    def drain(self, msg_id: str, seconds: float):
        """Every iopub message of one request that arrives within ``seconds``."""
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                message = self.client.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
            except Exception:
                continue
            if message["parent_header"].get("msg_id") == msg_id:
                got.append(message)
        return got

    def run(self, code: str, timeout=60.0):
        return self.collect(self.start(code), timeout=timeout)

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def kernel():
    k = Kernel()
    yield k
    k.close()


def frames_in(messages):
    frames = []
    for m in messages:
        if m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "custom":
            assert m["content"]["data"]["content"] == {"k": "f"}
            frames += decode(m["buffers"][0])
    return frames


def errors_in(messages):
    return [m["content"] for m in messages if m["msg_type"] == "error"]


def stdout_of(messages):
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_view_labels_come_from_the_message_table(lang, monkeypatch):
    from robotlab.i18n import message
    from robotlab.view import LABEL_KEYS, labels
    monkeypatch.setenv("ROBOTLAB_LANG", lang)
    texts = labels()
    for key in LABEL_KEYS:
        assert texts[key] == message(f"view_{key}", lang=lang)
    assert texts["colours"]["blue"] == ("blå" if lang == "da" else "blue")
    assert texts["resume"] == ("Fortsæt" if lang == "da" else "Resume")


def test_a_robot_cell_shows_a_live_view_with_a_picture_for_places_without_widgets(kernel):
    messages = kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)")
    opens = [m for m in messages if m["msg_type"] == "comm_open"
             and m["content"]["data"]["state"].get("_anywidget_id") == "robotlab.view.WorldView"]
    assert len(opens) == 1
    state = opens[0]["content"]["data"]["state"]
    assert state["arena"]["name"] == "tom" and state["arena"]["floor"].startswith("data:image/png")
    assert state["labels"]["stop"] == "Stop" and state["labels"]["resume"] == "Fortsæt"
    assert state["kernel_id"] == kernel.id
    shown = [m for m in messages if m["msg_type"] == "display_data"]
    assert len(shown) == 1
    data = shown[0]["content"]["data"]
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == \
        opens[0]["content"]["comm_id"]
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")


def test_frames_stream_while_the_cell_runs_and_end_where_the_robot_stopped(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)\n"
               "start = robot._backend.body.x")
    kernel.hello()
    messages = kernel.run("robot.forward(30)\nprint(robot._backend.body.x - start)")
    frames = frames_in(messages)
    # About 30 frames a second for a two-second move; a busy machine may draw fewer.
    assert len(frames) >= 20
    xs = [f["robots"][0]["x"] for f in frames]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 25
    assert float(stdout_of(messages)) == pytest.approx(30, abs=1e-6)
    assert frames[-1]["robots"][0]["odometer"] == pytest.approx(30, abs=1e-3)
    assert frames[-1]["robots"][0]["x"] - frames[0]["robots"][0]["x"] <= 30.1
    times = [f["t"] for f in frames]
    assert times == sorted(times)
    walls = [f["wall"] for f in frames]
    assert walls == sorted(walls)
    # The trail arrives as new points only (mode 0 after the first frame).
    trail = [p for f in frames for p in f["robots"][0]["trail"]]
    assert len(trail) >= 2 * 20 and all(f["robots"][0]["mode"] == 0 for f in frames[1:])
    # This cell moved the robot, so it shows the view too, and its picture is renewed at the end.
    shown = [m for m in messages if m["msg_type"] == "display_data"]
    updated = [m for m in messages if m["msg_type"] == "update_display_data"]
    assert len(shown) == 1 and len(updated) == 1
    assert updated[0]["content"]["transient"]["display_id"] == \
        shown[0]["content"]["transient"]["display_id"]
    # A browser draws this view, so the picture comes only with the update at the end,
    # for the saved notebook: it shows where the robot stopped.
    assert "image/png" not in shown[0]["content"]["data"]
    assert "application/vnd.jupyter.widget-view+json" in updated[0]["content"]["data"]
    from simulator.pg import pygame
    picture = pygame.image.load(io.BytesIO(base64.b64decode(
        updated[0]["content"]["data"]["image/png"])))
    assert picture.get_width() == 480


def test_without_a_browser_the_views_become_pictures_after_the_first_cell(kernel):
    first = kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)")
    updated = [m["content"]["data"] for m in first if m["msg_type"] == "update_display_data"]
    # Nobody said hello within the wait: the first display is replaced by a picture.
    assert len(updated) == 1 and list(updated[0]) == ["image/png", "text/plain"] or \
        set(updated[0]) == {"image/png", "text/plain"}
    later = kernel.run("robot.forward(10)")
    shown = [m["content"]["data"] for m in later if m["msg_type"] == "display_data"]
    assert len(shown) == 1 and "application/vnd.jupyter.widget-view+json" not in shown[0]
    # A browser that says hello later gets live views again.
    kernel.hello()
    again = kernel.run("robot.forward(10)")
    shown = [m["content"]["data"] for m in again if m["msg_type"] == "display_data"]
    assert "application/vnd.jupyter.widget-view+json" in shown[0]


def test_beeps_and_the_led_reach_the_page_once(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)")
    frames = frames_in(kernel.run("robot.led('red')\nrobot.beep(440, 0.2, wait=False)\nrobot.wait(0.5)"))
    tones = [tuple(t) for f in frames for t in f["robots"][0]["beeps"]]
    assert tones == [(440, 0.2)]
    assert frames[-1]["robots"][0]["led"] == 0xFF0000


def test_a_frame_is_small(kernel):
    """Bytes per frame for one robot driving straight (the bench measures the wire)."""
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)")
    messages = kernel.run("robot.forward(20)")
    buffers = [len(m["buffers"][0]) for m in messages
               if m["msg_type"] == "comm_msg" and m["buffers"]]
    frames = frames_in(messages)
    assert sum(buffers) / len(frames) < 40


def test_the_stop_button_ends_a_long_move_while_the_cell_runs(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)")
    msg_id = kernel.start("robot.forward(500)\nprint('not reached')")
    kernel.collect(msg_id, until=lambda got: len(frames_in(got)) >= 15)
    reply = control.send(kernel.socket, {"action": "stop"})
    assert reply["ok"]
    messages = kernel.collect(msg_id, timeout=30)
    errors = errors_in(messages)
    assert [e["ename"] for e in errors] == ["RobotStoppedError"]
    assert "Du trykkede på Stop" in errors[0]["evalue"]
    assert "not reached" not in stdout_of(messages)
    after = kernel.run("print(robot.odometer())")
    assert 0 < float(stdout_of(after)) < 100


def test_stop_interrupts_pupil_code_that_does_not_use_the_robot(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)\nimport time")
    msg_id = kernel.start("robot.drive(30, 30)\nrobot.wait(0.2)\ntime.sleep(60)")
    kernel.collect(msg_id, until=lambda got: len(frames_in(got)) >= 3)
    time.sleep(0.3)
    assert control.send(kernel.socket, {"action": "stop"})["ok"]
    messages = kernel.collect(msg_id, timeout=30)
    assert [e["ename"] for e in errors_in(messages)] == ["KeyboardInterrupt"]
    # The robot was halted by the button, not left driving.
    first = float(stdout_of(kernel.run("print(robot.odometer())")))
    second = float(stdout_of(kernel.run("robot.wait(1)\nprint(robot.odometer())")))
    assert second == pytest.approx(first, abs=1e-6)


def test_stop_between_cells_halts_a_driving_robot_and_the_next_cell_runs(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)\nrobot.drive(40, 40)")
    assert control.send(kernel.socket, {"action": "stop"})["ok"]
    messages = kernel.run("before = robot.odometer()\nrobot.wait(1)\n"
                          "print(robot.odometer() - before)")
    assert not errors_in(messages)
    assert float(stdout_of(messages)) == 0.0


def test_pause_freezes_virtual_time_and_resume_finishes_the_move(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)")
    msg_id = kernel.start("robot.forward(40)\nprint(robot.odometer())")
    kernel.collect(msg_id, until=lambda got: len(frames_in(got)) >= 10)
    reply = control.send(kernel.socket, {"action": "pause"})
    assert reply["ok"] and reply["paused"] is True
    kernel.drain(msg_id, 0.4)            # frames taken before the pause may still arrive
    during = frames_in(kernel.drain(msg_id, 1.0))
    assert len({f["t"] for f in during}) <= 1     # virtual time stood still
    assert control.send(kernel.socket, {"action": "resume"})["ok"]
    rest = kernel.collect(msg_id, timeout=60)
    assert not errors_in(rest) and float(stdout_of(rest)) == pytest.approx(40, abs=1e-6)
    assert len(frames_in(rest)) >= 5


def test_speed_fastest_finishes_a_move_at_once(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)")
    msg_id = kernel.start("robot.forward(900)\nprint(robot.odometer())")
    got = kernel.collect(msg_id, until=lambda got: len(frames_in(got)) >= 5)
    reply = control.send(kernel.socket, {"action": "speed", "value": "max"})
    assert reply["ok"] and reply["speed"] == "max"
    got += kernel.collect(msg_id, timeout=60)
    frames = frames_in(got)
    assert float(stdout_of(got)) == pytest.approx(900, abs=1e-6)
    # At "fastest" the rest of the move is one jump of virtual time, not frames of 1/30 s.
    jumps = [b["t"] - a["t"] for a, b in zip(frames, frames[1:])]
    assert max(jumps) > 10
    widget_speed = [m for m in got if m["msg_type"] == "comm_msg"
                    and m["content"]["data"].get("method") == "update"
                    and m["content"]["data"]["state"].get("speed") == "max"]
    assert widget_speed


def test_reset_puts_the_robots_back_and_replaces_the_trail(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)\nrobot.forward(20)")
    assert control.send(kernel.socket, {"action": "reset"})["ok"]
    messages = kernel.run("print(robot.odometer())\nimport time; time.sleep(0.3)")
    assert float(stdout_of(messages)) == 0.0


def test_bad_control_requests_are_refused_and_the_listener_lives_on(kernel):
    kernel.run("from robotlab import Robot\nrobot = Robot(noise=False)")
    assert control.send(kernel.socket, {"action": "selfdestruct"}) == \
        {"ok": False, "error": "bad request"}
    assert control.send(kernel.socket, {"action": "speed", "value": "11"})["ok"] is False
    assert control.send(kernel.socket, {"action": "hello"})["ok"]
    assert oct(os.stat(kernel.socket).st_mode & 0o777) == "0o600"


def test_several_robots_in_one_world_share_one_view_in_distinct_colours(kernel):
    messages = kernel.run("from robotlab import Robot\nred = Robot(noise=False)\n"
                          "blue = Robot(noise=False, world=red)")
    views = [m for m in messages if m["msg_type"] == "comm_open"
             and m["content"]["data"]["state"].get("_anywidget_id") == "robotlab.view.WorldView"]
    assert len(views) == 1
    updates = [m["content"]["data"]["state"]["robots"] for m in messages
               if m["msg_type"] == "comm_msg" and "robots" in m["content"]["data"].get("state", {})]
    robots = updates[-1]
    assert len(robots) == 2 and robots[0]["colour"] != robots[1]["colour"]
    frames = [f for f in frames_in(kernel.run("blue.turn_left(90)")) if len(f["robots"]) == 2]
    assert len(frames) >= 10
    red_turns = {round(f["robots"][0]["theta"], 4) for f in frames}
    blue_turns = [f["robots"][1]["theta"] for f in frames]
    assert len(red_turns) == 1 and blue_turns[-1] - blue_turns[0] > 1.5


def test_without_a_widget_front_end_the_exported_html_shows_the_picture(tmp_path, monkeypatch):
    from nbconvert import HTMLExporter
    monkeypatch.setenv("ROBOTLAB_PACE", "max")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("from robotlab import Robot\nrobot = Robot()"),
                      nbformat.v4.new_code_cell("robot.forward(40)")]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    pictures = [o["data"]["image/png"] for c in notebook.cells for o in c.outputs
                if "image/png" in o.get("data", {})]
    assert len(pictures) == 2 and pictures[0] != pictures[1]
    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) == 2
    assert '<script type="application/vnd.jupyter.widget-view+json">' not in html
    from simulator.pg import pygame
    start = pygame.image.load(io.BytesIO(base64.b64decode(pictures[0])))
    end = pygame.image.load(io.BytesIO(base64.b64decode(pictures[1])))
    assert start.get_size() == end.get_size()
    assert pygame.image.tobytes(start, "RGB") != pygame.image.tobytes(end, "RGB")


def test_the_control_socket_is_removed_when_the_kernel_shuts_down():
    k = Kernel()
    try:
        k.run("from robotlab import Robot\nrobot = Robot()")
        path = k.socket
        assert os.path.exists(path)
        k.client.shutdown()               # a clean shutdown, as the server asks for
        deadline = time.monotonic() + 20
        while os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(path)
    finally:
        k.close()

"""The Connect panel in a real Chromium against a real JupyterLab: a robot next to the pupil,
the kernel on the server, the bytes through the browser (docs/relay.md).

The page's ``navigator.bluetooth`` is injected (``fake_bluetooth.py``): each GATT operation is
carried out in this process with bleak on a virtual radio, where a virtual robot
(``robotlab.emulate``) answers the RobotLab protocol and drives a simulated robot in real
time. The kernel runs with ``ROBOTLAB_BLE=browser``, so ``Robot("ble")`` goes through the
relay: kernel -> Jupyter server -> this page's WebSocket -> fake Web Bluetooth -> robot.

Waiting is done with Playwright's own waits (the fake's answers travel through Playwright).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from ble_bridge.messages import StopAll, encode
from ble_bridge.virtual import VirtualRadio
from robotlab.connect import LABEL_KEYS, labels
from robotlab.emulate import start_virtual_robots, stop_virtual_robots

from .fake_bluetooth import (BLOCKED_BY_POLICY, CANCELLED, PERMISSIONS_POLICY, FakeBluetooth,
                             robot_state)
from .harness import (CHROMIUM, CHROMIUM_ARGS, cell_output_locator, new_context, open_notebook,
                      recorded_page, run_cell, save_screenshot, start_jupyter_server,
                      wait_for_kernel_idle, wait_for_state, write_notebook)

STOP_FRAME = encode(StopAll(), 0)
DA, EN = labels("da"), labels("en")


@pytest.fixture(scope="module")
def relay_server(artifacts_dir, tmp_path_factory):
    """A real ``jupyter lab`` whose kernels take the browser path for ``Robot("ble")``."""
    with start_jupyter_server(tmp_path_factory.mktemp("connect-root"), artifacts_dir,
                              {"ROBOTLAB_BLE": "browser", "ROBOTLAB_VIRTUAL_ROBOTS": None},
                              state_dir=tmp_path_factory.mktemp("connect-state"),
                              log_name="jupyter-server-connect.log") as server:
        yield server


@pytest.fixture(scope="module")
def bt_browser(browser):
    """Chromium with Web Bluetooth switched on, as on a Chromebook."""
    launched = browser.browser_type.launch(
        executable_path=str(CHROMIUM), timeout=60_000,
        args=[*CHROMIUM_ARGS, "--enable-blink-features=WebBluetooth"])
    yield launched
    launched.close()


@pytest.fixture
def radio():
    with VirtualRadio() as virtual_radio:
        yield virtual_radio


@pytest.fixture
def robot(radio):
    """RobotLab-07 on the open floor, without noise, in real time."""
    robots = start_virtual_robots(radio, 1, noise=False)
    yield robots[0]
    stop_virtual_robots(robots)


@pytest.fixture
def bluetooth(radio):
    with FakeBluetooth(radio) as fake:
        yield fake


@pytest.fixture
def bt_page(bt_browser, relay_server, artifacts_dir, request):
    """A fresh page (no fake yet: install one before opening a notebook)."""
    with recorded_page(bt_browser, request, artifacts_dir) as page:
        yield page
        relay_server.check_alive()
        relay_server.shutdown_kernels()


def panel_in(page, index: int):
    panel = cell_output_locator(page, index).locator(".robotlab-connect").first
    panel.wait_for(state="visible", timeout=30_000)
    return panel


def shown_message(panel) -> tuple[str, str]:
    message = panel.locator(".robotlab-connect-message")
    return message.get_attribute("data-key"), message.text_content()


def wait_for_message(page, panel, key: str, timeout_ms: float = 15_000) -> str:
    page.wait_for_function(
        "([el, key]) => el.querySelector('.robotlab-connect-message').dataset.key === key",
        arg=[panel.element_handle(), key], timeout=timeout_ms)
    return shown_message(panel)[1]


# -- what the pupil is told when the robot cannot be reached ---------------------------------

PANEL_CELL = ("set_language({lang!r})\n"
              "ConnectPanel(kernel_id='k', token='t', wanted='RobotLab-07', "
              f"stop_frame=bytes.fromhex({STOP_FRAME.hex()!r}))")

#: (language, how the fake behaves, the message shown, shown before any click)
MESSAGES = [
    ("da", {"mode": "missing"}, "no_web_bluetooth", True),
    ("da", {"mode": "reject", "error": BLOCKED_BY_POLICY}, "blocked", False),
    ("da", {"mode": "reject", "error": PERMISSIONS_POLICY, "availability_error": True},
     "blocked", True),
    ("da", {"mode": "reject", "error": CANCELLED}, "cancelled", False),
    ("en", {"mode": "reject", "error": CANCELLED}, "cancelled", False),
]


def test_the_pupil_is_told_why_the_robot_cannot_be_reached(bt_page, relay_server, bluetooth):
    """Web Bluetooth missing (not Chrome, or not https), blocked by the school's policy (Chrome
    rejects; or says so before the click), the chooser cancelled: in Danish, and in English."""
    bluetooth.install(bt_page)
    name = write_notebook(relay_server, "beskeder.ipynb", [
        "from robotlab import set_language\nfrom robotlab.connect import ConnectPanel",
        *(PANEL_CELL.format(lang=lang) for lang, *_ in MESSAGES)])
    open_notebook(bt_page, relay_server, name)
    run_cell(bt_page, 0)
    for index, (lang, fake, key, at_once) in enumerate(MESSAGES, start=1):
        bluetooth.configure(bt_page, **fake)
        run_cell(bt_page, index)
        panel = panel_in(bt_page, index)
        texts = DA if lang == "da" else EN
        button = panel.locator("button.robotlab-connect-button")
        assert button.text_content() == texts["button"]
        assert panel.locator(".robotlab-connect-title").text_content() == texts["title"]
        if not at_once:
            assert shown_message(panel) == ("hint_named",
                                            texts["hint_named"].format(name="RobotLab-07"))
            button.click()
        assert wait_for_message(bt_page, panel, key) == texts[key], (lang, fake)
        # Shown as a problem, and nothing is connected.
        assert "robotlab-connect-problem" in \
            panel.locator(".robotlab-connect-message").get_attribute("class")
        assert panel.get_attribute("data-state") == "idle"
        assert panel.locator(".robotlab-connect-state").text_content() == texts["state_idle"]
        assert panel.locator("button.robotlab-connect-stop").is_hidden()
        assert button.is_disabled() == (key == "no_web_bluetooth")
        save_screenshot(bt_page, f"connect-panel-{key}-{lang}")
    assert not bluetooth.connected()


def test_the_panel_labels_come_from_the_message_table():
    for lang, texts in (("da", DA), ("en", EN)):
        assert set(texts) == {key[len("connect_"):] for key in LABEL_KEYS}
        assert all(text.strip() for text in texts.values()), lang
    assert DA["button"] == "Forbind" and EN["button"] == "Connect"
    assert {key for key in DA if DA[key] == EN[key]} == set()


# -- a whole lesson with a robot next to the pupil ----------------------------------------------

SCENARIO = [
    'from robotlab import Robot\nrobot = Robot("ble", name="RobotLab-07")\nrobot.speed = 100\n'
    'print("robot klar")',
    # A square: back where it started, facing the same way.
    "for side in range(4):\n    robot.forward(15)\n    robot.turn_left(90)\nprint('firkant')",
    # A sensor loop: readings come from the robot's telemetry, through the browser.
    "robot.reset()\nmålinger = []\nrobot.drive(60, 60)\nwhile robot.odometer() < 10:\n"
    "    målinger.append(robot.distance())\nrobot.stop()\nprint('målinger', len(målinger))",
    "robot.forward(300)\nprint('kom helt frem')",       # stopped with the panel's Stop
    "robot.forward(300)\nprint('kom helt frem')",       # the robot drops the link mid-move
    "robot.forward(10)\nprint('kører igen')",           # after the tab was reloaded
]


def wait_for_robot(page, robot, ready, what: str, timeout_s: float = 15.0, *,
                   read=robot_state) -> dict:
    """Poll the virtual robot's ``read(robot)`` until ``ready`` (Playwright's waits, so the
    fake's answers keep flowing)."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = read(robot)
        if ready(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; robot: {state}")
        page.wait_for_timeout(50)


def wait_for_panel_state(page, panel, state: str, timeout_ms: float = 20_000) -> None:
    page.wait_for_function("([el, state]) => el.dataset.state === state",
                           arg=[panel.element_handle(), state], timeout=timeout_ms)


def printed(page, index: int) -> str:
    """Everything in cell ``index``'s output (printed text, errors, the panel)."""
    return cell_output_locator(page, index).text_content()


def stdout(page, index: int) -> str:
    """What cell ``index`` printed."""
    return "".join(cell_output_locator(page, index).locator(
        '[data-mime-type="application/vnd.jupyter.stdout"]').all_text_contents())


def test_a_pupil_drives_the_robot_next_to_the_chromebook(bt_page, relay_server, bluetooth, robot):
    bluetooth.install(bt_page)
    name = write_notebook(relay_server, "robot-ved-siden-af.ipynb", SCENARIO)
    open_notebook(bt_page, relay_server, name)
    start = robot_state(robot)

    # Robot("ble") shows the panel and waits; the pupil clicks Forbind and chooses the robot.
    run_cell(bt_page, 0, wait=False)
    panel = panel_in(bt_page, 0)
    assert shown_message(panel)[0] == "hint_named"
    panel.locator("button.robotlab-connect-button").click()
    wait_for_panel_state(bt_page, panel, "connected")
    wait_for_kernel_idle(bt_page, timeout=30)
    assert "robot klar" in printed(bt_page, 0), printed(bt_page, 0)
    assert panel.locator(".robotlab-connect-robot").text_content() == f"{DA['robot']}: RobotLab-07"
    assert panel.locator(".robotlab-connect-battery").text_content().startswith(DA["battery"])
    assert panel.locator(".robotlab-connect-state").text_content().startswith(DA["state_connected"])
    assert panel.locator("button.robotlab-connect-stop").is_visible()
    requested = bt_page.evaluate("window.__robotlabFakeBluetooth.log.find(e => e[0] === 'requestDevice')[1]")
    assert {"namePrefix": "RobotLab"} in requested["filters"]
    assert "battery_service" in requested["optionalServices"]

    # The square: the robot ends where it started, facing the same way, standing still.
    run_cell(bt_page, 1, timeout=40)
    assert "firkant" in printed(bt_page, 1)
    square = wait_for_robot(bt_page, robot, lambda s: not s["moving"], "the square to end")
    assert abs(square["x"] - start["x"]) < 2 and abs(square["y"] - start["y"]) < 2, square
    turned = square["heading"] % 360
    assert square["odometer"] > 55 and min(turned, 360 - turned) < 3, square

    # The sensor loop: many readings while it drives 10 cm, then it stops.
    run_cell(bt_page, 2, timeout=30)
    readings = int(printed(bt_page, 2).split("målinger")[1].split()[0])
    loop = wait_for_robot(bt_page, robot, lambda s: not s["moving"], "the loop's robot.stop()")
    assert readings >= 5
    assert 9 <= abs(loop["x"] - square["x"]) + abs(loop["y"] - square["y"]) <= 16, loop

    # Stop in the panel, mid-move: STOP_ALL goes straight from the browser to the robot.
    run_cell(bt_page, 3, wait=False)
    wait_for_robot(bt_page, robot, lambda s: s["moving"], "the long move to start")
    panel.locator("button.robotlab-connect-stop").click()
    stopped = wait_for_robot(bt_page, robot, lambda s: not s["moving"], "Stop to stop the robot",
                             timeout_s=2)
    wait_for_kernel_idle(bt_page, timeout=20)
    assert STOP_FRAME in bluetooth.writes_to("RobotLab-07")
    output = printed(bt_page, 3)
    assert "Du trykkede på Stop" in output and "kom helt frem" not in stdout(bt_page, 3), output
    assert shown_message(panel) == ("stopped", DA["stopped"])
    assert abs(stopped["x"] - loop["x"]) + abs(stopped["y"] - loop["y"]) < 250

    # The robot drops the link mid-move (out of range): it stops by itself, the panel
    # reconnects GATT, and the pupil is told to run the cell again.
    run_cell(bt_page, 4, wait=False)
    wait_for_robot(bt_page, robot, lambda s: s["moving"], "the second long move to start")
    robot.drop_link()
    dropped = wait_for_robot(bt_page, robot, lambda s: not s["moving"],
                             "the robot to stop when its link drops", timeout_s=2)
    wait_for_kernel_idle(bt_page, timeout=30)
    output = printed(bt_page, 4)
    assert "kom helt frem" not in stdout(bt_page, 4), output
    assert "var væk et øjeblik" in output or "er væk" in output, output
    wait_for_panel_state(bt_page, panel, "connected")
    assert not robot_state(robot)["moving"]
    assert abs(dropped["x"] - stopped["x"]) + abs(dropped["y"] - stopped["y"]) < 250
    save_screenshot(bt_page, "connect-panel-connected")

    # The tab is reloaded: the link drops with the page and the robot stands still. The
    # saved notebook shows the panel again; one click pairs with the tab's resume token.
    bt_page.keyboard.press("Control+s")
    bt_page.wait_for_timeout(500)
    open_notebook(bt_page, relay_server, name)
    assert wait_for_robot(bt_page, robot, lambda s: not s["connected"],
                          "the reloaded tab's link to drop", timeout_s=5)["moving"] is False
    panel = panel_in(bt_page, 0)
    panel.locator("button.robotlab-connect-button").click()
    wait_for_panel_state(bt_page, panel, "connected")
    before = robot_state(robot)
    run_cell(bt_page, 5, timeout=30)
    assert "kører igen" in printed(bt_page, 5), printed(bt_page, 5)
    after = wait_for_robot(bt_page, robot, lambda s: not s["moving"], "the last move to end")
    assert 9 <= abs(after["x"] - before["x"]) + abs(after["y"] - before["y"]) <= 12


# -- what the pupil is told when the other end goes away --------------------------------------

def kernel_id_of(server, name: str) -> str:
    return next(s["kernel"]["id"] for s in server.sessions() if s.get("path") == name)


def writes_since(bluetooth, count: int) -> list[bytes]:
    return [data for robot, data in list(bluetooth.writes)[count:] if robot == "RobotLab-07"]


def assert_problem(panel, key: str, state: str = "idle") -> None:
    assert shown_message(panel) == (key, DA[key])
    assert "robotlab-connect-problem" in \
        panel.locator(".robotlab-connect-message").get_attribute("class")
    assert panel.get_attribute("data-state") == state
    assert panel.locator(".robotlab-connect-state").text_content() == DA[f"state_{state}"]


def connect_by_click(page, panel) -> None:
    panel.locator("button.robotlab-connect-button").click()
    wait_for_panel_state(page, panel, "connected")


KERNEL_DIES = [
    'import os\nfrom robotlab import Robot\nrobot = Robot("ble", name="RobotLab-07")\n'
    'robot.speed = 100\nprint("pid", os.getpid())',
    "robot.forward(200)\nprint('kom helt frem')",
]


def test_the_kernel_dies_mid_move(bt_page, relay_server, bluetooth, robot):
    """The kernel process is killed (SIGKILL) while the robot drives: the panel writes
    STOP_ALL, lets go of the robot and tells the pupil to run the cell again. Its button,
    pressed again before the cell is run in the restarted kernel (no relay listener: close
    4404), says the same."""
    bluetooth.install(bt_page)
    name = write_notebook(relay_server, "kernen-dør.ipynb", KERNEL_DIES)
    open_notebook(bt_page, relay_server, name)
    run_cell(bt_page, 0, wait=False)
    panel = panel_in(bt_page, 0)
    connect_by_click(bt_page, panel)
    wait_for_kernel_idle(bt_page, timeout=30)
    pid = int(stdout(bt_page, 0).split("pid")[1].split()[0])

    run_cell(bt_page, 1, wait=False)
    wait_for_robot(bt_page, robot, lambda s: s["moving"], "the long move to start")
    bt_page.wait_for_function("(el) => el.dataset.kernel === 'moving'",
                              arg=panel.element_handle(), timeout=5_000)
    assert panel.locator(".robotlab-connect-state").text_content() == \
        f"{DA['state_connected']} · {DA['moving']}"
    written, logged = len(bluetooth.writes), len(bluetooth.log)
    os.kill(pid, signal.SIGKILL)

    assert wait_for_message(bt_page, panel, "kernel_gone", timeout_ms=5_000) == DA["kernel_gone"]
    assert_problem(panel, "kernel_gone")
    # The heartbeats stop too, but the robot does not wait for its watchdog: the panel wrote
    # STOP_ALL (while still connected: a write after the disconnect is not carried out) and
    # then let go of the robot.
    assert STOP_FRAME in writes_since(bluetooth, written)
    wait_for_robot(bt_page, robot, lambda s: not s["connected"], "the panel to let go", 5)
    assert ("disconnect", "RobotLab-07") in bluetooth.log[logged:]
    assert not bluetooth.connected()
    still = wait_for_robot(bt_page, robot, lambda s: not s["moving"], "the robot to stop", 2)
    assert still["wheels"] == (0, 0) and still["watchdog_trips"] == 0, still
    bt_page.wait_for_timeout(300)
    later = robot_state(robot)
    assert (later["x"], later["y"], later["heading"], later["moving"]) == \
        (still["x"], still["y"], still["heading"], False), (still, later)
    assert "kom helt frem" not in stdout(bt_page, 1)
    save_screenshot(bt_page, "connect-panel-kernel_gone-da")

    # Jupyter restarts the dead kernel (same id). The pupil clicks Forbind on the old panel:
    # the new kernel has no relay listener yet (4404), and the pupil is told the same.
    wait_for_state(bt_page, lambda s: s["status"] == "idle", 30, "the kernel to restart")
    pairings = len(bt_page.evaluate("window.__robotlabFakeBluetooth.log"))
    panel.locator("button.robotlab-connect-button").click()
    bt_page.wait_for_function(
        "([el, n]) => window.__robotlabFakeBluetooth.log.length > n"
        " && el.dataset.state === 'idle'", arg=[panel.element_handle(), pairings],
        timeout=15_000)
    assert_problem(panel, "kernel_gone")
    wait_for_robot(bt_page, robot, lambda s: not s["connected"], "the panel to let go again", 5)


ONE_TAB = [
    'from robotlab import Robot\nrobot = Robot("ble", name="RobotLab-07")\nprint("klar")',
    # A second robot is wanted; the pupil picks the one already connected in the chooser.
    'robot2 = Robot("ble", name="RobotLab-08")',
    "robot.forward(10)\nprint('stadig forbundet')",
    "robot.close()\nprint('lukket')",
]


def test_one_robot_one_tab(bt_page, relay_server, bluetooth, robot):
    """The messages of the Connect panel's pairing and link, each from its real situation:
    the robot already driven from another panel (busy), the pupil's code closing the robot
    (closed), the robot away for longer than the panel's 10 s of reconnecting (gatt_gone),
    and an old button in a newly opened tab (refused: its token is used)."""
    bluetooth.install(bt_page)
    name = write_notebook(relay_server, "en-robot-en-fane.ipynb", ONE_TAB)
    open_notebook(bt_page, relay_server, name)
    run_cell(bt_page, 0, wait=False)
    first = panel_in(bt_page, 0)
    connect_by_click(bt_page, first)
    wait_for_kernel_idle(bt_page, timeout=30)

    # busy: the second panel pairs for RobotLab-07, which the first panel holds.
    run_cell(bt_page, 1, wait=False)
    second = panel_in(bt_page, 1)
    assert shown_message(second) == ("hint_named", DA["hint_named"].format(name="RobotLab-08"))
    second.locator("button.robotlab-connect-button").click()
    assert wait_for_message(bt_page, second, "busy") == DA["busy"]
    assert_problem(second, "busy")
    # ... and the first panel's link is untouched.
    assert first.get_attribute("data-state") == "connected"
    assert bluetooth.connected() == ["RobotLab-07"]
    assert ("disconnect", "RobotLab-07") not in bluetooth.log
    relay_server.api("POST", f"api/kernels/{kernel_id_of(relay_server, name)}/interrupt")
    wait_for_kernel_idle(bt_page, timeout=20)
    before = robot_state(robot)
    run_cell(bt_page, 2, timeout=20)
    assert "stadig forbundet" in stdout(bt_page, 2), printed(bt_page, 2)
    after = wait_for_robot(bt_page, robot, lambda s: not s["moving"], "the move to end")
    assert 9 <= abs(after["x"] - before["x"]) + abs(after["y"] - before["y"]) <= 12

    # gatt_gone: the robot is switched off; the panel tries again for 10 s, then gives up.
    robot.peripheral.stop()
    wait_for_panel_state(bt_page, first, "reconnecting", timeout_ms=5_000)
    assert first.locator(".robotlab-connect-state").text_content() == DA["state_reconnecting"]
    lost_at = time.monotonic()
    assert wait_for_message(bt_page, first, "gatt_gone", timeout_ms=15_000) == DA["gatt_gone"]
    assert 9 <= time.monotonic() - lost_at <= 12
    assert_problem(first, "gatt_gone", state="lost")

    # closed: the robot is back; one click pairs again (the tab's resume token), and the
    # pupil's robot.close() lets go of it.
    robot.peripheral.start()
    connect_by_click(bt_page, first)
    run_cell(bt_page, 3, timeout=20)
    assert "lukket" in stdout(bt_page, 3), printed(bt_page, 3)
    assert wait_for_message(bt_page, first, "closed", timeout_ms=5_000) == DA["closed"]
    assert_problem(first, "closed")
    wait_for_robot(bt_page, robot, lambda s: not s["connected"], "the panel to let go", 5)

    # refused: the notebook opened in a new tab shows the first panel again, whose token
    # was used, and the new tab has no resume token.
    bt_page.keyboard.press("Control+s")
    bt_page.wait_for_timeout(500)
    context = new_context(bt_page.context.browser)
    try:
        tab = context.new_page()
        bluetooth.install(tab)
        open_notebook(tab, relay_server, name)
        old = panel_in(tab, 0)
        old.locator("button.robotlab-connect-button").click()
        assert wait_for_message(tab, old, "refused") == DA["refused"]
        assert_problem(old, "refused")
        wait_for_robot(tab, robot, lambda s: not s["connected"], "the new tab to let go", 5)
    finally:
        context.close()


def test_a_server_without_the_relay(bt_page, bluetooth, robot, artifacts_dir, tmp_path):
    """RobotLab is in the kernel but its server extension is not loaded (the WebSocket's
    upgrade is answered 404): the pupil is told to ask the teacher, and the robot is let go."""
    state = tmp_path / "state"
    (state / "jupyter-config").mkdir(parents=True)
    (state / "jupyter-config" / "jupyter_server_config.json").write_text(
        '{"ServerApp": {"jpserver_extensions": {"robotlab.server": false}}}', encoding="utf-8")
    (tmp_path / "root").mkdir()
    with start_jupyter_server(tmp_path / "root", artifacts_dir,
                              {"ROBOTLAB_BLE": "browser", "ROBOTLAB_VIRTUAL_ROBOTS": None},
                              state_dir=state, log_name="jupyter-server-no-relay.log") as server:
        bluetooth.install(bt_page)
        name = write_notebook(server, "uden-relæ.ipynb", [
            'from robotlab import Robot\nrobot = Robot("ble", name="RobotLab-07")'])
        open_notebook(bt_page, server, name)
        run_cell(bt_page, 0, wait=False)
        panel = panel_in(bt_page, 0)
        panel.locator("button.robotlab-connect-button").click()
        assert wait_for_message(bt_page, panel, "no_relay") == DA["no_relay"]
        assert_problem(panel, "no_relay")
        wait_for_robot(bt_page, robot, lambda s: not s["connected"], "the panel to let go", 5)
        assert ("connect", "RobotLab-07") in bluetooth.log
        assert not bluetooth.connected()
        save_screenshot(bt_page, "connect-panel-no_relay-da")

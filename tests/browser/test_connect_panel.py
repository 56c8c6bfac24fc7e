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

import time

import pytest

from ble_bridge.messages import StopAll, encode
from ble_bridge.virtual import VirtualRadio
from robotlab.connect import LABEL_KEYS, labels
from robotlab.emulate import start_virtual_robots, stop_virtual_robots

from .fake_bluetooth import (BLOCKED_BY_POLICY, CANCELLED, PERMISSIONS_POLICY, FakeBluetooth,
                             robot_state)
from .harness import (CHROMIUM, CHROMIUM_ARGS, _artifact_name, cell_output_locator,
                      collect_console, new_context, open_notebook, run_cell, save_screenshot,
                      start_jupyter_server, wait_for_kernel_idle, write_notebook)

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
    context = new_context(bt_browser)
    page = context.new_page()
    console = collect_console(page)
    try:
        yield page
    finally:
        report = getattr(request.node, "_browser_report_call", None)
        if report is not None and report.failed:
            stem = _artifact_name(request.node.name) + "-failed"
            save_screenshot(page, stem, artifacts_dir)
            (artifacts_dir / f"{stem}-console.log").write_text("\n".join(console) + "\n",
                                                              encoding="utf-8")
        context.close()
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


def wait_for_robot(page, robot, ready, what: str, timeout_s: float = 15.0) -> dict:
    """Poll the virtual robot (Playwright's waits, so the fake's answers keep flowing)."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = robot_state(robot)
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

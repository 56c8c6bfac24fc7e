"""A LEGO hub next to the pupil's Chromebook, the kernel on the server: LEGO Wireless Protocol 3.0
through the Connect panel, in a real Chromium against a real JupyterLab (docs/relay.md, docs/lego.md).

As in ``test_connect_panel.py``, the page's ``navigator.bluetooth`` is injected
(``fake_bluetooth.py``) and carries each GATT operation out with bleak on a virtual radio;
here a virtual LWP3 hub answers (``robotlab.emulate.start_virtual_hubs``: Bumble's GATT
server, LEGO's advertising, a simulated two-motor drive base in real time). The kernel runs
with ``ROBOTLAB_BLE=browser``: ``Robot("lego")`` and ``Robot("ble")`` go kernel -> Jupyter
server -> this page's WebSocket -> fake Web Bluetooth -> hub. The pupil's scripts are the
same as on the simulator, which runs them in this process for comparison.
"""

from __future__ import annotations

import inspect
import os
import signal

import pytest

from ble_bridge.lwp3 import HUB_SERVICE_UUID, messages as lwp3
from ble_bridge.relay.bleak_backend import hub_stop_frames
from robotlab import Robot
from robotlab.backends.lego import LEASE_S
from robotlab.colours import RGB
from robotlab.emulate import start_virtual_hubs, stop_virtual_hubs

from tests.robotlab.test_lego_robot import follow_line, square

from .harness import open_notebook, run_cell, save_screenshot, wait_for_kernel_idle, write_notebook
from .test_connect_panel import (DA, assert_problem, bluetooth, bt_browser, bt_page,  # noqa: F401
                                 connect_by_click, panel_in, printed, radio, relay_server,
                                 shown_message, stdout, wait_for_message, wait_for_panel_state,
                                 wait_for_robot)

HUB = "Technic Hub"
#: What the panel's Stop writes to the Technic drive base: StartPower(0) on ports A and B.
STOP_FRAMES = [bytes.fromhex(frame) for frame in hub_stop_frames({0, 1})]


def on_hub(hub, read):
    """``read(body)`` on the radio loop, where the hub's drive base lives."""
    return hub.on_radio(lambda: read(hub.body))


def hub_state(hub) -> dict:
    def read(body):
        robot = body.robot
        return {"x": robot.x, "y": robot.y, "heading": robot.heading_deg,
                "moving": robot.moving, "connected": hub.is_connected, "light": body.light}
    return on_hub(hub, read)


def wait_for_hub(page, hub, ready, what: str, timeout_s: float = 15.0) -> dict:
    """Poll the virtual hub (Playwright's waits, so the fake's answers keep flowing)."""
    return wait_for_robot(page, hub, ready, what, timeout_s, read=hub_state)


def requested_filters(page) -> dict:
    return page.evaluate(
        "window.__robotlabFakeBluetooth.log.filter(e => e[0] === 'requestDevice').at(-1)[1]")


def writes_since(bluetooth, count: int) -> list[bytes]:
    return [data for name, data in list(bluetooth.writes)[count:] if name == HUB]


@pytest.fixture
def hubs(radio):
    started = []

    def start(**options):
        options.setdefault("noise", False)
        started.extend(start_virtual_hubs(radio, 1, **options))
        return started[-1]
    yield start
    stop_virtual_hubs(started)


# -- the pupil's scripts: those of tests/robotlab/test_lego_robot.py, as cells ----------------------

SQUARE, FOLLOW_LINE = (inspect.getsource(script) for script in (square, follow_line))


def simulated(script, **options):
    """Run a script on the simulator in this process (unpaced); the robot."""
    robot = Robot(profile="lego-technic", noise=False, **options)
    script(robot)
    return robot


LESSON = [
    'from robotlab import Robot\nrobot = Robot("lego")\nprint("hub klar")',
    SQUARE + "heading, odometer = square(robot)\nprint('firkant', round(heading, 1), round(odometer, 1))",
    FOLLOW_LINE + "robot.reset()\nfollow_line(robot)\nprint('linje', robot.line())",
    "robot.forward(300)\nprint('kom helt frem')",       # stopped with the panel's Stop
    "robot.drive(-40, -40)\nprint('kører')",            # drives on after the cell: Stop
    "robot.forward(300)\nprint('kom helt frem')",       # the hub drops the link mid-move
    'robot.led("grøn")\nrobot.forward(10)\nprint("kører igen")',
    'robot = Robot("lego")\nrobot.forward(5)\nprint("ny robot")',
    "robot.close()\nprint('lukket')",
]


def test_a_pupil_drives_a_lego_hub_next_to_the_chromebook(bt_page, relay_server, bluetooth, hubs):
    """Discovery, each kind of command, sensor notifications, a square and a line-following
    script as on the simulator, Stop, the hub dropping the link mid-move, a re-run cell, close."""
    hub = hubs(arena="linje", sensors={"C": "colour", "D": "colour"})
    hub.set_battery(64)
    bluetooth.install(bt_page)
    name = write_notebook(relay_server, "lego-ved-siden-af.ipynb", LESSON)
    open_notebook(bt_page, relay_server, name)
    start = hub_state(hub)

    # Robot("lego") shows the panel; its chooser lists LEGO hubs only.
    run_cell(bt_page, 0, wait=False)
    panel = panel_in(bt_page, 0)
    assert shown_message(panel)[0] == "hint"
    connect_by_click(bt_page, panel)
    wait_for_kernel_idle(bt_page, timeout=30)
    assert "hub klar" in stdout(bt_page, 0), printed(bt_page, 0)
    requested = requested_filters(bt_page)
    assert requested["filters"] == [{"services": [HUB_SERVICE_UUID]}], requested
    assert panel.locator(".robotlab-connect-robot").text_content() == f"{DA['robot']}: {HUB}"
    # The battery is the hub's own property (a LEGO hub has no Battery Service), and the
    # hub's updates reach the panel.
    battery = panel.locator(".robotlab-connect-battery")
    assert battery.text_content() == f"{DA['battery']}: 64 %"
    hub.set_battery(63)
    bt_page.wait_for_function("(el) => el.textContent.endsWith(': 63 %')",
                              arg=battery.element_handle(), timeout=5_000)
    save_screenshot(bt_page, "connect-panel-lego-connected")

    # The square: the same as on the simulator, and back where it started.
    run_cell(bt_page, 1, timeout=60)
    heading, odometer = map(float, stdout(bt_page, 1).split("firkant")[1].split()[:2])
    sim = simulated(square, arena="linje")
    drawn = wait_for_hub(bt_page, hub, lambda s: not s["moving"], "the square to end")
    assert heading == pytest.approx(sim.heading(), abs=2.0)
    assert odometer == pytest.approx(sim.odometer(), abs=0.5)
    sim_body = sim._backend.body
    assert drawn["x"] == pytest.approx(sim_body.x, abs=0.5), drawn
    assert drawn["y"] == pytest.approx(sim_body.y, abs=0.5), drawn
    assert (drawn["x"], drawn["y"]) == (pytest.approx(start["x"], abs=0.5),
                                         pytest.approx(start["y"], abs=0.5))

    # Line following: colour sensor values arrive as the hub's notifications, through the tab.
    run_cell(bt_page, 2, timeout=60)
    assert "linje" in stdout(bt_page, 2), printed(bt_page, 2)
    followed = wait_for_hub(bt_page, hub, lambda s: not s["moving"], "the line to end")
    sim = simulated(follow_line, arena="linje")
    sim_body = sim._backend.body
    arena_start = sim._backend.world.arena.start
    assert sim_body.x > arena_start.x_cm + 20
    assert followed["x"] == pytest.approx(sim_body.x, abs=5.0), followed
    assert followed["y"] == pytest.approx(sim_body.y, abs=1.5), followed

    # Stop in the panel, mid-move: StartPower(0) on both motors, straight from the browser.
    run_cell(bt_page, 3, wait=False)
    wait_for_hub(bt_page, hub, lambda s: s["moving"], "the long move to start")
    bt_page.wait_for_function("(el) => el.dataset.kernel === 'moving'",
                              arg=panel.element_handle(), timeout=5_000)
    written = len(bluetooth.writes)
    panel.locator("button.robotlab-connect-stop").click()
    stopped = wait_for_hub(bt_page, hub, lambda s: not s["moving"], "Stop to stop the hub", 2)
    wait_for_kernel_idle(bt_page, timeout=20)
    assert writes_since(bluetooth, written)[:2] == STOP_FRAMES
    output = printed(bt_page, 3)
    assert "Du trykkede på Stop" in output and "kom helt frem" not in stdout(bt_page, 3), output
    assert shown_message(panel) == ("stopped", DA["stopped"])
    bt_page.wait_for_function("(el) => el.dataset.kernel === 'ready'",
                              arg=panel.element_handle(), timeout=5_000)

    # A drive goes on after its cell has ended (its lease renewed by the kernel): Stop ends it
    # for good, not just until the next renewal.
    run_cell(bt_page, 4, timeout=20)
    assert "kører" in stdout(bt_page, 4)
    wait_for_hub(bt_page, hub, lambda s: s["moving"], "the drive to start")
    bt_page.wait_for_timeout(2 * LEASE_S * 1000)           # renewed past two leases
    wait_for_hub(bt_page, hub, lambda s: s["moving"], "the renewed drive", 2)
    panel.locator("button.robotlab-connect-stop").click()
    stopped = wait_for_hub(bt_page, hub, lambda s: not s["moving"], "Stop to stop the drive", 2)
    bt_page.wait_for_timeout(1.5 * LEASE_S * 1000)
    still = hub_state(hub)
    assert (still["x"], still["y"], still["moving"]) == (stopped["x"], stopped["y"], False)

    # The hub drops the link mid-move (out of range). It has no watchdog and would drive on:
    # the panel reconnects GATT and brakes the motors first, the kernel finds the hub again
    # (and brakes them too), and the pupil is told to run the cell again.
    run_cell(bt_page, 5, wait=False)
    wait_for_hub(bt_page, hub, lambda s: s["moving"], "the second long move to start")
    written = len(bluetooth.writes)
    hub.drop_link()
    wait_for_kernel_idle(bt_page, timeout=30)
    output = printed(bt_page, 5)
    assert "kom helt frem" not in stdout(bt_page, 5), output
    assert "var væk et øjeblik" in output and "Kør cellen igen" in output, output
    wait_for_panel_state(bt_page, panel, "connected")
    dropped = wait_for_hub(bt_page, hub, lambda s: not s["moving"], "the panel to brake", 5)
    assert writes_since(bluetooth, written)[:2] == STOP_FRAMES
    assert abs(dropped["x"] - stopped["x"]) + abs(dropped["y"] - stopped["y"]) < 250

    # The next cell goes on with the same robot; the light and a move work.
    before = hub_state(hub)
    run_cell(bt_page, 6, timeout=30)
    assert "kører igen" in stdout(bt_page, 6), printed(bt_page, 6)
    after = wait_for_hub(bt_page, hub, lambda s: not s["moving"], "the move to end")
    assert 9 <= abs(after["x"] - before["x"]) + abs(after["y"] - before["y"]) <= 11
    assert after["light"] == RGB["green"]

    # Robot("lego") run again: the tab still holds the hub, so no click.
    requests = len(bt_page.evaluate("window.__robotlabFakeBluetooth.log"))
    run_cell(bt_page, 7, timeout=30)
    assert "ny robot" in stdout(bt_page, 7), printed(bt_page, 7)
    assert len(bt_page.evaluate("window.__robotlabFakeBluetooth.log")) == requests
    again = wait_for_hub(bt_page, hub, lambda s: not s["moving"], "the last move to end")
    assert 4 <= abs(again["x"] - after["x"]) + abs(again["y"] - after["y"]) <= 6

    # robot.close(): the motors stop and the panel lets go of the hub.
    run_cell(bt_page, 8, timeout=20)
    assert "lukket" in stdout(bt_page, 8), printed(bt_page, 8)
    assert wait_for_message(bt_page, panel, "closed", timeout_ms=5_000) == DA["closed"]
    wait_for_hub(bt_page, hub, lambda s: not s["connected"], "the panel to let go", 5)


BLE_FINDS_A_HUB = [
    'import os\nfrom robotlab import Robot\nrobot = Robot("ble")\n'
    'print("pid", os.getpid(), type(robot._backend).__name__)\n'
    'print("målt", robot.distance(), robot.color())',
    "robot.drive(60, 60)\nrobot.wait(30)\nprint('kørte færdig')",
]


def test_robot_ble_finds_a_lego_hub_and_the_kernel_dies_mid_drive(bt_page, relay_server,
                                                                  bluetooth, hubs):
    """``Robot("ble")`` lists RobotLab robots and LEGO hubs in the chooser and drives the hub
    the pupil picks. The kernel is killed (SIGKILL) while the hub drives: the panel brakes
    both motors at once (not waiting for the drive's lease to run out) and lets go."""
    hub = hubs()
    bluetooth.install(bt_page)
    name = write_notebook(relay_server, "ble-finder-lego.ipynb", BLE_FINDS_A_HUB)
    open_notebook(bt_page, relay_server, name)
    run_cell(bt_page, 0, wait=False)
    panel = panel_in(bt_page, 0)
    connect_by_click(bt_page, panel)
    wait_for_kernel_idle(bt_page, timeout=30)
    filters = requested_filters(bt_page)["filters"]
    assert {"services": [HUB_SERVICE_UUID]} in filters and {"namePrefix": "RobotLab"} in filters
    pid, backend = stdout(bt_page, 0).split("pid")[1].split()[:2]
    assert backend == "LegoBackend", printed(bt_page, 0)
    # The Technic build's distance (D) and colour (C) sensors read as on the simulator.
    distance, colour = stdout(bt_page, 0).split("målt")[1].split()[:2]
    sim = Robot(profile="lego-technic", noise=False)
    assert (float(distance), colour) == (pytest.approx(sim.distance(), abs=1.0), sim.color())

    run_cell(bt_page, 1, wait=False)
    wait_for_hub(bt_page, hub, lambda s: s["moving"], "the drive to start")
    written = len(bluetooth.writes)
    os.kill(int(pid), signal.SIGKILL)
    assert wait_for_message(bt_page, panel, "kernel_gone", timeout_ms=5_000) == DA["kernel_gone"]
    assert_problem(panel, "kernel_gone")
    # Both frames go out, last, before the panel lets go of the hub (a lease renewal may
    # have been on its way just before).
    wait_for_hub(bt_page, hub, lambda s: not s["connected"], "the panel to let go", 5)
    assert writes_since(bluetooth, written)[-2:] == STOP_FRAMES
    assert [lwp3.decode(frame).command for frame in STOP_FRAMES] == [lwp3.start_power(0)] * 2
    still = wait_for_hub(bt_page, hub, lambda s: not s["moving"], "the hub to stop", 2)
    bt_page.wait_for_timeout(300)
    later = hub_state(hub)
    assert (later["x"], later["y"], later["moving"]) == (still["x"], still["y"], False)
    assert "kørte færdig" not in stdout(bt_page, 1)


def test_a_lego_hub_with_a_motor_missing(bt_page, relay_server, bluetooth, hubs):
    """The hub the pupil connects has nothing in port B: the message says which wheel's motor
    to plug in where, in the pupil's language, and nothing moves."""
    hub = hubs(missing=("B",))
    bluetooth.install(bt_page)
    name = write_notebook(relay_server, "lego-uden-motor.ipynb", [
        'from robotlab import Robot, set_language\nset_language("en")\nrobot = Robot("lego")'])
    open_notebook(bt_page, relay_server, name)
    run_cell(bt_page, 0, wait=False)
    panel = panel_in(bt_page, 0)
    connect_by_click(bt_page, panel)
    wait_for_kernel_idle(bt_page, timeout=30)
    output = printed(bt_page, 0)
    assert "port B" in output and "motor" in output, output
    assert not hub_state(hub)["moving"]
    save_screenshot(bt_page, "connect-panel-lego-missing-motor-en")

"""The browser relay end to end: a real Jupyter server, real kernels, a Python "browser tab".

Nothing of ours is mocked. The tests start ``jupyter lab`` on 127.0.0.1 (the
browser harness's ``start_jupyter_server``) with ``ROBOTLAB_BLE=browser`` in the
kernels' environment, start kernels through the REST API and run cells over the
kernel's own WebSocket. The pupil's tab is played by ``Tab``: it holds a virtual
robot (``robotlab.emulate`` on a ``VirtualRadio``, reached through bleak with the
virtual backends, as Web Bluetooth would reach a real one) and bridges it to the
relay WebSocket ``{base_url}robotlab/relay/{kernel_id}`` with the server's token
and the page's Origin, speaking docs/relay.md's messages. The only stand-in is the
Connect panel's display in most tests: the kernel prints what it would show (the
first test shows the real panel and reads its traits from the widget's comm_open;
the panel's JavaScript is tested in the browser tests).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import stat

import pytest
from tornado.httpclient import HTTPClientError
from tornado.websocket import websocket_connect

from ble_bridge import StopAll, decode
from ble_bridge.virtual import VirtualRadio
from robotlab.emulate import start_virtual_robots, stop_virtual_robots

from tests.browser.harness import start_jupyter_server  # noqa: E402
from tests.ble_bridge.relay_harness import (  # noqa: E402
    MINT, SETUP, Kernel, Tab, closed_with, drive, error_of, log_in, on_radio, panel_of,
    real_panel_of, request, until)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("relay")
    with start_jupyter_server(root, env_overrides={"ROBOTLAB_BLE": "browser"},
                              log_name="jupyter-server-relay.log") as running:
        yield running


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def room():
    radio = VirtualRadio()
    robots = start_virtual_robots(radio, 1, noise=False)
    yield radio, robots[0]
    stop_virtual_robots(robots)
    radio.close()


@pytest.fixture(scope="module")
def login(server) -> str:
    return log_in(server)


def test_a_cell_pairs_through_the_relay_and_drives_a_square_and_a_sensor_loop(
        server, login, loop, room):
    radio, virtual = room

    async def scenario():
        kernel = await Kernel.start(server)
        tab = Tab(server, kernel.id, radio)
        try:
            await kernel.cell(SETUP + "\nbluetooth.show_connect_panel = _real_panel\n")
            run = kernel.run('robot = Robot("ble")\nprint("CONNECTED", robot)\n'
                             'robot.speed = 100\n'
                             'for side in range(4):\n'
                             '    robot.forward(10)\n'
                             '    robot.turn_left(90)\n'
                             'start = robot.distance()\n'
                             'robot.drive(60, 60)\n'
                             'while robot.distance() > start - 10:\n'
                             '    pass\n'
                             'robot.stop()\n'
                             'print("DRIVEN", start - robot.distance())\n')
            panel = await real_panel_of(run)       # this one is the real Connect panel
            assert panel["kernel_id"] == kernel.id and panel["wanted"] in (None, "")
            assert decode(bytes.fromhex(panel["stop_frame"])).message == StopAll()
            await tab.connect_robot("RobotLab-07")
            answer = await tab.pair(panel["token"])
            assert answer["type"] == "paired" and answer["robot"] == "RobotLab-07"
            lines = await run.finished()
            assert "CONNECTED Robot('ble', name='RobotLab-07')" in lines, lines
            states = [m["state"] for m in tab.received if m["type"] == "status"]
            # Four sides and four turns, then the loop's drive; each ends before the next starts.
            assert states == ["ready"] + ["moving", "ready"] * 9, states
            return float((await run.line("DRIVEN ")))
        finally:
            await tab.close()
            await kernel.close()

    driven_cm = drive(loop, scenario())
    # The square closes where it began (no noise), then the loop drove 10 cm on towards the wall.
    x, y, theta = on_radio(radio, lambda: (virtual.body.x, virtual.body.y, virtual.body.theta))
    assert driven_cm >= 10
    assert (x - 50, y) == (pytest.approx(driven_cm, abs=3), pytest.approx(75, abs=0.5))
    assert (math.degrees(theta) + 180) % 360 - 180 == pytest.approx(0, abs=1)


def test_closing_the_tab_mid_move_stops_the_robot_and_the_pupil_is_told(
        server, login, loop, room):
    radio, virtual = room

    async def scenario():
        kernel = await Kernel.start(server)
        tab = Tab(server, kernel.id, radio)
        try:
            await kernel.cell(SETUP)
            run = kernel.run('robot = Robot("ble", name="07")\n'
                             'try:\n'
                             '    robot.forward(100)\n'
                             'except Exception as error:\n'
                             '    show_error(error)\n')
            panel = await panel_of(run)
            assert panel["wanted"] == "RobotLab-07"
            await tab.connect_robot("RobotLab-07")
            assert (await tab.pair(panel["token"]))["type"] == "paired"
            await until(lambda: on_radio(radio, lambda: virtual.body.x) > 52)   # mid-move
            await tab.close()
            await until(lambda: not on_radio(radio, lambda: virtual.body.moving), 2.0)
            return await error_of(run)
        finally:
            await tab.close()
            await kernel.close()

    error = drive(loop, scenario())
    assert error["reason"] == "relay_link_lost"
    assert "RobotLab-07" in error["da"] and "browseren" in error["da"]
    assert "RobotLab-07" in error["en"] and "browser" in error["en"] and error["da"] != error["en"]
    x = on_radio(radio, lambda: virtual.body.x)
    assert 52 < x < 150        # it started, and stopped long before 100 cm


def test_the_panel_stop_ends_the_running_call_with_the_live_views_message(
        server, login, loop, room):
    radio, virtual = room

    async def scenario():
        kernel = await Kernel.start(server)
        tab = Tab(server, kernel.id, radio)
        try:
            await kernel.cell(SETUP)
            run = kernel.run('robot = Robot("ble")\n'
                             'try:\n'
                             '    robot.forward(100)\n'
                             'except Exception as error:\n'
                             '    show_error(error)\n'
                             'robot.led("green")\n'
                             'print("STILL CONNECTED")\n')
            panel = await panel_of(run)
            tab.stop_frame = panel["stop_frame"]
            await tab.connect_robot("RobotLab-07")
            assert (await tab.pair(panel["token"]))["type"] == "paired"
            await until(lambda: on_radio(radio, lambda: virtual.body.x) > 52)   # mid-move
            await tab.press_stop()
            error = await error_of(run)
            await run.finished()
            return error
        finally:
            await tab.close()
            await kernel.close()

    error = drive(loop, scenario())
    assert error["reason"] == "stopped_by_button"
    x, moving, executed = on_radio(radio, lambda: (virtual.body.x, virtual.body.moving,
                                                   [kind for _, kind in virtual.protocol.executed]))
    assert 52 < x < 100 and not moving and StopAll.TYPE in executed
    assert on_radio(radio, lambda: virtual.body.led_rgb) != (0, 0, 0)


def test_a_reloaded_tab_pairs_again_with_its_resume_token_and_the_cell_goes_on(
        server, login, loop, room):
    radio, virtual = room

    async def scenario():
        kernel = await Kernel.start(server)
        tab = Tab(server, kernel.id, radio)
        try:
            await kernel.cell(SETUP)
            run = kernel.run('robot = Robot("ble")')
            panel = await panel_of(run)
            await tab.connect_robot("RobotLab-07")
            assert (await tab.pair(panel["token"]))["type"] == "paired"
            await run.finished()
            first_resume = tab.resume
            await tab.close()                                  # reload: the old page goes
            reloaded = Tab(server, kernel.id, radio)
            await reloaded.connect_robot("RobotLab-07")
            again = await reloaded.pair(first_resume)          # from sessionStorage
            assert again["type"] == "paired" and again["resume"] != first_resume
            lines = await kernel.cell('robot.led("red")\nrobot.turn_left(30)\n'
                                      'print("HEADING", robot.heading())')
            # Used tokens are refused: the first resume token and the pairing token.
            refused = []
            for used in (first_resume, panel["token"]):
                other = Tab(server, kernel.id, radio)
                refused.append((await other.pair(used, name="RobotLab-08"),
                                await closed_with(other.ws)))
            await reloaded.close()
            return lines, refused
        finally:
            await kernel.close()

    lines, refused = drive(loop, scenario())
    assert float(lines[-1].split()[-1]) == pytest.approx(30, abs=1)
    assert on_radio(radio, lambda: virtual.body.led_rgb) == (255, 0, 0)
    assert refused == [({"type": "refused", "reason": "token"}, 4403)] * 2


def test_no_pairing_in_time_says_what_to_do(server, loop):
    async def scenario():
        kernel = await Kernel.start(server)
        try:
            await kernel.cell(SETUP + "\nbluetooth.PAIR_WAIT_S = 0.5\n")
            run = kernel.run('try:\n    Robot("ble")\nexcept Exception as error:\n'
                             '    show_error(error)\n')
            return await error_of(run)
        finally:
            await kernel.close()

    error = drive(loop, scenario())
    assert error["reason"] == "relay_not_paired"
    assert "Forbind" in error["da"] and "Connect" in error["en"]


def test_outside_a_notebook_the_browser_path_says_so(monkeypatch):
    from robotlab import Robot, RobotLabError
    monkeypatch.setenv("ROBOTLAB_BLE", "browser")
    with pytest.raises(RobotLabError) as info:
        Robot("ble")
    assert info.value.reason == "relay_no_notebook"
    assert "notebook" in info.value.text("da") and "ROBOTLAB_BLE=local" in info.value.text("en")


def test_only_the_owner_with_a_fresh_token_of_this_kernel_gets_through(
        server, login, loop, room):
    radio, _ = room

    async def scenario():
        mine, another = await Kernel.start(server), await Kernel.start(server)
        try:
            # A kernel where no Robot("ble") waits has no relay socket.
            idle = await websocket_connect(request(server, f"robotlab/relay/{another.id}"))
            without_relay = await closed_with(idle)
            token, path = (await mine.cell(MINT))[-1].split()[1:]
            foreign_token = (await another.cell(MINT))[-1].split()[1]
            outcomes = {"mode": stat.S_IMODE(os.stat(path).st_mode), "no relay": without_relay}
            relay = f"robotlab/relay/{mine.id}"
            for case, req in (("no login", request(server, relay, cookie="")),
                              ("wrong login", request(server, relay, token="not-the-token")),
                              ("forged cookie", request(server, relay,
                                                        cookie=login.replace("=", "=x", 1))),
                              ("foreign origin", request(server, relay, origin="http://evil.test")),
                              ("unknown kernel", request(server, relay + "x"))):
                try:
                    await websocket_connect(req)
                    outcomes[case] = "open"
                except HTTPClientError as error:
                    outcomes[case] = error.code
            stranger = Tab(server, mine.id, radio)
            outcomes["another kernel's token"] = (await stranger.pair(foreign_token),
                                                  await closed_with(stranger.ws))
            tab = Tab(server, mine.id, radio)
            await tab.connect_robot("RobotLab-07")
            outcomes["token"] = (await tab.pair(token))["type"]
            second = Tab(server, mine.id, radio)
            second_token = (await mine.cell("print(_listener.mint_token())"))[-1]
            outcomes["second tab, same robot"] = (await second.pair(second_token),
                                                  await closed_with(second.ws))
            await tab.close()
            return outcomes
        finally:
            await mine.close()
            await another.close()

    outcomes = drive(loop, scenario())
    assert outcomes == {
        "mode": 0o600, "no relay": 4404,
        "no login": 403, "wrong login": 403, "forged cookie": 403, "foreign origin": 403, "unknown kernel": 404,
        "another kernel's token": ({"type": "refused", "reason": "token"}, 4403),
        "token": "paired",
        "second tab, same robot": ({"type": "refused", "reason": "busy"}, 4403),
    }


def test_virtual_robots_offer_the_battery_service_readable_and_notifying(loop, room):
    radio, virtual = room
    battery_level = "00002a19-0000-1000-8000-00805f9b34fb"

    async def scenario():
        tab = Tab(None, "", radio)
        await tab.connect_robot("RobotLab-07")
        try:
            assert tab.client.services.get_service("0000180f-0000-1000-8000-00805f9b34fb")
            first = await tab.client.read_gatt_char(battery_level)
            notified = asyncio.Queue()
            await tab.client.start_notify(battery_level, lambda _c, data: notified.put_nowait(data))
            virtual.peripheral.set_battery(42)
            return first, await asyncio.wait_for(notified.get(), 5)
        finally:
            await tab.close()

    first, notified = drive(loop, scenario())
    assert (first, notified) == (bytearray([100]), bytearray([42]))
    with pytest.raises(ValueError):
        virtual.peripheral.set_battery(101)


def test_auto_takes_the_browser_in_a_kernel_without_bluetooth(server, login, loop, room):
    radio, virtual = room

    async def scenario():
        kernel = await Kernel.start(server)
        tab = Tab(server, kernel.id, radio)
        try:
            # No system D-Bus, so no BlueZ: bleak finds no adapter on any Linux machine.
            await kernel.cell(SETUP + '\nimport os\nos.environ["ROBOTLAB_BLE"] = "auto"\n'
                              'os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/nonexistent"\n')
            run = kernel.run('robot = Robot("ble")\nrobot.led(0, 0, 255)')
            panel = await panel_of(run)
            await tab.connect_robot("RobotLab-07")
            assert (await tab.pair(panel["token"]))["type"] == "paired"
            await run.finished()
        finally:
            await tab.close()
            await kernel.close()

    drive(loop, scenario())
    assert on_radio(radio, lambda: virtual.body.led_rgb) == (0, 0, 255)


def test_a_pairing_token_expires_after_ten_minutes(tmp_path, loop):
    from ble_bridge.relay import PAIRING_TOKEN_TTL_S, RelayListener
    from ble_bridge.relay.kernel import read_frame, text_frame

    now = [1000.0]
    listener = RelayListener(str(tmp_path / "kernel-x.relay.sock"), clock=lambda: now[0])

    async def pair(token):
        reader, writer = await asyncio.open_unix_connection(listener.path)
        writer.write(text_frame({"type": "pair", "token": token, "device": {"name": "RobotLab-07"}}))
        _, answer = await read_frame(reader)
        writer.close()
        return json.loads(answer)

    try:
        late, in_time = listener.mint_token(), listener.mint_token()
        now[0] += PAIRING_TOKEN_TTL_S - 1
        assert drive(loop, pair(in_time))["type"] == "paired"
        now[0] += 2
        assert drive(loop, pair(late)) == {"type": "refused", "reason": "token"}
        assert stat.S_IMODE(os.stat(listener.path).st_mode) == 0o600
    finally:
        listener.close()
    assert not os.path.exists(listener.path)



def test_a_tab_names_the_service_it_holds_its_robot_by(tmp_path, loop):
    """A RobotLab robot (the Nordic UART Service, the default) or a LEGO hub (the LEGO Hub
    Service); a kernel waiting for one kind does not take the other; anything else is refused."""
    from ble_bridge.relay import RelayListener
    from ble_bridge.relay.kernel import LWP3_SERVICE, NUS_SERVICE, read_frame, text_frame

    listener = RelayListener(str(tmp_path / "kernel-s.relay.sock"))

    async def pair(name, service):
        device = {"name": name} if service is None else {"name": name, "service": service}
        reader, writer = await asyncio.open_unix_connection(listener.path)
        writer.write(text_frame({"type": "pair", "token": listener.mint_token(), "device": device}))
        _, answer = await read_frame(reader)
        return json.loads(answer)["type"], writer

    try:
        hub, hub_tab = drive(loop, pair("Technic Hub", LWP3_SERVICE.upper()))
        robot, robot_tab = drive(loop, pair("RobotLab-07", None))
        other, _ = drive(loop, pair("Heart Rate", "0000180d-0000-1000-8000-00805f9b34fb"))
        assert (hub, robot, other) == ("paired", "paired", "refused")
        assert listener.service_of("Technic Hub") == LWP3_SERVICE
        assert listener.service_of("RobotLab-07") == NUS_SERVICE
        assert listener.service_of("Heart Rate") is None
        assert listener.wait_paired(None, 0, services=(LWP3_SERVICE,)) == "Technic Hub"
        assert listener.wait_paired("Technic Hub", 0, services=(NUS_SERVICE,)) is None
        assert listener.wait_paired(None, 0, services=(NUS_SERVICE,)) == "RobotLab-07"
        hub_tab.close()
        robot_tab.close()
    finally:
        listener.close()


def test_closing_the_tab_mid_drive_a_lego_hub_stops_within_the_lease_and_the_pupil_is_told(
        server, login, loop):
    """A LEGO hub through a Python tab: ``Robot("lego")`` pairs by the LEGO Hub Service, the
    kernel learns the hub's motors from the reports the tab resends, and tells the tab the
    stop frames and the battery. The tab closes mid-drive: nothing stops a LEGO hub but the
    drive's lease (no watchdog), and the pupil's waiting call says the hub is gone."""
    from ble_bridge.relay.bleak_backend import hub_stop_frames
    from robotlab.backends import lego
    from robotlab.emulate import start_virtual_hubs, stop_virtual_hubs

    radio = VirtualRadio()
    (hub,) = start_virtual_hubs(radio, 1, noise=False)

    def moving() -> bool:
        return hub.on_radio(lambda: hub.body.robot.moving)

    async def scenario():
        kernel = await Kernel.start(server)
        tab = Tab(server, kernel.id, radio)
        try:
            await kernel.cell(SETUP + "\nfrom robotlab.backends import lego\n"
                              "lego.RECONNECT_WITHIN_S = 1.5\n")
            run = kernel.run('robot = Robot("lego")\n'
                             'robot.drive(50, 50)\n'
                             'try:\n'
                             '    robot.wait(20)\n'
                             'except Exception as error:\n'
                             '    show_error(error)\n')
            panel = await panel_of(run)
            assert panel["kinds"] == ["lego"] and panel["wanted"] is None
            await tab.connect_robot("Technic Hub")
            assert (await tab.pair(panel["token"], name="Technic Hub"))["type"] == "paired"
            await until(moving)
            told = [dict(message) for message in tab.received]
            await tab.close()
            closed = asyncio.get_running_loop().time()
            await until(lambda: not moving(), lego.LEASE_S + 1.0)
            stopped_after = asyncio.get_running_loop().time() - closed
            return told, stopped_after, await error_of(run)
        finally:
            await tab.close()
            await kernel.close()

    try:
        told, stopped_after, error = drive(loop, scenario())
    finally:
        stop_virtual_hubs([hub])
        radio.close()
    assert {"type": "stop", "frames": hub_stop_frames({0, 1})} in told
    assert {"type": "battery", "percent": 87} in told
    assert {"type": "status", "state": "moving"} in told
    assert stopped_after <= lego.LEASE_S + 0.5
    assert error["reason"] == "lego_relay_link_lost"
    assert "Technic Hub" in error["da"] and "browseren" in error["da"]
    assert 'Robot("lego", name="Technic Hub")' in error["en"] and error["da"] != error["en"]

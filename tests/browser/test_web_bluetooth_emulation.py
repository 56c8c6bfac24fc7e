"""Web Bluetooth in real Chromium, talking to a RobotLab robot simulated by DevTools.

The browser half of the relay (docs/relay.md) rests on Chromium's Web Bluetooth: a click
chooses a robot, GATT connects, and bytes go both ways over the Nordic UART Service. This smoke
test runs exactly those calls (``bluetooth_smoke.html``, one button) in Debian's Chromium against
a robot that Chromium's DevTools ``BluetoothEmulation`` domain simulates. Nothing of ours is
mocked: the frames are made and checked by ``ble_bridge``'s codec, and the robot's answers come
from the robot side of the protocol (``ble_bridge.robot_side.RobotProtocol`` on a simulated robot).

How the pieces meet:

* ``BluetoothEmulation`` on a **browser-level** CDP session: a powered-on central, the robot
  (``RobotLab-07``, the NUS service with RX ``...0002`` write-without-response and TX ``...0003``
  notify), and every GATT operation the page makes arrives as an event that the test answers.
* ``DeviceAccess`` on the **page's** CDP session (Chromium has it on page targets only): the
  ``requestDevice`` chooser is announced by ``deviceRequestPrompted`` and answered with
  ``selectPrompt``. ``requestDevice`` needs a user gesture, so the test clicks the button.

What Chromium 150 allows, found while writing this test (each shapes it):

* Web Bluetooth needs ``--enable-blink-features=WebBluetooth`` on Linux (without it
  ``navigator.bluetooth`` is undefined), so this module launches its own Chromium. That also keeps
  the emulated adapter, which is browser-wide, away from the other browser tests.
* The page must have a real origin: the Jupyter server's ``/files/`` are served sandboxed (an
  opaque origin), where ``requestDevice`` throws ``SecurityError``. The page is served from the
  server's ``/static/`` instead, with the same origin and headers as JupyterLab.
* ``simulateAdvertisement`` drops ``scanRecord.name`` (the DevTools handler never copies it), so an
  advertised name can never match ``namePrefix``, and it needs ``appearance`` and ``txPower``
  (without them the browser rejects the message and later commands never answer). The robot is
  therefore a ``simulatePreconnectedPeripheral``, whose name does reach the page.
* ``startNotifications`` fails ("GATT Error: Not supported") unless TX has its Client
  Characteristic Configuration descriptor (0x2902), as a real robot's does.
* There is no command to send a notification. The emulated TX therefore also allows ``read``, and
  the page reads it after its write: the robot's pending notifications are the read's value, and
  Chromium hands a read value to the same ``characteristicvaluechanged`` listener as a
  notification, which is the path the Connect panel uses.
"""

from __future__ import annotations

import base64
import json
import shutil
import traceback
from pathlib import Path

import pytest

from ble_bridge import (NUS_RX_UUID, NUS_SERVICE_UUID, NUS_TX_UUID, Decoded, Hello, Info,
                        advertised_name, decode, encode)
from ble_bridge.robot_side import RobotProtocol
from robotlab.emulate import SimulatedBody
from simulator import World

from .harness import (CHROMIUM, CHROMIUM_ARGS, collect_console, fail, new_context,
                      start_jupyter_server)

FIXTURE = Path(__file__).with_name("bluetooth_smoke.html")
WEB_BLUETOOTH_ARGS = [*CHROMIUM_ARGS, "--enable-blink-features=WebBluetooth"]
ROBOT_ID = 0x07
ROBOT_ADDRESS = "52:4C:00:00:00:07"    # any address: the emulated central knows only this one
CCC_DESCRIPTOR_UUID = "00002902-0000-1000-8000-00805f9b34fb"
GATT_SUCCESS = 0                      # HCI "success" and ATT "no error" are both 0
SMOKE_TIMEOUT_MS = 15_000             # the click's whole Web Bluetooth sequence


class EmulatedRobot:
    """RobotLab-07 as Chromium's BluetoothEmulation simulates it, answered by RobotProtocol.

    ``browser_cdp`` is a browser-level CDP session (BluetoothEmulation), ``page_cdp`` the page's
    (DeviceAccess). Every GATT operation the page makes is recorded in ``operations`` and answered
    at once: connection and discovery succeed, subscribing succeeds, a write goes to the robot's
    protocol, and a read of TX returns the frames the robot has sent since the last read.
    ``errors`` collects anything that went wrong inside an event handler.
    """

    def __init__(self, browser_cdp, page_cdp):
        self.browser_cdp, self.page_cdp = browser_cdp, page_cdp
        self.name = advertised_name(ROBOT_ID)
        world = World()
        body = SimulatedBody(world, world.add_robot("classroom", noise=False))
        self.sent: list[bytes] = []     # the robot's notifications not yet read by the page
        self.protocol = RobotProtocol(body, short_id=ROBOT_ID, send=self.sent.append,
                                      now=lambda: world.time_s)
        self.operations: list[tuple] = []
        self.errors: list[str] = []
        self.characteristic_names: dict[str, str] = {}
        self._chosen_prompt: str | None = None

    def install(self) -> None:
        """Power on the emulated central and put the robot, with its GATT table, next to it."""
        for event, handler in (("gattOperationReceived", self._on_gatt_operation),
                               ("characteristicOperationReceived", self._on_characteristic)):
            self.browser_cdp.on(f"BluetoothEmulation.{event}", self._guarded(handler))
        self.page_cdp.on("DeviceAccess.deviceRequestPrompted", self._guarded(self._on_prompt))
        self.page_cdp.send("DeviceAccess.enable")
        self._emulate("enable", state="powered-on", leSupported=True)
        self._emulate("simulatePreconnectedPeripheral", address=ROBOT_ADDRESS, name=self.name,
                      manufacturerData=[], knownServiceUuids=[NUS_SERVICE_UUID])
        service = self._emulate("addService", address=ROBOT_ADDRESS,
                                serviceUuid=NUS_SERVICE_UUID)["serviceId"]
        rx = self._emulate("addCharacteristic", serviceId=service, characteristicUuid=NUS_RX_UUID,
                           properties={"writeWithoutResponse": True})["characteristicId"]
        # "read" only because the emulation cannot notify (see the module's docstring).
        tx = self._emulate("addCharacteristic", serviceId=service, characteristicUuid=NUS_TX_UUID,
                           properties={"notify": True, "read": True})["characteristicId"]
        self._emulate("addDescriptor", characteristicId=tx, descriptorUuid=CCC_DESCRIPTOR_UUID)
        self.characteristic_names = {rx: "RX", tx: "TX"}

    def _emulate(self, command: str, **params) -> dict:
        return self.browser_cdp.send(f"BluetoothEmulation.{command}", params)

    def _guarded(self, handler):
        """``handler`` for a CDP event, with its exceptions kept in ``errors`` for the test to
        report (raised in Playwright's event dispatch, they would only be logged)."""
        def guarded(params: dict) -> None:
            try:
                handler(params)
            except Exception:  # noqa: BLE001 - reported by the test with the whole trace
                self.errors.append(traceback.format_exc())
        return guarded

    def _on_prompt(self, params: dict) -> None:
        # The chooser is announced again as devices come and go; choose once per prompt.
        # Chromium lists emulated devices without a display name, so choose by address.
        offered = [device["id"] for device in params["devices"]]
        if ROBOT_ADDRESS in offered and self._chosen_prompt != params["id"]:
            self._chosen_prompt = params["id"]
            self.operations.append(("chooser", offered))
            self.page_cdp.send("DeviceAccess.selectPrompt",
                               {"id": params["id"], "deviceId": ROBOT_ADDRESS})

    def _on_gatt_operation(self, params: dict) -> None:
        self.operations.append(("gatt", params["address"], params["type"]))
        self._emulate("simulateGATTOperationResponse", address=params["address"],
                      type=params["type"], code=GATT_SUCCESS)

    def _on_characteristic(self, params: dict) -> None:
        characteristic = self.characteristic_names.get(params["characteristicId"], "?")
        kind = params["type"]
        if kind == "write":
            data = base64.b64decode(params["data"])
            self.operations.append(("write", characteristic, data, params["writeType"]))
            if characteristic == "RX":
                self.protocol.receive(data)
            # A write without response has no answer to simulate; Chromium completes it.
            return
        self.operations.append((kind, characteristic))
        if kind == "read":
            value, self.sent[:] = b"".join(self.sent), []
            self._emulate("simulateCharacteristicOperationResponse",
                          characteristicId=params["characteristicId"], type=kind,
                          code=GATT_SUCCESS, data=base64.b64encode(value).decode("ascii"))
        else:   # subscribe-to-notifications, unsubscribe-from-notifications
            self._emulate("simulateCharacteristicOperationResponse",
                          characteristicId=params["characteristicId"], type=kind,
                          code=GATT_SUCCESS)


@pytest.fixture(scope="module")
def bluetooth_browser(browser):
    """Debian's Chromium with Web Bluetooth, launched by the package's Playwright (one sync
    Playwright per process); its emulated Bluetooth adapter stays out of the shared browser."""
    launched = browser.browser_type.launch(executable_path=str(CHROMIUM),
                                           args=WEB_BLUETOOTH_ARGS, timeout=60_000)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def static_server(artifacts_dir, tmp_path_factory):
    """A real ``jupyter lab`` that serves ``bluetooth_smoke.html`` at ``static/`` (a real origin,
    unlike the sandboxed ``files/``) from a copy in the test's temp folder."""
    static_dir = tmp_path_factory.mktemp("bluetooth-static")
    shutil.copy(FIXTURE, static_dir / FIXTURE.name)
    state_dir = tmp_path_factory.mktemp("bluetooth-jupyter-state")
    config_dir = state_dir / "jupyter-config"      # the harness's JUPYTER_CONFIG_DIR
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"extra_static_paths": [str(static_dir)]}}), encoding="utf-8")
    with start_jupyter_server(tmp_path_factory.mktemp("bluetooth-root"), artifacts_dir,
                              state_dir=state_dir,
                              log_name="jupyter-server-bluetooth.log") as server:
        yield server


def test_a_click_connects_to_the_robot_and_hello_is_answered_with_info(bluetooth_browser,
                                                                         static_server):
    context = new_context(bluetooth_browser)
    try:
        page = context.new_page()
        console = collect_console(page)
        hello = encode(Hello(), seq=1)
        page.goto(f"{static_server.url}static/{FIXTURE.name}?write={hello.hex()}")
        assert page.evaluate("() => [window.origin, isSecureContext, 'bluetooth' in navigator]") \
            == [static_server.url.rstrip("/"), True, True]

        robot = EmulatedRobot(bluetooth_browser.new_browser_cdp_session(),
                              context.new_cdp_session(page))
        robot.install()
        page.get_by_role("button", name="Forbind").click()
        try:
            page.wait_for_function("() => window.smoke.done || window.smoke.error !== null",
                                   timeout=SMOKE_TIMEOUT_MS)
        except Exception as error:  # noqa: BLE001 - Playwright's TimeoutError
            fail(f"the page's Web Bluetooth calls did not finish: {error}\n"
                 f"page: {page.evaluate('() => window.smoke')}\n"
                 f"GATT operations: {robot.operations}\nhandler errors: {robot.errors}\n"
                 f"console: {console}")
        smoke = page.evaluate("() => window.smoke")
    finally:
        context.close()

    assert not robot.errors, "\n".join(robot.errors)
    assert smoke["error"] is None, (smoke, robot.operations, console)
    assert smoke["device"] == "RobotLab-07"
    assert (smoke["toRobot"], smoke["fromRobot"]) == (NUS_RX_UUID, NUS_TX_UUID)
    # Every step reached the emulated robot, in the order the page made them.
    assert robot.operations == [
        ("chooser", [ROBOT_ADDRESS]),
        ("gatt", ROBOT_ADDRESS, "connection"),
        ("gatt", ROBOT_ADDRESS, "discovery"),
        ("subscribe-to-notifications", "TX"),
        ("write", "RX", hello, "write-without-response"),
        ("read", "TX"),
    ], robot.operations
    # The robot took the page's bytes for a HELLO and answered with INFO ...
    assert decode(robot.operations[4][2]) == Decoded(1, Hello())
    assert robot.protocol.in_session
    # ... which reached the page's notification listener whole, and decodes as the robot's INFO.
    assert smoke["notified"] == [smoke["read"]]
    info = decode(bytes.fromhex(smoke["notified"][0]))
    assert info.seq == 1 and isinstance(info.message, Info)
    assert info.message.robot_id == ROBOT_ID
    assert info.message.session_token == robot.protocol.session_token
    assert info.message.max_frame_size == robot.protocol.info.max_frame_size

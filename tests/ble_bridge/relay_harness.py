"""The relay tests' and the relay benchmark's pieces: kernels and cells on a real Jupyter server,
and ``Tab``, a Python stand-in for the pupil's browser tab that bridges the relay WebSocket to a
virtual robot or a virtual LEGO hub through bleak on the virtual radio (see
tests/ble_bridge/test_relay.py)."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import time
import urllib.request
import uuid

from bleak import BleakClient, BleakScanner
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClosedError, websocket_connect

from ble_bridge import uart_roles
from ble_bridge.gatt import NUS_SERVICE_UUID
from ble_bridge.lwp3 import HUB_CHARACTERISTIC_UUID, HUB_SERVICE_UUID, messages as lwp3
from ble_bridge.lwp3.constants import IoEvent
from ble_bridge.virtual import VirtualRadio, backends

#: Seconds a whole cell may take here; the longest drives a small square.
CELL_TIMEOUT_S = 30.0


#: Seconds the kernel keeps trying to get a lost link back (shortened for the tests).
RECONNECT_WITHIN_S = 1.5


SETUP = f"""
import json
from robotlab import Robot
from robotlab.backends import bluetooth
bluetooth.RECONNECT_WITHIN_S = {RECONNECT_WITHIN_S}

def _print_panel(**panel):
    # What the Connect panel would get; the browser tests show the real panel.
    print("PANEL " + json.dumps({{**panel, "stop_frame": panel["stop_frame"].hex()}}), flush=True)

_real_panel, bluetooth.show_connect_panel = bluetooth.show_connect_panel, _print_panel

def show_error(error):
    print("ERROR " + json.dumps({{"reason": error.reason, "da": error.text("da"),
                                  "en": error.text("en")}}), flush=True)
"""


MINT = """
from ipykernel.connect import get_connection_file
from ble_bridge.relay import RelayListener
_listener = RelayListener.for_kernel(get_connection_file())
print("TOKEN " + _listener.mint_token() + " " + _listener.path, flush=True)
"""


def log_in(server) -> str:
    """Log in as a browser does (open the server's URL with its token); the Cookie header,
    also kept as ``server.cookie`` for the requests that follow."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{server.url}lab?token={server.token}", timeout=30).close()
    server.cookie = "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)
    assert "username-" in server.cookie, server.cookie
    return server.cookie


def ws_url(server, path: str) -> str:
    return server.url.replace("http://", "ws://", 1) + path


def request(server, path: str, *, cookie: str | None = None, token: str | None = None,
            origin: str | None = None) -> HTTPRequest:
    """A WebSocket request as the pupil's page makes it: the login cookie and the page's Origin.

    ``token`` sends an ``Authorization: token`` header instead (a script, not a page: Jupyter
    skips the Origin check for those, since a foreign page cannot set that header)."""
    headers = {"Origin": origin if origin is not None else server.url.rstrip("/")}
    if token is not None:
        headers["Authorization"] = f"token {token}"
    elif cookie is not None or getattr(server, "cookie", None):
        headers["Cookie"] = cookie if cookie is not None else server.cookie
    return HTTPRequest(ws_url(server, path), headers=headers, connect_timeout=5,
                       request_timeout=10)


class Kernel:
    """A kernel started through the REST API; cells run over its WebSocket channels."""

    def __init__(self, server, kernel_id: str, channels):
        self.server, self.id, self._channels = server, kernel_id, channels
        self._session = uuid.uuid4().hex
        self._runs: dict[str, Run] = {}
        self._pump = asyncio.ensure_future(self._receive())

    @classmethod
    async def start(cls, server) -> Kernel:
        kernel_id = server.api("POST", "api/kernels", {"name": "python3"})["id"]
        channels = await websocket_connect(request(server, f"api/kernels/{kernel_id}/channels",
                                                   token=server.token))
        return cls(server, kernel_id, channels)

    def run(self, code: str) -> Run:
        """Start ``code`` as a cell; the Run collects its printed lines and its end."""
        msg_id = uuid.uuid4().hex
        run = self._runs[msg_id] = Run()
        self._channels.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self._session,
                       "username": "pupil", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        return run

    async def cell(self, code: str) -> list[str]:
        """Run ``code`` to its end; its printed lines. Fails on an uncaught exception."""
        return await self.run(code).finished()

    async def _receive(self) -> None:
        while (text := await self._channels.read_message()) is not None:
            message = json.loads(text)
            run = self._runs.get(message.get("parent_header", {}).get("msg_id"))
            if run is not None:
                run.take(message)

    async def close(self) -> None:
        self._channels.close()
        self.server.api("DELETE", f"api/kernels/{self.id}")


class Run:
    """One cell's output as it comes: printed lines, an error, its end."""

    def __init__(self):
        self.lines: list[str] = []
        self.error: str | None = None
        self.panels: list[dict] = []
        self._changed = asyncio.Event()
        self._done = False
        self._partial = ""

    def take(self, message: dict) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "comm_open" and "token" in content["data"].get("state", {}):
            self.panels.append(content["data"]["state"])      # the Connect panel's traits
        elif kind == "stream":
            *complete, self._partial = (self._partial + content["text"]).split("\n")
            self.lines += complete
        elif kind == "error":
            self.error = f"{content['ename']}: {content['evalue']}"
        elif kind == "status" and content["execution_state"] == "idle":
            self._done = True
        self._changed.set()

    async def line(self, prefix: str, timeout: float = CELL_TIMEOUT_S) -> str:
        """The first printed line starting with ``prefix``, without it."""
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line[len(prefix):]
                assert not self._done, f"the cell ended without {prefix!r}: {self.lines} {self.error}"
                self._changed.clear()
                await self._changed.wait()

    async def finished(self, timeout: float = CELL_TIMEOUT_S) -> list[str]:
        async with asyncio.timeout(timeout):
            while not self._done:
                self._changed.clear()
                await self._changed.wait()
        assert self.error is None, (self.error, self.lines)
        return self.lines


async def panel_of(run: Run) -> dict:
    return json.loads(await run.line("PANEL "))


async def real_panel_of(run: Run, timeout: float = CELL_TIMEOUT_S) -> dict:
    """The traits of the Connect panel the cell displayed (robotlab.connect.ConnectPanel)."""
    async with asyncio.timeout(timeout):
        while not run.panels:
            assert not run._done, f"the cell showed no Connect panel: {run.lines} {run.error}"
            run._changed.clear()
            await run._changed.wait()
    return run.panels[0]


async def error_of(run: Run) -> dict:
    return json.loads(await run.line("ERROR "))


class Tab:
    """A browser tab's Connect panel, in Python: a robot over (virtual) Bluetooth, a WebSocket."""

    def __init__(self, server, kernel_id: str, radio: VirtualRadio):
        self.server, self.kernel_id = server, kernel_id
        self._scanner, self._client_backend = backends(radio)
        self.client: BleakClient | None = None
        self.ws = None
        self.resume: str | None = None
        self.stop_frame = ""                 # hex, from the panel's trait
        self.received: list[dict] = []       # JSON messages from the kernel
        self.service = NUS_SERVICE_UUID
        self.attached: dict[int, bytes] = {}  # a LEGO hub's Attached I/O reports, as the panel keeps
        self._to_robot = ""
        self._pump: asyncio.Task | None = None

    async def connect_robot(self, name: str) -> None:
        """What requestDevice + gatt.connect() + startNotifications() do in the panel."""
        device = await BleakScanner.find_device_by_name(name, 5.0, backend=self._scanner)
        assert device is not None, f"{name} is not advertising"
        self.client = BleakClient(device, backend=self._client_backend,
                                  disconnected_callback=self._gatt_lost)
        await self.client.connect()
        service = self.client.services.get_service(NUS_SERVICE_UUID)
        if service is None:                  # a LEGO hub: one characteristic both ways
            self.service = HUB_SERVICE_UUID
            self._to_robot = HUB_CHARACTERISTIC_UUID
            await self.client.start_notify(HUB_CHARACTERISTIC_UUID, self._notified)
            return
        roles = uart_roles((c.uuid, c.properties) for c in service.characteristics)
        self._to_robot = roles.to_robot
        await self.client.start_notify(roles.from_robot, self._notified)

    async def pair(self, token: str, *, name: str = "RobotLab-07") -> dict:
        """Open the WebSocket and pair; the kernel's first answer (``paired`` or ``refused``)."""
        self.ws = await websocket_connect(request(self.server, f"robotlab/relay/{self.kernel_id}"))
        self.ws.protocol.set_nodelay(True)    # as Chromium does for every socket
        await self.ws.write_message(json.dumps({"type": "pair", "token": token, "device": {
            "name": name, "service": self.service}}))
        answer = json.loads(await self.ws.read_message())
        if answer["type"] == "paired":
            self.resume = answer["resume"]
            self._pump = asyncio.ensure_future(self._from_kernel(self.ws))
        return answer

    async def press_stop(self) -> None:
        """The panel's Stop: STOP_ALL straight to the robot, then tell the kernel."""
        await self.client.write_gatt_char(self._to_robot, bytes.fromhex(self.stop_frame),
                                          response=False)
        await self.ws.write_message(json.dumps({"type": "stopped"}))

    async def close(self) -> None:
        """Closing the tab: the WebSocket closes and the GATT link drops."""
        if self.ws is not None:
            self.ws.close()
        if self._pump is not None:
            await self._pump
        if self.client is not None:
            await self.client.disconnect()

    async def _from_kernel(self, ws) -> None:
        while (message := await ws.read_message()) is not None:
            if isinstance(message, bytes):
                await self.client.write_gatt_char(self._to_robot, message, response=False)
            else:
                self.received.append(json.loads(message))
                if self.received[-1]["type"] == "disconnect":
                    await self.client.disconnect()
                elif self.received[-1]["type"] == "resend_attached":
                    for report in list(self.attached.values()):
                        await ws.write_message(report, binary=True)
                    await ws.write_message(json.dumps({"type": "resent"}))

    def _notified(self, _characteristic, data: bytearray) -> None:
        if self.service == HUB_SERVICE_UUID:
            message = lwp3.decode(bytes(data))
            if isinstance(message, lwp3.HubAttachedIo):
                if message.event is IoEvent.DETACHED:
                    self.attached.pop(message.port, None)
                else:
                    self.attached[message.port] = bytes(data)
        if self.ws is not None and self.ws.protocol is not None:
            try:
                self.ws.write_message(bytes(data), binary=True)
            except WebSocketClosedError:
                pass

    def _gatt_lost(self, _client) -> None:
        if self.ws is not None and self.ws.protocol is not None:
            self.ws.write_message(json.dumps({"type": "gatt", "state": "disconnected"}))


def on_radio(radio, function):
    async def run():
        return function()
    return radio.call(run())


async def until(condition, timeout: float = 10.0) -> None:
    """Poll ``condition`` (the virtual robot's state lives on the radio's loop)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def drive(loop, coroutine):
    return loop.run_until_complete(asyncio.wait_for(coroutine, 55))


async def closed_with(ws) -> int | None:
    """Read until the server closes the WebSocket; its close code."""
    while await ws.read_message() is not None:
        pass
    return ws.close_code


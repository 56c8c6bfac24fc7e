"""An injected ``navigator.bluetooth`` whose GATT operations the Python virtual robots answer.

Chromium here has no Bluetooth adapter. :class:`FakeBluetooth` gives a page Web Bluetooth
objects that behave as Chrome's (``fake_bluetooth.js``, added with ``add_init_script``) and
carries out every GATT operation in this process through Playwright's ``expose_binding``:
bleak's public API, with the virtual radio's backends (``ble_bridge.virtual.backends``),
scans for, connects to, writes and subscribes to the virtual robots of
``robotlab.emulate.start_virtual_robots``. Notified values and dropped links go back to the
page as the answers of a long poll (a binding call the page keeps open; Playwright resolves
it while the test waits in any Playwright call, so waits must be Playwright's own, such as
``page.wait_for_timeout`` or ``wait_for_function``, not ``time.sleep``).

    radio = VirtualRadio()
    robots = start_virtual_robots(radio, 1)
    with FakeBluetooth(radio) as bluetooth:
        bluetooth.install(page)                      # before page.goto
        ...
        bluetooth.writes                             # every write to a robot, in order

As in Chrome, ``requestDevice`` needs a user gesture and honours its filters (name,
namePrefix, services) and lists the robots the page holds connected (a connected robot does not
advertise); ``gatt.connect()`` on a connected device resolves at once on the same link and
starting notifications that are on does nothing; services outside the filters and
``optionalServices`` are refused; a
reloaded or closed page drops its links; a robot that drops the link fires
``gattserverdisconnected``. ``install(page, mode="reject", error=...)`` makes requestDevice
reject as Chrome does when the pupil cancels the chooser or a policy blocks Web Bluetooth;
``mode="missing"`` removes ``navigator.bluetooth`` (Firefox, or a page on plain http).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from ble_bridge.virtual import VirtualRadio, backends

SCRIPT = Path(__file__).with_name("fake_bluetooth.js")
BINDING = "__robotlabBluetooth"
#: Seconds requestDevice's chooser looks for a matching robot before the pupil gives up on it.
CHOOSER_S = 5.0
#: Seconds a long poll stays open without events (then the page asks again).
POLL_S = 5.0
CONNECT_TIMEOUT_S = 5.0

#: Chrome's errors, as (name, message): what the pupil's actions and a school's policy cause.
CANCELLED = ("NotFoundError", "User cancelled the requestDevice() chooser.")
BLOCKED_BY_POLICY = ("NotFoundError", "User or their enterprise policy has disabled Web Bluetooth.")
GLOBALLY_DISABLED = ("NotFoundError", "Web Bluetooth API globally disabled.")
PERMISSIONS_POLICY = ("SecurityError",
                      'Access to the feature "bluetooth" is disallowed by permissions policy.')
NO_ADAPTER = ("NotFoundError", "Bluetooth adapter not available.")
_CONNECT_FAILED = {"name": "NetworkError", "message": "Connection failed for unknown reason."}
_DISCONNECTED = {"name": "NetworkError",
                 "message": "GATT Server is disconnected. Cannot perform GATT operations. "
                            "(Re)connect first with `device.gatt.connect`."}


def _config(mode: str, error: tuple[str, str] | None, availability_error: bool,
            available: bool) -> dict:
    if mode not in ("robots", "missing", "reject"):
        raise ValueError(f"unknown mode {mode!r}")
    return {"mode": mode, "available": available, "availability_error": availability_error,
            "error": None if error is None else {"name": error[0], "message": error[1]}}


@dataclass
class _Session:
    """One document's navigator.bluetooth (a reload makes a new one)."""

    id: str
    page: Any
    #: Used on the bridge loop only (a Queue binds to the loop that first waits on it).
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    clients: dict[str, tuple[int, BleakClient]] = field(default_factory=dict)
    #: (robot name, characteristic) whose notifications are on.
    notifying: set[tuple[str, str]] = field(default_factory=set)
    ended: bool = False


class FakeBluetooth:
    """Web Bluetooth for pages of one test, answered by the virtual robots on ``radio``.

    ``writes`` lists ``(robot name, bytes)`` of every GATT write, in order; ``log`` lists the
    operations the pages asked for (``("connect", name)``, ``("disconnect", name)``, ...).
    """

    def __init__(self, radio: VirtualRadio, *, chooser_s: float = CHOOSER_S):
        self.scanner_backend, self.client_backend = backends(radio)
        self.chooser_s = chooser_s
        self.writes: list[tuple[str, bytes]] = []
        self.log: list[tuple[str, str]] = []
        self._sessions: dict[str, _Session] = {}
        self._links = itertools.count(1)
        self._devices: dict[str, Any] = {}            # address -> BLEDevice seen by a scan
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-bluetooth",
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> FakeBluetooth:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- set-up (test's thread) ---------------------------------------------------------------

    def install(self, page, *, mode: str = "robots", error: tuple[str, str] | None = None,
                availability_error: bool = False, available: bool = True) -> None:
        """Give ``page`` (before it loads) the fake ``navigator.bluetooth``.

        ``mode``: ``"robots"`` (the virtual robots answer), ``"missing"`` (no Web Bluetooth)
        or ``"reject"`` (requestDevice rejects with ``error``, a (name, message) pair such as
        :data:`CANCELLED`; with ``availability_error`` getAvailability rejects too).
        """
        config = _config(mode, error, availability_error, available)
        page.add_init_script(SCRIPT.read_text(encoding="utf-8")
                             + f"\ninstallFakeBluetooth({json.dumps(config)});\n")
        page.expose_binding(BINDING, self._binding)
        page.on("close", lambda closed: self._end_sessions(closed, keep=None))

    def configure(self, page, *, mode: str = "robots", error: tuple[str, str] | None = None,
                  availability_error: bool = False, available: bool = True) -> None:
        """Change how the loaded page's fake behaves from now on (arguments as ``install``)."""
        page.evaluate("(config) => window.__robotlabFakeBluetooth.configure(config)",
                      _config(mode, error, availability_error, available))

    def close(self) -> None:
        """Drop every link and stop the bridge thread."""
        if self._loop.is_closed():
            return
        for session in list(self._sessions.values()):
            self._run(self._end(session), 5.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)
        self._loop.close()

    def connected(self) -> list[str]:
        """Names of the robots some page holds connected now."""
        return [client_name for session in self._sessions.values()
                for client_name, (_, client) in session.clients.items() if client.is_connected]

    def writes_to(self, name: str) -> list[bytes]:
        """The bytes written to robot ``name``, one item per write, in order."""
        return [data for robot, data in list(self.writes) if robot == name]

    # -- the binding (Playwright's dispatcher, test's thread) -------------------------------------

    def _binding(self, source: dict, op: str, session_id: str, args: dict):
        if self._loop.is_closed():      # the test is over; the page is about to go
            return None
        session = self._sessions.get(session_id)
        if session is None:
            page = source["page"]
            # A new document in this page: the old one's links end, as in a reloaded tab.
            self._end_sessions(page, keep=session_id)
            session = self._sessions[session_id] = _Session(session_id, page)
        handler = getattr(self, f"_op_{op}")
        future = asyncio.run_coroutine_threadsafe(handler(session, **args), self._loop)

        async def answer():
            return await asyncio.wrap_future(future)
        return answer()

    def _end_sessions(self, page, keep: str | None) -> None:
        if self._loop.is_closed():
            return          # closed already: every link has ended
        for session in list(self._sessions.values()):
            if session.page is page and session.id != keep:
                asyncio.run_coroutine_threadsafe(self._end(session), self._loop)

    def _run(self, coro, timeout: float):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # -- operations (bridge loop) ------------------------------------------------------------------

    async def _end(self, session: _Session) -> None:
        session.ended = True
        self._sessions.pop(session.id, None)
        session.events.put_nowait(None)
        for name, (_, client) in list(session.clients.items()):
            self.log.append(("page gone", name))
            try:
                await client.disconnect()
            except BleakError:
                pass
        session.clients.clear()

    async def _op_hello(self, session: _Session) -> dict:
        return {}

    async def _op_events(self, session: _Session) -> list[dict] | None:
        try:
            first = await asyncio.wait_for(session.events.get(), POLL_S)
        except TimeoutError:
            return []
        if first is None:
            return None
        events = [first]
        while not session.events.empty():
            event = session.events.get_nowait()
            if event is None:
                return None
            events.append(event)
        return events

    async def _op_requestDevice(self, session: _Session, filters: list[dict],
                                acceptAll: bool) -> dict:
        found = asyncio.get_running_loop().create_future()

        def matches(device, advertisement) -> bool:
            name = advertisement.local_name or device.name or ""
            if acceptAll:
                return True
            for wanted in filters:
                if wanted["name"] is not None and name != wanted["name"]:
                    continue
                if wanted["namePrefix"] is not None and not name.startswith(wanted["namePrefix"]):
                    continue
                if not set(wanted["services"]) <= set(advertisement.service_uuids):
                    continue
                return True
            return False

        def detected(device, advertisement) -> None:
            if not found.done() and matches(device, advertisement):
                found.set_result((device, advertisement.local_name or device.name))

        self.log.append(("requestDevice", json.dumps(filters)))
        # As Chrome's chooser, list the matching robots this page holds connected (a connected
        # robot does not advertise), then what advertises.
        for name, (_, client) in session.clients.items():
            services = [service.uuid for service in client.services]
            if client.is_connected and (acceptAll or any(
                    (wanted["name"] is None or name == wanted["name"])
                    and (wanted["namePrefix"] is None or name.startswith(wanted["namePrefix"]))
                    and set(wanted["services"]) <= set(services) for wanted in filters)):
                address = next(a for a, known in self._devices.items() if known.name == name)
                return {"id": address, "name": name}
        async with BleakScanner(detected, backend=self.scanner_backend):
            try:
                device, name = await asyncio.wait_for(found, self.chooser_s)
            except TimeoutError:
                # Nothing to choose: the pupil closes the empty chooser.
                return {"error": {"name": CANCELLED[0], "message": CANCELLED[1]}}
        self._devices[device.address] = device
        return {"id": device.address, "name": name}

    async def _op_connect(self, session: _Session, device: str) -> dict:
        ble_device = self._devices.get(device)
        if ble_device is None or session.ended:
            return {"error": _CONNECT_FAILED}
        name = ble_device.name
        old = session.clients.pop(name, None)
        if old is not None and old[1].is_connected:
            await old[1].disconnect()
        link = next(self._links)
        client = BleakClient(ble_device, backend=self.client_backend, timeout=CONNECT_TIMEOUT_S,
                             disconnected_callback=lambda _: self._lost(session, device, link))
        try:
            await client.connect()
        except (BleakError, TimeoutError):
            return {"error": _CONNECT_FAILED}
        session.clients[name] = (link, client)
        session.notifying = {held for held in session.notifying if held[0] != name}
        self.log.append(("connect", name))
        services = [{
            "uuid": service.uuid,
            "characteristics": [{
                "uuid": c.uuid,
                "properties": {
                    "read": "read" in c.properties,
                    "write": "write" in c.properties,
                    "writeWithoutResponse": "write-without-response" in c.properties,
                    "notify": "notify" in c.properties,
                    "indicate": "indicate" in c.properties,
                },
            } for c in service.characteristics],
        } for service in client.services]
        return {"link": link, "services": services}

    def _lost(self, session: _Session, device: str, link: int) -> None:
        session.events.put_nowait({"type": "disconnected", "device": device, "link": link})

    def _client(self, session: _Session, device: str, link: int) -> tuple[str, BleakClient] | None:
        ble_device = self._devices.get(device)
        if ble_device is None:
            return None
        held = session.clients.get(ble_device.name)
        if held is None or held[0] != link or not held[1].is_connected:
            return None
        return ble_device.name, held[1]

    async def _op_disconnect(self, session: _Session, device: str) -> dict:
        ble_device = self._devices.get(device)
        held = session.clients.pop(ble_device.name, None) if ble_device else None
        if held is not None:
            self.log.append(("disconnect", ble_device.name))
            await held[1].disconnect()
        return {}

    async def _op_write(self, session: _Session, device: str, link: int, characteristic: str,
                        data: list[int], response: bool) -> dict:
        held = self._client(session, device, link)
        if held is None:
            return {"error": _DISCONNECTED}
        name, client = held
        try:
            await client.write_gatt_char(characteristic, bytes(data), response=response)
        except BleakError as error:
            return {"error": {"name": "NetworkError", "message": str(error)}}
        self.writes.append((name, bytes(data)))
        return {}

    async def _op_read(self, session: _Session, device: str, link: int,
                       characteristic: str) -> dict:
        held = self._client(session, device, link)
        if held is None:
            return {"error": _DISCONNECTED}
        try:
            return {"data": list(await held[1].read_gatt_char(characteristic))}
        except BleakError as error:
            return {"error": {"name": "NetworkError", "message": str(error)}}

    async def _op_notify(self, session: _Session, device: str, link: int, characteristic: str,
                         on: bool) -> dict:
        held = self._client(session, device, link)
        if held is None:
            return {"error": _DISCONNECTED}
        name, client = held
        if on and (name, characteristic) in session.notifying:
            return {}           # Chrome: on already; every object of it gets the values

        def value(_, data: bytearray) -> None:
            session.events.put_nowait({"type": "value", "device": device, "link": link,
                                       "characteristic": characteristic, "data": list(data)})
        try:
            if on:
                await client.start_notify(characteristic, value)
                session.notifying.add((name, characteristic))
            else:
                await client.stop_notify(characteristic)
                session.notifying.discard((name, characteristic))
        except BleakError as error:
            return {"error": {"name": "NetworkError", "message": str(error)}}
        return {}


def robot_state(robot) -> dict:
    """A consistent picture of a virtual robot, read on its radio's loop: pose (cm, degrees),
    whether it moves, its wheel speeds (cm/s), what its protocol executed, watchdog trips."""
    async def read() -> dict:
        body = robot.body
        return {"x": body.x, "y": body.y, "heading": body.heading_deg, "moving": body.moving,
                "wheels": tuple(body.wheel_speeds), "odometer": sum(body.encoders_cm) / 2,
                "executed": list(robot.protocol.executed),
                "watchdog_trips": robot.protocol.watchdog_trips,
                "connected": robot.peripheral.is_connected, "time": time.monotonic()}
    return robot.radio.call(read())

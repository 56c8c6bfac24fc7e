"""The kernel's end of the browser relay: a listener thread on a Unix socket, pairing tokens, tabs.

    listener = RelayListener.for_kernel(connection_file)   # once per kernel
    token = listener.mint_token()                           # shown to the Connect panel
    name = listener.wait_paired(wanted=None, timeout=120)   # "RobotLab-07"
    scanner_backend, client_backend = backends(listener)     # ble_bridge.relay.bleak_backend

The Jupyter server extension (``ble_bridge.relay.server``) opens one socket
connection per browser WebSocket and passes the WebSocket's messages through
unchanged, each framed as 1 byte kind (0 JSON text, 1 binary) + 4 bytes
big-endian length + payload (docs/relay.md, "Kernel socket").

A connection must begin with ``pair`` and a valid token: a pairing token
(single use, valid ``PAIRING_TOKEN_TTL_S``) or a resume token (single use;
each pairing hands out a new one). Otherwise the listener answers
``refused`` and closes the connection. One paired tab per robot name. The
``pair`` message names the GATT service the tab uses: the Nordic UART Service
of a RobotLab robot (the default) or the LEGO Hub Service of a LWP3 hub
(``SERVICES``); ``service_of(name)`` tells which.

The listener's own thread runs an asyncio loop that owns every socket. Other
threads (the bleak backend's loop, the pupil's main thread) reach it through
thread-safe methods; what arrives from a tab is handed to a *sink* (the bleak
client attached to that robot), which posts it to its own loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..gatt import NUS_SERVICE_UUID
from ..lwp3.constants import HUB_SERVICE_UUID

logger = logging.getLogger(__name__)

#: Seconds a pairing token stays valid.
PAIRING_TOKEN_TTL_S = 600.0
#: Message kinds on the kernel socket.
TEXT, BINARY = 0, 1
HEADER = struct.Struct(">BI")
#: Longest message accepted either way: JSON control messages and NUS packets are small.
MAX_MESSAGE_BYTES = 64 * 1024
#: Unix socket paths must stay below the kernel's limit (108 bytes on Linux).
MAX_SOCKET_PATH = 100
#: Longest robot name accepted from a tab.
MAX_NAME_CHARS = 64
#: The GATT services a tab may hold a robot by: the Nordic UART Service (RobotLab robots,
#: micro:bits) and the LEGO Hub Service (LWP3 hubs).
NUS_SERVICE, LWP3_SERVICE = NUS_SERVICE_UUID, HUB_SERVICE_UUID
SERVICES = (NUS_SERVICE, LWP3_SERVICE)


def socket_path(connection_file: str | os.PathLike, suffix: str = ".relay.sock") -> str:
    """Where a listener of the kernel with this connection file listens (owner-only socket).

    ``.../kernel-<id>.json`` -> ``.../kernel-<id><suffix>`` (the relay's ``.relay.sock``;
    the live view's control listener uses ``.robotlab.sock``); if that path is too long
    for a Unix socket, a private folder in the temporary directory is used.
    """
    connection_file = Path(connection_file)
    candidate = connection_file.with_name(connection_file.stem + suffix)
    if len(str(candidate)) <= MAX_SOCKET_PATH:
        return str(candidate)
    folder = Path(tempfile.gettempdir()) / f"robotlab-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return str(folder / (connection_file.stem + suffix))


def kernel_id_of(connection_file: str | os.PathLike) -> str:
    """The Jupyter server's kernel id from a connection file name (``kernel-<id>.json``)."""
    stem = Path(connection_file).stem
    return stem[len("kernel-"):] if stem.startswith("kernel-") else ""


def frame(kind: int, payload: bytes) -> bytes:
    """One message as it travels on the kernel socket."""
    return HEADER.pack(kind, len(payload)) + payload


def text_frame(message: dict) -> bytes:
    """A JSON message framed for the kernel socket."""
    return frame(TEXT, json.dumps(message).encode("utf-8"))


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes] | None:
    """The next message from a kernel socket, or None when it closed (or broke the framing)."""
    try:
        kind, length = HEADER.unpack(await reader.readexactly(HEADER.size))
        if kind not in (TEXT, BINARY) or length > MAX_MESSAGE_BYTES:
            return None
        return kind, await reader.readexactly(length)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


class Sink(Protocol):
    """What the listener hands a paired tab's traffic to (the bleak client); listener thread."""

    def received(self, data: bytes) -> None: ...

    def lost(self) -> None: ...

    def resent(self) -> None: ...       # the tab sent a LEGO hub's kept reports again


class _Tab:
    """One paired browser tab (listener loop)."""

    def __init__(self, robot: str, writer: asyncio.StreamWriter, service: str = NUS_SERVICE):
        self.robot = robot
        self.writer = writer
        self.service = service
        self.gatt_connected = True
        self.sink: Sink | None = None


class RelayListener:
    """The kernel's relay listener: a Unix socket (0600) served by a background thread.

    Thread-safe; made once per kernel with ``for_kernel``. ``on_stopped`` callbacks
    run on the listener thread when a panel reports its Stop button.
    """

    _by_path: dict[str, RelayListener] = {}
    _made = threading.Lock()

    @classmethod
    def for_kernel(cls, connection_file: str | os.PathLike) -> RelayListener:
        """The listener of the kernel with this connection file, started on first use."""
        path = socket_path(connection_file)
        with cls._made:
            listener = cls._by_path.get(path)
            if listener is None or listener.closed:
                listener = cls._by_path[path] = cls(path)
        return listener

    def __init__(self, path: str, *, clock: Callable[[], float] = time.monotonic):
        self.path = path
        self.closed = False
        self._clock = clock
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pairing: dict[str, float] = {}     # token -> expiry (clock)
        self._resume: dict[str, str] = {}        # token -> robot name
        self._tabs: dict[str, _Tab] = {}         # robot name -> its paired tab
        self._watchers: list[Callable[[str], None]] = []
        self._stop_listeners: list[Callable[[], None]] = []
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="robotlab-relay",
                                        daemon=True)
        self._thread.start()
        ready.wait()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result()
        import atexit
        atexit.register(self.close)   # leave no socket behind in the runtime folder

    def __repr__(self) -> str:
        return f"<RelayListener {self.path} tabs={sorted(self._tabs)}>"

    # -- tokens and pairing (any thread) --------------------------------------------------

    def mint_token(self) -> str:
        """A new pairing token: single use, valid ``PAIRING_TOKEN_TTL_S`` seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._pairing = {t: until for t, until in self._pairing.items() if until > now}
            self._pairing[token] = now + PAIRING_TOKEN_TTL_S
        return token

    def paired_robots(self) -> list[str]:
        """The robots a paired tab holds connected and no bleak client uses ("advertising")."""
        with self._lock:
            return sorted(name for name, tab in self._tabs.items()
                          if tab.gatt_connected and tab.sink is None)

    def service_of(self, robot: str) -> str | None:
        """The GATT service (``SERVICES``) by which a paired tab holds ``robot``, or None."""
        with self._lock:
            tab = self._tabs.get(robot)
            return None if tab is None else tab.service

    def wait_paired(self, wanted: str | None = None, timeout: float | None = None, *,
                    services: tuple[str, ...] = SERVICES) -> str | None:
        """Block until a tab holds a robot (``wanted``, or any) free to use by one of
        ``services``; its name, or None after ``timeout`` seconds. Interruptible
        (KeyboardInterrupt) like any wait."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                free = [name for name, tab in self._tabs.items()
                        if tab.gatt_connected and tab.sink is None and tab.service in services
                        and (wanted is None or name == wanted)]
                if free:
                    return sorted(free)[0]
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def watch(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(name)`` (listener thread) for every robot free to use now and
        whenever one becomes free; returns the function that stops watching."""
        with self._lock:
            self._watchers.append(callback)
        for name in self.paired_robots():
            self.loop.call_soon_threadsafe(callback, name)

        def unwatch() -> None:
            with self._lock:
                if callback in self._watchers:
                    self._watchers.remove(callback)
        return unwatch

    def on_stopped(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (listener thread) when a panel's Stop button was pressed."""
        with self._lock:
            self._stop_listeners.append(callback)

    # -- a bleak client's link (any thread) ------------------------------------------------

    def attach(self, robot: str, sink: Sink) -> bool:
        """Make ``sink`` the receiver of ``robot``'s traffic; False if no tab holds it free."""
        with self._lock:
            tab = self._tabs.get(robot)
            if tab is None or not tab.gatt_connected or tab.sink is not None:
                return False
            tab.sink = sink
            self._changed.notify_all()
        self._post(tab, text_frame({"type": "status", "state": "ready"}))
        return True

    def detach(self, robot: str, sink: Sink, *, status: str | None = None) -> None:
        """``sink`` no longer uses ``robot``; the robot is free again. ``status`` is sent to
        the panel (``"lost"``, or None for nothing)."""
        with self._lock:
            tab = self._tabs.get(robot)
            if tab is None or tab.sink is not sink:
                return
            tab.sink = None
            self._changed.notify_all()
        if status is not None:
            self._post(tab, text_frame({"type": "status", "state": status}))
        self.loop.call_soon_threadsafe(self._announce, robot)

    def send(self, robot: str, sink: Sink, data: bytes) -> bool:
        """Queue ``data`` for the robot's RX characteristic, in order; False if ``sink`` does
        not hold the robot (any more)."""
        with self._lock:
            tab = self._tabs.get(robot)
            if tab is None or tab.sink is not sink or not tab.gatt_connected:
                return False
        self._post(tab, frame(BINARY, bytes(data)))
        return True

    def tell(self, robot: str, message: dict) -> bool:
        """Send a JSON message to the tab holding ``robot`` (e.g. ``{"type": "disconnect"}``)."""
        with self._lock:
            tab = self._tabs.get(robot)
        if tab is None:
            return False
        self._post(tab, text_frame(message))
        return True

    def _post(self, tab: _Tab, data: bytes) -> None:
        try:
            self.loop.call_soon_threadsafe(self._write, tab, data)
        except RuntimeError:
            logger.debug("relay listener closed; dropped %d bytes", len(data))

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Close every tab's connection and the socket, remove the socket file. Idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(2.0)
        except Exception:
            logger.debug("the relay listener did not shut down cleanly", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(2.0)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    # -- listener loop ---------------------------------------------------------------------

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    async def _serve(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)
        old_umask = os.umask(0o177)     # the socket is born 0600: no moment open to others
        try:
            self._server = await asyncio.start_unix_server(self._connection, self.path)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        with self._lock:
            tabs = list(self._tabs.values())
        for tab in tabs:
            tab.writer.close()

    def _write(self, tab: _Tab, data: bytes) -> None:
        if not tab.writer.is_closing():
            tab.writer.write(data)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tab = None
        try:
            first = await read_frame(reader)
            tab = self._pair(first, writer)
            if tab is None:
                return
            while (message := await read_frame(reader)) is not None:
                self._handle(tab, *message)
        finally:
            if tab is not None:
                self._unpair(tab)
            writer.close()

    def _pair(self, first: tuple[int, bytes] | None, writer: asyncio.StreamWriter) -> _Tab | None:
        """The tab for a valid ``pair``; otherwise ``refused`` is sent and None returned."""
        request = _json(first)
        token = request.get("token")
        device = request.get("device")
        name = device.get("name") if isinstance(device, dict) else None
        service = str(device.get("service") or NUS_SERVICE).lower() \
            if isinstance(device, dict) else None
        if (request.get("type") != "pair" or not isinstance(token, str)
                or not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS
                or service not in SERVICES):
            writer.write(text_frame({"type": "refused", "reason": "token"}))
            return None
        with self._lock:
            now = self._clock()
            valid = self._pairing.get(token, -1.0) > now or token in self._resume
            if not valid:
                reason = "token"
            elif name in self._tabs:
                reason = "busy"
            else:
                reason = None
                self._pairing.pop(token, None)
                self._resume.pop(token, None)
                resume = secrets.token_urlsafe(32)
                # One live resume token per robot: the tab keeps only the newest.
                self._resume = {t: robot for t, robot in self._resume.items() if robot != name}
                self._resume[resume] = name
                tab = self._tabs[name] = _Tab(name, writer, service)
                self._changed.notify_all()
        if reason is not None:
            writer.write(text_frame({"type": "refused", "reason": reason}))
            return None
        writer.write(text_frame({"type": "paired", "resume": resume, "robot": name}))
        self._announce(name)
        return tab

    def _handle(self, tab: _Tab, kind: int, payload: bytes) -> None:
        if kind == BINARY:
            sink = tab.sink
            if sink is not None:
                sink.received(payload)
            return
        message = _json((kind, payload))
        if message.get("type") == "gatt":
            connected = message.get("state") == "connected"
            with self._lock:
                tab.gatt_connected = connected
                sink = tab.sink
                if not connected:
                    tab.sink = None
                self._changed.notify_all()
            if connected:
                self._announce(tab.robot)
            elif sink is not None:
                sink.lost()
        elif message.get("type") == "resent":
            sink = tab.sink
            if sink is not None:
                sink.resent()
        elif message.get("type") == "stopped":
            with self._lock:
                listeners = list(self._stop_listeners)
            for callback in listeners:
                try:
                    callback()
                except Exception:
                    logger.exception("a Stop listener failed")

    def _unpair(self, tab: _Tab) -> None:
        with self._lock:
            if self._tabs.get(tab.robot) is tab:
                del self._tabs[tab.robot]
            sink, tab.sink = tab.sink, None
            self._changed.notify_all()
        if sink is not None:
            sink.lost()

    def _announce(self, name: str) -> None:
        """Tell the watchers (scanners) that ``name`` is free to use, if it is."""
        with self._lock:
            tab = self._tabs.get(name)
            if tab is None or not tab.gatt_connected or tab.sink is not None:
                return
            watchers = list(self._watchers)
        for callback in watchers:
            callback(name)


def _json(message: tuple[int, bytes] | None) -> dict:
    """A text message as a dict; {} for anything else."""
    if message is None or message[0] != TEXT:
        return {}
    try:
        value = json.loads(message[1].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}

"""The control path from the browser into a busy kernel (Stop, pause, speed, reset).

A kernel handles messages from the browser (widget comm messages) only between
cells, so a Stop button sent that way would act after the program it should
stop. Instead the view's buttons POST to the Jupyter server extension
``robotlab.server``, which forwards the request over a Unix socket to a
listener thread in the kernel (this module). The thread acts at once, while the
kernel's main thread runs the pupil's cell.

The socket lives next to the kernel's connection file (same directory, same
owner, mode 0600), so only the user who owns the kernel can reach it; the
server extension finds it from the connection file the server already knows.
The wire format is one JSON object per line each way.
"""

from __future__ import annotations

import json
import os
import socket
import threading

from ble_bridge.relay.kernel import kernel_id_of  # noqa: F401 (part of this module's API)
from ble_bridge.relay.kernel import socket_path as _kernel_socket_path

#: Actions the browser may ask for, and the values they take.
ACTIONS = ("stop", "pause", "resume", "speed", "reset", "hello")
SPEEDS = {"1": 1.0, "2": 2.0, "5": 5.0, "max": float("inf")}
MAX_REQUEST_BYTES = 4096


def socket_path(connection_file: str | os.PathLike) -> str:
    """Where the kernel with this connection file listens: ``.../kernel-<id>.robotlab.sock``
    (or a private folder in the temporary directory when that path is too long)."""
    return _kernel_socket_path(connection_file, ".robotlab.sock")


def parse_request(line: bytes) -> dict:
    """A request as sent by the browser, checked; raises ValueError if malformed."""
    request = json.loads(line.decode("utf-8"))
    if not isinstance(request, dict) or request.get("action") not in ACTIONS:
        raise ValueError("unknown action")
    if request["action"] == "speed" and str(request.get("value")) not in SPEEDS:
        raise ValueError("unknown speed")
    if not isinstance(request.get("view", ""), str):
        raise ValueError("view must be a string")
    return request


class ControlListener:
    """A thread in the kernel that answers control requests on a Unix socket.

    ``handle(request) -> dict`` runs on the listener thread; it must be thread-safe.
    """

    def __init__(self, path: str, handle):
        self.path = path
        self._handle = handle
        if os.path.exists(path):
            os.unlink(path)
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            self._server.bind(path)
        finally:
            os.umask(old_umask)
        self._server.listen(8)
        self._thread = threading.Thread(target=self._serve, name="robotlab-control", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            with connection:
                connection.settimeout(2.0)
                try:
                    reply = self._answer(self._read_line(connection))
                    connection.sendall(json.dumps(reply).encode() + b"\n")
                except OSError:
                    continue

    @staticmethod
    def _read_line(connection) -> bytes:
        data = b""
        while not data.endswith(b"\n") and len(data) < MAX_REQUEST_BYTES:
            chunk = connection.recv(1024)
            if not chunk:
                break
            data += chunk
        return data

    def _answer(self, line: bytes) -> dict:
        try:
            request = parse_request(line)
        except (ValueError, UnicodeDecodeError):
            return {"ok": False, "error": "bad request"}
        try:
            return {"ok": True, **(self._handle(request) or {})}
        except Exception as error:  # a failing handler must not kill the listener
            return {"ok": False, "error": type(error).__name__}

    def close(self) -> None:
        try:
            self._server.close()
        finally:
            if os.path.exists(self.path):
                os.unlink(self.path)


def send(path: str, request: dict, timeout: float = 2.0) -> dict:
    """Send one request to a kernel's listener and return its reply (blocking)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        client.connect(path)
        client.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = client.recv(4096)
            if not chunk:
                break
            data += chunk
    return json.loads(data.decode("utf-8"))

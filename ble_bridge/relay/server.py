"""The relay's Jupyter server side: a WebSocket per Connect panel, passed through to its kernel.

``{base_url}robotlab/relay/{kernel_id}`` is authenticated and authorized as the
server's own kernel WebSocket is (a known user, allowed to execute in
"kernels"; Jupyter's ``check_origin`` refuses foreign origins). Once open, the
handler connects to the kernel's relay socket (``kernel.socket_path`` of the
kernel's connection file) and passes messages both ways unchanged, each framed
on the socket as ``kernel.frame`` does. The kernel checks the pairing token:
when it answers ``refused``, the WebSocket is closed with code 4403.

Registered by the ``robotlab.server`` extension (``handlers(base_url)``), so
this module needs jupyter_server but never imports robotlab.
"""

from __future__ import annotations

import asyncio
import json

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from .kernel import BINARY, MAX_MESSAGE_BYTES, TEXT, frame, read_frame, socket_path

#: Close codes: the kernel refused the pairing; the kernel has no relay (or went away).
REFUSED = 4403
NO_KERNEL_RELAY = 4404
#: Seconds to wait for the kernel's socket to accept.
CONNECT_TIMEOUT_S = 3.0


class RelayHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """One Connect panel's WebSocket, relayed to its kernel's relay socket."""

    auth_resource = "kernels"

    def initialize(self) -> None:
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task | None = None
        self._path = ""

    def set_default_headers(self) -> None:
        """No JupyterHandler default headers: they make no sense for a WebSocket."""

    def get_compression_options(self) -> None:
        return None     # small messages; compression would only add latency

    @ws_authenticated
    async def get(self, kernel_id: str) -> None:
        authorized = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "execute", "kernels"))
        if not authorized:
            raise web.HTTPError(403)
        if not self.check_origin():     # before anything about the kernel is told
            raise web.HTTPError(403, "cross-origin WebSocket refused")
        if kernel_id not in self.kernel_manager:
            raise web.HTTPError(404, "no such kernel")
        self._path = socket_path(self.kernel_manager.get_kernel(kernel_id).connection_file)
        await super().get(kernel_id)    # checks the origin again, then upgrades

    async def open(self, kernel_id: str) -> None:
        super().open()
        self.set_nodelay(True)
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self._path, limit=MAX_MESSAGE_BYTES + 16),
                CONNECT_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError):
            # No robot is waiting in that kernel (nothing listens) or it is gone.
            self.close(NO_KERNEL_RELAY, "the kernel has no RobotLab relay")
            return
        self._pump = asyncio.ensure_future(self._from_kernel())

    def on_message(self, message: str | bytes) -> None:
        if self._writer is None or self._writer.is_closing():
            return
        if isinstance(message, bytes):
            data = frame(BINARY, message)
        else:
            data = frame(TEXT, message.encode("utf-8"))
        if len(data) > MAX_MESSAGE_BYTES:
            self.close(1009, "message too big")
            return
        self._writer.write(data)

    def on_close(self) -> None:
        self._close_kernel_side()

    async def _from_kernel(self) -> None:
        assert self._reader is not None
        code, reason = 1000, "the kernel closed the relay"
        while (message := await read_frame(self._reader)) is not None:
            kind, payload = message
            try:
                if kind == BINARY:
                    await self.write_message(payload, binary=True)
                    continue
                text = payload.decode("utf-8")
                await self.write_message(text)
            except WebSocketClosedError:
                break
            if _is_refusal(text):
                code, reason = REFUSED, "pairing refused"
                break
        self._close_kernel_side()
        self.close(code, reason)

    def _close_kernel_side(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()


def _is_refusal(text: str) -> bool:
    try:
        message = json.loads(text)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("type") == "refused"


def handlers(base_url: str) -> list[tuple[str, type]]:
    """The relay's routes for ``web_app.add_handlers``."""
    return [(url_path_join(base_url, r"robotlab/relay/([^/]+)"), RelayHandler)]

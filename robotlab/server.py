"""Jupyter server extension: the live view's buttons reach a kernel while a cell runs.

``POST {base_url}robotlab/api/control/{kernel_id}`` with a JSON body such as
``{"action": "stop", "view": "<model id>"}`` is forwarded to the kernel's
control listener (``robotlab.control``) over its Unix socket, and the
listener's reply is returned. The route is authenticated and authorized like
the server's own kernel routes (resource "kernels"), so on JupyterHub only the
pupil who owns the server can stop its robots.

The same extension registers the Bluetooth relay's WebSocket,
``{base_url}robotlab/relay/{kernel_id}`` (``ble_bridge.relay.server``, docs/relay.md).

Enabled by ``etc/jupyter/jupyter_server_config.d/robotlab.json`` (installed
with the package) or ``jupyter server extension enable robotlab.server``.
"""

from __future__ import annotations

import asyncio
import json

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ble_bridge.relay import server as relay_server

from . import control

#: How long the server waits for a kernel's answer (s); the kernel answers in ms.
REPLY_TIMEOUT_S = 3.0


class ControlHandler(APIHandler):
    auth_resource = "kernels"

    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        if kernel_id not in self.kernel_manager:
            raise web.HTTPError(404, "no such kernel")
        try:
            request = control.parse_request(self.request.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise web.HTTPError(400, str(error)) from None
        kernel = self.kernel_manager.get_kernel(kernel_id)
        path = control.socket_path(kernel.connection_file)
        try:
            reply = await asyncio.wait_for(_ask(path, request), REPLY_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError):
            # The kernel has no robot view (nothing listens) or is gone.
            raise web.HTTPError(409, "the kernel has no RobotLab view") from None
        self.finish(json.dumps(reply))


async def _ask(path: str, request: dict) -> dict:
    reader, writer = await asyncio.open_unix_connection(path)
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        return json.loads((await reader.readline()).decode("utf-8"))
    finally:
        writer.close()


def _jupyter_server_extension_points():
    return [{"module": "robotlab.server"}]


def _load_jupyter_server_extension(serverapp) -> None:
    web_app = serverapp.web_app
    route = url_path_join(web_app.settings["base_url"], r"robotlab/api/control/([^/]+)")
    web_app.add_handlers(".*$", [(route, ControlHandler),
                                 *relay_server.handlers(web_app.settings["base_url"])])

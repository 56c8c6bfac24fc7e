"""The Connect panel: the pupil's browser tab connects the robot next to it to a kernel on the server.

On a Chromebook the kernel runs on JupyterHub and the robot's radio is in the
Chromebook (docs/relay.md). ``Robot("ble")`` on that path shows this panel
under the cell. In the browser (``static/connect.js``) the pupil clicks
**Forbind** / **Connect**; the panel asks Chrome for the robot with Web
Bluetooth, connects to it, opens the relay's WebSocket on the Jupyter server,
pairs with the kernel using the one-time ``token`` and from then on carries
the robot's bytes both ways: the RobotLab protocol over the Nordic UART
Service, or LEGO Wireless Protocol 3.0 over a LEGO hub's Hub Service
(``kinds`` says which the chooser lists). It shows the robot's name, its
battery and the state of the link, and a red Stop button that writes the
robot's stop straight from the browser: STOP_ALL (``stop_frame``) to a
RobotLab robot, StartPower(0) per motor to a LEGO hub (the kernel sends those
frames once the hub has reported its motors).

The kernel side only makes the panel; everything it does happens in the page,
so it keeps working while the pupil's cell runs. Its texts come from the
message table (keys ``connect_*``) in the pupil's language; texts with
``{name}`` or ``{error}`` are filled in by the page.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from .i18n import language, table

STATIC = Path(__file__).with_name("static")

#: Every text the panel shows: the message ``connect_x`` is the label ``x``.
LABEL_KEYS = (
    "connect_title", "connect_button", "connect_stop", "connect_robot", "connect_battery",
    "connect_state_idle", "connect_state_connecting", "connect_state_connected",
    "connect_state_reconnecting", "connect_state_lost", "connect_moving",
    "connect_hint", "connect_hint_named", "connect_stopped",
    "connect_no_web_bluetooth", "connect_blocked", "connect_cancelled", "connect_bluetooth_off",
    "connect_failed", "connect_refused", "connect_busy", "connect_no_relay",
    "connect_kernel_gone", "connect_gatt_gone", "connect_closed",
)


def labels(lang: str | None = None) -> dict[str, str]:
    """The panel's texts in ``lang`` (default: the pupil's language), placeholders left in
    for the page to fill.

    Example: ``labels("en")["button"]`` is ``"Connect"``.
    """
    lang = lang or language()
    messages = table()
    return {key[len("connect_"):]: messages[key].get(lang) or messages[key]["da"]
            for key in LABEL_KEYS}


class ConnectPanel(anywidget.AnyWidget):
    """The Connect panel of one pairing: shown by ``Robot("ble")`` when the robot is reached
    through the browser.

    ``kernel_id`` is the Jupyter server's id of this kernel (the WebSocket's address),
    ``token`` the one-time pairing token, ``wanted`` the robot name the pupil's code asked
    for (or None), ``stop_frame`` the bytes of a STOP_ALL frame, ``kinds`` the robots
    Chrome's chooser lists: ``"robotlab"`` (RobotLab robots, micro:bits) and/or ``"lego"``
    (LEGO hubs).

    Example (what the relay does for ``Robot("ble")``)::

        from IPython.display import display
        panel = ConnectPanel(kernel_id=kernel_id, token=token, wanted="RobotLab-07",
                             stop_frame=encode(StopAll(), 0))
        display(panel)
    """

    _esm = STATIC / "connect.js"
    _css = STATIC / "connect.css"
    kernel_id = traitlets.Unicode("").tag(sync=True)
    token = traitlets.Unicode("").tag(sync=True)
    wanted = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: STOP_ALL as a hex string, e.g. "042200a1".
    stop_frame = traitlets.Unicode("").tag(sync=True)
    kinds = traitlets.List(traitlets.Unicode(), default_value=["robotlab"]).tag(sync=True)
    labels = traitlets.Dict().tag(sync=True)

    def __init__(self, *, kernel_id: str, token: str, wanted: str | None, stop_frame: bytes,
                 kinds=("robotlab",), **kwargs):
        super().__init__(kernel_id=kernel_id, token=token, wanted=wanted,
                         stop_frame=bytes(stop_frame).hex(), kinds=list(kinds),
                         labels=kwargs.pop("labels", None) or labels(), **kwargs)

    def __repr__(self) -> str:
        return f"<RobotLab Connect panel for {self.wanted or 'a robot'}>"

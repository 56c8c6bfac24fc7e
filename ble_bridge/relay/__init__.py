"""The browser relay: a robot next to the pupil's Chromebook, a kernel on the school's server.

The pupil's tab talks to the robot with Web Bluetooth (the Connect panel,
``robotlab.connect``) and carries RobotLab protocol bytes over a WebSocket of
the Jupyter server (``ble_bridge.relay.server``) to a listener thread in the
kernel (``ble_bridge.relay.kernel``), where bleak backend classes
(``ble_bridge.relay.bleak_backend``) let ``ble_bridge.transport.RobotLink``
drive the robot unchanged. See docs/relay.md.

    listener = RelayListener.for_kernel(connection_file)
    token = listener.mint_token()            # for the Connect panel
    RobotLink(*backends(listener)) ...       # as with any bleak backend

``server`` needs jupyter_server and is not imported here.
"""

__all__ = ["RelayListener", "PAIRING_TOKEN_TTL_S", "socket_path", "kernel_id_of",
           "backends", "RelayBleakScanner", "RelayBleakClient"]

from .bleak_backend import RelayBleakClient, RelayBleakScanner, backends
from .kernel import PAIRING_TOKEN_TTL_S, RelayListener, kernel_id_of, socket_path

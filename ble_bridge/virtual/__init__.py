"""Virtual Bluetooth LE for tests and emulation: virtual robots reached through bleak.

Everything runs in one process on Bumble's in-process stack (a ``LocalLink``
between emulated controllers): no adapter, no D-Bus, no network.

    radio = VirtualRadio()
    robot = NusPeripheral(radio, "RobotLab-07", on_receive=print)
    robot.start()
    scanner_backend, client_backend = backends(radio)
    # ... BleakScanner(backend=scanner_backend), BleakClient(device, backend=client_backend)
    radio.close()

The radio runs Bumble on its own loop in its own thread; bleak may be used
from any other thread's loop. Needs the ``emulate`` extra (bumble).
"""

__all__ = [
    "VirtualRadio",
    "NusPeripheral", "nus_advertising_data", "LEGACY_ADVERTISING_MAX",
    "backends", "VirtualBleakScanner", "VirtualBleakClient", "DEFAULT_MTU",
]

from .bleak_backend import DEFAULT_MTU, VirtualBleakClient, VirtualBleakScanner, backends
from .peripheral import LEGACY_ADVERTISING_MAX, NusPeripheral, nus_advertising_data
from .radio import VirtualRadio

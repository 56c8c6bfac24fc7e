"""bleak backends over the browser relay: RobotLink reaches a robot through the pupil's tab.

    listener = RelayListener.for_kernel(connection_file)
    scanner_backend, client_backend = backends(listener)
    link = RobotLink(scanner_backend=scanner_backend, client_backend=client_backend)
    link.connect("RobotLab-07")

The scanner "sees" the robots that paired tabs hold connected and no client
uses (as a real robot advertises only while no central is connected). The
client offers the robot's Nordic UART Service as the panel found it: RX is
written (each write becomes one binary WebSocket message, which the panel
writes with ``writeValueWithoutResponse``), TX notifies (each binary message
from the tab is one notification). Web Bluetooth does not tell the page the
ATT MTU, so the client reports the minimum (23): frames stay within 20 bytes.

A lost link for RobotLink is any of: the tab reports ``gatt disconnected``,
its WebSocket closes (tab closed or reloaded), or the kernel socket breaks.
A tab that pairs again (the panel reconnected GATT, or a reloaded tab used its
resume token) makes the robot visible again, so RobotLink's reconnect finds it.

The panel shows whether the robot moves: the client reads the frames it
relays (never changing them) and tells the tab ``status`` "moving" when a
move, turn or drive goes out and "ready" when the robot reports the last one
done or a stop goes out; "lost" when the kernel lets go of the robot.

Callbacks come from the listener's thread and are posted to the loop that
connected the client, where bleak expects them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from ..gatt import NUS_RX_UUID, NUS_SERVICE_UUID, NUS_TX_UUID
from ..messages import Decoded, Done, Drive, MoveStraight, Stop, StopAll, Turn
from ..reader import FrameReader
from .kernel import RelayListener

logger = logging.getLogger(__name__)

#: The ATT MTU assumed: Web Bluetooth does not expose the negotiated one.
RELAY_MTU = 23
ATT_HEADER_SIZE = 3
#: The signal strength reported for a robot a tab holds (it is next to the pupil).
RSSI = -50
_SERVICE_HANDLE, _RX_HANDLE, _TX_HANDLE = 1, 3, 5


def backends(listener: RelayListener) -> tuple[type[RelayBleakScanner], type[RelayBleakClient]]:
    """Scanner and client backend classes that reach robots through ``listener``'s tabs.

    Pass them as ``BleakScanner(backend=...)`` and ``BleakClient(..., backend=...)``.
    """
    scanner = type("RelayBleakScanner", (RelayBleakScanner,), {"_listener": listener})
    client = type("RelayBleakClient", (RelayBleakClient,), {"_listener": listener})
    return scanner, client


def _post(loop: asyncio.AbstractEventLoop, fn: Callable[..., object], *args: object) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        logger.debug("dropped %r: its event loop is closed", fn)


class RelayBleakScanner(BaseBleakScanner):
    """A bleak scanner backend that sees the robots held by paired tabs; see ``backends``."""

    _listener: ClassVar[RelayListener | None] = None

    def __init__(self, detection_callback: AdvertisementDataCallback | None,
                 service_uuids: list[str] | None, scanning_mode: str = "active",
                 **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        if self._listener is None:
            raise BleakError("use the classes from ble_bridge.relay.backends(listener)")
        self._bound_listener: RelayListener = self._listener
        self._unwatch: Callable[[], None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        loop = asyncio.get_running_loop()
        self._unwatch = self._bound_listener.watch(lambda name: _post(loop, self._deliver, name))

    async def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

    def _deliver(self, name: str) -> None:
        if self._unwatch is None:
            return      # stopped since
        adv = AdvertisementData(local_name=name, manufacturer_data={}, service_data={},
                                service_uuids=[NUS_SERVICE_UUID], tx_power=None, rssi=RSSI,
                                platform_data=())
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        device = self.create_or_update_device(name, name, name, name, adv)
        self.call_detection_callbacks(device, adv)


class RelayBleakClient(BaseBleakClient):
    """A bleak client backend whose GATT operations travel through a paired tab.

    Its address is the robot's name, as the relay scanner reports it. ``connect``
    fails with BleakDeviceNotFoundError while no tab holds the robot free.
    """

    _listener: ClassVar[RelayListener | None] = None

    def __init__(self, address_or_ble_device: BLEDevice | str, *,
                 disconnected_callback: Callable[[], None] | None = None,
                 timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        if self._listener is None:
            raise BleakError("use the classes from ble_bridge.relay.backends(listener)")
        self._bound_listener: RelayListener = self._listener
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sink: _Sink | None = None
        self._notify: NotifyCallback | None = None
        self._motion = _MotionWatch()

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        return RELAY_MTU

    @property
    def is_connected(self) -> bool:
        return self._sink is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if pair:
            raise NotImplementedError("pairing happens in the browser's chooser")
        if self._sink is not None:
            return
        self._loop = asyncio.get_running_loop()
        sink = _Sink(self)
        if not self._bound_listener.attach(self.address, sink):
            raise BleakDeviceNotFoundError(
                self.address, f"no browser tab holds {self.address} connected")
        self._sink = sink
        self._motion = _MotionWatch()
        self.services = _nus_services(lambda: RELAY_MTU - ATT_HEADER_SIZE)

    async def disconnect(self) -> None:
        sink = self._sink
        if sink is not None:
            self._bound_listener.detach(self.address, sink, status="lost")
            self._lost(sink)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("pairing happens in the browser's chooser")

    async def unpair(self) -> None:
        raise NotImplementedError("pairing happens in the browser's chooser")

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        raise BleakError("the relay carries the UART only; nothing is readable")

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        raise BleakError("the relay carries the UART only; nothing is readable")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic,
                              data: SizedBuffer, response: bool) -> None:
        sink = self._sink
        if characteristic.handle != _RX_HANDLE:
            raise BleakError(f"characteristic {characteristic.uuid} is not writable")
        if sink is None or not self._bound_listener.send(self.address, sink, bytes(data)):
            raise BleakError(f"{self.address}: not connected")
        self._tell_status(self._motion.sent(bytes(data)))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        raise BleakError("the relay carries the UART only; descriptors are the browser's")

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        if characteristic.handle != _TX_HANDLE:
            raise BleakError(f"characteristic {characteristic.uuid} does not notify")
        # The panel started TX notifications before it paired.
        self._notify = callback

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._notify = None

    # -- the client's loop ---------------------------------------------------------------

    def _received(self, sink: _Sink, data: bytes) -> None:
        if sink is self._sink and self._notify is not None:
            self._notify(bytearray(data))
            self._tell_status(self._motion.received(data))

    def _tell_status(self, state: str | None) -> None:
        if state is not None:
            self._bound_listener.tell(self.address, {"type": "status", "state": state})

    def _lost(self, sink: _Sink) -> None:
        if sink is not self._sink:
            return
        self._sink = None
        self.services = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()


class _Sink:
    """One attachment of a client to a tab; the listener thread calls it."""

    def __init__(self, client: RelayBleakClient):
        self._client = client

    def received(self, data: bytes) -> None:
        _post(self._client._loop, self._client._received, self, data)

    def lost(self) -> None:
        _post(self._client._loop, self._client._lost, self)


class _MotionWatch:
    """Whether the robot moves, read from the frames relayed; a new state or None."""

    def __init__(self) -> None:
        self._to_robot, self._from_robot = FrameReader(), FrameReader()
        self._moving_seq: int | None = None

    def sent(self, data: bytes) -> str | None:
        state = None
        for item in self._to_robot.feed(data):
            if not isinstance(item, Decoded):
                continue
            message = item.message
            if isinstance(message, (MoveStraight, Turn)) or (
                    isinstance(message, Drive) and (message.left_percent or message.right_percent)):
                state = "moving" if self._moving_seq is None else None
                self._moving_seq = item.seq
            elif isinstance(message, (Stop, StopAll, Drive)) and self._moving_seq is not None:
                self._moving_seq, state = None, "ready"
        return state

    def received(self, data: bytes) -> str | None:
        for item in self._from_robot.feed(data):
            if (isinstance(item, Decoded) and isinstance(item.message, Done)
                    and item.seq == self._moving_seq):
                self._moving_seq = None
                return "ready"
        return None


def _nus_services(max_write_size: Callable[[], int]) -> BleakGATTServiceCollection:
    """The Nordic UART Service as the panel holds it: RX written, TX notifying."""
    collection = BleakGATTServiceCollection()
    service = BleakGATTService(None, _SERVICE_HANDLE, NUS_SERVICE_UUID)
    collection.add_service(service)
    for handle, uuid, properties in ((_RX_HANDLE, NUS_RX_UUID, ["write", "write-without-response"]),
                                     (_TX_HANDLE, NUS_TX_UUID, ["notify"])):
        collection.add_characteristic(BleakGATTCharacteristic(
            None, handle, uuid, properties, max_write_size, service))
    return collection

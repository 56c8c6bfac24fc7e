"""bleak backends over the browser relay: RobotLink reaches a robot through the pupil's tab.

    listener = RelayListener.for_kernel(connection_file)
    scanner_backend, client_backend = backends(listener)
    link = RobotLink(scanner_backend=scanner_backend, client_backend=client_backend)
    link.connect("RobotLab-07")

The scanner "sees" the robots that paired tabs hold connected and no client
uses (as a real robot advertises only while no central is connected), each
advertising the one service its tab holds it by. The client offers that
service as the panel found it:

- a RobotLab robot's Nordic UART Service: RX is written (each write becomes
  one binary WebSocket message, which the panel writes with
  ``writeValueWithoutResponse``), TX notifies (each binary message from the
  tab is one notification);
- a LEGO hub's LWP3 Hub Service: its one characteristic is written and
  notifies. Web Bluetooth does not pass LEGO's manufacturer data on, so the
  advertisement names the service only and ``HubLink`` asks the hub its kind.
  A hub reports its attached devices once, when notifications are switched
  on, and the panel switched them on before it paired: ``start_notify`` asks
  the panel (``resend_attached``) to send those reports again and returns
  when the panel says it has (``resent``, after the reports on the same
  WebSocket), so ``HubLink`` knows the hub's devices when it goes on.

Web Bluetooth does not tell the page the ATT MTU, so the client reports the
minimum (23): frames stay within 20 bytes.

A lost link for RobotLink is any of: the tab reports ``gatt disconnected``,
its WebSocket closes (tab closed or reloaded), or the kernel socket breaks.
A tab that pairs again (the panel reconnected GATT, or a reloaded tab used its
resume token) makes the robot visible again, so RobotLink's reconnect finds it.

The panel shows whether the robot moves: the client reads the frames it
relays (never changing them) and tells the tab ``status`` "moving" when a
move, turn or drive goes out and "ready" when the robot reports the last one
done or a stop goes out; "lost" when the kernel lets go of the robot. For a
LEGO hub it also tells the tab the hub's battery (``battery``, from the hub's
property updates) and what its Stop button writes (``stop``: StartPower(0),
braking, on every motor port the hub reported): the hub has no Stop of its own.

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
from ..lwp3 import messages as lwp3
from ..lwp3.constants import (HUB_CHARACTERISTIC_UUID, Feedback, HubProperty, IoEvent,
                              PropertyOperation)
from ..lwp3.devices import TACHO_MOTORS
from ..messages import Decoded, Done, Drive, MoveStraight, Stop, StopAll, Turn
from ..reader import FrameReader
from .kernel import LWP3_SERVICE, RelayListener

logger = logging.getLogger(__name__)

#: The ATT MTU assumed: Web Bluetooth does not expose the negotiated one.
RELAY_MTU = 23
ATT_HEADER_SIZE = 3
#: The signal strength reported for a robot a tab holds (it is next to the pupil).
RSSI = -50
_SERVICE_HANDLE, _RX_HANDLE, _TX_HANDLE = 1, 3, 5
#: The LEGO Hub Characteristic's handle: written and notifying.
_HUB_HANDLE = 3
#: Seconds ``start_notify`` waits for the panel to resend a hub's Attached I/O reports.
RESEND_WAIT_S = 2.0


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
        service = self._bound_listener.service_of(name)
        if self._unwatch is None or service is None:
            return      # stopped since, or the tab is gone
        adv = AdvertisementData(local_name=name, manufacturer_data={}, service_data={},
                                service_uuids=[service], tx_power=None, rssi=RSSI,
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
        self._hub = False
        self._resent = asyncio.Event()
        self._motion: _MotionWatch | _HubWatch = _MotionWatch()

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
        self._hub = self._bound_listener.service_of(self.address) == LWP3_SERVICE
        self._motion = _HubWatch() if self._hub else _MotionWatch()
        max_write_size = lambda: RELAY_MTU - ATT_HEADER_SIZE  # noqa: E731
        self.services = _hub_services(max_write_size) if self._hub else \
            _nus_services(max_write_size)

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
        if characteristic.handle != (_HUB_HANDLE if self._hub else _RX_HANDLE):
            raise BleakError(f"characteristic {characteristic.uuid} is not writable")
        if sink is None or not self._bound_listener.send(self.address, sink, bytes(data)):
            raise BleakError(f"{self.address}: not connected")
        self._tell(self._motion.sent(bytes(data)))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        raise BleakError("the relay carries the UART only; descriptors are the browser's")

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        if characteristic.handle != (_HUB_HANDLE if self._hub else _TX_HANDLE):
            raise BleakError(f"characteristic {characteristic.uuid} does not notify")
        # The panel started TX notifications before it paired.
        self._notify = callback
        if self._hub:
            # ... so the hub's attached-device reports went to the panel alone.
            self._resent = asyncio.Event()
            self._bound_listener.tell(self.address, {"type": "resend_attached"})
            try:
                await asyncio.wait_for(self._resent.wait(), RESEND_WAIT_S)
            except TimeoutError:
                logger.debug("%s: the panel did not resend the hub's reports", self.address)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._notify = None

    # -- the client's loop ---------------------------------------------------------------

    def _received(self, sink: _Sink, data: bytes) -> None:
        if sink is self._sink and self._notify is not None:
            self._notify(bytearray(data))
            self._tell(self._motion.received(data))

    def _resent_by(self, sink: _Sink) -> None:
        if sink is self._sink:
            self._resent.set()

    def _tell(self, messages: list[dict]) -> None:
        for message in messages:
            self._bound_listener.tell(self.address, message)

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

    def resent(self) -> None:
        _post(self._client._loop, self._client._resent_by, self)


def _status(state: str | None) -> list[dict]:
    return [] if state is None else [{"type": "status", "state": state}]


class _MotionWatch:
    """Whether a RobotLab robot moves, read from the frames relayed: the messages for the tab."""

    def __init__(self) -> None:
        self._to_robot, self._from_robot = FrameReader(), FrameReader()
        self._moving_seq: int | None = None

    def sent(self, data: bytes) -> list[dict]:
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
        return _status(state)

    def received(self, data: bytes) -> list[dict]:
        for item in self._from_robot.feed(data):
            if (isinstance(item, Decoded) and isinstance(item.message, Done)
                    and item.seq == self._moving_seq):
                self._moving_seq = None
                return _status("ready")
        return []


def hub_stop_frames(motor_ports) -> list[str]:
    """What the panel's Stop writes to a LEGO hub: StartPower(0) (brake) per motor port, as hex,
    without feedback (no command of the kernel's waits for it)."""
    return [lwp3.encode(lwp3.PortOutputCommand(port, lwp3.start_power(0), feedback=False)).hex()
            for port in sorted(motor_ports)]


def _runs_motor(command) -> bool | None:
    """Whether a motor sub-command makes the motor turn (True), stops it (False), or neither."""
    if isinstance(command, lwp3.StartSpeed):
        return command.speed != 0
    if isinstance(command, (lwp3.StartSpeedForTime, lwp3.StartSpeedForDegrees,
                            lwp3.StartSpeedForDegrees2, lwp3.GotoAbsolutePosition)):
        return True
    if isinstance(command, lwp3.WriteDirectModeData) and command.mode == 0 and len(command.data) == 1:
        return command.data[0] not in (0, 127)      # StartPower: 0 brakes, 127 floats
    return None


class _HubWatch:
    """What a LEGO hub does, read from the LWP3 messages relayed: the messages for the tab.

    Every write and every notification is one whole LWP3 message (3.1).
    """

    def __init__(self) -> None:
        self._motors: set[int] = set()         # ports with a motor attached
        self._moving: set[int] = set()         # motor ports told to turn, not yet idle

    def _becomes(self, was_moving: bool) -> list[dict]:
        if bool(self._moving) != was_moving:
            return _status("moving" if self._moving else "ready")
        return []

    def sent(self, data: bytes) -> list[dict]:
        try:
            message = lwp3.decode(data)
        except lwp3.LwpError:
            return []
        if not isinstance(message, lwp3.PortOutputCommand) or message.port not in self._motors:
            return []
        was_moving = bool(self._moving)
        runs = _runs_motor(message.command)
        if runs:
            self._moving.add(message.port)
        elif runs is False:
            self._moving.discard(message.port)
        return self._becomes(was_moving)

    def received(self, data: bytes) -> list[dict]:
        try:
            message = lwp3.decode(data)
        except lwp3.LwpError:
            return []
        if isinstance(message, lwp3.HubAttachedIo):
            motors = set(self._motors)
            if message.event is not IoEvent.DETACHED and message.io_type in TACHO_MOTORS:
                motors.add(message.port)
            else:
                motors.discard(message.port)
            if motors == self._motors:
                return []
            self._motors = motors
            return [{"type": "stop", "frames": hub_stop_frames(motors)}]
        if (isinstance(message, lwp3.HubProperties)
                and message.property is HubProperty.BATTERY_VOLTAGE
                and message.operation is PropertyOperation.UPDATE):
            try:
                return [{"type": "battery", "percent": int(message.value)}]
            except lwp3.LwpError:
                return []
        if isinstance(message, lwp3.PortOutputCommandFeedback):
            was_moving = bool(self._moving)
            for port, bits in message.entries:
                if bits & Feedback.IDLE:
                    self._moving.discard(port)
            return self._becomes(was_moving)
        return []


def _hub_services(max_write_size: Callable[[], int]) -> BleakGATTServiceCollection:
    """The LEGO Hub Service as the panel holds it: one characteristic, written and notifying."""
    collection = BleakGATTServiceCollection()
    service = BleakGATTService(None, _SERVICE_HANDLE, LWP3_SERVICE)
    collection.add_service(service)
    collection.add_characteristic(BleakGATTCharacteristic(
        None, _HUB_HANDLE, HUB_CHARACTERISTIC_UUID, ["write", "write-without-response", "notify"],
        max_write_size, service))
    return collection


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

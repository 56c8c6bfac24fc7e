"""A virtual LEGO hub speaking LWP3: a Bumble GATT server on a ``VirtualRadio``.

It offers the LEGO Hub Service with its one characteristic (written and
notified), advertises LEGO's manufacturer data with the hub's kind, and
answers as LEGO Wireless Protocol 3.0.00 describes: Hub Properties, Hub
Actions, Hub Attached I/O for every device when the central subscribes, Port
Input Format Setup (Single) with its reply and Port Values per the
subscription's delta, Port Information Request for a value now, and Port
Output Commands with the buffering state machine's feedback (4.1: in progress,
completed, discarded). Errors come back as Generic Error messages.

What the devices do is not decided here: the hub drives a ``HubBody`` (its
motors, sensors and lights, per port), which the owner provides: in tests, a
simulated drive base (``tests/robotlab/test_lego_e2e.py``), since ``ble_bridge``
never imports the simulator.

Like a real hub it has **no watchdog**: motors keep doing what they were told
when the link is lost. Callbacks and the hub's clock run on the radio loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bumble.core import UUID, AdvertisingData, BaseBumbleError
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

from ..lwp3 import (HUB_CHARACTERISTIC_UUID, HUB_SERVICE_UUID, EndState, ErrorCode, Feedback,
                    GenericError, GotoAbsolutePosition, HubAction, HubActionType,
                    HubAdvertisement, HubAttachedIo, HubKind, HubProperties, HubProperty,
                    InformationType, IoEvent, LwpError, PortInformationRequest,
                    PortInputFormatSetupSingle, PortInputFormatSingle, PortOutputCommand,
                    PortOutputCommandFeedback, PortValueSingle, PropertyOperation, StartSpeed,
                    StartSpeedForDegrees, StartSpeedForTime, Version, WriteDirectModeData, decode,
                    encode, encode_version)
from ..lwp3.constants import LWP_VERSION_BCD, MAX_NAME_SIZE, IoType
from ..lwp3.devices import LEGO_COLOURS, TACHO_MOTORS
from .pacing import TICK_S, real_time_steps
from .peripheral import drop_link
from .radio import VirtualRadio

logger = logging.getLogger(__name__)

#: The revision every virtual device reports in Hub Attached I/O.
DEVICE_REVISION = encode_version(Version(1, 0, 0, 0))
FIRMWARE_VERSION = Version(1, 1, 0, 0)
HARDWARE_VERSION = Version(0, 4, 0, 0)
#: Display colours of LEGO's colour numbers, for an RGB light told a number.
COLOUR_RGB = {"black": (0, 0, 0), "pink": (255, 80, 160), "purple": (140, 50, 180),
              "blue": (30, 80, 220), "light_blue": (100, 170, 255), "cyan": (0, 200, 200),
              "green": (40, 170, 60), "yellow": (245, 215, 30), "orange": (245, 140, 20),
              "red": (220, 30, 30), "white": (255, 255, 255)}


class HubBody(Protocol):
    """The devices on a virtual hub's ports. Degrees, percent, ms; ports are numbers.

    Speeds are -100..100 % of the motor's top speed, positive clockwise.
    ``advance`` lets ``dt_s`` seconds pass for every device.
    """

    def devices(self) -> dict[int, int]: ...               # {port: IoType}
    def start_speed(self, port: int, speed: int) -> None: ...
    def start_speed_for_time(self, port: int, time_ms: int, speed: int,
                             end_state: EndState) -> None: ...
    def start_speed_for_degrees(self, port: int, degrees: int, speed: int,
                                end_state: EndState) -> None: ...
    def goto_position(self, port: int, position: int, speed: int, end_state: EndState) -> None: ...
    def stop(self, port: int, end_state: EndState) -> None: ...
    def busy(self, port: int) -> bool: ...                 # a timed or positioned command runs
    def preset(self, port: int, position: int) -> None: ...
    def value(self, port: int, mode: int) -> bytes: ...    # the mode's value, as the hub sends it
    def modes(self, port: int) -> set[int]: ...            # the readable modes
    def set_light(self, port: int, rgb: tuple[int, int, int]) -> None: ...
    def advance(self, dt_s: float) -> None: ...


def hub_advertising_data(name: str, hub_kind: int) -> bytes:
    """The hub's advertisement: the LEGO Hub Service, LEGO's manufacturer data and the name.

    A real hub sends the name in its scan response, which bleak merges with
    the advertisement. Bumble's emulated controller has no separate scan
    response (it repeats the advertising data), so everything goes into one
    PDU; that is 30 bytes plus the name, more than a legacy controller
    allows, and exactly what bleak reports for a real hub.
    """
    return bytes(AdvertisingData([
        (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
         UUID(HUB_SERVICE_UUID).to_bytes(force_128=True)),
    ])) + HubAdvertisement(hub_kind).ad_structure() + bytes(AdvertisingData([
        (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode("utf-8")),
    ]))


class VirtualHub:
    """A LWP3 hub named ``name`` of kind ``hub_kind`` whose ports are ``body``'s devices.

    ``start()`` powers it on and advertises; ``stop()`` switches it off.
    ``received`` lists every message it decoded, in order (for tests);
    ``switched_off`` is True after a Switch Off Hub action. ``drop_link()``
    ends the link from the hub's side, as a hub out of range would.
    """

    def __init__(self, radio: VirtualRadio, body: HubBody, *, name: str = "Technic Hub",
                 hub_kind: int = HubKind.TECHNIC_HUB, battery_percent: int = 87,
                 advertising_interval_s: float = 0.1):
        if not 1 <= len(name.encode("utf-8")) <= MAX_NAME_SIZE:
            raise ValueError(f"a hub name is 1-{MAX_NAME_SIZE} bytes, not {name!r}")
        self.radio, self.body, self.name, self.hub_kind = radio, body, name, hub_kind
        self.battery_percent = battery_percent
        self.advertising_interval_s = advertising_interval_s
        self.received: list = []
        self.switched_off = False
        self._characteristic = Characteristic(
            HUB_CHARACTERISTIC_UUID,
            Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
            | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_write))
        self._characteristic.on(Characteristic.EVENT_SUBSCRIPTION, self._on_subscription)
        self._service = Service(HUB_SERVICE_UUID, [self._characteristic])
        self._device: Device | None = None
        self._connection: Connection | None = None
        self._outbox: asyncio.Queue | None = None
        self._tasks: list[asyncio.Task] = []
        self._readvertising: asyncio.Task | None = None
        # Hub state (radio loop).
        self._running: dict[int, bool] = {}          # port -> feedback wanted, for finite commands
        self._subscriptions: dict[int, list] = {}    # port -> [mode, delta, last value sent]
        self._property_updates: set[HubProperty] = set()

    def __repr__(self) -> str:
        return f"<VirtualHub {self.name} {'connected' if self.is_connected else 'idle'}>"

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    @property
    def address(self) -> str | None:
        return self._device.random_address.to_string(False) if self._device else None

    # -- any thread ------------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> None:
        """Power on, advertise and start the hub's clock; blocks (not from the radio thread)."""
        self.radio.call(self._start(), timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Drop any link, stop advertising and the clock, leave the radio. Idempotent."""
        if self._device is not None and not self.radio.closed:
            self.radio.call(self._stop(), timeout)

    def drop_link(self):
        """End the link from the hub's side; does not block (a future, done when it is down)."""
        return self.radio.submit(self._drop_link())

    def set_battery(self, percent: int) -> None:
        """Change the battery level (0-100 %) and send it if the central enabled updates."""
        self.radio.call_soon(self._set_battery, percent)

    def on_radio(self, function):
        """``function()`` run on the radio loop (where the hub and its body live); its result."""
        async def run():
            return function()
        return self.radio.call(run())

    # -- radio loop: life cycle ------------------------------------------------------------------

    async def _start(self) -> None:
        device = await self.radio.create_device(self.name)
        device.add_service(self._service)
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        self._device = device
        self._outbox = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._send_in_order(), name=f"{self.name} sender"),
                       asyncio.create_task(self._clock(), name=f"{self.name} clock")]
        await self._advertise()

    async def _advertise(self) -> None:
        interval_ms = self.advertising_interval_s * 1000
        await self._device.start_advertising(
            advertising_data=hub_advertising_data(self.name, self.hub_kind),
            advertising_interval_min=interval_ms, advertising_interval_max=interval_ms)

    async def _stop(self) -> None:
        device, self._device = self._device, None
        if device is None:
            return
        self.switched_off = True
        if self._readvertising is not None:
            await asyncio.gather(self._readvertising, return_exceptions=True)
        await device.stop_advertising()
        await self._drop_link()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.radio.remove_device(device)

    async def _drop_link(self) -> None:
        await drop_link(self)

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        connection.on(Connection.EVENT_DISCONNECTION,
                      lambda reason: self._on_disconnection(connection))

    def _on_disconnection(self, connection: Connection) -> None:
        if connection is not self._connection:
            return
        self._connection = None
        # No watchdog: the motors go on. A new central sets up its own subscriptions.
        self._subscriptions.clear()
        self._property_updates.clear()
        self._running.clear()
        if self._device is not None and not self.switched_off:
            self._readvertising = asyncio.create_task(self._readvertise())

    async def _readvertise(self) -> None:
        try:
            await self._advertise()
        except BaseBumbleError:
            logger.exception("%s: advertising again failed", self.name)

    def _on_subscription(self, connection, notify_enabled: bool, indicate_enabled: bool) -> None:
        # A hub reports its attached devices as soon as the central listens.
        if notify_enabled:
            for port, io_type in sorted(self.body.devices().items()):
                self._send(HubAttachedIo(port, IoEvent.ATTACHED, io_type, DEVICE_REVISION,
                                         DEVICE_REVISION))

    def _send(self, message) -> None:
        if self._connection is not None and self._outbox is not None:
            self._outbox.put_nowait((self._connection, encode(message)))

    async def _send_in_order(self) -> None:
        while True:
            connection, data = await self._outbox.get()
            if connection is not self._connection or self._device is None:
                continue
            try:
                await self._device.notify_subscriber(connection, self._characteristic, data)
            except BaseBumbleError:
                logger.debug("%s: a notification was lost with the link", self.name)

    async def _clock(self) -> None:
        """The hub's clock (world steps, feedback, port values), paced to real time."""
        async for step_s in real_time_steps():
            self.body.advance(step_s)
            self._tick()

    # -- radio loop: the protocol -----------------------------------------------------------------

    def _on_write(self, connection: Connection, value: bytes) -> None:
        try:
            message = decode(bytes(value))
        except LwpError:
            message_type = value[2] if len(value) > 2 else 0
            self._send(GenericError(message_type, ErrorCode.INVALID_USE))
            return
        self.received.append(message)
        try:
            self._handle(message)
        except LwpError:
            self._send(GenericError(message.TYPE, ErrorCode.INVALID_USE))

    def _handle(self, message) -> None:
        if isinstance(message, HubProperties):
            self._hub_property(message)
        elif isinstance(message, HubAction):
            self._hub_action(message.action)
        elif isinstance(message, PortInputFormatSetupSingle):
            self._input_format(message)
        elif isinstance(message, PortInformationRequest):
            self._information(message)
        elif isinstance(message, PortOutputCommand):
            self._output(message)
        else:
            self._send(GenericError(message.TYPE, ErrorCode.COMMAND_NOT_RECOGNIZED))

    def _property_payload(self, prop: HubProperty) -> bytes:
        if prop is HubProperty.ADVERTISING_NAME:
            return self.name.encode("utf-8")
        if prop is HubProperty.BUTTON:
            return b"\x00"
        if prop in (HubProperty.FW_VERSION, HubProperty.HW_VERSION):
            version = FIRMWARE_VERSION if prop is HubProperty.FW_VERSION else HARDWARE_VERSION
            return encode_version(version).to_bytes(4, "little", signed=True)
        if prop is HubProperty.BATTERY_VOLTAGE:
            return bytes([self.battery_percent])
        if prop is HubProperty.MANUFACTURER_NAME:
            return b"LEGO System A/S"
        if prop is HubProperty.LWP_VERSION:
            return LWP_VERSION_BCD.to_bytes(2, "little")
        if prop is HubProperty.SYSTEM_TYPE_ID:
            return bytes([self.hub_kind])
        if prop is HubProperty.PRIMARY_MAC:
            return bytes.fromhex(self.address.replace(":", "")) if self.address else bytes(6)
        raise LwpError("bad_value", f"the virtual hub has no {prop.name}")

    def _hub_property(self, message: HubProperties) -> None:
        prop, operation = message.property, message.operation
        if operation is PropertyOperation.SET and prop is HubProperty.ADVERTISING_NAME:
            self.name = message.payload.decode("utf-8")[:MAX_NAME_SIZE]
            return
        if operation is PropertyOperation.DISABLE_UPDATES:
            self._property_updates.discard(prop)
            return
        if operation not in (PropertyOperation.REQUEST_UPDATE, PropertyOperation.ENABLE_UPDATES):
            raise LwpError("bad_value", f"{operation.name} is not for a hub to receive")
        if operation is PropertyOperation.ENABLE_UPDATES:
            self._property_updates.add(prop)
        self._send(HubProperties(prop, PropertyOperation.UPDATE, self._property_payload(prop)))

    def _set_battery(self, percent: int) -> None:
        self.battery_percent = percent
        if HubProperty.BATTERY_VOLTAGE in self._property_updates:
            self._send(HubProperties(HubProperty.BATTERY_VOLTAGE, PropertyOperation.UPDATE,
                                     bytes([percent])))

    def _hub_action(self, action: HubActionType) -> None:
        if action is HubActionType.SWITCH_OFF:
            self._send(HubAction(HubActionType.WILL_SWITCH_OFF))
            for port, io_type in self.body.devices().items():
                if io_type in TACHO_MOTORS:
                    self.body.stop(port, EndState.FLOAT)
            self.switched_off = True
            self._tasks.append(asyncio.create_task(self._switch_off()))
        elif action is HubActionType.DISCONNECT:
            self._send(HubAction(HubActionType.WILL_DISCONNECT))
            self._tasks.append(asyncio.create_task(self._after_outbox(self._drop_link())))
        else:
            raise LwpError("bad_value", f"the virtual hub does not do {action.name}")

    async def _after_outbox(self, coro) -> None:
        while self._outbox is not None and not self._outbox.empty():
            await asyncio.sleep(TICK_S)
        await coro

    async def _switch_off(self) -> None:
        await self._after_outbox(self._drop_link())
        if self._device is not None:
            await self._device.stop_advertising()

    def _input_format(self, setup: PortInputFormatSetupSingle) -> None:
        if setup.port not in self.body.devices() or setup.mode not in self.body.modes(setup.port):
            raise LwpError("bad_value", f"no mode {setup.mode} on port {setup.port}")
        if setup.notify:
            self._subscriptions[setup.port] = [setup.mode, setup.delta, None]
        else:
            self._subscriptions.pop(setup.port, None)
        self._send(PortInputFormatSingle(setup.port, setup.mode, setup.delta, setup.notify))
        self._send_value(setup.port)

    def _information(self, request: PortInformationRequest) -> None:
        if request.information_type is not InformationType.PORT_VALUE:
            raise LwpError("bad_value", "only port values are answered")
        if request.port not in self._subscriptions:
            raise LwpError("bad_value", f"port {request.port} has no input format set up")
        self._send(PortValueSingle.of((request.port, self._value(request.port))))

    def _value(self, port: int) -> bytes:
        return self.body.value(port, self._subscriptions[port][0])

    def _send_value(self, port: int) -> None:
        subscription = self._subscriptions.get(port)
        if subscription is None:
            return
        value = self._value(port)
        subscription[2] = value
        self._send(PortValueSingle.of((port, value)))

    def _output(self, message: PortOutputCommand) -> None:
        port, command = message.port, message.command
        io_type = self.body.devices().get(port)
        if io_type is None:
            raise LwpError("bad_value", f"nothing is attached to port {port}")
        if io_type == IoType.RGB_LIGHT and isinstance(command, WriteDirectModeData):
            if command.mode == 1 and len(command.data) == 3:
                self.body.set_light(port, tuple(command.data))
            elif command.mode == 0 and len(command.data) == 1 and command.data[0] in LEGO_COLOURS:
                self.body.set_light(port, COLOUR_RGB[LEGO_COLOURS[command.data[0]]])
            else:
                raise LwpError("bad_value", "an RGB light takes mode 0 or 1")
            self._instant(port, message.feedback)
            return
        if io_type not in TACHO_MOTORS:
            raise LwpError("bad_value", f"port {port} has no motor")
        body = self.body
        if isinstance(command, StartSpeedForDegrees):
            self._finite(port, message.feedback)
            body.start_speed_for_degrees(port, command.degrees, command.speed, command.end_state)
        elif isinstance(command, StartSpeedForTime):
            self._finite(port, message.feedback)
            body.start_speed_for_time(port, command.time_ms, command.speed, command.end_state)
        elif isinstance(command, GotoAbsolutePosition):
            self._finite(port, message.feedback)
            body.goto_position(port, command.position, command.speed, command.end_state)
        elif isinstance(command, StartSpeed):
            if command.speed == 0:
                body.stop(port, EndState.HOLD)
            else:
                body.start_speed(port, command.speed)
            self._instant(port, message.feedback)
        elif isinstance(command, WriteDirectModeData) and command.mode == 0 and len(command.data) == 1:
            power = int.from_bytes(command.data, "little", signed=True)
            if power in (0, 127):
                body.stop(port, EndState.BRAKE if power == 0 else EndState.FLOAT)
            else:
                body.start_speed(port, power)
            self._instant(port, message.feedback)
        elif isinstance(command, WriteDirectModeData) and command.mode == 2 and len(command.data) == 4:
            body.preset(port, int.from_bytes(command.data, "little", signed=True))
            if port in self._subscriptions:
                self._send_value(port)
            self._instant(port, message.feedback)
        else:
            raise LwpError("bad_value", f"the virtual hub does not run {command!r}")

    def _discard(self, port: int) -> tuple[bool, Feedback]:
        """Forget the port's running command: (its feedback was wanted, the discarded bit)."""
        if port in self._running:
            return self._running.pop(port), Feedback.DISCARDED
        return False, Feedback(0)

    def _finite(self, port: int, feedback: bool) -> None:
        wanted, discarded = self._discard(port)
        self._running[port] = feedback
        if feedback or wanted:
            self._send(PortOutputCommandFeedback(((port, Feedback.IN_PROGRESS | discarded),)))

    def _instant(self, port: int, feedback: bool) -> None:
        wanted, discarded = self._discard(port)
        if feedback or wanted:
            self._send(PortOutputCommandFeedback(
                ((port, Feedback.COMPLETED | Feedback.IDLE | discarded),)))

    def _tick(self) -> None:
        for port, wanted in list(self._running.items()):
            if not self.body.busy(port):
                del self._running[port]
                if wanted:
                    self._send(PortOutputCommandFeedback(((port, Feedback.COMPLETED | Feedback.IDLE),)))
        for port, (mode, delta, last) in list(self._subscriptions.items()):
            value = self.body.value(port, mode)
            if last is None or _changed_by(value, last, len(value), delta):
                self._send_value(port)


def _changed_by(value: bytes, last: bytes, size: int, delta: int) -> bool:
    """Whether the first number of a value moved ``delta`` or more since ``last``."""
    if size == 1:
        now, before = int.from_bytes(value[:1], "little", signed=True), \
            int.from_bytes(last[:1], "little", signed=True)
    elif size == 2:
        now, before = (int.from_bytes(v[:2], "little", signed=True) for v in (value, last))
    else:
        now, before = (int.from_bytes(v[:4], "little", signed=True) for v in (value, last))
    return abs(now - before) >= max(1, delta)


__all__ = ["VirtualHub", "HubBody", "hub_advertising_data", "TICK_S"]

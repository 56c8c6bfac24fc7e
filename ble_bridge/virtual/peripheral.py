"""A virtual robot's Bluetooth side: a Bumble peripheral offering the Nordic UART Service.

What the robot does with the bytes it receives is not decided here: the
peripheral hands every write to ``on_receive`` and sends what it is given with
``notify``. Callbacks run on the radio loop; the other methods may be called
from any thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable

from bumble import hci
from bumble.core import UUID, AdvertisingData, BaseBumbleError
from bumble.device import Connection, Device
from bumble.gatt import (GATT_BATTERY_LEVEL_CHARACTERISTIC, GATT_BATTERY_SERVICE, Characteristic,
                         CharacteristicValue, Service)

from ..gatt import NUS_RX_UUID, NUS_SERVICE_UUID, NUS_TX_UUID, UartRoles, is_microbit_name
from .radio import VirtualRadio

logger = logging.getLogger(__name__)

#: Bytes of AD structures a legacy advertising PDU can carry.
LEGACY_ADVERTISING_MAX = 31
#: ATT header bytes in a write or notification: the payload is at most MTU - 3.
ATT_HEADER_SIZE = 3


def nus_advertising_data(name: str) -> bytes:
    """Advertising data with the complete local name and the NUS service UUID.

    Everything goes into the advertising data because Bumble's emulated
    controller never sends a scan response (it repeats the advertising data
    instead). "RobotLab-07" (13 bytes as an AD structure) plus the 128-bit
    UUID list (18 bytes) is exactly the legacy limit of 31 bytes, with no
    room for a Flags structure; Bumble does not enforce the limit, real
    controllers do, so it is checked here. Raises ValueError when it is
    exceeded, i.e. for names longer than 11 bytes.
    """
    data = bytes(AdvertisingData([
        (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode("utf-8")),
        (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
         UUID(NUS_SERVICE_UUID).to_bytes(force_128=True)),
    ]))
    if len(data) > LEGACY_ADVERTISING_MAX:
        raise ValueError(f"the name {name!r} makes the advertising data {len(data)} bytes long; "
                         f"legacy advertising allows {LEGACY_ADVERTISING_MAX}, so at most "
                         f"{len(name.encode('utf-8')) - len(data) + LEGACY_ADVERTISING_MAX} "
                         "bytes of name")
    return data


def microbit_advertising_data(name: str) -> bytes:
    """Advertising data as the micro:bit runtime makes it: Flags and the complete local name,
    no service UUIDs ("BBC micro:bit [zatug]" is 21 bytes: 3 + 23 = 26 of 31).

    Raises ValueError when it exceeds the legacy limit of 31 bytes.
    """
    data = bytes(AdvertisingData([
        (AdvertisingData.FLAGS, bytes([AdvertisingData.LE_GENERAL_DISCOVERABLE_MODE_FLAG
                                       | AdvertisingData.BR_EDR_NOT_SUPPORTED_FLAG])),
        (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode("utf-8")),
    ]))
    if len(data) > LEGACY_ADVERTISING_MAX:
        raise ValueError(f"the name {name!r} makes the advertising data {len(data)} bytes long; "
                         f"legacy advertising allows {LEGACY_ADVERTISING_MAX}")
    return data


class NusPeripheral:
    """A connectable peripheral advertising ``name`` with a NUS GATT server.

    The characteristic the central writes to accepts write and
    write-without-response; the other one notifies (or indicates, with
    ``indicate=True``). With ``swap_roles=True`` the two UUIDs change roles as
    on the BBC micro:bit (6E400002 sends, 6E400003 is written), so clients
    must pick the characteristics by their properties; a micro:bit also
    indicates rather than notifies, which is ``indicate=True``.

    A peripheral named as MakeCode names a micro:bit ("BBC micro:bit [zatug]")
    advertises as the micro:bit runtime does: Flags and its name, no service
    UUIDs (``microbit_advertising_data``); it indicates unless ``indicate=False``.

    One central at a time, as on a real robot: advertising stops while
    connected and starts again after every disconnection.

    Besides the UART, the robot offers the standard Battery Service (0x180F): its
    Battery Level (0x2A19, one byte, 0-100 %) is readable and notifies when
    ``set_battery`` changes it. It is not advertised (no room in 31 bytes), as on
    robots that list it only in their GATT table.

    ``on_receive(data)`` gets every write, in order; ``on_connect()`` and
    ``on_disconnect()`` are called when a central connects and when the link
    ends for any reason. All three run on the radio loop and must not block;
    an exception in them is logged, not raised.
    """

    def __init__(
        self,
        radio: VirtualRadio,
        name: str,
        on_receive: Callable[[bytes], object],
        *,
        on_connect: Callable[[], object] | None = None,
        on_disconnect: Callable[[], object] | None = None,
        swap_roles: bool = False,
        indicate: bool | None = None,
        advertising_interval_s: float = 0.1,
        battery_percent: int = 100,
    ) -> None:
        microbit = is_microbit_name(name)
        self._advertising_data = (microbit_advertising_data(name) if microbit
                                  else nus_advertising_data(name))
        self.radio = radio
        self.name = name
        self.swap_roles = swap_roles
        self.indicate = microbit if indicate is None else indicate
        self.advertising_interval_s = advertising_interval_s
        self._on_receive = on_receive
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        to_robot, from_robot = (NUS_TX_UUID, NUS_RX_UUID) if swap_roles else (NUS_RX_UUID, NUS_TX_UUID)
        #: The characteristics a correct client picks, found by their properties.
        self.roles = UartRoles(to_robot=to_robot, from_robot=from_robot, write_with_response=True)
        self._written = Characteristic(
            to_robot,
            Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_write),
        )
        # Bumble's GATT server adds the CCCD for notify and indicate by itself.
        self._sending = Characteristic(
            from_robot,
            Characteristic.Properties.INDICATE if self.indicate else Characteristic.Properties.NOTIFY,
            Characteristic.READABLE,
            b"",
        )
        characteristics = sorted([self._written, self._sending], key=lambda c: str(c.uuid))
        self._service = Service(NUS_SERVICE_UUID, characteristics)
        self._battery_percent = _battery_byte(battery_percent)
        self._battery_level = Characteristic(
            GATT_BATTERY_LEVEL_CHARACTERISTIC,
            Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE,
            CharacteristicValue(read=lambda connection: bytes([self._battery_percent])),
        )
        self._battery_service = Service(GATT_BATTERY_SERVICE, [self._battery_level])
        # Radio-loop state; other threads only read the references.
        self._device: Device | None = None
        self._connection: Connection | None = None
        self._outbox: asyncio.Queue[tuple[Connection, bytes]] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._in_flight: asyncio.Task[None] | None = None
        self._readvertising: asyncio.Task[None] | None = None
        self._battery_notifying: asyncio.Task[None] | None = None
        self._stopping = False

    def __repr__(self) -> str:
        state = "connected" if self.is_connected else "started" if self._device else "stopped"
        return f"<NusPeripheral {self.name} {state}>"

    @property
    def address(self) -> str | None:
        """The random static address, "C0:00:00:00:00:07"; None before ``start()``."""
        return self._device.random_address.to_string(False) if self._device else None

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    # -- any thread -------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> None:
        """Power on and advertise; blocks, so not from the radio thread."""
        self.radio.call(self._start(), timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Drop any link, stop advertising and leave the radio. Idempotent."""
        if self._device is not None and not self.radio.closed:
            self.radio.call(self._stop(), timeout)

    def notify(self, data: bytes) -> None:
        """Send ``data`` to the connected central, after any data sent before.

        Does nothing when no central is connected or subscribed; does not
        block. Raises ValueError when ``data`` does not fit the link's MTU:
        Bumble would silently cut it short.
        """
        connection = self._connection
        if connection is None:
            return
        # A plain int read; the radio thread may change it, never tear it.
        limit = connection.att_mtu - ATT_HEADER_SIZE
        if len(data) > limit:
            raise ValueError(f"{len(data)} bytes do not fit one notification; "
                             f"the link's MTU allows {limit}")
        self.radio.call_soon(self._queue, connection, bytes(data))

    @property
    def battery_percent(self) -> int:
        """The Battery Level the robot reports (0-100 %)."""
        return self._battery_percent

    def set_battery(self, percent: int) -> None:
        """Set the Battery Level (0-100 %) and notify a subscribed central; does not block."""
        self._battery_percent = _battery_byte(percent)
        self.radio.call_soon(self._notify_battery)

    def drop_link(self) -> concurrent.futures.Future[None]:
        """End the link from the robot's side, as a robot switching off would.

        Does not block; the returned future is done once the link is down
        (at once when there is none). The central sees an unsolicited
        disconnection and the peripheral advertises again.
        """
        return self.radio.submit(self._drop_link())

    # -- radio loop ------------------------------------------------------------

    async def _start(self) -> None:
        if self._device is not None:
            raise RuntimeError(f"{self.name} is already started")
        device = await self.radio.create_device(self.name)
        device.add_service(self._service)
        device.add_service(self._battery_service)
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        self._device = device
        self._stopping = False
        self._outbox = asyncio.Queue()
        self._sender = asyncio.create_task(self._send_in_order(), name=f"{self.name} sender")
        await self._advertise()

    async def _advertise(self) -> None:
        assert self._device is not None
        interval_ms = self.advertising_interval_s * 1000
        # Not Bumble's auto_restart: its restart cannot be stopped once a link
        # is up, and a controller taken off the link would go on advertising.
        await self._device.start_advertising(
            advertising_data=self._advertising_data,
            advertising_interval_min=interval_ms,
            advertising_interval_max=interval_ms,
        )

    async def _readvertise(self) -> None:
        try:
            await self._advertise()
        except BaseBumbleError:
            logger.exception("%s: advertising again after a disconnection failed", self.name)

    async def _stop(self) -> None:
        device = self._device
        if device is None:
            return
        self._stopping = True
        if self._readvertising is not None:
            await asyncio.gather(self._readvertising, return_exceptions=True)
        await device.stop_advertising()
        await self._drop_link()
        if self._sender is not None:
            self._sender.cancel()
        self._device = self._sender = self._outbox = None
        await self.radio.remove_device(device)

    def _notify_battery(self) -> None:
        if self._device is not None and self._connection is not None:
            # Kept until done: a task nobody references may be collected before it runs.
            self._battery_notifying = asyncio.create_task(self._device.notify_subscribers(
                self._battery_level, bytes([self._battery_percent])))

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        connection.on(Connection.EVENT_DISCONNECTION,
                      lambda reason: self._on_disconnection(connection, reason))
        self._run_callback(self._on_connect)

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        logger.debug("%s: link ended (%s)", self.name, hci.HCI_Constant.error_name(reason))
        if connection is not self._connection:
            return
        self._connection = None
        # An indication waits up to 30 s for a confirmation that will never come.
        if self._in_flight is not None:
            self._in_flight.cancel()
        if not self._stopping:
            self._readvertising = asyncio.create_task(self._readvertise())
        self._run_callback(self._on_disconnect)

    def _on_write(self, connection: Connection, value: bytes) -> None:
        # Bumble calls this for ATT Write Requests and Write Commands alike, and
        # accepts Write Commands longer than the MTU; the central's side checks.
        self._run_callback(self._on_receive, bytes(value))

    def _queue(self, connection: Connection, data: bytes) -> None:
        if self._outbox is not None:
            self._outbox.put_nowait((connection, data))

    async def _send_in_order(self) -> None:
        assert self._outbox is not None and self._device is not None
        outbox, device = self._outbox, self._device
        send = device.indicate_subscriber if self.indicate else device.notify_subscriber
        while True:
            connection, data = await outbox.get()
            if connection is not self._connection:
                continue  # queued for a link that has ended since
            self._in_flight = asyncio.create_task(send(connection, self._sending, data))
            try:
                await self._in_flight
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    self._in_flight.cancel()
                    raise
                # else the link ended during an indication: carry on with the next link
            except (BaseBumbleError, TimeoutError):
                logger.exception("%s: sending %s failed", self.name, data.hex())
            finally:
                self._in_flight = None

    async def _drop_link(self) -> None:
        await drop_link(self)

    def _run_callback(self, callback: Callable[..., object] | None, *args: object) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            logger.exception("%s: the %s callback failed", self.name,
                             getattr(callback, "__name__", repr(callback)))


def _battery_byte(percent: int) -> int:
    """A Battery Level value: a whole percent from 0 to 100."""
    if not 0 <= percent <= 100:
        raise ValueError(f"a battery level is 0-100 %, not {percent}")
    return int(percent)


async def drop_link(peripheral) -> None:
    """Disconnect the central of a virtual peripheral (anything with a ``_connection``), if any.

    Example: ``await drop_link(self)`` in a peripheral's stop().
    """
    connection = peripheral._connection
    if connection is None:
        return
    try:
        await connection.disconnect(hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
    except BaseBumbleError:
        if peripheral._connection is connection:
            raise
        # else the central disconnected first: the link is down either way

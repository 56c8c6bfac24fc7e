"""bleak backends on a VirtualRadio: production code reaches virtual robots through bleak's public API.

    scanner_backend, client_backend = backends(radio)
    device = await BleakScanner.find_device_by_name("RobotLab-07", backend=scanner_backend)
    async with BleakClient(device, backend=client_backend) as client:
        ...

Each ``backends(radio)`` call is one virtual host adapter (like ``hci0``): a
Bumble central device, made on first use, shared by the scanners and clients
of that pair. Its connects are serialized, since a controller allows one
pending connection; separate adapters connect in parallel.

bleak may be used from any thread's event loop. Bumble work always runs on
the radio loop (``run_coroutine_threadsafe`` and ``wrap_future``), and
advertisements, notifications and disconnections come back on the loop that
started the scan, the connection or the subscription
(``call_soon_threadsafe``), which is where bleak expects to run its
callbacks, ``create_task`` and ``Queue.put_nowait``.

Real stacks do more than Bumble, so the backend does it: it exchanges the MTU
(247) after connecting, refuses a write without response longer than MTU - 3
(Bumble's server would take it), and reports every disconnection of an
established link to ``disconnected_callback``, including one the client
asked for, as bleak's BlueZ and WinRT backends do. Pairing is not supported.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ClassVar, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import (BleakCharacteristicNotFoundError, BleakDeviceNotFoundError, BleakError,
                       BleakGATTProtocolError)
from bleak.uuids import normalize_uuid_str
from bumble import att, core, hci
from bumble.core import AdvertisingData, BaseBumbleError
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt_client import CharacteristicProxy

from .peripheral import ATT_HEADER_SIZE
from .radio import VirtualRadio

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

#: The ATT MTU a client asks for after connecting, as BlueZ, CoreBluetooth and WinRT do.
DEFAULT_MTU = 247
#: The MTU before any exchange.
MINIMUM_MTU = 23

_UUID_LISTS = (
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)
_SERVICE_DATA = (
    AdvertisingData.SERVICE_DATA_16_BIT_UUID,
    AdvertisingData.SERVICE_DATA_32_BIT_UUID,
    AdvertisingData.SERVICE_DATA_128_BIT_UUID,
)


def backends(radio: VirtualRadio) -> tuple[type[VirtualBleakScanner], type[VirtualBleakClient]]:
    """Scanner and client backend classes for one new virtual adapter on ``radio``.

    Pass them as ``BleakScanner(backend=...)`` and ``BleakClient(..., backend=...)``.
    """
    adapter = _Adapter(radio)
    scanner = type("VirtualBleakScanner", (VirtualBleakScanner,), {"_adapter": adapter})
    client = type("VirtualBleakClient", (VirtualBleakClient,), {"_adapter": adapter})
    return scanner, client


# -- the loop bridge ----------------------------------------------------------------

async def _on_radio(radio: VirtualRadio, coro: Coroutine[Any, Any, _T]) -> _T:
    """Await ``coro`` on the radio loop from whichever loop is running."""
    if asyncio.get_running_loop() is radio.loop:
        return await coro
    # Cancelling the wrapper cancels the task on the radio loop too.
    return await asyncio.wrap_future(radio.submit(coro))


def _post(loop: asyncio.AbstractEventLoop, fn: Callable[..., object], *args: object) -> None:
    """Run ``fn(*args)`` soon on ``loop``; from any thread, in order of posting."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        logger.debug("dropped %r: its event loop is closed", fn)


def _bleak_uuid(uuid: core.UUID) -> str:
    return normalize_uuid_str(uuid.to_hex_str("-"))


def _bleak_properties(properties: int) -> list[str]:
    return [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if properties & bit]


class _Adapter:
    """One virtual host adapter: a Bumble central device on the radio loop."""

    _numbers = itertools.count(1)

    def __init__(self, radio: VirtualRadio) -> None:
        self.radio = radio
        self.name = f"RobotLab-Host-{next(self._numbers)}"
        self._device: Device | None = None
        self._creating = asyncio.Lock()
        # The emulated controller refuses a second LE Create Connection while
        # one is pending, so connects through this adapter take turns.
        self._connecting = asyncio.Lock()
        self._scanners = 0

    async def device(self) -> Device:
        async with self._creating:
            if self._device is None:
                self._device = await self.radio.create_device(self.name)
        return self._device

    async def start_scanning(self) -> Device:
        device = await self.device()
        self._scanners += 1
        if self._scanners == 1:
            # Every advertisement is reported, as bleak expects.
            await device.start_scanning(active=True, filter_duplicates=False)
        return device

    async def stop_scanning(self) -> None:
        self._scanners -= 1
        if self._scanners == 0 and self._device is not None:
            await self._device.stop_scanning()

    async def connect(self, address: hci.Address, timeout: float) -> Connection:
        """Connect to ``address``; BleakDeviceNotFoundError after ``timeout`` s."""
        device = await self.device()
        try:
            async with asyncio.timeout(timeout), self._connecting:
                try:
                    # Bumble's own timeout would send LE Create Connection Cancel,
                    # which the emulated controller acknowledges but never completes.
                    return await device.connect(address, timeout=None)
                except asyncio.CancelledError:
                    # Left pending, it would make the next connect fail with
                    # COMMAND_DISALLOWED.
                    self.radio.controller_of(device).pending_le_connection = None
                    raise
        except TimeoutError:
            text = address.to_string(False)
            raise BleakDeviceNotFoundError(
                text, f"no virtual device with address {text} was found within {timeout} s") from None


# -- scanner --------------------------------------------------------------------------

class VirtualBleakScanner(BaseBleakScanner):
    """A bleak scanner backend on a virtual adapter; made by ``backends(radio)``.

    ``scanning_mode`` is accepted and ignored: a virtual advertisement holds
    all its data, so passive and active scans see the same.
    """

    _adapter: ClassVar[_Adapter | None] = None

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        if self._adapter is None:
            raise BleakError("use the classes from ble_bridge.virtual.backends(radio)")
        self._bound_adapter: _Adapter = self._adapter
        self._app_loop: asyncio.AbstractEventLoop | None = None
        self._scanning_device: Device | None = None  # radio loop

    async def start(self) -> None:
        self.seen_devices = {}
        self._app_loop = asyncio.get_running_loop()
        await _on_radio(self._bound_adapter.radio, self._start_on_radio())

    async def stop(self) -> None:
        await _on_radio(self._bound_adapter.radio, self._stop_on_radio())

    async def _start_on_radio(self) -> None:
        if self._scanning_device is not None:
            return
        self._scanning_device = await self._bound_adapter.start_scanning()
        self._scanning_device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)

    async def _stop_on_radio(self) -> None:
        device, self._scanning_device = self._scanning_device, None
        if device is not None:
            device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
            await self._bound_adapter.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        data = advertisement.data
        # The emulated controller reports every advertisement twice, once as
        # a fake scan response, and Bumble joins the two: lists come twice.
        service_uuids = list(dict.fromkeys(
            _bleak_uuid(uuid)
            for ad_type in _UUID_LISTS
            for uuids in data.get_all(ad_type)
            for uuid in uuids))
        adv = AdvertisementData(
            local_name=(data.get(AdvertisingData.COMPLETE_LOCAL_NAME)
                        or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)),
            manufacturer_data={company: bytes(value) for company, value
                               in data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA)},
            service_data={_bleak_uuid(uuid): bytes(value) for ad_type in _SERVICE_DATA
                          for uuid, value in data.get_all(ad_type)},
            service_uuids=service_uuids,
            tx_power=data.get(AdvertisingData.TX_POWER_LEVEL),
            rssi=advertisement.rssi,
            platform_data=(advertisement,),
        )
        assert self._app_loop is not None
        _post(self._app_loop, self._deliver, advertisement.address, adv)

    def _deliver(self, address: hci.Address, adv: AdvertisementData) -> None:
        """On the app loop: bleak's bookkeeping and the detection callbacks."""
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        text = address.to_string(False)  # without the "/P" suffix of str()
        # The Bumble address as details keeps the address type for connecting.
        device = self.create_or_update_device(text, text, adv.local_name, address, adv)
        self.call_detection_callbacks(device, adv)


# -- client ---------------------------------------------------------------------------

class VirtualBleakClient(BaseBleakClient):
    """A bleak client backend on a virtual adapter; made by ``backends(radio)``.

    Besides bleak's own arguments it takes ``requested_mtu`` (default 247),
    the MTU asked for after connecting, e.g. 23 to test a link without an
    MTU exchange.

    State touched by Bumble lives on the radio loop; the app loop (the one
    that called ``connect()``) owns ``services``, ``is_connected`` and
    ``mtu_size``. Links are numbered so that a disconnection reported
    before its connect has returned is never mistaken for a later link's.
    """

    _adapter: ClassVar[_Adapter | None] = None

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        requested_mtu: int = DEFAULT_MTU,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        if self._adapter is None:
            raise BleakError("use the classes from ble_bridge.virtual.backends(radio)")
        self._bound_adapter: _Adapter = self._adapter
        self._requested_services = services
        self._requested_mtu = requested_mtu
        if isinstance(address_or_ble_device, BLEDevice):
            details, self._name = address_or_ble_device.details, address_or_ble_device.name
        else:
            details, self._name = None, None
        self._peer_address = (details if isinstance(details, hci.Address)
                              else hci.Address(self.address, hci.Address.RANDOM_DEVICE_ADDRESS))
        # App loop.
        self._app_loop: asyncio.AbstractEventLoop | None = None
        self._link: int | None = None
        self._last_lost_link = 0
        self._mtu = MINIMUM_MTU
        # Radio loop.
        self._links = itertools.count(1)
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._characteristics: dict[int, CharacteristicProxy[bytes]] = {}
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._link is not None

    # -- connecting (app loop) ----------------------------------------------------

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if pair:
            raise NotImplementedError("the virtual radio does not support pairing")
        if self._link is not None:
            return
        self._app_loop = asyncio.get_running_loop()
        timeout = kwargs.get("timeout", self._timeout)
        link, services, mtu = await self._on_radio(self._connect_on_radio(timeout))
        if link <= self._last_lost_link:
            raise BleakError(f"{self.address}: the link was lost while connecting")
        self._link, self.services, self._mtu = link, services, mtu

    async def disconnect(self) -> None:
        link = self._link
        await self._on_radio(self._disconnect_on_radio())
        if link is not None:
            # Normally already reported through the loop; this makes it certain.
            self._on_link_lost(link)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual radio does not support pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual radio does not support pairing")

    def _on_link_lost(self, link: int) -> None:
        self._last_lost_link = max(self._last_lost_link, link)
        if self._link != link:
            return
        self._link = None
        self.services = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    # -- GATT (app loop) ------------------------------------------------------------

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *,
                             use_cached: bool = False, **kwargs: Any) -> bytearray:
        handle = characteristic.handle
        return bytearray(await self._gatt(lambda peer: peer.read_value(handle)))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *,
                                   use_cached: bool = False, **kwargs: Any) -> bytearray:
        handle = descriptor.handle
        return bytearray(await self._gatt(lambda peer: peer.read_value(handle)))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic,
                              data: SizedBuffer, response: bool) -> None:
        # Bumble's server would accept the oversize Write Command; a real one would not.
        limit = self._mtu - ATT_HEADER_SIZE
        if not response and len(data) > limit:
            raise BleakError(
                f"a write without response of {len(data)} bytes is longer than "
                f"max_write_without_response_size ({limit} bytes at MTU {self._mtu}); "
                "send it in pieces or write with response")
        handle, value = characteristic.handle, bytes(data)
        await self._gatt(lambda peer: peer.write_value(handle, value, with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor,
                                    data: SizedBuffer) -> None:
        handle, value = descriptor.handle, bytes(data)
        await self._gatt(lambda peer: peer.write_value(handle, value, with_response=True))

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        if not {"notify", "indicate"} & set(characteristic.properties):
            raise BleakError(f"characteristic {characteristic.uuid} can neither notify nor indicate")
        app_loop = asyncio.get_running_loop()

        def on_value(value: bytes) -> None:  # radio loop
            _post(app_loop, callback, bytearray(value))

        await self._gatt(lambda peer: self._subscribe(peer, characteristic.handle, on_value))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        await self._gatt(lambda peer: self._unsubscribe(peer, characteristic.handle))

    def _max_write_without_response_size(self) -> int:
        return self._mtu - ATT_HEADER_SIZE

    async def _on_radio(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return await _on_radio(self._bound_adapter.radio, coro)

    async def _gatt(self, operation: Callable[[Peer], Awaitable[_T]]) -> _T:
        return await self._on_radio(self._gatt_on_radio(operation))

    # -- radio loop ---------------------------------------------------------------------

    async def _connect_on_radio(self, timeout: float) -> tuple[int, BleakGATTServiceCollection, int]:
        if self._connection is not None:  # a link the app loop never saw complete
            await self._disconnect_on_radio()
        connection = await self._bound_adapter.connect(self._peer_address, timeout)
        link = next(self._links)
        self._connection, self._peer = connection, Peer(connection)
        connection.on(Connection.EVENT_DISCONNECTION,
                      lambda reason: self._on_disconnection(connection, link, reason))
        try:
            services = await self._translating_errors(self._discover(self._peer))
        except BaseException:
            await self._disconnect_on_radio()
            raise
        return link, services, connection.att_mtu

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        # Bumble leaves the MTU exchange to the application.
        await peer.request_mtu(self._requested_mtu)
        collection = BleakGATTServiceCollection()
        self._characteristics = {}
        for service_proxy in await peer.discover_services():
            service_uuid = _bleak_uuid(service_proxy.uuid)
            if self._requested_services is not None and service_uuid not in self._requested_services:
                continue
            service = BleakGATTService(service_proxy, service_proxy.handle, service_uuid)
            collection.add_service(service)
            for proxy in await peer.discover_characteristics(service=service_proxy):
                # Bumble's handle is the value handle; other backends may
                # report the declaration handle, so never compare across backends.
                characteristic = BleakGATTCharacteristic(
                    proxy, proxy.handle, _bleak_uuid(proxy.uuid),
                    _bleak_properties(int(proxy.properties)),  # type: ignore[arg-type]
                    self._max_write_without_response_size, service)
                collection.add_characteristic(characteristic)
                self._characteristics[proxy.handle] = proxy
                for descriptor in await peer.discover_descriptors(proxy):
                    collection.add_descriptor(BleakGATTDescriptor(
                        descriptor, descriptor.handle, _bleak_uuid(descriptor.type),
                        characteristic))
        return collection

    async def _disconnect_on_radio(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            await connection.disconnect()
        except BaseBumbleError:
            if self._connection is connection:
                raise
            # else the robot ended the link first

    def _on_disconnection(self, connection: Connection, link: int, reason: int) -> None:
        logger.debug("%s: link %d ended (%s)", self.address, link,
                     hci.HCI_Constant.error_name(reason))
        if connection is self._connection:
            self._connection = self._peer = None
            self._characteristics, self._subscribers = {}, {}
        if self._app_loop is not None:
            _post(self._app_loop, self._on_link_lost, link)

    async def _gatt_on_radio(self, operation: Callable[[Peer], Awaitable[_T]]) -> _T:
        if self._peer is None:
            raise BleakError(f"{self.address}: not connected")
        return await self._translating_errors(operation(self._peer))

    async def _subscribe(self, peer: Peer, handle: int, on_value: Callable[[bytes], None]) -> None:
        proxy = self._characteristics.get(handle)
        if proxy is None:
            raise BleakCharacteristicNotFoundError(handle)
        previous = self._subscribers.pop(handle, None)
        if previous is not None:
            await peer.gatt_client.unsubscribe(proxy, previous)
        self._subscribers[handle] = on_value
        await peer.gatt_client.subscribe(proxy, on_value, prefer_notify=True)

    async def _unsubscribe(self, peer: Peer, handle: int) -> None:
        on_value = self._subscribers.pop(handle, None)
        if on_value is not None:
            await peer.gatt_client.unsubscribe(self._characteristics[handle], on_value)

    async def _translating_errors(self, awaitable: Awaitable[_T]) -> _T:
        """Bumble's errors as bleak's, and a link lost mid-operation as a BleakError."""
        try:
            return await awaitable
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            # Bumble cancels a pending ATT request when the link goes down.
            raise BleakError(f"{self.address}: the link was lost") from None
        except att.ATT_Error as error:
            raise BleakGATTProtocolError(error.error_code) from error
        except BaseBumbleError as error:
            raise BleakError(f"{self.address}: {error}") from error

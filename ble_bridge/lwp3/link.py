"""A LEGO hub over bleak: find it, connect, command its ports, follow their values.

    link = HubLink()                             # bleak's backend for this computer
    link.scan()                                  # [FoundHub(name='Technic Hub', kind=128, ...)]
    info = link.connect("Technic Hub")           # or None for the only hub in range
    link.attached                                # {0: IoType.TECHNIC_LARGE_ANGULAR_MOTOR, ...}
    token = link.command(0, StartSpeedForDegrees(360, 50))
    link.wait_done(0, token)                     # "completed", "discarded" or "lost"
    link.subscribe(0, MOTOR_POSITION)
    link.value(0)                                # the newest value bytes, no round trip
    link.close(stop_ports=(0, 1))                # motors off, then disconnect

One background thread owns an asyncio loop and the bleak client; the methods
are synchronous, callable from any thread, and wait a bounded time. Errors are
``HubLinkError`` with a machine-readable ``reason``.

The hub has no watchdog: a motor told to run keeps running if the link is
lost. So ``close`` stops the given ports before it disconnects, and a lost
link is reported to the caller. With ``reconnect_within_s`` the link looks
for the hub again for that long (state "reconnecting"); once connected, the
first thing it writes is StartPower(0) to every motor the hub reported, then
it sets up the ports' input formats and battery updates again and is
"ready". The commands that were running when the link went are "lost"
either way.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import itertools
import threading
from typing import Any, NamedTuple

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from .advertising import hub_advertisement, offers_hub_service
from .constants import (HUB_CHARACTERISTIC_UUID, EndState, ErrorCode, Feedback, HubProperty,
                        IoEvent, PropertyOperation)
from .devices import TACHO_MOTORS, SensorMode
from .messages import (GenericError, HubAttachedIo, HubProperties, LwpError,
                       PortInformationRequest, PortInputFormatSetupSingle, PortInputFormatSingle,
                       PortOutputCommand, PortOutputCommandFeedback, PortValueSingle, decode,
                       encode, start_power)

SCAN_S = 2.0
FIND_S = 5.0
CONNECT_TIMEOUT_S = 5.0
#: Seconds to wait for the hub's answer to a request (a property, an input format, a value).
ANSWER_S = 2.0
#: Seconds after subscribing during which the hub reports its attached devices.
ATTACH_WAIT_S = 0.3
#: Least time between two writes: one 7.5 ms connection interval.
WRITE_GAP_S = 0.0075
#: Seconds between two attempts to find a lost hub again.
RECONNECT_PAUSE_S = 0.25

COMPLETED, DISCARDED, LOST = "completed", "discarded", "lost"


class HubLinkError(Exception):
    """Something went wrong with the hub; ``reason`` is one of no_bluetooth, no_hub,
    several_hubs, unknown_name, connect_failed, link_lost, no_answer, refused, closed."""

    def __init__(self, reason: str, **details: Any):
        super().__init__(f"{reason}: {details}" if details else reason)
        self.reason, self.details = reason, details


class FoundHub(NamedTuple):
    """A hub heard while scanning: its name, its kind (``HubKind``) and its address.

    The kind is None when the advertisement names the hub service without LEGO's
    manufacturer data (a hub reached through the browser relay: Web Bluetooth does not
    pass advertisements on); ``connect`` then asks the hub (System Type ID).
    """

    name: str
    kind: int | None
    address: str


class HubInfo(NamedTuple):
    """What the hub told about itself after connecting."""

    name: str
    kind: int
    battery_percent: int


class HubLink:
    """The connection to one LWP3 hub, kept by a background thread."""

    def __init__(self, *, scanner_backend: type | None = None, client_backend: type | None = None,
                 reconnect_within_s: float = 0.0):
        self._scanner_backend, self._client_backend = scanner_backend, client_backend
        self.reconnect_within_s = reconnect_within_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lego-hub-link",
                                        daemon=True)
        self._thread.start()
        self._client: BleakClient | None = None
        self._changed = threading.Condition()
        self.name: str | None = None
        self.kind: int | None = None
        self.state = "idle"
        #: Devices the hub reported: {port: io type}.
        self.attached: dict[int, int] = {}
        #: Generic Error messages from the hub, newest last.
        self.errors: list[GenericError] = []
        self.losses = 0
        #: Times the link came back by itself after a loss.
        self.reconnections = 0
        #: The input format each port was set up with (subscriptions, the light's RGB mode):
        #: set up again after a reconnection.
        self._setups: dict[int, PortInputFormatSetupSingle] = {}
        self._reconnecting: asyncio.Task | None = None
        self._properties: dict[HubProperty, object] = {}
        self._formats: dict[int, PortInputFormatSingle] = {}
        self._sizes: dict[int, int] = {}
        self._values: dict[int, tuple[int, bytes]] = {}      # port -> (number, value)
        self._value_numbers = itertools.count(1)
        self._tokens = itertools.count(1)
        self._pending: dict[int, collections.deque[int]] = collections.defaultdict(collections.deque)
        self._outcomes: dict[int, str] = {}
        self._last_write = 0.0

    def __repr__(self) -> str:
        return f"<HubLink {self.name or '?'} {self.state}>"

    # -- scanning and connecting -------------------------------------------------------------

    def scan(self, timeout: float = SCAN_S) -> list[FoundHub]:
        """The LWP3 hubs heard within ``timeout`` seconds, sorted by name."""
        found = self._call(self._scan(timeout, None), timeout + 5)
        return sorted((hub for hub, _ in found.values()), key=lambda hub: hub.name)

    def connect(self, name: str | None = None, *, scan_s: float = SCAN_S,
                find_s: float = FIND_S) -> HubInfo:
        """Connect to the hub called ``name`` (or the only hub in range) and learn about it."""
        return self._call(self._connect(name, scan_s, find_s), max(scan_s, find_s) + 15)

    # -- commands -------------------------------------------------------------------------------

    def write(self, message) -> None:
        """Send one message to the hub."""
        self._call(self._write(message), ANSWER_S)
        if isinstance(message, PortInputFormatSetupSingle):
            self._setups[message.port] = message

    def command(self, port: int, command, *, feedback: bool = True) -> int:
        """Send a Port Output Command (executed at once); a token for ``wait_done``."""
        token = next(self._tokens)
        self._call(self._command(port, command, feedback, token), ANSWER_S)
        return token

    def commands(self, orders: list[tuple[int, object]]) -> list[int]:
        """Several Port Output Commands, written back to back; their tokens."""
        tokens = [next(self._tokens) for _ in orders]
        self._call(self._commands(orders, tokens), ANSWER_S)
        return tokens

    def outcome(self, token: int) -> str | None:
        """"completed", "discarded", "lost", or None while the command runs."""
        with self._changed:
            return self._outcomes.get(token)

    def wait_done(self, token: int, timeout: float | None = None) -> str:
        """Block until the command's feedback says it completed or was discarded."""
        with self._changed:
            if not self._changed.wait_for(lambda: token in self._outcomes, timeout):
                raise HubLinkError("no_answer")
            return self._outcomes[token]

    def wait_settled(self, timeout: float | None = None) -> str:
        """Block while the link looks for the hub again; the state then ("ready", "lost", ...)."""
        with self._changed:
            self._changed.wait_for(lambda: self.state != "reconnecting", timeout)
            return self.state

    def subscribe(self, port: int, sensor: SensorMode) -> None:
        """Put ``port`` in ``sensor``'s mode and have the hub send values per its delta.

        Waits for the hub's Port Input Format and the first value.
        """
        if sensor.delta < 1:
            raise ValueError("a delta of 0 floods the link (LWP3 3.17); use 1 or more")
        self._sizes[port] = sensor.dataset.size
        self._values.pop(port, None)
        self.write(PortInputFormatSetupSingle(port, sensor.mode, sensor.delta, True))
        self._wait(lambda: self._formats.get(port) is not None
                   and self._formats[port].mode == sensor.mode and port in self._values)

    def value(self, port: int) -> bytes:
        """The newest value the hub sent for ``port`` (no round trip)."""
        with self._changed:
            return self._values[port][1]

    def fresh_value(self, port: int) -> bytes:
        """Ask the hub for ``port``'s value now and wait for it (one round trip)."""
        with self._changed:
            number = self._values.get(port, (0, b""))[0]
        self._call(self._write(PortInformationRequest(port)), ANSWER_S)
        self._wait(lambda: self._values.get(port, (0,))[0] > number)
        return self.value(port)

    def stop_motors(self, ports, end_state: EndState = EndState.BRAKE) -> bool:
        """Stop these motors at once (no feedback awaited); False if the link is down."""
        power = 0 if end_state is not EndState.FLOAT else 127
        try:
            self._call(self._commands([(port, start_power(power)) for port in ports],
                                      [next(self._tokens) for _ in ports], feedback=False), ANSWER_S)
            return True
        except HubLinkError:
            return False

    def close(self, stop_ports=()) -> None:
        """Stop ``stop_ports`` (the hub has no watchdog), disconnect and end the thread."""
        if self.state == "closed":
            return
        if self.state == "ready" and stop_ports:
            self.stop_motors(stop_ports)
        self._set_state("closing")          # a reconnection under way gives up
        try:
            self._call(self._end_reconnecting(), CONNECT_TIMEOUT_S)
            self._call(self._disconnect(), CONNECT_TIMEOUT_S)
        except HubLinkError:
            pass
        self._set_state("closed")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CONNECT_TIMEOUT_S)

    # -- the loop thread ----------------------------------------------------------------------------

    def _call(self, coro, timeout: float):
        if self.state == "closed":
            coro.close()
            raise HubLinkError("closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise HubLinkError("no_answer") from None

    def _wait(self, condition, timeout: float = ANSWER_S) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: condition() or self.state != "ready", timeout):
                raise HubLinkError("no_answer")
        if self.state != "ready":
            raise HubLinkError("link_lost")

    def _set_state(self, state: str) -> None:
        with self._changed:
            self.state = state
            self._changed.notify_all()

    async def _scan(self, duration_s: float, wanted: str | None) -> dict[str, tuple[FoundHub, Any]]:
        found: dict[str, tuple[FoundHub, Any]] = {}
        done = asyncio.Event()

        def detected(device, advertisement) -> None:
            hub = hub_advertisement(advertisement.service_uuids, advertisement.manufacturer_data)
            name = advertisement.local_name or device.name
            if not name or (hub is None and not offers_hub_service(advertisement.service_uuids)):
                return
            kind = None if hub is None else hub.hub_kind
            found[device.address] = (FoundHub(name, kind, device.address), device)
            if wanted is not None and name == wanted:
                done.set()

        kwargs = {"backend": self._scanner_backend} if self._scanner_backend else {}
        try:
            async with BleakScanner(detection_callback=detected, **kwargs):
                try:
                    await asyncio.wait_for(done.wait(), duration_s)
                except TimeoutError:
                    pass
        except BleakError as error:
            if "bluetooth" in str(error).lower() or "adapter" in str(error).lower():
                raise HubLinkError("no_bluetooth") from None
            raise HubLinkError("no_bluetooth", detail=str(error)) from None
        except (OSError, FileNotFoundError):
            raise HubLinkError("no_bluetooth") from None
        return found

    async def _connect(self, wanted: str | None, scan_s: float, find_s: float) -> HubInfo:
        found = await self._scan(find_s if wanted else scan_s, wanted)
        hubs = {hub.name: (hub, device) for hub, device in found.values()}
        if wanted is None:
            if not hubs:
                raise HubLinkError("no_hub")
            if len(hubs) > 1:
                raise HubLinkError("several_hubs", names=sorted(hubs))
            wanted = next(iter(hubs))
        if wanted not in hubs:
            raise HubLinkError("unknown_name", wanted=wanted, names=sorted(hubs))
        hub, device = hubs[wanted]
        kwargs = {"backend": self._client_backend} if self._client_backend else {}
        client = BleakClient(device, disconnected_callback=self._on_disconnected,
                             timeout=CONNECT_TIMEOUT_S, **kwargs)
        try:
            await client.connect()
            self._client = client
            self._set_state("ready")
            await client.start_notify(HUB_CHARACTERISTIC_UUID, self._on_notification)
        except (BleakError, TimeoutError) as error:
            self._set_state("idle")
            raise HubLinkError("connect_failed", detail=str(error)) from None
        # The hub reports every attached device once notifications are on.
        await asyncio.sleep(ATTACH_WAIT_S)
        kind = hub.kind
        if kind is None:
            kind = await self._property(HubProperty.SYSTEM_TYPE_ID)
        self.name, self.kind = hub.name, kind
        battery = await self._property(HubProperty.BATTERY_VOLTAGE, enable_updates=True)
        return HubInfo(hub.name, kind, battery)

    async def _property(self, prop: HubProperty, *, enable_updates: bool = False):
        self._properties.pop(prop, None)
        operation = PropertyOperation.ENABLE_UPDATES if enable_updates \
            else PropertyOperation.REQUEST_UPDATE
        await self._write(HubProperties(prop, operation))
        for _ in range(int(ANSWER_S / 0.01)):
            if prop in self._properties:
                return self._properties[prop]
            await asyncio.sleep(0.01)
        raise HubLinkError("no_answer")

    def battery_percent(self) -> int | None:
        """The newest battery level the hub reported (percent)."""
        return self._properties.get(HubProperty.BATTERY_VOLTAGE)

    async def _write(self, message, *, setting_up: bool = False) -> None:
        client = self._client
        if client is None or not (self.state == "ready" or setting_up):
            raise HubLinkError("link_lost")
        wait = self._last_write + WRITE_GAP_S - self._loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            await client.write_gatt_char(HUB_CHARACTERISTIC_UUID, encode(message), response=False)
        except (BleakError, TimeoutError, OSError):
            raise HubLinkError("link_lost") from None
        finally:
            self._last_write = self._loop.time()

    async def _command(self, port: int, command, feedback: bool, token: int) -> None:
        if feedback:
            with self._changed:
                self._pending[port].append(token)
        await self._write(PortOutputCommand(port, command, feedback=feedback))

    async def _commands(self, orders, tokens, feedback: bool = True) -> None:
        for (port, command), token in zip(orders, tokens):
            await self._command(port, command, feedback, token)

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.disconnect()
            except (BleakError, TimeoutError, OSError):
                pass

    def _on_disconnected(self, client) -> None:
        reconnect = self.reconnect_within_s > 0 and self.name is not None
        with self._changed:
            if client is not self._client:
                return
            if self.state != "ready":
                self._client = None        # a hub found again dropped while being set up
                return
            self.losses += 1
            for port, tokens in self._pending.items():
                for token in tokens:
                    self._outcomes[token] = LOST
                tokens.clear()
            self._client = None
            self.state = "reconnecting" if reconnect else "lost"
            self._changed.notify_all()
        if reconnect:
            self._reconnecting = self._loop.create_task(self._reconnect())

    async def _end_reconnecting(self) -> None:
        """Cancel a reconnection under way and wait until it has let go of what it opened."""
        task, self._reconnecting = self._reconnecting, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _reconnect(self) -> None:
        """Find the hub again (loop thread); stop its motors first thing, then set up again."""
        deadline = self._loop.time() + self.reconnect_within_s
        kwargs = {"backend": self._client_backend} if self._client_backend else {}
        client = None
        try:
            await self._reconnect_until(deadline, kwargs)
        finally:
            if self.state != "ready" and self._client is not None:
                client, self._client = self._client, None
            if client is not None:
                try:
                    await asyncio.shield(client.disconnect())
                except (BleakError, TimeoutError, OSError, asyncio.CancelledError):
                    pass

    async def _reconnect_until(self, deadline: float, kwargs: dict) -> None:
        while self.state == "reconnecting" and (left := deadline - self._loop.time()) > 0:
            try:
                found = await self._scan(min(FIND_S, left), self.name)
            except HubLinkError:
                found = {}
            device = next((device for hub, device in found.values() if hub.name == self.name), None)
            if device is None or self.state != "reconnecting":
                await asyncio.sleep(RECONNECT_PAUSE_S)
                continue
            client = BleakClient(device, disconnected_callback=self._on_disconnected,
                                 timeout=CONNECT_TIMEOUT_S, **kwargs)
            self._client = client       # from here on, ``_reconnect`` lets go of it on failure
            try:
                await client.connect()
                if self.state != "reconnecting":
                    return
                # First thing: brake every motor the hub reported (it drove on meanwhile).
                for port, io_type in sorted(self.attached.items()):
                    if io_type in TACHO_MOTORS:
                        await self._write(PortOutputCommand(port, start_power(0), feedback=False),
                                          setting_up=True)
                await client.start_notify(HUB_CHARACTERISTIC_UUID, self._on_notification)
                await asyncio.sleep(ATTACH_WAIT_S)
                for setup in list(self._setups.values()):
                    await self._write(setup, setting_up=True)
                await self._write(HubProperties(HubProperty.BATTERY_VOLTAGE,
                                                PropertyOperation.ENABLE_UPDATES), setting_up=True)
            except (BleakError, TimeoutError, HubLinkError, OSError):
                self._client = None
                try:
                    await client.disconnect()
                except (BleakError, TimeoutError, OSError):
                    pass
                await asyncio.sleep(RECONNECT_PAUSE_S)
                continue
            with self._changed:
                if (self.state != "reconnecting" or self._client is not client
                        or not client.is_connected):
                    continue            # closed meanwhile, or dropped while being set up
                self.reconnections += 1
                self.state = "ready"
                self._changed.notify_all()
            return
        with self._changed:
            if self.state == "reconnecting":
                self.state = "lost"
                self._changed.notify_all()

    def _on_notification(self, _characteristic, data: bytearray) -> None:
        try:
            message = decode(bytes(data))
        except LwpError:
            return
        with self._changed:
            self._received(message)
            self._changed.notify_all()

    def _received(self, message) -> None:
        if isinstance(message, HubAttachedIo):
            if message.event is IoEvent.DETACHED:
                self.attached.pop(message.port, None)
            else:
                self.attached[message.port] = message.io_type
        elif isinstance(message, HubProperties) and message.operation is PropertyOperation.UPDATE:
            self._properties[message.property] = message.value
        elif isinstance(message, PortInputFormatSingle):
            self._formats[message.port] = message
        elif isinstance(message, PortValueSingle):
            try:
                values = message.split(self._sizes)
            except LwpError:
                return
            for port, value in values:
                self._values[port] = (next(self._value_numbers), value)
        elif isinstance(message, PortOutputCommandFeedback):
            for port, bits in message.entries:
                pending = self._pending[port]
                if bits & Feedback.DISCARDED and pending:
                    self._outcomes[pending.popleft()] = DISCARDED
                if bits & Feedback.COMPLETED and pending:
                    self._outcomes[pending.popleft()] = COMPLETED
        elif isinstance(message, GenericError):
            self.errors.append(message)
            if message.code is not ErrorCode.ACK:
                # A refused output command never gets feedback: count it as discarded.
                for tokens in self._pending.values() if message.command_type == 0x81 else ():
                    while tokens:
                        self._outcomes[tokens.popleft()] = DISCARDED


__all__ = ["HubLink", "HubLinkError", "FoundHub", "HubInfo", "COMPLETED", "DISCARDED", "LOST"]

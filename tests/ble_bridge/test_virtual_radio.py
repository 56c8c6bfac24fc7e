"""Virtual robots on a VirtualRadio, reached through bleak's public API with the virtual backends."""

import asyncio
import gc
import queue
import threading
import warnings

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError

from ble_bridge import NUS_SERVICE_UUID, advertised_name, uart_roles
from ble_bridge.virtual import NusPeripheral, VirtualRadio, backends

# Fast advertising keeps connects quick: a virtual connect completes at the
# robot's next advertisement.
FAST_ADVERTISING_S = 0.02
WAIT_S = 2.0


@pytest.fixture
def radio():
    # Debug mode makes any use of Bumble from the wrong thread raise.
    radio = VirtualRadio(debug=True)
    yield radio
    radio.close()


class EchoRobot:
    """A NusPeripheral that records what it receives and sends it back."""

    def __init__(self, radio, name, **options):
        self.received = queue.Queue()
        self.links = queue.Queue()
        self.peripheral = NusPeripheral(
            radio, name, self._on_receive,
            on_connect=lambda: self.links.put("connected"),
            on_disconnect=lambda: self.links.put("disconnected"),
            advertising_interval_s=FAST_ADVERTISING_S, **options)
        self.peripheral.start()

    def _on_receive(self, data):
        self.received.put(data)
        self.peripheral.notify(data)

    async def next_received(self):
        return await asyncio.to_thread(self.received.get, True, WAIT_S)

    async def next_link_event(self):
        return await asyncio.to_thread(self.links.get, True, WAIT_S)


def nus_roles(client):
    service = client.services.get_service(NUS_SERVICE_UUID)
    assert service is not None
    return uart_roles((c.uuid, c.properties) for c in service.characteristics)


async def find(scanner_backend, name):
    device = await BleakScanner.find_device_by_name(name, timeout=WAIT_S, backend=scanner_backend)
    assert device is not None, f"{name} was not found"
    return device


async def subscribe(client, uuid):
    inbox = asyncio.Queue()
    await client.start_notify(uuid, lambda _characteristic, data: inbox.put_nowait(bytes(data)))
    return inbox


def radio_threads():
    return [t for t in threading.enumerate() if t.name.startswith("virtual-radio-")]


# -- the radio ---------------------------------------------------------------------------

def test_radio_runs_coroutines_and_callbacks_on_its_own_thread(radio):
    async def thread_name():
        return threading.current_thread().name

    assert radio.call(thread_name()) == f"virtual-radio-{radio.number}"
    assert radio.submit(thread_name()).result(WAIT_S) == f"virtual-radio-{radio.number}"
    order = []
    done = threading.Event()
    for n in range(3):
        radio.call_soon(order.append, n)
    radio.call_soon(done.set)
    assert done.wait(WAIT_S) and order == [0, 1, 2]


def test_radio_refuses_uses_that_would_stall_or_deadlock(radio):
    with pytest.raises(RuntimeError, match="only be used on its loop"):
        asyncio.run(radio.create_device("elsewhere"))

    async def call_from_inside():
        radio.call(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="deadlock"):
        radio.call(call_from_inside())


def test_closing_the_radio_stops_its_thread_without_warnings():
    before = len(radio_threads())
    radio = VirtualRadio()
    robot = EchoRobot(radio, "RobotLab-01")
    scanner_backend, client_backend = backends(radio)

    async def connect():
        client = BleakClient(await find(scanner_backend, "RobotLab-01"), backend=client_backend)
        await client.connect()  # left connected on purpose
        return client.is_connected

    assert asyncio.run(connect())
    assert robot.peripheral.is_connected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        radio.close()
        gc.collect()
    assert len(radio_threads()) == before
    radio.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        radio.call(asyncio.sleep(0))


def test_radios_are_separate_worlds(radio):
    EchoRobot(radio, "RobotLab-01")
    with VirtualRadio() as other:
        other_scanner, _ = backends(other)
        found = asyncio.run(BleakScanner.discover(timeout=0.1, backend=other_scanner))
    assert found == []


# -- advertising and scanning --------------------------------------------------------

def test_scan_finds_the_robot_by_name_with_the_nus_uuid(radio):
    EchoRobot(radio, "RobotLab-07")
    EchoRobot(radio, "RobotLab-08")
    scanner_backend, _ = backends(radio)

    async def scan():
        found = await BleakScanner.discover(timeout=0.2, return_adv=True, backend=scanner_backend)
        device = await BleakScanner.find_device_by_name(
            "RobotLab-07", timeout=WAIT_S, backend=scanner_backend)
        return found, device

    found, device = asyncio.run(scan())
    by_name = {adv.local_name: adv for _device, adv in found.values()}
    assert set(by_name) == {"RobotLab-07", "RobotLab-08"}
    assert by_name["RobotLab-07"].service_uuids == [NUS_SERVICE_UUID]
    assert device is not None and device.name == "RobotLab-07"


def test_names_must_fit_legacy_advertising(radio):
    NusPeripheral(radio, "RobotLab-7F", print)  # 31 bytes exactly
    with pytest.raises(ValueError, match="at most 11 bytes of name"):
        NusPeripheral(radio, "RobotLab-07x", print)


# -- connecting, GATT, notifications ---------------------------------------------------

@pytest.mark.parametrize("options", [
    {},
    {"swap_roles": True},
    {"swap_roles": True, "indicate": True},  # as a micro:bit does it
], ids=["nordic", "swapped", "micro:bit"])
def test_characteristics_chosen_by_properties_carry_data_both_ways(radio, options):
    robot = EchoRobot(radio, "RobotLab-07", **options)
    scanner_backend, client_backend = backends(radio)

    async def session():
        device = await find(scanner_backend, "RobotLab-07")
        async with BleakClient(device, backend=client_backend) as client:
            roles = nus_roles(client)
            assert roles == robot.peripheral.roles
            assert client.mtu_size == 247
            inbox = await subscribe(client, roles.from_robot)
            payload = bytes(range(20))
            await client.write_gatt_char(roles.to_robot, payload, response=False)
            assert await robot.next_received() == payload
            assert await asyncio.wait_for(inbox.get(), WAIT_S) == payload  # the echo
            robot.peripheral.notify(b"from the robot")
            assert await asyncio.wait_for(inbox.get(), WAIT_S) == b"from the robot"
            await client.write_gatt_char(roles.to_robot, b"with response", response=True)
            assert await robot.next_received() == b"with response"

    asyncio.run(session())
    if options.get("swap_roles"):
        assert robot.peripheral.roles.to_robot.startswith("6e400003")


def test_a_link_dropped_by_the_robot_is_reported_and_the_client_reconnects(radio):
    robot = EchoRobot(radio, "RobotLab-07")
    scanner_backend, client_backend = backends(radio)

    async def session():
        dropped = asyncio.Event()
        client = BleakClient(await find(scanner_backend, "RobotLab-07"),
                             disconnected_callback=lambda _client: dropped.set(),
                             backend=client_backend)
        await client.connect()
        assert await robot.next_link_event() == "connected"
        await asyncio.wrap_future(robot.peripheral.drop_link())
        await asyncio.wait_for(dropped.wait(), WAIT_S)
        assert not client.is_connected and not robot.peripheral.is_connected
        assert await robot.next_link_event() == "disconnected"

        dropped.clear()
        await client.connect()  # the robot advertises again
        inbox = await subscribe(client, nus_roles(client).from_robot)
        await client.write_gatt_char(nus_roles(client).to_robot, b"again", response=False)
        assert await asyncio.wait_for(inbox.get(), WAIT_S) == b"again"
        await client.disconnect()  # every disconnection is reported, as with BlueZ
        assert dropped.is_set() and not client.is_connected

    asyncio.run(session())


def test_a_stopped_robot_ends_its_link_and_is_no_longer_seen(radio):
    robot = EchoRobot(radio, "RobotLab-07")
    scanner_backend, client_backend = backends(radio)

    async def session():
        dropped = asyncio.Event()
        client = BleakClient(await find(scanner_backend, "RobotLab-07"),
                             disconnected_callback=lambda _client: dropped.set(),
                             backend=client_backend)
        await client.connect()
        robot.peripheral.stop()
        await asyncio.wait_for(dropped.wait(), WAIT_S)
        return await BleakScanner.discover(timeout=0.1, backend=scanner_backend)

    assert asyncio.run(session()) == []
    robot.peripheral.stop()  # idempotent


def test_notify_without_a_central_does_nothing_and_oversize_data_is_refused(radio):
    robot = EchoRobot(radio, "RobotLab-07")
    robot.peripheral.notify(b"nobody listens")
    scanner_backend, client_backend = backends(radio)

    async def session():
        device = await find(scanner_backend, "RobotLab-07")
        async with BleakClient(device, backend=client_backend, requested_mtu=23) as client:
            roles = nus_roles(client)
            with pytest.raises(BleakError, match="max_write_without_response_size .20 bytes"):
                await client.write_gatt_char(roles.to_robot, bytes(21), response=False)
            await client.write_gatt_char(roles.to_robot, bytes(20), response=False)
            assert await robot.next_received() == bytes(20)
            with pytest.raises(ValueError, match="MTU allows 20"):
                robot.peripheral.notify(bytes(21))

    asyncio.run(session())


def test_an_absent_robot_times_out_and_the_adapter_still_connects(radio):
    EchoRobot(radio, "RobotLab-07")
    scanner_backend, client_backend = backends(radio)

    async def session():
        with pytest.raises(BleakDeviceNotFoundError):
            await BleakClient("C0:DE:AD:00:00:01", backend=client_backend, timeout=0.1).connect()
        async with BleakClient(await find(scanner_backend, "RobotLab-07"),
                               backend=client_backend) as client:
            assert client.is_connected

    asyncio.run(session())


def test_bleak_also_works_on_the_radio_loop_itself(radio):
    robot = EchoRobot(radio, "RobotLab-07")
    scanner_backend, client_backend = backends(radio)

    async def session():
        async with BleakClient(await find(scanner_backend, "RobotLab-07"),
                               backend=client_backend) as client:
            inbox = await subscribe(client, nus_roles(client).from_robot)
            await client.write_gatt_char(nus_roles(client).to_robot, b"same loop", response=False)
            return await asyncio.wait_for(inbox.get(), WAIT_S)

    assert radio.call(session()) == b"same loop"
    assert robot.received.get(timeout=WAIT_S) == b"same loop"


# -- a classroom ------------------------------------------------------------------------

def test_thirty_robots_each_echo_to_their_own_client_from_three_threads(radio):
    robots = {advertised_name(n): EchoRobot(radio, advertised_name(n)) for n in range(30)}
    names = sorted(robots)
    results = {}

    async def pupils(my_names):
        # One adapter per thread: its connects take turns, the threads' run in parallel.
        scanner_backend, client_backend = backends(radio)
        seen = await BleakScanner.discover(timeout=0.3, backend=scanner_backend)
        devices = {d.name: d for d in seen if d.name in my_names}
        assert set(devices) == set(my_names)
        clients = [BleakClient(devices[name], backend=client_backend) for name in my_names]
        for client in clients:
            await client.connect()
        for name, client in zip(my_names, clients):
            inbox = await subscribe(client, nus_roles(client).from_robot)
            await client.write_gatt_char(nus_roles(client).to_robot, name.encode(), response=False)
            results[name] = await asyncio.wait_for(inbox.get(), WAIT_S)
        for client in clients:
            await client.disconnect()

    def thread(my_names):
        asyncio.run(pupils(my_names))

    threads = [threading.Thread(target=thread, args=(names[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert results == {name: name.encode() for name in names}
    for name, robot in robots.items():
        assert robot.received.get_nowait() == name.encode()

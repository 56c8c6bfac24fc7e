"""Finding micro:bit robots (MakeCode firmware), end to end through bleak on the virtual radio.

A micro:bit cannot choose its advertised name: it advertises "BBC micro:bit [zatug]"
with Flags and its name only, no service UUID, and the micro:bit's UART has the
NUS UUIDs swapped and indicates (docs/protocol.md, "Advertising" and "Transport").
The virtual micro:bits here do all of that (``NusPeripheral`` with a micro:bit name,
``swap_roles=True``) and run the real robot side of the protocol, so their robot id
is only in their INFO. Nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from bleak import BleakClient, BleakScanner

from ble_bridge import Hello
from ble_bridge.gatt import NUS_SERVICE_UUID, microbit_name
from ble_bridge.transport import robot_name
from ble_bridge.virtual import backends
from ble_bridge.virtual.peripheral import microbit_advertising_data
from robotlab import RobotLabError
from robotlab.emulate import VirtualRobot, _Ticker
from robotlab.errors import RobotConnectionError
from simulator import World, load_arena, load_profile
from tests.robotlab.virtual_room import Room

DANISH = re.compile(r"\b(Skriv|skriv|fx|Tjek|Der er ingen)\b")
ENGLISH = re.compile(r"\b(Type|type|for example|Check|There is no)\b")


class MicrobitRoom(Room):
    """The Bluetooth tests' room, with micro:bits beside the RobotLab-XX robots."""

    def __init__(self, monkeypatch):
        super().__init__(monkeypatch)
        self._ticker = _Ticker()

    def robotlab(self, count=1, **options):
        return self.start(count, **options)

    def microbit(self, letters, robot_id):
        """A micro:bit car called "BBC micro:bit [letters]" whose INFO says ``robot_id``."""
        world = World(load_arena("tom"))
        name = f"BBC micro:bit [{letters}]"
        body = world.add_robot(load_profile("microbit-maqueen"), world.arena.start, noise=False,
                               name=name)
        robot = VirtualRobot(self.radio, world, body, robot_id, ticker=self._ticker,
                             swap_roles=True, name=name)
        robot.start()
        self.robots.append(robot)
        return robot


@pytest.fixture
def room(monkeypatch):
    room = MicrobitRoom(monkeypatch)
    yield room
    room.close()


def hellos(virtual) -> int:
    """How many sessions a virtual robot was asked for (one per connection that got to HELLO)."""
    return sum(1 for _, kind in virtual.protocol.executed if kind == Hello.TYPE)


def assert_friendly(error, reason, *snippets):
    """A pupil's message: the key, both languages, one line, with the snippets."""
    assert isinstance(error, RobotLabError) and error.reason == reason, error
    for lang, own, other in (("da", DANISH, ENGLISH), ("en", ENGLISH, DANISH)):
        text = error.text(lang)
        assert own.search(text) and not other.search(text), text
        assert "\n" not in text and len(text) < 320, text
        for snippet in snippets:
            assert snippet in text, (snippet, text)


# -- names ---------------------------------------------------------------------------------

def test_a_microbit_is_named_by_its_five_letters_or_its_whole_name():
    assert robot_name("zatug") == robot_name("BBC micro:bit [ZATUG]") == "BBC micro:bit [zatug]"
    assert robot_name("07") == robot_name(7) == "RobotLab-07"
    assert microbit_name("zatuk") is None       # k is none of the micro:bit's letters
    with pytest.raises(ValueError):
        robot_name("Robbie")


def test_a_virtual_microbit_advertises_as_the_microbit_runtime_does(room):
    # Flags and the name, no service UUID: 3 + 23 = 26 of the 31 bytes.
    data = microbit_advertising_data("BBC micro:bit [zatug]")
    assert len(data) == 26 and data[:3] == bytes([2, 0x01, 0x06])
    assert NUS_SERVICE_UUID.replace("-", "") not in data.hex()
    room.microbit("zatug", 5)
    scanner, client = backends(room.radio)

    async def seen_by_a_client():
        found = {}
        async with BleakScanner(lambda device, adv: found.setdefault(adv.local_name, (device, adv)),
                                backend=scanner):
            while "BBC micro:bit [zatug]" not in found:
                await asyncio.sleep(0.05)
        device, advertisement = found["BBC micro:bit [zatug]"]
        async with BleakClient(device, backend=client) as connected:
            uart = connected.services.get_service(NUS_SERVICE_UUID)
            return advertisement.service_uuids, {c.uuid[:8]: c.properties for c in uart.characteristics}

    service_uuids, properties = asyncio.run(asyncio.wait_for(seen_by_a_client(), 5.0))
    assert service_uuids == []
    # The micro:bit's "TX" 6E400002 indicates, its "RX" 6E400003 is written.
    assert properties == {"6e400002": ["indicate"], "6e400003": ["write-without-response", "write"]}


# -- the transport ---------------------------------------------------------------------------

def test_a_scan_lists_robotlab_robots_and_microbits(room):
    room.robotlab()
    room.microbit("zatug", 5)
    assert room.link().scan(0.5) == [("BBC micro:bit [zatug]", None), ("RobotLab-07", 7)]


def test_the_only_microbit_in_range_connects_without_a_name_and_tells_its_id(room):
    virtual = room.microbit("zatug", 5)
    link = room.link()
    info = link.connect(None, scan_s=0.5)
    assert info.robot_id == 5 and link.name == "BBC micro:bit [zatug]" and hellos(virtual) == 1
    assert link.next_telemetry(0, 1.0).number > 0      # subscribed, over indications


def test_a_robot_id_is_found_among_microbits_by_their_info_and_the_others_let_go(room):
    others = [room.microbit("pezot", 3), room.microbit("tutig", 4)]
    wanted = room.microbit("zatug", 7)
    link = room.link()
    info = link.connect("RobotLab-07", scan_s=0.5, find_s=1.0)
    assert info.robot_id == 7 and link.name == "BBC micro:bit [zatug]"
    assert link.next_telemetry(0, 1.0).number > 0
    # Each micro:bit was asked once at most; the ones tried before were let go: they advertise
    # again and another client can have them.
    assert hellos(wanted) == 1 and all(hellos(other) <= 1 for other in others)
    tried = [other for other in others if hellos(other) == 1]
    for other in tried:
        assert room.link().connect(other.name, find_s=1.0).robot_id == other.short_id


# -- the pupil's Robot("ble") ------------------------------------------------------------------

def test_robot_ble_with_one_microbit_and_no_name(room):
    virtual = room.microbit("zatug", 5)
    robot = room.robot("ble", profile="microbit-maqueen")
    assert robot._backend.info.robot_id == 5 and robot._backend.name == virtual.name
    robot.led("red")
    assert virtual.body.led_rgb == (255, 0, 0)


def test_robot_ble_by_the_id_on_the_display(room):
    room.microbit("pezot", 3)
    virtual = room.microbit("zatug", 7)
    robot = room.robot("ble", name=7, profile="microbit-maqueen")
    assert robot._backend.info.robot_id == 7 and robot._backend.name == virtual.name
    # Running the cell again takes the micro:bit over from the first Robot (same id).
    again = room.robot("ble", name="07", profile="microbit-maqueen")
    assert again._backend.info.robot_id == 7 and hellos(virtual) == 2


def test_robot_ble_by_the_microbits_five_letters(room):
    room.microbit("pezot", 3)
    virtual = room.microbit("zatug", 7)
    robot = room.robot("ble", name="zatug", profile="microbit-maqueen")
    assert robot._backend.name == "BBC micro:bit [zatug]" and robot._backend.info.robot_id == 7
    assert hellos(virtual) == 1


def test_robotlab_robots_and_microbits_together(room):
    room.robotlab(first_id=8)
    room.microbit("zatug", 7)
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble")
    assert_friendly(info.value, "microbit_several_robots",
                    "BBC micro:bit [zatug], RobotLab-08", 'name="RobotLab-08"', 'name="zatug"')
    # An advertised RobotLab name is used as it is: no micro:bit is connected to for it.
    assert room.robot("ble", name="08")._backend.info.robot_id == 8
    assert room.robot("ble", name="07", profile="microbit-maqueen")._backend.info.robot_id == 7


def test_an_id_no_robot_has_lists_the_microbits_with_the_ids_they_told(room):
    room.robotlab(first_id=8)
    room.microbit("zatug", 5)
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble", name="07")
    assert_friendly(info.value, "ble_unknown_name", '"RobotLab-07"',
                    "RobotLab-05 (BBC micro:bit [zatug])", "RobotLab-08")
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble", name="zatuk")        # one letter wrong
    assert_friendly(info.value, "ble_unknown_name", '"zatuk"', 'Robot("ble", name="zatug")')


def test_a_microbit_name_and_nothing_in_range(room):
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble", name="zatug")
    assert_friendly(info.value, "ble_no_robot", "zatug")

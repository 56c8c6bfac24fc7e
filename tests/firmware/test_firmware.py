"""The micro:bit firmware (firmware/microbit/): shared vectors, its Node tests, the built .hex.

- The vectors file is exactly what the Python codec makes now, so a protocol change
  in ble_bridge/ without new vectors fails here, and new vectors without a matching
  firmware change fail the Node tests.
- The Node tests replay the vectors through the firmware's protocol logic.
- The offline MakeCode build (``make firmware``) yields a universal hex whose
  micro:bit V2 part holds our program and fits the V2's flash.

Needs Node and npm (Debian: ``apt-get install nodejs npm``); ``make`` installs the
MakeCode CLI from the npm registry into firmware/microbit/node_modules once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from tests.firmware import make_vectors  # noqa: E402

FIRMWARE = ROOT / "firmware" / "microbit"
HEX = FIRMWARE / "built" / "robotlab.hex"
ASM = FIRMWARE / "built" / "mbcodal-binary.asm"
V2_HEX = FIRMWARE / "built" / "mbcodal-binary.hex"
V2_BOARD_IDS = (0x9903, 0x9904)
V2_FLASH_BYTES = 512 * 1024
#: MakeCode's end of the program area on the V2 (pxt-microbit's flashUsableEnd): above
#: it lie the Bluetooth bonding data and the settings pages.
V2_PROGRAM_END = 0x73000


def make(target: str) -> subprocess.CompletedProcess:
    assert shutil.which("make") and shutil.which("node") and shutil.which("npm"), \
        "the firmware needs make, node and npm (Debian: apt-get install make nodejs npm)"
    return subprocess.run(["make", "-C", str(FIRMWARE), target], capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def built():
    result = make("firmware")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_the_vectors_file_is_what_the_python_codec_makes_now():
    fresh = make_vectors.dumps(make_vectors.make())
    assert make_vectors.VECTORS.read_text(encoding="utf-8") == fresh, (
        "ble_bridge changed: run `.venv/bin/python tests/firmware/make_vectors.py` "
        "and bring firmware/microbit/protocol.ts in line")


def test_the_vectors_cover_every_message_type_and_the_spec_example():
    vectors = make_vectors.make()
    assert {v["type"] for v in vectors["messages"]} >= set(make_vectors.MESSAGES)
    names = [session["name"] for session in vectors["robot"]]
    assert "the spec's example exchange" in names
    # The spec's INFO (row 2 of the example exchange) is what the robot sent.
    first_answer = next(step for step in vectors["robot"][0]["steps"] if step["do"] == "receive")
    assert first_answer["sent"] == ["14a001010101000001ff0714f40132003f341259"]


def test_the_firmware_protocol_logic_passes_its_node_tests_against_the_vectors():
    result = make("test")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    passed = int(re.search(r"^# pass (\d+)$", output, re.MULTILINE).group(1))
    sessions = len(make_vectors.make()["robot"])
    assert re.search(r"^# fail 0$", output, re.MULTILINE)
    assert passed >= sessions + 4          # CRC, messages, reader, version, one per session


def read_intel_hex(path: Path) -> dict[int, dict[int, int]]:
    """The data bytes of an Intel hex file by board: {board id or 0: {address: byte}}.

    A universal hex (tech.microbit.org) starts each board's section with a block-start
    record (type 0x0A) naming the board; its data records are types 0x00 and 0x0D.
    Every record's checksum is checked.
    """
    boards: dict[int, dict[int, int]] = {}
    memory = boards.setdefault(0, {})
    upper = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        assert line.startswith(":"), f"{path.name}:{number} is no hex record"
        record = bytes.fromhex(line[1:])
        size, address, kind, data = record[0], int.from_bytes(record[1:3], "big"), record[3], record[4:-1]
        assert len(data) == size and sum(record) % 256 == 0, f"{path.name}:{number}: bad record"
        if kind == 0x04:
            upper = int.from_bytes(data, "big") << 16
        elif kind == 0x0A:
            memory = boards.setdefault(int.from_bytes(data[:2], "big"), {})
        elif kind in (0x00, 0x0D):
            for offset, byte in enumerate(data):
                memory[upper + address + offset] = byte
    return boards


def test_the_hex_holds_the_program_for_the_micro_bit_v2_and_fits_its_flash(built):
    listing = ASM.read_text()
    # The generated assembly names each compiled function after its source.
    for function in ("robotlab.RobotProtocol.receive", "robotlab.RobotProtocol.tick",
                     "robotlab.RobotProtocol.linkLost", "robotlab.RobotProtocol.hello",
                     "robotlab.FrameReader.scan", "robotlab.crc8", "robotlab.CarBody.setWheels",
                     "robotlab.start"):
        assert re.search(rf'\.object \w+ "\w+\.ts\(\d+,\d+\): {re.escape(function)}"', listing), function
    start = int(re.search(r"^\s*\.startaddr (0x[0-9a-f]+)", listing, re.MULTILINE).group(1), 16)
    total = int(re.search(r"^; total bytes: (\d+)", listing, re.MULTILINE).group(1))

    boards = read_intel_hex(HEX)
    v2 = {board: memory for board, memory in boards.items() if board in V2_BOARD_IDS}
    assert len(v2) == 1, f"no micro:bit V2 section in {HEX.name}: boards {sorted(boards)}"
    image = next(iter(v2.values()))
    assert start in image, "the V2 image has nothing where the program starts"
    end = start
    while end + 1 in image:
        end += 1
    # The program runs on from its start without a gap; above V2_PROGRAM_END only the
    # bootloader's and settings' own pages may be written (they are in every V2 hex).
    assert end < V2_PROGRAM_END, f"the program ends at {end:#x}, beyond {V2_PROGRAM_END:#x}"
    assert total < V2_PROGRAM_END
    # The V2 section is the V2 build itself, and it carries the firmware's own code:
    # the hex digits of the robot id (kits.ts, CarBody.idText) sit in its literals.
    alone = read_intel_hex(V2_HEX)[0]
    assert alone == image
    assert b"0123456789ABCDEF" in bytes(image[address] for address in range(start, end + 1))


def test_the_kit_profiles_match_the_numbers_the_firmware_times_its_moves_with():
    from simulator.profile import load_profile

    kits = (FIRMWARE / "kits.ts").read_text(encoding="utf-8")
    specs = re.findall(r'new KitSpec\("(\w+)", (\d+), [^)]*?, (\d+), (\d+)\)', kits, re.DOTALL)
    assert {name for name, *_ in specs} == {"maqueen", "hbridge"}
    for name, profile_id, top_speed_mm_s, axle_track_mm in specs:
        profile = load_profile(f"microbit-{name}")
        assert profile.top_speed_cm_s * 10 == int(top_speed_mm_s), name
        assert profile.axle_track_cm * 10 == int(axle_track_mm), name
        assert f"profile id {profile_id}" in (ROOT / "simulator" / "profiles" / f"microbit-{name}.toml").read_text()

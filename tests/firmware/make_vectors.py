"""Shared test vectors for the micro:bit firmware, made from RobotLab's Python codec.

The firmware (firmware/microbit/protocol.ts) is a second implementation of the robot
side of the protocol. Its Node tests replay ``vectors.json`` and must produce the
same bytes: CRCs, every message layout (good and refused payloads), the stream
reader after corruption, and whole robot sessions run through
``ble_bridge.robot_side.RobotProtocol`` (bytes in, bytes out, hardware calls).
``test_firmware.py`` checks that the file is exactly what this script makes now, so
a protocol change on either side breaks a test until both agree.

    .venv/bin/python tests/firmware/make_vectors.py     # rewrite vectors.json

Times are integer ms on the robot's clock; bytes are lower-case hex strings.
"""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import astuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ble_bridge import (MESSAGES, Beep, Capability, Colour, Drive, Heartbeat, Hello,  # noqa: E402
                        Identify, Info, MoveStraight, ProtocolError, Resume, SensorBits, SetLed,
                        Stop, StopAll, Subscribe, Telemetry, Turn, crc8, encode, encode_frame,
                        interpret, wrap)
from ble_bridge.frames import RawFrame  # noqa: E402
from ble_bridge.handshake import PROTOCOL_VERSION  # noqa: E402
from ble_bridge.reader import FrameReader  # noqa: E402
from ble_bridge.robot_side import RobotProtocol  # noqa: E402

VECTORS = Path(__file__).with_name("vectors.json")
FORMAT = 1
TICK_MS = 10

#: Robots of the firmware's two kits, as their INFO announces them (see firmware/microbit/kits.ts).
MAQUEEN_CAPS = int(Capability.MOTORS | Capability.DISTANCE | Capability.LINE | Capability.BUMPER
                   | Capability.LED | Capability.BUZZER | Capability.DISPLAY)
HBRIDGE_CAPS = int(Capability.MOTORS | Capability.BUMPER | Capability.BUZZER | Capability.DISPLAY)


def hexs(data: bytes) -> str:
    return bytes(data).hex()


# -- CRC, frames, messages ---------------------------------------------------------------

def crc_vectors(rng: random.Random) -> list[dict]:
    inputs = [b"", b"\x00", b"\xff", b"123456789", bytes.fromhex("042104"),
              bytes.fromhex("072001010114"), bytes.fromhex("0930 03c8000000 32".replace(" ", ""))]
    inputs += [rng.randbytes(rng.randint(1, 40)) for _ in range(40)]
    return [{"bytes": hexs(data), "crc": crc8(data)} for data in inputs]


def _edge_values(codec) -> list[int]:
    low, high = codec.bounds
    values = {low, high, (low + high) // 2}
    if codec.kind is not None and hasattr(codec.kind, "__members__") and not codec.signed:
        values |= {int(member) for member in codec.kind}
    return sorted(v for v in values if low <= v <= high and codec.problem(v) is None)


def message_vectors(rng: random.Random) -> list[dict]:
    """Payloads of every type: good ones with their fields, refused ones with the reason."""
    vectors = []
    for frame_type, cls in sorted(MESSAGES.items()):
        layout = cls.layout()
        payloads = []
        for name, codec, _ in layout:
            for value in _edge_values(codec):
                fields = {n: _edge_values(c)[0] for n, c, _ in layout}
                fields[name] = value
                payloads.append(cls(**fields).to_payload())
        size = cls.payload_size()
        payloads += [rng.randbytes(size) for _ in range(12)]
        payloads += [bytes(size + 1), bytes(max(size - 1, 0)), rng.randbytes(size + 3)]
        for name, codec, offset in layout:         # each field just outside its range
            low, high = codec.bounds
            full_low, full_high = (-(1 << 8 * codec.size - 1), (1 << 8 * codec.size - 1) - 1) \
                if codec.signed else (0, (1 << 8 * codec.size) - 1)
            base = bytearray(cls(**{n: _edge_values(c)[0] for n, c, _ in layout}).to_payload())
            for bad in (low - 1, high + 1):
                if full_low <= bad <= full_high:
                    base[offset:offset + codec.size] = bad.to_bytes(codec.size, "little",
                                                                    signed=codec.signed)
                    payloads.append(bytes(base))
        if cls is Info:
            short = Info(1, 1, 1, 0, 0, 1, Capability(0x7FF), 20, 500, 50, 0x3F).to_payload()
            payloads += [short, bytes([2]) + short[1:], bytes([2, 0, 9]), bytes([2]) + rng.randbytes(15)]
        for payload in payloads:
            vectors.append(_interpreted(frame_type, payload))
    for frame_type in (0x00, 0x1F, 0x25, 0x7F, 0x80, 0xA4, 0xFF):
        vectors.append(_interpreted(frame_type, rng.randbytes(rng.randint(0, 6))))
    return vectors


def _interpreted(frame_type: int, payload: bytes) -> dict:
    vector = {"type": frame_type, "payload": hexs(payload)}
    try:
        message = interpret(RawFrame(frame_type, 7, payload)).message
    except ProtocolError as error:
        vector["error"] = error.reason
        vector["detail"] = error.detail
    else:
        vector["values"] = [int(v) for v in astuple(message) if v is not None]
        vector["encoded"] = hexs(message.to_payload())
    return vector


# -- the stream reader -----------------------------------------------------------------

def _client_frames(rng: random.Random, count: int) -> list[bytes]:
    makers = [lambda: Hello(), lambda: Heartbeat(), lambda: StopAll(),
              lambda: MoveStraight(rng.randint(-3000, 3000), rng.randint(1, 100)),
              lambda: Turn(rng.randint(-36000, 36000), rng.randint(1, 100)),
              lambda: Drive(rng.randint(-100, 100), rng.randint(-100, 100)),
              lambda: SetLed(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)),
              lambda: Beep(rng.randint(1, 20000), rng.randint(1, 3000)),
              lambda: Subscribe(50, 50, 0, True), lambda: Identify(2000), lambda: Stop()]
    return [encode(rng.choice(makers)(), rng.randint(0, 255)) for _ in range(count)]


def _corrupt(rng: random.Random, stream: bytearray) -> None:
    where = rng.randrange(len(stream))
    kind = rng.choice(("drop", "insert", "flip"))
    if kind == "drop":
        del stream[where]
    elif kind == "insert":
        stream.insert(where, rng.randint(0, 255))
    else:
        stream[where] ^= 1 << rng.randint(0, 7)


def reader_vectors(rng: random.Random) -> list[dict]:
    """Byte streams in chunks, corrupted or not, and what a FrameReader makes of them."""
    vectors = []
    for case in range(60):
        stream = bytearray(b"".join(_client_frames(rng, rng.randint(1, 8))))
        for _ in range(case % 4):
            _corrupt(rng, stream)
        if case % 7 == 0:
            stream = bytearray(rng.randbytes(rng.randint(1, 5))) + stream
        max_frame = 20 if case % 5 else rng.choice((20, 32, 255))
        reader = FrameReader(max_frame)
        chunks, events, rest = [], [], bytes(stream)
        while rest:
            cut = rng.randint(1, 24)
            chunks.append(hexs(rest[:cut]))
            events.append([_event(item) for item in reader.feed(rest[:cut])])
            rest = rest[cut:]
        flushed = [_event(item) for item in reader.flush()]
        vectors.append({"max_frame_size": max_frame, "chunks": chunks, "events": events,
                        "flushed": flushed})
    return vectors


def _event(item) -> dict:
    if isinstance(item, ProtocolError):
        return {"error": item.reason, "seq": item.seq, "type": item.frame_type, "detail": item.detail}
    return {"type": item.message.TYPE, "seq": item.seq, "payload": hexs(item.message.to_payload())}


# -- robot sessions --------------------------------------------------------------------

class ScriptBody:
    """A robot body whose state the script sets; records every call in wire units.

    The same rules live in firmware/microbit/test/replay.mjs: a straight or turn of 0
    finishes at once, other moves run until the script says finished; halt stops
    the wheels.
    """

    def __init__(self, buzzer_range_hz=(50, 10000)):
        self.buzzer_range_hz = buzzer_range_hz
        self.calls: list[list] = []
        self.finished, self.is_blocked, self.is_moving = True, False, False
        self.reading = Telemetry(0, 500, 80, 80, SensorBits(0), Colour.WHITE, 0, 0)

    def _move(self, name, *args, finished=False):
        self.calls.append([name, *args])
        self.finished, self.is_blocked, self.is_moving = finished, False, not finished

    def straight(self, distance_mm, speed_percent):
        self._move("straight", distance_mm, speed_percent, finished=distance_mm == 0)

    def turn(self, angle_cdeg, speed_percent):
        self._move("turn", angle_cdeg, speed_percent, finished=angle_cdeg == 0)

    def drive(self, left_percent, right_percent):
        self._move("drive", left_percent, right_percent)

    def brake(self):
        self._move("brake")

    def halt(self):
        self.calls.append(["halt"])
        self.is_moving = False

    def stop_tone(self):
        self.calls.append(["stop_tone"])

    def set_led(self, red, green, blue):
        self.calls.append(["set_led", red, green, blue])

    def beep(self, frequency_hz, duration_ms):
        self.calls.append(["beep", frequency_hz, duration_ms])

    def identify(self, duration_ms):
        self.calls.append(["identify", duration_ms])

    def move_finished(self):
        return self.finished

    def blocked(self):
        return self.is_blocked

    def moving(self):
        return self.is_moving

    def telemetry(self):
        return self.reading


class Session:
    """A RobotProtocol on a ScriptBody; every step is recorded with what it caused."""

    def __init__(self, name: str, *, robot_id=0x07, profile_id=1, capabilities=0x07FF,
                 watchdog_ms=500, max_frame=20, min_telemetry_ms=50, firmware=(1, 0, 0),
                 buzzer_range_hz=(50, 10000), tokens=(0x1234, 0x5678, 0x1234, 0x9ABC, 0x0BAD)):
        self.name = name
        self.t_ms = 100_000
        self.sent: list[bytes] = []
        self.body = ScriptBody(buzzer_range_hz)
        token_list = list(tokens) * 50
        self.robot = RobotProtocol(self.body, short_id=robot_id, send=self.sent.append,
                                   now=lambda: self.t_ms / 1000, profile_id=profile_id,
                                   capabilities=Capability(capabilities), watchdog_ms=watchdog_ms,
                                   max_frame=max_frame, firmware=firmware,
                                   min_telemetry_ms=min_telemetry_ms,
                                   session_tokens=lambda: token_list.pop(0))
        self.config = {"robot_id": robot_id, "profile_id": profile_id, "capabilities": capabilities,
                       "watchdog_ms": watchdog_ms, "max_frame_size": max_frame,
                       "min_telemetry_ms": min_telemetry_ms, "firmware": list(firmware),
                       "buzzer_range_hz": list(buzzer_range_hz), "tokens": list(tokens),
                       "start_ms": self.t_ms}
        self.steps: list[dict] = []
        self.seq = 0

    # The firmware compares integer ms; Python compares float seconds, a few of them
    # without slack. Steps never land exactly on such an instant, where float
    # rounding could decide either way.
    def _hazards(self) -> set[int]:
        robot, times = self.robot, []
        times.append(robot._tone_until_s)
        if robot._previous is not None:
            times.append(robot._previous.until_s)
        if robot._subscription is not None and robot._subscription.period_ms:
            times.append(robot._next_periodic_s + robot._subscription.period_ms / 1000)
        return {round(t * 1000) for t in times if math.isfinite(t)}

    def advance(self, ms: int) -> None:
        self.t_ms += ms
        while self.t_ms in self._hazards():
            self.t_ms += 1

    def _record(self, step: dict, run) -> list[bytes]:
        calls_before = len(self.body.calls)
        run()
        sent, self.sent[:] = list(self.sent), []
        step.update(t=self.t_ms, sent=[hexs(frame) for frame in sent],
                    calls=self.body.calls[calls_before:], in_session=self.robot.in_session,
                    trips=self.robot.watchdog_trips)
        self.steps.append(step)
        return sent

    def write(self, *frames: bytes) -> list[bytes]:
        data = b"".join(frames)
        return self._record({"do": "receive", "bytes": hexs(data)}, lambda: self.robot.receive(data))

    def command(self, message, seq: int | None = None) -> list[bytes]:
        if seq is None:
            self.seq = (self.seq + 1) % 256
            seq = self.seq
        return self.write(encode(message, seq))

    def tick(self, ms: int = TICK_MS) -> list[bytes]:
        self.advance(ms)
        return self._record({"do": "tick"}, self.robot.tick)

    def wait(self, ms: int) -> None:
        for _ in range(ms // TICK_MS):
            self.tick()

    def link_lost(self) -> list[bytes]:
        return self._record({"do": "link_lost"}, self.robot.link_lost)

    def set(self, **state) -> None:
        """Change the body: finished, blocked, moving, reading (a Telemetry)."""
        body = self.body
        body.finished = state.get("finished", body.finished)
        body.is_blocked = state.get("blocked", body.is_blocked)
        body.is_moving = state.get("moving", body.is_moving)
        body.reading = state.get("reading", body.reading)
        self.steps.append({"do": "set", "finished": body.finished, "blocked": body.is_blocked,
                           "moving": body.is_moving, "reading": [int(v) for v in astuple(body.reading)]})

    def vector(self) -> dict:
        return {"name": self.name, "config": self.config, "steps": self.steps}


def reading(distance_mm=500, bits=0, colour=Colour.WHITE, heading=0, odometer=0, time_ms=0):
    """A body's TELEMETRY: heading and odometer are running totals, sent modulo 2**24."""
    return Telemetry(time_ms, distance_mm, 80, 70, SensorBits(bits), colour, wrap(heading, 24),
                     wrap(odometer, 24))


def spec_example() -> Session:
    s = Session("the spec's example exchange", robot_id=0x3F)
    s.set(reading=Telemetry(12345, 423, 71, 68, SensorBits(0), Colour.WHITE, 0, 0))
    s.write(bytes.fromhex("07200101011 4BF".replace(" ", "")))
    s.write(bytes.fromhex("0B50023200320000000116"))
    s.write(bytes.fromhex("0930 03C800000032 5A".replace(" ", "")))
    s.set(reading=Telemetry(12395, 418, 70, 69, SensorBits(0), Colour.WHITE, -2, 6))
    s.wait(50)
    s.write(bytes.fromhex("0421040C"))
    s.set(finished=True)
    s.tick()
    s.write(bytes.fromhex("093105282300001E78"))
    s.write(bytes.fromhex("0841 06204EF401DD".replace(" ", "")))
    s.write(bytes.fromhex("074007FF00005E"))
    s.write(bytes.fromhex("074007FF00005E"))
    s.write(bytes.fromhex("04220817"))
    s.advance(1000)
    s.write(bytes.fromhex("07400900FF0066"))
    s.link_lost()
    s.advance(2000)
    s.write(bytes.fromhex("07200A01011435"))
    s.write(bytes.fromhex("06240B3412E2"))
    s.write(bytes.fromhex("07400900FF0066"))
    s.write(bytes.fromhex("07200102001417"))       # a client of major version 2
    return s


def before_hello_and_malformed() -> Session:
    s = Session("no session yet; malformed, unknown and robot-type frames")
    s.command(MoveStraight(100, 50))
    s.command(Heartbeat())
    s.write(encode_frame(0x22, 9, b""))                    # STOP_ALL works before HELLO
    s.write(encode_frame(0x22, 10, b"\x01\x02"))           # ... even with a payload
    s.command(Hello())
    for frame in (encode_frame(0x25, 20, b""), encode_frame(0x30, 21, b"\x01\x00\x00\x00"),
                  encode_frame(0x30, 22, b"\x64\x00\x00\x00\x00"), encode_frame(0x30, 23, b"\x64\x00\x00\x00\x65"),
                  encode_frame(0x32, 24, b"\x65\x00"), encode_frame(0x32, 25, b"\x00\x9b"),
                  encode_frame(0x20, 26, b"\x01\x01\x13"), encode_frame(0x41, 27, b"\x00\x00\x10\x00"),
                  encode_frame(0x50, 28, b"\x00\x00\x00\x00\x00\x00\x02"), encode_frame(0x24, 29, b"\x00\x00"),
                  encode(Info(1, 1, 1, 0, 0, 1, Capability(0x7FF), 20, 500, 50, 1, 5), 30),
                  encode_frame(0xA2, 31, b"\x01\x02\x03"), encode_frame(0xB0, 32, b"\x30\x07"),
                  encode_frame(0x10, 33, b"")):
        s.write(frame)
    good = encode(SetLed(1, 2, 3), 40)
    s.write(good[:-1] + bytes([good[-1] ^ 0x55]))           # bad CRC: no answer
    s.write(good + encode(Heartbeat(), 41)[:3])            # a garbage tail after a good frame
    s.write(encode(Heartbeat(), 42) + encode(Beep(440, 100), 43) + encode(Identify(0), 44))
    s.write(bytes([0x30]) + encode(SetLed(0, 0, 0), 45))   # a stray byte before a frame
    s.write(encode(MoveStraight(0, 10), 46))               # 0 mm completes at once
    s.write(encode(Turn(0, 10), 47))
    s.write(encode(Beep(20000, 500), 48))                  # outside this buzzer
    s.write(encode(Beep(49, 500), 49))
    return s


def dedup_and_motions() -> Session:
    s = Session("retransmissions, motions replacing motions, STOP, BLOCKED")
    s.command(Hello())
    s.command(MoveStraight(300, 40))
    s.tick()
    s.command(MoveStraight(300, 40), seq=s.seq)            # a retransmission: same answer only
    s.set(finished=True)
    s.tick()
    s.command(MoveStraight(300, 40), seq=s.seq)            # now with its DONE too
    s.command(Turn(-9000, 30))
    s.command(Drive(50, -50))                              # interrupts the turn
    s.command(Turn(4500, 100))
    s.command(Stop())                                      # interrupts, then brakes
    s.command(Heartbeat())
    s.set(finished=True)
    s.tick()
    s.command(MoveStraight(-200, 60))
    s.set(blocked=True)
    s.tick()
    s.command(Heartbeat())
    first = s.seq + 1
    for i in range(8):
        s.command(SetLed(i, i, i))
    s.command(SetLed(0, 0, 0), seq=first)                  # the oldest of 8: still remembered
    s.command(SetLed(8, 8, 8))
    s.command(SetLed(0, 0, 0), seq=first)                  # left the window: runs again
    s.command(SetLed(8, 8, 8), seq=first + 8)              # the newest, remembered
    s.command(Hello(protocol_minor=0, max_frame_size=64))  # a 1.0 client: INFO without token
    s.command(Drive(100, 100))
    s.command(Hello())                                     # a new session stops the wheels
    return s


def watchdog() -> Session:
    s = Session("the watchdog", watchdog_ms=300)
    s.command(Hello())
    s.command(Drive(40, 40))
    s.wait(290)
    s.command(Heartbeat())
    s.wait(310)                                            # trips
    s.command(Heartbeat())
    s.command(Beep(440, 2000))
    s.wait(310)                                            # the tone alone trips it too
    s.command(Heartbeat())
    s.wait(320)                                            # nothing running: no trip
    s.command(MoveStraight(500, 50))
    s.write(b"\x09\x30\x01\x02")                           # corrupted bytes do not feed it
    s.wait(300)
    s.command(Heartbeat())
    return s


def telemetry() -> Session:
    s = Session("telemetry subscriptions", min_telemetry_ms=40)
    s.command(Hello())
    s.set(reading=reading(time_ms=1000))
    s.command(Subscribe(50, 0, 0, False))
    s.wait(160)
    s.command(Subscribe(50, 120, 0, False))                # rate limit above the period
    s.wait(300)
    s.command(Subscribe(0, 0, 30, True))                   # on change only
    s.tick()
    s.set(reading=reading(distance_mm=480))
    s.tick()
    s.set(reading=reading(distance_mm=470))
    s.tick()
    s.set(reading=reading(distance_mm=450, bits=1))
    s.wait(30)
    s.set(reading=reading(distance_mm=450, bits=1, colour=Colour.RED, heading=-5, odometer=-(1 << 23) - 7))
    s.wait(60)
    s.command(Subscribe(20, 10, 0, False))                 # asks faster than the robot goes
    s.wait(130)
    s.command(Subscribe(0, 0, 0, False))                   # ends it
    s.wait(100)
    s.command(Subscribe(100, 0, 0, False))
    s.link_lost()
    s.wait(200)                                            # ends with the session
    return s


def resume() -> Session:
    s = Session("resuming sessions")
    s.command(Hello())
    s.command(SetLed(0, 255, 0))
    s.command(MoveStraight(1000, 50))
    s.link_lost()
    s.advance(500)
    s.command(Hello())
    s.command(Heartbeat())
    s.command(Resume(0x1234))                              # ACK
    s.command(MoveStraight(1000, 50), seq=3)               # from the window, DONE INTERRUPTED
    s.link_lost()
    s.advance(100)
    s.command(Hello())
    s.command(Resume(0x1111))                              # wrong token
    s.link_lost()
    s.advance(100)
    s.command(Hello())
    s.link_lost()                                          # dropped again before RESUME
    s.advance(100)
    s.command(Hello())
    s.command(SetLed(1, 1, 1))
    s.command(Resume(0x5678))                              # another command came first
    s.link_lost()
    s.advance(10_050)
    s.command(Hello())
    s.command(Resume(0x9ABC))                              # too late
    s.command(Hello(protocol_minor=0))
    s.link_lost()
    s.command(Hello())
    s.command(Resume(0x0BAD))                              # a 1.0 session cannot be resumed
    return s


def small_robots() -> list[Session]:
    maqueen = Session("the Maqueen kit's capabilities", capabilities=MAQUEEN_CAPS, profile_id=128,
                      buzzer_range_hz=(20, 20000), robot_id=0xA7)
    maqueen.command(Hello())
    maqueen.command(SetLed(255, 0, 0))
    maqueen.command(Beep(20000, 100))
    maqueen.command(Identify(3000))
    hbridge = Session("the H-bridge kit's capabilities", capabilities=HBRIDGE_CAPS, profile_id=129,
                      buzzer_range_hz=(20, 20000), max_frame=32)
    hbridge.command(StopAll())
    hbridge.command(Hello(max_frame_size=40))
    hbridge.command(SetLed(255, 0, 0))                     # no LED: UNSUPPORTED, bit 8
    hbridge.command(Identify(1000))
    hbridge.command(Beep(10, 100))
    hbridge.write(encode_frame(0x21, 50, bytes(20)))       # 24 bytes: allowed by the agreed 32
    hbridge.write(encode_frame(0x21, 51, bytes(30)))       # 34 bytes: too long, dropped
    silent = Session("a robot without motors or buzzer", capabilities=int(Capability.DISPLAY))
    silent.command(Hello())
    silent.command(MoveStraight(100, 50))
    silent.command(Stop())
    silent.command(Beep(1, 100))
    silent.command(Beep(20000, 100))
    return [maqueen, hbridge, silent]


def fuzz(seed: int) -> Session:
    """Random traffic: commands, retransmissions, corruption, silence, lost links."""
    rng = random.Random(seed)
    s = Session(f"random traffic, seed {seed}", watchdog_ms=rng.choice((200, 500)),
                min_telemetry_ms=rng.choice((20, 50)))
    recent: list[bytes] = []
    for _ in range(180):
        roll = rng.random()
        if roll < 0.35:
            frame = _client_frames(rng, 1)[0]
            if rng.random() < 0.15:
                frame = encode(Subscribe(rng.choice((0, 30, 50, 100)), rng.choice((0, 60)),
                                         rng.choice((0, 20)), rng.random() < 0.5), rng.randint(0, 255))
            if rng.random() < 0.1:
                frame = encode(Resume(rng.choice((0x1234, 0x5678, 7))), rng.randint(0, 255))
            recent.append(frame)
            s.write(frame)
        elif roll < 0.45 and recent:
            s.write(rng.choice(recent[-10:]))
        elif roll < 0.5:
            stream = bytearray(b"".join(_client_frames(rng, 2)))
            _corrupt(rng, stream)
            s.write(bytes(stream))
        elif roll < 0.8:
            s.tick(rng.randint(1, 120))
        elif roll < 0.93:
            s.set(finished=rng.random() < 0.6, blocked=rng.random() < 0.15,
                  moving=rng.random() < 0.5,
                  reading=reading(distance_mm=rng.choice((rng.randint(20, 2000), 0xFFFF)),
                                  bits=rng.randint(0, 7), colour=Colour(rng.randint(0, 11)),
                                  heading=rng.randint(-(1 << 23), (1 << 23) - 1),
                                  odometer=rng.randint(-50_000, 50_000), time_ms=s.t_ms))
        elif roll < 0.97:
            s.link_lost()
        else:
            s.advance(rng.choice((3000, 10_000)))
    return s


def sessions() -> list[dict]:
    made = [spec_example(), before_hello_and_malformed(), dedup_and_motions(), watchdog(),
            telemetry(), resume(), *small_robots(), *(fuzz(seed) for seed in range(8))]
    return [session.vector() for session in made]


def make() -> dict:
    rng = random.Random(11)
    return {
        "format": FORMAT,
        "protocol": list(PROTOCOL_VERSION),
        "made_by": "tests/firmware/make_vectors.py from ble_bridge",
        "crc": crc_vectors(rng),
        "messages": message_vectors(rng),
        "reader": reader_vectors(rng),
        "robot": sessions(),
    }


def dumps(vectors: dict) -> str:
    return json.dumps(vectors, separators=(",", ":"), sort_keys=True) + "\n"


if __name__ == "__main__":
    VECTORS.write_text(dumps(make()), encoding="utf-8")
    print(f"wrote {VECTORS.relative_to(ROOT)} ({VECTORS.stat().st_size} bytes)")

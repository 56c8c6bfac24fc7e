"""Every message of the protocol: a frozen dataclass per type, with its wire layout.

A message's fields are sent in declaration order, little-endian, each as its
``wire(...)`` codec says; every type has a fixed payload length. Constructing
a message checks its ranges, so an impossible command fails where it is made.
Types 0x20-0x7F go from client to robot, 0xA0-0xFF from robot to client.
Units: mm, centidegrees (cdeg), ms, percent; counterclockwise is positive.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from functools import cache
from typing import ClassVar, NamedTuple

from .errors import ErrorCode, ProtocolError
from .fields import I24, I32, U8, U16, U32, Int, codec_of, wire
from .frames import DEFAULT_FRAME_SIZE, RawFrame, decode_frame, encode_frame
from .handshake import PROTOCOL_VERSION


class Capability(IntFlag):
    """What a robot has (INFO ``capabilities``); bit numbers are in docs/protocol.md."""

    MOTORS = 1 << 0       # MOVE_STRAIGHT, TURN, DRIVE, STOP
    DISTANCE = 1 << 1     # distance sensor ahead
    REFLECTION = 1 << 2   # reflected light under the left and right line sensors, %
    LINE = 1 << 3         # line seen under the left and right line sensors
    COLOUR = 1 << 4       # colour sensor
    BUMPER = 1 << 5       # front bumper
    HEADING = 1 << 6      # gyro heading
    ODOMETER = 1 << 7     # wheel encoders
    LED = 1 << 8          # RGB LED
    BUZZER = 1 << 9       # tones
    DISPLAY = 1 << 10     # a display that can show the robot id (IDENTIFY)


class MotionState(IntEnum):
    """How the latest MOVE_STRAIGHT, TURN or STOP ended (DONE) or stands (HEARTBEAT_ACK)."""

    COMPLETED = 0     # reached its distance, angle or standstill
    INTERRUPTED = 1   # replaced by a newer motion command, STOP_ALL, the watchdog or HELLO
    BLOCKED = 2       # the robot stopped because it could not go on (bumper, stalled wheels)
    RUNNING = 3       # still moving (HEARTBEAT_ACK only)
    NONE = 4          # no such command in this session yet (HEARTBEAT_ACK only)


class Colour(IntEnum):
    """Colour ids the colour sensor reports (TELEMETRY ``colour``)."""

    NONE = 0          # no colour recognised
    BLACK = 1
    WHITE = 2
    GREY = 3
    RED = 4
    ORANGE = 5
    YELLOW = 6
    GREEN = 7
    BLUE = 8
    PURPLE = 9
    PINK = 10
    CYAN = 11


class SensorBits(IntFlag):
    """The on/off sensors in TELEMETRY ``sensor_bits``."""

    LINE_LEFT = 1 << 0    # the left line sensor sees a dark line
    LINE_RIGHT = 1 << 1   # the right line sensor sees a dark line
    BUMPED = 1 << 2       # the front bumper is pressed


#: TELEMETRY ``distance_mm`` when nothing is within the sensor's range.
NO_ECHO = 0xFFFF

SPEED = Int(1, low=1, high=100)               # percent of the robot's top speed
WHEEL = Int(1, signed=True, low=-100, high=100)  # percent, negative = backward
PERCENT = Int(1, low=0, high=100)
FRAME_SIZE = Int(1, low=20, high=255)         # bytes, a whole frame
BOOL = Int(1, low=0, high=1, kind=bool)

MESSAGES: dict[int, type[Message]] = {}


class Message:
    """Base of every message. ``TYPE`` is the type byte, ``NAME`` the spec's name."""

    TYPE: ClassVar[int]
    NAME: ClassVar[str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.NAME = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).upper()
        MESSAGES[cls.TYPE] = cls

    def __post_init__(self):
        self._check(_layout(type(self)))

    def _check(self, layout) -> None:
        """Check and normalise the fields of ``layout`` (name, codec, offset)."""
        for name, codec, offset in layout:
            value = getattr(self, name)
            problem = codec.problem(value)
            if problem:
                raise ProtocolError("bad_value", f"{self.NAME}.{name}: {problem}", detail=offset)
            object.__setattr__(self, name, codec.kind(value) if codec.kind else int(value))

    @classmethod
    def layout(cls) -> tuple[tuple[str, Int, int], ...]:
        """(field name, codec, payload offset in bytes) of each field, in wire order."""
        return _layout(cls)

    @classmethod
    def payload_size(cls) -> int:
        """The payload length in bytes (frame length minus 4)."""
        return sum(codec.size for _, codec, _ in _layout(cls))

    def to_payload(self) -> bytes:
        return b"".join(codec.pack(getattr(self, name)) for name, codec, _ in _layout(type(self)))

    @classmethod
    def from_payload(cls, payload: bytes):
        """The message in ``payload``; ProtocolError "bad_length" or "bad_value" if malformed."""
        if len(payload) != cls.payload_size():
            raise ProtocolError("bad_length",
                                f"{cls.NAME} takes {cls.payload_size()} payload bytes, got {len(payload)}")
        return cls(**{name: codec.unpack(payload, offset) for name, codec, offset in _layout(cls)})


@cache
def _layout(cls: type[Message]) -> tuple[tuple[str, Int, int], ...]:
    layout, offset = [], 0
    for field in dataclasses.fields(cls):
        layout.append((field.name, codec_of(field), offset))
        offset += codec_of(field).size
    return tuple(layout)


# -- client to robot ---------------------------------------------------------

@dataclass(frozen=True)
class Hello(Message):
    """Opens a session. Answered by INFO, or NACK VERSION if the major versions differ.

    Its layout never changes, in any version, so any two versions can tell
    each other apart.
    """

    TYPE = 0x20
    protocol_major: int = wire(U8, default=PROTOCOL_VERSION[0])
    protocol_minor: int = wire(U8, default=PROTOCOL_VERSION[1])
    max_frame_size: int = wire(FRAME_SIZE, default=DEFAULT_FRAME_SIZE)  # bytes, largest frame the client accepts


@dataclass(frozen=True)
class Heartbeat(Message):
    """Keeps the robot's watchdog fed. Answered by HEARTBEAT_ACK."""

    TYPE = 0x21


@dataclass(frozen=True)
class StopAll(Message):
    """Motors and tone off at once, in any state, even before HELLO. Answered by ACK."""

    TYPE = 0x22


@dataclass(frozen=True)
class Identify(Message):
    """Blink the LED (and show the robot id on a display) for a while; 0 ms stops it."""

    TYPE = 0x23
    duration_ms: int = wire(U16)


@dataclass(frozen=True)
class Resume(Message):
    """Since 1.1: sent right after INFO on a reconnect, to continue the session that the
    lost link ended (``session_token`` from its INFO). ACK: the robot kept its
    de-duplication window, so a command whose answer the link swallowed can be sent
    again with its old seq and runs at most once. NACK NO_RESUME: a fresh session.
    """

    TYPE = 0x24
    session_token: int = wire(Int(2, low=1))


@dataclass(frozen=True)
class MoveStraight(Message):
    """Drive straight, then stop; negative distance = backward. ACK, then DONE."""

    TYPE = 0x30
    distance_mm: int = wire(I32)
    speed_percent: int = wire(SPEED)


@dataclass(frozen=True)
class Turn(Message):
    """Turn in place, counterclockwise (left) for a positive angle. ACK, then DONE."""

    TYPE = 0x31
    angle_cdeg: int = wire(I32)
    speed_percent: int = wire(SPEED)


@dataclass(frozen=True)
class Drive(Message):
    """Run the wheels at these speeds until the next motion command. ACK, no DONE."""

    TYPE = 0x32
    left_percent: int = wire(WHEEL)
    right_percent: int = wire(WHEEL)


@dataclass(frozen=True)
class Stop(Message):
    """Brake to a standstill. ACK, then DONE when the robot stands still."""

    TYPE = 0x33


@dataclass(frozen=True)
class SetLed(Message):
    """Set the LED colour, 0-255 per channel. ACK."""

    TYPE = 0x40
    red: int = wire(U8)
    green: int = wire(U8)
    blue: int = wire(U8)


@dataclass(frozen=True)
class Beep(Message):
    """Start a tone, replacing any tone playing. ACK (NACK BAD_VALUE outside the buzzer's range)."""

    TYPE = 0x41
    frequency_hz: int = wire(Int(2, low=1))
    duration_ms: int = wire(Int(2, low=1))


@dataclass(frozen=True)
class Subscribe(Message):
    """Ask for TELEMETRY; replaces any earlier subscription; all zero = stop. ACK.

    A frame is due every ``period_ms`` (0 = not periodically), and early when
    the distance has changed by ``distance_change_mm`` (0 = never) or, with
    ``on_change``, a line bit, the bumper or the colour changed; never sooner
    than ``min_interval_ms`` (raised to the robot's own minimum) after the last.
    """

    TYPE = 0x50
    period_ms: int = wire(U16)
    min_interval_ms: int = wire(U16)
    distance_change_mm: int = wire(U16)
    on_change: bool = wire(BOOL)


# -- robot to client ---------------------------------------------------------

@dataclass(frozen=True)
class Info(Message):
    """The answer to HELLO: who the robot is and what it can do."""

    TYPE = 0xA0
    protocol_major: int = wire(U8)
    protocol_minor: int = wire(U8)
    firmware_major: int = wire(U8)
    firmware_minor: int = wire(U8)
    firmware_patch: int = wire(U8)
    profile_id: int = wire(U8)              # robot profile, see the registry in docs/protocol.md
    capabilities: Capability = wire(Int(2, kind=Capability))
    max_frame_size: int = wire(FRAME_SIZE)  # bytes, largest frame the robot accepts
    watchdog_ms: int = wire(Int(2, low=100, high=2000))
    telemetry_min_interval_ms: int = wire(Int(2, low=1))
    robot_id: int = wire(U8)                # shown as two hex digits in "RobotLab-XX"
    #: Since 1.1: names this session for RESUME (1-65535). None: INFO without it, 14 payload
    #: bytes, as a 1.0 robot sends it and a 1.1 robot answers a 1.0 client's HELLO.
    session_token: int | None = wire(Int(2, low=1), default=None)

    #: Payload bytes of an INFO without ``session_token`` (protocol 1.0).
    PAYLOAD_SIZE_1_0: ClassVar[int] = 14

    def __post_init__(self):
        layout = _layout(type(self))
        self._check(layout if self.session_token is not None else layout[:-1])

    def to_payload(self) -> bytes:
        if self.session_token is not None:
            return super().to_payload()
        return b"".join(codec.pack(getattr(self, name)) for name, codec, _ in _layout(type(self))[:-1])

    @classmethod
    def from_payload(cls, payload: bytes):
        # Only the first two bytes (the version) are the same in every major
        # version: a robot of another major version is told apart by them.
        if (payload and payload[0] != PROTOCOL_VERSION[0]
                and len(payload) not in (cls.payload_size(), cls.PAYLOAD_SIZE_1_0)):
            raise ProtocolError("version", f"robot speaks protocol {payload[0]}.x", detail=payload[0])
        if len(payload) == cls.PAYLOAD_SIZE_1_0:
            return cls(**{name: codec.unpack(payload, offset)
                          for name, codec, offset in _layout(cls)[:-1]})
        return super().from_payload(payload)


@dataclass(frozen=True)
class HeartbeatAck(Message):
    """The answer to HEARTBEAT: the state of the latest MOVE_STRAIGHT, TURN or STOP.

    It lets a client notice a DONE it missed. ``watchdog_trips`` counts, modulo
    256, the times the watchdog stopped the motors since HELLO.
    """

    TYPE = 0xA1
    motion_seq: int = wire(U8)
    motion_state: MotionState = wire(Int(1, kind=MotionState))
    watchdog_trips: int = wire(U8)


@dataclass(frozen=True)
class Ack(Message):
    """The command with this frame's seq and ``command_type`` was accepted."""

    TYPE = 0xA2
    command_type: int = wire(U8)


@dataclass(frozen=True)
class Nack(Message):
    """The command with this frame's seq and ``command_type`` was refused; nothing was done."""

    TYPE = 0xA3
    command_type: int = wire(U8)
    code: ErrorCode = wire(Int(1, kind=ErrorCode))
    detail: int = wire(U8)                  # meaning depends on the code, else 0


@dataclass(frozen=True)
class Done(Message):
    """The motion started by the command with this frame's seq has ended."""

    TYPE = 0xB0
    command_type: int = wire(U8)
    status: MotionState = wire(Int(1, high=MotionState.BLOCKED, kind=MotionState))


@dataclass(frozen=True)
class Telemetry(Message):
    """All sensor values at one instant, in one 20-byte frame.

    Sensors the robot lacks (see INFO capabilities) are sent as 0.
    ``heading_cdeg`` and ``odometer_mm`` count since the robot started and wrap
    around in 24 bits, ``time_ms`` in 32: see ``unwrap``.
    """

    TYPE = 0xC0
    time_ms: int = wire(U32)                 # robot clock since start-up
    distance_mm: int = wire(U16)             # ahead; NO_ECHO when nothing is in range
    reflection_left_percent: int = wire(PERCENT)
    reflection_right_percent: int = wire(PERCENT)
    sensor_bits: SensorBits = wire(Int(1, kind=SensorBits))
    colour: Colour = wire(Int(1, kind=Colour))
    heading_cdeg: int = wire(I24)            # counterclockwise positive
    odometer_mm: int = wire(I24)             # mean of both wheels, backward negative


def wrap(total: int, bits: int, signed: bool = True) -> int:
    """A running total as a field of ``bits`` bits carries it: modulo 2**bits.

    A robot sends ``wrap(heading_total_cdeg, 24)`` as ``heading_cdeg``.
    """
    full = 1 << bits
    value = total % full
    return value - full if signed and value >= full >> 1 else value


def unwrap(previous: int, wrapped: int, bits: int) -> int:
    """The value nearest ``previous`` that equals ``wrapped`` modulo 2**bits.

    Turns TELEMETRY's wrapping counters (heading_cdeg and odometer_mm: 24 bits,
    time_ms: 32 bits) back into running totals, given the previous total.
    """
    full, half = 1 << bits, 1 << (bits - 1)
    return previous + ((wrapped - previous + half) % full - half)


# -- frames of messages -------------------------------------------------------

class Decoded(NamedTuple):
    """A decoded frame: its sequence number and its message."""

    seq: int
    message: Message


def encode(message: Message, seq: int) -> bytes:
    """The frame carrying ``message`` with sequence number ``seq`` (0-255)."""
    return encode_frame(message.TYPE, seq, message.to_payload())


def interpret(raw: RawFrame) -> Decoded:
    """The message in a frame that passed its length and CRC checks."""
    cls = MESSAGES.get(raw.frame_type)
    if cls is None:
        raise ProtocolError("unknown_type", f"type {raw.frame_type:#04x}",
                            seq=raw.seq, frame_type=raw.frame_type)
    try:
        return Decoded(raw.seq, cls.from_payload(raw.payload))
    except ProtocolError as error:
        raise error.located(raw.seq, raw.frame_type) from None


def decode(frame: bytes) -> Decoded:
    """The sequence number and message of exactly one frame; ProtocolError if malformed."""
    return interpret(decode_frame(frame))

"""LWP3 messages as dataclasses, and their encoding on the LEGO Hub Characteristic.

Pure functions, no I/O. Every message is ``length | hub id | type | body``
(the Common Message Header, 3.1); ``encode`` adds the header, ``decode``
checks and removes it. Multi-byte numbers are little-endian.

    encode(PortOutputCommand(0, StartSpeedForDegrees(360, 50)))
    # b'\\x0e\\x00\\x81\\x00\\x11\\x0b\\x68\\x01\\x00\\x00\\x32\\x64\\x7f\\x00'
    decode(b'\\x05\\x00\\x82\\x00\\x0a')
    # PortOutputCommandFeedback(entries=((0, <Feedback.COMPLETED|IDLE: 10>),))

Only what a drive base needs is typed: Hub Properties, Hub Actions, Hub
Attached I/O, Generic Error, Port Information Request, Port Input Format
Setup (Single) and its reply, Port Value (Single), Port Output Command with
the motor and WriteDirect(ModeData) sub-commands, and the feedback. Other
message types decode to ``Unknown``, other sub-commands to ``OtherSubCommand``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .constants import (EndState, ErrorCode, Feedback, HubActionType, HubProperty, InformationType,
                        IoEvent, MessageType, PropertyOperation, Startup, SubCommand)

#: Messages longer than this many bytes need the two-byte length (3.2).
ONE_BYTE_LENGTH_MAX = 127
#: Largest length two length bytes can say (7 + 8 bits).
TWO_BYTE_LENGTH_MAX = 0x7FFF
#: The only hub id in use (3.1: "NOT USE at the moment! Always set to 0x00").
HUB_ID = 0


class LwpError(ValueError):
    """A message that cannot be encoded or decoded; ``reason`` says why in one word."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


# -- the common header -------------------------------------------------------------------

def encode_length(length: int) -> bytes:
    """The Message Length field for a whole message of ``length`` bytes (3.2)."""
    if not 1 <= length <= TWO_BYTE_LENGTH_MAX:
        raise LwpError("bad_length", f"a message cannot be {length} bytes long")
    if length <= ONE_BYTE_LENGTH_MAX:
        return bytes([length])
    return bytes([0x80 | (length & 0x7F), length >> 7])


def decode_length(data: bytes) -> tuple[int, int]:
    """``(message length, size of the length field)`` from the start of ``data``."""
    if not data:
        raise LwpError("too_short", "no length byte")
    if data[0] & 0x80 == 0:
        return data[0], 1
    if len(data) < 2:
        raise LwpError("too_short", "the two-byte length is cut off")
    return (data[0] & 0x7F) | (data[1] << 7), 2


def frame(message_type: int, body: bytes) -> bytes:
    """``body`` with the Common Message Header in front: length, hub id 0, type."""
    length = len(body) + 3
    if length > ONE_BYTE_LENGTH_MAX:
        length += 1      # the length field itself grows to two bytes
    return encode_length(length) + bytes([HUB_ID, message_type]) + body


# -- numbers ---------------------------------------------------------------------------------

class Version(NamedTuple):
    """A version number as the hub encodes it into an Int32 (3.5.6), e.g. 1.7.37.1510."""

    major: int
    minor: int
    bugfix: int
    build: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.bugfix}.{self.build}"


def _bcd(value: int, digits: int) -> int:
    if not 0 <= value < 10 ** digits:
        raise LwpError("bad_value", f"{value} does not fit {digits} BCD digits")
    return int(str(value), 16)


def _from_bcd(value: int) -> int:
    text = f"{value:x}"
    if not text.isdigit():
        raise LwpError("bad_value", f"0x{value:x} is not BCD")
    return int(text)


def encode_version(version: Version) -> int:
    """The Int32 of a version: ``0MMMmmmm`` (major 0-7, minor 0-9), bugfix and build in BCD."""
    major, minor, bugfix, build = version
    if not (0 <= major <= 7 and 0 <= minor <= 9):
        raise LwpError("bad_value", f"version {version} is out of range")
    return (major << 28) | (minor << 24) | (_bcd(bugfix, 2) << 16) | _bcd(build, 4)


def decode_version(value: int) -> Version:
    """The version in an Int32 from ``encode_version``."""
    value &= 0xFFFFFFFF
    return Version((value >> 28) & 0x7, (value >> 24) & 0xF, _from_bcd((value >> 16) & 0xFF),
                   _from_bcd(value & 0xFFFF))


def encode_lwp_version(major: int, minor: int) -> int:
    """The UInt16 BCD of a protocol version (3.5.7): 3.0 is 0x0300."""
    return (_bcd(major, 2) << 8) | _bcd(minor, 2)


def decode_lwp_version(value: int) -> tuple[int, int]:
    """``(major, minor)`` of a UInt16 from ``encode_lwp_version``."""
    return _from_bcd(value >> 8), _from_bcd(value & 0xFF)


def write_direct_checksum(payload: bytes) -> int:
    """The WriteDirect checksum (3.30): every payload byte XOR-ed, then XOR 0xFF."""
    checksum = 0xFF
    for byte in payload:
        checksum ^= byte
    return checksum


def tacho_split(degrees: int, speed_left: int, speed_right: int) -> tuple[int, int]:
    """How far each motor of a synchronised pair turns for StartSpeedForDegrees(2) (3.31).

    The pair moves ``degrees`` as the mean of its two tacho counters, shared
    in the ratio of the speeds, each signed by its speed; rounded to whole degrees.
    """
    total = abs(speed_left) + abs(speed_right)
    if total == 0:
        return 0, 0
    return (round(degrees * 2 * speed_left / total), round(degrees * 2 * speed_right / total))


def _check(name: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise LwpError("bad_value", f"{name} must be a whole number from {low} to {high}, "
                                    f"not {value!r}")
    return value


def _unpack(fmt: str, data: bytes, what: str) -> tuple:
    size = struct.calcsize(fmt)
    if len(data) != size:
        raise LwpError("bad_length", f"{what} needs {size} bytes after the header, got {len(data)}")
    return struct.unpack(fmt, data)


# -- hub messages -------------------------------------------------------------------------------

@dataclass(frozen=True)
class HubProperties:
    """Hub Properties [0x01] (3.5): read, set or subscribe to one property of the hub.

    ``payload`` is the property's raw value (only with SET and UPDATE); see
    ``property_value`` for its meaning.
    """

    TYPE: ClassVar[int] = MessageType.HUB_PROPERTIES
    property: HubProperty
    operation: PropertyOperation
    payload: bytes = b""

    def body(self) -> bytes:
        return bytes([self.property, self.operation]) + self.payload

    @classmethod
    def parse(cls, body: bytes) -> HubProperties:
        if len(body) < 2:
            raise LwpError("bad_length", "Hub Properties needs a property and an operation")
        try:
            return cls(HubProperty(body[0]), PropertyOperation(body[1]), bytes(body[2:]))
        except ValueError as error:
            raise LwpError("bad_value", str(error)) from None

    @property
    def value(self):
        """The payload as a Python value: text, bool, int, a Version or a MAC address."""
        return property_value(self.property, self.payload)


def property_value(prop: HubProperty, payload: bytes):
    """The meaning of a Hub Property payload (3.5.5)."""
    if prop in (HubProperty.ADVERTISING_NAME, HubProperty.MANUFACTURER_NAME,
                HubProperty.RADIO_FIRMWARE_VERSION):
        return payload.decode("utf-8", errors="replace")
    if prop is HubProperty.BUTTON:
        return bool(_unpack("<B", payload, "Button")[0])
    if prop in (HubProperty.FW_VERSION, HubProperty.HW_VERSION):
        return decode_version(_unpack("<i", payload, "a version")[0])
    if prop is HubProperty.RSSI:
        return _unpack("<b", payload, "RSSI")[0]
    if prop is HubProperty.LWP_VERSION:
        return decode_lwp_version(_unpack("<H", payload, "LWP version")[0])
    if prop in (HubProperty.PRIMARY_MAC, HubProperty.SECONDARY_MAC):
        return ":".join(f"{byte:02X}" for byte in payload)   # big-endian already (3.5.5, note G)
    return _unpack("<B", payload, prop.name)[0]


@dataclass(frozen=True)
class HubAction:
    """Hub Actions [0x02] (3.6): switch off, disconnect, ... and the hub's announcements."""

    TYPE: ClassVar[int] = MessageType.HUB_ACTIONS
    action: HubActionType

    def body(self) -> bytes:
        return bytes([self.action])

    @classmethod
    def parse(cls, body: bytes) -> HubAction:
        (action,) = _unpack("<B", body, "Hub Actions")
        try:
            return cls(HubActionType(action))
        except ValueError as error:
            raise LwpError("bad_value", str(error)) from None


@dataclass(frozen=True)
class HubAttachedIo:
    """Hub Attached I/O [0x04] (3.8): a device was attached to or detached from a port.

    ``io_type`` for attached devices; the revisions (Int32 version numbers)
    for ATTACHED, ``port_a``/``port_b`` for ATTACHED_VIRTUAL.
    """

    TYPE: ClassVar[int] = MessageType.HUB_ATTACHED_IO
    port: int
    event: IoEvent
    io_type: int | None = None
    hardware_revision: int = 0
    software_revision: int = 0
    port_a: int | None = None
    port_b: int | None = None

    def body(self) -> bytes:
        head = bytes([_check("port", self.port, 0, 255), self.event])
        if self.event is IoEvent.DETACHED:
            return head
        io_type = struct.pack("<H", _check("io_type", self.io_type, 0, 0xFFFF))
        if self.event is IoEvent.ATTACHED:
            return head + io_type + struct.pack("<ii", self.hardware_revision,
                                                self.software_revision)
        return head + io_type + bytes([_check("port_a", self.port_a, 0, 255),
                                       _check("port_b", self.port_b, 0, 255)])

    @classmethod
    def parse(cls, body: bytes) -> HubAttachedIo:
        if len(body) < 2:
            raise LwpError("bad_length", "Hub Attached I/O needs a port and an event")
        port, event = body[0], body[1]
        if event == IoEvent.DETACHED:
            _unpack("", body[2:], "Detached I/O")
            return cls(port, IoEvent.DETACHED)
        if event == IoEvent.ATTACHED:
            io_type, hardware, software = _unpack("<Hii", body[2:], "Attached I/O")
            return cls(port, IoEvent.ATTACHED, io_type, hardware, software)
        if event == IoEvent.ATTACHED_VIRTUAL:
            io_type, port_a, port_b = _unpack("<HBB", body[2:], "Attached Virtual I/O")
            return cls(port, IoEvent.ATTACHED_VIRTUAL, io_type, port_a=port_a, port_b=port_b)
        raise LwpError("bad_value", f"unknown I/O event {event}")


@dataclass(frozen=True)
class GenericError:
    """Generic Error Messages [0x05] (3.9): which message type caused which error."""

    TYPE: ClassVar[int] = MessageType.GENERIC_ERROR
    command_type: int
    code: ErrorCode

    def body(self) -> bytes:
        return bytes([_check("command_type", self.command_type, 0, 255), self.code])

    @classmethod
    def parse(cls, body: bytes) -> GenericError:
        command_type, code = _unpack("<BB", body, "Generic Error")
        try:
            return cls(command_type, ErrorCode(code))
        except ValueError as error:
            raise LwpError("bad_value", str(error)) from None


# -- port messages ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PortInformationRequest:
    """Port Information Request [0x21] (3.15): PORT_VALUE asks for one Port Value now."""

    TYPE: ClassVar[int] = MessageType.PORT_INFORMATION_REQUEST
    port: int
    information_type: InformationType = InformationType.PORT_VALUE

    def body(self) -> bytes:
        return bytes([_check("port", self.port, 0, 255), self.information_type])

    @classmethod
    def parse(cls, body: bytes) -> PortInformationRequest:
        port, information_type = _unpack("<BB", body, "Port Information Request")
        try:
            return cls(port, InformationType(information_type))
        except ValueError as error:
            raise LwpError("bad_value", str(error)) from None


@dataclass(frozen=True)
class _PortInputFormat:
    port: int
    mode: int
    delta: int
    notify: bool

    def body(self) -> bytes:
        return struct.pack("<BBIB", _check("port", self.port, 0, 255),
                           _check("mode", self.mode, 0, 255),
                           _check("delta", self.delta, 0, 0xFFFFFFFF), bool(self.notify))

    @classmethod
    def parse(cls, body: bytes):
        port, mode, delta, notify = _unpack("<BBIB", body, cls.__name__)
        return cls(port, mode, delta, bool(notify))


@dataclass(frozen=True)
class PortInputFormatSetupSingle(_PortInputFormat):
    """Port Input Format Setup (Single) [0x41] (3.17): choose a port's mode and subscribe.

    ``delta``: how much the value must change before the hub sends it again.
    0 means every sample, which floods the link: the spec says not to use it.
    """

    TYPE: ClassVar[int] = MessageType.PORT_INPUT_FORMAT_SETUP_SINGLE


@dataclass(frozen=True)
class PortInputFormatSingle(_PortInputFormat):
    """Port Input Format (Single) [0x47] (3.23): the hub's answer to a setup."""

    TYPE: ClassVar[int] = MessageType.PORT_INPUT_FORMAT_SINGLE


class DatasetType(NamedTuple):
    """How one mode's value is laid out (3.21.2): ``count`` numbers of ``code``'s size."""

    count: int
    code: str        # struct code: "b" 8 bit, "h" 16 bit, "i" 32 bit, "f" float

    @property
    def size(self) -> int:
        return self.count * struct.calcsize("<" + self.code)

    def pack(self, *values) -> bytes:
        return struct.pack(f"<{self.count}{self.code}", *values)

    def unpack(self, data: bytes) -> tuple:
        return _unpack(f"<{self.count}{self.code}", data, "a port value")


@dataclass(frozen=True)
class PortValueSingle:
    """Port Value (Single) [0x45] (3.21): ``port | value`` repeated, one or more ports.

    Value sizes depend on each port's mode, so the message keeps the raw
    ``data``; ``split`` cuts it with the sizes the receiver knows.
    """

    TYPE: ClassVar[int] = MessageType.PORT_VALUE_SINGLE
    data: bytes

    @classmethod
    def of(cls, *values: tuple[int, bytes]) -> PortValueSingle:
        """The message for ``(port, value bytes)`` pairs."""
        return cls(b"".join(bytes([_check("port", port, 0, 255)]) + value for port, value in values))

    def body(self) -> bytes:
        return self.data

    @classmethod
    def parse(cls, body: bytes) -> PortValueSingle:
        if len(body) < 2:
            raise LwpError("bad_length", "Port Value needs a port and a value")
        return cls(bytes(body))

    def split(self, sizes: Mapping[int, int]) -> list[tuple[int, bytes]]:
        """``(port, value bytes)`` pairs, with ``sizes[port]`` bytes per port's value."""
        values, offset = [], 0
        while offset < len(self.data):
            port = self.data[offset]
            size = sizes.get(port)
            if size is None:
                raise LwpError("unknown_port", f"no value size known for port {port}")
            value = self.data[offset + 1: offset + 1 + size]
            if len(value) != size:
                raise LwpError("bad_length", f"port {port}'s value is cut off")
            values.append((port, value))
            offset += 1 + size
        return values


# -- output sub-commands ----------------------------------------------------------------------------

def _motor_tail(max_power: int, end_state: EndState, use_profile: int) -> bytes:
    return bytes([_check("max_power", max_power, 0, 100), EndState(end_state),
                  _check("use_profile", use_profile, 0, 3)])


@dataclass(frozen=True)
class StartSpeed:
    """StartSpeed(Speed, MaxPower, UseProfile) [0x07]: run at ``speed`` % until told otherwise.

    Speed -100..100 (positive = clockwise); 0 holds the position.
    """

    CODE: ClassVar[int] = SubCommand.START_SPEED
    speed: int
    max_power: int = 100
    use_profile: int = 0

    def payload(self) -> bytes:
        return struct.pack("<bBB", _check("speed", self.speed, -100, 100),
                           _check("max_power", self.max_power, 0, 100),
                           _check("use_profile", self.use_profile, 0, 3))

    @classmethod
    def parse(cls, payload: bytes) -> StartSpeed:
        return cls(*_unpack("<bBB", payload, "StartSpeed"))


@dataclass(frozen=True)
class StartSpeedForTime:
    """StartSpeedForTime(Time, Speed, MaxPower, EndState, UseProfile) [0x09]; time in ms."""

    CODE: ClassVar[int] = SubCommand.START_SPEED_FOR_TIME
    time_ms: int
    speed: int
    max_power: int = 100
    end_state: EndState = EndState.BRAKE
    use_profile: int = 0

    def payload(self) -> bytes:
        return struct.pack("<hb", _check("time_ms", self.time_ms, 0, 0x7FFF),
                           _check("speed", self.speed, -100, 100)) + \
            _motor_tail(self.max_power, self.end_state, self.use_profile)

    @classmethod
    def parse(cls, payload: bytes) -> StartSpeedForTime:
        time_ms, speed, max_power, end_state, use_profile = _unpack("<hbBBB", payload,
                                                                    "StartSpeedForTime")
        return cls(time_ms, speed, max_power, _end_state(end_state), use_profile)


@dataclass(frozen=True)
class StartSpeedForDegrees:
    """StartSpeedForDegrees(Degrees, Speed, MaxPower, EndState, UseProfile) [0x0B].

    Turn ``degrees`` (1 or more) at ``speed`` %; the sign of the speed alone
    gives the direction (3.27.9).
    """

    CODE: ClassVar[int] = SubCommand.START_SPEED_FOR_DEGREES
    degrees: int
    speed: int
    max_power: int = 100
    end_state: EndState = EndState.BRAKE
    use_profile: int = 0

    def payload(self) -> bytes:
        return struct.pack("<ib", _check("degrees", self.degrees, 1, 0x7FFFFFFF),
                           _check("speed", self.speed, -100, 100)) + \
            _motor_tail(self.max_power, self.end_state, self.use_profile)

    @classmethod
    def parse(cls, payload: bytes) -> StartSpeedForDegrees:
        degrees, speed, max_power, end_state, use_profile = _unpack("<ibBBB", payload,
                                                                    "StartSpeedForDegrees")
        return cls(degrees, speed, max_power, _end_state(end_state), use_profile)


@dataclass(frozen=True)
class StartSpeedForDegrees2:
    """StartSpeedForDegrees(Degrees, SpeedL, SpeedR, ...) [0x0C] on a virtual port.

    ``degrees`` is the mean of the two tacho counters (``tacho_split``).
    """

    CODE: ClassVar[int] = SubCommand.START_SPEED_FOR_DEGREES_2
    degrees: int
    speed_left: int
    speed_right: int
    max_power: int = 100
    end_state: EndState = EndState.BRAKE
    use_profile: int = 0

    def payload(self) -> bytes:
        return struct.pack("<ibb", _check("degrees", self.degrees, 0, 10_000_000),
                           _check("speed_left", self.speed_left, -100, 100),
                           _check("speed_right", self.speed_right, -100, 100)) + \
            _motor_tail(self.max_power, self.end_state, self.use_profile)

    @classmethod
    def parse(cls, payload: bytes) -> StartSpeedForDegrees2:
        degrees, left, right, max_power, end_state, use_profile = _unpack(
            "<ibbBBB", payload, "StartSpeedForDegrees2")
        return cls(degrees, left, right, max_power, _end_state(end_state), use_profile)


@dataclass(frozen=True)
class GotoAbsolutePosition:
    """GotoAbsolutePosition(AbsPos, Speed, MaxPower, EndState, UseProfile) [0x0D].

    Turn to ``position`` degrees of the motor's counter at ``speed`` % (1-100).
    """

    CODE: ClassVar[int] = SubCommand.GOTO_ABSOLUTE_POSITION
    position: int
    speed: int
    max_power: int = 100
    end_state: EndState = EndState.BRAKE
    use_profile: int = 0

    def payload(self) -> bytes:
        return struct.pack("<ib", _check("position", self.position, -(1 << 31), (1 << 31) - 1),
                           _check("speed", self.speed, 1, 100)) + \
            _motor_tail(self.max_power, self.end_state, self.use_profile)

    @classmethod
    def parse(cls, payload: bytes) -> GotoAbsolutePosition:
        position, speed, max_power, end_state, use_profile = _unpack("<ibBBB", payload,
                                                                     "GotoAbsolutePosition")
        return cls(position, speed, max_power, _end_state(end_state), use_profile)


@dataclass(frozen=True)
class WriteDirectModeData:
    """WriteDirectModeData(Mode, Payload) [0x51] (3.29, 6.1): switch the device's mode and
    hand it the payload; how LEDs are set, motors powered and encoders preset."""

    CODE: ClassVar[int] = SubCommand.WRITE_DIRECT_MODE_DATA
    mode: int
    data: bytes

    def payload(self) -> bytes:
        return bytes([_check("mode", self.mode, 0, 255)]) + self.data

    @classmethod
    def parse(cls, payload: bytes) -> WriteDirectModeData:
        if not payload:
            raise LwpError("bad_length", "WriteDirectModeData needs a mode")
        return cls(payload[0], bytes(payload[1:]))


def set_rgb(red: int, green: int, blue: int) -> WriteDirectModeData:
    """SetRgbColors for an RGB light: mode 1, three bytes 0-255 (6.1)."""
    return WriteDirectModeData(1, bytes(_check(name, value, 0, 255) for name, value in
                                        (("red", red), ("green", green), ("blue", blue))))


def set_colour_number(colour: int) -> WriteDirectModeData:
    """SetRgbColorNo for an RGB light: mode 0, one of LEGO's colours 0-10 (6.1)."""
    return WriteDirectModeData(0, bytes([_check("colour", colour, 0, 10)]))


def preset_encoder(position: int) -> WriteDirectModeData:
    """PresetEncoder for a tacho motor: mode 2, Int32 degrees; 0 resets the counter (6.1)."""
    return WriteDirectModeData(2, struct.pack("<i", position))


def start_power(power: int) -> WriteDirectModeData:
    """StartPower: mode 0, Int8 -100..100 % PWM; 0 brakes, 127 floats (3.27.1, 6.1)."""
    if power != 127:
        _check("power", power, -100, 100)
    return WriteDirectModeData(0, struct.pack("<b", power))


@dataclass(frozen=True)
class OtherSubCommand:
    """A sub-command this codec does not type: its code and raw payload."""

    code: int
    data: bytes

    @property
    def CODE(self) -> int:  # noqa: N802 - the same attribute the typed sub-commands have
        return self.code

    def payload(self) -> bytes:
        return self.data


SUB_COMMANDS = {cls.CODE: cls for cls in (StartSpeed, StartSpeedForTime, StartSpeedForDegrees,
                                          StartSpeedForDegrees2, GotoAbsolutePosition,
                                          WriteDirectModeData)}


def _end_state(value: int) -> EndState:
    try:
        return EndState(value)
    except ValueError:
        raise LwpError("bad_value", f"end state {value} is none of 0, 126, 127") from None


@dataclass(frozen=True)
class PortOutputCommand:
    """Port Output Command [0x81] (3.26): a sub-command for the device on ``port``.

    ``startup`` EXECUTE_IMMEDIATELY discards what the port is doing;
    ``feedback`` asks for Port Output Command Feedback as the command
    starts, completes or is discarded.
    """

    TYPE: ClassVar[int] = MessageType.PORT_OUTPUT_COMMAND
    port: int
    command: object
    startup: Startup = Startup.EXECUTE_IMMEDIATELY
    feedback: bool = True

    def body(self) -> bytes:
        flags = (self.startup << 4) | int(bool(self.feedback))
        return bytes([_check("port", self.port, 0, 255), flags, self.command.CODE]) + \
            self.command.payload()

    @classmethod
    def parse(cls, body: bytes) -> PortOutputCommand:
        if len(body) < 3:
            raise LwpError("bad_length", "Port Output Command needs a port, flags and a sub-command")
        port, flags, code = body[0], body[1], body[2]
        try:
            startup = Startup(flags >> 4)
        except ValueError:
            raise LwpError("bad_value", f"unknown startup {flags >> 4}") from None
        sub = SUB_COMMANDS.get(code)
        command = sub.parse(bytes(body[3:])) if sub else OtherSubCommand(code, bytes(body[3:]))
        return cls(port, command, startup, bool(flags & 0x01))


@dataclass(frozen=True)
class PortOutputCommandFeedback:
    """Port Output Command Feedback [0x82] (3.32): ``(port, Feedback)`` for one or more ports."""

    TYPE: ClassVar[int] = MessageType.PORT_OUTPUT_COMMAND_FEEDBACK
    entries: tuple[tuple[int, Feedback], ...]

    def body(self) -> bytes:
        return b"".join(bytes([_check("port", port, 0, 255), _check("feedback", int(bits), 0, 0x1F)])
                        for port, bits in self.entries)

    @classmethod
    def parse(cls, body: bytes) -> PortOutputCommandFeedback:
        if not body or len(body) % 2:
            raise LwpError("bad_length", "feedback comes in (port, bits) pairs")
        return cls(tuple((body[i], Feedback(body[i + 1])) for i in range(0, len(body), 2)))


@dataclass(frozen=True)
class Unknown:
    """A message of a type this codec does not type: its type and raw body."""

    message_type: int
    data: bytes

    @property
    def TYPE(self) -> int:  # noqa: N802
        return self.message_type

    def body(self) -> bytes:
        return self.data


MESSAGES = {cls.TYPE: cls for cls in (HubProperties, HubAction, HubAttachedIo, GenericError,
                                      PortInformationRequest, PortInputFormatSetupSingle,
                                      PortInputFormatSingle, PortValueSingle, PortOutputCommand,
                                      PortOutputCommandFeedback)}


def encode(message) -> bytes:
    """The bytes of ``message`` with its Common Message Header."""
    return frame(message.TYPE, message.body())


def decode(data: bytes):
    """The message in ``data``, exactly one whole message; LwpError if it is malformed."""
    length, length_size = decode_length(data)
    if length != len(data):
        raise LwpError("bad_length", f"the header says {length} bytes, the message has {len(data)}")
    if length < length_size + 2:
        raise LwpError("too_short", "no hub id and message type")
    message_type = data[length_size + 1]
    body = bytes(data[length_size + 2:])
    parser = MESSAGES.get(message_type)
    return parser.parse(body) if parser else Unknown(message_type, body)


__all__ = [
    "LwpError", "encode", "decode", "frame", "encode_length", "decode_length",
    "Version", "encode_version", "decode_version", "encode_lwp_version", "decode_lwp_version",
    "write_direct_checksum", "tacho_split", "property_value", "DatasetType",
    "HubProperties", "HubAction", "HubAttachedIo", "GenericError", "PortInformationRequest",
    "PortInputFormatSetupSingle", "PortInputFormatSingle", "PortValueSingle",
    "PortOutputCommand", "PortOutputCommandFeedback", "Unknown",
    "StartSpeed", "StartSpeedForTime", "StartSpeedForDegrees", "StartSpeedForDegrees2",
    "GotoAbsolutePosition", "WriteDirectModeData", "OtherSubCommand",
    "set_rgb", "set_colour_number", "preset_encoder", "start_power", "ONE_BYTE_LENGTH_MAX",
]

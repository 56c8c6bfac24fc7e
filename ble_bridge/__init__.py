"""The open RobotLab protocol: frames and messages between a client and a robot over BLE.

Pure data, no I/O: the Bluetooth transports (bleak, the browser) and the
virtual test robot build on it. The specification is docs/protocol.md.

    from ble_bridge import Hello, FrameReader, decode, encode
    frame = encode(Hello(), seq=1)          # bytes to write to the robot
    reader = FrameReader()
    for item in reader.feed(notification):  # bytes the robot sent
        ...                                 # a Decoded(seq, message) or a ProtocolError

Wire units: mm, centidegrees, ms, percent (the pupil API's cm, degrees,
seconds and percent, times 10, 100, 1000 and 1).
"""

__all__ = [
    # version and handshake
    "PROTOCOL_VERSION", "Agreement", "check_compatible", "negotiate",
    # frames
    "DEFAULT_FRAME_SIZE", "RawFrame", "crc8", "encode_frame", "decode_frame",
    # messages
    "Message", "MESSAGES", "Decoded", "encode", "decode", "interpret", "wrap", "unwrap",
    "Hello", "Heartbeat", "StopAll", "Identify", "MoveStraight", "Turn", "Drive", "Stop",
    "SetLed", "Beep", "Subscribe", "Resume",
    "Info", "HeartbeatAck", "Ack", "Nack", "Done", "Telemetry",
    "Capability", "MotionState", "Colour", "SensorBits", "NO_ECHO",
    # stream reading
    "FrameReader",
    # errors
    "ProtocolError", "ErrorCode",
    # Bluetooth names and the UART service
    "NUS_SERVICE_UUID", "NUS_RX_UUID", "NUS_TX_UUID", "NAME_PREFIX",
    "UartRoles", "advertised_name", "robot_id_from_name", "uart_roles",
]

from .crc import crc8
from .errors import ErrorCode, ProtocolError
from .frames import DEFAULT_FRAME_SIZE, RawFrame, decode_frame, encode_frame
from .gatt import (NAME_PREFIX, NUS_RX_UUID, NUS_SERVICE_UUID, NUS_TX_UUID, UartRoles,
                   advertised_name, robot_id_from_name, uart_roles)
from .handshake import PROTOCOL_VERSION, Agreement, check_compatible, negotiate
from .messages import (MESSAGES, NO_ECHO, Ack, Beep, Capability, Colour, Decoded, Done, Drive,
                       Heartbeat, HeartbeatAck, Hello, Identify, Info, Message, MotionState,
                       MoveStraight, Nack, Resume, SensorBits, SetLed, Stop, StopAll, Subscribe, Telemetry,
                       Turn, decode, encode, interpret, unwrap, wrap)
from .reader import FrameReader

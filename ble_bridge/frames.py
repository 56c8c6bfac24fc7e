"""The frame: ``len | type | seq | payload | CRC-8``.

=======  ====  =========================================================
len      u8    length of the whole frame in bytes, this byte and the CRC
               included: 4 (no payload) to 255
type     u8    message type
seq      u8    sequence number, wrapping 255 -> 0
payload        ``len - 4`` bytes, layout fixed by the type
crc      u8    CRC-8/SMBUS of every byte before it (len, type, seq, payload)
=======  ====  =========================================================

Frames are at most ``DEFAULT_FRAME_SIZE`` bytes (one ATT MTU of 23 minus its
3-byte header) until both sides have agreed on more in HELLO/INFO.
"""

from __future__ import annotations

from typing import NamedTuple

from .crc import crc8
from .errors import ProtocolError

OVERHEAD = 4                # len, type, seq and crc bytes
MIN_FRAME_SIZE = OVERHEAD   # a frame without payload
MAX_FRAME_SIZE = 255        # the len byte's limit
DEFAULT_FRAME_SIZE = 20     # bytes: ATT_MTU 23 - 3, what every BLE link carries


class RawFrame(NamedTuple):
    """A frame that passed the length and CRC checks, payload not yet interpreted."""

    frame_type: int
    seq: int
    payload: bytes


def encode_frame(frame_type: int, seq: int, payload: bytes) -> bytes:
    """The bytes of one frame; ``frame_type`` and ``seq`` are 0-255."""
    for name, value in (("frame_type", frame_type), ("seq", seq)):
        if not 0 <= value <= 0xFF:
            raise ProtocolError("bad_value", f"{name}={value} is not a byte")
    size = len(payload) + OVERHEAD
    if size > MAX_FRAME_SIZE:
        raise ProtocolError("bad_frame_length", f"{size} bytes > {MAX_FRAME_SIZE}")
    body = bytes((size, frame_type, seq)) + bytes(payload)
    return body + bytes((crc8(body),))


def decode_frame(frame: bytes) -> RawFrame:
    """Check one whole frame's length byte and CRC and split it up."""
    if len(frame) < MIN_FRAME_SIZE or frame[0] != len(frame):
        declared = frame[0] if frame else "none"
        raise ProtocolError("bad_frame_length",
                            f"len byte {declared}, {len(frame)} bytes received")
    if crc8(frame[:-1]) != frame[-1]:
        raise ProtocolError("bad_crc", f"CRC {frame[-1]:#04x}, expected {crc8(frame[:-1]):#04x}")
    return RawFrame(frame[1], frame[2], bytes(frame[3:-1]))

"""Cutting a byte stream into frames, and finding the frames again after corruption.

BLE writes and notifications usually carry exactly one frame, but not always:
a micro:bit packs its outgoing bytes into indications of up to 20 bytes, so a
frame may arrive in two pieces and one notification may hold the end of one
frame and the start of the next. The reader therefore treats its input as a
stream. The strategy is described in docs/protocol.md ("Resynchronisation").
"""

from __future__ import annotations

from .crc import crc8
from .errors import ProtocolError
from .frames import DEFAULT_FRAME_SIZE, MIN_FRAME_SIZE, RawFrame
from .messages import Decoded, interpret


class FrameReader:
    """Turns received bytes into decoded frames and errors, in arrival order.

    ``max_frame_size`` (bytes) is the largest frame expected: 20 until HELLO
    and INFO have agreed on more. A length byte above it means corruption.
    """

    def __init__(self, max_frame_size: int = DEFAULT_FRAME_SIZE):
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        # In sync: the buffer starts where a frame starts, as it does at first,
        # after a good frame and after flush(). Hunting: we lost the frame
        # boundaries and look for them one byte at a time.
        self._in_sync = True

    def feed(self, data: bytes) -> list[Decoded | ProtocolError]:
        """Add received bytes; return every frame they complete, and any errors.

        An incomplete frame at the end waits for more bytes. Only one error is
        reported per loss of synchronisation, not one per skipped byte.
        """
        self._buffer += data
        return self._scan(final=False)

    def flush(self) -> list[Decoded | ProtocolError]:
        """Treat what is buffered as complete: no byte of it will be continued.

        For a receiver that knows no frame spans its input units (a robot
        reading whole client writes) or that has seen no byte for a while.
        """
        results = self._scan(final=True)
        self._in_sync = True
        return results

    def _scan(self, final: bool) -> list[Decoded | ProtocolError]:
        results: list[Decoded | ProtocolError] = []
        buffer, start = self._buffer, 0
        while start < len(buffer):
            size = buffer[start]
            if not MIN_FRAME_SIZE <= size <= self.max_frame_size:
                self._lose_sync(results, "bad_frame_length", f"length byte {size}")
                start += 1
                continue
            if len(buffer) - start < size:
                if not final:
                    break
                self._lose_sync(results, "bad_frame_length", f"frame of {size} bytes cut short")
                start += 1
                continue
            frame = bytes(buffer[start:start + size])
            if crc8(frame[:-1]) != frame[-1]:
                self._lose_sync(results, "bad_crc", f"in a frame of {size} bytes")
                start += 1
                continue
            try:
                results.append(interpret(RawFrame(frame[1], frame[2], frame[3:-1])))
            except ProtocolError as error:
                if not self._in_sync:
                    # While hunting, a CRC match that is no valid message is most
                    # likely garbage that passed the CRC by chance (1 in 256).
                    start += 1
                    continue
                results.append(error)
            self._in_sync = True
            start += size
        del buffer[:start]
        return results

    def _lose_sync(self, results: list, reason: str, text: str) -> None:
        if self._in_sync:
            results.append(ProtocolError(reason, text))
            self._in_sync = False

"""The protocol's one exception, and the error codes a robot puts in a NACK."""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    """Why a robot refused a command (the ``code`` byte of a NACK)."""

    UNKNOWN_TYPE = 0x01   # the robot does not know this message type
    BAD_LENGTH = 0x02     # the payload length is wrong for the type
    BAD_VALUE = 0x03      # a field is out of range; detail = the field's payload offset
    NOT_READY = 0x04      # no session yet: send HELLO first
    VERSION = 0x05        # HELLO's major version differs; detail = the robot's major version
    UNSUPPORTED = 0x06    # the robot lacks the hardware; detail = the capability bit number
    BUSY = 0x07           # the robot cannot take the command now (e.g. calibrating); retry later
    NO_RESUME = 0x08      # since 1.1: RESUME's session is unknown, expired or not the last one


# ProtocolError reasons that a robot answers with a NACK; framing errors
# (bad_crc, bad_frame_length) are not among them: such frames are dropped unanswered.
_NACK_CODES = {
    "unknown_type": ErrorCode.UNKNOWN_TYPE,
    "bad_length": ErrorCode.BAD_LENGTH,
    "bad_value": ErrorCode.BAD_VALUE,
    "version": ErrorCode.VERSION,
}


class ProtocolError(ValueError):
    """Malformed or unacceptable protocol data.

    ``reason`` is machine-readable: "bad_frame_length" or "bad_crc" (framing:
    the frame cannot be trusted), "unknown_type", "bad_length", "bad_value"
    or "version" (a well-framed message a robot answers with a NACK), or
    "nus_roles" (the UART service's characteristics cannot be told apart).
    ``seq`` and ``frame_type`` are set when the frame header could be trusted;
    ``detail`` is the NACK detail byte.
    """

    def __init__(self, reason: str, text: str = "", *, seq: int | None = None,
                 frame_type: int | None = None, detail: int = 0):
        self.reason = reason
        self.text = text
        self.seq = seq
        self.frame_type = frame_type
        self.detail = detail
        super().__init__(f"{reason}: {text}" if text else reason)

    @property
    def error_code(self) -> ErrorCode | None:
        """The NACK code for this error, or None when no NACK is sent."""
        return _NACK_CODES.get(self.reason)

    def located(self, seq: int, frame_type: int) -> ProtocolError:
        """The same error, tagged with the header of the frame it was found in."""
        return ProtocolError(self.reason, self.text, seq=seq, frame_type=frame_type,
                             detail=self.detail)

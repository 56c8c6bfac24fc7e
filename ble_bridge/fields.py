"""Integer fields of a payload: little-endian, fixed size, with their allowed range."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum, IntFlag


@dataclass(frozen=True)
class Int:
    """A little-endian integer of ``size`` bytes.

    ``low``/``high`` narrow the range (default: all values the bytes hold);
    ``kind`` (an IntEnum, an IntFlag or bool) is the type the message field
    holds. An IntFlag field ignores undefined bits on decoding and refuses
    them on encoding.
    """

    size: int
    signed: bool = False
    low: int | None = None
    high: int | None = None
    kind: type | None = None

    @property
    def bounds(self) -> tuple[int, int]:
        bits = 8 * self.size
        low, high = (-(1 << bits - 1), (1 << bits - 1) - 1) if self.signed else (0, (1 << bits) - 1)
        return (low if self.low is None else self.low, high if self.high is None else self.high)

    def problem(self, value) -> str | None:
        """Why ``value`` cannot be sent in this field, or None if it can."""
        if not isinstance(value, int):
            return f"{value!r} is not an integer"
        if self.kind is not None and issubclass(self.kind, IntFlag):
            defined = _all_bits(self.kind)
            return None if value & ~defined == 0 else f"{value:#x} sets undefined bits"
        if self.kind is not None and issubclass(self.kind, IntEnum) and value not in _values(self.kind):
            return f"{value} is not a {self.kind.__name__}"
        low, high = self.bounds
        return None if low <= value <= high else f"{value} is outside {low}..{high}"

    def pack(self, value: int) -> bytes:
        return int(value).to_bytes(self.size, "little", signed=self.signed)

    def unpack(self, data: bytes, offset: int) -> int:
        value = int.from_bytes(data[offset:offset + self.size], "little", signed=self.signed)
        if self.kind is not None and issubclass(self.kind, IntFlag):
            return self.kind(value & _all_bits(self.kind))
        return value


def _all_bits(flags: type[IntFlag]) -> int:
    mask = 0
    for member in flags:
        mask |= member
    return mask


def _values(enum: type[IntEnum]) -> set[int]:
    return {member.value for member in enum}


def wire(codec: Int, *, default=dataclasses.MISSING):
    """A dataclass field sent as ``codec``; fields are sent in declaration order."""
    return dataclasses.field(default=default, metadata={"wire": codec})


def codec_of(field: dataclasses.Field) -> Int:
    return field.metadata["wire"]


U8 = Int(1)
U16 = Int(2)
U32 = Int(4)
I24 = Int(3, signed=True)
I32 = Int(4, signed=True)

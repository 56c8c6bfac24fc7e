"""CRC-8/SMBUS, the checksum that ends every frame.

Polynomial x^8 + x^2 + x + 1 (0x07), initial value 0x00, no reflection, no
final XOR. Check value: ``crc8(b"123456789") == 0xF4``.
"""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc8(data: bytes) -> int:
    """The CRC-8/SMBUS of ``data``, 0-255."""
    crc = 0
    for byte in data:
        crc = _TABLE[crc ^ byte]
    return crc

"""How a RobotLab robot appears over Bluetooth LE: its name and its UART service.

A robot advertises "RobotLab-XX". A micro:bit running MakeCode firmware cannot
choose its name and advertises "BBC micro:bit [zatug]" (five letters from its
serial number) instead, without the NUS UUID in its advertising; its robot id
is learnt from INFO after connecting (docs/protocol.md, "Advertising").

The robot offers the Nordic UART Service (NUS). Which of its two
characteristics the client writes to is decided by their properties, not by
their UUIDs: the micro:bit's UART service has the two UUIDs the other way
round from Nordic's (see docs/protocol.md, "Transport").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import NamedTuple

from .errors import ProtocolError

NUS_SERVICE_UUID = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
#: Nordic's "RX": the client writes here. A micro:bit indicates here instead.
NUS_RX_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
#: Nordic's "TX": the robot notifies here. A micro:bit is written here instead.
NUS_TX_UUID = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"

#: Every RobotLab robot's advertised name starts with this, then two hex digits.
NAME_PREFIX = "RobotLab-"

#: What a micro:bit's advertised name starts with; five letters and "]" follow.
MICROBIT_NAME_PREFIX = "BBC micro:bit ["

_NAME = re.compile(re.escape(NAME_PREFIX) + r"([0-9A-Fa-f]{2})")
#: The micro:bit runtime's five letters: consonant, vowel, consonant, vowel, consonant.
_MICROBIT_LETTERS = r"[zvgpt][uoiea][zvgpt][uoiea][zvgpt]"
_MICROBIT_NAME = re.compile(re.escape(MICROBIT_NAME_PREFIX) + f"({_MICROBIT_LETTERS})" + r"\]",
                            re.IGNORECASE)
_LETTERS = re.compile(_MICROBIT_LETTERS, re.IGNORECASE)
_WRITE = {"write", "write-without-response"}
_RECEIVE = {"notify", "indicate"}


class UartRoles(NamedTuple):
    """The NUS characteristics as the client uses them (UUIDs in lower case)."""

    to_robot: str                # the client writes frames here
    from_robot: str              # the robot notifies or indicates frames here
    write_with_response: bool    # False: only write-without-response is offered


def advertised_name(robot_id: int) -> str:
    """The name a robot with this id (0-255) advertises, e.g. "RobotLab-3F"."""
    if not 0 <= robot_id <= 0xFF:
        raise ProtocolError("bad_value", f"robot id {robot_id} is not a byte")
    return f"{NAME_PREFIX}{robot_id:02X}"


def robot_id_from_name(name: str | None) -> int | None:
    """The robot id in an advertised name, or None if it is no RobotLab name."""
    match = _NAME.fullmatch(name or "")
    return int(match.group(1), 16) if match else None


def is_microbit_name(name: str | None) -> bool:
    """Whether ``name`` is a micro:bit's advertised name ("BBC micro:bit [...]")."""
    return (name or "").startswith(MICROBIT_NAME_PREFIX)


def microbit_name(letters: str) -> str | None:
    """The advertised name of the micro:bit called ``letters`` ("zatug", or its whole name
    "BBC micro:bit [zatug]" in any case), e.g. "BBC micro:bit [zatug]"; None if it is none."""
    text = letters.strip()
    match = _LETTERS.fullmatch(text) or _MICROBIT_NAME.fullmatch(text)
    if match is None:
        return None
    return f"{MICROBIT_NAME_PREFIX}{(match.group(1) if match.groups() else match.group(0)).lower()}]"


def microbit_letters(name: str | None) -> str | None:
    """The five letters in a micro:bit's advertised name ("zatug"), or None."""
    match = _MICROBIT_NAME.fullmatch(name or "")
    return match.group(1).lower() if match else None


def uart_roles(characteristics: Iterable[tuple[str, Collection[str]]]) -> UartRoles:
    """Pick the NUS characteristics by their properties.

    ``characteristics`` are (uuid, properties) of the service's
    characteristics, with property names as bleak gives them ("write",
    "write-without-response", "notify", "indicate"). Raises ProtocolError
    "nus_roles" unless exactly one can be written and another one can notify
    or indicate.
    """
    writable, receiving = [], []
    for uuid, properties in characteristics:
        properties = set(properties)
        can_write, can_receive = bool(properties & _WRITE), bool(properties & _RECEIVE)
        if can_write and not can_receive:
            writable.append((uuid.lower(), "write" in properties))
        elif can_receive and not can_write:
            receiving.append(uuid.lower())
    if len(writable) != 1 or len(receiving) != 1:
        raise ProtocolError("nus_roles", f"{len(writable)} writable and {len(receiving)} "
                                         "notifying characteristics, expected one of each")
    (to_robot, with_response), (from_robot,) = writable[0], receiving
    return UartRoles(to_robot, from_robot, with_response)

"""Protocol version and what HELLO and INFO agree on."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .errors import ProtocolError

if TYPE_CHECKING:
    from .messages import Hello, Info

#: The protocol version this package speaks, (major, minor). See docs/protocol.md.
PROTOCOL_VERSION = (1, 1)


class Agreement(NamedTuple):
    """What a session uses: the lower minor version and the smaller frame size (bytes)."""

    protocol_minor: int
    max_frame_size: int


def check_compatible(message: Hello | Info) -> None:
    """Raise ProtocolError("version") unless the HELLO or INFO has our major version.

    A robot answers such a HELLO with NACK VERSION; a client stops and tells
    which side needs an update.
    """
    if message.protocol_major != PROTOCOL_VERSION[0]:
        ours = ".".join(map(str, PROTOCOL_VERSION))
        raise ProtocolError("version",
                            f"peer speaks {message.protocol_major}.{message.protocol_minor}, we speak {ours}",
                            detail=PROTOCOL_VERSION[0])


def negotiate(hello: Hello, info: Info) -> Agreement:
    """The session's minor version and frame size, after checking both major versions."""
    check_compatible(hello)
    check_compatible(info)
    return Agreement(min(hello.protocol_minor, info.protocol_minor),
                     min(hello.max_frame_size, info.max_frame_size))

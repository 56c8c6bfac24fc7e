"""What a LWP3 hub advertises (2.): the LEGO Hub Service and LEGO's manufacturer data.

bleak hands manufacturer data over as ``{company id: bytes}``, the company id
(0x0397, LEGO System A/S) already taken off; ``HubAdvertisement`` is the six
bytes after it. The name is in the scan response.
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import HUB_SERVICE_UUID, LEGO_COMPANY_ID, HubKind
from .messages import LwpError

#: Bytes of manufacturer data after the company id: button, system type, capabilities,
#: last network, status, option.
MANUFACTURER_DATA_SIZE = 6
#: Device Capabilities (2.2) of a hub that takes a central and has LPF2 ports.
CAPABILITIES_PERIPHERAL_WITH_PORTS = 0x02 | 0x04
#: Status (2.4): "I can be Peripheral".
STATUS_CAN_BE_PERIPHERAL = 0x01


@dataclass(frozen=True)
class HubAdvertisement:
    """LEGO's manufacturer data: the hub's kind (System Type and Device Number) and state."""

    hub_kind: int
    button_pressed: bool = False
    capabilities: int = CAPABILITIES_PERIPHERAL_WITH_PORTS
    last_network: int = 0
    status: int = STATUS_CAN_BE_PERIPHERAL
    option: int = 0

    def to_bytes(self) -> bytes:
        """The six bytes that follow the company id."""
        return bytes([int(self.button_pressed), self.hub_kind, self.capabilities,
                      self.last_network, self.status, self.option])

    @classmethod
    def from_bytes(cls, data: bytes) -> HubAdvertisement:
        if len(data) != MANUFACTURER_DATA_SIZE:
            raise LwpError("bad_length", f"LEGO's manufacturer data is {MANUFACTURER_DATA_SIZE} "
                                         f"bytes, not {len(data)}")
        return cls(data[1], bool(data[0]), data[2], data[3], data[4], data[5])

    def ad_structure(self) -> bytes:
        """The whole Manufacturer Specific Data AD structure: 0x09 0xFF 0x97 0x03 + six bytes."""
        body = bytes([0xFF]) + LEGO_COMPANY_ID.to_bytes(2, "little") + self.to_bytes()
        return bytes([len(body)]) + body

    @property
    def kind_name(self) -> str:
        """"TECHNIC_HUB", "BOOST_MOVE_HUB", ...; "0xNN" for kinds this code does not know."""
        try:
            return HubKind(self.hub_kind).name
        except ValueError:
            return f"0x{self.hub_kind:02X}"


def offers_hub_service(service_uuids) -> bool:
    """Whether an advertisement names the LEGO Hub Service."""
    return HUB_SERVICE_UUID in [str(uuid).lower() for uuid in service_uuids]


def hub_advertisement(service_uuids, manufacturer_data: dict[int, bytes]) -> HubAdvertisement | None:
    """The hub's manufacturer data if an advertisement is a LWP3 hub's, else None."""
    data = manufacturer_data.get(LEGO_COMPANY_ID)
    if data is None or not offers_hub_service(service_uuids):
        return None
    try:
        return HubAdvertisement.from_bytes(bytes(data))
    except LwpError:
        return None

"""LEGO Wireless Protocol 3.0 (LWP3): LEGO hubs with their own firmware, over Bluetooth LE.

SPIKE Essential, Technic, BOOST and City hubs speak LWP3 out of the box;
LEGO publishes the protocol under the MIT licence. This package is the codec
(pure, no I/O: ``constants``, ``messages``, ``advertising``, ``devices``) and
``link.HubLink``, the driver that runs it over bleak. The pupil API reaches it
through ``Robot("lego")`` (``robotlab/backends/lego.py``); docs/lego.md
describes what is supported.

    from ble_bridge.lwp3 import PortOutputCommand, StartSpeedForDegrees, encode
    encode(PortOutputCommand(0, StartSpeedForDegrees(360, 50)))   # bytes for the hub
"""

from .advertising import HubAdvertisement, hub_advertisement
from .constants import (HUB_CHARACTERISTIC_UUID, HUB_SERVICE_UUID, LEGO_COMPANY_ID, EndState,
                        ErrorCode, Feedback, HubActionType, HubKind, HubProperty, InformationType,
                        IoEvent, IoType, MessageType, PropertyOperation, Startup, SubCommand)
from .messages import (DatasetType, GenericError, GotoAbsolutePosition, HubAction, HubAttachedIo,
                       HubProperties, LwpError, OtherSubCommand, PortInformationRequest,
                       PortInputFormatSetupSingle, PortInputFormatSingle, PortOutputCommand,
                       PortOutputCommandFeedback, PortValueSingle, StartSpeed,
                       StartSpeedForDegrees, StartSpeedForDegrees2, StartSpeedForTime, Unknown,
                       Version, WriteDirectModeData, decode, decode_length, decode_lwp_version,
                       decode_version, encode, encode_length, encode_lwp_version, encode_version,
                       preset_encoder, set_colour_number, set_rgb, start_power, tacho_split,
                       write_direct_checksum)

__all__ = [
    "HUB_SERVICE_UUID", "HUB_CHARACTERISTIC_UUID", "LEGO_COMPANY_ID",
    "MessageType", "HubProperty", "PropertyOperation", "HubActionType", "IoEvent", "IoType",
    "ErrorCode", "InformationType", "Startup", "EndState", "Feedback", "SubCommand", "HubKind",
    "HubAdvertisement", "hub_advertisement",
    "LwpError", "encode", "decode", "encode_length", "decode_length",
    "Version", "encode_version", "decode_version", "encode_lwp_version", "decode_lwp_version",
    "write_direct_checksum", "tacho_split", "DatasetType",
    "HubProperties", "HubAction", "HubAttachedIo", "GenericError", "PortInformationRequest",
    "PortInputFormatSetupSingle", "PortInputFormatSingle", "PortValueSingle",
    "PortOutputCommand", "PortOutputCommandFeedback", "Unknown",
    "StartSpeed", "StartSpeedForTime", "StartSpeedForDegrees", "StartSpeedForDegrees2",
    "GotoAbsolutePosition", "WriteDirectModeData", "OtherSubCommand",
    "set_rgb", "set_colour_number", "preset_encoder", "start_power",
]

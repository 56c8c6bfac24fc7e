"""The LWP3 codec, byte by byte, against LEGO Wireless Protocol 3.0.00 (r17).

Section numbers are the specification's. Where the spec gives a worked example
(message length encoding, version numbers, the RGB and encoder WriteDirectModeData
encodings, the WriteDirect checksums, tacho math, message sizes) the test uses it
literally; the other byte strings are written out field by field from the
spec's format tables, independently of the code under test.
"""

from __future__ import annotations

import struct

import pytest

from ble_bridge.lwp3 import (EndState, ErrorCode, Feedback, GenericError, GotoAbsolutePosition,
                             HubAction, HubActionType, HubAdvertisement, HubAttachedIo, HubKind,
                             HubProperties, HubProperty, InformationType, IoEvent, IoType,
                             LwpError, MessageType, OtherSubCommand, PortInformationRequest,
                             PortInputFormatSetupSingle, PortInputFormatSingle, PortOutputCommand,
                             PortOutputCommandFeedback, PortValueSingle, PropertyOperation,
                             StartSpeed, StartSpeedForDegrees, StartSpeedForDegrees2, Startup,
                             Unknown, Version, WriteDirectModeData, decode, decode_length,
                             decode_version, encode, encode_length, encode_lwp_version,
                             encode_version, hub_advertisement, preset_encoder, set_colour_number,
                             set_rgb, start_power, tacho_split, write_direct_checksum)
from ble_bridge.lwp3.advertising import MANUFACTURER_DATA_SIZE
from ble_bridge.lwp3.constants import HUB_SERVICE_UUID, LEGO_COMPANY_ID
from ble_bridge.lwp3.messages import DatasetType, frame

H = bytes.fromhex


def roundtrip(message, wire: bytes):
    assert encode(message) == wire
    assert decode(wire) == message
    assert wire[0] == len(wire)                 # one-byte length: the whole message, header included


# -- 3.1 / 3.2: the common header and the length ---------------------------------------------

@pytest.mark.parametrize("length, wire", [(128, "80 01"), (129, "81 01"), (130, "82 01"),
                                          (127, "7f"), (5, "05")])
def test_message_length_encoding_examples(length, wire):
    assert encode_length(length) == H(wire)
    assert decode_length(H(wire) + b"\x00") == (length, len(H(wire)))


def test_a_long_message_gets_the_two_byte_length_that_counts_itself():
    # 124 bytes of body + hub id + type + one length byte = 127: still one byte.
    assert frame(0x45, bytes(124))[:3] == H("7f 00 45")
    # One more byte makes 128, which needs two length bytes: 129 in all.
    long = frame(0x45, bytes(125))
    assert len(long) == 129 and long[:4] == H("81 01 00 45")
    assert decode(long) == PortValueSingle(bytes(125))


def test_the_hub_id_is_zero_and_the_type_is_the_third_byte():
    wire = encode(HubAction(HubActionType.SWITCH_OFF))
    assert wire[1] == 0x00 and wire[2] == MessageType.HUB_ACTIONS


@pytest.mark.parametrize("wire, reason", [
    ("", "too_short"), ("06 00 01 06 05", "bad_length"), ("04 00 01 06 05", "bad_length"),
    ("81", "too_short"), ("02 00", "too_short"), ("05 00 82 00", "bad_length"),
    ("04 00 02 99", "bad_value"), ("0a 00 81 00 11 0b 68 01 00 00", "bad_length"),
])
def test_malformed_messages_are_refused_with_a_reason(wire, reason):
    with pytest.raises(LwpError) as info:
        decode(H(wire))
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)


def test_a_message_type_the_codec_does_not_type_is_kept_raw():
    assert decode(H("06 00 03 01 04 ff")) == Unknown(MessageType.HUB_ALERTS, H("01 04 ff"))
    assert encode(Unknown(0x03, H("01 04 ff"))) == H("06 00 03 01 04 ff")


# -- 2.: advertising -----------------------------------------------------------------------------

def test_manufacturer_data_is_nine_bytes_long_with_legos_company_id():
    technic = HubAdvertisement(HubKind.TECHNIC_HUB)
    # Length 0x09, type 0xFF, company 0x0397 little-endian, then button, system type,
    # capabilities, last network, status, option.
    assert technic.ad_structure() == H("09 ff 97 03 00 80 06 00 01 00")
    assert HubAdvertisement.from_bytes(technic.to_bytes()) == technic
    assert len(technic.to_bytes()) == MANUFACTURER_DATA_SIZE


@pytest.mark.parametrize("kind, sss_ddddd", [(HubKind.WEDO2, 0b000_00000),
                                             (HubKind.DUPLO_TRAIN, 0b001_00000),
                                             (HubKind.BOOST_MOVE_HUB, 0b010_00000),
                                             (HubKind.CITY_HUB, 0b010_00001),
                                             (HubKind.REMOTE_CONTROL, 0b010_00010)])
def test_system_type_and_device_number_of_the_hubs_in_the_spec(kind, sss_ddddd):
    assert kind == sss_ddddd


def test_only_an_advertisement_with_the_hub_service_and_legos_data_is_a_hub():
    data = {LEGO_COMPANY_ID: H("00 40 06 00 01 00")}
    found = hub_advertisement([HUB_SERVICE_UUID.upper()], data)
    assert found.hub_kind == HubKind.BOOST_MOVE_HUB and found.kind_name == "BOOST_MOVE_HUB"
    assert hub_advertisement([], data) is None
    assert hub_advertisement([HUB_SERVICE_UUID], {0x0059: H("00 40 06 00 01 00")}) is None
    assert hub_advertisement([HUB_SERVICE_UUID], {LEGO_COMPANY_ID: H("00 40")}) is None
    assert HubAdvertisement(0x7E).kind_name == "0x7E"


# -- 3.5: Hub Properties -----------------------------------------------------------------------

def test_version_number_encoding_example_1_7_37_1510():
    value = encode_version(Version(1, 7, 37, 1510))
    assert struct.pack("<i", value) == H("10 15 37 17")        # LSB first, as the spec shows
    assert decode_version(value) == Version(1, 7, 37, 1510)
    assert str(decode_version(value)) == "1.7.37.1510"


def test_lwp_version_is_bcd_major_then_minor():
    assert encode_lwp_version(3, 0) == 0x0300
    message = HubProperties(HubProperty.LWP_VERSION, PropertyOperation.UPDATE, H("00 03"))
    roundtrip(message, H("07 00 01 0a 06 00 03"))
    assert message.value == (3, 0)


def test_hub_property_requests_and_updates():
    # 5 bytes + payload: header, property, operation.
    roundtrip(HubProperties(HubProperty.BATTERY_VOLTAGE, PropertyOperation.REQUEST_UPDATE),
              H("05 00 01 06 05"))
    roundtrip(HubProperties(HubProperty.BATTERY_VOLTAGE, PropertyOperation.ENABLE_UPDATES),
              H("05 00 01 06 02"))
    battery = HubProperties(HubProperty.BATTERY_VOLTAGE, PropertyOperation.UPDATE, H("64"))
    roundtrip(battery, H("06 00 01 06 06 64"))
    assert battery.value == 100
    name = HubProperties(HubProperty.ADVERTISING_NAME, PropertyOperation.UPDATE, b"Technic Hub")
    roundtrip(name, H("10 00 01 01 06") + b"Technic Hub")
    assert name.value == "Technic Hub"
    firmware = HubProperties(HubProperty.FW_VERSION, PropertyOperation.UPDATE, H("10 15 37 17"))
    assert firmware.value == Version(1, 7, 37, 1510)
    button = decode(H("06 00 01 02 06 01"))
    assert button.property is HubProperty.BUTTON and button.value is True
    system = decode(H("06 00 01 0b 06 80"))
    assert system.value == HubKind.TECHNIC_HUB
    mac = decode(H("0b 00 01 0d 06 90 84 2b 01 02 03"))
    assert mac.value == "90:84:2B:01:02:03"
    assert decode(H("06 00 01 05 06 c4")).value == -60                      # RSSI, Int8


# -- 3.6: Hub Actions -----------------------------------------------------------------------------

@pytest.mark.parametrize("action, wire", [
    (HubActionType.SWITCH_OFF, "04 00 02 01"), (HubActionType.DISCONNECT, "04 00 02 02"),
    (HubActionType.WILL_SWITCH_OFF, "04 00 02 30"), (HubActionType.WILL_DISCONNECT, "04 00 02 31"),
])
def test_hub_actions_are_four_bytes(action, wire):
    roundtrip(HubAction(action), H(wire))


# -- 3.8: Hub Attached I/O ---------------------------------------------------------------------------

def test_attached_io_is_15_bytes_detached_5_and_virtual_9():
    attached = HubAttachedIo(0, IoEvent.ATTACHED, IoType.TECHNIC_LARGE_ANGULAR_MOTOR,
                             encode_version(Version(1, 0, 0, 0)), encode_version(Version(1, 0, 0, 0)))
    roundtrip(attached, H("0f 00 04 00 01 31 00 00 00 00 10 00 00 00 10"))
    roundtrip(HubAttachedIo(2, IoEvent.DETACHED), H("05 00 04 02 00"))
    roundtrip(HubAttachedIo(0x10, IoEvent.ATTACHED_VIRTUAL, IoType.INTERNAL_MOTOR_WITH_TACHO,
                            port_a=0, port_b=1),
              H("09 00 04 10 02 27 00 00 01"))


def test_io_type_ids_of_the_spec():
    assert (IoType.MOTOR, IoType.RGB_LIGHT, IoType.VISION_SENSOR, IoType.INTERNAL_TILT) == \
        (0x0001, 0x0017, 0x0025, 0x0028)
    assert decode(H("0f 00 04 01 01 3d 00 00 00 00 00 00 00 00 00")).io_type == \
        IoType.TECHNIC_COLOR_SENSOR


# -- 3.9: Generic Error --------------------------------------------------------------------------------

def test_generic_error_names_the_command_and_the_code():
    roundtrip(GenericError(MessageType.PORT_OUTPUT_COMMAND, ErrorCode.INVALID_USE), H("05 00 05 81 06"))
    roundtrip(GenericError(0x99, ErrorCode.COMMAND_NOT_RECOGNIZED), H("05 00 05 99 05"))
    assert [code.value for code in ErrorCode] == list(range(1, 9))


# -- 3.15, 3.17, 3.23: port information and input formats -------------------------------------------------

def test_port_information_request_for_the_port_value():
    roundtrip(PortInformationRequest(0, InformationType.PORT_VALUE), H("05 00 21 00 00"))


def test_port_input_format_setup_single_is_10_bytes_with_a_uint32_delta():
    setup = PortInputFormatSetupSingle(port=1, mode=2, delta=5, notify=True)
    roundtrip(setup, H("0a 00 41 01 02 05 00 00 00 01"))
    big_delta = PortInputFormatSetupSingle(port=3, mode=0, delta=0x01020304, notify=False)
    roundtrip(big_delta, H("0a 00 41 03 00 04 03 02 01 00"))
    # The hub's answer has the same layout under type 0x47.
    roundtrip(PortInputFormatSingle(1, 2, 5, True), H("0a 00 47 01 02 05 00 00 00 01"))


# -- 3.21: Port Value (Single) -------------------------------------------------------------------------

def test_port_values_are_5_6_and_8_bytes_for_8_16_and_32_bit_values():
    assert len(encode(PortValueSingle.of((0, DatasetType(1, "b").pack(-1))))) == 5
    assert len(encode(PortValueSingle.of((0, DatasetType(1, "h").pack(300))))) == 6
    position = encode(PortValueSingle.of((0, DatasetType(1, "i").pack(-720))))
    assert position == H("08 00 45 00 30 fd ff ff")
    (port, value), = decode(position).split({0: 4})
    assert (port, DatasetType(1, "i").unpack(value)) == (0, (-720,))


def test_the_specs_three_value_example_is_16_bytes():
    # "3 port values - 2 FLOATs and 1 UInt16: Header + 2 * (1 + 4) + 1 * (1 + 2) = 16 Bytes"
    floats = DatasetType(1, "f")
    message = PortValueSingle.of((0, floats.pack(1.5)), (1, floats.pack(-2.0)),
                                 (2, struct.pack("<H", 513)))
    wire = encode(message)
    assert len(wire) == 16 and wire[:3] == H("10 00 45")
    values = decode(wire).split({0: 4, 1: 4, 2: 2})
    assert [port for port, _ in values] == [0, 1, 2]
    assert floats.unpack(values[1][1]) == (-2.0,) and values[2][1] == H("01 02")


def test_a_value_from_a_port_of_unknown_size_or_cut_off_is_refused():
    with pytest.raises(LwpError) as unknown:
        PortValueSingle(H("05 01")).split({0: 1})
    with pytest.raises(LwpError) as cut:
        PortValueSingle(H("00 01 02")).split({0: 4})
    assert (unknown.value.reason, cut.value.reason) == ("unknown_port", "bad_length")


# -- 3.26 - 3.29: Port Output Command ----------------------------------------------------------------------

def test_startup_and_completion_information_nibbles():
    # ssss cccc: 0001 = execute immediately, 0001 = command feedback.
    assert encode(PortOutputCommand(0, StartSpeed(50)))[4] == 0x11
    assert encode(PortOutputCommand(0, StartSpeed(50), Startup.BUFFER_IF_NECESSARY, False))[4] == 0x00
    assert encode(PortOutputCommand(0, StartSpeed(50), feedback=False))[4] == 0x10
    buffered = decode(H("09 00 81 00 01 07 32 64 00"))
    assert buffered.startup is Startup.BUFFER_IF_NECESSARY and buffered.feedback


def test_start_speed():
    roundtrip(PortOutputCommand(0, StartSpeed(50, 100, 0)), H("09 00 81 00 11 07 32 64 00"))
    roundtrip(PortOutputCommand(1, StartSpeed(-100, 80, 3)), H("09 00 81 01 11 07 9c 50 03"))
    # Speed 0 holds the position (an implicit 126).
    roundtrip(PortOutputCommand(0, StartSpeed(0)), H("09 00 81 00 11 07 00 64 00"))


@pytest.mark.parametrize("end_state, byte", [(EndState.FLOAT, "00"), (EndState.HOLD, "7e"),
                                             (EndState.BRAKE, "7f")])
def test_start_speed_for_degrees_with_each_end_state(end_state, byte):
    # Degrees Int32, Speed Int8, MaxPower, EndState, UseProfile.
    command = StartSpeedForDegrees(360, -50, 100, end_state, 0)
    roundtrip(PortOutputCommand(0, command), H(f"0e 00 81 00 11 0b 68 01 00 00 ce 64 {byte} 00"))


@pytest.mark.parametrize("end_state, byte", [(EndState.FLOAT, "00"), (EndState.HOLD, "7e"),
                                             (EndState.BRAKE, "7f")])
def test_goto_absolute_position_with_each_end_state(end_state, byte):
    command = GotoAbsolutePosition(-90, 30, 100, end_state, 0)
    roundtrip(PortOutputCommand(2, command), H(f"0e 00 81 02 11 0d a6 ff ff ff 1e 64 {byte} 00"))


def test_motor_arguments_outside_the_spec_are_refused_before_sending():
    for bad in (StartSpeed(101), StartSpeedForDegrees(0, 50), GotoAbsolutePosition(0, 0),
                StartSpeedForDegrees(10, 50, max_power=101)):
        with pytest.raises(LwpError) as info:
            encode(PortOutputCommand(0, bad))
        assert info.value.reason == "bad_value"
    with pytest.raises(LwpError):
        decode(H("0e 00 81 00 11 0b 68 01 00 00 32 64 05 00"))        # end state 5


def test_tacho_math_examples_a_and_b():
    assert tacho_split(88, 75, 35) == (120, 56)
    assert tacho_split(160, 55, -48) == (171, -149)
    roundtrip(PortOutputCommand(0x10, StartSpeedForDegrees2(88, 75, 35)),
              H("0f 00 81 10 11 0c 58 00 00 00 4b 23 64 7f 00"))


def test_write_direct_mode_data_rgb_example_from_the_appendix():
    # "Set RGB LED into RGB mode (0x01) and set the R = 0x30, G = 0x47, B = 0x55:
    #  Port ID, Startup and Completion Information, 0x51, 0x01, 0x30, 0x47, 0x55"
    roundtrip(PortOutputCommand(0x32, set_rgb(0x30, 0x47, 0x55)),
              H("0a 00 81 32 11 51 01 30 47 55"))
    roundtrip(PortOutputCommand(0x32, set_colour_number(9)), H("08 00 81 32 11 51 00 09"))


def test_preset_encoder_and_start_power_as_write_direct_mode_data():
    # "PresetEncoder(Value) Mode 2: Port ID, Startup..., 0x51, 0x02, val0, val1, val2, val3"
    roundtrip(PortOutputCommand(1, preset_encoder(0)), H("0b 00 81 01 11 51 02 00 00 00 00"))
    roundtrip(PortOutputCommand(1, preset_encoder(-2)), H("0b 00 81 01 11 51 02 fe ff ff ff"))
    # "StartPower (Power) Mode 0: 0x51, 0x00, Power"; 127 floats.
    roundtrip(PortOutputCommand(0, start_power(127)), H("08 00 81 00 11 51 00 7f"))
    assert decode(H("08 00 81 00 11 51 00 7f")).command == WriteDirectModeData(0, H("7f"))


def test_write_direct_checksum_examples():
    # GenericZeroSetHardware: 0x50, 0xD4, 0x11, 0x3A.
    assert write_direct_checksum(H("d4 11")) == 0x3A
    # Calibrate the sensor: 0xD4, 0x02, "Calib-Sensor", checksum 0x77.
    assert write_direct_checksum(H("d4 02") + b"Calib-Sensor") == 0x77
    zeroset = decode(H("09 00 81 00 11 50 d4 11 3a"))
    assert zeroset.command == OtherSubCommand(0x50, H("d4 11 3a"))


# -- 3.32: Port Output Command Feedback ------------------------------------------------------------------

def test_feedback_is_5_bytes_and_2_more_per_extra_port():
    one = PortOutputCommandFeedback(((0, Feedback.COMPLETED | Feedback.IDLE),))
    roundtrip(one, H("05 00 82 00 0a"))
    two = PortOutputCommandFeedback(((0, Feedback.IN_PROGRESS), (1, Feedback.DISCARDED | Feedback.IDLE)))
    roundtrip(two, H("07 00 82 00 01 01 0c"))
    assert decode(H("05 00 82 03 10")).entries == ((3, Feedback.BUSY_FULL),)

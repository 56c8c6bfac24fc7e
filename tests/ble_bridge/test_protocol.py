"""The RobotLab protocol: frames, messages, stream reading, handshake and the published spec."""

import random
import re
from enum import IntEnum, IntFlag
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ble_bridge import (DEFAULT_FRAME_SIZE, MESSAGES, Ack, Beep, Capability, Colour, Decoded,
                        Done, Drive, ErrorCode, FrameReader, Heartbeat, HeartbeatAck, Hello, Info, MotionState,
                        MoveStraight, Nack, ProtocolError, SensorBits, StopAll, Telemetry,
                        advertised_name, check_compatible, crc8, decode, decode_frame, encode,
                        encode_frame, negotiate, robot_id_from_name, uart_roles, unwrap, wrap)

SPEC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


# -- strategies ---------------------------------------------------------------

def values_of(codec) -> st.SearchStrategy:
    """Every value a field may carry, from its codec's declared range."""
    low, high = codec.bounds
    if codec.kind is bool:
        return st.booleans()
    if codec.kind is not None and issubclass(codec.kind, IntFlag):
        return st.sets(st.sampled_from(list(codec.kind))).map(
            lambda members: codec.kind(sum(members)))
    if codec.kind is not None and issubclass(codec.kind, IntEnum):
        return st.sampled_from([m for m in codec.kind if low <= m <= high])
    return st.integers(low, high)


def messages_of(cls) -> st.SearchStrategy:
    return st.builds(cls, **{name: values_of(codec) for name, codec, _ in cls.layout()})


any_message = st.one_of([messages_of(cls) for cls in MESSAGES.values()])
seqs = st.integers(0, 255)
frames = st.builds(encode, any_message, seqs)
# Bytes that can never start a default-size frame: lengths 0-3 and 21-255.
noise = st.lists(st.one_of(st.integers(0, 3), st.integers(DEFAULT_FRAME_SIZE + 1, 255))).map(bytes)


def decoded_only(items):
    return [item for item in items if isinstance(item, Decoded)]


def feed_in_pieces(reader: FrameReader, data: bytes, cuts: list[int]):
    """Feed ``data`` cut at the given positions; return everything the reader produced."""
    results, start = [], 0
    for cut in sorted({min(c, len(data)) for c in cuts}) + [len(data)]:
        results += reader.feed(data[start:cut])
        start = cut
    return results


def is_subsequence(wanted, items) -> bool:
    remaining = iter(items)
    return all(any(item == want for item in remaining) for want in wanted)


# -- messages and frames ----------------------------------------------------------

@given(any_message, seqs)
def test_every_message_round_trips_through_its_frame(message, seq):
    assert decode(encode(message, seq)) == (seq, message)
    assert type(message).from_payload(message.to_payload()) == message


@given(any_message, seqs)
def test_every_message_fits_a_default_size_frame(message, seq):
    frame = encode(message, seq)
    assert len(frame) == frame[0] == 4 + type(message).payload_size() <= DEFAULT_FRAME_SIZE


def test_telemetry_fills_exactly_one_default_frame():
    assert Telemetry.payload_size() + 4 == DEFAULT_FRAME_SIZE == 20


def test_type_codes_never_look_like_default_frame_lengths_and_show_the_direction():
    for code, cls in MESSAGES.items():
        assert code > DEFAULT_FRAME_SIZE
        from_robot = cls in (Info, HeartbeatAck, Ack, Nack, Done, Telemetry)
        assert bool(code & 0x80) == from_robot, cls.NAME


def test_hello_has_its_frozen_layout_and_our_version_by_default():
    assert encode(Hello(), 1) == bytes.fromhex("07 20 01 01 01 14 BF")
    assert encode(Hello(1, 0), 1) == bytes.fromhex("07 20 01 01 00 14 AA")   # a 1.0 client's


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_decode(data):
    try:
        decoded = decode(data)
    except ProtocolError as error:
        assert error.reason in {"bad_frame_length", "bad_crc", "unknown_type", "bad_length",
                                "bad_value", "version"}
    else:
        assert decode(encode(decoded.message, decoded.seq)) == decoded


@given(st.integers(0, 255), seqs, st.binary(max_size=30))
def test_well_framed_garbage_is_refused_with_a_nack_code_and_its_header(frame_type, seq, payload):
    frame = encode_frame(frame_type, seq, payload)
    assert decode_frame(frame) == (frame_type, seq, payload)
    try:
        decode(frame)
    except ProtocolError as error:
        assert error.error_code is not None
        assert (error.seq, error.frame_type) == (seq, frame_type)


@given(st.sampled_from(list(MESSAGES.values())), st.binary(max_size=30))
def test_arbitrary_payloads_never_crash_from_payload(cls, payload):
    try:
        message = cls.from_payload(payload)
    except ProtocolError as error:
        assert error.reason in {"bad_length", "bad_value", "version"}
    else:
        assert len(message.to_payload()) == len(payload)


@given(frames, st.data())
def test_any_single_corrupted_byte_is_detected(frame, data):
    position = data.draw(st.integers(0, len(frame) - 1))
    flip = data.draw(st.integers(1, 255))
    damaged = bytearray(frame)
    damaged[position] ^= flip
    with pytest.raises(ProtocolError) as caught:
        decode(bytes(damaged))
    assert caught.value.reason in {"bad_crc", "bad_frame_length"}
    assert caught.value.error_code is None   # dropped silently, never NACKed


def test_out_of_range_values_fail_where_the_message_is_made():
    cases = [
        (lambda: MoveStraight(200, 0), 4), (lambda: MoveStraight(200, 101), 4),
        (lambda: Drive(-101, 0), 0), (lambda: Drive(0, 101), 1),
        (lambda: Beep(0, 100), 0), (lambda: Beep(440, 0), 2),
        (lambda: Done(MoveStraight.TYPE, MotionState.RUNNING), 1),
        (lambda: Hello(1, 0, 19), 2),
        (lambda: Telemetry(0, 0, 101, 0, SensorBits(0), Colour.NONE, 0, 0), 6),
        (lambda: Telemetry(0, 0, 0, 0, SensorBits(0), Colour.NONE, 1 << 23, 0), 10),
    ]
    for make, offset in cases:
        with pytest.raises(ProtocolError) as caught:
            make()
        assert (caught.value.reason, caught.value.detail) == ("bad_value", offset)
        assert isinstance(caught.value, ValueError)


def test_a_received_bad_value_carries_what_a_nack_needs():
    frame = encode_frame(MoveStraight.TYPE, 9, bytes.fromhex("C8 00 00 00 00"))   # speed 0 %
    with pytest.raises(ProtocolError) as caught:
        decode(frame)
    error = caught.value
    assert (error.error_code, error.seq, error.frame_type, error.detail) == (
        ErrorCode.BAD_VALUE, 9, MoveStraight.TYPE, 4)


def test_unknown_types_and_wrong_lengths_are_told_apart():
    with pytest.raises(ProtocolError) as unknown:
        decode(encode_frame(0x7E, 3, b""))
    with pytest.raises(ProtocolError) as wrong_length:
        decode(encode_frame(StopAll.TYPE, 4, b"\x00"))
    assert unknown.value.error_code is ErrorCode.UNKNOWN_TYPE
    assert (wrong_length.value.error_code, wrong_length.value.frame_type) == (
        ErrorCode.BAD_LENGTH, StopAll.TYPE)


def test_reserved_bits_are_ignored_on_receipt():
    payload = Telemetry(1, 2, 3, 4, SensorBits.BUMPED, Colour.RED, 5, 6).to_payload()
    with_reserved = payload[:8] + bytes([payload[8] | 0xF8]) + payload[9:]
    assert Telemetry.from_payload(with_reserved).sensor_bits == SensorBits.BUMPED


@given(st.integers(-(1 << 40), 1 << 40), st.integers(-(1 << 23) + 1, (1 << 23) - 1))
def test_wrapping_telemetry_totals_unwrap_to_the_running_total(previous, change):
    total = previous + change
    sent = wrap(total, 24)
    assert Telemetry(0, 0, 0, 0, SensorBits(0), Colour.NONE, sent, sent).heading_cdeg == sent
    assert unwrap(previous, sent, 24) == total
    assert unwrap(previous, wrap(total, 32, signed=False), 32) == total


# -- stream reading and resynchronisation ----------------------------------------------------

@given(st.lists(frames, max_size=8), st.lists(st.integers(0, 200)))
def test_frames_are_found_however_the_stream_is_cut(stream, cuts):
    results = feed_in_pieces(FrameReader(), b"".join(stream), cuts)
    assert results == [decode(frame) for frame in stream]


@given(st.lists(st.binary(max_size=40), max_size=10), st.booleans())
def test_arbitrary_bytes_never_crash_the_reader(chunks, flush):
    reader = FrameReader()
    results = [item for chunk in chunks for item in reader.feed(chunk)]
    if flush:
        results += reader.flush()
    assert all(isinstance(item, (Decoded, ProtocolError)) for item in results)


@given(st.lists(st.tuples(noise, frames), max_size=8), noise, st.lists(st.integers(0, 400)))
def test_noise_between_frames_costs_no_frame_and_one_error_per_burst(pairs, tail, cuts):
    stream = b"".join(gap + frame for gap, frame in pairs) + tail
    results = feed_in_pieces(FrameReader(), stream, cuts)
    assert decoded_only(results) == [decode(frame) for _, frame in pairs]
    bursts = sum(1 for gap, _ in pairs if gap) + bool(tail)
    assert sum(isinstance(item, ProtocolError) for item in results) == bursts


def damaged(frame: bytes, how: int, where: int) -> bytes:
    """A frame cut short (how 0), with a byte changed (how 1), or with a byte lost (how 2)."""
    where %= len(frame)
    if how == 0:
        return frame[:where]
    if how == 1:
        return frame[:where] + bytes([frame[where] ^ 0x5A]) + frame[where + 1:]
    return frame[:where] + frame[where + 1:]


@settings(max_examples=200)
@given(st.lists(st.tuples(frames, st.integers(0, 2), st.integers(0, 19), frames), max_size=6),
       st.lists(st.integers(0, 600)))
def test_valid_frames_survive_corrupted_frames_among_them(triples, cuts):
    # Each damaged frame is followed by enough noise that a false CRC match
    # starting inside it cannot reach the next good frame.
    gap = bytes([0xFF]) * (DEFAULT_FRAME_SIZE - 1)
    stream = b"".join(damaged(bad, how, where) + gap + good for bad, how, where, good in triples)
    results = feed_in_pieces(FrameReader(), stream, cuts)
    assert is_subsequence([decode(good) for *_, good in triples], decoded_only(results))


def test_a_damaged_frame_right_before_a_good_one_rarely_costs_it():
    # The documented limit of CRC-8 framing (docs/protocol.md, Resynchronisation):
    # without a gap, the good frame is lost in roughly 1 case in 256.
    rng = random.Random(2026)
    samples = [Hello(), Heartbeat(), MoveStraight(200, 50), Ack(0x30), Nack(0x41, ErrorCode.BAD_VALUE, 0),
               Telemetry(12345, 423, 71, 68, SensorBits.LINE_LEFT, Colour.WHITE, -2, 6)]
    trials, lost = 4000, 0
    for _ in range(trials):
        bad = encode(rng.choice(samples), rng.randrange(256))
        good = encode(rng.choice(samples), rng.randrange(256))
        reader = FrameReader()
        received = reader.feed(damaged(bad, rng.randrange(3), rng.randrange(20)) + good)
        lost += decode(good) not in received + reader.flush()
    assert lost / trials < 0.01


@given(st.lists(st.one_of(st.lists(frames, min_size=1, max_size=3), st.binary(max_size=25))))
def test_flushing_after_each_write_confines_damage_to_that_write(writes):
    # How a robot reads: a client never splits a frame across writes.
    reader = FrameReader()
    for write in writes:
        if isinstance(write, bytes):
            reader.feed(write[:len(write) // 2])
            reader.feed(write[len(write) // 2:])
            reader.flush()
        else:
            assert reader.feed(b"".join(write)) + reader.flush() == [decode(f) for f in write]


def test_a_frame_of_unknown_type_in_sync_is_reported_with_its_header_and_consumed():
    stream = encode_frame(0x7E, 5, b"\x01\x02") + encode(Heartbeat(), 6)
    first, second = FrameReader().feed(stream)
    assert (first.reason, first.seq, first.frame_type) == ("unknown_type", 5, 0x7E)
    assert second == (6, Heartbeat())


def test_while_resynchronising_a_crc_match_that_is_no_valid_message_counts_as_garbage():
    stream = b"\xff" + encode_frame(0x7E, 5, b"\x01\x02") + encode(Heartbeat(), 6)
    lost_sync, heartbeat = FrameReader().feed(stream)
    assert lost_sync.reason == "bad_frame_length"
    assert heartbeat == (6, Heartbeat())


def test_a_larger_agreed_frame_size_lets_longer_frames_through():
    long_frame = encode_frame(0x7E, 1, bytes(40))
    assert FrameReader().feed(long_frame)[0].reason == "bad_frame_length"
    assert FrameReader(max_frame_size=64).feed(long_frame)[0].reason == "unknown_type"


# -- handshake --------------------------------------------------------------------------

def info(major=1, minor=0, max_frame_size=20) -> Info:
    return Info(major, minor, 1, 0, 0, 1, Capability.MOTORS | Capability.LED, max_frame_size,
                500, 50, 0x3F)


@given(st.integers(0, 255), st.integers(0, 255))
def test_a_different_major_version_is_refused_and_a_different_minor_is_not(major, minor):
    if major == 1:
        check_compatible(info(major, minor))
        check_compatible(Hello(major, minor))
    else:
        for message in (info(major, minor), Hello(major, minor)):
            with pytest.raises(ProtocolError) as caught:
                check_compatible(message)
            assert caught.value.reason == "version"
            assert caught.value.error_code is ErrorCode.VERSION


@given(st.integers(0, 255), st.integers(0, 255), st.integers(20, 255), st.integers(20, 255))
def test_the_session_uses_the_lower_minor_version_and_the_smaller_frame(
        client_minor, robot_minor, client_frame, robot_frame):
    agreement = negotiate(Hello(1, client_minor, client_frame), info(1, robot_minor, robot_frame))
    assert agreement == (min(client_minor, robot_minor), min(client_frame, robot_frame))


def test_an_info_of_another_major_version_and_layout_still_says_version():
    with pytest.raises(ProtocolError) as caught:
        decode(encode_frame(Info.TYPE, 1, bytes([2, 0]) + bytes(20)))
    assert (caught.value.reason, caught.value.detail) == ("version", 2)


# -- Bluetooth names and the UART service -----------------------------------------------------

@given(st.integers(0, 255))
def test_advertised_names_carry_the_robot_id(robot_id):
    name = advertised_name(robot_id)
    assert re.fullmatch(r"RobotLab-[0-9A-F]{2}", name)
    assert robot_id_from_name(name) == robot_id


def test_other_names_are_not_robotlab_names():
    for name in (None, "", "RobotLab-", "RobotLab-3G", "RobotLab-123", "BBC micro:bit [zavit]"):
        assert robot_id_from_name(name) is None


NORDIC = [("6E400002-B5A3-F393-E0A9-E50E24DCCA9E", ["write", "write-without-response"]),
          ("6E400003-B5A3-F393-E0A9-E50E24DCCA9E", ["notify"])]
MICROBIT = [("6e400002-b5a3-f393-e0a9-e50e24dcca9e", ["indicate"]),
            ("6e400003-b5a3-f393-e0a9-e50e24dcca9e", ["write", "write-without-response"])]


def test_uart_roles_follow_the_properties_so_the_microbit_swap_is_handled():
    nordic, microbit = uart_roles(NORDIC), uart_roles(MICROBIT)
    assert (nordic.to_robot[:8], nordic.from_robot[:8], nordic.write_with_response) == (
        "6e400002", "6e400003", True)
    assert (microbit.to_robot[:8], microbit.from_robot[:8]) == ("6e400003", "6e400002")
    only_without_response = [(NORDIC[0][0], ["write-without-response"]), NORDIC[1]]
    assert uart_roles(only_without_response).write_with_response is False


def test_uart_roles_refuse_a_service_they_cannot_tell_apart():
    for characteristics in ([], NORDIC[:1], [NORDIC[0], (NORDIC[1][0], ["write", "notify"])],
                            [NORDIC[0], MICROBIT[1], NORDIC[1]]):
        with pytest.raises(ProtocolError) as caught:
            uart_roles(characteristics)
        assert caught.value.reason == "nus_roles"


# -- the published specification ---------------------------------------------------------------

def spec_rows(pattern: str) -> list[tuple[str, ...]]:
    return re.findall(pattern, SPEC, flags=re.MULTILINE)


def test_the_crc_test_vectors_in_the_spec_hold():
    rows = spec_rows(r"^\| `([0-9A-F ]*|\(empty\))` \| `0x([0-9A-F]{2})` \|$")
    assert len(rows) >= 6
    assert ("31 32 33 34 35 36 37 38 39", "F4") in rows     # the standard CRC-8/SMBUS check
    for data, crc in rows:
        assert crc8(bytes.fromhex("" if data == "(empty)" else data)) == int(crc, 16), data


def test_the_message_table_in_the_spec_matches_the_code():
    rows = spec_rows(r"^\| 0x([0-9A-F]{2}) \| ([A-Z_]+) \| (client|robot) → \w+ \| (\d+) \| (\d+) \|")
    assert {int(code, 16) for code, *_ in rows} == set(MESSAGES)
    for code, name, sender, payload, frame in rows:
        cls = MESSAGES[int(code, 16)]
        assert (cls.NAME, cls.payload_size(), cls.payload_size() + 4) == (name, int(payload), int(frame))
        assert (sender == "robot") == bool(cls.TYPE & 0x80)


def test_the_example_exchange_in_the_spec_decodes_as_described():
    rows = spec_rows(r"^\| \d+ \| (C→R|R→C) \| `([0-9A-F ]+)` \| (.+) \|$")
    assert len(rows) >= 20
    for direction, hex_bytes, meaning in rows:
        frame = bytes.fromhex(hex_bytes)
        seq, message = decode(frame)
        assert encode(message, seq) == frame
        assert meaning.split()[0].rstrip(":") == message.NAME, meaning
        assert (direction == "R→C") == bool(message.TYPE & 0x80), meaning
        if isinstance(message, (Ack, Nack, Done)):
            assert MESSAGES[message.command_type].NAME in meaning, meaning
    versions = [decode(bytes.fromhex(h)).message for _, h, _ in rows]
    assert any(isinstance(m, Hello) and m.protocol_major == 2 for m in versions)
    assert any(isinstance(m, Nack) and m.code is ErrorCode.VERSION and m.detail == 1 for m in versions)


def test_the_spec_states_its_version_licence_and_changelog():
    assert SPEC.startswith("# The RobotLab protocol, version 1.1.0")
    assert "CC BY 4.0" in SPEC.split("\n## ")[0]
    assert "### 1.1.0" in SPEC.split("## Changelog")[1] and "### 1.0.0" in SPEC.split("## Changelog")[1]


def test_info_carries_a_session_token_since_1_1_and_a_1_0_info_still_decodes():
    old = bytes.fromhex("12 A0 01 01 00 01 00 00 01 FF 07 14 F4 01 32 00 3F 27")   # 1.0.0's example
    assert decode(old).message.session_token is None and encode(decode(old).message, 1) == old
    new = Info(1, 1, 1, 0, 0, 1, Capability(0x07FF), 20, 500, 50, 0x3F, session_token=0x1234)
    assert len(encode(new, 1)) == 20 == Info.payload_size() + 4
    assert decode(encode(new, 1)).message == new
    with pytest.raises(ProtocolError):
        Info(1, 1, 1, 0, 0, 1, Capability(0), 20, 500, 50, 0x3F, session_token=0)


def test_protocol_error_is_a_value_error_with_a_reason():
    error = ProtocolError("bad_crc", "in a frame of 7 bytes")
    assert isinstance(error, ValueError) and error.reason == "bad_crc" and error.error_code is None

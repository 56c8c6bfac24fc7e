// The firmware's protocol logic against the vectors made from RobotLab's Python codec
// (tests/firmware/make_vectors.py): the same bytes, the same hardware calls.
import assert from "node:assert/strict";
import test from "node:test";
import { fromHex, load, readVectors, toHex } from "./load.mjs";

const vectors = readVectors();
const { robotlab } = load(["protocol.ts"]);

// Python's ProtocolError reasons and the firmware's codes for them.
const REASONS = {
    unknown_type: robotlab.UNKNOWN_TYPE, bad_length: robotlab.BAD_LENGTH,
    bad_value: robotlab.BAD_VALUE, version: robotlab.VERSION,
    bad_frame_length: robotlab.BAD_FRAME_LENGTH, bad_crc: robotlab.BAD_CRC,
};

test("the vectors are of the format and protocol version this firmware speaks", () => {
    assert.equal(vectors.format, 1);
    assert.deepEqual(vectors.protocol, [robotlab.PROTOCOL_MAJOR, robotlab.PROTOCOL_MINOR]);
});

test("CRC-8 matches the Python codec", () => {
    for (const { bytes, crc } of vectors.crc) {
        const data = fromHex(bytes);
        assert.equal(robotlab.crc8(data, 0, data.length), crc, bytes);
    }
});

test("every message layout decodes, refuses and encodes like the Python codec", () => {
    for (const vector of vectors.messages) {
        const payload = fromHex(vector.payload);
        const crc = robotlab.encodeFrame(vector.type, 7, payload).pop();
        const message = robotlab.interpret(vector.type, 7, payload, crc);
        const where = `type 0x${vector.type.toString(16)} payload ${vector.payload}`;
        if (vector.error) {
            assert.equal(message.error, REASONS[vector.error], where);
            assert.equal(message.detail, vector.detail, where);
        } else {
            assert.equal(message.error, 0, where);
            assert.deepEqual(Array.from(message.values), vector.values, where);
            const frame = robotlab.encodeMessage(vector.type, 7, message.values);
            assert.equal(toHex(frame.slice(3, -1)), vector.encoded, where);
        }
    }
});

/** A reader's result as the vectors write it (plain objects: arrays made inside the vm
 *  context have another Array prototype, which deepEqual would tell apart). */
function event(message) {
    if (message.seq < 0 || message.error) {
        const reason = Object.keys(REASONS).find((key) => REASONS[key] === message.error);
        return message.seq < 0 ? { error: reason, seq: null, type: null, detail: 0 }
            : { error: reason, seq: message.seq, type: message.frameType, detail: message.detail };
    }
    const payload = robotlab.encodeMessage(message.frameType, 0, message.values).slice(3, -1);
    return { type: message.frameType, seq: message.seq, payload: toHex(payload) };
}

test("the stream reader finds the same frames and errors in corrupted streams", () => {
    for (const [index, vector] of vectors.reader.entries()) {
        const reader = new robotlab.FrameReader(vector.max_frame_size);
        vector.chunks.forEach((chunk, i) => {
            assert.deepEqual(Array.from(reader.feed(fromHex(chunk)), event), vector.events[i], `stream ${index} chunk ${i}`);
        });
        assert.deepEqual(Array.from(reader.flush(), event), vector.flushed, `stream ${index} flush`);
    }
});

/** The body of the vectors' robot sessions: same rules as ScriptBody in make_vectors.py. */
class ScriptBody {
    constructor([low, high]) {
        this.buzzerLowHz = low;
        this.buzzerHighHz = high;
        this.calls = [];
        this.finished = true; this.isBlocked = false; this.isMoving = false;
        this.current = [0, 500, 80, 80, 0, 2, 0, 0];
    }
    move(call, finished) { this.calls.push(call); this.finished = finished; this.isBlocked = false; this.isMoving = !finished; }
    straight(mm, speed) { this.move(["straight", mm, speed], mm === 0); }
    turn(cdeg, speed) { this.move(["turn", cdeg, speed], cdeg === 0); }
    drive(left, right) { this.move(["drive", left, right], false); }
    brake() { this.move(["brake"], false); }
    halt() { this.calls.push(["halt"]); this.isMoving = false; }
    stopTone() { this.calls.push(["stop_tone"]); }
    setLed(r, g, b) { this.calls.push(["set_led", r, g, b]); }
    beep(hz, ms) { this.calls.push(["beep", hz, ms]); }
    identify(ms) { this.calls.push(["identify", ms]); }
    moveFinished() { return this.finished; }
    blocked() { return this.isBlocked; }
    moving() { return this.isMoving; }
    reading() { return new robotlab.Reading(...this.current); }
}

for (const session of vectors.robot) {
    test(`robot session: ${session.name}`, () => {
        const c = session.config;
        const body = new ScriptBody(c.buzzer_range_hz);
        const sent = [];
        let now = c.start_ms;
        const tokens = [...c.tokens];
        let nextToken = 0;
        const config = new robotlab.RobotConfig(c.robot_id, c.profile_id, c.capabilities, c.watchdog_ms,
            c.max_frame_size, c.min_telemetry_ms, ...c.firmware);
        const robot = new robotlab.RobotProtocol(body, config, (frame) => sent.push(toHex(frame)),
            () => now, () => tokens[nextToken++ % tokens.length]);
        session.steps.forEach((step, i) => {
            const where = `${session.name}, step ${i} (${step.do} ${step.bytes ?? ""})`;
            if (step.do === "set") {
                body.finished = step.finished; body.isBlocked = step.blocked; body.isMoving = step.moving;
                body.current = step.reading;
                return;
            }
            now = step.t;
            sent.length = 0;
            body.calls.length = 0;
            if (step.do === "receive") robot.receive(fromHex(step.bytes), true);
            else if (step.do === "tick") robot.tick();
            else robot.linkLost();
            assert.deepEqual(sent, step.sent, `${where}: frames sent`);
            assert.deepEqual(body.calls, step.calls, `${where}: hardware calls`);
            assert.equal(robot.inSession, step.in_session, `${where}: in session`);
            assert.equal(robot.watchdogTrips, step.trips, `${where}: watchdog trips`);
        });
    });
}

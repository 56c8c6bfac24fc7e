// The whole program (protocol.ts, kits.ts, main.ts) on stubbed MakeCode APIs: the
// Bluetooth UART, pins, I2C, the clock and the background loops are plain objects
// here, so the glue between the protocol and the hardware runs without a micro:bit.
import assert from "node:assert/strict";
import test from "node:test";
import { fromHex, load, toHex } from "./load.mjs";

/** Thrown by basic.pause: ends one pass of a background loop (`while (true) {...}`). */
class Yield extends Error { }

function microbit({ buttonA = false, buttonB = false } = {}) {
    const hw = {
        now: 1000, rx: [], tx: [], i2c: [], pins: {}, analog: {}, loops: [], events: {},
        tone: null, display: [], serial: 0x12345678 | 0,
    };
    const globals = {
        Button: { A: "A", B: "B" }, Dimension: { Strength: "strength" }, PulseValue: { High: 1 },
        IconNames: { Yes: "yes" },
        DigitalPin: Object.fromEntries([0, 1, 2, 8, 12, 13, 14, 16].map((n) => [`P${n}`, `P${n}`])),
        AnalogPin: Object.fromEntries([0, 8].map((n) => [`P${n}`, `P${n}`])),
        Buffer: { fromArray: (bytes) => Uint8Array.from(bytes) },
        randint: (low, high) => 0x4242,
        input: {
            buttonIsPressed: (button) => (button === "A" ? buttonA : buttonB),
            acceleration: () => 1000,
        },
        control: {
            millis: () => hw.now, deviceSerialNumber: () => hw.serial, waitMicros: () => { },
            inBackground: (loop) => hw.loops.push(loop),
        },
        basic: {
            pause: () => { throw new Yield(); },
            showString: (text) => hw.display.push(text), showIcon: (icon) => hw.display.push(icon),
        },
        music: {
            setBuiltInSpeakerEnabled: () => { }, ringTone: (hz) => { hw.tone = hz; },
            stopAllSounds: () => { hw.tone = null; },
        },
        pins: {
            setAudioPinEnabled: (on) => { hw.audioPin = on; },
            createBuffer: (n) => new Array(n).fill(0),
            i2cWriteBuffer: (address, buffer) => hw.i2c.push([address, ...buffer]),
            digitalWritePin: (pin, value) => { hw.pins[pin] = value; },
            digitalReadPin: (pin) => hw.pins[pin] ?? 1,
            analogWritePin: (pin, value) => { hw.analog[pin] = value; },
            pulseIn: () => 2915,                 // 2915 us: 500 mm there and back
        },
        bluetooth: {
            startUartService: () => { },
            onBluetoothConnected: (handler) => { hw.events.connected = handler; },
            onBluetoothDisconnected: (handler) => { hw.events.disconnected = handler; },
            uartReadBuffer: () => hw.rx.splice(0, hw.rx.length),
            uartWriteBuffer: (buffer) => hw.tx.push(...buffer),
        },
    };
    load(["protocol.ts", "kits.ts", "main.ts"], globals);
    return {
        hw,
        /** Let ms pass in 10 ms steps, running one pass of every background loop each step. */
        run(ms) {
            for (let t = 0; t < ms; t += 10) {
                hw.now += 10;
                for (const loop of hw.loops) {
                    try { loop(); } catch (error) { if (!(error instanceof Yield)) throw error; }
                }
            }
        },
        write(hex) { hw.rx.push(...fromHex(hex)); },
        take() { return toHex(hw.tx.splice(0, hw.tx.length)); },
    };
}

const { robotlab } = load(["protocol.ts"]);
const frame = (type, seq, values) => toHex(robotlab.encodeMessage(type, seq, values));
const HELLO = "072001010114bf";                      // the spec's example row 1, seq 1
const STOPPED = [[0x10, 0, 0, 0], [0x10, 2, 0, 0]];  // both Maqueen motors off

test("a Maqueen car answers HELLO with its kit's INFO and drives a timed move over I2C", () => {
    const car = microbit();
    car.hw.events.connected();
    car.write(HELLO);
    car.run(10);
    // Profile 128, MOTORS|DISTANCE|LINE|BUMPER|LED|BUZZER|DISPLAY, watchdog 500 ms, telemetry
    // 50 ms, id 0x78 (the serial number's low byte), session token 0x4242.
    assert.equal(car.take(), frame(robotlab.INFO, 1, [1, 1, 1, 0, 0, 128, 0x072B, 20, 500, 50, 0x78, 0x4242]));
    car.write(frame(robotlab.MOVE_STRAIGHT, 2, [200, 50]));
    car.run(10);
    assert.equal(car.take(), frame(robotlab.ACK, 2, [robotlab.MOVE_STRAIGHT]));
    assert.deepEqual(car.hw.i2c.slice(-2), [[0x10, 0, 0, 128], [0x10, 2, 0, 128]]);
    // 200 mm at 50 % of 200 mm/s takes 2 s; heartbeats keep the watchdog fed meanwhile.
    for (let seq = 3; seq < 15; seq++) {
        car.write(frame(robotlab.HEARTBEAT, seq, []));
        car.run(190);
    }
    assert.ok(car.take().includes(frame(robotlab.DONE, 2, [robotlab.MOVE_STRAIGHT, robotlab.COMPLETED])));
    assert.deepEqual(car.hw.i2c.slice(-2), STOPPED);
});

test("the watchdog stops the motors when heartbeats stop, and so does a lost link", () => {
    const car = microbit();
    car.hw.events.connected();
    car.write(HELLO);
    car.write(frame(robotlab.DRIVE, 2, [50, 50]));
    car.run(10);
    assert.deepEqual(car.hw.i2c.slice(-2), [[0x10, 0, 0, 128], [0x10, 2, 0, 128]]);
    car.run(490);
    assert.notDeepEqual(car.hw.i2c.slice(-2), STOPPED);
    car.run(20);                                   // 500 ms without a frame
    assert.deepEqual(car.hw.i2c.slice(-2), STOPPED);
    car.write(frame(robotlab.DRIVE, 3, [-30, 30]));
    car.run(10);
    assert.deepEqual(car.hw.i2c.slice(-2), [[0x10, 0, 1, 77], [0x10, 2, 0, 77]]);
    car.hw.events.disconnected();
    assert.deepEqual(car.hw.i2c.slice(-2), STOPPED);
});

test("telemetry carries the ultrasonic distance and the line sensors", () => {
    const car = microbit();
    car.hw.events.connected();
    car.write(HELLO);
    car.hw.pins.P13 = 0;                           // the left sensor sees a dark line
    car.run(60);
    car.take();
    car.write(frame(robotlab.SUBSCRIBE, 2, [100, 0, 0, 1]));
    car.run(10);
    const sent = car.take();
    const telemetry = sent.slice(sent.indexOf("14c0"));
    const payload = fromHex(telemetry).slice(3, 19);
    assert.equal(payload[4] + 256 * payload[5], 500);                // mm, from a 2915 us echo
    assert.equal(payload[8], robotlab.LINE_LEFT);
});

test("button B at start-up picks the H-bridge kit: PWM pins, no LED, P0 kept off the speaker", () => {
    const car = microbit({ buttonB: true });
    assert.equal(car.hw.audioPin, false);
    car.hw.events.connected();
    car.write(HELLO);
    car.run(10);
    // Profile 129, MOTORS|BUMPER|BUZZER|DISPLAY.
    assert.equal(car.take(), frame(robotlab.INFO, 1, [1, 1, 1, 0, 0, 129, 0x0621, 20, 500, 50, 0x78, 0x4242]));
    car.write(frame(robotlab.DRIVE, 2, [100, -50]));
    car.run(10);
    assert.deepEqual([car.hw.analog.P8, car.hw.pins.P12, car.hw.analog.P0, car.hw.pins.P16], [1023, 0, 511, 1]);
    car.take();
    car.write(frame(robotlab.SET_LED, 3, [255, 0, 0]));
    car.run(10);
    assert.equal(car.take(), frame(robotlab.NACK, 3, [robotlab.SET_LED, robotlab.UNSUPPORTED, 8]));
});

test("the display shows the robot id until a client connects", () => {
    const car = microbit();
    car.run(10);
    assert.equal(car.hw.display.at(-1), "78");
    car.hw.events.connected();
    car.run(510);
    assert.equal(car.hw.display.at(-1), "yes");
});

/**
 * The robot's side of the open RobotLab protocol 1.1 (docs/protocol.md), as plain
 * TypeScript without any hardware call: CRC-8, frames, the field layout of every
 * message, the stream reader and the robot's state machine.
 *
 * It compiles twice: with MakeCode (Static TypeScript) into the firmware, and with
 * tsc under Node, where test/ replays the shared vectors that tests/firmware/
 * produces from RobotLab's Python codec (ble_bridge/). Hence only the language
 * subset both accept: number[] for bytes (no Buffer), no Map, no spread, integer
 * milliseconds for time (no floats to compare).
 *
 * The behaviour follows ble_bridge/robot_side.py, the reference robot side.
 * Wire units: mm, centidegrees (counterclockwise positive), ms, percent.
 */
namespace robotlab {
    export const PROTOCOL_MAJOR = 1
    export const PROTOCOL_MINOR = 1
    export const DEFAULT_FRAME_SIZE = 20     // bytes: ATT MTU 23 minus 3
    export const OVERHEAD = 4                // len, type, seq, crc
    export const DEDUP_WINDOW = 8            // commands remembered for retransmissions
    export const RESUME_WITHIN_MS = 10000    // a lost session can be resumed this long
    /** A platform that hides write boundaries flushes its reader after this much silence. */
    export const IDLE_FLUSH_MS = 100
    const FIRST_ROBOT_TYPE = 0x80

    // Message types (docs/protocol.md, "Messages").
    export const HELLO = 0x20
    export const HEARTBEAT = 0x21
    export const STOP_ALL = 0x22
    export const IDENTIFY = 0x23
    export const RESUME = 0x24
    export const MOVE_STRAIGHT = 0x30
    export const TURN = 0x31
    export const DRIVE = 0x32
    export const STOP = 0x33
    export const SET_LED = 0x40
    export const BEEP = 0x41
    export const SUBSCRIBE = 0x50
    export const INFO = 0xA0
    export const HEARTBEAT_ACK = 0xA1
    export const ACK = 0xA2
    export const NACK = 0xA3
    export const DONE = 0xB0
    export const TELEMETRY = 0xC0

    // NACK codes.
    export const UNKNOWN_TYPE = 0x01
    export const BAD_LENGTH = 0x02
    export const BAD_VALUE = 0x03
    export const NOT_READY = 0x04
    export const VERSION = 0x05
    export const UNSUPPORTED = 0x06
    export const NO_RESUME = 0x08

    // Motion states.
    export const COMPLETED = 0
    export const INTERRUPTED = 1
    export const BLOCKED = 2
    export const RUNNING = 3
    export const NO_MOTION = 4

    // Capability bits.
    export const CAP_MOTORS = 1 << 0
    export const CAP_DISTANCE = 1 << 1
    export const CAP_REFLECTION = 1 << 2
    export const CAP_LINE = 1 << 3
    export const CAP_COLOUR = 1 << 4
    export const CAP_BUMPER = 1 << 5
    export const CAP_HEADING = 1 << 6
    export const CAP_ODOMETER = 1 << 7
    export const CAP_LED = 1 << 8
    export const CAP_BUZZER = 1 << 9
    export const CAP_DISPLAY = 1 << 10
    export const ALL_CAPABILITIES = 0x07FF

    // TELEMETRY sensor_bits.
    export const LINE_LEFT = 1 << 0
    export const LINE_RIGHT = 1 << 1
    export const BUMPED = 1 << 2
    /** TELEMETRY distance_mm when nothing is within the sensor's range. */
    export const NO_ECHO = 0xFFFF

    // Reader results that are not a NACK code: the frame cannot be trusted.
    export const BAD_FRAME_LENGTH = 0x100
    export const BAD_CRC = 0x101

    // -- CRC-8/SMBUS ------------------------------------------------------------------

    /** CRC-8/SMBUS (polynomial 0x07, initial 0, no reflection) of bytes[start..end). */
    export function crc8(bytes: number[], start: number, end: number): number {
        let crc = 0
        for (let i = start; i < end; i++) {
            crc ^= bytes[i]
            for (let bit = 0; bit < 8; bit++) {
                crc = (crc & 0x80) ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF
            }
        }
        return crc
    }

    /** The bytes of one frame: len | type | seq | payload | crc. */
    export function encodeFrame(frameType: number, seq: number, payload: number[]): number[] {
        const frame = [payload.length + OVERHEAD, frameType & 0xFF, seq & 0xFF]
        for (const byte of payload) frame.push(byte & 0xFF)
        frame.push(crc8(frame, 0, frame.length))
        return frame
    }

    // -- message layouts --------------------------------------------------------------

    /**
     * One little-endian integer field of a payload. low..high is its allowed range
     * (enumerations are contiguous ranges too); flagsMask, when not 0, marks a set of
     * flags whose undefined bits a receiver ignores.
     */
    export class Field {
        constructor(public name: string, public size: number, public signed: boolean,
            public low: number, public high: number, public flagsMask: number) { }
    }

    function u(name: string, size: number): Field {
        return new Field(name, size, false, 0, size == 4 ? 0xFFFFFFFF : (1 << (8 * size)) - 1, 0)
    }
    function ranged(name: string, size: number, low: number, high: number): Field {
        return new Field(name, size, false, low, high, 0)
    }
    function s(name: string, size: number): Field {
        const half = size == 4 ? 0x80000000 : 1 << (8 * size - 1)
        return new Field(name, size, true, -half, half - 1, 0)
    }
    function flags(name: string, size: number, mask: number): Field {
        return new Field(name, size, false, 0, (1 << (8 * size)) - 1, mask)
    }

    let layoutTypes: number[] = null
    let layouts: Field[][] = null

    function buildLayouts(): void {
        layoutTypes = []
        layouts = []
        const add = (frameType: number, fields: Field[]) => {
            layoutTypes.push(frameType)
            layouts.push(fields)
        }
        add(HELLO, [u("protocol_major", 1), u("protocol_minor", 1), ranged("max_frame_size", 1, 20, 255)])
        add(HEARTBEAT, [])
        add(STOP_ALL, [])
        add(IDENTIFY, [u("duration_ms", 2)])
        add(RESUME, [ranged("session_token", 2, 1, 0xFFFF)])
        add(MOVE_STRAIGHT, [s("distance_mm", 4), ranged("speed_percent", 1, 1, 100)])
        add(TURN, [s("angle_cdeg", 4), ranged("speed_percent", 1, 1, 100)])
        add(DRIVE, [new Field("left_percent", 1, true, -100, 100, 0),
        new Field("right_percent", 1, true, -100, 100, 0)])
        add(STOP, [])
        add(SET_LED, [u("red", 1), u("green", 1), u("blue", 1)])
        add(BEEP, [ranged("frequency_hz", 2, 1, 0xFFFF), ranged("duration_ms", 2, 1, 0xFFFF)])
        add(SUBSCRIBE, [u("period_ms", 2), u("min_interval_ms", 2), u("distance_change_mm", 2),
        ranged("on_change", 1, 0, 1)])
        add(INFO, [u("protocol_major", 1), u("protocol_minor", 1), u("firmware_major", 1),
        u("firmware_minor", 1), u("firmware_patch", 1), u("profile_id", 1),
        flags("capabilities", 2, ALL_CAPABILITIES), ranged("max_frame_size", 1, 20, 255),
        ranged("watchdog_ms", 2, 100, 2000), ranged("telemetry_min_interval_ms", 2, 1, 0xFFFF),
        u("robot_id", 1), ranged("session_token", 2, 1, 0xFFFF)])
        add(HEARTBEAT_ACK, [u("motion_seq", 1), ranged("motion_state", 1, COMPLETED, NO_MOTION),
        u("watchdog_trips", 1)])
        add(ACK, [u("command_type", 1)])
        add(NACK, [u("command_type", 1), ranged("code", 1, UNKNOWN_TYPE, NO_RESUME), u("detail", 1)])
        add(DONE, [u("command_type", 1), ranged("status", 1, COMPLETED, BLOCKED)])
        add(TELEMETRY, [u("time_ms", 4), u("distance_mm", 2), ranged("reflection_left_percent", 1, 0, 100),
        ranged("reflection_right_percent", 1, 0, 100), flags("sensor_bits", 1, 0x07),
        ranged("colour", 1, 0, 11), s("heading_cdeg", 3), s("odometer_mm", 3)])
    }

    /** The fields of a message type in wire order, or null for a type this version lacks. */
    export function layoutOf(frameType: number): Field[] {
        if (layouts == null) buildLayouts()
        const index = layoutTypes.indexOf(frameType)
        return index < 0 ? null : layouts[index]
    }

    /** Payload bytes of INFO without session_token, as a 1.0 robot sends it. */
    export const INFO_PAYLOAD_1_0 = 14

    function payloadSize(fields: Field[], count: number): number {
        let size = 0
        for (let i = 0; i < count; i++) size += fields[i].size
        return size
    }

    function unpack(payload: number[], offset: number, field: Field): number {
        let value = 0
        let scale = 1
        for (let i = 0; i < field.size; i++) {
            value += payload[offset + i] * scale
            scale *= 256
        }
        if (field.signed && value >= scale / 2) value -= scale
        if (field.flagsMask) value &= field.flagsMask
        return value
    }

    /** Append value as a little-endian field of size bytes (two's complement when negative). */
    export function pack(out: number[], value: number, size: number): void {
        let rest = value < 0 ? value + (size == 4 ? 4294967296 : 1 << (8 * size)) : value
        for (let i = 0; i < size; i++) {
            out.push(rest & 0xFF)
            rest = Math.floor(rest / 256)
        }
    }

    /**
     * A message read from a frame, or why it cannot be: error is 0 for a good
     * message, a NACK code (UNKNOWN_TYPE, BAD_LENGTH, BAD_VALUE, VERSION) for a
     * well-framed but unacceptable one, BAD_FRAME_LENGTH or BAD_CRC for a frame that
     * cannot be trusted (seq and type are then -1). values are in layout order.
     */
    export class Message {
        constructor(public frameType: number, public seq: number, public values: number[],
            public error: number, public detail: number, public crc: number) { }

        /** The value of the field at index i of the type's layout. */
        value(i: number): number {
            return this.values[i]
        }
    }

    /** Interpret the payload of a frame that passed its length and CRC checks. */
    export function interpret(frameType: number, seq: number, payload: number[], crc: number): Message {
        const fields = layoutOf(frameType)
        if (fields == null) return new Message(frameType, seq, [], UNKNOWN_TYPE, 0, crc)
        let count = fields.length
        if (frameType == INFO) {
            // Only INFO's first two bytes (the version) are the same in every major version.
            if (payload.length > 0 && payload[0] != PROTOCOL_MAJOR
                && payload.length != payloadSize(fields, count) && payload.length != INFO_PAYLOAD_1_0) {
                return new Message(frameType, seq, [], VERSION, payload[0], crc)
            }
            if (payload.length == INFO_PAYLOAD_1_0) count -= 1
        }
        if (payload.length != payloadSize(fields, count)) {
            return new Message(frameType, seq, [], BAD_LENGTH, 0, crc)
        }
        const values: number[] = []
        let offset = 0
        for (let i = 0; i < count; i++) {
            const field = fields[i]
            const value = unpack(payload, offset, field)
            if (value < field.low || value > field.high) {
                return new Message(frameType, seq, [], BAD_VALUE, offset, crc)
            }
            values.push(value)
            offset += field.size
        }
        return new Message(frameType, seq, values, 0, 0, crc)
    }

    /** The frame of a message given its values in layout order (as many as given). */
    export function encodeMessage(frameType: number, seq: number, values: number[]): number[] {
        const fields = layoutOf(frameType)
        const payload: number[] = []
        for (let i = 0; i < values.length; i++) pack(payload, values[i], fields[i].size)
        return encodeFrame(frameType, seq, payload)
    }

    // -- the stream reader ------------------------------------------------------------

    /**
     * Cuts a byte stream into messages and finds the frames again after corruption
     * (docs/protocol.md, "Resynchronisation"): a bad length or CRC drops one byte and
     * rescans; one error is reported per loss of sync, not one per byte.
     */
    export class FrameReader {
        private buffer: number[] = []
        private inSync = true

        constructor(public maxFrameSize: number) { }

        /** Add received bytes; return every message they complete, and errors. */
        feed(data: number[]): Message[] {
            for (const byte of data) this.buffer.push(byte)
            return this.scan(false)
        }

        /** Treat what is buffered as complete: no byte of it will be continued. */
        flush(): Message[] {
            const results = this.scan(true)
            this.inSync = true
            return results
        }

        /** Bytes waiting for the rest of their frame. */
        buffered(): number {
            return this.buffer.length
        }

        private scan(final: boolean): Message[] {
            const results: Message[] = []
            const buffer = this.buffer
            let start = 0
            while (start < buffer.length) {
                const size = buffer[start]
                if (size < OVERHEAD || size > this.maxFrameSize) {
                    this.loseSync(results, BAD_FRAME_LENGTH)
                    start++
                    continue
                }
                if (buffer.length - start < size) {
                    if (!final) break
                    this.loseSync(results, BAD_FRAME_LENGTH)
                    start++
                    continue
                }
                const crc = buffer[start + size - 1]
                if (crc8(buffer, start, start + size - 1) != crc) {
                    this.loseSync(results, BAD_CRC)
                    start++
                    continue
                }
                const message = interpret(buffer[start + 1], buffer[start + 2],
                    buffer.slice(start + OVERHEAD - 1, start + size - 1), crc)
                if (message.error != 0 && !this.inSync) {
                    // While hunting, a CRC match that is no valid message is most
                    // likely garbage that passed the CRC by chance (1 in 256).
                    start++
                    continue
                }
                results.push(message)
                this.inSync = true
                start += size
            }
            this.buffer = buffer.slice(start, buffer.length)
            return results
        }

        private loseSync(results: Message[], reason: number): void {
            if (this.inSync) {
                results.push(new Message(-1, -1, [], reason, 0, -1))
                this.inSync = false
            }
        }
    }

    // -- the robot ------------------------------------------------------------------

    /** All sensor values of one instant, in wire units; sensors the robot lacks are 0. */
    export class Reading {
        constructor(public timeMs: number, public distanceMm: number, public reflectionLeft: number,
            public reflectionRight: number, public sensorBits: number, public colour: number,
            public headingCdeg: number, public odometerMm: number) { }

        /** The TELEMETRY frame with this reading; heading and odometer wrap to 24 bits. */
        frame(seq: number): number[] {
            const payload: number[] = []
            pack(payload, this.timeMs % 4294967296, 4)
            pack(payload, this.distanceMm, 2)
            payload.push(this.reflectionLeft)
            payload.push(this.reflectionRight)
            payload.push(this.sensorBits)
            payload.push(this.colour)
            pack(payload, wrap24(this.headingCdeg), 3)
            pack(payload, wrap24(this.odometerMm), 3)
            return encodeFrame(TELEMETRY, seq, payload)
        }
    }

    /** A running total modulo 2^24, as TELEMETRY's heading and odometer carry it. */
    export function wrap24(total: number): number {
        const full = 16777216
        let value = total % full
        if (value < 0) value += full
        return value >= full / 2 ? value - full : value
    }

    /**
     * What the protocol needs from the car, in wire units: mm, centidegrees
     * (counterclockwise positive), percent of top speed, ms, Hz. Every command
     * returns at once; the protocol polls moveFinished, blocked and moving.
     */
    export interface Body {
        /** Lowest and highest tone the buzzer plays, Hz; BEEP outside is refused. */
        buzzerLowHz: number
        buzzerHighHz: number
        straight(distanceMm: number, speedPercent: number): void
        turn(angleCdeg: number, speedPercent: number): void
        drive(leftPercent: number, rightPercent: number): void
        /** Brake to a standstill at the normal deceleration (STOP). */
        brake(): void
        /** Motors off at once (STOP_ALL, watchdog, lost link, blocked). */
        halt(): void
        stopTone(): void
        setLed(red: number, green: number, blue: number): void
        beep(frequencyHz: number, durationMs: number): void
        /** Blink and show the robot id for durationMs; 0 stops. */
        identify(durationMs: number): void
        moveFinished(): boolean
        blocked(): boolean
        moving(): boolean
        reading(): Reading
    }

    /** What INFO announces. */
    export class RobotConfig {
        constructor(public robotId: number, public profileId: number, public capabilities: number,
            public watchdogMs: number, public maxFrameSize: number, public minTelemetryMs: number,
            public firmwareMajor: number, public firmwareMinor: number, public firmwarePatch: number) { }
    }

    /** A command in the de-duplication window, with the answers it got. */
    class Remembered {
        answer: number[] = []
        done: number[] = null
        constructor(public seq: number, public frameType: number, public crc: number) { }
    }

    /** A running MOVE_STRAIGHT, TURN or STOP. */
    class Motion {
        constructor(public seq: number, public frameType: number, public remembered: Remembered) { }
    }

    /**
     * One robot's protocol state: session, de-duplication, motions, watchdog and
     * telemetry. send(frame) transmits bytes; nowMs() is the robot's clock in ms;
     * nextToken() picks a session token, 1-65535, at random in the firmware.
     *
     *     const robot = new robotlab.RobotProtocol(body, config, send, control.millis, token)
     *     robot.receive(bytes, false)    // from the UART
     *     robot.tick()                   // every ~10 ms
     */
    export class RobotProtocol {
        inSession = false
        watchdogTrips = 0
        sessionToken = 0                 // 0: none (before HELLO, or a 1.0 client)
        private reader: FrameReader
        private window: Remembered[] = []
        private motion: Motion = null
        private latestMotionSeq = 0
        private latestMotionState = NO_MOTION
        private watchdogArmed = false
        private watchdogDeadlineMs = 0
        private toneUntilMs = 0
        private toneSet = false
        // The session a lost link ended, kept for RESUME until previousUntilMs.
        private previousToken = 0
        private previousWindow: Remembered[] = null
        private previousUntilMs = 0
        // The telemetry subscription: period, min interval, distance change, on change.
        private subscribed = false
        private subPeriodMs = 0
        private subMinIntervalMs = 0
        private subDistanceChangeMm = 0
        private subOnChange = false
        private telemetrySeq = 0
        private lastReading: Reading = null
        private lastTelemetryMs = 0
        private telemetrySent = false
        private nextPeriodicMs = 0
        private periodicSet = false
        private telemetryPending = false
        private lastByteMs = 0

        constructor(public body: Body, public config: RobotConfig, private send: (frame: number[]) => void,
            private nowMs: () => number, private nextToken: () => number) {
            this.reader = new FrameReader(DEFAULT_FRAME_SIZE)
        }

        // -- the owner's calls --------------------------------------------------------

        /**
         * Handle received bytes. endOfWrite: the bytes are one whole client write, so
         * what is left over is garbage (a client never splits a frame across writes).
         * Where the platform hides write boundaries, pass false: tick() flushes after
         * IDLE_FLUSH_MS without a byte.
         */
        receive(data: number[], endOfWrite: boolean): void {
            this.checkWatchdog()
            this.lastByteMs = this.nowMs()
            const reader = this.reader
            const items = reader.feed(data)
            if (endOfWrite) {
                for (const item of reader.flush()) items.push(item)
            }
            this.handleAll(items)
        }

        /** Let time pass: finished or blocked motions, the watchdog, telemetry. Every ~10 ms. */
        tick(): void {
            if (this.reader.buffered() > 0 && this.nowMs() - this.lastByteMs >= IDLE_FLUSH_MS) {
                this.handleAll(this.reader.flush())
            }
            this.checkMotion()
            this.checkWatchdog()
            this.tickTelemetry()
        }

        /** The link dropped: stop at once and end the session (kept for RESUME a while). */
        linkLost(): void {
            const interrupted = this.stopEverything()
            if (interrupted != null) {
                interrupted.remembered.done = encodeMessage(DONE, interrupted.seq,
                    [interrupted.frameType, INTERRUPTED])
            }
            this.keepForResume()
            this.endSession()
        }

        // -- dispatch -------------------------------------------------------------------

        private handleAll(items: Message[]): void {
            for (const item of items) {
                if (item.seq < 0) continue      // corrupted: its seq and type cannot be trusted
                if (item.error != 0) this.refuseMalformed(item)
                else this.handle(item)
                this.feedWatchdog()
            }
        }

        private handle(message: Message): void {
            if (message.frameType >= FIRST_ROBOT_TYPE) {
                this.nack(message.seq, message.frameType, UNKNOWN_TYPE, 0)
            } else if (message.frameType == STOP_ALL) {
                const interrupted = this.stopEverything()
                this.send(encodeMessage(ACK, message.seq, [STOP_ALL]))
                this.sendDone(interrupted, INTERRUPTED)
            } else if (message.frameType == HELLO) {
                this.hello(message)
            } else {
                this.command(message)
            }
        }

        /** A well-framed frame of an unknown type, a wrong length or a bad value. */
        private refuseMalformed(message: Message): void {
            if (message.frameType >= FIRST_ROBOT_TYPE) {
                this.nack(message.seq, message.frameType, UNKNOWN_TYPE, 0)
                return
            }
            const interrupted = message.frameType == STOP_ALL ? this.stopEverything() : null
            this.nack(message.seq, message.frameType, message.error, message.detail)
            this.sendDone(interrupted, INTERRUPTED)
        }

        /** Any command but HELLO and STOP_ALL: de-duplicated, checked, carried out. */
        private command(message: Message): void {
            for (const remembered of this.window) {
                if (remembered.seq == message.seq && remembered.frameType == message.frameType
                    && remembered.crc == message.crc) {
                    this.send(remembered.answer)
                    if (remembered.done != null) this.send(remembered.done)
                    return
                }
            }
            if (message.frameType != HEARTBEAT && message.frameType != RESUME) {
                this.forgetPrevious()           // RESUME comes right after INFO or not at all
            }
            const remembered = new Remembered(message.seq, message.frameType, message.crc)
            this.window.push(remembered)
            if (this.window.length > DEDUP_WINDOW) this.window.shift()
            const code = this.refusal(message)
            if (code >= 0) {
                const detail = code == UNSUPPORTED ? bitNumber(neededCapability(message.frameType)) : 0
                this.answer(remembered, message.seq, NACK, [message.frameType, code, detail])
                return
            }
            switch (message.frameType) {
                case HEARTBEAT:
                    this.answer(remembered, message.seq, HEARTBEAT_ACK,
                        [this.latestMotionSeq, this.latestMotionState, this.watchdogTrips % 256])
                    break
                case RESUME: this.resume(message, remembered); break
                case IDENTIFY:
                    this.body.identify(message.value(0))
                    this.ack(remembered, message)
                    break
                case MOVE_STRAIGHT:
                case TURN:
                case STOP:
                    this.startMotion(message, remembered)
                    break
                case DRIVE: {
                    const interrupted = this.endMotion(INTERRUPTED)
                    this.body.drive(message.value(0), message.value(1))
                    this.ack(remembered, message)
                    this.sendDone(interrupted, INTERRUPTED)
                    break
                }
                case SET_LED:
                    this.body.setLed(message.value(0), message.value(1), message.value(2))
                    this.ack(remembered, message)
                    break
                case BEEP:
                    this.body.beep(message.value(0), message.value(1))
                    this.toneUntilMs = this.nowMs() + message.value(1)
                    this.toneSet = true
                    this.ack(remembered, message)
                    break
                case SUBSCRIBE: this.subscribe(message, remembered); break
            }
        }

        /** The NACK code for a command in the spec's order after the codec's checks, or -1. */
        private refusal(message: Message): number {
            if (!this.inSession) return NOT_READY
            if (message.frameType == RESUME && !this.resumable(message.value(0))) return NO_RESUME
            const needed = neededCapability(message.frameType)
            if (needed != 0 && !(this.config.capabilities & needed)) return UNSUPPORTED
            if (message.frameType == BEEP) {
                const hz = message.value(0)
                if (hz < this.body.buzzerLowHz || hz > this.body.buzzerHighHz) return BAD_VALUE
            }
            return -1
        }

        // -- session ----------------------------------------------------------------------

        private hello(message: Message): void {
            if (message.value(0) != PROTOCOL_MAJOR) {
                // Refused, so without effect: a running session goes on.
                this.nack(message.seq, HELLO, VERSION, PROTOCOL_MAJOR)
                return
            }
            // The old session's motion ends before INFO, so what follows INFO is the new session's.
            this.sendDone(this.stopEverything(), INTERRUPTED)
            this.endSession()
            this.inSession = true
            this.reader.maxFrameSize = Math.min(message.value(2), this.config.maxFrameSize)
            let token = 0
            if (message.value(1) >= 1) {
                token = this.nextToken()
                while (this.previousWindow != null && token == this.previousToken) token = this.nextToken()
            }
            this.sessionToken = token
            const c = this.config
            const values = [PROTOCOL_MAJOR, PROTOCOL_MINOR, c.firmwareMajor, c.firmwareMinor,
                c.firmwarePatch, c.profileId, c.capabilities, c.maxFrameSize, c.watchdogMs,
                c.minTelemetryMs, c.robotId]
            if (token != 0) values.push(token)
            this.send(encodeMessage(INFO, message.seq, values))
        }

        /** On a lost link: keep this session for RESUME, or the one before if this one did
         *  nothing yet (a reconnect whose link dropped again before RESUME). */
        private keepForResume(): void {
            const now = this.nowMs()
            if (this.previousWindow != null && now < this.previousUntilMs) return
            this.forgetPrevious()
            if (this.inSession && this.sessionToken != 0) {
                this.previousToken = this.sessionToken
                this.previousWindow = this.window.slice(0, this.window.length)
                this.previousUntilMs = now + RESUME_WITHIN_MS
            }
        }

        private forgetPrevious(): void {
            this.previousWindow = null
            this.previousToken = 0
        }

        private resumable(token: number): boolean {
            return this.previousWindow != null && this.previousToken == token
                && this.nowMs() < this.previousUntilMs
        }

        /** The lost session's window (answers and DONEs) comes back, before this session's
         *  few frames (heartbeats, this RESUME); nothing else of it does. */
        private resume(message: Message, remembered: Remembered): void {
            const window = this.previousWindow
            this.forgetPrevious()
            for (const entry of this.window) window.push(entry)
            while (window.length > DEDUP_WINDOW) window.shift()
            this.window = window
            this.ack(remembered, message)
        }

        private endSession(): void {
            this.inSession = false
            this.reader = new FrameReader(DEFAULT_FRAME_SIZE)
            this.window = []
            this.sessionToken = 0
            this.motion = null
            this.latestMotionSeq = 0
            this.latestMotionState = NO_MOTION
            this.watchdogTrips = 0
            this.watchdogArmed = false
            this.subscribed = false
        }

        /** Motors and tone off at once; return the motion this interrupted (its DONE unsent). */
        private stopEverything(): Motion {
            this.body.halt()
            this.body.stopTone()
            this.toneSet = false
            return this.endMotion(INTERRUPTED)
        }

        // -- motions ----------------------------------------------------------------------

        /** Replace the running motion (DONE INTERRUPTED after this one's ACK) and start. */
        private startMotion(message: Message, remembered: Remembered): void {
            const interrupted = this.endMotion(INTERRUPTED)
            if (message.frameType == MOVE_STRAIGHT) this.body.straight(message.value(0), message.value(1))
            else if (message.frameType == TURN) this.body.turn(message.value(0), message.value(1))
            else this.body.brake()
            this.ack(remembered, message)
            this.sendDone(interrupted, INTERRUPTED)
            this.motion = new Motion(message.seq, message.frameType, remembered)
            this.latestMotionSeq = message.seq
            this.latestMotionState = RUNNING
            this.checkMotion()                  // a move of 0 mm completes at once
        }

        private checkMotion(): void {
            if (this.motion == null) return
            if (this.body.blocked()) {
                this.body.halt()
                this.sendDone(this.endMotion(BLOCKED), BLOCKED)
            } else if (this.body.moveFinished()) {
                this.sendDone(this.endMotion(COMPLETED), COMPLETED)
            }
        }

        /** Mark the running motion as ended; return it so that its DONE can be sent. */
        private endMotion(state: number): Motion {
            const motion = this.motion
            this.motion = null
            if (motion != null) {
                this.latestMotionSeq = motion.seq
                this.latestMotionState = state
            }
            return motion
        }

        private sendDone(motion: Motion, state: number): void {
            if (motion == null) return
            const frame = encodeMessage(DONE, motion.seq, [motion.frameType, state])
            motion.remembered.done = frame
            this.send(frame)
        }

        // -- watchdog ---------------------------------------------------------------------

        private feedWatchdog(): void {
            if (this.inSession) {
                this.watchdogArmed = true
                this.watchdogDeadlineMs = this.nowMs() + this.config.watchdogMs
            }
        }

        private checkWatchdog(): void {
            const now = this.nowMs()
            if (!this.watchdogArmed || now < this.watchdogDeadlineMs) return
            // One trip per silence: the next frame from the client re-arms it.
            this.watchdogArmed = false
            if (this.body.moving() || (this.toneSet && now < this.toneUntilMs)) this.watchdogTrips++
            this.sendDone(this.stopEverything(), INTERRUPTED)
        }

        // -- telemetry --------------------------------------------------------------------

        private subscribe(message: Message, remembered: Remembered): void {
            this.ack(remembered, message)
            const everythingZero = !(message.value(0) || message.value(1) || message.value(2) || message.value(3))
            this.subscribed = !everythingZero
            if (this.subscribed) {
                this.subPeriodMs = message.value(0)
                this.subMinIntervalMs = message.value(1)
                this.subDistanceChangeMm = message.value(2)
                this.subOnChange = message.value(3) == 1
                this.telemetryPending = false
                this.sendTelemetry(this.body.reading(), false)
            }
        }

        private tickTelemetry(): void {
            if (!this.subscribed) return
            const now = this.nowMs()
            const periodic = this.subPeriodMs != 0 && this.periodicSet && now >= this.nextPeriodicMs
            let reading: Reading = null
            if (!(periodic || this.telemetryPending) && (this.subDistanceChangeMm != 0 || this.subOnChange)) {
                reading = this.body.reading()
                this.telemetryPending = this.changed(reading)
            }
            if (!(periodic || this.telemetryPending)) return
            const intervalMs = Math.max(this.subMinIntervalMs, this.config.minTelemetryMs)
            // Due, but delayed by the rate limit, never dropped.
            if (this.telemetrySent && now < this.lastTelemetryMs + intervalMs) return
            this.sendTelemetry(reading != null ? reading : this.body.reading(), periodic)
        }

        private changed(reading: Reading): boolean {
            const last = this.lastReading
            if (this.subDistanceChangeMm != 0
                && Math.abs(reading.distanceMm - last.distanceMm) >= this.subDistanceChangeMm) return true
            return this.subOnChange && (reading.sensorBits != last.sensorBits || reading.colour != last.colour)
        }

        private sendTelemetry(reading: Reading, periodic: boolean): void {
            const now = this.nowMs()
            const period = this.subPeriodMs
            if (period == 0) {
                this.periodicSet = false
            } else if (periodic && this.nextPeriodicMs + period > now) {
                this.nextPeriodicMs += period           // keep the cadence despite tick jitter
            } else {
                this.nextPeriodicMs = now + period      // "period_ms since the last one"
                this.periodicSet = true
            }
            this.lastReading = reading
            this.lastTelemetryMs = now
            this.telemetrySent = true
            this.telemetryPending = false
            this.send(reading.frame(this.telemetrySeq))
            this.telemetrySeq = (this.telemetrySeq + 1) % 256
        }

        // -- answers ----------------------------------------------------------------------

        private ack(remembered: Remembered, message: Message): void {
            this.answer(remembered, message.seq, ACK, [message.frameType])
        }

        private answer(remembered: Remembered, seq: number, frameType: number, values: number[]): void {
            remembered.answer = encodeMessage(frameType, seq, values)
            this.send(remembered.answer)
        }

        private nack(seq: number, frameType: number, code: number, detail: number): void {
            this.send(encodeMessage(NACK, seq, [frameType, code, detail]))
        }
    }

    /** The capability a command needs (IDENTIFY blinks the LED), or 0. */
    export function neededCapability(frameType: number): number {
        switch (frameType) {
            case MOVE_STRAIGHT: case TURN: case DRIVE: case STOP: return CAP_MOTORS
            case SET_LED: case IDENTIFY: return CAP_LED
            case BEEP: return CAP_BUZZER
            default: return 0
        }
    }

    function bitNumber(mask: number): number {
        let bit = 0
        while (mask > 1) {
            mask >>= 1
            bit++
        }
        return bit
    }
}

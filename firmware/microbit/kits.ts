/**
 * Drivers for two popular micro:bit V2 car kits, written here rather than taken from
 * MakeCode extensions: an extension from GitHub changes the native build, which then
 * needs MakeCode's cloud (see docs/firmware.md).
 *
 * - MAQUEEN: DFRobot Maqueen Lite. Motors through the I2C motor driver at 0x10,
 *   ultrasonic sensor (trigger P1, echo P2), on/off line sensors (P13 left, P14 right,
 *   0 = dark line), two red LEDs (P8 left, P12 right).
 * - HBRIDGE: a plain two-motor car on the Kitronik Motor Driver Board (or any
 *   dual H-bridge wired alike): left motor P8/P12, right motor P0/P16, PWM on the
 *   first pin of each pair. No sensors of its own.
 *
 * Neither kit has wheel encoders or a gyro, so moves and turns are timed from the
 * kit's top speed and axle track (the numbers of simulator/profiles/microbit-*.toml).
 * Both use the micro:bit's accelerometer to notice a collision (the bumper bit), its
 * speaker for BEEP and its 5x5 LEDs to show the robot id.
 */
namespace robotlab {
    export const MAQUEEN = 0
    export const HBRIDGE = 1

    /** The numbers of one kit; top speed and axle track set how long a move takes. */
    export class KitSpec {
        constructor(public name: string, public profileId: number, public capabilities: number,
            public topSpeedMmS: number, public axleTrackMm: number) { }
    }

    /** The kit's profile ids are private-use numbers (128-255) until registered in docs/protocol.md. */
    export function kitSpec(kit: number): KitSpec {
        if (kit == MAQUEEN) {
            return new KitSpec("maqueen", 128, CAP_MOTORS | CAP_DISTANCE | CAP_LINE | CAP_BUMPER | CAP_LED
                | CAP_BUZZER | CAP_DISPLAY, 200, 78)
        }
        return new KitSpec("hbridge", 129, CAP_MOTORS | CAP_BUMPER | CAP_BUZZER | CAP_DISPLAY, 250, 110)
    }

    const MAQUEEN_I2C = 0x10
    const BUMP_MG = 1600            // a jolt this far from gravity counts as a collision, milli-g
    const BUMP_HOLD_MS = 300        // the bumper bit stays set this long after a jolt
    const BRAKE_MS = 150            // STOP: wheels off, then it counts as standing after this
    const ECHO_TIMEOUT_US = 25000   // about 4 m there and back

    /**
     * The robot body on real hardware: wheels, sensors, LEDs, speaker, display.
     * update(now) is called every ~10 ms by the main loop; sensors that take time
     * (the ultrasonic echo) are read in their own fiber.
     */
    export class CarBody implements Body {
        buzzerLowHz = 20
        buzzerHighHz = 20000
        private moveEndMs = 0
        private timedMove = false
        private wheelsOn = false
        private forward = false
        private toneEndMs = 0
        private toneOn = false
        private identifyEndMs = 0
        private ledOn = false
        private bumpUntilMs = 0
        private distanceMm = NO_ECHO

        constructor(public kit: number, public spec: KitSpec, private robotId: number) {
            if (kit == HBRIDGE) {
                // P0 drives a motor: keep the speaker's sound off the P0 pin.
                pins.setAudioPinEnabled(false)
            }
            music.setBuiltInSpeakerEnabled(true)
            this.setWheels(0, 0)
        }

        // -- motion ---------------------------------------------------------------------

        straight(distanceMm: number, speedPercent: number): void {
            const speed = distanceMm < 0 ? -speedPercent : speedPercent
            this.startTimed(Math.abs(distanceMm), speedPercent, speed, speed)
        }

        turn(angleCdeg: number, speedPercent: number): void {
            // Each wheel travels the arc of a circle whose diameter is the axle track.
            const arcMm = Math.abs(angleCdeg) / 36000 * Math.PI * this.spec.axleTrackMm
            const speed = angleCdeg > 0 ? speedPercent : -speedPercent
            this.startTimed(arcMm, speedPercent, -speed, speed)
        }

        drive(leftPercent: number, rightPercent: number): void {
            this.timedMove = false
            this.forward = leftPercent + rightPercent > 0
            this.setWheels(leftPercent, rightPercent)
        }

        brake(): void {
            this.setWheels(0, 0)
            this.timedMove = true
            this.forward = false
            this.moveEndMs = control.millis() + BRAKE_MS
        }

        halt(): void {
            this.timedMove = false
            this.setWheels(0, 0)
        }

        moveFinished(): boolean {
            return this.timedMove && control.millis() >= this.moveEndMs
        }

        blocked(): boolean {
            return this.forward && this.wheelsOn && control.millis() < this.bumpUntilMs
        }

        moving(): boolean {
            return this.wheelsOn
        }

        private startTimed(lengthMm: number, speedPercent: number, left: number, right: number): void {
            const mmPerS = this.spec.topSpeedMmS * speedPercent / 100
            this.timedMove = true
            this.forward = left + right > 0
            this.moveEndMs = control.millis() + Math.round(lengthMm * 1000 / mmPerS)
            this.setWheels(lengthMm == 0 ? 0 : left, lengthMm == 0 ? 0 : right)
        }

        private setWheels(left: number, right: number): void {
            this.wheelsOn = left != 0 || right != 0
            if (this.kit == MAQUEEN) {
                maqueenMotor(0x00, left)
                maqueenMotor(0x02, right)
            } else {
                hbridgeMotor(AnalogPin.P8, DigitalPin.P12, left)
                hbridgeMotor(AnalogPin.P0, DigitalPin.P16, right)
            }
        }

        // -- light, sound, display ------------------------------------------------------

        stopTone(): void {
            this.toneOn = false
            music.stopAllSounds()
        }

        beep(frequencyHz: number, durationMs: number): void {
            music.ringTone(frequencyHz)
            this.toneOn = true
            this.toneEndMs = control.millis() + durationMs
        }

        setLed(red: number, green: number, blue: number): void {
            this.ledOn = red != 0 || green != 0 || blue != 0
            this.showLed(this.ledOn)
        }

        identify(durationMs: number): void {
            this.identifyEndMs = control.millis() + durationMs
            if (durationMs == 0) this.showLed(this.ledOn)
        }

        /** The id as two hex digits, as in the name RobotLab-XX. */
        idText(): string {
            const digits = "0123456789ABCDEF"
            return digits.charAt(this.robotId >> 4) + digits.charAt(this.robotId & 15)
        }

        private showLed(on: boolean): void {
            if (this.kit == MAQUEEN) {
                pins.digitalWritePin(DigitalPin.P8, on ? 1 : 0)
                pins.digitalWritePin(DigitalPin.P12, on ? 1 : 0)
            }
        }

        // -- sensors --------------------------------------------------------------------

        reading(): Reading {
            let bits = 0
            if (this.kit == MAQUEEN) {
                if (pins.digitalReadPin(DigitalPin.P13) == 0) bits |= LINE_LEFT
                if (pins.digitalReadPin(DigitalPin.P14) == 0) bits |= LINE_RIGHT
            }
            if (control.millis() < this.bumpUntilMs) bits |= BUMPED
            const distance = this.kit == MAQUEEN ? this.distanceMm : 0
            return new Reading(control.millis(), distance, 0, 0, bits, 0, 0, 0)
        }

        /** One ultrasonic measurement (blocks up to 25 ms: run it in its own fiber). */
        measureDistance(): void {
            if (this.kit != MAQUEEN) return
            pins.digitalWritePin(DigitalPin.P1, 0)
            control.waitMicros(2)
            pins.digitalWritePin(DigitalPin.P1, 1)
            control.waitMicros(10)
            pins.digitalWritePin(DigitalPin.P1, 0)
            const echoUs = pins.pulseIn(DigitalPin.P2, PulseValue.High, ECHO_TIMEOUT_US)
            // Sound travels 0.343 mm per microsecond, there and back.
            this.distanceMm = echoUs <= 0 ? NO_ECHO : Math.round(echoUs * 343 / 2000)
        }

        /** Every ~10 ms: the end of a timed move, the tone's end, the identify blink, the accelerometer. */
        update(): void {
            const now = control.millis()
            // The protocol only reports a finished move; stopping the wheels is the body's job.
            if (this.timedMove && now >= this.moveEndMs && this.wheelsOn) this.setWheels(0, 0)
            if (this.toneOn && now >= this.toneEndMs) this.stopTone()
            const jolt = Math.abs(input.acceleration(Dimension.Strength) - 1000)
            if (jolt > BUMP_MG) this.bumpUntilMs = now + BUMP_HOLD_MS
            if (now < this.identifyEndMs) {
                this.showLed((now / 250) % 2 < 1)         // about 2 Hz
            } else if (this.identifyEndMs != 0) {
                this.identifyEndMs = 0
                this.showLed(this.ledOn)
            }
        }

        identifying(): boolean {
            return control.millis() < this.identifyEndMs
        }
    }

    /** Maqueen's motor driver: register (0 left, 2 right), direction (0 forward), speed 0-255. */
    function maqueenMotor(register: number, percent: number): void {
        const buffer = pins.createBuffer(3)
        buffer[0] = register
        buffer[1] = percent < 0 ? 1 : 0
        buffer[2] = Math.round(Math.abs(percent) * 255 / 100)
        pins.i2cWriteBuffer(MAQUEEN_I2C, buffer)
    }

    /** One motor of a dual H-bridge: PWM on one pin, the other low; reversed by swapping. */
    function hbridgeMotor(pwm: AnalogPin, other: DigitalPin, percent: number): void {
        const duty = Math.round(Math.abs(percent) * 1023 / 100)
        if (percent >= 0) {
            pins.digitalWritePin(other, 0)
            pins.analogWritePin(pwm, duty)
        } else {
            // Backward: the other pin high and PWM inverted gives the same speed reversed.
            pins.digitalWritePin(other, 1)
            pins.analogWritePin(pwm, 1023 - duty)
        }
    }
}

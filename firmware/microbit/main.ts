/**
 * RobotLab firmware for micro:bit V2 robot cars: the robot side of the open RobotLab
 * protocol (docs/protocol.md) over the micro:bit's Bluetooth UART service.
 *
 * Settings a teacher may change before building (docs/firmware.md):
 * - KIT: the car kit, robotlab.MAQUEEN or robotlab.HBRIDGE. Holding button A while
 *   the micro:bit starts picks MAQUEEN, button B picks HBRIDGE, for this run.
 * - ROBOT_ID: the robot's short id, 0-255 (shown as two hex digits); -1 takes the
 *   low byte of the micro:bit's serial number.
 */
const KIT = robotlab.MAQUEEN
const ROBOT_ID = -1

namespace robotlab {
    export const FIRMWARE_VERSION = [1, 0, 0]
    const TICK_MS = 10
    const WATCHDOG_MS = 500
    const MIN_TELEMETRY_MS = 50

    let robot: RobotProtocol = null
    let body: CarBody = null
    let connected = false

    function chooseKit(): number {
        if (input.buttonIsPressed(Button.A)) return MAQUEEN
        if (input.buttonIsPressed(Button.B)) return HBRIDGE
        return KIT
    }

    function send(frame: number[]): void {
        bluetooth.uartWriteBuffer(Buffer.fromArray(frame))
    }

    function receiveWaiting(): void {
        const data = bluetooth.uartReadBuffer()
        if (data.length == 0) return
        const bytes: number[] = []
        for (let i = 0; i < data.length; i++) bytes.push(data[i])
        // MakeCode's UART buffer hides where one client write ends: the protocol
        // flushes a partial frame after IDLE_FLUSH_MS of silence instead.
        robot.receive(bytes, false)
    }

    /** Start the robot: Bluetooth UART, the protocol, and its 10 ms loop. */
    export function start(): void {
        const kit = chooseKit()
        const spec = kitSpec(kit)
        const id = ROBOT_ID >= 0 ? ROBOT_ID & 0xFF : control.deviceSerialNumber() & 0xFF
        body = new CarBody(kit, spec, id)
        const config = new RobotConfig(id, spec.profileId, spec.capabilities, WATCHDOG_MS,
            DEFAULT_FRAME_SIZE, MIN_TELEMETRY_MS, FIRMWARE_VERSION[0], FIRMWARE_VERSION[1],
            FIRMWARE_VERSION[2])
        robot = new RobotProtocol(body, config, send, () => control.millis(), () => randint(1, 0xFFFF))
        bluetooth.startUartService()
        bluetooth.onBluetoothConnected(function () {
            connected = true
        })
        bluetooth.onBluetoothDisconnected(function () {
            connected = false
            robot.linkLost()
        })
        control.inBackground(function () {
            while (true) {
                receiveWaiting()
                body.update()
                robot.tick()
                basic.pause(TICK_MS)
            }
        })
        control.inBackground(function () {
            while (true) {
                body.measureDistance()
                basic.pause(MIN_TELEMETRY_MS)
            }
        })
        // The display: the id while nobody is connected or while IDENTIFY runs, so that
        // a pupil can find their robot among thirty; a tick while a client is connected.
        control.inBackground(function () {
            while (true) {
                if (!connected || body.identifying()) {
                    basic.showString(body.idText())
                } else {
                    basic.showIcon(IconNames.Yes)
                }
                basic.pause(500)
            }
        })
    }
}

robotlab.start()

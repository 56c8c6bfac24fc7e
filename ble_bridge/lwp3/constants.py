"""Numbers of the LEGO Wireless Protocol 3.0.00 (LWP3): UUIDs, message types, codes.

From LEGO's published specification ("LEGO Wireless Protocol 3.0.00", MIT
licence, lego.github.io/lego-ble-wireless-protocol-docs). Section numbers in
comments refer to it. IO type ids above 0x0028 and the hub kinds above 0x42
are not in the 3.0.00 list ("NOT guaranteed up to date"); they are the ids
later hubs report, as the community's libraries list them.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

#: The LEGO Hub Service and its single characteristic (3.), written and notified.
HUB_SERVICE_UUID = "00001623-1212-efde-1623-785feabcd123"
HUB_CHARACTERISTIC_UUID = "00001624-1212-efde-1623-785feabcd123"
#: The company identifier in the manufacturer data a hub advertises (2.): LEGO System A/S.
LEGO_COMPANY_ID = 0x0397
#: LWP version a hub reports in Hub Property 0x0A, BCD (3.5.7): 3.0.0 is 0x0300.
LWP_VERSION_BCD = 0x0300
#: Longest advertising name a hub takes (3.5.5, note B).
MAX_NAME_SIZE = 14


class MessageType(IntEnum):
    """The third byte of every message (3.3)."""

    HUB_PROPERTIES = 0x01
    HUB_ACTIONS = 0x02
    HUB_ALERTS = 0x03
    HUB_ATTACHED_IO = 0x04
    GENERIC_ERROR = 0x05
    HW_NETWORK_COMMANDS = 0x08
    PORT_INFORMATION_REQUEST = 0x21
    PORT_MODE_INFORMATION_REQUEST = 0x22
    PORT_INPUT_FORMAT_SETUP_SINGLE = 0x41
    PORT_INPUT_FORMAT_SETUP_COMBINED = 0x42
    PORT_INFORMATION = 0x43
    PORT_MODE_INFORMATION = 0x44
    PORT_VALUE_SINGLE = 0x45
    PORT_VALUE_COMBINED = 0x46
    PORT_INPUT_FORMAT_SINGLE = 0x47
    PORT_INPUT_FORMAT_COMBINED = 0x48
    VIRTUAL_PORT_SETUP = 0x61
    PORT_OUTPUT_COMMAND = 0x81
    PORT_OUTPUT_COMMAND_FEEDBACK = 0x82


class HubProperty(IntEnum):
    """Hub Property references (3.5.3)."""

    ADVERTISING_NAME = 0x01
    BUTTON = 0x02
    FW_VERSION = 0x03
    HW_VERSION = 0x04
    RSSI = 0x05
    BATTERY_VOLTAGE = 0x06     # percent, 0-100
    BATTERY_TYPE = 0x07
    MANUFACTURER_NAME = 0x08
    RADIO_FIRMWARE_VERSION = 0x09
    LWP_VERSION = 0x0A
    SYSTEM_TYPE_ID = 0x0B
    HW_NETWORK_ID = 0x0C
    PRIMARY_MAC = 0x0D
    SECONDARY_MAC = 0x0E
    HW_NETWORK_FAMILY = 0x0F


class PropertyOperation(IntEnum):
    """Hub Property operations (3.5.4); only UPDATE goes upstream."""

    SET = 0x01
    ENABLE_UPDATES = 0x02
    DISABLE_UPDATES = 0x03
    RESET = 0x04
    REQUEST_UPDATE = 0x05
    UPDATE = 0x06


class HubActionType(IntEnum):
    """Hub Action types (3.6.2): 0x01-0x2F downstream, 0x30-0x64 upstream."""

    SWITCH_OFF = 0x01
    DISCONNECT = 0x02
    VCC_PORT_ON = 0x03
    VCC_PORT_OFF = 0x04
    ACTIVATE_BUSY = 0x05
    RESET_BUSY = 0x06
    SHUTDOWN = 0x2F
    WILL_SWITCH_OFF = 0x30
    WILL_DISCONNECT = 0x31
    WILL_GO_INTO_BOOT_MODE = 0x32


class IoEvent(IntEnum):
    """Hub Attached I/O events (3.8.3)."""

    DETACHED = 0x00
    ATTACHED = 0x01
    ATTACHED_VIRTUAL = 0x02


class IoType(IntEnum):
    """IO type ids (3.8.4, and the ids later devices report)."""

    MOTOR = 0x0001
    TRAIN_MOTOR = 0x0002
    BUTTON = 0x0005
    LED_LIGHT = 0x0008
    VOLTAGE = 0x0014
    CURRENT = 0x0015
    PIEZO_TONE = 0x0016
    RGB_LIGHT = 0x0017
    EXTERNAL_TILT_SENSOR = 0x0022
    MOTION_SENSOR = 0x0023
    VISION_SENSOR = 0x0025                  # BOOST colour and distance sensor
    EXTERNAL_MOTOR_WITH_TACHO = 0x0026      # BOOST interactive motor
    INTERNAL_MOTOR_WITH_TACHO = 0x0027      # BOOST move hub's own motors
    INTERNAL_TILT = 0x0028
    TECHNIC_LARGE_MOTOR = 0x002E
    TECHNIC_XL_MOTOR = 0x002F
    TECHNIC_MEDIUM_ANGULAR_MOTOR = 0x0030   # SPIKE Prime medium motor
    TECHNIC_LARGE_ANGULAR_MOTOR = 0x0031    # SPIKE Prime large motor
    TECHNIC_HUB_ACCELEROMETER = 0x0039
    TECHNIC_HUB_GYRO = 0x003A
    TECHNIC_HUB_TILT = 0x003B
    TECHNIC_HUB_TEMPERATURE = 0x003C
    TECHNIC_COLOR_SENSOR = 0x003D
    TECHNIC_DISTANCE_SENSOR = 0x003E
    TECHNIC_FORCE_SENSOR = 0x003F
    TECHNIC_COLOR_LIGHT_MATRIX = 0x0040
    TECHNIC_SMALL_ANGULAR_MOTOR = 0x0041    # SPIKE Essential motor
    TECHNIC_MEDIUM_ANGULAR_MOTOR_GREY = 0x004B
    TECHNIC_LARGE_ANGULAR_MOTOR_GREY = 0x004C


class ErrorCode(IntEnum):
    """Generic Error codes (3.9.2)."""

    ACK = 0x01
    MACK = 0x02
    BUFFER_OVERFLOW = 0x03
    TIMEOUT = 0x04
    COMMAND_NOT_RECOGNIZED = 0x05
    INVALID_USE = 0x06
    OVERCURRENT = 0x07
    INTERNAL_ERROR = 0x08


class InformationType(IntEnum):
    """What a Port Information Request (0x21) asks for (3.15.2)."""

    PORT_VALUE = 0x00
    MODE_INFO = 0x01
    POSSIBLE_MODE_COMBINATIONS = 0x02


class Startup(IntEnum):
    """The upper nibble of Startup and Completion Information (3.26.2)."""

    BUFFER_IF_NECESSARY = 0x0
    EXECUTE_IMMEDIATELY = 0x1


class EndState(IntEnum):
    """How a motor stops at the end of a timed or positioned command (3.27.7 ff.)."""

    FLOAT = 0
    HOLD = 126
    BRAKE = 127


class Feedback(IntFlag):
    """Port Output Command Feedback bits (3.32.1)."""

    IN_PROGRESS = 0x01     # buffer empty + command in progress
    COMPLETED = 0x02       # buffer empty + command completed
    DISCARDED = 0x04       # current command(s) discarded
    IDLE = 0x08
    BUSY_FULL = 0x10


class SubCommand(IntEnum):
    """Port Output Command sub-commands used here (3.27-3.29)."""

    START_POWER_2 = 0x02
    SET_ACC_TIME = 0x05
    SET_DEC_TIME = 0x06
    START_SPEED = 0x07
    START_SPEED_2 = 0x08
    START_SPEED_FOR_TIME = 0x09
    START_SPEED_FOR_TIME_2 = 0x0A
    START_SPEED_FOR_DEGREES = 0x0B
    START_SPEED_FOR_DEGREES_2 = 0x0C
    GOTO_ABSOLUTE_POSITION = 0x0D
    GOTO_ABSOLUTE_POSITION_2 = 0x0E
    PRESET_ENCODER_2 = 0x14
    WRITE_DIRECT = 0x50
    WRITE_DIRECT_MODE_DATA = 0x51


class HubKind(IntEnum):
    """System Type and Device Number (2.1) of the hubs LEGO sells: the advertised hub type."""

    WEDO2 = 0x00
    DUPLO_TRAIN = 0x20
    BOOST_MOVE_HUB = 0x40
    CITY_HUB = 0x41           # "2 Port Hub"
    REMOTE_CONTROL = 0x42     # "2 Port Handset"
    MARIO = 0x43
    TECHNIC_HUB = 0x80        # Technic Medium Hub (Control+)
    SPIKE_PRIME = 0x81
    SPIKE_ESSENTIAL = 0x83    # Technic Small Hub
    MINDSTORMS_INVENTOR = 0x84

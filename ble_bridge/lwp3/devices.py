"""What the driver knows about LEGO devices: which mode to read and how its value looks.

Modes and value layouts are the devices' own (a hub would report them in
Port Mode Information, 3.20); only the modes a drive base reads are listed.
Deltas are chosen so a moving robot does not flood the link (the spec warns
against 0) and still gives the pupil useful resolution.
"""

from __future__ import annotations

from typing import NamedTuple

from .constants import IoType
from .messages import DatasetType


class SensorMode(NamedTuple):
    """One readable mode of a device: its number, value layout and subscription delta."""

    mode: int
    dataset: DatasetType
    delta: int


#: Motors with a tacho (rotation counter), which can turn for degrees and report completion.
TACHO_MOTORS = frozenset({
    IoType.EXTERNAL_MOTOR_WITH_TACHO, IoType.INTERNAL_MOTOR_WITH_TACHO, IoType.TECHNIC_LARGE_MOTOR,
    IoType.TECHNIC_XL_MOTOR, IoType.TECHNIC_MEDIUM_ANGULAR_MOTOR, IoType.TECHNIC_LARGE_ANGULAR_MOTOR,
    IoType.TECHNIC_SMALL_ANGULAR_MOTOR, IoType.TECHNIC_MEDIUM_ANGULAR_MOTOR_GREY,
    IoType.TECHNIC_LARGE_ANGULAR_MOTOR_GREY,
})

#: A tacho motor's mode 2 (POS): Int32 degrees since the counter was last preset. A delta of
#: 5 degrees is 2.4 mm of a 5.6 cm wheel, and ~200 values a second per motor at full speed.
MOTOR_POSITION = SensorMode(2, DatasetType(1, "i"), 5)

#: Readable modes per device type and reading: "colour" (a LEGO colour number),
#: "reflection" (percent), "distance" (mm, -1 when nothing is seen).
SENSOR_MODES: dict[int, dict[str, SensorMode]] = {
    IoType.TECHNIC_COLOR_SENSOR: {
        "colour": SensorMode(0, DatasetType(1, "b"), 1),
        "reflection": SensorMode(1, DatasetType(1, "b"), 1),
    },
    IoType.VISION_SENSOR: {
        "colour": SensorMode(0, DatasetType(1, "b"), 1),
        "reflection": SensorMode(3, DatasetType(1, "b"), 1),
    },
    IoType.TECHNIC_DISTANCE_SENSOR: {
        "distance": SensorMode(0, DatasetType(1, "h"), 5),
    },
}

#: LEGO's colour numbers (SetRgbColorNo, colour sensors' COLOR mode).
LEGO_COLOURS = {0: "black", 1: "pink", 2: "purple", 3: "blue", 4: "light_blue", 5: "cyan",
                6: "green", 7: "yellow", 8: "orange", 9: "red", 10: "white"}
#: A colour sensor's value when it recognises no colour.
NO_COLOUR = -1


def reading_port(attached: dict[int, int], reading: str) -> tuple[int, SensorMode] | None:
    """The port and mode that give ``reading`` among ``attached`` ({port: io type}), or None.

    The lowest port wins when several devices could give it.
    """
    for port in sorted(attached):
        mode = SENSOR_MODES.get(attached[port], {}).get(reading)
        if mode is not None:
            return port, mode
    return None

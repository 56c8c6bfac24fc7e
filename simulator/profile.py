"""Robot profiles: one TOML file per robot model.

A profile describes the physical robot (wheels, speed, where its sensors sit)
so that the simulated robot behaves like the real one in the classroom.
Units: cm, degrees, seconds, percent. Robot frame: x forward, y to the left.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROFILE_DIR = Path(__file__).with_name("profiles")


@dataclass(frozen=True)
class SensorPoint:
    x_cm: float
    y_cm: float


@dataclass(frozen=True)
class NoiseLevels:
    wheel_mismatch_sd: float = 0.0
    track_mismatch_sd: float = 0.0
    slip_sd: float = 0.0
    distance_sd_cm: float = 0.0
    distance_sd_fraction: float = 0.0
    reflection_sd_percent: float = 0.0
    heading_sd_deg: float = 0.0
    heading_drift_deg_per_min: float = 0.0


@dataclass(frozen=True)
class HubLayout:
    """How a LEGO drive base is built on its hub (the ``[hub]`` table of a lego-*.toml).

    Ports are the letters printed on the hub ("A".."D"). ``left_forward`` and
    ``right_forward`` are the sign of the motor speed that drives that wheel
    forward (+1 or -1: a motor mounted mirrored runs backward for forward).
    ``sensors`` is the standard build's sensors, ((port, "colour" | "distance"), ...);
    ``line_left``/``line_right`` are the ports of the colour sensors that
    ``robot.line()`` reads ("" when the build has none there).
    """

    hub_kind: str
    left_motor: str
    right_motor: str
    left_forward: int
    right_forward: int
    motor: str
    light_port: int
    line_left: str = ""
    line_right: str = ""
    sensors: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RobotProfile:
    id: str
    name: str
    radius_cm: float
    wheel_diameter_cm: float
    axle_track_cm: float
    top_speed_cm_s: float
    acceleration_cm_s2: float
    default_speed_percent: float
    telemetry_period_s: float
    distance_sensor: SensorPoint
    distance_min_cm: float
    distance_max_cm: float
    line_left: SensorPoint
    line_right: SensorPoint
    line_threshold_percent: float
    colour_sensor: SensorPoint
    bumper_half_angle_deg: float
    buzzer_min_hz: float
    buzzer_max_hz: float
    noise: NoiseLevels = field(default_factory=NoiseLevels)
    #: LEGO drive bases only: ports and motor directions on the hub.
    hub: HubLayout | None = None

    @property
    def counts_per_cm(self) -> float:
        return 360.0 / (3.141592653589793 * self.wheel_diameter_cm)


def _point(table: dict) -> SensorPoint:
    return SensorPoint(float(table["x_cm"]), float(table["y_cm"]))


def profile_from_dict(data: dict) -> RobotProfile:
    """Build a profile from parsed TOML data (raises KeyError on a missing field)."""
    drive = data["drive"]
    sensors = data["sensors"]
    return RobotProfile(
        id=data["id"],
        name=data.get("name", data["id"]),
        radius_cm=float(data["radius_cm"]),
        wheel_diameter_cm=float(drive["wheel_diameter_cm"]),
        axle_track_cm=float(drive["axle_track_cm"]),
        top_speed_cm_s=float(drive["top_speed_cm_s"]),
        acceleration_cm_s2=float(drive["acceleration_cm_s2"]),
        default_speed_percent=float(drive.get("default_speed_percent", 50)),
        telemetry_period_s=float(drive["telemetry_period_s"]),
        distance_sensor=_point(sensors["distance"]),
        distance_min_cm=float(sensors["distance"]["min_cm"]),
        distance_max_cm=float(sensors["distance"]["max_cm"]),
        line_left=_point(sensors["line"]["left"]),
        line_right=_point(sensors["line"]["right"]),
        line_threshold_percent=float(sensors["line"]["threshold_percent"]),
        colour_sensor=_point(sensors["colour"]),
        bumper_half_angle_deg=float(sensors["bumper"]["half_angle_deg"]),
        buzzer_min_hz=float(data["buzzer"]["min_hz"]),
        buzzer_max_hz=float(data["buzzer"]["max_hz"]),
        noise=NoiseLevels(**{k: float(v) for k, v in data.get("noise", {}).items()}),
        hub=_hub(data["hub"]) if "hub" in data else None,
    )


def _hub(table: dict) -> HubLayout:
    sign = {"left_forward": int(table["left_forward"]), "right_forward": int(table["right_forward"])}
    if any(value not in (1, -1) for value in sign.values()):
        raise ValueError("left_forward and right_forward are 1 or -1")
    return HubLayout(
        hub_kind=str(table["hub_kind"]), left_motor=str(table["left_motor"]).upper(),
        right_motor=str(table["right_motor"]).upper(), motor=str(table["motor"]),
        light_port=int(table["light_port"]), line_left=str(table.get("line_left", "")).upper(),
        line_right=str(table.get("line_right", "")).upper(),
        sensors=tuple((str(port).upper(), str(kind)) for port, kind in table.get("sensors", {}).items()),
        **sign)


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path = "classroom") -> RobotProfile:
    """Load a built-in profile by name, or a profile file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = PROFILE_DIR / f"{name_or_path}.toml"
    return _load(path.resolve(), path.stat().st_mtime_ns)


@lru_cache(maxsize=32)
def _load(path: Path, _mtime_ns: int) -> RobotProfile:
    # Profiles are frozen, so a world of 30 robots can share one parsed copy;
    # the modification time makes an edited file load afresh.
    with open(path, "rb") as f:
        return profile_from_dict(tomllib.load(f))

"""What RobotLab knows about the pupil: what the robot can sense and what was saved.

``what_is_stored()`` (Danish: ``hvad_er_gemt()``) looks, without changing
anything, at

1. the robot's sensors, read from the robot profile (one data file per robot
   model, ``simulator/profiles/classroom.toml``). Their readings live only in
   memory while the notebook runs; they reach a file only when the pupil
   records them;
2. every file RobotLab itself saved in the folder's ``eksperimenter``: the
   experiment logbooks (JSON Lines, one record per line, each with a
   timestamp) and the spreadsheets and web pages made from them;
3. the school's own page about personal data, when ``ROBOTLAB_PRIVACY_URL``
   is set (the school's JupyterHub sets it), and how to delete a file.

A broken or half-written file is listed as unreadable, never an error: this
is the place a pupil goes to see everything, so it must always answer.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import checks, settings
from .errors import RobotTypeError, RobotValueError
from .experiment import FOLDER, Experiment
from .i18n import language, message

PROFILE = "classroom"

#: Sensor (profile key) -> the robot methods that read it (English names), what it senses.
SENSORS = {
    "distance": (("distance",), "privacy_sensor_distance"),
    "line": (("line", "reflection"), "privacy_sensor_line"),
    "colour": (("color",), "privacy_sensor_colour"),
    "bumper": (("bumped",), "privacy_sensor_bumper"),
    "heading": (("heading",), "privacy_sensor_heading"),
    "odometer": (("odometer",), "privacy_sensor_odometer"),
}

#: File suffix -> kind, for the files RobotLab writes (Experiment, to_csv, to_html).
KINDS = {".jsonl": "logbook", ".csv": "spreadsheet", ".html": "webpage"}
KIND_TEXTS = {"logbook": "privacy_kind_logbook", "spreadsheet": "privacy_kind_spreadsheet",
              "webpage": "privacy_kind_webpage", "other": "privacy_kind_other"}

#: Keys of a logbook record that hold named values; their names are listed instead.
CONTAINERS = ("conditions", "measurements")


@dataclass(frozen=True)
class Sensor:
    """One sensor of the robot: its name in the profile, its kind and how a pupil reads it."""

    name: str                       # e.g. "distance"
    kind: str | None                # e.g. "ultrasonic" (None when the profile does not say)
    calls: tuple[str, ...]          # the English method names, e.g. ("distance",)

    def what(self, lang: str | None = None) -> str:
        """What the sensor senses, in the pupil's words."""
        if self.name not in SENSORS:
            return message("privacy_sensor_other", lang=lang, kind=self.kind or self.name)
        return message(SENSORS[self.name][1], lang=lang)

    def shown_calls(self, lang: str | None = None) -> list[str]:
        """The calls that read it, in the pupil's language: ``robot.afstand()``."""
        from .robot import DANISH
        lang = lang or language()
        return [f"robot.{DANISH[name][0] if lang == 'da' else name}()" for name in self.calls]

    # Danish names for the same attributes.
    navn = property(lambda self: self.name)
    slags = property(lambda self: self.kind)
    hvad = property(lambda self: self.what())


@dataclass(frozen=True)
class StoredFile:
    """One file RobotLab saved: where, what kind, how big, and what it holds.

    ``records`` is the number of things written down (for a logbook: its
    lines; for a spreadsheet: its rows), ``fields`` the names of what is
    stored in them, and ``first_time``/``last_time`` the first and last
    timestamp in the file. None where the file has no such thing or cannot
    be read (then ``readable`` is False).
    """

    path: Path                      # relative to the folder that was looked in
    kind: str                       # "logbook", "spreadsheet", "webpage" or "other"
    size_bytes: int
    records: int | None = None
    fields: tuple[str, ...] = ()
    first_time: _dt.datetime | None = None
    last_time: _dt.datetime | None = None
    readable: bool = True
    damaged_lines: int = 0          # lines cut off by a crash or broken

    # Danish names for the same attributes.
    sti = property(lambda self: self.path)
    slags = property(lambda self: self.kind)
    størrelse_bytes = property(lambda self: self.size_bytes)
    poster = property(lambda self: self.records)
    felter = property(lambda self: self.fields)
    første_tid = property(lambda self: self.first_time)
    sidste_tid = property(lambda self: self.last_time)
    læsbar = property(lambda self: self.readable)
    ødelagte_linjer = property(lambda self: self.damaged_lines)


def _time(text) -> _dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.timezone.utc)


def _add(names: list[str], name) -> None:
    if isinstance(name, str) and name not in names:
        names.append(name)


def _read_logbook(path: Path, shown: Path, size: int) -> StoredFile:
    records, damaged, names, times = 0, 0, [], []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    event = json.loads(line) if line.endswith("\n") else None
                except json.JSONDecodeError:
                    event = None
                if not isinstance(event, dict):
                    damaged += 1
                    continue
                records += 1
                for key, value in event.items():
                    if key in CONTAINERS and isinstance(value, dict):
                        for name in value:
                            _add(names, name)
                    else:
                        _add(names, key)
                moment = _time(event.get("time"))
                if moment is not None:
                    times.append(moment)
    except (OSError, UnicodeDecodeError):
        return StoredFile(shown, "logbook", size, readable=False)
    if size and not records:
        return StoredFile(shown, "logbook", size, readable=False, damaged_lines=damaged)
    return StoredFile(shown, "logbook", size, records, tuple(names),
                      min(times) if times else None, max(times) if times else None,
                      damaged_lines=damaged)


def _read_spreadsheet(path: Path, shown: Path, size: int) -> StoredFile:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return StoredFile(shown, "spreadsheet", size, readable=False)
    header = rows[0] if rows else []
    return StoredFile(shown, "spreadsheet", size, max(0, len(rows) - 1),
                      tuple(name for name in header if name))


def _stored_file(path: Path, folder: Path) -> StoredFile:
    try:
        shown = path.relative_to(folder)
    except ValueError:
        shown = path
    try:
        size = path.stat().st_size
    except OSError:
        return StoredFile(shown, KINDS.get(path.suffix, "other"), 0, readable=False)
    kind = KINDS.get(path.suffix, "other")
    if kind == "logbook":
        return _read_logbook(path, shown, size)
    if kind == "spreadsheet":
        return _read_spreadsheet(path, shown, size)
    return StoredFile(shown, kind, size)


def _sensors(profile: str = PROFILE) -> list[Sensor]:
    from simulator.profile import PROFILE_DIR
    with open(PROFILE_DIR / f"{profile}.toml", "rb") as f:
        table = tomllib.load(f).get("sensors", {})
    return [Sensor(name, settings.get("kind") if isinstance(settings, dict) else None,
                   SENSORS[name][0] if name in SENSORS else ())
            for name, settings in table.items()]


def _profile_name(profile: str = PROFILE) -> str:
    from simulator.profile import load_profile
    return load_profile(profile).name


@dataclass(frozen=True)
class Stored:
    """What RobotLab knows about you: the robot's sensors and the files it saved.

    Shown in a notebook as a page in the pupil's language; for code:
    ``sensors``, ``files``, ``folder``, ``privacy_url`` and ``file(...)``.
    """

    folder: Path
    sensors: tuple[Sensor, ...]
    files: tuple[StoredFile, ...]
    privacy_url: str | None = None
    profile_name: str = field(default="", repr=False)

    # Danish names for the same attributes.
    mappe = property(lambda self: self.folder)
    sensorer = property(lambda self: self.sensors)
    filer = property(lambda self: self.files)
    persondataside = property(lambda self: self.privacy_url)

    def file(self, which) -> StoredFile:
        """The listed file of an experiment (``file(exp)``) or with this path.

        Example: ``stored.file(exp).records``.
        """
        __tracebackhide__ = True  # noqa: F841
        return self._file(which, "file")

    def fil(self, hvilken) -> StoredFile:
        """Den fil, et eksperiment er gemt i (``fil(eks)``), eller filen med denne sti.

        Eksempel: ``gemt.fil(eks).poster``.
        """
        __tracebackhide__ = True  # noqa: F841
        return self._file(hvilken, "fil")

    def _file(self, which, name: str) -> StoredFile:
        variable, experiment = ("gemt", "eks") if name == "fil" else ("stored", "exp")
        example = f"{variable}.{name}({experiment})"
        if isinstance(which, Experiment):
            wanted = which.path
        elif isinstance(which, (str, os.PathLike)):
            wanted = Path(which)
        else:
            raise RobotTypeError("privacy_which_file", call=f"{variable}.{name}()",
                                 got=checks.describe(which), example=example)
        if wanted is not None:
            for stored in self.files:
                if _same(wanted, self.folder / stored.path) or Path(wanted) == stored.path:
                    return stored
        raise RobotValueError("privacy_not_listed", path=str(wanted), folder=str(self.folder),
                              example=example)

    # -- showing it ---------------------------------------------------------------------
    def _delete_code(self) -> str:
        target = self.files[0].path if self.files else Path(FOLDER) / "..."
        return f'import os; os.remove("{target.as_posix()}")'

    def _repr_html_(self) -> str:
        lang = language()
        t = lambda key, **p: html.escape(message(key, lang=lang, **p))  # noqa: E731
        parts = [f'<div class="robotlab-privacy"><h3>{t("privacy_title")}</h3>',
                 f"<h4>{t('privacy_sensors_heading', robot=self.profile_name)}</h4><ul>"]
        for sensor in self.sensors:
            calls = ", ".join(f"<code>{html.escape(c)}</code>" for c in sensor.shown_calls(lang))
            parts.append(f"<li><b>{calls or html.escape(sensor.name)}</b>: "
                         f"{html.escape(sensor.what(lang))}</li>")
        parts.append(f"</ul><p>{t('privacy_sensors_memory')}</p>")
        parts.append(f"<h4>{t('privacy_files_heading', folder=str(self.folder))}</h4>")
        if not self.files:
            parts.append(f"<p>{t('privacy_no_files')}</p>")
        else:
            columns = ("privacy_col_file", "privacy_col_kind", "privacy_col_size",
                       "privacy_col_records", "privacy_col_fields", "privacy_col_first",
                       "privacy_col_last")
            parts.append('<table class="robotlab-table"><tr>' +
                         "".join(f"<th>{t(c)}</th>" for c in columns) + "</tr>")
            for row in self._rows(lang):
                parts.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>")
            parts.append("</table>")
        parts.append(f"<h4>{t('privacy_who_heading')}</h4><p>{t('privacy_server_note')}</p>")
        if self.privacy_url:
            link = (f'<a href="{html.escape(self.privacy_url, quote=True)}" target="_blank" '
                    f'rel="noopener">{html.escape(self.privacy_url)}</a>')
            parts.append(f"<p>{_with_markup(t('privacy_page', link=MARK), link)}</p>")
        else:
            parts.append(f"<p>{t('privacy_no_page')}</p>")
        code = f"<code>{html.escape(self._delete_code())}</code>"
        parts.append(f"<h4>{t('privacy_delete_heading')}</h4>"
                     f"<p>{_with_markup(t('privacy_delete', code=MARK), code)}</p></div>")
        return "".join(parts)

    def _rows(self, lang: str) -> list[list[str]]:
        rows = []
        for stored in self.files:
            kind = message(KIND_TEXTS[stored.kind], lang=lang)
            if not stored.readable:
                kind += " – " + message("privacy_unreadable", lang=lang)
            elif stored.damaged_lines:
                kind += " – " + message("privacy_damaged_lines", lang=lang,
                                        count=stored.damaged_lines)
            rows.append([stored.path.as_posix(), kind, str(stored.size_bytes),
                         "" if stored.records is None else str(stored.records),
                         ", ".join(stored.fields), _shown_time(stored.first_time),
                         _shown_time(stored.last_time)])
        return rows

    def __repr__(self) -> str:
        lang = language()
        lines = [message("privacy_title", lang=lang), "",
                 message("privacy_sensors_heading", lang=lang, robot=self.profile_name)]
        for sensor in self.sensors:
            lines.append(f"  - {', '.join(sensor.shown_calls(lang)) or sensor.name}: "
                         f"{sensor.what(lang)}")
        lines += [message("privacy_sensors_memory", lang=lang), "",
                  message("privacy_files_heading", lang=lang, folder=str(self.folder))]
        if not self.files:
            lines.append("  " + message("privacy_no_files", lang=lang))
        names = [message(c, lang=lang) for c in ("privacy_col_kind", "privacy_col_size",
                                                  "privacy_col_records", "privacy_col_fields",
                                                  "privacy_col_first", "privacy_col_last")]
        for row in self._rows(lang):
            lines.append(f"  - {row[0]}")
            lines += [f"      {name}: {value}" for name, value in zip(names, row[1:]) if value]
        lines += ["", message("privacy_who_heading", lang=lang),
                  message("privacy_server_note", lang=lang),
                  message("privacy_page", lang=lang, link=self.privacy_url) if self.privacy_url
                  else message("privacy_no_page", lang=lang),
                  "", message("privacy_delete_heading", lang=lang),
                  message("privacy_delete", lang=lang, code=self._delete_code())]
        return "\n".join(lines)

    __str__ = __repr__


#: Stands in for markup in a message until the message itself has been escaped.
MARK = "\x00"


def _with_markup(escaped: str, markup: str) -> str:
    return escaped.replace(MARK, markup)


def _same(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _shown_time(moment: _dt.datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment is not None else ""


def what_is_stored(folder=".") -> Stored:
    """What RobotLab knows about you: the robot's sensors, and every file it saved here.

    ``folder`` is the notebook's folder (its ``eksperimenter`` folder is
    looked in). Nothing is changed. Show the result in a cell to read it, or
    use ``.files``: each has ``path``, ``kind``, ``size_bytes``, ``records``,
    ``fields``, ``first_time`` and ``last_time``.

    Example: ``what_is_stored()`` or ``what_is_stored().file(exp).records``.
    """
    __tracebackhide__ = True  # noqa: F841
    return _look(folder, call="what_is_stored()", param="folder",
                 example='what_is_stored(".")')


def hvad_er_gemt(mappe=".") -> Stored:
    """Hvad RobotLab ved om dig: robottens sensorer og hver fil, den har gemt her.

    ``mappe`` er notesbogens mappe (dens mappe ``eksperimenter`` bliver set
    igennem). Intet bliver ændret. Vis resultatet i en celle for at læse det,
    eller brug ``.filer``: hver har ``sti``, ``slags``, ``størrelse_bytes``,
    ``poster``, ``felter``, ``første_tid`` og ``sidste_tid``.

    Eksempel: ``hvad_er_gemt()`` eller ``hvad_er_gemt().fil(eks).poster``.
    """
    __tracebackhide__ = True  # noqa: F841
    return _look(mappe, call="hvad_er_gemt()", param="mappe", example='hvad_er_gemt(".")')


def _look(folder, *, call: str, param: str, example: str) -> Stored:
    if not isinstance(folder, (str, os.PathLike)) or isinstance(folder, bool):
        raise RobotTypeError("name_expected", call=call, param=param,
                             got=checks.describe(folder), example=example)
    folder = Path(folder).resolve()
    # The notebook's folder holds "eksperimenter"; a pupil may also name that folder itself.
    where = folder / FOLDER if (folder / FOLDER).is_dir() or folder.name != FOLDER else folder
    files = []
    if where.is_dir():
        try:
            paths = sorted(p for p in where.iterdir() if not p.is_dir())
        except OSError:
            paths = []
        files = [_stored_file(p, folder) for p in paths]
    url = settings.privacy_url()
    return Stored(folder, tuple(_sensors()), tuple(files), url, _profile_name())


__all__ = ["what_is_stored", "hvad_er_gemt", "Stored", "StoredFile", "Sensor"]

"""nbgrader courses on the hub: the exchange folders that keep pupils apart.

    python -m robotlab_hub.courses prepare 7a --teacher laerer01 --pupils 7a

makes (as root) the course's folders in the exchange (``/srv/nbgrader/exchange`` unless
``--root``), see ``exchange.py`` for why each has the owner and mode it has:

    <root>/                  root        0755   only this script makes courses
    <root>/7a/               teacher     2775   group: the course's teachers
    <root>/7a/outbound/      teacher     2775   released lessons, readable by all
    <root>/7a/inbound/       root        2751   teachers list it, pupils pass through
    <root>/7a/inbound/elev01 elev01      2750   only elev01 writes; teachers read
    <root>/7a/feedback/      teacher     2751   teachers list it, pupils pass through
    <root>/7a/feedback/elev01 elev01     2770   teachers write; only elev01 reads

The teachers' Unix group is ``formgrade-<course>`` (made when missing; the teacher joins
it), the same name as the hub group nbgrader's formgrader uses. Run it again when pupils
join the class: existing folders are put right, nothing is deleted.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import subprocess
import sys
from pathlib import Path

from .users import HubError, _needs_root

DEFAULT_ROOT = "/srv/nbgrader/exchange"


def graders_group(course_id: str) -> str:
    """The Unix (and hub) group of a course's teachers. Example: ``"formgrade-7a"``."""
    return f"formgrade-{course_id}"


def _folder(path: Path, owner: str, group: str, mode: int) -> None:
    path.mkdir(exist_ok=True)
    os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)
    os.chmod(path, mode)


def members(group: str) -> list[str]:
    """The Unix users in ``group`` (as supplementary or primary group), sorted."""
    entry = grp.getgrnam(group)
    primary = [user.pw_name for user in pwd.getpwall() if user.pw_gid == entry.gr_gid]
    return sorted(set(entry.gr_mem) | set(primary))


def prepare_exchange(course_id: str, *, teacher: str, pupils: list[str],
                     root=DEFAULT_ROOT) -> Path:
    """Make (or put right) a course's exchange folders; returns the course's folder.

    Example: ``prepare_exchange("7a", teacher="laerer01", pupils=members("7a"))``.
    """
    _needs_root(f"python -m robotlab_hub.courses prepare {course_id} --teacher {teacher}")
    for name in [teacher, *pupils]:
        try:
            pwd.getpwnam(name)
        except KeyError:
            raise HubError("hub_bad_username", id=name) from None
    group = graders_group(course_id)
    try:
        grp.getgrnam(group)
    except KeyError:
        subprocess.run(["groupadd", group], check=True, capture_output=True)
    subprocess.run(["usermod", "--append", "--groups", group, teacher], check=True,
                   capture_output=True)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    course = root / course_id
    _folder(course, teacher, group, 0o2775)
    _folder(course / "outbound", teacher, group, 0o2775)
    _folder(course / "inbound", "root", group, 0o2751)
    _folder(course / "feedback", teacher, group, 0o2751)
    for pupil in pupils:
        _folder(course / "inbound" / pupil, pupil, group, 0o2750)
        _folder(course / "feedback" / pupil, pupil, group, 0o2770)
    return course


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robotlab_hub.courses",
                                     description="nbgrader exchange folders for a course.")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="make the course's exchange folders")
    prepare.add_argument("course")
    prepare.add_argument("--teacher", required=True)
    prepare.add_argument("--pupils", required=True, help="the Unix group of the class's pupils")
    prepare.add_argument("--root", default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    try:
        pupils = [name for name in members(args.pupils) if name != args.teacher]
        prepare_exchange(args.course, teacher=args.teacher, pupils=pupils, root=args.root)
    except HubError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One Unix account per pupil, made from the class's pupil list (the roster).

    python -m robotlab_hub.users add elever.csv --passwords /root/7a-koder.csv
    python -m robotlab_hub.users add laerere.csv --teacher
    python -m robotlab_hub.users remove elev07

The roster is the same CSV file a teacher gives ``robotlab course add-pupils``
(``grading.course.read_roster``: an ``elev``/``id`` column, Danish or English headers,
``;`` or ``,``). Each pupil gets a Unix user of that name in one group (``robotlab``),
which is the group the hub lets log in with a local account, and a home folder only
the pupil can open (mode 0700: Debian's ``useradd`` would make it readable by all).
New accounts get a generated password, written to a file only root can read.

An existing user outside the group (``root``, a staff account) is never changed.
"""

from __future__ import annotations

import argparse
import csv
import grp
import os
import pwd
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from grading.course import CourseError, read_roster
from robotlab.i18n import message

#: Unix user names JupyterHub and Debian both accept (``adduser``'s default NAME_REGEX).
USERNAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: Password letters without look-alikes (l/1, o/0) for pupils typing from a paper slip.
LETTERS = "abcdefghjkmnpqrstuvwxyz"
DIGITS = "23456789"


class HubError(Exception):
    """A school admin's command that cannot be done; ``str()`` is the friendly message.

    Example::

        try:
            add_accounts("elever.csv")
        except HubError as error:
            print(error)        # "elev 7 fra elevlisten kan ikke bruges som brugernavn ..."
    """

    def __init__(self, key: str, **params):
        self.key, self.params = key, params
        super().__init__(message(key, **params))


@dataclass(frozen=True)
class Added:
    """What ``add_accounts`` did: the new accounts with their passwords, and the existing ones."""

    new: dict[str, str]          # user name -> password
    existing: tuple[str, ...]
    group: str


def user_name(pupil_id: str, prefix: str = "") -> str:
    """The Unix user name for a roster id: lower case, checked.

    Example: ``user_name("Elev01")`` -> ``"elev01"``; ``user_name("7", prefix="e")`` -> ``"e7"``.
    """
    name = (prefix + pupil_id.strip()).lower()
    if not USERNAME.match(name):
        raise HubError("hub_bad_username", id=pupil_id)
    return name


def new_password() -> str:
    """A password a pupil of 11 can type: four letters, a dash, four digits (~30 bits).

    Example: ``new_password()`` -> ``"kemt-4829"``.
    """
    return ("".join(secrets.choice(LETTERS) for _ in range(4)) + "-" +
            "".join(secrets.choice(DIGITS) for _ in range(4)))


def _needs_root(command: str) -> None:
    if os.geteuid() != 0:
        raise HubError("hub_needs_root", command=command)


def _run(*args: str, stdin: str | None = None) -> None:
    subprocess.run(args, input=stdin, text=True, check=True, capture_output=True)


def _in_group(name: str, group: str) -> bool:
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return False
    return name in entry.gr_mem or pwd.getpwnam(name).pw_gid == entry.gr_gid


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def add_accounts(roster, *, group: str = "robotlab", prefix: str = "",
                 extra_groups: tuple[str, ...] = ()) -> Added:
    """Make a Unix account for every pupil in ``roster`` (a CSV path) who has none yet.

    The whole list is checked before anything is made. Existing accounts in ``group``
    are kept (their passwords too) and their homes closed to others (0700).
    ``extra_groups`` are more Unix groups to join (made when missing).

    Example: ``add_accounts("7a.csv").new`` -> ``{"elev01": "kemt-4829", ...}``.
    """
    _needs_root("python -m robotlab_hub.users add " + str(roster))
    names = [user_name(pupil["id"], prefix) for pupil in read_roster(roster)]
    for name in names:
        if _exists(name) and not _in_group(name, group):
            raise HubError("hub_user_not_ours", name=name, group=group)
    for wanted in (group, *extra_groups):
        try:
            grp.getgrnam(wanted)
        except KeyError:
            _run("groupadd", wanted)
    new, existing = {}, []
    for name in names:
        if _exists(name):
            existing.append(name)
        else:
            _run("useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name)
            password = new_password()
            _run("chpasswd", stdin=f"{name}:{password}\n")
            new[name] = password
        for extra in extra_groups:
            _run("usermod", "--append", "--groups", extra, name)
        os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    return Added(new, tuple(existing), group)


def write_passwords(added: Added, path) -> Path:
    """Write the new accounts' passwords as ``brugernavn;adgangskode`` lines, readable by root only.

    Example: ``write_passwords(add_accounts("7a.csv"), "/root/7a-koder.csv")``.
    """
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["brugernavn", "adgangskode"])
        writer.writerows(sorted(added.new.items()))
    os.chmod(path, 0o600)
    return path


def remove_account(name: str, *, group: str = "robotlab") -> None:
    """Delete a pupil's Unix account and home folder (a pupil who left; see privacy.py
    for the whole deletion, hub record and nbgrader data included).

    Example: ``remove_account("elev07")``.
    """
    _needs_root(f"python -m robotlab_hub.users remove {name}")
    if not _exists(name):
        return
    if not _in_group(name, group):
        raise HubError("hub_user_not_ours", name=name, group=group)
    _run("userdel", "--remove", name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robotlab_hub.users",
                                     description="Unix accounts for the hub from a pupil list.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="make accounts for every pupil in a CSV roster")
    add.add_argument("roster")
    add.add_argument("--group", default="robotlab")
    add.add_argument("--prefix", default="")
    add.add_argument("--passwords", default=None,
                     help="where to write the new passwords (default: <roster>-adgangskoder.csv)")
    remove = commands.add_parser("remove", help="delete accounts and their home folders")
    remove.add_argument("names", nargs="+")
    remove.add_argument("--group", default="robotlab")
    args = parser.parse_args(argv)
    try:
        if args.command == "add":
            added = add_accounts(args.roster, group=args.group, prefix=args.prefix)
            print(message("hub_users_done", new=len(added.new), existing=len(added.existing),
                          group=added.group))
            if added.new:
                target = args.passwords or str(Path(args.roster).with_suffix("")) + \
                    "-adgangskoder.csv"
                print(message("hub_passwords_written", path=write_passwords(added, target)))
        else:
            for name in args.names:
                remove_account(name, group=args.group)
    except (HubError, CourseError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Logging in with the school's accounts: UNI-Login or Google Workspace (OpenID Connect).

``login = "unilogin"`` or ``login = "google"`` in the settings chooses one; ``"local"``
keeps PAM (Unix passwords from the roster script). Both OpenID Connect logins still give
every person a Unix account on the server (made at first login, in ``unix_group``, home
0700), because each pupil's server runs as its own Unix user.

Roles come from the identity provider, so no one keeps lists by hand:

* UNI-Login (STIL's OIDC broker): the claim ``aktoer_gruppe`` is ``Medarbejder`` for staff
  and ``Elev`` for pupils -> hub groups ``teachers`` and ``pupils``; the user name is
  ``u`` + the ``uniid`` claim (a uniid may start with a digit, a Unix name may not).
* Google Workspace: only the school's domain (``google_domain``) may log in; the user name
  is the address before ``@``; members of ``google_teachers_group`` (read with the
  Workspace admin API, which needs a service account) are teachers, all others pupils.

Teachers of a course (``[courses.X] teacher``) also get ``formgrade-X``; members of a
course's ``pupils`` group get ``nbgrader-X`` (the groups the formgrader needs).
"""

from __future__ import annotations

from pathlib import Path

from oauthenticator.generic import LocalGenericOAuthenticator
from oauthenticator.google import LocalGoogleOAuthenticator

from .settings import HubSettings

#: The hub groups whose members may log in with OpenID Connect.
SCHOOL_GROUPS = {"teachers", "pupils"}


class _SchoolMixin:
    """Let in whom the identity provider's answer puts in ``teachers`` or ``pupils``.

    (``LocalAuthenticator`` reads ``allowed_groups`` as Unix groups, which a pupil logging
    in for the first time is not in yet; so the hub groups are checked here instead.)
    """

    async def check_allowed(self, username, auth_model=None):
        if username in self.admin_users:
            return True
        return bool(set((auth_model or {}).get("groups") or ()) & SCHOOL_GROUPS)


class UniLoginAuthenticator(_SchoolMixin, LocalGenericOAuthenticator):
    """UNI-Login through STIL's OpenID Connect broker, with a Unix account per person."""


class GoogleWorkspaceAuthenticator(_SchoolMixin, LocalGoogleOAuthenticator):
    """Google Workspace (the school's domain only), with a Unix account per person."""

UNILOGIN_BROKERS = {
    "production": "https://broker.unilogin.dk/auth/realms/broker/protocol/openid-connect",
    "test": "https://et-broker.unilogin.dk/auth/realms/broker/protocol/openid-connect",
}
#: UNI-Login's ``aktoer_gruppe`` -> the hub group.
UNILOGIN_ROLES = {"Medarbejder": "teachers", "Elev": "pupils"}


def unilogin_username(uniid: str) -> str:
    """The Unix user name for a UNI-Login ``uniid``. Example: ``"1000013b36"`` -> ``"u1000013b36"``."""
    return "u" + uniid.strip().lower()


def course_groups(name: str, role: str, settings: HubSettings) -> list[str]:
    """The nbgrader groups of ``name``: formgrade-X where they teach, nbgrader-X for pupils."""
    from .courses import members
    groups = []
    for course in settings.courses:
        if course.teacher == name:
            groups.append(f"formgrade-{course.id}")
        elif role == "pupils" and course.pupils:
            try:
                if name in members(course.pupils):
                    groups.append(f"nbgrader-{course.id}")
            except KeyError:
                pass
    return groups


def unilogin_groups(settings: HubSettings):
    """The function that turns UNI-Login's answer (the auth state) into hub groups."""
    def groups(auth_state: dict) -> list[str]:
        user = auth_state.get("oauth_user") or {}
        role = UNILOGIN_ROLES.get(user.get("aktoer_gruppe", ""))
        if role is None:
            return []       # Ekstern, Kontaktperson: not allowed in (allowed_groups)
        return [role, *course_groups(unilogin_username(user["uniid"]), role, settings)]
    return groups


def google_groups(settings: HubSettings):
    """Google's answer -> hub groups: teachers by Workspace group, everyone else a pupil."""
    def groups(auth_state: dict) -> list[str]:
        user = auth_state.get("google_user") or {}
        name = user.get("email", "").split("@")[0].lower()
        in_google = set(auth_state.get("google_groups") or ())
        role = "teachers" if (settings.google_teachers_group in in_google or
                              name in settings.teachers) else "pupils"
        return [role, *course_groups(name, role, settings)]
    return groups


def _secret(settings: HubSettings) -> str:
    return Path(settings.oidc_client_secret_file).read_text().strip()


def _local_accounts(c, settings: HubSettings) -> None:
    """Unix accounts made at first login, like the roster script makes them."""
    c.LocalAuthenticator.create_system_users = True
    c.LocalAuthenticator.add_user_cmd = ["useradd", "--create-home", "--shell", "/bin/bash",
                                         "--groups", settings.unix_group,
                                         "-K", "HOME_MODE=0700"]


def configure_login(c, settings: HubSettings) -> None:
    """Fill the authenticator's part of JupyterHub's config ``c`` for ``settings.login``.

    Example: ``configure_login(c, HubSettings(login="unilogin", oidc_client_id="...",
    oidc_client_secret_file="/etc/robotlab/oidc-secret", public_url="https://hub.skole.dk"))``.
    """
    if settings.login == "local":
        c.JupyterHub.authenticator_class = "pam"
        # Only accounts made by the roster script (robotlab_hub.users), never root or
        # system accounts.
        c.PAMAuthenticator.allowed_groups = {settings.unix_group}
        c.PAMAuthenticator.open_sessions = False
        return
    callback = settings.public_url.rstrip("/") + "/hub/oauth_callback"
    c.Authenticator.manage_groups = True
    c.Authenticator.enable_auth_state = True
    if settings.login == "unilogin":
        broker = UNILOGIN_BROKERS[settings.unilogin_environment]
        c.JupyterHub.authenticator_class = UniLoginAuthenticator
        c.GenericOAuthenticator.login_service = "UNI-Login"
        c.GenericOAuthenticator.client_id = settings.oidc_client_id
        c.GenericOAuthenticator.client_secret = _secret(settings)
        c.GenericOAuthenticator.oauth_callback_url = callback
        c.GenericOAuthenticator.authorize_url = broker + "/auth"
        c.GenericOAuthenticator.token_url = broker + "/token"
        c.GenericOAuthenticator.userdata_url = broker + "/userinfo"
        c.GenericOAuthenticator.scope = ["openid"]
        c.GenericOAuthenticator.enable_pkce = True
        c.GenericOAuthenticator.username_claim = lambda user: unilogin_username(user["uniid"])
        c.GenericOAuthenticator.auth_state_groups_key = unilogin_groups(settings)
        c.GenericOAuthenticator.manage_groups = True
    elif settings.login == "google":
        c.JupyterHub.authenticator_class = GoogleWorkspaceAuthenticator
        c.GoogleOAuthenticator.login_service = "Google Workspace"
        c.GoogleOAuthenticator.client_id = settings.oidc_client_id
        c.GoogleOAuthenticator.client_secret = _secret(settings)
        c.GoogleOAuthenticator.oauth_callback_url = callback
        c.GoogleOAuthenticator.hosted_domain = [settings.google_domain]
        c.GoogleOAuthenticator.strip_domain = True
        c.GoogleOAuthenticator.manage_groups = True
        c.GoogleOAuthenticator.auth_state_groups_key = google_groups(settings)
        if settings.google_service_account_file and settings.google_teachers_group:
            # Reading a user's Workspace groups needs a service account with domain-wide
            # delegation and an administrator to act as.
            c.GoogleOAuthenticator.google_service_account_keys = {
                settings.google_domain: settings.google_service_account_file}
            c.GoogleOAuthenticator.gsuite_administrator = {
                settings.google_domain: settings.google_admin_email}
            c.GoogleOAuthenticator.allowed_google_groups = {
                settings.google_domain: [settings.google_teachers_group]}
    _local_accounts(c, settings)

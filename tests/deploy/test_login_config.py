"""UNI-Login and Google Workspace logins, built from the settings file without network:
the configuration is built, oauthenticator's own classes are made from it, and the role
mapping is run on answers shaped like the providers'."""

import asyncio
from pathlib import Path

import pytest
from traitlets.config import Config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

from robotlab_hub.auth import GoogleWorkspaceAuthenticator, UniLoginAuthenticator  # noqa: E402
from robotlab_hub.config import configure  # noqa: E402
from robotlab_hub.settings import Course, load  # noqa: E402


def settings_file(tmp_path, login: str, extra: str = ""):
    secret = tmp_path / "oidc-secret"
    secret.write_text("hemmelig\n")
    path = tmp_path / "hub.toml"
    path.write_text(f'[hub]\nlogin = "{login}"\npublic_url = "https://hub.skole.dk"\n'
                    f'oidc_client_id = "robotlab-skole"\noidc_client_secret_file = "{secret}"\n'
                    f'state_dir = "{tmp_path / "state"}"\n{extra}\n'
                    '[courses.7a]\nteacher = "u1000013b36"\ndirectory = "/home/l/7a"\n',
                    encoding="utf-8")
    return load(path)


def built(settings) -> Config:
    c = Config()
    configure(c, settings)
    return c


def test_unilogin_maps_staff_to_teachers_and_pupils_to_pupils(tmp_path):
    settings = settings_file(tmp_path, "unilogin")
    c = built(settings)
    assert c.JupyterHub.authenticator_class is UniLoginAuthenticator
    auth = UniLoginAuthenticator(config=c)
    assert auth.authorize_url == \
        "https://broker.unilogin.dk/auth/realms/broker/protocol/openid-connect/auth"
    assert auth.token_url.endswith("/openid-connect/token")
    assert auth.client_secret == "hemmelig" and auth.client_id == "robotlab-skole"
    assert auth.oauth_callback_url == "https://hub.skole.dk/hub/oauth_callback"
    assert auth.manage_groups
    assert auth.create_system_users and "HOME_MODE=0700" in auth.add_user_cmd
    assert auth.user_info_to_username({"uniid": "1000013B36"}) == "u1000013b36"
    groups = auth.auth_state_groups_key
    teacher = {"oauth_user": {"uniid": "1000013b36", "aktoer_gruppe": "Medarbejder"}}
    pupil = {"oauth_user": {"uniid": "henr276q", "aktoer_gruppe": "Elev"}}
    parent = {"oauth_user": {"uniid": "x1", "aktoer_gruppe": "Kontaktperson"}}
    assert groups(teacher) == ["teachers", "formgrade-7a"]
    assert groups(pupil) == ["pupils"]
    assert groups(parent) == []
    # The hub decides with the groups: a parent is not let in.
    assert asyncio.run(auth.check_allowed("ux1", {"name": "ux1", "groups": groups(parent)})) \
        is False
    assert asyncio.run(auth.check_allowed("uhenr276q", {"name": "uhenr276q",
                                                        "groups": groups(pupil)})) is True
    assert built(settings_file(tmp_path, "unilogin", 'unilogin_environment = "test"')) \
        .GenericOAuthenticator.authorize_url.startswith("https://et-broker.unilogin.dk/")


def test_google_workspace_lets_in_the_schools_domain_with_teachers_by_group(tmp_path):
    settings = settings_file(tmp_path, "google",
                             'google_domain = "skole.dk"\n'
                             'google_teachers_group = "laerere@skole.dk"\n'
                             f'google_service_account_file = "{tmp_path / "key.json"}"\n'
                             'google_admin_email = "it@skole.dk"')
    c = built(settings)
    assert c.JupyterHub.authenticator_class is GoogleWorkspaceAuthenticator
    auth = GoogleWorkspaceAuthenticator(config=c)
    assert auth.hosted_domain == ["skole.dk"] and auth.strip_domain
    assert auth.allowed_google_groups == {"skole.dk": {"laerere@skole.dk"}}
    assert auth.gsuite_administrator == {"skole.dk": "it@skole.dk"}
    groups = auth.auth_state_groups_key
    assert groups({"google_user": {"email": "Ole@skole.dk"},
                   "google_groups": ["laerere@skole.dk"]}) == ["teachers"]
    assert groups({"google_user": {"email": "elev7@skole.dk"}, "google_groups": []}) \
        == ["pupils"]
    # Without a service account, the teachers list in the settings says who teaches.
    plain = settings_file(tmp_path, "google", 'google_domain = "skole.dk"\nteachers = ["ole"]')
    auth = GoogleWorkspaceAuthenticator(config=built(plain))
    assert auth.auth_state_groups_key({"google_user": {"email": "ole@skole.dk"}}) == ["teachers"]


def test_oidc_needs_an_address_and_a_client(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text('[hub]\nlogin = "unilogin"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="needs public_url and oidc_client_id"):
        load(path)
    path.write_text('[hub]\nlogin = "google"\npublic_url = "https://h"\n'
                    'oidc_client_id = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="needs google_domain"):
        load(path)
    assert Course("7a", "l", "/d").formgrader_port == 0

"""The privacy page: a hub service at ``/services/privacy/`` that shows each person what the
server stores about *them* (``privacy.collect``), in the hub's language.

It takes no name: the page is always about whoever the hub's OAuth says is logged in, so
pupil B has no way to ask for A's page. Started by the hub (``config.configure``) as a
managed service, as root, with a token that may only read users; the pupil's files are
looked up as the pupil (``privacy.files_of``). Every pupil's kernel gets its address as
``ROBOTLAB_PRIVACY_URL``, which ``hvad_er_gemt()`` links to.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import secrets
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from robotlab.i18n import message

from .privacy import HubAPI, collect
from .settings import HubSettings, load

#: The service's name on the hub (its page is /services/privacy/).
NAME = "privacy"


class PrivacyPage(HubOAuthenticated, web.RequestHandler):
    """``GET /services/privacy/``: the logged-in person's data; ``?format=json`` as JSON."""

    def initialize(self, settings: HubSettings, api: HubAPI):
        self.hub_settings, self.api = settings, api

    @web.authenticated
    async def get(self):
        name = self.get_current_user()["name"]
        record = await asyncio.to_thread(collect, name, self.hub_settings, self.api)
        self.set_header("Cache-Control", "no-store")
        if self.get_argument("format", "") == "json":
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(json.dumps(record, ensure_ascii=False))
        else:
            self.finish(render(record, self.hub_settings))


def render(record: dict, settings: HubSettings) -> str:
    """The page in the hub's language (``settings.language``)."""
    lang = settings.language
    t = lambda key, **p: html.escape(message(key, lang=lang, **p))  # noqa: E731
    e = lambda value: html.escape("" if value is None else str(value))  # noqa: E731
    parts = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
             f"<title>{t('hub_privacy_title', name=record['name'])}</title></head><body>",
             f"<h1>{t('hub_privacy_title', name=record['name'])}</h1>",
             f"<p>{t('hub_privacy_intro')}</p>",
             f"<h2>{t('hub_privacy_account')}</h2>"]
    hub = record["hub"] or {}
    parts.append("<table>")
    for key, label in (("name", "hub_privacy_name"), ("groups", "hub_privacy_groups"),
                       ("created", "hub_privacy_created"),
                       ("last_activity", "hub_privacy_last_activity")):
        value = hub.get(key)
        shown = ", ".join(value) if isinstance(value, list) else value
        parts.append(f"<tr><th>{t(label)}</th><td class='{key}'>{e(shown)}</td></tr>")
    parts.append("</table>")
    parts.append(f"<h2>{t('hub_privacy_files')}</h2>")
    if record["files"]:
        parts.append("<ul class='files'>")
        for item in record["files"]:
            where = os.path.join(item["folder"], item["path"])
            parts.append(f"<li><code>{e(where)}</code>: {e(item['records'])} "
                         f"({e(', '.join(item['fields']))}) {e(item['first_time'])} – "
                         f"{e(item['last_time'])}</li>")
        parts.append("</ul>")
    else:
        parts.append(f"<p>{t('hub_privacy_none')}</p>")
    parts.append(f"<h2>{t('hub_privacy_nbgrader')}</h2>")
    if record["nbgrader"] or record["grades"]:
        parts.append("<ul class='nbgrader'>")
        for folder in record["nbgrader"]:
            parts.append(f"<li><code>{e(folder['folder'])}</code>: "
                         f"{e(', '.join(folder['files']))}</li>")
        for row in record["grades"]:
            parts.append(f"<li class='grade'>{t('hub_privacy_grade', **row)}</li>")
        parts.append("</ul>")
    else:
        parts.append(f"<p>{t('hub_privacy_none')}</p>")
    parts.append(f"<h2>{t('hub_privacy_who')}</h2><p>{t('hub_privacy_rights')}</p>")
    if settings.privacy_url:
        link = html.escape(settings.privacy_url, quote=True)
        parts.append(f"<p><a href='{link}' rel='noopener'>{link}</a></p>")
    parts.append("</body></html>")
    return "".join(parts)


def main() -> None:
    settings = load()
    api = HubAPI(settings, token=os.environ["JUPYTERHUB_API_TOKEN"])
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    app = web.Application([
        (prefix, PrivacyPage, {"settings": settings, "api": api}),
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
    ], cookie_secret=secrets.token_bytes(32))
    where = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app.listen(where.port, where.hostname)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()

"""The Mini App on the web side: its page, its stand-in of telegram-web-app.js, and its JSON API.

Routes::

    GET  /app/                       the page (no personal data: it asks the API, with initData)
    GET  /app/telegram-web-app.js    our stand-in of Telegram's script; only with the local Bot API
    GET  /app/api/status             the person's code, today's form choices, whether they may scan
    POST /app/api/declare            today's declaration as one form
    POST /app/api/scan               a checkpoint verdict (checkpoint staff and administrators); for staff
                                     who scanned a valid code of ours, the scan's random ``ref``
    POST /app/api/reading            the temperature staff measured, against that ``ref``

Every API call carries ``initData`` (``Authorization: tma <initData>``); missing, malformed, tampered or
stale gets 401 with its ``reason``. The use cases are ``bot.services.miniapp``'s; this module only turns
their answers into JSON, every word from the message catalogue in the person's language.
"""
from __future__ import annotations

import html
import json
import logging
import string
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from aiohttp import web

from bot import regions
from bot.card_image import qr_svg
from bot.i18n import Catalogue
from bot.replies import Text, t
from bot.services import miniapp
from bot.services.context import Actor, Services
from bot.services.checkpoint_readings import REF_LENGTH
from bot.services.miniapp import AppDeclared, AppReading, AppScan, AppStatus
from bot.services.verification import VerificationUnavailable
from bot.web.init_data import InitDataError
from bot.web.miniapp_auth import AUTH_SCHEME, actor_of, authenticate
from bot.web.page import choose_language
from rules.model import Diagnosis, Symptom, TravelRisk

log = logging.getLogger(__name__)

TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
LOCAL_SCRIPT = "/app/telegram-web-app.js"
MAX_BODY_BYTES = 16 * 1024
# Scripts only from us (and Telegram's own script in production), nothing inline; framed only by
# Telegram's web clients (the apps open the page in a web view, not a frame).
FRAME_ANCESTORS = "https://web.telegram.org https://*.web.telegram.org"


def content_security_policy(local: bool) -> str:
    scripts = "'self'" if local else "'self' https://telegram.org"
    return (f"default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self'; connect-src 'self'; "
            f"base-uri 'none'; form-action 'none'; frame-ancestors {FRAME_ANCESTORS}")


def add_routes(app: web.Application, services: Services) -> None:
    routes = _MiniAppRoutes(services)
    app.router.add_get("/app/", routes.page, name="miniapp")
    app.router.add_get("/app/telegram-web-app.js", routes.stand_in, name="miniapp-script")
    app.router.add_get("/app/api/status", routes.status, name="miniapp-status")
    app.router.add_post("/app/api/declare", routes.declare, name="miniapp-declare")
    app.router.add_post("/app/api/scan", routes.scan, name="miniapp-scan")
    app.router.add_post("/app/api/reading", routes.reading, name="miniapp-reading")


@cache
def _template() -> string.Template:
    return string.Template(resources.files("bot.web").joinpath("templates", "miniapp.html").read_text("utf-8"))


@cache
def _stand_in() -> str:
    return resources.files("bot.web").joinpath("static", "telegram-web-app-stand-in.js").read_text("utf-8")


class _MiniAppRoutes:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._words = _Words(services)

    async def page(self, request: web.Request) -> web.Response:
        local = self._services.local_bot_api
        language = choose_language(request.query.get("lang"), request.headers.get("Accept-Language"),
                                   self._services.settings.default_language)
        words = self._words.page(language)
        body = _template().substitute(
            lang=html.escape(words["lang"]), title=html.escape(words["title"]),
            telegram_script=LOCAL_SCRIPT if local else TELEGRAM_SCRIPT,
            words=html.escape(json.dumps(words, ensure_ascii=False), quote=True),
            **{f"w_{key}": html.escape(value) for key, value in words.items()},
        )
        return web.Response(text=body, content_type="text/html",
                            headers={"Cache-Control": "no-store", "Content-Security-Policy": content_security_policy(local)})

    async def stand_in(self, request: web.Request) -> web.Response:
        if not self._services.local_bot_api:  # in production the page loads Telegram's own script
            raise web.HTTPNotFound()
        return web.Response(text=_stand_in(), content_type="application/javascript", headers={"Cache-Control": "no-store"})

    async def _asked(self, request: web.Request) -> tuple[Actor, dict[str, Any]] | web.Response:
        """Who asks (the initData's user) and the JSON body they sent; or the 401/4xx refusing them."""
        try:
            actor = actor_of(authenticate(request, self._services))
        except InitDataError as error:
            return _unauthorised(error)
        document = await _read_json(request)
        return document if isinstance(document, web.Response) else (actor, document)

    async def status(self, request: web.Request) -> web.Response:
        try:
            actor = actor_of(authenticate(request, self._services))
        except InitDataError as error:
            return _unauthorised(error)
        status = await miniapp.status(self._services, actor)
        return _json(self._words.status(status, await self._qr(status)))

    async def declare(self, request: web.Request) -> web.Response:
        asked = await self._asked(request)
        if isinstance(asked, web.Response):
            return asked
        actor, document = asked
        day = _day(document.get("day"))
        answered = await miniapp.submit_declaration(self._services, actor, day, document)
        return _json(self._words.declared(answered, await self._qr(answered.status)), 422 if answered.problems else 200)

    async def _qr(self, status: AppStatus | None) -> str | None:
        """The code's QR as SVG, drawn off the event loop where the chat's cards are (bot.card_rendering)."""
        if status is None or status.code is None:
            return None
        return await self._services.cards.svg(status.code.credential_url)

    async def scan(self, request: web.Request) -> web.Response:
        asked = await self._asked(request)
        if isinstance(asked, web.Response):
            return asked
        actor, document = asked
        text = document.get("c")
        if not isinstance(text, str) or not text.strip():
            return _json({"reason": "missing_credential", "detail": "give the scanned text as 'c'"}, 400)
        try:
            scanned = await miniapp.scan(self._services, actor, text[:MAX_BODY_BYTES])
        except VerificationUnavailable:
            return _json({"reason": "unavailable", "detail": "the issuer's records cannot be read now"}, 503)
        return _json(self._words.scanned(scanned), 200 if scanned.allowed else 403)

    async def reading(self, request: web.Request) -> web.Response:
        asked = await self._asked(request)
        if isinstance(asked, web.Response):
            return asked
        actor, document = asked
        ref, typed = document.get("ref"), document.get("temperature")
        # A reference of another shape names no scan: refused as "no scan" (and audited) by the use case.
        ref = ref if isinstance(ref, str) and len(ref) == REF_LENGTH else ""
        typed = typed if isinstance(typed, str) else ""  # a non-text value: the field's "not a number"
        answered = await miniapp.record_temperature(self._services, actor, ref, typed[:64])
        status = 200 if answered.recorded else 422 if answered.problem is not None else 403
        return _json(self._words.reading(answered), status)


class _Words:
    """The use cases' answers as JSON, rendered in the person's language from the one catalogue."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._catalogue: Catalogue = services.catalogue
        self._page_words: dict[str, dict[str, str]] = {}

    def page(self, language: str) -> dict[str, str]:
        """The page's own words (``miniapp.page.*``), worked out once per language."""
        words = self._page_words.get(language)
        if words is None:
            prefix = "miniapp.page."
            words = {key.removeprefix(prefix): self._catalogue.text(language, key)
                     for key in sorted(self._catalogue.keys(language)) if key.startswith(prefix)}
            self._page_words[language] = words
        return words

    def _render(self, language: str, text: Text) -> str:
        return self._catalogue.render(language, text)

    def status(self, status: AppStatus, qr: str | None) -> dict[str, Any]:
        """The status as JSON; ``qr`` is the code's QR as SVG (``qr_svg`` of its credential URL)."""
        language, services = status.language, self._services
        render = lambda text: self._render(language, text)  # noqa: E731 - one short local helper
        document: dict[str, Any] = {
            "language": language,
            "words": self.page(language),
            "region": regions.name_in(services.issuer_region, language, unknown=services.settings.issuer),
            "registered": status.registered,
            "today": status.today.isoformat(),
            "now_ms": int(status.now.timestamp() * 1000),
            "tz": services.tz.key,
            "checkpoint": status.checkpoint,
            "chat_url": f"https://t.me/{services.bot_username}" if services.bot_username else None,
            "dependants": list(status.dependants),
            "same_as_yesterday": status.same_as_yesterday,
            "code": None,
        }
        if not status.registered:
            document["message"] = render(t("miniapp.register_in_chat"))
            return document
        if status.consent_outdated:
            document["notice"] = render(t("miniapp.consent_in_chat"))
        document["form"] = self._form(status)
        code = status.code
        if code is None:
            document["message"] = render(t("miniapp.page.no_declaration"))
            return document
        colour = render(t(f"colour.{code.colour.value}"))
        document["code"] = {
            "colour": code.colour.value,
            "colour_text": render(t("miniapp.page.colour_code", colour=colour)),
            "qr_svg": qr if qr is not None else qr_svg(code.credential_url),
            "masked_name": code.masked_name,
            "validity": render(t("miniapp.page.validity_value", issued=self._time(code.issued_at),
                                 until=self._time(code.expires_at))),
            "reason": render(code.reason),
            "green_on": code.green_on.isoformat() if code.green_on else None,
        }
        return document

    def _form(self, status: AppStatus) -> dict[str, Any]:
        render = lambda text: self._render(status.language, text)  # noqa: E731
        choices = lambda prefix, values: [{"value": v, "label": render(t(f"{prefix}.{v}"))} for v in values]  # noqa: E731
        areas = [{"code": code, "label": render(t("checkin.area_toggle", mark="", name=regions.name_in(code, status.language),
                                                    level=t(f"risk.level.{level.value}"))).strip()}
                 for code, level in status.offered_areas]
        return {
            "symptoms": choices("symptom", [s.value for s in Symptom]),
            "contact": choices("answer.contact", ["no", "yes"]),
            "travel": [] if areas else choices("answer.travel", [r.value for r in TravelRisk]),
            "areas": areas,
            "diagnosis": choices("answer.diagnosis", [d.value for d in Diagnosis]),
        }

    def declared(self, answered: AppDeclared, qr: str | None) -> dict[str, Any]:
        render = lambda text: self._render(answered.language, text)  # noqa: E731
        document: dict[str, Any] = {
            "outcome": answered.outcome.value if answered.outcome else None,
            "message": render(answered.message),
            "problems": {name: render(text) for name, text in answered.problems.items()},
        }
        if answered.status is not None:
            document["status"] = self.status(answered.status, qr)
        return document

    def scanned(self, scanned: AppScan) -> dict[str, Any]:
        return {"allowed": scanned.allowed, "verdict": [self._render(scanned.language, part) for part in scanned.verdict],
                "temperature_allowed": scanned.temperature_allowed, "ref": scanned.ref,
                "checkpoint": scanned.checkpoint_name}

    def reading(self, answered: AppReading) -> dict[str, Any]:
        render = lambda text: self._render(answered.language, text)  # noqa: E731
        colour = answered.colour
        return {"recorded": answered.recorded, "message": render(answered.message),
                "problems": {"temperature": render(answered.problem)} if answered.problem is not None else {},
                "colour": colour.value if colour else None,
                "colour_text": render(t("miniapp.page.colour_code", colour=render(t(f"colour.{colour.value}"))))
                if colour else None,
                "masked_name": answered.masked_name}

    def _time(self, instant: datetime) -> str:
        return instant.astimezone(self._services.tz).strftime("%Y-%m-%d %H:%M")


def _day(value: object) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


async def _read_json(request: web.Request) -> dict[str, Any] | web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _json({"reason": "too_long", "detail": f"the body must be under {MAX_BODY_BYTES} bytes"}, 413)
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        return _json({"reason": "too_long", "detail": f"the body must be under {MAX_BODY_BYTES} bytes"}, 413)
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return _json({"reason": "bad_request", "detail": "the body must be a JSON object"}, 400)
    if not isinstance(document, dict):
        return _json({"reason": "bad_request", "detail": "the body must be a JSON object"}, 400)
    return document


def _unauthorised(error: InitDataError) -> web.Response:
    return _json({"reason": error.reason, "detail": error.detail}, 401,
                 headers={"WWW-Authenticate": f'{AUTH_SCHEME} realm="miniapp"'})


def _json(document: Any, status: int = 200, *, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(), status=status,
                        content_type="application/json", headers={"Cache-Control": "no-store", **(headers or {})})

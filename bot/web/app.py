"""The aiohttp application: routes, and the middleware every response goes through.

Routes::

    GET  /V/{credential}, /v/{credential}       verification page (HTML); the QR's URL is upper case
    GET  /api/v1/verify?c=...                   verification result (JSON)
    POST /api/v1/verify   {"c": "..."}          the same, for long inputs and apps
    GET  /.well-known/healthcode/trust-list.json   our public keys (format healthcode-trust-list/1)
    GET  /.well-known/healthcode/revoked.json      withdrawn credentials not yet expired
    GET  /healthz                               200 when the database answers, else 503
    GET  /metrics                               Prometheus text
    GET  /static/...                            the page's CSS and JS
    GET  /app/, /app/api/...                    the Mini App (bot/web/miniapp.py)
    POST /telegram/webhook                      Telegram updates, in webhook mode only

Bad input never gets a 500 or a traceback: unreadable credentials get 400, unauthentic ones 422,
both with a stable ``reason``; an unexpected error is logged and answered with a bare 500.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from aiohttp import web

from bot.services.context import Services
from bot.services.verification import UNAUTHENTIC, VerificationUnavailable, VerificationView, verify
from bot.credentials.trust_sources import REVOCATION_LIST_FORMAT, region_name_of
from bot.web import miniapp
from bot.web.page import CONTENT_SECURITY_POLICY, PageRenderer, choose_language
from bot.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
WEBHOOK_PATH = "/telegram/webhook"
REVOCATION_LIST_MAX_AGE = 10  # seconds other verifiers may keep revoked.json
MAX_BODY_BYTES = 1024 * 1024  # Telegram updates are far smaller; verify bodies must be under 16 KB
MAX_VERIFY_BODY_BYTES = 16 * 1024
_NO_STORE = "no-store"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(services: Services, *, webhook: Handler | None = None) -> web.Application:
    app = web.Application(middlewares=[_guard], client_max_size=MAX_BODY_BYTES)
    app[SERVICES] = services
    routes = _Routes(services)
    app.router.add_get("/v/{credential}", routes.page, name="page")
    app.router.add_get("/v/", routes.page_without_credential, name="page-empty")
    # The card's QR holds HTTPS://HOST/V/<base32>: upper case keeps it in QR alphanumeric mode.
    app.router.add_get("/V/{credential}", routes.page, name="page-compact")
    app.router.add_get("/V/", routes.page_without_credential, name="page-compact-empty")
    app.router.add_get("/api/v1/verify", routes.api_get, name="api")
    app.router.add_post("/api/v1/verify", routes.api_post, name="api-post")
    app.router.add_get("/.well-known/healthcode/trust-list.json", routes.trust_list, name="trust-list")
    app.router.add_get("/.well-known/healthcode/revoked.json", routes.revoked, name="revoked")
    app.router.add_get("/healthz", routes.healthz, name="healthz")
    app.router.add_get("/metrics", routes.metrics, name="metrics")
    static = resources.files("bot.web").joinpath("static")
    app.router.add_static("/static/", str(static), name="static", append_version=False)
    miniapp.add_routes(app, services)
    if webhook is not None:
        app.router.add_post(WEBHOOK_PATH, webhook, name="webhook")
    app.on_response_prepare.append(_security_headers)
    return app


class _Routes:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._pages = PageRenderer(services.catalogue, services.tz)
        self._revoked_cache: tuple[tuple[int, int], bytes] | None = None

    # -- verification ---------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        language = self._language(request)
        try:
            view = await verify(self._services, request.match_info["credential"], channel="web")
        except VerificationUnavailable:
            body = self._pages.message(language=language, now=self._now(), reason="unavailable",
                                       message_key="web.unavailable")
            return _html(body, 503)
        return _html(self._pages.verification(view, language=language, now=self._now()), _status_of(view))

    async def page_without_credential(self, request: web.Request) -> web.Response:
        body = self._pages.message(language=self._language(request), now=self._now(), reason="missing_credential",
                                   message_key="web.missing_credential")
        return _html(body, 400)

    async def api_get(self, request: web.Request) -> web.Response:
        return await self._api(request.query.get("c"))

    async def api_post(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_VERIFY_BODY_BYTES:
            return _problem(413, "too_long", f"the request body must be under {MAX_VERIFY_BODY_BYTES} bytes")
        raw = await request.read()
        if len(raw) > MAX_VERIFY_BODY_BYTES:
            return _problem(413, "too_long", f"the request body must be under {MAX_VERIFY_BODY_BYTES} bytes")
        try:
            document = json.loads(raw)
        # ValueError also covers an integer over Python's 4,300-digit limit, which is not a JSONDecodeError.
        except (ValueError, RecursionError):
            return _problem(400, "bad_request", 'the body must be JSON: {"c": "<credential or /v/ URL>"}')
        if not isinstance(document, dict):
            return _problem(400, "bad_request", 'the body must be a JSON object: {"c": "<credential or /v/ URL>"}')
        credential = document.get("c", document.get("credential"))
        if credential is not None and not isinstance(credential, str):
            return _problem(400, "bad_request", "field 'c' must be a string")
        return await self._api(credential)

    async def _api(self, credential: str | None) -> web.Response:
        if not credential:
            return _problem(400, "missing_credential", "give the credential (or its /v/ URL) as 'c'")
        try:
            # Machines read the API: the masked name is for the person at the checkpoint, on the page.
            view = await verify(self._services, credential, channel="api", with_name=False)
        except VerificationUnavailable as error:
            return _problem(503, "unavailable", str(error))
        return _json(view.to_json(), _status_of(view))

    # -- publication ----------------------------------------------------------------------------

    async def trust_list(self, request: web.Request) -> web.Response:
        settings = self._services.settings
        validity = timedelta(hours=settings.trust_list_validity_hours)
        document = self._services.keyring.export_trust_list(
            settings.issuer, region_name_of(settings.issuer), self._now(), validity
        )
        max_age = int(min(validity, timedelta(minutes=5)).total_seconds())
        return _json(document, 200, cache=f"public, max-age={max_age}")

    async def revoked(self, request: web.Request) -> web.Response:
        now = self._now()
        # Re-read at most once a second, and at once after this process withdrew a credential.
        key = (self._services.issuer_records.generation, int(now.timestamp()))
        cached = self._revoked_cache
        if cached is None or cached[0] != key:
            async with self._services.database.unit_of_work() as uow:
                withdrawn = await uow.credentials.withdrawn_since(None, now)
            document = {
                "format": REVOCATION_LIST_FORMAT,
                "issuer": self._services.settings.issuer,
                "issued_at": now.replace(microsecond=0).isoformat(),
                "revoked": [{"cti": cti, "exp": expires.isoformat()} for cti, expires in withdrawn],
            }
            cached = (key, _dumps(document))
            self._revoked_cache = cached
        return web.Response(body=cached[1], content_type="application/json",
                            headers={"Cache-Control": f"public, max-age={REVOCATION_LIST_MAX_AGE}"})

    # -- operations -----------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        now = self._now()
        database_ok = await self._services.database.ping(timeout=3.0)
        trust = self._services.trust
        problems = trust.problems(now)
        status = "ok" if database_ok and not problems else "degraded" if database_ok else "unavailable"
        document = {
            "status": status,
            "database": "ok" if database_ok else "unreachable",
            "issuer": self._services.settings.issuer,
            "trust_lists": [source.to_json() for source in trust.statuses(now)],
            "stale_issuers": trust.store.stale_issuers(now),
            "problems": problems,
            "checked_at": now.isoformat(),
        }
        return _json(document, 200 if database_ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        metrics, now = self._services.metrics, self._now()
        for gauge in (metrics.trust_list_stale, metrics.trust_list_next_update, metrics.trust_source_up,
                      metrics.trust_source_available):
            gauge.clear()
        store = self._services.trust.store
        for issuer in store.issuers():
            trust_list = store.trust_list(issuer)
            metrics.trust_list_stale.set(1 if store.is_stale(issuer, now) else 0, issuer=issuer)
            if trust_list is not None and trust_list.next_update is not None:
                metrics.trust_list_next_update.set(trust_list.next_update.timestamp(), issuer=issuer)
        for source in self._services.trust.statuses(now):
            metrics.trust_source_up.set(0 if source.error else 1, source=source.source)
            metrics.trust_source_available.set(1 if source.available else 0, source=source.source)
        return web.Response(body=metrics.render().encode(), headers={"Content-Type": METRICS_CONTENT_TYPE})

    # -- helpers --------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._services.clock.now()

    def _language(self, request: web.Request) -> str:
        return choose_language(request.query.get("lang"), request.headers.get("Accept-Language"),
                               self._services.settings.default_language)


def _status_of(view: VerificationView) -> int:
    if view.unreadable:
        return 400
    if view.reason in UNAUTHENTIC:
        return 422
    return 200  # valid, or authentic but expired / not yet valid / revoked / superseded: that is the answer


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _json(document: Any, status: int, *, cache: str = _NO_STORE) -> web.Response:
    return web.Response(body=_dumps(document), status=status, content_type="application/json",
                        headers={"Cache-Control": cache})


def _html(body: str, status: int) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html",
                        headers={"Cache-Control": _NO_STORE, "Content-Security-Policy": CONTENT_SECURITY_POLICY})


def _problem(status: int, reason: str, detail: str) -> web.Response:
    return _json({"valid": False, "reason": reason, "detail": detail}, status)


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Time and count every request; turn anything unexpected into a bare 500, never a traceback."""
    started = time.perf_counter()
    route = _route_name(request)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    except web.RequestPayloadError:
        # The body could not be read as sent: e.g. a Content-Encoding it does not follow.
        status = 400
        return _problem(400, "bad_request", "the request body could not be read; check its Content-Encoding")
    except Exception:  # noqa: BLE001 - the last line of defence for the web side
        log.exception("unexpected error serving %s %s", request.method, route)
        return _problem(500, "internal_error", "something went wrong on our side; please try again")
    finally:
        metrics = request.app[SERVICES].metrics
        metrics.http_requests.inc(route=route, status=str(status))
        metrics.http_seconds.observe(time.perf_counter() - started, route=route)


def _route_name(request: web.Request) -> str:
    # The route's pattern, never the path itself: a path holds a credential.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # the URL carries the credential
    if "frame-ancestors https:" not in response.headers.get("Content-Security-Policy", ""):
        # The Mini App's page names the Telegram web clients that may frame it; everything else: nobody.
        response.headers.setdefault("X-Frame-Options", "DENY")

"""The verification page: one small HTML document, every word from the message catalogue."""
from __future__ import annotations

import html
import string
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from bot.credentials.cwt import WARNING_STALE_TRUST_LIST
from bot.i18n import LANGUAGES, Catalogue
from bot.services.verification import VerificationView, issuer_region_name

# Scripts and styles come only from this server; nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@cache
def _template() -> string.Template:
    text = resources.files("bot.web").joinpath("templates", "verify.html").read_text("utf-8")
    return string.Template(text)


def choose_language(requested: str | None, accept_language: str | None, default: str) -> str:
    """``?lang=`` wins; then the first supported language in Accept-Language by weight; then ``default``."""
    if requested:
        match = next((language for language in LANGUAGES if language.lower() == requested.strip().lower()), None)
        if match is not None:
            return match
    for tag in _by_preference(accept_language or ""):
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return default


def _by_preference(header: str) -> list[str]:
    weighted = []
    for position, item in enumerate(header[:512].split(",")):
        tag, _, parameters = item.strip().partition(";")
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            weighted.append((-weight, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]


class PageRenderer:
    def __init__(self, catalogue: Catalogue, tz: ZoneInfo) -> None:
        self._catalogue = catalogue
        self._tz = tz

    def verification(self, view: VerificationView, *, language: str, now: datetime) -> str:
        text = self._text(language)
        colour = view.colour.value if view.colour and view.valid else ""
        facts: list[tuple[str, str, str | None]] = []
        region = issuer_region_name(view.issuer, view.issuer_region, language)
        if view.authentic and region is not None:
            facts.append((text("web.issuer"), text("web.issuer_value", region=region, issuer=view.issuer), None))
        if view.authentic:
            facts.append((text("web.issued"), self._time(language, view.iat), None))
            facts.append((text("web.expires"), self._time(language, view.exp), None))
        if view.masked_name is not None and view.valid:
            facts.append((text("web.name"), view.masked_name, None))
        warning = text("web.stale_trust") if WARNING_STALE_TRUST_LIST in view.warnings else None
        return self._render(
            language=language, now=now, checked=view.checked_at,
            state="valid" if view.valid else "invalid",
            valid="true" if view.valid else "false",
            colour=colour,
            reason="ok" if view.valid else view.reason.value,
            banner=colour or "invalid",
            status_text=text("web.valid" if view.valid else "web.invalid"),
            colour_text=text("web.colour_code", colour=text(f"colour.{colour}")) if colour else "",
            reason_text=None if view.valid else text(f"verify.reason.{view.reason.value}"),
            warning_text=warning,
            facts=facts,
        )

    def message(self, *, language: str, now: datetime, reason: str, message_key: str) -> str:
        """A page without a verdict: no credential given, or our records cannot be read."""
        text = self._text(language)
        return self._render(
            language=language, now=now, checked=now, state="invalid", valid="false", colour="", reason=reason,
            banner="invalid", status_text=text("web.invalid"), colour_text="", reason_text=text(message_key),
            warning_text=None, facts=[],
        )

    def _render(self, *, language: str, now: datetime, checked: datetime, state: str, valid: str, colour: str,
                reason: str, banner: str, status_text: str, colour_text: str, reason_text: str | None,
                warning_text: str | None, facts: list[tuple[str, str, str | None]]) -> str:
        text = self._text(language)
        other = text("web.other_language_code")
        escape = html.escape
        reason_block = (
            f'<p id="reason" class="reason" data-reason="{escape(reason)}">'
            f'{escape(text("web.reason_line", reason=reason_text))}</p>' if reason_text else ""
        )
        warning_block = f'<p id="warning" class="warning">{escape(warning_text)}</p>' if warning_text else ""
        rows = "\n    ".join(self._fact(label, value, chip) for label, value, chip in facts)
        return _template().substitute(
            lang=escape(text("web.lang")),
            title=escape(text("web.title")),
            state=state,
            valid=valid,
            colour=escape(colour),
            reason=escape(reason),
            banner=escape(banner),
            status_text=escape(status_text),
            colour_text=escape(colour_text),
            reason_block=reason_block,
            warning_block=warning_block,
            facts=rows,
            now_ms=str(int(now.timestamp() * 1000)),
            checked_ms=str(int(checked.timestamp() * 1000)),
            tz=escape(self._tz.key),
            ago_template=escape(text("web.ago")),
            server_time_label=escape(text("web.server_time")),
            now_text=escape(self._time(language, now, seconds=True)),
            checked_label=escape(text("web.checked")),
            checked_text=escape(self._time(language, checked, seconds=True)),
            live_text=escape(text("web.live")),
            other_lang=escape(other),
            other_language=escape(text("web.other_language")),
        )

    @staticmethod
    def _fact(label: str, value: str, chip: str | None) -> str:
        shown = html.escape(value)
        if chip:
            shown = f'<span class="chip chip-{html.escape(chip)}">{shown}</span>'
        return f"<dt>{html.escape(label)}</dt><dd>{shown}</dd>"

    def _time(self, language: str, instant: datetime | None, *, seconds: bool = False) -> str:
        if instant is None:
            return ""
        local = instant.astimezone(self._tz)
        if seconds:
            return local.strftime("%Y-%m-%d %H:%M:%S")
        return self._catalogue.text(language, "web.time_format", time=local)

    def _text(self, language: str) -> Callable[..., str]:
        catalogue = self._catalogue

        def text(key: str, **params: object) -> str:
            return catalogue.text(language, key, **params)

        return text

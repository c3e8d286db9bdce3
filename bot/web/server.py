"""Running the web side next to the bot: the HTTP listener and the trust-list refresher."""
from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from datetime import datetime, timedelta

from aiohttp import web

from bot.credentials.keyring import KEYRING_FILE, KeyRing, KeyRingError
from bot.services.context import Services
from bot.credentials.trust_sources import region_name_of
from bot.web.app import Handler, create_app

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = timedelta(minutes=5)
KEYRING_CHECK_SECONDS = 10.0  # a rotation by `healthcode keys rotate` is picked up this quickly


_BIND_ERRORS = {
    errno.EADDRINUSE: "the port is already in use (HEALTHCODE_WEB_PORT)",
    errno.EACCES: "permission denied; ports below 1024 need privileges (HEALTHCODE_WEB_PORT)",
    errno.EADDRNOTAVAIL: "this machine has no such address (HEALTHCODE_WEB_HOST)",
}


class PortInUse(Exception):
    """The configured address is taken; the message names the setting."""


class WebServer:
    """The aiohttp application on ``HEALTHCODE_WEB_HOST``:``HEALTHCODE_WEB_PORT`` (port 0: any free port)."""

    def __init__(self, services: Services, *, webhook: Handler | None = None,
                 host: str | None = None, port: int | None = None, share_port: bool = False) -> None:
        self._services = services
        self._host = services.settings.web_host if host is None else host
        self._port = services.settings.web_port if port is None else port
        # Several processes share the port only when asked to (HEALTHCODE_WEB_WORKERS); otherwise
        # a second instance must find the port taken rather than silently split the traffic.
        self._reuse_port = share_port and self._port != 0
        self._runner = web.AppRunner(create_app(services, webhook=webhook), access_log=None,
                                     handler_cancellation=False)
        self._site: web.TCPSite | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self._site is None or self._site._server is None:  # noqa: SLF001 - aiohttp exposes no accessor
            raise RuntimeError("the web server is not running")
        # aiohttp types _server as AbstractServer; a TCPSite's is the asyncio.Server create_server made.
        return self._site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]  # noqa: SLF001

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self._host, self._port, backlog=1024,
                                 reuse_port=self._reuse_port or None)
        try:
            await self._site.start()
        except OSError as error:
            await self._runner.cleanup()
            self._site = None
            why = ("the host name does not resolve (HEALTHCODE_WEB_HOST)" if isinstance(error, socket.gaierror)
                   else _BIND_ERRORS.get(error.errno or 0))
            if why is None:
                raise
            raise PortInUse(f"cannot listen on {self._host}:{self._port}: {why}") from None
        log.info("web server listening on %s", self.url)

    async def stop(self) -> None:
        await self._runner.cleanup()
        self._site = None


class KeyRingWatcher:
    """Picks up `healthcode keys rotate` run by another process while this one serves.

    The new public key is published at once, but this process goes on signing with the key it
    holds for ``publish_ahead`` (by default one trust-list refresh interval): by the time the first
    credential with the new kid exists, the other regions have fetched a list that holds it, so a
    rotation never makes our codes "unknown key" elsewhere.  The old key stays listed until its last
    credential expires (the rotation sets its not_after with room for this delay).
    """

    def __init__(self, services: Services, publish_ahead: timedelta | None = None) -> None:
        self._services = services
        self._seen = self._stamp()
        self._ahead = (timedelta(minutes=services.settings.trust_refresh_minutes)
                       if publish_ahead is None else publish_ahead)
        self._next: tuple[KeyRing, datetime] | None = None  # the ring to sign with, and from when

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = (self._services.keyring.directory / KEYRING_FILE).stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def reload_if_changed(self) -> bool:
        """Load the ring again when its file changed; True when the ring in use was replaced."""
        services = self._services
        if self._next is not None and services.clock.now() >= self._next[1]:
            self._use(self._next[0])
            self._next = None
            return True
        stamp = self._stamp()
        if stamp is None or stamp == self._seen:
            return False
        self._seen = stamp
        try:
            fresh = KeyRing.load(services.keyring.directory)
        except KeyRingError as error:
            log.error("key ring changed on disk but cannot be loaded; still signing with %s: %s",
                      services.keyring.current_signer().kid, error)
            return False
        signing = services.keyring.current_signer()
        if fresh.current_signer().kid == signing.kid or self._ahead <= timedelta(0):
            self._use(fresh)
            return True
        # Publish the new key now; sign with it once the other regions have had time to fetch it.
        self._next = (fresh, services.clock.now() + self._ahead)
        self._use(KeyRing(fresh.directory, fresh.public_keys(), signing))
        log.info("key ring rotated: publishing %s now, signing with it from %s",
                 fresh.current_signer().kid, self._next[1].isoformat())
        return True

    def _use(self, keyring: KeyRing) -> None:
        services = self._services
        services.keyring = keyring
        services.trust.set_own(keyring, services.settings.issuer, region_name_of(services.settings.issuer),
                               services.clock.now())
        log.info("key ring in use: signing with %s", keyring.current_signer().kid)


def watch_key_ring(services: Services) -> KeyRingWatcher:
    """This process's one watcher of the key ring on disk: ticked by :func:`keep_trust_fresh`, and asked
    at once by verification when one of our credentials names a kid this process does not hold."""
    watcher = KeyRingWatcher(services)

    def reload_now() -> bool:
        try:
            return watcher.reload_if_changed()
        except Exception:  # noqa: BLE001 - a verification must not fail because the ring could not be read
            log.exception("key ring reload failed")
            return False

    services.reload_key_ring = reload_now
    return watcher


async def keep_trust_fresh(services: Services, *, stop: asyncio.Event | None = None,
                           tick_seconds: float = KEYRING_CHECK_SECONDS) -> None:
    """Until ``stop`` is set: look for a rotated key ring every tick, refresh trust lists on schedule."""
    interval = timedelta(minutes=services.settings.trust_refresh_minutes)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    watcher = watch_key_ring(services)
    next_refresh = loop.time()
    while not stop.is_set():
        try:
            watcher.reload_if_changed()
        except Exception:  # noqa: BLE001 - the refresher must outlive any single failure
            log.exception("key ring reload failed")
        if loop.time() >= next_refresh:
            try:
                await services.trust.refresh(services.clock.now())
            except Exception:  # noqa: BLE001
                log.exception("trust-list refresh failed")
            failing = any(status.error for status in services.trust.statuses(services.clock.now()))
            next_refresh = loop.time() + (min(interval, RETRY_AFTER_FAILURE) if failing else interval).total_seconds()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick_seconds)


class Background:
    """The refresher as a task that can be stopped cleanly."""

    def __init__(self, services: Services) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(keep_trust_fresh(services, stop=self._stop))

    async def stop(self) -> None:
        self._stop.set()
        await self._task


class WebSide:
    """The web server and the refresher: what `healthcode run` (polling), `healthcode web` and
    `healthcode shell` start."""

    def __init__(self, services: Services, *, share_port: bool = False) -> None:
        self._services = services
        # Only `run` and `web` start workers; the shell must never take a share of real traffic.
        self.server = WebServer(services, share_port=share_port)
        self.listening = False
        self._background: Background | None = None

    async def start(self) -> None:
        """Start the refresher, then listen; raises PortInUse (the refresher keeps running)."""
        self._background = Background(self._services)
        await self.server.start()
        self.listening = True

    async def stop(self) -> None:
        if self.listening:
            await self.server.stop()
            self.listening = False
        if self._background is not None:
            await self._background.stop()
            self._background = None

"""Where fresh status cards are drawn: a process pool sized to the cores, off the event loop.

A fresh card costs several milliseconds of pure-Python and numpy work (segno's encoding, the
raster, PNG). In the default thread pool it holds the GIL, so every other update of the process
(the cached confirmations too) waits behind it; in a process of its own it runs beside the event
loop, which keeps answering. The pool is started with the bot (``start``, which also warms every
worker so the first cards do not pay for imports) and shut down with it (``shutdown``).

Not started (the shell, most tests), cards are drawn in a thread, as before. Either way the
process keeps the last cards it sent (``bot.card_image`` is deterministic: one URL, one PNG), so a
card resent before Telegram's file id is known is not drawn twice.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections import OrderedDict
from typing import TYPE_CHECKING
from concurrent.futures import ProcessPoolExecutor

from rules.model import Colour

if TYPE_CHECKING:  # the types only: importing bot.card_image loads numpy and segno
    from bot.card_image import CardFace
    from bot.cjk_font import FontFile

log = logging.getLogger(__name__)

KEPT_CARDS = 1024
_WARM_URL = "HTTPS://WARM.INVALID/V/AAAA"


def usable_cores() -> int:
    """The cores this process may run on (its affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _render(url: str, colour: str, face: CardFace | None = None, font: FontFile | None = None) -> bytes:
    """In a worker process: draw the card (the worker's own cache keeps repeats cheap)."""
    from bot.card_image import card_png  # here, not at the top: the CLI and shell need no numpy/segno to start

    return card_png(url, Colour(colour), face, font)


def _render_svg(url: str) -> str:
    """In a worker process: the Mini App's QR of ``url`` as SVG (bot.card_image.qr_svg, cached there too)."""
    from bot.card_image import qr_svg

    return qr_svg(url)


def _end_with_parent(parent_pid: int) -> None:
    """In each worker, first: end when the process that started the pool does, however it ends (a
    SIGKILLed web worker or bot would otherwise leave its drawing processes behind, holding its stdout)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # not Linux: the thread below notices instead
        pass
    if os.getppid() != parent_pid:  # it ended before the line above took effect
        os._exit(0)

    def watch() -> None:
        import time

        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    import threading

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


class CardRenderer:
    """Draws cards (and the Mini App's QR SVGs) in a process pool once started, in a thread before that."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._workers = 0
        self._kept: OrderedDict[tuple[str, Colour, CardFace | None, FontFile | None], bytes] = OrderedDict()
        self._kept_svgs: OrderedDict[str, str] = OrderedDict()

    @property
    def processes(self) -> int:
        """Worker processes drawing cards; 0 when cards are drawn in a thread."""
        return self._workers

    async def start(self, processes: int | None = None) -> None:
        """Start the pool (``processes`` workers, default one per usable core) and warm each worker."""
        if self._pool is not None:
            return
        workers = processes or usable_cores()
        # spawn, not fork: the bot's process has threads (the database driver's, the decoders') and a
        # running event loop, which a forked child would inherit half-copied.
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_end_with_parent, initargs=(os.getpid(),))
        self._workers = workers
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._pool, _render, f"{_WARM_URL}{n}", Colour.GREEN.value)
                               for n in range(workers)))
        log.info("card rendering: %d worker process(es)", workers)

    async def shutdown(self) -> None:
        """Let the cards being drawn finish, then stop the workers."""
        pool, self._pool, self._workers = self._pool, None, 0
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=False)

    async def png(self, url: str, colour: Colour, face: CardFace | None = None, font: FontFile | None = None) -> bytes:
        """The card's PNG: the QR of ``url`` in ``colour``, with its words (``face``) when there is a font."""
        key = (url, Colour(colour), face, font)
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
            return kept
        if self._pool is not None:
            png = await asyncio.get_running_loop().run_in_executor(self._pool, _render, url, key[1].value, face, font)
        else:
            png = await asyncio.to_thread(_render, url, key[1].value, face, font)
        self._kept[key] = png
        if len(self._kept) > KEPT_CARDS:
            self._kept.popitem(last=False)
        return png

    async def svg(self, url: str) -> str:
        """The QR of ``url`` as the Mini App's SVG: drawn where the cards are (a fresh credential's QR is
        most of a fresh Mini App declaration's time), kept like them."""
        kept = self._kept_svgs.get(url)
        if kept is not None:
            self._kept_svgs.move_to_end(url)
            return kept
        if self._pool is not None:
            svg = await asyncio.get_running_loop().run_in_executor(self._pool, _render_svg, url)
        else:
            svg = await asyncio.to_thread(_render_svg, url)
        self._kept_svgs[url] = svg
        if len(self._kept_svgs) > KEPT_CARDS:
            self._kept_svgs.popitem(last=False)
        return svg

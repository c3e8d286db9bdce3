"""Extra processes serving the web side (and, in webhook mode, Telegram's updates) on the same
port, for HEALTHCODE_WEB_WORKERS > 1.

Verification is CPU-bound (an Ed25519 check, CBOR, HTTP), and one Python process uses one core.
The first process binds the port (so a port held by anything else is still reported); then
``web_workers - 1`` children (`healthcode web --worker-of PID`) bind it too with SO_REUSEPORT, and the
kernel spreads connections over all of them. The children share the database and the key ring on
disk; each keeps its own copy of our revocation list (``WithdrawnIndex``), so a status change made
by another process shows within a second as a rule. They exit when their parent goes, however it goes.
In webhook mode the children are `healthcode run --worker-of PID` (bot.runners.webhook), each with
its own Application, sharing the parent's webhook secret.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys

log = logging.getLogger(__name__)

RESTART_AFTER_SECONDS = 5.0
MAX_RESTART_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0


class WebWorkers:
    """Starts, watches (restarting any that die, with back-off) and stops the extra web processes."""

    def __init__(self, count: int, *, command: str = "web", environment: dict[str, str] | None = None) -> None:
        """``command``: the subcommand each child runs (`web`, or `run` for webhook workers);
        ``environment``: settings the parent decided and the children must share (the webhook secret)."""
        self.count = max(0, count)
        self._command = command
        self._environment = dict(environment or {})
        self._processes: list[subprocess.Popen[bytes] | None] = []
        self._watch: asyncio.Task[None] | None = None
        self._failures = 0

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes if process is not None]

    async def start(self) -> None:
        self._processes = [self._spawn() for _ in range(self.count)]
        if self._processes:
            self._watch = asyncio.get_running_loop().create_task(self._restart_the_dead())
            log.info("%d extra web worker process(es) started", len(self.pids))

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        running = [process for process in self._processes if process is not None]
        for process in running:
            if process.poll() is None:
                process.terminate()
        for process in running:
            try:
                await asyncio.to_thread(process.wait, STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        self._processes = []

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        # The child reads the same settings (environment and .env) and knows its parent by pid. Its
        # own session keeps a Ctrl-C in the terminal for the parent, which then stops the children.
        try:
            return subprocess.Popen([sys.executable, "-m", "bot", self._command, "--worker-of", str(os.getpid())],
                                    start_new_session=True, env={**os.environ, **self._environment})
        except OSError as error:
            log.error("cannot start a web worker: %s", error)
            return None

    async def _restart_the_dead(self) -> None:
        while True:
            # Back off while workers keep dying (a database down at start, say): 5 s, 10 s, ... 60 s.
            await asyncio.sleep(min(MAX_RESTART_SECONDS, RESTART_AFTER_SECONDS * 2 ** min(self._failures, 4)))
            died = False
            for index, process in enumerate(self._processes):
                if process is None or process.poll() is not None:
                    died = True
                    if process is not None:
                        log.error("web worker %d exited with status %s; starting another",
                                  process.pid, process.returncode)
                    self._processes[index] = self._spawn()
            self._failures = self._failures + 1 if died else 0


async def exit_when_parent_goes(parent_pid: int, stop: asyncio.Event, *, tick_seconds: float = 1.0) -> None:
    """A worker must not outlive the process that started it (even one killed with SIGKILL)."""
    while not stop.is_set():
        if os.getppid() != parent_pid:
            log.info("web worker: parent %d is gone; stopping", parent_pid)
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick_seconds)

"""The fake Bot API (fake_telegram_server.py) started in a process of its own, for the tests that talk
to it over real HTTP (a module of its own: a test module imported by another would be loaded twice)."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

THROTTLE_EVERY = 50  # every 50th sendMessage: 2 %
RETRY_AFTER = 2


@contextmanager
def fake_telegram(throttle_every: int = THROTTLE_EVERY) -> Iterator[str]:
    """The fake Bot API in a process of its own (so arrival times never wait for this one); its URL."""
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("fake_telegram_server.py")),
         "--throttle-every", str(throttle_every), "--retry-after", str(RETRY_AFTER)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def busiest_second(times: list[float]) -> int:
    """The most events in any rolling one-second window [t, t + 1)."""
    times = sorted(times)
    best, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best

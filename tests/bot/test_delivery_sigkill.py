"""The scaled-down broadcast bench as a test: a real worker process is SIGKILLed half way and restarted.

2,000 recipients at a high rate, through ptb over HTTP to a Bot API stand-in that answers 403 for
some recipients and 429 twice. Nobody may get the notice twice; everyone ends sent or blocked, except
at most one row per worker lane that was in flight at the kill (unconfirmed, never resent).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_sigkill_half_way_then_restart_delivers_each_recipient_at_most_once(database_url: str) -> None:
    lanes = 4
    command = [sys.executable, "-m", "bench.broadcast", "--recipients", "2000", "--rate", "1000", "--kill-at", "0.5",
               "--block-every", "400", "--lease", "2", "--concurrency", str(lanes), "--json",
               "--database-url", database_url]
    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["killed_after_accepted"] >= 1000, "the first worker really died half way"
    assert result["campaign_status"] == "done"
    assert result["duplicates"] == 0
    assert result["inconsistent_rows"] == 0, "every sent row was accepted once, every blocked row never"
    statuses = result["statuses"]
    unconfirmed = statuses.get("unconfirmed", 0)
    assert unconfirmed <= lanes
    # Five recipients blocked the bot: each refused once, never retried (one may have been in flight).
    assert statuses.get("blocked", 0) <= result["refused_403"] <= 5 <= statuses.get("blocked", 0) + unconfirmed
    assert result["throttled_429"] == 2
    assert statuses["sent"] + statuses["blocked"] + statuses.get("unconfirmed", 0) == 2000
    # An unconfirmed recipient got the notice once or not at all; the bench says which.
    assert sum(result["unconfirmed_received"].values()) == statuses.get("unconfirmed", 0)
    assert set(result["unconfirmed_received"]) <= {"0", "1"}

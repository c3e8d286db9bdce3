"""Every figure of the morning-peak tables (README, "The morning peak"), in one run, one after another.

    python -m bench.morning_peak --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python -m bench.morning_peak --quick ...     # fewer users and rounds: a smoke run, not figures

Each benchmark runs as its own command, exactly as printed (so any line can be re-run alone), on this
machine, in sequence: absolute figures on a shared 2-core machine swing between runs minutes apart, so
the tables come from one run and the ratios (to the floor, 2 processes to 1) matter more than the rates.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time


def _commands(database_url: str, quick: bool) -> list[list[str]]:
    users, cards, repeat = ("200", "50", "1") if quick else ("500", "200", "1")
    postgres = ["--database-url", database_url]
    return [
        ["bench.checkin", "--users", users, "--mixed", "--floor"],
        ["bench.checkin", "--users", users, "--mixed", "--floor", *postgres],
        ["bench.checkin", "--webhook", "--side-by-side", "--repeat", repeat, "--users", users, "--floor", *postgres],
        ["bench.half_load", "--users", str(int(users) // 2)],
        ["bench.half_load", "--users", str(int(users) // 2), *postgres],
        ["bench.bot_api_http", "--confirmations", users],
        ["bench.qr_render"],
        ["bench.qr_robustness", "--cards", cards],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True,
                        help="a PostgreSQL server's database the benchmarks may create their own databases beside")
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the commands run, gives no figures")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql+asyncpg://"):
        parser.error("--database-url must be a postgresql+asyncpg:// URL (the SQLite runs need none)")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# bench.morning_peak, started {started}", flush=True)
    failed = []
    for command in _commands(args.database_url, args.quick):
        line = "python -m " + shlex.join(command)
        print(f"\n## {line}", flush=True)
        begun = time.monotonic()
        result = subprocess.run([sys.executable, "-m", *command], check=False)
        print(f"   ({time.monotonic() - begun:.0f} s, load average {os.getloadavg()[0]:.1f})",
              flush=True)
        if result.returncode != 0:
            failed.append(line)
    if failed:
        raise SystemExit("failed: " + "; ".join(failed))


if __name__ == "__main__":
    main()

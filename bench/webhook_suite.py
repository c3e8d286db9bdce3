"""What ``bench.checkin --webhook`` prints: one configuration, or all of them side by side.

    python -m bench.checkin --webhook --users 1000                      # SQLite, 1 bot process
    python -m bench.checkin --webhook --users 1000 --processes 2 --database-url postgresql+asyncpg://…
    python -m bench.checkin --webhook --side-by-side --repeat 2 --users 1000 --floor \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

``--side-by-side`` runs, in one go: SQLite with 1 bot process (N > 1 is refused there), PostgreSQL
with 1 and with 2, each ``--repeat`` times, interleaved (so a neighbour's load spreads over all of
them). Per configuration and phase it prints the best run's rate, p50 and p99, the spread of the
rate over the runs, and the ratio of 2 processes to 1 (best to best). With ``--floor``, also
bench.floor's floor for each database and the bot's CPU per cached confirmation over it.
"""
from __future__ import annotations

import asyncio
import statistics

from bench.webhook_load import PHASES, RATE_NOTE, run_webhook
from bench.webhook_updates import Phase

Config = tuple[str, str | None, int]  # (name, database URL, processes)


def _percentile(latencies: list[float], share: float) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def describe(name: str, processes: int, label: str, phase: Phase, spread: str = "") -> str:
    count = len(phase.latencies)
    return (f"{name:<10} {processes} proc  {label:<9} {count / phase.elapsed:7.0f} declarations/s{spread}   "
            f"p50 {statistics.median(phase.latencies) * 1e3:7.1f} ms   p99 {_percentile(phase.latencies, 0.99) * 1e3:7.1f} ms   "
            f"CPU per confirmation: bot {phase.bot_cpu / count * 1e3:5.2f} ms, load generator "
            f"{phase.generator_cpu / count * 1e3:4.2f} ms, Bot API stand-in {phase.standin_cpu / count * 1e3:4.2f} ms")


def _name(url: str | None) -> str:
    return "sqlite" if url is None or url.startswith("sqlite") else "postgresql"


def one(users: int, url: str | None, concurrency: int, processes: int) -> dict[str, Phase]:
    results, notes = run_webhook(users, url, concurrency, processes)
    print(f"webhook mode over HTTP: {users} users, {concurrency} updates in flight; {RATE_NOTE}")
    for note in notes:
        print(f"  note: {note}")
    for label in PHASES:
        print(describe(_name(url), processes, label, results[label]))
    return results


def side_by_side(users: int, postgres_url: str, concurrency: int, repeat: int) -> dict[Config, dict[str, list[Phase]]]:
    configs: list[Config] = [("sqlite", None, 1), ("postgresql", postgres_url, 1), ("postgresql", postgres_url, 2)]
    runs: dict[Config, dict[str, list[Phase]]] = {config: {label: [] for label in PHASES} for config in configs}
    notes: dict[Config, set[str]] = {config: set() for config in configs}
    for round_number in range(1, repeat + 1):
        for config in configs:
            name, url, processes = config
            print(f"  round {round_number}/{repeat}: {name}, {processes} bot process(es) ...", flush=True)
            results, config_notes = run_webhook(users, url, concurrency, processes)
            notes[config].update(config_notes)
            for label in PHASES:
                runs[config][label].append(results[label])
    print(f"\nwebhook mode over HTTP, side by side: {users} users, {concurrency} updates in flight, "
          f"best of {repeat} run(s) each (spread: the rates of all runs)")
    print(f"the bot's production request class (bot.telegram_http.AiohttpRequest) against the Bot API stand-in "
          f"over loopback; {RATE_NOTE}")
    for config in configs:
        name, _, processes = config
        for note in sorted(notes[config]):
            print(f"  note ({name}, {processes} proc): {note}")
        for label in PHASES:
            phases = runs[config][label]
            rates = [len(phase.latencies) / phase.elapsed for phase in phases]
            best = phases[rates.index(max(rates))]
            spread = f" ({min(rates):.0f}-{max(rates):.0f})"
            print(describe(name, processes, label, best, spread))
    for label in PHASES:
        one_proc, two_procs = (max(len(p.latencies) / p.elapsed for p in runs[("postgresql", postgres_url, n)][label])
                               for n in (1, 2))
        print(f"postgresql {label}: 2 processes / 1 = {two_procs / one_proc:.2f}x (best to best)")
    return runs


def floor_ratios(runs: dict[Config, dict[str, list[Phase]]], updates: int) -> None:
    """bench.floor per database, and each configuration's best cached CPU per confirmation over it."""
    from bench.floor import run as floor_run

    floors: dict[str | None, float] = {}
    for config in runs:
        url = config[1]
        if url not in floors:
            print(f"\nbench.floor, {_name(url)} ({updates} updates):")
            floors[url] = asyncio.run(floor_run(updates, url))["floor_cpu"]
    print()
    for config, phases in runs.items():
        name, url, processes = config
        cached = min(phase.bot_cpu / len(phase.latencies) for phase in phases["cached QR"])
        print(f"{name:<10} {processes} proc  cached confirmation: {cached * 1e3:.2f} ms of bot CPU (webhook over HTTP, "
              f"all bot processes) vs the floor's {floors[url] * 1e3:.2f} ms of CPU (in-process Bot API) = "
              f"{cached / floors[url]:.2f}x")

"""Verifications per second and latency through GET /api/v1/verify, with real signatures and a real server.

    python bench/verify.py [--seconds 10] [--concurrency 64] [--credentials 2000] [--workers 2] [--client aiohttp|wrk]

A server process (the project's own web side, as `healthcode web` runs it: on 127.0.0.1, SQLite in a
temporary directory or PostgreSQL with --database-url) issues ``--credentials`` credentials to as
many citizens, then serves, with ``--workers`` processes on the one port (HEALTHCODE_WEB_WORKERS);
this process drives it with a keep-alive HTTP client cycling through all of them, after a warm-up.
Each request is a full verification: decode, Ed25519 signature, times, and our own records
(supersession and the masked name, cached for 2 s per credential as in production).

``--client wrk`` uses wrk (apt-get install wrk), which takes far less CPU than a Python client;
on a 2-core machine that leaves the server most of one core, as in production.
``--foreign`` verifies another region's credentials instead (trusted list, no database read).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

TARGET_RATE = 3000
TARGET_P99_MS = 20.0


# -- the server process ----------------------------------------------------------------------

async def _serve(directory: Path, port: int, credentials: int, database_url: str | None, foreign: bool,
                 workers: int) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bot.bootstrap import create_services
    from bot.clock import SystemClock
    from bot.credentials.cwt import expiry_for, issue_credential
    from bot.credentials.keyring import SigningKey, b64url_encode
    from bot.cli_commands.web import serve_web
    from bot.settings import load_settings
    from rules.model import Colour
    from storage.migrate import upgrade
    from storage.records import CredentialRecord, NewUser

    clock = SystemClock()
    now = clock.now()
    foreign_signer = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    trusted = directory / "shanghai.json"
    trusted.write_text(json.dumps({
        "format": "healthcode-trust-list/1", "issuer": "CN-310100", "region": "上海市",
        "issued_at": (now - timedelta(hours=1)).replace(microsecond=0).isoformat(),
        "next_update": (now + timedelta(days=1)).replace(microsecond=0).isoformat(),
        "keys": [{"kid": foreign_signer.kid, "alg": "EdDSA", "crv": "Ed25519",
                  "x": b64url_encode(foreign_signer.public_key_raw),
                  "not_before": (now - timedelta(days=1)).replace(microsecond=0).isoformat(), "not_after": None}]}))
    url = database_url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await upgrade(url)
    if port == 0:
        port = _free_port()
    # Settings by environment, as in production: the extra worker processes read the same.
    os.environ.update({
        "HEALTHCODE_DATABASE_URL": url, "HEALTHCODE_STATE_DIR": str(directory / "state"),
        "HEALTHCODE_KEYS_DIR": str(directory / "keys"), "HEALTHCODE_DATA_KEY_FILE": str(directory / "state" / "data.key"),
        "HEALTHCODE_WEB_HOST": "127.0.0.1", "HEALTHCODE_WEB_PORT": str(port), "HEALTHCODE_WEB_WORKERS": str(workers),
        "HEALTHCODE_LOG_LEVEL": "WARNING", "HEALTHCODE_TRUSTED_ISSUERS": str(trusted),
    })
    settings = load_settings(_env_file=None)
    services = await create_services(settings, clock, local=True)  # makes the data key and signing key
    now = clock.now()  # after the key ring exists: a key verifies only what was issued once it was valid
    tokens = []
    expires = expiry_for(now, settings.tz)
    async with services.database.unit_of_work() as uow:
        for n in range(credentials):
            if foreign:
                tokens.append(issue_credential(foreign_signer, issuer="CN-310100",
                                               colour=Colour.GREEN, issued_at=now, expires_at=expires).token)
                continue
            user = await uow.users.add(NewUser(700_000 + n, f"测试{n}", _resident_id(n), f"139{n:08d}", "330100",
                                               "bench", now), now)
            issued = issue_credential(services.keyring.current_signer(), issuer=settings.issuer,
                                      colour=Colour.GREEN, issued_at=now, expires_at=expires)
            await uow.credentials.add(CredentialRecord(
                cti=issued.cti_hex, user_id=user.id, kid=issued.kid, colour=Colour.GREEN, status_key="bench",
                token=issued.token, issued_at=issued.issued_at, expires_at=issued.expires_at))
            tokens.append(issued.token)
    (directory / "tokens.json").write_text(json.dumps(tokens))
    await services.database.dispose()
    serving = asyncio.get_running_loop().create_task(serve_web(settings))
    await _until_listening(port)
    (directory / "ready").write_text(str(port))
    await serving  # until SIGTERM


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _until_listening(port: int) -> None:
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return


def _resident_id(n: int) -> str:
    body = f"330106199001{n % 28 + 1:02d}{n // 28 % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


# -- the load ----------------------------------------------------------------------------------

async def _aiohttp_load(base: str, tokens: list[str], seconds: float, concurrency: int) -> tuple[int, list[float], int]:
    import aiohttp

    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    counter = iter(range(10 ** 12))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                token = tokens[next(counter) % len(tokens)]
                began = time.perf_counter()
                async with session.get(f"{base}/api/v1/verify?c={token}") as response:
                    body = await response.read()
                latencies.append(time.perf_counter() - began)
                if response.status != 200 or b'"valid":true' not in body:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), latencies, failures


def _wrk_load(base: str, tokens: list[str], seconds: float, concurrency: int, directory: Path) -> dict[str, float]:
    paths = directory / "paths.lua"
    listing = ",\n".join(f'"/api/v1/verify?c={token}"' for token in tokens)
    paths.write_text(
        "local paths = {\n" + listing + "\n}\n"
        "local i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        "local bad = 0\n"
        "response = function(status, headers, body)\n  if status ~= 200 then bad = bad + 1 end\nend\n"
    )
    done = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", str(paths), base],
                          capture_output=True, text=True, check=True)
    text = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    percentiles = {p: _ms(re.search(rf"^\s+{p}%\s+(\S+)", text, re.MULTILINE).group(1)) for p in ("50", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rate": rate, "p50": percentiles["50"], "p99": percentiles["99"], "non_2xx": int(errors.group(1)) if errors else 0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _report(label: str, rate: float, p50: float, p99: float, failures: int, concurrency: int) -> None:
    verdict = "meets" if rate >= TARGET_RATE and p99 < TARGET_P99_MS and not failures else "MISSES"
    print(f"{label}: {rate:,.0f} verifications/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms "
          f"(concurrency {concurrency}, {failures} failed) -> {verdict} the target of "
          f"{TARGET_RATE:,}/s with p99 < {TARGET_P99_MS:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--credentials", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes on the one port (HEALTHCODE_WEB_WORKERS; default: one per CPU)")
    parser.add_argument("--client", choices=("aiohttp", "wrk"), default="wrk" if shutil.which("wrk") else "aiohttp")
    parser.add_argument("--foreign", action="store_true", help="verify another region's credentials")
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty database (default: SQLite in a temp dir)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # internal: the server process
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve, args.port, args.credentials, args.database_url, args.foreign, args.workers))
        return

    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        command = [sys.executable, __file__, "--serve", str(directory), "--credentials", str(args.credentials),
                   "--workers", str(args.workers)]
        if args.foreign:
            command.append("--foreign")
        if args.database_url:
            command += ["--database-url", args.database_url]
        server = subprocess.Popen(command, env={**os.environ, "PYTHONHASHSEED": "0"})
        try:
            ready = directory / "ready"
            began = time.monotonic()
            while not ready.exists():
                if server.poll() is not None or time.monotonic() - began > 300:
                    raise SystemExit("the server process did not start")
                time.sleep(0.1)
            base = f"http://127.0.0.1:{ready.read_text()}"
            tokens = json.loads((directory / "tokens.json").read_text())
            kind = "foreign (trust list)" if args.foreign else "own (database records)"
            print(f"server {base} ({args.workers} process(es)), {len(tokens)} distinct {kind} credentials, "
                  f"client {args.client}, {os.cpu_count()} CPU(s)")
            if args.client == "wrk":
                _wrk_load(base, tokens, args.warmup, args.concurrency, directory)
                result = _wrk_load(base, tokens, args.seconds, args.concurrency, directory)
                _report("wrk", result["rate"], result["p50"], result["p99"], int(result["non_2xx"]), args.concurrency)
            else:
                asyncio.run(_aiohttp_load(base, tokens, args.warmup, args.concurrency))
                count, latencies, failures = asyncio.run(_aiohttp_load(base, tokens, args.seconds, args.concurrency))
                latencies.sort()
                p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
                _report("aiohttp", count / args.seconds, statistics.median(latencies) * 1000, p99, failures,
                        args.concurrency)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()

"""How long a status card takes to render.  Run from the repository root: ``python -m bench.qr_render``."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.credentials.cwt import issue_credential
from bot.credentials.keyring import SigningKey
from bot.qr_card import render_card, render_terminal
from rules.model import Colour

RUNS = 200
PUBLIC_URL = "https://hc.example.cn"


def _realistic_url(signer: SigningKey, colour: Colour) -> str:
    issued_at = datetime(2024, 5, 1, 1, 0, tzinfo=timezone.utc)
    credential = issue_credential(
        signer,
        issuer="CN-330100",
        colour=colour,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(hours=40),
    )
    return f"{PUBLIC_URL}/v/{credential.token}"


def _ms_per_call(render: object, *args: object) -> float:
    started = time.perf_counter()
    for _ in range(RUNS):
        render(*args)  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000 / RUNS


def main() -> None:
    signer = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    for colour in Colour:
        url = _realistic_url(signer, colour)
        card = render_card(url, colour)
        print(
            f"{colour.value:>6}: url {len(url)} chars, card {len(card)} bytes, "
            f"render_card {_ms_per_call(render_card, url, colour):.2f} ms, "
            f"render_terminal {_ms_per_call(render_terminal, url):.2f} ms  (N={RUNS})"
        )


if __name__ == "__main__":
    main()

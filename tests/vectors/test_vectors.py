"""The conformance vectors: the verification use case and the offline CLI give each expected result."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main as cli_main
from bot.services.verification import verify_token
from bot.credentials.trust import TrustStore, parse_trust_list
from bot.credentials.trust_sources import parse_revocation_list

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))
REQUIRED = {"valid", "expired", "not_yet_valid", "payload_tampered", "signature_tampered", "unknown_kid",
            "wrong_issuer", "revoked", "rotated_key_still_valid", "stale_trust_list",
            # issue 9: times and lifetimes, the unprotected header, credentials with the old subject claim
            "iat_out_of_range", "exp_out_of_range", "lifetime_too_long", "unprotected_alg", "unprotected_kid",
            "legacy_subject"}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def test_one_vector_per_required_outcome() -> None:
    names = {_load(path)["name"] for path in CASES}
    assert REQUIRED <= names
    assert all(_load(path)["format"] == "healthcode-conformance-vector/1" for path in CASES)


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
async def test_verifier_passes_vector(path: Path) -> None:
    case = _load(path)
    now = datetime.fromisoformat(case["now"])
    grace = timedelta(hours=case["trust_list_grace_hours"])
    lists = [parse_trust_list(document, f"{case['name']}: trust_lists[{i}]")
             for i, document in enumerate(case["trust_lists"])]
    revoked: dict[str, set[str]] = {}
    for index, document in enumerate(case["revocation_lists"]):
        issuer, ctis = parse_revocation_list(document, f"{case['name']}: revocation_lists[{index}]")
        revoked.setdefault(issuer, set()).update(ctis)
    view = await verify_token(case["credential"], trust=TrustStore.from_lists(lists, now, grace), now=now,
                              revoked=revoked)
    result = view.to_json()
    assert {name: result[name] for name in case["expected"]} == case["expected"]


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
def test_offline_cli_exit_status_follows_vector(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env, no key ring: only the files given
    monkeypatch.setenv("HEALTHCODE_TRUST_LIST_GRACE_HOURS", str(_load(path)["trust_list_grace_hours"]))
    case = _load(path)
    arguments = ["verify", case["credential"], "--at", case["now"], "--json"]
    for index, document in enumerate(case["trust_lists"]):
        file = tmp_path / f"trust-{index}.json"
        file.write_text(json.dumps(document), "utf-8")
        arguments += ["--trust-list", str(file)]
    for index, document in enumerate(case["revocation_lists"]):
        file = tmp_path / f"revoked-{index}.json"
        file.write_text(json.dumps(document), "utf-8")
        arguments += ["--revocation-list", str(file)]
    status = cli_main(arguments)
    printed = json.loads(capsys.readouterr().out)
    assert status == (0 if case["expected"]["valid"] else 1)
    assert {name: printed[name] for name in case["expected"]} == case["expected"]


def test_generator_reproduces_the_committed_vectors() -> None:
    # The files are what the generator (fixed keys, deterministic Ed25519) writes: nothing hand-edited.
    from tests.vectors.generate import build

    built = {case["name"]: case for case in build()}
    for path in CASES:
        assert _load(path) == built[path.stem]

"""The conformance vectors: the verification use case and the offline CLI give each expected result."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main as cli_main
from bot.services.verification import verify_token
from bot.credentials.trust import TrustStore, parse_trust_list
from bot.credentials.trust_sources import parse_revocation_list

CASES = sorted((Path(__file__).parent / "cases").glob("v*/*.json"))
REQUIRED = {"valid", "expired", "not_yet_valid", "payload_tampered", "signature_tampered", "unknown_kid",
            "wrong_issuer", "revoked", "rotated_key_still_valid", "stale_trust_list",
            # issue 9: times and lifetimes, the unprotected header, credentials with the old subject claim
            "iat_out_of_range", "exp_out_of_range", "lifetime_too_long", "unprotected_alg", "unprotected_kid",
            "legacy_subject"}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def _id(path: Path) -> str:
    return f"{path.parent.name}-{path.stem}"


@pytest.mark.parametrize("version", [1, 2])
def test_one_vector_per_required_outcome_in_each_version(version: int) -> None:
    paths = [path for path in CASES if path.parent.name == f"v{version}"]
    assert REQUIRED <= {_load(path)["name"] for path in paths}
    assert all(_load(path)["format"] == f"healthcode-conformance-vector/{version}" for path in paths)


def test_v2_tokens_are_base32_and_their_qr_url_is_alphanumeric_version_9() -> None:
    import segno

    for path in CASES:
        case = _load(path)
        if case["format"].endswith("/2") and case["name"] != "malformed":
            assert re.fullmatch(r"[A-Z2-7]+", case["credential"]), path
            assert re.fullmatch(r"[0-9A-Z $%*+\-./:]+", case["qr_url"]), path
            symbol = segno.make_qr(case["qr_url"], error="m", boost_error=False)
            assert (symbol.mode, symbol.version) == ("alphanumeric", 9), path


@pytest.mark.parametrize("path", [path for path in CASES if path.parent.name == "v2"], ids=_id)
async def test_the_qr_url_verifies_as_its_credential(path: Path) -> None:
    case = _load(path)
    now = datetime.fromisoformat(case["now"])
    trust = TrustStore.from_lists([parse_trust_list(document, "t") for document in case["trust_lists"]], now,
                                  timedelta(hours=case["trust_list_grace_hours"]))
    by_url = await verify_token(case["qr_url"], trust=trust, now=now)
    by_token = await verify_token(case["credential"], trust=trust, now=now)
    assert by_url == by_token


@pytest.mark.parametrize("path", CASES, ids=_id)
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


@pytest.mark.parametrize("path", CASES, ids=_id)
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

    built = {(f"v{version}", case["name"]): case for version in (1, 2) for case in build(version)}
    assert set(built) == {(path.parent.name, path.stem) for path in CASES}
    for path in CASES:
        assert _load(path) == built[(path.parent.name, path.stem)]

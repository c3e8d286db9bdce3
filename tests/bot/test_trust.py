"""Trust list parsing, the trust store and staleness."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.credentials.keyring import KeyRing
from bot.credentials.trust import TrustListError, TrustStore, parse_trust_list, read_trust_list_file

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
WEEK = timedelta(days=7)


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing.generate(tmp_path / "keys", NOW)


@pytest.fixture
def exported(ring: KeyRing) -> dict[str, Any]:
    return ring.export_trust_list("CN-330100", "杭州市", NOW, WEEK)


def test_parse_valid_list(exported: dict[str, Any], ring: KeyRing) -> None:
    parsed = parse_trust_list(exported, "hangzhou.json")
    assert parsed.issuer == "CN-330100"
    assert parsed.region == "杭州市"
    assert parsed.issued_at == NOW
    assert parsed.next_update == NOW + WEEK
    kid = ring.current_signer().kid
    assert parsed.keys[kid].x == ring.current_signer().public_key_raw
    assert parsed.keys[kid].not_after is None


def _set(path: str, value: Any) -> Any:
    def mutate(document: dict[str, Any]) -> None:
        target: Any = document
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return mutate


_DELETE = object()

BAD_LISTS = [
    ("format", _set("format", "healthcode-trust-list/2")),
    ("issuer", _set("issuer", "")),
    ("region", _set("region", _DELETE)),
    ("issued_at", _set("issued_at", "yesterday")),
    ("issued_at", _set("issued_at", "2024-05-01T08:00:00")),  # no UTC offset
    ("next_update", _set("next_update", "2024-04-01T00:00:00+00:00")),  # before issued_at
    ("keys", _set("keys", [])),
    ("alg", _set("keys.0.alg", "ES256")),
    ("crv", _set("keys.0.crv", "X25519")),
    ("x", _set("keys.0.x", "not base64url!")),
    ("x", _set("keys.0.x", "AAAA")),  # 3 bytes, not a 32-byte key
    ("kid", _set("keys.0.kid", "AAAAAAAAAAA")),  # does not match x
    ("not_before", _set("keys.0.not_before", None)),
    ("not_after", _set("keys.0.not_after", "2020-01-01T00:00:00+00:00")),  # before not_before
]


@pytest.mark.parametrize(("field", "mutate"), BAD_LISTS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_LISTS)])
def test_parse_errors_name_source_and_field(exported: dict[str, Any], field: str, mutate: Any) -> None:
    document = copy.deepcopy(exported)
    mutate(document)
    with pytest.raises(TrustListError) as caught:
        parse_trust_list(document, "regions/hz.json")
    message = str(caught.value)
    assert message.startswith("regions/hz.json:")
    assert f"'{field}'" in message


def test_parse_rejects_duplicate_kid(exported: dict[str, Any]) -> None:
    exported["keys"].append(dict(exported["keys"][0]))
    with pytest.raises(TrustListError, match=r"keys\[1\].*listed twice"):
        parse_trust_list(exported, "dup.json")


def test_parse_rejects_non_object() -> None:
    with pytest.raises(TrustListError, match="src: a trust list must be a JSON object"):
        parse_trust_list([1, 2], "src")


def test_read_file_names_the_path_on_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(TrustListError, match="broken.json"):
        read_trust_list_file(path)


def test_read_file_parses_exported_list(tmp_path: Path, exported: dict[str, Any]) -> None:
    path = tmp_path / "hz.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    assert read_trust_list_file(path).source == str(path)


def test_newest_list_for_an_issuer_wins(ring: KeyRing) -> None:
    older = ring.export_trust_list("CN-330100", "杭州市", NOW, WEEK)
    ring.rotate(NOW + timedelta(days=1), timedelta(days=2))
    newer = ring.export_trust_list("CN-330100", "杭州市", NOW + timedelta(days=1), WEEK)
    for order in ([older, newer], [newer, older]):
        store = TrustStore.from_lists(order, NOW + timedelta(days=1), timedelta(hours=1))
        assert len(store.trust_list("CN-330100").keys) == 2


def test_stale_only_after_next_update_plus_grace(exported: dict[str, Any]) -> None:
    grace = timedelta(days=1)
    store = TrustStore.from_lists([exported], NOW, grace)
    assert store.stale_issuers(NOW + WEEK + grace) == []
    assert store.stale_issuers(NOW + WEEK + grace + timedelta(seconds=1)) == ["CN-330100"]
    assert store.is_stale("CN-330100", NOW + WEEK + grace + timedelta(seconds=1))
    assert store.trust_list("CN-330100") is not None  # stale lists are kept, not dropped


def test_own_key_ring_never_goes_stale_and_replaces_loaded_list(ring: KeyRing, tmp_path: Path) -> None:
    other_ring = KeyRing.generate(tmp_path / "other", NOW)
    foreign = other_ring.export_trust_list("CN-330100", "杭州市", NOW, WEEK)
    store = TrustStore.from_lists([foreign], NOW, timedelta(0))
    store.add_own(ring, "CN-330100", "杭州市")
    assert set(store.trust_list("CN-330100").keys) == {ring.current_signer().kid}
    assert store.stale_issuers(NOW + timedelta(days=3650)) == []


def test_key_lookup_is_per_issuer(ring: KeyRing, tmp_path: Path) -> None:
    other_ring = KeyRing.generate(tmp_path / "other", NOW)
    store = TrustStore.from_lists(
        [
            ring.export_trust_list("CN-330100", "杭州市", NOW, WEEK),
            other_ring.export_trust_list("CN-310000", "上海市", NOW, WEEK),
        ],
        NOW,
        timedelta(0),
    )
    assert store.issuers() == ["CN-310000", "CN-330100"]
    assert store.key("CN-330100", ring.current_signer().kid) is not None
    assert store.key("CN-310000", ring.current_signer().kid) is None
    assert store.key("CN-999999", ring.current_signer().kid) is None

"""Published keys and revocations: trust-list.json across a key rotation, revoked.json until expiry."""
from __future__ import annotations

from datetime import timedelta

from bot.credentials.keyring import KeyRing
from bot.local.chat import LocalUser
from bot.credentials.trust import parse_trust_list
from bot.credentials.trust_sources import parse_revocation_list
from bot.web.server import KeyRingWatcher
from tests.web.conftest import Site, card_token

LIFETIME = timedelta(hours=49)


async def test_trust_list_publishes_our_keys_and_keeps_the_old_one_across_a_rotation(site: Site,
                                                                                      citizen: LocalUser) -> None:
    harness, services = site.harness, site.harness.services
    old_token = await card_token(harness, citizen)
    old_kid = services.keyring.current_signer().kid
    status, document = await site.get_json("/.well-known/healthcode/trust-list.json")
    assert status == 200
    published = parse_trust_list(document, "served")
    assert published.issuer == "CN-330100" and published.region == "杭州市" and list(published.keys) == [old_kid]
    assert published.next_update == harness.clock.now() + timedelta(hours=24)

    # `healthcode keys rotate` in another process; the running server notices the file change.
    watcher = KeyRingWatcher(services)
    harness.clock.advance(timedelta(hours=1))
    rotated_at = harness.clock.now().replace(microsecond=0)
    ahead = timedelta(minutes=services.settings.trust_refresh_minutes)
    new_kid = KeyRing.load(services.keyring.directory).rotate(harness.clock.now(), LIFETIME, publish_ahead=ahead).kid
    assert watcher.reload_if_changed()

    # The new key is published at once ...
    _, document = await site.get_json("/.well-known/healthcode/trust-list.json")
    keys = parse_trust_list(document, "served").keys
    assert set(keys) == {old_kid, new_kid}
    assert keys[old_kid].not_after == rotated_at + LIFETIME and keys[new_kid].not_after is None
    _, result = await site.get_json(f"/api/v1/verify?c={old_token}")
    assert result["valid"] is True and result["kid"] == old_kid
    # ... but signs only once other regions have had a refresh interval to fetch it.
    assert services.keyring.current_signer().kid == old_kid
    between = await card_token(harness, citizen, temperature="37.4")
    _, result = await site.get_json(f"/api/v1/verify?c={between}")
    assert result["valid"] is True and result["kid"] == old_kid
    harness.clock.advance(ahead - timedelta(seconds=1))
    assert not watcher.reload_if_changed() and services.keyring.current_signer().kid == old_kid
    harness.clock.advance(timedelta(seconds=1))
    assert watcher.reload_if_changed() and services.keyring.current_signer().kid == new_kid
    assert not (services.keyring.directory / f"{old_kid}.pem").exists()  # a retired key never signs again
    # What the old key signed still verifies; a new card is signed with the new key.
    _, result = await site.get_json(f"/api/v1/verify?c={between}")
    assert result["valid"] is True and result["kid"] == old_kid
    new_token = await card_token(harness, citizen, temperature="37.8")
    _, result = await site.get_json(f"/api/v1/verify?c={new_token}")
    assert result["valid"] is True and result["kid"] == new_kid
    # Once the old key's last credential has expired, the key leaves the list.
    harness.clock.advance(LIFETIME)
    _, document = await site.get_json("/.well-known/healthcode/trust-list.json")
    assert list(parse_trust_list(document, "served").keys) == [new_kid]


async def test_revoked_json_lists_superseded_credentials_until_they_expire(site: Site, citizen: LocalUser) -> None:
    harness = site.harness
    green = await card_token(harness, citizen)
    status, document = await site.get_json("/.well-known/healthcode/revoked.json")
    assert status == 200 and parse_revocation_list(document, "served") == ("CN-330100", frozenset())
    await card_token(harness, citizen, temperature="38.2")
    _, result = await site.get_json(f"/api/v1/verify?c={green}")
    async with harness.services.database.unit_of_work() as uow:
        withdrawn = await uow.credentials.withdrawn_since(None, harness.clock.now())
    assert len(withdrawn) == 1
    cti, expires = withdrawn[0]
    _, document = await site.get_json("/.well-known/healthcode/revoked.json")
    assert document["revoked"] == [{"cti": cti, "exp": expires.isoformat()}]
    assert result["exp"] == expires.isoformat()
    harness.clock.set(expires + timedelta(seconds=1))
    _, document = await site.get_json("/.well-known/healthcode/revoked.json")
    assert document["revoked"] == []

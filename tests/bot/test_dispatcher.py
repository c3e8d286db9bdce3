"""The dispatcher's wiring checks: clashes refused at start-up, buttons that fit, typed presses validated."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

import pytest

from bot.replies import button
from bot.services import conversation
from bot.services.callbacks import MAX_BYTES, CallbackData, CallbackDataError, DuplicateButtonFamily, if_garbled, text
from bot.services.context import Turn
from bot.services.dispatcher import DuplicateRoute, Routes
from bot.services.feature import Command, Content, DeepLink, Draft, Feature, Flow, Press, Step


async def _nothing(*args: object) -> None:
    return None


async def _took(*args: object) -> bool:
    return True


class Shade(Enum):
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class _Sample(CallbackData, prefix="tst", action="sample"):
    organisation_id: int
    page: int
    shade: Shade
    day: date


@dataclass(frozen=True)
class _Other(CallbackData, prefix="tst", action="other"):
    code: str = text(max_length=60)


@dataclass(frozen=True)
class _Names(CallbackData, prefix="tst", action="names"):
    organisation_id: int = if_garbled(0)


def _feature(name: str, **declared: object) -> Feature:
    return Feature(name=name, **declared)  # type: ignore[arg-type]


def test_a_command_claimed_twice_is_refused_at_start_up() -> None:
    with pytest.raises(DuplicateRoute, match="/start is claimed by both a and b"):
        Routes.build((_feature("a", commands=(Command("start", _nothing),)),
                      _feature("b", commands=(Command("start", _nothing),))))


def test_a_button_family_claimed_twice_is_refused() -> None:
    with pytest.raises(DuplicateRoute, match="tst:sample"):
        Routes.build((_feature("a", presses=(Press(_Sample, _nothing),)),
                      _feature("b", presses=(Press(_Sample, _nothing),))))
    flow = Flow("demo", Draft, (Step("only", _nothing, presses=(Press(_Sample, _nothing),)),))
    with pytest.raises(DuplicateRoute, match="tst:sample"):  # a flow's step and a feature-wide press
        Routes.build((_feature("a", presses=(Press(_Sample, _nothing),)), _feature("b", flows=(flow,))))


def test_a_content_kind_flow_or_deep_link_claimed_twice_is_refused() -> None:
    with pytest.raises(DuplicateRoute, match="photo content"):
        Routes.build((_feature("a", content=(Content("photo", _took),)), _feature("b", content=(Content("photo", _took),))))
    flow = Flow("demo", Draft, (Step("only", _nothing),))
    with pytest.raises(DuplicateRoute, match="the flow demo"):
        Routes.build((_feature("a", flows=(flow,)), _feature("b", flows=(flow,))))
    with pytest.raises(DuplicateRoute, match="deep link"):
        Routes.build((_feature("a", deep_links=(DeepLink("join_", _nothing),)),
                      _feature("b", deep_links=(DeepLink("join_", _nothing),))))
    # A picture taken inside one flow and everywhere else is not a clash: the flow's taker comes first.
    routes = Routes.build((_feature("a", content=(Content("photo", _took),)),
                           _feature("b", content=(Content("photo", _nothing, flow="demo"),))))  # type: ignore[arg-type]
    assert routes.content_for("demo", "x", "photo").run is _nothing  # type: ignore[union-attr]
    assert routes.content_for(None, None, "photo").run is _took  # type: ignore[union-attr]


def test_the_product_wiring_has_no_clash_and_its_menu_names_real_commands() -> None:
    routes = Routes.build(conversation.FEATURES)
    assert set(routes.menu) - {"help"} <= set(routes.commands)
    with pytest.raises(DuplicateRoute, match="nobody declares"):
        Routes.build((_feature("a", menu=("ghost",)),))


def test_a_second_class_for_one_family_is_refused_when_defined() -> None:
    with pytest.raises(DuplicateButtonFamily, match="tst:sample"):
        @dataclass(frozen=True)
        class Impostor(CallbackData, prefix="tst", action="sample"):
            value: int


def test_typed_callback_data_round_trips_and_refuses_what_does_not_decode() -> None:
    sample = _Sample(12, 3, Shade.DARK, date(2026, 3, 2))
    assert sample.encode() == "tst:sample:12.3.dark.2026-03-02"
    assert CallbackData.decode(sample.encode()) == sample
    for forged in ("tst:sample:².3.dark.2026-03-02", "tst:sample:99999999999999999999999.3.dark.2026-03-02",
                   "tst:sample:12.3.purple.2026-03-02", "tst:sample:12.3.dark", "tst:sample:12.3.dark.2026-02-30",
                   "tst:sample:-1.3.dark.2026-03-02", "tst:sample", "tst:unknown:1", ""):
        assert CallbackData.decode(forged) is None, forged


def test_a_field_with_a_fallback_reads_a_garbled_press_as_the_fallback() -> None:
    # So a forged organisation button reaches its requirement (refused and audited), not "stale button".
    assert CallbackData.decode("tst:names:12") == _Names(12)
    for garbled in ("tst:names:²", "tst:names:" + "9" * 30, "tst:names:1.2", "tst:names:"):
        assert CallbackData.decode(garbled) == _Names(0), garbled
    assert CallbackData.decode("tst:names") is None  # not this family's shape at all


def test_a_button_whose_data_does_not_fit_in_64_bytes_fails_when_built() -> None:
    assert len(_Other("x" * (MAX_BYTES - len("tst:other:"))).encode().encode()) == MAX_BYTES
    with pytest.raises(CallbackDataError, match="Telegram allows 64"):
        button("common.label", _Other("码" * 20))  # 60 bytes of value, 70 in all
    with pytest.raises(CallbackDataError, match="separator"):
        _Other("a.b").encode()
    with pytest.raises(CallbackDataError, match="longer than 60"):
        _Other("x" * 61).encode()
    assert CallbackData.decode("tst:other:" + "x" * 54) == _Other("x" * 54)


def test_every_button_family_of_the_product_fits_at_its_widest() -> None:
    """Each family's encoding with every int at BIGINT's widest and every str at its declared maximum."""
    import dataclasses
    import typing

    widest = {int: 2**63 - 1, date: date(9999, 12, 31), bool: True}
    for family in CallbackData.families().values():
        if not family.__module__.startswith(("bot.", "handlers.")):
            continue  # this file's own samples
        hints = typing.get_type_hints(family)
        values = []
        for item in dataclasses.fields(family):  # type: ignore[arg-type]
            kind = hints[item.name]
            if isinstance(kind, type) and issubclass(kind, Enum):
                values.append(max(kind, key=lambda member: len(str(member.value))))
            elif kind is str:
                values.append("W" * item.metadata.get("max_length", 0) or "W")
            else:
                values.append(widest[kind])
        assert len(family(*values).encode().encode()) <= MAX_BYTES, family

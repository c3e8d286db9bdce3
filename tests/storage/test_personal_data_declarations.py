"""Personal data is declared per column; erasure and the /mydata export must cover every declaration.

The first test runs over the real schema. The others build throw-away tables (in a copy of the
real metadata where it matters) to show the check fails on what a new feature might forget.
"""
from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, MetaData, String, Table

from bot.services.data_rights import EXPLAINED
from storage.models import Base
from storage.models.personal import NO_PERSONAL_DATA, Personal, holds_no_personal_data, personal, problems
from storage.repositories.erasure import KEPT_ON_PURGE
from storage.repositories.personal_data import coverage_gaps


def _copy_of_the_schema() -> MetaData:
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    return metadata


def test_every_table_is_classified_and_every_personal_column_is_erased_and_exported() -> None:
    assert coverage_gaps(EXPLAINED) == []
    for name in KEPT_ON_PURGE:  # what survives `purge --all` must say it holds nothing personal
        assert Base.metadata.tables[name].info.get(NO_PERSONAL_DATA), name


def test_the_copy_keeps_the_declarations() -> None:
    # The tests below rely on to_metadata carrying column and table info across.
    assert coverage_gaps(EXPLAINED, _copy_of_the_schema().sorted_tables) == []


def test_a_new_table_that_declares_nothing_is_refused() -> None:
    metadata = _copy_of_the_schema()
    Table("suggestions", metadata, Column("id", Integer, primary_key=True),
          Column("about_user", Integer, ForeignKey("users.id")), Column("text", String(500)))
    assert coverage_gaps(EXPLAINED, metadata.sorted_tables) == [
        "suggestions: not classified: declare its personal columns or holds_no_personal_data(reason)"]


def test_an_undeclared_column_in_a_table_about_a_person_is_refused() -> None:
    metadata = _copy_of_the_schema()
    metadata.tables["users"].append_column(Column("nickname", String(64)))
    assert coverage_gaps(EXPLAINED, metadata.sorted_tables) == [
        "users.nickname: undeclared in a table about a person"]


def test_a_declared_column_the_export_leaves_out_is_refused() -> None:
    metadata = _copy_of_the_schema()
    metadata.tables["users"].append_column(Column("nickname", String(64), info=personal(Personal.CONTENT)))
    metadata.tables["declarations"].append_column(Column("note_enc", LargeBinary, info=personal(Personal.SEALED)))
    assert coverage_gaps(EXPLAINED, metadata.sorted_tables) == [
        "users.nickname: declared CONTENT but the users section leaves it out",
        "declarations.note_enc: declared SEALED but the declarations section leaves it out",
    ]


def test_a_new_table_with_sealed_data_needs_an_export_section() -> None:
    metadata = _copy_of_the_schema()
    Table("suggestions", metadata, Column("id", Integer, primary_key=True, info=personal(Personal.ROW)),
          Column("user_id", Integer, ForeignKey("users.id"), info=personal(Personal.USER)),
          Column("text_enc", LargeBinary, info=personal(Personal.SEALED)),
          Column("handled_by", BigInteger, nullable=True, info=personal(Personal.ACTOR)))
    assert coverage_gaps(EXPLAINED, metadata.sorted_tables) == [
        "suggestions.text_enc: sealed, so raw rows cannot show it; the export needs a section"]
    # Once a section shows it, the table is covered; its rows and the acts are erased by declaration.
    assert coverage_gaps({**EXPLAINED, "suggestions": {"text_enc"}}, metadata.sorted_tables) == []


def test_the_export_may_not_claim_columns_or_tables_that_do_not_exist() -> None:
    explained = {**EXPLAINED, "users": EXPLAINED["users"] | {"nickname"}, "pets": frozenset({"name"})}
    assert coverage_gaps(explained) == ["export explains pets, which is no table",
                                        "export shows users.nickname, which is no column"]


def test_columns_that_look_personal_must_be_declared_even_in_tables_about_others() -> None:
    metadata = MetaData()
    users = Table("users", metadata, Column("id", Integer, primary_key=True, info=personal(Personal.USER)),
                  Column("telegram_id", BigInteger, info=personal(Personal.TELEGRAM)))
    Table("events", metadata, Column("id", Integer, primary_key=True), Column("title", String(64)),
          Column("created_by", BigInteger, info=personal(Personal.ACTOR)),
          Column("cancelled_by", BigInteger), Column("host_id", Integer, ForeignKey(users.c.id)),
          Column("speaker_telegram_id", BigInteger), Column("notes_enc", LargeBinary),
          Column("target", String(64), nullable=False, info=personal(Personal.REFERENCE)),
          Column("summary", String(64), info=personal(Personal.CONTENT)))
    Table("counts", metadata, Column("n", Integer),
          Column("owner_telegram_id", BigInteger, info=personal(Personal.TELEGRAM)), info={NO_PERSONAL_DATA: "numbers"})
    assert problems(metadata.sorted_tables) == [
        "counts: declares personal columns yet says it holds no personal data",
        "events.cancelled_by: looks personal but is undeclared",
        "events.host_id: looks personal but is undeclared",
        "events.speaker_telegram_id: looks personal but is undeclared",
        "events.notes_enc: looks personal but is undeclared",
        "events.target: a REFERENCE is cleared on erasure, so it must be nullable",
        "events.summary: personal content in a table no person's erasure deletes",
    ]


def test_a_table_without_personal_data_must_say_why() -> None:
    metadata = MetaData()
    Table("tallies", metadata, Column("n", Integer, primary_key=True), **holds_no_personal_data("numbers only"))
    assert problems(metadata.sorted_tables) == []
    with pytest.raises(ValueError, match="why"):
        holds_no_personal_data(" ")

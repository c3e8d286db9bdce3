"""/import end to end through the real Application: a 50,000-row list, its dry run, the confirmation,
the decisions made in the background by the scheduler's ``imports`` job (and resumed after a run is
cut short), a citizen declaring while they are made, a late registration matched, an out-of-scope
row refused, and every kind of bad file."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.jobs.imports import IMPORT_TICK
from bot.jobs.runtime import TimedJobs
from bot.local.bot_api import SentMessage
from bot.scheduler import RunOutcome
from bot.local.chat import LocalUser
from rules.validators import resident_id_check_char
from storage.models import DecisionRow, ImportPendingRow, ImportRow, ImportTargetRow
from storage.records import NewUser
from tests.handlers.conftest import START, Harness
from tests.handlers.test_org_fixtures import ADMIN, audit, chat, drain, today

CITIZEN = LocalUser(64001, "Citizen", "en")
LATE = LocalUser(64002, "Late", "en")
LIST_ROWS = 50_000
IN_SCOPE, OUTSIDE = 120, 3
FIRST_TELEGRAM_ID = 5_000_000


def listed_id(n: int) -> str:
    """A valid, distinct resident ID for every n below 336,000."""
    body = f"3301061980{n // 28000 % 12 + 1:02d}{n // 1000 % 28 + 1:02d}{n % 1000:03d}"
    return body + resident_id_check_char(body)


def bad_checksum(n: int) -> str:
    good = listed_id(n)
    return good[:17] + ("0" if good[17] != "0" else "1")


async def add_people(harness: Harness, numbers: range, region: str) -> None:
    async with harness.services.database.unit_of_work() as uow:
        for n in numbers:
            await uow.users.add(NewUser(FIRST_TELEGRAM_ID + n, f"市民{n}", listed_id(n), f"139{n:08d}", region, "test",
                                        START), START)


def csv_list(ids: list[str], *, header: str = "身份证号,姓名", encoding: str = "utf-8") -> bytes:
    lines = [header] + [f"{value},某人" for value in ids]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


async def begin(harness: Harness, colour: str = "Red", days: str = "14 days", reason: str = "Close contact") -> None:
    await harness.say(ADMIN, "/import")
    await harness.press(ADMIN, colour)
    await harness.press(ADMIN, days)
    await harness.press(ADMIN, reason)


async def send_list(harness: Harness, content: bytes, name: str = "list.csv") -> list[SentMessage]:
    return await harness.chat.send_photo(ADMIN, content, as_document=True, filename=name)


async def count(harness: Harness, model: type) -> int:
    async with harness.services.database.unit_of_work() as uow:
        return (await uow._session.execute(select(func.count()).select_from(model))).scalar_one()


async def import_rows(harness: Harness) -> list:
    async with harness.services.database.unit_of_work() as uow:
        return (await uow._session.execute(select(ImportRow))).scalars().all()


def timed_jobs(harness: Harness, owner: str = "process-a") -> TimedJobs:
    return TimedJobs(harness.services, harness.application.bot, owner=owner)


async def apply_in_background(harness: Harness, jobs: TimedJobs | None = None) -> list[RunOutcome]:
    """What the scheduler does within a tick of Confirm: the ``imports`` job runs."""
    jobs = jobs or timed_jobs(harness)
    await jobs.sync()
    harness.clock.advance(IMPORT_TICK)
    return [o for o in await jobs.run_due(drain=False) if o.name == "imports"]


async def decided_people(harness: Harness) -> list[int]:
    async with harness.services.database.unit_of_work() as uow:
        return list((await uow._session.execute(select(DecisionRow.user_id))).scalars().all())


async def test_a_50000_row_list_dry_run_confirm_decisions_late_registration_and_scope(harness: Harness) -> None:
    await add_people(harness, range(IN_SCOPE), "330100")  # inside the root's scope (the issuer's 330100)
    await add_people(harness, range(IN_SCOPE, IN_SCOPE + OUTSIDE), "310100")  # Shanghai: outside it
    late_n = LIST_ROWS + 7
    ids = [listed_id(n) for n in range(LIST_ROWS - 8)] + [listed_id(late_n)]
    ids += [bad_checksum(LIST_ROWS + n) for n in range(5)] + [listed_id(0), listed_id(1)]  # 5 malformed, 2 repeats
    assert len(ids) == LIST_ROWS
    content = csv_list(ids)

    await begin(harness)
    [summary] = await send_list(harness, content)
    listed = LIST_ROWS - 8 + 1
    assert f"Dry run (resident ID numbers): {LIST_ROWS} row(s), {listed} different number(s)" in summary.text
    assert f"Matched inside your scope: {IN_SCOPE}" in summary.text
    assert f"Not registered: {listed - IN_SCOPE - OUTSIDE}" in summary.text
    assert f"Registered outside your scope (refused): {OUTSIDE}" in summary.text
    assert "Malformed rows: 5 · repeated: 2 · empty: 0" in summary.text
    first_bad_line = LIST_ROWS - 8 + 1 + 1 + 1  # header, the good rows, the late one
    assert f"line {first_bad_line}: That ID number's check character does not match" in summary.text
    until = today(harness) + timedelta(days=13)
    assert f"On Confirm: Red for 14 day(s), until {until:%Y-%m-%d}. Reason: Close contact" in summary.text
    assert hashlib.sha256(content).hexdigest()[:12] in summary.text
    assert await count(harness, DecisionRow) == 0  # the dry run changes nobody's code

    [confirmed] = await harness.press(ADMIN, "Confirm")
    assert confirmed.text.startswith(f"Import 1 confirmed: {IN_SCOPE} decision(s) to record, Red until {until:%Y-%m-%d}")
    assert f"Refused (outside your scope): {OUTSIDE}" in confirmed.text
    # Confirm answered at once: the decisions are the background job's.
    assert await count(harness, DecisionRow) == 0 and await count(harness, ImportTargetRow) == IN_SCOPE
    [record] = await import_rows(harness)
    assert record.state == "applying"
    [outcome] = await apply_in_background(harness)
    assert outcome.state == "done" and outcome.result["decided"] == IN_SCOPE
    assert outcome.result["chunks"] > 1  # a chunk per transaction
    assert await count(harness, ImportTargetRow) == 0
    async with harness.services.database.unit_of_work() as uow:
        decided = (await uow._session.execute(select(DecisionRow.user_id))).scalars().all()
        people = {u: await uow.users.get(u) for u in decided}
    assert len(decided) == IN_SCOPE and all(p.region_code == "330100" for p in people.values())
    entries = await audit(harness, "decision.record")
    assert len(entries) == IN_SCOPE and all(e.detail["import"] and e.detail["colour"] == "red" for e in entries)
    assert not any(listed_id(0) in str(e.detail) for e in entries)
    [refusal] = [e for e in await audit(harness, "denied") if e.detail["attempt"] == "import:outside_scope"]
    assert refusal.detail["count"] == OUTSIDE
    [record] = await import_rows(harness)
    assert (record.state, record.matched, record.applied, record.outside_scope, record.malformed) == (
        "confirmed", IN_SCOPE, IN_SCOPE, OUTSIDE, 5)
    assert record.file_sha256 == hashlib.sha256(content).hexdigest()
    # Only the digests of people not registered are kept, for later registrations.
    assert await count(harness, ImportPendingRow) == listed - IN_SCOPE - OUTSIDE

    assert await drain(harness) == IN_SCOPE + 1  # the people, and the importer's totals
    report = chat(harness, ADMIN)[-1]
    assert report.text.startswith(f"Import 1 done: {IN_SCOPE} decision(s) recorded, Red until {until:%Y-%m-%d}")
    assert f"Waiting for registration until the window ends: {listed - IN_SCOPE - OUTSIDE}" in report.text
    notice = chat(harness, FIRST_TELEGRAM_ID)[-1]
    assert notice.caption.startswith(f"The health authority set your code to Red until {until:%Y-%m-%d}.")
    assert "close contact (health-authority list)" in notice.caption

    harness.next_day(2)
    await harness.register(LATE, resident_id=listed_id(late_n), phone="13700000001", region="330100")
    [status] = await harness.say(LATE, "/status")
    assert "Red code" in status.caption and f"until {until.isoformat()}" in status.caption
    [record] = await import_rows(harness)
    assert record.late_matched == 1
    assert await count(harness, ImportPendingRow) == listed - IN_SCOPE - OUTSIDE - 1

    harness.next_day(13)  # past the window: a listed person registering now is not matched
    after = LocalUser(64003, "After", "en")
    await harness.register(after, resident_id=listed_id(IN_SCOPE + OUTSIDE + 10), phone="13700000003", region="330100")
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(after.telegram_id)
        assert await uow.decisions.for_user(user.id) == []
    await harness.say(ADMIN, "/import")  # any /import purges what has expired
    await harness.press(ADMIN, "Cancel")
    assert await count(harness, ImportPendingRow) == 0


async def confirm_list_of(harness: Harness, people: int) -> None:
    await add_people(harness, range(people), "330100")
    await begin(harness)
    await send_list(harness, csv_list([listed_id(n) for n in range(people)]))
    [confirmed] = await harness.press(ADMIN, "Confirm")
    assert f"{people} decision(s) to record" in confirmed.text


async def wait_for_decisions(harness: Harness, at_least: int, task: asyncio.Task) -> int:
    for _ in range(2000):
        decided = len(await decided_people(harness))
        if decided >= at_least or task.done():
            return decided
        await asyncio.sleep(0.01)
    raise AssertionError("the import job made no progress")


async def test_a_run_cut_short_is_finished_by_the_next_without_two_decisions_for_anyone(harness: Harness) -> None:
    people = 400
    await confirm_list_of(harness, people)
    first = timed_jobs(harness, "process-a")
    await first.sync()
    harness.clock.advance(IMPORT_TICK)
    run = asyncio.create_task(first.run_due(drain=False))
    decided = await wait_for_decisions(harness, 60, run)
    assert not run.done()
    run.cancel()  # the process dies half way
    with contextlib.suppress(asyncio.CancelledError):
        await run
    decided = len(await decided_people(harness))
    assert 0 < decided < people
    assert await count(harness, ImportTargetRow) == people - decided  # each chunk whole or not at all

    # Another process: the lease of the dead one runs out, the next tick takes the run over.
    harness.clock.advance(timedelta(minutes=3))
    [outcome] = await apply_in_background(harness, timed_jobs(harness, "process-b"))
    assert outcome.state == "done" and outcome.result["decided"] == people - decided
    everyone = await decided_people(harness)
    assert len(everyone) == people and len(set(everyone)) == people
    [record] = await import_rows(harness)
    assert (record.state, record.applied) == ("confirmed", people)
    assert len(await audit(harness, "decision.record")) == people
    await drain(harness)  # (the three minutes also brought 09:00's reminders)
    notices = [[m for m in chat(harness, FIRST_TELEGRAM_ID + n)
                if (m.caption or "").startswith("The health authority set your code")] for n in range(people)]
    assert [len(told) for told in notices] == [1] * people  # one notice each
    assert len([m for m in chat(harness, ADMIN) if (m.text or "").startswith("Import 1 done")]) == 1
    assert (await apply_in_background(harness))[0].result["decided"] == 0  # nothing left to do


async def test_a_citizen_declares_while_an_import_applies(harness: Harness) -> None:
    await harness.register(CITIZEN, resident_id="33010619900101123X", phone="13800138111")
    people = 400
    await confirm_list_of(harness, people)
    run = asyncio.create_task(apply_in_background(harness))
    await wait_for_decisions(harness, 1, run)
    replies = await harness.declare(CITIZEN)
    assert replies[0].text.startswith("Declaration for") and "Green code" in (replies[-1].caption or "")
    assert not run.done() and len(await decided_people(harness)) < people  # it did not wait for the list
    [outcome] = await run
    assert outcome.result["decided"] == people


async def test_a_late_registration_outside_the_scope_is_refused(harness: Harness) -> None:
    await begin(harness, colour="Yellow", days="7 days", reason="Same flight, train or venue as a case")
    [summary] = await send_list(harness, csv_list([listed_id(1), listed_id(2)], header="resident_id"))
    assert "Not registered: 2" in summary.text
    await harness.press(ADMIN, "Confirm")
    await apply_in_background(harness)
    await harness.register(LATE, resident_id=listed_id(1), phone="13700000002", region="310100")
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(LATE.telegram_id)
        assert await uow.decisions.for_user(user.id) == []
    assert any(e.detail.get("attempt") == "import:outside_scope" for e in await audit(harness, "denied"))
    assert await count(harness, ImportPendingRow) == 1  # theirs went; the other waits


async def test_cancel_keeps_nothing_of_the_list(harness: Harness) -> None:
    await begin(harness)
    await send_list(harness, csv_list([listed_id(n) for n in range(50)]))
    assert await count(harness, ImportPendingRow) == 50
    [cancelled] = await harness.press(ADMIN, "Cancel")
    assert cancelled.text.startswith("Import cancelled")
    assert await count(harness, ImportPendingRow) == 0
    assert [r.state for r in await import_rows(harness)] == ["cancelled"]


async def test_a_phone_list_in_gbk_and_an_xlsx_list_are_read(harness: Harness) -> None:
    await add_people(harness, range(3), "330100")
    await begin(harness)
    gbk = csv_list(["139 0000 0000", "+86 13900000001"], header="手机号,姓名", encoding="gbk")
    [refused] = await send_list(harness, gbk)
    assert "holds a formula" in refused.text  # "+86…" is what a spreadsheet runs as a formula
    [summary] = await send_list(harness, csv_list(["139 0000 0000", "8613900000001"], header="手机号,姓名",
                                                  encoding="gbk"))
    assert "Dry run (mobile numbers)" in summary.text and "Matched inside your scope: 2" in summary.text
    await harness.press(ADMIN, "Cancel")

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "身份证号"])
    for n in range(3):
        sheet.append(["某人", listed_id(n)])
    sheet.append(["某人", 33010619800101001])  # a number: digits already lost
    buffer = io.BytesIO()
    workbook.save(buffer)
    await begin(harness)
    [summary] = await send_list(harness, buffer.getvalue(), "list.xlsx")
    assert "Matched inside your scope: 3" in summary.text
    assert "line 5: the cell is a number, not text" in summary.text


def _xlsx_with_formula() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["身份证号"])
    sheet.append([listed_id(1)])
    sheet.append(["=HYPERLINK(\"http://x\",\"y\")"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"x" * (10 * 1024 * 1024 + 1), "The file is larger than 10 MB"),
        (("phone\n" + "13900000000\n" * 100_001).encode(), "The list has more than 100000 rows"),
        (csv_list([listed_id(1)], header="name,birthday"), "No column is headed resident_id"),
        (csv_list([listed_id(1)], header="resident_id,phone"), "Columns A and B both identify people"),
        ("身份证号,姓名\n".encode() + f"{listed_id(1)},张三\n".encode("gbk"), "The file mixes text encodings: line 1"),
        (csv_list(["=1+2"]), "Line 2, column A holds a formula"),
        (csv_list([listed_id(1)]) + b"@SUM(A1),x\n", "Line 3, column A holds a formula"),
        (csv_list([listed_id(1)]) + "-2,x\n".encode(), "Line 3, column A holds a formula"),
        (_xlsx_with_formula(), "Line 3, column A holds a formula"),
        (b"PK\x03\x04 not really a zip", "That XLSX workbook is damaged"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a CSV text file nor an XLSX workbook"),
        (b"resident_id\n", "The list has a header but no rows"),
    ],
    ids=["over-10MB", "over-100000-rows", "wrong-column", "two-columns", "mixed-encodings", "csv-formula",
         "csv-at-sign", "csv-minus", "xlsx-formula", "broken-xlsx", "binary", "header-only"],
)
async def test_bad_files_get_a_clear_answer_and_change_nothing(harness: Harness, content: bytes,
                                                               expected: str) -> None:
    await begin(harness)
    [answer] = await send_list(harness, content)
    assert expected in answer.text and "Nothing was changed" in answer.text
    assert await import_rows(harness) == [] and await count(harness, ImportPendingRow) == 0
    [summary] = await send_list(harness, csv_list([listed_id(1)]))  # still waiting for a file
    assert "Dry run" in summary.text


async def test_a_bom_utf8_list_is_read(harness: Harness) -> None:
    await begin(harness)
    [summary] = await send_list(harness, b"\xef\xbb\xbf" + csv_list([listed_id(n) for n in range(4)]))
    assert "4 row(s), 4 different number(s)" in summary.text


async def test_import_is_for_health_authorities_only(harness: Harness) -> None:
    [refused] = await harness.say(CITIZEN, "/import")
    assert refused.text.startswith("Not permitted") or "not permitted" in refused.text.lower()
    assert any(e.detail.get("attempt") == "/import" for e in await audit(harness, "denied"))
    await harness.say(ADMIN, "/import")
    await harness.press(ADMIN, "Green")
    replies = await harness.say(ADMIN, "0")
    assert replies[0].text.startswith("DAYS must be a whole number from 1 to 365")


async def test_the_shell_plays_an_import_with_a_document(tmp_path) -> None:
    from bot.runners.shell import run_shell
    from bot.settings import load_settings

    (tmp_path / "list.csv").write_bytes(csv_list([listed_id(5), "12345"]))
    settings = load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}",
                             state_dir=tmp_path / "state", keys_dir=tmp_path / "state" / "keys", web_port=0,
                             admin_ids="777")
    script = "\n".join([
        "/language en", "/start", ":press I agree", "Li Wei", listed_id(5), "13800138000", "330100", ":press Confirm",
        ":user 777", "/language en", "/import", ":press Yellow", "7", ":press Contact of a close contact",
        f":document {tmp_path / 'list.csv'}", ":press Confirm", ":user 10001", "/status",
    ])
    out = io.StringIO()
    code = await run_shell(settings, user_id=10001, out_dir=tmp_path / "out", stdin=io.StringIO(script), stdout=out)
    output = out.getvalue()
    assert code == 0, output
    assert "Matched inside your scope: 1" in output and "line 3: A resident ID number has exactly 18" in output
    assert "Import 1 confirmed: 1 decision(s) to record, Yellow" in output
    assert "Import 1 done: 1 decision(s) recorded, Yellow" in output
    assert "Yellow code" in output and "密接的密接（卫生健康部门名单）" in output  # in the default language

"""The local shell's fixed contract: lines in, chat out, controls, exit codes."""
from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import zxingcpp
from PIL import Image

from bot.cli import main as cli_main
from bot.runners.shell import run_shell
from bot.settings import load_settings

REPO = Path(__file__).parents[2]


def _settings(tmp_path: Path):
    return load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}",
                         state_dir=tmp_path / "state", keys_dir=tmp_path / "state" / "keys", web_port=0,
                         admin_ids="777")


async def _run(tmp_path: Path, script: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_shell(_settings(tmp_path), user_id=10001, out_dir=tmp_path / "out",
                           stdin=io.StringIO(script), stdout=out)
    return code, out.getvalue()


async def test_script_registers_and_prints_buttons_and_photos(tmp_path: Path) -> None:
    script = "\n".join([
        "/language en", "/start", ":press 1", "Li Wei", "11010519491231002X", "13800138000", "330100",
        ":press Confirm", "/checkin", "38.5", ":press Done", ":press 1", ":press 1", ":press 1", ":press Confirm", ":quit",
        "this line is never read",
    ])
    code, output = await _run(tmp_path, script)
    assert code == 0, output
    assert "[1] I agree  [2] I do not agree" in output
    match = re.search(r"^photo: (.+\.png)$", output, re.MULTILINE)
    assert match, output
    assert "Li*** · Yellow code" in output
    decoded = zxingcpp.read_barcodes(Image.open(match.group(1)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert decoded[0].text.startswith("HTTP://127.0.0.1:8080/V/")
    assert "never read" not in output


async def test_user_switch_and_time_controls(tmp_path: Path) -> None:
    code, output = await _run(tmp_path, ":user 42 Bob\n/status\n:today 2026-05-01\n:advance 3\n")
    assert code == 0
    assert "shell: now acting as user 42 (Bob)" in output
    assert "shell: today is 2026-05-01" in output and "shell: today is 2026-05-04" in output


async def test_misused_controls_explain_and_the_script_goes_on(tmp_path: Path) -> None:
    script = ":press 1\n:user abc\n:today 2026-13-01\n:advance soon\n:photo /no/such.png\n:frobnicate\n/start\n:press 9\n"
    code, output = await _run(tmp_path, script)
    assert code == 0  # the contract: non-zero only for an internal error
    for expected in ("shell: no message with buttons to press", "usage: :user ID [FIRST_NAME]",
                     "usage: :today YYYY-MM-DD", "usage: :advance N", "shell: cannot read /no/such.png",
                     "unknown control ':frobnicate'", "button 9 does not exist: the latest message has 2"):
        assert expected in output, expected


def test_the_console_script_runs_the_week_example(tmp_path: Path) -> None:
    """The README's example: a fever on 2 March turns green on 9 March, not a day earlier."""
    script = (REPO / "examples" / "yellow-to-green.txt").read_text()
    env = {"PATH": str(Path(sys.executable).parent), "HEALTHCODE_WEB_PORT": "0"}
    done = subprocess.run([sys.executable, "-m", "bot", "shell"], input=script, capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    days = re.split(r"^shell: today is ", done.stdout, flags=re.MULTILINE)
    colours = {chunk[:10]: re.findall(r"· (\w+) code", chunk) for chunk in days[1:]}
    assert colours["2026-03-02"] == ["Yellow"]
    assert colours["2026-03-08"] == ["Yellow"]
    assert colours["2026-03-09"] == ["Green"]
    assert (tmp_path / ".healthcode" / "data.key").exists()


class _ScanEachCard(io.StringIO):
    """The example script as stdin, with a `:photo` of each new card sent back right after it is shown:
    the shell verifies it as a checkpoint would, at the card's own simulated time."""

    def __init__(self, script: str, output: io.StringIO) -> None:
        super().__init__()
        self._lines, self._output, self._scanned = script.splitlines(keepends=True), output, set()

    def readline(self, size: int = -1) -> str:
        cards = re.findall(r"^photo: (.+\.png)$", self._output.getvalue(), re.MULTILINE)
        fresh = [card for card in cards if card not in self._scanned]
        if fresh:
            self._scanned.update(fresh)
            return f":photo {fresh[-1]}\n"
        return self._lines.pop(0) if self._lines else ""


def _cards_with_issue_times(output: str) -> list[tuple[str, str]]:
    """(path, ISO issue time) of every card the shell showed, from the card's own 'Issued …' line."""
    found = re.findall(r"^photo: (.+\.png)\n(?:.*\n)*?Issued (\d{4}-\d\d-\d\d) (\d\d:\d\d) ·", output, re.MULTILINE)
    return [(path, f"{day}T{minute}:00+08:00") for path, day, minute in found]


def test_every_card_of_the_example_verifies_in_the_shell_and_with_the_cli(tmp_path: Path, monkeypatch, capsys) -> None:
    """The README's example: each card verifies where it is shown, and with `healthcode verify --at` its time."""
    script = (REPO / "examples" / "yellow-to-green.txt").read_text()
    settings = _settings(tmp_path)
    out = io.StringIO()
    code = asyncio.run(run_shell(settings, user_id=10001, out_dir=tmp_path / "out", stdin=_ScanEachCard(script, out),
                                 stdout=out))
    output = out.getvalue()
    assert code == 0, output[-3000:]
    cards = _cards_with_issue_times(output)
    assert len(cards) >= 8 and cards[0][1] == "2026-03-02T09:00:00+08:00", output[-3000:]
    scans = re.findall(r"^(✅ VALID · \w+ code|❌ NOT VALID: .*)$", output, re.MULTILINE)
    assert scans == [line for line in scans if line.startswith("✅")] and len(scans) >= len(cards), scans

    for variable, value in {"HEALTHCODE_KEYS_DIR": settings.keys_dir, "HEALTHCODE_STATE_DIR": settings.state_dir,
                            "HEALTHCODE_DATABASE_URL": settings.database_url, "HEALTHCODE_DEFAULT_LANGUAGE": "en",
                            "HEALTHCODE_DATA_KEY_FILE": settings.state_dir / "data.key"}.items():
        monkeypatch.setenv(variable, str(value))
    for path, issued in cards:
        decoded = zxingcpp.read_barcodes(Image.open(path), formats=zxingcpp.BarcodeFormat.QRCode)
        assert len(decoded) == 1 and "/V/" in decoded[0].text, path
        capsys.readouterr()
        assert cli_main(["verify", path, "--at", issued, "--json"]) == 0, (path, issued, capsys.readouterr())
        assert json.loads(capsys.readouterr().out)["valid"] is True


REGISTER_EN = ["/language en", "/start", ":press 1", "Li Wei", "11010519491231002X", "13800138000", "330100",
               ":press Confirm"]


async def test_press_finds_a_label_without_its_marks(tmp_path: Path) -> None:
    script = "\n".join([*REGISTER_EN, "/checkin", "38.5", ":press cough", ":press  SORE THROAT ", ":press ✅ cough", ""])
    code, output = await _run(tmp_path, script)
    assert code == 0, output
    assert "no button labelled" not in output, output[-2000:]
    keyboards = re.findall(r"^\[1\] .* fever  \[2\] (.*) cough  \[3\] (.*) sore throat  ", output, re.MULTILINE)
    # shown, cough ticked, sore throat ticked, then the exact label "✅ cough" unticks it again
    assert keyboards == [("▫️", "▫️"), ("✅", "▫️"), ("✅", "✅"), ("▫️", "✅")], output[-2000:]



async def test_the_local_user_speaks_the_default_language(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}",
                             state_dir=tmp_path / "state", keys_dir=tmp_path / "state" / "keys", web_port=0,
                             default_language="en")
    code = await run_shell(settings, user_id=10001, out_dir=tmp_path / "out", stdin=io.StringIO("/start\n:user 42\n/start\n"),
                           stdout=out)
    assert code == 0
    assert out.getvalue().count("[1] I agree  [2] I do not agree") == 2, out.getvalue()


BAD_CONTROLS = {
    ":user ²": "usage: :user ID [FIRST_NAME]",
    ":user ٣": "usage: :user ID [FIRST_NAME]",
    ":user 0": "usage: :user ID [FIRST_NAME]",
    ":user -5": "usage: :user ID [FIRST_NAME]",
    ":user " + "9" * 5000: "usage: :user ID [FIRST_NAME]",
    ":user 99999999999999999": "usage: :user ID [FIRST_NAME]",
    ":user 42 " + "B" * 65: "at most 64 characters",
    ":user": "usage: :user ID [FIRST_NAME]",
    ":press": "usage: :press N  or  :press LABEL",
    ":press ²": "no button labelled '²'",
    ":press ٣": "no button labelled '٣'",
    ":press 0": "button 0 does not exist",
    ":press " + "9" * 5000: "no button labelled",
    ":press 99": "button 99 does not exist",
    ":today": "usage: :today YYYY-MM-DD",
    ":today ２０２６-03-01": "usage: :today YYYY-MM-DD",
    ":today 2026-3-1": "usage: :today YYYY-MM-DD",
    ":today 20260301": "usage: :today YYYY-MM-DD",
    ":today 2026-02-30": "usage: :today YYYY-MM-DD",
    ":today 9999-12-31": "the simulated date stays between 2000-01-01 and 2099-12-31",
    ":today 0001-01-01": "the simulated date stays between",
    ":advance": "usage: :advance N",
    ":advance ²": "usage: :advance N",
    ":advance ٣": "usage: :advance N",
    ":advance 1_0": "usage: :advance N",
    ":advance --1": "usage: :advance N",
    ":advance " + "9" * 5000: "usage: :advance N",
    ":advance 3651": "N between -3650 and 3650",
    ":photo": "usage: :photo PATH  or  :document PATH",
    ":photo /no/such.png": "cannot read /no/such.png",
    ":photo /": "cannot read /: not a regular file",
    ":document /dev/zero": "cannot read /dev/zero: not a regular file",
    ":photo a\0b": "cannot hold a NUL character",
    ":frobnicate ²": "unknown control ':frobnicate'",
    ":": "unknown control ':'",
}


async def test_every_control_with_bad_arguments_says_how_and_the_script_goes_on(tmp_path: Path) -> None:
    script = "/language en\n/start\n" + "".join(f"{line}\n:help\n" for line in BAD_CONTROLS) + ":today 2099-12-31\n" \
        ":advance 1\n:today 2000-01-01\n:advance -1\n:user 2 Ann\n/start\n"
    code, output = await _run(tmp_path, script)
    assert code == 0, output[-3000:]
    assert "internal error" not in output
    replies = re.split(r"^shell controls:\n(?:.*\n)*?.*work as in Telegram\.\n", output, flags=re.MULTILINE)
    assert len(replies) == len(BAD_CONTROLS) + 1
    for (line, expected), reply in zip(BAD_CONTROLS.items(), replies, strict=False):
        hint = reply.rstrip("\n").rsplit("\n", 1)[-1]
        assert hint.startswith("shell: ") and expected in hint, (line[:40], reply[-300:])
    tail = replies[-1]
    assert "shell: today is 2099-12-31" in tail and "shell: today is 2000-01-01" in tail
    assert tail.count("the simulated date stays between") == 2  # 2100-01-01 and 1999-12-31 are refused too
    assert "shell: now acting as user 2 (Ann)" in tail and "[1] 同意  [2] 不同意" in tail  # the default language


async def test_documents_are_saved_under_their_own_names(tmp_path: Path) -> None:
    code, output = await _run(tmp_path, "\n".join([*REGISTER_EN, ":today 2026-03-02", "/mydata", "/mydata", ""]))
    assert code == 0, output[-2000:]
    saved = re.findall(r"^document: (.+)$", output, re.MULTILINE)
    out = tmp_path / "out"
    assert saved == [str(out / "healthcode-mydata-20260302.json"), str(out / "healthcode-mydata-20260302-2.json")]
    assert json.loads(Path(saved[0]).read_text("utf-8"))["format"] == "healthcode-personal-data/1"


async def test_a_key_ring_that_starts_later_than_the_simulated_day_is_pointed_out(tmp_path: Path) -> None:
    """Keys made by an older shell (or `healthcode keys generate`) start when they were made."""
    from datetime import datetime, timezone

    from bot.credentials.keyring import KeyRing

    KeyRing.generate(tmp_path / "state" / "keys", datetime(2026, 6, 1, tzinfo=timezone.utc))
    code, output = await _run(tmp_path, ":today 2026-07-01\n:today 2026-03-02\n")
    assert code == 0
    hints = [line for line in output.splitlines() if "is valid from 2026-06-01 only" in line]
    assert len(hints) == 1 and "cards of earlier days will not verify" in hints[0], output


async def test_the_shell_plays_every_role(tmp_path: Path) -> None:
    """:role makes the current user an administrator; another user accepts a typed invitation."""
    script = "\n".join([
        "/language en", ":user 501 County", "/language en", ":role viewer 330106", "/stats", "/override 13800138000 red 1 x",
        ":role boss 330106", ":role viewer 99", ":role viewer",
        ":user 777 Root", "/language en", "/appoint reviewer 330106",
    ])
    code, output = await _run(tmp_path, script + "\n")
    assert code == 0, output
    assert "shell: user 501 is now viewer over 330106 (appointment #1)" in output
    assert "Statistics for" in output and "330106 (Xihu District), one level down" in output
    assert "Not permitted. This has been logged." in output  # a viewer may not decide
    assert "shell: “boss” is not a role." in output
    assert "shell: The scope must be a known region code" in output
    assert "shell: usage: :role ROLE SCOPE" in output
    invite = re.search(r"/accept_admin ([A-Z0-9]{12})", output)
    assert invite, output
    code, accepted = await _run(tmp_path, f":user 502 Reviewer\n/language en\n/accept_admin {invite.group(1)}\n:press Accept\n/admins\n")
    assert code == 0, accepted
    assert "You are now reviewer over 330106 (Xihu District)." in accepted
    assert "reviewer over 330106 (Xihu District)" in accepted.split("/admins")[-1]

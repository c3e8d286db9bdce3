"""The local shell's fixed contract: lines in, chat out, controls, exit codes."""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import zxingcpp
from PIL import Image

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
    assert decoded[0].text.startswith("http://127.0.0.1:8080/v/")
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

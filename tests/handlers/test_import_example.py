"""examples/import.txt in the shell: two citizens register, a health authority imports a list naming
them (and someone not registered, and a malformed row), confirms, and the background apply gives
both a red code and tells each of them and the importer."""
from __future__ import annotations

import io
import re
from pathlib import Path

from bot.runners.shell import run_shell
from bot.settings import load_settings

REPO = Path(__file__).parents[2]
SCRIPT = REPO / "examples" / "import.txt"


async def test_the_import_script_runs_in_the_shell(tmp_path: Path, database_url: str, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # the script names its list as examples/import-list.csv, as the README runs it
    settings = load_settings(_env_file=None, database_url=database_url, state_dir=tmp_path / "state",
                             keys_dir=tmp_path / "state" / "keys", web_port=0, default_language="en",
                             admin_ids="900001")
    out = io.StringIO()
    code = await run_shell(settings, user_id=10001, out_dir=tmp_path / "out",
                           stdin=io.StringIO(SCRIPT.read_text()), stdout=out)
    output = out.getvalue()
    assert code == 0, output[-3000:]
    assert "Matched inside your scope: 2" in output and "Not registered: 1" in output
    assert "line 5: A resident ID number has exactly 18" in output
    assert "Import 1 confirmed: 2 decision(s) to record, Red until 2026-03-15" in output
    assert "Import 1 done: 2 decision(s) recorded, Red until 2026-03-15" in output
    for citizen in (10001, 10002):
        assert re.search(rf"shell: to user {citizen}:\nphoto: .*\nThe health authority set your code to Red until "
                         r"2026-03-15", output), output[-3000:]
    # Li Wei's own /status at the end: the card is red.
    assert re.search(r"shell: now acting as user 10001 .*\nphoto: .*\nLi\*\*\* · Red code\n", output), output[-1500:]

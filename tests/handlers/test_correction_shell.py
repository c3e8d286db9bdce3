"""The correction example (examples/correction.txt) in the shell: filing, the reviewer's decision, the new card."""
from __future__ import annotations

import io
import re
from pathlib import Path

from bot.runners.shell import run_shell
from bot.settings import load_settings

SCRIPT = Path(__file__).parents[2] / "examples" / "correction.txt"


async def test_the_correction_script_runs_from_filing_to_decision(tmp_path: Path, database_url: str) -> None:
    settings = load_settings(_env_file=None, database_url=database_url, state_dir=tmp_path / "state",
                             keys_dir=tmp_path / "state" / "keys", web_port=0, default_language="en",
                             admin_ids="900001")
    out = io.StringIO()
    code = await run_shell(settings, user_id=10001, out_dir=tmp_path / "out", stdin=io.StringIO(SCRIPT.read_text()),
                           stdout=out)
    output = out.getvalue()
    assert code == 0, output[-3000:]
    assert "Li*** · Red code" in output
    assert "Correction request #1 filed: #1 (a declaration): submitted." in output
    # The reviewer is told, opens it and sees the rule, the day and the answer behind the red code.
    assert re.search(r"shell: to user 900001:\nNew correction request #1: a declaration", output)
    assert "Rule: confirmed case; since 2026-03-02" in output and "2026-03-02: temperature 36.6 °C" in output
    assert "Request #1 accepted: the diagnosis of 2026-03-02 corrected." in output
    # The person gets the answer above a new, green card; /status and /mydata show the state.
    assert re.search(r"shell: to user 10001:\nphoto: .*\nYour correction request #1 \(a declaration\): accepted — "
                     r"Checked with the laboratory", output)
    after = output.split("shell: now acting as user 10001")[-1]
    assert "Li*** · Green code" in after and "Correction request #1 (a declaration): accepted" in after
    assert "Correction requests: #1 (a declaration): accepted" in after

"""The multi-week scenario as a shell script (examples/multi-week.txt), driven through `:advance`."""
from __future__ import annotations

import io
import re
from pathlib import Path

from bot.runners.shell import run_shell
from bot.settings import load_settings

SCRIPT = Path(__file__).parents[2] / "examples" / "multi-week.txt"


async def test_the_multi_week_script_runs_in_the_shell(tmp_path: Path, database_url: str) -> None:
    settings = load_settings(_env_file=None, database_url=database_url, state_dir=tmp_path / "state",
                             keys_dir=tmp_path / "state" / "keys", web_port=0, default_language="en",
                             admin_ids="900001")
    out = io.StringIO()
    code = await run_shell(settings, user_id=10001, out_dir=tmp_path / "out",
                           stdin=io.StringIO(SCRIPT.read_text()), stdout=out)
    output = out.getvalue()
    assert code == 0, output[-3000:]
    # Every :advance ran the jobs that fell due; the reminders reached those who had not declared.
    assert output.count("shell: jobs run: day_change, retention, correction_deadlines, reminders") == 15
    assert "Your code is Yellow: 7 more consecutive normal declaration(s)" in output

    # An administrator's decision makes Li Wei red on 03-04 and 03-05; the day change of 03-06 lifts it.
    assert re.search(r"shell: to user 10001:\nphoto: .*\nThe health authority set your code to Red until 2026-03-05",
                     output)
    assert re.search(r"shell: to user 10001:\nphoto: .*\nThe health-authority decision on your code has ended.*\n\n"
                     r"Li\*\*\* · Yellow code", output)
    # Her reminder of 03-05 agrees with that card (green on 03-09), not with a red streak's "12 more".
    assert re.search(r"shell: to user 10001:\nReminder: you have not declared your health for 2026-03-05 yet\.\n\n"
                     r"Your code is Red by a health-authority decision until 2026-03-05: 5 more consecutive normal "
                     r"declaration\(s\), today's included, and it turns green on 2026-03-09\.", output)
    # Li Wei missed 2026-03-06: the day change of 03-07 tells her the count restarts, with her card.
    assert re.search(r"shell: to user 10001:\nphoto: .*\nNo declaration was made yesterday, so your recovery count "
                     r"has started again: 7 consecutive", output)
    # Yellow recovers after the streak (green on 03-13), red after 14 days (green on 03-16).
    assert "Li*** · Green code" in output and "Zh*** · Green code" in output
    assert "Li*** · Yellow code" in output.split("Li*** · Green code")[0]

    # Three idle weeks later retention has kept only what the codes rest on (28 days back).
    assert "Declarations kept: 5 (2026-03-09 to 2026-03-13)" in output
    assert "Declarations kept: 8 (2026-03-09 to 2026-03-16)" in output
    # The 21 days jumped at once ran each job once: one reminder each for the new day, none for the days between.
    assert output.count("Reminder: you have not declared your health for 2026-04-06 yet.") == 2
    assert "health for 2026-04-05" not in output

"""examples/family.txt through the shell: a guardian, a child and a parent, the one-tap, a claim, an erasure."""
from __future__ import annotations

import io
import re
from pathlib import Path

from bot.runners.shell import run_shell
from bot.settings import load_settings

REPO = Path(__file__).parents[2]


async def test_the_family_example_runs_in_the_shell(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}",
                             state_dir=tmp_path / "state", keys_dir=tmp_path / "state" / "keys", web_port=0)
    out = io.StringIO()
    script = (REPO / "examples" / "family.txt").read_text()
    code = await run_shell(settings, user_id=10001, out_dir=tmp_path / "out", stdin=io.StringIO(script), stdout=out)
    output = out.getvalue()
    assert code == 0, output[-3000:]
    assert "shell: no button" not in output and "Please answer with the buttons" not in output, output
    days = re.split(r"^shell: today is ", output, flags=re.MULTILINE)
    cards = {chunk[:10]: re.findall(r"^(\w+\*+) · (\w+) code", chunk, re.MULTILINE) for chunk in days[1:]}
    assert cards["2026-03-02"] == [("Zh***", "Green"), ("Xi***", "Green"), ("Wa***", "Green")]
    assert cards["2026-03-03"] == [("Zh***", "Green"), ("Xi***", "Green"), ("Wa***", "Green")]  # one press
    # The child's fever turns only the child yellow; the parent's own account then claims her record.
    assert cards["2026-03-04"][:3] == [("Xi***", "Yellow"), ("Zh***", "Green"), ("Wa***", "Green")]
    assert "The record your guardian kept for you is now yours." in output
    assert "Wa*** now holds their own health-code record. You keep read access only" in output
    assert "Their data was erased." in output
    assert output.rstrip().endswith("[1] Wang Fang  [2] ➕ Add a person")

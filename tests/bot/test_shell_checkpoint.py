"""The checkpoint flows in the local shell: a health authority names a checkpoint and invites staff,
staff join, scan a citizen's card with `:photo` and record a fever; the citizen's next card is yellow."""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from bot.runners.shell import run_shell
from tests.bot.test_shell import _settings

ROOT, GUARD, CITIZEN = 777, 10002, 10001


class _Reactive(io.StringIO):
    """stdin whose next line may depend on what the shell printed so far (an invite code, a card's path)."""

    def __init__(self, steps: list[str | Callable[[str], str]], output: io.StringIO) -> None:
        super().__init__()
        self._steps, self._output = steps, output

    def readline(self, size: int = -1) -> str:
        if not self._steps:
            return ""
        step = self._steps.pop(0)
        return (step(self._output.getvalue()) if callable(step) else step) + "\n"


def _last(pattern: str) -> Callable[[str], str]:
    def line(output: str) -> str:
        return re.findall(pattern, output, re.MULTILINE)[-1]
    return line


async def test_staff_scan_and_record_a_fever_in_the_shell(tmp_path: Path) -> None:
    out = io.StringIO()
    steps: list[str | Callable[[str], str]] = [
        "/language en", "/start", ":press I agree", "Li Wei", "11010519491231002X", "13800138000", "330100",
        ":press Confirm", "/checkin", "36.6", ":press No symptoms", ":press No close contact",
        ":press No travel to risk areas", ":press Not diagnosed", ":press Confirm",
        f":user {ROOT} Officer", "/language en", "/checkpoint_new 330106 West Lake Station",
        ":press Invite staff: West Lake Station",
        f":user {GUARD} Guard", "/language en",
        lambda output: "/checkpoint_join " + re.findall(r"Code: ([A-Z0-9]{8})", output)[-1],
        ":press Accept",
        lambda output: ":photo " + re.findall(r"^photo: (.+\.png)$", output, re.MULTILINE)[-1],
        ":press Record temperature (West Lake Station)", "38.4",
        f":user {CITIZEN} Li", "/status",
    ]
    code = await run_shell(_settings(tmp_path), user_id=CITIZEN, out_dir=tmp_path / "out",
                           stdin=_Reactive(steps, out), stdout=out)
    output = out.getvalue()
    assert code == 0, output[-3000:]
    assert "Checkpoint “West Lake Station” created (330106)" in output
    assert "You are now staff of the checkpoint “West Lake Station”" in output
    assert "✅ VALID · Green code" in output and "[1] Record temperature (West Lake Station)" in output
    assert "Temperature recorded for Li***. Code now: Yellow." in output
    after = output.rsplit(f"now acting as user {CITIZEN}", 1)[1]
    assert "Li*** · Yellow code" in after and "temperature 38.4 °C measured at West Lake Station" in after

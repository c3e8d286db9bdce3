"""The paper code in the shell (examples/paper-code.txt): /print saves a PDF; its QR, rasterised,
verifies offline with `healthcode verify` until its expiry (7 days), which is all an offline verifier sees."""
from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import pypdfium2
import pytest

from bot.cjk_font import cjk_font
from bot.cli import main as cli_main
from bot.runners.shell import run_shell
from tests.bot.test_shell import REPO, _settings

pytestmark = pytest.mark.skipif(cjk_font(None) is None, reason="no CJK font (.ci/run installs fonts-wqy-zenhei)")


def test_the_printed_code_verifies_offline_until_it_expires(tmp_path: Path, monkeypatch, capsys) -> None:
    script = (REPO / "examples" / "paper-code.txt").read_text()
    settings = _settings(tmp_path)
    out = io.StringIO()
    code = asyncio.run(run_shell(settings, user_id=10001, out_dir=tmp_path / "out", stdin=io.StringIO(script),
                                 stdout=out))
    output = out.getvalue()
    assert code == 0, output[-3000:]
    (pdf_path,) = re.findall(r"^document: (.+\.pdf)$", output, re.MULTILINE)
    assert "valid for 7 days (until 2026-03-09 09:00)" in output
    assert "shell: today is 2026-03-05" in output  # and the chat card is shown again after 3 days

    picture = tmp_path / "printed.png"
    pypdfium2.PdfDocument(Path(pdf_path).read_bytes())[1].render(scale=300 / 72).to_pil().save(picture)  # the wallet card
    for variable, value in {"HEALTHCODE_KEYS_DIR": settings.keys_dir, "HEALTHCODE_STATE_DIR": settings.state_dir,
                            "HEALTHCODE_DATABASE_URL": settings.database_url, "HEALTHCODE_DEFAULT_LANGUAGE": "en",
                            "HEALTHCODE_DATA_KEY_FILE": settings.state_dir / "data.key"}.items():
        monkeypatch.setenv(variable, str(value))
    for at, valid in (("2026-03-08T20:00:00+08:00", True), ("2026-03-09T09:00:01+08:00", False)):
        capsys.readouterr()
        cli_main(["verify", str(picture), "--at", at, "--json"])
        verdict = json.loads(capsys.readouterr().out)
        assert verdict["valid"] is valid, (at, verdict)
        assert verdict["exp"].startswith("2026-03-09T01:00:00")

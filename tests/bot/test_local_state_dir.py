"""Every command finds local state where the shell keeps it: ./.healthcode (issue 9, item 26).

A newcomer runs the shell, then `healthcode verify` and `healthcode web` in the same folder,
without setting anything.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HEALTHCODE = str(Path(sys.executable).parent / "healthcode")
REGISTER_AND_DECLARE = "\n".join([
    "/language en", "/start", ":press I agree", "Li Wei", "11010519491231002X", "13800138000", "330100",
    ":press Confirm", "/checkin", "36.6", ":press No symptoms", ":press No close contact",
    ":press No travel to risk areas", ":press Not diagnosed", ":press Confirm", ":quit", "",
])


def _bare_environment() -> dict[str, str]:
    # Nothing but PATH and a free port: no HEALTHCODE_DATA_KEY_FILE, no state or keys directory.
    return {"PATH": os.environ["PATH"], "HEALTHCODE_WEB_PORT": "0"}


def test_web_and_verify_start_in_the_shells_folder_without_settings(tmp_path: Path) -> None:
    shell = subprocess.run([HEALTHCODE, "shell"], input=REGISTER_AND_DECLARE, cwd=tmp_path, env=_bare_environment(),
                           capture_output=True, text=True, timeout=300)
    assert shell.returncode == 0, shell.stderr[-2000:]
    card = re.findall(r"^photo: (.+\.png)$", shell.stdout, re.MULTILINE)[-1]
    assert (tmp_path / ".healthcode" / "data.key").exists()

    verify = subprocess.run([HEALTHCODE, "verify", card], cwd=tmp_path, env=_bare_environment(),
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr[-2000:]  # valid: the shell's own key ring

    web = subprocess.Popen([HEALTHCODE, "web"], cwd=tmp_path, env=_bare_environment(), stderr=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    try:
        url = _wait_for_listening(web)
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=30) == 0
        web.stderr.close()


def _wait_for_listening(web: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = web.stderr.readline()
        if not line:
            raise AssertionError(f"`healthcode web` ended: {''.join(seen)[-2000:]}")
        seen.append(line)
        match = re.search(r"serving the web side at (http://\S+)", line)
        if match:
            return match.group(1)
    raise AssertionError("`healthcode web` did not start listening within 60 s")

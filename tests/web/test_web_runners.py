"""`healthcode shell` and `healthcode run` start the web server; a taken port is handled as each promises."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

HEALTHCODE = str(Path(sys.executable).parent / "healthcode")


@pytest.fixture
def taken_port() -> Iterator[int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder.getsockname()[1]
    holder.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HEALTHCODE_")}
    environment.update({"HEALTHCODE_WEB_PORT": str(port), "HEALTHCODE_STATE_DIR": str(tmp_path / "state"),
                        "HEALTHCODE_KEYS_DIR": str(tmp_path / "keys"), "HEALTHCODE_DEFAULT_LANGUAGE": "en",
                        "HEALTHCODE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hc.db'}", **extra})
    return environment


def test_shell_goes_on_without_the_web_server_when_the_port_is_taken(tmp_path: Path, taken_port: int) -> None:
    done = subprocess.run([HEALTHCODE, "shell", "--out", str(tmp_path / "out")], input="/start\n:quit\n",
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=_environment(tmp_path, taken_port))
    assert done.returncode == 0, done.stderr
    assert f"web server not started: cannot listen on 127.0.0.1:{taken_port}: the port is already in use" in done.stderr
    assert "going on without it" in done.stderr and "Privacy notice" in done.stdout  # the chat went on, in HEALTHCODE_DEFAULT_LANGUAGE


def test_shell_serves_the_web_side_while_it_runs(tmp_path: Path) -> None:
    port = _free_port()
    shell = subprocess.Popen([HEALTHCODE, "shell", "--out", str(tmp_path / "out")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                             env=_environment(tmp_path, port))
    try:
        health = None
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.1)
        assert health is not None and health["status"] == "ok" and health["issuer"] == "CN-330100"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/healthcode/trust-list.json") as response:
            assert json.loads(response.read())["keys"][0]["kid"]
    finally:
        out, err = shell.communicate(":quit\n", timeout=60)
    assert shell.returncode == 0, err


def test_run_stops_with_a_clear_message_when_the_port_is_taken(tmp_path: Path, taken_port: int) -> None:
    environment = _environment(tmp_path, taken_port, HEALTHCODE_TELEGRAM_TOKEN="123:not-a-real-token",
                               HEALTHCODE_DATA_KEY_FILE=str(tmp_path / "data.key"))
    for setup in (["keys", "data-key", str(tmp_path / "data.key")], ["keys", "generate"]):
        subprocess.run([HEALTHCODE, *setup], check=True, capture_output=True, env=environment, cwd=tmp_path,
                       timeout=60)
    done = subprocess.run([HEALTHCODE, "run"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=environment)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (f"healthcode: cannot listen on 127.0.0.1:{taken_port}: the port is already in use "
                                   "(HEALTHCODE_WEB_PORT); free the port or choose another")

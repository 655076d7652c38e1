"""No plaintext secret anywhere: a run that sends a live client secret and a bearer token every
way a client could, then every output of the mock searched for them."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import httpx

from tests.conftest import ACME, PORTAL, ROOT, WEB, free_port, rotate_path

WEB_CLIENT = "319487671630840321@portal"
TOKEN = "admin-pat"  # the demo fixtures' bearer token


def _serve(state: Path, log: IO[bytes]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zitadel_mock",
            "serve",
            "--port",
            str(port),
            "--state",
            str(state),
            "--log-level",
            "debug",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/__mock/errors", timeout=1)
            return process, port
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("mock did not start")


def _send_every_way(client: httpx.Client, secret: str) -> None:
    token_path = "/oauth/v2/token"
    basic = base64.b64encode(f"{WEB_CLIENT.replace('@', '%40')}:{secret}".encode()).decode()
    form = {"grant_type": "client_credentials", "client_id": WEB_CLIENT, "client_secret": secret}
    client.post(f"{token_path}?client_secret={secret}&client_id={WEB_CLIENT}", data=form)
    client.post(token_path, data=form)
    client.post(
        token_path,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    client.get(f"/nowhere?client_secret={secret}", headers={"X-Key": secret, "X-A": secret})
    odd = {
        "X-Thing": secret,
        "X-Other": f"v1; sig={secret}",
        "X-Client-Auth": secret,
        "Cookie": f"s={secret}",
        "X-Forwarded-Token": TOKEN,
        "Proxy-Authorization": f"Bearer {TOKEN}",
        "X-Token-Copy": f"Bearer {TOKEN}",
        "X-Plain": TOKEN,
    }
    # An app that does not exist first (nothing rotates: the secret stays live), then the real
    # one (which rotates it: its journal entry is written while it is still live).
    for app, headers in (("1", {}), ("1", odd), (WEB, odd)):
        client.post(
            f"{rotate_path(PORTAL, app)}?secret={secret}&x={secret}",
            json={},
            headers={"Authorization": f"Bearer {TOKEN}", "x-zitadel-orgid": ACME} | headers,
        )


def test_no_output_of_the_mock_holds_a_plaintext_secret_or_token(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with tempfile.TemporaryFile() as log:
        process, port = _serve(state, log)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                rotated = client.post(
                    rotate_path(PORTAL, WEB),
                    json={},
                    headers={"Authorization": f"Bearer {TOKEN}", "x-zitadel-orgid": ACME},
                )
                secret = rotated.json()["clientSecret"]
                _send_every_way(client, secret)
                journal = client.get("/__mock/journal", params={"limit": 1000}).text
                dump = client.get("/__mock/state").text
                assert '"entries": [' in journal  # the journal is kept
                assert len(journal) > 1000
        finally:
            process.terminate()
            process.wait(10)
        log.seek(0)
        output = log.read().decode(errors="replace")
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    with sqlite3.connect(state) as db:  # the tables as text too, whatever the pages hold
        rows = "\n".join(repr(r) for r in db.iterdump())
    assert "POST /oauth/v2/token" in output  # the access log is written
    for where, text in {
        "log": output,
        "journal": journal,
        "state": dump,
        "sqlite": stored.decode("latin-1"),
        "sqlite dump": rows,
    }.items():
        assert secret not in text, where
        assert TOKEN not in text, where
        basic = base64.b64encode(f"{WEB_CLIENT.replace('@', '%40')}:{secret}".encode()).decode()
        assert basic not in text, where

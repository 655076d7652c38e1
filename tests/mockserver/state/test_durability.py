"""Durable, shared state: several workers on one SQLite file, restarts, kill -9, a busy database.

Everything here runs real server processes on real sockets over a real SQLite file.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import ACME, PORTAL, ROOT, WEB, rotate_path, start_server
from tests.support.workers import children_of, wait_until_workers_hold
from zitadel_mock.domain.client_secrets import SecretHash

PATH = rotate_path(PORTAL, WEB)
AUTH = {"Authorization": "Bearer admin-pat"}
FIRST_SEQUENCE = 7  # the demo project portal starts at 6


@dataclass
class Acknowledged:
    """What clients received: sequence -> secret, and how many 503s they retried."""

    secrets: dict[int, str] = field(default_factory=dict)
    busy: int = 0
    in_flight: int = 0

    def record(self, response: httpx.Response) -> None:
        body = response.json()
        sequence = int(body["details"]["sequence"])
        assert sequence not in self.secrets, f"sequence {sequence} acknowledged twice"
        self.secrets[sequence] = body["clientSecret"]


def stored(state: Path) -> tuple[int, str]:
    """The project's sequence and the web app's secret hash, read from the state file."""
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sequence = db.execute(
            "SELECT sequence FROM projects WHERE ns = '' AND id = ?", (PORTAL,)
        ).fetchone()[0]
        secret_hash = db.execute(
            "SELECT secret_hash FROM apps WHERE ns = '' AND id = ?", (WEB,)
        ).fetchone()[0]
    return int(sequence), str(secret_hash)


async def rotate_many(url: str, count: int, concurrency: int, seen: Acknowledged) -> None:
    """``count`` rotations with ``concurrency`` in flight; a 503 is retried, as its code says."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                while True:
                    response = await client.post(PATH, json={}, headers=AUTH)
                    if response.status_code != 503:
                        break
                    seen.busy += 1
                assert response.status_code == 200, response.text
                seen.record(response)

        await asyncio.gather(*(one() for _ in range(count)))


def worker_cpu_seconds(parent: int) -> list[float]:
    """CPU time of each child process of ``parent`` (the uvicorn workers), from /proc."""
    times = []
    for child in children_of(parent):
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        times.append((int(fields[11]) + int(fields[12])) / 100)  # utime + stime, in ticks
    return times


def test_1000_concurrent_rotations_across_workers_get_unique_contiguous_sequences(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.db"
    live = start_server("--workers", "3", "--state", str(state))
    try:
        wait_until_workers_hold(live.process.pid, state, 3)  # the load can reach each of them
        seen = Acknowledged()
        asyncio.run(rotate_many(live.url, 1000, 48, seen))
        busy_workers = [t for t in worker_cpu_seconds(live.process.pid) if t > 0.2]
        assert len(busy_workers) >= 2, "the load did not reach several workers"
    finally:
        live.stop()
    assert sorted(seen.secrets) == list(range(FIRST_SEQUENCE, FIRST_SEQUENCE + 1000))
    assert len(set(seen.secrets.values())) == 1000
    sequence, secret_hash = stored(state)
    assert sequence == FIRST_SEQUENCE + 999
    assert SecretHash(secret_hash).matches(seen.secrets[sequence])


def test_a_restart_continues_where_it_stopped(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    live = start_server("--state", str(state))
    try:
        last = [live.rotate().json() for _ in range(3)][-1]
    finally:
        live.stop()
    sequence, secret_hash = stored(state)
    assert sequence == int(last["details"]["sequence"])
    assert SecretHash(secret_hash).matches(last["clientSecret"])
    again = start_server("--state", str(state))
    try:
        assert again.rotate().json()["details"]["sequence"] == str(sequence + 1)
    finally:
        again.stop()


def test_kill_9_after_acknowledged_rotations_loses_none_of_them(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    live = start_server("--workers", "2", "--state", str(state), own_group=True)
    seen = Acknowledged()
    asyncio.run(rotate_many(live.url, 200, 8, seen))
    live.kill9()  # nothing in flight: every rotation was acknowledged
    sequence, secret_hash = stored(state)
    assert sequence == max(seen.secrets)
    assert SecretHash(secret_hash).matches(seen.secrets[sequence])


async def rotate_until_killed(url: str, seen: Acknowledged, stop_after: int) -> None:
    """Eight clients rotate until the server dies under them; counts requests in flight."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        done = asyncio.Event()

        async def loop() -> None:
            while not done.is_set():
                seen.in_flight += 1
                try:
                    response = await client.post(PATH, json={}, headers=AUTH)
                except httpx.TransportError:
                    done.set()
                    return
                seen.in_flight -= 1
                if response.status_code == 200:
                    seen.record(response)
                if len(seen.secrets) >= stop_after:
                    done.set()

        await asyncio.gather(*(loop() for _ in range(8)))


def test_kill_9_under_load_keeps_every_acknowledged_rotation(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    live = start_server("--workers", "2", "--state", str(state), own_group=True)
    seen = Acknowledged()

    async def scenario() -> None:
        load = asyncio.create_task(rotate_until_killed(live.url, seen, stop_after=10**9))
        while len(seen.secrets) < 300:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(live.kill9)  # requests are in flight right now
        await load

    asyncio.run(scenario())
    sequence, secret_hash = stored(state)
    acknowledged = max(seen.secrets)
    # Every acknowledged rotation is in the state; beyond it, at most the requests that were in
    # flight when the server died may have committed without their answer reaching the client.
    assert acknowledged <= sequence <= acknowledged + seen.in_flight
    if sequence == acknowledged:
        assert SecretHash(secret_hash).matches(seen.secrets[sequence])
    again = start_server("--state", str(state))
    try:
        assert again.rotate().json()["details"]["sequence"] == str(sequence + 1)
    finally:
        again.stop()


def test_a_busy_state_answers_503_unavailable_and_commits_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    live = start_server("--state", str(state), "--busy-timeout", "200")
    try:
        before = int(live.rotate().json()["details"]["sequence"])
        holder = sqlite3.connect(state, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        try:
            response = live.rotate()  # the client gives up after 10 s: a hang would fail here
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503
        assert response.json() == {
            "code": 14,
            "message": "the mock's state is busy, retry the request",
        }
        assert live.rotate().json()["details"]["sequence"] == str(before + 1)
    finally:
        live.stop()


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zitadel_mock", "serve", "--port", "0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"this is not a database" * 50, "is not a usable SQLite state file"),
        (b"", None),  # an empty file is a new state file
    ],
)
def test_a_state_file_that_is_not_sqlite_is_refused_and_left_untouched(
    tmp_path: Path, content: bytes, problem: str | None
) -> None:
    state = tmp_path / "state.db"
    state.write_bytes(content)
    if problem is None:
        live = start_server("--state", str(state))
        live.stop()
        return
    result = run_serve("--state", str(state))
    assert result.returncode == 2
    assert problem in result.stderr
    assert state.read_bytes() == content


def test_a_damaged_state_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    live = start_server("--state", str(state))
    live.stop()
    with sqlite3.connect(state) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(state.read_bytes())
    data[page_size + 8 : page_size + 64] = b"\xff" * 56  # scribble over the second page
    state.write_bytes(bytes(data))
    result = run_serve("--state", str(state))
    assert result.returncode == 2
    assert "state file" in result.stderr or "damaged" in result.stderr
    assert state.read_bytes() == bytes(data)


def test_a_state_file_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    start_server("--state", str(state)).stop()
    with sqlite3.connect(state) as db:
        db.execute("PRAGMA user_version = 99")
    result = run_serve("--state", str(state))
    assert result.returncode == 2
    assert "newer than this mock's" in result.stderr


def test_a_restart_does_not_load_the_fixtures_over_the_kept_state(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = start_server("--state", str(state))
    try:
        sequence = int(first.rotate().json()["details"]["sequence"])
    finally:
        first.stop()
    again = start_server("--state", str(state))
    try:
        assert again.stderr().count("fixtures not loaded again") == 1
        assert again.rotate().json()["details"]["sequence"] == str(sequence + 1)
    finally:
        again.stop()


def test_seed_with_several_workers_is_refused() -> None:
    result = run_serve("--seed", "1", "--workers", "2")
    assert result.returncode == 2
    assert "--seed needs a single worker" in result.stderr


def test_a_restart_keeps_changes_made_through_the_admin_api(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = start_server("--state", str(state))
    try:
        created = first.client.post(
            "/__mock/apps",
            json={"id": "900", "name": "added", "project": PORTAL, "type": "oidc"},
        )
        assert created.status_code == 201, created.text
        renamed = first.client.patch(f"/__mock/apps/{WEB}", json={"name": "web-renamed"})
        assert renamed.status_code == 200, renamed.text
        sequence = int(first.rotate(PORTAL, "900").json()["details"]["sequence"])
    finally:
        first.stop()
    again = start_server("--state", str(state))
    try:
        apps = {a["id"]: a for a in again.client.get("/__mock/state").json()["apps"]}
        assert apps["900"]["name"] == "added"
        assert apps[WEB]["name"] == "web-renamed"
        assert again.rotate(PORTAL, "900").json()["details"]["sequence"] == str(sequence + 1)
    finally:
        again.stop()


def test_a_restart_keeps_the_fixture_edits_a_watch_reloaded(tmp_path: Path) -> None:
    fixtures, state = tmp_path / "fixtures.yaml", tmp_path / "state.db"
    text = (
        'orgs: [{id: "1", name: o}]\n'
        'projects: [{id: "2", name: p, org: "1", sequence: 10}]\n'
        'apps: [{id: "3", name: a, project: "2", type: oidc}]\n'
        'tokens: [{token: t, user: "4", org: "1",'
        " memberships: [{scope: instance, roles: [IAM_OWNER]}]}]\n"
    )
    fixtures.write_text(text)
    first = start_server("--state", str(state), "--fixtures", str(fixtures), "--watch")
    try:
        fixtures.write_text(
            text.replace(
                "type: oidc}]", 'type: oidc}, {id: "5", name: b, project: "2", type: oidc}]'
            )
        )
        deadline = time.monotonic() + 20
        while first.rotate("2", "5", token="t").status_code != 200:
            assert time.monotonic() < deadline, "the edit was not reloaded"
            time.sleep(0.2)
    finally:
        first.stop()
    again = start_server("--state", str(state), "--fixtures", str(fixtures))
    try:
        assert again.rotate("2", "5", token="t").json()["details"]["sequence"] == "12"
    finally:
        again.stop()


def test_admin_changes_on_one_worker_are_seen_by_another_at_once(tmp_path: Path) -> None:
    """Two servers on one state file, as two workers: each change made through the admin API
    of the first is in force for the very next request to the second, whose caches were warm."""
    state = tmp_path / "state.db"
    first = start_server("--state", str(state))
    second = start_server("--state", str(state))
    owner = {"scope": "instance", "roles": ["IAM_OWNER"]}
    token = {"token": "late-pat", "name": "late", "user": "9", "org": ACME, "memberships": [owner]}
    app = {"id": "900", "name": "added", "project": PORTAL, "type": "oidc"}
    org_700 = {"x-zitadel-orgid": "700"}
    try:
        assert second.rotate(token="late-pat").status_code == 401
        assert second.rotate(PORTAL, "900").status_code == 404
        assert second.rotate(headers=org_700).status_code == 403  # no such org
        assert first.client.post("/__mock/tokens", json=token).status_code == 201
        assert second.rotate(token="late-pat").status_code == 200
        assert first.client.delete("/__mock/tokens/late").status_code == 204
        assert second.rotate(token="late-pat").status_code == 401
        assert first.client.post("/__mock/apps", json=app).status_code == 201
        assert second.rotate(PORTAL, "900").status_code == 200
        assert first.client.delete("/__mock/apps/900").status_code == 204
        assert second.rotate(PORTAL, "900").status_code == 404
        assert first.client.post("/__mock/orgs", json={"id": "700", "name": "o"}).status_code == 201
        assert (
            second.rotate(headers=org_700).status_code == 404
        )  # the org exists; portal is not its
        assert first.client.delete("/__mock/orgs/700").status_code == 204
        assert second.rotate(headers=org_700).status_code == 403
    finally:
        first.stop()
        second.stop()

"""The admin API under hostile input, over a real socket: every finding of its own schemathesis
run answered as a 4xx with a clear message, bodies bounded, and a probe client served meanwhile."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, LiveServer, fuzz_examples, start_server
from tests.support.control_helpers import fresh_ns, state

SPEC = ROOT / "mockserver" / "control" / "admin" / "admin.yaml"
JSON = {"Content-Type": "application/json"}
SMALL_LIMIT = 65536


@pytest.fixture(scope="module")
def small() -> Iterator[LiveServer]:
    """A mock whose admin API reads at most 64 KiB of a body."""
    live = start_server(env={"ZITADEL_MOCK_LIMIT_MAX_ADMIN_BODY": str(SMALL_LIMIT)})
    yield live
    live.stop()


@pytest.mark.fuzz
def test_schemathesis_finds_no_server_error_in_the_admin_api(tmp_path: Path) -> None:
    live = start_server()  # its own: the run changes records, namespaces and the seed
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                str(SPEC),
                "--url",
                f"{live.url}/__mock",
                "--checks",
                "not_a_server_error",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                str(fuzz_examples(5)),
                "--seed",
                os.environ.get("ZITADEL_FUZZ_SEED") or "20261201",
                "--generation-database",
                "none",
                "--no-color",
                # The journal's event stream answers for minutes by design: its own tests read it.
                "--exclude-path",
                "/journal/stream",
                "--request-timeout",
                "20",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-4000:]
        assert "passed" in result.stdout
        assert "unexpected failure" not in live.stderr()
    finally:
        live.stop()


@pytest.mark.parametrize(
    "body",
    [b'{"name": "\xff"}', '{"name": "a\ud800"}'.encode("utf-8", "surrogatepass")],
    ids=["latin-1", "raw-surrogate"],
)
def test_a_json_body_that_is_not_utf8_is_refused(server: LiveServer, body: bytes) -> None:
    response = server.client.post("/__mock/orgs", content=body, headers=JSON)
    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert "not UTF-8" in response.json()["message"]


def test_a_lone_surrogate_escape_in_json_is_refused(server: LiveServer) -> None:
    body = b'{"id": "1", "name": "a\\ud800"}'
    response = server.client.post("/__mock/orgs", content=body, headers=JSON)
    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert "lone surrogate" in response.json()["message"]


def test_a_lone_surrogate_escape_in_yaml_is_refused(server: LiveServer) -> None:
    ns = fresh_ns()
    document = b'orgs:\n  - {id: "1", name: "a\\ud800"}\n'
    response = server.client.put(
        "/__mock/fixtures",
        content=document,
        headers={"Content-Type": "application/yaml", "X-Mock-Namespace": ns},
    )
    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert state(server, ns)["orgs"]  # the start fixtures, untouched


def test_a_character_beyond_the_bmp_is_kept(server: LiveServer) -> None:
    ns = fresh_ns()
    org = state(server, ns)["orgs"][0]["id"]
    response = server.client.patch(
        f"/__mock/orgs/{org}",
        json={"name": "acme \U0001f600"},
        headers={"X-Mock-Namespace": ns},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "acme \U0001f600"


def test_a_huge_journal_status_is_refused_naming_the_parameter(server: LiveServer) -> None:
    response = server.client.get("/__mock/journal", params={"status": "9" * 40})
    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert response.json()["message"].startswith("invalid query parameter status: ")


def test_a_token_expiring_in_year_456_leaves_the_state_readable(server: LiveServer) -> None:
    ns = fresh_ns()
    org = state(server, ns)["orgs"][0]["id"]
    token = {
        "name": "old",
        "token": "a-token-for-this-test-only",
        "user": "u1",
        "org": org,
        "memberships": [],
        "expiresAt": "0456-05-07T09:34:05Z",
    }
    created = server.client.post("/__mock/tokens", json=token, headers={"X-Mock-Namespace": ns})
    assert created.status_code in (201, 400), created.text
    assert server.client.get("/__mock/state", headers={"X-Mock-Namespace": ns}).status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, {"Content-Type": "application/yaml"}], ids=["none", "yaml"]
)
def test_put_fixtures_without_a_body_is_refused_and_wipes_nothing(
    server: LiveServer, headers: dict[str, str]
) -> None:
    ns = fresh_ns()
    response = server.client.put("/__mock/fixtures", headers={**headers, "X-Mock-Namespace": ns})
    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert "document is" in response.json()["message"]
    assert state(server, ns)["apps"]


def test_an_empty_document_on_purpose_empties_the_namespace(server: LiveServer) -> None:
    ns = fresh_ns()
    response = server.client.put(
        "/__mock/fixtures", content=b"{}", headers={**JSON, "X-Mock-Namespace": ns}
    )
    assert response.status_code == 200
    assert state(server, ns)["apps"] == []


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/__mock/outcomes", "DELETE, GET, HEAD, POST"),
        ("PUT", "/__mock/journal", "DELETE, GET, HEAD"),
        ("GET", "/__mock/reset", "POST"),
        ("POST", "/__mock/orgs/1", "DELETE, PATCH"),
    ],
)
def test_a_405_names_every_allowed_method(
    server: LiveServer, method: str, path: str, allow: str
) -> None:
    response = server.client.request(method, path, headers=JSON, content=b"{}")
    assert response.status_code == 405
    assert response.headers["allow"] == allow


def test_a_body_announced_too_large_is_refused_before_it_is_sent(small: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", small.port), timeout=10) as sock:
        sock.sendall(
            b"PUT /__mock/fixtures HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/yaml\r\nContent-Length: 1073741824\r\n\r\n"
        )
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413 ")


def _send_chunked_until_answered(port: int, total: int) -> tuple[bytes, int]:
    """A chunked PUT of up to ``total`` bytes, stopped as soon as the server answers; returns
    the answer's first bytes and how many bytes were sent."""
    chunk = b"x" * 65536
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"PUT /__mock/fixtures HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(frame)
            except OSError:  # the server closed after answering
                break
            sent += len(chunk)
        try:
            answer = sock.recv(65536)
        except OSError:
            answer = b""
    return answer, sent


def test_a_huge_chunked_admin_body_is_refused_early_and_others_are_served(
    small: LiveServer,
) -> None:
    total = fuzz_examples(8) * 1024 * 1024  # 8 MiB here; make fuzz: 1000 MiB
    answer, sent = _send_chunked_until_answered(small.port, total)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
    assert sent < total  # refused while the client was still sending
    assert small.client.get("/__mock/state").status_code == 200  # the probe
    assert small.rotate().status_code == 200


def test_a_body_within_the_limit_is_read(small: LiveServer) -> None:
    ns = fresh_ns()
    document = b"{}" + b" " * (SMALL_LIMIT - 10)
    response = small.client.put(
        "/__mock/fixtures", content=document, headers={**JSON, "X-Mock-Namespace": ns}
    )
    assert response.status_code == 200, response.text

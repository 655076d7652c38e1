"""The page at /__mock/: its files ship in the package, load nothing from elsewhere, and the
admin endpoints it needs (the error rows, deleting a namespace) answer as admin.yaml says."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LiveServer
from tests.support.control_helpers import admin, fresh_ns, rotate, state
from zitadel_mock.control.admin.page import PAGE_DIR
from zitadel_mock.control.outcomes import FORCIBLE, Fault


def test_the_page_is_served_at_the_admin_prefix(server: LiveServer) -> None:
    page = server.client.get("/__mock/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script src="/__mock/page/page.js"' in page.text


def test_the_prefix_without_a_slash_redirects_to_the_page(server: LiveServer) -> None:
    response = server.client.get("/__mock")
    assert response.status_code == 308
    assert response.headers["location"] == "/__mock/"


@pytest.mark.parametrize(
    ("name", "kind"), [("page.js", "text/javascript"), ("page.css", "text/css")]
)
def test_the_page_files_are_served_with_their_type(
    server: LiveServer, name: str, kind: str
) -> None:
    response = server.client.get(f"/__mock/page/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    assert response.content == (PAGE_DIR / name).read_bytes()


def test_an_unknown_page_file_is_the_admin_apis_404(server: LiveServer) -> None:
    response = server.client.get("/__mock/page/nothing.js")
    assert response.status_code == 404
    assert response.json()["code"] == 5


def test_the_page_forbids_loading_anything_from_elsewhere(server: LiveServer) -> None:
    policy = server.client.get("/__mock/").headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy


def test_the_page_files_name_no_other_host() -> None:
    # Users are offline: no CDN, no font service. Only relative or same-origin URLs.
    for path in PAGE_DIR.iterdir():
        text = path.read_text()
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", text), path.name
        assert not re.search(r"(?:url\(|import\s)\s*[\"']?(?:https?:)?//", text), path.name


def test_the_page_calls_only_the_admin_api() -> None:
    script = (PAGE_DIR / "page.js").read_text()
    assert 'const API = "/__mock";' in script
    assert script.count("fetch(") == 1  # the one helper every call goes through
    assert "fetch(API + path" in script


def test_get_slash_links_to_the_page(server: LiveServer) -> None:
    response = server.client.get("/")
    assert response.status_code == 200
    assert 'href="/__mock/"' in response.text


def test_post_slash_is_still_the_gateways_404(server: LiveServer) -> None:
    response = server.client.post("/", json={})
    assert response.status_code == 404
    assert response.json() == {"code": 5, "message": "Not Found"}


def test_the_error_rows_are_every_forcible_row(server: LiveServer) -> None:
    body = admin(server, "GET", "/errors").json()
    assert [row["name"] for row in body["errors"]] == [row.name for row in FORCIBLE]
    assert body["faults"] == [fault.value for fault in Fault]


def test_an_error_row_names_what_a_forced_call_answers(server: LiveServer) -> None:
    ns = fresh_ns()
    rows = {row["name"]: row for row in admin(server, "GET", "/errors").json()["errors"]}
    admin(server, "POST", "/outcomes", ns, json={"error": "app_not_found"})
    answer = rotate(server, ns)
    row = rows["app_not_found"]
    assert (answer.status_code, answer.json()["code"]) == (row["status"], row["grpcCode"])
    assert answer.json()["message"] == row["message"]
    assert row["defaultFor"] is True  # what code=404 answers


def test_deleting_a_namespace_forgets_it(server: LiveServer) -> None:
    ns = fresh_ns()
    rotate(server, ns)
    assert ns in [n["name"] for n in admin(server, "GET", "/namespaces").json()["namespaces"]]
    assert admin(server, "DELETE", f"/namespaces/{ns}").status_code == 204
    assert ns not in [n["name"] for n in admin(server, "GET", "/namespaces").json()["namespaces"]]


def test_a_deleted_namespace_comes_back_as_the_start_fixtures(server: LiveServer) -> None:
    ns = fresh_ns()
    admin(server, "DELETE", "/apps/319487671630840322", ns)
    admin(server, "POST", "/outcomes", ns, json={"code": 503})
    admin(server, "DELETE", f"/namespaces/{ns}")
    again = state(server, ns)
    assert "319487671630840322" in [a["id"] for a in again["apps"]]
    assert again["outcomes"] == []


def test_deleting_a_namespace_not_in_use_is_404(server: LiveServer) -> None:
    response = admin(server, "DELETE", f"/namespaces/{fresh_ns()}")
    assert response.status_code == 404
    assert response.json()["message"].startswith("namespace 't-")


def test_deleting_a_malformed_namespace_name_is_404(server: LiveServer) -> None:
    assert admin(server, "DELETE", "/namespaces/a%20b").status_code == 404


def test_the_outcome_example_of_the_admin_docs_is_queued(server: LiveServer) -> None:
    spec = server.client.get("/__mock/openapi.json").json()
    media = spec["paths"]["/outcomes"]["post"]["requestBody"]["content"]["application/json"]
    response = admin(server, "POST", "/outcomes", fresh_ns(), json=media["example"])
    assert response.status_code == 201, response.text


def test_the_seed_example_of_the_admin_docs_is_accepted(server: LiveServer) -> None:
    # The session's server is shared: put back the randomness afterwards.
    spec = server.client.get("/__mock/openapi.json").json()
    media = spec["paths"]["/seed"]["put"]["requestBody"]["content"]["application/json"]
    try:
        assert admin(server, "PUT", "/seed", json=media["example"]).status_code == 200
    finally:
        admin(server, "PUT", "/seed", json={"seed": None})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=abc", "invalid query parameter status: 'abc' is not an integer"),
        ("limit=0", "invalid query parameter limit: 0 is less than the minimum of 1"),
    ],
)
def test_a_bad_journal_filter_is_named_in_one_line(
    server: LiveServer, query: str, message: str
) -> None:
    response = server.client.get(f"/__mock/journal?{query}")
    assert response.status_code == 400
    assert response.json() == {"code": 3, "message": message}

"""The admin API under /__mock: its own spec, the state it shows, and changes checked by the
fixture rules (a refused change leaves the state as it was)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from tests.conftest import ACME, BACKEND, PORTAL, SPA, WEB, LiveServer
from tests.support.control_helpers import admin, fresh_ns, rotate, sequence, state
from tests.support.specs import spec
from zitadel_mock.control.admin.api import SPEC_PATH
from zitadel_mock.control.outcomes import Fault
from zitadel_mock.domain.client_secrets import token_digest

NEW_APP = {"id": "900", "name": "mobile", "project": PORTAL, "type": "oidc"}


def test_the_admin_spec_is_valid_openapi_3_0_3() -> None:
    document, _ = read_from_filename(str(SPEC_PATH))
    validate(document)
    assert document["openapi"] == "3.0.3"


def test_the_admin_spec_lists_exactly_the_faults_the_mock_knows() -> None:
    document = yaml.safe_load(SPEC_PATH.read_text())
    assert document["components"]["schemas"]["NewOutcome"]["properties"]["fault"]["enum"] == [
        fault.value for fault in Fault
    ]


def test_the_admin_api_is_not_in_the_contract() -> None:
    assert not [path for path in spec()["paths"] if "__mock" in path]
    assert "__mock" not in yaml.safe_dump(spec())


def test_the_docs_page_and_the_spec_are_served(server: LiveServer) -> None:
    page = server.client.get("/__mock/docs/")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    served = server.client.get("/__mock/openapi.json").json()
    assert served["info"]["title"] == "zitadel-mock control plane"


def test_the_state_shows_every_record_and_no_plaintext(server: LiveServer) -> None:
    body = state(server, fresh_ns())
    assert [o["name"] for o in body["orgs"]] == ["acme", "globex"]
    web = next(a for a in body["apps"] if a["id"] == WEB)
    assert set(web) == {"id", "name", "project", "type", "authMethod", "clientId"}  # no secret yet
    admin_token = next(t for t in body["tokens"] if t["name"] == "admin")
    assert admin_token["appWrite"] == {"instance": True, "orgs": [], "projects": []}
    assert "admin-pat" not in str(body)


def test_a_rotation_changes_the_secret_fingerprint(server: LiveServer) -> None:
    ns = fresh_ns()
    fingerprints = []
    for _ in range(2):
        secret = rotate(server, ns).json()["clientSecret"]
        web = next(a for a in state(server, ns)["apps"] if a["id"] == WEB)
        assert secret not in str(web)
        fingerprints.append(web["secretFingerprint"])
    assert fingerprints[0] != fingerprints[1]


def test_records_created_by_the_admin_api_serve_the_call(server: LiveServer) -> None:
    ns = fresh_ns()
    steps = [
        ("/orgs", {"id": "700", "name": "initech"}),
        ("/projects", {"id": "800", "name": "tps", "org": "700", "sequence": 41}),
        ("/apps", {"id": "900", "name": "reports", "project": "800", "type": "oidc"}),
        (
            "/tokens",
            {
                "token": "lumbergh-pat",
                "name": "lumbergh",
                "user": "1",
                "org": "700",
                "memberships": [{"scope": "org", "id": "700", "roles": ["ORG_OWNER"]}],
            },
        ),
    ]
    for path, body in steps:
        response = admin(server, "POST", path, ns, json=body)
        assert response.status_code == 201, response.text
    answer = rotate(server, ns, project="800", app="900", token="lumbergh-pat")
    assert answer.json()["details"] == {
        **answer.json()["details"],
        "sequence": "42",
        "resourceOwner": "700",
    }


def test_a_created_token_is_shown_without_its_plaintext(server: LiveServer) -> None:
    response = admin(
        server,
        "POST",
        "/tokens",
        fresh_ns(),
        json={"token": "very-secret-pat", "name": "t", "user": "1", "org": ACME},
    )
    assert response.json()["fingerprint"] == token_digest("very-secret-pat")[:12]
    assert "very-secret-pat" not in response.text


def test_changing_a_project_sequence_moves_the_next_answer(server: LiveServer) -> None:
    ns = fresh_ns()
    assert (
        admin(server, "PATCH", f"/projects/{PORTAL}", ns, json={"sequence": 99}).status_code == 200
    )
    assert rotate(server, ns).json()["details"]["sequence"] == "100"


def test_changing_an_app_to_api_gives_zitadels_not_oidc_row(server: LiveServer) -> None:
    ns = fresh_ns()
    response = admin(server, "PATCH", f"/apps/{WEB}", ns, json={"type": "api", "authMethod": None})
    assert response.status_code == 200, response.text
    assert rotate(server, ns).json()["message"] == "Application is not type OIDC (COMMAND-Ghrh3)"


def test_a_deleted_app_is_not_found(server: LiveServer) -> None:
    ns = fresh_ns()
    assert admin(server, "DELETE", f"/apps/{WEB}", ns).status_code == 204
    assert rotate(server, ns).json()["message"] == "Application doesn't exist (COMMAND-2g66f)"


def refused(server: LiveServer, method: str, path: str, body: Any, status: int) -> str:
    """Send a change that must be refused; check the state is untouched; return the message."""
    ns = fresh_ns()
    before = state(server, ns)
    response = admin(server, method, path, ns, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"code", "message"}
    assert state(server, ns) == before
    message: str = response.json()["message"]
    return message


def test_an_app_in_no_project_is_refused(server: LiveServer) -> None:
    message = refused(server, "POST", "/apps", {**NEW_APP, "project": "nope"}, 400)
    assert message == (
        "refused creating app '900': app project 'nope' is not a project of this document"
    )


def test_a_duplicate_id_is_refused(server: LiveServer) -> None:
    message = refused(server, "POST", "/apps", {**NEW_APP, "id": WEB}, 409)
    assert message == f"app '{WEB}' already exists"


def test_a_duplicate_client_id_is_refused(server: LiveServer) -> None:
    body = {**NEW_APP, "clientId": f"{WEB}@portal"}
    message = refused(server, "POST", "/apps", body, 400)
    assert message.endswith(f"duplicate client id '{WEB}@portal'")


def test_a_token_for_an_unknown_org_is_refused(server: LiveServer) -> None:
    body = {"token": "t", "name": "t", "user": "1", "org": "nope"}
    message = refused(server, "POST", "/tokens", body, 400)
    assert message == "refused creating token 't': token org 'nope' is not an org of this document"


def test_deleting_an_org_that_projects_belong_to_is_refused(server: LiveServer) -> None:
    message = refused(server, "DELETE", f"/orgs/{ACME}", None, 400)
    assert message.startswith(f"refused deleting org '{ACME}': ")


def test_an_auth_method_on_an_api_app_is_refused(server: LiveServer) -> None:
    message = refused(server, "PATCH", f"/apps/{BACKEND}", {"authMethod": "basic"}, 400)
    assert message.endswith("authMethod is only for OIDC apps")


def test_changing_an_unknown_record_is_not_found(server: LiveServer) -> None:
    message = refused(server, "PATCH", "/projects/nope", {"name": "x"}, 404)
    assert message == "project 'nope' does not exist"


@pytest.mark.parametrize(
    ("sent", "answer"),
    [
        (("POST", "/apps", {"id": "1"}), (400, 3)),
        (("POST", "/apps", {**NEW_APP, "colour": "red"}), (400, 3)),
        (("GET", "/nothing-here", None), (404, 5)),
        (("DELETE", "/state", None), (405, 12)),
        (("GET", "/journal?limit=0", None), (400, 3)),
    ],
)
def test_every_admin_error_is_a_google_rpc_status(
    server: LiveServer, sent: tuple[str, str, Any], answer: tuple[int, int]
) -> None:
    method, path, body = sent
    response = admin(server, method, path, fresh_ns(), json=body)
    assert (response.status_code, response.json()["code"]) == answer
    assert response.headers["content-type"] == "application/json"


def test_a_body_that_is_not_json_is_a_google_rpc_status(server: LiveServer) -> None:
    response = admin(
        server,
        "POST",
        "/orgs",
        fresh_ns(),
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["code"]) == (400, 3)


DOCUMENT = """\
orgs: [{id: "1", name: one}]
projects: [{id: "2", name: p, org: "1", sequence: 10}]
apps: [{id: "3", name: a, project: "2", type: oidc}]
tokens:
  - {token: doc-pat, user: "4", org: "1", memberships: [{scope: instance, roles: [IAM_OWNER]}]}
"""


def test_a_fixture_document_replaces_the_namespace_and_reset_undoes_it(server: LiveServer) -> None:
    ns = fresh_ns()
    loaded = admin(
        server,
        "PUT",
        "/fixtures",
        ns,
        content=DOCUMENT,
        headers={"Content-Type": "application/yaml"},
    )
    assert loaded.status_code == 200, loaded.text
    assert [o["name"] for o in loaded.json()["orgs"]] == ["one"]
    assert rotate(server, ns, project="2", app="3", token="doc-pat").status_code == 200
    assert rotate(server, ns).status_code == 401  # admin-pat is gone with the demo fixtures
    admin(server, "POST", "/reset", ns)
    assert sequence(server, ns) == 6


def test_a_fixture_document_in_json_is_loaded_too(server: LiveServer) -> None:
    ns = fresh_ns()
    loaded = admin(server, "PUT", "/fixtures", ns, json=yaml.safe_load(DOCUMENT))
    assert [p["sequence"] for p in loaded.json()["projects"]] == [10]


def test_a_broken_fixture_document_is_refused_with_its_line(server: LiveServer) -> None:
    ns = fresh_ns()
    before = state(server, ns)
    broken = DOCUMENT.replace('project: "2"', 'project: "9"')
    response = admin(
        server, "PUT", "/fixtures", ns, content=broken, headers={"Content-Type": "application/yaml"}
    )
    assert (response.status_code, response.json()["message"]) == (
        400,
        "the document:3: app project '9' is not a project of this document",
    )
    assert state(server, ns) == before


def test_a_seed_makes_secrets_and_times_reproducible(fresh_server: LiveServer) -> None:
    runs = []
    for _ in range(2):
        assert admin(fresh_server, "POST", "/reset", params={"all": "true"}).status_code == 200
        assert admin(fresh_server, "PUT", "/seed", json={"seed": 3}).json() == {"seed": 3}
        runs.append([fresh_server.rotate().json() for _ in range(2)])
    assert runs[0] == runs[1]
    assert runs[0][0]["details"]["changeDate"] == "2025-01-01T00:00:00.001Z"  # protojson: 3 digits
    assert state(fresh_server, "")["seed"] == 3


def test_seed_null_goes_back_to_real_randomness(fresh_server: LiveServer) -> None:
    admin(fresh_server, "PUT", "/seed", json={"seed": None})
    first, second = fresh_server.rotate().json(), fresh_server.rotate().json()
    assert first["clientSecret"] != second["clientSecret"]
    assert first["details"]["changeDate"] > "2026"


def test_reset_all_restores_every_namespace(server: LiveServer) -> None:
    ns = fresh_ns()
    rotate(server, ns, app=SPA)
    admin(server, "PATCH", f"/projects/{PORTAL}", "", json={"name": "renamed"})
    try:
        reset = admin(server, "POST", "/reset", params={"all": "true"}).json()["reset"]
        assert {"", ns} <= set(reset)
        assert sequence(server, ns) == 6
        assert (
            next(p["name"] for p in state(server, "")["projects"] if p["id"] == PORTAL) == "portal"
        )
    finally:
        admin(server, "PATCH", f"/projects/{PORTAL}", "", json={"name": "portal"})

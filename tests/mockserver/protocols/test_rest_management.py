"""AddProject, AddOIDCApp and RemoveProject over REST on a real socket, as ZITADEL answers them.

Each test works in a namespace of its own on the session's mock, so projects made here leave the
other tests' state alone. Every success body is checked against openapi.yaml's schema.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import ACME, GLOBEX, PORTAL, WEB, LiveServer, rotate_path
from tests.support.control_helpers import fresh_ns, journal, state
from tests.support.specs import component_validator, upstream_validator
from zitadel_mock.domain.errors import ERROR_DETAIL_TYPE
from zitadel_mock.operations.registry import MANAGED
from zitadel_mock.protocols.gateway import Rendered
from zitadel_mock.protocols.rest_management import ManagementRoute
from zitadel_proto.methods import V2_GENERATE_CLIENT_SECRET

PROJECTS = "/management/v1/projects"
WEB_APP = {
    "name": "web",
    "redirectUris": ["https://app.example/callback"],
    "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
    "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
    "appType": "OIDC_APP_TYPE_WEB",
    "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
}


class Api:
    """The three calls in one namespace, with a token (``admin-pat`` unless told)."""

    def __init__(self, server: LiveServer, token: str | None = "admin-pat") -> None:
        self.client = server.client
        self.ns = fresh_ns()
        self.token = token

    def headers(self, token: str | None = "", org: str | None = None) -> dict[str, str]:
        sent = {"X-Mock-Namespace": self.ns}
        token = self.token if token == "" else token
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if org is not None:
            sent["x-zitadel-orgid"] = org
        return sent

    def add_project(self, body: object = None, **who: Any) -> httpx.Response:
        sent = {"name": "disposable"} if body is None else body
        return self.client.post(PROJECTS, json=sent, headers=self.headers(**who))

    def add_app(self, project: str, body: object = None, **who: Any) -> httpx.Response:
        sent = WEB_APP if body is None else body
        path = f"{PROJECTS}/{project}/apps/oidc"
        return self.client.post(path, json=sent, headers=self.headers(**who))

    def remove(self, project: str, **who: Any) -> httpx.Response:
        return self.client.delete(f"{PROJECTS}/{project}", headers=self.headers(**who))

    def rotate(self, project: str, app: str) -> httpx.Response:
        return self.client.post(rotate_path(project, app), json={}, headers=self.headers())

    def project(self) -> str:
        made = self.add_project()
        assert made.status_code == 200, made.text
        project: str = made.json()["id"]
        return project

    def app(self, project: str, body: object = None) -> dict[str, Any]:
        made = self.add_app(project, body)
        assert made.status_code == 200, made.text
        document: dict[str, Any] = made.json()
        return document


def valid(document: dict[str, Any], name: str) -> None:
    """``document`` matches openapi.yaml's ``name`` and ZITADEL's generated ``v1<name>``."""
    component_validator(name).validate(document)
    upstream_validator(f"v1{name}").validate(document)


def error(response: httpx.Response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["message"]


def zitadel_id(response: httpx.Response) -> str:
    (detail,) = response.json()["details"]
    assert detail["@type"] == ERROR_DETAIL_TYPE
    identifier: str = detail["id"]
    return identifier


# -- AddProject -------------------------------------------------------------------------------


def test_add_project_answers_its_id_and_the_details_of_its_creation(server: LiveServer) -> None:
    made = Api(server).add_project({"name": "disposable"})
    assert made.status_code == 200
    valid(made.json(), "AddProjectResponse")
    details = made.json()["details"]
    assert (details["sequence"], details["resourceOwner"]) == ("1", ACME)
    assert "changeDate" not in details  # AddToDetailsPb sets the creation date only
    assert len(made.json()["id"]) == 18


def test_add_project_acts_in_the_org_of_the_org_header(server: LiveServer) -> None:
    made = Api(server).add_project(org=GLOBEX)
    assert made.json()["details"]["resourceOwner"] == GLOBEX


def test_add_project_without_a_name_is_refused_by_validation(server: LiveServer) -> None:
    refused = Api(server).add_project({})
    assert error(refused) == (
        400,
        3,
        "invalid AddProjectRequest.Name: value length must be between 1 and 200 runes, inclusive",
    )


def test_add_project_with_a_name_of_the_wrong_type_is_refused_by_the_gateway(
    server: LiveServer,
) -> None:
    refused = Api(server).add_project({"name": 5})
    assert refused.status_code == 400
    assert refused.json()["code"] == 3


def test_add_project_with_an_undefined_labeling_setting_is_refused(server: LiveServer) -> None:
    refused = Api(server).add_project({"name": "p", "privateLabelingSetting": 7})
    assert error(refused) == (
        400,
        3,
        "invalid AddProjectRequest.PrivateLabelingSetting: value must be one of the defined enum"
        " values",
    )


def test_add_project_without_a_token_is_unauthenticated(server: LiveServer) -> None:
    refused = Api(server, token=None).add_project()
    assert error(refused) == (401, 16, "auth header missing")
    assert refused.headers["www-authenticate"] == "auth header missing"


def test_add_project_in_an_unknown_org_is_refused(server: LiveServer) -> None:
    refused = Api(server).add_project(org="1")
    assert error(refused)[:2] == (403, 7)
    assert zitadel_id(refused) == "AUTH-Bs7Ds"


def test_add_project_without_project_create_is_permission_denied(server: LiveServer) -> None:
    refused = Api(server, token="acme-viewer-pat").add_project()
    assert error(refused)[:2] == (403, 7)
    assert zitadel_id(refused) == "AUTH-5mWD2"


def test_a_project_owner_may_not_create_projects(server: LiveServer) -> None:
    refused = Api(server, token="portal-owner-pat").add_project()
    assert zitadel_id(refused) == "AUTH-5mWD2"


# -- AddOIDCApp -------------------------------------------------------------------------------


def test_add_oidc_app_with_basic_answers_a_client_id_and_a_secret(server: LiveServer) -> None:
    api = Api(server)
    made = api.app(api.project())
    valid(made, "AddOIDCAppResponse")
    assert made["details"]["sequence"] == "3"  # project added, app added, OIDC config added
    assert len(made["clientSecret"]) == 64
    assert made["clientSecret"].isalnum()


def test_the_new_apps_secret_authenticates_it_at_the_token_endpoint(server: LiveServer) -> None:
    api = Api(server)
    made = api.app(api.project())
    form = {"grant_type": "authorization_code", "code": "made-up", "redirect_uri": "https://a"}

    def ask(secret: str) -> int:
        pair = base64.b64encode(f"{made['clientId']}:{secret}".encode()).decode()
        headers = {"Authorization": f"Basic {pair}", "X-Mock-Namespace": api.ns}
        return server.client.post("/oauth/v2/token", data=form, headers=headers).status_code

    assert ask(made["clientSecret"]) == 400  # past client authentication: invalid_grant
    assert ask(made["clientSecret"][::-1]) == 401  # a wrong secret: invalid_client


@pytest.mark.parametrize(
    "method", ["OIDC_AUTH_METHOD_TYPE_NONE", "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"]
)
def test_add_oidc_app_without_a_secret_method_answers_no_secret(
    server: LiveServer, method: str
) -> None:
    api = Api(server)
    made = api.app(api.project(), {**WEB_APP, "authMethodType": method})
    valid(made, "AddOIDCAppResponse")
    assert "clientSecret" not in made


def test_add_oidc_app_in_an_unknown_project_is_a_failed_precondition(server: LiveServer) -> None:
    refused = Api(server).add_app("123456789012345678")
    assert error(refused) == (400, 9, "Project not found (COMMAND-EbFMN)")


def test_add_oidc_app_in_a_project_of_another_org_is_a_failed_precondition(
    server: LiveServer,
) -> None:
    api = Api(server)
    refused = api.add_app(api.project(), org=GLOBEX)
    assert zitadel_id(refused) == "COMMAND-EbFMN"


def test_add_oidc_app_with_code_flow_but_no_authorization_code_grant_is_invalid(
    server: LiveServer,
) -> None:
    api = Api(server)
    refused = api.add_app(api.project(), {**WEB_APP, "grantTypes": ["OIDC_GRANT_TYPE_IMPLICIT"]})
    assert error(refused) == (400, 3, "Application invalid (PROJECT-1n8df)")


def test_add_oidc_app_with_an_undefined_app_type_is_refused_by_validation(
    server: LiveServer,
) -> None:
    api = Api(server)
    refused = api.add_app(api.project(), {**WEB_APP, "appType": 9})
    assert error(refused)[2] == (
        "invalid AddOIDCAppRequest.AppType: value must be one of the defined enum values"
    )


def test_add_oidc_app_with_a_clock_skew_over_five_seconds_is_refused(server: LiveServer) -> None:
    api = Api(server)
    refused = api.add_app(api.project(), {**WEB_APP, "clockSkew": "6s"})
    assert error(refused)[2] == (
        "invalid AddOIDCAppRequest.ClockSkew: value must be inside range [0s, 5s]"
    )


def test_add_oidc_app_validates_after_authorization(server: LiveServer) -> None:
    refused = Api(server, token="acme-viewer-pat").add_app(PORTAL, {"name": ""})
    assert zitadel_id(refused) == "AUTH-5mWD2"


def test_an_owner_of_another_project_may_not_add_apps_to_this_one(server: LiveServer) -> None:
    api = Api(server)
    refused = api.add_app(api.project(), token="portal-owner-pat")
    assert zitadel_id(refused) == "AUTH-3jknH"


# -- RemoveProject, and the new app in the state ------------------------------------------------


def test_an_app_made_through_the_api_is_rotated_by_the_v1_call(server: LiveServer) -> None:
    api = Api(server)
    project = api.project()
    made = api.app(project)
    rotated = api.rotate(project, made["appId"])
    assert rotated.status_code == 200
    assert rotated.json()["details"]["sequence"] == "4"
    assert rotated.json()["clientSecret"] != made["clientSecret"]


def test_an_app_made_through_the_api_is_rotated_by_the_v2_call(server: LiveServer) -> None:
    api = Api(server)
    project = api.project()
    made = api.app(project)
    rotated = server.client.post(
        V2_GENERATE_CLIENT_SECRET,
        json={"projectId": project, "applicationId": made["appId"]},
        headers=api.headers(),
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["clientSecret"] != made["clientSecret"]


def test_remove_project_answers_the_details_of_the_removal(server: LiveServer) -> None:
    api = Api(server)
    project = api.project()
    removed = api.remove(project)
    assert removed.status_code == 200
    valid(removed.json(), "RemoveProjectResponse")
    assert removed.json()["details"]["sequence"] == "2"


def test_after_removal_the_apps_rotation_is_zitadels_not_found(server: LiveServer) -> None:
    api = Api(server)
    project = api.project()
    made = api.app(project)
    assert api.remove(project).status_code == 200
    gone = api.rotate(project, made["appId"])
    assert error(gone) == (404, 5, "Application doesn't exist (COMMAND-2g66f)")


def test_removing_an_unknown_project_is_not_found(server: LiveServer) -> None:
    refused = Api(server).remove("123456789012345678")
    assert error(refused) == (404, 5, "Project not found (COMMAND-3M9sd)")


def test_removing_a_project_twice_is_not_found_the_second_time(server: LiveServer) -> None:
    api = Api(server)
    project = api.project()
    assert api.remove(project).status_code == 200
    assert zitadel_id(api.remove(project)) == "COMMAND-3M9sd"


def test_a_project_of_another_org_is_not_found_from_this_one(server: LiveServer) -> None:
    api = Api(server)
    project = api.project()
    assert zitadel_id(api.remove(project, org=GLOBEX)) == "COMMAND-3M9sd"


def test_the_owner_of_another_project_may_not_remove_this_one(server: LiveServer) -> None:
    api = Api(server)
    assert zitadel_id(api.remove(api.project(), token="portal-owner-pat")) == "AUTH-3jknH"


def test_an_overlong_project_id_is_refused_by_validation(server: LiveServer) -> None:
    refused = Api(server).remove("1" * 201)
    assert error(refused) == (
        400,
        3,
        "invalid RemoveProjectRequest.Id: value length must be between 1 and 200 runes, inclusive",
    )


def test_the_new_secret_is_kept_only_as_a_hash(server: LiveServer) -> None:
    api = Api(server)
    project = api.project()
    made = api.app(project)
    (app,) = [a for a in state(server, api.ns)["apps"] if a["id"] == made["appId"]]
    assert len(app["secretFingerprint"]) == 12  # of the stored hash; the secret is nowhere
    seen = httpx.get(f"{server.url}/__mock/state", headers={"X-Mock-Namespace": api.ns}).text
    assert made["clientSecret"] not in seen
    assert made["clientSecret"] not in str(journal(server, api.ns))
    assert made["clientSecret"] not in server.stderr()


def test_the_calls_are_journalled_without_their_answers(server: LiveServer) -> None:
    api = Api(server)
    project = api.project()
    api.app(project)
    api.remove(project)
    entries = [(e["method"], e["path"], e["status"]) for e in journal(server, api.ns)]
    assert entries == [
        ("POST", PROJECTS, 200),
        ("POST", f"{PROJECTS}/{project}/apps/oidc", 200),
        ("DELETE", f"{PROJECTS}/{project}", 200),
    ]


def test_wrong_method_on_a_project_is_method_not_allowed(server: LiveServer) -> None:
    refused = server.client.put(f"{PROJECTS}/1", headers=Api(server).headers())
    assert error(refused) == (405, 12, "Method Not Allowed")
    assert refused.headers["allow"] == "DELETE"


def test_an_answer_that_breaks_the_spec_is_caught_before_it_is_sent() -> None:
    """The check every answer passes: a creation's details without their creation date (as
    ChangeToDetailsPb would write them) do not match openapi.yaml."""
    (add_project,) = [op for op in MANAGED if op.method_name == "AddProject"]
    route = ManagementRoute(add_project)
    details = {"sequence": "1", "resourceOwner": ACME}
    good = {"id": "1", "details": {**details, "creationDate": "2026-12-01T00:00:00Z"}}
    bad = {"id": "1", "details": {**details, "changeDate": "2026-12-01T00:00:00Z"}}
    assert route.conforms(Rendered(200, (), good, b"")) is None
    assert route.conforms(Rendered(200, (), bad, b"")) is not None


def test_a_header_holding_the_new_secret_is_redacted_in_the_journal(server: LiveServer) -> None:
    api = Api(server)
    made = api.app(api.project())
    sent = {**api.headers(), "x-note": made["clientSecret"]}
    server.client.post(PROJECTS, json={"name": "again"}, headers=sent)
    last = journal(server, api.ns)[-1]
    assert last["headers"]["x-note"] == "<redacted>"


def test_a_project_owner_may_remove_its_own_project(server: LiveServer) -> None:
    """A grant scoped to the project (PROJECT_OWNER of the demo's portal) holds project.delete
    for that project: the check field is the path's id. In a namespace of its own."""
    api = Api(server)
    removed = api.remove(PORTAL, token="portal-owner-pat")
    assert removed.status_code == 200, removed.text
    assert error(api.rotate(PORTAL, WEB))[:2] == (404, 5)

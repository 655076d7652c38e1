"""The Swagger UI at /docs/ reads openapi.yaml with docs-overlay.yaml on top: its examples work
against the demo fixtures on the first click, it offers Prefer and X-Mock-Namespace, and the
contract file itself stays as it is."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, LiveServer
from tests.support.control_helpers import fresh_ns
from zitadel_mock.protocols.docs_overlay import apply_overlay, load_overlay, target_keys

OPERATION = "/management/v1/projects/{projectId}/apps/{appId}/oidc_config/_generate_client_secret"


def served_operation(server: LiveServer) -> dict[str, Any]:
    spec = server.client.get("/openapi.json").json()
    operation: dict[str, Any] = spec["paths"][OPERATION]["post"]
    return operation


def try_it_out(server: LiveServer, operation: dict[str, Any], headers: dict[str, str]) -> Any:
    """What Swagger UI sends: the path examples, the body example, the demo token."""
    path = OPERATION
    for parameter in operation["parameters"]:
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", parameter["example"])
    body = operation["requestBody"]["content"]["application/json"]["example"]
    return server.client.post(
        path, json=body, headers={"Authorization": "Bearer admin-pat", **headers}
    )


def test_the_served_example_call_succeeds_with_the_demo_fixtures(server: LiveServer) -> None:
    operation = served_operation(server)
    answer = try_it_out(server, operation, {"X-Mock-Namespace": fresh_ns()})
    assert answer.status_code == 200, answer.text


def test_the_generated_example_would_have_failed(server: LiveServer) -> None:
    # Without the overlay's example Swagger UI sends every field of the schema: refused.
    operation = served_operation(server)
    operation["requestBody"]["content"]["application/json"]["example"] = {
        "projectId": "1",
        "project_id": "1",
    }
    answer = try_it_out(server, operation, {"X-Mock-Namespace": fresh_ns()})
    assert answer.status_code == 400


@pytest.mark.parametrize("name", ["Prefer", "X-Mock-Namespace"])
def test_the_docs_offer_the_mocks_headers_as_optional(server: LiveServer, name: str) -> None:
    parameters = {p["name"]: p for p in served_operation(server)["parameters"]}
    assert parameters[name]["in"] == "header"
    assert parameters[name]["required"] is False


def test_the_prefer_header_offered_by_the_docs_forces_an_outcome(server: LiveServer) -> None:
    answer = try_it_out(
        server, served_operation(server), {"Prefer": "code=404", "X-Mock-Namespace": fresh_ns()}
    )
    assert answer.status_code == 404


def test_the_contract_file_has_no_mock_headers() -> None:
    contract = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    names = [p["name"] for p in contract["paths"][OPERATION]["post"]["parameters"]]
    assert "Prefer" not in names
    assert "X-Mock-Namespace" not in names


def test_every_overlay_target_selects_something() -> None:
    contract = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    apply_overlay(contract, load_overlay())  # raises KeyError on a target that selects nothing


def test_a_target_outside_the_supported_steps_is_refused() -> None:
    with pytest.raises(ValueError, match=r"only \.name and"):
        target_keys("$.paths[*].post")

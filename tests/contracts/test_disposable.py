"""``--disposable-app``: a project and OIDC app made for the run with ZITADEL's Management API
calls, checked, and removed afterwards, whatever the run found.

The mock does not answer those calls; ``broken_servers.ManagementApi`` stands in for them in
front of it, in ZITADEL's documented shapes, and returns the fixture's own app as the new one.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp

from tests.contracts.test_verify import VERIFY, run
from tests.support import broken_servers as broken
from zitadel_contract.provision import APP_ORG, PROJECT

RemoveCall = ("DELETE", f"/management/v1/projects/{PROJECT}")


def verify_disposable(
    inner: Callable[[ASGIApp], ASGIApp] = lambda app: app,
) -> tuple[int, str, list[tuple[str, str, dict[str, object]]]]:
    apis: list[broken.ManagementApi] = []

    def wrap(app: ASGIApp, token: str, _viewer: str) -> ASGIApp:
        api = broken.ManagementApi(inner(app), token)
        apis.append(api)
        return api

    with broken.serve(wrap) as deployment:
        result = run(
            [*VERIFY, deployment.url, "--org-id", APP_ORG, "--disposable-app", "--examples", "2"],
            env={"ZITADEL_CONTRACT_TOKEN": deployment.token},
        )
    return result.returncode, result.stdout + result.stderr, apis[0].calls


def test_a_disposable_app_is_made_checked_and_removed() -> None:
    code, output, calls = verify_disposable()
    assert code == 0, output
    assert [(method, path) for method, path, _ in calls] == [
        ("POST", "/management/v1/projects"),
        ("POST", f"/management/v1/projects/{PROJECT}/apps/oidc"),
        RemoveCall,
    ]
    app = calls[1][2]
    assert app["authMethodType"] == "OIDC_AUTH_METHOD_TYPE_BASIC"
    assert app["appType"] == "OIDC_APP_TYPE_WEB"
    assert f"the disposable project {PROJECT}" in output
    assert "was removed" in output


def test_the_disposable_app_is_removed_when_the_contract_breaks() -> None:
    code, output, calls = verify_disposable(broken.RepeatedSecret)
    assert code == 1, output
    assert (calls[-1][0], calls[-1][1]) == RemoveCall


def test_a_server_without_the_management_api_is_refused_in_one_line() -> None:
    with broken.serve(lambda app, _t, _v: app) as deployment:
        result = run(
            [*VERIFY, deployment.url, "--org-id", APP_ORG, "--disposable-app"],
            env={"ZITADEL_CONTRACT_TOKEN": deployment.token},
        )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "does not create a project as ZITADEL's Management API does" in output
    assert "Traceback" not in output

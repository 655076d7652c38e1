"""The v2 contract has teeth: ``--api v2 --transport connect`` fails every broken v2 server, for
the right reason, and passes the mock (as test_teeth.py does for v1); over ``grpc`` and
``grpc-web`` on the v2 path, the mock passes and broken status details are caught."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from tests.contracts.test_teeth import NO_DEFECT, Verdict, Wrap, plain, verify
from tests.support import broken_connect as broken
from tests.support import broken_grpc
from tests.support.broken_servers import serve

V2 = ("--api", "v2", "--transport", "connect")
DEFECTS: dict[str, tuple[Wrap, set[str]]] = {
    "a repeated secret": (plain(broken.RepeatedSecretV2), {"secret_is_new"}),
    "a creationDate with +00:00": (
        plain(broken.CreationDateWithOffset),
        {"success_body_is_protojson"},
    ),
    "a code string that is not its status's": (
        plain(broken.WrongConnectCodeOnNotFound),
        {"connect_code_matches_http_status"},
    ),
    "detail values with base64 padding": (
        plain(broken.PaddedDetailValues),
        {"connect_detail_is_unpadded_base64"},
    ),
    "no details on a ZITADEL id error": (
        plain(broken.DetailsDroppedV2),
        {"zitadel_error_carries_error_detail"},
    ),
    "v1's id for an unknown app": (
        plain(broken.V1IdForUnknownApp),
        {"unknown_app_gives_its_zitadel_id"},
    ),
    "an id and details on 'auth header missing'": (
        plain(broken.DetailOnMissingToken),
        {"missing_token_gives_auth_header_missing"},
    ),
    "validation before authentication": (
        plain(broken.ValidationBeforeAuthentication),
        {"authentication_before_validation"},
    ),
    "an old secret that keeps working": (
        plain(broken.OldSecretKeepsWorkingV2),
        {"previous_secret_rejected"},
    ),
}
# (defect or None for the mock itself, transport) -> the checks that must catch it
GRPC_RUNS: dict[str, tuple[Wrap, str, set[str]]] = {
    "grpc: no defect": (NO_DEFECT, "grpc", set()),
    "grpc-web: no defect": (NO_DEFECT, "grpc-web", set()),
    "grpc: no status details": (
        broken_grpc.plain(broken_grpc.MissingStatusDetails),
        "grpc",
        {"zitadel_error_carries_status_details"},
    ),
    "grpc-web: garbled status details": (
        broken_grpc.plain(broken_grpc.GarbledStatusDetails),
        "grpc-web",
        {"status_details_are_google_rpc_status"},
    ),
}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Verdict]]:
    """One v2 verify run per broken server, and one against the mock itself, four at a time."""
    folder = tmp_path_factory.mktemp("teeth-v2")
    runs = {
        "no defect": (NO_DEFECT, V2),
        **{name: (wrap, V2) for name, (wrap, _) in DEFECTS.items()},
        **{name: (w, ("--api", "v2", "--transport", t)) for name, (w, t, _) in GRPC_RUNS.items()},
    }
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=4) as pool:
        deployments = {name: stack.enter_context(serve(w)) for name, (w, _) in runs.items()}
        futures = {
            name: pool.submit(verify, deployment, folder / f"{index}.xml", *runs[name][1])
            for index, (name, deployment) in enumerate(deployments.items())
        }
        results = {name: future.result() for name, future in futures.items()}
        for deployment in deployments.values():
            deployment.halt()
        yield results


def test_the_unbroken_mock_keeps_the_v2_contract(verdicts: dict[str, Verdict]) -> None:
    verdict = verdicts["no defect"]
    assert (verdict.exit_code, verdict.broken_checks) == (0, frozenset()), verdict.output


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_the_v2_contract_fails_a_server_with(verdicts: dict[str, Verdict], defect: str) -> None:
    verdict, expected = verdicts[defect], DEFECTS[defect][1]
    assert verdict.exit_code == 1, verdict.output
    assert expected <= verdict.broken_checks, (verdict.broken_checks, verdict.output)


@pytest.mark.parametrize("run", [name for name, (_, _, c) in GRPC_RUNS.items() if not c])
def test_the_unbroken_mock_keeps_the_v2_contract_over(
    verdicts: dict[str, Verdict], run: str
) -> None:
    verdict = verdicts[run]
    assert (verdict.exit_code, verdict.broken_checks) == (0, frozenset()), verdict.output


@pytest.mark.parametrize("run", [name for name, (_, _, c) in GRPC_RUNS.items() if c])
def test_the_v2_contract_fails_over_grpc_wires_a_server_with(
    verdicts: dict[str, Verdict], run: str
) -> None:
    verdict, expected = verdicts[run], GRPC_RUNS[run][2]
    assert verdict.exit_code == 1, verdict.output
    assert expected <= verdict.broken_checks, (verdict.broken_checks, verdict.output)

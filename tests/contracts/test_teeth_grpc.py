"""The contract suite has teeth over gRPC and gRPC-web too: it fails against every broken gRPC
server, for the right reason, and passes against the mock over each of the three wires.

Each broken server is the real mock behind a middleware that breaks one promise of its gRPC
answers (see broken_grpc.py); ``zitadel-mock verify --transport ...`` runs against it as a CI
pipeline would, and the checks named in its JUnit report must include the one that defect
breaks. The middleware without a defect passes too, so it is the defect that fails a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from tests.contracts.test_teeth import NO_DEFECT, Verdict, Wrap, verify
from tests.support import broken_grpc as grpc_broken
from tests.support import broken_servers as broken

# name -> (how to break the mock, transport, the checks that must catch it)
DEFECTS: dict[str, tuple[Wrap, str, set[str]]] = {
    "an unknown app answered grpc-status 7": (
        grpc_broken.plain(grpc_broken.UnknownAppIsForbidden),
        "grpc",
        {"unknown_ids_give_not_found"},
    ),
    "a sequence that does not increase over gRPC": (
        grpc_broken.plain(grpc_broken.StuckSequence),
        "grpc",
        {"sequence_strictly_increases"},
    ),
    "an old secret that keeps working after a gRPC rotation": (
        grpc_broken.plain(grpc_broken.OldSecretKeepsWorking),
        "grpc",
        {"previous_secret_rejected"},
    ),
    "an ignored authorization": (
        lambda app, token, _viewer: grpc_broken.IgnoredToken(app, token),
        "grpc-web",
        {"bad_token_gives_unauthenticated"},
    ),
    "no permission check": (
        grpc_broken.PermissionNotChecked,
        "grpc-web-text",
        {"token_without_permission_gives_permission_denied"},
    ),
    "no grpc-status-details-bin": (
        grpc_broken.plain(grpc_broken.MissingStatusDetails),
        "grpc",
        {"zitadel_error_carries_status_details"},
    ),
    "a garbled grpc-status-details-bin": (
        grpc_broken.plain(grpc_broken.GarbledStatusDetails),
        "grpc-web",
        {"status_details_are_google_rpc_status"},
    ),
    "a gRPC-web success without its trailer frame": (
        grpc_broken.plain(grpc_broken.SuccessStatusInHeaders),
        "grpc-web",
        {"grpc_web_trailers_in_final_frame"},
    ),
    "a grpc-message without the error id": (
        grpc_broken.plain(grpc_broken.MessageWithoutId),
        "grpc-web-text",
        {"error_message_reads_text_and_id"},
    ),
}
# The mock over grpc and grpc-web passes in test_contract_grpc_verify.py.
UNBROKEN: dict[str, tuple[Wrap, str]] = {
    "the mock over grpc-web-text": (NO_DEFECT, "grpc-web-text"),
    "the middleware without a defect over grpc": (
        grpc_broken.plain(grpc_broken.GrpcDefect),
        "grpc",
    ),
}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Verdict]]:
    """One verify run per server and transport, four at a time."""
    folder = tmp_path_factory.mktemp("grpc-teeth")
    runs = {**UNBROKEN, **{name: (wrap, wire) for name, (wrap, wire, _) in DEFECTS.items()}}
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=4) as pool:
        deployments = {name: stack.enter_context(broken.serve(w)) for name, (w, _) in runs.items()}
        futures = {
            name: pool.submit(
                verify, deployment, folder / f"{index}.xml", "--transport", runs[name][1]
            )
            for index, (name, deployment) in enumerate(deployments.items())
        }
        results = {name: future.result() for name, future in futures.items()}
        for deployment in deployments.values():
            deployment.halt()
        yield results


@pytest.mark.parametrize("run", sorted(UNBROKEN))
def test_the_contract_holds_for(verdicts: dict[str, Verdict], run: str) -> None:
    verdict = verdicts[run]
    assert (verdict.exit_code, verdict.broken_checks) == (0, frozenset()), verdict.output
    assert f'name="zitadel_contract_transport" value="{UNBROKEN[run][1]}"' in verdict.junit


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_the_contract_fails_a_grpc_server_with(verdicts: dict[str, Verdict], defect: str) -> None:
    verdict, expected = verdicts[defect], DEFECTS[defect][2]
    assert verdict.exit_code == 1, verdict.output
    assert expected <= verdict.broken_checks, (verdict.broken_checks, verdict.output)

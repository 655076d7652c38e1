"""The contract suite has teeth: it fails against every broken server, for the right reason.

Each broken server is the real mock behind a middleware that breaks one promise (see
broken_servers.py). ``zitadel-mock verify`` runs against each, as a CI pipeline would, and the
checks named in its JUnit report must include the one that defect breaks. Against the unbroken
mock, the same run passes. All runs go in parallel, with few examples, to keep this quick.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.types import ASGIApp

from tests.support import broken_servers as broken

Wrap = Callable[[ASGIApp, str, str], ASGIApp]
EXAMPLES = "3"
SEED = "20261127"


def plain(defect: type[broken.Defect]) -> Wrap:
    return lambda app, _token, _viewer: defect(app)


# defect -> (how to break the mock, the checks that must catch it)
DEFECTS: dict[str, tuple[Wrap, set[str]]] = {
    "wrong code on 404": (plain(broken.WrongCodeOnNotFound), {"error_code_matches_http_status"}),
    "problem+json errors": (
        plain(broken.ProblemJsonErrors),
        {"error_is_google_rpc_status", "content_type_conformance"},
    ),
    "a repeated secret": (plain(broken.RepeatedSecret), {"secret_is_new"}),
    "a sequence that does not increase": (
        plain(broken.StuckSequence),
        {"sequence_strictly_increases"},
    ),
    "a 500 on invalid JSON": (
        plain(broken.ServerErrorOnInvalidJson),
        {"invalid_json_gives_invalid_argument", "not_a_server_error"},
    ),
    "an ignored token": (
        lambda app, token, _viewer: broken.IgnoredToken(app, token),
        {"bad_token_gives_unauthenticated", "ignored_auth"},
    ),
    "an ignored x-zitadel-orgid": (
        plain(broken.IgnoredOrgHeader),
        {"unknown_org_gives_permission_denied"},
    ),
    "an old secret that keeps working": (
        plain(broken.OldSecretKeepsWorking),
        {"previous_secret_rejected"},
    ),
    "sequence as a number": (
        plain(broken.SequenceAsNumber),
        {"success_body_is_protojson", "response_schema_conformance"},
    ),
    "a missing WWW-Authenticate": (
        plain(broken.NoWwwAuthenticate),
        {"unauthenticated_carries_www_authenticate", "response_headers_conformance"},
    ),
    "a message without the error id": (
        plain(broken.MessageWithoutId),
        {"error_message_reads_text_and_id"},
    ),
    "a changeDate a day late": (
        plain(broken.ChangeDateADayLate),
        {"change_date_within_clock_skew"},
    ),
    "a creationDate after changeDate": (
        plain(broken.CreationDateAfterChangeDate),
        {"creation_date_not_after_change_date"},
    ),
    "the caller's org as resourceOwner": (
        plain(broken.OwnerIsTheCallersOrg),
        {"resource_owner_is_org_acted_in"},
    ),
    "ErrorDetails dropped from errors": (
        plain(broken.DetailsDropped),
        {"zitadel_error_carries_error_detail"},
    ),
    "a secret, and nothing else, for every request": (
        plain(broken.AlwaysASecret),
        {"success_body_is_protojson", "rotation_succeeds", "bad_token_gives_unauthenticated"},
    ),
    "extra body fields refused": (
        plain(broken.ExtraFieldsRefused),
        {"extra_body_fields_ignored"},
    ),
    "no permission check": (
        broken.PermissionNotChecked,
        {"token_without_permission_gives_permission_denied"},
    ),
    "an unknown app answered 403": (
        plain(broken.UnknownAppIsForbidden),
        {"unknown_ids_give_not_found"},
    ),
}
NO_DEFECT: Wrap = lambda app, _token, _viewer: app  # noqa: E731
# Served with the admin's own org the app's org: otherwise the preflight already stops the run
# (exit 4, "app does not exist ... acting in org"), before the check that names the defect.
ADMIN_IN_APP_ORG = frozenset({"an ignored x-zitadel-orgid"})


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    broken_checks: frozenset[str]
    output: str
    junit: str


def broken_checks(junit: Path) -> frozenset[str]:
    """The check ids in the first line ("broken: a, b") of every failure in a JUnit report."""
    found: set[str] = set()
    for failure in ET.parse(junit).iter("failure"):
        first = (failure.text or "").strip().splitlines()[0]
        if first.startswith("broken: "):
            found.update(first.removeprefix("broken: ").split(", "))
    return frozenset(found)


def verify(deployment: broken.Deployment, junit: Path, *extra: str) -> Verdict:
    result = deployment.verify(
        "--examples", EXAMPLES, "--seed", SEED, "--junit", str(junit), *extra
    )
    text = junit.read_text() if junit.exists() else ""
    checks = broken_checks(junit) if junit.exists() else frozenset()
    return Verdict(result.returncode, checks, result.stdout + result.stderr, text)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Verdict]]:
    """One verify run per broken server, and one against the mock itself, four at a time."""
    folder = tmp_path_factory.mktemp("teeth")
    wraps = {"no defect": NO_DEFECT, **{name: wrap for name, (wrap, _) in DEFECTS.items()}}
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=4) as pool:
        deployments = {
            name: stack.enter_context(
                broken.serve(w, broken.admin_in_app_org)
                if name in ADMIN_IN_APP_ORG
                else broken.serve(w)
            )
            for name, w in wraps.items()
        }
        futures = {
            name: pool.submit(verify, deployment, folder / f"{index}.xml")
            for index, (name, deployment) in enumerate(deployments.items())
        }
        results = {name: future.result() for name, future in futures.items()}
        for deployment in deployments.values():
            deployment.halt()  # all at once; the exit stack then only waits
        yield results


def test_the_unbroken_mock_keeps_the_contract(verdicts: dict[str, Verdict]) -> None:
    verdict = verdicts["no defect"]
    assert (verdict.exit_code, verdict.broken_checks) == (0, frozenset()), verdict.output


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_the_contract_fails_a_server_with(verdicts: dict[str, Verdict], defect: str) -> None:
    verdict, expected = verdicts[defect], DEFECTS[defect][1]
    assert verdict.exit_code == 1, verdict.output
    assert expected <= verdict.broken_checks, (verdict.broken_checks, verdict.output)

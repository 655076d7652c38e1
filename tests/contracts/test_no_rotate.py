"""``--no-rotate``: every check that cannot rotate runs, nothing rotates, and the run says so."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from starlette.types import ASGIApp

from tests.contracts.test_teeth import broken_checks
from tests.contracts.test_verify import VERIFY, run
from tests.support import broken_servers as broken

NO_ROTATE = ("--no-rotate", "--examples", "3")
ROTATING = {
    "test_rotations_keep_their_promises_whatever_extra_body_fields_say",
    "test_previous_secret_stops_working_and_new_one_works",
}


def test_no_rotate_rotates_nothing_and_says_so(tmp_path: Path) -> None:
    handed_out: list[set[str]] = []

    def wrap(app: ASGIApp, _token: str, _viewer: str) -> ASGIApp:
        spy = broken.Spy(app)
        handed_out.append(spy.secrets)
        return spy

    junit = tmp_path / "contract.xml"
    with broken.serve(wrap) as deployment:
        result = run(
            [*VERIFY, *deployment.verify_arguments(), *NO_ROTATE, "--junit", str(junit)],
            env=deployment.verify_environment(),
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert handed_out[0] == set()  # the server handed out no secret: nothing rotated
    assert "--no-rotate: the app's secret was not rotated; 2 test(s) that rotate were skipped" in (
        output
    )
    cases = ET.parse(junit).iter("testcase")
    skipped = {c.get("name") for c in cases if c.find("skipped") is not None}
    assert skipped >= ROTATING


def test_no_rotate_still_catches_a_server_that_answers_unknown_apps_with_403(
    tmp_path: Path,
) -> None:
    junit = tmp_path / "contract.xml"
    with broken.serve(lambda app, _t, _v: broken.UnknownAppIsForbidden(app)) as deployment:
        result = run(
            [*VERIFY, *deployment.verify_arguments(), *NO_ROTATE, "--junit", str(junit)],
            env=deployment.verify_environment(),
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unknown_ids_give_not_found" in broken_checks(junit)

"""Secrets out of reports: registered values in every escaping, and anything shaped like one."""

from __future__ import annotations

import json
from pathlib import Path

from zitadel_contract import report
from zitadel_contract.model import Violation
from zitadel_contract.redaction import REDACTOR, Redactor
from zitadel_contract.settings import Settings
from zitadel_contract.verdict import Run, write_json


def test_a_registered_secret_is_replaced_by_its_label() -> None:
    redactor = Redactor()
    redactor.add("s3cr3t-value", "token")
    assert redactor.redact("got s3cr3t-value back") == "got <redacted:token> back"


def test_the_url_escaped_form_of_a_secret_is_replaced_too() -> None:
    redactor = Redactor()
    redactor.add("a/b c+d", "secret")
    assert "a%2Fb" not in redactor.redact("client_id=x&other=a%2Fb%20c%2Bd")


def test_a_client_secret_field_is_redacted_even_if_never_registered() -> None:
    text = '{"clientSecret": "Zq0abc", "details": {}}'
    assert Redactor().redact(text) == '{"clientSecret": "<redacted>", "details": {}}'


def test_bearer_and_basic_credentials_are_redacted_even_if_never_registered() -> None:
    text = "Authorization: Bearer abc.def-1 and Basic dXNlcjpwYXNz"
    assert Redactor().redact(text) == "Authorization: Bearer <redacted> and Basic <redacted>"


def test_a_variable_reference_in_a_curl_line_is_kept() -> None:
    line = '-H "Authorization: Bearer $ZITADEL_CONTRACT_TOKEN"'
    assert Redactor().redact(line) == line


def test_very_short_values_are_not_registered_so_text_stays_readable() -> None:
    redactor = Redactor()
    redactor.add("ab", "token")
    assert redactor.redact("about") == "about"


def test_the_json_report_shows_no_registered_secret(tmp_path: Path) -> None:
    secret = "Zq0dummySecretValue42"
    path = tmp_path / "report.json"
    run = Run({"t"}, settings=Settings(json_report=str(path)))
    run.notes = (f"a note that quotes {secret}",)
    run.recorder.current_test = "t"
    REDACTOR.add(secret, "secret x")
    try:
        run.recorder.add(Violation("secret_is_new", f"got {secret}", f"echo {secret}"))
        write_json(path, run, report.causes(run.recorder.findings))
    finally:
        REDACTOR.clear()
    text = path.read_text()
    assert secret not in text
    assert "<redacted:secret x>" in json.loads(text)["preflight"][0]

"""Both Swagger UIs in Debian's Chromium: "Try it out", then "Execute", succeeds on the first try
with the demo fixtures (the examples come from admin.yaml and from docs-overlay.yaml)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer
from tests.support.browser import Browser

CALL = "#operations-Applications-ManagementService_RegenerateOIDCClientSecret"
QUEUE = "#operations-Outcomes-queue_outcome"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = Browser()
    yield chromium
    chromium.close()


def type_into(browser: Browser, selector: str, text: str) -> None:
    """Fill a React-controlled input the way typing does (the native setter, then ``input``)."""
    browser.evaluate(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
        " const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
        f" set.call(e, {json.dumps(text)}); e.dispatchEvent(new Event('input', {{bubbles: true}}));"
        " })()"
    )


def try_it_out(browser: Browser, operation: str) -> str:
    """Open the operation, press Try it out and Execute; the status Swagger UI shows."""
    browser.wait_for(f"!!document.querySelector('{operation}')", operation)
    browser.click(f"{operation} .opblock-summary")
    browser.wait_for(f"!!document.querySelector('{operation} .try-out__btn')", "Try it out")
    browser.click(f"{operation} .try-out__btn")
    browser.wait_for(f"!!document.querySelector('{operation} .execute')", "Execute")
    browser.click(f"{operation} .execute")
    status: str = browser.wait_for(
        f"document.querySelector('{operation} .live-responses-table tbody .response-col_status')"
        "?.textContent.trim()",
        "a response",
    )
    return status


def test_queueing_an_outcome_from_the_admin_docs_succeeds_on_first_try(
    server: LiveServer, browser: Browser
) -> None:
    browser.load(f"{server.url}/__mock/docs/")
    status = try_it_out(browser, QUEUE)
    try:
        assert status.startswith("201")
    finally:
        server.client.delete("/__mock/outcomes")  # the example queued for any app: take it back


def test_the_call_from_the_api_docs_succeeds_after_authorizing_with_the_demo_token(
    server: LiveServer, browser: Browser
) -> None:
    browser.load(f"{server.url}/docs/")
    browser.wait_for("!!document.querySelector('.btn.authorize')", "Authorize")
    browser.click(".btn.authorize")
    browser.wait_for("!!document.querySelector('.modal-ux input')", "the token field")
    type_into(browser, ".modal-ux input", "admin-pat")
    browser.click(".modal-ux .auth-btn-wrapper .authorize")
    browser.click(".modal-ux .btn-done")
    status = try_it_out(browser, CALL)
    assert status.startswith("200")


def test_the_api_docs_offer_the_mocks_headers(server: LiveServer, browser: Browser) -> None:
    browser.load(f"{server.url}/docs/")
    browser.wait_for(f"!!document.querySelector('{CALL}')", "the operation")
    browser.click(f"{CALL} .opblock-summary")
    names: list[str] = browser.wait_for(
        f"(() => {{ const n = [...document.querySelectorAll('{CALL} .parameter__name')]"
        ".map(e => e.firstChild.textContent.trim()); return n.length ? n : null; })()",
        "the parameters",
    )
    assert {"Prefer", "X-Mock-Namespace"} <= set(names)

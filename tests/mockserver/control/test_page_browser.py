"""The page in a real browser: Debian's Chromium, headless, driven over the DevTools protocol.

Each test opens the page on a namespace of its own (``/__mock/#<namespace>``) of a real mock
process, acts with mouse clicks, and checks what the mock did and what the page then shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import PORTAL, SPA, WEB, LiveServer, start_server
from tests.support.browser import Browser
from tests.support.control_helpers import fresh_ns, rotate, state


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = Browser()
    yield chromium
    chromium.close()


def open_page(browser: Browser, server: LiveServer, ns: str) -> None:
    browser.load(f"{server.url}/__mock/#{ns}")
    browser.wait_for(
        f"!!document.querySelector('#apps tr[data-app=\"{WEB}\"]')"
        " && document.querySelector('#force-error').options.length > 0",
        "the demo apps and the error rows",
    )


def journal_statuses(browser: Browser) -> list[str]:
    statuses: list[str] = browser.evaluate(
        "[...document.querySelectorAll('#journal tr.entry')].map(r => r.dataset.status)"
    )
    return statuses


def queue_by_clicking(browser: Browser, error: str, app: str = "") -> None:
    browser.choose("#force-app", app)
    browser.choose("#force-error", error)
    browser.click('input[name="kind"][value="error"]')
    browser.click("#force-queue")
    browser.wait_for(
        f"document.querySelector('#queue tbody').textContent.includes('error={error}')",
        f"error={error} in the queue",
    )


def test_a_404_queued_by_clicking_answers_the_next_call_and_shows_in_the_journal(
    server: LiveServer, browser: Browser
) -> None:
    ns = fresh_ns()
    open_page(browser, server, ns)
    queue_by_clicking(browser, "app_not_found", WEB)
    answer = rotate(server, ns)
    assert answer.status_code == 404
    assert answer.json()["code"] == 5
    browser.wait_for(
        "[...document.querySelectorAll('#journal tr.entry')].some(r => r.dataset.status === '404'"
        " && r.textContent.includes('queue: error=app_not_found'))",
        "the forced 404 in the journal",
    )
    browser.wait_for(
        "document.querySelector('#queue tbody').textContent.includes('nothing queued')",
        "the queue emptied",
    )
    # It came through the stream (GET /__mock/journal/stream): the page never polled the journal.
    assert browser.evaluate("document.getElementById('journal-live').dataset.via") == "stream"
    assert not browser.evaluate(
        "performance.getEntriesByType('resource').some(e => e.name.includes('/__mock/journal?'))"
    )


def test_clearing_the_queue_by_clicking_lets_the_next_call_succeed(
    server: LiveServer, browser: Browser
) -> None:
    # The 404 above is the page's doing: with the queue cleared, the same call succeeds.
    ns = fresh_ns()
    open_page(browser, server, ns)
    queue_by_clicking(browser, "app_not_found", WEB)
    browser.click("#queue-clear")
    browser.wait_for(
        "document.querySelector('#queue tbody').textContent.includes('nothing queued')",
        "the queue emptied",
    )
    assert rotate(server, ns).status_code == 200
    browser.wait_for(
        "[...document.querySelectorAll('#journal tr.entry')].some(r => r.dataset.status === '200')",
        "the 200 in the journal",
    )
    assert "404" not in journal_statuses(browser)


def test_a_queued_error_for_one_app_leaves_the_others_alone(
    server: LiveServer, browser: Browser
) -> None:
    ns = fresh_ns()
    open_page(browser, server, ns)
    queue_by_clicking(browser, "no_permission", SPA)
    assert rotate(server, ns, app=WEB).status_code == 200
    assert rotate(server, ns, app=SPA).status_code == 403


def test_a_journal_entry_opens_as_a_redacted_curl_line(
    server: LiveServer, browser: Browser
) -> None:
    ns = fresh_ns()
    open_page(browser, server, ns)
    assert rotate(server, ns).status_code == 200
    browser.wait_for("document.querySelectorAll('#journal tr.entry').length === 1", "one entry")
    browser.click("#journal tr.entry")
    curl: str = browser.wait_for(
        "document.querySelector('#journal tr.curl pre')?.textContent", "the curl line"
    )
    assert curl.startswith(f"curl -X POST '{server.url}/management/v1/projects/{PORTAL}/apps/")
    assert f"-H 'x-mock-namespace: {ns}'" in curl
    assert "-H 'authorization: Bearer <sha256:" in curl
    assert "admin-pat" not in curl


def test_the_page_never_shows_the_rotated_secret_or_a_token(
    server: LiveServer, browser: Browser
) -> None:
    ns = fresh_ns()
    open_page(browser, server, ns)
    secret = rotate(server, ns).json()["clientSecret"]
    fingerprint = next(a for a in state(server, ns)["apps"] if a["id"] == WEB)["secretFingerprint"]
    browser.wait_for(
        f"document.querySelector('#apps tr[data-app=\"{WEB}\"] .fingerprint').textContent"
        f" === {json.dumps(fingerprint)}",
        "the new fingerprint",
    )
    browser.wait_for("document.querySelectorAll('#journal tr.entry').length === 1", "one entry")
    browser.click("#journal tr.entry")
    browser.wait_for("!!document.querySelector('#journal tr.curl')", "the curl line")
    shown: str = browser.evaluate("document.documentElement.outerHTML")
    assert secret not in shown
    for token in ("admin-pat", "acme-owner-pat", "portal-owner-pat", "nobody-pat"):
        assert token not in shown


def test_deleting_a_namespace_by_clicking_removes_it(server: LiveServer, browser: Browser) -> None:
    ns = fresh_ns()
    rotate(server, ns)
    open_page(browser, server, "")
    selector = "#namespaces tr td:first-child"
    browser.wait_for(
        f"[...document.querySelectorAll('{selector}')].some(td => td.textContent === '{ns}')",
        f"{ns} in the list",
    )
    index = browser.evaluate(
        f"[...document.querySelectorAll('{selector}')].findIndex(td => td.textContent === '{ns}')"
    )
    browser.click(f"#namespaces tbody tr:nth-child({index + 1}) button.danger")
    browser.wait_for(
        f"![...document.querySelectorAll('{selector}')].some(td => td.textContent === '{ns}')",
        f"{ns} gone from the list",
    )
    names = [n["name"] for n in server.client.get("/__mock/namespaces").json()["namespaces"]]
    assert ns not in names


def test_under_an_admin_token_the_page_asks_once_and_then_works(browser: Browser) -> None:
    guarded = start_server("--admin-token", "page-token-for-tests")
    script = browser.send(
        "Page.addScriptToEvaluateOnNewDocument",
        source="window.prompt = () => { window.asked = (window.asked || 0) + 1;"
        " return 'page-token-for-tests'; };",
    )
    try:
        open_page(browser, guarded, fresh_ns())  # the apps show: the calls carry the token
        assert browser.evaluate("window.asked") == 1  # one question for all the waiting calls
        assert browser.evaluate("sessionStorage.getItem('zitadel-mock-admin-token')") == (
            "page-token-for-tests"
        )
    finally:
        browser.send("Page.removeScriptToEvaluateOnNewDocument", identifier=script["identifier"])
        guarded.stop()


def test_pausing_closes_the_stream_and_resuming_shows_what_came_meanwhile(
    server: LiveServer, browser: Browser
) -> None:
    ns = fresh_ns()
    open_page(browser, server, ns)
    browser.wait_for("page.stream !== null", "the journal stream open")
    browser.click("#journal-pause")
    browser.wait_for("page.stream === null", "the stream closed while paused")
    assert rotate(server, ns).status_code == 200
    assert journal_statuses(browser) == []
    browser.click("#journal-pause")
    browser.wait_for("document.querySelectorAll('#journal tr.entry').length === 1", "the entry")
    assert journal_statuses(browser) == ["200"]

"""The schema cases' requests session reads the environment once, and what it read still holds."""

from __future__ import annotations

import pytest
import requests

from zitadel_contract.session import environment_once

TARGET = "http://zitadel.example.test:8080"


def test_a_proxy_from_the_environment_is_kept_for_the_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.test:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    http = requests.Session()
    environment_once(http, TARGET)
    assert http.trust_env is False
    assert http.proxies.get("http") == "http://proxy.example.test:3128"


def test_a_target_the_environment_exempts_from_the_proxy_gets_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "zitadel.example.test")
    http = requests.Session()
    environment_once(http, TARGET)
    assert "http" not in http.proxies


def test_a_ca_bundle_from_the_environment_verifies_the_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/the-companys-roots.pem")
    http = requests.Session()
    environment_once(http, TARGET)
    assert http.verify == "/etc/ssl/the-companys-roots.pem"

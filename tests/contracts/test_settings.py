"""Options of a contract run: flag over variable over default, and targets refused on purpose."""

from __future__ import annotations

import pytest

from zitadel_contract.settings import ACK_FLAG, SettingsError, is_loopback, resolve

TARGET = {"url": "http://127.0.0.1:9", "token": "t0ken", "project_id": "1", "app_id": "2"}


def test_without_anything_the_suite_provisions_its_own_mock() -> None:
    settings = resolve({}, environ={})
    assert (settings.url, settings.transport, settings.examples) == (None, "rest", 100)


def test_a_variable_fills_an_option_that_was_not_given() -> None:
    assert resolve({}, environ={"ZITADEL_CONTRACT_EXAMPLES": "7"}).examples == 7


def test_a_flag_beats_its_variable() -> None:
    settings = resolve({"examples": "3"}, environ={"ZITADEL_CONTRACT_EXAMPLES": "7"})
    assert settings.examples == 3


def test_a_bad_value_names_where_it_came_from() -> None:
    with pytest.raises(SettingsError, match="ZITADEL_CONTRACT_EXAMPLES='many'"):
        resolve({}, environ={"ZITADEL_CONTRACT_EXAMPLES": "many"})


def test_a_target_needs_a_token_and_the_apps_ids() -> None:
    with pytest.raises(SettingsError, match="--token, --project-id, --app-id"):
        resolve({"url": "http://127.0.0.1:9"}, environ={})


def test_ids_without_a_target_are_refused_rather_than_ignored() -> None:
    with pytest.raises(SettingsError, match="no target URL"):
        resolve({"app_id": "2"}, environ={})


def test_a_remote_target_is_refused_without_the_acknowledgement() -> None:
    with pytest.raises(SettingsError, match=f"rotates the client secret of app 2.*{ACK_FLAG}"):
        resolve({**TARGET, "url": "https://zitadel.example.invalid"}, environ={})


def test_a_remote_target_is_accepted_with_the_acknowledgement() -> None:
    given = {**TARGET, "url": "https://zitadel.example.invalid", "allow_rotation": True}
    assert resolve(given, environ={}).allow_rotation


def test_the_acknowledgement_can_come_from_the_environment() -> None:
    environ = {"ZITADEL_CONTRACT_I_KNOW_THIS_ROTATES_THE_SECRET": "1"}
    given = {**TARGET, "url": "https://zitadel.example.invalid"}
    assert resolve(given, environ=environ).allow_rotation


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://127.8.9.10", True),
        ("http://[::1]:8080", True),
        ("http://localhost:8080", True),
        ("https://zitadel.example.com", False),
        ("http://10.0.0.5", False),
        ("http://127.0.0.1.example.com", False),
    ],
)
def test_only_this_machine_counts_as_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_tokens_stay_out_of_the_settings_repr() -> None:
    settings = resolve({**TARGET, "no_permission_token": "v1ewer"}, environ={})
    assert "t0ken" not in repr(settings)
    assert "v1ewer" not in repr(settings)


def test_a_remote_target_needs_no_acknowledgement_when_nothing_rotates() -> None:
    given = {**TARGET, "url": "https://zitadel.example.invalid", "no_rotate": True}
    assert resolve(given, environ={}).no_rotate


def test_the_refusal_of_a_remote_target_offers_no_rotate() -> None:
    with pytest.raises(SettingsError, match="--no-rotate"):
        resolve({**TARGET, "url": "https://zitadel.example.invalid"}, environ={})

"""Settings reach worker processes through the environment unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from zitadel_mock.app import Settings


def test_control_plane_settings_survive_the_trip_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(
        fixtures=Path("f.yaml"),
        watch=True,
        namespace_ttl=12.5,
        journal_size=7,
        max_stall=3.0,
    )
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == settings


def test_the_defaults_survive_too(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in Settings().to_env().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == Settings()

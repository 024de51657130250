"""Settings: defaults for development, refusal of placeholders elsewhere, one line per problem."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import PLACEHOLDER_SECRET, Settings, SettingsError, load_settings

GOOD_KEY = "k1:" + base64.b64encode(b"x" * 32).decode()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file
    for name in list(__import__("os").environ):
        if name.startswith("WAAKVLAM_"):
            monkeypatch.delenv(name)


def test_development_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.is_development
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("var/waakvlam.db")
    assert settings.time_zone == "Europe/Amsterdam"
    assert list(settings.payload_key_map) == ["dev"]


def test_placeholders_are_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAAKVLAM_ENVIRONMENT", "production")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "WAAKVLAM_SIGNING_SECRET: still the placeholder; set a long random secret" in (
        caught.value.problems
    )
    assert "WAAKVLAM_PAYLOAD_KEYS: still the development placeholder key" in caught.value.problems


def test_every_problem_gets_its_own_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAAKVLAM_WEB_PORT", "eighty")
    monkeypatch.setenv("WAAKVLAM_TIME_ZONE", "Europe/Venlo")
    monkeypatch.setenv("WAAKVLAM_PAYLOAD_KEYS", "k1:short")
    monkeypatch.setenv("WAAKVLAM_PUBLIC_BASE_URL", "waakvlam.example.org")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    problems = caught.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("WAAKVLAM_WEB_PORT: ")
    assert {p.split(":")[0] for p in problems} == {
        "WAAKVLAM_WEB_PORT",
        "WAAKVLAM_TIME_ZONE",
        "WAAKVLAM_PAYLOAD_KEYS",
        "WAAKVLAM_PUBLIC_BASE_URL",
    }
    assert any("unknown time zone 'Europe/Venlo'" in p for p in problems)
    assert not any("short" in p for p in problems), "secrets are never echoed"


def test_provider_credentials_are_required_for_the_chosen_sms_gateway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAAKVLAM_SMS_PROVIDER", "twilio")
    monkeypatch.setenv("WAAKVLAM_TWILIO_ACCOUNT_SID", "AC123")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == [
        "WAAKVLAM_TWILIO_AUTH_TOKEN: required when sms_provider is 'twilio'",
        "WAAKVLAM_TWILIO_FROM_NUMBER: required when sms_provider is 'twilio'",
    ]


def test_keys_rotate_newest_last_and_a_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "WAAKVLAM_ENVIRONMENT=production\n"
        f"WAAKVLAM_SIGNING_SECRET={'s' * 40}\n"
        f"WAAKVLAM_PAYLOAD_KEYS={GOOD_KEY},k2:{base64.b64encode(b'y' * 32).decode()}\n"
    )
    settings = Settings()
    assert list(settings.payload_key_map) == ["k1", "k2"]
    assert settings.signing_secret.get_secret_value() != PLACEHOLDER_SECRET


def test_the_command_line_stops_with_the_problems_on_stderr(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "waakvlam.cli", "worker"],
        env={
            "PATH": "/usr/bin:/bin",
            "WAAKVLAM_ENVIRONMENT": "production",
            "WAAKVLAM_SIGNING_SECRET": "too-short",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "WAAKVLAM_SIGNING_SECRET: must be at least 32 characters" in result.stderr
    assert "WAAKVLAM_PAYLOAD_KEYS: still the development placeholder key" in result.stderr

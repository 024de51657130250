"""Email goes over STARTTLS or implicit TLS as the settings say, verifying the server's
certificate."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from notifications.channels import OutgoingEmail, TemporaryFailure
from notifications.email_smtp import SmtpEmail
from tests.fakes.smtp import FakeSmtp
from tests.fakes.tls import loopback_certificate, server_context
from tests.notifications.conftest import configure

MAIL = OutgoingEmail("anna@example.org", "Onderwerp", "tekst", "<p>tekst</p>", "wv1")


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_email_goes_over_tls_as_configured(
    security: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = loopback_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server = FakeSmtp(security=security, tls_context=server_context(cert, key))
    server.start()
    try:
        await SmtpEmail(configure(settings, **server.settings_overrides())).send(MAIL)
        plain = configure(
            settings,
            **server.settings_overrides() | {"smtp_security": "none", "smtp_timeout_seconds": 0.5},
        )
        with pytest.raises(TemporaryFailure):  # our configuration: retried, never failed over
            await SmtpEmail(plain).send(MAIL)
    finally:
        server.stop()
    assert [m["Subject"] for m in server.messages] == ["Onderwerp"]

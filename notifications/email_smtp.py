"""Email over SMTP with aiosmtplib: multipart plain text + HTML, STARTTLS or TLS, and AUTH.

The conversation is done step by step so a failure can be classified: anything before DATA means
nothing was accepted (temporary or permanent by the reply code); a timeout or disconnect during
DATA leaves the outcome unknown.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from config.settings import Settings, SmtpSecurity
from notifications.channels import (
    OutgoingEmail,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
    UnknownOutcome,
)


def build_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].partition("@")[2] or "waakvlam.localhost"
    message["Message-ID"] = f"<{email.reference}@{domain}>"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


class SmtpEmail:
    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_security is SmtpSecurity.tls,
            start_tls=True if s.smtp_security is SmtpSecurity.starttls else False,
            timeout=s.smtp_timeout_seconds,
        )

    async def send(self, email: OutgoingEmail) -> Receipt:
        message = build_message(email, self.settings.email_from)
        sender = parseaddr(self.settings.email_from)[1]
        smtp = self._client()
        try:
            await smtp.connect()
            if self.settings.smtp_username and self.settings.smtp_password:
                await smtp.login(
                    self.settings.smtp_username, self.settings.smtp_password.get_secret_value()
                )
            await smtp.mail(sender)
        except aiosmtplib.SMTPResponseException as exc:
            # Refused before any recipient was named (TLS or AUTH required, sender refused): our
            # configuration, not the person's address. Retry; never fail over or disable.
            raise TemporaryFailure(f"smtp_session_{exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"smtp_{type(exc).__name__}") from None
        try:
            await smtp.rcpt(email.to)
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify(exc.code) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"smtp_{type(exc).__name__}") from None
        try:
            await smtp.data(message.as_bytes())
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify(exc.code) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise UnknownOutcome(f"smtp_data_{type(exc).__name__}") from None
        finally:
            if smtp.is_connected:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError):
                    smtp.close()
        return Receipt(self.name, message["Message-ID"].strip("<>"))


def _classify(code: int) -> TemporaryFailure | PermanentFailure:
    if 500 <= code < 600:
        return PermanentFailure(f"smtp_{code}")
    return TemporaryFailure(f"smtp_{code}")

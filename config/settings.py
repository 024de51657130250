"""Runtime settings, read from ``WAAKVLAM_*`` environment variables and a ``.env`` file.

Built once by the composition root (:mod:`waakvlam.app`) and passed down; no module reads the
environment on import.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"
# A well-known development key: 32 zero bytes. Refused outside development.
PLACEHOLDER_PAYLOAD_KEY = "dev:" + base64.b64encode(bytes(32)).decode()
DEFAULT_TIMELINE = Path(__file__).parent / "timelines" / "default.toml"
ENV_PREFIX = "WAAKVLAM_"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class SmtpSecurity(StrEnum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class EmailProvider(StrEnum):
    smtp = "smtp"
    console = "console"


class SmsProvider(StrEnum):
    console = "console"
    cm = "cm"
    twilio = "twilio"


class SettingsError(Exception):
    """Raised when settings are invalid; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings:\n" + "\n".join(f"  {p}" for p in problems))


def _parse_payload_keys(raw: str) -> dict[str, bytes]:
    """Parse ``id:base64key,id2:base64key`` into key id → 32-byte AES key (order kept)."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id:
            raise ValueError(f"entry {part[:8]!r}… must look like 'keyid:base64key'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"key {key_id!r} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"key {key_id!r} must be 32 bytes (AES-256), got {len(key)}")
        if key_id in keys:
            raise ValueError(f"key id {key_id!r} appears twice")
        keys[key_id] = key
    if not keys:
        raise ValueError("at least one key is required")
    return keys


class Settings(BaseSettings):
    """Everything Waakvlam needs to run; see the configuration table in the README."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    environment: Environment = Environment.development
    data_dir: Path = Path("var")
    database_url: str = ""
    region_name: str = "Noord-Limburg"

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "waakvlam"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    # The Temporal UI's origin, allowed (CORS) to call the codec endpoint /codec/{encode,decode}.
    temporal_ui_origin: str = "http://localhost:8233"
    # Bearer token for the codec endpoint (Temporal UI "codec server" settings); when empty the
    # endpoint is open in development only and refused everywhere else.
    codec_token: SecretStr | None = None

    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8000, ge=1, le=65535)
    public_base_url: str = "http://127.0.0.1:8000"

    signing_secret: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    payload_keys: Annotated[SecretStr, NoDecode] = SecretStr(PLACEHOLDER_PAYLOAD_KEY)

    email_provider: EmailProvider = EmailProvider.console
    email_from: str = "Waakvlam <noreply@waakvlam.localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: SmtpSecurity = SmtpSecurity.none
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # Connected, logged-in SMTP sessions kept for reuse: at most this many at once, each closed
    # after this long unused, and replaced after this many messages (providers limit it).
    smtp_pool_size: int = Field(default=4, ge=1, le=100)
    smtp_pool_idle_seconds: float = Field(default=30.0, gt=0)
    smtp_messages_per_connection: int = Field(default=100, ge=1)

    sms_provider: SmsProvider = SmsProvider.console
    sms_sender: str = "Waakvlam"
    sms_max_segments: int = Field(default=3, ge=1, le=10)
    # Non-urgent SMS to one number per hour; more wait for a free slot (pages are exempt).
    sms_per_recipient_per_hour: int = Field(default=4, ge=1, le=60)
    # CM.com: SMS that fall due while a request is out go together in the next one, at most this
    # many per request (1: every SMS its own request). Twilio has no batch API.
    sms_batch_size: int = Field(default=50, ge=1, le=100)
    cm_api_url: str = "https://gw.messaging.cm.com/v1.0/message"
    cm_product_token: SecretStr | None = None
    twilio_api_url: str = "https://api.twilio.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    http_timeout_seconds: float = Field(default=10.0, gt=0)

    time_zone: str = "Europe/Amsterdam"
    working_hours_start: int = Field(default=9, ge=0, le=23)
    working_hours_end: int = Field(default=17, ge=1, le=24)
    timeline_file: Path = DEFAULT_TIMELINE
    retention_months: int = Field(default=24, ge=1)

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("payload_keys")
    @classmethod
    def _valid_payload_keys(cls, value: SecretStr) -> SecretStr:
        _parse_payload_keys(value.get_secret_value())
        return value

    @field_validator("public_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        problems: list[str] = []
        if self.working_hours_end <= self.working_hours_start:
            problems.append("working_hours_end: must be later than working_hours_start")
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            problems.append("temporal_tls_cert: set both TLS certificate and key, or neither")
        if self.environment is not Environment.development:
            if self.signing_secret.get_secret_value() == PLACEHOLDER_SECRET:
                problems.append("signing_secret: still the placeholder; set a long random secret")
            elif len(self.signing_secret.get_secret_value()) < 32:
                problems.append("signing_secret: must be at least 32 characters")
            if any(k == bytes(32) for k in self.payload_key_map.values()):
                problems.append("payload_keys: still the development placeholder key")
        if self.sms_provider is SmsProvider.cm and self.cm_product_token is None:
            problems.append("cm_product_token: required when sms_provider is 'cm'")
        if self.sms_provider is SmsProvider.twilio:
            for name in ("twilio_account_sid", "twilio_auth_token", "twilio_from_number"):
                if getattr(self, name) is None:
                    problems.append(f"{name}: required when sms_provider is 'twilio'")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def payload_key_map(self) -> dict[str, bytes]:
        """Key id → key; the last one encrypts new payloads, all of them decrypt."""
        return _parse_payload_keys(self.payload_keys.get_secret_value())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'waakvlam.db').resolve()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.development


def _describe(error: Any) -> list[str]:
    loc = [str(p) for p in error.get("loc", ())]
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if loc:
        return [f"{ENV_PREFIX}{loc[0].upper()}: {message}"]
    # Model-level problems arrive as one 'field: message' per line.
    lines = []
    for part in message.splitlines():
        name, sep, rest = part.partition(": ")
        lines.append(f"{ENV_PREFIX}{name.upper()}: {rest}" if sep else part)
    return lines


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, raising :class:`SettingsError` with one line per
    problem, each naming the environment variable to fix."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems: list[str] = []
        for error in exc.errors():
            problems.extend(_describe(error))
        raise SettingsError(problems) from None

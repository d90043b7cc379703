"""Settings from the environment (prefix ``LIDERES_``) or a ``.env`` file.

Every value has an embedded default so ``make run`` works on a fresh clone; a wrong value is reported as
one line naming the variable (see ``ConfigError``), never as a traceback.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("es", "en")


class ConfigError(Exception):
    """A configuration value or file is wrong; the message names the variable or the file."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIDERES_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'lideres.db'}",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    default_language: Literal["es", "en"] = Field(
        default="es", description="Language for users whose platform does not say one (es or en)"
    )
    admins: str = Field(
        default="",
        description="Bootstrap coordinators, comma-separated channel:id pairs, e.g. telegram:12345,web:ana",
    )
    web_host: str = Field(default="127.0.0.1", description="Address the web server (web chat, webhooks) binds")
    web_port: int = Field(default=8080, ge=0, le=65535, description="Port of the web server")
    knowledge_dir: Path = Field(
        default=PROJECT_ROOT / "knowledge", description="Folder of the knowledge base's Markdown entries"
    )
    seeds_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "seeds",
        description="The seed documents entries cite (read by `kb check` and `kb coverage`, never by the bot)",
    )
    form_file: Path = Field(
        default=PROJECT_ROOT / "handlers" / "idea_form.yaml",
        description="The network's idea-submission form (fields, choices, texts, limits)",
    )
    network_tags_file: Path = Field(
        default=PROJECT_ROOT / "handlers" / "network_tags.yaml",
        description="The network's vocabulary for profiles and matching: kinds, regions, tags, limits",
    )
    privacy_notice_file: str = Field(
        default=str(PROJECT_ROOT / "handlers" / "privacy_notice.{lang}.md"),
        description="The full privacy notice, one file per language ({lang} is es or en), sent as a document",
    )
    unconsented_retention_days: int = Field(
        default=30, ge=1, le=3650,
        description="Days the bot keeps a first contact who never agreed to the privacy notice before anonymising it",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level; message texts are only logged at DEBUG"
    )
    workers: int = Field(default=8, ge=1, le=256, description="Messages handled at once (different users)")
    worker_id: str | None = Field(
        default=None, max_length=60,
        description="This process's name among several on one PostgreSQL (unique, stable across restarts); "
        "unset: host name and LIDERES_WEB_PORT",
    )
    journal_lease_seconds: float = Field(
        default=30, ge=1, le=3600,
        description="An update taken by a worker process that stops renewing it (it died) is taken over by "
        "another after this long",
    )
    shared_send_budget: bool = Field(
        default=False,
        description="Several worker processes on one PostgreSQL: book every send in one budget in the database, so "
        "together they stay within the platform's limits (one process keeps its own, more precise, limiter)",
    )
    content_check_seconds: float = Field(
        default=5, gt=0, le=3600,
        description="How often each process checks whether another reloaded the knowledge base",
    )
    queue_limit: int = Field(
        default=10_000, ge=1, description="Messages waiting for a worker before channels wait to hand over more"
    )
    telegram_token: SecretStr | None = Field(default=None, description="Bot token from @BotFather")
    telegram_api_url: str | None = Field(
        default=None, description="Bot API base URL (python-telegram-bot base_url; the token is appended)"
    )
    telegram_webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL for webhook mode; unset means long polling"
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token"
    )
    telegram_max_rate: float = Field(
        default=30, ge=0,
        description="Messages per second to Telegram overall (higher with paid broadcasts; 0 = no limit)",
    )
    whatsapp_token: SecretStr | None = Field(
        default=None, description="WhatsApp Cloud API access token; setting it turns the WhatsApp channel on"
    )
    whatsapp_phone_number_id: str | None = Field(
        default=None, description="The business phone number's id (messages go to {API_URL}/{id}/messages)"
    )
    whatsapp_app_secret: SecretStr | None = Field(
        default=None, description="The Meta app's secret: webhook bodies must carry its X-Hub-Signature-256"
    )
    whatsapp_verify_token: SecretStr | None = Field(
        default=None, description="The token Meta sends back when the webhook is verified (hub.verify_token)"
    )
    whatsapp_api_url: str = Field(
        default="https://graph.facebook.com/v21.0", description="Graph API base URL with its version"
    )
    whatsapp_max_rate: float = Field(
        default=80, ge=0, description="Messages per second to WhatsApp overall (the number's throughput; 0 = no limit)"
    )
    whatsapp_notice_template: str | None = Field(
        default=None,
        description="An approved template with one body parameter, used for messages outside the 24-hour window "
        "that carry no template of their own (the message text is the parameter); unset: such messages are skipped",
    )
    web_chat: bool = Field(default=True, description="Serve the web chat at / on the bot's web server")
    web_secret: SecretStr | None = Field(
        default=None,
        description="Signs the web chat's visitor cookie and buttons; unset: generated once into var/ (one machine)",
    )
    web_public: bool = Field(
        default=False, description="The web chat is reached over HTTPS (behind a proxy): its cookie is Secure"
    )
    web_rate: float = Field(
        default=20, gt=0, description="Messages a minute one web chat visitor may send (bursts of 10)"
    )

    mentoring_open_to: Literal["anyone", "finalists"] = Field(
        default="anyone",
        description="Who books mentoring in the chat: anyone who agreed to the privacy notice, or only the idea "
        "competition's finalists (others can still ask the coordinators)",
    )
    reminder_offsets: str = Field(
        default="24h,1h",
        description="When mentoring reminders go out before a session, comma-separated (d, h, m: 24h,1h or 30m)",
    )
    reminder_grace: str = Field(
        default="2h",
        description="A reminder that fell due while the bot was down is still sent within this time (h, m), "
        "otherwise recorded as missed",
    )
    timezones: str = Field(
        default="America/La_Paz,America/Mexico_City,Europe/Madrid",
        description="The network's time zones (IANA names), offered as buttons when a member is asked theirs",
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("admins")
    @classmethod
    def _admin_pairs(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            channel, sep, external_id = item.partition(":")
            if not sep or not channel or not external_id:
                raise ValueError(f"{item!r} is not channel:id (e.g. telegram:12345)")
        return value

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets(cls, value: str) -> str:
        offsets = [parse_duration(part) for part in value.split(",") if part.strip()]
        if any(offset <= timedelta(0) for offset in offsets):
            raise ValueError("every offset must be more than zero")
        return value

    @field_validator("reminder_grace")
    @classmethod
    def _grace(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("timezones")
    @classmethod
    def _zones(cls, value: str) -> str:
        zones = [part.strip() for part in value.split(",") if part.strip()]
        if not zones:
            raise ValueError("name at least one time zone, e.g. Europe/Madrid")
        for zone in zones:
            if not is_zone(zone):
                raise ValueError(f"{zone!r} is not a known time zone (an IANA name such as America/La_Paz)")
        return value

    @cached_property
    def reminder_offset_list(self) -> tuple[timedelta, ...]:
        """The offsets before a session, longest first, without repeats."""
        offsets = {parse_duration(part) for part in self.reminder_offsets.split(",") if part.strip()}
        return tuple(sorted(offsets, reverse=True))

    @cached_property
    def reminder_grace_period(self) -> timedelta:
        return parse_duration(self.reminder_grace)

    @cached_property
    def timezone_list(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.timezones.split(",") if part.strip())

    @cached_property
    def admin_ids(self) -> frozenset[tuple[str, str]]:
        pairs = (item.strip().partition(":") for item in self.admins.split(",") if item.strip())
        return frozenset((channel, external_id) for channel, _, external_id in pairs)

    def masked(self) -> dict[str, str]:
        """The effective configuration for ``lideres config``, secrets and passwords masked."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                text = "********" if value.get_secret_value() else ""
            elif value is None:
                text = ""
            else:
                text = str(value)
            if name == "database_url":
                text = _mask_url_password(text)
            shown[f"LIDERES_{name.upper()}"] = text
        return shown


_DURATION = re.compile(r"(\d+)\s*([dhm])")


def parse_duration(text: str) -> timedelta:
    """``24h``, ``30m``, ``1d``, ``1h30m`` → a timedelta; anything else is a ValueError naming the text."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise ValueError(f"{text.strip()!r} is not a duration like 24h, 1h or 30m")
    unit_of = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
    return sum((int(number) * unit_of[unit] for number, unit in parts), timedelta(0))


def is_zone(name: str) -> bool:
    """An IANA time zone this machine knows (from the system or the tzdata package)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        return False
    return "/" in name or name == "UTC"


def _mask_url_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:********@{host}"


def load_settings(**overrides: Any) -> Settings:
    """Settings or a ``ConfigError`` whose message is one line naming the wrong variable.

    ``overrides`` are raw values like the environment's (a path as a string, a number as text) plus
    pydantic-settings' own keywords (``_env_file``): pydantic validates and converts them."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"LIDERES_{field.upper()}: {message}") from None

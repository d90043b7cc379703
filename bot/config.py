"""Settings from the environment (prefix ``LIDERES_``) or a ``.env`` file.

Every value has an embedded default so ``make run`` works on a fresh clone; a wrong value is reported as
one line naming the variable (see ``ConfigError``), never as a traceback.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level; message texts are only logged at DEBUG"
    )
    workers: int = Field(default=8, ge=1, le=256, description="Messages handled at once (different users)")
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

"""Configuration from the environment (and a ``.env`` file), validated by Pydantic.

| variable | default | meaning |
|---|---|---|
| DATABASE_URL | sqlite:///data/tradestore.db | where the data lives |
| DB_POOL_SIZE | 5 | connections kept open (the pool's `min_size`) |
| DB_MAX_OVERFLOW | 10 | extra connections under load (`max_size` = size + overflow) |
| DB_POOL_TIMEOUT | 30 | seconds a checkout may wait before PoolTimeout |
| DATABASE_ECHO | false | log every query (name, file:line, time; never values) |
| DB_QUERY_TIMEOUT | unset | seconds before a statement is cancelled (QueryTimeout) |
| DB_SLOW_QUERY_MS | unset | log queries slower than this at WARNING |
| DB_MIGRATIONS_DIR | unset | the `tradestore` command's migrations folder (your own tables) |
| DB_BACKUP_DIRECTORY | backups | where create_backup writes |
| DB_BACKUP_RETENTION_DAYS | 30 | backups older than this are pruned |
| AUDIT_RETENTION_DAYS | 365 | audit rows older than this may be purged |
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tradestore.db.url import DatabaseURL, parse_url
from tradestore.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///data/tradestore.db"


class Settings(BaseSettings):
    """Every knob the kit reads from the environment; the URL is a secret (masked in repr)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: SecretStr = Field(
        default=SecretStr(DEFAULT_DATABASE_URL), validation_alias="DATABASE_URL"
    )
    db_pool_size: int = Field(default=5, ge=0, le=1000, validation_alias="DB_POOL_SIZE")
    db_max_overflow: int = Field(default=10, ge=0, le=1000, validation_alias="DB_MAX_OVERFLOW")
    db_pool_timeout: float = Field(default=30.0, gt=0, validation_alias="DB_POOL_TIMEOUT")
    database_echo: bool = Field(default=False, validation_alias="DATABASE_ECHO")
    db_query_timeout: float | None = Field(default=None, gt=0, validation_alias="DB_QUERY_TIMEOUT")
    db_slow_query_ms: float | None = Field(default=None, gt=0, validation_alias="DB_SLOW_QUERY_MS")
    # The CLI's default for --migrations; the library's functions take their folder explicitly
    # (`migrate(source=...)`), so a TradeStore(migrate=True) never migrates a user's folder.
    db_migrations_dir: Path | None = Field(default=None, validation_alias="DB_MIGRATIONS_DIR")
    db_backup_directory: Path = Field(
        default=Path("backups"), validation_alias="DB_BACKUP_DIRECTORY"
    )
    db_backup_retention_days: int = Field(
        default=30, ge=1, validation_alias="DB_BACKUP_RETENTION_DAYS"
    )
    audit_retention_days: int = Field(default=365, ge=1, validation_alias="AUDIT_RETENTION_DAYS")

    @field_validator("database_url")
    @classmethod
    def _url_parses(cls, value: SecretStr) -> SecretStr:
        parse_url(value.get_secret_value())  # raises DatabaseURLError, password redacted
        return value

    @field_validator("db_query_timeout", "db_slow_query_ms", "db_migrations_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def url(self) -> DatabaseURL:
        return parse_url(self.database_url.get_secret_value())

    def pool_knobs(self) -> dict[str, Any]:
        """DB_POOL_SIZE/DB_MAX_OVERFLOW mapped onto the pool's min_size/max_size."""
        return {
            "min_size": self.db_pool_size,
            "max_size": max(1, self.db_pool_size + self.db_max_overflow),
            "timeout": self.db_pool_timeout,
            "query_timeout": self.db_query_timeout,
        }


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; invalid values raise ConfigurationError naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None

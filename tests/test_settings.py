"""Configuration from the environment."""

from __future__ import annotations

import pytest

from tradestore import ConfigurationError, DatabaseURLError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "DB_POOL_SIZE", "DB_MAX_OVERFLOW", "DB_QUERY_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env file here
    settings = load_settings()
    assert settings.url.dialect == "sqlite"
    assert settings.pool_knobs()["min_size"] == 5
    assert settings.pool_knobs()["max_size"] == 15


def test_pool_size_and_overflow_map_to_min_and_max(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "4")
    monkeypatch.setenv("DB_QUERY_TIMEOUT", "2.5")
    knobs = load_settings().pool_knobs()
    assert (knobs["min_size"], knobs["max_size"], knobs["query_timeout"]) == (3, 7, 2.5)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DB_POOL_SIZE", "many", "DB_POOL_SIZE"),
        ("DB_MAX_OVERFLOW", "-1", "DB_MAX_OVERFLOW"),
        ("DB_QUERY_TIMEOUT", "0", "DB_QUERY_TIMEOUT"),
        ("DATABASE_ECHO", "perhaps", "DATABASE_ECHO"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=expected):
        load_settings()


def test_bad_database_url_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "oracle://scott:tiger@db/orcl")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert "tiger" not in str(info.value)
    assert "oracle" in str(info.value)
    assert not isinstance(info.value, DatabaseURLError) or "tiger" not in repr(info.value)


def test_settings_repr_hides_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:tiger@db/trading")
    settings = load_settings()
    assert "tiger" not in repr(settings)
    assert "tiger" not in str(settings.url)


@pytest.mark.parametrize(("value", "expected"), [("", None), ("  ", None), ("db/mig", "db/mig")])
def test_migrations_dir_blank_is_unset(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None
) -> None:
    monkeypatch.setenv("DB_MIGRATIONS_DIR", value)
    folder = load_settings().db_migrations_dir
    assert (None if folder is None else folder.as_posix()) == expected

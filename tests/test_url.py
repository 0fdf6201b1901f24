"""URL parsing and password redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradestore import DatabaseURLError, parse_url
from tradestore.db.url import redact


@pytest.mark.parametrize(
    ("url", "dialect", "host", "port", "database", "user"),
    [
        (
            "postgresql://bob:pw@db.example:6543/trading",
            "postgresql",
            "db.example",
            6543,
            "trading",
            "bob",
        ),
        ("postgres://bob@localhost/trading", "postgresql", "localhost", None, "trading", "bob"),
        (
            "postgresql+psycopg://u:p@127.0.0.1/x?schema=s",
            "postgresql",
            "127.0.0.1",
            None,
            "x",
            "u",
        ),
        ("postgresql://%40dmin:p%3Aw@h/db", "postgresql", "h", None, "db", "@dmin"),
        ("postgresql://[::1]:5432/db", "postgresql", "::1", 5432, "db", None),
        ("sqlite:///data/trading.db", "sqlite", None, None, "data/trading.db", None),
        (
            "sqlite:////var/lib/bot/trading.db",
            "sqlite",
            None,
            None,
            "/var/lib/bot/trading.db",
            None,
        ),
        ("sqlite:///:memory:", "sqlite", None, None, ":memory:", None),
        ("sqlite://", "sqlite", None, None, None, None),
    ],
)
def test_parse_table(
    url: str,
    dialect: str,
    host: str | None,
    port: int | None,
    database: str | None,
    user: str | None,
) -> None:
    if url == "sqlite://":
        with pytest.raises(DatabaseURLError, match="malformed SQLite URL"):
            parse_url(url)
        return
    parsed = parse_url(url)
    assert parsed.dialect == dialect
    assert parsed.host == host
    assert parsed.port == port
    assert parsed.database == database
    assert parsed.username == user


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("localhost/db", "expected scheme://"),
        ("mysql://root:hunter2@localhost/db", "unsupported database URL scheme 'mysql'"),
        ("postgresql://u:hunter2@host:notaport/db", "malformed PostgreSQL URL"),
        ("sqlite:relative.db", "expected scheme://"),
    ],
)
def test_bad_urls_are_named_without_password(url: str, message: str) -> None:
    with pytest.raises(DatabaseURLError, match=message) as info:
        parse_url(url)
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is None or "hunter2" not in str(info.value.__cause__)


def test_repr_str_and_redacted_hide_password() -> None:
    url = parse_url("postgresql://trader:s3cr%40t!@db/prod?sslmode=require")
    assert url.password == "s3cr@t!"
    for shown in (repr(url), str(url), url.redacted, f"{url}"):
        assert "s3cr" not in shown
        assert "***" in shown
    assert "s3cr%40t%21" in url.conninfo() or "s3cr%40t!" in url.conninfo()


def test_memory_and_schema() -> None:
    assert parse_url("sqlite:///:memory:").is_memory
    assert not parse_url("sqlite:///x.db").is_memory
    url = parse_url("postgresql://u@h/db?schema=bots&application_name=a")
    assert url.schema == "bots"
    assert "schema" not in url.conninfo()
    assert url.yoyo_url().startswith("postgresql+psycopg://u@h/db?")
    assert url.yoyo_url().endswith("schema=bots")
    assert parse_url("sqlite:///data/x.db").yoyo_url() == "sqlite:///data/x.db"


@pytest.mark.parametrize(
    "text",
    [
        "connect to postgresql://bob:hunter2@host/db failed",
        "dsn: host=h password=hunter2 user=bob",
        "password='hunter2' port=5",
        "plain mention hunter2 of the secret",
    ],
)
def test_redact_removes_secret_everywhere(text: str) -> None:
    assert "hunter2" not in redact(text, "hunter2")


def test_a_sqlite_path_may_hold_blanks_and_an_at_sign(tmp_path: Path) -> None:
    url = parse_url(f"sqlite:///{tmp_path}/my bots@2026/bot.db")
    assert url.database == f"{tmp_path}/my bots@2026/bot.db"


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("ftp://trader:@/00@db.example:5432/trading", "@/00"),  # raw '@' and '/' in it
        ("trader:0://@db.example/trading", "0://"),  # scheme forgotten, '://' in the password
        ("postgresql://trader:000'/@db.example:99999/trading", "000'"),  # urllib quotes it
        ("trader://00@db.example/trading", "00"),  # unknown scheme: the user is hidden too
    ],
)
def test_odd_passwords_found_by_fuzzing_are_not_shown(url: str, password: str) -> None:
    with pytest.raises(DatabaseURLError) as info:
        parse_url(url)
    assert password not in str(info.value)
    assert "***" in str(info.value)


# A raw '@' in the user name: urllib splits the netloc at its LAST '@' and the userinfo at its
# FIRST ':', so the user is "bot@desk" and the password "hunter2".
RAW_AT_USER = "postgresql://bot@desk:hunter2@db/x"


def test_repr_hides_the_password_when_the_user_name_holds_a_raw_at() -> None:
    url = parse_url(RAW_AT_USER)
    assert (url.username, url.password, url.host) == ("bot@desk", "hunter2", "db")
    for shown in (repr(url), str(url), url.redacted, f"{url}"):
        assert shown.count("postgresql://bot@desk:***@db/x") == 1, shown
        assert "hunter2" not in shown


@pytest.mark.parametrize(
    "url",
    [
        RAW_AT_USER,
        "connect to postgresql://bot@desk:hunter2@db:5432/x?sslmode=require failed",
        "postgresql://a@b@c:hunter2@db/x",
    ],
)
def test_redact_finds_the_password_after_a_user_name_with_a_raw_at(url: str) -> None:
    # No secret passed: the pattern alone must find it (error messages are redacted so, where
    # no password has been parsed yet).
    shown = redact(url)
    assert "hunter2" not in shown
    assert ":***@db" in shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot@desk:hunter2@db:notaport/x",
        "postgresql://bot@desk:hunter2@db/x#fragment",
        "postgresql://bot@desk:hunter2@[db/x",
        "sqlite://bot@desk:hunter2@db/x",
        "mysql://bot@desk:hunter2@db/x",
    ],
)
def test_a_malformed_url_with_a_raw_at_in_the_user_never_shows_the_password(url: str) -> None:
    with pytest.raises(DatabaseURLError) as info:
        parse_url(url)
    assert "hunter2" not in f"{info.value}{info.value!r}"
    assert "***" in str(info.value)


def test_a_url_without_a_password_is_shown_whole() -> None:
    # The other side of the pattern: a port after a raw-'@' user is not taken for a password.
    for text in ("postgresql://bot@desk@db:5432/x", "postgresql://bot@db:5432/x"):
        assert redact(text) == text
        assert str(parse_url(text)) == text

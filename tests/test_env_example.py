""".env.example stays in step with Settings: every variable documented, nothing stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tradestore.db.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
_ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def _aliases() -> set[str]:
    aliases = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        assert isinstance(alias, str), f"Settings.{name} has no single environment alias"
        aliases.add(alias)
    return aliases


def _documented() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ASSIGNMENT.match(line)
        if match:
            assert match[1] not in found, f"{match[1]} appears twice in .env.example"
            found[match[1]] = match[2]
    return found


def test_every_setting_is_in_env_example() -> None:
    missing = _aliases() - _documented().keys()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_lists_no_unknown_variable() -> None:
    stale = _documented().keys() - _aliases()
    assert not stale, f".env.example lists variables Settings does not read: {sorted(stale)}"


def test_every_variable_has_a_comment_above_it() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if _ASSIGNMENT.match(line):
            assert index > 0
            assert lines[index - 1].startswith("#"), f"{line!r} has no comment above it"


def test_env_example_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for alias in _aliases():
        monkeypatch.delenv(alias, raising=False)
    from_file = Settings(_env_file=ENV_EXAMPLE)
    defaults = Settings(_env_file=None)
    assert from_file.model_dump() == defaults.model_dump()
    assert from_file.database_url.get_secret_value() == defaults.database_url.get_secret_value()

"""The run's hypothesis profile: derandomized in CI, random with 20 times the examples at night."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from hypothesis_profiles import NIGHTLY_FACTOR, chosen_profile, examples

from .conftest import REJECTIONS, ROUND_TRIPS


@pytest.mark.parametrize(
    ("environ", "profile"),
    [
        ({}, "default"),
        ({"CI": "true"}, "ci"),
        ({"CI": "false"}, "default"),
        ({"TRADESTORE_REQUIRE_POSTGRES": "1"}, "ci"),
        ({"CI": "true", "TRADESTORE_HYPOTHESIS_PROFILE": "nightly"}, "nightly"),
        ({"TRADESTORE_HYPOTHESIS_PROFILE": "ci"}, "ci"),
    ],
)
def test_the_profile_follows_the_environment(environ: dict[str, str], profile: str) -> None:
    assert chosen_profile(environ) == profile


def test_this_run_uses_the_profile_its_environment_asks_for() -> None:
    # Under CI this is the check that CI's examples are the same on every run: it fails if
    # the property tests' settings were built before, or without, the ``ci`` profile.
    name = chosen_profile(os.environ)
    wanted = settings.get_profile(name)
    for built in (settings.default, ROUND_TRIPS, REJECTIONS):
        assert built is not None
        assert built.derandomize is wanted.derandomize
    if name == "ci":
        assert ROUND_TRIPS.derandomize
        assert ROUND_TRIPS.database is None
    factor = NIGHTLY_FACTOR if name == "nightly" else 1
    assert (ROUND_TRIPS.max_examples, REJECTIONS.max_examples) == (100 * factor, 50 * factor)
    assert examples(300) == 300 * factor

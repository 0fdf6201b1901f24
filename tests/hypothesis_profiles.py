"""Hypothesis profiles of the suite: the same examples on every CI run, more and new ones at night.

- ``ci``: derandomized. Each test draws its examples from a seed fixed by the test itself, so
  a CI run that fails fails again with the same command on a developer's machine, and one that
  passes did not pass by luck of the draw. (Derandomized runs keep no example database.)
- ``nightly``: fresh random seeds and 20 times the examples of every property test
  (`make test-nightly`). A failure prints its ``@reproduce_failure`` blob and is kept in the
  local ``.hypothesis/`` database, so the next run of the same test tries it first.
- ``default``: hypothesis's own (random seeds, the local example database), for a developer's
  plain ``pytest``.

`load` picks one, once, when ``tests/conftest.py`` is imported (before any test module builds
its settings): ``TRADESTORE_HYPOTHESIS_PROFILE`` when set, else ``ci`` under CI (``CI`` set, as
CI runners do, or ``TRADESTORE_REQUIRE_POSTGRES=1``, as ``.ci/run`` does), else ``default``.
Use the variable, not ``--hypothesis-profile``: that option is applied after the conftest
files have built their settings, so they would not follow it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hypothesis import settings

ENV = "TRADESTORE_HYPOTHESIS_PROFILE"
BASE_EXAMPLES = 100
"""hypothesis's default max_examples: the run that every test's budget is written for."""
NIGHTLY_FACTOR = 20

settings.register_profile("ci", derandomize=True)
settings.register_profile("nightly", derandomize=False, max_examples=BASE_EXAMPLES * NIGHTLY_FACTOR)


def _is_set(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def chosen_profile(environ: Mapping[str, str]) -> str:
    """The profile for a run in `environ` (see the module docstring)."""
    explicit = environ.get(ENV, "").strip()
    if explicit:
        return explicit
    if _is_set(environ.get("CI")) or environ.get("TRADESTORE_REQUIRE_POSTGRES") == "1":
        return "ci"
    return "default"


def load() -> str:
    """Load the profile this run's environment asks for; return its name."""
    name = chosen_profile(os.environ)
    settings.load_profile(name)
    return name


def examples(budget: int) -> int:
    """`budget` examples (a count written for a run of 100) scaled to the loaded profile:
    the same in ``ci`` and ``default``, 20 times as many in ``nightly``."""
    current = settings.default
    assert current is not None
    return max(1, budget * current.max_examples // BASE_EXAMPLES)

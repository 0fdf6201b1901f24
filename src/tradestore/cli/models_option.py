"""``--models MODULE``: import a user's row models the way ``python -m`` would find them.

A console script's ``sys.path`` starts with the folder of the script (the venv's ``bin/``), not
the current directory, so ``--models my_models`` next to the user's SQL would not import
without ``PYTHONPATH=.``. The current directory is put first for the import, as ``python -m``
does, and taken away again (an in-process caller's ``sys.path`` is left as it was). What can
go wrong is one line naming the module, not a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

from pydantic import BaseModel

from tradestore.errors import ConfigurationError
from tradestore.queries.registry import models_of


def _import(name: str) -> ModuleType:
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    finally:
        if added:
            sys.path.remove(cwd)


def import_models(name: str) -> dict[str, type[BaseModel]]:
    """The row models (pydantic classes) defined in module `name`, by class name."""
    if name.endswith(".py") or "/" in name or os.sep in name:
        dotted = name.removesuffix(".py").replace(os.sep, ".").replace("/", ".").strip(".")
        raise ConfigurationError(
            f"--models {name}: name a module, not a file (e.g. --models {dotted})"
        )
    try:
        module = _import(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == name or name.startswith(f"{missing}."):  # the module itself, or its package
            raise ConfigurationError(
                f"--models {name}: no module named {exc.name!r} in {os.getcwd()} or on sys.path"
            ) from None
        raise ConfigurationError(f"--models {name}: importing it failed: {exc}") from None
    except (ImportError, SyntaxError) as exc:
        raise ConfigurationError(
            f"--models {name}: importing it failed: {type(exc).__name__}: {exc}"
        ) from None
    models = models_of(module)
    if not models:
        raise ConfigurationError(
            f"--models {name}: the module defines no pydantic model (classes it merely imports "
            "do not count: name the module that defines them)"
        )
    return models
